//! `xos fmt`: the canonical layout of a `.xos` file.
//!
//! One item per line, four-space indentation, keys aligned within a block,
//! at most one blank line where the source had one, `//` comments kept (a
//! comment after code on the same line stays there; any other comment goes
//! on its own line before the next item). Leaves — numbers, strings, names —
//! are printed exactly as written, and conditions keep their text with the
//! whitespace collapsed, so the formatted file parses to an equal syntax tree.
//! Formatting is idempotent.

use std::sync::Arc;

use crate::diagnostic::{Diagnostics, SourceFile, Span};
use crate::syntax::ast::{self, Item, PolicyItem};
use crate::syntax::condition_text;
use crate::syntax::parse;

/// Formats a file; a file that does not parse is returned as diagnostics.
pub fn format_source(source: &Arc<SourceFile>) -> Result<String, Diagnostics> {
    let file = parse::parse(source)?;
    let mut printer = Printer::new(&source.text);
    match &file {
        ast::File::Experiment(e) => printer.experiment(e),
        ast::File::Policy(p) => printer.policy(p),
    }
    // The printer ends its lines with `\n`; a file saved with `\r\n` keeps
    // them inside multi-line strings and comments, which would leave mixed
    // line endings. Strings collapse their whitespace, so `\r\n` and `\n`
    // in one mean the same.
    let out = printer.finish();
    Ok(if out.contains('\r') {
        out.replace("\r\n", "\n")
    } else {
        out
    })
}

/// A `//` comment in the source.
#[derive(Clone, Debug)]
struct Comment {
    start: usize,
    end: usize,
}

fn comments(text: &str) -> Vec<Comment> {
    parse::comment_ranges(text)
        .into_iter()
        .map(|r| Comment {
            start: r.start,
            end: r.end,
        })
        .collect()
}

struct Printer<'a> {
    text: &'a str,
    comments: Vec<Comment>,
    /// The next comment not yet printed.
    next: usize,
    out: String,
    indent: usize,
    /// Where in the source the last printed thing ended.
    last_end: usize,
}

impl<'a> Printer<'a> {
    fn new(text: &'a str) -> Printer<'a> {
        Printer {
            text,
            comments: comments(text),
            next: 0,
            out: String::new(),
            indent: 0,
            last_end: 0,
        }
    }

    fn finish(mut self) -> String {
        self.leading(self.text.len() + 1);
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.out
    }

    /// Just past the `{` that follows `pos`.
    fn brace_after(&self, pos: usize) -> usize {
        self.text
            .get(pos..)
            .and_then(|rest| rest.find('{'))
            .map_or(pos, |i| pos + i + 1)
    }

    fn snippet(&self, span: Span) -> &'a str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    fn line(&mut self, content: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(content);
        self.out.push('\n');
    }

    /// A blank line if the source has one between the last printed thing
    /// and `pos`, and something was printed in this block already.
    fn gap(&mut self, pos: usize) {
        let first_thing = self
            .comments
            .get(self.next)
            .filter(|c| c.start < pos)
            .map_or(pos, |c| c.start);
        let between = self.text.get(self.last_end..first_thing).unwrap_or("");
        let blank = between.matches('\n').count() >= 2;
        if blank
            && !self.out.is_empty()
            && !self.out.ends_with("{\n")
            && !self.out.ends_with("\n\n")
        {
            self.out.push('\n');
        }
    }

    /// Prints, each on its own line, the comments that start before `pos`.
    fn leading(&mut self, pos: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if c.start >= pos {
                break;
            }
            let between = self.text.get(self.last_end..c.start).unwrap_or("");
            if between.matches('\n').count() >= 2
                && !self.out.is_empty()
                && !self.out.ends_with("{\n")
                && !self.out.ends_with("\n\n")
            {
                self.out.push('\n');
            }
            let comment = self.text[c.start..c.end].trim_end().to_string();
            self.last_end = c.end;
            self.next += 1;
            self.line(&comment);
        }
    }

    /// Appends a comment that follows `end` on the same source line to the
    /// last printed line.
    fn trailing(&mut self, end: usize) {
        self.last_end = self.last_end.max(end);
        let Some(c) = self.comments.get(self.next) else {
            return;
        };
        if c.start < end {
            return;
        }
        let between = self.text.get(end..c.start).unwrap_or("\n");
        if !between.trim().is_empty() || between.contains('\n') {
            return;
        }
        let comment = self.text[c.start..c.end].trim_end().to_string();
        if self.out.ends_with('\n') {
            self.out.pop();
        }
        self.out.push_str("  ");
        self.out.push_str(&comment);
        self.out.push('\n');
        self.last_end = c.end;
        self.next += 1;
    }

    /// Opens a block: `head {`.
    fn open(&mut self, head: &str) {
        self.line(&format!("{head} {{"));
        self.indent += 1;
    }

    /// Closes a block whose `}` is at the end of `span`.
    fn close(&mut self, span: Span) {
        let brace = span.end.saturating_sub(1);
        self.leading(brace);
        self.indent = self.indent.saturating_sub(1);
        self.line("}");
        self.trailing(span.end);
    }

    fn experiment(&mut self, e: &ast::Experiment) {
        self.leading(e.span.start);
        self.open(&format!("experiment {}", e.name.name));
        let brace = self.brace_after(e.name.span.end);
        self.trailing(brace);
        let header_width = e
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Header(h) => Some(h.key.name().len()),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        for item in &e.items {
            self.gap(item.span().start);
            self.leading(item.span().start);
            match item {
                Item::Header(h) => {
                    let value = self.snippet(h.value.span);
                    self.line(&format!(
                        "{:width$} {value}",
                        h.key.name(),
                        width = header_width
                    ));
                    self.trailing(h.span.end);
                }
                Item::Data(d) => {
                    let head = format!("data {}", self.snippet(d.path.span));
                    match &d.options {
                        Some(block) => self.block(&head, block, d.span),
                        None => {
                            self.line(&head);
                            self.trailing(d.span.end);
                        }
                    }
                }
                Item::Variants(v) => {
                    self.open("variants");
                    // Labels as written: a quoted one keeps its quotes.
                    let width = crate::text::align_width(
                        v.variants
                            .iter()
                            .map(|x| self.snippet(x.name.span).chars().count()),
                    );
                    for variant in &v.variants {
                        self.leading(variant.span.start);
                        let share = self.snippet(variant.share.span);
                        let name = self.snippet(variant.name.span);
                        self.line(&format!("{name:width$} {share}"));
                        self.trailing(variant.span.end);
                    }
                    self.close(v.span);
                }
                Item::Metric(m) => {
                    let columns: Vec<String> = std::iter::once(&m.kind.column)
                        .chain(&m.kind.more)
                        .map(|c| self.snippet(c.span).to_string())
                        .collect();
                    let head = format!(
                        "{} {} = {}({})",
                        m.role.keyword(),
                        m.name.name,
                        m.kind.name.keyword(),
                        columns.join(", ")
                    );
                    match &m.options {
                        Some(block) => self.block(&head, block, m.span),
                        None => {
                            self.line(&head);
                            self.trailing(m.span.end);
                        }
                    }
                }
                Item::Plan(p) => self.block("plan", &p.block, p.span),
                Item::Settings(s) => self.block("settings", &s.block, s.span),
                Item::Sequential(s) => self.block("sequential", &s.block, s.span),
                Item::Policy(p) => {
                    let path = self.snippet(p.path.span);
                    self.line(&format!("policy {path}"));
                    self.trailing(p.span.end);
                }
                Item::Rule(r) => self.rule(r),
                Item::Test(t) => self.test(t),
            }
        }
        self.close(e.span);
    }

    /// `head { key value ... }` with the keys aligned.
    fn block(&mut self, head: &str, block: &ast::OptionBlock, span: Span) {
        self.open(head);
        let width = crate::text::align_width(block.options.iter().map(|o| o.key.name.len()));
        for option in &block.options {
            self.leading(option.span.start);
            let value = self.value(&option.value);
            self.line(&format!("{:width$} {value}", option.key.name));
            self.trailing(option.span.end);
        }
        self.close(span);
    }

    fn value(&self, value: &ast::Value) -> String {
        match value {
            ast::Value::Call(call) => {
                let args: Vec<String> = call.args.iter().map(|a| self.value(a)).collect();
                format!("{}({})", call.name.name, args.join(", "))
            }
            ast::Value::Number(n) => condition_text(self.snippet(n.span)),
            other => self.snippet(other.span()).to_string(),
        }
    }

    fn rule(&mut self, r: &ast::RuleDecl) {
        self.open(&format!("rule {}", r.name.name));
        self.leading(r.when.span.start);
        self.line(&format!(
            "when {}",
            condition_text(self.snippet(r.when.span))
        ));
        self.trailing(r.when.span.end);
        self.leading(r.then.span.start);
        self.line(&format!("then {}", self.snippet(r.then.span)));
        self.trailing(r.then.span.end);
        self.leading(r.because.span.start);
        self.line(&format!("because {}", self.snippet(r.because.span)));
        self.trailing(r.because.span.end);
        self.close(r.span);
    }

    fn test(&mut self, t: &ast::TestDecl) {
        self.open(&format!("test {}", t.name.name));
        if let Some(first) = t.given.first() {
            self.leading(first.span.start);
            let facts: Vec<String> = t
                .given
                .iter()
                .map(|g| format!("{} = {}", g.path.text(), self.value(&g.value)))
                .collect();
            self.line(&format!("given {}", facts.join(", ")));
            if let Some(last) = t.given.last() {
                self.trailing(last.span.end);
            }
        }
        self.leading(t.expect.span.start);
        let by =
            t.by.as_ref()
                .map_or(String::new(), |b| format!(" by {}", b.name));
        self.line(&format!("expect {}{by}", self.snippet(t.expect.span)));
        self.trailing(t.by.as_ref().map_or(t.expect.span.end, |b| b.span.end));
        self.close(t.span);
    }

    fn policy(&mut self, p: &ast::PolicyDecl) {
        self.leading(p.span.start);
        self.open(&format!("policy {}", p.name.name));
        let brace = self.brace_after(p.name.span.end);
        self.trailing(brace);
        for item in &p.items {
            self.gap(item.span().start);
            self.leading(item.span().start);
            match item {
                PolicyItem::Rule(r) => self.rule(r),
                PolicyItem::Test(t) => self.test(t),
                PolicyItem::Otherwise(o) => {
                    let verdict = self.snippet(o.then.span);
                    let because = self.snippet(o.because.span);
                    self.line(&format!("otherwise {verdict} because {because}"));
                    self.trailing(o.span.end);
                }
            }
        }
        self.close(p.span);
    }
}

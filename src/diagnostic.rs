//! Spans, source files and the diagnostics every stage reports.
//!
//! Every stage (parse, check, data) reports problems as [`Diagnostic`]s: a
//! lowercase message, a stable code such as `xos::check::unknown_metric`, labels
//! that underline the offending source text, and a help line. What the user
//! sees, rendered by miette in the binary:
//!
//! ```text
//! error: xos::check::unknown_metric
//!   × unknown metric `conversoin`
//!    ╭─[examples/checkout/checkout.xos:12:14]
//! 12 │     when conversoin.better
//!    ·          ─────┬────
//!    ·               ╰── not declared in this experiment
//!    ╰────
//!   help: did you mean `conversion`?
//! ```
//!
//! The library never prints: it returns diagnostics, and `cli.rs` renders them
//! (as miette reports, or as JSON with `--error-format json`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, SourceCode};
use serde::Serialize;

/// A byte range in one source file. Spans never take part in equality, so
/// syntax trees can be compared in tests regardless of layout.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    /// Byte offset of the first byte, in the file's text.
    pub start: usize,
    /// Byte offset one past the last byte; `start == end` is an empty span (a point).
    pub end: usize,
}

impl Span {
    /// The bytes `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// Length in bytes (0 if `end` is before `start`).
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl PartialEq for Span {
    fn eq(&self, _other: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> miette::SourceSpan {
        (span.start, span.len()).into()
    }
}

/// A source file: its path as the user named it, and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user named it, shown in messages.
    pub path: PathBuf,
    /// The file's text (or the excerpt's, see `first_line`).
    pub text: String,
    /// The 1-based line of the file that `text` starts at: 1 for a whole
    /// file, more for an excerpt of a file too large to hold in memory.
    pub first_line: usize,
    /// How much of `text` a diagnostic may show.
    pub quote: Quote,
}

/// How much of a [`SourceFile`] a rendered diagnostic shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    /// A source excerpt around the labels, with context lines: specs,
    /// policies and `xos.toml`, written in xos's language by the user.
    Excerpt,
    /// Only the offending token of each label, at most
    /// [`crate::text::MAX_TOKEN_CHARS`] characters, escaped, and no line
    /// around it: data files, and a file named as a policy that does not
    /// parse as one. Whatever a spec names (`/etc/passwd`,
    /// `/proc/self/environ`), its content is never echoed beyond that.
    Token,
}

impl SourceFile {
    /// A whole file: `text` starts at line 1.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<SourceFile> {
        SourceFile::excerpt(path, text, 1)
    }

    /// A few lines of a large file, starting at its 1-based line `first_line`:
    /// locations and rendered snippets show the file's real line numbers.
    pub fn excerpt(
        path: impl Into<PathBuf>,
        text: impl Into<String>,
        first_line: usize,
    ) -> Arc<SourceFile> {
        SourceFile::quoted(path, text, first_line, Quote::Excerpt)
    }

    /// A data file's text (or an excerpt from `first_line`), which
    /// diagnostics quote no further than the offending token
    /// ([`Quote::Token`]).
    pub fn data(
        path: impl Into<PathBuf>,
        text: impl Into<String>,
        first_line: usize,
    ) -> Arc<SourceFile> {
        SourceFile::quoted(path, text, first_line, Quote::Token)
    }

    /// Text from the 1-based line `first_line` of `path`, quoted as `quote` says.
    pub fn quoted(
        path: impl Into<PathBuf>,
        text: impl Into<String>,
        first_line: usize,
        quote: Quote,
    ) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
            first_line: first_line.max(1),
            quote,
        })
    }

    /// The same text (and quoting) shown as the file at `path`: a spooled
    /// or uploaded file named as the user knows it.
    pub fn renamed(&self, path: impl Into<PathBuf>) -> Arc<SourceFile> {
        SourceFile::quoted(path, self.text.clone(), self.first_line, self.quote)
    }

    /// The path as shown in messages.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let (line, col) = line_col(&self.text, offset);
        (line + self.first_line - 1, col)
    }

    /// The text under `span`, clamped to the text and to character boundaries (empty when the span
    /// does not fall on them).
    pub fn snippet(&self, span: Span) -> &str {
        let end = span.end.min(self.text.len());
        let start = span.start.min(end);
        self.text.get(start..end).unwrap_or("")
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
/// A byte-order mark at the start of `text` is not a column: editors do not
/// show it.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let mut in_line = &before[line_start..];
    if line_start == 0 {
        in_line = in_line.strip_prefix('\u{feff}').unwrap_or(in_line);
    }
    (line, in_line.chars().count() + 1)
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input is invalid: the stage produces nothing (no report, no memo).
    Error,
    /// Worth reading, but the stage's result stands.
    Warning,
}

/// One underlined piece of source text with its explanation.
#[derive(Clone, Debug)]
pub struct Label {
    /// The underlined source text.
    pub span: Span,
    /// What the underlined text is or lacks, printed beside it ("not declared in this experiment").
    pub text: String,
    /// The primary label is the place the diagnostic is about.
    pub primary: bool,
}

/// A problem found in a spec, a policy or a data file.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, e.g. `xos::check::unknown_metric`.
    pub code: &'static str,
    /// Lowercase, no final period, user text in backticks.
    pub message: String,
    /// The underlined places in `source`, the primary label first as a rule.
    pub labels: Vec<Label>,
    /// What to do about it, shown after the snippet ("did you mean `conversion`?").
    pub help: Option<String>,
    /// The file the labels point into; `None` for problems with no location
    /// (a file that cannot be read at all).
    pub source: Option<Arc<SourceFile>>,
    /// The file the problem is about: shown when there is no source text
    /// to show; followed by `xos watch` either way, so that a fix is seen.
    pub path: Option<PathBuf>,
}

impl Diagnostic {
    /// An error with a code and a message, and no location yet; add one with [`Diagnostic::label`]
    /// and [`Diagnostic::in_file`].
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            source: None,
            path: None,
        }
    }

    /// A warning with a code and a message, and no location yet.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// The file the labels point into.
    pub fn in_file(mut self, source: &Arc<SourceFile>) -> Diagnostic {
        self.source = Some(Arc::clone(source));
        self
    }

    /// The file the problem is about, when there is no text to show (it cannot be read, say).
    pub fn at_path(mut self, path: impl AsRef<Path>) -> Diagnostic {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// The primary label.
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            text: text.into(),
            primary: true,
        });
        self
    }

    /// A secondary label, e.g. the first definition of a duplicate.
    pub fn secondary(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            text: text.into(),
            primary: false,
        });
        self
    }

    /// The help text: what to do about the problem.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The file this diagnostic is about, for display.
    pub fn file_name(&self) -> Option<String> {
        match (&self.source, &self.path) {
            (Some(source), _) => Some(source.name()),
            (None, Some(path)) => Some(path.display().to_string()),
            (None, None) => None,
        }
    }

    /// 1-based line and column of the primary label, if there is one.
    pub fn location(&self) -> Option<(usize, usize)> {
        let source = self.source.as_ref()?;
        let label = self
            .labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())?;
        Some(source.line_col(label.span.start))
    }

    /// The machine-readable form used by `--error-format json`.
    pub fn to_json(&self) -> JsonDiagnostic {
        let (line, column) = self
            .location()
            .map_or((None, None), |(l, c)| (Some(l), Some(c)));
        JsonDiagnostic {
            severity: self.severity,
            code: self.code,
            message: elide(&self.message).into_owned(),
            file: self.file_name(),
            line,
            column,
            help: self.help.as_deref().map(|h| elide(h).into_owned()),
            labels: self
                .labels
                .iter()
                .map(|label| {
                    let (line, column) = self
                        .source
                        .as_ref()
                        .map_or((0, 0), |s| s.line_col(label.span.start));
                    JsonLabel {
                        text: elide(&label.text).into_owned(),
                        line,
                        column,
                        snippet: self
                            .source
                            .as_ref()
                            .map_or(String::new(), |s| match s.quote {
                                Quote::Excerpt => elide(s.snippet(label.span)).into_owned(),
                                Quote::Token => crate::text::token(s.snippet(label.span)),
                            }),
                        primary: label.primary,
                    }
                })
                .collect(),
        }
    }
}

/// A diagnostic as `--error-format json` prints it ([`Diagnostic::to_json`]): one object per
/// diagnostic.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    /// `error` or `warning`.
    pub severity: Severity,
    /// The stable code (`xos::check::unknown_metric`).
    pub code: &'static str,
    /// The message: lowercase, no final period.
    pub message: String,
    /// The file the problem is about, as the user named it; `null` when none.
    pub file: Option<String>,
    /// 1-based line of the primary label; `null` without a location.
    pub line: Option<usize>,
    /// 1-based column, in characters, of the primary label; `null` without a location.
    pub column: Option<usize>,
    /// What to do about it, if anything is said.
    pub help: Option<String>,
    /// Every label, in order.
    pub labels: Vec<JsonLabel>,
}

/// A label of a [`JsonDiagnostic`].
#[derive(Debug, Serialize)]
pub struct JsonLabel {
    /// The label's text.
    pub text: String,
    /// 1-based line of the label's start (0 when the diagnostic has no source text).
    pub line: usize,
    /// 1-based column, in characters, of the label's start (0 without source text).
    pub column: usize,
    /// The underlined source text.
    pub snippet: String,
    /// Whether this is the place the diagnostic is about.
    pub primary: bool,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s.as_ref() as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.source.is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|label| {
            let text = (!label.text.is_empty()).then(|| label.text.clone());
            if label.primary {
                LabeledSpan::new_primary_with_span(text, label.span)
            } else {
                LabeledSpan::new_with_span(text, label.span)
            }
        })))
    }
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        // miette's `str` counts the column in bytes, and the report's header
        // (`FILE:LINE:COLUMN`) shows it: `title "ééé" owner 5` put the `5` at
        // column 37, not 34, and a byte-order mark moved line 1 by 3. The
        // column is in characters, as everywhere else (`line_col`).
        let (_, column) = line_col(&self.text, contents.span().offset());
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name(),
            contents.data(),
            *contents.span(),
            contents.line() + self.first_line - 1,
            column - 1,
            contents.line_count(),
        )))
    }
}

/// Every problem found by a stage, errors and warnings together.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    /// Adds one diagnostic at the end.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Adds all of `other`'s diagnostics at the end, in their order.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// Whether there is no diagnostic at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every diagnostic, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// The errors, in the order found.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    /// The warnings, in the order found.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }
}

impl Diagnostics {
    /// The same diagnostics with every path under the folder `root` shown
    /// relative to it: the file of each diagnostic, and the paths written
    /// into messages, help and labels (`root` and a separator removed
    /// wherever they appear). `xos serve` shows its specs so, as the
    /// folder's user knows them, without the server's own folders.
    pub fn relative_to(&self, root: &Path) -> Diagnostics {
        if root.as_os_str().is_empty() {
            return self.clone();
        }
        let prefix = format!("{}{}", root.display(), std::path::MAIN_SEPARATOR);
        let strip = |text: &str| text.replace(&prefix, "");
        let under = |path: &Path| path.strip_prefix(root).ok().map(Path::to_path_buf);
        Diagnostics(
            self.0
                .iter()
                .map(|d| Diagnostic {
                    message: strip(&d.message),
                    help: d.help.as_deref().map(strip),
                    labels: d
                        .labels
                        .iter()
                        .map(|l| Label {
                            text: strip(&l.text),
                            ..l.clone()
                        })
                        .collect(),
                    source: d.source.as_ref().map(|source| {
                        under(&source.path)
                            .map_or_else(|| Arc::clone(source), |p| source.renamed(p))
                    }),
                    path: d
                        .path
                        .as_ref()
                        .map(|p| under(p).unwrap_or_else(|| p.clone())),
                    ..d.clone()
                })
                .collect(),
        )
    }
}

/// Diagnostics shown per file and kind (code): a file with 8,000 duplicated
/// options or 32,000 bad rows is reported by its first problems of each kind
/// and a count, not by a gigabyte of text.
pub const MAX_DIAGNOSTICS_PER_FILE: usize = 50;

impl Diagnostics {
    /// The first [`MAX_DIAGNOSTICS_PER_FILE`] diagnostics of each kind
    /// (code) in each file, in their order, then per file and kind that had
    /// more one `xos::diagnostic::more` that counts the rest. A diagnostic
    /// found again word for word at the same place (the error of an
    /// `xos.toml`, once for each spec under it) is shown once, its help
    /// saying how many times it was found. What is printed; counts and exit
    /// codes are taken from the whole set.
    pub fn capped(&self) -> Diagnostics {
        self.capped_at(MAX_DIAGNOSTICS_PER_FILE)
    }

    /// Each distinct diagnostic once, in order of first appearance, with
    /// the number of times it was found.
    fn distinct(&self) -> Vec<(&Diagnostic, usize)> {
        use std::collections::HashMap;
        type Labels = Vec<(usize, usize, bool, String)>;
        type Key<'a> = (
            bool,
            &'static str,
            &'a str,
            Option<&'a str>,
            Option<String>,
            Labels,
        );
        let mut index: HashMap<Key<'_>, usize> = HashMap::new();
        let mut distinct: Vec<(&Diagnostic, usize)> = Vec::new();
        for d in &self.0 {
            let labels = d
                .labels
                .iter()
                .map(|l| (l.span.start, l.span.end, l.primary, l.text.clone()))
                .collect();
            let key = (
                d.is_error(),
                d.code,
                d.message.as_str(),
                d.help.as_deref(),
                d.file_name(),
                labels,
            );
            match index.get(&key) {
                Some(&at) => distinct[at].1 += 1,
                None => {
                    index.insert(key, distinct.len());
                    distinct.push((d, 1));
                }
            }
        }
        distinct
    }

    fn capped_at(&self, limit: usize) -> Diagnostics {
        use std::collections::HashMap;
        type Kind = (Option<String>, &'static str);
        let mut shown: HashMap<Kind, usize> = HashMap::new();
        // Per file and kind, in order of first appearance: hidden errors,
        // warnings.
        let mut hidden: Vec<(Kind, usize, usize)> = Vec::new();
        let mut out = Vec::new();
        for (d, times) in self.distinct() {
            let kind = (d.file_name(), d.code);
            let count = shown.entry(kind.clone()).or_insert(0);
            if *count < limit {
                *count += 1;
                let mut d = d.clone();
                if times > 1 {
                    let found = format!("found {times} times, shown once");
                    d.help = Some(match d.help.take() {
                        Some(help) => format!("{help} ({found})"),
                        None => found,
                    });
                }
                out.push(d);
                continue;
            }
            let at = match hidden.iter().position(|(k, _, _)| *k == kind) {
                Some(at) => at,
                None => {
                    hidden.push((kind, 0, 0));
                    hidden.len() - 1
                }
            };
            if d.is_error() {
                hidden[at].1 += 1;
            } else {
                hidden[at].2 += 1;
            }
        }
        for ((file, code), errors, warnings) in hidden {
            let plural = crate::text::counted;
            let what = match (errors, warnings) {
                (0, w) => plural(w, "more warning"),
                (e, 0) => plural(e, "more error"),
                (e, w) => format!("{} and {}", plural(e, "more error"), plural(w, "warning")),
            };
            let what = format!("{what} `{code}`");
            let place = file
                .as_deref()
                .map_or(String::new(), |f| format!(" in `{f}`"));
            let summary = if errors > 0 {
                Diagnostic::error("xos::diagnostic::more", format!("and {what}{place}"))
            } else {
                Diagnostic::warning("xos::diagnostic::more", format!("and {what}{place}"))
            };
            let summary = summary.help(format!(
                "only the first {limit} problems of each kind in a file are shown; fix them and run again"
            ));
            out.push(match file {
                Some(file) => summary.at_path(file),
                None => summary,
            });
        }
        Diagnostics(out)
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Diagnostics {
        Diagnostics(vec![diagnostic])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Renders a diagnostic the way the terminal shows it (miette's graphical
/// report). Without colour and at a fixed width the text is stable, which
/// is what the snapshot tests compare.
pub fn render(diagnostic: &Diagnostic, color: bool, width: usize) -> String {
    let elided;
    let diagnostic = if has_long_text(diagnostic) {
        elided = with_elided_text(diagnostic);
        &elided
    } else {
        diagnostic
    };
    if touches_long_line(diagnostic)
        || diagnostic
            .source
            .as_ref()
            .is_some_and(|s| s.quote == Quote::Token)
    {
        return render_plain(diagnostic);
    }
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(width);
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = format!("{}: {}\n", diagnostic.code, diagnostic.message);
    }
    if diagnostic.source.is_none()
        && let Some(path) = &diagnostic.path
        && !diagnostic.message.contains(&path.display().to_string())
    {
        out.push_str(&format!("  in {}\n", path.display()));
    }
    out
}

/// Longest source line the graphical renderer is given: miette's renderer
/// panics on columns past 65,535 (a pasted blob, a minified file), and a
/// snippet that wide helps nobody.
const MAX_SNIPPET_LINE: usize = 4_096;

/// Whether a label of `diagnostic` lies past the end of its source, spans
/// more than [`MAX_SNIPPET_LINE`] bytes, or would be shown with a line longer
/// than that (its own or a context line), or with more than 16 times that.
fn touches_long_line(diagnostic: &Diagnostic) -> bool {
    let Some(source) = &diagnostic.source else {
        return false;
    };
    let text = source.text.as_str();
    diagnostic.labels.iter().any(|label| {
        let (start, end) = (label.span.start, label.span.end);
        if start > text.len() || end > text.len() || start > end {
            return true;
        }
        if end - start > MAX_SNIPPET_LINE {
            // A label over a huge span (a 200 MB string) is not drawn.
            return true;
        }
        false
    }) || {
        // The excerpt shows the labels' lines and their context lines: a
        // long neighbour (a 400 KB line next to a short one) is as bad.
        let shown = shown_region(text, &diagnostic.labels);
        shown.len() > 16 * MAX_SNIPPET_LINE
            || shown.split('\n').any(|line| line.len() > MAX_SNIPPET_LINE)
    }
}

/// Longest message, label or help text printed whole, in characters: user
/// text quoted in a message (a name of a million characters) is elided in
/// the middle beyond it.
pub const MAX_TEXT_CHARS: usize = 512;

/// Whether a text of `diagnostic` is too long to print whole, or holds a
/// control character a terminal would act on (an ANSI escape in a name), or
/// its message, a label or the path of its file holds one or a line break
/// (a file name can hold anything but `/` and NUL).
fn has_long_text(diagnostic: &Diagnostic) -> bool {
    let unsafe_text = |text: &str| {
        text.len() > MAX_TEXT_CHARS
            || matches!(crate::text::inert(text), std::borrow::Cow::Owned(_))
    };
    let unsafe_line = |text: &str| unsafe_text(text) || text.contains(['\n', '\r']);
    let unsafe_path = |path: &Path| crate::text::shown_path(path) != path.display().to_string();
    unsafe_line(&diagnostic.message)
        || diagnostic.help.as_deref().is_some_and(unsafe_text)
        || diagnostic.labels.iter().any(|l| unsafe_line(&l.text))
        || diagnostic.path.as_deref().is_some_and(unsafe_path)
        || diagnostic
            .source
            .as_ref()
            .is_some_and(|s| unsafe_path(&s.path))
        || diagnostic.source.as_ref().is_some_and(|s| {
            let shown = shown_region(&s.text, &diagnostic.labels);
            matches!(
                crate::text::terminal_safe_in_place(shown),
                std::borrow::Cow::Owned(_)
            )
        })
}

/// The part of `text` a graphical report can show for `labels`: from a few
/// lines before the first label to a few lines after the last (the
/// renderer's context lines).
fn shown_region<'a>(text: &'a str, labels: &[Label]) -> &'a str {
    let (Some(first), Some(last)) = (
        labels.iter().map(|l| l.span.start).min(),
        labels.iter().map(|l| l.span.end).max(),
    ) else {
        return "";
    };
    let clamp = |at: usize| {
        let mut at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let (first, last) = (clamp(first), clamp(last.max(first)));
    let start = text[..first]
        .rmatch_indices('\n')
        .nth(3)
        .map_or(0, |(i, _)| i);
    let end = text[last..]
        .match_indices('\n')
        .nth(3)
        .map_or(text.len(), |(i, _)| last + i);
    &text[start..end]
}

/// The diagnostic with its texts elided and made terminal-safe (the
/// message, the labels and the paths on one line), and its source's
/// control characters replaced in place (spans still hold).
fn with_elided_text(diagnostic: &Diagnostic) -> Diagnostic {
    let clean = |text: &str| crate::text::inert(&elide(text)).into_owned();
    let clean_line = |text: &str| clean(&crate::text::one_line(text));
    let shown = |path: &Path| PathBuf::from(crate::text::shown_path(path));
    let mut d = diagnostic.clone();
    d.message = clean_line(&d.message);
    d.help = d.help.as_deref().map(clean);
    for label in &mut d.labels {
        label.text = clean_line(&label.text);
    }
    d.path = d.path.as_deref().map(shown);
    if let Some(source) = &d.source {
        let path = shown(&source.path);
        let text = crate::text::terminal_safe_in_place(&source.text);
        // The text is copied only when something in it or its name changes.
        if matches!(text, std::borrow::Cow::Owned(_)) || path != source.path {
            d.source = Some(SourceFile::quoted(
                path,
                text,
                source.first_line,
                source.quote,
            ));
        }
    }
    d
}

/// `text` with its middle replaced by `… (N characters) …` when it has more
/// than [`MAX_TEXT_CHARS`] characters.
pub fn elide(text: &str) -> std::borrow::Cow<'_, str> {
    let count = text.chars().count();
    if count <= MAX_TEXT_CHARS {
        return std::borrow::Cow::Borrowed(text);
    }
    let keep = MAX_TEXT_CHARS / 2 - 20;
    let head: String = text.chars().take(keep).collect();
    let tail: String = text.chars().skip(count - keep).collect();
    std::borrow::Cow::Owned(format!("{head}… ({} characters) …{tail}", count - 2 * keep))
}

/// `file:line:col: code: message` with the labels and the help on their own
/// lines and no source excerpt: the form for labels on very long lines.
fn render_plain(diagnostic: &Diagnostic) -> String {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let place = match (&diagnostic.source, diagnostic.location()) {
        (Some(source), Some((line, column))) => {
            format!("{}:{line}:{column}: ", source.path.display())
        }
        (Some(source), None) => format!("{}: ", source.path.display()),
        (None, _) => diagnostic
            .path
            .as_ref()
            .map_or_else(String::new, |p| format!("{}: ", p.display())),
    };
    let mut out = format!(
        "{place}{severity}[{}]: {}\n",
        diagnostic.code, diagnostic.message
    );
    for label in &diagnostic.labels {
        let at = diagnostic
            .source
            .as_ref()
            .filter(|s| label.span.start <= s.text.len())
            .map(|s| {
                let (line, column) = s.line_col(label.span.start);
                format!("{line}:{column}")
            })
            .unwrap_or_default();
        // A label names the place; the long line itself is not echoed, and
        // a data file only by its offending token.
        let text: String = label.text.chars().take(200).collect();
        let token = diagnostic
            .source
            .as_ref()
            .filter(|s| s.quote == Quote::Token)
            .map(|s| crate::text::token(s.snippet(label.span)))
            .filter(|t| !t.is_empty())
            .map_or_else(String::new, |t| format!(" `{t}`"));
        out.push_str(&format!("  at {at}{token}: {text}\n"));
    }
    if let Some(help) = &diagnostic.help {
        out.push_str(&format!("  help: {help}\n"));
    }
    out
}

/// `bytes` as the text of `path`, quoted in diagnostics as `quote` says;
/// when they are not UTF-8, the file up to the first bad byte (with `U+FFFD`
/// for it) and the span of that byte, so a diagnostic can point at its line
/// and column.
pub fn decode_utf8(
    path: &Path,
    bytes: Vec<u8>,
    quote: Quote,
) -> Result<Arc<SourceFile>, (Arc<SourceFile>, Span)> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::quoted(path, text, 1, quote)),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            let shown = String::from_utf8_lossy(&bytes[..valid]).into_owned() + "\u{FFFD}";
            let span = Span::new(valid, valid + '\u{FFFD}'.len_utf8());
            Err((SourceFile::quoted(path, shown, 1, quote), span))
        }
    }
}

/// Runs `work`, turning a panic inside it into an `xos::internal::panic`
/// error that names the bug's location (`src/file.rs:line:col`) instead of
/// ending the process: what `xos watch` and `xos serve` use so that one bad
/// evaluation never takes down the others. The panic is not printed by the
/// default hook while `work` runs on this thread; panics elsewhere are
/// reported as before.
///
/// # Errors
/// `xos::internal::panic` when `work` panicked, with its message and place.
pub fn catch_panic<T>(work: impl FnOnce() -> T) -> Result<T, Diagnostic> {
    use std::cell::{Cell, RefCell};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    thread_local! {
        static CATCHING: Cell<bool> = const { Cell::new(false) };
        static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                let place = info.location().map_or_else(
                    || "an unknown place".to_string(),
                    |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
                );
                CAUGHT.with(|c| *c.borrow_mut() = Some(place));
            } else {
                previous(info);
            }
        }));
    });
    let was = CATCHING.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(work));
    CATCHING.with(|c| c.set(was));
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        let place = CAUGHT
            .with(|c| c.borrow_mut().take())
            .unwrap_or_else(|| "an unknown place".to_string());
        Diagnostic::error(
            "xos::internal::panic",
            format!("xos hit a bug: {message}, at {place}"),
        )
        .help("this is a bug in xos, not in your files: please report it with the files that trigger it")
    })
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = current;
        }
    }
    row[b.len()]
}

/// The closest candidate to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_on_a_very_long_line_renders_without_a_snippet() {
        // miette's graphical renderer panics past column 65,535.
        let text = format!("title \"{}\" bogus 1\n", "a".repeat(70_000));
        let at = text.find("bogus").expect("bogus");
        let source = SourceFile::new("long.xos", text);
        let d = Diagnostic::error("xos::check::unknown_option", "unknown option `bogus`")
            .in_file(&source)
            .label(Span::new(at, at + 5), "not an option");
        let out = render(&d, false, 100);
        assert!(
            out.starts_with("long.xos:1:70010: error[xos::check::unknown_option]"),
            "{out}"
        );
        assert!(out.contains("at 1:70010: not an option"), "{out}");
        assert!(
            out.len() < 300,
            "the long line is not echoed: {} bytes",
            out.len()
        );
    }

    #[test]
    fn a_panic_becomes_a_located_bug_report() {
        let caught = catch_panic(|| -> u32 { panic!("boom {}", 7) });
        let error = caught.expect_err("the panic is caught");
        assert_eq!(error.code, "xos::internal::panic");
        assert!(error.message.contains("boom 7"), "{}", error.message);
        assert!(
            error.message.contains("src/diagnostic.rs:"),
            "{}",
            error.message
        );
        assert_eq!(catch_panic(|| 3).ok(), Some(3));
    }

    #[test]
    fn diagnostics_are_capped_per_file_with_a_count() {
        let a = SourceFile::new("a.xos", "x");
        let b = SourceFile::new("b.xos", "x");
        let mut all = Diagnostics::new();
        for i in 0..8_000 {
            all.push(Diagnostic::error("xos::test", format!("a{i}")).in_file(&a));
        }
        for i in 0..3 {
            all.push(Diagnostic::warning("xos::test", format!("b{i}")).in_file(&b));
        }
        all.push(Diagnostic::warning("xos::test", "late").in_file(&a));
        all.push(Diagnostic::warning("xos::other", "other kind").in_file(&a));
        let shown = all.capped();
        let messages: Vec<&str> = shown.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), MAX_DIAGNOSTICS_PER_FILE + 3 + 1 + 1);
        assert!(messages.contains(&"other kind"));
        assert_eq!(messages[0], "a0");
        assert_eq!(messages[MAX_DIAGNOSTICS_PER_FILE - 1], "a49");
        assert_eq!(
            *messages.last().unwrap(),
            "and 7950 more errors and 1 warning `xos::test` in `a.xos`"
        );
        let summary = shown.iter().last().unwrap();
        assert!(summary.is_error());
        assert_eq!(summary.file_name().as_deref(), Some("a.xos"));
        // Below the cap nothing changes.
        let few = Diagnostics(all.0[..10].to_vec());
        assert_eq!(few.capped().0.len(), 10);
    }

    #[test]
    fn a_repeated_diagnostic_is_shown_once() {
        let source = SourceFile::new("xos.toml", "bogus = \n");
        let toml = Diagnostic::error("xos::test", "invalid TOML")
            .in_file(&source)
            .label(Span::new(8, 8), "a value");
        let elsewhere = toml.clone().label(Span::new(0, 5), "here too");
        let other_file = Diagnostic::error("xos::test", "invalid TOML")
            .in_file(&SourceFile::new("sub/xos.toml", "bogus = \n"))
            .label(Span::new(8, 8), "a value");
        let all = Diagnostics(vec![
            toml.clone(),
            elsewhere.clone(),
            toml.clone().help("see the TOML syntax"),
            toml.clone(),
            other_file.clone(),
            toml.clone(),
        ]);
        let shown = all.capped();
        let helps: Vec<Option<&str>> = shown.iter().map(|d| d.help.as_deref()).collect();
        assert_eq!(
            helps,
            [
                Some("found 3 times, shown once"),
                None,
                Some("see the TOML syntax"),
                None
            ]
        );
        assert_eq!(shown.0[1].labels.len(), 2);
        assert_eq!(shown.0[3].file_name().as_deref(), Some("sub/xos.toml"));
    }

    #[test]
    fn long_names_in_messages_are_elided() {
        let name = "n".repeat(1_000_000);
        let source = SourceFile::new("long.xos", format!("{name} 1\n"));
        let d = Diagnostic::error("xos::test", format!("unknown setting `{name}`"))
            .in_file(&source)
            .label(Span::new(0, name.len()), "not a setting");
        let out = render(&d, false, 100);
        assert!(out.len() < 2_000, "{} bytes", out.len());
        assert!(out.contains("characters) …"), "{out}");
        assert!(out.starts_with("long.xos:1:1: error"), "{out}");
        let json = serde_json::to_string(&d.to_json()).unwrap();
        assert!(json.len() < 4_000, "{} bytes", json.len());
    }

    #[test]
    fn escape_sequences_never_reach_the_terminal() {
        let text = "title \"\x1b]0;pwned\x07\x1b[2J\"\nbogus 1\n";
        let at = text.find("bogus").unwrap();
        let source = SourceFile::new("esc.xos", text);
        let d = Diagnostic::error("xos::test", "unknown option `\x1b[31mbogus`")
            .in_file(&source)
            .label(Span::new(at, at + 5), "not an option");
        for color in [false, true] {
            let out = render(&d, color, 100);
            assert!(
                !out.contains("\x1b]")
                    && !out.contains("\x1b[2J")
                    && !out.contains("\x1b[31mbogus"),
                "{out:?}"
            );
            assert!(!out.contains('\x07'), "{out:?}");
            assert!(out.contains("esc.xos:2:1"), "{out}");
        }
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\ncdé f";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 8), (2, 5));
        // A byte-order mark is no column; only at the very start is it one.
        let bom = "\u{feff}ab\n\u{feff}c";
        assert_eq!(line_col(bom, 3), (1, 1));
        assert_eq!(line_col(bom, 4), (1, 2));
        assert_eq!(line_col(bom, 9), (2, 2));
    }

    #[test]
    fn every_format_gives_the_same_column() {
        // The graphical header took miette's byte column: 37 and 4 here.
        for (text, column) in [
            ("experiment x { title \"ééé\" owner 5 }\n", 34),
            ("\u{feff}experiment x { owner 5 }\n", 22),
        ] {
            let at = text.find('5').unwrap();
            let source = SourceFile::new("col.xos", text);
            let d = Diagnostic::error("xos::test", "bad")
                .in_file(&source)
                .label(Span::new(at, at + 1), "here");
            assert_eq!(d.location(), Some((1, column)));
            let plain = render_plain(&d);
            assert!(
                plain.starts_with(&format!("col.xos:1:{column}: ")),
                "{plain}"
            );
            let graphical = render(&d, false, 100);
            assert!(
                graphical.contains(&format!("[col.xos:1:{column}]")),
                "{graphical}"
            );
        }
    }

    #[test]
    fn excerpts_report_the_real_line() {
        let source = SourceFile::excerpt("big.csv", "control,x,1\n", 1_000_001);
        assert_eq!(source.line_col(8), (1_000_001, 9));
        let diag = Diagnostic::error("xos::test", "bad")
            .in_file(&source)
            .label(Span::new(8, 9), "here");
        assert_eq!(diag.to_json().line, Some(1_000_001));
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["conversion", "revenue", "cancel_rate"];
        assert_eq!(did_you_mean("conversoin", names), Some("conversion"));
        assert_eq!(did_you_mean("latency", names), None);
    }

    #[test]
    fn paths_under_a_root_are_shown_relative_to_it() {
        let root = Path::new("/srv/specs");
        let inside = Diagnostic::error("xos::test", "cannot read `/srv/specs/a/b.csv`")
            .label(Span::new(0, 1), "see /srv/specs/a/b.csv")
            .help("/srv/specsX/c is another folder")
            .in_file(&SourceFile::new("/srv/specs/a/b.xos", "x\n"));
        let outside = Diagnostic::error("xos::test", "outside").at_path("/etc/passwd");
        let all = Diagnostics(vec![inside, outside]).relative_to(root);
        assert_eq!(all.0[0].file_name().as_deref(), Some("a/b.xos"));
        assert_eq!(all.0[0].message, "cannot read `a/b.csv`");
        assert_eq!(all.0[0].labels[0].text, "see a/b.csv");
        assert_eq!(
            all.0[0].help.as_deref(),
            Some("/srv/specsX/c is another folder")
        );
        assert_eq!(all.0[0].location(), Some((1, 1)));
        assert_eq!(all.0[1].file_name().as_deref(), Some("/etc/passwd"));
        let unchanged = Diagnostics(vec![all.0[1].clone()]).relative_to(Path::new(""));
        assert_eq!(unchanged.0[0].file_name().as_deref(), Some("/etc/passwd"));
    }
}

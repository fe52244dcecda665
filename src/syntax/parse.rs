//! Source text → syntax tree ([`crate::syntax::ast`]); pest errors → diagnostics.
//!
//! One `parse_<rule>` function per grammar rule. Nothing outside this module
//! sees pest's `Pair` or `Rule`. A syntax error reads like this:
//!
//! ```text
//! error: xos::parse::syntax
//!   × expected an experiment item such as `primary`, `metric`, `guardrail`, `variants` or `rule`, found `primay`
//!    ╭─[bad.xos:4:5]
//!  4 │     primay conversion = rate(conversions)
//!    ·     ───┬──
//!    ·        ╰── unexpected `primay`
//!    ╰────
//!   help: did you mean `primary`?
//! ```

#![expect(
    clippy::result_large_err,
    reason = "errors are diagnostics, built on the rare failing path; boxing them would only add noise to every `?`"
)]

use std::sync::{Arc, LazyLock};

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::syntax::ast::*;

/// The parser pest generates from the grammar, in a private module so that
/// its `Rule` enum stays inside this file.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/xos.pest"]
    pub(super) struct XosParser;
}
use grammar::{Rule, XosParser};

type PResult<T> = Result<T, Diagnostic>;

/// Parses a whole `.xos` file. Syntax errors come back as diagnostics.
///
/// A valid file is read by the hand-written [`super::fast`] path; anything
/// else goes through pest, which reports the error.
pub fn parse(source: &Arc<SourceFile>) -> Result<File, Diagnostics> {
    if let Some(diagnostic) = scan_before_parse(&source.text) {
        return Err(diagnostic.in_file(source).into());
    }
    match super::fast::parse_file(&source.text) {
        Some(file) => Ok(file),
        None => parse_pest(source),
    }
}

/// [`parse`] without the fast path: pest and the walk over its pairs, the
/// grammar of record, for the tests that hold both paths equal.
#[doc(hidden)]
pub fn parse_with_pest(source: &Arc<SourceFile>) -> Result<File, Diagnostics> {
    if let Some(diagnostic) = scan_before_parse(&source.text) {
        return Err(diagnostic.in_file(source).into());
    }
    parse_pest(source)
}

fn parse_pest(source: &Arc<SourceFile>) -> Result<File, Diagnostics> {
    let pairs = match parse_rule(Rule::file, &source.text) {
        Ok(pairs) => pairs,
        Err(error) => return Err(syntax_error(&source.text, &error).in_file(source).into()),
    };
    let file = pairs
        .into_iter()
        .next()
        .ok_or_else(|| internal("empty parse"))
        .and_then(parse_file);
    file.map_err(|d| d.in_file(source).into())
}

/// Runs the pest parser. Detailed error tracking (what was expected, for
/// the friendly messages) slows every parse severalfold, so it is switched
/// on only to re-parse input that already failed.
///
/// The switch is one process-wide flag in pest, so the re-parses take turns
/// under [`ERROR_DETAIL`], and nothing else writes the flag: a first parse
/// that used to switch it off on another thread cut a detailed re-parse
/// short, and the same file then gave a different message (a test comparing
/// both parse paths failed in CI on a file with an error). A first parse
/// that runs while the flag is on is only slower; its error is not used.
fn parse_rule(
    rule: Rule,
    text: &str,
) -> Result<pest::iterators::Pairs<'_, Rule>, pest::error::Error<Rule>> {
    match XosParser::parse(rule, text) {
        Ok(pairs) => Ok(pairs),
        Err(_) => {
            let _detail = crate::locked(&ERROR_DETAIL);
            pest::set_error_detail(true);
            let result = XosParser::parse(rule, text);
            pest::set_error_detail(false);
            result
        }
    }
}

/// Held while pest's process-wide error-detail flag is on ([`parse_rule`]).
static ERROR_DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The parsed expression of a rule condition, for tests and tools.
pub fn parse_condition(text: &str) -> Result<Expr, Diagnostic> {
    let mut pairs = parse_rule(Rule::expr, text).map_err(|e| syntax_error(text, &e))?;
    let pair = pairs.next().ok_or_else(|| internal("empty expression"))?;
    if pair.as_span().end() != text.trim_end().len() {
        return Err(Diagnostic::error(
            "xos::parse::syntax",
            "unexpected text after the condition",
        ));
    }
    parse_expr(pair)
}

/// Parses one value (`5%`, `holm`, `beta(1, 1)`) written on its own: the
/// text of a string in `xos.toml`. Spans are byte offsets into `text`;
/// [`Value::relocate`] moves them to where the text stands in its file.
pub fn parse_value_text(text: &str) -> Result<Value, Diagnostic> {
    let mut pairs = parse_rule(Rule::value_text, text).map_err(|e| syntax_error(text, &e))?;
    let pair = next(&mut pairs, "value text")?;
    let value = next(&mut pair.into_inner(), "value")?;
    parse_value(value)
}

fn internal(what: &str) -> Diagnostic {
    Diagnostic::error(
        "xos::parse::internal",
        format!("internal parser error: {what}"),
    )
    .help("this is a bug in xos; please report it with the file that caused it")
}

/// The pair's span without the whitespace and comments pest lets a rule
/// swallow before an optional part it then does not find (`a ~ b?`).
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    let text = pair.as_str();
    Span::new(s.start(), s.start() + trim_trivia(text))
}

/// The length of `text` without trailing whitespace and comments.
pub(super) fn trim_trivia(text: &str) -> usize {
    if !text.ends_with(char::is_whitespace) {
        return text.len();
    }
    let comments = comment_ranges(text);
    let mut end = text.len();
    loop {
        let trimmed = text[..end].trim_end().len();
        match comments
            .iter()
            .find(|c| c.start < trimmed && trimmed <= c.end)
        {
            Some(c) => end = c.start,
            None => return trimmed,
        }
    }
}

/// The byte ranges of the `//` comments in `text`, which must start outside
/// a string (every `"` opens or closes one).
pub(crate) fn comment_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            let start = i;
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            found.push(start..i);
            continue;
        }
        i += 1;
    }
    found
}

fn next<'a>(pairs: &mut Pairs<'a, Rule>, what: &str) -> PResult<Pair<'a, Rule>> {
    pairs.next().ok_or_else(|| internal(what))
}

// ---------------------------------------------------------------- file

fn parse_file(pair: Pair<'_, Rule>) -> PResult<File> {
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::experiment => return parse_experiment(inner).map(File::Experiment),
            Rule::policy_decl => return parse_policy_decl(inner).map(File::Policy),
            _ => {}
        }
    }
    Err(internal("file without experiment or policy"))
}

fn parse_experiment(pair: Pair<'_, Rule>) -> PResult<Experiment> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _keyword = next(&mut inner, "experiment keyword")?;
    let name = parse_ident(next(&mut inner, "experiment name")?);
    let mut items = Vec::new();
    for item in inner {
        items.push(match item.as_rule() {
            Rule::header_field => Item::Header(parse_header_field(item)?),
            Rule::data_decl => Item::Data(parse_data_decl(item)?),
            Rule::variants_decl => Item::Variants(parse_variants_decl(item)?),
            Rule::metric_decl => Item::Metric(parse_metric_decl(item)?),
            Rule::plan_decl => Item::Plan(parse_plan_decl(item)?),
            Rule::settings_decl => Item::Settings(parse_settings_decl(item)?),
            Rule::sequential_decl => Item::Sequential(parse_options_decl(item)?),
            Rule::policy_ref => Item::Policy(parse_policy_ref(item)?),
            Rule::rule_decl => Item::Rule(parse_rule_decl(item)?),
            Rule::test_decl => Item::Test(parse_test_decl(item)?),
            _ => return Err(internal("unexpected experiment item")),
        });
    }
    Ok(Experiment { name, items, span })
}

fn parse_policy_decl(pair: Pair<'_, Rule>) -> PResult<PolicyDecl> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _keyword = next(&mut inner, "policy keyword")?;
    let name = parse_ident(next(&mut inner, "policy name")?);
    let mut items = Vec::new();
    for item in inner {
        items.push(match item.as_rule() {
            Rule::rule_decl => PolicyItem::Rule(parse_rule_decl(item)?),
            Rule::otherwise_decl => PolicyItem::Otherwise(parse_otherwise_decl(item)?),
            Rule::test_decl => PolicyItem::Test(parse_test_decl(item)?),
            _ => return Err(internal("unexpected policy item")),
        });
    }
    Ok(PolicyDecl { name, items, span })
}

// ---------------------------------------------------------------- declarations

fn parse_header_field(pair: Pair<'_, Rule>) -> PResult<HeaderField> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let key_pair = next(&mut inner, "header key")?;
    let key_span = span_of(&key_pair);
    let key = parse_header_key(key_pair)?;
    let value = parse_string(next(&mut inner, "header value")?)?;
    Ok(HeaderField {
        key,
        key_span,
        value,
        span,
    })
}

fn parse_header_key(pair: Pair<'_, Rule>) -> PResult<HeaderKey> {
    match pair.as_str() {
        "title" => Ok(HeaderKey::Title),
        "owner" => Ok(HeaderKey::Owner),
        "hypothesis" => Ok(HeaderKey::Hypothesis),
        _ => Err(internal("header key")),
    }
}

fn parse_data_decl(pair: Pair<'_, Rule>) -> PResult<DataDecl> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _keyword = next(&mut inner, "data keyword")?;
    let path = parse_string(next(&mut inner, "data path")?)?;
    let options = inner.next().map(parse_option_block).transpose()?;
    Ok(DataDecl {
        path,
        options,
        span,
    })
}

fn parse_variants_decl(pair: Pair<'_, Rule>) -> PResult<VariantsDecl> {
    let span = span_of(&pair);
    let variants = pair
        .into_inner()
        .filter(|p| p.as_rule() == Rule::variant)
        .map(parse_variant)
        .collect::<PResult<Vec<_>>>()?;
    Ok(VariantsDecl { variants, span })
}

fn parse_variant(pair: Pair<'_, Rule>) -> PResult<VariantDecl> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let name = parse_label(next(&mut inner, "variant name")?)?;
    let share = parse_number(next(&mut inner, "variant share")?)?;
    Ok(VariantDecl { name, share, span })
}

fn parse_metric_decl(pair: Pair<'_, Rule>) -> PResult<MetricDecl> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let role_pair = next(&mut inner, "metric role")?;
    let role_span = span_of(&role_pair);
    let role = parse_role(role_pair)?;
    let name = parse_ident(next(&mut inner, "metric name")?);
    let kind = parse_metric_kind(next(&mut inner, "metric kind")?)?;
    let options = inner.next().map(parse_option_block).transpose()?;
    Ok(MetricDecl {
        role,
        role_span,
        name,
        kind,
        options,
        span,
    })
}

fn parse_role(pair: Pair<'_, Rule>) -> PResult<Role> {
    match pair.as_str() {
        "primary" => Ok(Role::Primary),
        "metric" => Ok(Role::Metric),
        "guardrail" => Ok(Role::Guardrail),
        _ => Err(internal("metric role")),
    }
}

fn parse_metric_kind(pair: Pair<'_, Rule>) -> PResult<MetricKind> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let name = parse_kind_name(next(&mut inner, "metric kind name")?)?;
    let column = parse_label(next(&mut inner, "metric column")?)?;
    let more = inner.map(parse_label).collect::<PResult<_>>()?;
    Ok(MetricKind {
        name,
        column,
        more,
        span,
    })
}

/// A variant label or column name: an identifier, or a quoted string whose
/// value is the name (the span still covers the quotes, so `fmt` keeps them).
fn parse_label(pair: Pair<'_, Rule>) -> PResult<Ident> {
    if pair.as_rule() != Rule::string {
        return Ok(parse_ident(pair));
    }
    let string = parse_string(pair)?;
    if string.value.trim().is_empty() {
        return Err(
            Diagnostic::error("xos::parse::empty_name", "a name cannot be empty")
                .label(string.span, "empty name")
                .help("write the label or column name between the quotes"),
        );
    }
    Ok(Ident {
        name: string.value,
        span: string.span,
    })
}

fn parse_kind_name(pair: Pair<'_, Rule>) -> PResult<KindName> {
    match pair.as_str() {
        "rate" => Ok(KindName::Rate),
        "mean" => Ok(KindName::Mean),
        "ratio" => Ok(KindName::Ratio),
        _ => Err(internal("metric kind name")),
    }
}

fn parse_plan_decl(pair: Pair<'_, Rule>) -> PResult<OptionsDecl> {
    parse_options_decl(pair)
}

fn parse_settings_decl(pair: Pair<'_, Rule>) -> PResult<OptionsDecl> {
    parse_options_decl(pair)
}

fn parse_options_decl(pair: Pair<'_, Rule>) -> PResult<OptionsDecl> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let keyword_span = span_of(&next(&mut inner, "block keyword")?);
    let block = parse_option_block(next(&mut inner, "option block")?)?;
    Ok(OptionsDecl {
        keyword_span,
        block,
        span,
    })
}

fn parse_policy_ref(pair: Pair<'_, Rule>) -> PResult<PolicyRef> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _keyword = next(&mut inner, "policy keyword")?;
    let path = parse_string(next(&mut inner, "policy path")?)?;
    Ok(PolicyRef { path, span })
}

fn parse_rule_decl(pair: Pair<'_, Rule>) -> PResult<RuleDecl> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _rule = next(&mut inner, "rule keyword")?;
    let name = parse_ident(next(&mut inner, "rule name")?);
    let _when = next(&mut inner, "when keyword")?;
    let when = parse_expr(next(&mut inner, "rule condition")?)?;
    let _then = next(&mut inner, "then keyword")?;
    let then = parse_verdict(next(&mut inner, "rule verdict")?)?;
    let _because = next(&mut inner, "because keyword")?;
    let because = parse_string(next(&mut inner, "rule reason")?)?;
    Ok(RuleDecl {
        name,
        when,
        then,
        because,
        span,
    })
}

fn parse_otherwise_decl(pair: Pair<'_, Rule>) -> PResult<OtherwiseDecl> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _otherwise = next(&mut inner, "otherwise keyword")?;
    let then = parse_verdict(next(&mut inner, "otherwise verdict")?)?;
    let _because = next(&mut inner, "because keyword")?;
    let because = parse_string(next(&mut inner, "otherwise reason")?)?;
    Ok(OtherwiseDecl {
        then,
        because,
        span,
    })
}

fn parse_verdict(pair: Pair<'_, Rule>) -> PResult<VerdictLit> {
    let span = span_of(&pair);
    let verdict = match pair.as_str() {
        "launch" => Verdict::Launch,
        "hold" => Verdict::Hold,
        "rollback" => Verdict::Rollback,
        _ => return Err(internal("verdict")),
    };
    Ok(VerdictLit { verdict, span })
}

fn parse_test_decl(pair: Pair<'_, Rule>) -> PResult<TestDecl> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let _test = next(&mut inner, "test keyword")?;
    let name = parse_ident(next(&mut inner, "test name")?);
    let mut given = Vec::new();
    let mut expect = None;
    for item in inner {
        match item.as_rule() {
            Rule::given => given = parse_given(item)?,
            Rule::expect => expect = Some(parse_expect(item)?),
            _ => return Err(internal("unexpected test item")),
        }
    }
    let (expect, by) = expect.ok_or_else(|| internal("test without expect"))?;
    Ok(TestDecl {
        name,
        given,
        expect,
        by,
        span,
    })
}

fn parse_given(pair: Pair<'_, Rule>) -> PResult<Vec<GivenFact>> {
    pair.into_inner()
        .filter(|p| p.as_rule() == Rule::given_fact)
        .map(parse_given_fact)
        .collect()
}

fn parse_given_fact(pair: Pair<'_, Rule>) -> PResult<GivenFact> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let path = parse_fact_path(next(&mut inner, "given fact")?);
    let value = parse_value(next(&mut inner, "given value")?)?;
    Ok(GivenFact { path, value, span })
}

fn parse_expect(pair: Pair<'_, Rule>) -> PResult<(VerdictLit, Option<Ident>)> {
    let mut inner = pair.into_inner();
    let _expect = next(&mut inner, "expect keyword")?;
    let verdict = parse_verdict(next(&mut inner, "expected verdict")?)?;
    let by = match inner.next() {
        Some(_by) => Some(parse_ident(next(&mut inner, "expected rule")?)),
        None => None,
    };
    Ok((verdict, by))
}

fn parse_option_block(pair: Pair<'_, Rule>) -> PResult<OptionBlock> {
    let span = span_of(&pair);
    let options = pair
        .into_inner()
        .map(parse_option)
        .collect::<PResult<Vec<_>>>()?;
    Ok(OptionBlock { options, span })
}

fn parse_option(pair: Pair<'_, Rule>) -> PResult<KeyValue> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let key = parse_ident(next(&mut inner, "option key")?);
    let value = parse_value(next(&mut inner, "option value")?)?;
    Ok(KeyValue { key, value, span })
}

fn parse_value(pair: Pair<'_, Rule>) -> PResult<Value> {
    let inner = next(&mut pair.into_inner(), "value")?;
    match inner.as_rule() {
        Rule::call => parse_call(inner).map(Value::Call),
        Rule::number => parse_number(inner).map(Value::Number),
        Rule::string => parse_string(inner).map(Value::String),
        Rule::ident => Ok(Value::Word(parse_ident(inner))),
        _ => Err(internal("value")),
    }
}

fn parse_call(pair: Pair<'_, Rule>) -> PResult<Call> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let name = parse_ident(next(&mut inner, "call name")?);
    let args = inner.map(parse_value).collect::<PResult<Vec<_>>>()?;
    Ok(Call { name, args, span })
}

// ---------------------------------------------------------------- expressions

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::lt_op, Assoc::Left)
            | Op::infix(Rule::le_op, Assoc::Left)
            | Op::infix(Rule::gt_op, Assoc::Left)
            | Op::infix(Rule::ge_op, Assoc::Left)
            | Op::infix(Rule::eq_op, Assoc::Left)
            | Op::infix(Rule::ne_op, Assoc::Left))
        .op(Op::infix(Rule::add_op, Assoc::Left) | Op::infix(Rule::sub_op, Assoc::Left))
        .op(Op::infix(Rule::mul_op, Assoc::Left) | Op::infix(Rule::div_op, Assoc::Left))
        .op(Op::prefix(Rule::neg_op))
});

fn parse_expr(pair: Pair<'_, Rule>) -> PResult<Expr> {
    let tokens = pair.clone().into_inner().count();
    if tokens > MAX_CONDITION_TOKENS {
        return Err(Diagnostic::error("xos::parse::too_long", "condition too long")
            .label(
                pair.clone().into_inner().next().map_or(span_of(&pair), |first| span_of(&first)),
                format!("this condition has {tokens} operands and operators"),
            )
            .help(format!(
                "a condition has at most {MAX_CONDITION_TOKENS} operands and operators; split it into several rules"
            )));
    }
    PRATT
        .map_primary(parse_term)
        .map_prefix(|op, operand| {
            let operand = operand?;
            let span = span_of(&op).join(operand.span);
            let kind = match op.as_rule() {
                Rule::not_op => ExprKind::Not(Box::new(operand)),
                _ => ExprKind::Neg(Box::new(operand)),
            };
            Ok(Expr { kind, span })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let op = parse_infix_op(&op)?;
            let span = lhs.span.join(rhs.span);
            Ok(Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span,
            })
        })
        .parse(pair.into_inner())
}

fn parse_infix_op(pair: &Pair<'_, Rule>) -> PResult<BinaryOp> {
    Ok(match pair.as_rule() {
        Rule::or_op => BinaryOp::Or,
        Rule::and_op => BinaryOp::And,
        Rule::lt_op => BinaryOp::Lt,
        Rule::le_op => BinaryOp::Le,
        Rule::gt_op => BinaryOp::Gt,
        Rule::ge_op => BinaryOp::Ge,
        Rule::eq_op => BinaryOp::Eq,
        Rule::ne_op => BinaryOp::Ne,
        Rule::add_op => BinaryOp::Add,
        Rule::sub_op => BinaryOp::Sub,
        Rule::mul_op => BinaryOp::Mul,
        Rule::div_op => BinaryOp::Div,
        _ => return Err(internal("infix operator")),
    })
}

fn parse_term(pair: Pair<'_, Rule>) -> PResult<Expr> {
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::quantified => parse_quantified(pair),
        Rule::paren => parse_paren(pair),
        Rule::literal => Ok(Expr {
            kind: ExprKind::Number(parse_literal(pair)?),
            span,
        }),
        Rule::fact_path => Ok(Expr {
            kind: ExprKind::Path(parse_fact_path(pair)),
            span,
        }),
        _ => Err(internal("operand")),
    }
}

fn parse_paren(pair: Pair<'_, Rule>) -> PResult<Expr> {
    let span = span_of(&pair);
    let mut expr = parse_expr(next(&mut pair.into_inner(), "parenthesised condition")?)?;
    // The parentheses belong to the operand, so labels underline them too.
    expr.span = span;
    Ok(expr)
}

fn parse_quantified(pair: Pair<'_, Rule>) -> PResult<Expr> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let quantifier = parse_quantifier(next(&mut inner, "quantifier")?)?;
    let body = next(&mut inner, "quantified condition")?;
    let body = match body.as_rule() {
        Rule::paren => parse_paren(body)?,
        _ => Expr::path(Path::single(parse_ident(body))),
    };
    Ok(Expr {
        kind: ExprKind::Quantified(quantifier, Box::new(body)),
        span,
    })
}

fn parse_quantifier(pair: Pair<'_, Rule>) -> PResult<Quantifier> {
    let first = next(&mut pair.into_inner(), "quantifier word")?;
    Ok(match first.as_rule() {
        Rule::q_any => Quantifier::Any,
        Rule::q_all => Quantifier::All,
        _ => Quantifier::No,
    })
}

fn parse_literal(pair: Pair<'_, Rule>) -> PResult<Number> {
    parse_number(pair)
}

// ---------------------------------------------------------------- literals and names

/// `number` and `literal` share their shape: `minus? quantity relative?`.
fn parse_number(pair: Pair<'_, Rule>) -> PResult<Number> {
    let span = span_of(&pair);
    let mut negative = false;
    let mut relative = false;
    let mut magnitude = None;
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::minus => negative = true,
            Rule::relative => relative = true,
            Rule::quantity => magnitude = Some(parse_quantity(inner)?),
            _ => return Err(internal("number part")),
        }
    }
    let (value, unit) = magnitude.ok_or_else(|| internal("number without digits"))?;
    Ok(Number {
        value: if negative { -value } else { value },
        unit,
        relative,
        span,
    })
}

fn parse_quantity(pair: Pair<'_, Rule>) -> PResult<(f64, Unit)> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let numeral = parse_numeral(next(&mut inner, "numeral")?, span)?;
    let unit = match inner.next() {
        Some(unit) => parse_unit(unit)?,
        None => Unit::None,
    };
    let value = match unit {
        Unit::Percent | Unit::Pp => numeral / 100.0,
        Unit::None | Unit::Days => numeral,
    };
    Ok((value, unit))
}

fn parse_numeral(pair: Pair<'_, Rule>, span: Span) -> PResult<f64> {
    let digits: String = pair.as_str().chars().filter(|c| *c != '_').collect();
    match digits.parse::<f64>() {
        Ok(value) if rounds_to_zero(&digits, value) => Err(Diagnostic::error(
            "xos::parse::number",
            "number out of range",
        )
        .label(span, "too small to represent: it would be 0")
        .help("numbers must be at least about 1e-308 in size; write 0 if 0 is meant")),
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(
            Diagnostic::error("xos::parse::number", "number out of range")
                .label(span, "too large to represent")
                .help("numbers must be finite; write a smaller value"),
        ),
    }
}

/// Whether `numeral` (without `_`) names a number other than 0 that its
/// double `value` rounded to 0 (`1e-400`): refused, as `1e400` is, rather
/// than read as 0.
pub(crate) fn rounds_to_zero(numeral: &str, value: f64) -> bool {
    value == 0.0
        && numeral
            .split(['e', 'E'])
            .next()
            .is_some_and(|mantissa| mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)))
}

fn parse_unit(pair: Pair<'_, Rule>) -> PResult<Unit> {
    Ok(match pair.as_str() {
        "%" => Unit::Percent,
        "pp" => Unit::Pp,
        "d" => Unit::Days,
        _ => return Err(internal("unit")),
    })
}

fn parse_string(pair: Pair<'_, Rule>) -> PResult<StringLit> {
    let span = span_of(&pair);
    let raw = pair.as_str();
    let body = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| internal("string quotes"))?;
    let value = unescape(body).map_err(|(offset, c)| {
        let at = span.start + 1 + offset;
        Diagnostic::error("xos::parse::escape", format!("unknown escape `\\{c}`"))
            .label(Span::new(at, at + 1 + c.len_utf8()), "not a known escape")
            .help("strings know `\\\"`, `\\\\`, `\\n` and `\\t`")
    })?;
    Ok(StringLit { value, span })
}

/// Resolves `\"`, `\\`, `\n` and `\t`; on an unknown escape, the byte offset
/// of its backslash and the character after it.
pub fn unescape(body: &str) -> Result<String, (usize, char)> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, other)) => return Err((i, other)),
            None => return Err((i, ' ')),
        }
    }
    Ok(out)
}

fn parse_ident(pair: Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(&pair),
    }
}

fn parse_fact_path(pair: Pair<'_, Rule>) -> Path {
    let span = span_of(&pair);
    let segments = pair.into_inner().map(parse_ident).collect();
    Path { segments, span }
}

// ---------------------------------------------------------------- errors

/// How deep blocks and parentheses may nest, and how many operands and
/// operators one condition may have: far beyond any real policy, and low
/// enough that checking never exhausts the stack.
pub(super) const MAX_DEPTH: usize = 64;
pub(super) const MAX_CONDITION_TOKENS: usize = 512;

/// What both parsers refuse before reading: a direction control
/// ([`direction_control`]), then an unterminated string or nesting too deep
/// ([`scan_unterminated`]).
fn scan_before_parse(text: &str) -> Option<Diagnostic> {
    direction_control(text).or_else(|| scan_unterminated(text))
}

/// A Unicode bidirectional override or isolate (U+202A–U+202E,
/// U+2066–U+2069) anywhere in a spec or policy: it makes text display in
/// another order than it reads, so a title shows a verdict it does not
/// contain and a reviewed line does other than it shows ("Trojan Source",
/// Boucher & Anderson 2021; rustc denies them by default). Refused where
/// it stands, in strings and comments alike.
fn direction_control(text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    // Every such character is `E2 80 AA..=AE` or `E2 81 A6..=A9` in UTF-8.
    let at = bytes.windows(3).position(|w| {
        w[0] == 0xE2
            && ((w[1] == 0x80 && (0xAA..=0xAE).contains(&w[2]))
                || (w[1] == 0x81 && (0xA6..=0xA9).contains(&w[2])))
    })?;
    let c = text[at..].chars().next()?;
    Some(
        Diagnostic::error(
            "xos::parse::direction_control",
            format!(
                "a Unicode direction control (U+{:04X}) changes the order this text is shown in",
                u32::from(c)
            ),
        )
        .label(
            Span::new(at, at + c.len_utf8()),
            "invisible: what follows may display reversed",
        )
        .help(
            "remove it: right-to-left text displays correctly without direction controls, and \
             a memo or a review must show the text as it reads",
        ),
    )
}

/// Before pest: finds a string that is never closed (which pest would report
/// as something harder to read), and nesting too deep to check safely.
fn scan_unterminated(text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    // (opening quote, closing quote) of every string so far.
    let mut strings: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(
                        Diagnostic::error("xos::parse::too_deep", "nesting too deep")
                            .label(Span::new(i, i + 1), format!("more than {MAX_DEPTH} levels deep"))
                            .help("blocks and parentheses nest at most 64 levels; split the condition into several rules"),
                    );
                }
            }
            b')' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Some(unterminated(text, &strings, start)),
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
                strings.push((start, i));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The string that was really left open: usually not the last one, but an
/// earlier one that "spans lines" and whose closing quote is in fact the
/// opening quote of the next string (`title "abc` ⏎ `data "x.csv"`).
fn unterminated(text: &str, strings: &[(usize, usize)], last: usize) -> Diagnostic {
    let runaway = strings.iter().find(|(open, close)| {
        let body = &text[open + 1..*close];
        let before_close = body.chars().last().is_some_and(char::is_whitespace);
        let after_close = text[close + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        body.contains('\n') && (before_close || after_close)
    });
    let start = runaway.map_or(last, |(open, _)| *open);
    let mut d = Diagnostic::error("xos::parse::unterminated_string", "unterminated string")
        .label(Span::new(start, start + 1), "this string is never closed");
    if let Some((_, close)) = runaway {
        d = d.secondary(
            Span::new(*close, close + 1),
            "so this quote closes it instead",
        );
    }
    d.help("add the closing `\"` on the same line; strings may span lines, so a missing quote pairs up every quote after it")
}

/// What the user wrote at the error position, in words.
fn found_at(text: &str, pos: usize) -> (String, Span, Option<String>) {
    let rest = text.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        // Point at the last character, so the label has something to underline.
        let before = text[..pos.min(text.len())].trim_end();
        let last = before.chars().last().map_or(0, char::len_utf8);
        let at = before.len().saturating_sub(last);
        return ("end of file".to_string(), Span::new(at, before.len()), None);
    };
    if first.is_ascii_alphanumeric() || first == '_' {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        let word = &rest[..len];
        let is_word = first.is_ascii_alphabetic() || first == '_';
        return (
            format!("`{word}`"),
            Span::new(pos, pos + len),
            is_word.then(|| word.to_string()),
        );
    }
    if first == '"' {
        let len = rest[1..].find('"').map_or(rest.len(), |i| i + 2);
        return ("a string".to_string(), Span::new(pos, pos + len), None);
    }
    (
        format!("`{first}`"),
        Span::new(pos, pos + first.len_utf8()),
        None,
    )
}

fn syntax_error(text: &str, error: &pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let mut pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<Rule> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let mut tokens: Vec<String> = Vec::new();
    if let Some(attempts) = error.parse_attempts()
        && attempts.max_position >= pos
    {
        for token in attempts.expected_tokens() {
            let t = token.to_string();
            if matches!(t.as_str(), "{" | "}" | "(" | ")" | "=" | ",") {
                tokens.push(format!("`{t}`"));
            }
        }
        // Punctuation expected further on than any rule: that is the error.
        if attempts.max_position > pos && !tokens.is_empty() {
            pos = attempts.max_position;
            expected.clear();
        }
    }
    if expected.contains(&Rule::fact_path) {
        // Every operand was possible: one phrase says it.
        expected.retain(|r| {
            !matches!(
                r,
                Rule::literal
                    | Rule::quantity
                    | Rule::numeral
                    | Rule::number
                    | Rule::not_op
                    | Rule::neg_op
                    | Rule::paren
                    | Rule::quantified
            )
        });
    }
    while text[pos.min(text.len())..].starts_with(char::is_whitespace) {
        pos += text[pos..].chars().next().map_or(1, char::len_utf8);
    }
    let (found, found_span, word) = found_at(text, pos);
    let mut names: Vec<&'static str> = Vec::new();
    let mut keywords: Vec<&'static str> = Vec::new();
    for rule in &expected {
        let name = friendly_name(*rule);
        if !names.contains(&name) {
            names.push(name);
        }
        keywords.extend(rule_keywords(*rule));
    }
    if expected.contains(&Rule::role) && expected.contains(&Rule::kw_data) {
        // Every experiment item was possible: say so in one phrase.
        names = vec![
            "an experiment item (`primary`, `metric`, `guardrail`, `variants`, `data`, `rule`, ...)",
        ];
        keywords = EXPERIMENT_ITEMS.to_vec();
    }
    let mut all: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    for t in tokens {
        if !all.contains(&t) {
            all.push(t);
        }
    }
    if all.is_empty() {
        all.push("a condition such as `primary.better`".to_string());
    }
    let expected_text = match all.len() {
        1 => all[0].clone(),
        n => format!("{} or {}", all[..n - 1].join(", "), all[n - 1]),
    };
    let mut diagnostic = Diagnostic::error(
        "xos::parse::syntax",
        format!("expected {expected_text}, found {found}"),
    )
    .label(
        found_span,
        if found == "end of file" {
            "the file ends after this".to_string()
        } else if found == "a string" {
            "unexpected string".to_string()
        } else {
            format!("unexpected {found}")
        },
    );
    if let Some(word) = word {
        let first = word.split('.').next().unwrap_or(&word).to_string();
        if let Some(suggestion) = did_you_mean(&first, keywords.iter().copied())
            && suggestion != first
        {
            diagnostic = diagnostic.help(format!("did you mean `{suggestion}`?"));
        } else if keywords.contains(&first.as_str()) {
            diagnostic = diagnostic.help(format!("`{first}` cannot appear here"));
        }
    }
    if diagnostic.help.is_none() {
        let rest = text.get(pos..).unwrap_or("");
        let operator_help = if rest.starts_with("&&") || rest.starts_with('&') {
            Some("conditions are joined with `and`")
        } else if rest.starts_with("||") || rest.starts_with('|') {
            Some("conditions are joined with `or`")
        } else if rest.starts_with('=') && !rest.starts_with("==") {
            Some("compare with `==`; `=` only appears in a test's `given` list")
        } else if rest.starts_with('!') && !rest.starts_with("!=") {
            Some("negate a condition with `not`")
        } else {
            None
        };
        if let Some(help) = operator_help {
            diagnostic = diagnostic.help(help);
        }
    }
    let punctuation = ["`{`", "`}`", "`(`", "`)`", "`,`", "end of file"];
    if !punctuation.contains(&found.as_str()) && in_name_position(text, pos) {
        // `Variant A 50%`, `rate(paid users)`, `variant-b 50%`.
        diagnostic.help = Some(
            "a bare name holds letters, digits and `_` and starts with a letter or `_`; quote any \
             other label or column name: `\"Variant A\" 50%`, `rate(\"paid users\")`"
                .to_string(),
        );
    }
    if diagnostic.help.is_none() && text[pos.min(text.len())..].starts_with('#') {
        diagnostic = diagnostic.help("comments start with `//`, not `#`");
    }
    if diagnostic.help.is_none() && found != "end of file" && !keywords.is_empty() {
        match keywords.as_slice() {
            [only] => diagnostic = diagnostic.help(format!("write `{only}` here")),
            several if several.len() <= 4 => {
                diagnostic = diagnostic.help(format!("write one of {}", quoted_list(several)))
            }
            _ => {}
        }
    }
    if let Some((open, item)) = unclosed_brace(text, pos, &found, found_span) {
        return unclosed_brace_error(text, open, item.unwrap_or(found_span));
    }
    if diagnostic.help.is_none() && found == "end of file" {
        diagnostic = diagnostic.help("the file ends too early: a `}` may be missing");
    }
    diagnostic
}

/// The words that begin an item of an experiment.
const EXPERIMENT_ITEMS: &[&str] = &[
    "title",
    "owner",
    "hypothesis",
    "data",
    "variants",
    "primary",
    "metric",
    "guardrail",
    "plan",
    "settings",
    "sequential",
    "policy",
    "rule",
    "test",
];

/// Whether `word` begins an item of an experiment or a policy (or a file).
fn is_item_keyword(word: &str) -> bool {
    EXPERIMENT_ITEMS.contains(&word) || matches!(word, "otherwise" | "experiment")
}

/// Byte offsets of the `{` still open at `pos`, outermost first. Braces in
/// strings and `//` comments do not count.
fn open_braces(text: &str, pos: usize) -> Vec<usize> {
    let mut open = Vec::new();
    let mut chars = text[..pos.min(text.len())].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek().is_some_and(|(_, c)| *c == '/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '{' => open.push(i),
            '}' => {
                open.pop();
            }
            _ => {}
        }
    }
    open
}

/// Whether `pos` is where a variant label or a metric's column is written:
/// inside `variants { … }`, or inside the parentheses of `rate(`, `mean(`
/// or `ratio(` on the same line.
fn in_name_position(text: &str, pos: usize) -> bool {
    let pos = pos.min(text.len());
    if let Some(&open) = open_braces(text, pos).last()
        && first_word_of_line(text, open).0 == "variants"
    {
        return true;
    }
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..pos];
    ["rate(", "mean(", "ratio("].iter().any(|kind| {
        before
            .rfind(kind)
            .is_some_and(|at| !before[at..].contains(')'))
    })
}

/// The `{` a parse error at `pos` most likely stems from: the innermost
/// brace still open there, when the file ends inside it or when the error
/// is an item keyword at the start of its line inside a nested block (the
/// `}` before `primary` was forgotten). Braces in strings and `//` comments
/// do not count.
fn unclosed_brace(
    text: &str,
    pos: usize,
    found: &str,
    found_span: Span,
) -> Option<(usize, Option<Span>)> {
    let open = open_braces(text, pos);
    let innermost = *open.last()?;
    if found == "end of file" {
        return Some((innermost, None));
    }
    let (word, span) = first_word_of_line(text, found_span.start);
    (open.len() >= 2 && is_item_keyword(word)).then_some((innermost, Some(span)))
}

/// The first word of the line holding `at`, and its span.
fn first_word_of_line(text: &str, at: usize) -> (&str, Span) {
    let line_start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let word = line[indent..]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    let start = line_start + indent;
    (word, Span::new(start, start + word.len()))
}

/// The error for a block whose `}` is missing, located at its `{`;
/// `next` is the item that follows it, or the end of the file.
fn unclosed_brace_error(text: &str, open: usize, next: Span) -> Diagnostic {
    let (opener, _) = first_word_of_line(text, open);
    let block = if opener.is_empty() {
        "this block".to_string()
    } else {
        format!("`{opener}`")
    };
    let diagnostic = Diagnostic::error(
        "xos::parse::unclosed_brace",
        format!("the `{{` of {block} is never closed"),
    )
    .label(Span::new(open, open + 1), "this `{` has no matching `}`");
    match text.get(next.start..next.end) {
        Some(item) if is_item_keyword(item) => diagnostic
            .secondary(next, format!("`{item}` starts a new item here"))
            .help(format!("add the `}}` that closes {block} before `{item}`")),
        _ => diagnostic
            .secondary(next, "the file ends here")
            .help("add the `}` that closes it"),
    }
}

fn quoted_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// The keywords a rule starts with, for "did you mean" on a misspelled one.
fn rule_keywords(rule: Rule) -> &'static [&'static str] {
    match rule {
        Rule::header_field | Rule::header_key => &["title", "owner", "hypothesis"],
        Rule::data_decl | Rule::kw_data => &["data"],
        Rule::variants_decl | Rule::kw_variants => &["variants"],
        Rule::metric_decl | Rule::role => &["primary", "metric", "guardrail"],
        Rule::plan_decl | Rule::kw_plan => &["plan"],
        Rule::settings_decl | Rule::kw_settings => &["settings"],
        Rule::sequential_decl | Rule::kw_sequential => &["sequential"],
        Rule::policy_ref | Rule::kw_policy | Rule::policy_decl => &["policy"],
        Rule::rule_decl | Rule::kw_rule => &["rule"],
        Rule::test_decl | Rule::kw_test => &["test"],
        Rule::otherwise_decl | Rule::kw_otherwise => &["otherwise"],
        Rule::experiment | Rule::kw_experiment => &["experiment"],
        Rule::file => &["experiment", "policy"],
        Rule::metric_kind | Rule::kind_name => &["rate", "mean", "ratio"],
        Rule::verdict => &["launch", "hold", "rollback"],
        Rule::kw_when => &["when"],
        Rule::kw_then => &["then"],
        Rule::kw_because => &["because"],
        Rule::kw_given | Rule::given => &["given"],
        Rule::kw_expect | Rule::expect => &["expect"],
        Rule::kw_by => &["by"],
        Rule::and_op => &["and"],
        Rule::or_op => &["or"],
        Rule::not_op => &["not"],
        Rule::relative => &["relative"],
        Rule::quantified | Rule::quantifier => &["any", "all", "no"],
        _ => &[],
    }
}

/// What each grammar rule is called in messages. Exhaustive, so a new rule
/// cannot be added without a name a user understands.
fn friendly_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::WHITESPACE => "whitespace",
        Rule::COMMENT => "a comment",
        Rule::string => "a string such as `\"text\"`",
        Rule::numeral | Rule::quantity | Rule::number | Rule::literal => {
            "a number such as `5%` or `20_000`"
        }
        Rule::unit => "a unit (`%`, `pp` or `d`)",
        Rule::relative => "`relative`",
        Rule::minus => "`-`",
        Rule::ident => "a name",
        Rule::label => "a name (quoted when it is not an identifier: `\"Variant A\"`)",
        Rule::fact_path => "a condition such as `primary.better`",
        Rule::kw_experiment => "`experiment`",
        Rule::kw_policy => "`policy`",
        Rule::kw_data => "`data`",
        Rule::kw_variants => "`variants`",
        Rule::kw_plan => "`plan`",
        Rule::kw_settings => "`settings`",
        Rule::kw_sequential => "`sequential`",
        Rule::kw_rule => "`rule`",
        Rule::kw_when => "`when`",
        Rule::kw_then => "`then`",
        Rule::kw_because => "`because` and a reason",
        Rule::kw_otherwise => "`otherwise`",
        Rule::kw_test => "`test`",
        Rule::kw_given => "`given`",
        Rule::kw_expect => "`expect`",
        Rule::kw_by => "`by`",
        Rule::header_key | Rule::header_field => "a header field (`title`, `owner`, `hypothesis`)",
        Rule::role => "a metric role (`primary`, `metric` or `guardrail`)",
        Rule::kind_name | Rule::metric_kind => {
            "a metric kind such as `rate(...)`, `mean(...)` or `ratio(...)`"
        }
        Rule::verdict => "a verdict (`launch`, `hold` or `rollback`)",
        Rule::expr | Rule::paren | Rule::quantified | Rule::quantifier => {
            "a condition such as `primary.better`"
        }
        Rule::q_any | Rule::q_all | Rule::q_no => "a quantifier (`any`, `all` or `no`)",
        Rule::not_op => "`not`",
        Rule::neg_op => "`-`",
        Rule::and_op
        | Rule::or_op
        | Rule::le_op
        | Rule::ge_op
        | Rule::eq_op
        | Rule::ne_op
        | Rule::lt_op
        | Rule::gt_op
        | Rule::add_op
        | Rule::sub_op
        | Rule::mul_op
        | Rule::div_op => "an operator such as `and` or `<`",
        Rule::value | Rule::call => "a value such as `5%`, `\"text\"` or `holm`",
        Rule::option => "an option such as `baseline 12%`",
        Rule::option_block => "an option block `{ ... }`",
        Rule::data_decl => "`data`",
        Rule::variant => "a variant such as `control 50%`",
        Rule::variants_decl => "`variants`",
        Rule::metric_decl => "a metric (`primary`, `metric` or `guardrail`)",
        Rule::plan_decl => "`plan`",
        Rule::settings_decl => "`settings`",
        Rule::sequential_decl => "`sequential`",
        Rule::policy_ref => "`policy`",
        Rule::rule_decl => "a `rule`",
        Rule::otherwise_decl => "`otherwise`",
        Rule::given_fact => "a fact and its value such as `primary.better = true`",
        Rule::given => "`given`",
        Rule::expect => "`expect` and a verdict",
        Rule::test_decl => "a `test`",
        Rule::experiment => "`experiment NAME { ... }`",
        Rule::policy_decl => "`policy NAME { ... }`",
        Rule::file => "an experiment or a policy",
        Rule::value_text => "a value such as `5%` or `holm`",
        Rule::ident_char => "a letter, digit or `_`",
        Rule::string_char => "a character",
        Rule::prefix_op | Rule::term => "a condition such as `primary.better`",
        Rule::infix_op => "an operator such as `and` or `<`",
        Rule::experiment_item => "an experiment item",
        Rule::reserved => "a word of the rule syntax",
        Rule::policy_item => "a `rule`, `otherwise` or `test`",
    }
}

#[cfg(test)]
mod tests {
    use super::direction_control;

    /// The byte scan finds exactly the characters `text::is_direction_control`
    /// names, wherever they stand.
    #[test]
    fn the_direction_scan_matches_the_character_class() {
        for code in 0x2000..=0x2100u32 {
            let c = char::from_u32(code).unwrap();
            let text = format!("title \"a{c}b\"");
            assert_eq!(
                direction_control(&text).is_some(),
                crate::text::is_direction_control(c),
                "U+{code:04X}"
            );
        }
    }
}

//! Values in option blocks: numbers with their units, probabilities,
//! counts, words and text, effect sizes; each wrong one is a located
//! diagnostic.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Span, did_you_mean};
use crate::plan::Effect;
use crate::syntax::ast::{self, Unit};

use crate::numbers;

/// The options of a block, reporting (and skipping) repeated keys.
pub(super) fn options_once<'a>(
    block: &'a ast::OptionBlock,
    out: &mut Vec<Diagnostic>,
) -> Vec<&'a ast::KeyValue> {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut options = Vec::new();
    for kv in &block.options {
        if let Some(first) = seen.get(kv.key.name.as_str()) {
            out.push(duplicate("option", &kv.key.name, *first, kv.key.span));
            continue;
        }
        seen.insert(&kv.key.name, kv.key.span);
        options.push(kv);
    }
    options
}

pub(super) fn unknown_option(key: &ast::Ident, block: &str, known: &[&str]) -> Diagnostic {
    let mut d = Diagnostic::error(
        "xos::check::unknown_option",
        format!("unknown option `{}` in `{block}`", key.name),
    )
    .label(key.span, "not an option here");
    // A shortened option (`worse` for `worsened`) is as likely as a typo.
    let close = did_you_mean(&key.name, known.iter().copied()).or_else(|| {
        known
            .iter()
            .copied()
            .find(|k| key.name.len() >= 3 && k.starts_with(key.name.as_str()))
    });
    d = match close {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!("`{block}` knows {}", list(known))),
    };
    d
}

pub(super) fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{s}`")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

pub(super) fn text_value(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<String> {
    match &kv.value {
        ast::Value::String(s) => Some(s.value.clone()),
        ast::Value::Word(w) => Some(w.name.clone()),
        other => {
            out.push(wrong_value(
                kv,
                other.span(),
                "a column name such as `\"arm\"`",
            ));
            None
        }
    }
}

/// A quoted label or column name (`" control"`) that begins or ends with
/// whitespace. Both readers trim every label and column name of the data
/// (inside quotes too), so such a name could never match the file: it is
/// refused where it is written rather than reported row by row as an
/// unknown variant whose "did you mean" is itself.
///
/// Only the characters both readers trim count (space, tab, CR, LF): a
/// label ending in a no-break space is matched as written by the
/// row-level reader, and was accepted before this check.
pub(super) fn padded_name(what: &str, name: &str, span: Span) -> Option<Diagnostic> {
    let trimmed = name.trim_matches([' ', '\t', '\r', '\n']);
    if trimmed == name || trimmed.is_empty() {
        return None;
    }
    Some(
        Diagnostic::error(
            "xos::check::padded_name",
            format!("the {what} `{name}` begins or ends with whitespace"),
        )
        .label(span, "spaces around a name are not part of it")
        .help(format!(
            "write `\"{trimmed}\"`: the data's labels and column names are read without the \
             spaces around them (quoted or not), so this name would never match the file"
        )),
    )
}

pub(super) fn word_value<'a>(
    kv: &ast::KeyValue,
    choices: &[&'a str],
    out: &mut Vec<Diagnostic>,
) -> Option<&'a str> {
    let ast::Value::Word(word) = &kv.value else {
        out.push(wrong_value(
            kv,
            kv.value.span(),
            &format!("one of {}", list(choices)),
        ));
        return None;
    };
    if let Some(choice) = choices.iter().find(|c| **c == word.name) {
        return Some(choice);
    }
    let mut d = Diagnostic::error(
        "xos::check::unknown_choice",
        format!("`{}` is not a valid `{}`", word.name, kv.key.name),
    )
    .label(word.span, format!("expected one of {}", list(choices)));
    if let Some(s) = did_you_mean(&word.name, choices.iter().copied()) {
        d = d.help(format!("did you mean `{s}`?"));
    } else {
        d = d.help(format!("`{}` is one of {}", kv.key.name, list(choices)));
    }
    out.push(d);
    None
}

fn wrong_value(kv: &ast::KeyValue, span: Span, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "xos::check::wrong_value",
        format!("`{}` needs {expected}", kv.key.name),
    )
    .label(span, "not accepted here")
    .help(format!("write `{} <value>` with {expected}", kv.key.name))
}

pub(super) fn number_value<'a>(
    kv: &'a ast::KeyValue,
    out: &mut Vec<Diagnostic>,
) -> Option<&'a ast::Number> {
    match &kv.value {
        // Shown as a percentage (×100) or scaled by a control's value, a
        // number this large overflows to infinity (`≥ inf% relative`).
        ast::Value::Number(n) if !(n.value * 100.0).is_finite() => {
            out.push(
                Diagnostic::error(
                    "xos::check::out_of_range",
                    format!("`{}` is too large", kv.key.name),
                )
                .label(n.span, "overflows to infinity once converted")
                .help("numbers in a spec are below 1e306"),
            );
            None
        }
        ast::Value::Number(n) => Some(n),
        other => {
            out.push(wrong_value(kv, other.span(), "a number"));
            None
        }
    }
}

/// Accepts the number when it is written with one of `units` and is not
/// `relative`; returns its value.
pub(super) fn unit_in(
    kv: &ast::KeyValue,
    n: &ast::Number,
    units: &[Unit],
    expected: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<f64> {
    if !n.relative && units.contains(&n.unit) {
        return Some(n.value);
    }
    let written = if n.relative {
        "a relative effect".to_string()
    } else {
        unit_words(n.unit).to_string()
    };
    out.push(
        Diagnostic::error(
            "xos::check::unit_mismatch",
            format!("`{}` needs {expected}, not {written}", kv.key.name),
        )
        .label(n.span, format!("{written} is not accepted here"))
        .help(format!("write `{}` with {expected}", kv.key.name)),
    );
    None
}

pub(super) fn unit_words(unit: Unit) -> &'static str {
    match unit {
        Unit::None => "a plain number",
        Unit::Percent => "a percentage",
        Unit::Pp => "percentage points",
        Unit::Days => "days",
    }
}

pub(super) fn in_range(
    kv: &ast::KeyValue,
    n: &ast::Number,
    ok: bool,
    expected: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<f64> {
    if ok {
        return Some(n.value);
    }
    out.push(
        Diagnostic::error(
            "xos::check::out_of_range",
            format!("`{}` is out of range", kv.key.name),
        )
        .label(n.span, format!("expected {expected}"))
        .help(format!("`{}` must be {expected}", kv.key.name)),
    );
    None
}

/// An effect size: absolute (`0.1pp` or a plain number for a rate; a plain
/// number for a mean) or relative (`5% relative`); always above 0.
pub(super) fn effect_value(
    kv: &ast::KeyValue,
    kind: ast::KindName,
    out: &mut Vec<Diagnostic>,
) -> Option<Effect> {
    let is_rate = kind == ast::KindName::Rate;
    let n = number_value(kv, out)?;
    let effect = if n.relative {
        if !matches!(n.unit, Unit::Percent | Unit::None) {
            out.push(
                Diagnostic::error(
                    "xos::check::unit_mismatch",
                    format!("a relative `{}` must be a percentage", kv.key.name),
                )
                .label(n.span, format!("{} cannot be relative", unit_words(n.unit)))
                .help(format!(
                    "write the relative change as a percentage: `{} {}% relative`",
                    kv.key.name,
                    n.digits()
                )),
            );
            return None;
        }
        Effect::Relative(n.value)
    } else {
        match (n.unit, is_rate) {
            (Unit::Pp | Unit::None, true) | (Unit::None, false) => Effect::Absolute(n.value),
            (Unit::Percent, true) => {
                out.push(
                    Diagnostic::error(
                        "xos::check::ambiguous_percent",
                        format!("`{}` of a rate cannot be a bare percentage", kv.key.name),
                    )
                    .label(n.span, "absolute or relative?")
                    .help(format!(
                        "write `{}` for an absolute difference of rates, or `{} relative` for a relative one",
                        n.span_text_pp(),
                        n.span_text_percent()
                    )),
                );
                return None;
            }
            (unit, _) => {
                out.push(
                    Diagnostic::error(
                        "xos::check::unit_mismatch",
                        format!(
                            "`{}` of a {} metric cannot be in {}",
                            kv.key.name,
                            kind.keyword(),
                            unit_words(unit)
                        ),
                    )
                    .label(n.span, "unit not accepted here")
                    .help({
                        let digits = n.digits();
                        let key = &kv.key.name;
                        if is_rate {
                            format!("write `{key} {digits}pp` (absolute) or `{key} {digits}% relative`")
                        } else {
                            format!(
                                "write an absolute difference in the metric's units (`{key} {digits}`) or `{key} {digits}% relative`"
                            )
                        }
                    }),
                );
                return None;
            }
        }
    };
    let value = match effect {
        Effect::Absolute(v) | Effect::Relative(v) => v,
    };
    if value <= 0.0 {
        out.push(
            Diagnostic::error(
                "xos::check::out_of_range",
                format!("`{}` must be above 0", kv.key.name),
            )
            .label(n.span, "not a positive effect")
            .help("effects are sizes: the direction comes from the metric's `prefer`"),
        );
        return None;
    }
    Some(effect)
}

impl ast::Number {
    /// `1%` rewritten as `1pp`, for help text.
    fn span_text_pp(&self) -> String {
        format!("{}pp", numbers::written(self.value * 100.0))
    }

    fn span_text_percent(&self) -> String {
        format!("{}%", numbers::written(self.value * 100.0))
    }

    /// The number as written, without its unit (`0.1pp` → `0.1`, `14d` → `14`).
    fn digits(&self) -> String {
        match self.unit {
            Unit::Pp | Unit::Percent => numbers::written(self.value * 100.0),
            _ => numbers::written(self.value),
        }
    }
}

/// A probability strictly between 0 and 1 (a threshold on p-values or shares).
pub(super) fn open_unit(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<f64> {
    let v = probability(kv, out)?;
    check_range(
        kv,
        v,
        v > 0.0 && v < 1.0,
        "between 0 and 1 (exclusive)",
        out,
    )
}

/// A probability: a plain number or a percentage.
pub(super) fn probability(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<f64> {
    let n = number_value(kv, out)?;
    if !n.relative && matches!(n.unit, Unit::None | Unit::Percent) {
        return Some(n.value);
    }
    let what = if n.relative {
        "a relative effect".to_string()
    } else {
        unit_words(n.unit).to_string()
    };
    let mut d = Diagnostic::error(
        "xos::check::unit_mismatch",
        format!("`{}` is a probability, not {what}", kv.key.name),
    )
    .label(n.span, format!("{what} cannot be a probability"));
    d = if n.unit == Unit::Pp {
        d.help(format!(
            "percentage points are differences of rates; write `{} {}%` or `{} {}`",
            kv.key.name,
            numbers::written(n.value * 100.0),
            kv.key.name,
            numbers::written(n.value)
        ))
    } else {
        d.help(format!(
            "write `{} 5%` or `{} 0.05`",
            kv.key.name, kv.key.name
        ))
    };
    out.push(d);
    None
}

pub(super) fn check_range(
    kv: &ast::KeyValue,
    v: f64,
    ok: bool,
    expected: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<f64> {
    if ok {
        return Some(v);
    }
    out.push(
        Diagnostic::error(
            "xos::check::out_of_range",
            format!("`{}` is out of range", kv.key.name),
        )
        .label(kv.value.span(), format!("must be {expected}"))
        .help(format!("`{}` must be {expected}", kv.key.name)),
    );
    None
}

pub(super) fn count(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>, min: u64) -> Option<u64> {
    let n = number_value(kv, out)?;
    unit_in(kv, n, &[Unit::None], "a whole number", out)?;
    if n.value.fract() != 0.0 || n.value < min as f64 || n.value > 9.0e15 {
        out.push(
            Diagnostic::error(
                "xos::check::out_of_range",
                format!("`{}` must be a whole number of at least {min}", kv.key.name),
            )
            .label(n.span, "not accepted here")
            .help(format!("write e.g. `{} 100`", kv.key.name)),
        );
        return None;
    }
    Some(n.value as u64)
}

pub(super) fn beta_prior(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<(f64, f64)> {
    let bad = |out: &mut Vec<Diagnostic>, span: Span| {
        out.push(
            Diagnostic::error(
                "xos::check::wrong_value",
                "`prior` needs `beta(a, b)` with a, b above 0",
            )
            .label(span, "not a Beta prior")
            .help("write e.g. `prior beta(1, 1)` (uniform)"),
        );
        None
    };
    let ast::Value::Call(call) = &kv.value else {
        return bad(out, kv.value.span());
    };
    if call.name.name != "beta" || call.args.len() != 2 {
        return bad(out, call.span);
    }
    let mut params = [0.0; 2];
    for (slot, arg) in params.iter_mut().zip(&call.args) {
        match arg {
            ast::Value::Number(n) if n.unit == Unit::None && !n.relative && n.value > 0.0 => {
                *slot = n.value
            }
            other => return bad(out, other.span()),
        }
    }
    Some((params[0], params[1]))
}

/// Records a one-of-a-kind item; a second one is a duplicate.
pub(super) fn once(
    seen: &mut HashMap<&'static str, Span>,
    what: &'static str,
    span: Span,
    out: &mut Vec<Diagnostic>,
) -> bool {
    if let Some(first) = seen.get(what) {
        out.push(
            Diagnostic::error(
                "xos::check::duplicate_item",
                format!("`{what}` is given twice"),
            )
            .label(span, "given again here")
            .secondary(*first, "first given here")
            .help(format!(
                "an experiment has at most one `{what}`; merge the two"
            )),
        );
        return false;
    }
    seen.insert(what, span);
    true
}

pub(super) fn duplicate(what: &str, name: &str, first: Span, second: Span) -> Diagnostic {
    let verb = if what == "fact" { "given" } else { "defined" };
    Diagnostic::error(
        match what {
            "metric" => "xos::check::duplicate_metric",
            "variant" => "xos::check::duplicate_variant",
            "rule" => "xos::check::duplicate_rule",
            "test" => "xos::check::duplicate_test",
            "option" => "xos::check::duplicate_option",
            "fact" => "xos::check::duplicate_fact",
            _ => "xos::check::duplicate_field",
        },
        format!("{what} `{name}` is {verb} twice"),
    )
    .label(second, format!("{verb} again here"))
    .secondary(first, format!("first {verb} here"))
    .help(format!(
        "rename or remove one of the two: {what} names must be unique"
    ))
}

/// Joins the lines of a string that spans lines: the newline and the
/// indentation around it become one space.
pub(super) fn join_lines(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len().saturating_sub(1);
    let parts: Vec<&str> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let line = if i > 0 { line.trim_start() } else { line };
            if i < last { line.trim_end() } else { line }
        })
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::testing::{block, codes, option};
    use super::*;

    #[test]
    fn probabilities_are_plain_or_percent() {
        let mut out = Vec::new();
        assert_eq!(probability(&option("alpha", "5%"), &mut out), Some(0.05));
        assert_eq!(probability(&option("alpha", "0.01"), &mut out), Some(0.01));
        assert!(out.is_empty());
        assert_eq!(probability(&option("alpha", "1pp"), &mut out), None);
        assert_eq!(codes(&out), ["xos::check::unit_mismatch"]);
        assert!(out[0].help.as_deref().unwrap().contains("alpha 1%"));
    }

    #[test]
    fn counts_are_whole_and_at_least_the_minimum() {
        let mut out = Vec::new();
        assert_eq!(count(&option("draws", "100"), &mut out, 1), Some(100));
        assert_eq!(count(&option("draws", "0"), &mut out, 1), None);
        assert_eq!(count(&option("draws", "2.5"), &mut out, 1), None);
        assert_eq!(
            codes(&out),
            ["xos::check::out_of_range", "xos::check::out_of_range"]
        );
    }

    #[test]
    fn words_come_from_the_choices_with_a_suggestion() {
        let mut out = Vec::new();
        let choices = ["holm", "bonferroni"];
        assert_eq!(
            word_value(&option("correction", "holm"), &choices, &mut out),
            Some("holm")
        );
        assert_eq!(
            word_value(&option("correction", "hol"), &choices, &mut out),
            None
        );
        assert_eq!(codes(&out), ["xos::check::unknown_choice"]);
        assert_eq!(out[0].help.as_deref(), Some("did you mean `holm`?"));
    }

    #[test]
    fn effects_are_absolute_or_relative() {
        let mut out = Vec::new();
        let pp = effect_value(&option("mde", "1pp"), ast::KindName::Rate, &mut out);
        assert!(matches!(pp, Some(Effect::Absolute(x)) if (x - 0.01).abs() < 1e-12));
        let relative = effect_value(&option("mde", "5% relative"), ast::KindName::Rate, &mut out);
        assert!(matches!(relative, Some(Effect::Relative(x)) if (x - 0.05).abs() < 1e-12));
        assert!(out.is_empty(), "{:?}", codes(&out));
    }

    #[test]
    fn repeated_options_are_reported_once_and_skipped() {
        let mut out = Vec::new();
        let options = block(&[("alpha", "5%"), ("alpha", "1%")]);
        let kept = options_once(&options, &mut out);
        assert_eq!(kept.len(), 1);
        assert_eq!(codes(&out), ["xos::check::duplicate_option"]);
    }

    #[test]
    fn lists_and_joined_lines_read_as_prose() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` and `c`");
        assert_eq!(join_lines("one\n    two  \n  three"), "one two three");
    }
}

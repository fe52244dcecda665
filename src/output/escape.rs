//! User text made inert in a Markdown memo: the spec's title, owner,
//! hypothesis and `because` reasons, variant labels (a quoted label is any
//! text: `"Variant A"`, `"<script>"`), health messages that quote them, the
//! policy's file name and the data's path and column names go into the memo
//! as text, never as Markdown or HTML. (HTML memos are escaped by tera's autoescape; JSON by serde.)
//!
//! [`markdown_safe`] rewrites a copy of the report before the Markdown
//! template sees it, so templates (built-in or the user's) need no filter:
//! line breaks become spaces (no injected `# LAUNCH` heading, no broken
//! table row), `|` is escaped (table cells keep their columns), `<` and `>`
//! become entities (no `<script>`, no `<img onerror>`, no `<javascript:…>`
//! autolink), and `[` `]` are escaped (no `[x](javascript:…)` link). The
//! title, owner and hypothesis also escape emphasis and code marks
//! ([`markdown_plain`]); a variant label's backtick shows as `ʼ` (U+02BC),
//! since the memo prints labels inside code spans, where no escape works.
//! Policy reasons keep their code spans: a policy author writes them.

use super::report::Report;

/// `text` as literal Markdown text: see the module documentation. CommonMark
/// renders `\|`, `\[`, `\]` and `&lt;` as the characters themselves.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '|' => out.push_str("\\|"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// `text` with Markdown's emphasis and code marks escaped: `\\`, `*`, `_`,
/// `` ` `` and `~` (CommonMark renders each escaped one as itself).
pub fn markdown_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '~') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A copy of `report` with its user-written text fields through
/// [`markdown_text`]: title, owner, hypothesis, every reason, the policy
/// source, the data path and the column names.
pub fn markdown_safe(report: &Report) -> Report {
    let mut r = report.clone();
    let fix = |s: &mut String| *s = markdown_text(s);
    // Title, owner and hypothesis are labels, not Markdown: their emphasis
    // and code marks are escaped too (an owner `o - **Health:** ok` showed
    // a bold "Health: ok" line in the memo's header).
    for text in [&mut r.title, &mut r.owner, &mut r.hypothesis]
        .into_iter()
        .flatten()
    {
        *text = markdown_text(&markdown_plain(text));
    }
    fix(&mut r.decision.reason);
    for arm in &mut r.decision.arms {
        fix(&mut arm.reason);
    }
    // Variant labels may be any quoted text (`"Variant A"`, `"<script>"`):
    // every place that holds one is rewritten alike, so the memo's
    // comparisons of names (the arm that decided) still match.
    for name in r
        .decision
        .arm
        .iter_mut()
        .chain(&mut r.decision.rolled_back)
        .chain(r.decision.arms.iter_mut().map(|a| &mut a.variant))
        .chain(r.settings.split.iter_mut().map(|s| &mut s.variant))
        .chain(
            r.sample
                .per_variant
                .iter_mut()
                .flatten()
                .map(|v| &mut v.variant),
        )
    {
        fix(name);
        // The memo prints a label inside a code span, which a backtick of
        // its own would close (`x`y` showed `x` and a stray "y`").
        *name = name.replace('`', "ʼ");
    }
    for issue in &mut r.health.issues {
        fix(&mut issue.message);
    }
    fix(&mut r.policy.source);
    fix(&mut r.settings.data);
    fix(&mut r.settings.variant_column);
    fix(&mut r.settings.units_column);
    if let Some(rows) = &mut r.settings.rows {
        for column in rows
            .unit_id
            .iter_mut()
            .chain(rows.missing_zeroed.iter_mut().map(|z| &mut z.column))
        {
            fix(column);
        }
    }
    for metric in &mut r.metrics {
        for variant in &mut metric.variants {
            fix(&mut variant.name);
        }
        for comparison in &mut metric.comparisons {
            fix(&mut comparison.variant);
        }
        fix(&mut metric.column);
        for column in [&mut metric.denominator, &mut metric.covariate]
            .into_iter()
            .flatten()
        {
            fix(column);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_html_are_neutralised() {
        assert_eq!(
            markdown_text("a|b\n# LAUNCH <script>x</script> [x](javascript:alert(1))"),
            "a\\|b # LAUNCH &lt;script&gt;x&lt;/script&gt; \\[x\\](javascript:alert(1))"
        );
        assert_eq!(markdown_text("One-page checkout"), "One-page checkout");
    }
}

//! A spec inferred from the columns of an aggregated CSV: how a user of the
//! old web app, who uploads a CSV and no spec, gets a `.xos` file to commit.
//!
//! The rules (`compat-api.md` §10, A6): `conversions` is the primary rate;
//! each `X_sum` + `X_sum_sq` pair is a mean metric `X`; each `guardrail_*`
//! column is a guardrail rate (lower is better, worsened at 0.1 pp, severe at
//! 0.3 pp); every other column of non-negative integers never above the
//! row's users is a guardrail too, and said so in the notes; every column
//! that fits no rule is listed as ignored. The split is equal, the control is
//! the row labelled `control` (else the first row), the policy the built-in
//! default. Nothing is inferred silently: each choice is a note, and the
//! notes are comments in the spec text.

use std::collections::BTreeSet;

use super::{MAX_COMPARISONS, MAX_VARIANTS};

/// The spec text and what was inferred or ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct Inferred {
    /// The `.xos` text, ready to save and commit.
    pub text: String,
    /// One sentence per inference a reader should confirm.
    pub notes: Vec<String>,
    /// Guardrail columns, in column order.
    pub guardrails: Vec<String>,
    /// Mean metrics (`X` of `X_sum`), in column order.
    pub means: Vec<String>,
    /// The variant labels as the spec names them, control first.
    pub variants: Vec<String>,
}

/// How to infer.
#[derive(Clone, Debug, Default)]
pub struct InferOptions {
    /// Trim and lower-case the labels (the compatible API does this before
    /// anything else; the CSV it evaluates is rewritten to match).
    pub lowercase_labels: bool,
    /// Guardrails named by the caller (`?guardrails=a,b`) instead of the
    /// inferred ones.
    pub guardrails: Option<Vec<String>>,
}

/// Why no spec can be inferred: a message for the user.
#[derive(Clone, Debug, PartialEq)]
pub struct NoSpec(pub String);

/// Infers a spec for the aggregated CSV `text`, named after `file_name`.
/// Every cell is trimmed.
pub fn infer(text: &str, file_name: &str, options: &InferOptions) -> Result<Inferred, NoSpec> {
    let trimmed = |record: csv::StringRecord| -> Vec<String> {
        record.iter().map(|cell| cell.trim().to_string()).collect()
    };
    let mut records = crate::data::records::records(text, b',');
    let header = records
        .next()
        .map(trimmed)
        .ok_or_else(|| NoSpec("the CSV has no header".to_string()))?;
    let rows: Vec<Vec<String>> = records.map(trimmed).collect();
    infer_table(&header, &rows, file_name, options)
}

/// [`infer`] for a CSV already read into its `header` and `rows` of trimmed
/// cells: the compatible API reads each upload once (a CSV reader costs about
/// 10 µs to set up, a tenth of an `/api/analyze` request).
pub fn infer_table(
    header: &[String],
    rows: &[Vec<String>],
    file_name: &str,
    options: &InferOptions,
) -> Result<Inferred, NoSpec> {
    let column = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let variant_col = column("variant").ok_or_else(|| {
        NoSpec("the CSV has no `variant` column: one row per variant is expected".into())
    })?;
    let users_col = column("users")
        .ok_or_else(|| NoSpec("the CSV has no `users` column: the units of each variant".into()))?;
    if rows.is_empty() {
        return Err(NoSpec("the CSV has a header but no rows".into()));
    }

    let mut labels: Vec<String> = Vec::new();
    for row in rows {
        let raw = row.get(variant_col).map_or("", String::as_str).trim();
        let label = if options.lowercase_labels {
            raw.to_lowercase()
        } else {
            raw.to_string()
        };
        if !label.is_empty() && !labels.contains(&label) {
            labels.push(label);
        }
    }
    if labels.len() < 2 {
        return Err(NoSpec(
            "the CSV names fewer than two variants: an experiment compares a control with at least one treatment".into(),
        ));
    }
    if labels.len() > MAX_VARIANTS {
        return Err(NoSpec(format!(
            "the CSV names {} variants, more than xos serve evaluates in one request ({MAX_VARIANTS}); \
             evaluate it with `xos run` on the command line",
            labels.len()
        )));
    }
    if let Some(at) = labels
        .iter()
        .position(|l| l.eq_ignore_ascii_case("control"))
    {
        let control = labels.remove(at);
        labels.insert(0, control);
    }

    let users: Vec<Option<f64>> = rows
        .iter()
        .map(|r| r.get(users_col).and_then(|v| v.parse::<f64>().ok()))
        .collect();
    let mut notes = Vec::new();
    let mut used: BTreeSet<usize> = [variant_col, users_col].into_iter().collect();
    let conversions = column("conversions");
    let mut means = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if let Some(stem) = name.strip_suffix("_sum")
            && let Some(j) = column(&format!("{stem}_sum_sq"))
        {
            means.push(stem.to_string());
            used.insert(i);
            used.insert(j);
        }
    }
    if let Some(c) = conversions {
        used.insert(c);
    }
    let mut guardrails: Vec<String> = Vec::new();
    match &options.guardrails {
        Some(named) => {
            for name in named {
                if let Some(i) = column(name) {
                    used.insert(i);
                }
                guardrails.push(name.clone());
            }
        }
        None => {
            for (i, name) in header.iter().enumerate() {
                if used.contains(&i) {
                    continue;
                }
                let counts = rows.iter().zip(&users).all(|(row, units)| {
                    let value = row.get(i).map_or("", String::as_str);
                    match (value.parse::<u64>(), units) {
                        (Ok(count), Some(units)) => (count as f64) <= *units,
                        _ => false,
                    }
                });
                if name.to_ascii_lowercase().starts_with("guardrail_") {
                    guardrails.push(name.clone());
                    used.insert(i);
                } else if counts {
                    notes.push(format!(
                        "`{name}` treated as a guardrail (lower is better); declare it in a spec to be sure"
                    ));
                    guardrails.push(name.clone());
                    used.insert(i);
                }
            }
        }
    }
    for (i, name) in header.iter().enumerate() {
        if !used.contains(&i) {
            notes.push(format!(
                "`{name}` ignored: it is neither a count (`conversions`, `guardrail_*`, integers up to the users) nor a `_sum`/`_sum_sq` pair"
            ));
        }
    }

    // The primary: `conversions`, else the first mean metric.
    let primary = match (conversions, means.first()) {
        (Some(c), _) => format!("primary conversion = rate({})", name_text(&header[c])),
        (None, Some(first)) => {
            notes.push(format!(
                "no `conversions` column: the mean of `{first}` is the primary metric"
            ));
            format!(
                "primary {} = mean({})",
                metric_name(first),
                name_text(first)
            )
        }
        (None, None) => {
            return Err(NoSpec(
                "the CSV has no `conversions` column and no `X_sum`/`X_sum_sq` pair: there is no primary metric to infer".into(),
            ));
        }
    };
    let primary_mean = conversions.is_none().then(|| means[0].clone());
    let metrics = 1 + means.len() - usize::from(primary_mean.is_some()) + guardrails.len();
    let comparisons = (labels.len() - 1) * metrics;
    if comparisons > MAX_COMPARISONS {
        return Err(NoSpec(format!(
            "the CSV's {} treatment arms × {metrics} metrics are {comparisons} comparisons, more \
             than xos serve evaluates in one request ({MAX_COMPARISONS}); send a spec with fewer \
             metrics (the compatible API also takes `?guardrails=a,b`), or evaluate it with \
             `xos run` on the command line",
            labels.len() - 1
        )));
    }

    let name = experiment_name(file_name);
    let share = format!("{}%", equal_share(labels.len()));
    let mut text = String::new();
    text.push_str(&format!(
        "// Inferred by xos from the columns of `{}`: review it, then commit it next to the data.\n",
        file_name.replace('\n', " ")
    ));
    for note in &notes {
        text.push_str(&format!("// {note}.\n"));
    }
    text.push_str(&format!("experiment {name} {{\n"));
    text.push_str(&format!("    data {}\n\n", quote(file_name)));
    text.push_str("    variants {\n");
    for label in &labels {
        text.push_str(&format!("        {} {share}\n", name_text(label)));
    }
    text.push_str("    }\n\n");
    text.push_str(&format!("    {primary}\n"));
    for stem in &means {
        if primary_mean.as_deref() == Some(stem.as_str()) {
            continue;
        }
        text.push_str(&format!(
            "    metric {} = mean({})\n",
            metric_name(stem),
            name_text(stem)
        ));
    }
    for guardrail in &guardrails {
        text.push_str(&format!(
            "    guardrail {} = rate({}) {{ worsened 0.1pp severe 0.3pp }}\n",
            metric_name(guardrail),
            name_text(guardrail)
        ));
    }
    text.push_str("\n    settings { alpha 5% }\n}\n");
    Ok(Inferred {
        text,
        notes,
        guardrails,
        means,
        variants: labels,
    })
}

/// `snake_case`, the form of every name in a spec.
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A label or column as the spec writes it: bare when it is an identifier,
/// else quoted.
fn name_text(name: &str) -> String {
    if is_identifier(name) {
        name.to_string()
    } else {
        quote(name)
    }
}

/// A string literal.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A metric name from a column: lower-case letters, digits and `_`.
fn metric_name(column: &str) -> String {
    let mut name: String = column
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, 'm');
        name.insert(1, '_');
    }
    name
}

/// The experiment's name from the file's: `two_arm.csv` → `two_arm`.
pub fn experiment_name(file_name: &str) -> String {
    let stem = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .trim_end_matches(".gz")
        .trim_end_matches(".csv")
        .trim_end_matches(".CSV");
    let name = metric_name(stem);
    if name.trim_matches('_').is_empty() {
        "uploaded_experiment".to_string()
    } else {
        name
    }
}

/// The share of each of `n` variants in an equal split, in percent as the
/// spec writes it: `100 / n` with the fewest decimals whose `n`-fold sum is
/// within 0.1 percentage point of 100 % (`50`, `33.3`, `7.14`). The checker
/// accepts shares summing to 100 % within 0.5 point and normalises them by
/// their sum, so `n` equal shares are an exact equal split whatever their
/// rounding.
fn equal_share(n: usize) -> String {
    let exact = 100.0 / n as f64;
    (0..=12)
        .map(|decimals| format!("{exact:.decimals$}"))
        .find(|text| {
            let share: f64 = text.parse().unwrap_or(f64::NAN);
            (share * n as f64 - 100.0).abs() <= 0.1 + 1e-9
        })
        // 12 decimals leave an error of n · 5e-13: never reached.
        .unwrap_or_else(|| format!("{exact}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_ARM: &str = "variant,users,conversions,guardrail_cancel,revenue_sum,revenue_sum_sq\n\
        control,10000,1200,120,250000,15000000\n\
        treatment,10050,1320,118,280000,17500000\n";

    #[test]
    fn the_two_arm_example() {
        let inferred = infer(TWO_ARM, "two_arm.csv", &InferOptions::default()).unwrap();
        assert_eq!(
            inferred.text,
            "// Inferred by xos from the columns of `two_arm.csv`: review it, then commit it next to the data.\n\
             experiment two_arm {\n    data \"two_arm.csv\"\n\n    variants {\n        control 50%\n        treatment 50%\n    }\n\n\
             \x20   primary conversion = rate(conversions)\n    metric revenue = mean(revenue)\n\
             \x20   guardrail guardrail_cancel = rate(guardrail_cancel) { worsened 0.1pp severe 0.3pp }\n\n\
             \x20   settings { alpha 5% }\n}\n"
        );
        assert!(inferred.notes.is_empty());
    }

    #[test]
    fn other_counts_are_guardrails_and_the_rest_is_ignored_out_loud() {
        let csv = "Variant,users,conversions,error_count,region,big\n\
                   treatment,100,10,3,eu,500\n control ,100,12,4,us,700\n";
        let inferred = infer(csv, "x.csv", &InferOptions::default()).unwrap();
        assert_eq!(inferred.variants, ["control", "treatment"]);
        assert_eq!(inferred.guardrails, ["error_count"]);
        assert_eq!(inferred.notes.len(), 3, "{:?}", inferred.notes);
        assert!(inferred.notes[0].contains("`error_count` treated as a guardrail"));
        assert!(inferred.notes[1].contains("`region` ignored"));
        assert!(inferred.notes[2].contains("`big` ignored"));
        assert!(inferred.text.contains("// `region` ignored"));
    }

    #[test]
    fn three_arms_split_equally_and_odd_labels_are_quoted() {
        let csv = "variant,users,conversions\nControl,10,1\nVariant A,10,2\nb,10,3\n";
        let inferred = infer(csv, "../up load.csv", &InferOptions::default()).unwrap();
        assert!(inferred.text.contains("experiment up_load {"));
        assert!(
            inferred
                .text
                .contains("        Control 33.3%\n        \"Variant A\" 33.3%\n        b 33.3%\n")
        );
        let lower = InferOptions {
            lowercase_labels: true,
            guardrails: None,
        };
        assert_eq!(
            infer(csv, "x.csv", &lower).unwrap().variants,
            ["control", "variant a", "b"]
        );
    }

    #[test]
    fn equal_shares_sum_to_100_percent_at_every_size() {
        assert_eq!(equal_share(2), "50");
        assert_eq!(equal_share(3), "33.3");
        assert_eq!(equal_share(14), "7.14");
        for n in 2..=1000 {
            let share: f64 = equal_share(n).parse().unwrap();
            assert!((share * n as f64 - 100.0).abs() <= 0.1 + 1e-9, "{n}");
        }
    }

    #[test]
    fn no_primary_is_an_explained_refusal() {
        let csv = "variant,users,clicks_total\ncontrol,10,x\ntreatment,10,y\n";
        let err = infer(csv, "x.csv", &InferOptions::default()).unwrap_err();
        assert!(err.0.contains("no `conversions` column"), "{}", err.0);
        assert!(infer("users\n1\n", "x.csv", &InferOptions::default()).is_err());
    }
}

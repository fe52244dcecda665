//! `xos explain`: the compiled plan, for review.
//!
//! Everything the checker resolved, in words: the variants and their split,
//! each metric with the CSV columns it reads, its direction and thresholds,
//! the settings in force (defaults included), and the ordered decision table
//! — inline rules, then the policy's rules, then `otherwise`.

use std::fmt::Write as _;

use crate::numbers;
use crate::text::shown_path;

use crate::plan::{
    Correction, Direction, Effect, Metric, MetricKind, Missing, Plan, PolicyOrigin, Reason,
    ReasonPart, Role, RuleSource, Settings, Shape, aggregated_columns,
};

/// The plan as text.
pub fn explain(plan: &Plan) -> String {
    let mut out = String::new();
    // INVARIANT: writing to a String cannot fail.
    let _ = write_plan(&mut out, plan);
    out
}

fn write_plan(out: &mut String, plan: &Plan) -> std::fmt::Result {
    match &plan.title {
        Some(title) => writeln!(out, "experiment {} — {title}", plan.name)?,
        None => writeln!(out, "experiment {}", plan.name)?,
    }
    if let Some(owner) = &plan.owner {
        writeln!(out, "owner       {owner}")?;
    }
    if let Some(hypothesis) = &plan.hypothesis {
        writeln!(out, "hypothesis  {hypothesis}")?;
    }
    writeln!(out, "spec        {}", shown_path(&plan.spec_path))?;
    if let Some(config) = &plan.config {
        writeln!(out, "config      {}", shown_path(config))?;
    }

    let data = &plan.data;
    writeln!(out)?;
    writeln!(out, "data")?;
    writeln!(out, "  file            {}", shown_path(&data.path))?;
    let shape = match data.shape {
        Shape::Aggregated => "aggregated (one row per variant)",
        Shape::Rows => "rows (one row per unit)",
    };
    writeln!(out, "  shape           {shape}")?;
    writeln!(out, "  variant column  `{}`", data.variant_column)?;
    if data.delimiter != b',' {
        let delimiter = match data.delimiter {
            b'\t' => "a tab".to_string(),
            other => format!("`{}`", other as char),
        };
        writeln!(out, "  delimiter       {delimiter}")?;
    }
    match data.shape {
        Shape::Aggregated => writeln!(out, "  units column    `{}`", data.units_column)?,
        Shape::Rows => writeln!(out, "  units           the rows of each variant")?,
    }
    if let Some(unit_id) = &data.unit_id {
        writeln!(
            out,
            "  unit id column  `{unit_id}` (units in two variants, or on two rows, are health issues)"
        )?;
    }
    if data.shape == Shape::Rows {
        let missing = match data.missing {
            Missing::Error => "an error",
            Missing::Zero => "0 (`missing zero`)",
        };
        writeln!(out, "  empty cells     {missing}")?;
    }

    writeln!(out)?;
    writeln!(out, "variants (designed split, normalised)")?;
    let width = crate::text::align_width(plan.variants.iter().map(|v| v.name.len()));
    for (i, variant) in plan.variants.iter().enumerate() {
        let role = if i == 0 { "control" } else { "treatment" };
        writeln!(
            out,
            "  {:width$}  {:>7}  {role}",
            crate::text::one_line(&variant.name),
            numbers::percent2(variant.share)
        )?;
    }

    if plan.variants.len() > 2 {
        let correction = match plan.settings.correction {
            Correction::None => "not corrected",
            Correction::Bonferroni => "corrected with `bonferroni`",
            Correction::Holm => "corrected with `holm`",
            Correction::Bh => "corrected with `bh`",
        };
        writeln!(
            out,
            "  each treatment is compared with `{}`; p-values are {correction} across the {} treatment arms",
            crate::text::one_line(&plan.control().name),
            plan.treatments().len()
        )?;
    }

    writeln!(out)?;
    writeln!(out, "metrics")?;
    for metric in &plan.metrics {
        let role = match metric.role {
            Role::Primary => "primary",
            Role::Secondary => "metric",
            Role::Guardrail => "guardrail",
        };
        let prefer = match metric.prefer {
            Direction::Higher => "higher",
            Direction::Lower => "lower",
        };
        writeln!(
            out,
            "  {} ({role}, {}, prefer {prefer})",
            metric.name,
            metric.kind.label()
        )?;
        let columns = match (&metric.kind, data.shape) {
            (MetricKind::Rate { column }, Shape::Aggregated) => format!(
                "`{column}` (units with the event) over `{}`",
                data.units_column
            ),
            (MetricKind::Mean { column }, Shape::Aggregated) => format!(
                "`{column}_sum`, `{column}_sum_sq` (Σx, Σx²), n = `{}`",
                data.units_column
            ),
            (MetricKind::Rate { column }, Shape::Rows) => {
                format!("`{column}` per row: 0/1 or true/false")
            }
            (MetricKind::Mean { column }, Shape::Rows) => {
                format!("`{column}` per row: a number")
            }
            (MetricKind::Ratio { .. }, Shape::Aggregated) => format!(
                "{} (Σx, Σx², Σy, Σy², Σxy), n = `{}`",
                // INVARIANT: a ratio has no covariate (the checker rejects one).
                code_list(&aggregated_columns(metric)),
                data.units_column
            ),
            (
                MetricKind::Ratio {
                    numerator,
                    denominator,
                },
                Shape::Rows,
            ) => format!("`{numerator}` and `{denominator}` per row: numbers"),
        };
        writeln!(out, "    reads     {columns}")?;
        if let Some(covariate) = &metric.covariate {
            let columns = match data.shape {
                Shape::Aggregated => {
                    let all = aggregated_columns(metric);
                    format!("{} (Σc, Σc², Σxc)", code_list(&all[all.len() - 3..]))
                }
                Shape::Rows => format!("`{covariate}` per row: a number"),
            };
            writeln!(out, "    covariate `{covariate}` (CUPED): reads {columns}")?;
        }
        writeln!(out, "    test      {}", conventions(metric, &plan.settings))?;
        let is_rate = metric.kind.is_rate();
        if let Some(baseline) = metric.baseline {
            let text = if is_rate {
                format!("{}%", numbers::written(baseline * 100.0))
            } else {
                numbers::written(baseline)
            };
            writeln!(out, "    baseline  {text}")?;
        }
        if let Some(mde) = metric.mde {
            writeln!(out, "    mde       {}", effect(mde, is_rate))?;
        }
        if let Some(sd) = metric.sd {
            writeln!(out, "    sd        {}", numbers::written(sd))?;
        }
        if let Some(unit) = &metric.unit {
            writeln!(
                out,
                "    unit      {unit} (the memo prints it after every value and change)"
            )?;
        }
        let inputs = metric.ratio_inputs;
        for (name, value) in [
            ("mean_y", inputs.mean_y),
            ("sd_x", inputs.sd_x),
            ("sd_y", inputs.sd_y),
            ("correlation", inputs.correlation),
        ] {
            if let Some(value) = value {
                writeln!(out, "    {name:<9} {}", numbers::written(value))?;
            }
        }
        if let Some(cuped) = metric.cuped {
            writeln!(
                out,
                "    cuped     {}% expected variance reduction",
                numbers::written(cuped * 100.0)
            )?;
        }
        if let Some(w) = metric.worsened {
            writeln!(out, "    worsened  degradation ≥ {}", effect(w, is_rate))?;
        }
        if let Some(s) = metric.severe {
            writeln!(out, "    severe    degradation ≥ {}", effect(s, is_rate))?;
        }
        if let Some(m) = metric.margin {
            writeln!(
                out,
                "    margin    non-inferior when the one-sided {}% bound of the degradation is below {}",
                numbers::written((1.0 - plan.settings.alpha) * 100.0),
                effect(m, is_rate)
            )?;
        }
    }

    if let Some(sample) = &plan.sample_plan {
        writeln!(out)?;
        writeln!(out, "plan")?;
        if let Some(daily) = sample.daily_units {
            writeln!(out, "  daily users  {}", numbers::written(daily))?;
        }
        writeln!(
            out,
            "  power        {}%",
            numbers::written(sample.power * 100.0)
        )?;
        if let Some(days) = sample.duration_days {
            writeln!(out, "  duration     {}d", numbers::written(days))?;
        }
    }

    let s = &plan.settings;
    writeln!(out)?;
    writeln!(out, "settings in force")?;
    writeln!(
        out,
        "  alpha        {}% (two-sided; intervals at {}%)",
        numbers::written(s.alpha * 100.0),
        numbers::written((1.0 - s.alpha) * 100.0)
    )?;
    writeln!(out, "  srm_warning  {}", numbers::written(s.srm_warning))?;
    writeln!(out, "  srm_blocked  {}", numbers::written(s.srm_blocked))?;
    writeln!(out, "  min_units    {}", s.min_units)?;
    if plan.data.unit_id.is_some() {
        writeln!(
            out,
            "  assignment   warning above {}%, blocked above {}% of units mixed or duplicated",
            numbers::written(s.assignment_warning * 100.0),
            numbers::written(s.assignment_blocked * 100.0)
        )?;
    }
    let correction = match s.correction {
        Correction::None => "none",
        Correction::Bonferroni => "bonferroni",
        Correction::Holm => "holm",
        Correction::Bh => "bh",
    };
    writeln!(out, "  correction   {correction}")?;
    writeln!(out, "  rate_test    {}", s.rate_test.keyword())?;
    writeln!(out, "  relative_ci  {}", s.relative_ci.keyword())?;
    writeln!(
        out,
        "  prior        beta({}, {})",
        numbers::written(s.prior.0),
        numbers::written(s.prior.1)
    )?;
    writeln!(out, "  seed         {}", s.seed)?;
    writeln!(out, "  draws        {}", s.draws)?;

    let policy = &plan.policy;
    let origin = match &policy.origin {
        PolicyOrigin::BuiltIn => "built in".to_string(),
        PolicyOrigin::File(path) => shown_path(path),
    };
    writeln!(out)?;
    writeln!(
        out,
        "decision table (policy `{}`, {origin}; the first rule that holds decides, per treatment arm)",
        policy.name
    )?;
    let width = crate::text::align_width(
        policy
            .rules
            .iter()
            .map(|r| r.name.len())
            .chain(["otherwise".len()]),
    );
    for (i, rule) in policy.rules.iter().enumerate() {
        let source = match rule.source {
            RuleSource::Inline => "inline",
            RuleSource::Policy => "policy",
        };
        writeln!(
            out,
            "  {:>2}. {:width$}  {source}  when {}  →  {}",
            i + 1,
            rule.name,
            rule.condition_text,
            rule.then.as_str()
        )?;
        writeln!(
            out,
            "      {:width$}          “{}”",
            "",
            reason(&rule.because)
        )?;
    }
    writeln!(
        out,
        "   -  {:width$}  policy  →  {}",
        "otherwise",
        policy.otherwise.then.as_str()
    )?;
    writeln!(
        out,
        "      {:width$}          “{}”",
        "",
        reason(&policy.otherwise.because)
    )?;
    if !policy.tests.is_empty() {
        writeln!(out)?;
        writeln!(out, "tests ({}, run by `xos test`)", policy.tests.len())?;
        for test in &policy.tests {
            let by = test
                .by
                .as_ref()
                .map_or(String::new(), |b| format!(" by {b}"));
            writeln!(out, "  {}  expect {}{by}", test.name, test.expect.as_str())?;
        }
    }
    Ok(())
}

/// How a metric is tested, from the settings in force.
fn conventions(metric: &Metric, settings: &Settings) -> String {
    let relative = settings.relative_ci.description();
    if metric.covariate.is_some() {
        return format!(
            "CUPED: θ pooled over both arms, adjusted means, Welch t-test on the adjusted \
             variances; relative CI by {relative}; Bayesian normal approximation"
        );
    }
    match &metric.kind {
        MetricKind::Rate { .. } => {
            let test = settings.rate_test.description();
            format!(
                "{test}; relative CI (by |control|) by {relative} with the z quantile; \
                 Bayesian Beta({}, {}) prior",
                numbers::written(settings.prior.0),
                numbers::written(settings.prior.1)
            )
        }
        MetricKind::Mean { .. } => format!(
            "Welch t-test from Σx and Σx²; relative CI (by |control|) by {relative} with the Welch t \
             quantile; Bayesian normal approximation"
        ),
        MetricKind::Ratio { .. } => format!(
            "delta-method z-test on Σx/Σy per unit; relative CI by {relative}; Bayesian normal approximation"
        ),
    }
}

fn code_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn reason(reason: &Reason) -> String {
    reason
        .parts
        .iter()
        .map(|part| match part {
            ReasonPart::Text(text) => text.clone(),
            ReasonPart::Fact(_, path) => format!("{{{{ {path} }}}}"),
        })
        .collect()
}

fn effect(effect: Effect, is_rate: bool) -> String {
    match effect {
        Effect::Relative(v) => format!("{}% relative", numbers::written(v * 100.0)),
        Effect::Absolute(v) if is_rate => format!("{}pp", numbers::written(v * 100.0)),
        Effect::Absolute(v) => numbers::written(v),
    }
}

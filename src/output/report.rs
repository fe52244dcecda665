//! The serializable report: what `--format json` prints and what the memo
//! templates see. Schema `xos.report/v1`, documented field by field in
//! `docs/report.md`; keys are never removed or renamed without a version bump.
//!
//! No NaN or infinity reaches a report: every number is finite or `null`.

use serde::Serialize;

use crate::decide::Decision;
use crate::evaluate::{Comparison, Evaluation, HealthReport, VariantValue};
use crate::plan::{Direction, Effect, Missing, Plan, PolicyOrigin, Role, RuleSource, Verdict};
use crate::sample_size::PlannedSample;

/// The schema of the report, its `schema` key.
pub const SCHEMA: &str = "xos.report/v1";

/// The report of one evaluated experiment (`docs/report.md`).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The experiment's name.
    pub experiment: String,
    /// The spec's `title`, lines joined.
    pub title: Option<String>,
    /// The spec's `owner`.
    pub owner: Option<String>,
    /// The spec's `hypothesis`.
    pub hypothesis: Option<String>,
    /// The verdict, the rule that decided and every arm's own decision.
    pub decision: Decision,
    /// Data health: SRM, arm sizes and the issues found.
    pub health: HealthReport,
    /// Which inference decided: `fixed`, `always_valid` or
    /// `group_sequential`, at which look.
    pub inference: crate::inference::InferenceReport,
    /// Every metric, primary first, then secondary metrics and guardrails in
    /// spec order.
    pub metrics: Vec<MetricReport>,
    /// The sample the primary needs and the progress towards it; `plan` in
    /// the JSON (its public name), `sample` here, where a plan is the
    /// checked program.
    #[serde(rename = "plan")]
    pub sample: SampleReport,
    /// The decision table that was applied.
    pub policy: PolicyReport,
    /// The settings in force, defaults applied, and the data conventions.
    pub settings: SettingsReport,
    /// Set only when asked for (`--date`), so the same inputs give the same
    /// bytes.
    pub date: Option<String>,
}

/// One metric: its declaration and its results.
#[derive(Clone, Debug, Serialize)]
pub struct MetricReport {
    /// The metric's name in the spec.
    pub name: String,
    /// `primary`, `secondary` or `guardrail`.
    pub role: Role,
    /// `rate`, `mean` or `ratio`.
    pub kind: &'static str,
    /// The CSV column the metric reads (`conversions`, or `revenue` for
    /// `revenue_sum` / `revenue_sum_sq`); a ratio's numerator.
    pub column: String,
    /// A ratio's denominator column (ratio metrics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<String>,
    /// The CUPED covariate column (metrics with a `covariate` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covariate: Option<String>,
    /// The unit a mean metric declared (`unit "ms"`; absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The preferred direction.
    pub prefer: Direction,
    /// Planning input: the control's expected value (a fraction for rates).
    pub baseline: Option<f64>,
    /// Planning input: the minimum detectable effect.
    pub mde: Option<EffectReport>,
    /// Guardrails: the degradation at which the guardrail is `worsened`.
    pub worsened: Option<EffectReport>,
    /// Guardrails: the degradation at which the guardrail is `severe`.
    pub severe: Option<EffectReport>,
    /// Guardrails: the non-inferiority margin.
    pub margin: Option<EffectReport>,
    /// One per variant, control first.
    pub variants: Vec<VariantValue>,
    /// One per treatment arm, against the control.
    pub comparisons: Vec<Comparison>,
}

/// An effect size as the report writes it: `{value, scale}`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EffectReport {
    /// The size: in the metric's units when absolute (`0.001` is 0.1pp), a
    /// fraction of the control's value when relative.
    pub value: f64,
    /// `absolute` (in the metric's units) or `relative` (to the control).
    pub scale: &'static str,
}

impl From<Effect> for EffectReport {
    fn from(effect: Effect) -> EffectReport {
        match effect {
            Effect::Absolute(value) => EffectReport {
                value,
                scale: "absolute",
            },
            Effect::Relative(value) => EffectReport {
                value,
                scale: "relative",
            },
        }
    }
}

/// The report's `plan`: the sample the primary's MDE needs and how far the
/// experiment has come.
#[derive(Clone, Debug, Serialize)]
pub struct SampleReport {
    /// Units needed per variant to detect the MDE; `null` without a plan.
    pub per_variant: Option<Vec<VariantCount>>,
    /// Their sum.
    pub total: Option<u64>,
    /// `⌈total / daily_users⌉`.
    pub days: Option<u64>,
    /// Target power, a fraction.
    pub power: Option<f64>,
    /// Every arm has the units it needs (false without a plan).
    pub sample_reached: bool,
    /// Units still missing per variant (0 once reached).
    pub remaining: Option<Vec<VariantCount>>,
    /// Days still needed at `daily_users`.
    pub days_remaining: Option<u64>,
    /// The declared `plan { duration }`, in days; absent when not declared.
    /// With it, `sample_reached`, `remaining` and `days_remaining` are
    /// measured against the units the duration collects, not `total`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_days: Option<f64>,
    /// Units the declared duration collects at `daily_users` (all arms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_units: Option<u64>,
    /// Units entering per day, all arms, from the spec's `plan` block
    /// (`daily_users` there and in the JSON, their public names).
    #[serde(rename = "daily_users")]
    pub daily_units: Option<f64>,
    /// `increase` (`prefer higher` primary) or `decrease` (`prefer lower`):
    /// the direction the sample is sized for; `null` without a plan.
    pub change: Option<&'static str>,
    /// The α the plan uses, and the number of treatments it was divided by
    /// under a correction (`null` when not divided).
    pub alpha: Option<f64>,
    /// With a correction and more than one treatment: the number of
    /// treatments `settings.alpha` was divided by (Bonferroni's split).
    pub alpha_divided_by: Option<usize>,
}

/// A number of units for one variant.
#[derive(Clone, Debug, Serialize)]
pub struct VariantCount {
    /// The variant's name.
    pub variant: String,
    /// Units.
    pub units: u64,
}

/// The report's `policy`: the decision table in the order it is tried.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyReport {
    /// The policy's name (`default`).
    pub name: String,
    /// The policy file, or `built-in` for the embedded default.
    pub source: String,
    /// The spec's inline rules, then the policy's.
    pub rules: Vec<RuleReport>,
    /// The verdict when no rule fires.
    pub otherwise: Verdict,
}

/// One rule of the decision table.
#[derive(Clone, Debug, Serialize)]
pub struct RuleReport {
    /// The rule's name.
    pub name: String,
    /// `inline` (written in the spec) or `policy`.
    pub source: RuleSource,
    /// The condition as written, on one line.
    pub when: String,
    /// The verdict when the condition holds.
    pub then: Verdict,
}

/// The report's `settings`: every setting with defaults applied, and the
/// data conventions.
#[derive(Clone, Debug, Serialize)]
pub struct SettingsReport {
    /// Two-sided significance level, a fraction.
    pub alpha: f64,
    /// SRM p-value below which health is `warning`.
    pub srm_warning: f64,
    /// SRM p-value below which health is `blocked`.
    pub srm_blocked: f64,
    /// An arm with fewer units makes health `warning`.
    pub min_units: u64,
    /// The correction across treatment arms.
    pub correction: crate::plan::Correction,
    /// The test and interval of rate metrics.
    pub rate_test: crate::plan::RateTest,
    /// The interval of the relative lift.
    pub relative_ci: crate::plan::RelativeCi,
    /// The Beta(a, b) prior of rate metrics, as `[a, b]`.
    pub prior: [f64; 2],
    /// Seed of the Monte Carlo credible intervals.
    pub seed: u64,
    /// Monte Carlo draws of the credible intervals.
    pub draws: u64,
    /// The data path as written in the spec (or given to `--data`).
    pub data: String,
    /// The column naming each row's variant.
    pub variant_column: String,
    /// The column counting units (aggregated data).
    pub units_column: String,
    /// Designed split, normalised.
    pub split: Vec<VariantShare>,
    /// Row-level data only (its keys are absent for aggregated data, so
    /// reports of aggregated data keep their keys): how the rows were read.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub rows: Option<RowsReport>,
}

/// The data conventions of a file read one row per unit (`shape rows`),
/// flattened into `settings`.
#[derive(Clone, Debug, Serialize)]
pub struct RowsReport {
    /// Always `"rows"`.
    pub shape: &'static str,
    /// The `unit_id` column, or `None` when units are not identified.
    pub unit_id: Option<String>,
    /// `"zero"` when empty, `NULL` and `NA` values count as 0 (`missing
    /// zero`), else `"error"`.
    pub missing: &'static str,
    /// With `missing zero`: every value column read, with how many of its
    /// cells counted as 0; empty otherwise.
    pub missing_zeroed: Vec<crate::data::ZeroedCells>,
}

/// A variant's designed share of traffic.
#[derive(Clone, Debug, Serialize)]
pub struct VariantShare {
    /// The variant's name.
    pub variant: String,
    /// Its share, a fraction; the shares sum to 1.
    pub share: f64,
}

/// Assembles the report of one evaluated experiment.
pub fn build(
    plan: &Plan,
    evaluation: &Evaluation,
    decision: Decision,
    date: Option<String>,
) -> Report {
    let metrics = plan
        .metrics
        .iter()
        .zip(&evaluation.metrics)
        .map(|(metric, result)| MetricReport {
            name: metric.name.clone(),
            role: metric.role,
            kind: metric.kind.label(),
            column: metric.kind.column().to_string(),
            denominator: metric.kind.denominator().map(str::to_string),
            covariate: metric.covariate.clone(),
            unit: metric.unit.clone(),
            prefer: metric.prefer,
            baseline: metric.baseline,
            mde: metric.mde.map(EffectReport::from),
            worsened: metric.worsened.map(EffectReport::from),
            severe: metric.severe.map(EffectReport::from),
            margin: metric.margin.map(EffectReport::from),
            variants: result.variants.clone(),
            comparisons: result.comparisons.clone(),
        })
        .collect();
    let units: Vec<u64> = evaluation.metrics[0]
        .variants
        .iter()
        .map(|v| v.units)
        .collect();
    let sample = sample_report(
        plan,
        evaluation.sample.as_ref(),
        evaluation.sample_reached,
        &units,
    );
    let s = &plan.settings;
    Report {
        schema: SCHEMA,
        experiment: plan.name.clone(),
        title: plan.title.clone(),
        owner: plan.owner.clone(),
        hypothesis: plan.hypothesis.clone(),
        decision,
        health: evaluation.health.clone(),
        inference: evaluation.inference.clone(),
        metrics,
        sample,
        policy: PolicyReport {
            name: plan.policy.name.clone(),
            source: match &plan.policy.origin {
                PolicyOrigin::BuiltIn => "built-in".to_string(),
                PolicyOrigin::File(path) => path.display().to_string(),
            },
            rules: plan
                .policy
                .rules
                .iter()
                .map(|r| RuleReport {
                    name: r.name.clone(),
                    source: r.source,
                    when: r.condition_text.clone(),
                    then: r.then,
                })
                .collect(),
            otherwise: plan.policy.otherwise.then,
        },
        settings: SettingsReport {
            alpha: s.alpha,
            srm_warning: s.srm_warning,
            srm_blocked: s.srm_blocked,
            min_units: s.min_units,
            correction: s.correction,
            rate_test: s.rate_test,
            relative_ci: s.relative_ci,
            prior: [s.prior.0, s.prior.1],
            seed: s.seed,
            draws: s.draws,
            data: plan.data.written.clone(),
            variant_column: plan.data.variant_column.clone(),
            units_column: plan.data.units_column.clone(),
            split: plan
                .variants
                .iter()
                .map(|v| VariantShare {
                    variant: v.name.clone(),
                    share: v.share,
                })
                .collect(),
            rows: evaluation.row_level.as_ref().map(|rows| RowsReport {
                shape: "rows",
                unit_id: plan.data.unit_id.clone(),
                missing: match plan.data.missing {
                    Missing::Zero => "zero",
                    Missing::Error => "error",
                },
                missing_zeroed: rows.zeroed.clone(),
            }),
        },
        date,
    }
}

fn sample_report(
    plan: &Plan,
    sample: Option<&PlannedSample>,
    reached: bool,
    units: &[u64],
) -> SampleReport {
    let daily_units = plan.sample_plan.as_ref().and_then(|p| p.daily_units);
    let duration = crate::sample_size::declared_duration(plan);
    // Units and days still missing, to the declared duration's units or
    // else to the planned sample.
    let left = crate::sample_size::sample_target(plan, sample)
        .map(|(per_variant, _)| crate::sample_size::remaining(plan, &per_variant, units));
    let days_remaining = left.as_ref().and_then(|l| l.days);
    let remaining: Option<Vec<VariantCount>> = left.map(|l| {
        l.per_variant
            .into_iter()
            .map(|(variant, units)| VariantCount { variant, units })
            .collect()
    });
    SampleReport {
        per_variant: sample.map(|sample| {
            sample
                .per_variant
                .iter()
                .map(|(name, n)| VariantCount {
                    variant: name.clone(),
                    units: *n,
                })
                .collect()
        }),
        total: sample.map(|s| s.total),
        days: sample.and_then(|s| s.days),
        power: sample.map(|s| s.power),
        sample_reached: reached,
        remaining,
        days_remaining,
        duration_days: duration.as_ref().map(|d| d.days),
        duration_units: duration.as_ref().map(|d| d.total),
        daily_units,
        change: sample.map(|s| s.change),
        alpha: sample.map(|s| s.alpha),
        alpha_divided_by: sample.and_then(|s| s.alpha_divided_by),
    }
}

/// The report as pretty JSON. Serialisation cannot fail: every number in a
/// report is finite (serde_json writes `null` for a non-finite float anyway).
pub fn to_json(report: &Report) -> String {
    let mut json =
        super::pretty_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_string());
    json.push('\n');
    json
}

/// The report as one line of compact JSON (no trailing newline), for
/// `xos run --format jsonl`: the same keys and values as [`to_json`].
pub fn to_json_line(report: &Report) -> String {
    serde_json::to_string(report).unwrap_or_else(|_| "{}".to_string())
}

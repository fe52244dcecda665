//! The serializable report: what `--format json` prints and what the memo
//! templates see. Schema `xos.report/v1`, documented field by field in
//! `docs/report.md`; keys are never removed or renamed without a version bump.
//!
//! No NaN or infinity reaches a report: every number is finite or `null`.

use serde::Serialize;

use crate::decide::Decision;
use crate::evaluate::{Comparison, Evaluation, HealthReport, VariantValue};
use crate::plan::{Direction, Effect, Plan, PolicyOrigin, Role, RuleSource, Verdict};
use crate::sample_size::PlannedSample;

pub const SCHEMA: &str = "xos.report/v1";

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub experiment: String,
    pub title: Option<String>,
    pub owner: Option<String>,
    pub hypothesis: Option<String>,
    pub decision: Decision,
    pub health: HealthReport,
    /// Which inference decided: `fixed`, `always_valid` or
    /// `group_sequential`, at which look.
    pub inference: crate::inference::InferenceReport,
    pub metrics: Vec<MetricReport>,
    pub plan: PlanReport,
    pub policy: PolicyReport,
    pub settings: SettingsReport,
    /// Set only when asked for (`--date`), so the same inputs give the same
    /// bytes.
    pub date: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MetricReport {
    pub name: String,
    pub role: Role,
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
    pub prefer: Direction,
    pub baseline: Option<f64>,
    pub mde: Option<EffectReport>,
    pub worsened: Option<EffectReport>,
    pub severe: Option<EffectReport>,
    pub margin: Option<EffectReport>,
    pub variants: Vec<VariantValue>,
    pub comparisons: Vec<Comparison>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct EffectReport {
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

#[derive(Clone, Debug, Serialize)]
pub struct PlanReport {
    /// Units needed per variant to detect the MDE; `null` without a plan.
    pub per_variant: Option<Vec<VariantCount>>,
    pub total: Option<u64>,
    pub days: Option<u64>,
    pub power: Option<f64>,
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
    pub daily_users: Option<f64>,
    /// `increase` (`prefer higher` primary) or `decrease` (`prefer lower`):
    /// the direction the sample is sized for; `null` without a plan.
    pub change: Option<&'static str>,
    /// The α the plan uses, and the number of treatments it was divided by
    /// under a correction (`null` when not divided).
    pub alpha: Option<f64>,
    pub alpha_divided_by: Option<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct VariantCount {
    pub variant: String,
    pub units: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PolicyReport {
    pub name: String,
    /// The policy file, or `built-in` for the embedded default.
    pub source: String,
    pub rules: Vec<RuleReport>,
    pub otherwise: Verdict,
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleReport {
    pub name: String,
    pub source: RuleSource,
    pub when: String,
    pub then: Verdict,
}

#[derive(Clone, Debug, Serialize)]
pub struct SettingsReport {
    pub alpha: f64,
    pub srm_warning: f64,
    pub srm_blocked: f64,
    pub min_units: u64,
    pub correction: crate::plan::Correction,
    pub rate_test: crate::plan::RateTest,
    pub relative_ci: crate::plan::RelativeCi,
    pub prior: [f64; 2],
    pub seed: u64,
    pub draws: u64,
    pub data: String,
    pub variant_column: String,
    pub units_column: String,
    /// Designed split, normalised.
    pub split: Vec<VariantShare>,
}

#[derive(Clone, Debug, Serialize)]
pub struct VariantShare {
    pub variant: String,
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
    let plan_report = plan_report(
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
        plan: plan_report,
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
        },
        date,
    }
}

fn plan_report(
    plan: &Plan,
    sample: Option<&PlannedSample>,
    reached: bool,
    units: &[u64],
) -> PlanReport {
    let daily_users = plan.sample_plan.as_ref().and_then(|p| p.daily_users);
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
    PlanReport {
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
        daily_users,
        change: sample.map(|s| s.change),
        alpha: sample.map(|s| s.alpha),
        alpha_divided_by: sample.and_then(|s| s.alpha_divided_by),
    }
}

/// The report as pretty JSON. Serialisation cannot fail: every number in a
/// report is finite (serde_json writes `null` for a non-finite float anyway).
pub fn to_json(report: &Report) -> String {
    let mut json = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_string());
    json.push('\n');
    json
}

/// The report as one line of compact JSON (no trailing newline), for
/// `xos run --format jsonl`: the same keys and values as [`to_json`].
pub fn to_json_line(report: &Report) -> String {
    serde_json::to_string(report).unwrap_or_else(|_| "{}".to_string())
}

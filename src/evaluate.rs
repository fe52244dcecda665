//! Plan × Data → facts: every number the rules and the memo use.
//!
//! Each treatment arm is compared with the control on every metric. The
//! comparison of one metric for one arm is a [`Comparison`]; the facts a rule
//! reads for one arm are an [`ArmFacts`]. Conventions (DESIGN.md §2):
//!
//! - rates: the `rate_test` (Miettinen–Nurminen score by default, Mee's
//!   pooled score, or Wald) with the interval inverted from the same
//!   statistic; means: Welch t-test with a t-quantile CI; relative intervals
//!   by `relative_ci`, dividing by |control|, for every kind;
//! - p-values of each metric are adjusted across treatment arms with
//!   `settings.correction`; `significant` is `p_adjusted < alpha`, and
//!   `ci_adj_low`/`ci_adj_high` is the interval at the level
//!   `α·p/p_adj` that excludes 0 exactly then;
//! - `better` / `worse` are significant in / against the preferred direction;
//! - guardrails: the degradation is the lift in the unpreferred direction;
//!   `worsened` / `severe` when its point estimate reaches the threshold
//!   (absolute, or relative to the control's value); `non_inferior` when its
//!   one-sided (1 − α) upper bound, by the metric's own method, is below
//!   `margin` (a relative margin is taken relative to the control's observed
//!   value); a zero standard error has no bound and proves nothing;
//! - health: `blocked` when the SRM p-value is below `srm_blocked`, `warning`
//!   below `srm_warning`, when an arm has fewer than `min_units` units, or
//!   when a metric has no variance in both arms.

use serde::Serialize;

use crate::data::{Assignment, Data, MetricData};
use crate::numbers;
use crate::plan::{Correction, Direction, Effect, Health, Plan, RateTest, Role, Status};
use crate::sample_size::{PlannedSample, planned_sample};
use crate::stats::{bayes, credible, cuped, dist, mean, multiple, proportion, ratio, srm};

/// Everything computed for one experiment.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Data health: SRM, arm sizes, variance and assignment checks.
    pub health: HealthReport,
    /// The sample the plan needs ([`planned_sample`]); `None` without the
    /// planning inputs.
    pub sample: Option<PlannedSample>,
    /// `true` when every arm reached its planned size (false without a plan).
    pub sample_reached: bool,
    /// Indexed by `MetricId`.
    pub metrics: Vec<MetricResult>,
    /// Which inference the comparisons' `p` and CI come from, at which look.
    pub inference: crate::inference::InferenceReport,
    /// Units so far over the planned total; `None` without a plan.
    pub plan_progress: Option<f64>,
    /// Units and days still missing until the planned sample
    /// ([`crate::sample_size::remaining`]); `None` without a plan.
    pub remaining: Option<crate::sample_size::Remaining>,
    /// What the row-level reader saw (the cells `missing zero` counted as
    /// 0); `None` when the data was read as aggregated.
    pub row_level: Option<crate::data::RowLevel>,
}

/// The health of the experiment's data (the report's `health`).
#[derive(Clone, Debug, Serialize)]
pub struct HealthReport {
    /// The worst severity among the issues; `healthy` without any.
    pub status: Health,
    /// The sample-ratio-mismatch test; `None` when it cannot be run (no
    /// units at all).
    pub srm: Option<SrmReport>,
    /// Every problem found, in the order checked.
    pub issues: Vec<Issue>,
}

/// The sample-ratio-mismatch test: Pearson χ² goodness of fit of the units
/// per variant against the declared split ([`srm::srm_test`]).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SrmReport {
    /// `Σ (o_i − e_i)²/e_i` over the variants.
    pub chi2: f64,
    /// Degrees of freedom: variants − 1.
    pub df: u64,
    /// `P(χ²_df ≥ chi2)`.
    pub p_value: f64,
}

/// One health problem, as the memo lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Issue {
    /// `warning` or `blocked`.
    pub severity: Health,
    /// What is wrong, with the numbers and the threshold crossed.
    pub message: String,
}

/// Everything computed for one metric.
#[derive(Clone, Debug)]
pub struct MetricResult {
    /// One per variant, control first.
    pub variants: Vec<VariantValue>,
    /// One per treatment arm, in variant order.
    pub comparisons: Vec<Comparison>,
}

/// One variant's value of one metric.
#[derive(Clone, Debug, Serialize)]
pub struct VariantValue {
    /// The variant's name.
    pub name: String,
    /// Units in the variant.
    pub units: u64,
    /// The rate or the mean; `None` when undefined.
    pub value: Option<f64>,
    /// Standard deviation of a mean metric.
    pub sd: Option<f64>,
}

/// One metric, one treatment arm against the control. Undefined numbers are
/// `None`; booleans are `false` when what they need is undefined.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The treatment arm's name.
    pub variant: String,
    /// Units in the treatment arm.
    pub units: u64,
    /// Treatment minus control, in the metric's units (a fraction for
    /// rates: 0.01 is 1pp).
    pub abs_lift: Option<f64>,
    /// `(m_t − m_c)/|m_c|`, a fraction; `None` when `m_c = 0`.
    pub rel_lift: Option<f64>,
    /// Lower bound of the (1 − α) interval of `abs_lift`, by the metric's
    /// own test (sequential with `sequential`).
    pub ci_low: Option<f64>,
    /// Upper bound of the (1 − α) interval of `abs_lift`.
    pub ci_high: Option<f64>,
    /// The interval at the per-comparison level `α_i = α·p/p_adj` of the
    /// correction (`stats::multiple::adjusted_alpha`), so it excludes 0
    /// exactly when `significant`; equal to `ci_low`/`ci_high` without a
    /// correction (DESIGN §4, keys of the second version).
    pub ci_adj_low: Option<f64>,
    /// Upper bound of the interval at the per-comparison level.
    pub ci_adj_high: Option<f64>,
    /// Lower bound of the (1 − α) interval of `rel_lift`, by `relative_ci`
    /// with the critical value of the metric's own test.
    pub rel_ci_low: Option<f64>,
    /// Upper bound of the (1 − α) interval of `rel_lift`.
    pub rel_ci_high: Option<f64>,
    /// Two-sided p-value of the metric's test (sequential with `sequential`).
    pub p_value: Option<f64>,
    /// `p_value` corrected across treatment arms by `settings.correction`.
    pub p_adjusted: Option<f64>,
    /// `p_adjusted < alpha`.
    pub significant: bool,
    /// Significant in the metric's preferred direction.
    pub better: bool,
    /// Significant against the metric's preferred direction.
    pub worse: bool,
    /// Posterior probability that the treatment is better in the preferred
    /// direction: exact Beta–Binomial for rates (`stats::bayes`), the normal
    /// approximation (a normal posterior per arm) for means, ratios and CUPED.
    pub prob_better: Option<f64>,
    /// Expected loss of shipping the treatment, in the metric's units.
    pub expected_loss: Option<f64>,
    /// Credible interval of the relative lift `p_T/p_C − 1` at level 1 − α
    /// (rate metrics; Cornish–Fisher when every posterior shape is at least
    /// 100, else seeded Monte Carlo with the settings' `seed` and `draws`,
    /// see `stats::credible::relative_lift_credible`).
    pub rel_credible_low: Option<f64>,
    /// Upper bound of the credible interval of the relative lift.
    pub rel_credible_high: Option<f64>,
    /// Guardrails only (`None` otherwise): the degradation's point estimate
    /// is at or past `worsened`.
    pub worsened: Option<bool>,
    /// Guardrails only: the degradation's point estimate is at or past
    /// `severe` (a severe guardrail is also worsened).
    pub severe: Option<bool>,
    /// Guardrails with a `margin` only.
    pub non_inferior: Option<bool>,
    /// One-sided (1 − α) upper bound of the degradation (guardrails).
    pub degradation_bound: Option<f64>,
    /// Guardrails only: `ok`, `worsened` or `severe`, the worst that applies.
    pub status: Option<Status>,
    /// With sequential inference: the fixed-horizon numbers, for reference
    /// (`p_value`, `ci_low`, `ci_high` are then the sequential ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_horizon: Option<crate::inference::FixedHorizon>,
    /// Group-sequential: the z bound at the current look.
    pub boundary: Option<f64>,
    /// Metrics with a `covariate` only: what CUPED did. The comparison's
    /// numbers above are the adjusted ones when `cuped.applied`, else the
    /// unadjusted ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuped: Option<CupedReport>,
    /// With a `look` column: the cumulative lift at each look, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub looks: Vec<crate::inference::LookPoint>,
}

impl Comparison {
    /// Whether the interval collapsed to the lift: a Wald, Welch or
    /// normal-theory standard error of 0 (every unit of both arms has the
    /// same value, or a covariate removed all variance), whose p of 0 or 1
    /// is a convention, not evidence (DESIGN §2). Memos and charts never
    /// show such a comparison as a finding.
    pub fn without_variance(&self) -> bool {
        matches!((self.ci_low, self.ci_high), (Some(low), Some(high)) if low == high)
    }

    /// Whether the comparison has a lift and an interval: a guardrail
    /// without them cannot show it held (health is then blocked), and no
    /// memo shows it as `ok`.
    pub fn has_interval(&self) -> bool {
        self.abs_lift.is_some() && self.ci_low.is_some() && self.ci_high.is_some()
    }
}

/// CUPED's effect on one comparison (DESIGN §4).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CupedReport {
    /// The pooled slope θ; `null` when the covariate has no variance (then
    /// nothing was adjusted).
    pub theta: Option<f64>,
    /// Whether the adjustment is used, and otherwise why not; the report's
    /// `applied`, whether the comparison's numbers are the adjusted ones:
    /// false when `theta` is `null`, when the covariate would remove more
    /// than `1 − NEAR_EXACT_COVARIATE` of the lift's variance (it determines
    /// the metric, as the metric itself would), or when `balance_p` is below
    /// `IMBALANCED_COVARIATE` (it moved with the treatment).
    #[serde(rename = "applied", serialize_with = "serialize_applied")]
    pub usage: cuped::CupedUse,
    /// The covariate's balance between the arms: the p-value of Welch's
    /// test of equal covariate means (`stats::cuped::CupedComparison`).
    pub balance_p: Option<f64>,
    /// Share of the lift's variance removed, `1 − V_adj/V_unadj`.
    pub variance_reduction: Option<f64>,
    /// The comparison without adjustment, by the metric's own test.
    pub unadjusted: Unadjusted,
}

/// [`CupedReport::usage`] as the report's `applied`.
fn serialize_applied<S: serde::Serializer>(
    usage: &cuped::CupedUse,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_bool(*usage == cuped::CupedUse::Applied)
}

/// The numbers of a comparison before CUPED.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Unadjusted {
    /// Treatment minus control, in the metric's units.
    pub abs_lift: Option<f64>,
    /// Lower bound of the unadjusted (1 − α) interval.
    pub ci_low: Option<f64>,
    /// Upper bound of the unadjusted (1 − α) interval.
    pub ci_high: Option<f64>,
    /// The unadjusted test's two-sided p-value.
    pub p_value: Option<f64>,
}

/// The facts the policy reads for one treatment arm.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmFacts {
    /// The treatment arm's name.
    pub variant: String,
    /// `health`.
    pub health: Health,
    /// `srm.p`; `None` when the SRM test cannot be run.
    pub srm_p: Option<f64>,
    /// `srm.chi2`; `None` when the SRM test cannot be run.
    pub srm_chi2: Option<f64>,
    /// `plan.sample_reached`.
    pub sample_reached: bool,
    /// `plan.progress`; `None` without a plan.
    pub plan_progress: Option<f64>,
    /// `sequential.look`, from 1.
    pub look: u64,
    /// `sequential.information`; `None` with fixed-horizon inference.
    pub information: Option<f64>,
    /// `sequential.fixed`: no `sequential` block (fixed-horizon inference).
    pub fixed: bool,
    /// `plan.units_remaining`; `None` without a plan.
    pub units_remaining: Option<f64>,
    /// `plan.days_remaining`; `None` without a plan or `daily_users`.
    pub days_remaining: Option<f64>,
    /// Indexed by `MetricId`.
    pub metrics: Vec<Comparison>,
}

impl Evaluation {
    /// The facts of treatment arm `arm` (0 is the first treatment).
    pub fn arm_facts(&self, arm: usize) -> ArmFacts {
        ArmFacts {
            variant: self.metrics[0].comparisons[arm].variant.clone(),
            health: self.health.status,
            srm_p: self.health.srm.map(|s| s.p_value),
            srm_chi2: self.health.srm.map(|s| s.chi2),
            sample_reached: self.sample_reached,
            plan_progress: self.plan_progress,
            look: self.inference.look,
            information: self.inference.information,
            fixed: self.inference.method == crate::plan::SequentialMethod::Fixed,
            units_remaining: self
                .remaining
                .as_ref()
                .map(|r| r.per_variant.iter().map(|(_, n)| *n).sum::<u64>() as f64),
            days_remaining: self
                .remaining
                .as_ref()
                .and_then(|r| r.days)
                .map(|d| d as f64),
            metrics: self
                .metrics
                .iter()
                .map(|m| m.comparisons[arm].clone())
                .collect(),
        }
    }
}

/// Computes every fact of the plan over validated data.
pub fn evaluate(plan: &Plan, data: &Data) -> Evaluation {
    let settings = &plan.settings;
    let control = &data.variants[0];
    let mut issues = Vec::new();

    // Health: SRM against the declared split, matched by variant name (the
    // data is already in the plan's variant order).
    let counts: Vec<u64> = data.variants.iter().map(|v| v.units).collect();
    let shares: Vec<f64> = plan.variants.iter().map(|v| v.share).collect();
    let srm = srm::srm_test(&counts, &shares).map(|r| SrmReport {
        chi2: r.chi2,
        df: r.df,
        p_value: r.p_value,
    });
    let mut status = Health::Healthy;
    if let Some(srm) = srm {
        if srm.p_value < settings.srm_blocked {
            status = Health::Blocked;
            issues.push(Issue {
                severity: Health::Blocked,
                // The p-value is below the bound `< 0.0001` can show, so
                // the message gives χ² and the threshold it is below.
                message: format!(
                    "sample ratio mismatch: χ² = {} (df {}), p below srm_blocked = {}; the assignment is likely broken",
                    crate::numbers::statistic(srm.chi2),
                    srm.df,
                    crate::numbers::written(settings.srm_blocked)
                ),
            });
        } else if srm.p_value < settings.srm_warning {
            status = Health::Warning;
            issues.push(Issue {
                severity: Health::Warning,
                message: format!(
                    "sample ratio mismatch: χ² = {} (df {}), {} is below srm_warning = {}",
                    crate::numbers::statistic(srm.chi2),
                    srm.df,
                    crate::numbers::p_is(srm.p_value),
                    crate::numbers::written(settings.srm_warning)
                ),
            });
        }
    }
    for variant in &data.variants {
        if variant.units < settings.min_units {
            status = status.max(Health::Warning);
            issues.push(Issue {
                severity: Health::Warning,
                message: format!(
                    "variant `{}` has {}, fewer than min_units = {}",
                    variant.name,
                    crate::numbers::units(variant.units),
                    settings.min_units
                ),
            });
        }
    }

    if let Some(assignment) = &data.assignment {
        status = status.max(assignment_health(assignment, settings, &mut issues));
    }

    let sample = planned_sample(plan).ok();
    // The declared duration's units when the spec declares one, else the
    // sample the MDE needs.
    let target = crate::sample_size::sample_target(plan, sample.as_ref());
    let sample_reached = target.as_ref().is_some_and(|(per_variant, _)| {
        per_variant
            .iter()
            .zip(&data.variants)
            .all(|((_, needed), v)| v.units >= *needed)
    });

    let units_so_far: u64 = data.variants.iter().map(|v| v.units).sum();
    let plan_progress = target
        .as_ref()
        .filter(|(_, total)| *total > 0)
        .map(|(_, total)| units_so_far as f64 / *total as f64);
    // Only a spec that declares a `plan` has units to wait for.
    let remaining = target
        .as_ref()
        .filter(|_| plan.sample_plan.is_some())
        .map(|(per_variant, _)| crate::sample_size::remaining(plan, per_variant, &counts));
    let inference = crate::inference::Inference::new(plan, data, sample.as_ref());
    if inference.is_none() {
        status = Health::Blocked;
        issues.push(Issue {
            severity: Health::Blocked,
            message: "the sequential design cannot be formed (no `max_units` and no planned total): no p-value or interval is reported".to_string(),
        });
    }

    let mut metrics = Vec::with_capacity(plan.metrics.len());
    for (id, metric) in plan.metrics.iter().enumerate() {
        let variants = data
            .variants
            .iter()
            .map(|v| {
                let (value, sd) = match v.metrics[id] {
                    MetricData::Rate { count } => (Some(count as f64 / v.units as f64), None),
                    MetricData::Mean { sum, sum_sq } => {
                        let stats = mean::MeanStats {
                            n: v.units,
                            sum,
                            sum_sq,
                        };
                        (Some(stats.mean()), stats.variance().map(f64::sqrt))
                    }
                    data @ MetricData::Ratio { .. } => {
                        (ratio_stats(v.units, &data).and_then(|r| r.ratio()), None)
                    }
                    // The observed (unadjusted) value; comparisons carry
                    // the adjusted lift.
                    MetricData::Adjusted {
                        sum_y, sum_y_sq, ..
                    } => {
                        let stats = mean::MeanStats {
                            n: v.units,
                            sum: sum_y,
                            sum_sq: sum_y_sq,
                        };
                        let sd = (!metric.kind.is_rate())
                            .then(|| stats.variance().map(f64::sqrt))
                            .flatten();
                        (Some(stats.mean()), sd)
                    }
                };
                VariantValue {
                    name: v.name.clone(),
                    units: v.units,
                    value,
                    sd,
                }
            })
            .collect();
        let mut comparisons: Vec<Comparison> = data.variants[1..]
            .iter()
            .map(|t| {
                compare(
                    plan,
                    id,
                    (control.units, &control.metrics[id]),
                    (t.units, &t.metrics[id]),
                    &t.name,
                    true,
                )
            })
            .collect();

        // Each look's cumulative lift, with the interval of the inference.
        if !data.looks.is_empty() {
            for (arm, c) in comparisons.iter_mut().enumerate() {
                c.looks = look_points(plan, id, data, arm + 1, inference.as_ref());
            }
        }

        // Sequential p and CI replace the fixed-horizon ones before the
        // correction across arms.
        for (arm, c) in comparisons.iter_mut().enumerate() {
            let sequential = match &inference {
                Some(inference) if !inference.is_sequential() => continue,
                Some(inference) => {
                    inference.compare(plan, id, arm + 1, &history(data, id, arm + 1), c.abs_lift)
                }
                None => None,
            };
            apply_sequential(c, sequential);
        }

        // Adjust across treatment arms, then judge significance on the
        // adjusted p-values.
        let method = match settings.correction {
            Correction::None => multiple::Adjustment::None,
            Correction::Bonferroni => multiple::Adjustment::Bonferroni,
            Correction::Holm => multiple::Adjustment::Holm,
            Correction::Bh => multiple::Adjustment::Bh,
        };
        let defined: Vec<(usize, f64)> = comparisons
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.p_value.map(|p| (i, p)))
            .collect();
        let raw: Vec<f64> = defined.iter().map(|(_, p)| *p).collect();
        let adjusted = multiple::adjust(&raw, method);
        for ((i, p), p_adj) in defined.iter().zip(adjusted) {
            let c = &mut comparisons[*i];
            c.p_adjusted = Some(p_adj);
            let level = multiple::adjusted_alpha(settings.alpha, *p, p_adj, defined.len());
            let t = &data.variants[*i + 1];
            if let Some(inference) = inference.as_ref().filter(|i| i.is_sequential()) {
                // The sequential interval at the corrected level.
                if level != settings.alpha {
                    let ci = inference.interval_at(
                        *i + 1,
                        &history(data, id, *i + 1),
                        c.abs_lift,
                        level,
                    );
                    c.ci_adj_low = ci.map(|ci| ci.0);
                    c.ci_adj_high = ci.map(|ci| ci.1);
                }
            } else if level != settings.alpha {
                let ci = interval_at(
                    settings,
                    control.units,
                    &control.metrics[id],
                    t.units,
                    &t.metrics[id],
                    level,
                );
                c.ci_adj_low = ci.map(|ci| ci.0);
                c.ci_adj_high = ci.map(|ci| ci.1);
            }
        }
        // The score tests' intervals stay informative at 0 or n events (0
        // errors in 48,000 users bounds the error rate); only a Wald
        // standard error, fixed-horizon or sequential, collapses there.
        let score_rates = metric.kind.is_rate()
            && settings.rate_test != RateTest::Wald
            && !inference.as_ref().is_some_and(|i| i.is_sequential());
        for (t, c) in data.variants[1..].iter().zip(&comparisons) {
            if score_rates {
                continue;
            }
            let constant =
                without_variance(control.units, &control.metrics[id], t.units, &t.metrics[id]);
            // Values so small that their squares, or the variance over the
            // units, fall below the smallest double (sums of 1e-300 over
            // 10¹⁵ units) give a standard error of 0 too: the same missing
            // information, which must not read as certainty.
            let underflow = !constant && c.without_variance();
            if constant || underflow {
                status = status.max(Health::Warning);
                issues.push(Issue {
                    severity: Health::Warning,
                    message: if constant {
                        format!(
                            "metric `{}` has no variance in `{}` or `{}` (every unit has the same \
                             value, or the values are too small for their squares to be told \
                             from 0): its test carries no information",
                            metric.name, control.name, t.name
                        )
                    } else {
                        format!(
                            "metric `{}`: the standard error of `{}` against `{}` is 0 although \
                             the arms vary (values too small for double precision): its test \
                             carries no information; report the metric in a smaller unit",
                            metric.name, t.name, control.name
                        )
                    },
                });
            }
        }
        // A comparison without a lift (a ratio whose denominator sums to 0
        // in an arm, sums beyond a double) tells nothing; a guardrail
        // without its interval cannot show it held, and must not read "ok".
        for c in &comparisons {
            let guardrail = metric.role == Role::Guardrail;
            if c.abs_lift.is_some() && (!guardrail || c.has_interval()) {
                continue;
            }
            let severity = if guardrail {
                Health::Blocked
            } else {
                Health::Warning
            };
            status = status.max(severity);
            issues.push(Issue {
                severity,
                message: format!(
                    "{} `{}` cannot be compared between `{}` and `{}` ({}){}",
                    if guardrail { "guardrail" } else { "metric" },
                    metric.name,
                    control.name,
                    c.variant,
                    if c.abs_lift.is_none() {
                        "its value is undefined in an arm: a ratio whose denominator sums to 0, \
                         or sums too large for a double"
                    } else {
                        "its interval is undefined: too few units or no variance"
                    },
                    if guardrail {
                        "; a guardrail that cannot be evaluated has not held"
                    } else {
                        ""
                    }
                ),
            });
        }
        if let Some(covariate) = &metric.covariate
            && comparisons
                .iter()
                .any(|c| c.cuped.is_some_and(|cuped| cuped.theta.is_none()))
        {
            status = status.max(Health::Warning);
            issues.push(Issue {
                severity: Health::Warning,
                message: format!(
                    "covariate `{covariate}` of `{}` has no variance within the arms (every unit, or every unit of an arm, has the same value), \
                     so CUPED was not applied; check the pre-period export",
                    metric.name
                ),
            });
        }
        // A pre-period measure predicts the metric, never determines it: a
        // covariate that removes nearly all of the lift's variance is the
        // metric itself (or computed from it), and its interval claims a
        // certainty the experiment does not have.
        if let Some(covariate) = &metric.covariate
            // Past the near-exact bound (`CupedComparison::usage`, the one
            // place it is tested).
            && comparisons.iter().any(|c| {
                c.cuped
                    .is_some_and(|cuped| cuped.usage == cuped::CupedUse::DeterminesMetric)
            })
        {
            status = status.max(Health::Warning);
            issues.push(Issue {
                severity: Health::Warning,
                message: format!(
                    "covariate `{covariate}` predicts `{}` almost exactly (CUPED would remove more than {} of the lift's variance); \
                     a pre-period measure never does, so CUPED was not applied: check that it is not the metric itself or computed from it",
                    metric.name,
                    numbers::share(1.0 - cuped::NEAR_EXACT_COVARIATE)
                ),
            });
        }
        // A pre-period measure differs between randomised arms only by
        // chance; one that differs more moved with the treatment, and θ
        // would take the effect away with it. Named per arm: in a
        // multi-arm experiment the others may be adjusted.
        if let Some(covariate) = &metric.covariate {
            for (t, c) in data.variants[1..].iter().zip(&comparisons) {
                let Some(cuped) = c.cuped.filter(|c| c.usage == cuped::CupedUse::Imbalanced) else {
                    continue;
                };
                status = status.max(Health::Warning);
                issues.push(Issue {
                    severity: Health::Warning,
                    message: format!(
                        "covariate `{covariate}` of `{}` differs between `{}` and `{}` ({}), more than \
                         randomisation allows for a measure taken before assignment, so CUPED was not \
                         applied to `{}`: check that the covariate was measured before the experiment started",
                        metric.name,
                        control.name,
                        t.name,
                        numbers::p_is(cuped.balance_p.unwrap_or(0.0)),
                        t.name
                    ),
                });
            }
        }
        for c in &mut comparisons {
            judge(c, metric.prefer, settings.alpha);
            if metric.role == Role::Guardrail {
                c.status = Some(if c.severe == Some(true) {
                    Status::Severe
                } else if c.worsened == Some(true) {
                    Status::Worsened
                } else {
                    Status::Ok
                });
            }
        }
        metrics.push(MetricResult {
            variants,
            comparisons,
        });
    }

    Evaluation {
        health: HealthReport {
            status,
            srm,
            issues,
        },
        sample,
        sample_reached,
        metrics,
        inference: inference.map_or(
            crate::inference::InferenceReport {
                method: plan
                    .sequential
                    .map_or(crate::plan::SequentialMethod::Fixed, |s| s.method),
                look: data.history().len() as u64,
                information: None,
                tuning: None,
                max_units: None,
            },
            |i| i.report,
        ),
        plan_progress,
        remaining,
        row_level: data.row_level.clone(),
    }
}

/// Health issues of row-level assignment: units seen in several variants,
/// or on several rows of one variant.
fn assignment_health(
    assignment: &Assignment,
    settings: &crate::plan::Settings,
    issues: &mut Vec<Issue>,
) -> Health {
    let mut worst = Health::Healthy;
    if assignment.units == 0 {
        return worst;
    }
    for (count, examples, what) in [
        (
            assignment.mixed,
            &assignment.mixed_examples,
            "assigned to more than one variant",
        ),
        (
            assignment.duplicated,
            &assignment.duplicated_examples,
            "on more than one row of their variant",
        ),
    ] {
        let share = count as f64 / assignment.units as f64;
        let severity = if share > settings.assignment_blocked {
            Health::Blocked
        } else if share > settings.assignment_warning {
            Health::Warning
        } else {
            continue;
        };
        worst = worst.max(severity);
        let shown: Vec<String> = examples.iter().map(|id| format!("`{id}`")).collect();
        // Aggregated counts (from `xos sql`) come without example ids.
        let examples = if shown.is_empty() {
            String::new()
        } else {
            format!(", for example {}", shown.join(", "))
        };
        issues.push(Issue {
            severity,
            message: format!(
                "{count} of {} ({:.2}%) are {what}{examples}",
                crate::numbers::units(assignment.units),
                share * 100.0,
            ),
        });
    }
    worst
}

/// Control and treatment arm `arm` of metric `id` at each look.
fn history(data: &Data, id: usize, arm: usize) -> Vec<crate::inference::History1<'_>> {
    data.history()
        .into_iter()
        .map(|variants| {
            let (c, t) = (&variants[0], &variants[arm]);
            ((c.units, &c.metrics[id]), (t.units, &t.metrics[id]))
        })
        .collect()
}

/// The cumulative lift of treatment arm `arm` on metric `id` at each look,
/// with the interval of the spec's inference at that look (the metric's own
/// fixed-horizon CI without `sequential`).
fn look_points(
    plan: &Plan,
    id: usize,
    data: &Data,
    arm: usize,
    inference: Option<&crate::inference::Inference>,
) -> Vec<crate::inference::LookPoint> {
    let history = history(data, id, arm);
    let sequential = inference.and_then(|i| i.look_intervals(arm, &history));
    data.looks
        .iter()
        .zip(&history)
        .enumerate()
        .map(|(k, (look, &(control, treatment)))| {
            let fixed = compare(plan, id, control, treatment, "", false);
            let (ci, z, boundary) = match &sequential {
                Some(points) => points[k],
                None => (
                    fixed.ci_low.zip(fixed.ci_high),
                    crate::inference::wald_z(control, treatment),
                    None,
                ),
            };
            crate::inference::LookPoint {
                look: k as u64 + 1,
                label: look.label.clone(),
                units: treatment.0,
                abs_lift: fixed.abs_lift,
                ci_low: ci.map(|ci| ci.0),
                ci_high: ci.map(|ci| ci.1),
                z,
                boundary,
            }
        })
        .collect()
}

/// Puts the sequential numbers in place of the fixed-horizon ones, keeping
/// these in `fixed_horizon`. Without a sequential result every number is
/// undefined and nothing is significant or non-inferior.
fn apply_sequential(c: &mut Comparison, sequential: Option<crate::inference::SequentialResult>) {
    c.fixed_horizon = Some(crate::inference::FixedHorizon {
        p_value: c.p_value,
        ci_low: c.ci_low,
        ci_high: c.ci_high,
    });
    let is_guardrail = c.status.is_some() || c.worsened.is_some();
    let had_margin = c.non_inferior.is_some();
    c.p_value = sequential.map(|s| s.p_value);
    c.ci_low = sequential.and_then(|s| s.ci).map(|x| x.0);
    c.ci_high = sequential.and_then(|s| s.ci).map(|x| x.1);
    c.rel_ci_low = sequential.and_then(|s| s.rel_ci).map(|x| x.0);
    c.rel_ci_high = sequential.and_then(|s| s.rel_ci).map(|x| x.1);
    c.ci_adj_low = c.ci_low;
    c.ci_adj_high = c.ci_high;
    c.boundary = sequential.and_then(|s| s.boundary);
    if is_guardrail {
        c.degradation_bound = sequential.and_then(|s| s.degradation_bound);
    }
    if had_margin {
        c.non_inferior = Some(sequential.and_then(|s| s.non_inferior) == Some(true));
    }
}

/// Sets `significant`, `better` and `worse` from the adjusted p-value.
fn judge(c: &mut Comparison, prefer: Direction, alpha: f64) {
    c.significant = c.p_adjusted.is_some_and(|p| p < alpha);
    let lift = c.abs_lift.unwrap_or(0.0);
    let up = match prefer {
        Direction::Higher => lift > 0.0,
        Direction::Lower => lift < 0.0,
    };
    let down = match prefer {
        Direction::Higher => lift < 0.0,
        Direction::Lower => lift > 0.0,
    };
    c.better = c.significant && up;
    c.worse = c.significant && down;
}

/// Compares one metric of one treatment arm with the control: `control` and
/// `treatment` are each arm's units and statistics. `posterior`: compute a
/// rate's Bayesian evidence (its exact posterior sums and Monte Carlo
/// credible interval are most of a comparison's cost; the per-look points
/// of `looks` need only the lift and its interval).
fn compare(
    plan: &Plan,
    id: usize,
    (n_c, control): (u64, &MetricData),
    (n_t, treatment): (u64, &MetricData),
    name: &str,
    posterior: bool,
) -> Comparison {
    let metric = &plan.metrics[id];
    let settings = &plan.settings;
    let alpha = settings.alpha;
    let mut c = Comparison {
        variant: name.to_string(),
        units: n_t,
        abs_lift: None,
        rel_lift: None,
        ci_low: None,
        ci_high: None,
        ci_adj_low: None,
        ci_adj_high: None,
        rel_ci_low: None,
        rel_ci_high: None,
        p_value: None,
        p_adjusted: None,
        significant: false,
        better: false,
        worse: false,
        prob_better: None,
        expected_loss: None,
        rel_credible_low: None,
        rel_credible_high: None,
        worsened: None,
        severe: None,
        non_inferior: None,
        degradation_bound: None,
        status: None,
        fixed_horizon: None,
        boundary: None,
        cuped: None,
        looks: Vec::new(),
    };
    let mut control_value = None;
    match (*control, *treatment) {
        (MetricData::Rate { count: x_c }, MetricData::Rate { count: x_t }) => {
            control_value = (n_c > 0).then(|| x_c as f64 / n_c as f64);
            let method = settings.rate_test.method();
            if let Some(r) = proportion::compare_rates_with(n_c, x_c, n_t, x_t, alpha, method) {
                c.abs_lift = Some(r.abs_lift);
                c.rel_lift = r.rel_lift;
                c.ci_low = Some(r.ci_low);
                c.ci_high = Some(r.ci_high);
                c.p_value = Some(r.p_value);
                let relative = settings.relative_ci.method();
                if let Some((lo, hi)) = proportion::relative_ci(n_c, x_c, n_t, x_t, alpha, relative)
                {
                    c.rel_ci_low = Some(lo);
                    c.rel_ci_high = Some(hi);
                }
            }
            if posterior {
                if let Some(b) = bayes::beta_binomial(x_c, n_c, x_t, n_t, settings.prior) {
                    set_bayes(&mut c, metric.prefer, b);
                }
                if let Some((lo, hi)) = credible::relative_lift_credible(
                    x_c,
                    n_c,
                    x_t,
                    n_t,
                    settings.prior,
                    1.0 - alpha,
                    settings.draws,
                    settings.seed,
                ) {
                    c.rel_credible_low = Some(lo);
                    c.rel_credible_high = Some(hi);
                }
            }
        }
        (MetricData::Mean { .. }, MetricData::Mean { .. }) => {
            // INVARIANT: both arms are means, so mean_arms is Some.
            let Some((cs, ts)) = mean_arms(n_c, *control, n_t, *treatment) else {
                return c;
            };
            control_value = (n_c > 0).then(|| cs.mean());
            // Two known means have a difference even when an arm of one unit
            // has no variance; only the statistics that need one stay null.
            if let Some((abs_lift, rel_lift)) = mean::lifts(cs, ts) {
                c.abs_lift = Some(abs_lift);
                c.rel_lift = rel_lift;
            }
            if let Some(m) = mean::compare_means(cs, ts, alpha) {
                c.ci_low = Some(m.ci_low);
                c.ci_high = Some(m.ci_high);
                c.p_value = Some(m.p_value);
                if let Some((lo, hi)) = m.relative_ci(settings.relative_ci.method()) {
                    c.rel_ci_low = Some(lo);
                    c.rel_ci_high = Some(hi);
                }
                let se_c = (m.var_c / n_c as f64).sqrt();
                let se_t = (m.var_t / n_t as f64).sqrt();
                if let Some(b) = bayes::normal_posteriors(m.abs_lift, se_c, se_t) {
                    set_bayes(&mut c, metric.prefer, b);
                }
            }
        }
        (c_data @ MetricData::Ratio { .. }, t_data @ MetricData::Ratio { .. }) => {
            let (Some(cs), Some(ts)) = (ratio_stats(n_c, &c_data), ratio_stats(n_t, &t_data))
            else {
                return c;
            };
            control_value = cs.ratio();
            if let Some(r) = ratio::compare_ratios(cs, ts, alpha, settings.relative_ci.method()) {
                set_normal_theory(
                    &mut c,
                    metric.prefer,
                    &Tested {
                        abs_lift: r.abs_lift,
                        rel_lift: r.rel_lift,
                        ci: (r.ci_low, r.ci_high),
                        p_value: r.p_value,
                        rel_ci: r.rel_ci,
                        arms: [r.r_c, r.var_r_c, r.r_t, r.var_r_t],
                    },
                );
            }
        }
        (c_data @ MetricData::Adjusted { .. }, t_data @ MetricData::Adjusted { .. }) => {
            // The metric's own test without the covariate, kept in the report.
            let unadjusted = compare(
                plan,
                id,
                (n_c, &c_data.unadjusted()),
                (n_t, &t_data.unadjusted()),
                name,
                posterior,
            );
            let (Some(cs), Some(ts)) = (cuped_stats(n_c, &c_data), cuped_stats(n_t, &t_data))
            else {
                return unadjusted;
            };
            let Some(r) = cuped::compare_cuped(cs, ts, alpha, settings.relative_ci.method()) else {
                return unadjusted;
            };
            let report = CupedReport {
                theta: r.theta,
                usage: r.usage(),
                balance_p: Some(r.balance_p).filter(|p| p.is_finite()),
                variance_reduction: r.variance_reduction,
                unadjusted: Unadjusted {
                    abs_lift: unadjusted.abs_lift,
                    ci_low: unadjusted.ci_low,
                    ci_high: unadjusted.ci_high,
                    p_value: unadjusted.p_value,
                },
            };
            if !r.applied() {
                // No variance in the covariate, or one that determines the
                // metric: nothing to adjust with (health says which).
                return Comparison {
                    cuped: Some(report),
                    ..unadjusted
                };
            }
            c = Comparison {
                cuped: Some(report),
                ..unadjusted
            };
            control_value = Some(r.m_c);
            set_normal_theory(
                &mut c,
                metric.prefer,
                &Tested {
                    abs_lift: r.abs_lift,
                    rel_lift: r.rel_lift,
                    ci: (r.ci_low, r.ci_high),
                    p_value: r.p_value,
                    rel_ci: r.rel_ci,
                    arms: [r.m_c, r.v_c, r.m_t, r.v_t],
                },
            );
        }
        // INVARIANT: src/data/ builds each metric's data from the metric's kind.
        _ => {}
    }
    c.ci_adj_low = c.ci_low;
    c.ci_adj_high = c.ci_high;
    // A relative interval of no width beside an absolute one that has some
    // (the delta method at 0 events in the treatment: [−100%, −100%] next
    // to a score interval of ±0.8 pp) would claim a certainty the data does
    // not have: it is undefined instead.
    if let (Some(low), Some(high), Some(rel_low), Some(rel_high)) =
        (c.ci_low, c.ci_high, c.rel_ci_low, c.rel_ci_high)
        && rel_low == rel_high
        && low < high
    {
        c.rel_ci_low = None;
        c.rel_ci_high = None;
    }

    if metric.role == Role::Guardrail {
        // The degradation: the lift in the unpreferred direction.
        let sign = match metric.prefer {
            Direction::Higher => -1.0,
            Direction::Lower => 1.0,
        };
        let degradation = c.abs_lift.map(|l| sign * l);
        let reaches = |threshold: Option<Effect>| -> Option<bool> {
            let threshold = threshold?;
            let d = degradation?;
            Some(match threshold {
                Effect::Absolute(t) => d >= t,
                Effect::Relative(t) => match control_value {
                    Some(base) if base != 0.0 => d / base.abs() >= t,
                    // A degradation from a control of 0 is infinitely large
                    // relative to it.
                    _ => d > 0.0,
                },
            })
        };
        c.worsened = Some(reaches(metric.worsened).unwrap_or(false));
        c.severe = Some(reaches(metric.severe).unwrap_or(false));
        if c.severe == Some(true) {
            c.worsened = Some(true);
        }
        let bound = degradation_bound(settings, metric.prefer, n_c, control, n_t, treatment);
        c.degradation_bound = bound;
        if let Some(margin) = metric.margin {
            let margin_abs = match margin {
                Effect::Absolute(m) => Some(m),
                Effect::Relative(m) => control_value.map(|base| m * base.abs()),
            };
            // No bound (a zero standard error) is missing information: it
            // never proves non-inferiority.
            c.non_inferior = Some(matches!((bound, margin_abs), (Some(b), Some(m)) if b < m));
        }
    }
    c
}

/// The numbers of a ratio or CUPED comparison, as [`set_normal_theory`] takes them.
struct Tested {
    abs_lift: f64,
    rel_lift: Option<f64>,
    ci: (f64, f64),
    p_value: f64,
    rel_ci: Option<(f64, f64)>,
    /// `[m_c, Var(m_c), m_t, Var(m_t)]`: the arms' estimates and their
    /// sampling variances, for the Bayesian normal approximation.
    arms: [f64; 4],
}

/// Writes a ratio's or CUPED's test into `c`, with the Bayesian evidence of
/// the normal approximation (a posterior N(m, Var(m)) per arm).
fn set_normal_theory(c: &mut Comparison, prefer: Direction, t: &Tested) {
    c.abs_lift = Some(t.abs_lift);
    c.rel_lift = t.rel_lift;
    (c.ci_low, c.ci_high) = (Some(t.ci.0), Some(t.ci.1));
    c.p_value = Some(t.p_value);
    c.rel_ci_low = t.rel_ci.map(|ci| ci.0);
    c.rel_ci_high = t.rel_ci.map(|ci| ci.1);
    let [m_c, v_c, m_t, v_t] = t.arms;
    (c.prob_better, c.expected_loss) = (None, None);
    if let Some(b) = bayes::normal_approx(m_c, v_c.sqrt(), m_t, v_t.sqrt()) {
        set_bayes(c, prefer, b);
    }
}

fn ratio_stats(n: u64, data: &MetricData) -> Option<ratio::RatioStats> {
    match *data {
        MetricData::Ratio {
            sum_x,
            sum_x_sq,
            sum_y,
            sum_y_sq,
            sum_xy,
        } => Some(ratio::RatioStats {
            n,
            sum_x,
            sum_x_sq,
            sum_y,
            sum_y_sq,
            sum_xy,
        }),
        _ => None,
    }
}

fn cuped_stats(n: u64, data: &MetricData) -> Option<cuped::CupedStats> {
    match *data {
        MetricData::Adjusted {
            sum_y,
            sum_y_sq,
            sum_c,
            sum_c_sq,
            sum_yc,
            ..
        } => Some(cuped::CupedStats {
            n,
            sum_y,
            sum_y_sq,
            sum_c,
            sum_c_sq,
            sum_yc,
        }),
        _ => None,
    }
}

/// The two arms' sufficient statistics of a mean metric.
fn mean_arms(
    n_c: u64,
    control: MetricData,
    n_t: u64,
    treatment: MetricData,
) -> Option<(mean::MeanStats, mean::MeanStats)> {
    match (control, treatment) {
        (
            MetricData::Mean {
                sum: s_c,
                sum_sq: q_c,
            },
            MetricData::Mean {
                sum: s_t,
                sum_sq: q_t,
            },
        ) => Some((
            mean::MeanStats {
                n: n_c,
                sum: s_c,
                sum_sq: q_c,
            },
            mean::MeanStats {
                n: n_t,
                sum: s_t,
                sum_sq: q_t,
            },
        )),
        _ => None,
    }
}

/// One-sided `1 − α` upper bound of a guardrail's degradation (the lift in
/// the unpreferred direction), by the metric's own method: for rates the
/// upper end of the `rate_test`'s two-sided `1 − 2α` interval of the
/// degradation (`stats::proportion::upper_bound`, the arms swapped when
/// higher is better); for means `d + t_{df, 1−α}·se`. `None` when the
/// standard error is 0 or undefined.
fn degradation_bound(
    settings: &crate::plan::Settings,
    prefer: Direction,
    n_c: u64,
    control: &MetricData,
    n_t: u64,
    treatment: &MetricData,
) -> Option<f64> {
    let alpha = settings.alpha;
    if let (MetricData::Rate { count: x_c }, MetricData::Rate { count: x_t }) =
        (*control, *treatment)
    {
        let method = settings.rate_test.method();
        return match prefer {
            Direction::Lower => proportion::upper_bound(n_c, x_c, n_t, x_t, alpha, method),
            Direction::Higher => proportion::upper_bound(n_t, x_t, n_c, x_c, alpha, method),
        };
    }
    let sign = match prefer {
        Direction::Higher => -1.0,
        Direction::Lower => 1.0,
    };
    if let (Some(cs), Some(ts)) = (ratio_stats(n_c, control), ratio_stats(n_t, treatment)) {
        let r = ratio::compare_ratios(cs, ts, alpha, settings.relative_ci.method())?;
        return (r.se > 0.0).then(|| sign * r.abs_lift + dist::normal_quantile(1.0 - alpha) * r.se);
    }
    if let (Some(cs), Some(ts)) = (cuped_stats(n_c, control), cuped_stats(n_t, treatment)) {
        let r = cuped::compare_cuped(cs, ts, alpha, settings.relative_ci.method())?;
        if !r.applied() {
            // Not adjusted: the bound of the metric's own test.
            let (c, t) = (control.unadjusted(), treatment.unadjusted());
            return degradation_bound(settings, prefer, n_c, &c, n_t, &t);
        }
        return Some(sign * r.abs_lift + dist::student_t_quantile(1.0 - alpha, r.df?) * r.se);
    }
    let (cs, ts) = mean_arms(n_c, *control, n_t, *treatment)?;
    let m = mean::compare_means(cs, ts, alpha)?;
    let df = m.df?;
    Some(sign * m.abs_lift + dist::student_t_quantile(1.0 - alpha, df) * m.se)
}

/// The interval of the lift at level `1 − level` by the metric's own
/// procedure (for the per-comparison level of a correction).
fn interval_at(
    settings: &crate::plan::Settings,
    n_c: u64,
    control: &MetricData,
    n_t: u64,
    treatment: &MetricData,
    level: f64,
) -> Option<(f64, f64)> {
    if let (MetricData::Rate { count: x_c }, MetricData::Rate { count: x_t }) =
        (*control, *treatment)
    {
        return proportion::rate_interval(n_c, x_c, n_t, x_t, level, settings.rate_test.method());
    }
    let method = settings.relative_ci.method();
    if let (Some(cs), Some(ts)) = (ratio_stats(n_c, control), ratio_stats(n_t, treatment)) {
        return ratio::compare_ratios(cs, ts, level, method).map(|r| (r.ci_low, r.ci_high));
    }
    if let (Some(cs), Some(ts)) = (cuped_stats(n_c, control), cuped_stats(n_t, treatment)) {
        let r = cuped::compare_cuped(cs, ts, level, method)?;
        if !r.applied() {
            let (c, t) = (control.unadjusted(), treatment.unadjusted());
            return interval_at(settings, n_c, &c, n_t, &t, level);
        }
        return Some((r.ci_low, r.ci_high));
    }
    let (cs, ts) = mean_arms(n_c, *control, n_t, *treatment)?;
    mean::compare_means(cs, ts, level).map(|m| (m.ci_low, m.ci_high))
}

/// Whether both arms of a metric are constant (each rate 0 % or 100 %, each
/// mean without variance): the Wald / Welch standard error is then 0 and the
/// test carries no information (DESIGN §2).
fn without_variance(n_c: u64, control: &MetricData, n_t: u64, treatment: &MetricData) -> bool {
    if let (MetricData::Adjusted { .. }, MetricData::Adjusted { .. }) = (control, treatment) {
        // The metric's own variance: a covariate that removes all of it is
        // reported as one that predicts the metric exactly.
        return without_variance(n_c, &control.unadjusted(), n_t, &treatment.unadjusted());
    }
    let constant = |n: u64, data: &MetricData| match *data {
        MetricData::Rate { count } => count == 0 || count == n,
        MetricData::Mean { sum, sum_sq } => mean::MeanStats { n, sum, sum_sq }
            .variance()
            .is_some_and(|v| v == 0.0),
        data @ MetricData::Ratio { .. } => {
            ratio_stats(n, &data).and_then(|r| r.variance()) == Some(0.0)
        }
        // INVARIANT: both arms of a metric have one kind of data.
        MetricData::Adjusted { .. } => false,
    };
    n_c > 0 && n_t > 0 && constant(n_c, control) && constant(n_t, treatment)
}

fn set_bayes(c: &mut Comparison, prefer: Direction, b: bayes::BayesResult) {
    let (prob, loss) = match prefer {
        Direction::Higher => (b.prob_t_beats_c, b.expected_loss_t),
        // Lower is better: "better" is the treatment being below the control
        // (that tail computed directly, never as 1 − P), and shipping it
        // loses E[max(p_T − p_C, 0)].
        Direction::Lower => (b.prob_c_beats_t, b.expected_loss_c),
    };
    c.prob_better = finite(prob);
    c.expected_loss = finite(loss);
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Settings;

    #[test]
    fn assignment_problems_grade_health_by_share() {
        let settings = Settings::default();
        let mut issues = Vec::new();
        let clean = Assignment {
            units: 10_000,
            mixed: 10,
            ..Default::default()
        };
        assert_eq!(
            assignment_health(&clean, &settings, &mut issues),
            Health::Healthy
        );
        assert!(issues.is_empty());

        let warning = Assignment {
            units: 10_000,
            mixed: 11,
            mixed_examples: vec!["u7".into()],
            ..Default::default()
        };
        assert_eq!(
            assignment_health(&warning, &settings, &mut issues),
            Health::Warning
        );
        assert!(
            issues[0].message.contains("11 of 10,000 units"),
            "{}",
            issues[0].message
        );
        assert!(issues[0].message.contains("`u7`"));

        let blocked = Assignment {
            units: 10_000,
            duplicated: 101,
            ..Default::default()
        };
        assert_eq!(
            assignment_health(&blocked, &settings, &mut issues),
            Health::Blocked
        );
    }
}

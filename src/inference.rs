//! Sequential inference in an evaluation: with a `sequential` block, every
//! comparison's `p`, CI, relative CI and non-inferiority bound come from the
//! sequential method, and the fixed-horizon numbers are kept beside them
//! (`fixed_horizon`) for reference. DESIGN.md §2 "Sequential inference".
//!
//! - `always_valid`: the normal-mixture confidence sequence
//!   ([`crate::stats::always_valid`]), tuned at `tuning` (default: the plan's
//!   total, else 10,000). It needs no look history.
//! - `group_sequential`: Lan–DeMets bounds on the observed information
//!   fraction `t = min(1, N/N_max)`, `N` the units of all variants so far and
//!   `N_max` = `max_units` (default: the plan's total)
//!   ([`crate::stats::sequential`]). Data without a look column is one look.
//!
//! Both use the unpooled Wald standard error for rates (whatever `rate_test`
//! says) and the Welch standard error for means.

use serde::Serialize;

use crate::data::{Data, MetricData};
use crate::plan::{Direction, Effect, Plan, Role, SequentialMethod};
use crate::sample_size::PlannedSample;
use crate::stats::always_valid::{self, ArmEstimate, relative_se};
use crate::stats::mean::MeanStats;
use crate::stats::sequential::{Design, LookEstimate, analyze, repeated_intervals};

/// Tuning of `always_valid` without a plan or a `tuning` (DESIGN.md §2).
pub const DEFAULT_TUNING: u64 = 10_000;

/// `inference` of the report: which inference decided, at which look.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InferenceReport {
    /// Fixed horizon, always-valid or group-sequential.
    pub method: SequentialMethod,
    /// The current look, from 1 (data without a look column is one look).
    pub look: u64,
    /// Group-sequential: the information fraction `t` at this look;
    /// always-valid: units so far over the tuning; fixed: `null`.
    pub information: Option<f64>,
    /// Always-valid: the tuning `N*` in force.
    pub tuning: Option<u64>,
    /// Group-sequential: `N_max`.
    pub max_units: Option<u64>,
}

/// What the comparisons of one evaluation share.
pub struct Inference {
    /// What the report's `inference` section shows.
    pub report: InferenceReport,
    alpha: f64,
    kind: Kind,
}

enum Kind {
    Fixed,
    AlwaysValid { tuning: f64 },
    GroupSequential { design: Design },
}

impl Inference {
    /// The inference of `plan` over `data`. `None` for a group-sequential
    /// spec without `max_units` whose plan cannot be computed, which `check`
    /// rejects, or when α is invalid.
    pub fn new(plan: &Plan, data: &Data, sample: Option<&PlannedSample>) -> Option<Inference> {
        let alpha = plan.settings.alpha;
        let units: u64 = data.variants.iter().map(|v| v.units).sum();
        // The plan's total, when the spec declares a `plan`.
        let planned = sample
            .filter(|_| plan.sample_plan.is_some())
            .map(|s| s.total);
        let Some(sequential) = plan.sequential else {
            return Some(Inference {
                report: InferenceReport {
                    method: SequentialMethod::Fixed,
                    look: 1,
                    information: None,
                    tuning: None,
                    max_units: None,
                },
                alpha,
                kind: Kind::Fixed,
            });
        };
        match sequential.method {
            SequentialMethod::Fixed => None,
            SequentialMethod::AlwaysValid => {
                let tuning = sequential.tuning.or(planned).unwrap_or(DEFAULT_TUNING);
                Some(Inference {
                    report: InferenceReport {
                        method: SequentialMethod::AlwaysValid,
                        look: 1,
                        information: Some(units as f64 / tuning as f64),
                        tuning: Some(tuning),
                        max_units: None,
                    },
                    alpha,
                    kind: Kind::AlwaysValid {
                        tuning: tuning as f64,
                    },
                })
            }
            SequentialMethod::GroupSequential => {
                let max_units = sequential.max_units.or(planned)?;
                let design = Design::new(alpha, sequential.spending, &[units], max_units).ok()?;
                Some(Inference {
                    report: InferenceReport {
                        method: SequentialMethod::GroupSequential,
                        look: 1,
                        information: design.fractions.last().copied(),
                        tuning: None,
                        max_units: Some(max_units),
                    },
                    alpha,
                    kind: Kind::GroupSequential { design },
                })
            }
        }
    }

    /// `true` with a sequential method.
    pub fn is_sequential(&self) -> bool {
        !matches!(self.kind, Kind::Fixed)
    }

    /// The sequential numbers of one comparison of metric `id` (before the
    /// correction across arms), which replace the fixed-horizon `p`, CI,
    /// relative CI and non-inferiority; `lift` is the comparison's `Δ̂`.
    /// `None` with fixed-horizon inference or when the arms give no estimate.
    /// With `se = 0` (no variance) the sequential interval is undefined and
    /// `p = 1`: a zero standard error is missing information, never certainty.
    pub fn compare(
        &self,
        plan: &Plan,
        id: usize,
        control: (u64, &MetricData),
        treatment: (u64, &MetricData),
        lift: Option<f64>,
    ) -> Option<SequentialResult> {
        let (arm_c, arm_t) = (arm(control)?, arm(treatment)?);
        let lift = lift.unwrap_or(arm_t.mean - arm_c.mean);
        let two_alpha = (2.0 * self.alpha < 1.0).then_some(2.0 * self.alpha);
        let mut boundary = None;
        // (p, CI, relative CI, 1 − 2α interval for the degradation bound)
        let (p, ci, rel_ci, ci_2alpha) = match &self.kind {
            Kind::Fixed => return None,
            Kind::AlwaysValid { tuning } => {
                let av = always_valid::compare(arm_c, arm_t, self.alpha, *tuning)?;
                let two = two_alpha
                    .and_then(|a| always_valid::compare(arm_c, arm_t, a, *tuning))
                    .and_then(|r| r.ci_low.zip(r.ci_high));
                (
                    av.p_value,
                    av.ci_low.zip(av.ci_high),
                    av.rel_ci_low.zip(av.rel_ci_high),
                    two,
                )
            }
            Kind::GroupSequential { design } => {
                let se = (arm_c.variance + arm_t.variance).sqrt();
                let looks = [LookEstimate { estimate: lift, se }];
                let gs = analyze(design, &looks)?;
                boundary = gs.boundary;
                let rel_ci = match (gs.boundary, relative_se(arm_c, arm_t)) {
                    (Some(b), Some(se_rel)) if se > 0.0 => {
                        let rel = lift / arm_c.mean.abs();
                        Some((rel - b * se_rel, rel + b * se_rel))
                    }
                    _ => None,
                };
                let two = two_alpha
                    .and_then(|a| repeated_intervals(design, &looks, a))
                    .and_then(|rcis| rcis[gs.analysis_look]);
                (gs.p_value, gs.ci, rel_ci, two)
            }
        };
        let metric = &plan.metrics[id];
        let mut degradation_bound = None;
        let mut non_inferior = None;
        if metric.role == Role::Guardrail {
            // The degradation is the lift in the unpreferred direction; its
            // one-sided (1 − α) upper bound is an end of the 1 − 2α interval.
            degradation_bound = ci_2alpha.map(|(low, high)| match metric.prefer {
                Direction::Higher => -low,
                Direction::Lower => high,
            });
            if let Some(margin) = metric.margin {
                let margin_abs = match margin {
                    Effect::Absolute(m) => m,
                    Effect::Relative(m) => m * arm_c.mean.abs(),
                };
                non_inferior = Some(degradation_bound.is_some_and(|b| b < margin_abs));
            }
        }
        Some(SequentialResult {
            p_value: p,
            ci,
            rel_ci,
            boundary,
            degradation_bound,
            non_inferior,
        })
    }
}

impl Inference {
    /// The sequential interval of a comparison at another level `alpha`
    /// (the corrected per-comparison level of `ci_adj_low`/`ci_adj_high`);
    /// `None` with fixed-horizon inference or when undefined.
    pub fn interval_at(
        &self,
        control: (u64, &MetricData),
        treatment: (u64, &MetricData),
        lift: Option<f64>,
        alpha: f64,
    ) -> Option<(f64, f64)> {
        let (arm_c, arm_t) = (arm(control)?, arm(treatment)?);
        match &self.kind {
            Kind::Fixed => None,
            Kind::AlwaysValid { tuning } => {
                let av = always_valid::compare(arm_c, arm_t, alpha, *tuning)?;
                av.ci_low.zip(av.ci_high)
            }
            Kind::GroupSequential { design } => {
                let se = (arm_c.variance + arm_t.variance).sqrt();
                let estimate = lift.unwrap_or(arm_t.mean - arm_c.mean);
                let looks = [LookEstimate { estimate, se }];
                let rcis = repeated_intervals(design, &looks, alpha)?;
                rcis[design.final_look.unwrap_or(rcis.len() - 1)]
            }
        }
    }
}

/// The sequential numbers of one comparison ([`Inference::compare`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SequentialResult {
    /// The sequential p-value: always-valid, the confidence sequence's p (Howard et al. 2021);
    /// group-sequential, the repeated p-value (Jennison & Turnbull §9.2), so `p < α` ⇔ a bound was
    /// crossed. 1 when `se = 0`.
    pub p_value: f64,
    /// `None` when undefined (`se = 0`, or a look without a bound).
    pub ci: Option<(f64, f64)>,
    /// The sequential interval of the relative lift, a fraction; `None` when undefined (a zero
    /// control mean, `se = 0`).
    pub rel_ci: Option<(f64, f64)>,
    /// Group-sequential: the z bound at the current look.
    pub boundary: Option<f64>,
    /// Guardrails: the one-sided (1 − α) upper bound of the degradation.
    pub degradation_bound: Option<f64>,
    /// Guardrails with a `margin`.
    pub non_inferior: Option<bool>,
}

/// The fixed-horizon test of a comparison under sequential inference, kept
/// in the report for reference.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FixedHorizon {
    /// The fixed-horizon p-value of the metric's own test; `None` when undefined.
    pub p_value: Option<f64>,
    /// Lower bound of the fixed-horizon (1 − α) interval of the lift, in the metric's units.
    pub ci_low: Option<f64>,
    /// Upper bound of the fixed-horizon (1 − α) interval of the lift, in the metric's units.
    pub ci_high: Option<f64>,
}

/// One arm's estimate with its sequential variance (Wald for rates, Welch
/// for means).
fn arm((units, data): (u64, &MetricData)) -> Option<ArmEstimate> {
    match *data {
        MetricData::Rate { count } => ArmEstimate::rate(units, count),
        MetricData::Mean { sum, sum_sq } => ArmEstimate::mean(MeanStats {
            n: units,
            sum,
            sum_sq,
        }),
        // The checker refuses `sequential` with these kinds
        // (`xos::check::sequential_metric_kind`).
        MetricData::Ratio { .. } | MetricData::Adjusted { .. } => None,
    }
}

//! Sequential inference in an evaluation: with a `sequential` block, every
//! comparison's `p`, CI, relative CI and non-inferiority bound come from the
//! sequential method, and the fixed-horizon numbers are kept beside them
//! (`fixed_horizon`) for reference. DESIGN.md §2 "Sequential inference".
//!
//! - `always_valid`: the normal-mixture confidence sequence
//!   ([`crate::stats::always_valid`]), tuned at `tuning` (default: the plan's
//!   total, else 10,000). It needs no look history. With more than one
//!   treatment arm each comparison is tuned at its two arms' designed share
//!   of `tuning`, since its `N` counts those two arms only.
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
use crate::stats::sequential::{
    Design, LookEstimate, analyze, repeated_intervals, reported_interval,
};

/// Tuning of `always_valid` without a plan or a `tuning` (DESIGN.md §2).
pub const DEFAULT_TUNING: u64 = 10_000;

/// The tuning of each treatment arm's comparison, in the units of its two
/// arms: the experiment's `tuning` (all arms) times the control's and that
/// arm's designed shares. `N = n_c + n_t` in the mixture counts the pair, so
/// a pair tuned at the whole total would reach its tightest point only at
/// `1/(w_c + w_t)` times the total (1.5× with three even arms). With one
/// treatment arm the tuning is the total itself.
fn pair_tunings(plan: &Plan, tuning: u64) -> Vec<f64> {
    let treatments = plan.treatments();
    if treatments.len() <= 1 {
        return vec![tuning as f64; treatments.len()];
    }
    let control = plan.control().share;
    treatments
        .iter()
        .map(|t| tuning as f64 * (control + t.share))
        .collect()
}

/// The tuning of treatment arm `arm` (1 = the first treatment).
fn tuning_of(tunings: &[f64], arm: usize) -> Option<f64> {
    tunings.get(arm.checked_sub(1)?).copied()
}

/// The note `xos watch` prints once for a fixed-horizon spec without a
/// `plan`: re-evaluated on every save, its verdict is valid for one look
/// only, and nothing holds it until a planned sample. `None` for a spec with
/// `sequential` or a `plan` (the shipped policies then wait for the sample).
pub fn watch_note(plan: &Plan) -> Option<crate::diagnostic::Diagnostic> {
    if plan.sequential.is_some() || plan.sample_plan.is_some() {
        return None;
    }
    Some(
        crate::diagnostic::Diagnostic::warning(
            "xos::watch::single_look",
            format!(
                "`{}` is fixed-horizon without a plan: decisions taken while watching are valid only with `sequential`",
                plan.name
            ),
        )
        .at_path(&plan.spec_path)
        .help(
            "every save re-reads the data, and acting on the first significant memo inflates \
             false launches several-fold; add `sequential { method always_valid }` to the spec \
             (valid at any look), or a `plan` so the policy waits for the planned sample",
        ),
    )
}

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

/// One arm's units and statistics for one metric.
pub type ArmData<'a> = (u64, &'a MetricData);

/// Control and treatment of one comparison at one look.
pub type History1<'a> = (ArmData<'a>, ArmData<'a>);

/// Control and treatment of one comparison at each look, oldest first; the
/// last entry is the current data.
pub type History<'a> = [History1<'a>];

/// One look of a comparison (`metrics[].comparisons[].looks` of the report):
/// the cumulative lift up to that look, with the interval of the spec's
/// inference at that look (the fixed-horizon CI, the always-valid confidence
/// sequence, or the group-sequential repeated confidence interval).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LookPoint {
    /// From 1.
    pub look: u64,
    /// The look's value in the data (`2026-11-03`).
    pub label: String,
    /// The treatment arm's cumulative units.
    pub units: u64,
    /// The cumulative absolute lift at this look (a fraction for rates, the
    /// metric's unit for means); `None` when undefined.
    pub abs_lift: Option<f64>,
    /// Lower bound of the look's interval on the absolute lift (the method's
    /// own: the confidence sequence, or the fixed-horizon interval).
    pub ci_low: Option<f64>,
    /// Upper bound of the look's interval on the absolute lift.
    pub ci_high: Option<f64>,
    /// `Δ̂_k/SE_k` with the Wald/Welch SE of the look's data (rates and means).
    pub z: Option<f64>,
    /// Group-sequential: the z bound at this look.
    pub boundary: Option<f64>,
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
    /// `tunings[i]`: the tuning `N*` of treatment arm `i + 1` against the
    /// control, in the units of those two arms.
    AlwaysValid {
        tunings: Vec<f64>,
    },
    GroupSequential {
        design: Design,
    },
}

impl Inference {
    /// The inference of `plan` over `data`. `None` for a group-sequential
    /// spec without `max_units` whose plan cannot be computed, which `check`
    /// rejects, or when α is invalid.
    pub fn new(plan: &Plan, data: &Data, sample: Option<&PlannedSample>) -> Option<Inference> {
        let alpha = plan.settings.alpha;
        let units: u64 = data.variants.iter().map(|v| v.units).sum();
        let history = data.history();
        let look = history.len() as u64;
        // The plan's total, when the spec declares a `plan`.
        let planned = sample
            .filter(|_| plan.sample_plan.is_some())
            .map(|s| s.total);
        let Some(sequential) = plan.sequential else {
            return Some(Inference {
                report: InferenceReport {
                    method: SequentialMethod::Fixed,
                    look,
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
                        look,
                        information: Some(units as f64 / tuning as f64),
                        tuning: Some(tuning),
                        max_units: None,
                    },
                    alpha,
                    kind: Kind::AlwaysValid {
                        tunings: pair_tunings(plan, tuning),
                    },
                })
            }
            SequentialMethod::GroupSequential => {
                let max_units = sequential.max_units.or(planned)?;
                let per_look: Vec<u64> = history
                    .iter()
                    .map(|variants| variants.iter().map(|v| v.units).sum())
                    .collect();
                let design = Design::new(alpha, sequential.spending, &per_look, max_units).ok()?;
                Some(Inference {
                    report: InferenceReport {
                        method: SequentialMethod::GroupSequential,
                        look,
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
    /// relative CI and non-inferiority; `treatment_arm` is the treatment's
    /// index among the variants (1 = the first treatment), `history` its
    /// looks against the control, `lift` the comparison's `Δ̂`.
    /// `None` with fixed-horizon inference or when the arms give no estimate.
    /// With `se = 0` (no variance) the sequential interval is undefined and
    /// `p = 1`: a zero standard error is missing information, never certainty.
    pub fn compare(
        &self,
        plan: &Plan,
        id: usize,
        treatment_arm: usize,
        history: &History,
        lift: Option<f64>,
    ) -> Option<SequentialResult> {
        let &(control, treatment) = history.last()?;
        let (arm_c, arm_t) = (arm(control)?, arm(treatment)?);
        let lift = lift.unwrap_or(arm_t.mean - arm_c.mean);
        let two_alpha = (2.0 * self.alpha < 1.0).then_some(2.0 * self.alpha);
        let mut boundary = None;
        // (p, CI, relative CI, 1 − 2α interval for the degradation bound)
        let (p, ci, rel_ci, ci_2alpha) = match &self.kind {
            Kind::Fixed => return None,
            Kind::AlwaysValid { tunings } => {
                let tuning = tuning_of(tunings, treatment_arm)?;
                let av = always_valid::compare(arm_c, arm_t, self.alpha, tuning)?;
                let two = two_alpha
                    .and_then(|a| always_valid::compare(arm_c, arm_t, a, tuning))
                    .and_then(|r| r.ci_low.zip(r.ci_high));
                (
                    av.p_value,
                    av.ci_low.zip(av.ci_high),
                    av.rel_ci_low.zip(av.rel_ci_high),
                    two,
                )
            }
            Kind::GroupSequential { design } => {
                let looks = look_estimates(history, Some(lift))?;
                let gs = analyze(design, &looks)?;
                boundary = gs.boundary;
                // The relative interval by the absolute one's rule: the
                // analysis look's, after a crossing at an earlier look its
                // intersection with the crossing look's (or that one alone
                // when they are disjoint), so both intervals come from the
                // same looks and exclude 0 together.
                let relative = |k: usize| {
                    let &(control, treatment) = history.get(k)?;
                    let (c, t) = (arm(control)?, arm(treatment)?);
                    let (b, se_rel) = (design.bounds.get(k).copied()??, relative_se(c, t)?);
                    let look = looks.get(k)?;
                    (look.se > 0.0).then(|| {
                        let rel = look.estimate / c.mean.abs();
                        (rel - b * se_rel, rel + b * se_rel)
                    })
                };
                let rel_ci = reported_interval(relative, gs.crossed_at, gs.analysis_look);
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
    /// The sequential interval of treatment arm `treatment_arm`'s comparison
    /// at another level `alpha` (the corrected per-comparison level of
    /// `ci_adj_low`/`ci_adj_high`);
    /// `None` with fixed-horizon inference or when undefined.
    pub fn interval_at(
        &self,
        treatment_arm: usize,
        history: &History,
        lift: Option<f64>,
        alpha: f64,
    ) -> Option<(f64, f64)> {
        let &(control, treatment) = history.last()?;
        let (arm_c, arm_t) = (arm(control)?, arm(treatment)?);
        match &self.kind {
            Kind::Fixed => None,
            Kind::AlwaysValid { tunings } => {
                let tuning = tuning_of(tunings, treatment_arm)?;
                let av = always_valid::compare(arm_c, arm_t, alpha, tuning)?;
                av.ci_low.zip(av.ci_high)
            }
            Kind::GroupSequential { design } => {
                let looks = look_estimates(history, lift)?;
                let rcis = repeated_intervals(design, &looks, alpha)?;
                rcis[design.final_look.unwrap_or(rcis.len() - 1)]
            }
        }
    }

    /// The sequential interval, z and bound of treatment arm
    /// `treatment_arm`'s comparison at each look
    /// (`None` entries where undefined); `None` with fixed-horizon inference
    /// or when a look's arms give no estimate. z is `Δ̂_k/SE_k`.
    #[allow(clippy::type_complexity)]
    pub fn look_intervals(
        &self,
        treatment_arm: usize,
        history: &History,
    ) -> Option<Vec<(Option<(f64, f64)>, Option<f64>, Option<f64>)>> {
        match &self.kind {
            Kind::Fixed => None,
            Kind::AlwaysValid { tunings } => {
                let tuning = tuning_of(tunings, treatment_arm)?;
                history
                    .iter()
                    .map(|&(control, treatment)| {
                        let (c, t) = (arm(control)?, arm(treatment)?);
                        let av = always_valid::compare(c, t, self.alpha, tuning)?;
                        Some((av.ci_low.zip(av.ci_high), wald_z(control, treatment), None))
                    })
                    .collect()
            }
            Kind::GroupSequential { design } => {
                let looks = look_estimates(history, None)?;
                let rcis = repeated_intervals(design, &looks, self.alpha)?;
                Some(
                    looks
                        .iter()
                        .zip(rcis)
                        .zip(&design.bounds)
                        .map(|((l, ci), b)| ((l.se > 0.0).then(|| l.estimate / l.se), ci, *b))
                        .map(|(z, ci, b)| (ci, z, b))
                        .collect(),
                )
            }
        }
    }
}

/// `Δ̂/SE` of one look with the sequential (Wald/Welch) standard error;
/// `None` for other kinds or without variance.
pub fn wald_z(control: ArmData, treatment: ArmData) -> Option<f64> {
    let (c, t) = (arm(control)?, arm(treatment)?);
    let se = (c.variance + t.variance).sqrt();
    (se > 0.0).then(|| (t.mean - c.mean) / se)
}

/// Each look's lift and standard error; the last look's lift is `lift` when
/// given (the comparison's own `Δ̂`).
fn look_estimates(history: &History, lift: Option<f64>) -> Option<Vec<LookEstimate>> {
    let last = history.len().checked_sub(1)?;
    history
        .iter()
        .enumerate()
        .map(|(k, &(control, treatment))| {
            let (c, t) = (arm(control)?, arm(treatment)?);
            let estimate = match lift {
                Some(lift) if k == last => lift,
                _ => t.mean - c.mean,
            };
            Some(LookEstimate {
                estimate,
                se: (c.variance + t.variance).sqrt(),
            })
        })
        .collect()
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

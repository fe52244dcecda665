//! How many units an experiment needs: the sample size per variant, total
//! and in days, from the primary metric's planning inputs (`baseline`,
//! `mde`, `sd`; a ratio's `mean_y`, `sd_x`, `sd_y`, `correlation`; `cuped`)
//! and the `plan` block (`power`, `daily_users`).
//!
//! Used by `xos plan`, by the memo's charter (sample reached or not) and by
//! `require_plan` in `xos.toml`. The formulas are in [`crate::stats::power`].

use serde::Serialize;

use crate::plan::{Correction, Direction, Effect, MetricKind, Plan};
use crate::stats::{cuped, power, ratio};

/// The planned sample from the charter: per variant, total and days.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedSample {
    /// Units needed per variant, in variant order.
    pub per_variant: Vec<(String, u64)>,
    /// Units needed over all variants: the sum of `per_variant`.
    pub total: u64,
    /// At the `plan` block's `daily_users`, if given.
    pub days: Option<u64>,
    /// The target power, in (0, 1) (`plan.power`, 0.8 by default).
    pub power: f64,
    /// The significance level the plan uses (α split across arms when the
    /// p-values are corrected).
    pub alpha: f64,
    /// The minimum detectable effect, absolute, in the metric's units
    /// (its size; `change` says which way).
    pub mde_abs: f64,
    /// `increase` for a `prefer higher` primary, `decrease` for `prefer
    /// lower` (the plan is sized for `p2 = p1 ∓ mde` accordingly).
    pub change: &'static str,
    /// The rate the plan distinguishes from the baseline (`p2`), for a rate
    /// primary.
    pub target_rate: Option<f64>,
    /// When a correction is set and there are `k − 1 > 1` treatments: `k − 1`,
    /// the number α was divided by (Bonferroni's split, conservative for
    /// Holm and BH).
    pub alpha_divided_by: Option<usize>,
}

/// What sequential inference costs in units, for `xos plan` (a spec with a
/// `sequential` block).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SequentialPlan {
    /// The spec's sequential method (always-valid or group-sequential).
    pub method: crate::plan::SequentialMethod,
    /// Group-sequential: the equally spaced looks assumed (one a day over
    /// the fixed-horizon plan's days when `daily_users` is known, else 5).
    pub looks: Option<usize>,
    /// Group-sequential: `N_max / N_fixed` at the plan's α and power
    /// ([`crate::stats::sequential::inflation`]).
    pub inflation: Option<f64>,
    /// Group-sequential: the maximum total units that keep the power.
    pub max_total: Option<u64>,
    /// Group-sequential: the expected total units when the effect is the MDE.
    pub expected_total: Option<u64>,
    /// Always-valid: the total units at which the MDE is detected with the
    /// plan's power by the confidence sequence.
    pub detectable_total: Option<u64>,
    /// Always-valid: the tuning in force.
    pub tuning: Option<u64>,
}

/// The sequential costs of `plan` against its fixed-horizon `sample`, with
/// the normal approximation of the fixed plan (`δ = (z_{1−α/2} + z_{1−β})·SE`
/// at `N_fixed`, so `SE(N) = δ/(z_{1−α/2} + z_{1−β})·√(N_fixed/N)`). `None`
/// without a `sequential` block.
///
/// - group-sequential: `N_max = ⌈IF·N_fixed⌉`, `E[N] = N_max·E[t_stop]`;
/// - always-valid: the least `N` with `δ ≥ (c(N) + z_{1−β})·SE(N)`, `c` the
///   confidence sequence's critical value at `N` units
///   ([`crate::stats::always_valid::critical_value`]).
pub fn sequential_plan(plan: &Plan, sample: &PlannedSample) -> Option<SequentialPlan> {
    use crate::plan::SequentialMethod;
    let sequential = plan.sequential?;
    let n_fixed = sample.total as f64;
    let mut out = SequentialPlan {
        method: sequential.method,
        looks: None,
        inflation: None,
        max_total: None,
        expected_total: None,
        detectable_total: None,
        tuning: None,
    };
    match sequential.method {
        SequentialMethod::Fixed => {}
        SequentialMethod::GroupSequential => {
            let looks = sample.days.map_or(5, |d| d.clamp(1, 100) as usize);
            let inflation = crate::stats::sequential::inflation(
                sample.alpha,
                sequential.spending,
                looks,
                sample.power,
            )?;
            let max_total = (inflation.factor * n_fixed).ceil();
            out.looks = Some(looks);
            out.inflation = Some(inflation.factor);
            out.max_total = Some(max_total as u64);
            out.expected_total = Some((inflation.expected_fraction * max_total).ceil() as u64);
        }
        SequentialMethod::AlwaysValid => {
            let tuning = sequential.tuning.unwrap_or(sample.total).max(1);
            let z_a = -crate::stats::dist::normal_quantile(sample.alpha / 2.0);
            let z_b = -crate::stats::dist::normal_quantile(1.0 - sample.power);
            let detected = |n: u64| {
                crate::stats::always_valid::critical_value(n, sample.alpha, tuning as f64)
                    .is_some_and(|c| (c + z_b) * (n_fixed / n as f64).sqrt() <= z_a + z_b)
            };
            // The critical value grows like √(ln N), so a large enough N
            // detects; search by doubling, then bisect.
            let mut high = sample.total.max(1);
            while !detected(high) {
                high = high.checked_mul(2)?;
                if high > 1 << 50 {
                    return None;
                }
            }
            let mut low = 0;
            while high - low > 1 {
                let mid = low + (high - low) / 2;
                if detected(mid) {
                    high = mid;
                } else {
                    low = mid;
                }
            }
            out.tuning = Some(tuning);
            out.detectable_total = Some(high);
        }
    }
    Some(out)
}

/// What is still missing until the planned sample ([`remaining`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Remaining {
    /// Units still missing per variant (0 once reached), in variant order.
    pub per_variant: Vec<(String, u64)>,
    /// Days until the slowest arm reaches its size, at its designed share
    /// of `daily_users`; `None` without `daily_users`.
    pub days: Option<u64>,
}

/// Units and days still missing until every arm reaches its target size
/// (`target`: units per variant, the planned sample or the declared
/// duration's, [`sample_target`]), given the units so far (`units`, in
/// variant order).
pub fn remaining(plan: &Plan, target: &[(String, u64)], units: &[u64]) -> Remaining {
    let per_variant: Vec<(String, u64)> = target
        .iter()
        .zip(units)
        .map(|((name, needed), have)| (name.clone(), needed.saturating_sub(*have)))
        .collect();
    let daily_units = plan.sample_plan.as_ref().and_then(|p| p.daily_units);
    let days = daily_units.and_then(|daily| {
        let days = per_variant
            .iter()
            .zip(&plan.variants)
            .map(|((_, missing), v)| {
                let per_day = daily * v.share;
                if per_day > 0.0 {
                    (*missing as f64 / per_day).ceil()
                } else {
                    0.0
                }
            })
            .fold(0.0_f64, f64::max);
        (days.is_finite() && days >= 0.0).then_some(days as u64)
    });
    Remaining { per_variant, days }
}

/// Why a sample size cannot be planned.
#[derive(Clone, Debug, PartialEq)]
pub struct NoPlan(pub String);

/// The change a primary is planned to detect: toward the side it prefers.
pub fn change_toward(prefer: Direction) -> power::Change {
    match prefer {
        Direction::Higher => power::Change::Increase,
        Direction::Lower => power::Change::Decrease,
    }
}

/// An `mde` as the power functions take it: its value and whether it is
/// absolute or relative to the baseline.
pub fn mde_kind(mde: Effect) -> (f64, power::MdeKind) {
    match mde {
        Effect::Absolute(x) => (x, power::MdeKind::Absolute),
        Effect::Relative(x) => (x, power::MdeKind::Relative),
    }
}

/// Sample size per arm from the primary's planning inputs.
pub fn planned_sample(plan: &Plan) -> Result<PlannedSample, NoPlan> {
    let primary = plan.primary();
    let Some(mde) = primary.mde else {
        return Err(NoPlan(format!(
            "the primary metric `{}` has no `mde`",
            primary.name
        )));
    };
    let power_target = plan.sample_plan.as_ref().map_or(0.8, |p| p.power);
    let arms = plan.treatments().len();
    let alpha_divided_by =
        (arms > 1 && plan.settings.correction != Correction::None).then_some(arms);
    let alpha = plan.settings.alpha / alpha_divided_by.unwrap_or(1) as f64;
    let change = change_toward(primary.prefer);
    let mut target_rate = None;
    let control_share = plan.control().share;
    let mut sizes = Vec::with_capacity(arms);
    let mde_abs;
    match &primary.kind {
        MetricKind::Rate { .. } => {
            let Some(baseline) = primary.baseline else {
                return Err(NoPlan(format!(
                    "the primary metric `{}` has no `baseline`",
                    primary.name
                )));
            };
            let (value, kind) = mde_kind(mde);
            mde_abs = match mde {
                Effect::Absolute(x) => x,
                Effect::Relative(x) => baseline * x,
            };
            target_rate = power::rate_effect_toward(baseline, value, kind, change).map(|e| e.1);
            for treatment in plan.treatments() {
                let ratio = treatment.share / control_share;
                let size = power::rate_sample_size_toward(
                    baseline,
                    value,
                    kind,
                    change,
                    alpha,
                    power_target,
                    ratio,
                )
                .ok_or_else(|| NoPlan("the planning inputs give no finite sample size".into()))?;
                sizes.push(size);
            }
        }
        MetricKind::Mean { .. } | MetricKind::Ratio { .. } => {
            let sd = match &primary.kind {
                MetricKind::Ratio { .. } => ratio_planning_sd(primary)?,
                _ => primary.sd.ok_or_else(|| {
                    NoPlan(format!("the primary metric `{}` has no `sd`", primary.name))
                })?,
            };
            mde_abs = match mde {
                Effect::Absolute(x) => x,
                // Relative to the baseline's size, as the relative lift
                // (m_t − m_c)/|m_c|: a relative `mde` of a negative mean
                // is still a change toward the preferred direction.
                Effect::Relative(x) => match primary.baseline {
                    Some(b) => b.abs() * x,
                    None => {
                        return Err(NoPlan(format!(
                            "a relative `mde` of `{}` needs a `baseline`",
                            primary.name
                        )));
                    }
                },
            };
            for treatment in plan.treatments() {
                let ratio = treatment.share / control_share;
                let size = power::mean_sample_size(sd, mde_abs, alpha, power_target, ratio)
                    .ok_or_else(|| {
                        NoPlan("the planning inputs give no finite sample size".into())
                    })?;
                sizes.push(size);
            }
        }
    }
    if let Some(reduction) = primary.cuped {
        for (size, treatment) in sizes.iter_mut().zip(plan.treatments()) {
            let ratio = treatment.share / control_share;
            *size = cuped::reduced_sample_size(*size, reduction, ratio)
                .ok_or_else(|| NoPlan("the planning inputs give no finite sample size".into()))?;
        }
    }
    let control_n = sizes.iter().map(|s| s.n_control).max().unwrap_or(0);
    let mut per_variant = vec![(plan.control().name.clone(), control_n)];
    for (treatment, size) in plan.treatments().iter().zip(&sizes) {
        per_variant.push((treatment.name.clone(), size.n_treatment));
    }
    let total = per_variant.iter().map(|(_, n)| n).sum();
    let days = plan
        .sample_plan
        .as_ref()
        .and_then(|p| p.daily_units)
        .and_then(|daily| power::duration_days(total, daily));
    Ok(PlannedSample {
        per_variant,
        total,
        days,
        power: power_target,
        alpha,
        mde_abs,
        change: match change {
            power::Change::Increase => "increase",
            power::Change::Decrease => "decrease",
        },
        target_rate,
        alpha_divided_by,
    })
}

/// The per-unit sd of a ratio primary's linearised metric, from its
/// planning inputs (`baseline`, `mean_y`, `sd_x`, `sd_y`, `correlation`).
fn ratio_planning_sd(primary: &crate::plan::Metric) -> Result<f64, NoPlan> {
    let inputs = primary.ratio_inputs;
    let missing: Vec<&str> = [
        ("`baseline`", primary.baseline),
        ("`mean_y`", inputs.mean_y),
        ("`sd_x`", inputs.sd_x),
        ("`sd_y`", inputs.sd_y),
        ("`correlation`", inputs.correlation),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_none())
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        return Err(NoPlan(format!(
            "the ratio primary `{}` has no {}",
            primary.name,
            missing.join(", ")
        )));
    }
    let value = |v: Option<f64>| v.unwrap_or_default();
    ratio::planning_sd(
        value(primary.baseline),
        value(inputs.mean_y),
        value(inputs.sd_x),
        value(inputs.sd_y),
        value(inputs.correlation),
    )
    .ok_or_else(|| {
        NoPlan(format!(
            "the planning inputs of `{}` give no variance: numerator and denominator would move in lockstep",
            primary.name
        ))
    })
}

/// The units a declared `plan { duration Nd daily_users U }` collects: per
/// variant `⌈N · U · share⌉`, in variant order. `None` without a declared
/// duration (the checker requires `daily_users` with `duration`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeclaredDuration {
    /// The declared duration, in days.
    pub days: f64,
    /// Units per variant at the end of the duration, in variant order.
    pub per_variant: Vec<(String, u64)>,
    /// Units at the end of the duration over all variants: the sum of `per_variant`.
    pub total: u64,
}

/// The declared duration's sample, if the spec declares one.
pub fn declared_duration(plan: &Plan) -> Option<DeclaredDuration> {
    let sample_plan = plan.sample_plan.as_ref()?;
    let (days, daily) = (sample_plan.duration_days?, sample_plan.daily_units?);
    let per_variant: Vec<(String, u64)> = plan
        .variants
        .iter()
        .map(|v| (v.name.clone(), (days * daily * v.share).ceil() as u64))
        .collect();
    let total = per_variant.iter().map(|(_, n)| n).sum();
    Some(DeclaredDuration {
        days,
        per_variant,
        total,
    })
}

/// The units per variant at which `plan.sample_reached` holds, and their
/// total: the declared duration's when the spec declares one (the planned
/// horizon the spec commits to), else the sample the primary's MDE needs;
/// `None` when the spec has neither.
pub fn sample_target(
    plan: &Plan,
    planned: Option<&PlannedSample>,
) -> Option<(Vec<(String, u64)>, u64)> {
    match (declared_duration(plan), planned) {
        (Some(duration), _) => Some((duration.per_variant, duration.total)),
        (None, Some(planned)) => Some((planned.per_variant.clone(), planned.total)),
        (None, None) => None,
    }
}

//! Fixed-horizon power analysis: sample sizes, minimum detectable effects and
//! durations, by the normal approximation with unpooled variances.
//!
//! Notation: `zz = z_{1−α/2} + z_{power}`, `z_q = Φ⁻¹(q)`; `ratio = r` is the
//! treatment size over the control size.

use super::dist::normal_quantile;

/// How a rate MDE is expressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdeKind {
    /// `p2 = p1 + mde` (percentage points as a fraction).
    Absolute,
    /// `p2 = p1 (1 + mde)`.
    Relative,
}

/// The direction of the effect a plan is sized for: the primary metric's
/// preferred direction (`prefer higher` plans an increase, `prefer lower` a
/// decrease).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// `p2 = p1 + step`.
    Increase,
    /// `p2 = p1 − step`.
    Decrease,
}

impl Change {
    fn sign(self) -> f64 {
        match self {
            Change::Increase => 1.0,
            Change::Decrease => -1.0,
        }
    }
}

/// Per-arm sample sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleSize {
    /// `⌈n_control_exact⌉`.
    pub n_control: u64,
    /// `⌈ratio · n_control_exact⌉` (the ratio applied to the unrounded size).
    pub n_treatment: u64,
    /// The unrounded control size.
    pub n_control_exact: f64,
}

/// `z_{1−α/2} + z_{power}`, each quantile taken at an exactly representable
/// argument (`−Φ⁻¹(α/2)`, `−Φ⁻¹(1 − power)`); `None` unless `α, power ∈ (0, 1)`.
fn z_sum(alpha: f64, power: f64) -> Option<f64> {
    if !(alpha > 0.0 && alpha < 1.0 && power > 0.0 && power < 1.0) {
        return None;
    }
    Some(-normal_quantile(0.5 * alpha) - normal_quantile(1.0 - power))
}

fn valid_ratio(ratio: f64) -> bool {
    ratio.is_finite() && ratio > 0.0
}

/// The rates to distinguish for an increase, `(p1, p2)`, and their
/// difference: [`rate_effect_toward`] with [`Change::Increase`] (a negative
/// `mde` then plans a decrease).
pub fn rate_effect(baseline: f64, mde: f64, kind: MdeKind) -> Option<(f64, f64, f64)> {
    rate_effect_toward(baseline, mde, kind, Change::Increase)
}

/// The rates to distinguish, `(p1, p2)`, and their difference `p2 − p1`:
/// with `step = mde` (absolute) or `p1 · mde` (relative, formed as that
/// product so it is not a difference of rounded rates), `p2 = p1 + step` for
/// [`Change::Increase`] and `p2 = p1 − step` for [`Change::Decrease`].
/// `None` unless `0 < p1 < 1`, `0 ≤ p2 ≤ 1` and `p2 ≠ p1`: a decrease from
/// 97 % by 5 points is valid although 97 % + 5 points is not.
pub fn rate_effect_toward(
    baseline: f64,
    mde: f64,
    kind: MdeKind,
    change: Change,
) -> Option<(f64, f64, f64)> {
    if !(baseline > 0.0 && baseline < 1.0 && mde.is_finite()) {
        return None;
    }
    let (p2, delta) = rate_target(baseline, mde, kind, change);
    if !(0.0..=1.0).contains(&p2) || delta == 0.0 {
        return None;
    }
    Some((baseline, p2, delta))
}

/// The rate `p2` an `mde` aims at from `baseline`, and the change `p2 −
/// p1` as formed (`mde`, or `p1 · mde` for a relative one, with the sign of
/// `change`), whether or not `p2` is a rate: [`rate_effect_toward`]
/// accepts it only in `[0, 1]`, and the checker names it when it is not. A
/// target written to reach 0 % or 100 % exactly (`baseline 91.93% mde
/// 8.07pp`) may round past it by an ulp or two: it is the bound.
pub fn rate_target(baseline: f64, mde: f64, kind: MdeKind, change: Change) -> (f64, f64) {
    let step = match kind {
        MdeKind::Absolute => mde,
        MdeKind::Relative => baseline * mde,
    };
    let delta = change.sign() * step;
    let p2 = match baseline + delta {
        p if (p - 1.0).abs() <= 1e-12 => 1.0,
        p if p.abs() <= 1e-12 => 0.0,
        p => p,
    };
    (p2, delta)
}

fn sizes(n_control_exact: f64, ratio: f64) -> Option<SampleSize> {
    let n_treatment_exact = ratio * n_control_exact;
    // Sizes beyond 2^53 are not meaningful counts.
    const LIMIT: f64 = 9.0e15;
    if !(n_control_exact.is_finite()
        && n_control_exact > 0.0
        && n_control_exact <= LIMIT
        && n_treatment_exact <= LIMIT)
    {
        return None;
    }
    Some(SampleSize {
        n_control: n_control_exact.ceil() as u64,
        n_treatment: n_treatment_exact.ceil() as u64,
        n_control_exact,
    })
}

/// Control-arm sample size for a two-sided test of two rates, sized for an
/// increase: [`rate_sample_size_toward`] with [`Change::Increase`].
pub fn rate_sample_size(
    baseline: f64,
    mde: f64,
    kind: MdeKind,
    alpha: f64,
    power: f64,
    ratio: f64,
) -> Option<SampleSize> {
    rate_sample_size_toward(baseline, mde, kind, Change::Increase, alpha, power, ratio)
}

/// Control-arm sample size for a two-sided test of two rates:
/// `n_c = zz² (p1 q1 + p2 q2/r) / (p2 − p1)²`, `n_t = ⌈r n_c⌉`, with `p2`
/// from [`rate_effect_toward`] (a `prefer lower` primary plans the decrease
/// `p2 = p1 − step`).
///
/// `None` when the effect is undefined (see [`rate_effect_toward`]), `α` or
/// `power` is outside `(0, 1)`, `ratio` is not positive, or the size exceeds 9e15.
pub fn rate_sample_size_toward(
    baseline: f64,
    mde: f64,
    kind: MdeKind,
    change: Change,
    alpha: f64,
    power: f64,
    ratio: f64,
) -> Option<SampleSize> {
    let (p1, p2, delta) = rate_effect_toward(baseline, mde, kind, change)?;
    let zz = z_sum(alpha, power)?;
    if !valid_ratio(ratio) {
        return None;
    }
    let variance = p1 * (1.0 - p1) + p2 * (1.0 - p2) / ratio;
    sizes(zz * zz * variance / (delta * delta), ratio)
}

/// Control-arm sample size for a two-sided test of two means:
/// `n_c = zz² sd² (1 + 1/r) / mde²`, `n_t = ⌈r n_c⌉`.
///
/// `None` when `sd ≤ 0`, `mde_abs = 0`, an input is not finite, `α` or
/// `power` is outside `(0, 1)`, `ratio` is not positive, or the size exceeds 9e15.
pub fn mean_sample_size(
    sd: f64,
    mde_abs: f64,
    alpha: f64,
    power: f64,
    ratio: f64,
) -> Option<SampleSize> {
    if !(sd.is_finite() && sd > 0.0 && mde_abs.is_finite() && mde_abs != 0.0 && valid_ratio(ratio))
    {
        return None;
    }
    let zz = z_sum(alpha, power)?;
    sizes(
        zz * zz * sd * sd * (1.0 + 1.0 / ratio) / (mde_abs * mde_abs),
        ratio,
    )
}

/// Smallest upward absolute effect `Δ = p2 − p1 > 0` detectable at the given
/// per-arm sizes, i.e. the root of `Δ² = zz² (p1 q1/n_c + p2 q2/n_t)` with
/// `p2 = p1 + Δ`, solved in closed form (the quadratic
/// `(1 + B)Δ² − B(q1 − p1)Δ − (A + B p1 q1) = 0`, `A = zz² p1 q1/n_c`,
/// `B = zz²/n_t`, positive root).
///
/// `None` when `baseline ∉ (0, 1)`, an arm is empty, `α` or `power` is outside
/// `(0, 1)`, or no effect with `p2 ≤ 1` is detectable.
pub fn rate_mde(baseline: f64, n_c: u64, n_t: u64, alpha: f64, power: f64) -> Option<f64> {
    if !(baseline > 0.0 && baseline < 1.0) || n_c == 0 || n_t == 0 {
        return None;
    }
    let zz = z_sum(alpha, power)?;
    let (p1, q1) = (baseline, 1.0 - baseline);
    let a = zz * zz * p1 * q1 / n_c as f64;
    let b = zz * zz / n_t as f64;
    let lin = b * (q1 - p1);
    let delta =
        (lin + (lin * lin + 4.0 * (1.0 + b) * (a + b * p1 * q1)).sqrt()) / (2.0 * (1.0 + b));
    (delta.is_finite() && delta > 0.0 && delta <= q1).then_some(delta)
}

/// Smallest absolute effect `Δ > 0` in the direction `change` detectable at
/// the given per-arm sizes: [`rate_mde`] for an increase; for a decrease
/// (`p2 = p1 − Δ`) the same root for the complementary rate `1 − p1` (a
/// decrease of `p` is an increase of `1 − p` with the same variances).
/// `None` in the same cases, with `p2 ≥ 0` for a decrease.
pub fn rate_mde_toward(
    baseline: f64,
    n_c: u64,
    n_t: u64,
    alpha: f64,
    power: f64,
    change: Change,
) -> Option<f64> {
    match change {
        Change::Increase => rate_mde(baseline, n_c, n_t, alpha, power),
        Change::Decrease => rate_mde(1.0 - baseline, n_c, n_t, alpha, power),
    }
}

/// Smallest absolute difference of means detectable at the given per-arm
/// sizes: `zz · sd · √(1/n_c + 1/n_t)` (closed form). `None` when `sd` is not
/// positive and finite, an arm is empty, or `α`/`power` is outside `(0, 1)`.
pub fn mean_mde(sd: f64, n_c: u64, n_t: u64, alpha: f64, power: f64) -> Option<f64> {
    if !(sd.is_finite() && sd > 0.0) || n_c == 0 || n_t == 0 {
        return None;
    }
    let zz = z_sum(alpha, power)?;
    Some(zz * sd * (1.0 / n_c as f64 + 1.0 / n_t as f64).sqrt())
}

/// Days needed to enrol `total_units`: `⌈total / daily⌉`. `None` when
/// `daily_units` is not positive and finite or the result does not fit.
pub fn duration_days(total_units: u64, daily_units: f64) -> Option<u64> {
    if !(daily_units.is_finite() && daily_units > 0.0) {
        return None;
    }
    let days = (total_units as f64 / daily_units).ceil();
    (days.is_finite() && days <= 9.0e15).then_some(days as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_rate_sample_size() {
        // 10 % → 12 %, α = 5 %, power 80 %: 3839 per arm (unpooled).
        let s = rate_sample_size(0.10, 0.02, MdeKind::Absolute, 0.05, 0.8, 1.0).expect("valid");
        assert_eq!((s.n_control, s.n_treatment), (3839, 3839));
        let r = rate_sample_size(0.10, 0.2, MdeKind::Relative, 0.05, 0.8, 1.0).expect("valid");
        assert_eq!(r.n_control, s.n_control);
    }

    #[test]
    fn unequal_allocation_and_negative_effects() {
        let s = rate_sample_size(0.2, -0.1, MdeKind::Relative, 0.05, 0.9, 2.0).expect("valid");
        assert_eq!(s.n_treatment, (2.0 * s.n_control_exact).ceil() as u64);
        assert!(
            s.n_control
                < rate_sample_size(0.2, -0.1, MdeKind::Relative, 0.05, 0.9, 1.0)
                    .expect("valid")
                    .n_control
        );
    }

    #[test]
    fn undefined_plans() {
        assert_eq!(
            rate_sample_size(0.0, 0.1, MdeKind::Relative, 0.05, 0.8, 1.0),
            None
        );
        assert_eq!(
            rate_sample_size(0.1, 0.0, MdeKind::Relative, 0.05, 0.8, 1.0),
            None
        );
        assert_eq!(
            rate_sample_size(0.9, 0.2, MdeKind::Absolute, 0.05, 0.8, 1.0),
            None
        );
        assert_eq!(
            rate_sample_size(0.1, 0.1, MdeKind::Relative, 0.05, 1.0, 1.0),
            None
        );
        assert_eq!(
            rate_sample_size(0.1, 0.1, MdeKind::Relative, 0.05, 0.8, 0.0),
            None
        );
        assert_eq!(mean_sample_size(0.0, 1.0, 0.05, 0.8, 1.0), None);
        assert_eq!(mean_sample_size(1.0, 0.0, 0.05, 0.8, 1.0), None);
        assert_eq!(rate_mde(0.5, 0, 10, 0.05, 0.8), None);
        assert_eq!(mean_mde(1.0, 10, 0, 0.05, 0.8), None);
        // Two units cannot detect any upward move from 90 %.
        assert_eq!(rate_mde(0.9, 1, 1, 0.05, 0.8), None);
    }

    #[test]
    fn mde_inverts_sample_size() {
        let s = rate_sample_size(0.05, 0.004, MdeKind::Absolute, 0.05, 0.8, 1.5).expect("valid");
        let n_t = (1.5 * s.n_control_exact).round() as u64;
        let n_c = s.n_control_exact.round() as u64;
        let mde = rate_mde(0.05, n_c, n_t, 0.05, 0.8).expect("valid");
        assert!((mde - 0.004).abs() < 1e-6, "{mde}");
        let m = mean_sample_size(10.0, 1.0, 0.05, 0.8, 1.0).expect("valid");
        let back = mean_mde(10.0, m.n_control, m.n_treatment, 0.05, 0.8).expect("valid");
        assert!(back <= 1.0 && back > 0.999);
    }

    #[test]
    fn lower_is_better_plans_a_decrease() {
        let down = rate_sample_size_toward(
            0.2,
            0.05,
            MdeKind::Relative,
            Change::Decrease,
            0.05,
            0.8,
            1.0,
        )
        .expect("valid");
        // Same as a signed −5 % relative change.
        let signed =
            rate_sample_size(0.2, -0.05, MdeKind::Relative, 0.05, 0.8, 1.0).expect("valid");
        assert_eq!(down, signed);
        let up = rate_sample_size(0.2, 0.05, MdeKind::Relative, 0.05, 0.8, 1.0).expect("valid");
        assert!(down.n_control < up.n_control);
        // 97 % − 5 points is a valid plan; 97 % + 5 points is not.
        assert_eq!(
            rate_effect_toward(0.97, 0.05, MdeKind::Absolute, Change::Decrease),
            Some((0.97, 0.97 - 0.05, -0.05))
        );
        assert!(
            rate_sample_size_toward(
                0.97,
                0.05,
                MdeKind::Absolute,
                Change::Decrease,
                0.05,
                0.8,
                1.0
            )
            .is_some()
        );
        assert_eq!(rate_effect(0.97, 0.05, MdeKind::Absolute), None);
        // Detectable decreases mirror detectable increases of 1 − p.
        let d = rate_mde_toward(0.03, 5_000, 5_000, 0.05, 0.8, Change::Decrease).expect("valid");
        assert_eq!(Some(d), rate_mde(0.97, 5_000, 5_000, 0.05, 0.8));
        assert!(d < 0.03);
        let s =
            rate_sample_size_toward(0.03, d, MdeKind::Absolute, Change::Decrease, 0.05, 0.8, 1.0)
                .expect("valid");
        assert!(s.n_control_exact.round() as i64 - 5_000 <= 1, "{s:?}");
    }

    #[test]
    fn duration() {
        assert_eq!(duration_days(40_000, 20_000.0), Some(2));
        assert_eq!(duration_days(40_001, 20_000.0), Some(3));
        assert_eq!(duration_days(0, 20_000.0), Some(0));
        assert_eq!(duration_days(10, 0.0), None);
        assert_eq!(duration_days(10, f64::NAN), None);
    }
}

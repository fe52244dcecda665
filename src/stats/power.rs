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

/// The rates to distinguish, `(p1, p2)`, and their difference `p2 − p1`
/// (formed as `p1 · mde` for a relative MDE, so it is not a difference of
/// rounded rates). `None` unless `0 < p1 < 1`, `0 ≤ p2 ≤ 1` and `p2 ≠ p1`.
pub fn rate_effect(baseline: f64, mde: f64, kind: MdeKind) -> Option<(f64, f64, f64)> {
    if !(baseline > 0.0 && baseline < 1.0 && mde.is_finite()) {
        return None;
    }
    let (p2, delta) = match kind {
        MdeKind::Absolute => (baseline + mde, mde),
        MdeKind::Relative => (baseline * (1.0 + mde), baseline * mde),
    };
    if !(0.0..=1.0).contains(&p2) || delta == 0.0 {
        return None;
    }
    Some((baseline, p2, delta))
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

/// Control-arm sample size for a two-sided test of two rates:
/// `n_c = zz² (p1 q1 + p2 q2/r) / (p2 − p1)²`, `n_t = ⌈r n_c⌉`.
///
/// `None` when the effect is undefined (see [`rate_effect`]), `α` or `power`
/// is outside `(0, 1)`, `ratio` is not positive, or the size exceeds 9e15.
pub fn rate_sample_size(
    baseline: f64,
    mde: f64,
    kind: MdeKind,
    alpha: f64,
    power: f64,
    ratio: f64,
) -> Option<SampleSize> {
    let (p1, p2, delta) = rate_effect(baseline, mde, kind)?;
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
    fn duration() {
        assert_eq!(duration_days(40_000, 20_000.0), Some(2));
        assert_eq!(duration_days(40_001, 20_000.0), Some(3));
        assert_eq!(duration_days(0, 20_000.0), Some(0));
        assert_eq!(duration_days(10, 0.0), None);
        assert_eq!(duration_days(10, f64::NAN), None);
    }
}

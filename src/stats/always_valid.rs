//! Always-valid inference: the normal-mixture confidence sequence and its
//! p-value, valid at every look however often the data is read.
//!
//! Source: Howard, Ramdas, McAuliffe & Sekhon (2021), "Time-uniform,
//! nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2),
//! eq. (14) (the two-sided normal mixture boundary), in the asymptotic form
//! GrowthBook ships (`gbstats` `SequentialTwoSidedTTest`), as stated by the
//! `convention` of `tests/reference/always_valid.json`.
//!
//! Notation (arms c, t): `m` the arm's rate or mean, `v` the variance of `m`
//! (rates: unpooled Wald `m(1 − m)/n`; means: Welch `s²/n` with `n − 1`),
//! `Δ̂ = m_t − m_c`, `se = √(v_c + v_t)`, `N = n_c + n_t` units so far,
//! `s² = N·se²`, `N*` the tuning (the planned total units, where the interval
//! is tightest), `ρ² = (−2 ln α + ln(1 − 2 ln α))/N*`:
//!
//! - half-width `h = √(s²·2(Nρ² + 1)/(N²ρ²)·ln(√(Nρ² + 1)/α))`, CI `Δ̂ ∓ h`;
//! - `p = min(1, √(Nρ² + 1)·exp(−Δ̂²N²ρ²/(2s²(Nρ² + 1))))`, the reciprocal of
//!   the mixture e-value, so `p < α` exactly when the interval excludes 0;
//! - relative lift `Δ̂/|m_c|` with the interval `rel ∓ (h/se)·SE_rel`,
//!   `SE_rel² = v_t/m_c² + m_t²v_c/m_c⁴` (the delta method scaled by the
//!   mixture's critical value `h/se`).

use super::mean::MeanStats;

/// One arm's estimate: its rate or mean, the variance of that estimate, and
/// its unit count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArmEstimate {
    /// Units in the arm.
    pub n: u64,
    /// The arm's rate or mean `m`.
    pub mean: f64,
    /// `Var(m)`: `m(1 − m)/n` for a rate, `s²/n` for a mean.
    pub variance: f64,
}

impl ArmEstimate {
    /// A rate arm `x/n` with the unpooled Wald variance `(x/n)((n − x)/n)/n`.
    /// `None` when `n = 0` or `x > n`.
    pub fn rate(n: u64, x: u64) -> Option<ArmEstimate> {
        if n == 0 || x > n {
            return None;
        }
        let nf = n as f64;
        let mean = x as f64 / nf;
        let variance = mean * ((n - x) as f64 / nf) / nf;
        Some(ArmEstimate { n, mean, variance })
    }

    /// A mean arm from `(n, Σx, Σx²)` with the Welch variance `s²/n`
    /// ([`MeanStats::variance`], `n − 1`, cancellation-free). `None` when
    /// `n < 2` or a sum is not finite.
    pub fn mean(stats: MeanStats) -> Option<ArmEstimate> {
        let var = stats.variance()?;
        Some(ArmEstimate {
            n: stats.n,
            mean: stats.mean(),
            variance: var / stats.n as f64,
        })
    }
}

/// The always-valid comparison of treatment with control at one look.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlwaysValid {
    /// `Δ̂ = m_t − m_c`.
    pub abs_lift: f64,
    /// `√(v_c + v_t)`, the fixed-horizon standard error.
    pub se: f64,
    /// Half-width `h` of the confidence sequence; `None` when `se = 0` (the
    /// mixture bound carries no information then).
    pub half_width: Option<f64>,
    /// `Δ̂ − h`; `None` when `se = 0`.
    pub ci_low: Option<f64>,
    /// `Δ̂ + h`; `None` when `se = 0`.
    pub ci_high: Option<f64>,
    /// Always-valid p-value, `1` when `se = 0`.
    pub p_value: f64,
    /// `Δ̂/|m_c|`; `None` when `m_c = 0`.
    pub rel_lift: Option<f64>,
    /// `rel − (h/se)·SE_rel`; `None` when `m_c = 0` or `se = 0`.
    pub rel_ci_low: Option<f64>,
    /// `rel + (h/se)·SE_rel`; `None` when `m_c = 0` or `se = 0`.
    pub rel_ci_high: Option<f64>,
}

/// The mixture parameter `ρ² = (−2 ln α + ln(1 − 2 ln α))/N*`, which makes
/// the confidence sequence tightest at `N*` units. `None` unless
/// `0 < α < 1` and `N*` is finite and positive.
pub fn mixture_rho2(alpha: f64, tuning: f64) -> Option<f64> {
    if !(alpha > 0.0 && alpha < 1.0 && tuning.is_finite() && tuning > 0.0) {
        return None;
    }
    let minus_two_ln_alpha = -2.0 * alpha.ln();
    Some((minus_two_ln_alpha + minus_two_ln_alpha.ln_1p()) / tuning)
}

/// The mixture's critical value `h/se` at `N` units:
/// `√(2(Nρ² + 1)/(Nρ²)·(½ ln(1 + Nρ²) − ln α))`, the algebraic form of
/// `h² = s²·2(Nρ² + 1)/(N²ρ²)·ln(√(Nρ² + 1)/α)` with `s² = N·se²`.
/// It is smallest near `N = N*` (about 1.4 times `z_{1−α/2}` there for
/// α = 5%) and grows slowly (like `√(ln N)`) beyond. `None` for invalid α,
/// tuning or `N = 0`.
pub fn critical_value(units: u64, alpha: f64, tuning: f64) -> Option<f64> {
    let rho2 = mixture_rho2(alpha, tuning)?;
    if units == 0 {
        return None;
    }
    let a = units as f64 * rho2;
    let c2 = 2.0 * (a + 1.0) / a * (0.5 * a.ln_1p() - alpha.ln());
    c2.is_finite().then(|| c2.sqrt())
}

/// Delta-method standard error of the relative lift `Δ̂/|m_c|`:
/// `√(v_t/m_c² + m_t²v_c/m_c⁴)`; `None` when `m_c = 0` or it is not finite.
pub fn relative_se(c: ArmEstimate, t: ArmEstimate) -> Option<f64> {
    if c.mean == 0.0 {
        return None;
    }
    let m2 = c.mean * c.mean;
    let se = (t.variance / m2 + t.mean * t.mean * c.variance / (m2 * m2)).sqrt();
    se.is_finite().then_some(se)
}

/// The always-valid comparison of two arms (module docs for the formulas).
///
/// `None` when `α ∉ (0, 1)`, the tuning is not a positive finite number, an
/// estimate is not finite, or the arms hold no units.
pub fn compare(
    control: ArmEstimate,
    treatment: ArmEstimate,
    alpha: f64,
    tuning: f64,
) -> Option<AlwaysValid> {
    with_lift(
        control,
        treatment,
        treatment.mean - control.mean,
        alpha,
        tuning,
    )
}

/// [`compare`] with `Δ̂` given (the rate path forms it exactly).
fn with_lift(
    c: ArmEstimate,
    t: ArmEstimate,
    abs_lift: f64,
    alpha: f64,
    tuning: f64,
) -> Option<AlwaysValid> {
    let rho2 = mixture_rho2(alpha, tuning)?;
    let units = c.n.checked_add(t.n)?;
    if units == 0 {
        return None;
    }
    let se2 = c.variance + t.variance;
    let finite = abs_lift.is_finite() && c.mean.is_finite() && t.mean.is_finite();
    if !(finite && se2.is_finite() && se2 >= 0.0) {
        return None;
    }
    let se = se2.sqrt();
    let rel_lift = (c.mean != 0.0).then(|| abs_lift / c.mean.abs());
    if se == 0.0 {
        return Some(AlwaysValid {
            abs_lift,
            se,
            half_width: None,
            ci_low: None,
            ci_high: None,
            p_value: 1.0,
            rel_lift,
            rel_ci_low: None,
            rel_ci_high: None,
        });
    }
    let a = units as f64 * rho2;
    // ln p = ½ ln(1 + Nρ²) − (Δ̂/se)²/2 · Nρ²/(Nρ² + 1): the convention's
    // exponent with s² = N·se² divided out, so no N² is ever formed.
    let z = abs_lift / se;
    let ln_p = 0.5 * a.ln_1p() - 0.5 * z * z * (a / (a + 1.0));
    let p_value = ln_p.exp().min(1.0);
    let critical = critical_value(units, alpha, tuning)?;
    let half_width = critical * se;
    let rel = rel_lift.and_then(|rel| {
        let half = critical * relative_se(c, t)?;
        let (low, high) = (rel - half, rel + half);
        (low.is_finite() && high.is_finite()).then_some((low, high))
    });
    Some(AlwaysValid {
        abs_lift,
        se,
        half_width: Some(half_width),
        ci_low: Some(abs_lift - half_width),
        ci_high: Some(abs_lift + half_width),
        p_value,
        rel_lift,
        rel_ci_low: rel.map(|r| r.0),
        rel_ci_high: rel.map(|r| r.1),
    })
}

/// [`compare`] for two rate arms `(n, x)`, with `Δ̂` from one rounding of
/// the exact integer numerator `x_t n_c − x_c n_t` (as the fixed-horizon
/// test forms it). `None` as there, or when an arm has `n = 0` or `x > n`.
pub fn compare_rates(
    n_c: u64,
    x_c: u64,
    n_t: u64,
    x_t: u64,
    alpha: f64,
    tuning: f64,
) -> Option<AlwaysValid> {
    let c = ArmEstimate::rate(n_c, x_c)?;
    let t = ArmEstimate::rate(n_t, x_t)?;
    // INVARIANT: products of u64 counts fit in u128 exactly.
    let gain = u128::from(x_t) * u128::from(n_c);
    let loss = u128::from(x_c) * u128::from(n_t);
    let numerator = if gain >= loss {
        (gain - loss) as f64
    } else {
        -((loss - gain) as f64)
    };
    let abs_lift = numerator / (u128::from(n_c) * u128::from(n_t)) as f64;
    with_lift(c, t, abs_lift, alpha, tuning)
}

/// [`compare`] for two mean arms from `(n, Σx, Σx²)`; `None` as there, or
/// when an arm has `n < 2`.
pub fn compare_means(
    control: MeanStats,
    treatment: MeanStats,
    alpha: f64,
    tuning: f64,
) -> Option<AlwaysValid> {
    compare(
        ArmEstimate::mean(control)?,
        ArmEstimate::mean(treatment)?,
        alpha,
        tuning,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::dist::normal_sf;

    #[test]
    fn wider_and_more_conservative_than_the_fixed_horizon_test() {
        let av = compare_rates(10_000, 1_000, 10_000, 1_100, 0.05, 20_000.0).expect("valid");
        let se = av.se;
        let fixed_half = 1.959_963_984_540_054 * se;
        assert!(av.half_width.expect("se > 0") > fixed_half);
        assert!(av.p_value > 2.0 * normal_sf(av.abs_lift / se));
        // significant ⇔ the interval excludes 0
        assert_eq!(av.p_value < 0.05, av.ci_low.expect("se > 0") > 0.0);
    }

    #[test]
    fn invalid_inputs_are_undefined() {
        assert_eq!(compare_rates(0, 0, 10, 1, 0.05, 100.0), None);
        assert_eq!(compare_rates(10, 11, 10, 1, 0.05, 100.0), None);
        assert_eq!(compare_rates(10, 1, 10, 1, 0.0, 100.0), None);
        assert_eq!(compare_rates(10, 1, 10, 1, 0.05, 0.0), None);
        assert_eq!(compare_rates(10, 1, 10, 1, 0.05, f64::INFINITY), None);
        let one = MeanStats {
            n: 1,
            sum: 1.0,
            sum_sq: 1.0,
        };
        assert_eq!(compare_means(one, one, 0.05, 100.0), None);
        assert_eq!(critical_value(0, 0.05, 100.0), None);
    }

    #[test]
    fn the_interval_is_tightest_near_the_tuning() {
        let at = |n: u64| critical_value(n, 0.05, 10_000.0).expect("valid");
        assert!(at(10_000) < at(1_000) && at(10_000) < at(100_000));
    }
}

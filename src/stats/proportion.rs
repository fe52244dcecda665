//! Two-proportion comparison: unpooled z-test with its consistent CI, the
//! pooled p-value, and confidence intervals of the relative lift.
//!
//! Notation: `p = x/n`, `q = 1 − p = (n − x)/n`, `z_q = Φ⁻¹(1 − α/2)`.

use super::dist::{normal_quantile, normal_sf};

/// How the confidence interval of the relative lift `p_t/p_c − 1` is formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelativeCiMethod {
    /// Delta method: `r ∓ z_q √(p_t q_t/(n_t p_c²) + p_t² q_c/(n_c p_c³))`.
    Delta,
    /// Fieller's interval for `R = p_t/p_c`, minus 1.
    Fieller,
    /// Katz log method: `exp(ln(p_t/p_c) ∓ z_q √(q_t/x_t + q_c/x_c)) − 1`.
    Log,
}

/// Result of [`compare_rates`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateComparison {
    /// Control rate `x_c/n_c`.
    pub p_c: f64,
    /// Treatment rate `x_t/n_t`.
    pub p_t: f64,
    /// `p_t − p_c`.
    pub abs_lift: f64,
    /// `p_t/p_c − 1`; `None` when `p_c = 0`.
    pub rel_lift: Option<f64>,
    /// Unpooled standard error `√(p_c q_c/n_c + p_t q_t/n_t)`.
    pub se: f64,
    /// `abs_lift / se`; `None` when `se = 0`.
    pub z: Option<f64>,
    /// Two-sided `2(1 − Φ(|z|))`; with `se = 0`, 1 if the lift is 0, else 0.
    pub p_value: f64,
    /// `abs_lift − z_q·se`.
    pub ci_low: f64,
    /// `abs_lift + z_q·se`.
    pub ci_high: f64,
}

/// Differences and ratios of the two rates with exact integer numerators.
struct Rates {
    p_c: f64,
    p_t: f64,
    q_c: f64,
    q_t: f64,
    /// `p_t − p_c = (x_t n_c − x_c n_t)/(n_c n_t)`, one rounding of an exact numerator.
    abs_lift: f64,
    /// `p_t/p_c − 1 = (x_t n_c − x_c n_t)/(x_c n_t)`; `None` when `x_c = 0`.
    rel_lift: Option<f64>,
}

/// `None` when an arm is empty or has more conversions than units.
fn rates(n_c: u64, x_c: u64, n_t: u64, x_t: u64) -> Option<Rates> {
    if n_c == 0 || n_t == 0 || x_c > n_c || x_t > n_t {
        return None;
    }
    let (nc, xc, nt, xt) = (n_c as f64, x_c as f64, n_t as f64, x_t as f64);
    // INVARIANT: counts are u64, so these products fit in u128 exactly.
    let (gain, loss) = (
        u128::from(x_t) * u128::from(n_c),
        u128::from(x_c) * u128::from(n_t),
    );
    let numerator = if gain >= loss {
        (gain - loss) as f64
    } else {
        -((loss - gain) as f64)
    };
    let abs_lift = numerator / (u128::from(n_c) * u128::from(n_t)) as f64;
    let rel_lift = (x_c > 0).then(|| numerator / (u128::from(x_c) * u128::from(n_t)) as f64);
    Some(Rates {
        p_c: xc / nc,
        p_t: xt / nt,
        q_c: (n_c - x_c) as f64 / nc,
        q_t: (n_t - x_t) as f64 / nt,
        abs_lift,
        rel_lift,
    })
}

/// Two-sided critical value `z_{1−α/2}`, computed as `−Φ⁻¹(α/2)` (exact
/// argument); `None` unless `0 < α < 1`.
pub fn z_critical(alpha: f64) -> Option<f64> {
    (alpha > 0.0 && alpha < 1.0).then(|| -normal_quantile(0.5 * alpha))
}

/// Unpooled two-proportion z-test (DESIGN §2 default) with the CI of the same
/// method, so `p < α` exactly when the CI excludes 0:
///
/// - `se = √(p_c q_c/n_c + p_t q_t/n_t)`, `z = (p_t − p_c)/se`,
/// - `p = 2(1 − Φ(|z|))` from the normal survival function,
/// - `CI = (p_t − p_c) ∓ z_{1−α/2}·se`.
///
/// With `se = 0` (both rates 0 or 1) there is no sampling noise: `z` is
/// `None`, `p = 1` when the lift is 0 and `0` otherwise, and the CI collapses
/// to the lift.
///
/// Returns `None` (no comparison is defined) when an arm has `n = 0`, an arm
/// has `x > n`, or `α ∉ (0, 1)`.
pub fn compare_rates(n_c: u64, x_c: u64, n_t: u64, x_t: u64, alpha: f64) -> Option<RateComparison> {
    let r = rates(n_c, x_c, n_t, x_t)?;
    let zq = z_critical(alpha)?;
    let se = (r.p_c * r.q_c / n_c as f64 + r.p_t * r.q_t / n_t as f64).sqrt();
    let (z, p_value, ci_low, ci_high) = if se > 0.0 {
        let z = r.abs_lift / se;
        let half = zq * se;
        (
            Some(z),
            (2.0 * normal_sf(z.abs())).min(1.0),
            r.abs_lift - half,
            r.abs_lift + half,
        )
    } else {
        let p = if r.abs_lift == 0.0 { 1.0 } else { 0.0 };
        (None, p, r.abs_lift, r.abs_lift)
    };
    Some(RateComparison {
        p_c: r.p_c,
        p_t: r.p_t,
        abs_lift: r.abs_lift,
        rel_lift: r.rel_lift,
        se,
        z,
        p_value,
        ci_low,
        ci_high,
    })
}

/// Pooled two-proportion z-test p-value (statsmodels `proportions_ztest`,
/// equal to the Pearson χ² test without continuity correction):
/// `p̂ = (x_c + x_t)/(n_c + n_t)`, `z₀ = (p_t − p_c)/√(p̂(1 − p̂)(1/n_c + 1/n_t))`,
/// `p = 2(1 − Φ(|z₀|))`.
///
/// Degenerate inputs carry no information and give `1.0`: `p̂ = 0` or
/// `p̂ = 1`, an empty arm (`n = 0`), or an invalid arm (`x > n`).
pub fn pooled_p_value(n_c: u64, x_c: u64, n_t: u64, x_t: u64) -> f64 {
    let Some(r) = rates(n_c, x_c, n_t, x_t) else {
        return 1.0;
    };
    let n = n_c as f64 + n_t as f64;
    let pooled = (x_c as f64 + x_t as f64) / n;
    let pooled_q = ((n_c - x_c) as f64 + (n_t - x_t) as f64) / n;
    let se0 = (pooled * pooled_q * (1.0 / n_c as f64 + 1.0 / n_t as f64)).sqrt();
    if se0 > 0.0 {
        (2.0 * normal_sf((r.abs_lift / se0).abs())).min(1.0)
    } else {
        1.0
    }
}

/// Confidence interval of the relative lift `p_t/p_c − 1` at level `1 − α`.
///
/// - `Delta`: `r ∓ z_q √(p_t q_t/(n_t p_c²) + p_t² q_c/(n_c p_c³))`;
///   `None` if `p_c = 0`.
/// - `Log` (Katz): `exp(ln(p_t/p_c) ∓ z_q √(q_t/x_t + q_c/x_c)) − 1`, evaluated
///   as `expm1(ln1p(r) ∓ …)`; `None` if `x_c = 0` or `x_t = 0`.
/// - `Fieller`: the set of `R` with `(p_t − R p_c)² ≤ z_q² (v_t + R² v_c)`,
///   `v = p q/n`; with `g = z_q² v_c/p_c²` and `R̂ = p_t/p_c` its bounds are
///   `(R̂ ∓ (z_q/p_c)√(v_t(1 − g) + R̂² v_c))/(1 − g)`, reported minus 1 as
///   `(r + g ∓ …)/(1 − g)`; `None` if `p_c = 0` or `g ≥ 1` (the set is then
///   not a bounded interval).
///
/// Also `None` when an arm is empty or invalid, or `α ∉ (0, 1)`. The pair is
/// ordered `low ≤ high`.
pub fn relative_ci(
    n_c: u64,
    x_c: u64,
    n_t: u64,
    x_t: u64,
    alpha: f64,
    method: RelativeCiMethod,
) -> Option<(f64, f64)> {
    let r = rates(n_c, x_c, n_t, x_t)?;
    let zq = z_critical(alpha)?;
    let rel = r.rel_lift?;
    let (nc, nt) = (n_c as f64, n_t as f64);
    let (low, high) = match method {
        RelativeCiMethod::Delta => {
            let var = r.p_t * r.q_t / (nt * r.p_c * r.p_c)
                + r.p_t * r.p_t * r.q_c / (nc * r.p_c * r.p_c * r.p_c);
            let half = zq * var.sqrt();
            (rel - half, rel + half)
        }
        RelativeCiMethod::Log => {
            if x_t == 0 {
                return None;
            }
            let half = zq * (r.q_t / x_t as f64 + r.q_c / x_c as f64).sqrt();
            let centre = rel.ln_1p();
            ((centre - half).exp_m1(), (centre + half).exp_m1())
        }
        RelativeCiMethod::Fieller => {
            let v_c = r.p_c * r.q_c / nc;
            let v_t = r.p_t * r.q_t / nt;
            let g = zq * zq * v_c / (r.p_c * r.p_c);
            if g >= 1.0 {
                return None;
            }
            let ratio = r.p_t / r.p_c;
            let half = zq / r.p_c * (v_t * (1.0 - g) + ratio * ratio * v_c).sqrt();
            ((rel + g - half) / (1.0 - g), (rel + g + half) / (1.0 - g))
        }
    };
    if !(low.is_finite() && high.is_finite()) {
        return None;
    }
    Some((low.min(high), low.max(high)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(n_c: u64, x_c: u64, n_t: u64, x_t: u64) -> RateComparison {
        compare_rates(n_c, x_c, n_t, x_t, 0.05).expect("valid arms")
    }

    #[test]
    fn no_conversions_anywhere_is_no_information() {
        let r = cmp(30, 0, 30, 0);
        assert_eq!(
            (r.se, r.z, r.p_value, r.ci_low, r.ci_high),
            (0.0, None, 1.0, 0.0, 0.0)
        );
        assert_eq!(r.rel_lift, None);
        assert_eq!(pooled_p_value(30, 0, 30, 0), 1.0);
        assert_eq!(
            relative_ci(30, 0, 30, 0, 0.05, RelativeCiMethod::Delta),
            None
        );
    }

    #[test]
    fn everyone_converted_is_no_information() {
        let r = cmp(500, 500, 500, 500);
        assert_eq!(
            (r.abs_lift, r.se, r.p_value, r.rel_lift),
            (0.0, 0.0, 1.0, Some(0.0))
        );
        assert_eq!(pooled_p_value(500, 500, 500, 500), 1.0);
        assert_eq!(
            relative_ci(500, 500, 500, 500, 0.05, RelativeCiMethod::Log),
            Some((0.0, 0.0))
        );
    }

    #[test]
    fn zero_versus_all_is_certain() {
        let r = cmp(50, 0, 40, 40);
        assert_eq!((r.abs_lift, r.se, r.z, r.p_value), (1.0, 0.0, None, 0.0));
        assert_eq!((r.ci_low, r.ci_high), (1.0, 1.0));
        assert!(pooled_p_value(50, 0, 40, 40) < 1e-20);
    }

    #[test]
    fn empty_or_impossible_arms_are_undefined() {
        assert_eq!(compare_rates(0, 0, 10, 3, 0.05), None);
        assert_eq!(compare_rates(10, 3, 0, 0, 0.05), None);
        assert_eq!(compare_rates(10, 11, 10, 3, 0.05), None);
        assert_eq!(compare_rates(10, 3, 10, 3, 0.0), None);
        assert_eq!(compare_rates(10, 3, 10, 3, 1.0), None);
        assert_eq!(pooled_p_value(0, 0, 0, 0), 1.0);
        assert_eq!(
            relative_ci(0, 0, 10, 3, 0.05, RelativeCiMethod::Fieller),
            None
        );
    }

    #[test]
    fn one_and_two_units() {
        let r = cmp(1, 1, 1, 0);
        assert_eq!((r.abs_lift, r.se, r.p_value), (-1.0, 0.0, 0.0));
        let r = cmp(2, 1, 2, 1);
        assert_eq!((r.abs_lift, r.p_value), (0.0, 1.0));
        assert!((r.se - 0.5).abs() < 1e-15);
    }

    #[test]
    fn equal_arms_have_p_one_and_symmetric_ci() {
        let r = cmp(10_000, 500, 20_000, 1_000);
        assert_eq!((r.abs_lift, r.z, r.p_value), (0.0, Some(0.0), 1.0));
        assert_eq!(r.ci_low, -r.ci_high);
    }

    #[test]
    fn negative_effect_with_unequal_allocation() {
        let r = cmp(2_000, 300, 18_000, 2_340);
        assert!((r.abs_lift - (0.13 - 0.15)).abs() < 1e-15);
        let se = (0.15 * 0.85 / 2_000.0 + 0.13 * 0.87 / 18_000.0_f64).sqrt();
        assert!((r.se - se).abs() < 1e-15);
        assert!(r.z.is_some_and(|z| z < 0.0));
        assert_eq!(r.p_value < 0.05, r.ci_high < 0.0);
        assert!(r.rel_lift.is_some_and(|l| (l + 2.0 / 15.0).abs() < 1e-15));
    }

    #[test]
    fn a_billion_units_keep_their_digits() {
        let r = cmp(1_000_000_000, 51_234_567, 1_000_000_000, 51_250_000);
        assert!((r.abs_lift - 1.5433e-5).abs() < 1e-20);
        assert!(r.p_value > 0.1 && r.p_value < 0.2);
        assert!(r.ci_low < 0.0 && r.ci_high > 0.0);
    }

    #[test]
    fn tiny_p_values_are_not_rounded_to_zero() {
        let r = cmp(1_000_000, 100_000, 1_000_000, 110_000);
        assert!(r.p_value > 0.0 && r.p_value < 1e-100, "{}", r.p_value);
    }

    #[test]
    fn relative_cis_bracket_the_relative_lift() {
        for method in [
            RelativeCiMethod::Delta,
            RelativeCiMethod::Log,
            RelativeCiMethod::Fieller,
        ] {
            let (low, high) =
                relative_ci(10_000, 1_200, 10_050, 1_320, 0.05, method).expect("defined");
            let rel = cmp(10_000, 1_200, 10_050, 1_320).rel_lift.expect("defined");
            assert!(low < rel && rel < high, "{method:?}");
        }
        // A zero treatment rate: the delta CI collapses to −100 %, Katz is undefined.
        assert_eq!(
            relative_ci(1_000, 12, 1_000, 0, 0.05, RelativeCiMethod::Delta),
            Some((-1.0, -1.0))
        );
        assert_eq!(
            relative_ci(1_000, 12, 1_000, 0, 0.05, RelativeCiMethod::Log),
            None
        );
        // Few control conversions: Fieller's set is unbounded.
        assert_eq!(
            relative_ci(80, 3, 80, 5, 0.05, RelativeCiMethod::Fieller),
            None
        );
    }
}

//! Ratio metrics `ratio(X, Y) = ΣX/ΣY` per arm (clicks per query, revenue
//! per session) compared by the delta method, from per-unit sufficient
//! statistics `(n, Σx, Σx², Σy, Σy², Σxy)`.
//!
//! The unit of randomisation is the user, not the query: the queries of one
//! user are correlated, so the ratio's variance must come from the per-unit
//! sums `x_i`, `y_i`. The delta method linearises `r = x̄/ȳ` around the means
//! (Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric
//! Analytics: A Practical Guide with Novel Ideas", KDD, §3):
//!
//! `Var(r) ≈ (s_x²/ȳ² − 2 s_xy x̄/ȳ³ + x̄² s_y²/ȳ⁴)/n`,
//!
//! with `n − 1` sample (co)variances; the two arms are compared by a z-test
//! (convention R7 of the reference vectors, `ratio.json`).

use super::dist::normal_sf;
use super::mean::MeanStats;
use super::moments::{diff_of_products, sample_covariance};
use super::proportion::z_critical;
use super::relative::{ArmEstimates, RelativeCiMethod, relative_interval, relative_lift};

/// Sufficient statistics of one arm of `ratio(X, Y)`: the unit count and
/// the per-unit sums `Σx`, `Σx²`, `Σy`, `Σy²`, `Σxy` (the aggregated
/// columns `X_sum`, `X_sum_sq`, `Y_sum`, `Y_sum_sq`, `X_Y_sum_prod`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RatioStats {
    /// Units in the arm (the unit of randomisation, not of the denominator).
    pub n: u64,
    /// `Σx`: the numerator summed over units (`X_sum`).
    pub sum_x: f64,
    /// `Σx²` of the per-unit numerators (`X_sum_sq`).
    pub sum_x_sq: f64,
    /// `Σy`: the denominator summed over units (`Y_sum`).
    pub sum_y: f64,
    /// `Σy²` of the per-unit denominators (`Y_sum_sq`).
    pub sum_y_sq: f64,
    /// `Σxy` of per-unit products (`X_Y_sum_prod`).
    pub sum_xy: f64,
}

impl RatioStats {
    /// The numerator column's `(n, Σx, Σx²)`.
    pub fn x(&self) -> MeanStats {
        MeanStats {
            n: self.n,
            sum: self.sum_x,
            sum_sq: self.sum_x_sq,
        }
    }

    /// The denominator column's `(n, Σy, Σy²)`.
    pub fn y(&self) -> MeanStats {
        MeanStats {
            n: self.n,
            sum: self.sum_y,
            sum_sq: self.sum_y_sq,
        }
    }

    /// `r = Σx/Σy`; `None` when `Σy = 0` (no denominator events: the arm has
    /// no ratio) or the quotient is not finite.
    pub fn ratio(&self) -> Option<f64> {
        let r = self.sum_x / self.sum_y;
        (self.sum_y != 0.0 && r.is_finite()).then_some(r)
    }

    /// Delta-method variance of `r`:
    /// `(s_x²/ȳ² − 2 s_xy x̄/ȳ³ + x̄² s_y²/ȳ⁴)/n`, evaluated as
    /// `(s_x² − 2r·s_xy + r²·s_y²)/(n·ȳ²)` with each (co)variance's numerator
    /// `n·Σab − Σa·Σb` formed from exact two-products; a sum that rounds
    /// below 0 is clamped to 0. `None` for `n < 2`, `Σy = 0` or non-finite
    /// inputs.
    pub fn variance(&self) -> Option<f64> {
        let r = self.ratio()?;
        let var_x = self.x().variance()?;
        let var_y = self.y().variance()?;
        let cov = sample_covariance(self.n, self.sum_x, self.sum_y, self.sum_xy)?;
        let n = self.n as f64;
        let y_bar = self.sum_y / n;
        let spread = (var_x - 2.0 * r * cov + r * r * var_y).max(0.0);
        let var = spread / (n * y_bar * y_bar);
        var.is_finite().then_some(var)
    }
}

/// Result of [`compare_ratios`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RatioComparison {
    /// The control's ratio `r_c = Σx_c/Σy_c`.
    pub r_c: f64,
    /// The treatment's ratio `r_t = Σx_t/Σy_t`.
    pub r_t: f64,
    /// Delta-method variance of `r_c` ([`RatioStats::variance`]).
    pub var_r_c: f64,
    /// Delta-method variance of `r_t` ([`RatioStats::variance`]).
    pub var_r_t: f64,
    /// `r_t − r_c`.
    pub abs_lift: f64,
    /// `(r_t − r_c)/|r_c|`; `None` when `r_c = 0`.
    pub rel_lift: Option<f64>,
    /// `√(var_r_c + var_r_t)`.
    pub se: f64,
    /// `abs_lift/se`; `None` when `se = 0`.
    pub z: Option<f64>,
    /// Two-sided `2(1 − Φ(|z|))`; with `se = 0`, 1 if the lift is 0, else 0.
    pub p_value: f64,
    /// `abs_lift − z_{1−α/2}·se` (the lift itself when `se = 0`).
    pub ci_low: f64,
    /// `abs_lift + z_{1−α/2}·se` (the lift itself when `se = 0`).
    pub ci_high: f64,
    /// Interval of the relative lift by the requested method with the
    /// normal critical value (see [`relative_interval`]); `None` when
    /// `r_c = 0` or the method's interval is undefined.
    pub rel_ci: Option<(f64, f64)>,
}

/// Delta-method z-test of `r_t − r_c` (DESIGN §2 "ratio metrics"):
///
/// - `se = √(Var(r_t) + Var(r_c))`, `z = (r_t − r_c)/se`,
/// - `p = 2(1 − Φ(|z|))` from the normal survival function,
/// - `CI = (r_t − r_c) ∓ z_{1−α/2}·se`, consistent with the test,
/// - relative lift `(r_t − r_c)/|r_c|` with its interval by `method`
///   (delta: `SE_rel² = Var(r_t)/r_c² + r_t² Var(r_c)/r_c⁴`).
///
/// `r_t − r_c` is formed as `(Σx_t Σy_c − Σx_c Σy_t)/(Σy_t Σy_c)` with exact
/// two-products. With `se = 0` (e.g. no X events in either arm) `z` is
/// `None`, `p = 1` if the lift is 0 and `0` otherwise, and both intervals
/// collapse to the point.
///
/// `None` (no comparison) when an arm has `n < 2` or `Σy = 0`, a sum is not
/// finite, `α ∉ (0, 1)`, or `z` overflows (sums no data can give).
pub fn compare_ratios(
    c: RatioStats,
    t: RatioStats,
    alpha: f64,
    method: RelativeCiMethod,
) -> Option<RatioComparison> {
    let zq = z_critical(alpha)?;
    let (r_c, r_t) = (c.ratio()?, t.ratio()?);
    let (var_r_c, var_r_t) = (c.variance()?, t.variance()?);
    let abs_lift = diff_of_products(t.sum_x, c.sum_y, c.sum_x, t.sum_y) / (t.sum_y * c.sum_y);
    if !abs_lift.is_finite() {
        return None;
    }
    let se = (var_r_c + var_r_t).sqrt();
    let (z, p_value, ci_low, ci_high) = if se > 0.0 {
        let z = abs_lift / se;
        let half = zq * se;
        if !z.is_finite() || !half.is_finite() {
            return None;
        }
        (
            Some(z),
            (2.0 * normal_sf(z.abs())).min(1.0),
            abs_lift - half,
            abs_lift + half,
        )
    } else {
        let p = if abs_lift == 0.0 { 1.0 } else { 0.0 };
        (None, p, abs_lift, abs_lift)
    };
    let rel_lift = relative_lift(abs_lift, r_c);
    let estimates = ArmEstimates {
        m_c: r_c,
        m_t: r_t,
        v_c: var_r_c,
        v_t: var_r_t,
        rel_lift,
    };
    Some(RatioComparison {
        r_c,
        r_t,
        var_r_c,
        var_r_t,
        abs_lift,
        rel_lift,
        se,
        z,
        p_value,
        ci_low,
        ci_high,
        rel_ci: relative_interval(estimates, zq, method),
    })
}

/// Planning: the standard deviation of the linearised per-unit metric
/// `(x − r·y)/ȳ`, whose variance over `n` units is the delta-method
/// `Var(r)·n` above. From the planning inputs of `ratio(X, Y)`: the
/// expected ratio `r` (`baseline`), the mean denominator per unit `ȳ`
/// (`mean_y`), the per-unit standard deviations `sd_x`, `sd_y` and their
/// correlation `ρ`:
///
/// `σ² = (sd_x² − 2rρ·sd_x·sd_y + r²·sd_y²)/ȳ²`.
///
/// Feeding `σ` to [`mean_sample_size`](super::power::mean_sample_size) sizes
/// the delta-method z-test. `None` unless every input is finite, `ȳ ≠ 0`,
/// the sds are `≥ 0`, `ρ ∈ [−1, 1]`, and `σ > 0`.
pub fn planning_sd(
    baseline: f64,
    mean_y: f64,
    sd_x: f64,
    sd_y: f64,
    correlation: f64,
) -> Option<f64> {
    let inputs = [baseline, mean_y, sd_x, sd_y, correlation];
    if !inputs.iter().all(|x| x.is_finite())
        || mean_y == 0.0
        || sd_x < 0.0
        || sd_y < 0.0
        || !(-1.0..=1.0).contains(&correlation)
    {
        return None;
    }
    let r = baseline;
    let spread = sd_x * sd_x - 2.0 * r * correlation * sd_x * sd_y + r * r * sd_y * sd_y;
    let sd = (spread.max(0.0)).sqrt() / mean_y.abs();
    (sd.is_finite() && sd > 0.0).then_some(sd)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sums of per-unit `(x, y)` pairs.
    fn arm(units: &[(f64, f64)]) -> RatioStats {
        units.iter().fold(
            RatioStats {
                n: units.len() as u64,
                ..RatioStats::default()
            },
            |s, &(x, y)| RatioStats {
                sum_x: s.sum_x + x,
                sum_x_sq: s.sum_x_sq + x * x,
                sum_y: s.sum_y + y,
                sum_y_sq: s.sum_y_sq + y * y,
                sum_xy: s.sum_xy + x * y,
                ..s
            },
        )
    }

    fn cmp(c: &[(f64, f64)], t: &[(f64, f64)]) -> Option<RatioComparison> {
        compare_ratios(arm(c), arm(t), 0.05, RelativeCiMethod::Delta)
    }

    #[test]
    fn planning_sd_matches_the_delta_variance() {
        // The same three units as `variance_by_hand`: r = 3/4, ȳ = 8/3,
        // s_x = 1, s_y = √(4/3), ρ = 1/√(4/3).
        let s = arm(&[(1.0, 2.0), (2.0, 2.0), (3.0, 4.0)]);
        let (sd_y, rho) = ((4.0_f64 / 3.0).sqrt(), 1.0 / (4.0_f64 / 3.0).sqrt());
        let sd = planning_sd(0.75, 8.0 / 3.0, 1.0, sd_y, rho).expect("defined");
        let var = s.variance().expect("n ≥ 2");
        assert!((sd * sd / 3.0 - var).abs() < 1e-15, "{sd}");
        assert_eq!(planning_sd(0.75, 0.0, 1.0, 1.0, 0.5), None);
        assert_eq!(planning_sd(0.75, 2.0, 1.0, 1.0, 1.5), None);
        // x = r·y exactly: no noise, nothing to plan.
        assert_eq!(planning_sd(0.5, 2.0, 1.0, 2.0, 1.0), None);
    }

    #[test]
    fn variance_by_hand() {
        // x = (1, 2, 3), y = (2, 2, 4): r = 6/8, x̄ = 2, ȳ = 8/3,
        // s_x² = 1, s_y² = 4/3, s_xy = 1.
        let s = arm(&[(1.0, 2.0), (2.0, 2.0), (3.0, 4.0)]);
        let (r, xb, yb) = (0.75_f64, 2.0_f64, 8.0_f64 / 3.0);
        let by_hand =
            (1.0 / (yb * yb) - 2.0 * xb / yb.powi(3) + xb * xb * (4.0 / 3.0) / yb.powi(4)) / 3.0;
        assert_eq!(s.ratio(), Some(r));
        let v = s.variance().expect("n ≥ 2");
        assert!((v - by_hand).abs() < 1e-15, "{v} vs {by_hand}");
    }

    #[test]
    fn undefined_without_denominator_or_second_unit() {
        let no_y = arm(&[(0.0, 0.0), (0.0, 0.0)]);
        assert_eq!((no_y.ratio(), no_y.variance()), (None, None));
        let one = arm(&[(1.0, 2.0)]);
        assert_eq!((one.ratio(), one.variance()), (Some(0.5), None));
        let ok = [(1.0, 2.0), (0.0, 1.0)];
        assert_eq!(cmp(&[(0.0, 0.0), (0.0, 0.0)], &ok), None);
        assert_eq!(cmp(&ok, &[(1.0, 2.0)]), None);
        assert_eq!(
            compare_ratios(arm(&ok), arm(&ok), 1.0, RelativeCiMethod::Delta),
            None
        );
    }

    #[test]
    fn no_clicks_anywhere_is_no_information() {
        let c = cmp(&[(0.0, 3.0), (0.0, 1.0)], &[(0.0, 2.0), (0.0, 5.0)]).expect("defined");
        assert_eq!(
            (c.abs_lift, c.se, c.z, c.p_value, c.ci_low, c.ci_high),
            (0.0, 0.0, None, 1.0, 0.0, 0.0)
        );
        assert_eq!(c.rel_lift, None);
    }

    #[test]
    fn proportional_units_have_no_noise() {
        // Every unit clicks on exactly half its queries: r is known exactly.
        let c = cmp(&[(1.0, 2.0), (3.0, 6.0)], &[(2.0, 2.0), (5.0, 5.0)]).expect("defined");
        assert_eq!((c.r_c, c.r_t, c.se, c.p_value), (0.5, 1.0, 0.0, 0.0));
        assert_eq!(c.rel_lift, Some(1.0));
        assert_eq!(c.rel_ci, Some((1.0, 1.0)));
    }

    #[test]
    fn test_and_interval_agree() {
        let c = cmp(
            &[(1.0, 4.0), (0.0, 2.0), (2.0, 5.0), (1.0, 1.0), (0.0, 3.0)],
            &[(2.0, 4.0), (1.0, 2.0), (3.0, 5.0), (2.0, 2.0), (1.0, 3.0)],
        )
        .expect("defined");
        assert!(c.abs_lift > 0.0 && c.z.is_some_and(|z| z > 0.0));
        assert_eq!(c.p_value < 0.05, c.ci_low > 0.0);
        let (low, high) = c.rel_ci.expect("r_c > 0");
        assert!(low < c.rel_lift.expect("r_c > 0") && c.rel_lift.expect("r_c > 0") < high);
    }
}

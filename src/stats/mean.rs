//! Welch comparison of means from sufficient statistics `(n, Σx, Σx²)`
//! (Welch 1947; Satterthwaite 1946), with relative intervals of the lift by
//! the delta, Fieller or log method at the test's own t quantile.

use super::dist::{student_t_quantile, student_t_sf};
use super::moments::{OVERFLOW_SCALE, diff_of_products};
use super::relative::{ArmEstimates, RelativeCiMethod, relative_interval, relative_lift};

/// Sufficient statistics of one arm: unit count, `Σx` and `Σx²`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanStats {
    /// Units in the arm.
    pub n: u64,
    /// `Σx` over the arm's units, in the metric's unit.
    pub sum: f64,
    /// `Σx²` over the arm's units, in the metric's unit squared.
    pub sum_sq: f64,
}

impl MeanStats {
    /// `Σx / n`; `0.0` for an empty arm (`n = 0`), which has no mean — callers
    /// compare arms through [`compare_means`], which rejects it.
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        self.sum / self.n as f64
    }

    /// Sample variance with `n − 1`:
    /// `(n·Σx² − (Σx)²) / (n(n − 1))`, the numerator formed from exact
    /// two-products (`f64::mul_add`), so a mean of 1e6 with sd 1 keeps its
    /// digits (the textbook `Σx² − (Σx)²/n` loses about twelve). A numerator
    /// that rounds below 0 is clamped to 0. Where `n·Σx²` or `(Σx)²`
    /// overflows (sums near 1e154 and above), the sums are first scaled by
    /// powers of two (exactly): such an arm once got a variance of 0 and a
    /// "significant" zero-width interval. `None` for `n < 2`, non-finite
    /// sums, or a variance beyond a double.
    pub fn variance(&self) -> Option<f64> {
        if self.n < 2 || !self.sum.is_finite() || !self.sum_sq.is_finite() {
            return None;
        }
        let n = self.n as f64;
        let numerator = diff_of_products(n, self.sum_sq, self.sum, self.sum);
        if !numerator.is_finite() {
            // x scaled by 2^-512: the variance scales by 2^-1024, undone in
            // two exact steps.
            let scale = OVERFLOW_SCALE;
            let scaled = MeanStats {
                n: self.n,
                sum: self.sum / scale,
                sum_sq: self.sum_sq / scale / scale,
            };
            let var = scaled.variance()? * scale * scale;
            return var.is_finite().then_some(var);
        }
        let var = numerator.max(0.0) / n / (n - 1.0);
        var.is_finite().then_some(var)
    }
}

/// Result of [`compare_means`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanComparison {
    /// The control's mean `Σx_c/n_c`.
    pub mean_c: f64,
    /// The treatment's mean `Σx_t/n_t`.
    pub mean_t: f64,
    /// The control's sample variance (`n − 1`).
    pub var_c: f64,
    /// The treatment's sample variance (`n − 1`).
    pub var_t: f64,
    /// `mean_t − mean_c`.
    pub abs_lift: f64,
    /// `(mean_t − mean_c)/|mean_c|` (its sign is the sign of `abs_lift`);
    /// `None` when `mean_c = 0`.
    pub rel_lift: Option<f64>,
    /// Sampling variance of the control's mean, `var_c/n_c`.
    pub v_c: f64,
    /// Sampling variance of the treatment's mean, `var_t/n_t`.
    pub v_t: f64,
    /// `√(var_c/n_c + var_t/n_t)`.
    pub se: f64,
    /// Welch–Satterthwaite degrees of freedom (real, not rounded); `None` when `se = 0`.
    pub df: Option<f64>,
    /// `abs_lift / se`; `None` when `se = 0`.
    pub t: Option<f64>,
    /// Two-sided `2 P(T_df > |t|)`; with `se = 0`, 1 if the lift is 0, else 0.
    pub p_value: f64,
    /// The test's critical value `t_{df, 1−α/2}`; `None` when `se = 0`.
    pub t_quantile: Option<f64>,
    /// `abs_lift − t_{df, 1−α/2}·se` (the lift itself when `se = 0`).
    pub ci_low: f64,
    /// `abs_lift + t_{df, 1−α/2}·se` (the lift itself when `se = 0`).
    pub ci_high: f64,
    /// Delta-method CI of the relative lift with the same t quantile,
    /// [`MeanComparison::relative_ci`] with [`RelativeCiMethod::Delta`]:
    /// `rel ∓ t_{df, 1−α/2} √(var_t/(n_t m_c²) + m_t² var_c/(n_c m_c⁴))`;
    /// `None` when `mean_c = 0`.
    pub rel_ci_delta: Option<(f64, f64)>,
}

impl MeanComparison {
    /// Interval of the relative lift `(m_t − m_c)/|m_c|` at the comparison's
    /// level, by [`relative_interval`] with `v = s²/n` and the Welch
    /// `t_{df, 1−α/2}` of the test (convention R3 of `mean_relative.json`):
    /// delta, Fieller (1954) or log. With `se = 0` every defined interval is
    /// the point `rel_lift`. `None` when `mean_c = 0`, for `Log` unless both
    /// means are positive, and for `Fieller` when its set is unbounded.
    pub fn relative_ci(&self, method: RelativeCiMethod) -> Option<(f64, f64)> {
        let arms = ArmEstimates {
            m_c: self.mean_c,
            m_t: self.mean_t,
            v_c: self.v_c,
            v_t: self.v_t,
            rel_lift: self.rel_lift,
        };
        relative_interval(arms, self.t_quantile.unwrap_or(0.0), method)
    }
}

/// `m_t − m_c`, formed as `(Σx_t n_c − Σx_c n_t)/(n_c n_t)` with exact
/// two-products, and `(m_t − m_c)/|m_c|` (`None` when `m_c = 0`). Defined for
/// arms of one unit or more (the lift of two known means needs no variance);
/// `None` when an arm is empty or the lift is not finite.
pub fn lifts(c: MeanStats, t: MeanStats) -> Option<(f64, Option<f64>)> {
    if c.n == 0 || t.n == 0 {
        return None;
    }
    let (nc, nt) = (c.n as f64, t.n as f64);
    let abs_lift = diff_of_products(t.sum, nc, c.sum, nt) / (nc * nt);
    if !abs_lift.is_finite() {
        return None;
    }
    Some((abs_lift, relative_lift(abs_lift, c.mean())))
}

/// Welch two-sample t-test from sufficient statistics.
///
/// - `se = √(v_c/n_c + v_t/n_t)`,
/// - `df = (v_c/n_c + v_t/n_t)² / ((v_c/n_c)²/(n_c − 1) + (v_t/n_t)²/(n_t − 1))`
///   (evaluated on the scale of the larger term, so it cannot overflow),
/// - `t = (m_t − m_c)/se`, `p = 2 P(T_df > |t|) = I_{df/(df+t²)}(df/2, ½)`,
/// - `CI = (m_t − m_c) ∓ t_{df, 1−α/2}·se`, consistent with the test.
///
/// The lifts come from [`lifts`]. With `se = 0` (both arms constant) `df` and `t` are `None`,
/// `p = 1` if the lift is 0 and `0` otherwise, and the CI collapses to the lift.
///
/// `None` when an arm has `n < 2`, a sum is not finite, or `α ∉ (0, 1)`.
pub fn compare_means(c: MeanStats, t: MeanStats, alpha: f64) -> Option<MeanComparison> {
    let var_c = c.variance()?;
    let var_t = t.variance()?;
    if !(alpha > 0.0 && alpha < 1.0) {
        return None;
    }
    let (nc, nt) = (c.n as f64, t.n as f64);
    let (abs_lift, rel_lift) = lifts(c, t)?;
    let (a, b) = (var_c / nc, var_t / nt);
    let WelchTest {
        se,
        df,
        t: t_stat,
        t_quantile,
        p_value,
        ci_low,
        ci_high,
    } = welch_test(abs_lift, a, b, nc, nt, alpha);
    let mut m = MeanComparison {
        mean_c: c.mean(),
        mean_t: t.mean(),
        var_c,
        var_t,
        abs_lift,
        rel_lift,
        v_c: a,
        v_t: b,
        se,
        df,
        t: t_stat,
        p_value,
        t_quantile,
        ci_low,
        ci_high,
        rel_ci_delta: None,
    };
    m.rel_ci_delta = m.relative_ci(RelativeCiMethod::Delta);
    Some(m)
}

/// A Welch test of a lift (see [`welch_test`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WelchTest {
    /// `√(v_c + v_t)`.
    pub se: f64,
    /// Welch–Satterthwaite degrees of freedom; `None` when `se = 0`.
    pub df: Option<f64>,
    /// `abs_lift/se`; `None` when `se = 0`.
    pub t: Option<f64>,
    /// `t_{df, 1−α/2}`; `None` when `se = 0`.
    pub t_quantile: Option<f64>,
    /// `2 P(T_df > |t|)`; with `se = 0`, 1 if the lift is 0, else 0.
    pub p_value: f64,
    /// `abs_lift − t_{df, 1−α/2}·se` (the lift itself when `se = 0`).
    pub ci_low: f64,
    /// `abs_lift + t_{df, 1−α/2}·se` (the lift itself when `se = 0`).
    pub ci_high: f64,
}

/// Welch test of `abs_lift` from the sampling variances `v_c`, `v_t` of the
/// two arm estimates (Welch 1947; Satterthwaite 1946): `se = √(v_c + v_t)`,
/// `df = (v_c + v_t)²/(v_c²/(n_c − 1) + v_t²/(n_t − 1))` evaluated on the
/// scale of the larger term (it cannot overflow), `t = abs_lift/se`,
/// `p = 2 P(T_df > |t|)`, `CI = abs_lift ∓ t_{df, 1−α/2}·se`. With `se = 0`
/// there is no noise: `df`, `t` and the quantile are `None`, `p` is 1 if the
/// lift is 0 and 0 otherwise, and the CI is the lift. The caller checks
/// `α ∈ (0, 1)` and `n ≥ 2`. Used by [`compare_means`] and by CUPED's
/// adjusted comparison.
pub fn welch_test(abs_lift: f64, v_c: f64, v_t: f64, n_c: f64, n_t: f64, alpha: f64) -> WelchTest {
    let se = (v_c + v_t).sqrt();
    if se > 0.0 {
        let scale = v_c.max(v_t);
        let (a, b) = (v_c / scale, v_t / scale);
        let df = (a + b) * (a + b) / (a * a / (n_c - 1.0) + b * b / (n_t - 1.0));
        let t = abs_lift / se;
        let q = -student_t_quantile(0.5 * alpha, df);
        WelchTest {
            se,
            df: Some(df),
            t: Some(t),
            t_quantile: Some(q),
            p_value: (2.0 * student_t_sf(t.abs(), df)).min(1.0),
            ci_low: abs_lift - q * se,
            ci_high: abs_lift + q * se,
        }
    } else {
        WelchTest {
            se,
            df: None,
            t: None,
            t_quantile: None,
            p_value: if abs_lift == 0.0 { 1.0 } else { 0.0 },
            ci_low: abs_lift,
            ci_high: abs_lift,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(values: &[f64]) -> MeanStats {
        MeanStats {
            n: values.len() as u64,
            sum: values.iter().sum(),
            sum_sq: values.iter().map(|v| v * v).sum(),
        }
    }

    /// Sums whose products overflow a double (`n·Σx²` near 5e308) keep their
    /// variance: sd 4.564e149 for Σx = 1e150, Σx² = 1e304 over 48,000 units.
    #[test]
    fn variance_survives_sums_whose_products_overflow() {
        let arm = MeanStats {
            n: 48_000,
            sum: 1e150,
            sum_sq: 1e304,
        };
        let sd = arm.variance().unwrap().sqrt();
        let n = 48_000.0_f64;
        let expected = ((1e304 / n - (1e150 / n) * (1e150 / n)) * n / (n - 1.0)).sqrt();
        assert!((sd / expected - 1.0).abs() < 1e-12, "{sd} vs {expected}");
        assert!((sd / 4.564e149 - 1.0).abs() < 1e-3);
        let edge = MeanStats {
            n: 2,
            sum: 0.0,
            sum_sq: f64::MAX,
        };
        assert_eq!(
            edge.variance(),
            Some(f64::MAX),
            "2·Σx² overflows, Σx²/1 does not"
        );
    }

    #[test]
    fn variance_needs_two_units() {
        assert_eq!(stats(&[]).variance(), None);
        assert_eq!(stats(&[]).mean(), 0.0);
        assert_eq!(stats(&[3.0]).variance(), None);
        assert_eq!(stats(&[3.0, 5.0]).variance(), Some(2.0));
        assert_eq!(compare_means(stats(&[1.0]), stats(&[1.0, 2.0]), 0.05), None);
    }

    #[test]
    fn variance_survives_a_mean_of_a_million() {
        // 5000 integers around 1e6 with sd ≈ 1 (reference case
        // mean-006-cancel-1e6-sd1); the exact variance is 1.1148884176835367
        // and the textbook Σx² − (Σx)²/n formula misses it.
        let (n, sum, sum_sq) = (5000.0_f64, 4_999_999_942.0_f64, 4_999_999_884_005_574.0_f64);
        let exact = 1.114_888_417_683_536_7;
        let naive = (sum_sq - sum * sum / n) / (n - 1.0);
        assert!(
            ((naive - exact) / exact).abs() > 1e-5,
            "the naive formula should fail here: {naive}"
        );
        let v = MeanStats {
            n: 5000,
            sum,
            sum_sq,
        }
        .variance()
        .expect("n ≥ 2");
        assert!(((v - exact) / exact).abs() < 1e-15, "{v}");
    }

    #[test]
    fn constant_arms() {
        let same = compare_means(stats(&[2.0; 10]), stats(&[2.0; 12]), 0.05).expect("n ≥ 2");
        assert_eq!(
            (same.se, same.df, same.t, same.p_value),
            (0.0, None, None, 1.0)
        );
        assert_eq!((same.ci_low, same.ci_high), (0.0, 0.0));
        let apart = compare_means(stats(&[2.0; 3]), stats(&[2.5; 4]), 0.05).expect("n ≥ 2");
        assert_eq!(
            (apart.abs_lift, apart.p_value, apart.ci_low, apart.ci_high),
            (0.5, 0.0, 0.5, 0.5)
        );
        // One constant arm: df is the other arm's n − 1.
        let one = compare_means(stats(&[1.0, 3.0, 5.0]), stats(&[4.0; 5]), 0.05).expect("n ≥ 2");
        assert!(one.df.is_some_and(|df| (df - 2.0).abs() < 1e-12));
    }

    #[test]
    fn two_units_per_arm() {
        let m = compare_means(stats(&[0.0, 2.0]), stats(&[1.0, 5.0]), 0.05).expect("n ≥ 2");
        assert_eq!((m.mean_c, m.mean_t, m.var_c, m.var_t), (1.0, 3.0, 2.0, 8.0));
        assert!(m.df.is_some_and(|df| df > 1.0 && df < 2.0));
        assert!(m.p_value > 0.05 && m.ci_low < 0.0);
    }

    #[test]
    fn negative_values_negative_effect_and_zero_control_mean() {
        let m = compare_means(
            stats(&[-1.0, 1.0, 0.0, 0.5, -0.5]),
            stats(&[-2.0, -1.0, -1.5, -3.0]),
            0.05,
        )
        .expect("n ≥ 2");
        assert_eq!(m.mean_c, 0.0);
        assert_eq!((m.rel_lift, m.rel_ci_delta), (None, None));
        assert!(m.abs_lift < 0.0 && m.t.is_some_and(|t| t < 0.0));
        assert_eq!(m.p_value < 0.05, m.ci_high < 0.0);
    }

    fn arm(n: u64, sum: f64, sum_sq: f64) -> MeanStats {
        MeanStats { n, sum, sum_sq }
    }

    #[test]
    fn a_negative_control_mean_keeps_the_sign_of_the_lift() {
        // Issue 11, case 1: profit −10 → −5 is +5, +50 % of |−10|.
        let c = arm(10_000, -100_000.0, 4_999_600.0);
        let t = arm(10_000, -50_000.0, 4_249_600.0);
        let m = compare_means(c, t, 0.05).expect("n ≥ 2");
        assert_eq!((m.abs_lift, m.rel_lift), (5.0, Some(0.5)));
        let (low, high) = m.rel_ci_delta.expect("defined");
        assert!(
            (low - 0.456).abs() < 5e-4 && (high - 0.544).abs() < 5e-4,
            "{low} {high}"
        );
        assert_eq!(m.relative_ci(RelativeCiMethod::Log), None);
    }

    #[test]
    fn fieller_and_log_are_honoured_with_the_t_quantile() {
        // Issue 11, case 4: means 2 and 3, sd 10, 200 units per arm.
        let m = compare_means(arm(200, 400.0, 20_700.0), arm(200, 600.0, 21_700.0), 0.05)
            .expect("n ≥ 2");
        let fieller = m.relative_ci(RelativeCiMethod::Fieller).expect("bounded");
        assert!(
            (fieller.0 + 0.334_799_862_250_703_46).abs() < 1e-10,
            "{fieller:?}"
        );
        assert!(
            (fieller.1 - 4.138_811_760_439_252).abs() < 1e-8,
            "{fieller:?}"
        );
        let delta = m.rel_ci_delta.expect("defined");
        assert!(delta.0 < -0.74 && delta.1 > 1.74, "{delta:?}");
        let log = m
            .relative_ci(RelativeCiMethod::Log)
            .expect("both means positive");
        assert!(log.0 > -1.0 && log.0 < 0.0 && log.1 > 0.5);
    }

    #[test]
    fn one_unit_arms_have_a_lift_but_no_test() {
        let (c, t) = (arm(1, 4.0, 16.0), arm(3, 15.0, 77.0));
        assert_eq!(lifts(c, t), Some((1.0, Some(0.25))));
        assert_eq!(compare_means(c, t, 0.05), None);
        assert_eq!(lifts(arm(0, 0.0, 0.0), t), None);
        assert_eq!(lifts(arm(2, 0.0, 2.0), t), Some((5.0, None)));
    }

    #[test]
    fn a_billion_units_per_arm() {
        let c = MeanStats {
            n: 1_000_000_000,
            sum: 2.5e10,
            sum_sq: 1.5e12,
        };
        let t = MeanStats {
            n: 1_000_000_000,
            sum: 2.5002e10,
            sum_sq: 1.5002e12,
        };
        let m = compare_means(c, t, 0.05).expect("n ≥ 2");
        assert!(m.df.is_some_and(|df| df > 1.9e9));
        assert!(m.p_value.is_finite() && m.ci_low < m.abs_lift && m.abs_lift < m.ci_high);
    }

    #[test]
    fn unequal_allocation_uses_welch_df() {
        let c = stats(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let t = stats(&[2.0, 4.0, 6.0]);
        let m = compare_means(c, t, 0.05).expect("n ≥ 2");
        let (a, b) = (2.5 / 5.0, 4.0 / 3.0);
        let df = (a + b) * (a + b) / (a * a / 4.0 + b * b / 2.0);
        assert!(m.df.is_some_and(|d| (d - df).abs() < 1e-12));
    }
}

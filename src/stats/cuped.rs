//! CUPED: variance reduction with a pre-experiment covariate (Deng, Xu,
//! Kohavi & Walker 2013, "Improving the Sensitivity of Online Controlled
//! Experiments by Utilizing Pre-Experiment Data", WSDM, §3.2).
//!
//! For a metric `Y` and a covariate `C` measured before assignment (so the
//! treatment cannot move it), `Y − θ(C − E C)` has the same expected
//! difference between arms and, with `θ = Cov(Y, C)/Var(C)`, the variance
//! `Var(Y)(1 − ρ²)`. Convention R8 of the reference vectors (`cuped.json`):
//! one θ pooled over both arms' units, adjusted means, within-arm adjusted
//! variances and a Welch t-test on them.

use super::mean::{MeanStats, welch_test};
use super::moments::{diff_of_products, sample_covariance};
use super::power::SampleSize;
use super::proportion::z_critical;
use super::relative::{ArmEstimates, RelativeCiMethod, relative_interval, relative_lift};

/// Sufficient statistics of one arm of a metric `Y` with covariate `C`: the
/// unit count and the per-unit sums `Σy`, `Σy²`, `Σc`, `Σc²`, `Σyc` (the
/// aggregated columns `Y_sum`, `Y_sum_sq`, `C_sum`, `C_sum_sq`,
/// `Y_C_sum_prod`; for a rate metric `Y` is the 0/1 column and `Σy² = Σy`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CupedStats {
    /// Units in the arm.
    pub n: u64,
    /// `Σy`: the metric summed over units (`Y_sum`).
    pub sum_y: f64,
    /// `Σy²` (`Y_sum_sq`).
    pub sum_y_sq: f64,
    /// `Σc`: the pre-experiment covariate summed over units (`C_sum`).
    pub sum_c: f64,
    /// `Σc²` (`C_sum_sq`).
    pub sum_c_sq: f64,
    /// `Σyc` of per-unit products (`Y_C_sum_prod`).
    pub sum_yc: f64,
}

impl CupedStats {
    /// The metric's own `(n, Σy, Σy²)`.
    pub fn y(&self) -> MeanStats {
        MeanStats {
            n: self.n,
            sum: self.sum_y,
            sum_sq: self.sum_y_sq,
        }
    }

    /// The covariate's `(n, Σc, Σc²)`.
    pub fn c(&self) -> MeanStats {
        MeanStats {
            n: self.n,
            sum: self.sum_c,
            sum_sq: self.sum_c_sq,
        }
    }
}

/// The share of the lift's variance, `1 − variance_reduction`, below which
/// a CUPED covariate is taken to determine the metric rather than predict
/// it: an adjusted standard error 100 times smaller than the metric's own.
/// Pre-period covariates removed about half of the variance of the metrics
/// in Deng, Xu, Kohavi & Walker (2013), "Improving the sensitivity of
/// online controlled experiments by utilizing pre-experiment data".
pub const NEAR_EXACT_COVARIATE: f64 = 1e-4;

/// The p-value of the covariate's own Welch test (its arm means equal)
/// below which the covariate is taken to have moved with the treatment: a
/// measure taken before assignment differs between randomised arms only
/// by chance, and one in 10,000 comparisons reaches this by chance. A
/// covariate measured after the start (the metric plus noise) absorbs the
/// effect into θ·(c̄_t − c̄_c): a severe guardrail read "ok" at 99.9% of
/// variance removed, below [`NEAR_EXACT_COVARIATE`]'s reach.
pub const IMBALANCED_COVARIATE: f64 = 1e-4;

/// Whether CUPED's adjustment is used, and why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CupedUse {
    /// The comparison's numbers are the adjusted ones.
    Applied,
    /// θ does not exist: the covariate has no variance (within the arms).
    NoVariance,
    /// The covariate would remove more than `1 − NEAR_EXACT_COVARIATE` of
    /// the lift's variance: it determines the metric.
    DeterminesMetric,
    /// The covariate's arm means differ with p below
    /// [`IMBALANCED_COVARIATE`]: it moved with the treatment.
    Imbalanced,
}

/// Result of [`compare_cuped`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CupedComparison {
    /// Pooled slope `θ = S_YC/S_CC`; `None` when the covariate has no
    /// variance over both arms (`S_CC = 0`): then nothing is adjusted.
    pub theta: Option<f64>,
    /// The control's adjusted mean `m_c = ȳ_c − θ(c̄_c − c̄)`, with `c̄` the
    /// covariate's mean over both arms.
    pub m_c: f64,
    /// The treatment's adjusted mean `m_t = ȳ_t − θ(c̄_t − c̄)`.
    pub m_t: f64,
    /// Variance of the control's adjusted mean,
    /// `V_c = (s_y² − 2θ s_yc + θ² s_c²)/n_c` within the control.
    pub v_c: f64,
    /// Variance of the treatment's adjusted mean, `V_t`, within the treatment.
    pub v_t: f64,
    /// `m_t − m_c = ȳ_t − ȳ_c − θ(c̄_t − c̄_c)`.
    pub abs_lift: f64,
    /// `abs_lift/|m_c|`; `None` when `m_c = 0`.
    pub rel_lift: Option<f64>,
    /// `√(V_t + V_c)`.
    pub se: f64,
    /// Welch–Satterthwaite df of the adjusted variances; `None` when `se = 0`.
    pub df: Option<f64>,
    /// `abs_lift/se`; `None` when `se = 0`.
    pub t: Option<f64>,
    /// `2 P(T_df > |t|)`; with `se = 0`, 1 if the lift is 0, else 0.
    pub p_value: f64,
    /// `abs_lift − t_{df, 1−α/2}·se` (the lift itself when `se = 0`).
    pub ci_low: f64,
    /// `abs_lift + t_{df, 1−α/2}·se` (the lift itself when `se = 0`).
    pub ci_high: f64,
    /// Relative interval by the requested method with the Welch critical
    /// value (see [`relative_interval`]).
    pub rel_ci: Option<(f64, f64)>,
    /// `1 − (V_t + V_c)/(s_y,t²/n_t + s_y,c²/n_c)`: the share of the
    /// unadjusted variance of the lift that CUPED removed (0 without
    /// adjustment; slightly negative with a useless covariate, since θ is
    /// pooled); `None` when the unadjusted variance is 0.
    pub variance_reduction: Option<f64>,
    /// The covariate's balance: the two-sided p-value of Welch's test that
    /// its means are equal in both arms (`c̄_t − c̄_c` over
    /// `√(s_c,t²/n_t + s_c,c²/n_c)`); 1 when the covariate has no variance
    /// and equal means.
    pub balance_p: f64,
}

impl CupedComparison {
    /// Whether the adjustment is to be used: θ exists (the covariate varies
    /// within the arms), it removes at most `1 − NEAR_EXACT_COVARIATE` of
    /// the lift's variance, and the covariate's arm means do not differ
    /// with p below [`IMBALANCED_COVARIATE`]. A covariate that removes more
    /// determines the metric (it is the metric, or computed from it,
    /// treatment effect included), and one that differs between the arms
    /// moved with the treatment; either way the adjusted lift would lose
    /// the effect with the noise.
    pub fn applied(&self) -> bool {
        self.usage() == CupedUse::Applied
    }

    /// Whether the adjustment is used ([`Self::applied`]), and otherwise
    /// why not, in this order: no θ, a covariate that determines the
    /// metric, a covariate whose arm means differ with p below
    /// [`IMBALANCED_COVARIATE`].
    pub fn usage(&self) -> CupedUse {
        if self.theta.is_none() {
            CupedUse::NoVariance
        } else if self
            .variance_reduction
            .is_some_and(|r| r > 1.0 - NEAR_EXACT_COVARIATE)
        {
            CupedUse::DeterminesMetric
        } else if self.balance_p < IMBALANCED_COVARIATE {
            CupedUse::Imbalanced
        } else {
            CupedUse::Applied
        }
    }
}

/// Mean of `sum` over `n` units minus the mean of `total` over `n_total`:
/// `(sum·n_total − total·n)/(n·n_total)` with exact two-products, so arms
/// with nearly equal means keep the digits of their difference.
fn mean_difference(sum: f64, n: f64, total: f64, n_total: f64) -> f64 {
    diff_of_products(sum, n_total, total, n) / (n * n_total)
}

/// CUPED comparison (DESIGN §2 "CUPED", convention R8):
///
/// - over both arms' `N = n_c + n_t` units: `S_CC = ΣC² − (ΣC)²/N`,
///   `S_YC = ΣYC − ΣY·ΣC/N`, `θ = S_YC/S_CC`, `c̄ = ΣC/N`;
/// - per arm: `m_a = ȳ_a − θ(c̄_a − c̄)`,
///   `V_a = (s_y² − 2θ s_yc + θ² s_c²)/n_a` with `n_a − 1` sample
///   (co)variances (a rounding below 0 is clamped to 0);
/// - `abs_lift = m_t − m_c`, Welch t on `V_t + V_c` with
///   Welch–Satterthwaite df, `CI = abs_lift ∓ t_{df, 1−α/2}·se`;
/// - the relative lift `abs_lift/|m_c|` with its interval by `method` at the
///   same critical value; `variance_reduction` as in [`CupedComparison`].
///
/// A covariate without variance (`S_CC = 0`), or without variance within
/// the arms (their pooled within-arm sum of squares below 1e-9 of `S_CC/N`:
/// it differs only between arms, so θ would absorb the treatment's
/// effect), gives `θ = None` and exactly
/// the unadjusted Welch comparison of [`compare_means`](super::mean::compare_means)
/// with `variance_reduction = 0`. Every `n·Σab − Σa·Σb` numerator (the
/// pooled ones too) is formed from exact two-products.
///
/// `None` when an arm has `n < 2`, a sum is not finite, `α ∉ (0, 1)`, or
/// `t` overflows (sums no data can give).
pub fn compare_cuped(
    c: CupedStats,
    t: CupedStats,
    alpha: f64,
    method: RelativeCiMethod,
) -> Option<CupedComparison> {
    z_critical(alpha)?;
    let (var_y_c, var_y_t) = (c.y().variance()?, t.y().variance()?);
    let (var_c_c, var_c_t) = (c.c().variance()?, t.c().variance()?);
    let cov_c = sample_covariance(c.n, c.sum_y, c.sum_c, c.sum_yc)?;
    let cov_t = sample_covariance(t.n, t.sum_y, t.sum_c, t.sum_yc)?;
    let (nc, nt) = (c.n as f64, t.n as f64);
    let n = nc + nt;
    let (sum_y, sum_c) = (c.sum_y + t.sum_y, c.sum_c + t.sum_c);
    let s_cc = diff_of_products(n, c.sum_c_sq + t.sum_c_sq, sum_c, sum_c);
    let s_yc = diff_of_products(n, c.sum_yc + t.sum_yc, sum_y, sum_c);
    // A covariate with no variance within the arms (each arm's units share
    // one value: a pre-period joined per arm, not per unit) can only carry
    // the arms' difference, and θ would remove the treatment's effect with
    // it: no adjustment, as for a constant covariate.
    let s_within = (nc - 1.0) * var_c_c + (nt - 1.0) * var_c_t;
    let theta = (s_cc > 0.0 && s_within > 1e-9 * (s_cc / n))
        .then(|| s_yc / s_cc)
        .filter(|th| th.is_finite());
    let th = theta.unwrap_or(0.0);
    let shift_c = mean_difference(c.sum_c, nc, sum_c, n);
    let shift_t = mean_difference(t.sum_c, nt, sum_c, n);
    let m_c = c.sum_y / nc - th * shift_c;
    let m_t = t.sum_y / nt - th * shift_t;
    let abs_lift =
        mean_difference(t.sum_y, nt, c.sum_y, nc) - th * mean_difference(t.sum_c, nt, c.sum_c, nc);
    let adjusted = |var_y: f64, cov: f64, var_c: f64, units: f64| {
        (var_y - 2.0 * th * cov + th * th * var_c).max(0.0) / units
    };
    let v_c = adjusted(var_y_c, cov_c, var_c_c, nc);
    let v_t = adjusted(var_y_t, cov_t, var_c_t, nt);
    if ![m_c, m_t, abs_lift, v_c, v_t].iter().all(|x| x.is_finite()) {
        return None;
    }
    let test = welch_test(abs_lift, v_c, v_t, nc, nt, alpha);
    if !(test.t.is_none_or(f64::is_finite) && test.ci_low.is_finite() && test.ci_high.is_finite()) {
        return None;
    }
    let balance = welch_test(
        mean_difference(t.sum_c, nt, c.sum_c, nc),
        var_c_c / nc,
        var_c_t / nt,
        nc,
        nt,
        alpha,
    );
    let unadjusted = var_y_c / nc + var_y_t / nt;
    let variance_reduction = (unadjusted > 0.0).then(|| 1.0 - (v_c + v_t) / unadjusted);
    let rel_lift = relative_lift(abs_lift, m_c);
    let estimates = ArmEstimates {
        m_c,
        m_t,
        v_c,
        v_t,
        rel_lift,
    };
    Some(CupedComparison {
        theta,
        m_c,
        m_t,
        v_c,
        v_t,
        abs_lift,
        rel_lift,
        se: test.se,
        df: test.df,
        t: test.t,
        p_value: test.p_value,
        ci_low: test.ci_low,
        ci_high: test.ci_high,
        // With se = 0 the interval is the point whatever the quantile.
        rel_ci: relative_interval(estimates, test.t_quantile.unwrap_or(0.0), method),
        variance_reduction,
        balance_p: balance.p_value,
    })
}

/// Planning: the sample size once CUPED removes the share `reduction` of
/// the variance. Fixed-horizon sizes are proportional to the variance, and
/// the adjusted variance is `Var(Y)(1 − ρ²)` (Deng et al. 2013, §3.2; so
/// `reduction = ρ²` for a covariate with correlation `ρ`): the unrounded
/// control size is multiplied by `1 − reduction`, then rounded up as
/// [`power`](super::power) does (`n_t = ⌈ratio · n_c⌉`). `cuped 30%` needs
/// 70% of the units. `None` unless `0 ≤ reduction < 1` and `ratio > 0`.
pub fn reduced_sample_size(size: SampleSize, reduction: f64, ratio: f64) -> Option<SampleSize> {
    if !((0.0..1.0).contains(&reduction) && ratio.is_finite() && ratio > 0.0) {
        return None;
    }
    let n_control_exact = size.n_control_exact * (1.0 - reduction);
    if !(n_control_exact.is_finite() && n_control_exact > 0.0) {
        return None;
    }
    Some(SampleSize {
        n_control: n_control_exact.ceil() as u64,
        n_treatment: (ratio * n_control_exact).ceil() as u64,
        n_control_exact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::mean::compare_means;
    use crate::stats::power;

    /// Sums of per-unit `(y, c)` pairs.
    fn arm(units: &[(f64, f64)]) -> CupedStats {
        units.iter().fold(
            CupedStats {
                n: units.len() as u64,
                ..CupedStats::default()
            },
            |s, &(y, c)| CupedStats {
                sum_y: s.sum_y + y,
                sum_y_sq: s.sum_y_sq + y * y,
                sum_c: s.sum_c + c,
                sum_c_sq: s.sum_c_sq + c * c,
                sum_yc: s.sum_yc + y * c,
                ..s
            },
        )
    }

    fn cmp(c: &[(f64, f64)], t: &[(f64, f64)]) -> CupedComparison {
        compare_cuped(arm(c), arm(t), 0.05, RelativeCiMethod::Delta).expect("defined")
    }

    #[test]
    fn a_constant_covariate_changes_nothing() {
        let c = [(1.0, 7.0), (4.0, 7.0), (2.0, 7.0), (5.0, 7.0)];
        let t = [(3.0, 7.0), (6.0, 7.0), (4.0, 7.0)];
        let cuped = cmp(&c, &t);
        let welch = compare_means(arm(&c).y(), arm(&t).y(), 0.05).expect("defined");
        assert_eq!(cuped.theta, None);
        assert_eq!(cuped.variance_reduction, Some(0.0));
        assert_eq!(
            (
                cuped.abs_lift,
                cuped.se,
                cuped.df,
                cuped.p_value,
                cuped.ci_low,
                cuped.ci_high
            ),
            (
                welch.abs_lift,
                welch.se,
                welch.df,
                welch.p_value,
                welch.ci_low,
                welch.ci_high
            )
        );
    }

    /// A covariate constant within each arm but not between them (a
    /// pre-period joined per arm) would carry the treatment's effect into
    /// θ and erase it; it is not used.
    #[test]
    fn a_covariate_constant_within_each_arm_is_not_used() {
        let c = [(10.0, 20.0), (9.0, 20.0), (11.0, 20.0), (10.5, 20.0)];
        let t = [(12.0, 21.0), (13.0, 21.0), (11.5, 21.0)];
        let cuped = cmp(&c, &t);
        let welch = compare_means(arm(&c).y(), arm(&t).y(), 0.05).expect("defined");
        assert_eq!(cuped.theta, None);
        assert_eq!(
            (cuped.abs_lift, cuped.p_value),
            (welch.abs_lift, welch.p_value)
        );
        assert!(cuped.abs_lift > 1.5, "the effect stays: {cuped:?}");
    }

    #[test]
    fn a_perfect_covariate_removes_the_noise() {
        // y = c + effect: within each arm the covariate explains everything.
        let c = [(1.0, 1.0), (5.0, 5.0), (3.0, 3.0)];
        let t = [(3.0, 1.0), (7.0, 5.0), (5.0, 3.0), (4.0, 2.0)];
        let cuped = cmp(&c, &t);
        assert!(cuped.theta.is_some_and(|th| th > 0.0));
        assert!(
            cuped.variance_reduction.is_some_and(|vr| vr > 0.9),
            "{cuped:?}"
        );
        assert!(cuped.p_value < 0.05 && cuped.ci_low > 0.0);
    }

    #[test]
    fn the_adjustment_removes_a_pre_period_imbalance() {
        // Treatment users were heavier before the test; y = c exactly, so
        // the unadjusted lift of 2 is all imbalance.
        let c = [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)];
        let t = [(3.0, 3.0), (4.0, 4.0), (5.0, 5.0)];
        let cuped = cmp(&c, &t);
        assert_eq!(cuped.theta, Some(1.0));
        assert!(cuped.abs_lift.abs() < 1e-15 && cuped.se == 0.0, "{cuped:?}");
        assert_eq!(cuped.p_value, 1.0);
    }

    #[test]
    fn planning_reduction_scales_the_variance() {
        let full = power::mean_sample_size(10.0, 1.0, 0.05, 0.8, 2.0).expect("defined");
        let smaller =
            power::mean_sample_size(10.0 * 0.7_f64.sqrt(), 1.0, 0.05, 0.8, 2.0).expect("defined");
        let reduced = reduced_sample_size(full, 0.3, 2.0).expect("defined");
        assert_eq!(
            (reduced.n_control, reduced.n_treatment),
            (smaller.n_control, smaller.n_treatment)
        );
        assert_eq!(reduced_sample_size(full, 0.0, 2.0), Some(full));
        assert_eq!(reduced_sample_size(full, 1.0, 2.0), None);
        assert_eq!(reduced_sample_size(full, -0.1, 2.0), None);
    }

    #[test]
    fn undefined_inputs() {
        let ok = arm(&[(1.0, 2.0), (2.0, 3.0)]);
        let one = arm(&[(1.0, 2.0)]);
        assert_eq!(compare_cuped(one, ok, 0.05, RelativeCiMethod::Delta), None);
        assert_eq!(compare_cuped(ok, ok, 0.0, RelativeCiMethod::Delta), None);
        let inf = CupedStats {
            sum_c_sq: f64::INFINITY,
            ..ok
        };
        assert_eq!(compare_cuped(ok, inf, 0.05, RelativeCiMethod::Delta), None);
    }
}

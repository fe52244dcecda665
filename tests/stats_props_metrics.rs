//! Properties of the ratio (delta method) and CUPED comparisons for every
//! input: never a NaN or an infinity (even from sums no real data can give,
//! such as `Σx² < (Σx)²/n` or a cross-product past Cauchy–Schwarz), p in
//! [0, 1], a CI that contains the lift, "p < α" ⇔ the CI excludes 0, and
//! swapping the arms only flips signs.

use proptest::prelude::*;
use xos::stats::cuped::{CupedComparison, CupedStats, compare_cuped};
use xos::stats::proportion::RelativeCiMethod;
use xos::stats::ratio::{RatioComparison, RatioStats, compare_ratios};

fn method() -> impl Strategy<Value = RelativeCiMethod> {
    prop_oneof![
        Just(RelativeCiMethod::Delta),
        Just(RelativeCiMethod::Fieller),
        Just(RelativeCiMethod::Log),
    ]
}

fn alpha() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.05), 0.001f64..0.5]
}

/// Any finite sum, from 0 to far past what data gives.
fn any_sum() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), -10.0f64..10.0, -1e300f64..1e300]
}

fn any_n() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..4, 0u64..u64::MAX]
}

/// Per-unit integer pairs, summed as the row scanner does.
fn units() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec((0u32..20, 0u32..50), 2..60).prop_map(|v| {
        v.into_iter()
            .map(|(a, b)| (f64::from(a), f64::from(b)))
            .collect()
    })
}

fn ratio_of(units: &[(f64, f64)]) -> RatioStats {
    let mut s = RatioStats {
        n: units.len() as u64,
        ..RatioStats::default()
    };
    for &(x, y) in units {
        s.sum_x += x;
        s.sum_x_sq += x * x;
        s.sum_y += y;
        s.sum_y_sq += y * y;
        s.sum_xy += x * y;
    }
    s
}

fn cuped_of(units: &[(f64, f64)]) -> CupedStats {
    let r = ratio_of(units);
    CupedStats {
        n: r.n,
        sum_y: r.sum_x,
        sum_y_sq: r.sum_x_sq,
        sum_c: r.sum_y,
        sum_c_sq: r.sum_y_sq,
        sum_yc: r.sum_xy,
    }
}

fn finite(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite())
}

fn ratio_is_finite(r: &RatioComparison) -> bool {
    finite(&[
        r.r_c, r.r_t, r.var_r_c, r.var_r_t, r.abs_lift, r.se, r.p_value, r.ci_low, r.ci_high,
    ]) && r.rel_lift.is_none_or(f64::is_finite)
        && r.z.is_none_or(f64::is_finite)
        && r.rel_ci
            .is_none_or(|(a, b)| a.is_finite() && b.is_finite() && a <= b)
}

fn cuped_is_finite(r: &CupedComparison) -> bool {
    finite(&[
        r.m_c, r.m_t, r.v_c, r.v_t, r.abs_lift, r.se, r.p_value, r.ci_low, r.ci_high,
    ]) && r.theta.is_none_or(f64::is_finite)
        && r.df.is_none_or(f64::is_finite)
        && r.t.is_none_or(f64::is_finite)
        && r.rel_lift.is_none_or(f64::is_finite)
        && r.variance_reduction.is_none_or(f64::is_finite)
        && r.rel_ci
            .is_none_or(|(a, b)| a.is_finite() && b.is_finite() && a <= b)
}

/// The test and its interval agree, except on the knife edge where the
/// statistic sits on the critical value.
fn consistent(p: f64, alpha: f64, low: f64, lift: f64, high: f64) -> bool {
    let excludes = low > 0.0 || high < 0.0;
    let edge = (low.abs().min(high.abs())) <= 1e-9 * (high - low).abs();
    (0.0..=1.0).contains(&p) && low <= lift && lift <= high && (edge || (p < alpha) == excludes)
}

proptest! {
    #[test]
    fn ratio_never_produces_nan(
        sums in prop::array::uniform10(any_sum()),
        (n_c, n_t) in (any_n(), any_n()),
        alpha in alpha(),
        method in method(),
    ) {
        let arm = |n, s: &[f64]| RatioStats {
            n, sum_x: s[0], sum_x_sq: s[1], sum_y: s[2], sum_y_sq: s[3], sum_xy: s[4],
        };
        let (c, t) = (arm(n_c, &sums[..5]), arm(n_t, &sums[5..]));
        prop_assert!(c.ratio().is_none_or(f64::is_finite));
        prop_assert!(c.variance().is_none_or(|v| v.is_finite() && v >= 0.0));
        if let Some(r) = compare_ratios(c, t, alpha, method) {
            prop_assert!(ratio_is_finite(&r), "{r:?}");
        }
    }

    #[test]
    fn cuped_never_produces_nan(
        sums in prop::array::uniform10(any_sum()),
        (n_c, n_t) in (any_n(), any_n()),
        alpha in alpha(),
        method in method(),
    ) {
        let arm = |n, s: &[f64]| CupedStats {
            n, sum_y: s[0], sum_y_sq: s[1], sum_c: s[2], sum_c_sq: s[3], sum_yc: s[4],
        };
        if let Some(r) = compare_cuped(arm(n_c, &sums[..5]), arm(n_t, &sums[5..]), alpha, method) {
            prop_assert!(cuped_is_finite(&r), "{r:?}");
        }
    }

    #[test]
    fn ratio_test_is_consistent_and_symmetric(c in units(), t in units(), alpha in alpha()) {
        let (c, t) = (ratio_of(&c), ratio_of(&t));
        if let Some(r) = compare_ratios(c, t, alpha, RelativeCiMethod::Delta) {
            prop_assert!(ratio_is_finite(&r));
            prop_assert!(consistent(r.p_value, alpha, r.ci_low, r.abs_lift, r.ci_high), "{r:?}");
            let s = compare_ratios(t, c, alpha, RelativeCiMethod::Delta).expect("both arms defined");
            prop_assert_eq!(s.abs_lift, -r.abs_lift);
            prop_assert_eq!(s.p_value, r.p_value);
        }
    }

    #[test]
    fn cuped_test_is_consistent_and_symmetric(c in units(), t in units(), alpha in alpha()) {
        let (c, t) = (cuped_of(&c), cuped_of(&t));
        let r = compare_cuped(c, t, alpha, RelativeCiMethod::Delta).expect("n ≥ 2 per arm");
        prop_assert!(cuped_is_finite(&r));
        prop_assert!(consistent(r.p_value, alpha, r.ci_low, r.abs_lift, r.ci_high), "{r:?}");
        let s = compare_cuped(t, c, alpha, RelativeCiMethod::Delta).expect("n ≥ 2 per arm");
        prop_assert_eq!(s.theta, r.theta);
        prop_assert!((s.abs_lift + r.abs_lift).abs() <= 1e-12 * r.abs_lift.abs().max(1.0));
        prop_assert!((s.p_value - r.p_value).abs() <= 1e-12);
        if let Some(vr) = r.variance_reduction {
            prop_assert!(vr <= 1.0);
        }
    }
}

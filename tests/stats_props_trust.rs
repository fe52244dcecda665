//! Properties of the trust conventions (DESIGN §2) for every input: the
//! score, pooled and Wald rate tests agree with their own intervals, score
//! intervals are never a single point, non-inferiority agrees with its
//! one-sided test, relative lifts keep the sign of the absolute lift, and an
//! interval at the per-comparison level of a correction excludes 0 exactly
//! when the adjusted p-value is below α.

use proptest::prelude::*;
use xos::stats::mean::{MeanStats, compare_means};
use xos::stats::multiple::{Adjustment, adjust, adjusted_alpha};
use xos::stats::proportion::{
    RateMethod, RelativeCiMethod, compare_rates_with, non_inferiority, relative_ci,
};

const METHODS: [RateMethod; 3] = [RateMethod::Score, RateMethod::Pooled, RateMethod::Wald];
const RELATIVE: [RelativeCiMethod; 3] = [
    RelativeCiMethod::Delta,
    RelativeCiMethod::Fieller,
    RelativeCiMethod::Log,
];

/// An arm `(n, x)` with `0 ≤ x ≤ n`, n up to 10⁹, often at 0 % or 100 %.
fn arm() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![1u64..50, 1u64..100_000, 1u64..1_000_000_000]
        .prop_flat_map(|n| (Just(n), prop_oneof![Just(0), Just(n), 0..=n.min(20), 0..=n]))
}

fn alpha() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.05), 0.001f64..0.4]
}

/// Sufficient statistics of an arm from a mean (either sign), an sd and n.
fn mean_arm() -> impl Strategy<Value = MeanStats> {
    (
        prop_oneof![2u64..20, 2u64..1_000_000],
        prop_oneof![Just(0.0), -1e3f64..1e3],
        prop_oneof![Just(0.0), 1e-2f64..1e2],
    )
        .prop_map(|(n, mean, sd)| {
            let nf = n as f64;
            MeanStats {
                n,
                sum: nf * mean,
                sum_sq: (nf - 1.0) * sd * sd + nf * mean * mean,
            }
        })
}

/// `p < α` and "the CI excludes 0" may disagree by rounding only when the
/// p-value sits on α itself; skip that knife edge.
fn off_the_edge(p: f64, alpha: f64) -> bool {
    (p - alpha).abs() > 1e-9 * alpha
}

fn excludes_zero(low: f64, high: f64) -> bool {
    low > 0.0 || high < 0.0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn rate_tests_agree_with_their_intervals(
        (n_c, x_c) in arm(), (n_t, x_t) in arm(), alpha in alpha()
    ) {
        for method in METHODS {
            let r = compare_rates_with(n_c, x_c, n_t, x_t, alpha, method).expect("valid arms");
            prop_assert!((0.0..=1.0).contains(&r.p_value));
            prop_assert!(r.ci_low <= r.abs_lift && r.abs_lift <= r.ci_high);
            if off_the_edge(r.p_value, alpha) {
                prop_assert_eq!(r.p_value < alpha, excludes_zero(r.ci_low, r.ci_high), "{:?}", r);
            }
            if method != RateMethod::Wald {
                // Inside the range of a difference of rates, and never a point.
                prop_assert!(-1.0 <= r.ci_low && r.ci_high <= 1.0);
                prop_assert!(r.ci_low < r.ci_high, "{:?}", r);
            }
            if let Some(rel) = r.rel_lift {
                prop_assert_eq!(rel.signum() * r.abs_lift.signum() >= 0.0, true);
                prop_assert_eq!(rel == 0.0, r.abs_lift == 0.0);
            }
        }
    }

    #[test]
    fn non_inferiority_agrees_with_its_one_sided_test(
        (n_c, x_c) in arm(), (n_t, x_t) in arm(), alpha in alpha(),
        margin in prop_oneof![Just(0.005), 1e-6f64..0.5],
    ) {
        for method in METHODS {
            let ni = non_inferiority(n_c, x_c, n_t, x_t, alpha, margin, method).expect("valid");
            prop_assert!((0.0..=1.0).contains(&ni.p_value));
            if off_the_edge(ni.p_value, alpha) {
                prop_assert_eq!(ni.non_inferior, ni.p_value < alpha, "{:?}", ni);
            }
            if method != RateMethod::Wald {
                prop_assert!(ni.upper.is_some());
            }
            // Zero events everywhere never prove anything below a margin
            // smaller than what the sample can resolve.
            if x_c == 0 && x_t == 0 && (n_c + n_t) < 1000 && margin < 0.002 {
                prop_assert!(!ni.non_inferior);
            }
        }
    }

    #[test]
    fn relative_rate_intervals_are_finite_and_ordered(
        (n_c, x_c) in arm(), (n_t, x_t) in arm(), alpha in alpha()
    ) {
        for method in RELATIVE {
            if let Some((low, high)) = relative_ci(n_c, x_c, n_t, x_t, alpha, method) {
                prop_assert!(low.is_finite() && high.is_finite() && low <= high);
            }
        }
    }

    #[test]
    fn mean_relative_lifts_keep_their_sign(c in mean_arm(), t in mean_arm(), alpha in alpha()) {
        let m = compare_means(c, t, alpha).expect("n ≥ 2");
        match m.rel_lift {
            Some(rel) => prop_assert!(rel.signum() == m.abs_lift.signum() || m.abs_lift == 0.0),
            None => prop_assert_eq!(m.mean_c, 0.0),
        }
        for method in RELATIVE {
            if let Some((low, high)) = m.relative_ci(method) {
                prop_assert!(low.is_finite() && high.is_finite() && low <= high);
                let rel = m.rel_lift.expect("an interval needs a relative lift");
                prop_assert!(low <= rel * (1.0 + 1e-12) + 1e-12 || rel < 0.0);
            }
        }
    }

    #[test]
    fn adjusted_intervals_agree_with_adjusted_p_values(
        arms in prop::collection::vec(arm(), 3..6), alpha in alpha(),
        correction in prop_oneof![Just(Adjustment::Bonferroni), Just(Adjustment::Holm), Just(Adjustment::Bh)],
        method in prop_oneof![Just(RateMethod::Score), Just(RateMethod::Pooled), Just(RateMethod::Wald)],
    ) {
        let (n_c, x_c) = arms[0];
        let p: Vec<f64> = arms[1..]
            .iter()
            .map(|&(n, x)| compare_rates_with(n_c, x_c, n, x, alpha, method).expect("valid").p_value)
            .collect();
        let p_adj = adjust(&p, correction);
        for (k, &(n_t, x_t)) in arms[1..].iter().enumerate() {
            let level = adjusted_alpha(alpha, p[k], p_adj[k], p.len());
            prop_assert!(level > 0.0 && level <= alpha);
            let r = compare_rates_with(n_c, x_c, n_t, x_t, level, method).expect("valid");
            if off_the_edge(p_adj[k], alpha) && off_the_edge(r.p_value, level) {
                prop_assert_eq!(p_adj[k] < alpha, excludes_zero(r.ci_low, r.ci_high));
            }
        }
    }
}

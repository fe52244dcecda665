//! Properties that must hold for every input: p-values in [0, 1], CIs that
//! contain their point estimate, "significant" ⇔ the CI excludes 0, arm swaps
//! that only flip signs, Holm ≥ BH, and never a NaN or an infinity.

use proptest::prelude::*;
use xos::stats::bayes::{beta_binomial, normal_approx};
use xos::stats::mean::{MeanStats, compare_means};
use xos::stats::multiple::{Adjustment, adjust};
use xos::stats::power::{
    MdeKind, duration_days, mean_mde, mean_sample_size, rate_mde, rate_sample_size,
};
use xos::stats::proportion::{
    RelativeCiMethod, compare_rates, pooled_p_value, relative_ci, z_critical,
};
use xos::stats::srm::srm_test;

/// An arm `(n, x)` with `0 ≤ x ≤ n`, n up to 10⁹.
fn arm() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![1u64..50, 1u64..100_000, 1u64..1_000_000_000]
        .prop_flat_map(|n| (Just(n), prop_oneof![Just(0), Just(n), 0..=n]))
}

/// Any counts at all, including empty arms and more conversions than units.
fn any_counts() -> impl Strategy<Value = (u64, u64)> {
    (
        prop_oneof![Just(0u64), 0u64..10, 0u64..u64::MAX],
        prop_oneof![Just(0u64), 0u64..10, 0u64..u64::MAX],
    )
}

fn alpha() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.05), 0.001f64..0.5]
}

/// Sufficient statistics of an arm from a mean, an sd and n.
fn mean_arm() -> impl Strategy<Value = MeanStats> {
    (
        prop_oneof![2u64..20, 2u64..1_000_000_000],
        -1e6f64..1e6,
        prop_oneof![Just(0.0), 1e-3f64..1e3],
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

/// `p < α` and "the CI excludes 0" can only disagree by rounding when `|z|`
/// sits on the critical value; skip that knife edge.
fn off_the_edge(stat: Option<f64>, critical: f64) -> bool {
    stat.is_none_or(|s| (s.abs() - critical).abs() > 1e-9 * critical)
}

proptest! {
    #[test]
    fn rate_test_is_consistent((n_c, x_c) in arm(), (n_t, x_t) in arm(), alpha in alpha()) {
        let r = compare_rates(n_c, x_c, n_t, x_t, alpha).expect("valid arms");
        let fields = [r.p_c, r.p_t, r.abs_lift, r.se, r.p_value, r.ci_low, r.ci_high];
        prop_assert!(fields.iter().all(|v| v.is_finite()));
        prop_assert!(r.rel_lift.is_none_or(f64::is_finite) && r.z.is_none_or(f64::is_finite));
        prop_assert!((0.0..=1.0).contains(&r.p_value));
        prop_assert!(r.ci_low <= r.abs_lift && r.abs_lift <= r.ci_high);
        let zq = z_critical(alpha).expect("valid alpha");
        if off_the_edge(r.z, zq) {
            prop_assert_eq!(r.p_value < alpha, r.ci_low > 0.0 || r.ci_high < 0.0, "{:?}", r);
        }
        let pooled = pooled_p_value(n_c, x_c, n_t, x_t);
        prop_assert!((0.0..=1.0).contains(&pooled));
    }

    #[test]
    fn swapping_rate_arms_flips_the_lift((n_c, x_c) in arm(), (n_t, x_t) in arm()) {
        let a = compare_rates(n_c, x_c, n_t, x_t, 0.05).expect("valid arms");
        let b = compare_rates(n_t, x_t, n_c, x_c, 0.05).expect("valid arms");
        prop_assert_eq!(a.abs_lift, -b.abs_lift);
        prop_assert_eq!(a.p_value, b.p_value);
        prop_assert_eq!(a.se, b.se);
        prop_assert_eq!(pooled_p_value(n_c, x_c, n_t, x_t), pooled_p_value(n_t, x_t, n_c, x_c));
    }

    #[test]
    fn relative_cis_bracket_the_relative_lift((n_c, x_c) in arm(), (n_t, x_t) in arm(), alpha in alpha()) {
        let rel = compare_rates(n_c, x_c, n_t, x_t, alpha).expect("valid arms").rel_lift;
        for method in [RelativeCiMethod::Delta, RelativeCiMethod::Log, RelativeCiMethod::Fieller] {
            if let Some((low, high)) = relative_ci(n_c, x_c, n_t, x_t, alpha, method) {
                let rel = rel.expect("a relative CI implies a relative lift");
                prop_assert!(low.is_finite() && high.is_finite() && low <= high);
                let slack = 1e-12 * rel.abs().max(1.0);
                prop_assert!(low <= rel + slack && rel - slack <= high, "{:?}: {} not in [{}, {}]", method, rel, low, high);
            }
        }
    }

    #[test]
    fn nothing_is_ever_nan((n_c, x_c) in any_counts(), (n_t, x_t) in any_counts(), alpha in -1.0f64..2.0) {
        if let Some(r) = compare_rates(n_c, x_c, n_t, x_t, alpha) {
            prop_assert!([r.p_c, r.p_t, r.abs_lift, r.se, r.p_value, r.ci_low, r.ci_high].iter().all(|v| v.is_finite()));
        }
        prop_assert!(pooled_p_value(n_c, x_c, n_t, x_t).is_finite());
        for method in [RelativeCiMethod::Delta, RelativeCiMethod::Log, RelativeCiMethod::Fieller] {
            if let Some((low, high)) = relative_ci(n_c, x_c, n_t, x_t, alpha, method) {
                prop_assert!(low.is_finite() && high.is_finite());
            }
        }
        if let Some(s) = srm_test(&[n_c, n_t], &[1.0, 2.0]) {
            prop_assert!(s.chi2.is_finite() && (0.0..=1.0).contains(&s.p_value));
        }
    }

    #[test]
    fn bayes_is_a_probability_with_finite_losses((n_c, x_c) in arm(), (n_t, x_t) in arm(), jeffreys in any::<bool>()) {
        let prior = if jeffreys { (0.5, 0.5) } else { (1.0, 1.0) };
        let r = beta_binomial(x_c, n_c, x_t, n_t, prior).expect("valid arms");
        prop_assert!((0.0..=1.0).contains(&r.prob_t_beats_c));
        prop_assert!(r.expected_loss_t.is_finite() && r.expected_loss_t >= 0.0);
        prop_assert!(r.expected_loss_c.is_finite() && r.expected_loss_c >= 0.0);
        prop_assert!(r.expected_loss_t <= 1.0 && r.expected_loss_c <= 1.0);
    }

    #[test]
    fn normal_approx_is_finite(m_c in -1e6f64..1e6, s_c in 0.0f64..1e3, m_t in -1e6f64..1e6, s_t in 0.0f64..1e3) {
        let r = normal_approx(m_c, s_c, m_t, s_t);
        // no variance in either arm is no evidence
        prop_assert_eq!(r.is_none(), s_c == 0.0 && s_t == 0.0);
        let Some(r) = r else { return Ok(()) };
        prop_assert!((0.0..=1.0).contains(&r.prob_t_beats_c));
        prop_assert!(r.expected_loss_t.is_finite() && r.expected_loss_c.is_finite());
    }

    #[test]
    fn welch_test_is_consistent(c in mean_arm(), t in mean_arm(), alpha in alpha()) {
        let m = compare_means(c, t, alpha).expect("n ≥ 2");
        let fields = [m.mean_c, m.mean_t, m.var_c, m.var_t, m.abs_lift, m.se, m.p_value, m.ci_low, m.ci_high];
        prop_assert!(fields.iter().all(|v| v.is_finite()), "{:?}", m);
        prop_assert!(m.df.is_none_or(f64::is_finite) && m.t.is_none_or(f64::is_finite));
        prop_assert!((0.0..=1.0).contains(&m.p_value));
        prop_assert!(m.ci_low <= m.abs_lift && m.abs_lift <= m.ci_high);
        if let Some(df) = m.df {
            let tq = -xos::stats::dist::student_t_quantile(0.5 * alpha, df);
            if off_the_edge(m.t, tq) {
                prop_assert_eq!(m.p_value < alpha, m.ci_low > 0.0 || m.ci_high < 0.0, "{:?}", m);
            }
        } else {
            prop_assert_eq!(m.p_value < alpha, m.ci_low > 0.0 || m.ci_high < 0.0);
        }
        if let Some((low, high)) = m.rel_ci_delta {
            prop_assert!(low.is_finite() && high.is_finite() && low <= high);
        }
    }

    #[test]
    fn swapping_mean_arms_flips_the_lift(c in mean_arm(), t in mean_arm()) {
        let a = compare_means(c, t, 0.05).expect("n ≥ 2");
        let b = compare_means(t, c, 0.05).expect("n ≥ 2");
        prop_assert_eq!(a.abs_lift, -b.abs_lift);
        prop_assert_eq!(a.p_value, b.p_value);
        prop_assert_eq!(a.df, b.df);
    }

    #[test]
    fn holm_dominates_bh(p in prop::collection::vec(prop_oneof![0.0f64..=1.0, 0.0f64..1e-6, Just(1.0)], 0..20)) {
        let none = adjust(&p, Adjustment::None);
        let bonferroni = adjust(&p, Adjustment::Bonferroni);
        let holm = adjust(&p, Adjustment::Holm);
        let bh = adjust(&p, Adjustment::Bh);
        for i in 0..p.len() {
            for v in [none[i], bonferroni[i], holm[i], bh[i]] {
                prop_assert!((0.0..=1.0).contains(&v));
            }
            prop_assert!(bonferroni[i] >= holm[i] && holm[i] >= bh[i] && bh[i] >= none[i], "{:?}", p);
        }
    }

    #[test]
    fn srm_p_values_are_probabilities(counts in prop::collection::vec(0u64..2_000_000_000, 2..6), weights in prop::collection::vec(1e-3f64..100.0, 2..6)) {
        let k = counts.len().min(weights.len());
        if let Some(s) = srm_test(&counts[..k], &weights[..k]) {
            prop_assert!(s.chi2.is_finite() && s.chi2 >= 0.0);
            prop_assert!((0.0..=1.0).contains(&s.p_value));
            prop_assert_eq!(s.df as usize, k - 1);
        }
    }

    #[test]
    fn power_results_are_finite(baseline in -0.5f64..1.5, mde in -1.0f64..1.0, alpha in -0.1f64..1.1, power in -0.1f64..1.1, ratio in -1.0f64..5.0, n in 0u64..1_000_000_000) {
        for kind in [MdeKind::Absolute, MdeKind::Relative] {
            if let Some(s) = rate_sample_size(baseline, mde, kind, alpha, power, ratio) {
                prop_assert!(s.n_control_exact.is_finite() && s.n_control as f64 >= s.n_control_exact);
            }
        }
        if let Some(s) = mean_sample_size(mde.abs() * 10.0, mde, alpha, power, ratio) {
            prop_assert!(s.n_control_exact.is_finite());
        }
        if let Some(d) = rate_mde(baseline, n, n / 2, alpha, power) {
            prop_assert!(d.is_finite() && d > 0.0);
        }
        if let Some(d) = mean_mde(1.0, n, n, alpha, power) {
            prop_assert!(d.is_finite());
        }
        let daily = ratio * 1000.0;
        if let Some(d) = duration_days(n, daily) {
            prop_assert!(d as f64 * daily >= n as f64 * (1.0 - 1e-12) && (d as f64 - 1.0) * daily < n as f64);
        }
    }
}

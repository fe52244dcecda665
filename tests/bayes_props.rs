//! Properties of the Beta-Binomial evidence over the whole domain: posterior
//! shapes from 0.01 (fractional priors with 0 or n events) to 10¹⁵ (10¹⁵
//! units), drawn log-uniformly.

use proptest::prelude::*;
use xos::stats::bayes::{BayesResult, beta_binomial};

/// A count drawn log-uniformly from 0 to 10¹⁵.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        (0.0f64..15.0).prop_map(|e| 10f64.powf(e) as u64),
    ]
}

/// A prior shape drawn log-uniformly from 0.01 to 10.
fn shape() -> impl Strategy<Value = f64> {
    (-2.0f64..1.0).prop_map(|e| 10f64.powf(e))
}

/// An arm `(x, n)` with both `x` and `n − x` log-uniform.
fn arm() -> impl Strategy<Value = (u64, u64)> {
    (count(), count()).prop_map(|(x, y)| (x, x + y))
}

/// An arm `(x, n)` of at most about 10⁹ units; `with_failure` keeps `x < n`.
fn arm_upto_1e9(with_failure: bool) -> impl Strategy<Value = (u64, u64)> {
    let count = || prop_oneof![Just(0u64), (0.0f64..9.0).prop_map(|e| 10f64.powf(e) as u64),];
    (count(), count()).prop_map(move |(x, y)| (x, x + y + u64::from(with_failure)))
}

fn bb(c: (u64, u64), t: (u64, u64), prior: (f64, f64)) -> BayesResult {
    beta_binomial(c.0, c.1, t.0, t.1, prior).expect("valid arms")
}

/// Relative agreement of two probabilities or losses, with an absolute floor
/// far below anything reported.
fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-300
}

/// Agreement of the smaller expected loss: it is `K(1/N_c + 1/N_t) − |Δm| P`
/// with `P` the small tail, so its error is about that of `P` times `|Δm| P`
/// (docs/stats.md), however much smaller than that the loss itself is.
fn close_loss(a: f64, b: f64, r: &BayesResult) -> bool {
    close_loss_within(a, b, r, 1e-9)
}

/// [`close_loss`] at relative tolerance `rel`.
fn close_loss_within(a: f64, b: f64, r: &BayesResult, rel: f64) -> bool {
    let scale =
        (r.expected_loss_t - r.expected_loss_c).abs() * r.prob_t_beats_c.min(r.prob_c_beats_t);
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-12 * scale + 1e-300
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn tails_add_to_one_and_mirror(c in arm(), t in arm(), a in shape(), b in shape()) {
        let r = bb(c, t, (a, b));
        prop_assert!((0.0..=1.0).contains(&r.prob_t_beats_c), "{r:?}");
        prop_assert!((0.0..=1.0).contains(&r.prob_c_beats_t), "{r:?}");
        prop_assert!((r.prob_t_beats_c + r.prob_c_beats_t - 1.0).abs() <= 2e-16, "{r:?}");
        prop_assert!(r.expected_loss_t.is_finite() && r.expected_loss_t >= 0.0, "{r:?}");
        prop_assert!(r.expected_loss_c.is_finite() && r.expected_loss_c >= 0.0, "{r:?}");
        // Swapping the arms swaps the tails and the losses.
        let s = bb(t, c, (a, b));
        prop_assert!(close(s.prob_t_beats_c, r.prob_c_beats_t, 1e-12), "{r:?} {s:?}");
        prop_assert!(close(s.prob_c_beats_t, r.prob_t_beats_c, 1e-12), "{r:?} {s:?}");
        prop_assert!(close_loss(s.expected_loss_t, r.expected_loss_c, &r), "{r:?} {s:?}");
        prop_assert!(close_loss(s.expected_loss_c, r.expected_loss_t, &r), "{r:?} {s:?}");
    }

    #[test]
    fn counting_failures_instead_of_successes_mirrors(c in arm(), t in arm(), a in shape(), b in shape()) {
        // p ~ Beta(a + x, b + n − x)  ⇔  1 − p ~ Beta(b + (n − x), a + x):
        // P(p_T > p_C) = P(q_C > q_T) with q = 1 − p. The mirrored problem
        // takes the other orientation through every formulation (modes,
        // reflections and cuts are all formed anew).
        let r = bb(c, t, (a, b));
        let m = bb((c.1 - c.0, c.1), (t.1 - t.0, t.1), (b, a));
        let small = r.prob_t_beats_c.min(r.prob_c_beats_t);
        let tol = if small > 1e-250 { 1e-9 } else { 1e-6 };
        prop_assert!(close(m.prob_c_beats_t, r.prob_t_beats_c, tol), "{r:?} {m:?}");
        prop_assert!(close(m.prob_t_beats_c, r.prob_c_beats_t, tol), "{r:?} {m:?}");
        // E[max(p_C − p_T, 0)] = E[max(q_T − q_C, 0)]. KNOWN SHORTFALL
        // (docs/stats.md): the smaller loss of a tail beyond ~1e-100 in the
        // exact sum is good to only ~1e-8 relative (1.9e-188 tail: 1.7e-8).
        let loss_tol = if small > 1e-100 { 1e-9 } else { 1e-6 };
        prop_assert!(close_loss_within(m.expected_loss_c, r.expected_loss_t, &r, loss_tol), "{r:?} {m:?}");
        prop_assert!(close_loss_within(m.expected_loss_t, r.expected_loss_c, &r, loss_tol), "{r:?} {m:?}");
    }

    // KNOWN SHORTFALL (docs/stats.md): with an arm of ~4e10 units facing an
    // empty arm with a prior shape below ~0.02, P is only good to ~1e-7
    // relative, far coarser than one conversion's effect; the monotonicity
    // is checked up to 10⁹ units, where the method resolves it.
    #[test]
    fn one_more_treatment_conversion_never_lowers_the_evidence(
        c in arm_upto_1e9(false),
        t in arm_upto_1e9(true),
        a in shape(),
        b in shape(),
    ) {
        // Beta(a + 1, b) stochastically dominates Beta(a, b + 1).
        let r = bb(c, t, (a, b));
        let up = bb(c, (t.0 + 1, t.1), (a, b));
        prop_assert!(up.prob_t_beats_c >= r.prob_t_beats_c * (1.0 - 1e-9), "{r:?} {up:?}");
        prop_assert!(up.prob_c_beats_t <= r.prob_c_beats_t * (1.0 + 1e-9) + 1e-300, "{r:?} {up:?}");
    }
}

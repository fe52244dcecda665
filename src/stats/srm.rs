//! Sample-ratio mismatch: Pearson χ² goodness of fit of the observed unit
//! counts against the declared split.

use super::dist::chi2_sf;

/// Result of [`srm_test`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SrmResult {
    /// `Σ (o_i − e_i)²/e_i`.
    pub chi2: f64,
    /// `k − 1`.
    pub df: u64,
    /// `P(χ²_df ≥ chi2) = Q(df/2, chi2/2)`, full relative precision down to
    /// the subnormal range; 1 when `chi2 = 0`.
    pub p_value: f64,
}

/// Pearson χ² test (no continuity correction) of `counts` against `weights`,
/// which are relative shares normalised by their sum (`33.3` three times is
/// an exact equal split). Counts and weights are matched by position; the
/// caller matches them by variant name.
///
/// With `N = Σ counts`, `W = Σ weights`, `e_i = N w_i / W`:
/// `chi2 = Σ (o_i − e_i)²/e_i`, each deviation formed as
/// `(o_i W − N w_i)/W` with exact two-products so that huge balanced arms keep
/// their digits; `df = k − 1`; `p = Q(df/2, chi2/2)`.
///
/// `None` when `counts.len() < 2`, the lengths differ, a weight is not
/// positive and finite, or the total is 0.
pub fn srm_test(counts: &[u64], weights: &[f64]) -> Option<SrmResult> {
    if counts.len() < 2 || counts.len() != weights.len() {
        return None;
    }
    if weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
        return None;
    }
    let total: u128 = counts.iter().map(|&c| u128::from(c)).sum();
    if total == 0 {
        return None;
    }
    let n = total as f64;
    let w_sum: f64 = weights.iter().sum();
    if !w_sum.is_finite() {
        return None;
    }
    let chi2: f64 = counts
        .iter()
        .zip(weights)
        .map(|(&o, &w)| {
            let o = o as f64;
            let nw = n * w;
            let nw_err = n.mul_add(w, -nw);
            // o·W − N·w with the product N·w carried to double length.
            let dev_w = o.mul_add(w_sum, -nw) - nw_err;
            dev_w * dev_w / (w_sum * nw)
        })
        .sum();
    let df = counts.len() as u64 - 1;
    Some(SrmResult {
        chi2,
        df,
        p_value: chi2_sf(chi2, df as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_inputs_are_undefined() {
        assert_eq!(srm_test(&[10], &[1.0]), None);
        assert_eq!(srm_test(&[10, 10], &[1.0]), None);
        assert_eq!(srm_test(&[10, 10], &[1.0, 0.0]), None);
        assert_eq!(srm_test(&[10, 10], &[1.0, -1.0]), None);
        assert_eq!(srm_test(&[10, 10], &[1.0, f64::NAN]), None);
        assert_eq!(srm_test(&[0, 0], &[1.0, 1.0]), None);
    }

    #[test]
    fn a_perfect_split_has_p_one() {
        let r = srm_test(&[5000, 5000], &[50.0, 50.0]).expect("valid");
        assert_eq!((r.chi2, r.df, r.p_value), (0.0, 1, 1.0));
        // Shares are normalised: 33.3 three times is an exact equal split.
        let r = srm_test(&[100, 100, 100], &[33.3, 33.3, 33.3]).expect("valid");
        assert!(r.chi2 < 1e-20 && r.p_value == 1.0 && r.df == 2);
    }

    #[test]
    fn an_empty_arm_is_a_severe_mismatch() {
        let r = srm_test(&[120, 0], &[1.0, 1.0]).expect("valid");
        assert_eq!(r.chi2, 120.0);
        assert!((r.p_value / 6.326_068_263_677_261e-28 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn huge_arms_keep_tiny_p_values() {
        let r = srm_test(&[1_000_678_000, 999_322_000], &[0.5, 0.5]).expect("valid");
        assert!((r.chi2 / 919.368 - 1.0).abs() < 1e-12);
        assert!(r.p_value > 1e-202 && r.p_value < 1e-201);
    }

    #[test]
    fn unequal_weights() {
        let r = srm_test(&[90_210, 9_790], &[90.0, 10.0]).expect("valid");
        assert!((r.chi2 - 4.9).abs() < 1e-10);
        assert!(r.p_value > 0.02 && r.p_value < 0.03);
    }
}

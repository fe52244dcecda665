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

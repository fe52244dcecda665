//! Multiple-testing adjustment of p-values (statsmodels `multipletests`
//! conventions), results in the input order.

/// Adjustment method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adjustment {
    /// No adjustment (values are only clamped to `[0, 1]`).
    None,
    /// `min(1, m p_i)`.
    Bonferroni,
    /// Holm step-down: `adj_(i) = min(1, max_{j≤i} (m − j + 1) p_(j))`.
    Holm,
    /// Benjamini–Hochberg step-up: `adj_(i) = min(1, min_{j≥i} m p_(j)/j)`.
    Bh,
}

/// Adjusted p-values, in the order of `p_values`, with `p_(1) ≤ … ≤ p_(m)`
/// the sorted inputs (1-based ranks). Tied inputs get equal adjusted values.
/// Inputs are clamped to `[0, 1]` and NaN is treated as 1, so the output is
/// always in `[0, 1]`.
pub fn adjust(p_values: &[f64], method: Adjustment) -> Vec<f64> {
    let p: Vec<f64> = p_values
        .iter()
        .map(|&v| if v.is_nan() { 1.0 } else { v.clamp(0.0, 1.0) })
        .collect();
    let m = p.len() as f64;
    match method {
        Adjustment::None => p,
        Adjustment::Bonferroni => p.iter().map(|&v| (m * v).min(1.0)).collect(),
        Adjustment::Holm | Adjustment::Bh => {
            let mut order: Vec<usize> = (0..p.len()).collect();
            order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
            let mut out = vec![0.0; p.len()];
            if method == Adjustment::Holm {
                let mut running = 0.0_f64;
                for (rank, &i) in order.iter().enumerate() {
                    running = running.max((m - rank as f64) * p[i]);
                    out[i] = running.min(1.0);
                }
            } else {
                let mut running = 1.0_f64;
                for (rank, &i) in order.iter().enumerate().rev() {
                    // At the top rank m·p/m is p itself; dividing the rounded
                    // product could land an ulp above p (and above Holm).
                    let step_up = if rank + 1 == p.len() {
                        p[i]
                    } else {
                        m * p[i] / (rank + 1) as f64
                    };
                    running = running.min(step_up);
                    out[i] = running;
                }
            }
            out
        }
    }
}

/// Per-comparison level of the interval that agrees with an adjusted p-value
/// (DESIGN §2 "intervals under a correction", convention R4 of
/// `adjusted_ci.json`): `α_i = α·p_i/p_adj,i`, so that `p_adj,i < α ⇔ p_i < α_i`
/// ⇔ the `1 − α_i` interval of a test-inverted CI excludes 0. `α/m` when
/// `p_i = 0` (then `p_adj,i = 0` too: the Bonferroni level), `α` when the
/// adjustment left `p_i` unchanged (no correction, one comparison, or the
/// largest p-value under Benjamini–Hochberg).
///
/// `m` is the number of comparisons adjusted together (at least 1).
pub fn adjusted_alpha(alpha: f64, p_value: f64, p_adjusted: f64, m: usize) -> f64 {
    if p_value <= 0.0 {
        alpha / m.max(1) as f64
    } else if p_adjusted <= p_value {
        alpha
    } else {
        alpha * (p_value / p_adjusted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_single() {
        assert!(adjust(&[], Adjustment::Holm).is_empty());
        for method in [
            Adjustment::None,
            Adjustment::Bonferroni,
            Adjustment::Holm,
            Adjustment::Bh,
        ] {
            assert_eq!(adjust(&[0.03], method), vec![0.03]);
        }
    }

    #[test]
    fn adjusted_alpha_matches_the_adjusted_p_value() {
        // Issue 11, case 3: Holm over three arms, p = 0.0375 → p_adj = 0.112.
        let p = [0.037_472_740_872_442_53, 1.0, 1.0];
        let adj = adjust(&p, Adjustment::Holm);
        let a = adjusted_alpha(0.05, p[0], adj[0], 3);
        assert!((a - 0.05 / 3.0).abs() < 1e-17, "{a}");
        assert_eq!(adjusted_alpha(0.05, p[1], adj[1], 3), 0.05);
        assert_eq!(adjusted_alpha(0.05, 0.0, 0.0, 4), 0.0125);
        assert_eq!(adjusted_alpha(0.05, 0.2, 1.0, 2), 0.05 * 0.2);
        // p_adj < α ⇔ p < α_i.
        for (p, p_adj) in [(0.01, 0.03), (0.02, 0.06), (0.3, 0.9)] {
            assert_eq!(p_adj < 0.05, p < adjusted_alpha(0.05, p, p_adj, 3));
        }
    }

    #[test]
    fn textbook_example_in_input_order() {
        let p = [0.04, 0.01, 0.03];
        assert_eq!(adjust(&p, Adjustment::Bonferroni), vec![0.12, 0.03, 0.09]);
        let holm = adjust(&p, Adjustment::Holm);
        for (a, e) in holm.iter().zip([0.06, 0.03, 0.06]) {
            assert!((a - e).abs() < 1e-15);
        }
        let bh = adjust(&p, Adjustment::Bh);
        for (a, e) in bh.iter().zip([0.04, 0.03, 0.04]) {
            assert!((a - e).abs() < 1e-15);
        }
    }

    #[test]
    fn ties_get_equal_values_and_results_stay_in_unit_interval() {
        let holm = adjust(&[0.02, 0.02, 0.5], Adjustment::Holm);
        assert_eq!(holm[0], holm[1]);
        let bh = adjust(&[0.02, 0.02, 0.5], Adjustment::Bh);
        assert_eq!(bh[0], bh[1]);
        let clipped = adjust(&[0.6, 0.7, f64::NAN, -0.1, 2.0], Adjustment::Holm);
        assert!(clipped.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(adjust(&[0.2, f64::NAN], Adjustment::None), vec![0.2, 1.0]);
    }
}

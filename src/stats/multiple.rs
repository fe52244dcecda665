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
                    running = running.min(m * p[i] / (rank + 1) as f64);
                    out[i] = running;
                }
            }
            out
        }
    }
}

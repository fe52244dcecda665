//! Second moments from sums without cancellation: the numerators
//! `n·Σab − Σa·Σb` of sample variances and covariances, shared by the mean,
//! ratio and CUPED comparisons and by the data checks.

/// 2⁵¹²: sums whose squares or products overflow a double (Σx near 1e154
/// and above) are compared or combined as Σx/2⁵¹² and Σx²/2¹⁰²⁴, an exact
/// rescaling (a power of two) that brings them back into range.
pub const OVERFLOW_SCALE: f64 = 1.3407807929942597e154;

/// `a·b − c·d` with both products carried exactly (two-product via
/// `f64::mul_add`) and one final rounding of their difference's leading part.
/// Used for second-moment numerators `n·Σab − Σa·Σb`, which the textbook
/// `Σab − Σa·Σb/n` loses to cancellation when the mean is large against the
/// spread (a mean of 1e6 with sd 1 loses about twelve digits).
pub fn diff_of_products(a: f64, b: f64, c: f64, d: f64) -> f64 {
    let ab = a * b;
    let ab_err = a.mul_add(b, -ab);
    let cd = c * d;
    let cd_err = c.mul_add(d, -cd);
    (ab - cd) + (ab_err - cd_err)
}

/// Sample covariance with `n − 1` from sums over `n` units:
/// `(n·Σab − Σa·Σb) / (n(n − 1))`, the numerator formed by
/// [`diff_of_products`] (the variance of one column is
/// [`MeanStats::variance`](super::mean::MeanStats::variance), the same
/// formula with `a = b`). `None` for `n < 2` or a non-finite result.
pub fn sample_covariance(n: u64, sum_a: f64, sum_b: f64, sum_ab: f64) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let cov = diff_of_products(nf, sum_ab, sum_a, sum_b) / nf / (nf - 1.0);
    cov.is_finite().then_some(cov)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overflow_scale_is_two_to_the_512() {
        assert_eq!(OVERFLOW_SCALE, f64::powi(2.0, 512));
    }

    #[test]
    fn covariance_is_exact_for_a_large_mean() {
        // x = 1e6 + {0, 1, 2}: variance 1, numerator far below the sums' ulp.
        // y = −x: covariance −1.
        let xs = [1e6, 1e6 + 1.0, 1e6 + 2.0];
        let sum_x: f64 = xs.iter().sum();
        let sum_xy: f64 = xs.iter().map(|x| -x * x).sum();
        assert_eq!(sample_covariance(3, sum_x, -sum_x, sum_xy), Some(-1.0));
        assert_eq!(sample_covariance(1, 1.0, 1.0, 1.0), None);
    }
}

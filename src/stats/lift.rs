//! Building blocks shared by the comparisons of per-unit metrics (ratio and
//! CUPED): accurate second moments from sums, and the relative lift with its
//! delta / Fieller / log interval from two arm estimates and their variances.

use super::proportion::RelativeCiMethod;

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

/// Two arm estimates and the sampling variances of those estimates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArmEstimates {
    /// Control estimate `m_c`.
    pub m_c: f64,
    /// Treatment estimate `m_t`.
    pub m_t: f64,
    /// `m_t − m_c`, formed by the caller as accurately as it can.
    pub abs_lift: f64,
    /// `Var(m_c)`, `Var(m_t)` (variances of the estimates, not of the units).
    pub v_c: f64,
    pub v_t: f64,
}

/// Relative lift `(m_t − m_c)/|m_c|` (DESIGN §2: its sign is the sign of the
/// absolute lift); `None` when `m_c = 0` or the quotient is not finite.
pub fn relative_lift(e: &ArmEstimates) -> Option<f64> {
    let rel = e.abs_lift / e.m_c.abs();
    (e.m_c != 0.0 && rel.is_finite()).then_some(rel)
}

/// Interval of the relative lift `(m_t − m_c)/|m_c|` with critical value `q`
/// (the metric's own test: `z_{1−α/2}` for z-tests, `t_{df, 1−α/2}` for
/// Welch), conventions R2/R3 of the reference vectors (`mean_relative.json`):
///
/// - `Delta`: `rel ∓ q·√(v_t/m_c² + m_t² v_c/m_c⁴)`.
/// - `Fieller`: with `R = m_t/m_c` and `g = q² v_c/m_c²`, the set
///   `{R : (m_t − R m_c)² ≤ q²(v_t + R² v_c)}` is
///   `[(R − h)/(1 − g), (R + h)/(1 − g)]`, `h = (q/|m_c|)√(v_t(1 − g) + R² v_c)`;
///   the relative interval is `sign(m_c)·((R ∓ h)/(1 − g) − 1)`, evaluated as
///   `(rel + sign(m_c)(g ∓ h))/(1 − g)` (no cancellation in `R − 1`) and
///   reordered; `None` when `g ≥ 1` (the set is then unbounded).
/// - `Log`: only when `m_c > 0` and `m_t > 0`:
///   `exp(ln(m_t/m_c) ∓ q·√(v_t/m_t² + v_c/m_c²)) − 1`, as `expm1(ln1p(rel) ∓ …)`.
///
/// With `v_c = v_t = 0` every defined interval is the single point `rel`.
/// `None` when `m_c = 0` (no relative lift), for a method whose condition
/// fails, or when a bound is not finite. Ordered `low ≤ high`.
///
/// Sources: delta method (Deng, Knoblich & Lu 2018, "Applying the Delta
/// Method in Metric Analytics", KDD); Fieller (1954), "Some problems in
/// interval estimation", JRSS B 16; log interval: Katz et al. (1978).
pub fn relative_interval(e: &ArmEstimates, q: f64, method: RelativeCiMethod) -> Option<(f64, f64)> {
    let rel = relative_lift(e)?;
    if !(q.is_finite() && e.v_c >= 0.0 && e.v_t >= 0.0) {
        return None;
    }
    let (m_c, m_t) = (e.m_c, e.m_t);
    let point = e.v_c == 0.0 && e.v_t == 0.0;
    let (low, high) = match method {
        RelativeCiMethod::Delta => {
            let m2 = m_c * m_c;
            let half = q * (e.v_t / m2 + m_t * m_t * e.v_c / (m2 * m2)).sqrt();
            (rel - half, rel + half)
        }
        RelativeCiMethod::Fieller => {
            if point {
                return Some((rel, rel));
            }
            let g = q * q * e.v_c / (m_c * m_c);
            if g >= 1.0 {
                return None;
            }
            let ratio = m_t / m_c;
            let h = q / m_c.abs() * (e.v_t * (1.0 - g) + ratio * ratio * e.v_c).sqrt();
            let sign = m_c.signum();
            (
                (rel + sign * (g - h)) / (1.0 - g),
                (rel + sign * (g + h)) / (1.0 - g),
            )
        }
        RelativeCiMethod::Log => {
            if !(m_c > 0.0 && m_t > 0.0) {
                return None;
            }
            if point {
                return Some((rel, rel));
            }
            let half = q * (e.v_t / (m_t * m_t) + e.v_c / (m_c * m_c)).sqrt();
            let centre = rel.ln_1p();
            ((centre - half).exp_m1(), (centre + half).exp_m1())
        }
    };
    if !(low.is_finite() && high.is_finite()) {
        return None;
    }
    Some((low.min(high), low.max(high)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(m_c: f64, m_t: f64, v_c: f64, v_t: f64) -> ArmEstimates {
        ArmEstimates {
            m_c,
            m_t,
            abs_lift: m_t - m_c,
            v_c,
            v_t,
        }
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

    #[test]
    fn relative_lift_follows_the_absolute_sign() {
        assert_eq!(relative_lift(&est(-2.0, -1.0, 0.1, 0.1)), Some(0.5));
        assert_eq!(relative_lift(&est(2.0, 1.0, 0.1, 0.1)), Some(-0.5));
        assert_eq!(relative_lift(&est(0.0, 1.0, 0.1, 0.1)), None);
    }

    #[test]
    fn intervals_bracket_the_lift_and_degenerate_cleanly() {
        for method in [
            RelativeCiMethod::Delta,
            RelativeCiMethod::Fieller,
            RelativeCiMethod::Log,
        ] {
            let (low, high) =
                relative_interval(&est(10.0, 11.0, 0.04, 0.05), 1.96, method).expect("defined");
            assert!(low < 0.1 && 0.1 < high, "{method:?}");
            assert_eq!(
                relative_interval(&est(10.0, 11.0, 0.0, 0.0), 1.96, method),
                Some((0.1, 0.1)),
                "{method:?}"
            );
        }
        // A negative control: Fieller flips the sign, log is undefined.
        let neg = est(-10.0, -9.0, 0.04, 0.05);
        let (low, high) =
            relative_interval(&neg, 1.96, RelativeCiMethod::Fieller).expect("defined");
        assert!(low < 0.1 && 0.1 < high);
        assert_eq!(relative_interval(&neg, 1.96, RelativeCiMethod::Log), None);
        // A noisy control: Fieller's set is unbounded.
        assert_eq!(
            relative_interval(&est(1.0, 2.0, 1.0, 0.1), 1.96, RelativeCiMethod::Fieller),
            None
        );
    }
}

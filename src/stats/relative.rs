//! Confidence intervals of a relative lift `(m_t − m_c)/|m_c|`, shared by every
//! metric kind (rates, means, and any later kind that has arm estimates with
//! known sampling variances).
//!
//! Inputs are the two arm estimates `m_c`, `m_t`, the variances of those
//! estimates `v_c`, `v_t` (for a mean `s²/n`, for a rate `p q/n`) and the
//! critical value `q` of the metric's own two-sided test (`z_{1−α/2}` for
//! rates, the Welch `t_{df, 1−α/2}` for means). Dividing by `|m_c|` keeps the
//! sign of the relative lift equal to the sign of the absolute lift for a
//! negative control (DESIGN §2, convention R2 of `mean_relative.json`).

/// How the confidence interval of the relative lift is formed
/// (`relative_ci` setting, DESIGN §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelativeCiMethod {
    /// Delta method: `r ∓ q √(v_t/m_c² + m_t² v_c/m_c⁴)`.
    Delta,
    /// Fieller's (1954) interval of the ratio `R = m_t/m_c`, mapped to
    /// `sign(m_c)(R − 1)`.
    Fieller,
    /// Log method (Katz et al. 1978 for rates): `exp(ln(m_t/m_c) ∓ q √(v_t/m_t² + v_c/m_c²)) − 1`.
    Log,
}

/// The two arms' estimates and the variances of those estimates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArmEstimates {
    /// Control estimate `m_c` (a mean or a rate).
    pub m_c: f64,
    /// Treatment estimate `m_t`.
    pub m_t: f64,
    /// Sampling variance of `m_c` (`s_c²/n_c`, or `p_c q_c/n_c`).
    pub v_c: f64,
    /// Sampling variance of `m_t`.
    pub v_t: f64,
    /// `(m_t − m_c)/|m_c|`, formed by the caller as accurately as its kind
    /// allows (rates from exact integer numerators); `None` when `m_c = 0`.
    pub rel_lift: Option<f64>,
}

/// The relative lift `abs_lift/|m_c|` of a lift formed by the caller; its
/// sign is the sign of the absolute lift. `None` when `m_c = 0` or the
/// quotient is not finite.
pub fn relative_lift(abs_lift: f64, m_c: f64) -> Option<f64> {
    (m_c != 0.0)
        .then(|| abs_lift / m_c.abs())
        .filter(|r| r.is_finite())
}

/// Confidence interval `(low, high)` of the relative lift `(m_t − m_c)/|m_c|`,
/// with `q` the two-sided critical value of the metric's own test.
///
/// - `Delta` (first-order Taylor expansion of the ratio; e.g. Kohavi, Tang &
///   Xu 2020, §18): `r ∓ q·SE_r`, `SE_r² = v_t/m_c² + m_t² v_c/m_c⁴`.
/// - `Fieller` (Fieller 1954): `{R : (m_t − R m_c)² ≤ q²(v_t + R² v_c)}` with
///   `g = q² v_c/m_c²`, `R̂ = m_t/m_c`, `h = (q/|m_c|)√(v_t(1 − g) + R̂² v_c)`, is
///   `[(R̂ − h)/(1 − g), (R̂ + h)/(1 − g)]`; reported as `sign(m_c)(R − 1)`,
///   i.e. `(r + sign(m_c)(g ∓ h))/(1 − g)`. `None` when `g ≥ 1` (the set is
///   then unbounded).
/// - `Log` (Katz, Baptista, Azen & Pike 1978 for rates; the same form for
///   means): `expm1(ln1p(r) ∓ q √(v_t/m_t² + v_c/m_c²))`; defined only when
///   `m_c > 0` and `m_t > 0`.
///
/// `None` when `m_c = 0` (`rel_lift` is `None`), when `q` is not finite and
/// non-negative, or when a bound is not finite. With `v_c = v_t = 0` every
/// defined interval is the point `r`. The pair is ordered `low ≤ high`.
pub fn relative_interval(a: ArmEstimates, q: f64, method: RelativeCiMethod) -> Option<(f64, f64)> {
    let rel = a.rel_lift?;
    if a.m_c == 0.0 || !(q >= 0.0 && q.is_finite()) {
        return None;
    }
    let (low, high) = match method {
        RelativeCiMethod::Delta => {
            let m2 = a.m_c * a.m_c;
            let var = a.v_t / m2 + a.m_t * a.m_t * a.v_c / (m2 * m2);
            let half = q * var.sqrt();
            (rel - half, rel + half)
        }
        RelativeCiMethod::Log => {
            if !(a.m_c > 0.0 && a.m_t > 0.0) {
                return None;
            }
            let half = q * (a.v_t / (a.m_t * a.m_t) + a.v_c / (a.m_c * a.m_c)).sqrt();
            let centre = rel.ln_1p();
            ((centre - half).exp_m1(), (centre + half).exp_m1())
        }
        RelativeCiMethod::Fieller => {
            let g = q * q * a.v_c / (a.m_c * a.m_c);
            if g >= 1.0 || g.is_nan() {
                return None;
            }
            let ratio = a.m_t / a.m_c;
            let h = q / a.m_c.abs() * (a.v_t * (1.0 - g) + ratio * ratio * a.v_c).sqrt();
            let sign = a.m_c.signum();
            (
                (rel + sign * (g - h)) / (1.0 - g),
                (rel + sign * (g + h)) / (1.0 - g),
            )
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

    fn arms(m_c: f64, m_t: f64, v_c: f64, v_t: f64) -> ArmEstimates {
        ArmEstimates {
            m_c,
            m_t,
            v_c,
            v_t,
            rel_lift: (m_c != 0.0).then(|| (m_t - m_c) / m_c.abs()),
        }
    }

    const ALL: [RelativeCiMethod; 3] = [
        RelativeCiMethod::Delta,
        RelativeCiMethod::Fieller,
        RelativeCiMethod::Log,
    ];

    #[test]
    fn a_negative_control_keeps_the_sign_of_the_lift() {
        // Control −10, treatment −5: better by +5, +50 % of |−10|.
        let a = arms(-10.0, -5.0, 0.01, 0.01);
        assert_eq!(a.rel_lift, Some(0.5));
        for method in [RelativeCiMethod::Delta, RelativeCiMethod::Fieller] {
            let (low, high) = relative_interval(a, 1.96, method).expect("defined");
            assert!(
                0.0 < low && low < 0.5 && 0.5 < high,
                "{method:?}: {low} {high}"
            );
        }
        // The log method needs two positive estimates.
        assert_eq!(relative_interval(a, 1.96, RelativeCiMethod::Log), None);
    }

    #[test]
    fn fieller_of_a_negative_control_is_the_mirrored_ratio_set() {
        // Mirror both arms: the ratio R is the same, so the relative
        // interval of (−m_c, −m_t) is that of (m_c, m_t) times −1.
        let pos = relative_interval(arms(4.0, 5.0, 0.3, 0.2), 2.0, RelativeCiMethod::Fieller)
            .expect("defined");
        let neg = relative_interval(arms(-4.0, -5.0, 0.3, 0.2), 2.0, RelativeCiMethod::Fieller)
            .expect("defined");
        assert!((pos.0 + neg.1).abs() < 1e-15 && (pos.1 + neg.0).abs() < 1e-15);
    }

    #[test]
    fn no_variance_is_a_point_and_a_zero_control_is_undefined() {
        let a = arms(2.0, 3.0, 0.0, 0.0);
        for method in ALL {
            assert_eq!(relative_interval(a, 1.96, method), Some((0.5, 0.5)));
            assert_eq!(
                relative_interval(arms(0.0, 3.0, 1.0, 1.0), 1.96, method),
                None
            );
        }
    }

    #[test]
    fn an_unbounded_fieller_set_and_bad_quantiles_are_undefined() {
        // g = q² v_c/m_c² = 4·1/1 ≥ 1.
        let a = arms(1.0, 2.0, 1.0, 1.0);
        assert_eq!(relative_interval(a, 2.0, RelativeCiMethod::Fieller), None);
        for q in [f64::NAN, f64::INFINITY, -1.0] {
            assert_eq!(relative_interval(a, q, RelativeCiMethod::Delta), None);
        }
    }
}

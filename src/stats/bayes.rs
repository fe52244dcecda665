//! Bayesian evidence: Beta-Binomial posteriors compared without simulation,
//! a normal approximation for means, and seeded Monte Carlo credible
//! intervals of the relative lift.
//!
//! Posteriors: `p_C ~ Beta(a_c, b_c)`, `a_c = a + x_c`, `b_c = b + n_c − x_c`,
//! `p_T` likewise, independent, with a common `Beta(a, b)` prior.
//!
//! `P(X > Y)` for two Beta posteriors is computed by one of three
//! formulations, chosen by the shapes (accuracy of each in `docs/stats.md`):
//!
//! 1. neither posterior near-normal (some shape below [`NEAR_NORMAL_SHAPE`]),
//!    or one is but the sum is short: Evan Miller's finite sum over the whole
//!    part of a shape (each term's logarithm from `ln K`, accurate at any
//!    size), plus the fractional remainder by quadrature in the logit with
//!    closed-form end pieces and the density formed relative to its mode
//!    (exact for shapes down to 0.01 and below and up to 10¹⁵);
//! 2. one posterior near-normal and the sum long: quadrature over its standardized variable,
//!    with its density formed relative to its mode (no log-Beta of huge
//!    arguments) and the other's tail from the incomplete beta function;
//! 3. both near-normal: the same outer quadrature, with the other's tail an
//!    inner quadrature of its own mode-relative density.
//!
//! The smaller expected loss comes from whichever of three exact forms
//! cancels least (`smaller_loss`): `K(1/N_c + 1/N_t) − |Δm| P` with
//! `K = B(a_c+a_t, b_c+b_t)/(B(a_c, b_c) B(a_t, b_t))`, whose logarithm is
//! formed from relative entropies so that it keeps its precision at 10¹⁵
//! units, or `E[X] P(X⁺ > Y) − E[Y] P(X > Y⁺)` for either orientation; the
//! larger is the smaller plus `|Δm|`.

use super::beta_draws::{BetaDraws, Libm};
use super::dist::{beta_inc, ln_beta, normal_cdf, normal_pdf, normal_sf};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// Smallest shape parameter (of `a`, `b`) at which a posterior counts as
/// near-normal and, unless Evan Miller's sum is at most
/// `MILLER_MAX_TERMS` long, is integrated over its standardized variable
/// instead of entering the sum, whose length (about `9√shape` terms) stays
/// under 30 000 below it.
pub const NEAR_NORMAL_SHAPE: f64 = 1e7;

/// Largest whole part of `a_X` (or `b_Y`) for which [`prob_greater`] sums
/// Evan Miller's terms when one posterior is near-normal. The sum walks out
/// from its largest term only while terms matter (about 40 times the
/// terms' spread, a few thousand terms for 10⁹ units); beyond it the
/// incomplete beta function of the other arm is used, whose log-Beta
/// prefactor loses about `1e-16 ×` that arm's shape (1.3e-10 of P at a
/// shape of 2·10⁶, which the sum gets to 3e-14).
const MILLER_MAX_TERMS: f64 = 1e7;

/// Largest number of Monte Carlo draws [`relative_lift_interval`] accepts.
pub const MAX_DRAWS: u64 = 10_000_000;

/// Posterior comparison of treatment against control.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BayesResult {
    /// `P(p_T > p_C)`.
    pub prob_t_beats_c: f64,
    /// `P(p_C > p_T)`; the smaller of the two tails is computed directly, so
    /// it keeps its relative precision however small it is.
    pub prob_c_beats_t: f64,
    /// Expected loss of shipping the treatment, `E[max(p_C − p_T, 0)]`.
    pub expected_loss_t: f64,
    /// Expected loss of keeping the control, `E[max(p_T − p_C, 0)]`.
    pub expected_loss_c: f64,
}

/// Shape parameters of a Beta posterior.
#[derive(Clone, Copy, Debug)]
struct Beta {
    a: f64,
    b: f64,
}

impl Beta {
    fn mean(self) -> f64 {
        self.a / (self.a + self.b)
    }
    fn variance(self) -> f64 {
        let s = self.a + self.b;
        self.a * self.b / (s * s * (s + 1.0))
    }
    /// The distribution of `1 − X`.
    fn reflect(self) -> Beta {
        Beta {
            a: self.b,
            b: self.a,
        }
    }
    fn near_normal(self) -> bool {
        self.a.min(self.b) >= NEAR_NORMAL_SHAPE
    }
    /// Mean and standard deviation of `logit X`, `ψ(a) − ψ(b)` and
    /// `√(ψ'(a) + ψ'(b))` (for placing quadrature cuts).
    fn logit_location(self) -> (f64, f64) {
        let (psi_a, tri_a) = digamma_trigamma(self.a);
        let (psi_b, tri_b) = digamma_trigamma(self.b);
        (psi_a - psi_b, (tri_a + tri_b).sqrt())
    }
}

fn posterior(x: u64, n: u64, prior: (f64, f64)) -> Beta {
    Beta {
        a: prior.0 + x as f64,
        b: prior.1 + (n - x) as f64,
    }
}

fn valid_prior(prior: (f64, f64)) -> bool {
    prior.0.is_finite() && prior.1.is_finite() && prior.0 > 0.0 && prior.1 > 0.0
}

/// Beta-Binomial comparison of two conversion rates, without simulation.
///
/// `P(p_T > p_C)` and `P(p_C > p_T)`: the one predicted smaller by the
/// posterior means is computed directly by `prob_greater`'s formulation for
/// the shapes at hand (see the module documentation) and the other as its
/// complement (at least about ½, so it keeps its precision). The smaller
/// expected loss is `smaller_loss`'s (for a lift of `u` posterior sd its
/// terms cancel by at most about `u²`), the larger is it plus
/// `|m_t − m_c|`, with `m_t − m_c = (a_t b_c − a_c b_t)/(N_c N_t)` formed
/// from an exact difference of products (`N = a + b` per posterior).
///
/// Accuracy over the whole domain (shapes 0.01 to 10¹⁵): `docs/stats.md`.
///
/// `None` when `x > n` in an arm or the prior is not positive and finite.
/// Empty arms are fine: the posterior is then the prior.
pub fn beta_binomial(
    x_c: u64,
    n_c: u64,
    x_t: u64,
    n_t: u64,
    prior: (f64, f64),
) -> Option<BayesResult> {
    if x_c > n_c || x_t > n_t || !valid_prior(prior) {
        return None;
    }
    Some(compare(
        posterior(x_c, n_c, prior),
        posterior(x_t, n_t, prior),
    ))
}

/// Beta posteriors compared (see [`beta_binomial`]).
fn compare(c: Beta, t: Beta) -> BayesResult {
    let (n_c, n_t) = (c.a + c.b, t.a + t.b);
    // m_t − m_c
    let lift = difference_of_products(t.a, c.b, c.a, t.b) / n_c / n_t;
    // `low` has the lower posterior mean; P(low > high) is the small tail.
    let (low, high) = if lift >= 0.0 { (c, t) } else { (t, c) };
    let p_small = prob_greater(low, high).clamp(0.0, 1.0);
    let gap = lift.abs();
    let loss_small = smaller_loss(low, high, gap, p_small);
    let (p_tc, p_ct) = if lift >= 0.0 {
        (1.0 - p_small, p_small)
    } else {
        (p_small, 1.0 - p_small)
    };
    let (loss_t, loss_c) = if lift >= 0.0 {
        (loss_small, loss_small + gap)
    } else {
        (loss_small + gap, loss_small)
    };
    BayesResult {
        prob_t_beats_c: p_tc,
        prob_c_beats_t: p_ct,
        expected_loss_t: loss_t,
        expected_loss_c: loss_c,
    }
}

/// `E[max(X − Y, 0)]` for `X = low`, `Y = high` with `E[Y] − E[X] = gap ≥ 0`
/// and `P(X > Y) = p_small`, by whichever of three exact forms cancels least.
/// Each is a difference of two positive terms whose size, relative to the
/// result, is the factor by which their errors grow:
///
/// 1. `K (1/N_X + 1/N_Y) − gap · P(X > Y)` (see [`beta_binomial`]): terms of
///    about `gap · P`;
/// 2. `E[X] P(X⁺ > Y) − E[Y] P(X > Y⁺)`, `X⁺ ~ Beta(a_X + 1, b_X)` (from
///    `x f(x; a, b) = E[X] f(x; a + 1, b)`): terms of about `E[X] · P`;
/// 3. form 2 for `1 − Y` against `1 − X`: terms of about `(1 − E[Y]) · P`.
///
/// So form 1 unless `E[X]` or `1 − E[Y]` is smaller than the gap: a rate of
/// 7e-9 against a uniform posterior cancels by 1.5e8 in form 1 (5e-7 of the
/// loss lost) and by 2 in form 2. Forms 2 and 3 cost two more `P`.
fn smaller_loss(low: Beta, high: Beta, gap: f64, p_small: f64) -> f64 {
    let (m_low, rest_high) = (low.mean(), high.b / (high.a + high.b));
    let plus = |d: Beta| Beta {
        a: d.a + 1.0,
        b: d.b,
    };
    let by_means = |x: Beta, y: Beta| {
        x.mean() * prob_greater(plus(x), y) - y.mean() * prob_greater(x, plus(y))
    };
    let loss = if gap <= m_low.min(rest_high) {
        let kk = ln_k(low, high).exp() * (1.0 / (low.a + low.b) + 1.0 / (high.a + high.b));
        kk - gap * p_small
    } else if m_low <= rest_high {
        by_means(low, high)
    } else {
        by_means(high.reflect(), low.reflect())
    };
    loss.max(0.0)
}

/// `P(X > Y)` for independent Beta variables, by the formulation that is
/// accurate for their shapes (module documentation).
fn prob_greater(x: Beta, y: Beta) -> f64 {
    match (x.near_normal(), y.near_normal()) {
        (false, false) => miller(x, y),
        // One arm near-normal, but a short sum: the sum is exact (its
        // terms' logarithms come from `ln_k`, accurate at any size), where
        // the incomplete beta function of the other arm loses about
        // `1e-16 ×` its shape deep in its tail (2e-11 of a 1.9e-188 tail
        // with a shape of 7·10⁸).
        _ if x.a.min(y.b) <= MILLER_MAX_TERMS => miller(x, y),
        // P(X > Y) = E_X[F_Y(X)] = E_X[P(1 − Y > 1 − X)]
        (true, false) => NearNormal::new(x).expect_tail(|v, w| beta_inc(y.a, y.b, v, w).0),
        (false, true) => NearNormal::new(y).expect_tail(|v, w| beta_inc(x.a, x.b, v, w).1),
        (true, true) => {
            let (nx, ny) = (NearNormal::new(x), NearNormal::new(y));
            // Outer over the narrower, inner over the other.
            if ny.sd <= nx.sd {
                ny.expect_tail_near(&nx, Side::Above)
            } else {
                nx.expect_tail_near(&ny, Side::Below)
            }
        }
    }
}

/// `P(X > Y)` by Evan Miller's sum plus a fractional remainder.
///
/// With `a_X = f + k` (`k` a whole number, `0 ≤ f < 1`), repeated use of
/// `I_y(a+1, b) = I_y(a, b) − y^a (1−y)^b/(a B(a, b))` gives
/// `P(X > Y) = P(X_f > Y) + Σ_{j=0}^{k−1} t(f + j)`,
/// `t(i) = B(a_Y+i, b_X+b_Y) / ((b_X+i) B(1+i, b_X) B(a_Y, b_Y))`, `X_f ~ Beta(f, b_X)`.
/// For an integer `a_X` (`f = 0`) this is Evan Miller's sum and the first
/// term is `P(X_f > Y)` itself; otherwise the remainder `P(X_f > Y)` is
/// [`remainder`]. The reflection `P(X > Y) = P(1−Y > 1−X)` is used when it
/// makes the sum shorter.
fn miller(x: Beta, y: Beta) -> f64 {
    let (x, y) = if y.b < x.a {
        (y.reflect(), x.reflect())
    } else {
        (x, y)
    };
    let whole = x.a.floor();
    let f = x.a - whole;
    if f == 0.0 {
        return miller_sum(x, y, 0.0, whole);
    }
    let rest = Beta { a: f, b: x.b };
    let sum = miller_sum(x, y, f, whole);
    // P(X_f > Y) ≤ P(X_f > c) + P(Y ≤ c) for any c: skip the quadrature when
    // that bound is negligible (X_f ~ Beta(f < 1, b_X) hugs 0).
    let (m, sd) = (y.mean(), y.variance().sqrt());
    let bound = [0.5 * m, m - 8.0 * sd]
        .into_iter()
        .filter(|&c| c > 0.0 && c < 1.0)
        .map(|c| beta_inc(rest.a, rest.b, c, 1.0 - c).1 + beta_inc(y.a, y.b, c, 1.0 - c).0)
        .fold(f64::INFINITY, f64::min);
    if bound < 1e-17 * sum {
        return sum.min(1.0);
    }
    (sum + remainder(rest, y)).min(1.0)
}

/// `Σ_{j=0}^{count−1} t(offset + j)` with `t` as in [`prob_greater`].
///
/// The terms are unimodal in `i`; the sum starts at the largest term (the
/// root of the term ratio `r_i = 1`, clamped to the range) and walks outward
/// in both directions with `r_i = t(i+1)/t(i) = (a_Y+i)(b_X+i) / ((a_Y+b_Y+b_X+i)(i+1))`,
/// four terms per division, stopping once a term is below 1e-17 of the
/// running sum. One set of log-Beta evaluations per call.
fn miller_sum(x: Beta, y: Beta, offset: f64, count: f64) -> f64 {
    if count < 1.0 {
        return 0.0;
    }
    let last = count - 1.0;
    let s = y.a + y.b + x.b;
    // term_{i+1}/term_i = N(i)/D(i), at i = offset + j
    let num = |j: f64| (y.a + offset + j) * (x.b + offset + j);
    let den = |j: f64| (s + offset + j) * (offset + j + 1.0);
    let peak = (y.a * x.b - s) / (y.b + 1.0);
    let mode = (peak - offset).ceil().clamp(0.0, last);
    let i_mode = offset + mode;
    // ln t(i) = ln K(Beta(1+i, b_X), Y) + ln(1 + (b_X+b_Y)/(a_Y+i)) − ln(b_X+i),
    // from B(α, β) = B(α+1, β)(α+β)/α: `ln_k` keeps 1e-14 absolute at any
    // size, where three log-Betas of shapes near 10⁴ lose 1e-12 (a
    // 5.8e-89 tail was 1e-12 off) and near 4·10¹⁰ lose 1e-7.
    let ln_mode_term = ln_k(
        Beta {
            a: 1.0 + i_mode,
            b: x.b,
        },
        y,
    ) + ((x.b + y.b) / (y.a + i_mode)).ln_1p()
        - (x.b + i_mode).ln();
    let mut sum = 1.0;
    // Upward: term_{j+k} = term_j Π N/D over j..j+k−1.
    let mut term = 1.0;
    let mut j = mode;
    while j < last {
        if j + 4.0 <= last {
            let block = four_terms(
                term,
                [num(j), num(j + 1.0), num(j + 2.0), num(j + 3.0)],
                [den(j), den(j + 1.0), den(j + 2.0), den(j + 3.0)],
            );
            sum += block.iter().sum::<f64>();
            term = block[3];
            j += 4.0;
        } else {
            term *= num(j) / den(j);
            sum += term;
            j += 1.0;
        }
        if term < STOP * sum {
            break;
        }
    }
    // Downward: term_{j−k} = term_j Π D/N over j−1..j−k.
    term = 1.0;
    j = mode;
    while j > 0.0 {
        if j >= 4.0 {
            let block = four_terms(
                term,
                [den(j - 1.0), den(j - 2.0), den(j - 3.0), den(j - 4.0)],
                [num(j - 1.0), num(j - 2.0), num(j - 3.0), num(j - 4.0)],
            );
            sum += block.iter().sum::<f64>();
            term = block[3];
            j -= 4.0;
        } else {
            term *= den(j - 1.0) / num(j - 1.0);
            sum += term;
            j -= 1.0;
        }
        if term < STOP * sum {
            break;
        }
    }
    (ln_mode_term + sum.ln()).exp().min(1.0)
}

/// Relative size of the last term at which [`miller_sum`] stops.
const STOP: f64 = 1e-17;

/// `[t·p₀/q₀, t·p₀p₁/(q₀q₁), …]` for four steps, with a single division.
fn four_terms(t: f64, p: [f64; 4], q: [f64; 4]) -> [f64; 4] {
    let q23 = q[2] * q[3];
    let q123 = q[1] * q23;
    let base = t / (q[0] * q123);
    let p01 = p[0] * p[1];
    let p012 = p01 * p[2];
    [
        base * p[0] * q123,
        base * p01 * q23,
        base * p012 * q[3],
        base * p012 * p[3],
    ]
}

/// `P(X > Y)` for `X ~ Beta(f, b_X)` with `f < 1` (the remainder of
/// [`miller`]), any `Y`, as `∫ f_Y(v) (1 − I_v(f, b_X)) dv`.
///
/// Shapes below 1 put most of their mass at values that no double can hold
/// (with `a = 0.01`, `P(Y < 10⁻³⁰⁸) ≈ 0.9`), so the integral is split at
/// `ε` and `1 − ε`, `ε = min(10⁻²⁰, 10⁻¹⁸/max(b_X, b_Y, a_Y))`:
///
/// - below `ε`: `f_Y(v) ≈ v^{a_Y−1}/B_Y` and `I_v(f, b_X) ≈ v^f/(f B_X)` to a
///   relative `O(ε·max b) ≤ 10⁻¹⁸`, so the piece is
///   `ε^{a_Y}/(a_Y B_Y) − ε^{a_Y+f}/((a_Y+f) f B_X B_Y)`;
/// - above `1 − ε` (`w = 1 − v`): `f_Y ≈ w^{b_Y−1}/B_Y`,
///   `1 − I_v(f, b_X) = I_w(b_X, f) ≈ w^{b_X}/(b_X B_X)`, so the piece is
///   `ε^{b_X+b_Y}/((b_X+b_Y) b_X B_X B_Y)`;
/// - between: adaptive Gauss–Kronrod in `z = logit v`, where
///   `f_Y(v) dv = v^{a_Y}(1−v)^{b_Y}/B_Y dz` is smooth and bounded, with
///   `ln v = −ln(1 + e^{−z})` and `ln(1−v) = −ln(1 + e^z)` to full precision
///   and panels cut at both variables' logit means ± 1, 4, 12, 40 sd.
fn remainder(x: Beta, y: Beta) -> f64 {
    let big = x.b.max(y.b).max(y.a).max(1.0);
    let eps: f64 = (1e-18 / big).min(1e-20);
    let (lb_x, lb_y) = (ln_beta(x.a, x.b), ln_beta(y.a, y.b));
    let ln_eps = eps.ln();
    let head = (y.a * ln_eps - y.a.ln() - lb_y).exp()
        - ((y.a + x.a) * ln_eps - (y.a + x.a).ln() - x.a.ln() - lb_x - lb_y).exp();
    let tail = ((x.b + y.b) * ln_eps - (x.b + y.b).ln() - x.b.ln() - lb_x - lb_y).exp();
    let z_max = ln_eps.abs();
    // Over δ = z − z₀, z₀ = ln(a_Y/b_Y) the mode of Y's logit density.
    let density = LogitDensity::new(y);
    let z0 = density.mode;
    let integrand = |delta: f64| {
        let z = z0 + delta;
        let ln_v = -(-z).exp().ln_1p();
        let ln_w = -z.exp().ln_1p();
        let (v, w) = (ln_v.exp(), ln_w.exp());
        density.at(delta) * beta_inc(x.a, x.b, v, w).1
    };
    let mut cuts = vec![];
    for dist in [x, y] {
        let (m, sd) = dist.logit_location();
        for k in [-40.0, -12.0, -4.0, -1.0, 0.0, 1.0, 4.0, 12.0, 40.0] {
            cuts.push(m + k * sd - z0);
        }
    }
    let body = integrate(integrand, &cuts, -z_max - z0, z_max - z0);
    (head.max(0.0) + body + tail).clamp(0.0, 1.0)
}

/// The density of `z = logit Y` for `Y ~ Beta(a, b)`, `v^a w^b / B(a, b)`
/// (`v = σ(z)`, `w = 1 − v`), as a function of `δ = z − z₀` from its mode
/// `z₀ = ln(a/b)`, formed without the cancellation of
/// `a ln v + b ln w − ln B(a, b)` (each term about 10⁸ for a shape of
/// 4·10¹⁰, which cost 1e-7 of P): with `p = a/(a+b)`, `q = 1 − p`,
/// `h = ab/(a+b)`, `u₁ = q (e^{−δ} − 1)`, `u₂ = p (e^δ − 1)`,
///
/// `ln f = −(R(a) + R(b) − R(a+b)) − a ln(1 + u₁) − b ln(1 + u₂)`
///
/// (`R(z) = ln Γ(z) − z ln z + z`, so the constant is `ln(p^a q^b / B(a, b))`
/// exactly), and near the mode (`|u₁|, |u₂| < ½`) the first-order parts, which
/// cancel, summed in closed form: `−a u₁ − b u₂ = −4h sinh²(δ/2)`, leaving
/// `−a λ(u₁) − b λ(u₂)`, `λ(u) = ln(1 + u) − u`; farther out
/// `ln(1 + u₁) = ln(p + q e^{−δ})` and `ln(1 + u₂) = ln(q + p e^δ)` are
/// summed in logarithms (`p` rounds to 1 for `Beta(6·10¹⁴, 0.05)`, where
/// `ln(1 + u₂)` would be `ln 0`).
struct LogitDensity {
    dist: Beta,
    /// `z₀ = ln(a/b)`.
    mode: f64,
    p: f64,
    q: f64,
    /// `ln p` and `ln q`, each without cancellation.
    ln_p: f64,
    ln_q: f64,
    h: f64,
    /// `ln f(z₀)`.
    at_mode: f64,
}

impl LogitDensity {
    fn new(dist: Beta) -> LogitDensity {
        let (a, b) = (dist.a, dist.b);
        let s = a + b;
        LogitDensity {
            dist,
            mode: a.ln() - b.ln(),
            p: a / s,
            q: b / s,
            ln_p: -(b / a).ln_1p(),
            ln_q: -(a / b).ln_1p(),
            h: a * (b / s),
            at_mode: -(ln_gamma_rest(a) + ln_gamma_rest(b) - ln_gamma_rest(s)),
        }
    }

    /// The density at `z₀ + δ`.
    fn at(&self, delta: f64) -> f64 {
        let (a, b) = (self.dist.a, self.dist.b);
        let u1 = self.q * (-delta).exp_m1();
        let u2 = self.p * delta.exp_m1();
        let shape = if u1.abs() < 0.5 && u2.abs() < 0.5 {
            let half = (0.5 * delta).sinh();
            -4.0 * self.h * half * half - a * log1p_minus(u1) - b * log1p_minus(u2)
        } else {
            // 1 + u₁ = p + q e^{−δ}, 1 + u₂ = q + p e^δ, summed in logarithms
            // (p may round to 1 and e^δ − 1 to −1).
            -a * ln_add_exp(self.ln_p, self.ln_q - delta)
                - b * ln_add_exp(self.ln_q, self.ln_p + delta)
        };
        (self.at_mode + shape).exp()
    }
}

/// Which tail of the inner variable [`NearNormal::expect_tail_near`] takes.
#[derive(Clone, Copy)]
enum Side {
    /// `P(inner > outer)`.
    Above,
    /// `P(inner < outer)`.
    Below,
}

/// A near-normal Beta posterior in its standardized variable `t`:
/// `X = m₀ + σ t`, `m₀` the mode (a double near it) and `σ² = 1/(−∂² ln f)`
/// there, with the log-density relative to `m₀` formed without the
/// cancellation of `(a−1) ln x + (b−1) ln(1−x) − ln B(a, b)` (each term is
/// about `10¹⁵` at 10¹⁵ units):
///
/// `ln f(m₀ + d) − ln f(m₀) = (a−1) λ(d/m₀) + (b−1) λ((e₀ − d)/q₀) + d c₁ + const`,
///
/// `λ(u) = ln(1 + u) − u` (by its series near 0), `q₀ = fl(1 − m₀)`, `e₀`
/// its rounding error (exact, by Knuth's two-sum), and
/// `c₁ = ((a−1) q₀ − (b−1) m₀)/(m₀ q₀)` with the numerator an exact
/// difference of products (it is the residual slope at the rounded mode).
/// Integrals are normalized by the integral of the same density, so the
/// constant and `B(a, b)` never appear.
struct NearNormal {
    dist: Beta,
    mode: f64,
    /// `fl(1 − mode)` and its rounding error.
    q0: f64,
    e0: f64,
    slope: f64,
    sd: f64,
    /// `∫ exp(log_density(t)) dt`.
    norm: f64,
}

impl NearNormal {
    fn new(dist: Beta) -> NearNormal {
        let (am, bm) = (dist.a - 1.0, dist.b - 1.0);
        let mode = am / (am + bm);
        let (q0, e0) = two_sum(1.0, -mode);
        let slope = difference_of_products(am, q0, bm, mode) / (mode * q0);
        let curvature = am / (mode * mode) + bm / (q0 * q0);
        let mut near = NearNormal {
            dist,
            mode,
            q0,
            e0,
            slope,
            sd: curvature.sqrt().recip(),
            norm: 1.0,
        };
        near.norm = integrate(|t| near.density(t), &STANDARD_CUTS, -40.0, 40.0);
        near
    }

    /// The density at `t` relative to the mode's (unnormalized).
    fn density(&self, t: f64) -> f64 {
        let d = self.sd * t;
        let (am, bm) = (self.dist.a - 1.0, self.dist.b - 1.0);
        (am * log1p_minus(d / self.mode)
            + bm * log1p_minus((self.e0 - d) / self.q0)
            + d * self.slope)
            .exp()
    }

    /// The point `m₀ + σt` as `(x, 1 − x)`, both to full precision.
    fn point(&self, t: f64) -> (f64, f64) {
        let d = self.sd * t;
        (self.mode + d, (self.q0 - d) + self.e0)
    }

    /// `E[h(X, 1 − X)]` for a function `h` with values in `[0, 1]`, by
    /// adaptive Gauss–Kronrod over `t ∈ [−40, 40]`, cut where the integrand
    /// peaks so that a tail of 10⁻³⁰⁰ keeps its relative precision.
    fn expect_tail(&self, h: impl Fn(f64, f64) -> f64) -> f64 {
        let integrand = |t: f64| {
            let (v, w) = self.point(t);
            if v <= 0.0 || w <= 0.0 {
                return 0.0;
            }
            self.density(t) * h(v, w)
        };
        let cuts = peak_cuts(&integrand);
        integrate(integrand, &cuts, -40.0, 40.0) / self.norm
    }

    /// `P(inner > X)` (`Side::Above`) or `P(inner < X)` (`Side::Below`) for
    /// an independent near-normal `inner`, `X` this variable: the outer
    /// expectation as in [`NearNormal::expect_tail`], the inner tail as the
    /// integral of `inner`'s own mode-relative density from the point,
    /// whose offset from `inner`'s mode is formed as
    /// `(m₀ − m₀') + σ t` without rounding the point itself.
    fn expect_tail_near(&self, inner: &NearNormal, side: Side) -> f64 {
        let gap = self.mode - inner.mode;
        let inner_tail = |t: f64| {
            let s = (gap + self.sd * t) / inner.sd;
            let (lo, hi) = match side {
                Side::Above => (s.max(-40.0), 40.0),
                Side::Below => (-40.0, s.min(40.0)),
            };
            if lo >= hi {
                return 0.0;
            }
            // The truncated density peaks at the end nearer 0 and falls off
            // on a scale of 1/|end| there.
            let end = if lo > 0.0 {
                lo
            } else if hi < 0.0 {
                hi
            } else {
                0.0
            };
            let scale = 1.0 / (1.0 + end.abs());
            let mut cuts = STANDARD_CUTS.to_vec();
            cuts.extend([1.0, 3.0, 10.0].map(|k| end + k * scale));
            cuts.extend([1.0, 3.0, 10.0].map(|k| end - k * scale));
            integrate(|u| inner.density(u), &cuts, lo, hi) / inner.norm
        };
        let integrand = |t: f64| self.density(t) * inner_tail(t);
        let cuts = peak_cuts(&integrand);
        integrate(integrand, &cuts, -40.0, 40.0) / self.norm
    }
}

/// Panel boundaries of a standardized density on `[−40, 40]`.
const STANDARD_CUTS: [f64; 9] = [-40.0, -12.0, -6.0, -2.0, 0.0, 2.0, 6.0, 12.0, 40.0];

/// Cuts for an integrand on `[−40, 40]` that is unimodal in the logarithm:
/// its peak (golden-section search on a coarse grid's best point) ± 1, 3, 8
/// and 20, plus the standard cuts.
fn peak_cuts(f: &impl Fn(f64) -> f64) -> Vec<f64> {
    let ln_f = |t: f64| {
        let v = f(t);
        if v > 0.0 { v.ln() } else { f64::NEG_INFINITY }
    };
    let mut best = (f64::NEG_INFINITY, 0.0);
    let mut t = -40.0;
    while t <= 40.0 {
        let v = ln_f(t);
        if v > best.0 {
            best = (v, t);
        }
        t += 1.0;
    }
    // Golden-section refinement on [best − 1, best + 1].
    let (mut lo, mut hi) = (best.1 - 1.0, best.1 + 1.0);
    let g = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..30 {
        let (m1, m2) = (hi - g * (hi - lo), lo + g * (hi - lo));
        if ln_f(m1) < ln_f(m2) {
            lo = m1;
        } else {
            hi = m2;
        }
    }
    let peak = 0.5 * (lo + hi);
    let mut cuts = STANDARD_CUTS.to_vec();
    for k in [-20.0, -8.0, -3.0, -1.0, 0.0, 1.0, 3.0, 8.0, 20.0] {
        cuts.push(peak + k);
    }
    cuts
}

/// `ln K`, `K = B(a_c+a_t, b_c+b_t) / (B(a_c, b_c) B(a_t, b_t))`, for any
/// shapes. With `ln Γ(z) = z ln z − z + R(z)`, the `z ln z` parts of the
/// nine log-gamma functions add up to minus the relative entropies
/// `s_c KL(m_c ‖ m̄) + s_t KL(m_t ‖ m̄)` (`s = a + b`, `m̄` the pooled mean),
/// each a sum of Loader's `bd0(x, M) = x ln(x/M) + M − x = M φ((x − M)/M)`,
/// `φ(e) = (1+e) ln(1+e) − e`, where every `x − M` is `±Δ/S`,
/// `Δ = a_t b_c − a_c b_t` (an exact difference of products),
/// `S = s_c + s_t`. The remaining `R(z)` are small (`−½ ln z + ln√(2π) + O(1/z)`).
/// Absolute error about 1e-14 at any size, where the three-log-Beta form
/// loses `1e-16 ×` the largest shape.
fn ln_k(c: Beta, t: Beta) -> f64 {
    let (s_c, s_t) = (c.a + c.b, t.a + t.b);
    let (big_a, big_b) = (c.a + t.a, c.b + t.b);
    let s = s_c + s_t;
    let delta = difference_of_products(t.a, c.b, c.a, t.b) / s;
    // Loader's bd0(x, M) with M the expected count and x − M given.
    let bd0 = |m: f64, diff: f64| m * phi(diff / m);
    let entropy = bd0(s_c * big_a / s, -delta)
        + bd0(s_c * big_b / s, delta)
        + bd0(s_t * big_a / s, delta)
        + bd0(s_t * big_b / s, -delta);
    let r = |z: f64| ln_gamma_rest(z);
    -entropy + r(big_a) + r(big_b) - r(s) - r(c.a) - r(c.b) + r(s_c) - r(t.a) - r(t.b) + r(s_t)
}

/// `ln(e^x + e^y)` without overflow or cancellation.
fn ln_add_exp(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    hi + (lo - hi).exp().ln_1p()
}

/// `(s, e)` with `s = fl(a + b)` and `a + b = s + e` exactly (Knuth's two-sum).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `a b − c d` to within a few units in the last place of the result
/// (Kahan's algorithm with fused multiply-adds), where the plain expression
/// can lose every digit.
fn difference_of_products(a: f64, b: f64, c: f64, d: f64) -> f64 {
    let cd = c * d;
    let err = c.mul_add(-d, cd);
    a.mul_add(b, -cd) + err
}

/// `ln(1 + u) − u`, by its Taylor series `Σ_{k≥2} (−1)^{k+1} u^k/k` for
/// `|u| < 0.1` (where the direct form cancels), else directly.
fn log1p_minus(u: f64) -> f64 {
    if u.abs() >= 0.1 {
        return u.ln_1p() - u;
    }
    let mut term = -u * u;
    let mut sum = 0.5 * term;
    let mut k = 3.0;
    while k < 40.0 {
        term *= -u;
        let next = term / k;
        sum += next;
        if next.abs() <= 1e-17 * sum.abs() {
            break;
        }
        k += 1.0;
    }
    sum
}

/// `φ(e) = (1 + e) ln(1 + e) − e ≥ 0`, by the series
/// `Σ_{k≥2} (−1)^k e^k/(k(k−1))` for `|e| < 0.1`, else directly.
fn phi(e: f64) -> f64 {
    if e.abs() >= 0.1 {
        return (1.0 + e) * e.ln_1p() - e;
    }
    let mut power = e * e;
    let mut sum = 0.5 * power;
    let mut k = 3.0;
    while k < 40.0 {
        power *= -e;
        let next = power / (k * (k - 1.0));
        sum += next;
        if next.abs() <= 1e-17 * sum {
            break;
        }
        k += 1.0;
    }
    sum
}

/// `ln √(2π)`.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_7;

/// `R(z) = ln Γ(z) − (z ln z − z)`: `−½ ln z + ln √(2π) + c(z)` with the
/// Stirling series `c(z) = 1/(12z) − 1/(360z³) + … + 1/(156z¹³)` (seven terms;
/// the first omitted, `3617/(122400 z¹⁵)`, is below 3e-17 for `z ≥ 10` — five
/// terms left 1.9e-14 there, which put 6e-15 into P(X > Y) of equal arms),
/// and `libm::lgamma(z) − z ln z + z` below 10 (absolute error about 3e-15;
/// the former recurrence up to 10 carried the truncation error nine times,
/// 1.1e-13 in P of two uniforms).
fn ln_gamma_rest(z: f64) -> f64 {
    if z >= 10.0 {
        let r = 1.0 / z;
        let r2 = r * r;
        let c = r
            * (1.0 / 12.0
                + r2 * (-1.0 / 360.0
                    + r2 * (1.0 / 1260.0
                        + r2 * (-1.0 / 1680.0
                            + r2 * (1.0 / 1188.0
                                + r2 * (-691.0 / 360_360.0 + r2 * (1.0 / 156.0)))))));
        return -0.5 * z.ln() + LN_SQRT_2PI + c;
    }
    libm::lgamma(z) - z * z.ln() + z
}

/// Digamma `ψ(z)` and trigamma `ψ'(z)` for `z > 0` (recurrence up to 6,
/// then the asymptotic series; about 1e-12, used only to place cuts).
fn digamma_trigamma(z: f64) -> (f64, f64) {
    let (mut z, mut psi, mut psi1) = (z, 0.0, 0.0);
    while z < 6.0 {
        psi -= 1.0 / z;
        psi1 += 1.0 / (z * z);
        z += 1.0;
    }
    let r = 1.0 / z;
    let r2 = r * r;
    psi += z.ln() - 0.5 * r - r2 * (1.0 / 12.0 - r2 * (1.0 / 120.0 - r2 / 252.0));
    psi1 += r + 0.5 * r2 + r * r2 * (1.0 / 6.0 - r2 * (1.0 / 30.0 - r2 / 42.0));
    (psi, psi1)
}

/// Gauss–Kronrod (7, 15) nodes on `[0, 1]` (QUADPACK's `qk15`), Kronrod
/// weights, and the Gauss weights of the odd-indexed nodes.
const GK_NODES: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const GK_WEIGHTS: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
const GAUSS_WEIGHTS: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// One 15-point Kronrod panel: `(estimate, error estimate)` with QUADPACK's
/// error heuristic `resasc · min(1, (200 |K − G| / resasc)^1.5)`.
fn kronrod(f: &impl Fn(f64) -> f64, lo: f64, hi: f64) -> (f64, f64) {
    let center = 0.5 * (lo + hi);
    let half = 0.5 * (hi - lo);
    let fc = f(center);
    let mut values = [0.0; 15];
    values[7] = fc;
    for j in 0..7 {
        let dx = half * GK_NODES[j];
        values[j] = f(center - dx);
        values[14 - j] = f(center + dx);
    }
    let mut kronrod = GK_WEIGHTS[7] * fc;
    let mut gauss = GAUSS_WEIGHTS[3] * fc;
    for j in 0..7 {
        let pair = values[j] + values[14 - j];
        kronrod += GK_WEIGHTS[j] * pair;
        if j % 2 == 1 {
            gauss += GAUSS_WEIGHTS[j / 2] * pair;
        }
    }
    let mean = 0.5 * kronrod;
    let mut asc = GK_WEIGHTS[7] * (fc - mean).abs();
    for j in 0..7 {
        asc += GK_WEIGHTS[j] * ((values[j] - mean).abs() + (values[14 - j] - mean).abs());
    }
    let (est, asc) = (kronrod * half, asc * half.abs());
    let raw = ((kronrod - gauss) * half).abs();
    let err = if asc > 0.0 && raw > 0.0 {
        asc * (200.0 * raw / asc).powf(1.5).min(1.0)
    } else {
        raw
    };
    (est, err)
}

/// Most panels [`integrate`] refines to.
const MAX_PANELS: usize = 400;

/// `∫_lo^hi f` by globally adaptive Gauss–Kronrod: the panels between the
/// cuts inside `(lo, hi)`, then the panel with the largest error estimate is
/// halved until the summed estimate is below 1e-14 of the integral (or
/// [`MAX_PANELS`] is reached). `f` must be finite.
fn integrate(f: impl Fn(f64) -> f64, cuts: &[f64], lo: f64, hi: f64) -> f64 {
    let mut points: Vec<f64> = cuts
        .iter()
        .copied()
        .filter(|&c| c > lo && c < hi && c.is_finite())
        .chain([lo, hi])
        .collect();
    points.sort_by(f64::total_cmp);
    points.dedup();
    let mut panels: Vec<(f64, f64, f64, f64)> = points
        .windows(2)
        .map(|w| {
            let (est, err) = kronrod(&f, w[0], w[1]);
            (w[0], w[1], est, err)
        })
        .collect();
    while panels.len() < MAX_PANELS {
        let total: f64 = panels.iter().map(|p| p.2).sum();
        let error: f64 = panels.iter().map(|p| p.3).sum();
        if error <= 1e-14 * total.abs() || error == 0.0 {
            break;
        }
        let (worst, _) = panels
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.3.total_cmp(&b.1.3))
            .expect("at least one panel");
        let (a, b, _, _) = panels[worst];
        let mid = 0.5 * (a + b);
        if mid <= a || mid >= b {
            break;
        }
        let (e1, r1) = kronrod(&f, a, mid);
        let (e2, r2) = kronrod(&f, mid, b);
        panels[worst] = (a, mid, e1, r1);
        panels.push((mid, b, e2, r2));
    }
    panels.iter().map(|p| p.2).sum()
}

/// Normal approximation from the posterior means: [`normal_posteriors`]
/// with the lift `mean_t − mean_c`. Prefer [`normal_posteriors`] with a lift
/// formed exactly from the data when the means are large and close (their
/// rounded difference loses digits). `None` as there.
pub fn normal_approx(mean_c: f64, se_c: f64, mean_t: f64, se_t: f64) -> Option<BayesResult> {
    if !(mean_c.is_finite() && mean_t.is_finite()) {
        return None;
    }
    normal_posteriors(mean_t - mean_c, se_c, se_t)
}

/// Normal approximation: posteriors `C ~ N(m_c, se_c²)`, `T ~ N(m_t, se_t²)`
/// independent, so `D = T − C ~ N(δ, σ²)`, `δ = lift = m_t − m_c` (in the
/// metric's units, formed by the caller as exactly as it can),
/// `σ = √(se_c² + se_t²)`, `u = δ/σ`:
///
/// - `P(T > C) = Φ(u)` and `P(C > T) = Φ(−u)`, each computed directly (so a
///   tail of 1e-300 keeps its relative precision),
/// - `loss_t = E[max(C − T, 0)] = σ g(u)`, `loss_c = E[max(T − C, 0)] = σ g(−u)`,
///   with `g(v) = φ(v) − v(1 − Φ(v))`, which for `v ≥ 2` is formed as
///   `φ(v)/(V₁V₂)` from the continued fraction of Mills' ratio
///   `(1 − Φ(v))/φ(v) = 1/V₁`, `V_k = v + k/V_{k+1}` (Abramowitz & Stegun
///   26.2.14), so the tiny loss keeps its relative precision instead of
///   cancelling.
///
/// `None` when an input is not finite, a standard error is negative, or
/// `σ = 0`: a posterior without variance (every unit of both arms has the
/// same value) is missing information, not certainty, and a probability of
/// 1 would claim it (DESIGN §2: a statistic with no variance is undefined).
pub fn normal_posteriors(lift: f64, se_c: f64, se_t: f64) -> Option<BayesResult> {
    if [lift, se_c, se_t].iter().any(|v| !v.is_finite()) || se_c < 0.0 || se_t < 0.0 {
        return None;
    }
    let sigma = se_c.hypot(se_t);
    if !sigma.is_finite() || sigma == 0.0 {
        return None;
    }
    let u = lift / sigma;
    Some(BayesResult {
        prob_t_beats_c: normal_cdf(u),
        prob_c_beats_t: normal_sf(u),
        expected_loss_t: sigma * normal_loss(u),
        expected_loss_c: sigma * normal_loss(-u),
    })
}

/// `g(v) = E[max(−v − Z, 0)] = φ(v) − v(1 − Φ(v))` for a standard normal `Z`,
/// to full relative precision (see [`normal_posteriors`]).
fn normal_loss(v: f64) -> f64 {
    if v < 2.0 {
        // Below 2 the two terms cancel by at most a factor of 7.
        return (normal_pdf(v) - v * normal_sf(v)).max(0.0);
    }
    // Backward recurrence V_k = v + k/V_{k+1} from V_{k_max+1} = v; 200
    // levels converge to rounding for v ≥ 2.
    let mut next = v;
    let mut v2 = v;
    for k in (2..=200).rev() {
        next = v + k as f64 / next;
        if k == 2 {
            v2 = next;
        }
    }
    let v1 = v + 1.0 / v2;
    normal_pdf(v) / (v1 * v2)
}

/// Credible interval of the relative lift `p_T/p_C − 1` at `level`, by
/// Monte Carlo with `draws` pairs of posterior draws.
///
/// Reproducible: the generator is `Xoshiro256PlusPlus::seed_from_u64(seed)`
/// and each draw takes `p_C` then `p_T` from [`BetaDraws::sample_pairs`] (Cheng's
/// algorithms BB and BC, the draws of `rand_distr::Beta` computed with
/// `libm`). The bounds are the empirical `(1 − level)/2` and
/// `(1 + level)/2` quantiles, interpolated linearly between order statistics
/// (Hyndman–Fan type 7, as NumPy).
///
/// `None` when `x > n` in an arm, the prior is not positive and finite,
/// `level ∉ (0, 1)`, `draws` is 0 or above [`MAX_DRAWS`], or a bound is not
/// finite (a posterior with a shape far below 1 can draw a control rate
/// that underflows to 0, making the lift unbounded).
#[expect(
    clippy::too_many_arguments,
    reason = "two arms' counts, the prior, the level and the Monte Carlo draws and seed are each an input of the formula"
)]
pub fn relative_lift_interval(
    x_c: u64,
    n_c: u64,
    x_t: u64,
    n_t: u64,
    prior: (f64, f64),
    level: f64,
    draws: u64,
    seed: u64,
) -> Option<(f64, f64)> {
    if x_c > n_c
        || x_t > n_t
        || !valid_prior(prior)
        || !(level > 0.0 && level < 1.0)
        || draws == 0
        || draws > MAX_DRAWS
    {
        return None;
    }
    let c = posterior(x_c, n_c, prior);
    let t = posterior(x_t, n_t, prior);
    let draw_c = BetaDraws::<Libm>::new(c.a, c.b)?;
    let draw_t = BetaDraws::<Libm>::new(t.a, t.b)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut lifts: Vec<f64> = Vec::with_capacity(draws as usize);
    BetaDraws::sample_pairs(&draw_c, &draw_t, &mut rng, draws, |p_c, p_t| {
        lifts.push(p_t / p_c - 1.0);
    });
    if lifts.iter().any(|l| l.is_nan()) {
        return None;
    }
    let low = quantile(&mut lifts, 0.5 * (1.0 - level));
    let high = quantile(&mut lifts, 0.5 * (1.0 + level));
    (low.is_finite() && high.is_finite()).then_some((low, high))
}

/// Type-7 empirical quantile (linear interpolation between order statistics).
fn quantile(values: &mut [f64], p: f64) -> f64 {
    let n = values.len();
    let pos = p * (n - 1) as f64;
    let i = (pos.floor() as usize).min(n - 1);
    let frac = pos - i as f64;
    let (_, lower, rest) = values.select_nth_unstable_by(i, f64::total_cmp);
    let lower = *lower;
    if frac == 0.0 || rest.is_empty() {
        return lower;
    }
    let upper = rest.iter().copied().fold(f64::INFINITY, f64::min);
    lower + frac * (upper - lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bb(x_c: u64, n_c: u64, x_t: u64, n_t: u64, prior: (f64, f64)) -> BayesResult {
        beta_binomial(x_c, n_c, x_t, n_t, prior).expect("valid")
    }

    #[test]
    fn invalid_inputs_are_undefined() {
        assert_eq!(beta_binomial(11, 10, 1, 10, (1.0, 1.0)), None);
        assert_eq!(beta_binomial(1, 10, 1, 10, (0.0, 1.0)), None);
        assert_eq!(beta_binomial(1, 10, 1, 10, (1.0, f64::NAN)), None);
        assert_eq!(normal_approx(0.1, -1.0, 0.2, 0.1), None);
        assert_eq!(normal_approx(f64::INFINITY, 1.0, 0.2, 0.1), None);
    }

    #[test]
    fn empty_arms_fall_back_to_the_prior() {
        let r = bb(0, 0, 0, 0, (1.0, 1.0));
        assert!((r.prob_t_beats_c - 0.5).abs() < 1e-15);
        // E|U − V|/2 for independent uniforms is 1/6.
        assert!((r.expected_loss_t - 1.0 / 6.0).abs() < 1e-13, "{r:?}");
        assert_eq!(r.expected_loss_t, r.expected_loss_c);
    }

    #[test]
    fn zero_and_all_conversions() {
        let r = bb(0, 1000, 0, 1000, (1.0, 1.0));
        assert!((r.prob_t_beats_c - 0.5).abs() < 1e-12);
        let r = bb(18, 20, 20, 20, (1.0, 1.0));
        assert!((r.prob_t_beats_c - 0.884_146_341_463_414_6).abs() < 1e-12);
        let r = bb(1, 1, 0, 1, (1.0, 1.0));
        // Beta(2,1) against Beta(1,2): P(T > C) = 1/6.
        assert!((r.prob_t_beats_c - 1.0 / 6.0).abs() < 1e-14);
    }

    #[test]
    fn swapping_arms_mirrors_the_result() {
        let a = bb(120, 1000, 150, 1100, (1.0, 1.0));
        let b = bb(150, 1100, 120, 1000, (1.0, 1.0));
        assert!((a.prob_t_beats_c + b.prob_t_beats_c - 1.0).abs() < 1e-12);
        assert!((a.expected_loss_t - b.expected_loss_c).abs() < 1e-15);
        // loss_t − loss_c = E[p_C] − E[p_T]
        let (m_c, m_t) = (121.0 / 1002.0, 151.0 / 1102.0);
        assert!((a.expected_loss_t - a.expected_loss_c - (m_c - m_t)).abs() < 1e-14);
    }

    #[test]
    fn jeffreys_prior_at_a_hundred_thousand_units() {
        // Against a 30-digit mpmath evaluation of the same reduction.
        let r = bb(12_000, 100_000, 12_400, 100_000, (0.5, 0.5));
        let close = |a: f64, e: f64| ((a - e) / e).abs() < 1e-9;
        assert!(close(r.prob_t_beats_c, 0.996_861_120_240_478_3), "{r:?}");
        assert!(close(r.expected_loss_t, 1.392_698_019_143_957e-6), "{r:?}");
        assert!(close(r.expected_loss_c, 0.004_001_352_698_419_14), "{r:?}");
    }

    #[test]
    fn fractional_priors_agree_with_the_finite_sum() {
        // A prior a hair off (1, 1) takes the fractional-shape path.
        for (x_c, n_c, x_t, n_t) in [
            (3, 40, 7, 45),
            (120, 1000, 140, 1000),
            (0, 200, 2, 180),
            (25, 25, 24, 30),
        ] {
            let sum = bb(x_c, n_c, x_t, n_t, (1.0, 1.0));
            let quad = bb(x_c, n_c, x_t, n_t, (1.0 + 1e-12, 1.0 - 1e-12));
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs() + 1e-13;
            assert!(
                close(quad.prob_t_beats_c, sum.prob_t_beats_c),
                "{quad:?} vs {sum:?}"
            );
            assert!(
                close(quad.expected_loss_t, sum.expected_loss_t),
                "{quad:?} vs {sum:?}"
            );
            assert!(
                close(quad.expected_loss_c, sum.expected_loss_c),
                "{quad:?} vs {sum:?}"
            );
        }
    }

    #[test]
    fn ln_k_matches_log_beta_at_moderate_shapes() {
        for (c, t) in [
            ((3.5, 40.0), (7.0, 45.0)),
            ((0.01, 5.01), (5.01, 0.01)),
            ((121.0, 881.0), (151.0, 951.0)),
            ((2.0, 9.0), (2.0, 9.0)),
        ] {
            let (c, t) = (Beta { a: c.0, b: c.1 }, Beta { a: t.0, b: t.1 });
            let three = ln_beta(c.a + t.a, c.b + t.b) - ln_beta(c.a, c.b) - ln_beta(t.a, t.b);
            assert!((ln_k(c, t) - three).abs() < 1e-12, "{c:?} {t:?}");
        }
    }

    #[test]
    fn near_normal_formulations_agree_with_the_sum_at_the_threshold() {
        // Just above the threshold both arms are near-normal; the same data
        // through the sum (one shape below it) must agree.
        let below = Beta { a: 9.9e6, b: 3.0e7 };
        let above = Beta {
            a: 1.01e7,
            b: 3.0e7,
        };
        let sum = miller(above, below);
        let quad = prob_greater(above, below);
        assert!(above.near_normal() && !below.near_normal());
        assert!((quad / sum - 1.0).abs() < 1e-8, "{quad} vs {sum}");
        let both = NearNormal::new(above)
            .expect_tail_near(&NearNormal::new(below.reflect().reflect()), Side::Below);
        assert!((both / sum - 1.0).abs() < 1e-8, "{both} vs {sum}");
    }

    #[test]
    fn logit_density_integrates_to_one_at_every_size() {
        // Small shapes, an arm of 4e10 units, and a shape of 6e14 against
        // 0.048 (where p rounds to 1).
        for (a, b) in [
            (0.05, 3.0),
            (2.5, 7.0),
            (41_206_857_456.14, 7_358_402.016),
            (605_364_815_587_001.0, 0.048),
        ] {
            let d = LogitDensity::new(Beta { a, b });
            let (m, sd) = Beta { a, b }.logit_location();
            let cuts: Vec<f64> = [-40.0, -12.0, -4.0, -1.0, 0.0, 1.0, 4.0, 12.0, 40.0]
                .iter()
                .map(|k| m + k * sd - d.mode)
                .collect();
            let lo = cuts[0].min(-60.0);
            let hi = cuts[8].max(60.0);
            let total = integrate(|t| d.at(t), &cuts, lo, hi);
            assert!((total - 1.0).abs() < 1e-12, "({a}, {b}): {total}");
        }
    }

    #[test]
    fn the_three_loss_forms_agree() {
        // Where none cancels much, all three forms of the smaller loss give
        // the same value.
        for (low, high) in [
            (Beta { a: 30.0, b: 70.0 }, Beta { a: 45.0, b: 55.0 }),
            (Beta { a: 3.5, b: 40.0 }, Beta { a: 7.0, b: 45.0 }),
            (Beta { a: 0.3, b: 5.7 }, Beta { a: 2.3, b: 1.7 }),
        ] {
            let p = prob_greater(low, high);
            let gap = high.mean() - low.mean();
            let plus = |d: Beta| Beta {
                a: d.a + 1.0,
                b: d.b,
            };
            let kk = ln_k(low, high).exp() * (1.0 / (low.a + low.b) + 1.0 / (high.a + high.b));
            let by_k = kk - gap * p;
            let by_means = low.mean() * prob_greater(plus(low), high)
                - high.mean() * prob_greater(low, plus(high));
            let (x, y) = (high.reflect(), low.reflect());
            let by_reflection =
                x.mean() * prob_greater(plus(x), y) - y.mean() * prob_greater(x, plus(y));
            for other in [by_means, by_reflection] {
                assert!(
                    (other / by_k - 1.0).abs() < 1e-12,
                    "{low:?} {high:?}: {by_k} {other}"
                );
            }
        }
    }

    #[test]
    fn mills_ratio_loss_matches_the_direct_form() {
        for v in [2.0, 2.5, 3.0, 5.0, 8.0] {
            let direct = normal_pdf(v) - v * normal_sf(v);
            let cf = normal_loss(v);
            // the direct form cancels by about v², so compare loosely
            assert!(
                (cf / direct - 1.0).abs() < 1e-13 * v * v * 10.0,
                "{v}: {cf} {direct}"
            );
        }
        // far tail: g(v) ~ φ(v)/v² (1 − 3/v²)
        let v = 30.0;
        let approx = normal_pdf(v) / (v * v) * (1.0 - 3.0 / (v * v) + 15.0 / v.powi(4));
        assert!((normal_loss(v) / approx - 1.0).abs() < 1e-6);
    }

    #[test]
    fn normal_approx_degenerate_and_tails() {
        // no variance in either arm: no evidence, never a probability of 1
        assert!(normal_approx(1.0, 0.0, 1.5, 0.0).is_none());
        assert!(normal_approx(1.0, 0.0, 1.0, 0.0).is_none());
        let r = normal_approx(0.0, 1.0, 0.0, 0.0).expect("finite");
        assert!((r.expected_loss_t - 1.0 / (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-15);
        let r = normal_approx(0.0, 0.01, 1.0, 0.01).expect("finite");
        assert!(r.prob_t_beats_c == 1.0 && r.expected_loss_t >= 0.0 && r.expected_loss_c > 0.99);
        // the small tail is direct: Φ(−70.7) ≈ 1e-1088 underflows, Φ(−20) does not
        let r = normal_posteriors(20.0, 1.0, 0.0).expect("finite");
        assert!((r.prob_c_beats_t / 2.753_624_118_606_233_7e-89 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn credible_interval_is_reproducible() {
        let a = relative_lift_interval(1200, 10_000, 1320, 10_050, (1.0, 1.0), 0.95, 20_000, 42)
            .expect("valid");
        let b = relative_lift_interval(1200, 10_000, 1320, 10_050, (1.0, 1.0), 0.95, 20_000, 42)
            .expect("valid");
        assert_eq!(a, b);
        let c = relative_lift_interval(1200, 10_000, 1320, 10_050, (1.0, 1.0), 0.95, 20_000, 7)
            .expect("valid");
        assert_ne!(a, c);
        // Close to the delta-method interval (0.0145, 0.1745) of the same data.
        assert!(
            (a.0 - 0.015).abs() < 0.01 && (a.1 - 0.175).abs() < 0.01,
            "{a:?}"
        );
        assert!(a.0 < 0.0945 && 0.0945 < a.1);
    }

    #[test]
    fn credible_interval_rejects_bad_requests() {
        assert_eq!(
            relative_lift_interval(1, 10, 1, 10, (1.0, 1.0), 0.95, 0, 1),
            None
        );
        assert_eq!(
            relative_lift_interval(1, 10, 1, 10, (1.0, 1.0), 1.0, 100, 1),
            None
        );
        assert_eq!(
            relative_lift_interval(11, 10, 1, 10, (1.0, 1.0), 0.9, 100, 1),
            None
        );
        // Zero conversions with a small prior stay finite.
        assert!(relative_lift_interval(0, 1000, 0, 1000, (0.01, 1.0), 0.9, 1000, 1).is_some());
    }
}

//! Bayesian evidence: Beta-Binomial posteriors compared exactly, a normal
//! approximation for means, and seeded Monte Carlo credible intervals of the
//! relative lift.
//!
//! Posteriors: `p_C ~ Beta(a_c, b_c)`, `a_c = a + x_c`, `b_c = b + n_c − x_c`,
//! `p_T` likewise, independent, with a common `Beta(a, b)` prior.

use super::dist::{beta_inc, ln_beta, normal_cdf, normal_pdf, normal_sf};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// When every posterior shape parameter (`a + x` and `b + n − x` of both
/// arms) exceeds this, i.e. both arms have more than 10⁷ conversions and
/// 10⁷ non-conversions, [`beta_binomial`] uses the normal approximation of
/// the posteriors instead of the exact sum. The sum's cost grows like the
/// square root of the smallest shape parameter (about 80 µs at 10⁷), and the
/// approximation's error shrinks like its inverse square root: at the
/// threshold `|ΔP| ≤ 6e-9` and the relative error of the smaller tail and of
/// the expected losses is at most 1e-5 (measurements in `docs/stats.md`).
pub const EXACT_MAX_SHAPE: f64 = 1e7;

/// Largest number of Monte Carlo draws [`relative_lift_interval`] accepts.
pub const MAX_DRAWS: u64 = 10_000_000;

/// Posterior comparison of treatment against control.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BayesResult {
    /// `P(p_T > p_C)`.
    pub prob_t_beats_c: f64,
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

/// Exact Beta-Binomial comparison of two conversion rates.
///
/// `P(p_T > p_C)` is computed exactly (no simulation):
///
/// - when the summed shape parameter is an integer (any integer prior, e.g.
///   the default `Beta(1, 1)`), by Evan Miller's finite sum
///   `P(X > Y) = Σ_{i=0}^{a_X−1} B(a_Y+i, b_X+b_Y) / ((b_X+i) B(1+i, b_X) B(a_Y, b_Y))`
///   (or its reflection `P(X > Y) = P(1−Y > 1−X)` when that is shorter),
///   summing from the largest term outward with the term ratio
///   `(a_Y+i)(b_X+i) / ((a_Y+b_Y+b_X+i)(i+1))` until terms fall below 1e-17
///   of the sum; one log-Beta evaluation per call;
/// - for fractional shapes (e.g. the Jeffreys prior `Beta(½, ½)`), by the
///   same sum over `i = f, f+1, …, a_X − 1` (`f` the fractional part of `a_X`)
///   plus the remainder `P(Beta(f, b_X) > Y)`, which is skipped when a
///   two-point tail bound shows it below 1e-17 of the sum and otherwise
///   integrated by tanh-sinh quadrature of `f_Y(y) · (1 − I_y(f, b_X))`
///   over `[0, 1]`, split at both distributions' means ± 2, 5 and 10 sd.
///
/// The smaller of `P(T > C)` and `P(C > T)` (predicted from the posterior
/// means) is computed directly and the other as its complement, so tiny
/// probabilities keep their relative precision. The expected losses follow in
/// closed form from `I_x(a+1, b) = I_x(a, b) − x^a (1−x)^b/(a B(a, b))`:
/// with `K = B(a_c+a_t, b_c+b_t)/(B(a_c, b_c) B(a_t, b_t))` and
/// `N = a + b` per posterior,
/// `loss_t = (m_c − m_t) P(C > T) + K (1/N_c + 1/N_t)`,
/// `loss_c = (m_t − m_c) P(T > C) + K (1/N_c + 1/N_t)`.
///
/// Relative error about 1e-10 for the reference cases and 1e-9 at shape
/// parameters of 10⁷ (the rounding of the log-Beta of large arguments
/// dominates). When all four posterior shape parameters exceed
/// [`EXACT_MAX_SHAPE`] the posteriors are replaced by normals with the same
/// means and variances and [`normal_approx`] is used (accuracy in
/// `docs/stats.md`).
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
    let c = posterior(x_c, n_c, prior);
    let t = posterior(x_t, n_t, prior);
    if c.a.min(c.b).min(t.a).min(t.b) > EXACT_MAX_SHAPE {
        return normal_approx(c.mean(), c.variance().sqrt(), t.mean(), t.variance().sqrt());
    }
    Some(exact(c, t))
}

/// [`beta_binomial`] without the switch to the normal approximation: always
/// exact, at a cost growing like the square root of the smallest shape
/// parameter (0.6 ms at 5·10⁸), with a relative error growing like
/// `1e-16 ×` the largest one (1e-7 at 10⁹). `None` in the same cases.
pub fn beta_binomial_exact(
    x_c: u64,
    n_c: u64,
    x_t: u64,
    n_t: u64,
    prior: (f64, f64),
) -> Option<BayesResult> {
    if x_c > n_c || x_t > n_t || !valid_prior(prior) {
        return None;
    }
    Some(exact(
        posterior(x_c, n_c, prior),
        posterior(x_t, n_t, prior),
    ))
}

/// Exact comparison of two Beta posteriors (see [`beta_binomial`]).
fn exact(c: Beta, t: Beta) -> BayesResult {
    let (m_c, m_t) = (c.mean(), t.mean());
    let (p_tc, p_ct) = if m_t <= m_c {
        let p = prob_greater(t, c);
        (p, 1.0 - p)
    } else {
        let p = prob_greater(c, t);
        (1.0 - p, p)
    };
    let k = (ln_beta(c.a + t.a, c.b + t.b) - ln_beta(c.a, c.b) - ln_beta(t.a, t.b)).exp();
    let kk = k * (1.0 / (c.a + c.b) + 1.0 / (t.a + t.b));
    BayesResult {
        prob_t_beats_c: p_tc.clamp(0.0, 1.0),
        expected_loss_t: (kk - (m_t - m_c) * p_ct).max(0.0),
        expected_loss_c: (kk - (m_c - m_t) * p_tc).max(0.0),
    }
}

/// `P(X > Y)` for independent Beta variables.
///
/// With `a_X = f + k` (`k` a whole number, `0 ≤ f < 1`), repeated use of
/// `I_y(a+1, b) = I_y(a, b) − y^a (1−y)^b/(a B(a, b))` gives
/// `P(X > Y) = P(X_f > Y) + Σ_{j=0}^{k−1} t(f + j)`,
/// `t(i) = B(a_Y+i, b_X+b_Y) / ((b_X+i) B(1+i, b_X) B(a_Y, b_Y))`, `X_f ~ Beta(f, b_X)`.
/// For an integer `a_X` (`f = 0`) this is Evan Miller's sum and the first
/// term is `P(X_f > Y)` itself; otherwise the remainder `P(X_f > Y)` is one
/// quadrature. The reflection `P(X > Y) = P(1−Y > 1−X)` is used when it
/// makes the sum shorter.
fn prob_greater(x: Beta, y: Beta) -> f64 {
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
    (sum + quadrature(rest, y)).min(1.0)
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
    let ln_mode_term = ln_beta(y.a + i_mode, x.b + y.b)
        - (x.b + i_mode).ln()
        - ln_beta(1.0 + i_mode, x.b)
        - ln_beta(y.a, y.b);
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

/// `P(X > Y) = ∫ f_Y(y) (1 − I_y(a_X, b_X)) dy` by tanh-sinh quadrature over
/// subintervals of `[0, 1]` cut at both posteriors' means ± 2, 5, 10 sd.
fn quadrature(x: Beta, y: Beta) -> f64 {
    let ln_norm = ln_beta(y.a, y.b);
    let integrand = |v: f64, w: f64| {
        // v = y, w = 1 − y, both to full relative precision
        let density = ((y.a - 1.0) * v.ln() + (y.b - 1.0) * w.ln() - ln_norm).exp();
        density * beta_inc(x.a, x.b, v, w).1
    };
    let mut cuts = vec![0.0, 1.0];
    for dist in [x, y] {
        let (m, sd) = (dist.mean(), dist.variance().sqrt());
        for k in [-10.0, -5.0, -2.0, 0.0, 2.0, 5.0, 10.0] {
            let p = m + k * sd;
            if p > 0.0 && p < 1.0 {
                cuts.push(p);
            }
        }
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    // A coarse pass sizes the integral, so that pieces carrying a negligible
    // share of it are not refined to their own relative precision.
    let mut pieces: Vec<TanhSinh> = cuts
        .windows(2)
        .map(|w| TanhSinh::new(&integrand, w[0], w[1]))
        .collect();
    for piece in &mut pieces {
        piece.halve(&integrand);
    }
    let coarse: f64 = pieces.iter().map(|p| p.estimate).sum();
    let abs_tol = 1e-12 * coarse.abs();
    let mut total = 0.0;
    for piece in &mut pieces {
        for _ in 0..8 {
            if piece.last_change <= abs_tol.max(1e-11 * piece.estimate.abs()) {
                break;
            }
            piece.halve(&integrand);
        }
        total += piece.estimate;
    }
    total.clamp(0.0, 1.0)
}

/// Tanh-sinh (double-exponential) quadrature of `f(v, 1 − v)` over
/// `[lo, hi] ⊆ [0, 1]`, refined by halving the step. Nodes are placed by
/// their distance from the nearer endpoint and `1 − v` is passed separately,
/// so the integrable endpoint singularities of Beta densities with shape < 1
/// are handled; pieces inside `(0, 1)` are smooth and stop at `|t| ≤ 3`.
struct TanhSinh {
    lo: f64,
    hi: f64,
    half: f64,
    t_max: f64,
    h: f64,
    sum: f64,
    estimate: f64,
    last_change: f64,
}

impl TanhSinh {
    fn new(f: &impl Fn(f64, f64) -> f64, lo: f64, hi: f64) -> TanhSinh {
        let half = 0.5 * (hi - lo);
        let t_max = if lo == 0.0 || hi == 1.0 { 4.5 } else { 3.0 };
        let mut q = TanhSinh {
            lo,
            hi,
            half,
            t_max,
            h: 0.5,
            sum: 0.0,
            estimate: 0.0,
            last_change: f64::INFINITY,
        };
        if half <= 0.0 {
            q.last_change = 0.0;
            return q;
        }
        q.sum = half * std::f64::consts::FRAC_PI_2 * q.at(f, half, false);
        let mut k = 1.0;
        while k * q.h <= q.t_max {
            q.sum += q.pair(f, k * q.h);
            k += 1.0;
        }
        q.estimate = q.sum * q.h;
        q
    }

    /// Adds the nodes halfway between the current ones.
    fn halve(&mut self, f: &impl Fn(f64, f64) -> f64) {
        if self.half <= 0.0 {
            return;
        }
        self.h *= 0.5;
        let mut k = 1.0;
        while k * self.h <= self.t_max {
            self.sum += self.pair(f, k * self.h);
            k += 2.0;
        }
        let next = self.sum * self.h;
        self.last_change = (next - self.estimate).abs();
        self.estimate = next;
    }

    /// `f` at distance `d` inside the lower (`upper = false`) or upper
    /// endpoint; at the endpoints 0 and 1 the distance is the exact coordinate.
    fn at(&self, f: &impl Fn(f64, f64) -> f64, d: f64, upper: bool) -> f64 {
        let (lo, hi) = (self.lo, self.hi);
        let (v, w) = match (upper, lo == 0.0, hi == 1.0) {
            (false, true, _) => (d, 1.0 - d),
            (false, false, _) => (lo + d, 1.0 - (lo + d)),
            (true, _, true) => (1.0 - d, d),
            (true, _, false) => (hi - d, 1.0 - (hi - d)),
        };
        if v <= 0.0 || w <= 0.0 {
            return 0.0;
        }
        let value = f(v, w);
        if value.is_finite() { value } else { 0.0 }
    }

    /// The weighted node pair at `±t`, `t > 0`, before the step factor.
    fn pair(&self, f: &impl Fn(f64, f64) -> f64, t: f64) -> f64 {
        let u = std::f64::consts::FRAC_PI_2 * t.sinh();
        let cosh_u = u.cosh();
        let d = self.half * (-u).exp() / cosh_u;
        let weight = self.half * std::f64::consts::FRAC_PI_2 * t.cosh() / (cosh_u * cosh_u);
        if d <= 0.0 || !weight.is_finite() {
            return 0.0;
        }
        weight * (self.at(f, d, false) + self.at(f, d, true))
    }
}

/// Normal approximation: posteriors `C ~ N(mean_c, se_c²)`, `T ~ N(mean_t, se_t²)`
/// independent, so `D = T − C ~ N(δ, σ²)`, `δ = mean_t − mean_c`,
/// `σ = √(se_c² + se_t²)`, `u = δ/σ`:
///
/// - `P(T > C) = Φ(u)`,
/// - `loss_t = E[max(C − T, 0)] = σ g(u)`, `loss_c = E[max(T − C, 0)] = σ g(−u)`,
///   with `g(v) = φ(v) − v(1 − Φ(v))`.
///
/// With `σ = 0`: `P = 1, ½, 0` as `δ > 0, = 0, < 0`, and the losses are
/// `max(−δ, 0)` and `max(δ, 0)`. `None` when an input is not finite or a
/// standard error is negative.
pub fn normal_approx(mean_c: f64, se_c: f64, mean_t: f64, se_t: f64) -> Option<BayesResult> {
    let inputs = [mean_c, se_c, mean_t, se_t];
    if inputs.iter().any(|v| !v.is_finite()) || se_c < 0.0 || se_t < 0.0 {
        return None;
    }
    let delta = mean_t - mean_c;
    let sigma = se_c.hypot(se_t);
    if !delta.is_finite() || !sigma.is_finite() {
        return None;
    }
    if sigma == 0.0 {
        let prob = if delta > 0.0 {
            1.0
        } else if delta < 0.0 {
            0.0
        } else {
            0.5
        };
        return Some(BayesResult {
            prob_t_beats_c: prob,
            expected_loss_t: (-delta).max(0.0),
            expected_loss_c: delta.max(0.0),
        });
    }
    let u = delta / sigma;
    let g = |v: f64| (normal_pdf(v) - v * normal_sf(v)).max(0.0);
    Some(BayesResult {
        prob_t_beats_c: normal_cdf(u),
        expected_loss_t: sigma * g(u),
        expected_loss_c: sigma * g(-u),
    })
}

/// Credible interval of the relative lift `p_T/p_C − 1` at `level`, by
/// Monte Carlo with `draws` pairs of posterior draws.
///
/// Reproducible: the generator is `Xoshiro256PlusPlus::seed_from_u64(seed)`
/// and each draw takes `p_C` then `p_T` as `G_a/(G_a + G_b)` from
/// Marsaglia–Tsang gamma variates (with the squeeze; normals by Marsaglia's
/// polar method, both of each pair used). The lift is `p_T/p_C − 1`; when a shape is below 1
/// the draws are made in logarithms (`G_a = G_{a+1} U^{1/a}`) so that none
/// underflows, and the lift is `expm1(ln p_T − ln p_C)`. The bounds are the
/// empirical `(1 − level)/2` and `(1 + level)/2` quantiles, interpolated
/// linearly between order statistics (Hyndman–Fan type 7, as NumPy).
///
/// `None` when `x > n` in an arm, the prior is not positive and finite,
/// `level ∉ (0, 1)`, `draws` is 0 or above [`MAX_DRAWS`], or a bound is not
/// finite.
#[allow(clippy::too_many_arguments)]
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
    let mut sampler = Sampler {
        rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        spare: None,
    };
    let shapes = [c.a, c.b, t.a, t.b];
    let mut lifts: Vec<f64> = if shapes.iter().all(|&s| s >= 1.0) {
        // Direct ratios: no draw can underflow with shapes ≥ 1.
        let [gca, gcb, gta, gtb] = shapes.map(GammaShape::new);
        (0..draws)
            .map(|_| {
                let (a, b) = (sampler.gamma(gca), sampler.gamma(gcb));
                let p_c = a / (a + b);
                let (a, b) = (sampler.gamma(gta), sampler.gamma(gtb));
                let p_t = a / (a + b);
                p_t / p_c - 1.0
            })
            .collect()
    } else {
        (0..draws)
            .map(|_| {
                let ln_c = sampler.ln_beta(c);
                let ln_t = sampler.ln_beta(t);
                (ln_t - ln_c).exp_m1()
            })
            .collect()
    };
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

/// Marsaglia–Tsang constants `d = shape − ⅓`, `c = 1/√(9d)` for a shape ≥ 1.
#[derive(Clone, Copy)]
struct GammaShape {
    d: f64,
    c: f64,
}

impl GammaShape {
    fn new(shape: f64) -> GammaShape {
        let d = shape - 1.0 / 3.0;
        GammaShape {
            d,
            c: 1.0 / (9.0 * d).sqrt(),
        }
    }
}

/// The Monte Carlo draws of [`relative_lift_interval`].
struct Sampler {
    rng: Xoshiro256PlusPlus,
    /// The second normal of the last polar-method pair.
    spare: Option<f64>,
}

impl Sampler {
    /// A uniform draw in `(0, 1]`.
    fn uniform(&mut self) -> f64 {
        1.0 - self.rng.random::<f64>()
    }

    /// A standard normal draw (Marsaglia's polar method; both values of a
    /// pair are used).
    fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.rng.random::<f64>() - 1.0;
            let v = 2.0 * self.rng.random::<f64>() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let scale = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * scale);
                return u * scale;
            }
        }
    }

    /// `G ~ Gamma(shape ≥ 1, 1)` by Marsaglia–Tsang with its squeeze.
    fn gamma(&mut self, g: GammaShape) -> f64 {
        loop {
            let z = self.normal();
            let v = 1.0 + g.c * z;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            let z2 = z * z;
            if u < 1.0 - 0.0331 * z2 * z2 || u.ln() < 0.5 * z2 + g.d * (1.0 - v + v.ln()) {
                return g.d * v;
            }
        }
    }

    /// `ln G`, `G ~ Gamma(shape, 1)`, any shape > 0
    /// (`G_a = G_{a+1} U^{1/a}` below 1, in logarithms so it cannot underflow).
    fn ln_gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let boost = self.uniform().ln() / shape;
            return self.gamma(GammaShape::new(shape + 1.0)).ln() + boost;
        }
        self.gamma(GammaShape::new(shape)).ln()
    }

    /// `ln X`, `X ~ Beta(a, b)`, as `ln G_a − ln(G_a + G_b)`.
    fn ln_beta(&mut self, dist: Beta) -> f64 {
        let ga = self.ln_gamma(dist.a);
        let gb = self.ln_gamma(dist.b);
        let m = ga.max(gb);
        ga - (m + ((ga - m).exp() + (gb - m).exp()).ln())
    }
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
        assert!((r.expected_loss_t - 1.0 / 6.0).abs() < 1e-15);
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
    fn huge_arms_switch_to_the_normal_approximation() {
        let (x_c, n_c, x_t, n_t) = (500_000_000, 1_000_000_000, 500_030_000, 1_000_000_000);
        let approx = bb(x_c, n_c, x_t, n_t, (1.0, 1.0));
        let exact = beta_binomial_exact(x_c, n_c, x_t, n_t, (1.0, 1.0)).expect("valid");
        assert!((approx.prob_t_beats_c - exact.prob_t_beats_c).abs() < 1e-6);
        assert!((approx.expected_loss_c / exact.expected_loss_c - 1.0).abs() < 1e-5);
        // A billion units but rare conversions stay exact.
        let rare = bb(3, 1_000_000_000, 9, 900_000_000, (1.0, 1.0));
        assert!(rare.prob_t_beats_c > 0.9 && rare.prob_t_beats_c < 1.0);
    }

    #[test]
    fn normal_approx_degenerate_and_tails() {
        let r = normal_approx(1.0, 0.0, 1.5, 0.0).expect("finite");
        assert_eq!(
            (r.prob_t_beats_c, r.expected_loss_t, r.expected_loss_c),
            (1.0, 0.0, 0.5)
        );
        let r = normal_approx(1.0, 0.0, 1.0, 0.0).expect("finite");
        assert_eq!(r.prob_t_beats_c, 0.5);
        let r = normal_approx(0.0, 1.0, 0.0, 0.0).expect("finite");
        assert!((r.expected_loss_t - 1.0 / (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-15);
        let r = normal_approx(0.0, 0.01, 1.0, 0.01).expect("finite");
        assert!(r.prob_t_beats_c == 1.0 && r.expected_loss_t >= 0.0 && r.expected_loss_c > 0.99);
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

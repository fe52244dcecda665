//! Draws from a Beta distribution for the Monte Carlo credible interval
//! (`bayes::relative_lift_interval`): Cheng's algorithms BB (both shapes
//! above 1) and BC (otherwise); R. C. H. Cheng, "Generating beta variates
//! with nonintegral shape parameters", *Communications of the ACM* 21(4),
//! 317–322 (1978).
//!
//! The draws are those of `rand_distr::Beta` (0.6) bit for bit, from the
//! same generator state and with the same `ln` and `exp`: the same uniform
//! draws (`Open01`) and the same operations in the same order (`ln 4` and
//! `ln 5` are computed once per distribution instead of on every trial). A
//! test holds the two samplers to the same bits over many shapes and seeds.
//!
//! Why not `rand_distr` itself: it takes its `ln` and `exp` from
//! `num-traits`, which uses the C library's when any crate of the build
//! enables its `std` feature and `libm`'s otherwise. The release binary got
//! `libm`, while `cargo test` (whose dev-dependencies enable `std`) got the C
//! library's, and the two differ in the last bit now and then (side by
//! side in one test build, the 19th draw of `Beta(0.01, 0.01)` differed): the
//! golden memos did not pin the draws that `xos` made. Here the functions
//! are named: every build, on every machine, draws with `libm` (pure Rust,
//! the same bits everywhere), as the release binary did. Speed is the same
//! (a 1,000-spec fleet run: 166–175 ms of user CPU with either sampler, and
//! byte-identical memos).

use std::cmp::Ordering::Less;
use std::marker::PhantomData;

use rand::distr::Open01;
use rand::{Rng, RngExt};

/// The logarithm and exponential a sampler computes with.
pub trait Elementary {
    /// The natural logarithm.
    fn ln(x: f64) -> f64;
    /// `e^x`.
    fn exp(x: f64) -> f64;
}

/// The `libm` crate's functions: those of every build of xos.
#[derive(Clone, Copy, Debug)]
pub struct Libm;

impl Elementary for Libm {
    #[inline]
    fn ln(x: f64) -> f64 {
        // `libm::log` itself, inlined where the argument allows.
        match ln_lane(x) {
            (ln, true) => ln,
            (_, false) => libm::log(x),
        }
    }
    fn exp(x: f64) -> f64 {
        libm::exp(x)
    }
}

/// `Beta(α, β)` ready to draw from: Cheng's constants for the algorithm its
/// shapes call for.
#[derive(Clone, Copy, Debug)]
pub struct BetaDraws<M: Elementary = Libm> {
    /// The smaller shape for BB, the larger for BC (Cheng's `a`).
    a: f64,
    /// The other shape (Cheng's `b`).
    b: f64,
    /// Whether `a` is the distribution's second shape `β`: the draw is then
    /// `1 − W/(b + W)`, computed as `b/(b + W)`.
    switched: bool,
    algorithm: Algorithm,
    /// `ln 4` and `ln 5`, the constants of the tests.
    ln_4: f64,
    ln_5: f64,
    math: PhantomData<M>,
}

/// Cheng's constants of BB: `α`, `β`, `γ`.
#[derive(Clone, Copy, Debug)]
struct Bb {
    alpha: f64,
    beta: f64,
    gamma: f64,
}

#[derive(Clone, Copy, Debug)]
enum Algorithm {
    /// BB, `min(α, β) > 1`.
    Bb(Bb),
    /// BC, `min(α, β) ≤ 1`: Cheng's `α`, `β`, `κ₁`, `κ₂`.
    Bc {
        alpha: f64,
        beta: f64,
        kappa1: f64,
        kappa2: f64,
    },
}

impl<M: Elementary> BetaDraws<M> {
    /// `Beta(alpha, beta)`; `None` unless both shapes are positive (NaN
    /// included).
    pub fn new(alpha: f64, beta: f64) -> Option<BetaDraws<M>> {
        if !(alpha > 0.0 && beta > 0.0) {
            return None;
        }
        let (a, b, switched) = if alpha < beta {
            (alpha, beta, false)
        } else {
            (beta, alpha, true)
        };
        let (a, b, switched, algorithm) = if a > 1.0 {
            let sum = a + b;
            let spread = ((sum - 2.0) / (2.0 * a * b - sum)).sqrt();
            let algorithm = Algorithm::Bb(Bb {
                alpha: sum,
                beta: spread,
                gamma: a + 1.0 / spread,
            });
            (a, b, switched, algorithm)
        } else {
            // BC takes the larger shape as `a`.
            let (a, b, switched) = (b, a, !switched);
            let delta = 1.0 + a - b;
            let inverse_b = 1.0 / b;
            let algorithm = Algorithm::Bc {
                alpha: a + b,
                beta: inverse_b,
                kappa1: delta * (1. / 18. / 4. + 3. / 18. / 4. * b) / (a * inverse_b - 14. / 18.),
                kappa2: 0.25 + (0.5 + 0.25 / delta) * b,
            };
            (a, b, switched, algorithm)
        };
        Some(BetaDraws {
            a,
            b,
            switched,
            algorithm,
            ln_4: M::ln(4.0),
            ln_5: M::ln(5.0),
            math: PhantomData,
        })
    }

    /// One draw, in `[0, 1]`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let (a, b) = (self.a, self.b);
        let w = match self.algorithm {
            Algorithm::Bb(bb) => loop {
                let u1: f64 = rng.sample(Open01);
                let u2: f64 = rng.sample(Open01);
                if let Some(w) = self.bb_trial(bb, u1, u2) {
                    break w;
                }
            },
            Algorithm::Bc {
                alpha,
                beta,
                kappa1,
                kappa2,
            } => loop {
                let u1: f64 = rng.sample(Open01);
                let u2: f64 = rng.sample(Open01);
                let z;
                if u1 < 0.5 {
                    let y = u1 * u2;
                    z = u1 * y;
                    if 0.25 * u2 + z - y >= kappa1 {
                        continue;
                    }
                } else {
                    z = u1 * u1 * u2;
                    if z <= 0.25 {
                        let v = beta * M::ln(u1 / (1.0 - u1));
                        break a * M::exp(v);
                    }
                    if z >= kappa2 {
                        continue;
                    }
                }
                let v = beta * M::ln(u1 / (1.0 - u1));
                let w = a * M::exp(v);
                let bound = alpha * (M::ln(alpha / (b + w)) + v) - self.ln_4;
                if bound.partial_cmp(&M::ln(z)) != Some(Less) {
                    break w;
                }
            },
        };
        self.finish(w)
    }

    /// One BB trial from the uniforms `u1`, `u2`: its `w` if accepted.
    fn bb_trial(&self, bb: Bb, u1: f64, u2: f64) -> Option<f64> {
        let v = bb.beta * M::ln(u1 / (1.0 - u1));
        let w = self.a * M::exp(v);
        let z = u1 * u1 * u2;
        self.bb_accepts(bb, v, w, z, || M::ln(z)).then_some(w)
    }

    /// Whether BB accepts the trial with `v = β·ln(u₁/(1 − u₁))`,
    /// `w = a·e^v` and `z = u₁²u₂`: Cheng's quick test, then the exact one
    /// (with `ln_z`, `ln z`; about half of all trials get there).
    #[inline(always)]
    fn bb_accepts(&self, bb: Bb, v: f64, w: f64, z: f64, ln_z: impl FnOnce() -> f64) -> bool {
        let r = bb.gamma * v - self.ln_4;
        let s = self.a + r - w;
        if s + 1.0 + self.ln_5 >= 5.0 * z {
            return true;
        }
        let t = ln_z();
        if s >= t {
            return true;
        }
        // Accepted unless below `t`; a NaN accepts, as in `rand_distr`.
        (r + bb.alpha * M::ln(bb.alpha / (self.b + w))).partial_cmp(&t) != Some(Less)
    }

    /// The draw from an accepted `w`.
    fn finish(&self, w: f64) -> f64 {
        let b = self.b;
        if self.switched {
            b / (b + w)
        } else if w == f64::INFINITY {
            // For a finite `b` and a huge `w`.
            1.0
        } else {
            w / (b + w)
        }
    }
}

/// Trials computed together by [`BetaDraws::sample_pairs`]. More lanes run
/// side by side, and waste more after a rejection (BB rejects 11–15% of
/// trials at the shapes of a credible interval). Measured with `cargo bench
/// --bench stats -- relative_lift_interval/100k_draws` (`Beta(1201, 8801)`
/// against `Beta(1321, 8731)`): 11.7 ms with 2 lanes, 8.7 with 4, 9.6 with 6,
/// 9.7 with 8; 14.4 ms one draw at a time.
const LANES: usize = 4;

impl BetaDraws<Libm> {
    /// `pairs` pairs `(p_C, p_T)`, each `p_C` from `control` and then `p_T`
    /// from `treatment`, handed to `each` in order: bit for bit the pairs of
    /// `(control.sample(rng), treatment.sample(rng))` called `pairs` times.
    /// `rng` may have been advanced further when this returns.
    ///
    /// Why: with 100,000 pairs a credible interval spent about 14 ms in
    /// these draws, a third of a 1,000-spec fleet run's CPU (six specs with
    /// fewer than 20 guardrail events). When both distributions use BB (both
    /// shapes above 1), trials are computed four (`LANES`) at a time, taking
    /// turns between the two distributions as if every trial were accepted:
    /// `ln` and `exp` are `ln_lane` and `exp_lane`, `libm`'s own
    /// operations without its branches, so the lanes run side by side. A
    /// rejected trial means the next one belongs to the same distribution:
    /// the lanes after it are computed again, from the same uniforms, with
    /// the turns corrected. Lanes outside the range those two functions
    /// cover are computed by `libm` itself. BC (a shape of at most 1) draws
    /// one at a time, as [`BetaDraws::sample`].
    pub fn sample_pairs<R: Rng + ?Sized>(
        control: &BetaDraws<Libm>,
        treatment: &BetaDraws<Libm>,
        rng: &mut R,
        pairs: u64,
        mut each: impl FnMut(f64, f64),
    ) {
        let (Algorithm::Bb(bb_c), Algorithm::Bb(bb_t)) = (control.algorithm, treatment.algorithm)
        else {
            for _ in 0..pairs {
                let p_c = control.sample(rng);
                let p_t = treatment.sample(rng);
                each(p_c, p_t);
            }
            return;
        };
        let turns = [(control, bb_c), (treatment, bb_t)];
        // The lanes' shapes when lane 0 is the control's turn (`[0]`) or the
        // treatment's (`[1]`); lanes then alternate.
        let lane_shapes = |first: usize| {
            let mut a = [0.0; LANES];
            let mut beta = [0.0; LANES];
            for (j, (a, beta)) in a.iter_mut().zip(&mut beta).enumerate() {
                let (draws, bb) = turns[(first + j) % 2];
                (*a, *beta) = (draws.a, bb.beta);
            }
            (a, beta)
        };
        let shapes = [lane_shapes(0), lane_shapes(1)];
        let mut uniforms = [[0.0_f64; 2]; LANES];
        let mut have = 0;
        let mut turn = 0;
        let mut p_c = 0.0;
        let mut done = 0;
        while done < pairs {
            for u in &mut uniforms[have..] {
                let u1: f64 = rng.sample(Open01);
                let u2: f64 = rng.sample(Open01);
                *u = [u1, u2];
            }
            let (a, beta) = &shapes[turn];
            let lanes = bb_lanes(&uniforms, a, beta);
            let mut used = LANES;
            for (j, &[u1, u2]) in uniforms.iter().enumerate() {
                let (draws, bb) = turns[turn];
                let accepted = match lanes[j] {
                    Some((v, w, ln_z)) => draws
                        .bb_accepts(bb, v, w, u1 * u1 * u2, || ln_z)
                        .then_some(w),
                    None => draws.bb_trial(bb, u1, u2),
                };
                let Some(w) = accepted else {
                    // The lanes after this one were computed for the other
                    // distribution.
                    used = j + 1;
                    break;
                };
                let p = draws.finish(w);
                if turn == 0 {
                    p_c = p;
                    turn = 1;
                } else {
                    each(p_c, p);
                    turn = 0;
                    done += 1;
                    if done == pairs {
                        return;
                    }
                }
            }
            uniforms.copy_within(used.., 0);
            have = LANES - used;
        }
    }
}

/// BB's `v = β·ln(u₁/(1 − u₁))`, `w = a·e^v` and `ln z` (`z = u₁²u₂`) for
/// each lane's uniforms and shapes, or `None` where [`ln_lane`] or
/// [`exp_lane`] does not cover an argument. Without branches, so that the
/// lanes are computed side by side.
fn bb_lanes(
    uniforms: &[[f64; 2]; LANES],
    a: &[f64; LANES],
    beta: &[f64; LANES],
) -> [Option<(f64, f64, f64)>; LANES] {
    let mut v = [0.0; LANES];
    let mut w = [0.0; LANES];
    let mut ln_z = [0.0; LANES];
    let mut covered = [false; LANES];
    for j in 0..LANES {
        let [u1, u2] = uniforms[j];
        let (ln, ln_covered) = ln_lane(u1 / (1.0 - u1));
        v[j] = beta[j] * ln;
        let (exp, exp_covered) = exp_lane(v[j]);
        w[j] = a[j] * exp;
        let (ln, z_covered) = ln_lane(u1 * u1 * u2);
        ln_z[j] = ln;
        covered[j] = ln_covered & exp_covered & z_covered;
    }
    std::array::from_fn(|j| covered[j].then_some((v[j], w[j], ln_z[j])))
}

/// `libm::log(x)` for a positive, normal, finite `x`, with whether `x` is
/// one (otherwise the value is meaningless).
///
/// The operations of `libm`'s `log` (musl's port of FreeBSD's `e_log.c`:
/// `x = 2^k·(1 + f)` with `1 + f` in `[√2/2, √2)`, then `s = f/(2 + f)` and
/// a degree-14 polynomial in `s`) in the same order, so the same bits,
/// without its branches for zero, negative, subnormal, infinite and NaN
/// arguments. A test holds it to `libm::log` bit for bit.
#[inline(always)]
fn ln_lane(x: f64) -> (f64, bool) {
    const LG1: f64 = f64::from_bits(0x3fe5_5555_5555_5593);
    const LG2: f64 = f64::from_bits(0x3fd9_9999_9997_fa04);
    const LG3: f64 = f64::from_bits(0x3fd2_4924_9422_9359);
    const LG4: f64 = f64::from_bits(0x3fcc_71c5_1d8e_78af);
    const LG5: f64 = f64::from_bits(0x3fc7_4664_96cb_03de);
    const LG6: f64 = f64::from_bits(0x3fc3_9a09_d078_c69f);
    const LG7: f64 = f64::from_bits(0x3fc2_f112_df3e_5244);
    let covered = (f64::MIN_POSITIVE..=f64::MAX).contains(&x);
    let bits = x.to_bits();
    // The high word, moved so that its exponent field is that of the
    // reduced argument (no carry out of 32 bits for a positive finite `x`).
    let high = ((bits >> 32) & 0x7fff_ffff) + (0x3ff0_0000 - 0x3fe6_a09e);
    // libm's `k as f64`, the biased exponent minus 1023, computed as
    // `(2^52 + e) − (2^52 + 1023)` (exact) so that it stays in vector
    // registers (SSE2 has no conversion from 64-bit integers).
    let dk = f64::from_bits(0x4330_0000_0000_0000 | (high >> 20)) - (TWO_52 + 1023.0);
    let high = (high & 0x000f_ffff) + 0x3fe6_a09e;
    let x = f64::from_bits((high << 32) | (bits & 0xffff_ffff));
    let f = x - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    (
        s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI,
        covered,
    )
}

/// `ln 2` as libm splits it: `LN2_HI` has 32 significant bits, so
/// `k·LN2_HI` is exact for `|k| < 2^20`, and `LN2_HI + LN2_LO` is `ln 2` to
/// about 2^-83. The constants of both functions are written as their bits,
/// which FreeBSD's sources list next to each.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// 2^52: from it up, every double is an integer.
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// `t` rounded toward zero, for `|t| < 2^51` (libm's `as i32` on the values
/// [`exp_lane`] covers): `t` rounded to nearest by adding and subtracting
/// `1.5·2^52`, then moved one toward zero if that went past `t`. Not
/// `f64::trunc`, which is a call without SSE4.1, nor `as i32`, whose
/// saturation keeps the lanes apart.
#[inline(always)]
fn truncate(t: f64) -> f64 {
    let nearest = (t + 1.5 * TWO_52) - 1.5 * TWO_52;
    if nearest > t && t > 0.0 {
        nearest - 1.0
    } else if nearest < t && t < 0.0 {
        nearest + 1.0
    } else {
        nearest
    }
}

/// `libm::exp(x)` for `|x| < 700`, with whether `x` is in that range
/// (otherwise the value is meaningless).
///
/// The operations of `libm`'s `exp` (musl's port of FreeBSD's `e_exp.c`:
/// `x = k·ln 2 + r` with `|r| ≤ ln 2/2`, a rational approximation of
/// `e^r`, then `2^k`) in the same order, so the same bits: its three ways
/// of choosing `k` become selects, and its `scalbn(y, k)` one product by
/// `2^k`, exact because `e^x` is normal for `|x| < 700`. The range leaves
/// out only overflow, underflow, infinities and NaN. A test holds it to
/// `libm::exp` bit for bit.
#[inline(always)]
fn exp_lane(x: f64) -> (f64, bool) {
    const INVLN2: f64 = f64::from_bits(0x3ff7_1547_652b_82fe);
    const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e);
    const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93);
    const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c);
    const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1);
    const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0);
    // libm's thresholds on the high word of |x|, as the smallest |x| above
    // each: `hx > 0x3fd62e42` (|x| > ln 2/2), `hx >= 0x3ff0a2b2`
    // (|x| ≥ 1.5 ln 2) and `hx > 0x3e300000` (|x| > 2^-28).
    const HALF_LN2: f64 = f64::from_bits(0x3fd6_2e43_0000_0000);
    const THREE_HALVES_LN2: f64 = f64::from_bits(0x3ff0_a2b2_0000_0000);
    const TINY: f64 = f64::from_bits(0x3e30_0001_0000_0000);
    let magnitude = x.abs();
    let covered = magnitude < 700.0;
    let sign = if x.is_sign_negative() { -1.0 } else { 1.0 };
    let k = if magnitude >= THREE_HALVES_LN2 {
        truncate(INVLN2 * x + 0.5 * sign)
    } else if magnitude >= HALF_LN2 {
        sign
    } else {
        0.0
    };
    // With k = 0 these are libm's `hi = x` and `lo = 0`.
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // 2^k (k is within ±1011 when covered): the low bits of `k + 1.5·2^52`
    // are `k`, and the shift drops the rest.
    let scale = f64::from_bits((k + 1.5 * TWO_52).to_bits().wrapping_add(1023) << 52);
    let value = if magnitude >= TINY {
        y * scale
    } else {
        1.0 + x
    };
    (value, covered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand_distr::Distribution;

    /// What `rand_distr` computes with in this build: `cargo test` enables
    /// `num-traits`' `std` feature (a dev-dependency asks for it), so the
    /// standard library's functions.
    struct Std;

    impl Elementary for Std {
        fn ln(x: f64) -> f64 {
            x.ln()
        }
        fn exp(x: f64) -> f64 {
            x.exp()
        }
    }

    /// The draws of `rand_distr::Beta`, bit for bit, from the same seeds,
    /// given the same `ln` and `exp`: on both algorithms, both orders of the
    /// shapes, shapes near 1 and far from it, and the credible interval's
    /// posteriors.
    #[test]
    fn draws_are_rand_distrs_bit_for_bit() {
        let shapes = [
            0.01, 0.3, 0.5, 0.999, 1.0, 1.0001, 1.5, 2.0, 3.7, 14.0, 17.0, 19.99, 20.0, 150.5, 1e4,
            2.5e6,
        ];
        let draws = if cfg!(debug_assertions) {
            2_000
        } else {
            20_000
        };
        for (i, &alpha) in shapes.iter().enumerate() {
            for (j, &beta) in shapes.iter().enumerate() {
                let seed = (i * 31 + j) as u64;
                let ours = BetaDraws::<Std>::new(alpha, beta).expect("positive shapes");
                let theirs = rand_distr::Beta::new(alpha, beta).expect("positive shapes");
                let mut rng_ours = Xoshiro256PlusPlus::seed_from_u64(seed);
                let mut rng_theirs = Xoshiro256PlusPlus::seed_from_u64(seed);
                for k in 0..draws {
                    let (x, y): (f64, f64) =
                        (ours.sample(&mut rng_ours), theirs.sample(&mut rng_theirs));
                    assert_eq!(
                        x.to_bits(),
                        y.to_bits(),
                        "Beta({alpha}, {beta}), draw {k}: {x} vs {y}"
                    );
                }
            }
        }
    }

    /// Doubles to try a function on: random bit patterns (every exponent),
    /// random values in `range`, and each of `edges` with its 64 neighbours
    /// on either side.
    fn arguments(seed: u64, range: std::ops::Range<f64>, edges: &[f64]) -> Vec<f64> {
        let count = if cfg!(debug_assertions) {
            200_000
        } else {
            4_000_000
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut xs: Vec<f64> = (0..count)
            .map(|i| {
                if i % 2 == 0 {
                    f64::from_bits(rng.next_u64())
                } else {
                    rng.random_range(range.clone())
                }
            })
            .collect();
        for &edge in edges {
            for x in [edge, -edge] {
                let mut up = x;
                let mut down = x;
                for _ in 0..64 {
                    xs.extend([up, down]);
                    (up, down) = (up.next_up(), down.next_down());
                }
            }
        }
        xs.extend([0.0, -0.0, f64::INFINITY, -f64::INFINITY, f64::NAN]);
        xs
    }

    /// `ln_lane` is `libm::log` bit for bit wherever it says it covers the
    /// argument, and covers every positive normal double.
    #[test]
    fn ln_lane_is_libms_log() {
        let mut edges = vec![1.0, f64::MIN_POSITIVE, f64::MAX, std::f64::consts::SQRT_2];
        edges.extend((-1022..1024).map(|e| 2f64.powi(e)));
        edges.extend((-1022..1024).map(|e| 2f64.powi(e) * std::f64::consts::FRAC_1_SQRT_2));
        for x in arguments(1, 1e-20..1e20, &edges) {
            let (ln, covered) = ln_lane(x);
            assert_eq!(
                covered,
                x.is_normal() && x > 0.0,
                "ln_lane({x:e}) says covered = {covered}"
            );
            if covered {
                assert_eq!(ln.to_bits(), libm::log(x).to_bits(), "ln({x:e})");
            }
            assert_eq!(
                Libm::ln(x).to_bits(),
                libm::log(x).to_bits(),
                "Libm::ln({x:e})"
            );
        }
    }

    /// `exp_lane` is `libm::exp` bit for bit wherever it says it covers the
    /// argument, and covers every `|x| < 700`: each of libm's ways of
    /// choosing `k` is tried on both sides of its threshold.
    #[test]
    fn exp_lane_is_libms_exp() {
        let ln2 = std::f64::consts::LN_2;
        let mut edges = vec![
            f64::from_bits(0x3fd6_2e43_0000_0000),
            f64::from_bits(0x3ff0_a2b2_0000_0000),
            f64::from_bits(0x3e30_0001_0000_0000),
            0.5 * ln2,
            1.5 * ln2,
            2f64.powi(-28),
            700.0,
            f64::MIN_POSITIVE,
        ];
        edges.extend((-1011..=1011).map(|k| f64::from(k) * ln2));
        edges.extend((-1011..=1011).map(|k| (f64::from(k) + 0.5) * ln2));
        for x in arguments(2, -700.0..700.0, &edges) {
            let (exp, covered) = exp_lane(x);
            assert_eq!(
                covered,
                x.abs() < 700.0,
                "exp_lane({x:e}) says covered = {covered}"
            );
            if covered {
                assert_eq!(exp.to_bits(), libm::exp(x).to_bits(), "exp({x:e})");
            }
        }
    }

    /// `truncate` is `f64::trunc` below 2^51.
    #[test]
    fn truncate_rounds_toward_zero() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut ts: Vec<f64> = (0..100_000).map(|_| rng.random_range(-1e4..1e4)).collect();
        for k in -2000..=2000 {
            let k = f64::from(k);
            ts.extend([k, k.next_up(), k.next_down(), k + 0.5, k - 0.5]);
        }
        ts.extend([
            2f64.powi(51).next_down(),
            -(2f64.powi(51).next_down()),
            0.0,
            -0.0,
        ]);
        for t in ts {
            assert_eq!(truncate(t), t.trunc(), "truncate({t:e})");
        }
    }

    /// `sample_pairs` hands over exactly the pairs of `control.sample` then
    /// `treatment.sample` on one generator: both algorithms, either order,
    /// shapes near 1, rare events, counts that end inside a batch of lanes.
    #[test]
    fn sample_pairs_are_the_draws_in_turn() {
        let shapes = [
            (0.5, 1e4),
            (1.0, 3.0),
            (1.0001, 1.0001),
            (1.5, 100.0),
            (4.5, 2_000.0),
            (9.5, 4_990.5),
            (1_201.0, 8_801.0),
            (8_801.0, 1_201.0),
            (2.5e6, 7.5e6),
            (0.01, 0.01),
        ];
        let pairs: u64 = if cfg!(debug_assertions) {
            3_001
        } else {
            50_001
        };
        for (i, &(a_c, b_c)) in shapes.iter().enumerate() {
            for (j, &(a_t, b_t)) in shapes.iter().enumerate() {
                let control = BetaDraws::<Libm>::new(a_c, b_c).expect("positive shapes");
                let treatment = BetaDraws::<Libm>::new(a_t, b_t).expect("positive shapes");
                let seed = (i * 17 + j) as u64;
                let mut rng_one = Xoshiro256PlusPlus::seed_from_u64(seed);
                let mut rng_pairs = Xoshiro256PlusPlus::seed_from_u64(seed);
                let mut k = 0;
                BetaDraws::sample_pairs(&control, &treatment, &mut rng_pairs, pairs, |p_c, p_t| {
                    let (q_c, q_t) = (control.sample(&mut rng_one), treatment.sample(&mut rng_one));
                    assert_eq!(
                        (p_c.to_bits(), p_t.to_bits()),
                        (q_c.to_bits(), q_t.to_bits()),
                        "Beta({a_c}, {b_c}) and Beta({a_t}, {b_t}), pair {k}"
                    );
                    k += 1;
                });
                assert_eq!(k, pairs);
            }
        }
    }

    #[test]
    fn shapes_must_be_positive() {
        for (a, b) in [
            (0.0, 1.0),
            (1.0, 0.0),
            (-1.0, 2.0),
            (f64::NAN, 1.0),
            (1.0, f64::NAN),
        ] {
            assert!(BetaDraws::<Libm>::new(a, b).is_none(), "Beta({a}, {b})");
        }
    }
}

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
    fn ln(x: f64) -> f64 {
        libm::log(x)
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

#[derive(Clone, Copy, Debug)]
enum Algorithm {
    /// BB, `min(α, β) > 1`: Cheng's `α`, `β`, `γ`.
    Bb { alpha: f64, beta: f64, gamma: f64 },
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
            let algorithm = Algorithm::Bb {
                alpha: sum,
                beta: spread,
                gamma: a + 1.0 / spread,
            };
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
            Algorithm::Bb { alpha, beta, gamma } => loop {
                let u1: f64 = rng.sample(Open01);
                let u2: f64 = rng.sample(Open01);
                let v = beta * M::ln(u1 / (1.0 - u1));
                let w = a * M::exp(v);
                let z = u1 * u1 * u2;
                let r = gamma * v - self.ln_4;
                let s = a + r - w;
                if s + 1.0 + self.ln_5 >= 5.0 * z {
                    break w;
                }
                let t = M::ln(z);
                if s >= t {
                    break w;
                }
                // Accepted unless below `t`; a NaN accepts, as in `rand_distr`.
                if (r + alpha * M::ln(alpha / (b + w))).partial_cmp(&t) != Some(Less) {
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

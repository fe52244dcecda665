//! Type-I error of "launch at the first significant look", measured.
//!
//! 20,000 seeded A/A experiments (both arms convert at 10%), each read at 10
//! looks of 1,000 more units per arm (20,000 units in all, the planned total
//! and the tuning / `max_units` of the sequential methods). At every look each
//! method decides; an experiment counts as a false positive for a method at
//! its first significant look (two-sided; "launch" counts only those whose
//! lift was positive there). Fixed-horizon peeking tests each look with the
//! unpooled Wald z-test at α.
//!
//! It takes a few seconds in release mode, minutes in debug, so it is ignored
//! by default; run it with
//! `cargo test --release --test sequential_simulation -- --ignored --nocapture`.
//! The figures are in docs/stats.md ("Sequential inference, measured").

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use xos::stats::always_valid::{self, ArmEstimate};
use xos::stats::dist::normal_sf;
use xos::stats::sequential::{Design, Spending};

const EXPERIMENTS: usize = 20_000;
const LOOKS: usize = 10;
const PER_LOOK: u64 = 1_000;
const RATE: f64 = 0.10;
const ALPHA: f64 = 0.05;
const SEED: u64 = 19;

/// Conversions among `n` Bernoulli(RATE) units.
fn conversions(rng: &mut Xoshiro256PlusPlus, n: u64) -> u64 {
    let threshold = (RATE * 2f64.powi(64)) as u64;
    (0..n).filter(|_| rng.random::<u64>() < threshold).count() as u64
}

#[derive(Default, Debug)]
struct Tally {
    significant: usize,
    launched: usize,
}

impl Tally {
    fn record(&mut self, lift: f64) {
        self.significant += 1;
        if lift > 0.0 {
            self.launched += 1;
        }
    }

    fn rate(&self) -> (f64, f64) {
        let n = EXPERIMENTS as f64;
        (self.significant as f64 / n, self.launched as f64 / n)
    }
}

#[test]
#[ignore = "a seeded simulation of 20,000 x 10 looks; run in release mode"]
fn type_one_error_of_stopping_at_the_first_significant_look() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let units: Vec<u64> = (1..=LOOKS as u64).map(|k| 2 * k * PER_LOOK).collect();
    let max_units = 2 * LOOKS as u64 * PER_LOOK;
    let obf = Design::new(ALPHA, Spending::OBrienFleming, &units, max_units).expect("design");
    let pocock = Design::new(ALPHA, Spending::Pocock, &units, max_units).expect("design");
    let tuning = max_units as f64;

    let names = [
        "fixed horizon, peeking",
        "fixed horizon, last look only",
        "always-valid",
        "group-sequential O'Brien-Fleming",
        "group-sequential Pocock",
    ];
    let mut tallies: Vec<Tally> = names.iter().map(|_| Tally::default()).collect();
    for _ in 0..EXPERIMENTS {
        let (mut n, mut x_c, mut x_t) = (0u64, 0u64, 0u64);
        let mut done = [false; 5];
        for k in 0..LOOKS {
            n += PER_LOOK;
            x_c += conversions(&mut rng, PER_LOOK);
            x_t += conversions(&mut rng, PER_LOOK);
            let c = ArmEstimate::rate(n, x_c).expect("arm");
            let t = ArmEstimate::rate(n, x_t).expect("arm");
            let lift = t.mean - c.mean;
            let se = (c.variance + t.variance).sqrt();
            let z = if se > 0.0 { lift / se } else { 0.0 };
            let fixed = se > 0.0 && 2.0 * normal_sf(z.abs()) < ALPHA;
            let av = always_valid::compare_rates(n, x_c, n, x_t, ALPHA, tuning).expect("valid");
            let crosses = |d: &Design| se > 0.0 && d.bounds[k].is_some_and(|b| z.abs() >= b);
            let decisions = [
                fixed,
                fixed && k == LOOKS - 1,
                av.p_value < ALPHA,
                crosses(&obf),
                crosses(&pocock),
            ];
            for (m, &significant) in decisions.iter().enumerate() {
                if significant && !done[m] {
                    done[m] = true;
                    tallies[m].record(lift);
                }
            }
        }
    }
    let mc_se = (ALPHA * (1.0 - ALPHA) / EXPERIMENTS as f64).sqrt();
    println!(
        "{EXPERIMENTS} A/A experiments x {LOOKS} looks, alpha {ALPHA}, seed {SEED} \
         (Monte Carlo SE at alpha: {mc_se:.4})"
    );
    println!("| method | false positives (two-sided) | false launches (positive lift) |");
    println!("| --- | --- | --- |");
    for (name, tally) in names.iter().zip(&tallies) {
        let (two_sided, launch) = tally.rate();
        println!("| {name} | {two_sided:.4} | {launch:.4} |");
    }
    let rate = |m: usize| tallies[m].rate().0;
    // The reason the sequential methods exist: peeking inflates several-fold.
    assert!(rate(0) > 3.0 * ALPHA, "peeking: {}", rate(0));
    assert!(
        (rate(1) - ALPHA).abs() < 4.0 * mc_se,
        "single look: {}",
        rate(1)
    );
    for (m, name) in names.iter().enumerate().skip(2) {
        assert!(rate(m) <= ALPHA + 0.005, "{name}: {}", rate(m));
    }
}

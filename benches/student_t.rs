//! The Student-t quantile over a grid of degrees of freedom and
//! probabilities, against its target of at most 1 µs per call at every df
//! (DESIGN.md §6).
//!
//! `cargo bench --bench student_t` times each `(df, p)` point as the fastest
//! of 30 batches of 200 calls (the minimum removes the other work of a shared
//! machine, which only ever adds time), prints the median and worst point of
//! each df, and ends with the median and the worst over the whole grid. The
//! grid covers the closed forms (df 1, 2), every half df up to 40 and df up
//! to 1e12, each at probabilities from 1e-300 (a tail quantile near 1e200) to
//! 1 − 1e-10.
//!
//! The anchor printed with it is `normal_quantile`, the closed-form-speed
//! quantile the Student-t quantile becomes as df → ∞, timed the same way in
//! the same run.

use std::hint::black_box;
use std::time::Instant;
use xos::stats::dist::{normal_quantile, student_t_quantile};

const BATCHES: usize = 30;
const CALLS: usize = 200;

/// Degrees of freedom: every half from 1 to 40 (the Welch df of small samples,
/// where the Cornish–Fisher start is weakest, and the survival function's
/// switch to its asymptotic expansion at 30), then up to 1e12.
fn dfs() -> Vec<f64> {
    let small = (2..=80).map(|k| f64::from(k) / 2.0);
    small
        .chain([50.0, 100.0, 1e3, 2e4, 1e6, 2e6, 1e9, 1e11, 1e12])
        .collect()
}

const PS: [f64; 13] = [
    1e-300,
    1e-100,
    1e-20,
    1e-10,
    1e-6,
    1e-3,
    0.005,
    0.025,
    0.05,
    0.25,
    0.5,
    0.975,
    1.0 - 1e-10,
];

/// Nanoseconds per call of `f(p)`: the fastest of `BATCHES` batches of
/// `CALLS` calls.
fn fastest_ns(p: f64, f: impl Fn(f64) -> f64) -> f64 {
    (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                black_box(f(black_box(p)));
            }
            start.elapsed().as_nanos() as f64 / CALLS as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut grid: Vec<(f64, f64, f64)> = Vec::new();
    println!("student_t_quantile, ns per call (fastest of {BATCHES} batches of {CALLS})");
    println!(
        "{:>8}  {:>8}  {:>8}  {:>10}",
        "df", "median", "worst", "worst at p"
    );
    for df in dfs() {
        let mut row: Vec<(f64, f64, f64)> = PS
            .iter()
            .map(|&p| (fastest_ns(p, |p| student_t_quantile(p, df)), df, p))
            .collect();
        row.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (worst, _, worst_p) = row[row.len() - 1];
        println!(
            "{df:>8}  {:>8.0}  {worst:>8.0}  {worst_p:>10.3e}",
            row[row.len() / 2].0
        );
        grid.extend(row);
    }
    grid.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (worst, worst_df, worst_p) = grid[grid.len() - 1];
    let normal = PS
        .iter()
        .map(|&p| fastest_ns(p, normal_quantile))
        .fold(0.0, f64::max);
    println!(
        "grid of {} points: median {:.0} ns, worst {worst:.0} ns (df {worst_df}, p {worst_p:e}); \
         target 1000 ns",
        grid.len(),
        grid[grid.len() / 2].0
    );
    println!("anchor: normal_quantile, worst over the same p: {normal:.0} ns");
}

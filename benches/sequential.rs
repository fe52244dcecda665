//! Sequential inference per evaluation: the always-valid comparison, a
//! group-sequential design on 14 observed daily looks, and its analysis
//! (repeated confidence intervals and the repeated p-value, whose root
//! finding recomputes the design at trial levels).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xos::stats::always_valid;
use xos::stats::sequential::{Design, LookEstimate, Spending, analyze};

fn bench(c: &mut Criterion) {
    let units: Vec<u64> = (1..=14u64).map(|k| k * 1_430).collect();
    let looks: Vec<LookEstimate> = (1..=14)
        .map(|k| LookEstimate {
            estimate: 0.01,
            se: 0.05 / f64::from(k).sqrt(),
        })
        .collect();
    c.bench_function("always_valid/compare_rates", |b| {
        b.iter(|| {
            always_valid::compare_rates(
                black_box(10_000),
                black_box(1_200),
                black_box(10_050),
                black_box(1_320),
                0.05,
                40_000.0,
            )
        })
    });
    for (name, spending) in [
        ("obf", Spending::OBrienFleming),
        ("pocock", Spending::Pocock),
    ] {
        c.bench_function(&format!("design/{name}_14_looks"), |b| {
            b.iter(|| Design::new(0.05, spending, black_box(&units), 20_000))
        });
        let design = Design::new(0.05, spending, &units, 20_000).expect("design");
        c.bench_function(&format!("analyze/{name}_14_looks"), |b| {
            b.iter(|| analyze(black_box(&design), black_box(&looks)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

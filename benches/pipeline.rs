//! The whole pipeline in one process: `run_once` (parse, check, read and
//! validate the CSV, evaluate, decide, build the report) and the Markdown
//! memo, over 1,000 specs: one spec after another on one core, and as `xos
//! run DIR` takes them, on every core. The target is under 50 µs per
//! experiment (80 µs with the Markdown memo).
//!
//!     cargo bench --bench pipeline

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use xos::output::{Format, render};
use xos::{LoadOptions, RunOptions, run_once};

const SPECS: usize = 1_000;

/// The allocator the `xos` binary ships with (`src/bin/xos/main.rs`), so the
/// figures are those of `xos run` and `xos serve`, not of the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 1,000 copies of the checkout example, each with its own name and data.
fn corpus(dir: &Path) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/checkout");
    let spec = std::fs::read_to_string(root.join("checkout.xos")).expect("example spec");
    let data = std::fs::read_to_string(root.join("checkout.csv")).expect("example data");
    (0..SPECS)
        .map(|i| {
            let path = dir.join(format!("exp_{i}.xos"));
            std::fs::write(
                &path,
                spec.replace("checkout_redesign", &format!("exp_{i}"))
                    .replace("checkout.csv", &format!("exp_{i}.csv")),
            )
            .expect("write spec");
            std::fs::write(dir.join(format!("exp_{i}.csv")), &data).expect("write data");
            path
        })
        .collect()
}

fn pipeline(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let specs = corpus(dir.path());
    let options = RunOptions::default();

    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.bench_function("run_once x1000", |b| {
        b.iter(|| {
            for spec in &specs {
                let outcome = run_once(spec, &options).expect("valid spec");
                std::hint::black_box(outcome.report.decision.verdict);
            }
        })
    });
    // Its stages, on the same 1,000 specs: the parse alone (text in memory),
    // then parse and check (with `xos.toml` lookup and the policy).
    let sources: Vec<_> = specs
        .iter()
        .map(|spec| xos::check::read_source(spec).expect("readable spec"))
        .collect();
    group.bench_function("parse x1000", |b| {
        b.iter(|| {
            for source in &sources {
                std::hint::black_box(xos::syntax::parse::parse(source).expect("valid spec"));
            }
        })
    });
    group.bench_function("parse + check x1000", |b| {
        b.iter(|| {
            for source in &sources {
                let checked =
                    xos::check_source(source, &LoadOptions::default()).expect("valid spec");
                std::hint::black_box(checked);
            }
        })
    });
    // The memo alone, from reports already evaluated.
    let reports: Vec<_> = specs
        .iter()
        .map(|spec| run_once(spec, &options).expect("valid spec").report)
        .collect();
    group.bench_function("markdown memo x1000", |b| {
        b.iter(|| {
            for report in &reports {
                let memo = render(report, Format::Md, None).expect("memo");
                std::hint::black_box(memo.len());
            }
        })
    });
    group.bench_function("run_once + markdown memo x1000", |b| {
        b.iter(|| {
            for spec in &specs {
                let outcome = run_once(spec, &options).expect("valid spec");
                let memo = render(&outcome.report, Format::Md, None).expect("memo");
                std::hint::black_box(memo.len());
            }
        })
    });
    // The same 1,000 specs as `xos run DIR` takes them in one process: on
    // every core through its work queue (the target for many experiments in
    // one process is this figure per experiment).
    // Each iteration is one run, with its own look-ups of folders.
    let folder_run = || RunOptions {
        folders: Some(std::sync::Arc::default()),
        ..RunOptions::default()
    };
    group.bench_function("folder on every core: run_once x1000", |b| {
        b.iter(|| {
            let options = folder_run();
            let verdicts = xos::map_on_every_core(&specs, |spec| {
                run_once(spec, &options)
                    .expect("valid spec")
                    .report
                    .decision
                    .verdict
            });
            std::hint::black_box(verdicts);
        })
    });
    group.bench_function(
        "folder on every core: run_once + markdown memo x1000",
        |b| {
            b.iter(|| {
                let options = folder_run();
                let lengths = xos::map_on_every_core(&specs, |spec| {
                    let outcome = run_once(spec, &options).expect("valid spec");
                    render(&outcome.report, Format::Md, None)
                        .expect("memo")
                        .len()
                });
                std::hint::black_box(lengths);
            })
        },
    );
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);

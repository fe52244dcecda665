//! Row-level aggregation speed: `cargo bench --bench rows`.
//!
//! Criterion times `xos::rows::load_rows` over `bench/data/rows_1m.csv` (made
//! by `bench/rows/gen.py` when missing). With `XOS_ROWS_ONCE=FILE` the
//! binary instead aggregates FILE once (on `XOS_ROWS_THREADS` threads, all
//! cores by default; with `XOS_ROWS_UNIT_ID=COLUMN` as the unit id) and
//! prints the statistics, so
//! `bench/rows/run.sh` can time it as a whole process (wall time and peak
//! memory) until `xos run` can read a spec.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{Criterion, Throughput};
use xos::data::MetricData;
use xos::plan::{
    DataSource, Direction, Metric, MetricKind, Missing, Otherwise, Plan, Policy, PolicyOrigin,
    Reason, Role, Settings, Shape, Variant, Verdict,
};
use xos::rows::{Split, load_rows, load_rows_with};

/// The benchmark's spec: `bench/rows/rows.xos`, built by hand.
fn plan(path: &Path) -> Plan {
    let metric = |name: &str, kind: MetricKind, role: Role| Metric {
        name: name.into(),
        role,
        kind,
        prefer: Direction::Higher,
        baseline: None,
        mde: None,
        sd: None,
        worsened: None,
        severe: None,
        margin: None,
    };
    Plan {
        name: "rows_bench".into(),
        title: None,
        owner: None,
        hypothesis: None,
        spec_path: PathBuf::from("bench/rows/rows.xos"),
        data: DataSource {
            path: path.to_path_buf(),
            written: path.display().to_string(),
            variant_column: "variant".into(),
            units_column: "users".into(),
            shape: Shape::Rows,
            unit_id: None,
            missing: Missing::Error,
        },
        variants: ["control", "treatment"]
            .iter()
            .map(|name| Variant {
                name: name.to_string(),
                share: 0.5,
            })
            .collect(),
        metrics: vec![
            metric(
                "conversion",
                MetricKind::Rate {
                    column: "converted".into(),
                },
                Role::Primary,
            ),
            metric(
                "revenue",
                MetricKind::Mean {
                    column: "revenue".into(),
                },
                Role::Secondary,
            ),
            metric(
                "refunds",
                MetricKind::Rate {
                    column: "guardrail_refund".into(),
                },
                Role::Guardrail,
            ),
        ],
        primary: 0,
        sample_plan: None,
        settings: Settings::default(),
        policy: Policy {
            name: "default".into(),
            origin: PolicyOrigin::BuiltIn,
            rules: Vec::new(),
            tests: Vec::new(),
            otherwise: Otherwise {
                then: Verdict::Hold,
                because: Reason { parts: Vec::new() },
            },
        },
        config: None,
        templates: None,
        output: None,
    }
}

fn once(path: &Path) -> std::process::ExitCode {
    let mut split = Split::default();
    if let Some(threads) = std::env::var("XOS_ROWS_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        split.threads = threads;
    }
    let mut plan = plan(path);
    // `XOS_ROWS_UNIT_ID=user_id` measures the assignment checks.
    plan.data.unit_id = std::env::var("XOS_ROWS_UNIT_ID").ok();
    match load_rows_with(&plan, path, split) {
        Ok(data) => {
            if let Some(a) = &data.assignment {
                println!(
                    "units {} mixed {} duplicated {}",
                    a.units, a.mixed, a.duplicated
                );
            }
            for variant in &data.variants {
                let metrics: Vec<String> = variant
                    .metrics
                    .iter()
                    .map(|m| match m {
                        MetricData::Rate { count } => count.to_string(),
                        MetricData::Mean { sum, sum_sq } => format!("{sum} {sum_sq}"),
                    })
                    .collect();
                println!("{} {} {}", variant.name, variant.units, metrics.join(" "));
            }
            std::process::ExitCode::SUCCESS
        }
        Err(diags) => {
            for diag in diags.iter() {
                eprintln!("error: {}", diag.message);
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn main() -> std::process::ExitCode {
    if let Some(path) = std::env::var_os("XOS_ROWS_ONCE") {
        return once(Path::new(&path));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/data/rows_1m.csv");
    if !path.exists() {
        let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")));
        let made = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/rows/gen.py"))
            .arg("1000000")
            .arg(&path)
            .status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("cannot generate {}", path.display());
            return std::process::ExitCode::FAILURE;
        }
    }
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let plan = plan(&path);
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("rows");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(20);
    group.bench_function("load_rows_1m", |b| {
        b.iter(|| black_box(load_rows(&plan, &path).is_ok()))
    });
    group.finish();
    criterion.final_summary();
    std::process::ExitCode::SUCCESS
}

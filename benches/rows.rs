//! Row-level aggregation speed: `cargo bench --bench rows`.
//!
//! Criterion times `xos::data::rows::load_rows` over `bench/data/rows_1m.csv` (made
//! by `bench/rows/gen.py` when missing) with the plan of
//! `bench/rows/rows.xos`. With `XOS_ROWS_ONCE=FILE` the binary instead
//! aggregates FILE once (on `XOS_ROWS_THREADS` threads, all cores by default;
//! with `XOS_ROWS_UNIT_ID=COLUMN` as the unit id) and prints the statistics:
//! `bench/rows/run.sh` times that as a whole process beside `xos run`, to
//! separate the aggregation from the rest of the pipeline;
//! `XOS_ROWS_SPEC=rows_metrics.xos` reads FILE with that spec instead.
//!
//! A second benchmark, `load_rows_1m_ratio_cuped`, adds a ratio and a CUPED
//! covariate (`bench/rows/rows_metrics.xos`) over the same rows with their
//! two extra columns (`bench/data/rows_metrics_1m.csv`, `gen.py … metrics`).
//! Throughput is in rows, so the two compare per row.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;

use criterion::{Criterion, Throughput};
use xos::LoadOptions;
use xos::data::MetricData;
use xos::data::rows::{Split, load_rows, load_rows_with};
use xos::diagnostic::SourceFile;
use xos::plan::Plan;

/// `bench/rows/SPEC`, checked, reading `data`; with
/// `XOS_ROWS_UNIT_ID=COLUMN`, the data block also declares `unit_id COLUMN`.
fn plan(spec: &str, data: &Path) -> Result<Plan, String> {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench/rows")
        .join(spec);
    let options = LoadOptions {
        data_override: Some(data.to_path_buf()),
        allow_outside: false,
        folders: None,
    };
    let mut text =
        std::fs::read_to_string(&spec).map_err(|e| format!("{}: {e}", spec.display()))?;
    if let Ok(column) = std::env::var("XOS_ROWS_UNIT_ID") {
        text = text.replace(
            "{ shape rows }",
            &format!("{{ shape rows unit_id {column} }}"),
        );
    }
    let source = SourceFile::new(&spec, text);
    let checked = xos::check_source(&source, &options).map_err(|diags| {
        let messages: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
        format!("{}: {}", spec.display(), messages.join("; "))
    })?;
    Ok(checked.plan)
}

fn once(path: &Path) -> std::process::ExitCode {
    let mut split = Split::default();
    if let Some(threads) = std::env::var("XOS_ROWS_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        split.threads = threads;
    }
    let spec = std::env::var("XOS_ROWS_SPEC").unwrap_or_else(|_| "rows.xos".to_string());
    let plan = match plan(&spec, path) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("error: {message}");
            return std::process::ExitCode::FAILURE;
        }
    };
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
                        MetricData::Ratio {
                            sum_x,
                            sum_x_sq,
                            sum_y,
                            sum_y_sq,
                            sum_xy,
                        } => format!("{sum_x} {sum_x_sq} {sum_y} {sum_y_sq} {sum_xy}"),
                        MetricData::Adjusted {
                            sum_y,
                            sum_y_sq,
                            sum_c,
                            sum_c_sq,
                            sum_yc,
                            ..
                        } => format!("{sum_y} {sum_y_sq} {sum_c} {sum_c_sq} {sum_yc}"),
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
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("rows");
    group.throughput(Throughput::Elements(1_000_000));
    group.sample_size(20);
    for (name, spec, file, extra) in [
        ("load_rows_1m", "rows.xos", "rows_1m.csv", None),
        (
            "load_rows_1m_ratio_cuped",
            "rows_metrics.xos",
            "rows_metrics_1m.csv",
            Some("metrics"),
        ),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bench/data")
            .join(file);
        if !path.exists() {
            let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")));
            let made = Command::new("python3")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/rows/gen.py"))
                .arg("1000000")
                .arg(&path)
                .args(extra)
                .status();
            if !made.is_ok_and(|s| s.success()) {
                eprintln!("cannot generate {}", path.display());
                return std::process::ExitCode::FAILURE;
            }
        }
        let plan = match plan(spec, &path) {
            Ok(plan) => plan,
            Err(message) => {
                eprintln!("error: {message}");
                return std::process::ExitCode::FAILURE;
            }
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(load_rows(&plan, &path).is_ok()))
        });
    }
    group.finish();
    criterion.final_summary();
    std::process::ExitCode::SUCCESS
}

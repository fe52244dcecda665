//! The queries of `xos sql` run for real: DuckDB (over CSV and Parquet),
//! PostgreSQL and Spark (local mode) compute the aggregated CSV from seeded
//! per-unit tables with edge cases (NULLs, a variant missing a metric,
//! duplicated units, mixed assignment, quoted names, rejected tables), and
//! its JSON report must equal the report of xos's own row-level
//! aggregation field by field (numbers within 1e-9 relative); sqlglot
//! parses the golden query of every dialect. The work is done by
//! `tests/engines/engines.py`.
//!
//! The engines are not part of a plain `cargo test`: these tests are
//! `#[ignore]`d (cargo lists them as ignored, with the reason). `.ci/run`
//! installs the engines into `target/ci-venv` (`tests/engines/setup.sh`),
//! starts a throw-away PostgreSQL cluster (`tests/engines/postgres.sh`), and
//! runs them with `cargo test --test sql_engines -- --ignored`, with
//! `XOS_ENGINE_PYTHON` naming the venv's python. Run without it, they fail
//! and say so rather than pass without testing anything.

use std::process::Command;

fn engines(engine: &str, extra: &[&str]) {
    let python = std::env::var("XOS_ENGINE_PYTHON").unwrap_or_else(|_| {
        panic!(
            "XOS_ENGINE_PYTHON must name a python with duckdb, pyspark and sqlglot: \
             `XOS_ENGINE_PYTHON=$(bash tests/engines/setup.sh)` (and, for PostgreSQL, \
             `eval \"$(tests/engines/postgres.sh start)\"`)"
        )
    });
    let manifest = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(&python)
        .arg(format!("{manifest}/tests/engines/engines.py"))
        .args(["--xos", env!("CARGO_BIN_EXE_xos"), "--engine", engine])
        .args(extra)
        .current_dir(manifest)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .unwrap_or_else(|err| panic!("cannot run {python}: {err}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{engine}: {stdout}\n{stderr}");
    assert!(stdout.contains("ok "), "{engine} checked nothing: {stdout}");
}

/// Rows of the timing case (default 10⁶; `XOS_ENGINE_TIMING_ROWS=0` skips it).
fn timing_rows() -> String {
    std::env::var("XOS_ENGINE_TIMING_ROWS").unwrap_or_else(|_| "1000000".to_string())
}

#[test]
#[ignore = "needs DuckDB: set XOS_ENGINE_PYTHON (see the module doc; .ci/run does)"]
fn duckdb_over_csv_and_parquet_matches_the_row_level_report() {
    engines("duckdb", &["--timing-rows", &timing_rows()]);
}

#[test]
#[ignore = "needs PostgreSQL and psql: PGHOST etc. from tests/engines/postgres.sh (.ci/run does)"]
fn postgres_matches_the_row_level_report() {
    engines("postgres", &["--timing-rows", &timing_rows()]);
}

#[test]
#[ignore = "needs pyspark and Java 17: set XOS_ENGINE_PYTHON (.ci/run does)"]
fn spark_local_matches_the_row_level_report() {
    engines("spark", &[]);
}

#[test]
#[ignore = "needs sqlglot: set XOS_ENGINE_PYTHON (.ci/run does)"]
fn sqlglot_parses_the_golden_query_of_every_dialect() {
    engines("sqlglot", &["--golden", "tests/snapshots"]);
}

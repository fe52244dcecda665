//! Ratio metrics and CUPED end to end: spec → data (row-level and
//! aggregated) → report. The two shapes give identical reports; every
//! reference case of `ratio.json` and `cuped.json` comes out of the JSON
//! report within its tolerance; bad aggregated sums are located, all at
//! once; a covariate without variance falls back with a health warning; the
//! plan shrinks with `cuped`.

mod common;

use std::path::{Path, PathBuf};

use common::{Rng, reference};
use serde_json::Value;
use xos::output::{Format, render};
use xos::{LoadOptions, RunOptions, run_once};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

fn report_json(spec: &Path) -> Value {
    let outcome = run_once(spec, &RunOptions::default()).unwrap_or_else(|e| {
        panic!(
            "{}: {:?}",
            spec.display(),
            e.iter().map(|d| d.message.clone()).collect::<Vec<_>>()
        )
    });
    let json = render(&outcome.report, Format::Json, None).expect("json");
    serde_json::from_str(&json).expect("valid json")
}

const ARMS: [&str; 3] = ["control", "b", "c"];

/// The metrics of both specs: a ratio primary, a mean and a rate with
/// covariates, and a second ratio sharing the numerator.
const METRICS: &str = "
    primary ctr = ratio(clicks, queries)
    metric revenue = mean(revenue) { covariate revenue_pre }
    metric revenue_per_query = ratio(revenue, queries)
    guardrail converted = rate(converted) { covariate sessions_pre  worsened 1pp }
";

/// Per arm: n, then Σ of clicks, clicks², queries, queries², clicks·queries,
/// revenue, revenue², revenue_pre, revenue_pre², revenue·revenue_pre,
/// converted, sessions_pre, sessions_pre², converted·sessions_pre,
/// revenue·queries.
type Sums = [f64; 16];

/// Rows of a synthetic experiment and the exact sums they aggregate to.
/// Values are integers or multiples of 0.25, so every sum is exact in any
/// order and the two shapes must agree to the last bit.
fn experiment(rows: usize, seed: u64) -> (String, Vec<Sums>) {
    let mut rng = Rng(seed);
    let mut text =
        String::from("user_id,variant,clicks,queries,revenue,revenue_pre,converted,sessions_pre\n");
    let mut sums = vec![[0.0; 16]; ARMS.len()];
    for user in 0..rows {
        let arm = rng.below(3) as usize;
        let activity = 1 + rng.below(6);
        let queries = rng.below(2 * activity + 1) as f64;
        let clicks = (rng.below(queries as u64 + 1) as f64 * (10.0 + arm as f64) / 12.0).floor();
        let revenue_pre = rng.below(400 * activity) as f64 * 0.25;
        let revenue = (revenue_pre + rng.below(200) as f64 * 0.25 - 20.0).max(0.0);
        let sessions_pre = (activity + rng.below(3)) as f64;
        let converted = (rng.below(100) < 10 + 3 * activity + arm as u64) as u64 as f64;
        text.push_str(&format!(
            "u{user},{},{clicks},{queries},{revenue},{revenue_pre},{converted},{sessions_pre}\n",
            ARMS[arm]
        ));
        let s = &mut sums[arm];
        for (k, v) in [
            1.0,
            clicks,
            clicks * clicks,
            queries,
            queries * queries,
            clicks * queries,
            revenue,
            revenue * revenue,
            revenue_pre,
            revenue_pre * revenue_pre,
            revenue * revenue_pre,
            converted,
            sessions_pre,
            sessions_pre * sessions_pre,
            converted * sessions_pre,
            revenue * queries,
        ]
        .into_iter()
        .enumerate()
        {
            s[k] += v;
        }
    }
    (text, sums)
}

fn aggregated_csv(sums: &[Sums]) -> String {
    let mut text = String::from(
        "variant,users,clicks_sum,clicks_sum_sq,queries_sum,queries_sum_sq,clicks_queries_sum_prod,\
         revenue_sum,revenue_sum_sq,revenue_pre_sum,revenue_pre_sum_sq,revenue_revenue_pre_sum_prod,\
         converted,sessions_pre_sum,sessions_pre_sum_sq,converted_sessions_pre_sum_prod,\
         revenue_queries_sum_prod\n",
    );
    for (arm, s) in ARMS.iter().zip(sums) {
        let cells: Vec<String> = s.iter().map(|v| format!("{v}")).collect();
        text.push_str(&format!("{arm},{}\n", cells.join(",")));
    }
    text
}

fn spec(data: &str, shape: &str) -> String {
    format!(
        "experiment ratio_cuped {{
            data \"{data}\" {{ {shape} }}
            variants {{ control 34% b 33% c 33% }}
            {METRICS}
        }}"
    )
}

#[test]
fn rows_and_aggregates_give_identical_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (rows, sums) = experiment(30_000, 16);
    write(dir.path(), "rows.csv", &rows);
    write(dir.path(), "agg.csv", &aggregated_csv(&sums));
    let from_rows = report_json(&write(
        dir.path(),
        "rows.xos",
        &spec("rows.csv", "shape rows unit_id \"user_id\""),
    ));
    let from_agg = report_json(&write(dir.path(), "agg.xos", &spec("agg.csv", "")));
    // The path differs, and only the row-level report says how its rows
    // were read (docs/report.md, `settings`).
    let strip = |mut report: Value| {
        report["settings"]["data"] = Value::Null;
        if let Some(settings) = report["settings"].as_object_mut() {
            for key in ["shape", "unit_id", "missing", "missing_zeroed"] {
                settings.remove(key);
            }
        }
        report
    };
    assert_eq!(from_rows["settings"]["shape"], "rows");
    assert_eq!(from_rows["settings"]["unit_id"], "user_id");
    let (from_rows, from_agg) = (strip(from_rows), strip(from_agg));
    assert_eq!(from_rows, from_agg);

    // And the report says what it computed.
    let metrics = from_agg["metrics"].as_array().expect("metrics");
    assert_eq!(metrics[0]["kind"], "ratio");
    assert_eq!(metrics[0]["denominator"], "queries");
    assert_eq!(metrics[2]["kind"], "ratio");
    for adjusted in [&metrics[1], &metrics[3]] {
        for comparison in adjusted["comparisons"].as_array().expect("arms") {
            let cuped = &comparison["cuped"];
            assert!(cuped["theta"].as_f64().is_some(), "{cuped}");
            assert!(cuped["variance_reduction"].as_f64().is_some(), "{cuped}");
            assert!(cuped["unadjusted"]["p_value"].as_f64().is_some(), "{cuped}");
        }
    }
    // Revenue is driven by its pre-period value: CUPED removes most of the
    // variance and narrows the interval accordingly.
    let revenue = &metrics[1]["comparisons"][0];
    let reduction = revenue["cuped"]["variance_reduction"].as_f64().expect("vr");
    assert!(reduction > 0.5, "{reduction}");
    let width = |c: &Value| c["ci_high"].as_f64().expect("hi") - c["ci_low"].as_f64().expect("lo");
    let narrowed = width(revenue) / width(&revenue["cuped"]["unadjusted"]);
    assert!(
        (narrowed - (1.0 - reduction).sqrt()).abs() < 0.05,
        "{narrowed} vs √(1 − {reduction})"
    );
    assert!(metrics[0]["comparisons"][0].get("cuped").is_none());
}

/// Runs a one-metric spec over an aggregated CSV of two rows.
fn run_aggregated(metric: &str, header: &str, rows: [String; 2], alpha: f64) -> Value {
    common::run_two_rows(
        metric,
        header,
        &rows[0],
        &rows[1],
        &format!("alpha {alpha}"),
    )
}

fn cells(arm: &Value, keys: &[&str]) -> String {
    let mut out = vec![reference::u(arm, "n").to_string()];
    out.extend(keys.iter().map(|k| format!("{:?}", reference::f(arm, k))));
    out.join(",")
}

/// The report's value under `key`, as `Some(f64)` or `None` for `null`.
fn number(value: &Value, key: &str) -> Option<f64> {
    value[key].as_f64()
}

#[test]
fn every_ratio_case_comes_out_of_the_json_report() {
    let file = reference::load("ratio");
    let mut ck = reference::Checker::new(file.tolerance);
    let keys = ["sum_x", "sum_x_sq", "sum_y", "sum_y_sq", "sum_xy"];
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let report = run_aggregated(
            "ctr = ratio(x, y)",
            "x_sum,x_sum_sq,y_sum,y_sum_sq,x_y_sum_prod",
            [cells(&i["control"], &keys), cells(&i["treatment"], &keys)],
            reference::f(i, "alpha"),
        );
        let metric = &report["metrics"][0];
        let c = &metric["comparisons"][0];
        ck.float(
            id,
            "r_c",
            number(&metric["variants"][0], "value"),
            &e["r_c"],
        );
        ck.float(
            id,
            "r_t",
            number(&metric["variants"][1], "value"),
            &e["r_t"],
        );
        for key in ["abs_lift", "rel_lift", "p_value", "ci_low", "ci_high"] {
            ck.float(id, key, number(c, key), &e[key]);
        }
        ck.float(id, "rel_ci_low", number(c, "rel_ci_low"), &e["rel_ci_low"]);
        ck.float(
            id,
            "rel_ci_high",
            number(c, "rel_ci_high"),
            &e["rel_ci_high"],
        );
    }
    ck.finish("ratio through the report");
}

#[test]
fn every_cuped_case_comes_out_of_the_json_report() {
    let file = reference::load("cuped");
    let mut ck = reference::Checker::new(file.tolerance);
    let keys = ["sum_y", "sum_y_sq", "sum_c", "sum_c_sq", "sum_yc"];
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let report = run_aggregated(
            "m = mean(y) { covariate c }",
            "y_sum,y_sum_sq,c_sum,c_sum_sq,y_c_sum_prod",
            [cells(&i["control"], &keys), cells(&i["treatment"], &keys)],
            reference::f(i, "alpha"),
        );
        let c = &report["metrics"][0]["comparisons"][0];
        for key in [
            "abs_lift",
            "rel_lift",
            "p_value",
            "ci_low",
            "ci_high",
            "rel_ci_low",
            "rel_ci_high",
        ] {
            ck.float(id, key, number(c, key), &e[key]);
        }
        ck.float(id, "theta", number(&c["cuped"], "theta"), &e["theta"]);
        ck.float(
            id,
            "variance_reduction",
            number(&c["cuped"], "variance_reduction"),
            &e["variance_reduction"],
        );
        let warned = report["health"]["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .any(|issue| {
                issue["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("no variance"))
            });
        if warned != e["theta"].is_null() {
            ck.fail(
                id,
                "a health warning exactly when the covariate has no variance",
            );
        }
    }
    ck.finish("cuped through the report");
}

/// `line: code` of every diagnostic of loading `csv` for the spec's metrics.
fn data_errors(metrics: &str, csv: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "data.csv", csv);
    let spec = write(
        dir.path(),
        "spec.xos",
        &format!(
            "experiment bad {{ data \"data.csv\" variants {{ control 50% treatment 50% }} {metrics} }}"
        ),
    );
    let checked = xos::load_plan(&spec, &LoadOptions::default()).expect("the spec checks");
    let diags = xos::data::load(&checked.plan).expect_err("bad data");
    diags
        .iter()
        .map(|d| {
            let json = d.to_json();
            format!("{}: {}: {}", json.line.unwrap_or(0), d.code, d.message)
        })
        .collect()
}

#[test]
fn missing_columns_are_named_with_the_metric_that_reads_them() {
    let errors = data_errors(
        "primary ctr = ratio(clicks, queries) metric revenue = mean(revenue) { covariate revenue_pre }",
        "variant,users,clicks_sum,clicks_sum_sq,queries_sum,queries_sum_sq,revenue_sum,revenue_sum_sq\n\
         control,10,1,1,2,4,5,25\ntreatment,10,1,1,2,4,5,25\n",
    );
    assert_eq!(
        errors,
        [
            "1: xos::data::missing_column: column `clicks_queries_sum_prod` is missing",
            "1: xos::data::missing_column: column `revenue_pre_sum` is missing",
            "1: xos::data::missing_column: column `revenue_pre_sum_sq` is missing",
            "1: xos::data::missing_column: column `revenue_revenue_pre_sum_prod` is missing",
        ]
    );
}

#[test]
fn impossible_sums_and_cross_products_are_located_all_at_once() {
    // Line 2: Σy² below (Σy)²/n for the ratio's denominator. Line 3: a
    // cross-product past Cauchy–Schwarz for the ratio (|nΣxy − ΣxΣy| = 40
    // > √(nΣx² − (Σx)²)(nΣy² − (Σy)²) = √(10·40) = 20) and for the
    // covariate, whose Σc² is also negative.
    let errors = data_errors(
        "primary ctr = ratio(clicks, queries) metric revenue = mean(revenue) { covariate revenue_pre }",
        "variant,users,clicks_sum,clicks_sum_sq,queries_sum,queries_sum_sq,clicks_queries_sum_prod,\
         revenue_sum,revenue_sum_sq,revenue_pre_sum,revenue_pre_sum_sq,revenue_revenue_pre_sum_prod\n\
         control,10,5,3.5,20,39,10,5,5,5,5,3\n\
         treatment,10,0,1,0,4,4,5,5,5,-1,1\n",
    );
    assert_eq!(
        errors,
        [
            "2: xos::data::impossible_sums: `queries_sum_sq` is smaller than (`queries_sum`)²/units for `control`",
            "3: xos::data::impossible_cross_product: `clicks_queries_sum_prod` is inconsistent with the sums of `clicks` and `queries` for `treatment`",
            "3: xos::data::negative_sum_sq: `revenue_pre_sum_sq` is negative",
        ]
    );
}

#[test]
fn a_constant_covariate_falls_back_with_a_health_warning() {
    let report = run_aggregated(
        "revenue = mean(revenue) { covariate revenue_pre }",
        "revenue_sum,revenue_sum_sq,revenue_pre_sum,revenue_pre_sum_sq,revenue_revenue_pre_sum_prod",
        [
            "1000,5000,40000,7000,49000,35000".to_string(),
            "1000,5600,48000,7000,49000,39200".to_string(),
        ],
        0.05,
    );
    let c = &report["metrics"][0]["comparisons"][0];
    assert!(c["cuped"]["theta"].is_null());
    assert_eq!(c["cuped"]["variance_reduction"], 0.0);
    for key in ["abs_lift", "ci_low", "ci_high", "p_value"] {
        assert_eq!(c[key], c["cuped"]["unadjusted"][key], "{key}");
    }
    assert_eq!(report["health"]["status"], "warning");
    let issues = report["health"]["issues"].to_string();
    assert!(
        issues.contains("covariate `revenue_pre` of `revenue` has no variance"),
        "{issues}"
    );
}

/// `xos plan --format json` of a mean primary, with and without `cuped`.
fn planned_total(cuped: &str) -> u64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = write(
        dir.path(),
        "spec.xos",
        &format!(
            "experiment planned {{
                data \"data.csv\"
                variants {{ control 50% treatment 50% }}
                primary revenue = mean(revenue) {{ sd 40 mde 2 {cuped} }}
                plan {{ daily_users 1_000 }}
            }}"
        ),
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xos"))
        .args(["plan", "--format", "json"])
        .arg(&spec)
        .output()
        .expect("run xos plan");
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    json["total"].as_u64().expect("total")
}

#[test]
fn cuped_planning_needs_fewer_units() {
    let without = planned_total("");
    let with = planned_total("covariate revenue_pre cuped 30%");
    // n = zz²·sd²·2/mde² per arm: 6280 at 80% power; 70% of it with CUPED.
    assert_eq!(without, 2 * 6280);
    assert_eq!(with, 2 * 4396);
}

#[test]
fn a_ratio_primary_is_planned_from_its_moments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = write(
        dir.path(),
        "spec.xos",
        "experiment planned {
            data \"data.csv\"
            variants { control 50% treatment 50% }
            primary ctr = ratio(clicks, queries) {
                baseline 0.3 mean_y 4 sd_x 1.6 sd_y 3.4 correlation 0.67 mde 10% relative
            }
        }",
    );
    let checked = xos::load_plan(&spec, &LoadOptions::default()).expect("checks");
    let sample = xos::sample_size::planned_sample(&checked.plan).expect("a plan");
    // σ² = (1.6² − 2·0.3·0.67·1.6·3.4 + 0.3²·3.4²)/4², n = zz²·2σ²/0.03².
    let sigma2 = (1.6f64.powi(2) - 2.0 * 0.3 * 0.67 * 1.6 * 3.4 + 0.09 * 3.4f64.powi(2)) / 16.0;
    let zz = 1.959_963_984_540_054 + 0.841_621_233_572_914_3;
    let n = (zz * zz * 2.0 * sigma2 / 0.0009).ceil() as u64;
    assert_eq!(sample.per_variant[0].1, n);
    assert_eq!(sample.total, 2 * n);
}

//! Looks from the data (`data "…" { look "date" }`): validation of the look
//! column, group-sequential inference on the observed looks, and each
//! comparison's cumulative lift per look in the report.

mod common;

use common::{stderr, stdout, xos};
use serde_json::Value;
use xos::stats::sequential::{Design, LookEstimate, Spending, analyze};

/// `xos run DIR/spec.xos --format FORMAT`.
fn run_spec_in(dir: &tempfile::TempDir, format: &str) -> std::process::Output {
    let spec = dir.path().join("spec.xos");
    xos(&["run", spec.to_str().expect("utf-8"), "--format", format])
}

fn report(spec: &str) -> Value {
    let out = xos(&["run", spec, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("JSON report")
}

#[test]
fn every_look_problem_is_reported_at_once_and_located() {
    let out = xos(&["run", "tests/fixtures/looks/daily.xos", "--format", "json"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    for expected in [
        "xos::data::bad_look",
        "`yesterday` is not a look",
        "bad_daily.csv:7:1",
        "xos::data::absent_variant",
        "variant `treatment` has no row at look `2026-11-04`",
        "xos::data::decreasing_units",
        "variant `treatment` has 3,000 units at look `2026-11-03`",
        "fewer than the 3,570",
        "`conversions` of `control` is 800 at look `2026-11-04`",
        "bad_daily.csv:6:25",
        "bad_daily.csv:5:22",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    assert!(stdout(&out).is_empty(), "no half-written report");
}

#[test]
fn daily_looks_drive_the_group_sequential_design() {
    let r = report("examples/daily_checkout/checkout.xos");
    let inference = &r["inference"];
    assert_eq!(inference["method"], "group_sequential");
    assert_eq!(inference["look"], 14);
    let max_units = inference["max_units"].as_u64().expect("max_units");
    let primary = &r["metrics"][0]["comparisons"][0];
    let looks = primary["looks"].as_array().expect("looks");
    assert_eq!(looks.len(), 14);
    assert_eq!(looks[0]["label"], "2026-11-02");
    assert_eq!(looks[13]["label"], "2026-11-15");

    // Recompute the design from the CSV's cumulative units: the report's
    // bounds are those of the observed information fractions.
    let csv = std::fs::read_to_string("examples/daily_checkout/daily.csv").expect("csv");
    let mut totals: Vec<u64> = Vec::new();
    let mut estimates = Vec::new();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    for pair in rows.chunks(2) {
        let (c, t) = (&pair[0], &pair[1]);
        let n = |r: &Vec<&str>| r[2].parse::<f64>().unwrap();
        let x = |r: &Vec<&str>| r[3].parse::<f64>().unwrap();
        totals.push((n(c) + n(t)) as u64);
        let (pc, pt) = (x(c) / n(c), x(t) / n(t));
        let se = (pc * (1.0 - pc) / n(c) + pt * (1.0 - pt) / n(t)).sqrt();
        estimates.push(LookEstimate {
            estimate: pt - pc,
            se,
        });
    }
    let design = Design::new(0.05, Spending::OBrienFleming, &totals, max_units).expect("design");
    for (k, look) in looks.iter().enumerate() {
        let z = estimates[k].estimate / estimates[k].se;
        assert!((look["z"].as_f64().unwrap() - z).abs() < 1e-9, "look {k}");
        match design.bounds[k] {
            Some(b) => assert!((look["boundary"].as_f64().unwrap() - b).abs() < 1e-9),
            None => assert!(look["boundary"].is_null()),
        }
        assert!(look["ci_low"].as_f64().unwrap() < look["abs_lift"].as_f64().unwrap());
    }
    let gs = analyze(&design, &estimates).expect("analysis");
    let crossed = gs.crossed_at.expect("the example crosses");
    assert!(crossed < 13, "crosses before the last look: {crossed}");
    assert_eq!(primary["significant"], true);
    assert!((primary["p_value"].as_f64().unwrap() - gs.p_value).abs() < 1e-9);
    assert_eq!(r["decision"]["verdict"], "launch");
    // Information stays below 1: the plan's sample is not reached yet.
    let t = inference["information"].as_f64().unwrap();
    assert!(t < 1.0 && (t - totals[13] as f64 / max_units as f64).abs() < 1e-12);
    // Every metric carries its looks, guardrails included.
    for metric in r["metrics"].as_array().unwrap() {
        assert_eq!(
            metric["comparisons"][0]["looks"].as_array().unwrap().len(),
            14
        );
    }
}

#[test]
fn without_a_look_column_there_are_no_looks_in_the_report() {
    let r = report("examples/checkout/checkout.xos");
    assert!(r["metrics"][0]["comparisons"][0].get("looks").is_none());
    assert_eq!(r["inference"]["look"], 1);
}

/// Row-level data with a look column: each look's statistics are those of
/// every row up to it, exactly what the aggregated loader reads from the
/// cumulative sums, whatever ranges and threads the file is split into.
#[test]
fn rows_with_looks_are_cumulative_by_look_value() {
    use std::fmt::Write;
    use xos::data::rows::{Split, load_rows_with};
    let dir = tempfile::tempdir().expect("tempdir");
    // Looks written out of order; day 10 sorts after day 9 (integers).
    let days = [3, 1, 10, 2, 9, 1, 3, 10, 2, 9, 1, 2];
    let mut rows = String::from("day,variant,converted,revenue\n");
    for (i, day) in days.iter().enumerate() {
        let variant = if i % 2 == 0 { "control" } else { "treatment" };
        let converted = u8::from(i % 3 == 0);
        writeln!(rows, "{day},{variant},{converted},{}.5", i * 2).unwrap();
    }
    std::fs::write(dir.path().join("rows.csv"), &rows).expect("write");
    let spec = std::fs::read_to_string("tests/fixtures/looks/rows/spec.xos").expect("spec");
    std::fs::write(dir.path().join("spec.xos"), &spec).expect("write");
    let checked = xos::check::load_plan(&dir.path().join("spec.xos"), &Default::default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let plan = &checked.plan;
    // The same spec over an aggregated export.
    let spec_agg = spec.replace("shape rows", "");
    std::fs::write(dir.path().join("agg.xos"), spec_agg).expect("write");
    let checked_agg = xos::check::load_plan(&dir.path().join("agg.xos"), &Default::default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let aggregated = &checked_agg.plan;
    let path = dir.path().join("rows.csv");
    let whole = load_rows_with(plan, &path, Split::default()).expect("data");
    let labels: Vec<&str> = whole.looks.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["1", "2", "3", "9", "10"]);
    assert_eq!(whole.looks.last().unwrap().variants, whole.variants);

    // Look k aggregated by hand: the rows with day ≤ k.
    for look in &whole.looks {
        let k: u64 = look.label.parse().unwrap();
        let mut csv = String::from("day,variant,users,converted,revenue_sum,revenue_sum_sq\n");
        for (arm, name) in ["control", "treatment"].iter().enumerate() {
            let mine: Vec<usize> = (0..days.len())
                .filter(|i| i % 2 == arm && days[*i] <= k)
                .collect();
            let converted = mine.iter().filter(|i| *i % 3 == 0).count();
            let values: Vec<f64> = mine.iter().map(|i| *i as f64 * 2.0 + 0.5).collect();
            let sum: f64 = values.iter().sum();
            let sum_sq: f64 = values.iter().map(|x| x * x).sum();
            writeln!(
                csv,
                "{k},{name},{},{converted},{sum:?},{sum_sq:?}",
                mine.len()
            )
            .unwrap();
        }
        let source = xos::diagnostic::SourceFile::new("cumulative.csv", csv);
        let expected =
            xos::data::aggregated::parse_aggregated(aggregated, &source).expect("aggregated");
        assert_eq!(look.variants, expected.variants, "look {k}");
    }
    // Split into 1-byte ranges over 3 threads: the same looks.
    for range_bytes in [1, 7, 30] {
        let split = Split {
            threads: 3,
            range_bytes,
            buffer_bytes: 16,
        };
        let parts = load_rows_with(plan, &path, split).expect("data");
        assert_eq!(parts.looks, whole.looks, "ranges of {range_bytes} bytes");
    }
    // The report carries one point per look.
    let out = run_spec_in(&dir, "json");
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(r["inference"]["look"], 5);
    assert_eq!(
        r["metrics"][1]["comparisons"][0]["looks"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn a_bad_look_in_row_level_data_is_located_with_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        "tests/fixtures/looks/rows/bad.csv",
        dir.path().join("rows.csv"),
    )
    .expect("copy");
    std::fs::copy(
        "tests/fixtures/looks/rows/spec.xos",
        dir.path().join("spec.xos"),
    )
    .expect("copy");
    let out = run_spec_in(&dir, "json");
    assert!(!out.status.success());
    let err = stderr(&out);
    for expected in [
        "xos::data::bad_look",
        "`soon` on line 4 is not a look",
        "rows.csv:4:1",
        "look `3` is an integer but look `2026-11-02` is a date",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    assert!(stdout(&out).is_empty());
}

/// `xos plan` with `sequential`: group-sequential's maximum and expected
/// sample (the inflation factor of its spending over one look a day), and
/// always-valid's units at which the MDE is detected with the plan's power.
#[test]
fn plan_reports_what_sequential_inference_costs() {
    let out = xos(&[
        "plan",
        "examples/daily_checkout/checkout.xos",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let total = plan["total"].as_f64().unwrap();
    let s = &plan["sequential"];
    assert_eq!(s["method"], "group_sequential");
    assert_eq!(s["looks"], plan["days"]);
    let factor = s["inflation"].as_f64().unwrap();
    // O'Brien–Fleming costs a few percent at most (J&T table 2.3: 1.026 at 5 looks).
    assert!(factor > 1.0 && factor < 1.1, "{factor}");
    let max = s["max_total"].as_f64().unwrap();
    assert_eq!(max, (factor * total).ceil());
    let expected = s["expected_total"].as_f64().unwrap();
    assert!(expected < total && expected > 0.5 * total, "{expected}");
    let text = stdout(&xos(&["plan", "examples/daily_checkout/checkout.xos"]));
    assert!(text.contains("inflation factor"), "{text}");

    let out = xos(&[
        "plan",
        "examples/signup_daily/signup.xos",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let s = &plan["sequential"];
    assert_eq!(s["method"], "always_valid");
    let units = s["detectable_total"].as_f64().unwrap();
    let total = plan["total"].as_f64().unwrap();
    // Valid at any look costs units: between 1.2 and 3 times the fixed plan.
    assert!(
        units > 1.2 * total && units < 3.0 * total,
        "{units} vs {total}"
    );
}

/// Group-sequential data without a look column is the first look, and the
/// memo says so; with looks, the memo shows each look against its boundary
/// (and the HTML memo draws them).
#[test]
fn the_memo_shows_the_looks_or_says_there_are_none() {
    let out = xos(&[
        "run",
        "tests/fixtures/sequential/group_sequential.xos",
        "--format",
        "md",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(md.contains("## Looks: `conversion`"), "{md}");
    assert!(
        md.contains("has no look column, so it is taken as the first look"),
        "{md}"
    );

    let out = xos(&[
        "run",
        "examples/daily_checkout/checkout.xos",
        "--format",
        "md",
    ]);
    let md = stdout(&out);
    assert!(
        md.contains("| 7 | 2026-11-08 | 24,801 | +1.10 pp |"),
        "{md}"
    );
    assert_eq!(
        md.matches("crossed: decides").count(),
        1,
        "a crossing decides once"
    );
    let out = xos(&[
        "run",
        "examples/daily_checkout/checkout.xos",
        "--format",
        "html",
    ]);
    let html = stdout(&out);
    assert!(html.contains("class=\"chart looks\""));
    assert_eq!(
        html.matches("class=\"boundary\"").count(),
        2,
        "upper and lower boundary"
    );

    // A fixed-horizon spec with looks warns that its intervals are not
    // valid at every look.
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = std::fs::read_to_string("examples/daily_checkout/checkout.xos")
        .expect("spec")
        .replace("method   group_sequential", "method always_valid")
        .replace("spending obrien_fleming", "");
    let fixed = spec.replace(
        "sequential {\n        method always_valid\n        \n    }",
        "",
    );
    assert_ne!(fixed, spec, "the sequential block was removed");
    std::fs::write(dir.path().join("spec.xos"), &fixed).expect("write");
    std::fs::copy(
        "examples/daily_checkout/daily.csv",
        dir.path().join("daily.csv"),
    )
    .expect("copy");
    let out = run_spec_in(&dir, "md");
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(md.contains("valid only at the planned sample"), "{md}");
    assert!(md.contains("rule `early_look`"), "{md}");
}

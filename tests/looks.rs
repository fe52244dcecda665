//! Looks from the data (`data "…" { look "date" }`): validation of the look
//! column, group-sequential inference on the observed looks, and each
//! comparison's cumulative lift per look in the report.

mod common;

use common::{stderr, stdout, xos};
use serde_json::Value;
use xos::stats::sequential::{Design, LookEstimate, Spending, analyze};

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

//! The numbers in the JSON report equal the independent reference vectors
//! (`tests/reference/`) for the same inputs, run end to end: spec + CSV →
//! `xos run --format json`. `rate.json` is the Wald family, so the specs set
//! `rate_test wald` (the score family, `rate_score.json`, is checked through
//! the CLI in `tests/trust_cli.rs`).

use std::path::Path;

mod common;

use common::run_two_rows;
use serde_json::Value;

fn reference(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn case<'a>(file: &'a Value, id: &str) -> &'a Value {
    file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

fn close(actual: &Value, expected: &Value, tol: &Value, what: &str) {
    let (rel, abs) = (tol["rel"].as_f64().unwrap(), tol["abs"].as_f64().unwrap());
    match (actual.as_f64(), expected.as_f64()) {
        (None, None) => assert!(
            actual.is_null() && expected.is_null(),
            "{what}: {actual} vs {expected}"
        ),
        (Some(a), Some(e)) => assert!((a - e).abs() <= abs + rel * e.abs(), "{what}: {a} vs {e}"),
        _ => panic!("{what}: {actual} vs {expected}"),
    }
}

/// The comparison fields of the report and their names in the reference.
const FIELDS: [(&str, &str); 7] = [
    ("abs_lift", "abs_lift"),
    ("rel_lift", "rel_lift"),
    ("ci_low", "ci_low"),
    ("ci_high", "ci_high"),
    ("p_value", "p_value"),
    ("rel_ci_low", "rel_ci_delta_low"),
    ("rel_ci_high", "rel_ci_delta_high"),
];

fn close_fields(cmp: &Value, expected: &Value, tol: &Value, id: &str) {
    for (key, reference_key) in FIELDS {
        close(
            &cmp[key],
            &expected[reference_key],
            tol,
            &format!("{id} {key}"),
        );
    }
}

/// Runs a one-metric spec over two rows (Wald rate test, as `rate.json`)
/// and returns the JSON report.
fn run_json(metric: &str, header: &str, control: &str, treatment: &str, alpha: f64) -> Value {
    run_two_rows(
        metric,
        header,
        control,
        treatment,
        &format!("alpha {alpha} rate_test wald"),
    )
}

#[test]
fn rate_comparisons_match_the_reference() {
    let file = reference("rate.json");
    let tol = &file["tolerance"];
    for id in [
        "rate-002-tiny-n10-n12",
        "rate-004-zero-control",
        "rate-008-huge-n",
        "rate-011-equal-rates-unequal-arms",
        "rate-012-negative-unequal-alpha10",
        "rate-020-random",
    ] {
        let c = case(&file, id);
        let (i, e) = (&c["input"], &c["expected"]);
        let report = run_json(
            "conversion = rate(conversions)",
            "conversions",
            &format!("{},{}", i["n_c"], i["x_c"]),
            &format!("{},{}", i["n_t"], i["x_t"]),
            i["alpha"].as_f64().unwrap(),
        );
        let cmp = &report["metrics"][0]["comparisons"][0];
        close_fields(cmp, e, tol, id);
        close(
            &report["metrics"][0]["variants"][0]["value"],
            &e["p_c"],
            tol,
            &format!("{id} p_c"),
        );
    }
}

#[test]
fn mean_comparisons_match_the_reference() {
    let file = reference("mean.json");
    let tol = &file["tolerance"];
    for id in [
        "mean-006-cancel-1e6-sd1",
        "mean-009-negative-effect",
        "mean-010-unequal-arms",
        "mean-023-random-normal",
    ] {
        let c = case(&file, id);
        let (i, e) = (&c["input"], &c["expected"]);
        let row = |arm: &Value| {
            format!(
                "{},{:?},{:?}",
                arm["n"],
                arm["sum"].as_f64().unwrap(),
                arm["sum_sq"].as_f64().unwrap()
            )
        };
        let report = run_json(
            "revenue = mean(revenue)",
            "revenue_sum,revenue_sum_sq",
            &row(&i["control"]),
            &row(&i["treatment"]),
            i["alpha"].as_f64().unwrap(),
        );
        let cmp = &report["metrics"][0]["comparisons"][0];
        close_fields(cmp, e, tol, id);
        close(
            &report["metrics"][0]["variants"][0]["value"],
            &e["mean_c"],
            tol,
            &format!("{id} mean_c"),
        );
    }
}

#[test]
fn bayesian_evidence_matches_the_reference() {
    let file = reference("bayes.json");
    let tol = &file["tolerance"];
    let cases: Vec<&Value> = file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["input"]["prior_a"] == 1.0 && c["input"]["prior_b"] == 1.0)
        .take(4)
        .collect();
    assert!(!cases.is_empty());
    for c in cases {
        let (i, e) = (&c["input"], &c["expected"]);
        let id = c["id"].as_str().unwrap();
        let report = run_json(
            "conversion = rate(conversions)",
            "conversions",
            &format!("{},{}", i["n_c"], i["x_c"]),
            &format!("{},{}", i["n_t"], i["x_t"]),
            0.05,
        );
        let cmp = &report["metrics"][0]["comparisons"][0];
        close(
            &cmp["prob_better"],
            &e["prob_t_beats_c"],
            tol,
            &format!("{id} prob_better"),
        );
        close(
            &cmp["expected_loss"],
            &e["expected_loss_t"],
            tol,
            &format!("{id} expected_loss"),
        );
    }
}

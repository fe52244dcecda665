//! Issue 20 end to end: every case of `tests/reference/bayes_extra.json`
//! (40-digit mpmath values, made by `tests/reference/gen_bayes_extra.py`)
//! and `tests/reference/bayes_deep.json` (`gen_bayes_deep.py`: exact sums,
//! closed forms and two-way quadrature at 40–60 digits) through the `xos` binary with `--format json`, within 1e-9 relative:
//! P(better) and expected loss for `prefer higher` (P(T > C), E[max(C − T, 0)])
//! and for `prefer lower` (P(C > T), E[max(T − C, 0)], each tail direct),
//! for rates and means; and `xos plan` for both directions.

mod common;

use common::{stderr, stdout, xos};
use serde_json::Value;

fn load() -> Value {
    load_file("bayes_extra.json")
}

/// A reference file of `tests/reference/`.
fn load_file(name: &str) -> Value {
    let path = format!("{}/tests/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference file")).expect("JSON")
}

/// The rate cases of `bayes_extra.json` and of `bayes_deep.json` (deep
/// tails of the exact sum, an empty arm with a fractional prior against
/// 4·10¹⁰ units, both arms of 10¹² to 10¹⁵ units, random shapes; made by
/// `tests/reference/gen_bayes_deep.py`).
fn rate_cases() -> Vec<Value> {
    let mut cases = Vec::new();
    for name in ["bayes_extra.json", "bayes_deep.json"] {
        let file = load_file(name);
        cases.extend(
            file["cases"]
                .as_array()
                .expect("cases")
                .iter()
                .filter(|c| c["kind"] == "rate")
                .cloned(),
        );
    }
    cases
}

/// Runs `xos ARGS spec --format json` on a spec and its data.
fn json(command: &str, spec: &str, csv: &str) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("spec.xos");
    std::fs::write(&path, spec).expect("write spec");
    std::fs::write(dir.path().join("data.csv"), csv).expect("write data");
    let path = path.to_str().expect("utf-8");
    let out = xos(&[command, path, "--format", "json"]);
    assert!(
        out.status.success(),
        "xos {command} failed: {}",
        stderr(&out)
    );
    serde_json::from_str(&stdout(&out)).expect("JSON output")
}

fn close(id: &str, field: &str, actual: &Value, expected: &Value) {
    close_within(id, field, actual, expected, 1e-9);
}

fn close_within(id: &str, field: &str, actual: &Value, expected: &Value, rel: f64) {
    let (a, e) = (actual.as_f64(), expected.as_f64().expect("number"));
    let a = a.unwrap_or_else(|| panic!("{id}: {field} is {actual}, expected {e:e}"));
    assert!(
        (a - e).abs() <= rel * e.abs(),
        "{id}: {field} = {a:e}, expected {e:e} (relative error {:e})",
        (a - e) / e
    );
}

/// Runs a case's data under `spec(prefer)` for `prefer higher` and `prefer
/// lower` and checks the primary's P(better) and expected loss: P(T > C)
/// and E[max(C − T, 0)], then P(C > T) and E[max(T − C, 0)].
fn both_directions(id: &str, spec: impl Fn(&str) -> String, csv: &str, expected: &Value, rel: f64) {
    for (prefer, prob, loss) in [
        ("higher", "prob_t_beats_c", "expected_loss_t"),
        ("lower", "prob_c_beats_t", "expected_loss_c"),
    ] {
        let report = json("run", &spec(prefer), csv);
        let c = &report["metrics"][0]["comparisons"][0];
        close_within(
            id,
            &format!("{prefer}: prob_better"),
            &c["prob_better"],
            &expected[prob],
            rel,
        );
        close_within(
            id,
            &format!("{prefer}: expected_loss"),
            &c["expected_loss"],
            &expected[loss],
            rel,
        );
    }
}

#[test]
fn rates_in_both_directions_match_mpmath() {
    let cases = rate_cases();
    assert!(cases.len() >= 30, "{} rate cases", cases.len());
    for case in &cases {
        let (id, i, e) = (
            case["id"].as_str().expect("id"),
            &case["input"],
            &case["expected"],
        );
        if i["n_c"] == 0 || i["n_t"] == 0 {
            // `xos run` refuses an empty arm (located diagnostic); the
            // library case is `library_matches_mpmath_on_every_rate_case`.
            continue;
        }
        let csv = format!(
            "variant,users,conversions\ncontrol,{},{}\ntreatment,{},{}\n",
            i["n_c"], i["x_c"], i["n_t"], i["x_t"]
        );
        let spec = |prefer: &str| {
            format!(
                "experiment bayes {{\n    data \"data.csv\"\n    variants {{ control 50% treatment 50% }}\n    \
                 primary conversion = rate(conversions) {{ prefer {prefer} }}\n    \
                 settings {{ prior beta({}, {}) }}\n}}\n",
                i["prior_a"], i["prior_b"]
            )
        };
        both_directions(id, spec, &csv, e, 1e-9);
    }
}

#[test]
fn library_matches_mpmath_on_every_rate_case() {
    for case in &rate_cases() {
        let (id, i, e) = (
            case["id"].as_str().expect("id"),
            &case["input"],
            &case["expected"],
        );
        let u = |k: &str| i[k].as_u64().expect("count");
        let f = |k: &str| i[k].as_f64().expect("prior");
        let r = xos::stats::bayes::beta_binomial(
            u("x_c"),
            u("n_c"),
            u("x_t"),
            u("n_t"),
            (f("prior_a"), f("prior_b")),
        )
        .expect("valid");
        for (field, value) in [
            ("prob_t_beats_c", r.prob_t_beats_c),
            ("prob_c_beats_t", r.prob_c_beats_t),
            ("expected_loss_t", r.expected_loss_t),
            ("expected_loss_c", r.expected_loss_c),
        ] {
            close_within(id, field, &Value::from(value), &e[field], 1e-9);
        }
    }
}

#[test]
fn means_use_the_exact_lift_and_direct_tails() {
    let file = load();
    for case in file["cases"].as_array().expect("cases") {
        if case["kind"] != "mean" {
            continue;
        }
        let (id, i, e) = (
            case["id"].as_str().expect("id"),
            &case["input"],
            &case["expected"],
        );
        let arm = |a: &Value| format!("{},{},{}", a["n"], a["sum"], a["sum_sq"]);
        let csv = format!(
            "variant,users,value_sum,value_sum_sq\ncontrol,{}\ntreatment,{}\n",
            arm(&i["control"]),
            arm(&i["treatment"])
        );
        let spec = |prefer: &str| {
            format!(
                "experiment bayes {{\n    data \"data.csv\"\n    variants {{ control 50% treatment 50% }}\n    \
                 primary value = mean(value) {{ prefer {prefer} }}\n}}\n"
            )
        };
        both_directions(id, spec, &csv, e, 1e-9);
    }
}

#[test]
fn plans_size_the_preferred_direction() {
    let file = load();
    let mut seen = 0;
    for case in file["cases"].as_array().expect("cases") {
        if case["kind"] != "plan" {
            continue;
        }
        seen += 1;
        let (id, i, e) = (
            case["id"].as_str().expect("id"),
            &case["input"],
            &case["expected"],
        );
        let baseline = i["baseline"].as_f64().expect("baseline");
        let mde = i["mde"].as_f64().expect("mde");
        let mde = if i["mde_kind"] == "relative" {
            format!("{}% relative", mde * 100.0)
        } else {
            format!("{}pp", mde * 100.0)
        };
        // ratio 1: two arms; ratio 0.5: two treatments of 25% under Holm,
        // so α = 5% / 2 (the input's alpha).
        let (variants, settings) = if i["ratio"].as_f64() == Some(1.0) {
            ("control 50% treatment 50%", "alpha 5%")
        } else {
            ("control 50% a 25% b 25%", "alpha 5% correction holm")
        };
        let spec = format!(
            "experiment plan {{\n    data \"data.csv\"\n    variants {{ {variants} }}\n    \
             primary conversion = rate(conversions) {{ prefer {} baseline {}% mde {mde} }}\n    \
             settings {{ {settings} }}\n}}\n",
            i["prefer"].as_str().expect("prefer"),
            baseline * 100.0
        );
        let plan = json("plan", &spec, "variant,users,conversions\n");
        close(id, "alpha", &plan["alpha"], &i["alpha"]);
        close(id, "target_rate", &plan["target_rate"], &e["p2"]);
        assert_eq!(
            plan["change"],
            if i["prefer"] == "lower" {
                "decrease"
            } else {
                "increase"
            },
            "{id}"
        );
        assert_eq!(
            plan["per_variant"]["control"], e["n_control"],
            "{id}: {plan}"
        );
        let treatments: Vec<&Value> = plan["per_variant"]
            .as_object()
            .expect("per_variant")
            .iter()
            .filter(|(k, _)| *k != "control")
            .map(|(_, v)| v)
            .collect();
        for n in &treatments {
            assert_eq!(**n, e["n_treatment"], "{id}: {plan}");
        }
        let divided = if treatments.len() > 1 {
            Value::from(2)
        } else {
            Value::Null
        };
        assert_eq!(plan["alpha_divided_by"], divided, "{id}");
    }
    assert_eq!(seen, 4);
}

//! The `sequential` block end to end: checked, evaluated with the
//! sequential method, reported with the fixed-horizon numbers beside it.
//! Data: the checkout experiment's first export (10,000 / 10,050 users, about
//! 21% of its planned sample), kept in `tests/fixtures/sequential/`.

mod common;

use common::{stderr, stdout, xos};
use serde_json::Value;
use xos::stats::always_valid;
use xos::stats::dist::normal_sf;

const DIR: &str = "tests/fixtures/sequential";

fn report(spec: &str) -> Value {
    let path = format!("{DIR}/{spec}");
    let out = xos(&["run", &path, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("JSON report")
}

/// Runs a copy of `spec` with one text replaced, next to a copy of its data
/// file, and returns the folder (kept alive), the spec's path and the report.
fn run_edited(
    spec: &str,
    csv: &str,
    (from, to): (&str, &str),
) -> (tempfile::TempDir, std::path::PathBuf, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(spec)
        .expect("spec")
        .replace(from, to);
    let path = dir.path().join("spec.xos");
    std::fs::write(&path, text).expect("write");
    let name = std::path::Path::new(csv).file_name().expect("a file name");
    std::fs::copy(csv, dir.path().join(name)).expect("copy");
    let out = xos(&["run", path.to_str().expect("utf-8"), "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = serde_json::from_str(&stdout(&out)).expect("JSON");
    (dir, path, report)
}

fn primary(report: &Value) -> &Value {
    &report["metrics"][0]["comparisons"][0]
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64()
        .is_some_and(|a| (a - b).abs() <= 1e-12 + 1e-9 * b.abs())
}

#[test]
fn always_valid_replaces_p_and_ci_and_keeps_the_fixed_numbers() {
    let r = report("always_valid.xos");
    let inference = &r["inference"];
    assert_eq!(inference["method"], "always_valid");
    assert_eq!(inference["look"], 1);
    let tuning = inference["tuning"]
        .as_u64()
        .expect("tuning: the plan's total");
    assert_eq!(Some(tuning), r["plan"]["total"].as_u64());
    let expected =
        always_valid::compare_rates(10_000, 1_200, 10_050, 1_320, 0.05, tuning as f64).expect("av");
    let c = primary(&r);
    assert!(close(&c["p_value"], expected.p_value), "{c}");
    assert!(close(&c["ci_low"], expected.ci_low.expect("se > 0")), "{c}");
    assert!(
        close(&c["ci_high"], expected.ci_high.expect("se > 0")),
        "{c}"
    );
    // The fixed-horizon test is significant at this look; the always-valid
    // one is not, so the policy cannot launch on a peek.
    let fixed = c["fixed_horizon"]["p_value"].as_f64().expect("fixed p");
    assert!(
        fixed < 0.05 && expected.p_value > 0.05,
        "{fixed} {}",
        expected.p_value
    );
    assert_eq!(c["significant"], false);
    assert_eq!(c["boundary"], Value::Null);
    assert_ne!(r["decision"]["verdict"], "launch");
}

#[test]
fn group_sequential_at_an_early_look_does_not_cross() {
    let r = report("group_sequential.xos");
    let inference = &r["inference"];
    assert_eq!(inference["method"], "group_sequential");
    let max_units = inference["max_units"]
        .as_u64()
        .expect("max_units: the plan's total");
    let t = inference["information"].as_f64().expect("t");
    assert!((t - 20_050.0 / max_units as f64).abs() < 1e-15);
    assert!((0.15..0.3).contains(&t), "{t}");
    let c = primary(&r);
    let b = c["boundary"].as_f64().expect("a bound");
    assert!(b > 3.5, "O'Brien-Fleming bound at t = {t}: {b}");
    assert_eq!(c["significant"], false);
    assert!(c["p_value"].as_f64().expect("p") >= 0.05);
    assert_ne!(r["decision"]["verdict"], "launch");
}

#[test]
fn group_sequential_at_full_information_is_the_fixed_wald_test() {
    // max_units = the units so far: one final look spending all of α, whose
    // bound is z_{0.975} and whose repeated p-value is the nominal one.
    let r = report("gs_crossed.xos");
    let c = primary(&r);
    let b = c["boundary"].as_f64().expect("bound");
    assert!((b - 1.959_963_984_540_054).abs() < 1e-9, "{b}");
    let arm = |n: u64, x: u64| {
        let p = x as f64 / n as f64;
        (p, p * (1.0 - p) / n as f64)
    };
    let ((p_c, v_c), (p_t, v_t)) = (arm(10_000, 1_200), arm(10_050, 1_320));
    let z = (p_t - p_c) / (v_c + v_t).sqrt();
    let nominal = 2.0 * normal_sf(z);
    let p = c["p_value"].as_f64().expect("p");
    assert!((p - nominal).abs() < 1e-6 * nominal, "{p} vs {nominal}");
    assert_eq!(c["significant"], true);
    assert_eq!(r["inference"]["information"], 1.0);
}

#[test]
fn group_sequential_needs_max_units_or_a_plan() {
    let out = xos(&["check", &format!("{DIR}/gs_without_plan.xos")]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("xos::check::sequential_max_units"), "{err}");
    assert!(err.contains("max_units 100_000"), "{err}");
    assert!(err.contains("gs_without_plan.xos:"), "located: {err}");
}

#[test]
fn a_bad_sequential_block_reports_every_problem() {
    let out = xos(&["check", &format!("{DIR}/bad_sequential.xos")]);
    assert!(!out.status.success());
    let err = stderr(&out);
    for needle in ["`fast` is not a valid `method`", "`tuning`", "`horizon`"] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

#[test]
fn rules_read_the_sequential_facts() {
    let rule = "    rule first_look {\n        when sequential.look == 1 and sequential.information < 50% and plan.progress < 50% and primary.boundary > 3\n        then hold\n        because \"look {{ sequential.look }} at {{ plan.progress }}\"\n    }\n\n    settings {";
    let (_dir, path, r) = run_edited(
        &format!("{DIR}/group_sequential.xos"),
        &format!("{DIR}/checkout_early.csv"),
        ("    settings {", rule),
    );
    assert_eq!(r["decision"]["rule"], "first_look", "{}", r["decision"]);

    // A fact of the wrong type is a located error.
    let bad = std::fs::read_to_string(&path)
        .expect("spec")
        .replace("sequential.look == 1", "sequential.look == true");
    std::fs::write(&path, bad).expect("write");
    let out = xos(&["check", path.to_str().expect("utf-8")]);
    assert!(!out.status.success(), "{}", stderr(&out));
}

#[test]
fn corrected_intervals_come_from_the_sequential_method() {
    // Three arms under Holm: each comparison's interval at its corrected
    // level α·p/p_adj is the always-valid one, so significant ⇔ p_adjusted < α
    // ⇔ the adjusted interval excludes 0, as for the fixed-horizon tests.
    let (_dir, _, r) = run_edited(
        "examples/multiarm/pricing.xos",
        "examples/multiarm/pricing.csv",
        (
            "settings {",
            "sequential { method always_valid tuning 20_000 }\n    settings {",
        ),
    );
    assert_eq!(r["inference"]["method"], "always_valid");
    let mut checked = 0;
    for metric in r["metrics"].as_array().expect("metrics") {
        for c in metric["comparisons"].as_array().expect("comparisons") {
            let (Some(low), Some(high)) = (c["ci_adj_low"].as_f64(), c["ci_adj_high"].as_f64())
            else {
                continue;
            };
            let p_adj = c["p_adjusted"].as_f64().expect("p_adjusted");
            assert_eq!(c["significant"], p_adj < 0.05, "{c}");
            assert_eq!(p_adj < 0.05, low > 0.0 || high < 0.0, "{c}");
            assert!(c["fixed_horizon"].is_object(), "{c}");
            checked += 1;
        }
    }
    assert!(checked >= 2, "{checked}");
}

#[test]
fn the_memo_says_which_inference_decided() {
    for (spec, needle) in [
        (
            "group_sequential.xos",
            "Decided by group-sequential inference",
        ),
        ("always_valid.xos", "Decided by always-valid inference"),
    ] {
        for format in ["md", "html"] {
            let out = xos(&["run", &format!("{DIR}/{spec}"), "--format", format]);
            assert!(out.status.success(), "{}", stderr(&out));
            let memo = stdout(&out);
            assert!(memo.contains(needle), "{spec} {format}: {memo}");
            assert!(memo.contains("information 21.3%"), "{spec} {format}");
            assert!(
                memo.contains("fixed-horizon p would be 0.0154"),
                "{spec} {format}"
            );
        }
    }
    // A fixed-horizon memo has no such line.
    let out = xos(&["run", "examples/checkout/checkout.xos"]);
    assert!(!stdout(&out).contains("Decided by"));
}

/// A setting the sequential methods cannot honour is a located check error,
/// never a silent fallback to the delta interval.
#[test]
fn sequential_with_a_fieller_interval_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(format!("{DIR}/always_valid.xos"))
        .expect("spec")
        .replace("settings {", "settings {\n        relative_ci fieller");
    let path = dir.path().join("spec.xos");
    std::fs::write(&path, text).expect("write");
    let out = xos(&["check", path.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("xos::check::sequential_relative_ci"), "{err}");
    assert!(err.contains("spec.xos:"), "located: {err}");
}

/// The trace of issue 19: the checkout spec, fixed-horizon with a plan, read
/// on its first export (10,000 / 10,050 users). The default policy holds and
/// says how far the sample is and what to do; the same data with
/// `sequential` decides by the sequential test instead.
#[test]
fn the_checkout_spec_on_its_first_data_holds_until_the_planned_sample() {
    let r = report("checkout_early.xos");
    let decision = &r["decision"];
    assert_eq!(decision["verdict"], "hold");
    assert_eq!(decision["rule"], "early_look");
    let reason = decision["reason"].as_str().expect("reason");
    for expected in [
        "21.3% of the planned sample",
        "74,018 more units",
        "about 4 more days",
        "declare a `sequential` block",
    ] {
        assert!(reason.contains(expected), "{expected:?} not in {reason:?}");
    }
    // The fixed-horizon primary is significant: without the rule it would launch.
    assert_eq!(primary(&r)["better"], true);

    // Without a plan the spec is decided as one look, as before.
    let (_dir, _path, no_plan) = run_edited(
        &format!("{DIR}/checkout_early.xos"),
        &format!("{DIR}/checkout_early.csv"),
        (
            "plan {\n        daily_users 20_000\n        power       80%\n    }",
            "",
        ),
    );
    assert_eq!(no_plan["decision"]["verdict"], "launch");
    // `xos check` flags that spec: its verdict is valid for a single look only.
    let edited = std::fs::read_to_string(format!("{DIR}/checkout_early.xos"))
        .expect("spec")
        .replace(
            "plan {\n        daily_users 20_000\n        power       80%\n    }",
            "",
        );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("spec.xos");
    std::fs::write(&path, edited).expect("write");
    let check = xos(&["check", path.to_str().expect("utf-8")]);
    assert!(
        stderr(&check).contains("xos::analysis::peeking"),
        "{}",
        stderr(&check)
    );
    assert!(stderr(&check).contains("has neither a `plan` nor `sequential`"));
}

/// The memo's next actions for an `early_look` hold say to wait for the
/// planned sample, never that the hold is not for lack of evidence.
#[test]
fn an_early_look_hold_says_to_keep_running() {
    for format in ["md", "html"] {
        let out = xos(&[
            "run",
            &format!("{DIR}/checkout_early.xos"),
            "--format",
            format,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let memo = stdout(&out);
        assert!(memo.contains("early_look"), "{format}: {memo}");
        assert!(
            memo.contains("Keep the experiment running: the plan needs"),
            "{format}: {memo}"
        );
        assert!(
            memo.contains("a fixed-horizon test is read only at its planned"),
            "{format}: {memo}"
        );
        assert!(
            !memo.contains("not from a lack of evidence"),
            "{format}: {memo}"
        );
    }
}

/// With three arms each comparison's `N` counts its two arms, so its
/// mixture is tuned at their designed share of `tuning` (2/3 of 30,000 on
/// an equal split), where that pair's interval is tightest; the report
/// keeps the experiment's tuning.
#[test]
fn always_valid_tunes_each_pair_at_its_share_of_the_tuning() {
    let (_dir, _, r) = run_edited(
        "examples/multiarm/pricing.xos",
        "examples/multiarm/pricing.csv",
        (
            "settings {",
            "sequential { method always_valid tuning 30_000 }\n    settings {",
        ),
    );
    assert_eq!(r["inference"]["tuning"], 30_000);
    let comparisons = &r["metrics"][0]["comparisons"];
    for (i, (n_t, x_t)) in [(9_800, 1_300), (10_200, 1_150)].into_iter().enumerate() {
        let c = &comparisons[i];
        let pair =
            always_valid::compare_rates(10_000, 1_200, n_t, x_t, 0.05, 20_000.0).expect("av");
        assert!(close(&c["p_value"], pair.p_value), "{c}");
        assert!(close(&c["ci_low"], pair.ci_low.expect("se > 0")), "{c}");
        assert!(close(&c["ci_high"], pair.ci_high.expect("se > 0")), "{c}");
        let whole =
            always_valid::compare_rates(10_000, 1_200, n_t, x_t, 0.05, 30_000.0).expect("av");
        assert!(!close(&c["ci_low"], whole.ci_low.expect("se > 0")), "{c}");
    }
}

/// After a crossing at an earlier look, the relative interval follows the
/// absolute one's rule (the crossing look's interval, here disjoint from
/// the last look's): both exclude 0, as the persisting crossing says.
#[test]
fn a_persisting_crossing_keeps_both_intervals_of_the_crossing_look() {
    let r = report("persisting.xos");
    let c = primary(&r);
    assert_eq!(c["significant"], true, "{c}");
    let (low, high) = (
        c["ci_low"].as_f64().unwrap(),
        c["ci_high"].as_f64().unwrap(),
    );
    let (rel_low, rel_high) = (
        c["rel_ci_low"].as_f64().unwrap(),
        c["rel_ci_high"].as_f64().unwrap(),
    );
    assert!(low > 0.0 && rel_low > 0.0, "{c}");
    // The crossing look's relative interval is its absolute one over its
    // control rate (12%), with the delta method's treatment term.
    assert!(
        (rel_low - low / 0.12).abs() < 0.05 && (rel_high - high / 0.12).abs() < 0.1,
        "{c}"
    );
    assert!(rel_high > rel_low, "{c}");
}

//! Issue 11 ("statistical trust") end to end: every case of the issue as a
//! spec + CSV run through the `xos` binary with `--format json`, checked
//! against the right value; the agreement of significance, adjusted p and
//! adjusted CI over random arms × every `rate_test` × `relative_ci` ×
//! `correction`; and the check errors of the settings.

mod common;

use common::{manifest, stderr, stdout, xos};
use proptest::prelude::*;
use serde_json::Value;

/// Writes `spec.xos` and `data.csv` into a new temporary folder; returns
/// the folder (removed when dropped) and the spec's path.
fn write_spec(spec: &str, csv: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("spec.xos");
    std::fs::write(&path, spec).expect("write spec");
    std::fs::write(dir.path().join("data.csv"), csv).expect("write data");
    let path = path.to_str().expect("utf-8").to_string();
    (dir, path)
}

/// Runs `xos run --format json` on a spec and its data; returns the report
/// (the run must work).
fn run(spec: &str, csv: &str) -> Value {
    let (_dir, path) = write_spec(spec, csv);
    // Specs may name the crate's `rules/`, outside their folder.
    let out = xos(&["run", "--allow-outside", &path, "--format", "json"]);
    assert!(out.status.success(), "xos run failed: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("JSON report")
}

/// A spec over `data.csv` with `body` inside the experiment block.
fn spec(variants: &str, body: &str) -> String {
    format!(
        "experiment trust {{\n    data \"data.csv\"\n    variants {{ {variants} }}\n{body}\n}}\n"
    )
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn near(actual: &Value, expected: f64, tol: f64, what: &str) {
    let a = num(actual);
    assert!((a - expected).abs() <= tol, "{what}: {a} vs {expected}");
}

fn comparison(report: &Value, metric: usize, arm: usize) -> &Value {
    &report["metrics"][metric]["comparisons"][arm]
}

#[test]
fn a_negative_control_mean_keeps_the_sign_of_the_lift() {
    // Kind 1: profit −10 → −5 is +5 and +50 %, and the < 2 % rule does not hold it.
    let report = run(
        &spec(
            "control 50% treatment 50%",
            "    primary profit = mean(profit)
    rule too_small {
        when primary.better and primary.rel_lift < 2%
        then hold
        because \"Too small to matter.\"
    }",
        ),
        "variant,users,profit_sum,profit_sum_sq\ncontrol,10000,-100000,4999600\ntreatment,10000,-50000,4249600\n",
    );
    let c = comparison(&report, 0, 0);
    near(&c["abs_lift"], 5.0, 1e-12, "abs_lift");
    near(&c["rel_lift"], 0.5, 1e-12, "rel_lift");
    near(&c["rel_ci_low"], 0.456, 5e-4, "rel_ci_low");
    near(&c["rel_ci_high"], 0.544, 5e-4, "rel_ci_high");
    assert_eq!(
        report["decision"]["verdict"], "launch",
        "{}",
        report["decision"]
    );
}

#[test]
fn zero_events_never_prove_non_inferiority() {
    // Kind 2: strict policy, 0 errors in 300 units per arm, margin 0.5 pp.
    let strict = manifest().join("rules/strict.xos");
    let body = format!(
        "    primary conversion = rate(conversions)
    guardrail errors = rate(errors) {{ margin 0.5pp }}
    policy \"{}\"",
        strict.display()
    );
    let csv = "variant,users,conversions,errors\ncontrol,300,30,0\ntreatment,300,60,0\n";
    let report = run(&spec("control 50% treatment 50%", &body), csv);
    let g = comparison(&report, 1, 0);
    assert_eq!(g["non_inferior"], false);
    // The score bound of the degradation (rate_score-001): ≈ +0.9 pp.
    near(
        &g["degradation_bound"],
        0.008_952_659_912_098_478,
        1e-11,
        "bound",
    );
    near(&g["ci_high"], 0.012_663_810_728_769_593, 1e-11, "ci_high");
    // The hold is the guardrail's: its score interval stays informative at
    // 0 events (health is fine), and bounds the harm only to 0.9 pp.
    assert_eq!(report["decision"]["verdict"], "hold");
    assert_eq!(report["health"]["status"], "healthy");
    // Wald: the interval collapses to [0, 0], and still proves nothing.
    let wald = run(
        &spec(
            "control 50% treatment 50%",
            &format!("{body}\n    settings {{ rate_test wald }}"),
        ),
        csv,
    );
    let g = comparison(&wald, 1, 0);
    assert_eq!((num(&g["ci_low"]), num(&g["ci_high"])), (0.0, 0.0));
    assert_eq!(g["non_inferior"], false);
    assert!(g["degradation_bound"].is_null());
    assert_eq!(wald["decision"]["verdict"], "hold");
    // its standard error of 0 is no information: a health warning
    assert_eq!(wald["health"]["status"], "warning");
}

#[test]
fn the_printed_interval_agrees_with_the_significance_call() {
    // Kind 3: four arms under Holm; adjusted p = 0.112 is not significant,
    // and the adjusted interval (adjusted_ci-001, Wald) contains 0.
    let variants = "control 25% a 25% b 25% c 25%";
    let csv =
        "variant,users,conversions\ncontrol,10000,1000\na,10000,1090\nb,10000,1000\nc,10000,1000\n";
    let body = "    primary conversion = rate(conversions)\n    settings { rate_test wald }";
    let report = run(&spec(variants, body), csv);
    let a = comparison(&report, 0, 0);
    near(
        &a["p_adjusted"],
        0.112_418_222_617_327_59,
        1e-12,
        "p_adjusted",
    );
    assert_eq!(a["significant"], false);
    near(&a["ci_low"], 0.000_521_734_062_501_553_3, 1e-13, "ci_low");
    near(
        &a["ci_adj_low"],
        -0.001_355_699_161_800_505_6,
        1e-11,
        "ci_adj_low",
    );
    near(
        &a["ci_adj_high"],
        0.019_355_699_161_800_504,
        1e-11,
        "ci_adj_high",
    );
    let b = comparison(&report, 0, 1);
    assert_eq!(
        (&b["ci_adj_low"], &b["ci_adj_high"]),
        (&b["ci_low"], &b["ci_high"])
    );
    // A rule reads the interval the memo shows: `primary.ci_low > 0` does
    // not fire on the plain interval of a comparison that is not significant.
    let rule = run(
        &spec(
            variants,
            &format!(
                "{body}
    rule interval_win {{
        when primary.ci_low > 0
        then launch
        because \"The interval excludes 0.\"
    }}"
            ),
        ),
        csv,
    );
    assert_eq!(rule["decision"]["verdict"], "hold", "{}", rule["decision"]);
    // The default score method agrees with itself the same way.
    let score = run(
        &spec(variants, "    primary conversion = rate(conversions)"),
        csv,
    );
    let a = comparison(&score, 0, 0);
    assert_eq!(a["significant"], false);
    assert!(num(&a["ci_adj_low"]) < 0.0 && num(&a["ci_adj_high"]) > 0.0);

    // `rate_test pooled`: p = 0.012 and now the interval of the same method.
    let pooled = run(
        &spec(
            "control 83.3333% treatment 16.6667%",
            "    primary conversion = rate(conversions)\n    settings { rate_test pooled }",
        ),
        "variant,users,conversions\ncontrol,500,20\ntreatment,100,10\n",
    );
    let c = comparison(&pooled, 0, 0);
    near(&c["p_value"], 0.012, 5e-4, "pooled p");
    assert_eq!(c["significant"], true);
    assert!(num(&c["ci_low"]) > 0.0, "{c}");
    assert_eq!(pooled["decision"]["verdict"], "launch");
}

#[test]
fn fieller_and_log_are_honoured_for_means() {
    // Kind 4: relative_ci fieller on a mean metric, Welch t quantile
    // (mean_relative-001).
    let csv = "variant,users,x_sum,x_sum_sq\ncontrol,200,400,20700\ntreatment,200,600,21700\n";
    let run_with = |method: &str| {
        run(
            &spec(
                "control 50% treatment 50%",
                &format!("    primary x = mean(x)\n    settings {{ relative_ci {method} }}"),
            ),
            csv,
        )
    };
    let fieller = run_with("fieller");
    let c = comparison(&fieller, 0, 0);
    near(
        &c["rel_ci_low"],
        -0.334_799_862_250_703_46,
        1e-8,
        "fieller low",
    );
    near(
        &c["rel_ci_high"],
        4.138_811_760_439_252,
        4.2e-8,
        "fieller high",
    );
    assert_eq!(fieller["settings"]["relative_ci"], "fieller");
    let delta = run_with("delta");
    let c = comparison(&delta, 0, 0);
    assert!(num(&c["rel_ci_low"]) < -0.74 && num(&c["rel_ci_high"]) > 1.74);
    let log = run_with("log");
    let c = comparison(&log, 0, 0);
    assert!(num(&c["rel_ci_low"]) != num(&comparison(&delta, 0, 0)["rel_ci_low"]));
    // The memo and explain name the method in force.
    let (_dir, path) = write_spec(
        &spec(
            "control 50% treatment 50%",
            "    primary x = mean(x)\n    settings { relative_ci fieller rate_test pooled }",
        ),
        csv,
    );
    let memo = stdout(&xos(&["run", &path]));
    assert!(
        memo.contains("Fieller's interval of the ratio (`relative_ci fieller`)"),
        "{memo}"
    );
    assert!(memo.contains("Welch t for means"), "{memo}");
    let explain = stdout(&xos(&["explain", &path]));
    assert!(explain.contains("relative_ci  fieller"), "{explain}");
    assert!(explain.contains("rate_test    pooled"), "{explain}");
    assert!(
        explain.contains("relative CI (by |control|) by Fieller's interval"),
        "{explain}"
    );
}

#[test]
fn an_arm_of_one_unit_still_has_a_lift() {
    let report = run(
        &spec("control 50% treatment 50%", "    primary x = mean(x)"),
        "variant,users,x_sum,x_sum_sq\ncontrol,1,4,16\ntreatment,3,15,77\n",
    );
    let c = comparison(&report, 0, 0);
    near(&c["abs_lift"], 1.0, 1e-15, "abs_lift");
    near(&c["rel_lift"], 0.25, 1e-15, "rel_lift");
    assert!(c["p_value"].is_null() && c["ci_low"].is_null());
    assert_eq!(report["decision"]["verdict"], "hold");
}

#[test]
fn five_constant_units_per_arm_do_not_launch() {
    let report = run(
        &spec("control 50% treatment 50%", "    primary x = mean(x)"),
        "variant,users,x_sum,x_sum_sq\ncontrol,5,10,20\ntreatment,5,15,45\n",
    );
    let c = comparison(&report, 0, 0);
    assert_eq!(c["p_value"], 0.0);
    assert_eq!(c["better"], true);
    assert_eq!(report["health"]["status"], "warning");
    assert_eq!(report["decision"]["verdict"], "hold");
    assert_eq!(report["decision"]["rule"], "health_warning");
}

#[test]
fn an_unknown_rate_test_is_a_located_error() {
    let (_dir, path) = write_spec(
        &spec(
            "control 50% treatment 50%",
            "    primary conversion = rate(conversions)\n    settings { rate_test exact }",
        ),
        "",
    );
    let out = xos(&["check", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("spec.xos:5:"), "{err}");
    assert!(err.contains("score") && err.contains("wald"), "{err}");
}

/// A rate arm `(n, x)`, often at 0 % or 100 %.
fn arm() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![1u64..30, 1u64..20_000]
        .prop_flat_map(|n| (Just(n), prop_oneof![Just(0), Just(n), 0..=n.min(10), 0..=n]))
}

proptest! {
    // Each case runs the binary once; 48 cases cover every combination of
    // the three settings many times over.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn significance_adjusted_p_and_adjusted_ci_agree(
        arms in prop::collection::vec(arm(), 2..5),
        rate_test in prop_oneof![Just("score"), Just("pooled"), Just("wald"), Just("unpooled")],
        relative_ci in prop_oneof![Just("delta"), Just("fieller"), Just("log")],
        correction in prop_oneof![Just("none"), Just("bonferroni"), Just("holm"), Just("bh")],
    ) {
        let names: Vec<String> = (0..arms.len()).map(|i| if i == 0 { "control".into() } else { format!("t{i}") }).collect();
        let share = 100.0 / arms.len() as f64;
        let variants: Vec<String> = names.iter().map(|n| format!("{n} {share}%")).collect();
        let mut csv = String::from("variant,users,conversions\n");
        for (name, (n, x)) in names.iter().zip(&arms) {
            csv.push_str(&format!("{name},{n},{x}\n"));
        }
        let body = format!(
            "    primary conversion = rate(conversions)\n    settings {{ rate_test {rate_test} relative_ci {relative_ci} correction {correction} min_units 0 }}"
        );
        let report = run(&spec(&variants.join(" "), &body), &csv);
        let alpha = 0.05;
        for c in report["metrics"][0]["comparisons"].as_array().expect("comparisons") {
            let p_adj = num(&c["p_adjusted"]);
            let (low, high) = (num(&c["ci_adj_low"]), num(&c["ci_adj_high"]));
            let excludes = low > 0.0 || high < 0.0;
            if (p_adj - alpha).abs() > 1e-9 {
                prop_assert_eq!(c["significant"].as_bool(), Some(p_adj < alpha), "{}", c);
                prop_assert_eq!(excludes, p_adj < alpha, "{}", c);
            }
            let abs = num(&c["abs_lift"]);
            if let Some(rel) = c["rel_lift"].as_f64() {
                prop_assert!(rel.signum() == abs.signum() || (rel == 0.0 && abs == 0.0), "{}", c);
            }
            if let (Some(lo), Some(hi)) = (c["rel_ci_low"].as_f64(), c["rel_ci_high"].as_f64()) {
                prop_assert!(lo <= hi);
            }
        }
    }
}

//! Defects of the system xos replaces (DESIGN.md §2), each pinned by a test
//! that runs a spec and its data end to end.

use std::path::PathBuf;

use xos::output::report::Report;
use xos::output::{Format, render};
use xos::plan::Verdict;
use xos::{RunOptions, run_once};

/// Writes a two-arm spec with the given guardrail block and data rows, and
/// runs it.
fn run_case(dir: &tempfile::TempDir, extra: &str, rows: &str) -> Report {
    let spec = format!(
        "experiment regression {{
            title \"Regression\"
            data \"data.csv\"
            variants {{ control 50% treatment 50% }}
            primary conversion = rate(conversions)
            {extra}
        }}"
    );
    let spec_path: PathBuf = dir.path().join("spec.xos");
    std::fs::write(&spec_path, spec).unwrap();
    std::fs::write(dir.path().join("data.csv"), rows).unwrap();
    run_once(&spec_path, &RunOptions::default())
        .unwrap_or_else(|e| panic!("{e:?}"))
        .report
}

#[test]
fn a_significantly_negative_primary_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_case(
        &dir,
        "",
        "variant,users,conversions\ncontrol,10000,1200\ntreatment,10000,1000\n",
    );
    assert_eq!(report.decision.verdict, Verdict::Rollback);
    assert_eq!(report.decision.rule, "primary_harm");
}

#[test]
fn a_severe_guardrail_rolls_back_without_a_significant_primary() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_case(
        &dir,
        "guardrail refunds = rate(refunds) { worsened 0.1pp severe 0.3pp }",
        "variant,users,conversions,refunds\ncontrol,10000,1200,10\ntreatment,10000,1210,100\n",
    );
    assert!(!report.metrics[0].comparisons[0].significant);
    assert_eq!(report.decision.verdict, Verdict::Rollback);
    assert_eq!(report.decision.rule, "severe_guardrail");
}

#[test]
fn a_zero_control_rate_gives_null_relative_lift_and_no_crash() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_case(
        &dir,
        "",
        "variant,users,conversions\ncontrol,10000,0\ntreatment,10000,100\n",
    );
    let c = &report.metrics[0].comparisons[0];
    assert_eq!(c.rel_lift, None);
    assert_eq!(c.rel_ci_low, None);
    assert!(c.p_value.is_some_and(|p| p < 0.05));
    let json = render(&report, Format::Json, None).unwrap();
    assert!(json.contains("\"rel_lift\": null"));
    for format in [Format::Md, Format::Html] {
        let memo = render(&report, format, None).unwrap();
        assert!(!memo.contains("NaN"));
    }
}

#[test]
fn zero_conversions_in_both_arms_is_p_one_and_hold() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_case(
        &dir,
        "",
        "variant,users,conversions\ncontrol,10000,0\ntreatment,10000,0\n",
    );
    let c = &report.metrics[0].comparisons[0];
    assert_eq!(c.p_value, Some(1.0));
    assert_eq!(report.decision.verdict, Verdict::Hold);
    // The score test's interval stays informative at 0 events: the data is
    // healthy, and nothing is significant.
    assert_eq!(report.decision.rule, "otherwise");
    assert!(c.ci_low.unwrap() < 0.0 && c.ci_high.unwrap() > 0.0, "{c:?}");
    // The Wald test's standard error is 0: no information, a health warning
    // (DESIGN §2) on which no shipped policy launches.
    let report = run_case(
        &dir,
        "settings { rate_test wald }",
        "variant,users,conversions\ncontrol,10000,0\ntreatment,10000,0\n",
    );
    assert_eq!(report.metrics[0].comparisons[0].p_value, Some(1.0));
    assert_eq!(report.decision.rule, "health_warning");
}

/// A guardrail without a single event in either arm (no errors in 48,000
/// users each) has held: its score interval bounds the error rate, and the
/// data is healthy, so it never holds a launch on a health warning.
#[test]
fn a_guardrail_without_events_in_either_arm_has_held() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_case(
        &dir,
        "guardrail errors = rate(errors) { worsened 0.1pp severe 0.3pp margin 0.05pp }",
        "variant,users,conversions,errors\ncontrol,48000,5760,0\ntreatment,48100,6060,0\n",
    );
    assert_eq!(
        report.health.status,
        xos::plan::Health::Healthy,
        "{:?}",
        report.health
    );
    let g = &report.metrics[1].comparisons[0];
    assert_eq!(g.non_inferior, Some(true), "{g:?}");
    assert_eq!(
        report.decision.verdict,
        Verdict::Launch,
        "{:?}",
        report.decision
    );
}

#[test]
fn all_conversions_in_both_arms_is_p_one_and_hold() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_case(
        &dir,
        "",
        "variant,users,conversions\ncontrol,500,500\ntreatment,500,500\n",
    );
    assert_eq!(report.metrics[0].comparisons[0].p_value, Some(1.0));
    assert_eq!(report.decision.verdict, Verdict::Hold);
}

#[test]
fn the_decision_does_not_depend_on_the_treatment_name() {
    let rows =
        |name: &str| format!("variant,users,conversions\ncontrol,10000,1200\n{name},10050,1320\n");
    let mut verdicts = Vec::new();
    for name in ["treatment", "zzz_last", "aaa_first"] {
        let dir = tempfile::tempdir().unwrap();
        let spec = format!(
            "experiment naming {{
                data \"data.csv\"
                variants {{ control 50% {name} 50% }}
                primary conversion = rate(conversions)
            }}"
        );
        std::fs::write(dir.path().join("spec.xos"), spec).unwrap();
        std::fs::write(dir.path().join("data.csv"), rows(name)).unwrap();
        let report = run_once(&dir.path().join("spec.xos"), &RunOptions::default())
            .unwrap()
            .report;
        let c = &report.metrics[0].comparisons[0];
        verdicts.push((
            report.decision.verdict,
            report.decision.rule.clone(),
            c.p_value,
            c.abs_lift,
        ));
    }
    assert!(verdicts.windows(2).all(|w| w[0] == w[1]), "{verdicts:?}");
}

#[test]
fn srm_is_matched_by_variant_name_not_row_order() {
    // The rows are in the opposite order of the declared variants, and the
    // split is 90/10: matching by row order would flag a mismatch.
    let dir = tempfile::tempdir().unwrap();
    let spec = "experiment split {
        data \"data.csv\"
        variants { control 90% treatment 10% }
        primary conversion = rate(conversions)
    }";
    std::fs::write(dir.path().join("spec.xos"), spec).unwrap();
    std::fs::write(
        dir.path().join("data.csv"),
        "variant,users,conversions\ntreatment,1000,100\ncontrol,9000,900\n",
    )
    .unwrap();
    let report = run_once(&dir.path().join("spec.xos"), &RunOptions::default())
        .unwrap()
        .report;
    let srm = report.health.srm.expect("srm computed");
    assert!(srm.chi2 < 1e-9, "{srm:?}");
    assert_eq!(report.health.status, xos::plan::Health::Healthy);
}

#[test]
fn unknown_columns_are_ignored_not_guardrails() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_case(
        &dir,
        "",
        "variant,users,conversions,guardrail_mystery\ncontrol,10000,1200,5\ntreatment,10050,1320,500\n",
    );
    assert_eq!(report.metrics.len(), 1);
    assert_eq!(report.decision.verdict, Verdict::Launch);
}

#[test]
fn a_title_with_markup_is_escaped_in_html() {
    let dir = tempfile::tempdir().unwrap();
    let spec = "experiment escaping {
        title \"<script>alert('x')</script> & more\"
        owner \"<b>team</b>\"
        data \"data.csv\"
        variants { control 50% treatment 50% }
        primary conversion = rate(conversions)
    }";
    std::fs::write(dir.path().join("spec.xos"), spec).unwrap();
    std::fs::write(
        dir.path().join("data.csv"),
        "variant,users,conversions\ncontrol,10000,1200\ntreatment,10050,1320\n",
    )
    .unwrap();
    let report = run_once(&dir.path().join("spec.xos"), &RunOptions::default())
        .unwrap()
        .report;
    let html = render(&report, Format::Html, None).unwrap();
    assert!(!html.contains("<script>"), "unescaped title");
    assert!(!html.contains("<b>team</b>"), "unescaped owner");
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn a_srm_below_blocked_holds_for_srm_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_case(
        &dir,
        "",
        "variant,users,conversions\ncontrol,10000,1200\ntreatment,12000,1700\n",
    );
    assert_eq!(report.health.status, xos::plan::Health::Blocked);
    assert_eq!(report.decision.verdict, Verdict::Hold);
    assert_eq!(report.decision.rule, "srm_blocked");
}

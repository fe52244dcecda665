//! Every bundled example runs end to end: its verdict, and its memo in all
//! three formats as a reviewed golden file.

use std::path::{Path, PathBuf};

mod common;

use xos::output::{Format, render};
use xos::plan::Verdict;
use xos::{RunOptions, run_once};

fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(path)
}

fn run(path: &str) -> xos::Outcome {
    run_once(&example(path), &RunOptions::default()).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

#[test]
fn checkout_launches_on_clear_win() {
    let outcome = run("checkout/checkout.xos");
    let decision = &outcome.report.decision;
    assert_eq!(decision.verdict, Verdict::Launch);
    assert_eq!(decision.rule, "clear_win");
    assert_eq!(decision.arm.as_deref(), Some("treatment"));
}

#[test]
fn multiarm_launches_variant_a() {
    let outcome = run("multiarm/pricing.xos");
    let decision = &outcome.report.decision;
    assert_eq!(decision.verdict, Verdict::Launch);
    assert_eq!(decision.arm.as_deref(), Some("variant_a"));
    assert_eq!(decision.arms.len(), 2);
}

#[test]
fn latency_guard_holds_a_win_too_small_to_matter() {
    let outcome = run("latency_guard/search.xos");
    let decision = &outcome.report.decision;
    assert_eq!(decision.verdict, Verdict::Hold);
    assert_eq!(decision.rule, "too_small_to_matter");
}

#[test]
fn row_level_signups_launch_and_pass_the_unit_checks() {
    let outcome = run("signup_rows/signup.xos");
    let decision = &outcome.report.decision;
    assert_eq!(decision.verdict, Verdict::Launch);
    assert_eq!(decision.rule, "clear_win");
    assert_eq!(outcome.report.health.status, xos::plan::Health::Healthy);
    let units: u64 = outcome.report.metrics[0]
        .variants
        .iter()
        .map(|v| v.units)
        .sum();
    assert_eq!(units, 4000, "every row is a unit");
}

#[test]
fn search_ratio_launches_on_clicks_per_query_with_cuped_metrics() {
    let outcome = run("search_ratio/search.xos");
    let decision = &outcome.report.decision;
    assert_eq!(decision.verdict, Verdict::Launch);
    assert_eq!(decision.rule, "clear_win");
    let metrics = &outcome.report.metrics;
    assert_eq!(metrics[0].kind, "ratio");
    assert_eq!(metrics[0].denominator.as_deref(), Some("queries"));
    assert!(metrics[0].comparisons[0].cuped.is_none());
    for adjusted in &metrics[1..] {
        let cuped = adjusted.comparisons[0].cuped.expect("a covariate");
        assert!(cuped.theta.is_some_and(|t| t > 0.0), "{}", adjusted.name);
        assert!(cuped.variance_reduction.is_some_and(|v| v > 0.0));
    }
}

#[test]
fn daily_checkout_launches_at_a_look_that_crossed_its_boundary() {
    let outcome = run("daily_checkout/checkout.xos");
    let decision = &outcome.report.decision;
    assert_eq!(decision.verdict, Verdict::Launch);
    assert_eq!(decision.rule, "clear_win");
    let inference = &outcome.report.inference;
    assert_eq!(inference.look, 14);
    // Launched validly before the planned sample: information below 1.
    assert!(inference.information.is_some_and(|t| t < 1.0));
    assert!(!outcome.report.sample.sample_reached);
}

#[test]
fn signup_daily_reads_each_rows_look_and_launches_always_valid() {
    let outcome = run("signup_daily/signup.xos");
    let decision = &outcome.report.decision;
    assert_eq!(decision.verdict, Verdict::Launch);
    assert_eq!(decision.rule, "clear_win");
    assert_eq!(outcome.report.inference.look, 7);
    let looks = &outcome.report.metrics[0].comparisons[0].looks;
    assert_eq!(looks.len(), 7);
    // Only the last look's confidence sequence excludes 0.
    let excludes = |l: &xos::inference::LookPoint| l.ci_low.is_some_and(|low| low > 0.0);
    assert!(excludes(&looks[6]));
    assert!(!looks[..6].iter().any(excludes));
}

#[test]
fn golden_memos() {
    for (name, path) in [
        ("checkout", "checkout/checkout.xos"),
        ("multiarm", "multiarm/pricing.xos"),
        ("latency_guard", "latency_guard/search.xos"),
        ("signup_rows", "signup_rows/signup.xos"),
        ("search_ratio", "search_ratio/search.xos"),
        ("daily_checkout", "daily_checkout/checkout.xos"),
        ("signup_daily", "signup_daily/signup.xos"),
    ] {
        let outcome = run(path);
        // On the report itself: the JSON would show a NaN as `null`.
        let non_finite = common::finite::non_finite(&outcome.report);
        assert!(non_finite.is_empty(), "{name}: {non_finite:?}");
        for format in [Format::Md, Format::Html, Format::Json] {
            let memo =
                render(&outcome.report, format, None).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let non_finite = memo
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| matches!(word, "NaN" | "nan" | "inf" | "Infinity"));
            assert!(
                !non_finite,
                "{name}.{}: non-finite number",
                format.extension()
            );
            insta::assert_snapshot!(format!("memo_{name}_{}", format.extension()), memo);
        }
    }
}

#[test]
fn every_example_folder_is_tested() {
    let mut specs = Vec::new();
    for entry in std::fs::read_dir(example("")).expect("examples folder") {
        let dir = entry.expect("entry").path();
        for file in std::fs::read_dir(&dir).expect("example folder") {
            let file = file.expect("entry").path();
            if file.extension().is_some_and(|e| e == "xos") {
                specs.push(file);
            }
        }
    }
    assert_eq!(
        specs.len(),
        7,
        "a new example needs its verdict and golden memo here: {specs:?}"
    );
    for spec in specs {
        run_once(&spec, &RunOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e:?}", spec.display()));
    }
}

#[test]
fn memos_are_reproducible_and_dated_only_on_request() {
    let a = render(&run("checkout/checkout.xos").report, Format::Html, None).unwrap();
    let b = render(&run("checkout/checkout.xos").report, Format::Html, None).unwrap();
    assert_eq!(a, b);
    let dated = run_once(
        &example("checkout/checkout.xos"),
        &RunOptions {
            date: Some("2026-11-28".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let md = render(&dated.report, Format::Md, None).unwrap();
    assert!(md.contains("2026-11-28"));
    assert!(
        !render(&run("checkout/checkout.xos").report, Format::Md, None)
            .unwrap()
            .contains("Generated")
    );
}

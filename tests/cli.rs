//! The command line contract: exit codes 0 (clean), 1 (problems), 2 (usage),
//! what goes to stdout and stderr.

mod common;

use common::{stderr, stdout, xos};
use std::path::Path;
use std::process::Output;

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

#[test]
fn check_exits_0_on_every_example_and_rule_file() {
    let out = xos(&[
        "check",
        "examples/checkout/checkout.xos",
        "examples/latency_guard/search.xos",
        "examples/multiarm/pricing.xos",
        "rules/default.xos",
        "rules/strict.xos",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("checked 5 files: 0 errors, 0 warnings"));
}

#[test]
fn check_exits_1_and_shows_the_diagnostic() {
    let out = xos(&["check", "tests/fixtures/check/shares_sum.xos"]);
    assert_eq!(code(&out), Some(1));
    let err = stderr(&out);
    assert!(err.contains("xos::check::shares_sum"), "{err}");
    assert!(
        err.contains("the variant shares sum to 90%, not 100%"),
        "{err}"
    );
    assert!(err.contains("shares_sum.xos:3:5"), "{err}");
}

#[test]
fn check_prints_warnings_and_still_exits_0() {
    let out = xos(&["check", "tests/fixtures/check/unreachable_rule.xos"]);
    assert_eq!(code(&out), Some(0));
    assert!(stderr(&out).contains("rule `clear_win` can never fire"));
    assert!(stderr(&out).contains("0 errors, 2 warnings"));
}

#[test]
fn check_reports_every_file() {
    let out = xos(&[
        "check",
        "examples/checkout/checkout.xos",
        "tests/fixtures/check/unknown_metric.xos",
        "tests/fixtures/check/duplicate_metric.xos",
    ]);
    assert_eq!(code(&out), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unknown metric `conversoin`"), "{err}");
    assert!(err.contains("metric `revenue` is defined twice"), "{err}");
}

#[test]
fn check_a_missing_file() {
    let out = xos(&["check", "no/such/file.xos"]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("cannot read `no/such/file.xos`: no such file"));
}

#[test]
fn check_json_error_format() {
    let out = xos(&[
        "check",
        "--error-format",
        "json",
        "tests/fixtures/check/unit_mismatch--alpha_pp.xos",
    ]);
    assert_eq!(code(&out), Some(1));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    let first = &json[0];
    assert_eq!(first["code"], "xos::check::unit_mismatch");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["line"], 6);
    assert_eq!(first["labels"][0]["snippet"], "0.1pp");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&xos(&[])), Some(2));
    assert_eq!(code(&xos(&["check"])), Some(2));
    assert_eq!(code(&xos(&["frobnicate"])), Some(2));
    assert_eq!(
        code(&xos(&["check", "--error-format", "xml", "a.xos"])),
        Some(2)
    );
    assert_eq!(code(&xos(&["run", "a.xos", "--format", "pdf"])), Some(2));
    assert_eq!(code(&xos(&["run", "a.xos", "--fail-on", "maybe"])), Some(2));
    assert_eq!(code(&xos(&["plan", "a.xos", "--format", "yaml"])), Some(2));
}

#[test]
fn help_and_version_exit_0() {
    let out = xos(&["--help"]);
    assert_eq!(code(&out), Some(0));
    for command in ["check", "run", "plan", "fmt", "explain"] {
        assert!(stdout(&out).contains(command), "{command}");
    }
    assert_eq!(code(&xos(&["--version"])), Some(0));
}

#[test]
fn explain_shows_columns_settings_and_the_decision_table() {
    let out = xos(&["explain", "examples/latency_guard/search.xos"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "`clicks` (units with the event) over `users`",
        "`latency_ms_sum`, `latency_ms_sum_sq`",
        "worsened  degradation ≥ 5% relative",
        "alpha        5%",
        "correction   holm",
        "1. too_small_to_matter",
        "when primary.better and primary.rel_lift < 2% and no guardrail severe  →  hold",
        "2. srm_blocked",
        "3. invalid_data",
        "otherwise",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn explain_a_broken_spec_exits_1() {
    let out = xos(&["explain", "tests/fixtures/check/missing_primary.xos"]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("no primary metric"));
}

#[test]
fn fmt_check_and_rewrite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("pricing.xos");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/multiarm/pricing.xos"),
        &file,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let path = file.to_string_lossy().into_owned();

    let out = xos(&["fmt", "--check", &path]);
    assert_eq!(code(&out), Some(3));
    assert!(stdout(&out).contains("pricing.xos"));

    let out = xos(&["fmt", &path]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(written.contains("    variants {\n        control   33.3%\n"));

    let out = xos(&["fmt", "--check", &path]);
    assert_eq!(code(&out), Some(0));
    assert_eq!(stdout(&out), "");
    // No temporary file is left behind.
    let entries = std::fs::read_dir(dir.path())
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(entries, 1);
}

#[test]
fn fmt_check_on_canonical_files_exits_0() {
    let out = xos(&[
        "fmt",
        "--check",
        "examples/checkout/checkout.xos",
        "rules/default.xos",
        "rules/strict.xos",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stdout(&out));
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse() {
    let out = xos(&[
        "fmt",
        "--check",
        "tests/fixtures/check/unterminated_string.xos",
    ]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("unterminated string"));
}

#[test]
fn a_closed_standard_output_ends_quietly_with_141() {
    // `xos run … | head -0`: the reader is gone before xos writes. The
    // memo is on stdout, so the first write meets a closed pipe.
    for args in [
        &["run", "examples/checkout/checkout.xos"][..],
        &["test", "rules"][..],
        &["diff", "rules/default.xos", "rules/strict.xos"][..],
    ] {
        // The read end is closed before xos starts, so the outcome does not
        // depend on who runs first.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xos"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("xos ends");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
    }
}

//! Every data problem of DESIGN.md §3 is a diagnostic with file, line and
//! column, never a panic and never a memo. One CSV per problem in
//! `tests/fixtures/data/`, all checked against `spec.xos`; files named
//! `*good.csv` / `*_ok.csv` are valid and must evaluate.

use std::path::{Path, PathBuf};

use xos::diagnostic::Diagnostics;
use xos::{RunOptions, run_once};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data")
}

fn render(diagnostics: &Diagnostics) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    let mut out = String::new();
    for diagnostic in diagnostics.iter() {
        handler
            .render_report(&mut out, diagnostic)
            .expect("rendering to a string cannot fail");
        out.push('\n');
    }
    // Paths differ between machines; keep them relative to the fixtures.
    out.replace(&format!("{}/", fixtures().display()), "")
}

fn csv_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    files
}

fn run(csv: &Path) -> Result<xos::Outcome, Diagnostics> {
    let options = RunOptions {
        data: Some(csv.to_path_buf()),
        date: None,
        allow_outside: false,
        folders: None,
    };
    run_once(&fixtures().join("spec.xos"), &options)
}

#[test]
fn every_bad_file_is_a_located_diagnostic() {
    let mut seen = 0;
    for csv in csv_files() {
        let name = csv.file_stem().unwrap().to_string_lossy().into_owned();
        if name.ends_with("good") || name.ends_with("_ok") {
            continue;
        }
        seen += 1;
        let errors = match run(&csv) {
            Ok(_) => panic!("{name}: a bad file was evaluated"),
            Err(errors) => errors,
        };
        assert!(errors.has_errors(), "{name}: no error reported");
        for error in errors.errors() {
            assert!(
                error
                    .file_name()
                    .is_some_and(|f| f.ends_with(&format!("{name}.csv"))),
                "{name}: diagnostic `{}` does not name the file",
                error.message
            );
            assert!(
                error.location().is_some(),
                "{name}: diagnostic `{}` has no line and column",
                error.message
            );
        }
        insta::assert_snapshot!(format!("data_{name}"), render(&errors));
    }
    assert!(seen >= 14, "only {seen} bad-data fixtures found");
}

#[test]
fn valid_files_evaluate() {
    for name in ["good", "trimmed_labels_ok"] {
        let outcome = run(&fixtures().join(format!("{name}.csv")))
            .unwrap_or_else(|e| panic!("{name}: {}", render(&e)));
        assert_eq!(outcome.report.metrics[0].variants[1].units, 10050, "{name}");
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let errors = run(&fixtures().join("not_a_number.csv")).expect_err("bad file");
    assert_eq!(errors.errors().count(), 2, "{}", render(&errors));
}

#[test]
fn a_missing_file_is_a_diagnostic() {
    let errors = run(&fixtures().join("no_such_file.csv")).expect_err("missing file");
    let error = errors.errors().next().expect("one error");
    assert!(error.message.contains("cannot read"), "{}", error.message);
    assert!(
        error
            .file_name()
            .is_some_and(|f| f.ends_with("no_such_file.csv"))
    );
}

/// `data "…" { delimiter ";" }` reads the `;`-separated export (the one
/// that without it is the `semicolon_separated` error) as `good.csv`.
#[test]
fn a_declared_delimiter_reads_the_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = std::fs::read_to_string(fixtures().join("spec.xos")).expect("spec");
    let spec = spec.replace(
        "data \"good.csv\"",
        "data \"semicolon_separated.csv\" { delimiter \";\" }",
    );
    assert!(spec.contains("delimiter"), "the fixture spec changed");
    let path = dir.path().join("spec.xos");
    std::fs::write(&path, spec).expect("write spec");
    std::fs::copy(
        fixtures().join("semicolon_separated.csv"),
        dir.path().join("semicolon_separated.csv"),
    )
    .expect("copy data");
    let options = RunOptions {
        data: None,
        date: None,
        allow_outside: false,
        folders: None,
    };
    let semicolons = run_once(&path, &options).unwrap_or_else(|e| panic!("{}", render(&e)));
    let commas = run(&fixtures().join("good.csv")).expect("good.csv");
    assert_eq!(
        serde_json::to_value(&semicolons.report.metrics).expect("json"),
        serde_json::to_value(&commas.report.metrics).expect("json")
    );
}

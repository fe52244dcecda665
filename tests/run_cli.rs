//! `xos run` and `xos plan` through the binary: outputs, exit codes, CI
//! gating, folders of specs, `xos.toml` defaults and template overrides.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xos(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xos"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run xos")
}

fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(path)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SPEC: &str = "experiment small {
    data \"data.csv\"
    variants { control 50% treatment 50% }
    primary conversion = rate(conversions) { baseline 12% mde 5% relative }
    plan { daily_users 20_000 }
}
";

fn project(data: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("small.xos"), SPEC).unwrap();
    std::fs::write(dir.path().join("data.csv"), data).unwrap();
    dir
}

// Past the plan's 47,034 units per arm, so the default policy may launch.
const WIN: &str = "variant,users,conversions\ncontrol,50000,6000\ntreatment,50100,6600\n";
const HARM: &str = "variant,users,conversions\ncontrol,10000,1200\ntreatment,10000,1000\n";

#[test]
fn run_prints_the_memo_and_exits_0() {
    let out = xos(
        &["run", example("checkout/checkout.xos").to_str().unwrap()],
        Path::new("."),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("# One-page checkout: LAUNCH"));
}

#[test]
fn fail_on_gates_with_exit_3() {
    let dir = project(HARM);
    let out = xos(
        &[
            "run",
            "small.xos",
            "--fail-on",
            "rollback,hold",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["decision"]["verdict"], "rollback");

    let out = xos(&["run", "small.xos", "--fail-on", "hold"], dir.path());
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn output_file_is_written_and_bad_data_writes_nothing() {
    let dir = project(WIN);
    let out = xos(
        &["run", "small.xos", "--format", "html", "-o", "memo.html"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let html = std::fs::read_to_string(dir.path().join("memo.html")).unwrap();
    assert!(html.contains("<!DOCTYPE html>") && html.contains("LAUNCH"));

    std::fs::write(
        dir.path().join("data.csv"),
        "variant,users,conversions\ncontrol,10000,-3\ntreatment,10050,1320\n",
    )
    .unwrap();
    let out = xos(&["run", "small.xos", "-o", "bad.md"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("must be a non-negative integer") && stderr.contains("data.csv:2:"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("bad.md").exists(),
        "a failed run left a memo"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("xos-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn data_override_replaces_the_spec_path() {
    let dir = project(WIN);
    std::fs::write(dir.path().join("other.csv"), HARM).unwrap();
    let out = xos(
        &[
            "run",
            "small.xos",
            "--data",
            "other.csv",
            "--format",
            "json",
        ],
        dir.path(),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["decision"]["rule"], "primary_harm");
}

#[test]
fn a_folder_of_specs_gives_one_memo_each() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = xos(
        &[
            "run",
            example("").to_str().unwrap(),
            "--out",
            out_dir.path().to_str().unwrap(),
        ],
        Path::new("."),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for name in ["checkout_redesign", "pricing_page", "search_ranking"] {
        let memo = std::fs::read_to_string(out_dir.path().join(format!("{name}.md"))).unwrap();
        assert!(memo.starts_with("# "), "{name}");
    }
}

/// The names of the temporaries xos left in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("xos-tmp"))
        .collect()
}

/// A folder run writes its memos under temporary names while it evaluates,
/// and renames them only once every spec has passed: one failed spec leaves
/// the memos of the last run as they were, creates no folder and leaves no
/// temporary; a run that passes creates a missing nested `--out` folder.
#[test]
fn a_folder_run_with_a_failed_spec_changes_no_memo() {
    let dir = project(WIN);
    std::fs::write(dir.path().join("other.xos"), SPEC.replace("small", "other")).unwrap();
    let out = xos(&["run", ".", "--out", "memos"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let before = std::fs::read_to_string(dir.path().join("memos/small.md")).unwrap();
    assert!(before.contains("LAUNCH"), "{before}");

    // `other` now fails on its data; `small`'s data turns to a harm.
    std::fs::write(dir.path().join("data.csv"), HARM).unwrap();
    std::fs::write(
        dir.path().join("other.xos"),
        SPEC.replace("small", "other")
            .replace("data.csv", "missing.csv"),
    )
    .unwrap();
    for out_dir in ["memos", "new/nested"] {
        let out = xos(&["run", ".", "--out", out_dir], dir.path());
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("missing.csv"));
    }
    let after = std::fs::read_to_string(dir.path().join("memos/small.md")).unwrap();
    assert_eq!(after, before, "a memo changed in a failed run");
    assert!(
        !dir.path().join("new").exists(),
        "a failed run made a folder"
    );
    for folder in [dir.path(), &dir.path().join("memos")] {
        assert_eq!(temporaries(folder), Vec::<String>::new());
    }

    std::fs::remove_file(dir.path().join("other.xos")).unwrap();
    let out = xos(&["run", ".", "--out", "new/nested"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let memo = std::fs::read_to_string(dir.path().join("new/nested/small.md")).unwrap();
    assert!(memo.starts_with("# small: ROLL BACK"), "{memo}");
    for folder in [dir.path(), &dir.path().join("new/nested")] {
        assert_eq!(temporaries(folder), Vec::<String>::new());
    }
}

/// A folder where one memo goes fails that memo before any rename: the
/// other spec's memo is not written either.
#[test]
fn a_folder_in_place_of_a_memo_fails_the_run_before_any_rename() {
    let dir = project(WIN);
    std::fs::write(dir.path().join("other.xos"), SPEC.replace("small", "other")).unwrap();
    std::fs::create_dir_all(dir.path().join("memos/small.md")).unwrap();
    let out = xos(&["run", ".", "--out", "memos"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("xos::io::write") && err.contains("small.md"),
        "{err}"
    );
    assert!(
        !dir.path().join("memos/other.md").exists(),
        "a memo was written"
    );
    assert_eq!(temporaries(&dir.path().join("memos")), Vec::<String>::new());
}

/// An `--out` folder that is a symlink to nothing is named as such, not as
/// the OS's "File exists".
#[cfg(unix)]
#[test]
fn an_out_folder_that_is_a_dangling_symlink_is_named() {
    let dir = project(WIN);
    std::os::unix::fs::symlink("no/such/place", dir.path().join("memos")).unwrap();
    for out_dir in ["memos", "memos/nested"] {
        let out = xos(&["run", ".", "--out", out_dir], dir.path());
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains("`memos` is a symlink to `no/such/place`, which does not exist"),
            "{err}"
        );
    }
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

/// A memo that cannot be written names the memo and the OS error, never the
/// temporary file xos tried to create.
#[test]
fn a_write_error_names_the_memo_not_the_temporary() {
    let dir = project(WIN);
    std::fs::write(dir.path().join("taken"), "a file, not a folder").unwrap();
    for out_dir in ["taken", "taken/sub"] {
        let out = xos(&["run", ".", "--out", out_dir], dir.path());
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains("xos::io::write") && err.contains("small.md"),
            "{err}"
        );
        assert!(!err.contains("xos-tmp"), "{err}");
    }
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

/// A folder run looks each folder's `xos.toml` up once and shares it with
/// the folder's specs: each spec still gets the toml in force for its own
/// folder (its own, one above, or none), and the paths of a spec with no
/// toml above it stay inside its own folder.
#[test]
fn a_folder_run_gives_each_spec_the_xos_toml_of_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for folder in ["a/deep", "b", "c"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    std::fs::write(root.join("a/xos.toml"), "[settings]\nalpha = 0.1\n").unwrap();
    for (spec, name) in [
        ("a/s1.xos", "s1"),
        ("a/deep/s2.xos", "s2"),
        ("b/s3.xos", "s3"),
    ] {
        let path = root.join(spec);
        std::fs::write(&path, SPEC.replace("small", name)).unwrap();
        std::fs::write(path.with_file_name("data.csv"), WIN).unwrap();
    }
    let out = xos(&["run", ".", "--format", "json"], root);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let alpha = |name: &str| {
        reports
            .iter()
            .find(|r| r["experiment"] == name)
            .map(|r| r["settings"]["alpha"].as_f64())
    };
    assert_eq!(alpha("s1"), Some(Some(0.1)));
    assert_eq!(alpha("s2"), Some(Some(0.1)));
    assert_eq!(alpha("s3"), Some(Some(0.05)));

    // `c` has no `xos.toml` above it: its repository is its own folder.
    std::fs::write(
        root.join("c/s4.xos"),
        SPEC.replace("small", "s4")
            .replace("data.csv", "../b/data.csv"),
    )
    .unwrap();
    let out = xos(&["run", ".", "--format", "json"], root);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("xos::check::path_outside"));
}

#[test]
fn xos_toml_supplies_templates_and_the_output_folder() {
    let dir = project(WIN);
    std::fs::write(
        dir.path().join("xos.toml"),
        "output = \"memos\"\ntemplates = \"templates\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/memo.md"),
        "{{ report.experiment }}: {{ report.decision.verdict }} by {{ report.decision.rule }}\n",
    )
    .unwrap();
    let out = xos(&["run", "small.xos"], dir.path());
    assert_eq!(
        text(&out.stdout),
        "small: launch by clear_win\n",
        "{}",
        text(&out.stderr)
    );

    // A folder run writes into the configured output folder.
    let out = xos(&["run", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let memo = std::fs::read_to_string(dir.path().join("memos/small.md")).unwrap();
    assert_eq!(memo, "small: launch by clear_win\n");

    // --templates wins over xos.toml; the HTML template is still the built-in one.
    std::fs::create_dir(dir.path().join("other")).unwrap();
    std::fs::write(
        dir.path().join("other/memo.md"),
        "custom {{ memo.verdict_word }}\n",
    )
    .unwrap();
    let out = xos(&["run", "small.xos", "--templates", "other"], dir.path());
    assert_eq!(text(&out.stdout), "custom Launch\n");
    let out = xos(
        &[
            "run",
            "small.xos",
            "--templates",
            "other",
            "--format",
            "html",
        ],
        dir.path(),
    );
    assert!(text(&out.stdout).contains("<!DOCTYPE html>"));
}

#[test]
fn a_broken_user_template_is_a_diagnostic() {
    let dir = project(WIN);
    std::fs::create_dir(dir.path().join("t")).unwrap();
    std::fs::write(dir.path().join("t/memo.md"), "{{ report.no_such_key }}\n").unwrap();
    let out = xos(&["run", "small.xos", "--templates", "t"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("memo template"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plan_gives_sizes_per_arm_total_and_days() {
    let dir = project(WIN);
    let out = xos(&["plan", "small.xos", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Matches the reference formula: zz² (p1 q1 + p2 q2) / Δ² with p1 = 12%, p2 = 12.6%.
    assert_eq!(plan["per_variant"]["control"], 47034);
    assert_eq!(plan["per_variant"]["treatment"], 47034);
    assert_eq!(plan["total"], 94068);
    assert_eq!(plan["days"], 5);

    let out = xos(&["plan", "small.xos"], dir.path());
    assert!(text(&out.stdout).contains("47,034 units"));
    assert!(
        text(&out.stdout).contains("MDE 0.6 pp (an absolute increase)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn plan_without_inputs_explains_what_is_missing() {
    let dir = project(WIN);
    let spec = SPEC.replace(" { baseline 12% mde 5% relative }", "");
    std::fs::write(dir.path().join("small.xos"), spec).unwrap();
    let out = xos(&["plan", "small.xos"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("has no `mde`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = xos(&["run", "--format", "pdf", "x.xos"], Path::new("."));
    assert_eq!(out.status.code(), Some(2));
}

/// Two specs of one experiment name (a copied spec) in a folder run: refused
/// before any memo is written, naming both specs; `xos check` says the same.
#[test]
fn two_specs_of_one_name_are_refused_before_writing() {
    let dir = project(WIN);
    // The repository's root: the copy may read `../data.csv`.
    std::fs::write(dir.path().join("xos.toml"), "# the repository's root\n").unwrap();
    std::fs::create_dir(dir.path().join("copy")).unwrap();
    std::fs::write(
        dir.path().join("copy/small.xos"),
        SPEC.replace("data.csv", "../data.csv"),
    )
    .unwrap();
    let out = xos(&["run", ".", "--out", "memos"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("xos::check::duplicate_experiment"), "{err}");
    assert!(
        err.contains("small.xos") && err.contains("declared again here"),
        "{err}"
    );
    assert!(!dir.path().join("memos").exists(), "nothing may be written");
    let out = xos(&["check", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("xos::check::duplicate_experiment"));
}

/// The format follows `-o`'s extension; a contradiction or an unknown
/// extension is a usage error; `-o` and `--out` do not combine.
#[test]
fn the_output_extension_picks_the_format() {
    let dir = project(WIN);
    for (name, starts) in [
        ("v.json", "{"),
        ("m.html", "<!DOCTYPE html>"),
        ("m.md", "# "),
        ("v.jsonl", "{\"schema\""),
    ] {
        let out = xos(&["run", "small.xos", "-o", name], dir.path());
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let written = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(written.starts_with(starts), "{name}: {written}");
        assert!(text(&out.stderr).contains(&format!("small: launch (clear_win) · {name}")));
    }
    let out = xos(
        &["run", "small.xos", "-o", "v.json", "--format", "md"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("contradicts the extension"));
    let out = xos(&["run", "small.xos", "-o", "memo.txt"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("memo.txt").exists());
    let out = xos(
        &["run", "small.xos", "-o", "m.md", "--out", "d"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("d").exists() && !dir.path().join("m2.md").exists());
}

/// Several reports on stdout: one JSON array, or JSON Lines; several HTML
/// documents on stdout are a usage error.
#[test]
fn several_reports_on_stdout_stay_parseable() {
    let examples = example("");
    let path = examples.to_str().unwrap();
    let out = xos(&["run", path, "--format", "json"], Path::new("."));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let specs = all.as_array().unwrap().len();
    assert!(specs >= 4, "{specs}");
    let out = xos(&["run", path, "--format", "jsonl"], Path::new("."));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), specs);
    assert_eq!(lines[0], all[0]);
    let out = xos(&["run", path, "--format", "html"], Path::new("."));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// A templates folder that does not exist is an error, from the flag and
/// from `xos.toml`, never a silent fallback to the built-in memo.
#[test]
fn a_missing_templates_folder_is_an_error() {
    let dir = project(WIN);
    let out = xos(&["run", "small.xos", "--templates", "nodir"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("xos::run::missing_templates"));
    std::fs::write(dir.path().join("xos.toml"), "templates = \"nodir\"\n").unwrap();
    let out = xos(&["run", "small.xos"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("xos::config::missing_templates") && err.contains("xos.toml:1"),
        "{err}"
    );
}

/// `--fail-on` says which spec and verdict tripped it; `--date` takes real
/// calendar dates only.
#[test]
fn fail_on_says_why_and_dates_are_validated() {
    let dir = project(WIN);
    let out = xos(&["run", "small.xos", "--fail-on", "launch"], dir.path());
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("`small` (small.xos) ended in launch, which `--fail-on` lists")
    );
    for bad in [
        "yesterday",
        "2026-02-30",
        "2026-13-01",
        "2026-1-01",
        "2025-02-29",
    ] {
        let out = xos(&["run", "small.xos", "--date", bad], dir.path());
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
    let out = xos(&["run", "small.xos", "--date", "2024-02-29"], dir.path());
    assert_eq!(out.status.code(), Some(0));
}

/// A folder with no `.xos` files checks, tests and formats nothing: exit 1.
#[test]
fn an_empty_folder_is_not_a_success() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["check", "test", "fmt"] {
        let out = xos(&[command, "."], dir.path());
        assert_eq!(out.status.code(), Some(1), "{command}");
        assert!(text(&out.stderr).contains("no `.xos` files"), "{command}");
    }
}

/// An error past column 65,535 (a pasted blob, a minified file) is reported
/// with its line and column, without the source line, and never panics the
/// renderer.
#[test]
fn an_error_on_a_very_long_line_is_located_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!(
        "experiment x {{\n  title \"{}\" bogus 1\n}}\n",
        "a".repeat(70_000)
    );
    std::fs::write(dir.path().join("long.xos"), spec).unwrap();
    for command in ["check", "run", "explain", "fmt"] {
        let out = xos(&[command, "long.xos"], dir.path());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert!(!err.contains("panicked"), "{command}: {err}");
        assert!(
            err.contains("long.xos:2:70012: error[xos::parse::syntax]"),
            "{command}: {err}"
        );
        assert!(err.len() < 2_000, "{command}: the long line is not echoed");
    }
}

/// Labels and columns that are not identifiers are quoted in the spec, read
/// as written from the data, kept quoted by `xos fmt`, and a `;`-separated
/// export is read with `delimiter ";"`.
#[test]
fn quoted_labels_and_columns_run_and_format() {
    let spec = "experiment quoted {\n    data \"export.csv\" {\n        delimiter \";\"\n    }\n    variants {\n        \"Control\"   50%\n        \"Variant A\" 50%\n    }\n    primary paid = rate(\"paid users\")\n    metric spend = mean(\"spend-eur\")\n}\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("quoted.xos"), spec).unwrap();
    std::fs::write(
        dir.path().join("export.csv"),
        "variant;users;paid users;spend-eur_sum;spend-eur_sum_sq\nControl;10000;1200;50000;600000\nVariant A;10050;1320;52000;640000\n",
    )
    .unwrap();
    let out = xos(&["run", "quoted.xos", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["metrics"][0]["variants"][1]["name"], "Variant A");
    assert_eq!(report["metrics"][0]["variants"][1]["units"], 10050);
    assert_eq!(report["decision"]["verdict"], "launch", "{report}");
    let out = xos(&["fmt", "--check", "quoted.xos"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = xos(&["explain", "quoted.xos"], dir.path());
    assert!(
        text(&out.stdout).contains("delimiter       `;`"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("reads     `paid users`"),
        "{}",
        text(&out.stdout)
    );
}

/// `plan { duration }` is the planned horizon: `plan.sample_reached` and the
/// units still missing are measured against the units it collects at
/// `daily_users` (not the MDE's sample), and `xos plan` compares it with
/// the days the MDE needs.
#[test]
fn a_declared_duration_sets_when_the_sample_is_reached() {
    let data = "variant,users,conversions\ncontrol,30000,3600\ntreatment,30000,3900\n";
    let report = |plan_block: &str| -> serde_json::Value {
        let dir = project(data);
        let spec = SPEC.replace("plan { daily_users 20_000 }", plan_block);
        assert!(spec.contains(plan_block), "the test spec changed");
        std::fs::write(dir.path().join("small.xos"), spec).unwrap();
        let out = xos(&["run", "small.xos", "--format", "json"], dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // The MDE needs 47,034 per arm (5 days): 30,000 is not enough.
    let mde = report("plan { daily_users 20_000 }");
    assert_eq!(mde["plan"]["sample_reached"], false);
    assert!(mde["plan"].get("duration_days").is_none());
    // Two declared days collect 20,000 per arm: reached.
    let short = report("plan { daily_users 20_000 duration 2d }");
    assert_eq!(short["plan"]["sample_reached"], true);
    assert_eq!(short["plan"]["duration_days"], 2.0);
    assert_eq!(short["plan"]["duration_units"], 40000);
    // Fourteen days collect 140,000 per arm: 110,000 to go, 11 days.
    let long = report("plan { daily_users 20_000 duration 14d }");
    assert_eq!(long["plan"]["sample_reached"], false);
    assert_eq!(long["plan"]["remaining"][0]["units"], 110000);
    assert_eq!(long["plan"]["days_remaining"], 11);

    let dir = project(data);
    let spec = SPEC.replace(
        "plan { daily_users 20_000 }",
        "plan { daily_users 20_000 duration 2d }",
    );
    std::fs::write(dir.path().join("small.xos"), spec).unwrap();
    let out = xos(&["plan", "small.xos"], dir.path());
    assert!(
        text(&out.stdout).contains(
            "planned duration 2 days (40,000 units): shorter than the 5 days needed: the test is underpowered"
        ),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("xos::check::short_duration"),
        "{}",
        text(&out.stderr)
    );
}

/// A new memo is readable as any new file is (0666 less the umask), not
/// private to its writer as a temporary file is; an existing memo keeps
/// its permissions.
#[cfg(unix)]
#[test]
fn new_memos_take_the_umask_and_existing_ones_keep_their_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let spec = example("checkout/checkout.xos");
    let run = |umask: &str, out: &str| {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" run \"$1\" -o \"$2\""))
            .arg(env!("CARGO_BIN_EXE_xos"))
            .arg(&spec)
            .arg(dir.path().join(out))
            .status()
            .unwrap();
        assert!(status.success());
        let meta = std::fs::metadata(dir.path().join(out)).unwrap();
        meta.permissions().mode() & 0o777
    };
    assert_eq!(run("022", "a.md"), 0o644);
    assert_eq!(run("077", "b.md"), 0o600);
    std::fs::set_permissions(
        dir.path().join("a.md"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    assert_eq!(run("022", "a.md"), 0o640);
}

/// `-o -` is standard output, as `--data -` is standard input: no file
/// named `-` is written.
#[test]
fn output_dash_is_standard_output() {
    let dir = project(WIN);
    let out = xos(
        &["run", "small.xos", "-o", "-", "--format", "json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"schema\": \"xos.report/v1\""));
    assert!(!dir.path().join("-").exists());
}

/// A folder that exists but takes no new files (`/proc`) is named as such,
/// not reported as a cross-device rename from the folder above it.
#[cfg(target_os = "linux")]
#[test]
fn a_folder_that_takes_no_files_is_named() {
    let dir = project(WIN);
    let out = xos(&["run", "small.xos", "-o", "/proc/xos-memo.md"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("the folder `/proc` does not take new files"),
        "{err}"
    );
    assert!(!err.contains("cross-device"), "{err}");
}

/// `--fail-on rollback` gates a multi-arm experiment that launches one arm
/// and rolls back another (a severe guardrail on `variant_b`): a rollback
/// in the decision is never waved through by the headline's launch.
#[test]
fn fail_on_rollback_sees_a_rolled_back_arm_behind_a_launch() {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/multiarm/pricing.xos"),
    )
    .unwrap();
    std::fs::write(dir.path().join("pricing.xos"), spec).unwrap();
    std::fs::write(
        dir.path().join("pricing.csv"),
        "variant,users,conversions,guardrail_error\n\
         control,10000,1200,35\nvariant_a,9800,1300,40\nvariant_b,10200,1230,200\n",
    )
    .unwrap();
    let out = xos(
        &[
            "run",
            "pricing.xos",
            "--format",
            "json",
            "--fail-on",
            "rollback",
        ],
        dir.path(),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["decision"]["verdict"], "launch", "{report}");
    assert_eq!(report["decision"]["rolled_back"][0], "variant_b");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("ended in launch but rolls back `variant_b`"),
        "{}",
        text(&out.stderr)
    );
    // Gating on hold alone lets the launch through.
    let out = xos(&["run", "pricing.xos", "--fail-on", "hold"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

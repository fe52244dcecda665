//! `xos run DIR` over a folder of many specs: the specs run on every core,
//! but memos come out in the specs' order, and `--sync` (an fsync per memo)
//! writes the same files as the default (one filesystem sync at the end).

use std::path::Path;
use std::process::Command;

const SPECS: usize = 24;

/// `SPECS` copies of the checkout example, `exp_00` … `exp_23`, each with
/// its own data (the treatment's conversions vary, so verdicts differ).
fn fleet(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/checkout");
    let spec = std::fs::read_to_string(root.join("checkout.xos")).unwrap();
    for i in 0..SPECS {
        let name = format!("exp_{i:02}");
        std::fs::write(
            dir.join(format!("{name}.xos")),
            spec.replace("checkout_redesign", &name)
                .replace("checkout.csv", &format!("{name}.csv")),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}.csv")),
            format!(
                "variant,users,conversions,guardrail_cancel,guardrail_error,revenue_sum,revenue_sum_sq\n\
                 control,10000,1200,120,35,250000,15000000\n\
                 treatment,10050,{},118,33,280000,17000000\n",
                1100 + 10 * i
            ),
        )
        .unwrap();
    }
}

fn xos(args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_xos"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn memos_come_out_in_the_specs_order() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path());
    let folder = xos(&["run", dir.path().to_str().unwrap(), "--date", "2026-01-01"]);
    // The same bytes as one spec at a time, in the specs' sorted order (the
    // memos differ, as each spec has its own data).
    let mut one_by_one = Vec::new();
    for i in 0..SPECS {
        let spec = dir.path().join(format!("exp_{i:02}.xos"));
        let out = xos(&["run", spec.to_str().unwrap(), "--date", "2026-01-01"]);
        assert!(!out.stdout.is_empty());
        one_by_one.extend(out.stdout);
    }
    assert_eq!(
        String::from_utf8_lossy(&folder.stdout),
        String::from_utf8_lossy(&one_by_one)
    );
}

#[test]
fn sync_writes_the_same_memos() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path());
    let specs = dir.path().to_str().unwrap();
    let (deferred, synced) = (dir.path().join("deferred"), dir.path().join("synced"));
    xos(&[
        "run",
        specs,
        "--out",
        deferred.to_str().unwrap(),
        "--date",
        "2026-01-01",
    ]);
    xos(&[
        "run",
        specs,
        "--out",
        synced.to_str().unwrap(),
        "--date",
        "2026-01-01",
        "--sync",
    ]);
    for i in 0..SPECS {
        let name = format!("exp_{i:02}.md");
        let a = std::fs::read(deferred.join(&name)).unwrap();
        let b = std::fs::read(synced.join(&name)).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b, "{name}");
    }
    // Nothing but the memos: no temporary files left behind.
    assert_eq!(std::fs::read_dir(&deferred).unwrap().count(), SPECS);
}

/// `xos run DIR` reads each spec once (`find_spec_sources`): it finds the
/// same specs as `find_specs` (policies skipped, by their first word past
/// comments, also in a file that is not UTF-8), hands over each spec's text
/// as read, and leaves a reading error to that spec's run.
#[test]
fn a_folder_run_reads_each_spec_once_and_finds_the_same_specs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fleet(root);
    std::fs::create_dir(root.join("rules")).unwrap();
    std::fs::write(
        root.join("rules/strict.xos"),
        "// house rules\n\npolicy strict { otherwise hold because \"Wait.\" }\n",
    )
    .unwrap();
    std::fs::write(root.join("rules/latin1.xos"), b"policy caf\xe9 {}\n").unwrap();
    std::fs::write(root.join("broken.xos"), b"experiment caf\xe9 {}\n").unwrap();
    std::fs::write(root.join(".hidden.xos"), "experiment hidden {}\n").unwrap();
    // A byte-order mark before `policy`.
    std::fs::write(
        root.join("rules/bom.xos"),
        "\u{feff}policy bom { otherwise hold because \"Wait.\" }\n",
    )
    .unwrap();
    // The first word past the first 64 KiB: both tell by the first 64 KiB,
    // where there is none, so a spec (which its run then reports).
    std::fs::write(
        root.join("late.xos"),
        format!(
            "{}policy late {{ otherwise hold because \"x\" }}\n",
            "\n".repeat(70_000)
        ),
    )
    .unwrap();
    // A spec of more than 64 KiB is found but not kept: its run reads it.
    let big = std::fs::read_to_string(root.join("exp_00.xos")).unwrap();
    std::fs::write(
        root.join("exp_big.xos"),
        format!(
            "{}{}",
            "// padding\n".repeat(7_000),
            big.replace("experiment exp_00", "experiment exp_big")
        ),
    )
    .unwrap();

    let found = xos::find_spec_sources(root).unwrap();
    let paths: Vec<_> = found.iter().map(|(path, _)| path.clone()).collect();
    assert_eq!(paths, xos::find_specs(root).unwrap());
    assert_eq!(paths.len(), SPECS + 3);
    for (path, source) in &found {
        if path.ends_with("broken.xos") {
            let errors = source.as_ref().unwrap().as_ref().unwrap_err();
            assert_eq!(errors.0[0].code, "xos::io::not_utf8");
        } else if path.ends_with("exp_big.xos") || path.ends_with("late.xos") {
            assert!(source.is_none(), "{} was kept", path.display());
        } else {
            let source = source.as_ref().unwrap().as_ref().unwrap();
            assert_eq!(source.text, std::fs::read_to_string(path).unwrap());
        }
    }
    std::fs::remove_file(root.join("late.xos")).unwrap();

    // The run reports the unreadable spec, located, and runs the others.
    let out = Command::new(env!("CARGO_BIN_EXE_xos"))
        .args(["run", root.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("xos::io::not_utf8"), "{stderr}");
    assert!(stderr.contains("broken.xos"), "{stderr}");

    // Without the unreadable spec, every spec runs, the big one included.
    std::fs::remove_file(root.join("broken.xos")).unwrap();
    let out = xos(&["run", root.to_str().unwrap(), "--format", "json"]);
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports.len(), SPECS + 1);
    assert!(reports.iter().any(|r| r["experiment"] == "exp_big"));
}

#[test]
fn a_broken_xos_toml_is_reported_once_not_once_per_spec() {
    let dir = tempfile::tempdir().unwrap();
    fleet(dir.path());
    std::fs::write(dir.path().join("xos.toml"), "bogus = \n").unwrap();
    for command in ["run", "check"] {
        let out = Command::new(env!("CARGO_BIN_EXE_xos"))
            .args([command, dir.path().to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches("invalid TOML").count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("found {SPECS} times, shown once")),
            "{stderr}"
        );
    }
}

//! Hostile input, one test per kind of attack (issue "hostile input never
//! takes xos down or leaks a file"): every command stays total, bounded and
//! located, whatever the files hold.

use std::path::Path;
use std::process::{Command, Output};

const SPEC: &str = include_str!("../examples/checkout/checkout.xos");
const DATA: &str = include_str!("../examples/checkout/checkout.csv");

fn xos(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xos"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run xos")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A folder with the checkout example, its spec rewritten by `edit`.
fn checkout(edit: impl FnOnce(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("checkout.xos"), edit(SPEC)).unwrap();
    std::fs::write(dir.path().join("checkout.csv"), DATA).unwrap();
    dir
}

/// No panic: the process exited with a code, 0 to 3, and printed no panic.
fn assert_no_panic(out: &Output) {
    let code = out.status.code().expect("exited, not killed by a signal");
    assert!((0..=3).contains(&code), "exit {code}: {}", stderr(out));
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
}

// Kind 1: names of 65,536+ characters panicked in `fmt` and `explain`
// (Rust's `{:width$}` takes at most 65,535).

#[test]
fn long_names_never_panic_in_fmt_or_explain() {
    let name = "v".repeat(70_000);
    let variant = checkout(|s| s.replace("treatment 50%", &format!("{name} 50%")));
    let option = checkout(|s| s.replace("alpha 5%", &format!("alpha 5%\n        {name} 1")));
    let rule = checkout(|s| {
        s.replace(
            "    settings {",
            &format!("    rule {name} {{\n        when primary.better\n        then launch\n        because \"x\"\n    }}\n    settings {{"),
        )
    });
    for dir in [&variant, &option, &rule] {
        for args in [
            &["fmt", "--check", "checkout.xos"][..],
            &["fmt", "checkout.xos"],
            &["explain", "checkout.xos"],
            &["check", "checkout.xos"],
        ] {
            let out = xos(dir.path(), args);
            assert_no_panic(&out);
        }
    }
    // The formatted file keeps the long name, unaligned.
    let text = std::fs::read_to_string(variant.path().join("checkout.xos")).unwrap();
    assert!(
        text.contains(&format!("    {name} 50%")),
        "variant line lost"
    );
    let out = xos(variant.path(), &["explain", "checkout.xos"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&name));
}

// Kind 9: temporary files.

#[test]
fn writes_leave_no_temp_files_and_clean_up_stale_ones() {
    let dir = checkout(str::to_string);
    // A temporary of a killed run (no such process) and one of the old
    // `.NAME.xos-tmp-PID` form.
    let stale = dir.path().join(".memo.md.xos-tmp-999999999-AbC123");
    let old = dir.path().join(".memo.md.xos-tmp-999999998");
    std::fs::write(&stale, "half").unwrap();
    std::fs::write(&old, "half").unwrap();
    let out = xos(dir.path(), &["run", "checkout.xos", "-o", "memo.md"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stale.exists() && !old.exists(), "stale temporaries kept");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("xos-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

// Kind 10: `fmt` on a symlink replaced the link with a regular file and left
// the target unformatted.

#[test]
fn fmt_through_a_symlink_formats_the_target_and_keeps_the_link() {
    let dir = checkout(|s| {
        s.replace(
            "    owner      \"growth-squad\"",
            "  owner \"growth-squad\"",
        )
    });
    let link = dir.path().join("link.xos");
    std::os::unix::fs::symlink("checkout.xos", &link).unwrap();
    let out = xos(dir.path(), &["fmt", "link.xos"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced"
    );
    let target = std::fs::read_to_string(dir.path().join("checkout.xos")).unwrap();
    assert!(
        target.contains("    owner      \"growth-squad\""),
        "{target}"
    );
}

// Kind 2: unbounded work and output. Each case printed megabytes (or
// gigabytes) of diagnostics; the output is now the first problems of the
// file and a count. (Speed is measured by `cargo bench`, not here.)

#[test]
fn diagnostics_are_capped_per_file() {
    let dup = checkout(|s| {
        s.replace(
            "alpha 5%",
            &format!("alpha 5%{}", " alpha 5%".repeat(8_000)),
        )
    });
    let out = xos(dup.path(), &["check", "checkout.xos"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("and 7950 more errors `xos::check::duplicate_option` in `checkout.xos`"),
        "{}",
        &err[err.len().saturating_sub(600)..]
    );
    assert!(err.contains("8000 errors"), "the count covers every error");
    assert!(err.len() < 100_000, "{} bytes of diagnostics", err.len());
    let json = xos(
        dup.path(),
        &["check", "--error-format", "json", "checkout.xos"],
    );
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 51);

    let rules: String = (0..3_000)
        .map(|i| format!("    rule r{i} {{\n        when primary.better and srm.p > 0.{}\n        then launch\n        because \"x\"\n    }}\n", i % 9 + 1))
        .collect();
    let many = checkout(|s| s.replace("    settings {", &format!("{rules}    settings {{")));
    let out = xos(many.path(), &["check", "checkout.xos"]);
    assert_no_panic(&out);
    let err = stderr(&out);
    assert!(
        err.contains("xos::check::analysis_skipped"),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(err.contains("more warnings `xos::check::repeated_condition` in `checkout.xos`"));
    assert!(err.len() < 200_000, "{} bytes of diagnostics", err.len());
}

#[test]
fn ragged_rows_and_deep_nesting_are_bounded() {
    let mut csv = String::from(
        "variant,users,conversions,revenue_sum,revenue_sum_sq,guardrail_cancel,guardrail_error\n",
    );
    for i in 0..32_000 {
        csv.push_str(if i % 2 == 0 {
            "control,1,2\n"
        } else {
            "treatment,1,2,3,4,5,6,7,8\n"
        });
    }
    let dir = checkout(str::to_string);
    std::fs::write(dir.path().join("checkout.csv"), csv).unwrap();
    let out = xos(dir.path(), &["run", "checkout.xos"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).len() < 100_000, "{} bytes", stderr(&out).len());

    let deep = checkout(|s| {
        s.replace(
            "    settings {",
            &format!("    rule deep {{\n        when {}primary.better\n        then launch\n        because \"x\"\n    }}\n    settings {{", "not ".repeat(1_000_000)),
        )
    });
    let out = xos(deep.path(), &["check", "checkout.xos"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("checkout.xos:"), "located: {err}");
    assert!(err.len() < 10_000, "{} bytes", err.len());
}

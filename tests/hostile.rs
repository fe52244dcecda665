//! Hostile input, one test per kind of attack (issue "hostile input never
//! takes xos down or leaks a file"): every command stays total, bounded and
//! located, whatever the files hold.

use std::path::Path;
use std::process::{Command, Output};

const SPEC: &str = include_str!("../examples/checkout/checkout.xos");
const DATA: &str = include_str!("../examples/checkout/checkout.csv");

fn xos(dir: &Path, args: &[&str]) -> Output {
    run_env(dir, &[], args)
}

/// Runs xos in `dir` with extra environment variables.
fn run_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xos"))
        .current_dir(dir)
        .envs(env.iter().copied())
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

/// `data "checkout.csv"` in the spec, for JSON locations.
fn data_line(spec: &str) -> (usize, usize) {
    let line = spec.lines().position(|l| l.contains("data \"")).unwrap();
    let col = spec.lines().nth(line).unwrap().find('"').unwrap();
    (line + 1, col + 1)
}

/// `xos run`'s diagnostics (it fails), after `xos check` of the same spec.
fn run_errors(dir: &Path, env: &[(&str, &str)]) -> String {
    let out = run_env(dir, env, &["check", "checkout.xos"]);
    assert_no_panic(&out);
    let out = run_env(dir, env, &["run", "checkout.xos"]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    stderr(&out)
}

/// Whether rendered diagnostics point at `file:line:col`.
fn located(text: &str, file: &str, (line, column): (usize, usize)) -> bool {
    text.contains(&format!("{file}:{line}:{column}"))
}

// Kind 3: unbounded memory. Each limit is a located error; the settings
// lower them here so the files stay small.

#[test]
fn a_gzip_bomb_and_a_gigantic_line_are_refused() {
    use std::io::Write;
    // 80 MiB of one line in a gzip file of ~80 KiB: over the aggregated
    // limit (64 MiB) with the default settings.
    let dir = checkout(str::to_string);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"variant,users,conversions\n").unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..80 {
        gz.write_all(&chunk).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    std::fs::write(dir.path().join("checkout.csv"), &bomb).unwrap();
    let text = run_errors(dir.path(), &[]);
    assert!(text.contains("larger than xos's limit of 64 MiB"), "{text}");
    assert!(located(&text, "checkout.xos", data_line(SPEC)), "{text}");

    // Row-level data: the line-length limit, located at the line.
    let rows = tempfile::tempdir().unwrap();
    let spec = include_str!("../examples/signup_rows/signup.xos");
    std::fs::write(rows.path().join("checkout.xos"), spec).unwrap();
    let mut csv = String::from("user_id,variant,converted,revenue,refund\nu1,control,0,0,0\n");
    csv.push_str(&"x".repeat(3 << 20));
    csv.push('\n');
    std::fs::write(rows.path().join("signups.csv"), csv).unwrap();
    let text = run_errors(rows.path(), &[]);
    assert!(text.contains("longer than xos's limit of 1 MiB"), "{text}");
    assert!(text.contains("xos::data::line_too_long"), "{text}");
    assert!(located(&text, "signups.csv", (3, 1)), "{text}");
}

#[test]
fn aggregated_rows_and_spec_size_are_bounded() {
    let dir = checkout(str::to_string);
    let mut csv = String::from("variant,users,conversions\n");
    for _ in 0..20 {
        csv.push_str("control,10,1\n");
    }
    std::fs::write(dir.path().join("checkout.csv"), csv).unwrap();
    let text = run_errors(dir.path(), &[("XOS_MAX_AGGREGATED_ROWS", "10")]);
    assert!(text.contains("xos::data::too_many_rows"), "{text}");
    assert!(located(&text, "checkout.csv", (12, 1)), "{text}");
    assert!(text.contains("shape rows"), "{text}");

    let big = checkout(|s| format!("{s}{}", "// padding\n".repeat(2_000)));
    let out = run_env(
        big.path(),
        &[("XOS_MAX_SOURCE_BYTES", "10000")],
        &["check", "checkout.xos"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("larger than xos's limit of 10000 bytes"),
        "{}",
        stderr(&out)
    );
}

// Kind 4: non-regular files are refused before they are opened for a
// blocking read; a symlink loop in a folder walk is walked once.

#[test]
fn fifos_devices_and_folders_are_refused() {
    let dir = checkout(str::to_string);
    let fifo = dir.path().join("pipe.csv");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let spec_fifo = dir.path().join("pipe.xos");
    assert!(
        Command::new("mkfifo")
            .arg(&spec_fifo)
            .status()
            .unwrap()
            .success()
    );
    for (data, what) in [
        ("pipe.csv", "FIFO"),
        ("/dev/zero", "a device"),
        (".", "a directory"),
    ] {
        std::fs::write(
            dir.path().join("checkout.xos"),
            SPEC.replace("checkout.csv", data),
        )
        .unwrap();
        // A FIFO without a writer blocked forever: the child has a deadline.
        let mut child = Command::new(env!("CARGO_BIN_EXE_xos"))
            .current_dir(dir.path())
            // `/dev/zero` is outside the spec's folder: allowed, so that
            // the check of the kind of file is the one that refuses it.
            .args(["run", "--allow-outside", "checkout.xos"])
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("xos blocked on {data}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains(what), "{data}: {}", stderr(&out));
    }
    for spec in ["pipe.xos", "/dev/zero"] {
        let out = xos(dir.path(), &["check", spec]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
    }
    // An `xos.toml` that is a folder or a FIFO is refused, not passed over.
    std::fs::remove_file(&spec_fifo).unwrap();
    std::fs::write(dir.path().join("checkout.xos"), SPEC).unwrap();
    let toml = dir.path().join("xos.toml");
    std::fs::create_dir(&toml).unwrap();
    let out = xos(dir.path(), &["run", "checkout.xos"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("xos::io::read"), "{}", stderr(&out));
    std::fs::remove_dir(&toml).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&toml)
            .status()
            .unwrap()
            .success()
    );
    let out = xos(dir.path(), &["run", "checkout.xos"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_symlink_loop_in_a_folder_is_walked_once() {
    let dir = checkout(str::to_string);
    std::os::unix::fs::symlink(".", dir.path().join("loop")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("again")).unwrap();
    let out = xos(dir.path(), &["check", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("checked 1 file"), "{}", stderr(&out));
}

#[test]
fn a_folder_walk_never_follows_a_symlink_out_of_the_folder() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.xos"),
        "experiment secret_plans {\n",
    )
    .unwrap();
    for link_to in ["secret.xos", ""] {
        let dir = checkout(str::to_string);
        let repo = dir.path();
        std::fs::create_dir(repo.join("team")).unwrap();
        let link = repo.join("team").join(if link_to.is_empty() {
            "linked"
        } else {
            "evil.xos"
        });
        std::os::unix::fs::symlink(outside.path().join(link_to), &link).unwrap();
        for args in [
            &["check", "."][..],
            &["run", ".", "--out", "memos"],
            &["test", "."],
        ] {
            let out = xos(repo, args);
            assert_no_panic(&out);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains("xos::io::walk_outside"), "{args:?}: {err}");
            assert!(err.contains("is a symlink to"), "{err}");
            assert!(err.contains(", outside `.`"), "{err}");
            // Nothing of the file it leads to is read, let alone quoted.
            assert!(!err.contains("secret_plans"), "{err}");
        }
        assert!(!repo.join("memos").exists());
        // Named on the command line, a spec is the user's own.
        if !link_to.is_empty() {
            let out = xos(repo, &["check", "team/evil.xos"]);
            assert!(stderr(&out).contains("secret_plans"), "{}", stderr(&out));
        }
    }
    // Symlinks that stay inside are followed as before.
    let dir = checkout(str::to_string);
    let repo = dir.path();
    std::fs::create_dir_all(repo.join("real")).unwrap();
    std::fs::create_dir_all(repo.join("team")).unwrap();
    std::fs::write(repo.join("real/pricing.csv"), DATA).unwrap();
    std::fs::write(
        repo.join("real/pricing.xos"),
        SPEC.replace("checkout_redesign", "pricing")
            .replace("checkout.csv", "pricing.csv"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../real", repo.join("team/real")).unwrap();
    let out = xos(repo, &["check", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("checked 2 files"), "{}", stderr(&out));
}

// Kind 8: errors without a location.

#[test]
fn invalid_utf8_and_unreadable_data_are_located() {
    let dir = checkout(str::to_string);
    let mut bytes = SPEC.as_bytes().to_vec();
    let at = SPEC.find("growth").unwrap() + 2;
    bytes[at] = 0xff;
    std::fs::write(dir.path().join("checkout.xos"), bytes).unwrap();
    let out = xos(
        dir.path(),
        &["check", "--error-format", "json", "checkout.xos"],
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let line = SPEC[..at].lines().count();
    let column = SPEC[..at].lines().last().unwrap().chars().count() + 1;
    assert_eq!(list[0]["code"], "xos::io::not_utf8");
    assert_eq!(list[0]["line"], line);
    assert_eq!(list[0]["column"], column);

    let missing = checkout(str::to_string);
    std::fs::remove_file(missing.path().join("checkout.csv")).unwrap();
    let text = run_errors(missing.path(), &[]);
    assert!(text.contains("xos::data::unreadable"), "{text}");
    assert!(located(&text, "checkout.xos", data_line(SPEC)), "{text}");
    let truncated = checkout(str::to_string);
    std::fs::write(
        truncated.path().join("checkout.csv"),
        [0x1f, 0x8b, 8, 0, 0, 0],
    )
    .unwrap();
    let text = run_errors(truncated.path(), &[]);
    assert!(text.contains("xos::data::unreadable"), "{text}");
    assert!(located(&text, "checkout.xos", data_line(SPEC)), "{text}");
}

// Kind 7: numbers that overflow to infinity once converted.

#[test]
fn numbers_that_overflow_when_converted_are_rejected_where_written() {
    let dir = checkout(|s| s.replacen("severe   0.3pp", "severe   1e307 relative", 1));
    let out = xos(
        dir.path(),
        &["check", "--error-format", "json", "checkout.xos"],
    );
    assert_eq!(out.status.code(), Some(1));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["code"], "xos::check::out_of_range", "{list}");
    let line = SPEC
        .lines()
        .position(|l| l.contains("severe   0.3pp"))
        .unwrap()
        + 1;
    assert_eq!(list[0]["line"], line);
    let out = xos(dir.path(), &["explain", "checkout.xos"]);
    assert!(!stdout(&out).contains("inf"), "{}", stdout(&out));
    let big = checkout(|s| s.replace("daily_users 20_000", "daily_users 1.8e308"));
    let out = xos(big.path(), &["check", "checkout.xos"]);
    assert_eq!(out.status.code(), Some(1));
    // A count past u64 is a whole number too large, not "not an integer".
    let big = checkout(|s| s.to_string());
    std::fs::write(
        big.path().join("checkout.csv"),
        DATA.replace("control,48000,", "control,18446744073709551616,"),
    )
    .unwrap();
    let out = xos(big.path(), &["run", "--date", "2026-01-01", "checkout.xos"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("checkout.csv:2:9: error[xos::data::not_a_count]: `users` is 18446744073709551616, beyond the largest count"),
        "{}",
        stderr(&out)
    );
    // The same for the assignment counts of `xos sql`'s result.
    let units = tempfile::tempdir().unwrap();
    std::fs::write(
        units.path().join("s.xos"),
        "experiment uc {\n    data \"d.csv\" { shape rows unit_id \"uid\" }\n    \
         variants { control 50% treatment 50% }\n    primary conversion = rate(conversions)\n}\n",
    )
    .unwrap();
    std::fs::write(
        units.path().join("d.csv"),
        "variant,users,conversions,units_distinct,units_mixed,units_duplicated\n\
         control,1000,100,99999999999999999999,0,0\ntreatment,1000,120,1000,0,0\n",
    )
    .unwrap();
    let out = xos(units.path(), &["run", "s.xos", "--data", "d.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`units_distinct` is 99999999999999999999, beyond the largest count"),
        "{}",
        stderr(&out)
    );
}

// Kind 6 (terminal part): ANSI escape sequences in a spec's strings reached
// the terminal raw from `run` and `explain`.

#[test]
fn escape_sequences_in_strings_never_reach_the_terminal() {
    let dir = checkout(|s| s.replace("One-page checkout", "One\u{1b}[2J\u{1b}]0;pwned\u{7}page"));
    for args in [
        &["run", "checkout.xos"][..],
        &["explain", "checkout.xos"],
        &["run", "checkout.xos", "-o", "memo.md"],
    ] {
        let out = xos(dir.path(), args);
        assert!(out.status.success(), "{}", stderr(&out));
        let mut text = stdout(&out);
        if args.len() == 4 {
            text = std::fs::read_to_string(dir.path().join("memo.md")).unwrap();
        }
        // The escape is replaced (the memo may also escape the bracket).
        assert!(
            text.contains("One\u{FFFD}[2J") || text.contains("One\u{FFFD}\\[2J"),
            "{args:?}: {text}"
        );
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{args:?}"
        );
    }
    let json = xos(dir.path(), &["run", "checkout.xos", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        report["title"]
            .as_str()
            .is_some_and(|t| t.contains('\u{1b}')),
        "JSON keeps the text, escaped"
    );
}

// Kind 6 (Markdown part): title, owner, hypothesis, `because` and column
// names went into the Markdown memo raw.

#[test]
fn user_text_is_inert_in_the_markdown_memo() {
    let dir = checkout(|s| {
        s.replace("\"One-page checkout\"", "\"<script>alert(1)</script> | [x](javascript:alert(1))\"")
            .replace("\"growth-squad\"", "\"<img src=x onerror=alert(1)>\"")
            .replace(
                "    settings {",
                "    rule win {\n        when primary.better\n        then launch\n        because \"fine\n# LAUNCH\n| x | y |\"\n    }\n    settings {",
            )
    });
    let out = xos(dir.path(), &["run", "checkout.xos"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let memo = stdout(&out);
    assert!(
        !memo.contains("<script>") && !memo.contains("<img"),
        "{memo}"
    );
    assert!(memo.contains("&lt;script&gt;"), "{memo}");
    assert!(!memo.contains("[x](javascript:"), "{memo}");
    assert!(memo.contains("\\[x\\](javascript:"), "{memo}");
    // The `because` stays on its line: no injected heading or table row.
    assert!(!memo.lines().any(|l| l.trim() == "# LAUNCH"), "{memo}");
    assert!(!memo.lines().any(|l| l.starts_with("| x | y |")), "{memo}");
    assert!(memo.contains("\\| x \\| y \\|"), "{memo}");
}

// Kind 5: paths and leaks. `data` or `policy` naming `/etc/passwd` printed
// its lines; `/proc/self/environ` leaked the environment; `templates` in
// `xos.toml` pulled another folder's files into the memo.

/// `(line, column)` of the first `needle` in `text`, 1-based.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let line = text.lines().position(|l| l.contains(needle)).unwrap();
    let col = text.lines().nth(line).unwrap().find(needle).unwrap();
    (line + 1, col + 1)
}

#[test]
fn paths_outside_the_repository_are_refused_where_written() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("repo");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        root.path().join("secret.csv"),
        "SECRET-LINE-1\nSECRET-LINE-2\n",
    )
    .unwrap();
    std::fs::write(dir.join("checkout.csv"), DATA).unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.csv"), dir.join("link.csv")).unwrap();
    for (written, what) in [
        ("/etc/passwd", "data file"),
        ("../secret.csv", "data file"),
        ("./sub/../../secret.csv", "data file"),
        ("link.csv", "data file"),
    ] {
        let spec = SPEC.replace("checkout.csv", written);
        std::fs::write(dir.join("checkout.xos"), &spec).unwrap();
        for command in ["run", "check", "explain", "plan", "test"] {
            let out = xos(&dir, &[command, "checkout.xos"]);
            assert_eq!(out.status.code(), Some(1), "{command} {written}");
            let err = stderr(&out);
            assert!(
                err.contains("xos::check::path_outside"),
                "{command} {written}: {err}"
            );
            assert!(err.contains(&format!("{what} `{written}`")), "{err}");
            let at = position(&spec, &format!("\"{written}\""));
            assert!(located(&err, "checkout.xos", at), "{err}");
            assert!(
                !err.contains("SECRET-LINE") && !err.contains("root:x:0"),
                "{err}"
            );
        }
    }
    // A policy: the spec's own, and `xos.toml`'s.
    let spec = SPEC.replace("    variants", "    policy \"../secret.csv\"\n    variants");
    std::fs::write(dir.join("checkout.xos"), &spec).unwrap();
    let err = stderr(&xos(&dir, &["check", "checkout.xos"]));
    assert!(err.contains("policy `../secret.csv` is outside"), "{err}");
    assert!(
        located(&err, "checkout.xos", position(&spec, "\"../secret.csv")),
        "{err}"
    );
    assert!(!err.contains("SECRET-LINE"), "{err}");
    std::fs::write(dir.join("checkout.xos"), SPEC).unwrap();
    for toml in [
        "policy = \"/etc/passwd\"\n",
        "templates = \"..\"\n",
        "output = \"/tmp\"\n",
    ] {
        std::fs::write(dir.join("xos.toml"), toml).unwrap();
        let out = xos(&dir, &["run", "checkout.xos"]);
        assert_eq!(out.status.code(), Some(1), "{toml}");
        let err = stderr(&out);
        assert!(err.contains("xos::check::path_outside"), "{toml}: {err}");
        assert!(
            located(&err, "xos.toml", (1, toml.find('"').unwrap() + 1)),
            "{err}"
        );
    }
    // With `xos.toml` in the parent, the parent is the repository: the
    // same `../secret.csv` is inside it (and read: it is no CSV).
    std::fs::remove_file(dir.join("xos.toml")).unwrap();
    std::fs::write(root.path().join("xos.toml"), "").unwrap();
    std::fs::write(
        dir.join("checkout.xos"),
        SPEC.replace("checkout.csv", "../secret.csv"),
    )
    .unwrap();
    let err = stderr(&xos(&dir, &["run", "checkout.xos"]));
    assert!(!err.contains("path_outside"), "{err}");
    assert!(err.contains("xos::data::missing_column"), "{err}");
    // Lifted by `allow_outside = true` in `xos.toml`, and by the flag.
    std::fs::remove_file(root.path().join("xos.toml")).unwrap();
    std::fs::write(
        dir.join("checkout.xos"),
        SPEC.replace("checkout.csv", "/etc/passwd"),
    )
    .unwrap();
    std::fs::write(dir.join("xos.toml"), "allow_outside = true\n").unwrap();
    let err = stderr(&xos(&dir, &["run", "checkout.xos"]));
    assert!(
        !err.contains("path_outside") && err.contains("missing_column"),
        "{err}"
    );
    std::fs::remove_file(dir.join("xos.toml")).unwrap();
    for args in [
        &["run", "--allow-outside", "checkout.xos"][..],
        &["check", "--allow-outside", "checkout.xos"],
        &["explain", "--allow-outside", "checkout.xos"],
        &[
            "sql",
            "--allow-outside",
            "checkout.xos",
            "--dialect",
            "duckdb",
            "--table",
            "t",
        ],
    ] {
        let err = stderr(&xos(&dir, args));
        assert!(!err.contains("path_outside"), "{args:?}: {err}");
    }
}

#[test]
fn every_command_that_loads_a_spec_takes_allow_outside() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        "run", "watch", "check", "explain", "plan", "test", "diff", "sql",
    ] {
        let out = xos(dir.path(), &[command, "--help"]);
        assert!(stdout(&out).contains("--allow-outside"), "{command}");
    }
}

#[test]
fn a_file_that_is_no_csv_or_policy_is_quoted_no_further_than_its_token() {
    let dir = checkout(str::to_string);
    // `/etc/passwd`-like content inside the repository (or allowed from
    // outside): only the offending token, at most 40 characters, escaped.
    let passwd =
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
    std::fs::write(dir.path().join("passwd"), passwd).unwrap();
    std::fs::write(
        dir.path().join("checkout.xos"),
        SPEC.replace("checkout.csv", "passwd"),
    )
    .unwrap();
    let err = run_errors(dir.path(), &[]);
    assert!(err.contains("xos::data::missing_column"), "{err}");
    assert!(!err.contains("daemon"), "line 2 is never shown: {err}");
    let spec = SPEC.replace("    variants", "    policy \"passwd\"\n    variants");
    std::fs::write(dir.path().join("checkout.xos"), &spec).unwrap();
    let err = stderr(&xos(dir.path(), &["check", "checkout.xos"]));
    assert!(err.contains("passwd:1:1"), "{err}");
    assert!(
        !err.contains("daemon") && !err.contains("/bin/bash"),
        "{err}"
    );
    // A one-word blob named as a policy: the parser's "found `…`" too.
    std::fs::write(dir.path().join("passwd"), "Q".repeat(5_000)).unwrap();
    let err = stderr(&xos(dir.path(), &["check", "checkout.xos"]));
    assert!(err.contains("xos::parse::syntax"), "{err}");
    assert!(!err.contains(&"Q".repeat(41)), "{err}");
    // A bad cell of 10,000 characters is quoted by its first 40.
    let long = "Z".repeat(10_000);
    let csv = DATA.replacen("48000", &long, 1);
    std::fs::write(dir.path().join("checkout.csv"), csv).unwrap();
    std::fs::write(dir.path().join("checkout.xos"), SPEC).unwrap();
    let err = run_errors(dir.path(), &[]);
    assert!(err.contains(&format!("`{}…`", "Z".repeat(40))), "{err}");
    assert!(!err.contains(&"Z".repeat(41)), "{err}");
    // The environment of the process: refused at its first NUL byte,
    // quoting nothing (allowed from outside here, so that it is read).
    std::fs::write(
        dir.path().join("checkout.xos"),
        SPEC.replace("checkout.csv", "/proc/self/environ"),
    )
    .unwrap();
    let out = run_env(
        dir.path(),
        &[("XOS_LEAK_PROBE", "leaked-value-4711")],
        &["run", "--allow-outside", "checkout.xos"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("xos::data::binary"), "{err}");
    assert!(
        !err.contains("leaked-value-4711") && !err.contains("PATH="),
        "{err}"
    );
    let json = run_env(
        dir.path(),
        &[("XOS_LEAK_PROBE", "leaked-value-4711")],
        &[
            "check",
            "--allow-outside",
            "--error-format",
            "json",
            "checkout.xos",
        ],
    );
    assert!(!stdout(&json).contains("leaked-value-4711"));
}

// Kind 6 (variant labels): a quoted label is any text, and it went into
// the memo's headline, tables and lists raw, and onto its own terminal lines.

#[test]
fn quoted_variant_labels_are_inert_in_the_memo_and_the_terminal() {
    let control = "Variant A [x](javascript:alert(1))";
    let treatment = "<script>a|b</script>\n# LAUNCH";
    let dir = checkout(|s| {
        s.replace(
            "        control   50%",
            &format!("        \"{control}\" 50%"),
        )
        .replace(
            "        treatment 50%",
            &format!("        \"{}\" 50%", treatment.replace('\n', "\\n")),
        )
    });
    let quote = |label: &str| format!("\"{label}\"");
    std::fs::write(
        dir.path().join("checkout.csv"),
        DATA.replace("control,", &format!("{},", quote(control)))
            .replace("treatment,", &format!("{},", quote(treatment))),
    )
    .unwrap();
    let out = xos(dir.path(), &["run", "checkout.xos"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let memo = stdout(&out);
    assert!(
        !memo.contains("<script>") && !memo.contains("[x](javascript:"),
        "{memo}"
    );
    assert!(
        memo.contains("&lt;script&gt;a\\|b&lt;/script&gt; # LAUNCH"),
        "{memo}"
    );
    assert!(
        memo.contains("Variant A \\[x\\](javascript:alert(1))"),
        "{memo}"
    );
    assert!(!memo.lines().any(|l| l.starts_with("# LAUNCH")), "{memo}");
    // Every table row keeps its header's columns.
    let cells = |line: &str| line.replace("\\|", "").matches('|').count();
    let mut header = 0;
    for line in memo.lines() {
        if !line.starts_with('|') {
            header = 0;
        } else if header == 0 {
            header = cells(line);
        } else {
            assert_eq!(cells(line), header, "{line}");
        }
    }
    // The memo says the treatment decided (the names still match).
    assert!(memo.contains("Launch `&lt;script&gt;"), "{memo}");
    for command in ["explain", "plan"] {
        let out = xos(dir.path(), &[command, "checkout.xos"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.lines().any(|l| l.starts_with("# LAUNCH")), "{text}");
        assert!(text.contains("</script>\\n# LAUNCH"), "{text}");
    }
}

// Kind 8 (the rest): `plan::no_inputs` and `diff::mixed` named no place.

#[test]
fn a_plan_without_inputs_and_a_mixed_diff_are_located() {
    let dir = checkout(str::to_string);
    let spec = "experiment np {\n    data \"checkout.csv\"\n    variants { control 50% treatment 50% }\n    primary conversion = rate(conversions)\n}\n";
    std::fs::write(dir.path().join("np.xos"), spec).unwrap();
    let out = xos(dir.path(), &["plan", "np.xos"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("xos::plan::no_inputs"), "{err}");
    assert!(
        located(&err, "np.xos", (4, 13)),
        "at the primary's name: {err}"
    );
    std::fs::write(
        dir.path().join("rules.xos"),
        include_str!("../rules/strict.xos"),
    )
    .unwrap();
    let out = xos(dir.path(), &["diff", "rules.xos", "checkout.xos"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("xos::diff::mixed"), "{err}");
    let at = position(SPEC, "checkout_redesign");
    assert!(
        located(&err, "checkout.xos", at),
        "at the experiment's name: {err}"
    );
    assert!(err.contains("`rules.xos` is a policy file"), "{err}");
    let out = xos(dir.path(), &["diff", "checkout.xos", "rules.xos"]);
    let err = stderr(&out);
    let at = position(include_str!("../rules/strict.xos"), "policy strict");
    let at = (at.0, at.1 + "policy ".len());
    assert!(
        located(&err, "rules.xos", at),
        "at the policy's name: {err}"
    );
}

// Kind 3 (the rest): `unit_id` checking kept 24 bytes a row without bound
// (2.8 GB for a 1 GiB file of two ids).

#[test]
fn the_unit_id_check_holds_a_bounded_number_of_rows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("checkout.xos"),
        include_str!("../examples/signup_rows/signup.xos"),
    )
    .unwrap();
    // 4,000 rows: the bound is on the whole file, however it is split into
    // ranges read in parallel.
    std::fs::write(
        dir.path().join("signups.csv"),
        include_str!("../examples/signup_rows/signups.csv"),
    )
    .unwrap();
    let text = run_errors(dir.path(), &[("XOS_MAX_UNIT_ID_ROWS", "1000")]);
    assert!(text.contains("xos::data::too_many_unit_rows"), "{text}");
    assert!(text.contains("at most 1,000 rows"), "{text}");
    assert!(
        located(&text, "signups.csv", (1, 1)),
        "at the unit column: {text}"
    );
    assert!(text.contains("XOS_MAX_UNIT_ID_ROWS"), "{text}");
    let out = run_env(
        dir.path(),
        &[("XOS_MAX_UNIT_ID_ROWS", "4000")],
        &["run", "checkout.xos"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // The same through gzip, which is read as one stream.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(
        &mut gz,
        include_bytes!("../examples/signup_rows/signups.csv"),
    )
    .unwrap();
    std::fs::write(dir.path().join("signups.csv.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("checkout.xos"),
        include_str!("../examples/signup_rows/signup.xos").replace("signups.csv", "signups.csv.gz"),
    )
    .unwrap();
    let text = run_errors(dir.path(), &[("XOS_MAX_UNIT_ID_ROWS", "1000")]);
    assert!(text.contains("xos::data::too_many_unit_rows"), "{text}");
}

/// A guardrail that cannot be computed (a ratio whose denominator sums to 0
/// in the treatment: a broken treatment that logged no page views) never
/// reads "ok" and never lets the experiment launch; a metric that cannot be
/// compared is a health warning.
#[test]
fn a_guardrail_that_cannot_be_computed_has_not_held() {
    let dir = tempfile::tempdir().unwrap();
    let spec = "experiment broken {\n    data \"d.csv\"\n    variants { control 50% treatment 50% }\n    \
                primary conv = rate(conv)\n    \
                guardrail e = ratio(err, pv) { worsened 10% relative severe 20% relative }\n}\n";
    std::fs::write(dir.path().join("s.xos"), spec).unwrap();
    std::fs::write(
        dir.path().join("d.csv"),
        "variant,users,conv,err_sum,err_sum_sq,pv_sum,pv_sum_sq,err_pv_sum_prod\n\
         control,10000,1200,50,60,30000,100000,150\n\
         treatment,10000,1400,0,0,0,0,0\n",
    )
    .unwrap();
    let out = xos(dir.path(), &["run", "s.xos", "--format", "json"]);
    assert_no_panic(&out);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["decision"]["verdict"], "hold", "{report}");
    assert_eq!(report["health"]["status"], "blocked");
    let issue = report["health"]["issues"][0]["message"].to_string();
    assert!(
        issue.contains("guardrail `e` cannot be compared between `control` and `treatment`"),
        "{issue}"
    );
    // The same data as a secondary metric: a warning, not a block.
    let spec = spec.replace(
        "guardrail e = ratio(err, pv) { worsened 10% relative severe 20% relative }",
        "metric e = ratio(err, pv)",
    );
    std::fs::write(dir.path().join("s.xos"), spec).unwrap();
    let out = xos(dir.path(), &["run", "s.xos", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["health"]["status"], "warning", "{report}");
    assert_eq!(report["decision"]["verdict"], "hold");
}

/// Sums whose squares overflow a double: valid ones keep their variance
/// (no zero-width "significant" interval), impossible ones are refused.
#[test]
fn sums_whose_squares_overflow_are_neither_certain_nor_accepted() {
    let dir = checkout(|s| s.to_string());
    let data = |row: &str| {
        let csv = DATA.replace("control,48000,5760,576,168,1200000,72000000", row);
        std::fs::write(dir.path().join("checkout.csv"), csv).unwrap();
    };
    data("control,48000,5760,576,168,1e150,1e304");
    let out = xos(dir.path(), &["run", "checkout.xos", "--format", "json"]);
    assert_no_panic(&out);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let revenue = &report["metrics"][1];
    assert_eq!(revenue["name"], "revenue");
    let sd = revenue["variants"][0]["sd"].as_f64().unwrap();
    assert!((sd / 4.5644e149 - 1.0).abs() < 1e-4, "{sd}");
    let p = revenue["comparisons"][0]["p_value"].as_f64().unwrap();
    assert!((p - 0.99202).abs() < 1e-5, "{p}");
    assert_eq!(revenue["comparisons"][0]["significant"], false);

    data("control,48000,5760,576,168,1e300,1e308");
    let out = xos(dir.path(), &["run", "checkout.xos"]);
    assert_no_panic(&out);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("xos::data::impossible_sums"),
        "{}",
        stderr(&out)
    );
    // (Σx)²/n is beyond a double here: the label said "below inf".
    assert!(
        stderr(&out).contains("below (Σx)²/n, which is beyond the largest double"),
        "{}",
        stderr(&out)
    );
}

/// Row-level values each finite but summing past a double (a DBL_MAX
/// sentinel) are refused at the column, never a metric left without a mean.
#[test]
fn row_level_sums_beyond_a_double_are_refused_at_the_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.xos"),
        "experiment big {\n    data \"d.csv\" { shape rows }\n    \
         variants { control 50% treatment 50% }\n    primary latency = mean(lat)\n}\n",
    )
    .unwrap();
    let mut csv = String::from("variant,lat\n");
    for i in 0..20 {
        csv.push_str(&format!("control,{}\ntreatment,{}\n", 200 + i, 400 + i));
    }
    csv.push_str("treatment,1.7976931348623157e308\ntreatment,1.7976931348623157e308\n");
    std::fs::write(dir.path().join("d.csv"), csv).unwrap();
    let out = xos(dir.path(), &["run", "s.xos"]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("d.csv:1:9: error[xos::data::not_a_number]"),
        "{err}"
    );
    assert!(
        err.contains("over the rows of `treatment` is beyond a double"),
        "{err}"
    );
}

/// A metric whose every unit has the same value in each arm: its p of 0 is
/// a convention, not evidence, so no row, probability or badge claims it.
#[test]
fn a_metric_without_variance_claims_no_certainty_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.xos"),
        "experiment flat {\n    data \"d.csv\"\n    variants { control 50% treatment 50% }\n    \
         primary revenue = mean(revenue)\n}\n",
    )
    .unwrap();
    // every control unit spent 5.0, every treatment unit 6.0
    std::fs::write(
        dir.path().join("d.csv"),
        "variant,users,revenue_sum,revenue_sum_sq\n\
         control,1000,5000,25000\n\
         treatment,1000,6000,36000\n",
    )
    .unwrap();
    let out = xos(dir.path(), &["run", "s.xos", "--format", "json"]);
    assert_no_panic(&out);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let c = &report["metrics"][0]["comparisons"][0];
    assert_eq!(c["p_value"], 0.0, "{c}");
    assert!(c["prob_better"].is_null(), "{c}");
    assert!(c["expected_loss"].is_null(), "{c}");
    assert_eq!(report["health"]["status"], "warning");
    assert_eq!(report["decision"]["verdict"], "hold");
    for format in ["md", "html"] {
        let out = xos(dir.path(), &["run", "s.xos", "--format", format]);
        let memo = stdout(&out);
        assert!(
            memo.contains("better, but without variance: not informative"),
            "{memo}"
        );
        assert!(!memo.contains("| significantly better"), "{memo}");
        assert!(!memo.contains(">significantly better</span>"), "{memo}");
        // the chart's row is grey, not green
        assert!(!memo.contains("<g class=\"better\">"), "{memo}");
        assert!(!memo.contains("> 99.9%"), "{memo}");
    }
}

/// A CUPED covariate that is the metric in disguise (y = 0.37·c + 1.3 for
/// every unit) removes all of the variance; health says so instead of
/// showing a zero-width interval as a finding.
#[test]
fn a_covariate_that_determines_the_metric_is_a_health_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.xos"),
        "experiment leak {\n    data \"d.csv\" { shape rows }\n    \
         variants { control 50% treatment 50% }\n    \
         primary revenue = mean(revenue) { covariate pre }\n}\n",
    )
    .unwrap();
    let mut csv = String::from("unit_id,variant,revenue,pre\n");
    for i in 0..400u32 {
        let variant = if i % 2 == 0 { "control" } else { "treatment" };
        // a treatment effect of 0.1 and a covariate that explains all the rest
        let pre = f64::from((i * 7919) % 1000) / 97.0;
        let effect = if i % 2 == 0 { 0.0 } else { 0.1 };
        csv.push_str(&format!(
            "u{i},{variant},{},{pre}\n",
            0.37 * pre + 1.3 + effect
        ));
    }
    std::fs::write(dir.path().join("d.csv"), csv).unwrap();
    let out = xos(dir.path(), &["run", "s.xos", "--format", "json"]);
    assert_no_panic(&out);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["health"]["status"], "warning", "{report}");
    let issues = report["health"]["issues"].to_string();
    assert!(
        issues.contains("covariate `pre` predicts `revenue` almost exactly"),
        "{issues}"
    );
    // not reported as a metric whose units all have the same value
    assert!(!issues.contains("has no variance in"), "{issues}");
    assert_eq!(report["decision"]["verdict"], "hold");
}

/// A two-arm experiment whose guardrail `ab` (abandonment, 10% in control
/// and 20% in treatment over 4,000 units; severe at 2 pp) has the covariate
/// `name`, the value `covariate(abandoned, unit index)` per unit.
fn abandonment_with_covariate(
    name: &str,
    covariate: impl Fn(u32, u32) -> String,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.xos"),
        format!(
            "experiment r {{\n    data \"d.csv\" {{ shape rows }}\n    \
             variants {{ control 50% treatment 50% }}\n    primary conv = rate(conv)\n    \
             guardrail ab = rate(abandoned) {{ covariate {name} worsened 1pp severe 2pp }}\n}}\n"
        ),
    )
    .unwrap();
    let mut csv = format!("unit_id,variant,conv,abandoned,{name}\n");
    for i in 0..4000u32 {
        let treatment = i % 2 == 1;
        let abandoned = u32::from((i / 2) % 10 < if treatment { 2 } else { 1 });
        let conv = u32::from(i % 7 == 0);
        let variant = if treatment { "treatment" } else { "control" };
        let c = covariate(abandoned, i);
        csv.push_str(&format!("u{i},{variant},{conv},{abandoned},{c}\n"));
    }
    std::fs::write(dir.path().join("d.csv"), csv).unwrap();
    dir
}

/// A covariate equal to a guardrail itself (abandonment doubles, and the
/// "pre-period" column is abandonment): CUPED would subtract the effect
/// with the noise, and the guardrail read "ok" on a severe harm. It is not
/// applied, and the severe guardrail rolls the experiment back.
#[test]
fn a_covariate_that_is_the_guardrail_does_not_hide_its_harm() {
    let dir = abandonment_with_covariate("abpre", |abandoned, _| abandoned.to_string());
    let out = xos(dir.path(), &["run", "s.xos", "--format", "json"]);
    assert_no_panic(&out);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let c = &report["metrics"][1]["comparisons"][0];
    assert_eq!(c["cuped"]["applied"], false, "{c}");
    assert_eq!(c["abs_lift"], c["cuped"]["unadjusted"]["abs_lift"], "{c}");
    assert_eq!(c["status"], "severe", "{c}");
    assert_eq!(report["decision"]["verdict"], "rollback", "{report}");
    assert!(
        report["health"]["issues"]
            .to_string()
            .contains("so CUPED was not applied"),
        "{report}"
    );
    let out = xos(dir.path(), &["run", "s.xos"]);
    let memo = stdout(&out);
    assert!(
        memo.contains("covariate `abpre` predicts the metric almost exactly (θ = 1)"),
        "{memo}"
    );
    assert!(!memo.contains("all held"), "{memo}");
}

/// A covariate measured after the start (the guardrail plus noise) removes
/// about 95% of the variance, below the near-exact bound, and absorbed the
/// harm: abandonment 10% → 20% read "ok" and the experiment launched. Its
/// arm means differ far more than randomisation allows, so it is not
/// applied, health names the arm, and the severe guardrail rolls back.
#[test]
fn a_covariate_that_moved_with_the_treatment_is_not_applied() {
    let dir = abandonment_with_covariate("abpost", |abandoned, i| {
        let noise = f64::from((i * 7919) % 100) / 333.0;
        (f64::from(abandoned) + noise).to_string()
    });
    let out = xos(dir.path(), &["run", "s.xos", "--format", "json"]);
    assert_no_panic(&out);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let c = &report["metrics"][1]["comparisons"][0];
    let reduction = c["cuped"]["variance_reduction"].as_f64().unwrap();
    assert!(reduction > 0.5 && reduction < 0.9999, "{c}");
    assert!(c["cuped"]["balance_p"].as_f64().unwrap() < 1e-10, "{c}");
    assert_eq!(c["cuped"]["applied"], false, "{c}");
    assert_eq!(c["abs_lift"], c["cuped"]["unadjusted"]["abs_lift"], "{c}");
    assert_eq!(c["status"], "severe", "{c}");
    assert_eq!(report["decision"]["verdict"], "rollback", "{report}");
    let issues = report["health"]["issues"].to_string();
    assert!(
        issues.contains("covariate `abpost` of `ab` differs between `control` and `treatment`"),
        "{issues}"
    );
    let out = xos(dir.path(), &["run", "s.xos"]);
    let memo = stdout(&out);
    assert!(
        memo.contains("covariate `abpost` differs between the arms (p "),
        "{memo}"
    );
}

/// Sums so small that the Welch standard error underflows to 0 while the
/// arms vary (Σx = 1e-300 over 10¹⁵ units): a launch on p = 0 claimed a
/// certainty the data does not have. Health now warns, and the default
/// policy holds.
#[test]
fn a_standard_error_that_underflows_is_not_certainty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.xos"),
        "experiment tiny {\n    data \"d.csv\"\n    variants { control 50% treatment 50% }\n    \
         primary rev = mean(rev)\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("d.csv"),
        "variant,users,rev_sum,rev_sum_sq\n\
         control,1000000000000000,1e-300,1e-300\n\
         treatment,1000000000000000,3e-300,1e-299\n",
    )
    .unwrap();
    let out = xos(dir.path(), &["run", "s.xos", "--format", "json"]);
    assert_no_panic(&out);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["health"]["status"], "warning", "{report}");
    assert!(
        report["health"]["issues"].to_string().contains(
            "the standard error of `treatment` against `control` is 0 although the arms vary"
        ),
        "{report}"
    );
    assert_eq!(report["decision"]["verdict"], "hold");
}

/// A guardrail that cannot be compared (a ratio whose control denominator
/// sums to 0) is "not evaluated" in the memo, never "ok" or "all held";
/// the treatment's defined ratio keeps its digits (it printed as `0`); and
/// a relative interval of no width beside an absolute one with width
/// (0 events in the treatment) is undefined, not [−100%, −100%].
#[test]
fn an_undefined_guardrail_and_a_collapsed_relative_interval_claim_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.xos"),
        "experiment broken {\n    data \"d.csv\"\n    variants { control 50% treatment 50% }\n    \
         primary conv = rate(conv)\n    \
         guardrail e = ratio(err, pv) { worsened 10% relative severe 20% relative }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("d.csv"),
        "variant,users,conv,err_sum,err_sum_sq,pv_sum,pv_sum_sq,err_pv_sum_prod\n\
         control,5000,500,0,0,0,0,0\n\
         treatment,5000,0,1412,1900,2944,4000,1700\n",
    )
    .unwrap();
    let out = xos(dir.path(), &["run", "s.xos"]);
    assert_no_panic(&out);
    let memo = stdout(&out);
    assert!(
        memo.contains("**Guardrails:** `e` not evaluated: it has not held (see Health)"),
        "{memo}"
    );
    assert!(
        memo.contains("| ⛔ not evaluated | n/a | 0.480 |"),
        "{memo}"
    );
    assert!(!memo.contains("all held"), "{memo}");
    let out = xos(dir.path(), &["run", "s.xos", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let c = &report["metrics"][0]["comparisons"][0];
    assert_eq!(c["rel_lift"], -1.0, "{c}");
    assert!(
        c["ci_low"].as_f64().unwrap() < c["ci_high"].as_f64().unwrap(),
        "{c}"
    );
    assert!(
        c["rel_ci_low"].is_null() && c["rel_ci_high"].is_null(),
        "{c}"
    );
}

/// Plans no sample can meet are refused where written: an `mde` past 100%
/// (it silently left the plan without a sample, and the fixed-horizon
/// policy launched early), a duration whose units overflow a count, and a
/// daily rate too small to turn days into a count.
#[test]
fn a_plan_no_sample_can_meet_is_refused_where_written() {
    for (from, to, code) in [
        (
            "baseline 12%",
            "baseline 99%",
            "xos::check::unreachable_mde",
        ),
        (
            "mde      5% relative",
            "mde 90pp",
            "xos::check::unreachable_mde",
        ),
        (
            "daily_users 20_000",
            "daily_users 1e-300",
            "xos::check::out_of_range",
        ),
        (
            "daily_users 20_000",
            "daily_users 20_000\n        duration 1e17d",
            "xos::check::out_of_range",
        ),
    ] {
        let dir = checkout(|s| s.replace(from, to));
        let out = xos(dir.path(), &["check", "checkout.xos"]);
        assert_no_panic(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{from} → {to}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains(code), "{}", stderr(&out));
        assert!(stderr(&out).contains("checkout.xos:"), "{}", stderr(&out));
    }
}

/// `xos plan` prints what the spec says: a relative `mde` of a negative
/// mean is a change of |baseline|·mde toward the preferred side (it read
/// "MDE -1.25 (an absolute increase)"), a power of 99.99999999% is not
/// "1", and a tiny `mde` does not read "0.12 from 0.12".
#[test]
fn plan_text_keeps_signs_and_digits() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.xos"),
        "experiment m {\n    data \"d.csv\"\n    variants { control 50% treatment 50% }\n    \
         primary margin = mean(margin) { baseline -25 mde 5% relative sd 10 }\n    \
         plan { daily_users 1000 power 99.99999999% }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("r.xos"),
        "experiment r {\n    data \"d.csv\"\n    variants { control 50% treatment 50% }\n    \
         primary conv = rate(conv) { baseline 12% mde 0.0001pp }\n    plan { daily_users 1000 }\n}\n",
    )
    .unwrap();
    let out = xos(dir.path(), &["plan", "m.xos"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("MDE 1.25 (an absolute increase), alpha 0.05, power 99.99999999%"),
        "{text}"
    );
    let out = xos(dir.path(), &["plan", "r.xos"]);
    let text = stdout(&out);
    assert!(text.contains("planned to tell 12.0001% from 12%"), "{text}");
}

// Kind 5 (writes): a symlink planted where a memo goes
// (`memos/NAME.md -> ../../outside.txt`) made `xos run DIR --out` and
// `xos.toml`'s `output` overwrite the file it led to, outside the repository.

#[test]
fn a_memo_is_never_written_through_a_planted_symlink() {
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("repo");
    std::fs::create_dir_all(repo.join("memos")).unwrap();
    std::fs::write(repo.join("checkout.xos"), SPEC).unwrap();
    std::fs::write(repo.join("checkout.csv"), DATA).unwrap();
    let outside = root.path().join("outside.txt");
    std::fs::write(&outside, "PRECIOUS").unwrap();
    let link = repo.join("memos/checkout_redesign.md");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let refused = |out: &Output| {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
        let err = stderr(out);
        assert!(err.contains("xos::io::memo_link"), "{err}");
        assert!(
            err.contains("cannot write the memo `memos/checkout_redesign.md`: it is a symlink to"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "PRECIOUS");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    };
    refused(&xos(&repo, &["run", ".", "--out", "memos"]));
    refused(&xos(&repo, &["run", "checkout.xos", "--out", "memos"]));
    std::fs::write(repo.join("xos.toml"), "output = \"memos\"\n").unwrap();
    refused(&xos(&repo, &["run", "."]));
    // A link to a file inside the repository is refused all the same.
    std::fs::write(repo.join("notes.md"), "NOTES").unwrap();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("../notes.md", &link).unwrap();
    let out = xos(&repo, &["run", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(repo.join("notes.md")).unwrap(),
        "NOTES"
    );
    // Without the link the memo is written; `-o` names the user's own file,
    // written through its link as before.
    std::fs::remove_file(&link).unwrap();
    let out = xos(&repo, &["run", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&link).unwrap().contains("LAUNCH"));
    std::os::unix::fs::symlink("notes.md", repo.join("mine.md")).unwrap();
    let out = xos(&repo, &["run", "checkout.xos", "-o", "mine.md"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(repo.join("notes.md"))
            .unwrap()
            .contains("LAUNCH")
    );
}

// Kind 6 (file names): a spec's file name holding an OSC (window title),
// an SGR escape, a bell and a line break was printed raw by `xos check DIR`
// (in the excerpt's header) and `xos watch DIR` (in the status line), where
// spec strings were already shown inert.

/// A file name that would act on a terminal and forge a line of its own.
const EVIL_NAME: &str = "evil\x1b]0;PWNED\x07\x1b[31mRED\nfake.xos";

/// Whether `text` holds a control character that a terminal acts on, or
/// the forged line `fake.xos` at the start of a line.
fn acts_on_terminal(text: &str) -> bool {
    text.contains(['\x1b', '\x07'])
        || text
            .lines()
            .any(|line| line.trim_start().starts_with("fake.xos"))
}

#[test]
fn file_names_are_printed_inert() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("d");
    std::fs::create_dir(&specs).unwrap();
    // Unformatted (for `fmt --check`) and broken (for `check`).
    std::fs::write(
        specs.join(EVIL_NAME),
        "experiment x {\n    data \"x.csv\"\n    variants {{ a 50% b 50% }\n    primary c = rate(c)\n}\n",
    )
    .unwrap();
    let check = xos(dir.path(), &["check", "d"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let err = stderr(&check);
    assert!(err.contains("xos::parse::unclosed_brace"), "{err}");
    assert!(err.contains("RED\\nfake.xos:3:14"), "{err}");
    assert!(!acts_on_terminal(&err), "{err:?}");
    // A good spec of that name: `fmt --check` names it, `run --fail-on` too.
    std::fs::write(dir.path().join("checkout.csv"), DATA).unwrap();
    std::fs::write(
        specs.join(EVIL_NAME),
        SPEC.replace("checkout.csv", "../checkout.csv")
            .replace("\n}", "\n\n\n}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("xos.toml"), "").unwrap();
    let fmt = xos(dir.path(), &["fmt", "--check", "d"]);
    assert_eq!(fmt.status.code(), Some(3), "{}", stderr(&fmt));
    assert!(stdout(&fmt).contains("RED\\nfake.xos"), "{}", stdout(&fmt));
    assert!(!acts_on_terminal(&stdout(&fmt)), "{:?}", stdout(&fmt));
    let run = xos(
        dir.path(),
        &["run", "d", "--out", "m", "--fail-on", "launch"],
    );
    let err = stderr(&run);
    assert!(err.contains("ended in launch"), "{err}");
    assert!(!acts_on_terminal(&err), "{err:?}");
}

/// A right-to-left override in a title showed "Checkout ROLLBACK" reversed
/// beside the real verdict, in every format: direction controls are refused
/// where they stand (strings and comments alike), and the excerpt that
/// quotes one does not reverse its line. Emphasis in the title and owner
/// stays literal in the Markdown memo, and a backtick in a variant label
/// no longer closes the code span the memo prints it in.
#[test]
fn direction_controls_are_refused_and_labels_stay_literal_in_markdown() {
    for (from, to) in [
        ("\"One-page checkout\"", "\"One-page \u{202E}KCABLLOR\""),
        (
            "experiment",
            "// a comment \u{2067}hidden\u{2069}\nexperiment",
        ),
    ] {
        let dir = checkout(|s| s.replacen(from, to, 1));
        let out = xos(dir.path(), &["check", "checkout.xos"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("xos::parse::direction_control"), "{err}");
        assert!(
            !err.contains('\u{202E}') && !err.contains('\u{2067}'),
            "{err}"
        );
    }
    let dir = checkout(|s| {
        s.replace("\"One-page checkout\"", "\"**bold** _title_\"")
            .replace("\"growth-squad\"", "\"o - **Health:** ok\"")
            .replace("treatment", "\"x`y\"")
    });
    std::fs::write(
        dir.path().join("checkout.csv"),
        DATA.replace("treatment", "x`y"),
    )
    .unwrap();
    let out = xos(dir.path(), &["run", "checkout.xos"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let memo = stdout(&out);
    assert!(memo.contains("\\*\\*bold\\*\\* \\_title\\_"), "{memo}");
    assert!(memo.contains("o - \\*\\*Health:\\*\\* ok"), "{memo}");
    assert!(memo.contains("`xʼy`"), "{memo}");
    assert!(!memo.contains("`x`y`"), "{memo}");
}

/// `unit_id` naming the variant column ("a header but no rows") or a
/// metric's column (the mixed-assignment check then counted 0s and 1s as
/// units and said only `warning`) is refused where written.
#[test]
fn a_unit_id_that_names_another_column_is_refused() {
    for unit_id in ["variant", "converted"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("s.xos"),
            format!(
                "experiment t {{\n    data \"d.csv\" {{ shape rows unit_id \"{unit_id}\" }}\n    \
                 variants {{ control 50% treatment 50% }}\n    primary c = rate(converted)\n}}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("d.csv"),
            "user_id,variant,converted\n1,control,1\n0,control,0\n0,treatment,0\n1,treatment,1\n",
        )
        .unwrap();
        let out = xos(dir.path(), &["check", "s.xos"]);
        assert_eq!(out.status.code(), Some(1), "{unit_id}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("xos::check::unit_id_column"), "{err}");
        assert!(err.contains("s.xos:2:"), "{err}");
    }
}

/// What `unreachable_mde` and `padded_name` must not refuse: a target that
/// reaches 100% exactly but rounds past it by an ulp (0.9193 + 0.0807), a
/// guardrail's `mde` (it plans nothing, and its harm lies the other way),
/// and a label padded with a no-break space, which the row-level reader
/// matches as written.
#[test]
fn valid_plans_and_labels_near_the_new_checks_are_accepted() {
    for (from, to) in [
        (
            "baseline 12%\n        mde      5% relative",
            "baseline 91.93%\n        mde 8.07pp",
        ),
        (
            "worsened 0.1pp",
            "baseline 1%\n        mde 2pp\n        worsened 0.1pp",
        ),
    ] {
        let dir = checkout(|s| s.replacen(from, to, 1));
        let out = xos(dir.path(), &["check", "checkout.xos"]);
        assert!(out.status.success(), "{to}: {}", stderr(&out));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.xos"),
        "experiment nb {\n    data \"d.csv\" { shape rows }\n    \
         variants { \"control\u{a0}\" 50% treatment 50% }\n    primary c = rate(c)\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("d.csv"),
        "variant,c\ncontrol\u{a0},1\ncontrol\u{a0},0\ntreatment,1\ntreatment,0\n",
    )
    .unwrap();
    let out = xos(dir.path(), &["run", "s.xos"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A direction control in a data label reached the terminal inside a
/// diagnostic (and in a file name, the watch status line): both print it
/// as an escape.
#[test]
fn direction_controls_in_data_and_file_names_are_printed_as_escapes() {
    let dir = checkout(|s| s.to_string());
    std::fs::write(
        dir.path().join("checkout.csv"),
        DATA.replace("treatment", "treat\u{202E}tnemtaert"),
    )
    .unwrap();
    let out = xos(dir.path(), &["run", "checkout.xos"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("treat\\u{202e}tnemtaert"), "{err}");
    assert!(!err.contains('\u{202E}'), "{err}");
    let named = dir.path().join("ok \u{202E}dilav.xos");
    std::fs::write(&named, "experiment broken {").unwrap();
    let out = xos(dir.path(), &["check", "."]);
    let err = stderr(&out);
    assert!(err.contains("ok \\u{202e}dilav.xos"), "{err}");
    assert!(!err.contains('\u{202E}'), "{err}");
}

//! `xos watch` end to end, in a temporary folder: the watcher process runs
//! while the test edits, renames, deletes and adds files, and every step
//! waits on a condition (a status line, a memo's content) with a timeout —
//! no fixed sleeps.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

const SPEC: &str = "experiment checkout_redesign {
    data \"checkout.csv\"
    variants { control 50% treatment 50% }
    primary conversion = rate(conversions)
}
";

const WIN: &str = "variant,users,conversions\ncontrol,10000,1200\ntreatment,10050,1320\n";
const FLAT: &str = "variant,users,conversions\ncontrol,10000,1200\ntreatment,10050,1205\n";
const HARM: &str = "variant,users,conversions\ncontrol,10000,1200\ntreatment,10050,1000\n";

struct Watcher {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    /// Lines before this index were consumed by an earlier expectation.
    cursor: usize,
}

impl Watcher {
    fn start(dir: &Path, out: &Path) -> Watcher {
        Watcher::spawn(&["--out".as_ref(), out.as_os_str(), dir.as_os_str()])
    }

    /// `xos watch --debounce 30 ARGS…`.
    fn spawn(args: &[&std::ffi::OsStr]) -> Watcher {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xos"))
            .args(["watch", "--debounce", "30"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start xos watch");
        let (tx, lines) = channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Watcher {
            child,
            lines,
            seen: Vec::new(),
            cursor: 0,
        }
    }

    /// Waits for a line containing every one of `parts`.
    fn expect_line(&mut self, parts: &[&str]) {
        self.expect_all(&[parts]);
    }

    /// Waits until, for each group, some line since the last expectation
    /// contains every part of it. Status lines (stdout) and diagnostics
    /// (stderr) come through separate pipes, so their order is not fixed.
    fn expect_all(&mut self, groups: &[&[&str]]) {
        let matches = |line: &str, parts: &[&str]| parts.iter().all(|p| line.contains(p));
        let mut found = vec![false; groups.len()];
        let mark = |line: &str, found: &mut Vec<bool>| {
            for (i, parts) in groups.iter().enumerate() {
                if matches(line, parts) {
                    found[i] = true;
                }
            }
        };
        for line in &self.seen[self.cursor..] {
            mark(line, &mut found);
        }
        let deadline = Instant::now() + WAIT;
        while !found.iter().all(|f| *f) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            let Ok(line) = self.lines.recv_timeout(left) else {
                break;
            };
            mark(&line, &mut found);
            self.seen.push(line);
        }
        assert!(
            found.iter().all(|f| *f),
            "no lines with {groups:?}; output so far:\n{}",
            self.seen.join("\n")
        );
        self.cursor = self.seen.len();
    }

    fn assert_running(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the watcher exited:\n{}",
            self.seen.join("\n")
        );
    }

    fn interrupt(mut self) -> i32 {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "the watcher did not stop on Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_file(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.contains(needle)
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never contained {needle:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(specs.join("checkout.xos"), SPEC).unwrap();
    std::fs::write(specs.join("checkout.csv"), FLAT).unwrap();
    (dir, specs, out)
}

#[test]
fn watch_follows_every_kind_of_change() {
    let (_dir, specs, out) = setup();
    let memo = out.join("checkout_redesign.md");
    let mut w = Watcher::start(&specs, &out);
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    wait_for_file(&memo, "HOLD");

    // (a) rewrite the CSV in place
    std::fs::write(specs.join("checkout.csv"), WIN).unwrap();
    w.expect_line(&["checkout_redesign: hold → launch (clear_win)"]);
    wait_for_file(&memo, "LAUNCH");
    w.assert_running();

    // (b) save by writing a temp file and renaming it over the CSV
    let tmp = specs.join("checkout.csv.tmp");
    std::fs::write(&tmp, HARM).unwrap();
    std::fs::rename(&tmp, specs.join("checkout.csv")).unwrap();
    w.expect_line(&["checkout_redesign: launch → rollback (primary_harm)"]);
    wait_for_file(&memo, "ROLL BACK");
    w.assert_running();

    // (c) delete the CSV: a diagnostic, the last memo kept; restore it
    std::fs::remove_file(specs.join("checkout.csv")).unwrap();
    w.expect_all(&[&["checkout.xos: invalid"], &["cannot read"]]);
    assert!(
        std::fs::read_to_string(&memo)
            .unwrap()
            .contains("ROLL BACK"),
        "the last good memo was replaced"
    );
    w.assert_running();
    std::fs::write(specs.join("checkout.csv"), WIN).unwrap();
    w.expect_line(&["checkout_redesign: rollback → launch (clear_win)"]);
    wait_for_file(&memo, "LAUNCH");

    // (d) break the spec, then fix it
    std::fs::write(
        specs.join("checkout.xos"),
        SPEC.replace("primary", "primay"),
    )
    .unwrap();
    w.expect_line(&["checkout.xos: invalid"]);
    assert!(std::fs::read_to_string(&memo).unwrap().contains("LAUNCH"));
    w.assert_running();
    std::fs::write(specs.join("checkout.xos"), SPEC).unwrap();
    w.expect_line(&["checkout_redesign: launch (clear_win), unchanged"]);

    // (e) add a new spec to the watched folder
    std::fs::write(specs.join("pricing.csv"), HARM).unwrap();
    std::fs::write(
        specs.join("pricing.xos"),
        SPEC.replace("checkout_redesign", "pricing_page")
            .replace("checkout.csv", "pricing.csv"),
    )
    .unwrap();
    w.expect_line(&["pricing_page: rollback (primary_harm)"]);
    wait_for_file(&out.join("pricing_page.md"), "ROLL BACK");
    w.assert_running();

    assert_eq!(w.interrupt(), 0, "Ctrl-C must exit with status 0");
}

#[test]
fn a_spec_broken_from_the_start_recovers_when_fixed() {
    let (_dir, specs, out) = setup();
    std::fs::write(specs.join("checkout.xos"), SPEC.replace("rate(", "rat(")).unwrap();
    let mut w = Watcher::start(&specs, &out);
    w.expect_line(&["checkout.xos: invalid"]);
    std::fs::write(specs.join("checkout.xos"), SPEC).unwrap();
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    wait_for_file(&out.join("checkout_redesign.md"), "HOLD");
    w.assert_running();
}

#[test]
fn a_fixed_horizon_spec_without_a_plan_gets_one_note() {
    let (_dir, specs, out) = setup();
    let mut w = Watcher::start(&specs, &out);
    w.expect_all(&[
        &["checkout_redesign: hold (otherwise)"],
        &["xos::watch::single_look"],
    ]);
    std::fs::write(specs.join("checkout.csv"), WIN).unwrap();
    w.expect_line(&["checkout_redesign: hold → launch (clear_win)"]);
    std::fs::write(specs.join("checkout.csv"), FLAT).unwrap();
    w.expect_line(&["checkout_redesign: launch → hold (otherwise)"]);
    let notes = w
        .seen
        .iter()
        .filter(|l| l.contains("xos::watch::single_look"))
        .count();
    assert_eq!(notes, 1, "one note per spec:\n{}", w.seen.join("\n"));
}

#[test]
fn a_named_spec_deleted_and_written_again_is_watched_again() {
    let (_dir, specs, out) = setup();
    let spec = specs.join("checkout.xos");
    let mut w = Watcher::start(&spec, &out);
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    std::fs::remove_file(&spec).unwrap();
    // Said as it is: deleted, not invalid, and no help about relative paths
    // for a spec named by its absolute path.
    w.expect_line(&[
        "checkout.xos: deleted, watched until it is written again; keeping the last memo",
    ]);
    w.assert_running();
    std::fs::write(specs.join("checkout.csv"), WIN).unwrap();
    std::fs::write(&spec, SPEC).unwrap();
    w.expect_line(&["checkout_redesign: hold → launch (clear_win)"]);
    wait_for_file(&out.join("checkout_redesign.md"), "LAUNCH");
    assert!(
        !w.seen
            .iter()
            .any(|l| l.contains("invalid") || l.contains("relative to the current folder")),
        "{}",
        w.seen.join("\n")
    );
}

#[test]
fn a_memo_that_cannot_be_written_is_not_called_an_invalid_spec() {
    let (_dir, specs, out) = setup();
    let mut w = Watcher::start(&specs, &out);
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    // The output folder becomes a file: the spec is fine, its memo is not.
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::write(&out, "not a folder").unwrap();
    std::fs::write(specs.join("checkout.csv"), WIN).unwrap();
    w.expect_all(&[
        &[
            "checkout_redesign: launch (clear_win), but the memo could not be written (1 error)",
            "checkout_redesign.md",
        ],
        &["xos::io::write"],
    ]);
    assert!(
        !w.seen.iter().any(|l| l.contains("invalid")),
        "{}",
        w.seen.join("\n")
    );
    // The spec, now broken, says that the last memo is gone.
    std::fs::write(specs.join("checkout.xos"), SPEC.replace("rate(", "rat(")).unwrap();
    w.expect_line(&["checkout.xos: invalid, 1 error; no memo written"]);
    std::fs::remove_file(&out).unwrap();
    std::fs::write(specs.join("checkout.xos"), SPEC).unwrap();
    // Compared with the last memo written, which said hold.
    w.expect_line(&["checkout_redesign: hold → launch (clear_win)"]);
    wait_for_file(&out.join("checkout_redesign.md"), "LAUNCH");
    w.assert_running();
}

#[test]
fn an_empty_folder_is_watched_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    let out = dir.path().join("out");
    let mut w = Watcher::start(&specs, &out);
    w.expect_line(&[
        "no experiment specs under",
        "specs",
        "yet; watching for new ones",
    ]);
    std::fs::write(specs.join("checkout.csv"), FLAT).unwrap();
    std::fs::write(specs.join("checkout.xos"), SPEC).unwrap();
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    w.assert_running();
}

#[test]
fn a_missing_policy_file_is_noticed_when_it_appears() {
    let (_dir, specs, out) = setup();
    let spec = specs.join("checkout.xos");
    std::fs::write(
        &spec,
        SPEC.replace(
            "    variants",
            "    policy \"rules/ship.xos\"\n    variants",
        ),
    )
    .unwrap();
    std::fs::write(specs.join("checkout.csv"), WIN).unwrap();
    let mut w = Watcher::start(&spec, &out);
    w.expect_all(&[&["checkout.xos: invalid"], &["cannot read policy"]]);
    std::fs::create_dir_all(specs.join("rules")).unwrap();
    std::fs::write(
        specs.join("rules/ship.xos"),
        "policy ship {\n    otherwise launch because \"always\"\n}\n",
    )
    .unwrap();
    w.expect_line(&["checkout_redesign: launch (otherwise)"]);
}

#[test]
fn a_spec_written_into_a_new_folder_right_away_is_seen() {
    let (_dir, specs, out) = setup();
    let mut w = Watcher::start(&specs, &out);
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    for i in 0..3 {
        let folder = specs.join(format!("team{i}/q{i}"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("pricing.csv"), HARM).unwrap();
        std::fs::write(
            folder.join("pricing.xos"),
            SPEC.replace("checkout_redesign", &format!("pricing_{i}"))
                .replace("checkout.csv", "pricing.csv"),
        )
        .unwrap();
        w.expect_line(&[&format!("pricing_{i}: rollback (primary_harm)")]);
    }
    w.assert_running();
}

#[test]
fn an_xos_toml_written_later_is_followed() {
    let (dir, specs, out) = setup();
    let mut w = Watcher::start(&specs, &out);
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    // In the watched folder: a policy named by a new `xos.toml` decides.
    std::fs::write(
        specs.join("ship.xos"),
        "policy ship {\n    otherwise launch because \"always\"\n}\n",
    )
    .unwrap();
    std::fs::write(specs.join("xos.toml"), "policy = \"ship.xos\"\n").unwrap();
    w.expect_line(&["checkout_redesign: hold → launch (otherwise)"]);
    wait_for_file(&out.join("checkout_redesign.md"), "LAUNCH");
    // Broken, then gone: the built-in policy again.
    std::fs::write(specs.join("xos.toml"), "bogus_key = 1\n").unwrap();
    w.expect_all(&[&["checkout.xos: invalid"], &["bogus_key"]]);
    std::fs::remove_file(specs.join("xos.toml")).unwrap();
    w.expect_line(&["checkout_redesign: launch → hold (otherwise)"]);
    // Above the watched folder, where the spec would find it too.
    std::fs::write(dir.path().join("xos.toml"), "bogus_key = 1\n").unwrap();
    w.expect_all(&[&["checkout.xos: invalid"], &["bogus_key"]]);
    std::fs::remove_file(dir.path().join("xos.toml")).unwrap();
    w.expect_line(&["checkout_redesign: hold (otherwise), unchanged"]);
    w.assert_running();
}

#[test]
fn data_replaced_by_a_symlink_is_followed_to_its_target() {
    let (_dir, specs, out) = setup();
    let mut w = Watcher::start(&specs, &out);
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    std::fs::write(specs.join("win.csv"), WIN).unwrap();
    std::fs::remove_file(specs.join("checkout.csv")).unwrap();
    std::os::unix::fs::symlink("win.csv", specs.join("checkout.csv")).unwrap();
    w.expect_line(&["checkout_redesign: hold → launch (clear_win)"]);
    // The file the link leads to is an input too.
    std::fs::write(specs.join("win.csv"), HARM).unwrap();
    w.expect_line(&["checkout_redesign: launch → rollback (primary_harm)"]);
    // And a link swapped for another by a rename.
    std::fs::write(specs.join("flat.csv"), FLAT).unwrap();
    std::os::unix::fs::symlink("flat.csv", specs.join("next.csv")).unwrap();
    std::fs::rename(specs.join("next.csv"), specs.join("checkout.csv")).unwrap();
    w.expect_line(&["checkout_redesign: rollback → hold (otherwise)"]);
    w.assert_running();
}

#[test]
fn data_linked_out_of_the_repository_is_refused_then_recovers() {
    let (dir, specs, out) = setup();
    let mut w = Watcher::start(&specs, &out);
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    std::fs::write(dir.path().join("outside.csv"), WIN).unwrap();
    std::fs::remove_file(specs.join("checkout.csv")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.csv"), specs.join("checkout.csv")).unwrap();
    w.expect_all(&[&["checkout.xos: invalid"], &["outside the repository"]]);
    // Replaced by a file inside: evaluated again at once.
    std::fs::remove_file(specs.join("checkout.csv")).unwrap();
    std::fs::write(specs.join("checkout.csv"), WIN).unwrap();
    w.expect_line(&["checkout_redesign: hold → launch (clear_win)"]);
    w.assert_running();
}

#[test]
fn a_spec_linked_in_from_outside_later_is_refused_unread() {
    let (dir, specs, out) = setup();
    let mut w = Watcher::start(&specs, &out);
    w.expect_line(&["checkout_redesign: hold (otherwise)"]);
    std::fs::write(dir.path().join("checkout.csv"), WIN).unwrap();
    std::fs::write(
        dir.path().join("secret.xos"),
        SPEC.replace("checkout_redesign", "secret_plans"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.xos"), specs.join("evil.xos")).unwrap();
    w.expect_all(&[&["evil.xos: invalid"], &["is a symlink to", "outside"]]);
    // A folder linked in from outside is refused too, and walked for nothing.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("checkout.csv"), WIN).unwrap();
    std::fs::write(
        elsewhere.join("more.xos"),
        SPEC.replace("checkout_redesign", "more_secrets"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&elsewhere, specs.join("linked")).unwrap();
    w.expect_line(&["linked", "is a symlink to", "outside"]);
    w.assert_running();
    assert!(!out.join("secret_plans.md").exists());
    assert!(!out.join("more_secrets.md").exists());
    assert!(
        !w.seen
            .iter()
            .any(|l| l.contains("secret_plans") || l.contains("more_secrets")),
        "{}",
        w.seen.join("\n")
    );
}

#[test]
fn a_memo_is_never_written_through_a_planted_symlink() {
    let (dir, specs, out) = setup();
    std::fs::create_dir_all(&out).unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "PRECIOUS").unwrap();
    let link = out.join("checkout_redesign.md");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let mut w = Watcher::start(&specs, &out);
    w.expect_all(&[
        &["checkout_redesign: hold (otherwise), but the memo could not be written"],
        &["xos::io::memo_link"],
        &["cannot write the memo", "it is a symlink to"],
    ]);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "PRECIOUS");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    // Once the link is gone, the next save writes the memo.
    std::fs::remove_file(&link).unwrap();
    std::fs::write(specs.join("checkout.csv"), WIN).unwrap();
    w.expect_line(&["checkout_redesign: launch (clear_win)"]);
    wait_for_file(&link, "LAUNCH");
    assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "PRECIOUS");
    w.assert_running();
}

#[test]
fn a_file_name_with_escapes_is_shown_inert() {
    let (_dir, specs, out) = setup();
    let evil = "evil\x1b]0;PWNED\x07\x1b[31mRED\nfake.xos";
    std::fs::write(specs.join(evil), SPEC.replace("rate(", "rat(")).unwrap();
    let mut w = Watcher::start(&specs, &out);
    w.expect_all(&[
        &["checkout_redesign: hold (otherwise)"],
        &["RED\\nfake.xos: invalid, 1 error; no memo written"],
        &["RED\\nfake.xos:4:26"],
    ]);
    assert!(
        !w.seen
            .iter()
            .any(|l| l.contains(['\x1b', '\x07']) || l.trim_start().starts_with("fake.xos")),
        "{:?}",
        w.seen
    );
    w.assert_running();
}

#[test]
fn two_specs_of_one_experiment_are_refused_until_one_is_renamed() {
    let (_dir, specs, out) = setup();
    // A copy of the spec, reading other data: its memo would go to the
    // same file, whichever finished last.
    std::fs::write(specs.join("win.csv"), WIN).unwrap();
    let copy = SPEC.replace("checkout.csv", "win.csv");
    std::fs::write(specs.join("copy.xos"), &copy).unwrap();
    let mut w = Watcher::start(&specs, &out);
    w.expect_all(&[
        &["checkout.xos: invalid, 1 error; no memo written"],
        &["copy.xos: invalid, 1 error; no memo written"],
        &[
            "experiment `checkout_redesign` is also declared in",
            "copy.xos",
        ],
        &[
            "experiment `checkout_redesign` is also declared in",
            "checkout.xos",
        ],
    ]);
    assert!(!out.join("checkout_redesign.md").exists());
    // Renamed: the held evaluation of the other spec is written, and each
    // memo holds its own spec's decision.
    std::fs::write(
        specs.join("copy.xos"),
        copy.replace("checkout_redesign", "renamed_copy"),
    )
    .unwrap();
    w.expect_all(&[
        &["checkout_redesign: hold (otherwise)"],
        &["renamed_copy: launch (clear_win)"],
    ]);
    assert!(wait_for_file(&out.join("checkout_redesign.md"), "HOLD").contains("HOLD"));
    assert!(wait_for_file(&out.join("renamed_copy.md"), "LAUNCH").contains("LAUNCH"));
    // A copy made while watching is refused; the last good memo stays.
    std::fs::write(specs.join("again.xos"), &copy).unwrap();
    w.expect_all(&[
        &["again.xos: invalid, 1 error; no memo written"],
        &[
            "experiment `checkout_redesign` is also declared in",
            "checkout.xos",
        ],
    ]);
    assert!(
        std::fs::read_to_string(out.join("checkout_redesign.md"))
            .unwrap()
            .contains("HOLD")
    );
    // Deleted, the name is the original's alone again.
    std::fs::remove_file(specs.join("again.xos")).unwrap();
    w.expect_line(&["again.xos: deleted, no longer watched"]);
    std::fs::write(specs.join("checkout.csv"), HARM).unwrap();
    w.expect_line(&["checkout_redesign: hold → rollback"]);
    wait_for_file(&out.join("checkout_redesign.md"), "ROLL BACK");
    w.assert_running();
}

/// Without `--out`, memos go next to their specs: one experiment name in
/// two folders is two memos, and watch writes both (it refused both, as if
/// they were one file).
#[test]
fn one_name_in_two_folders_is_two_memos_without_out() {
    let (_dir, specs, _out) = setup();
    for team in ["a", "b"] {
        let folder = specs.join(team);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("checkout.xos"), SPEC).unwrap();
        std::fs::write(folder.join("checkout.csv"), FLAT).unwrap();
    }
    std::fs::remove_file(specs.join("checkout.xos")).unwrap();
    let mut w = Watcher::spawn(&[specs.as_os_str()]);
    w.expect_all(&[
        &[
            "checkout_redesign: hold (otherwise)",
            "/a/checkout_redesign.md",
        ],
        &[
            "checkout_redesign: hold (otherwise)",
            "/b/checkout_redesign.md",
        ],
    ]);
    assert!(specs.join("a/checkout_redesign.md").exists());
    assert!(specs.join("b/checkout_redesign.md").exists());
    w.assert_running();
}

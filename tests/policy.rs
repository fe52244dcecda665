//! Decision policies as reviewed code: `xos test`, `xos diff`, the static
//! analysis warnings of `xos check`, and `xos.toml` `[require]`.

mod common;

use std::path::Path;

use common::{manifest, relative, render_all, stderr, stdout, xos};
use xos::check::{self, CheckedFile, LoadOptions};
use xos::diagnostic::{self, Diagnostics};
use xos::plan::{Fact, Field, Given, GivenValue, Health, PolicyTest, RuleSource, Status, Verdict};

fn shipped_policies() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(manifest().join("rules"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "xos"))
                .map(|p| relative(&p).display().to_string())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

// ---------------------------------------------------------------- xos test

#[test]
fn every_shipped_policy_passes_its_own_tests() {
    let files = shipped_policies();
    assert!(files.len() >= 4, "{files:?}");
    let mut args = vec!["test"];
    args.extend(files.iter().map(String::as_str));
    let out = xos(&args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(!text.contains("FAILED"), "{text}");
    let summary = text.lines().last().unwrap_or_default();
    assert!(summary.ends_with(" passed, 0 failed"), "{summary}");
    // Every rule of every shipped policy is pinned by a test `by` it.
    for file in &files {
        let checked = match xos::check_path(Path::new(file), &LoadOptions::default()) {
            Ok(CheckedFile::Policy(checked)) => checked,
            Ok(_) => panic!("{file} is not a policy"),
            Err(errors) => panic!("{}", render_all(&errors)),
        };
        let policy = &checked.policy;
        for name in policy
            .rules
            .iter()
            .map(|r| r.name.as_str())
            .chain(["otherwise"])
        {
            assert!(
                policy.tests.iter().any(|t| t.by.as_deref() == Some(name)),
                "{file}: no test expects rule `{name}`"
            );
        }
    }
}

#[test]
fn a_broken_test_exits_3_and_names_the_firing_rule() {
    let out = xos(&["test", "tests/fixtures/policy_test/broken.xos"]);
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    assert!(text.contains("test broken::clean_win ... ok"), "{text}");
    assert!(
        text.contains("got       hold by guardrail_worsened"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "1 passed, 1 failed"), "{text}");
    // located where the failing test is written
    assert!(
        text.contains("    at        tests/fixtures/policy_test/broken.xos:"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn test_runs_a_specs_own_tests_and_exits_1_on_an_invalid_file() {
    let out = xos(&[
        "test",
        "examples/checkout/checkout.xos",
        "tests/fixtures/check/shares_sum.xos",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("test default::clean_win ... ok"));
    assert!(stderr(&out).contains("shares_sum"), "{}", stderr(&out));
    // the policy's tests are named as the policy's, and the summary counts
    // the file that did not check
    assert!(
        stdout(&out).lines().any(|l| {
            l.starts_with("running 0 tests from examples/checkout/checkout.xos and ")
                && l.ends_with(" tests of its policy from <built-in rules/default.xos>")
        }),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("1 file not checked (errors above)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_exits_0_on_every_shipped_policy() {
    let files = shipped_policies();
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let out = xos(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 errors, 0 warnings"),
        "{}",
        stderr(&out)
    );
}

fn policy_test(given: Vec<Given>) -> PolicyTest {
    PolicyTest {
        name: "t".into(),
        source: RuleSource::Policy,
        given,
        expect: Verdict::Hold,
        by: None,
        span: Default::default(),
    }
}

fn given(fact: Fact, value: GivenValue) -> Given {
    Given {
        fact,
        path: String::new(),
        value,
    }
}

#[test]
fn given_facts_keep_the_facts_that_follow_consistent() {
    let checked = match xos::check_path(Path::new("rules/default.xos"), &LoadOptions::default()) {
        Ok(CheckedFile::Policy(checked)) => checked,
        _ => panic!("rules/default.xos does not check"),
    };
    let plan = xos::check::policy_plan(&checked.policy, 2);
    let base = xos::review::tests::test_facts(&plan, &policy_test(Vec::new()));
    assert_eq!(base.health, Health::Healthy);
    assert!(base.sample_reached);
    let primary = &base.metrics[0];
    assert_eq!(primary.abs_lift, Some(0.0));
    assert_eq!(primary.p_value, Some(1.0));
    assert_eq!(primary.prob_better, Some(0.5));
    assert!(!primary.significant);
    assert_eq!(base.metrics[1].status, Some(Status::Ok));
    assert_eq!(base.metrics[1].non_inferior, Some(true));

    let facts = xos::review::tests::test_facts(
        &plan,
        &policy_test(vec![
            given(Fact::Metric(0, Field::Better), GivenValue::Bool(true)),
            given(
                Fact::Guardrail(Field::Status),
                GivenValue::Status(Status::Severe),
            ),
            given(Fact::Metric(0, Field::P), GivenValue::Number(0.01)),
        ]),
    );
    assert!(facts.metrics[0].significant && facts.metrics[0].better);
    assert_eq!(facts.metrics[0].p_adjusted, Some(0.01));
    for guardrail in &facts.metrics[1..] {
        assert_eq!(guardrail.status, Some(Status::Severe));
        assert_eq!(guardrail.severe, Some(true));
        assert_eq!(guardrail.worsened, Some(true));
    }
}

// ---------------------------------------------------------------- xos diff

const OLD: &str = "tests/fixtures/diff/default.xos";
const NEW: &str = "tests/fixtures/diff/no_guardrail_worsened.xos";

#[test]
fn diff_lists_exactly_the_changed_scenarios() {
    let out = xos(&["diff", OLD, NEW]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("diff_text", stdout(&out));
    let json = xos(&["diff", OLD, NEW, "--format", "json"]);
    assert_eq!(json.status.code(), Some(0));
    let value: serde_json::Value =
        serde_json::from_str(&stdout(&json)).unwrap_or_else(|e| panic!("not JSON: {e}"));
    assert_eq!(value["schema"], "xos.diff/v1");
    assert_eq!(value["verdict_changes"], 2);
    insta::assert_json_snapshot!("diff_json", value);
}

#[test]
fn diff_gates_on_verdict_changes_only_when_asked() {
    let changed = xos(&["diff", OLD, NEW, "--fail-on-change"]);
    assert_eq!(changed.status.code(), Some(3));
    let same = xos(&["diff", OLD, OLD, "--fail-on-change"]);
    assert_eq!(same.status.code(), Some(0));
    assert!(stdout(&same).contains("no decision changes"));
    let unpinned = xos(&["diff", OLD, NEW, "--fail-on-untested-change"]);
    assert_eq!(unpinned.status.code(), Some(3));
    let pinned = xos(&[
        "diff",
        OLD,
        "tests/fixtures/diff/pinned.xos",
        "--fail-on-untested-change",
    ]);
    assert_eq!(pinned.status.code(), Some(0), "{}", stdout(&pinned));
    assert!(stdout(&pinned).contains("pinned by test `worsened_guardrail_launches`"));
}

#[test]
fn diff_refuses_a_policy_against_a_spec() {
    let out = xos(&["diff", OLD, "examples/checkout/checkout.xos"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("xos::diff::mixed"));
}

#[test]
fn diff_of_the_shipped_policies_is_fast_and_complete() {
    let files = shipped_policies();
    for old in &files {
        for new in &files {
            let out = xos(&["diff", old, new, "--format", "json"]);
            assert_eq!(out.status.code(), Some(0), "{old} {new}");
            let value: serde_json::Value = serde_json::from_str(&stdout(&out))
                .unwrap_or_else(|e| panic!("{old} {new}: not JSON: {e}"));
            // Every scenario of the shipped policies is compared: a change
            // between them is never missed.
            assert_eq!(value["complete"], true, "{old} {new}");
            if old == new {
                assert_eq!(value["changes"], serde_json::json!([]), "{old}");
            }
        }
    }
}

// ---------------------------------------------------------------- analysis

fn warnings_of(path: &Path) -> Diagnostics {
    match xos::check_path(&relative(path), &LoadOptions::default()) {
        Ok(checked) => {
            assert!(!checked.warnings().has_errors());
            checked.warnings().clone()
        }
        Err(errors) => panic!("{}", render_all(&errors)),
    }
}

/// One fixture per warning, named after its code (`never_true.xos`, a
/// second case `never_true--experiment.xos`).
#[test]
fn analysis_fixtures() {
    insta::glob!("fixtures/analysis/*.xos", |path| {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let code = name.split("--").next().unwrap_or_default();
        let warnings = warnings_of(path);
        assert!(
            warnings
                .iter()
                .any(|d| d.code.rsplit("::").next() == Some(code)),
            "{name}: expected a warning `{code}`, got:\n{}",
            render_all(&warnings)
        );
        insta::assert_snapshot!(render_all(&warnings));
    });
}

#[test]
fn the_policy_without_guardrail_worsened_launches_despite_a_severe_guardrail() {
    let warnings = warnings_of(&manifest().join(NEW));
    let codes: Vec<&str> = warnings.iter().map(|d| d.code).collect();
    // It also launches before the planned sample (it has no `early_look`).
    assert_eq!(
        codes,
        [
            "xos::check::launch_despite_severe",
            "xos::analysis::peeking"
        ]
    );
}

// ---------------------------------------------------------------- [require]

/// One folder per requirement, each with an `xos.toml` and a spec that
/// meets every requirement but the folder's one.
#[test]
fn require_fixtures() {
    insta::glob!("fixtures/require/*/spec.xos", |path| {
        let name = path
            .parent()
            .and_then(Path::file_name)
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let diagnostics = match check::load_plan(&relative(path), &LoadOptions::default()) {
            Ok(checked) => panic!("{name}: no violation:\n{}", render_all(&checked.warnings)),
            Err(errors) => errors,
        };
        let codes: Vec<&str> = diagnostics.errors().map(|d| d.code).collect();
        assert_eq!(codes, [format!("xos::require::{name}")], "{name}");
        insta::assert_snapshot!(render_all(&diagnostics));
    });
}

#[test]
fn a_large_space_keeps_its_simplest_scenarios_and_says_so() {
    let spec = "tests/fixtures/diff/many_guardrails.xos";
    // Its policy is the crate's `rules/bayesian.xos`, outside its folder.
    let check = xos(&["check", "--allow-outside", spec]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let out = xos(&["diff", "--allow-outside", spec, spec, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("not JSON: {e}"));
    assert_eq!(value["complete"], false);
    assert_eq!(value["changes"], serde_json::json!([]));
}

// ---------------------------------------------------------------- no panics

const POLICIES: [&str; 4] = [
    include_str!("../rules/default.xos"),
    include_str!("../rules/strict.xos"),
    include_str!("../rules/do_no_harm.xos"),
    include_str!("../rules/bayesian.xos"),
];

/// Swaps one word of a policy for another: the rules stay well-formed
/// often enough to reach the analysis, the tests and the diff.
fn mutate(text: &str, edits: &[(usize, usize)]) -> String {
    const WORDS: [&str; 16] = [
        "launch", "hold", "rollback", "any", "all", "no", "and", "or", "not", "worse", "better",
        "severe", "worsened", "<", ">=", "true",
    ];
    let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
    for (at, word) in edits {
        if words.is_empty() {
            break;
        }
        let i = at % words.len();
        let replacement = WORDS[word % WORDS.len()];
        if WORDS.contains(&words[i].trim()) {
            words[i] = replacement.to_string();
        } else {
            words.remove(i);
        }
    }
    words.join(" ")
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn edited_policies_never_panic(
        which in 0usize..POLICIES.len(),
        edits in proptest::collection::vec((0usize..2000, 0usize..16), 1..5),
    ) {
        let original = POLICIES[which];
        let text = mutate(original, &edits);
        let source = xos::diagnostic::SourceFile::new("edited.xos", text);
        if let Ok(checked) = check::check_policy_source(&source) {
            let warnings = xos::review::analysis::analyze_policy(&checked.policy, &source, Default::default());
            for d in warnings.iter() {
                let _ = diagnostic::render(d, false, 80);
            }
            let _ = xos::review::tests::policy_tests(&checked.policy);
            let before = xos::diagnostic::SourceFile::new("original.xos", original);
            if let Ok(old) = check::check_policy_source(&before) {
                let old = xos::check::policy_plan(&old.policy, 2);
                let new = xos::check::policy_plan(&checked.policy, 2);
                let diff = xos::review::diff::diff(&old, &new, ("old", "new"), Some((&old, &new)));
                let _ = xos::review::diff::render_text(&diff);
            }
        }
    }
}

#[test]
fn diff_of_two_specs_names_their_guardrails_and_pins_with_their_tests() {
    let out = xos(&[
        "diff",
        "tests/fixtures/diff/specs/old.xos",
        "tests/fixtures/diff/specs/new.xos",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("pinned by test `small_win_holds`"), "{text}");
    insta::assert_snapshot!("diff_specs_text", text);
}

// --------------------------------- the review tools' model of real results

/// Writes `name` with `text` into `dir` and returns its path as text.
fn policy_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write the policy");
    path.display().to_string()
}

/// A lift that is not significant is rarely 0 on real data: a rule on
/// `primary.rel_lift` fires there, so it is neither "shadowed" by a rule on
/// `primary.worse` nor invisible to `xos diff`.
#[test]
fn a_rule_on_a_lift_that_is_not_significant_is_seen_by_check_and_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let harm = "    rule harm { when primary.worse then rollback because \"worse\" }\n";
    let drop = "    rule drop { when primary.rel_lift < -2% then hold because \"a drop\" }\n";
    let with = policy_file(
        &dir,
        "with.xos",
        &format!("policy p {{\n{harm}{drop}    otherwise launch because \"ship\"\n}}\n"),
    );
    let without = policy_file(
        &dir,
        "without.xos",
        &format!("policy p {{\n{harm}    otherwise launch because \"ship\"\n}}\n"),
    );
    let check = xos(&["check", &with]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(
        !stderr(&check).contains("can never fire"),
        "{}",
        stderr(&check)
    );
    let diff = xos(&["diff", &with, &without, "--format", "json"]);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
    let value: serde_json::Value = serde_json::from_str(&stdout(&diff)).expect("JSON");
    assert_eq!(value["complete"], true, "{value}");
    assert!(value["verdict_changes"].as_u64() > Some(0), "{value}");
    assert_eq!(value["changes"][0]["old"]["rule"], "drop", "{value}");
    assert_eq!(value["changes"][0]["new"]["verdict"], "launch", "{value}");
}

/// `primary.lift * 2 > 1.2pp` turns at a lift of 0.6 pp: the space holds
/// both sides of it, so the diff against `primary.lift > 0.5pp` finds the
/// lifts in between and is complete.
#[test]
fn diff_solves_linear_arithmetic_on_one_fact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = |when: &str| {
        format!(
            "policy p {{\n    rule big {{ when primary.better and {when} then launch because \"big\" }}\n    \
             otherwise hold because \"no\"\n}}\n"
        )
    };
    let new = policy_file(&dir, "new.xos", &policy("primary.lift > 0.5pp"));
    for (name, when) in [
        ("times.xos", "primary.lift * 2 > 1.2pp"),
        ("minus.xos", "primary.lift - 0.1pp > 0.5pp"),
        ("negated.xos", "-primary.lift < -0.6pp"),
    ] {
        let old = policy_file(&dir, name, &policy(when));
        let out = xos(&["diff", &old, &new, "--format", "json"]);
        let value: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        assert_eq!(value["complete"], true, "{when}: {value}");
        assert!(
            value["verdict_changes"].as_u64() > Some(0),
            "{when}: {value}"
        );
    }
}

/// A rule that compares two facts (`primary.p > srm.p`) is only sampled: `check` does not claim
/// the policy never launches, and `diff` says its comparison may be
/// incomplete.
#[test]
fn two_facts_compared_are_never_taken_for_proof() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chi = policy_file(
        &dir,
        "chi.xos",
        "policy p {\n    rule odd { when primary.p > srm.p then launch because \"odd\" }\n    \
         otherwise hold because \"no\"\n}\n",
    );
    let check = xos(&["check", &chi]);
    assert!(
        !stderr(&check).contains("can never launch"),
        "{}",
        stderr(&check)
    );
    let same = xos(&["diff", &chi, &chi]);
    let text = stdout(&same);
    assert!(text.contains("a change may be missing"), "{text}");
    assert!(
        text.contains("no decision changes among the scenarios compared"),
        "{text}"
    );
}

/// A launch rule that needs `plan.sample_reached` cannot launch before the
/// planned sample: no peeking warning, even though the scenarios before
/// the sample merge into simpler ones; its launch with a severe guardrail
/// on a lift that is not significant is found.
#[test]
fn a_launch_at_the_planned_sample_is_no_peek_and_its_severe_launch_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_file(
        &dir,
        "p.xos",
        "policy p {\n    rule harm { when primary.worse then rollback because \"worse\" }\n    \
         rule guard { when any guardrail severe and primary.better then hold because \"guard\" }\n    \
         rule big { when primary.rel_lift > 5% and plan.sample_reached then launch because \"big\" }\n    \
         otherwise hold because \"no\"\n}\n",
    );
    let out = xos(&["check", &policy]);
    let text = stderr(&out);
    assert!(!text.contains("before its planned sample"), "{text}");
    assert!(
        text.contains("can launch while a guardrail is severe"),
        "{text}"
    );
}

/// Facts the scenarios cannot vary faithfully never make `check` claim a
/// rule can never be true: each of these fires on some real data (a
/// second hostile pass found each claimed "never").
#[test]
fn check_claims_never_only_where_the_scenarios_are_faithful() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, when) in [
        // read sequentially, a policy file's rule sees sequential.fixed false
        (
            "sequential",
            "not sequential.fixed and primary.prob_better >= 90%",
        ),
        // the progress can pass 100% while an arm is short
        ("progress", "sequential.fixed and plan.progress < 100%"),
        (
            "look",
            "sequential.look >= 5 and primary.prob_better >= 90%",
        ),
        // a spec's α is not the default's
        ("alpha", "settings.alpha > 5%"),
        // under a correction over several arms
        (
            "near_miss",
            "primary.p < settings.alpha and not primary.significant",
        ),
        // a sequential posterior outlives significance
        (
            "posterior",
            "not primary.significant and primary.prob_better >= 98%",
        ),
        // a relative lift over a control of 0 is undefined
        (
            "undefined",
            "not (primary.rel_lift >= 0%) and not (primary.rel_lift < 0%)",
        ),
        // a spec without guardrails
        ("unguarded", "no guardrail (status == ok or status != ok)"),
        // a group-sequential crossing keeps its interval
        ("stale", "primary.lift < 1pp and primary.ci_low > 1pp"),
    ] {
        let path = policy_file(
            &dir,
            &format!("{name}.xos"),
            &format!(
                "policy p {{\n    rule r {{ when {when} then hold because \"r\" }}\n    \
                 otherwise launch because \"ship\"\n}}\n"
            ),
        );
        let out = xos(&["check", &path]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("can never"),
            "{name}: {}",
            stderr(&out)
        );
    }
}

/// `xos diff` finds the change, or says it may have missed one, for each
/// rewrite a second hostile pass showed changing verdicts on real data
/// while the diff said "complete" with no change.
#[test]
fn diff_finds_the_change_or_says_it_may_miss_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = |when: &str| {
        format!(
            "policy p {{\n    rule harm {{ when primary.worse then rollback because \"worse\" }}\n    \
             rule win {{ when {when} then launch because \"win\" }}\n    \
             otherwise hold because \"no\"\n}}\n"
        )
    };
    for (name, old, new) in [
        (
            "raw_p",
            "primary.better",
            "primary.p < settings.alpha and primary.lift > 0",
        ),
        (
            "literal_p",
            "primary.better",
            "primary.p < 5% and primary.lift > 0",
        ),
        (
            "posterior",
            "primary.better",
            "primary.better or primary.prob_better >= 98%",
        ),
        (
            "undefined",
            "primary.better and not (primary.rel_lift >= 2%)",
            "primary.better and primary.rel_lift < 2%",
        ),
        (
            "persisting",
            "primary.better and primary.lift >= 1pp",
            "primary.ci_low >= 1pp",
        ),
    ] {
        let old = policy_file(&dir, &format!("{name}_old.xos"), &policy(old));
        let new = policy_file(&dir, &format!("{name}_new.xos"), &policy(new));
        let out = xos(&["diff", &old, &new, "--format", "json"]);
        let value: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
        let found = value["verdict_changes"].as_u64() > Some(0);
        assert!(found || value["complete"] == false, "{name}: {value}");
    }
    // Two specs that differ outside their rules (α here) are never a
    // complete comparison: the same data gives other facts.
    let spec = |alpha: &str| {
        format!(
            "experiment e {{\n    data \"d.csv\"\n    variants {{ control 50% treatment 50% }}\n    \
             primary conversion = rate(conversions)\n    settings {{ alpha {alpha} }}\n}}\n"
        )
    };
    let old = policy_file(&dir, "old_spec.xos", &spec("5%"));
    let new = policy_file(&dir, "new_spec.xos", &spec("20%"));
    let out = xos(&["diff", &old, &new, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(value["complete"], false, "{value}");
    assert_eq!(value["other_changes"], serde_json::json!(["settings"]));
    let text = stdout(&xos(&["diff", &old, &new]));
    assert!(
        text.contains("the specs also differ outside their rules (settings)"),
        "{text}"
    );
}

/// A launch on one better and one worse guardrail needs a third guardrail
/// to be severe at the same time: the stand-in experiment of a policy file
/// has three, so the warning is found.
#[test]
fn a_launch_that_needs_three_guardrail_states_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = policy_file(
        &dir,
        "tradeoff.xos",
        "policy tradeoff {\n    rule harm { when primary.worse then rollback because \"worse\" }\n    \
         rule tradeoff { when primary.better and any guardrail better and any guardrail worse \
         then launch because \"a trade-off\" }\n    otherwise hold because \"no\"\n}\n",
    );
    let out = xos(&["check", &path]);
    assert!(
        stderr(&out).contains("can launch while a guardrail is severe"),
        "{}",
        stderr(&out)
    );
}

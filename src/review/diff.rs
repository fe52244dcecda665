//! Two policies (or two specs) run on every scenario they can tell apart:
//! where do their decisions differ? What a reviewer reads in a policy pull
//! request (`xos diff OLD NEW`).

use serde::Serialize;

use crate::decide;
use crate::plan::{Plan, PolicyTest, RuleSource, Verdict};
use crate::review::scenario::{self, Explored};
use crate::review::tests;

/// The schema of `xos diff --format json`.
pub const SCHEMA: &str = "xos.diff/v1";

/// The decisions of two plans compared over their scenario space.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyDiff {
    /// Always [`SCHEMA`], so readers of the JSON can tell its version.
    pub schema: &'static str,
    /// How the old policy (or spec) is named: the path given to `xos diff`.
    pub old: String,
    /// How the new policy (or spec) is named: the path given to `xos diff`.
    pub new: String,
    /// Scenarios compared.
    pub scenarios: usize,
    /// `false` when the space was too large and only its simplest
    /// scenarios were compared, or a rule compares two facts (or divides by
    /// a fact), which the space only samples: no change found is then no
    /// proof of none.
    pub complete: bool,
    /// What else differs between two specs (`metric \`conversion\``,
    /// `settings`, `sequential`, `plan`, `variants`): the scenarios compare
    /// decisions given the facts, and these change the facts the same data
    /// gives (`prefer`, α, a threshold), so the diff is then not complete.
    /// Empty for policy files.
    pub other_changes: Vec<String>,
    /// Scenarios whose verdict changes.
    pub verdict_changes: usize,
    /// Scenarios where only the deciding rule changes.
    pub rule_changes: usize,
    /// Verdict changes first, then rule-only changes.
    pub changes: Vec<ChangeGroup>,
}

/// Scenarios that change in the same way.
#[derive(Clone, Debug, Serialize)]
pub struct ChangeGroup {
    /// What the old plan decides on these scenarios.
    pub old: Side,
    /// What the new plan decides on these scenarios.
    pub new: Side,
    /// Whether the verdict changes (else only the deciding rule does).
    pub verdict_changed: bool,
    /// Tests of the new policy whose facts make this same change: they pin
    /// the new behaviour.
    pub pinned_by: Vec<String>,
    /// The scenarios that change this way, simplest first.
    pub scenarios: Vec<ScenarioView>,
}

/// One plan's decision on a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Side {
    /// The verdict.
    pub verdict: Verdict,
    /// The rule that decides, `otherwise` for the fallback.
    pub rule: String,
}

/// A scenario as a reviewer reads it.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioView {
    /// The scenario in words ("primary significantly better, guardrail severe"), from
    /// [`scenario::Scenario::describe`].
    pub description: String,
    /// The facts that differ from a healthy experiment with no effect.
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// No other scenario of the group has a subset of these facts; the text
    /// output lists only these.
    pub minimal: bool,
}

impl PolicyDiff {
    /// Whether any verdict changes.
    pub fn verdict_changed(&self) -> bool {
        self.verdict_changes > 0
    }

    /// Verdict changes that no test of the new policy pins.
    pub fn unpinned(&self) -> impl Iterator<Item = &ChangeGroup> {
        self.changes
            .iter()
            .filter(|g| g.verdict_changed && g.pinned_by.is_empty())
    }
}

/// Compares `old` and `new` on every scenario of their joint space.
/// `test_views` are the plans the new plan's tests run on, old and new: a
/// test that decides differently on the two pins the change it shows.
pub fn diff(
    old: &Plan,
    new: &Plan,
    names: (&str, &str),
    test_views: Option<(&Plan, &Plan)>,
) -> PolicyDiff {
    let space = scenario::explore(&[old, new]);
    let explored = &space.scenarios;
    let mut groups: Vec<ChangeGroup> = Vec::new();
    let (mut verdict_changes, mut rule_changes) = (0, 0);
    for e in explored {
        let (ov, or) = scenario::decision(old, e, 0);
        let (nv, nr) = scenario::decision(new, e, 1);
        if ov == nv && or == nr {
            continue;
        }
        if ov == nv {
            rule_changes += 1;
        } else {
            verdict_changes += 1;
        }
        let (o, n) = (
            Side {
                verdict: ov,
                rule: or,
            },
            Side {
                verdict: nv,
                rule: nr,
            },
        );
        let view = view(e);
        match groups.iter_mut().find(|g| g.old == o && g.new == n) {
            Some(group) => group.scenarios.push(view),
            None => groups.push(ChangeGroup {
                verdict_changed: o.verdict != n.verdict,
                old: o,
                new: n,
                pinned_by: Vec::new(),
                scenarios: vec![view],
            }),
        }
    }
    // Verdict changes first; otherwise in order of first appearance, which
    // is simplest scenario first.
    groups.sort_by_key(|g| !g.verdict_changed);
    for group in &mut groups {
        mark_minimal(&mut group.scenarios);
    }
    if let Some((old_view, new_view)) = test_views {
        for test in &new_view.policy.tests {
            let Some((o, n)) = test_change(old_view, new_view, test) else {
                continue;
            };
            if let Some(group) = groups.iter_mut().find(|g| g.old == o && g.new == n) {
                group.pinned_by.push(test.name.clone());
            }
        }
    }
    let other_changes = outside_the_rules(old, new);
    PolicyDiff {
        schema: SCHEMA,
        old: names.0.to_string(),
        new: names.1.to_string(),
        scenarios: explored.len(),
        complete: space.complete
            && other_changes.is_empty()
            && [old, new].iter().all(|plan| {
                plan.policy
                    .rules
                    .iter()
                    .all(|rule| scenario::decided_exactly(plan, &rule.when))
            }),
        other_changes,
        verdict_changes,
        rule_changes,
        changes: groups,
    }
}

/// The parts of two plans outside their rules that differ: each metric
/// (by name, the primary as `primary`; added, removed or changed in kind,
/// direction, thresholds, margin, covariate or planning inputs), the
/// settings, `sequential`, the sample plan and the variants. Compared by
/// their debug text, which holds every field and no source position.
fn outside_the_rules(old: &Plan, new: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let keyed = |plan: &Plan| -> Vec<(String, String)> {
        (0..plan.metrics.len())
            .map(|id| {
                (
                    scenario::metric_key(plan, id).to_string(),
                    format!("{:?}", plan.metrics[id]),
                )
            })
            .collect()
    };
    let (old_metrics, new_metrics) = (keyed(old), keyed(new));
    for (key, text) in &new_metrics {
        match old_metrics.iter().find(|(k, _)| k == key) {
            Some((_, before)) if before == text => {}
            Some(_) => out.push(format!("metric `{key}`")),
            None => out.push(format!("metric `{key}` (added)")),
        }
    }
    for (key, _) in &old_metrics {
        if !new_metrics.iter().any(|(k, _)| k == key) {
            out.push(format!("metric `{key}` (removed)"));
        }
    }
    if old.settings != new.settings {
        out.push("settings".to_string());
    }
    if old.sequential != new.sequential {
        out.push("sequential".to_string());
    }
    if format!("{:?}", old.sample_plan) != format!("{:?}", new.sample_plan) {
        out.push("plan".to_string());
    }
    if format!("{:?}", old.variants) != format!("{:?}", new.variants) {
        out.push("variants".to_string());
    }
    out
}

/// A test of the new plan, run on both: the change it shows, if it passes
/// on the new plan and decides differently on the old.
fn test_change(old: &Plan, new: &Plan, test: &PolicyTest) -> Option<(Side, Side)> {
    if old.metrics.len() != new.metrics.len()
        || old
            .metrics
            .iter()
            .zip(&new.metrics)
            .any(|(a, b)| a.name != b.name)
    {
        return None;
    }
    let (old_plan, new_plan) = match test.source {
        RuleSource::Policy => (old.policy_rules_only(), new.policy_rules_only()),
        RuleSource::Inline => (old.clone(), new.clone()),
    };
    let result = tests::run_test(&new_plan, test, "");
    if !result.passed {
        return None;
    }
    let facts = tests::test_facts(&new_plan, test);
    let before = decide::decide_arm(&old_plan, &facts);
    let side = |verdict, rule| Side { verdict, rule };
    let o = side(before.verdict, before.rule);
    let n = side(result.decision.verdict, result.decision.rule);
    (o != n).then_some((o, n))
}

fn view(e: &Explored) -> ScenarioView {
    ScenarioView {
        description: e.scenario.describe(),
        facts: e.scenario.facts_set().into_iter().collect(),
        minimal: true,
    }
}

/// A scenario whose facts include all the facts of another scenario of its
/// group says only "this also happens when more is true": it is not minimal.
fn mark_minimal(scenarios: &mut [ScenarioView]) {
    let within = |a: &ScenarioView, b: &ScenarioView| {
        a.facts.len() < b.facts.len() && a.facts.iter().all(|(k, v)| b.facts.get(k) == Some(v))
    };
    let flags: Vec<bool> = scenarios
        .iter()
        .map(|b| !scenarios.iter().any(|a| within(a, b)))
        .collect();
    for (scenario, minimal) in scenarios.iter_mut().zip(flags) {
        scenario.minimal = minimal;
    }
}

/// The diff as a reviewer reads it.
pub fn render_text(diff: &PolicyDiff) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let _ = writeln!(
        out,
        "xos diff {} → {}",
        crate::text::shown_path(std::path::Path::new(&diff.old)),
        crate::text::shown_path(std::path::Path::new(&diff.new))
    );
    let _ = writeln!(
        out,
        "{} compared: {} the verdict, {} only the deciding rule",
        plural(diff.scenarios, "scenario", "scenarios"),
        plural(diff.verdict_changes, "changes", "change"),
        plural(diff.rule_changes, "changes", "change"),
    );
    if !diff.other_changes.is_empty() {
        let _ = writeln!(
            out,
            "the specs also differ outside their rules ({}): the same data can give other facts, \
             so verdicts can change where no scenario shows it",
            diff.other_changes.join(", ")
        );
    } else if !diff.complete {
        let _ = writeln!(
            out,
            "not every scenario was compared (the space is large, or a rule compares facts the \
             scenarios do not vary): a change may be missing"
        );
    }
    if diff.changes.is_empty() {
        if diff.complete {
            let _ = writeln!(out, "\nno decision changes");
        } else {
            let _ = writeln!(out, "\nno decision changes among the scenarios compared");
        }
        return out;
    }
    let _ = writeln!(
        out,
        "facts not listed are those of a healthy experiment with no effect"
    );
    for group in &diff.changes {
        let _ = writeln!(out);
        let kind = if group.verdict_changed {
            "verdict changes"
        } else {
            "rule changes, verdict kept"
        };
        let _ = writeln!(
            out,
            "{} by {} → {} by {} ({kind}, {}):",
            group.old.verdict.as_str(),
            group.old.rule,
            group.new.verdict.as_str(),
            group.new.rule,
            plural(group.scenarios.len(), "scenario", "scenarios"),
        );
        for s in group.scenarios.iter().filter(|s| s.minimal) {
            let _ = writeln!(out, "  - {}", s.description);
        }
        let more = group.scenarios.iter().filter(|s| !s.minimal).count();
        if more > 0 {
            let _ = writeln!(
                out,
                "  - and {} facts to these (`--format json` lists them)",
                plural(more, "scenario that adds", "scenarios that add")
            );
        }
        if group.verdict_changed {
            if group.pinned_by.is_empty() {
                let _ = writeln!(out, "  not pinned by any test of the new policy");
            } else {
                let names: Vec<String> = group.pinned_by.iter().map(|n| format!("`{n}`")).collect();
                let _ = writeln!(out, "  pinned by test {}", names.join(", "));
            }
        }
    }
    out
}

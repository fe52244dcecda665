//! Static analysis of decision rules over the scenario space
//! (`scenario.rs`): warnings that `xos check` shows.
//!
//! - `xos::check::never_true`: a rule whose condition no scenario satisfies;
//! - `xos::check::shadowed_rule`: a rule that holds only where earlier rules
//!   already decide;
//! - `xos::check::launch_despite_severe`: a policy that launches in a
//!   scenario with a severe guardrail (the scenario is named);
//! - `xos::check::never_launches`: a policy that launches in no scenario.
//!
//! A policy file is analysed on its own, with two generic guardrails. In a
//! spec, only what the spec's own rules cause is reported: the policy file's
//! problems are reported when the policy file is checked. Rules after a
//! `when true`, or repeating an earlier condition, already have a warning
//! from the checker and get no second one; rules that compare two facts or
//! do arithmetic on facts are only sampled by the space, so they are never
//! called unreachable.
//!
//! What the user sees for a policy that launches any significant win:
//!
//! ```text
//! xos::check::launch_despite_severe
//!
//!   ⚠ policy `reckless` can launch while a guardrail is severe
//!    ╭─[tests/fixtures/analysis/launch_despite_severe.xos:4:10]
//!  3 │     rule harm { when primary.worse then rollback because "Worse." }
//!  4 │     rule win { when primary.better then launch because "Better." }
//!    ·          ─┬─
//!    ·           ╰── launches when: primary significantly better, guardrail severe
//!  5 │     otherwise hold because "Nothing yet."
//!    ╰────
//!   help: rule `win` launches in that scenario; add a rule before it for `any guardrail severe`
//!         (hold or roll back)
//! ```

use std::sync::Arc;

use crate::check::CheckedFile;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::plan::{Expr, Health, Plan, Policy, Rule, RuleSource, Status, Verdict};
use crate::review::scenario::{self, Explored, Scenario};

/// Adds the analysis warnings to a checked file. `name` is the span of the
/// experiment's or policy's name in `source`.
pub fn with_warnings(checked: CheckedFile, source: &Arc<SourceFile>, name: Span) -> CheckedFile {
    match checked {
        CheckedFile::Experiment(mut checked) => {
            let warnings = analyze_plan(&checked.plan, source, name);
            checked.warnings.extend(warnings);
            CheckedFile::Experiment(checked)
        }
        CheckedFile::Policy(mut checked) => {
            let warnings = analyze_policy(&checked.policy, source, name);
            checked.warnings.extend(warnings);
            CheckedFile::Policy(checked)
        }
    }
}

/// What the scenario space says about one plan's rules.
struct Findings {
    /// The space was complete and every rule is decided exactly on it:
    /// absence is proven.
    complete: bool,
    /// Per rule: the condition holds in some scenario.
    ever_true: Vec<bool>,
    /// Per rule: the earlier rules that decide wherever it holds, when it
    /// never decides itself.
    shadowed_by: Vec<Option<Vec<usize>>>,
    /// The first scenario that launches, if any.
    launches: bool,
    /// Per rule (index `rules.len()` for `otherwise`): a scenario where it
    /// launches with a severe guardrail.
    severe_launch: Vec<Option<Scenario>>,
    /// The first launch before the planned sample (`sample_reached` false):
    /// the rule's index (`rules.len()` for `otherwise`) and the scenario.
    /// When no rule reads the sample's state, it is never varied and any
    /// launch is one before the planned sample.
    early_launch: Option<(usize, Scenario)>,
    /// The first launch with health `blocked`: the rule's index
    /// (`rules.len()` for `otherwise`) and the scenario. When no rule reads
    /// the health, it is never varied and any launch ignores it.
    blocked_launch: Option<(usize, Scenario)>,
}

fn findings(plan: &Plan) -> Findings {
    let space = scenario::explore(&[plan]);
    let explored = &space.scenarios;
    let rules = &plan.policy.rules;
    let n = rules.len();
    let mut ever_true = vec![false; n];
    let mut fires = vec![false; n];
    let mut shadowers: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut launches = false;
    let mut severe_launch: Vec<Option<Scenario>> = vec![None; n + 1];
    let mut early_launch = None;
    let mut blocked_launch = None;
    let (sample_varied, health_varied) = (space.reads_sample, space.reads_health);
    for e in explored {
        let fired = e.fired(0);
        let truths = &e.rules[0];
        for (i, holds) in truths.iter().enumerate() {
            if !*holds {
                continue;
            }
            ever_true[i] = true;
            match fired {
                Some(f) if f == i => fires[i] = true,
                Some(f) if !shadowers[i].contains(&f) => shadowers[i].push(f),
                _ => {}
            }
        }
        let (verdict, _) = scenario::decision(plan, e, 0);
        if verdict == Verdict::Launch {
            launches = true;
            let slot = fired.unwrap_or(n);
            if severe_launch[slot].is_none() && worst(plan, e) == Status::Severe {
                severe_launch[slot] = Some(e.scenario.clone());
            }
            if blocked_launch.is_none() && (e.scenario.health == Health::Blocked || !health_varied)
            {
                let mut blocked = e.scenario.clone();
                blocked.health = Health::Blocked;
                blocked_launch = Some((slot, blocked));
            }
            // Read sequentially (a policy file's stand-in may be), an
            // early launch is valid.
            if early_launch.is_none()
                && !e.scenario.sequential
                && (!e.scenario.sample_reached || !sample_varied)
            {
                let mut early = e.scenario.clone();
                early.sample_reached = false;
                early_launch = Some((slot, early));
            }
        }
    }
    let shadowed_by = (0..n)
        .map(|i| (ever_true[i] && !fires[i]).then(|| shadowers[i].clone()))
        .collect();
    Findings {
        // Absence is proven only when every rule is decided exactly: a rule
        // comparing two facts is sampled, and may fire where no scenario
        // shows it.
        complete: space.complete
            && rules
                .iter()
                .all(|rule| scenario::decided_exactly(plan, &rule.when)),
        ever_true,
        shadowed_by,
        launches,
        severe_launch,
        early_launch,
        blocked_launch,
    }
}

fn worst(plan: &Plan, e: &Explored) -> Status {
    e.scenario.worst_guardrail(plan)
}

/// Rules the checker already calls unreachable (after `when true`, or with
/// an earlier rule's condition).
fn already_unreachable(rules: &[Rule], i: usize) -> bool {
    rules[..i]
        .iter()
        .any(|r| r.when == Expr::Bool(true) || r.when == rules[i].when)
}

/// Most rules the scenario analysis explores: its work grows with rules ×
/// scenarios (up to 200,000), so beyond this `xos check` says the analysis
/// was skipped instead of taking minutes (3,000 inline rules took 36 s).
pub const MAX_ANALYZED_RULES: usize = 1_000;

/// The note that replaces the analysis of a policy with too many rules.
fn too_many_rules(rules: usize, source: &Arc<SourceFile>, name: Span) -> Diagnostics {
    Diagnostic::warning(
        "xos::check::analysis_skipped",
        format!("{rules} rules: the scenario analysis of the rules was skipped"),
    )
    .in_file(source)
    .label(name, format!("more than {MAX_ANALYZED_RULES} rules"))
    .help("rules that can never fire or launch despite a severe guardrail are not looked for; split the policy to have them checked")
    .into()
}

/// Warnings about a policy file on its own.
pub fn analyze_policy(policy: &Policy, source: &Arc<SourceFile>, name: Span) -> Diagnostics {
    if policy.rules.len() > MAX_ANALYZED_RULES {
        return too_many_rules(policy.rules.len(), source, name);
    }
    let plan = crate::check::policy_plan(policy, 3);
    let found = findings(&plan);
    let rules = &plan.policy.rules;
    let span = |rule: &Rule| rule.name_span;
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if !found.complete
            || already_unreachable(rules, i)
            || !scenario::decided_exactly(&plan, &rule.when)
        {
            continue;
        }
        out.extend(unreachable_warning(&plan, &found, i, &span, |_| true));
    }
    // The rule that launches in a scenario (index `rules.len()` for
    // `otherwise`): where the warning points, and how it names it.
    let launcher = |i: usize| match rules.get(i) {
        Some(rule) => (span(rule), format!("rule `{}`", rule.name)),
        None => (name, "`otherwise`".to_string()),
    };
    let owner = format!("policy `{}`", policy.name);
    for (i, found_scenario) in found.severe_launch.iter().enumerate() {
        let Some(s) = found_scenario else { continue };
        let (label, by) = launcher(i);
        out.push(launch_despite_severe(&owner, label, &by, s));
    }
    if let Some((i, s)) = &found.early_launch {
        let (label, by) = launcher(*i);
        out.push(peeking(&owner, label, &by, s));
    }
    if let Some((i, s)) = &found.blocked_launch {
        let (label, by) = launcher(*i);
        out.push(launch_despite_blocked(&owner, label, &by, s));
    }
    if found.complete && !found.launches {
        out.push(
            Diagnostic::warning(
                "xos::check::never_launches",
                format!("policy `{}` can never launch", policy.name),
            )
            .label(name, "no scenario leads to `launch`")
            .help("every rule and `otherwise` hold or roll back whatever the facts; a policy that never launches decides nothing"),
        );
    }
    Diagnostics(out.into_iter().map(|d| d.in_file(source)).collect())
}

/// Warnings caused by a spec's own rules, checked before its policy's.
pub fn analyze_plan(plan: &Plan, source: &Arc<SourceFile>, name: Span) -> Diagnostics {
    let rules = &plan.policy.rules;
    let mut out = Vec::new();
    let inline_rules = rules.iter().any(|r| r.source == RuleSource::Inline);
    // A `plan` the sample cannot be computed from (no `mde`, no duration)
    // has no planned sample to wait for: the early-look rules never hold.
    let target = plan.sample_plan.is_some()
        && crate::sample_size::sample_target(
            plan,
            crate::sample_size::planned_sample(plan).ok().as_ref(),
        )
        .is_some();
    let fixed_with_plan = plan.sequential.is_none() && target;
    if plan.sequential.is_none() && !target {
        out.push(single_look(plan, name));
    }
    if !inline_rules && !fixed_with_plan {
        return Diagnostics(out.into_iter().map(|d| d.in_file(source)).collect());
    }
    if rules.len() > MAX_ANALYZED_RULES {
        return too_many_rules(rules.len(), source, name);
    }
    let found = findings(plan);
    if fixed_with_plan && let Some((i, s)) = &found.early_launch {
        let (label, by) = match rules.get(*i) {
            Some(rule) if rule.source == RuleSource::Inline => {
                (rule.name_span, format!("rule `{}`", rule.name))
            }
            Some(rule) => (
                name,
                format!("rule `{}` of policy `{}`", rule.name, plan.policy.name),
            ),
            None => (
                name,
                format!("`otherwise` of policy `{}`", plan.policy.name),
            ),
        };
        out.push(peeking(
            &format!("experiment `{}`", plan.name),
            label,
            &by,
            s,
        ));
    }
    if !inline_rules {
        return Diagnostics(out.into_iter().map(|d| d.in_file(source)).collect());
    }
    let policy_only = plan.policy_rules_only();
    let alone = findings(&policy_only);
    let span = |rule: &Rule| rule.name_span;
    let inline = |j: &usize| rules[*j].source == RuleSource::Inline;
    let mut policy_index = 0;
    for (i, rule) in rules.iter().enumerate() {
        let exact = found.complete
            && alone.complete
            && !already_unreachable(rules, i)
            && scenario::decided_exactly(plan, &rule.when);
        if rule.source == RuleSource::Policy {
            // A policy rule that fires on its own but not after the spec's
            // rules: the spec's rules take all its scenarios.
            let k = policy_index;
            policy_index += 1;
            let Some(by) = &found.shadowed_by[i] else {
                continue;
            };
            if !exact || alone.shadowed_by.get(k).is_none_or(Option::is_some) {
                continue;
            }
            let Some(first) = by.iter().find(|j| inline(j)) else {
                continue;
            };
            out.push(
                Diagnostic::warning(
                    "xos::check::shadowed_rule",
                    format!(
                        "rule `{}` of policy `{}` can never fire in this experiment",
                        rule.name, plan.policy.name
                    ),
                )
                .label(span(&rules[*first]), "decides first wherever it holds")
                .help(format!(
                    "wherever `{}` holds, the experiment's own rules decide first; narrow them if the policy's rule should still apply",
                    rule.condition_text
                )),
            );
            continue;
        }
        if !exact {
            continue;
        }
        out.extend(unreachable_warning(plan, &found, i, &span, inline));
    }
    for (i, found_scenario) in found.severe_launch.iter().enumerate() {
        let Some(s) = found_scenario else { continue };
        let Some(rule) = rules.get(i).filter(|r| r.source == RuleSource::Inline) else {
            continue;
        };
        out.push(launch_despite_severe(
            &format!("experiment `{}`", plan.name),
            span(rule),
            &format!("rule `{}`", rule.name),
            s,
        ));
    }
    if let Some((i, s)) = &found.blocked_launch
        && let Some(rule) = rules.get(*i).filter(|r| r.source == RuleSource::Inline)
    {
        out.push(launch_despite_blocked(
            &format!("experiment `{}`", plan.name),
            span(rule),
            &format!("rule `{}`", rule.name),
            s,
        ));
    }
    if found.complete && !found.launches && alone.launches {
        out.push(
            Diagnostic::warning(
                "xos::check::never_launches",
                format!("experiment `{}` can never launch", plan.name),
            )
            .label(name, "no scenario leads to `launch`")
            .help(format!(
                "policy `{}` launches on its own, but the experiment's rules hold or roll back first in every scenario where it would",
                plan.policy.name
            )),
        );
    }
    Diagnostics(out.into_iter().map(|d| d.in_file(source)).collect())
}

/// Rule `i` never holds, or earlier rules decide wherever it holds: the
/// warning, once the caller knows the analysis of the rule is exact. The
/// earlier rules for which `label` is true are labelled as deciding first.
fn unreachable_warning(
    plan: &Plan,
    found: &Findings,
    i: usize,
    span: &impl Fn(&Rule) -> Span,
    label: impl Fn(&usize) -> bool,
) -> Option<Diagnostic> {
    let rules = &plan.policy.rules;
    let rule = &rules[i];
    if !found.ever_true[i] {
        return Some(never_true(rule, span(rule)));
    }
    let by = found.shadowed_by[i].as_ref()?;
    if by
        .iter()
        .any(|j| !scenario::decided_exactly(plan, &rules[*j].when))
    {
        return None;
    }
    let mut d = shadowed(rule, span(rule), by, rules);
    for j in by.iter().filter(|j| label(j)) {
        d = d.secondary(span(&rules[*j]), "decides first");
    }
    Some(d)
}

fn never_true(rule: &Rule, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "xos::check::never_true",
        format!("the condition of rule `{}` can never be true", rule.name),
    )
    .label(span, "holds in no scenario")
    .help(format!(
        "no experiment's facts satisfy `{}` (a metric is never significantly better and worse at once, a status is one value, ...); fix the condition or remove the rule",
        rule.condition_text
    ))
}

fn shadowed(rule: &Rule, span: Span, by: &[usize], rules: &[Rule]) -> Diagnostic {
    let mut by = by.to_vec();
    by.sort_unstable();
    let names: Vec<String> = by
        .iter()
        .filter_map(|j| rules.get(*j))
        .map(|r| format!("`{}`", r.name))
        .collect();
    let names = match names.as_slice() {
        [] => "an earlier rule decides".to_string(),
        [one] => format!("rule {one} decides"),
        [rest @ .., last] => format!("rules {} or {last} decide", rest.join(", ")),
    };
    Diagnostic::warning(
        "xos::check::shadowed_rule",
        format!("rule `{}` can never fire", rule.name),
    )
    .label(span, "shadowed by earlier rules")
    .help(format!(
        "wherever `{}` holds, {names} first; move this rule up or remove it",
        rule.condition_text
    ))
}

/// `xos::analysis::peeking`: a fixed-horizon experiment can be launched
/// before its planned sample, where its p-values are not valid yet.
fn peeking(owner: &str, span: Span, by: &str, scenario: &Scenario) -> Diagnostic {
    risky_launch(
        "xos::analysis::peeking",
        "a fixed-horizon experiment before its planned sample",
        "a fixed-horizon test read before its planned sample launches a null effect several \
         times more often than α. Add a rule before it: `rule early_look { when sequential.fixed \
         and plan.units_remaining > 0 then hold because \"…\" }` (the shipped policies have it), \
         or declare `sequential` in the experiment",
        (owner, span, by, scenario),
    )
}

/// A policy (or a spec's rules) that can launch `what`: the warning
/// `code` at the launching rule `by` (`span`), naming the `scenario` and
/// what to add (`advice`).
fn risky_launch(
    code: &'static str,
    what: &str,
    advice: &str,
    (owner, span, by, scenario): (&str, Span, &str, &Scenario),
) -> Diagnostic {
    Diagnostic::warning(code, format!("{owner} can launch {what}"))
        .label(span, format!("launches when: {}", scenario.describe()))
        .help(format!("{by} launches in that scenario; {advice}"))
}

/// `xos::analysis::peeking`: an experiment with neither a plan nor
/// `sequential` is valid only if read once.
fn single_look(plan: &Plan, name: Span) -> Diagnostic {
    let message = if plan.sample_plan.is_some() {
        format!(
            "experiment `{}` has a `plan` that gives no planned sample, and no `sequential`: \
             its verdict is valid for a single look only, and the policies' early-look holds never apply",
            plan.name
        )
    } else {
        format!(
            "experiment `{}` has neither a `plan` nor `sequential`: its verdict is valid for a single look only",
            plan.name
        )
    };
    Diagnostic::warning("xos::analysis::peeking", message)
        .label(name, "fixed-horizon, without a planned sample")
        .help(
            "a fixed-horizon test is valid once, at a sample fixed in advance; reading it as data \
         accrues (watch, daily memos) and acting on the first significant result inflates false \
         launches. Add `plan { daily_users … }` (with the primary's `baseline` and `mde`) so the \
         policy waits for the planned sample, or a `sequential { method always_valid }` block to \
         decide validly at every look",
        )
}

/// `xos::check::launch_despite_blocked`: a launch on data whose health is
/// blocked (a sample ratio mismatch, a guardrail that cannot be computed).
fn launch_despite_blocked(owner: &str, span: Span, by: &str, scenario: &Scenario) -> Diagnostic {
    risky_launch(
        "xos::check::launch_despite_blocked",
        "while the data's health is blocked",
        "blocked data (a sample ratio mismatch, a guardrail that cannot be computed) makes every \
         number of the experiment suspect. Add a rule before it: `rule blocked { when health == \
         blocked then hold because \"…\" }` (the shipped policies have one)",
        (owner, span, by, scenario),
    )
}

fn launch_despite_severe(owner: &str, span: Span, by: &str, scenario: &Scenario) -> Diagnostic {
    risky_launch(
        "xos::check::launch_despite_severe",
        "while a guardrail is severe",
        "add a rule before it for `any guardrail severe` (hold or roll back)",
        (owner, span, by, scenario),
    )
}

//! Policy tests (`test` blocks, `xos test`): each runs on the facts of a
//! healthy experiment with no effect, with its `given` facts applied, and
//! expects a verdict (and, optionally, the rule that decides).

use crate::decide::{self, ArmDecision};
use crate::evaluate::{ArmFacts, Comparison};
use crate::plan::{
    Fact, Field, GivenValue, Plan, Policy, PolicyTest, RuleSource, Settings, Status, Verdict,
};

use super::scenario::Scenario;
use crate::check::policy_plan;

/// The outcome of one `test` block.
#[derive(Clone, Debug, PartialEq)]
pub struct TestResult {
    /// The policy's name for a policy file's tests, the experiment's for a
    /// spec's own tests: `default::clean_win`.
    pub suite: String,
    /// The test's name (`clean_win`).
    pub name: String,
    /// The verdict the test expects.
    pub expect: Verdict,
    /// The rule the test expects to decide (`by RULE`), if it names one.
    pub by: Option<String>,
    /// What the policy decided on the test's facts.
    pub decision: ArmDecision,
    /// The verdict is the expected one and, with `by`, so is the deciding rule.
    pub passed: bool,
    /// Where the test is written: in the spec (`Inline`) or in its policy's
    /// file (`Policy`), at `span` of that file.
    pub source: RuleSource,
    /// The test's span in the file it is written in.
    pub span: crate::diagnostic::Span,
}

/// Runs one test: the facts of a healthy experiment with no effect, the
/// test's `given` facts applied, through [`decide::decide_arm`].
pub fn run_test(plan: &Plan, test: &PolicyTest, suite: &str) -> TestResult {
    let mut plan_given;
    let mut plan = plan;
    if test
        .given
        .iter()
        .any(|g| matches!(g.fact, Fact::Setting(_)))
    {
        plan_given = plan.clone();
        for given in &test.given {
            if let (Fact::Setting(key), GivenValue::Number(x)) = (given.fact, given.value) {
                set_setting(&mut plan_given.settings, key, x);
            }
        }
        plan = &plan_given;
    }
    let facts = test_facts(plan, test);
    let decision = decide::decide_arm(plan, &facts);
    let passed =
        decision.verdict == test.expect && test.by.as_ref().is_none_or(|by| *by == decision.rule);
    TestResult {
        suite: suite.to_string(),
        name: test.name.clone(),
        expect: test.expect,
        by: test.by.clone(),
        decision,
        passed,
        source: test.source,
        span: test.span,
    }
}

/// The tests of a policy file on its own, on [`policy_plan`] with one
/// guardrail.
pub fn policy_tests(policy: &Policy) -> Vec<TestResult> {
    let plan = policy_plan(policy, 1);
    policy
        .tests
        .iter()
        .map(|test| run_test(&plan, test, &policy.name))
        .collect()
}

/// The tests of a checked spec: its own tests against all its rules and
/// metrics; its policy's tests against the policy's rules on their own, as
/// `xos test` runs them on the policy file.
pub fn plan_tests(plan: &Plan) -> Vec<TestResult> {
    let mut policy = plan.policy.clone();
    policy
        .rules
        .retain(|rule| rule.source == RuleSource::Policy);
    let generic = policy_plan(&policy, 1);
    plan.policy
        .tests
        .iter()
        .map(|test| match test.source {
            RuleSource::Inline => run_test(plan, test, &plan.name),
            RuleSource::Policy => run_test(&generic, test, &policy.name),
        })
        .collect()
}

fn set_setting(settings: &mut Settings, key: crate::plan::SettingKey, x: f64) {
    use crate::plan::SettingKey;
    let count = x.max(0.0).round() as u64;
    match key {
        SettingKey::Alpha => settings.alpha = x,
        SettingKey::SrmWarning => settings.srm_warning = x,
        SettingKey::SrmBlocked => settings.srm_blocked = x,
        SettingKey::MinUnits => settings.min_units = count,
        SettingKey::Seed => settings.seed = count,
        SettingKey::Draws => settings.draws = count,
    }
}

/// The facts a test runs on: no effect, then its `given` facts in order
/// (`p` before `p_adjusted`, which it also sets).
pub fn test_facts(plan: &Plan, test: &PolicyTest) -> ArmFacts {
    let mut facts = Scenario::default().facts(plan);
    let mut given: Vec<_> = test.given.iter().collect();
    given.sort_by_key(|g| {
        matches!(
            g.fact,
            Fact::Metric(_, Field::PAdjusted) | Fact::Guardrail(Field::PAdjusted)
        )
    });
    for g in given {
        apply_given(plan, &mut facts, g.fact, g.value);
    }
    facts
}

/// Sets one fact, keeping the facts that follow from it consistent:
/// `.better` / `.worse` set `.significant`; a guardrail's `.status`,
/// `.worsened` and `.severe` agree; `.p` sets `.p_adjusted`. A `guardrail.X`
/// fact applies to every guardrail the quantifiers see.
pub fn apply_given(plan: &Plan, facts: &mut ArmFacts, fact: Fact, value: GivenValue) {
    match (fact, value) {
        (Fact::Health, GivenValue::Health(h)) => facts.health = h,
        (Fact::SrmP, GivenValue::Number(x)) => facts.srm_p = Some(x),
        (Fact::SrmChi2, GivenValue::Number(x)) => facts.srm_chi2 = Some(x),
        (Fact::SampleReached, GivenValue::Bool(b)) => {
            facts.sample_reached = b;
            // A sample not reached has units and days to go.
            let (units, days) = if b { (0.0, 0.0) } else { (1000.0, 1.0) };
            facts.units_remaining = Some(units);
            facts.days_remaining = Some(days);
        }
        (Fact::PlanProgress, GivenValue::Number(x)) => facts.plan_progress = Some(x),
        (Fact::SequentialLook, GivenValue::Number(x)) => facts.look = x.max(1.0).round() as u64,
        (Fact::SequentialInformation, GivenValue::Number(x)) => facts.information = Some(x),
        (Fact::SequentialFixed, GivenValue::Bool(b)) => facts.fixed = b,
        (Fact::PlanUnitsRemaining, GivenValue::Number(x)) => {
            facts.units_remaining = Some(x);
            facts.sample_reached = x <= 0.0;
        }
        (Fact::PlanDaysRemaining, GivenValue::Number(x)) => facts.days_remaining = Some(x),
        (Fact::Metric(id, field), value) => {
            if let Some(c) = facts.metrics.get_mut(id) {
                set_field(c, field, value);
            }
        }
        (Fact::Guardrail(field), value) => {
            for (id, _) in plan.guardrails() {
                if let Some(c) = facts.metrics.get_mut(id) {
                    set_field(c, field, value);
                }
            }
        }
        // Settings are applied to the plan; other pairs do not type-check.
        _ => {}
    }
}

fn set_field(c: &mut Comparison, field: Field, value: GivenValue) {
    match (field, value) {
        (Field::Lift, GivenValue::Number(x)) => c.abs_lift = Some(x),
        (Field::RelLift, GivenValue::Number(x)) => c.rel_lift = Some(x),
        // A scenario's comparison has no correction of its own: both
        // intervals are the one it states.
        (Field::CiLow, GivenValue::Number(x)) => (c.ci_low, c.ci_adj_low) = (Some(x), Some(x)),
        (Field::CiHigh, GivenValue::Number(x)) => (c.ci_high, c.ci_adj_high) = (Some(x), Some(x)),
        (Field::P, GivenValue::Number(x)) => {
            c.p_value = Some(x);
            c.p_adjusted = Some(x);
        }
        (Field::PAdjusted, GivenValue::Number(x)) => c.p_adjusted = Some(x),
        (Field::ProbBetter, GivenValue::Number(x)) => c.prob_better = Some(x),
        (Field::ExpectedLoss, GivenValue::Number(x)) => c.expected_loss = Some(x),
        (Field::Units, GivenValue::Number(x)) => c.units = x.max(0.0).round() as u64,
        (Field::Boundary, GivenValue::Number(x)) => c.boundary = Some(x),
        (Field::Significant, GivenValue::Bool(b)) => {
            c.significant = b;
            if !b {
                c.better = false;
                c.worse = false;
            }
        }
        (Field::Better, GivenValue::Bool(b)) => {
            c.better = b;
            if b {
                c.significant = true;
                c.worse = false;
            }
        }
        (Field::Worse, GivenValue::Bool(b)) => {
            c.worse = b;
            if b {
                c.significant = true;
                c.better = false;
            }
        }
        (Field::Worsened, GivenValue::Bool(true)) => {
            let status = c.status.unwrap_or(Status::Ok).max(Status::Worsened);
            set_status(c, status);
        }
        (Field::Worsened, GivenValue::Bool(false)) => set_status(c, Status::Ok),
        (Field::Severe, GivenValue::Bool(true)) => set_status(c, Status::Severe),
        (Field::Severe, GivenValue::Bool(false)) => {
            let status = c.status.unwrap_or(Status::Ok).min(Status::Worsened);
            set_status(c, status);
        }
        (Field::NonInferior, GivenValue::Bool(b)) => c.non_inferior = Some(b),
        (Field::Status, GivenValue::Status(s)) => set_status(c, s),
        _ => {}
    }
}

fn set_status(c: &mut Comparison, status: Status) {
    c.status = Some(status);
    c.worsened = Some(status >= Status::Worsened);
    c.severe = Some(status == Status::Severe);
}

// ---------------------------------------------------------------- scenarios

//! Policy rules over facts → decision.
//!
//! The rules are tried top to bottom (the spec's inline rules, then the
//! policy's); the first whose condition holds decides, and `otherwise` decides
//! when none does. The policy runs once per treatment arm. A comparison with
//! an undefined number (a relative lift with a zero baseline, say) is false.

use serde::Serialize;

use crate::evaluate::{ArmFacts, Comparison, Evaluation};
use crate::numbers;
use crate::plan::{
    ArithOp, CompareOp, Expr, Fact, Field, Health, MetricId, Plan, Quantifier, Reason, ReasonPart,
    Role, Status, Verdict,
};

/// The policy's verdict for one treatment arm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArmDecision {
    /// The treatment arm's variant name.
    pub variant: String,
    /// The verdict of the rule that fired (or of `otherwise`).
    pub verdict: Verdict,
    /// The rule that fired, or `otherwise`.
    pub rule: String,
    /// The rule's `because`, with facts interpolated.
    pub reason: String,
    /// The facts the firing rule's condition read, with their values.
    pub facts: Vec<FactValue>,
    /// The guardrails the firing rule's condition turned on: those a
    /// quantifier found holding (`any guardrail …`, every one for `all`) and
    /// those it names (`cancel_rate.worse`), in spec order. Empty for
    /// `otherwise` and rules that read no guardrail.
    pub guardrails: Vec<String>,
}

/// A fact a firing rule read, as the memo lists it under the decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FactValue {
    /// The fact's path as a rule writes it (`primary.p`, `guardrail.severe`).
    pub fact: String,
    /// Its value as the memo writes it: `true`/`false`, a keyword, a number,
    /// or `n/a` when undefined.
    pub value: String,
}

/// The overall decision of an experiment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// Launch the best launching arm, else roll back if any arm rolls back, else hold.
    pub verdict: Verdict,
    /// The rule that decided for the chosen arm (the first arm's on a multi-arm hold).
    pub rule: String,
    /// That rule's `because`, facts interpolated.
    pub reason: String,
    /// The arm the verdict is about: the launched arm, the arm that forces a
    /// rollback, the treatment of a two-arm experiment on hold; `None` for a
    /// multi-arm hold.
    pub arm: Option<String>,
    /// Every arm the policy rolls back, worst first: the largest primary
    /// change in the unpreferred direction first (ties in spec order); the
    /// first is `arm` when the verdict is a rollback. Empty when no arm rolls
    /// back.
    pub rolled_back: Vec<String>,
    /// Every treatment arm's own decision, in spec order.
    pub arms: Vec<ArmDecision>,
}

/// A value during rule evaluation. `Number(None)` is an undefined number.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RuleValue {
    Bool(bool),
    Number(Option<f64>),
    Health(Health),
    Status(Option<Status>),
}

impl RuleValue {
    fn truthy(self) -> bool {
        matches!(self, RuleValue::Bool(true))
    }

    fn number(self) -> Option<f64> {
        match self {
            RuleValue::Number(x) => x,
            _ => None,
        }
    }

    /// The value as the memo writes it, in the unit of `fact`: a
    /// probability in %, a difference of rates in pp, a relative change in
    /// %, a p-value as a p-value, a mean's change in its unit.
    fn show(self, plan: &Plan, facts: &ArmFacts, fact: Fact, bound: Option<MetricId>) -> String {
        match self {
            RuleValue::Bool(b) => b.to_string(),
            RuleValue::Number(Some(x)) => show_number(plan, facts, fact, bound, x),
            RuleValue::Number(None) => "n/a".to_string(),
            RuleValue::Health(h) => h.as_str().to_string(),
            RuleValue::Status(Some(s)) => s.as_str().to_string(),
            RuleValue::Status(None) => "n/a".to_string(),
        }
    }
}

/// Runs the policy for one arm.
pub fn decide_arm(plan: &Plan, facts: &ArmFacts) -> ArmDecision {
    for rule in &plan.policy.rules {
        if !holds(plan, facts, &rule.when, None) {
            continue;
        }
        // Only the rule that fires records what it read: evaluating it once
        // more is cheaper than formatting the facts of every rule tried.
        let mut reads = Vec::new();
        let mut ctx = Ctx {
            plan,
            facts,
            bound: None,
            reads: Some(&mut reads),
            turned_on: None,
        };
        let mut turned_on = Vec::new();
        ctx.turned_on = Some(&mut turned_on);
        ctx.eval(&rule.when);
        let guardrails = plan
            .guardrails()
            .filter(|(id, _)| turned_on.contains(id))
            .map(|(_, m)| m.name.clone())
            .collect();
        return ArmDecision {
            variant: facts.variant.clone(),
            verdict: rule.then,
            rule: rule.name.clone(),
            reason: interpolate(plan, facts, &rule.because),
            facts: dedup(reads),
            guardrails,
        };
    }
    let otherwise = &plan.policy.otherwise;
    ArmDecision {
        variant: facts.variant.clone(),
        verdict: otherwise.then,
        rule: "otherwise".to_string(),
        reason: interpolate(plan, facts, &otherwise.because),
        facts: Vec::new(),
        guardrails: Vec::new(),
    }
}

/// Whether a condition holds on one arm's facts, with `guardrail` bound to
/// the guardrail a quantifier would see (for scenario analysis).
pub fn holds(plan: &Plan, facts: &ArmFacts, expr: &Expr, guardrail: Option<MetricId>) -> bool {
    let mut ctx = Ctx {
        plan,
        facts,
        bound: guardrail,
        reads: None,
        turned_on: None,
    };
    ctx.eval(expr).truthy()
}

/// Decides the experiment from its evaluation: each treatment arm is
/// decided by the policy ([`decide_arm`]); among arms that launch, the one
/// with the best primary lift (in the preferred direction) wins, else an arm
/// that rolls back, else the single arm's verdict.
pub fn decide(plan: &Plan, evaluation: &Evaluation) -> Decision {
    let arms = (0..plan.treatments().len())
        .map(|arm| decide_arm(plan, &evaluation.arm_facts(arm)))
        .collect();
    let lifts: Vec<Option<f64>> = evaluation.metrics[plan.primary]
        .comparisons
        .iter()
        .map(|c| c.abs_lift)
        .collect();
    combine(plan, arms, &lifts)
}

/// Combines the arms' verdicts: launch the launching arm with the largest
/// primary lift in the preferred direction; else roll back if any arm rolls
/// back (the decision's arm is the worst of them); else hold.
fn combine(plan: &Plan, arms: Vec<ArmDecision>, lifts: &[Option<f64>]) -> Decision {
    let sign = match plan.primary().prefer {
        crate::plan::Direction::Higher => 1.0,
        crate::plan::Direction::Lower => -1.0,
    };
    let best_launch = arms
        .iter()
        .enumerate()
        .filter(|(_, a)| a.verdict == Verdict::Launch)
        .max_by(|(i, _), (j, _)| {
            let li = lifts
                .get(*i)
                .copied()
                .flatten()
                .map_or(f64::NEG_INFINITY, |l| sign * l);
            let lj = lifts
                .get(*j)
                .copied()
                .flatten()
                .map_or(f64::NEG_INFINITY, |l| sign * l);
            // Ties go to the earlier arm.
            li.total_cmp(&lj).then(j.cmp(i))
        })
        .map(|(i, _)| i);
    // The arms that roll back, worst first: the primary's change furthest in
    // the unpreferred direction (an undefined change last), ties in spec order.
    let mut rollbacks: Vec<usize> = (0..arms.len())
        .filter(|i| arms[*i].verdict == Verdict::Rollback)
        .collect();
    rollbacks.sort_by(|i, j| {
        let harm = |k: usize| {
            lifts
                .get(k)
                .copied()
                .flatten()
                .map_or(f64::INFINITY, |l| sign * l)
        };
        harm(*i).total_cmp(&harm(*j)).then(i.cmp(j))
    });
    let rolled_back: Vec<String> = rollbacks.iter().map(|i| arms[*i].variant.clone()).collect();
    let chosen = best_launch
        .or_else(|| rollbacks.first().copied())
        .or_else(|| (arms.len() == 1).then_some(0));
    match chosen {
        Some(i) => {
            let arm = &arms[i];
            Decision {
                verdict: arm.verdict,
                rule: arm.rule.clone(),
                reason: arm.reason.clone(),
                arm: Some(arm.variant.clone()),
                rolled_back,
                arms,
            }
        }
        None => {
            // A multi-arm hold: every arm holds. Report the first arm's rule
            // and reason; the memo lists each arm's own.
            let (rule, reason) = arms
                .first()
                .map_or((String::from("otherwise"), String::new()), |a| {
                    (a.rule.clone(), a.reason.clone())
                });
            Decision {
                verdict: Verdict::Hold,
                rule,
                reason,
                arm: None,
                rolled_back,
                arms,
            }
        }
    }
}

struct Ctx<'a, 'r> {
    plan: &'a Plan,
    facts: &'a ArmFacts,
    /// The guardrail bound by the enclosing quantifier.
    bound: Option<MetricId>,
    /// The facts read, with their values; `None` when nobody asks.
    reads: Option<&'r mut Vec<FactValue>>,
    /// The guardrails the condition turned on; `None` when nobody asks.
    turned_on: Option<&'r mut Vec<MetricId>>,
}

impl Ctx<'_, '_> {
    fn eval(&mut self, expr: &Expr) -> RuleValue {
        match expr {
            Expr::Bool(b) => RuleValue::Bool(*b),
            Expr::Number(x) => RuleValue::Number(Some(*x)),
            Expr::Health(h) => RuleValue::Health(*h),
            Expr::Status(s) => RuleValue::Status(Some(*s)),
            Expr::Fact(fact) => {
                let value = self.fact(*fact);
                if let Some(reads) = self.reads.as_deref_mut() {
                    reads.push(FactValue {
                        fact: fact_name(self.plan, *fact, self.bound),
                        value: value.show(self.plan, self.facts, *fact, self.bound),
                    });
                }
                if let (Fact::Metric(id, _), Some(on)) = (fact, self.turned_on.as_deref_mut()) {
                    on.push(*id);
                }
                value
            }
            Expr::Not(inner) => RuleValue::Bool(!self.eval(inner).truthy()),
            Expr::And(a, b) => RuleValue::Bool(self.eval(a).truthy() && self.eval(b).truthy()),
            Expr::Or(a, b) => RuleValue::Bool(self.eval(a).truthy() || self.eval(b).truthy()),
            Expr::Compare(op, a, b) => {
                let (a, b) = (self.eval(a), self.eval(b));
                RuleValue::Bool(compare(*op, a, b))
            }
            Expr::Arith(op, a, b) => {
                let (a, b) = (self.eval(a).number(), self.eval(b).number());
                RuleValue::Number(match (a, b) {
                    (Some(a), Some(b)) => {
                        let x = match op {
                            ArithOp::Add => a + b,
                            ArithOp::Sub => a - b,
                            ArithOp::Mul => a * b,
                            ArithOp::Div => a / b,
                        };
                        x.is_finite().then_some(x)
                    }
                    _ => None,
                })
            }
            Expr::Quantified(quantifier, body) => {
                let outer = self.bound;
                let guardrails: Vec<MetricId> = self.plan.guardrails().map(|(id, _)| id).collect();
                let mut holds = Vec::with_capacity(guardrails.len());
                for id in guardrails {
                    self.bound = Some(id);
                    // Only a guardrail that made the body hold turns the
                    // rule on: what the body read of the others is dropped.
                    let mark = self.turned_on.as_ref().map(|on| on.len());
                    let held = self.eval(body).truthy();
                    if let (Some(mark), Some(on)) = (mark, self.turned_on.as_deref_mut()) {
                        on.truncate(mark);
                        if held && *quantifier != Quantifier::No {
                            on.push(id);
                        }
                    }
                    holds.push(held);
                }
                self.bound = outer;
                RuleValue::Bool(match quantifier {
                    Quantifier::Any => holds.iter().any(|h| *h),
                    Quantifier::All => holds.iter().all(|h| *h),
                    Quantifier::No => !holds.iter().any(|h| *h),
                })
            }
        }
    }

    fn fact(&self, fact: Fact) -> RuleValue {
        fact_value(self.plan, self.facts, fact, self.bound)
    }
}

fn fact_value(plan: &Plan, facts: &ArmFacts, fact: Fact, bound: Option<MetricId>) -> RuleValue {
    match fact {
        Fact::Health => RuleValue::Health(facts.health),
        Fact::SrmP => RuleValue::Number(facts.srm_p),
        Fact::SrmChi2 => RuleValue::Number(facts.srm_chi2),
        Fact::SampleReached => RuleValue::Bool(facts.sample_reached),
        Fact::PlanProgress => RuleValue::Number(facts.plan_progress),
        Fact::SequentialLook => RuleValue::Number(Some(facts.look as f64)),
        Fact::SequentialInformation => RuleValue::Number(facts.information),
        Fact::SequentialFixed => RuleValue::Bool(facts.fixed),
        Fact::PlanUnitsRemaining => RuleValue::Number(facts.units_remaining),
        Fact::PlanDaysRemaining => RuleValue::Number(facts.days_remaining),
        Fact::Setting(key) => RuleValue::Number(Some(key.value(&plan.settings))),
        Fact::Metric(id, field) => field_value(plan, facts.metrics.get(id), id, field),
        Fact::Guardrail(field) => match bound {
            Some(id) => field_value(plan, facts.metrics.get(id), id, field),
            None => RuleValue::Number(None),
        },
    }
}

fn field_value(plan: &Plan, c: Option<&Comparison>, id: MetricId, field: Field) -> RuleValue {
    let Some(c) = c else {
        return RuleValue::Number(None);
    };
    let is_guardrail = plan
        .metrics
        .get(id)
        .is_some_and(|m| m.role == Role::Guardrail);
    match field {
        Field::Lift => RuleValue::Number(c.abs_lift),
        Field::RelLift => RuleValue::Number(c.rel_lift),
        // The interval that agrees with `significant`: at the corrected
        // per-comparison level (the plain one without a correction), as the
        // memo shows it.
        Field::CiLow => RuleValue::Number(c.ci_adj_low),
        Field::CiHigh => RuleValue::Number(c.ci_adj_high),
        Field::P => RuleValue::Number(c.p_value),
        Field::PAdjusted => RuleValue::Number(c.p_adjusted),
        Field::ProbBetter => RuleValue::Number(c.prob_better),
        Field::ExpectedLoss => RuleValue::Number(c.expected_loss),
        Field::Units => RuleValue::Number(Some(c.units as f64)),
        Field::Boundary => RuleValue::Number(c.boundary),
        Field::Significant => RuleValue::Bool(c.significant),
        Field::Better => RuleValue::Bool(c.better),
        Field::Worse => RuleValue::Bool(c.worse),
        Field::Worsened => RuleValue::Bool(is_guardrail && c.worsened == Some(true)),
        Field::Severe => RuleValue::Bool(is_guardrail && c.severe == Some(true)),
        Field::NonInferior => RuleValue::Bool(is_guardrail && c.non_inferior == Some(true)),
        Field::Status => RuleValue::Status(c.status),
    }
}

fn compare(op: CompareOp, a: RuleValue, b: RuleValue) -> bool {
    use std::cmp::Ordering;
    let ordering = match (a, b) {
        (RuleValue::Number(Some(a)), RuleValue::Number(Some(b))) => a.partial_cmp(&b),
        (RuleValue::Bool(a), RuleValue::Bool(b)) => Some(a.cmp(&b)),
        (RuleValue::Health(a), RuleValue::Health(b)) => Some(a.cmp(&b)),
        (RuleValue::Status(Some(a)), RuleValue::Status(Some(b))) => Some(a.cmp(&b)),
        // Undefined values compare false, whatever the operator.
        _ => None,
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
    }
}

/// The rule's `because` with each `{{ fact }}` written as the memo writes
/// it (see [`RuleValue::show`]).
fn interpolate(plan: &Plan, facts: &ArmFacts, reason: &Reason) -> String {
    let mut out = String::new();
    for part in &reason.parts {
        match part {
            ReasonPart::Text(text) => out.push_str(text),
            ReasonPart::Fact(fact, _) => {
                let value = fact_value(plan, facts, *fact, None).show(plan, facts, *fact, None);
                // A bound (`< 0.0001`, `> 99.9%`) after `= ` replaces the
                // `=`: "p = {{ srm.p }}" reads "p < 0.0001", not "p = < 0.0001".
                if (value.starts_with("< ") || value.starts_with("> ")) && out.ends_with("= ") {
                    out.truncate(out.len() - 2);
                }
                out.push_str(&value);
            }
        }
    }
    out
}

/// How the memo writes a metric's numbers, from its variants' values and
/// its comparisons (the interval at the corrected level, as the memo shows
/// it): see [`numbers::MetricFormat`].
pub fn metric_format<'a>(
    rate: bool,
    unit: Option<String>,
    values: &[f64],
    comparisons: impl Iterator<Item = &'a Comparison>,
) -> numbers::MetricFormat {
    let half = |low: Option<f64>, high: Option<f64>| match (low, high) {
        (Some(l), Some(h)) if l.is_finite() && h.is_finite() => Some((h - l) / 2.0),
        _ => None,
    };
    let changes: Vec<_> = comparisons
        .map(|c| {
            (
                c.abs_lift,
                half(c.ci_adj_low, c.ci_adj_high),
                half(c.rel_ci_low, c.rel_ci_high),
            )
        })
        .collect();
    numbers::MetricFormat::new(rate, unit, values, &changes)
}

/// A number fact in its unit (see [`RuleValue::show`]); the metric's format
/// comes from its comparison, so a fact reads as the memo's table does.
fn show_number(
    plan: &Plan,
    facts: &ArmFacts,
    fact: Fact,
    bound: Option<MetricId>,
    x: f64,
) -> String {
    let metric_field = match fact {
        Fact::Metric(id, field) => Some((id, field)),
        Fact::Guardrail(field) => bound.map(|id| (id, field)),
        _ => None,
    };
    match fact {
        Fact::SrmP => return numbers::p_value(x),
        Fact::SrmChi2 => return numbers::statistic(x),
        Fact::PlanProgress | Fact::SequentialInformation => return numbers::percent1(x),
        // Units and days still to go are counts.
        Fact::PlanUnitsRemaining | Fact::PlanDaysRemaining => {
            return numbers::thousands(x.max(0.0) as u64);
        }
        _ => {}
    }
    let Some((id, field)) = metric_field else {
        return numbers::general(x);
    };
    let metric = &plan.metrics[id];
    let comparison = facts.metrics.get(id);
    let format = metric_format(
        matches!(metric.kind, crate::plan::MetricKind::Rate { .. }),
        metric.unit.clone(),
        &[],
        comparison.into_iter(),
    );
    match field {
        Field::Lift | Field::CiLow | Field::CiHigh => format.change(x),
        Field::RelLift => format.relative(x),
        Field::P | Field::PAdjusted => numbers::p_value(x),
        Field::ProbBetter => numbers::probability(x),
        Field::ExpectedLoss => format.amount(x),
        Field::Units => numbers::thousands(x.max(0.0) as u64),
        Field::Boundary => numbers::statistic(x),
        _ => numbers::general(x),
    }
}

/// The fact as a user would write it (`primary.p`, `cancel_rate.severe`).
pub fn fact_name(plan: &Plan, fact: Fact, bound: Option<MetricId>) -> String {
    match fact {
        Fact::Health => "health".to_string(),
        Fact::SrmP => "srm.p".to_string(),
        Fact::SrmChi2 => "srm.chi2".to_string(),
        Fact::SampleReached => "plan.sample_reached".to_string(),
        Fact::PlanProgress => "plan.progress".to_string(),
        Fact::SequentialLook => "sequential.look".to_string(),
        Fact::SequentialInformation => "sequential.information".to_string(),
        Fact::SequentialFixed => "sequential.fixed".to_string(),
        Fact::PlanUnitsRemaining => "plan.units_remaining".to_string(),
        Fact::PlanDaysRemaining => "plan.days_remaining".to_string(),
        Fact::Setting(key) => format!("settings.{}", key.name()),
        Fact::Metric(id, field) => {
            let name = if id == plan.primary {
                "primary"
            } else {
                &plan.metrics[id].name
            };
            format!("{name}.{}", field.name())
        }
        Fact::Guardrail(field) => match bound {
            Some(id) => format!("{}.{}", plan.metrics[id].name, field.name()),
            None => format!("guardrail.{}", field.name()),
        },
    }
}

fn dedup(reads: Vec<FactValue>) -> Vec<FactValue> {
    let mut out: Vec<FactValue> = Vec::with_capacity(reads.len());
    for read in reads {
        if !out.iter().any(|r| r.fact == read.fact) {
            out.push(read);
        }
    }
    out
}

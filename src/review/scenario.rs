//! Scenarios: the facts of imagined experiments, to run policies on without
//! data.
//!
//! Three users: `xos test` ([`super::tests`]) runs a policy's `test` blocks on the facts of "a
//! healthy experiment with no effect" with the test's `given` facts applied;
//! `xos diff` runs two policies on every scenario of the space they can
//! distinguish and lists where they disagree; and static analysis
//! ([`super::analysis`]) looks for rules that can never fire over the same space.
//!
//! The space ([`explore`]) is the product of: health, the SRM p-value, the
//! primary metric significantly better / worse / not significant, each
//! guardrail ok / worsened / severe, significantly worse or not, non-inferior
//! or not, the sample reached or not, and both sides of every number a rule
//! compares with a constant, directly or through arithmetic with constants
//! (`primary.lift * 2 > 1.2pp`), and the constant itself; a metric that is not
//! significant takes those lifts too. To keep it small:
//!
//! - only the facts some rule reads are varied (plus the primary's
//!   significance and the guardrails' status, which describe every
//!   scenario);
//! - combinations no evaluation can produce (a significantly better
//!   guardrail that is severe, a significant primary with `p` above α) are
//!   left out;
//! - states of one metric that no leaf of any rule tells apart are merged;
//! - guardrails that rules only reach through `any` / `all` / `no` form a
//!   pool whose multiset of states matters, and at most two of them leave
//!   "no effect" (two tell `any` from `all`), three on a policy file's
//!   stand-in (one better, one worse, one severe);
//! - when the product is still above [`MAX_SCENARIOS`], only the simplest
//!   scenarios (fewest facts changed) are kept, and the space says it is not
//!   complete;
//! - scenarios on which every rule of every plan holds or fails alike are
//!   merged, keeping the simplest.
//!
//! Scenarios have one treatment arm (`p_adjusted` is `p`). Everything here is
//! pure.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::decide::{self};
use crate::evaluate::{ArmFacts, Comparison};
use crate::plan::{
    ArithOp, Direction, Expr, Fact, Field, Health, Metric, MetricId, Plan, Quantifier, Role,
    Status, Verdict,
};

/// Units per arm in every scenario.
const UNITS: u64 = 10_000;

/// Half the width of the CI of a lift that is not significant.
const HALF_WIDTH: f64 = 0.004;

// ---------------------------------------------------------------- plans

// ---------------------------------------------------------------- tests

/// A metric's significance in a scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Significance {
    /// Not significant in either direction (the default: no effect).
    #[default]
    NotSignificant,
    /// Significant in the preferred direction.
    Better,
    /// Significant against the preferred direction.
    Worse,
}

/// What a scenario says about one metric. The numbers not listed follow from
/// the significance and status.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricState {
    /// Significant in the preferred direction, against it, or not at all.
    pub significance: Significance,
    /// Guardrails only; `Ok` otherwise.
    pub status: Status,
    /// Guardrails with a margin; `None` is the default, non-inferior.
    pub non_inferior: Option<bool>,
    /// Numbers set explicitly, e.g. `(ProbBetter, 0.9625)`. `P` also sets
    /// `p_adjusted`.
    pub numbers: Vec<(Field, f64)>,
}

impl Default for MetricState {
    /// No effect.
    fn default() -> MetricState {
        MetricState {
            significance: Significance::NotSignificant,
            status: Status::Ok,
            non_inferior: None,
            numbers: Vec::new(),
        }
    }
}

/// An imagined experiment: the facts its policy would read.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// `health`: `healthy` by default.
    pub health: Health,
    /// `srm.p`, the SRM test's p-value (1 by default).
    pub srm_p: f64,
    /// `srm.chi2`, the SRM χ² statistic (0 by default).
    pub srm_chi2: f64,
    /// `plan.sample_reached`: true by default.
    pub sample_reached: bool,
    /// A policy file's stand-in experiment only: read with sequential
    /// inference (`sequential.fixed` false). False by default; a spec's
    /// own `sequential` block decides it otherwise.
    pub sequential: bool,
    /// By metric name (the primary as `primary`); a metric not listed has no
    /// effect.
    pub metrics: Vec<(String, MetricState)>,
}

impl Default for Scenario {
    /// A healthy experiment with no effect.
    fn default() -> Scenario {
        Scenario {
            health: Health::Healthy,
            srm_p: 1.0,
            srm_chi2: 0.0,
            sample_reached: true,
            sequential: false,
            metrics: Vec::new(),
        }
    }
}

/// The key of a metric in a [`Scenario`]: `primary` for the primary.
pub fn metric_key(plan: &Plan, id: MetricId) -> &str {
    if id == plan.primary {
        "primary"
    } else {
        &plan.metrics[id].name
    }
}

impl Scenario {
    /// The facts of one treatment arm in this scenario, for `plan`'s metrics
    /// (matched by name; the primary as `primary`). A status the metric
    /// cannot reach (severe without a `severe` threshold) is lowered to one
    /// it can.
    pub fn facts(&self, plan: &Plan) -> ArmFacts {
        let default = MetricState::default();
        let metrics = plan
            .metrics
            .iter()
            .enumerate()
            .map(|(id, metric)| {
                let key = metric_key(plan, id);
                let state = self
                    .metrics
                    .iter()
                    .find(|(k, _)| k == key)
                    .map_or(&default, |(_, s)| s);
                comparison(metric, state, plan.settings.alpha)
            })
            .collect();
        ArmFacts {
            variant: "treatment".to_string(),
            health: self.health,
            srm_p: Some(self.srm_p),
            srm_chi2: Some(self.srm_chi2),
            sample_reached: self.sample_reached,
            // Consistent with `sample_reached`; rules that read the progress
            // itself are sampled at these two points only.
            plan_progress: Some(if self.sample_reached { 1.0 } else { 0.5 }),
            units_remaining: Some(if self.sample_reached { 0.0 } else { 1000.0 }),
            days_remaining: Some(if self.sample_reached { 0.0 } else { 1.0 }),
            look: 1,
            information: None,
            fixed: plan.sequential.is_none() && !(plan.is_generic() && self.sequential),
            metrics,
        }
    }

    /// The facts that differ from a healthy experiment with no effect, as
    /// `(fact, value)`: `("primary.better", true)`, `("guardrail.status",
    /// "severe")`, `("srm.p", 0.0005)`.
    pub fn facts_set(&self) -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        if self.health != Health::Healthy {
            out.push(("health".to_string(), self.health.as_str().into()));
        }
        if self.srm_p != 1.0 {
            out.push(("srm.p".to_string(), self.srm_p.into()));
        }
        if self.srm_chi2 != 0.0 {
            out.push(("srm.chi2".to_string(), self.srm_chi2.into()));
        }
        if !self.sample_reached {
            out.push(("plan.sample_reached".to_string(), false.into()));
        }
        if self.sequential {
            out.push(("sequential.fixed".to_string(), false.into()));
        }
        for (key, state) in &self.metrics {
            match state.significance {
                Significance::NotSignificant => {}
                Significance::Better => out.push((format!("{key}.better"), true.into())),
                Significance::Worse => out.push((format!("{key}.worse"), true.into())),
            }
            if state.status != Status::Ok {
                out.push((format!("{key}.status"), state.status.as_str().into()));
            }
            if let Some(b) = state.non_inferior {
                out.push((format!("{key}.non_inferior"), b.into()));
            }
            for (field, x) in &state.numbers {
                out.push((format!("{key}.{}", field.name()), (*x).into()));
            }
        }
        out
    }

    /// The scenario in words a reviewer reads: "primary significantly
    /// better, guardrail severe"; facts not mentioned are those of a healthy
    /// experiment with no effect.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.health != Health::Healthy {
            parts.push(format!("health {}", self.health.as_str()));
        }
        if self.srm_p != 1.0 {
            parts.push(format!("srm.p = {}", crate::numbers::number(self.srm_p)));
        }
        if self.srm_chi2 != 0.0 {
            parts.push(format!(
                "srm.chi2 = {}",
                crate::numbers::number(self.srm_chi2)
            ));
        }
        if !self.sample_reached {
            parts.push("sample not reached".to_string());
        }
        if self.sequential {
            parts.push("sequential inference".to_string());
        }
        for (key, state) in &self.metrics {
            let mut words = Vec::new();
            if state.status != Status::Ok {
                words.push(state.status.as_str().to_string());
            }
            match state.significance {
                Significance::NotSignificant => {}
                Significance::Better => words.push("significantly better".to_string()),
                Significance::Worse => words.push("significantly worse".to_string()),
            }
            match state.non_inferior {
                Some(false) => words.push("not non-inferior".to_string()),
                Some(true) => words.push("non-inferior".to_string()),
                None => {}
            }
            if let Some((last, rest)) = words.split_last() {
                if rest.is_empty() {
                    parts.push(format!("{key} {last}"));
                } else {
                    parts.push(format!("{key} {} and {last}", rest.join(", ")));
                }
            }
            for (field, x) in &state.numbers {
                // A relative lift as the rules write it: `+7.50%`.
                let value = if x.is_nan() {
                    "n/a".to_string()
                } else if *field == Field::RelLift {
                    crate::numbers::signed_percent(*x)
                } else {
                    crate::numbers::number(*x)
                };
                parts.push(format!("{key}.{} = {value}", field.name()));
            }
        }
        if parts.is_empty() {
            "a healthy experiment with no effect".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// The worst guardrail status in the scenario.
    pub fn worst_guardrail(&self, plan: &Plan) -> Status {
        let facts = self.facts(plan);
        plan.guardrails()
            .filter_map(|(id, _)| facts.metrics.get(id).and_then(|c| c.status))
            .max()
            .unwrap_or(Status::Ok)
    }
}

fn sign(prefer: Direction) -> f64 {
    match prefer {
        Direction::Higher => 1.0,
        Direction::Lower => -1.0,
    }
}

/// The facts of one metric in a state: consistent defaults for what the
/// state does not set (a lift in the direction of its significance, a CI
/// that excludes 0 exactly when it is significant, ...).
fn comparison(metric: &Metric, state: &MetricState, alpha: f64) -> Comparison {
    let s = sign(metric.prefer);
    let guardrail = metric.role == Role::Guardrail;
    let status = if !guardrail {
        Status::Ok
    } else {
        let (has_worsened, has_severe) = (metric.worsened.is_some(), metric.severe.is_some());
        match state.status {
            Status::Severe if has_severe => Status::Severe,
            Status::Severe | Status::Worsened if has_worsened => Status::Worsened,
            _ => Status::Ok,
        }
    };
    let number = |field: Field| {
        state
            .numbers
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, x)| *x)
    };
    let sig = state.significance;
    // The relative lift is the lift over a control of 10% (`rel = 10·lift`):
    // a state that sets one sets the other, so a lift that is not
    // significant can still be large (−8%, on real data, often is).
    let lift = number(Field::Lift)
        .or(number(Field::RelLift)
            .filter(|rel| rel.is_finite())
            .map(|rel| rel / 10.0))
        .unwrap_or(match (sig, status) {
            (Significance::Better, _) => s * 0.01,
            (Significance::Worse, _) => -s * 0.01,
            (Significance::NotSignificant, Status::Ok) => 0.0,
            (Significance::NotSignificant, Status::Worsened) => -s * 0.002,
            (Significance::NotSignificant, Status::Severe) => -s * 0.005,
        });
    // A number set to NaN is undefined, as real data can leave it (a
    // relative lift over a control of 0, a posterior without variance).
    let defined = |field: Field, default: f64| match number(field) {
        Some(x) if x.is_nan() => None,
        Some(x) => Some(x),
        None => Some(default),
    };
    let rel_lift = defined(Field::RelLift, lift * 10.0);
    let (low, high) = match sig {
        Significance::NotSignificant => (lift.min(0.0) - HALF_WIDTH, lift.max(0.0) + HALF_WIDTH),
        _ => (lift - 0.8 * lift.abs(), lift + 0.8 * lift.abs()),
    };
    let (low, high) = if lift == 0.0 && sig == Significance::NotSignificant {
        (0.0, 0.0)
    } else {
        (low, high)
    };
    let p = number(Field::P).unwrap_or(match sig {
        Significance::NotSignificant if lift == 0.0 => 1.0,
        Significance::NotSignificant => (1.0 + alpha) / 2.0,
        _ => alpha / 5.0,
    });
    let p_adjusted = number(Field::PAdjusted).unwrap_or(p);
    let prob_better = defined(
        Field::ProbBetter,
        match sig {
            Significance::Better => 1.0 - alpha / 10.0,
            Significance::Worse => alpha / 10.0,
            Significance::NotSignificant if s * lift > 0.0 => 0.7,
            Significance::NotSignificant if s * lift < 0.0 => 0.3,
            Significance::NotSignificant => 0.5,
        },
    );
    let expected_loss = defined(
        Field::ExpectedLoss,
        if s * lift < 0.0 { lift.abs() } else { 0.0 },
    );
    let units = number(Field::Units).map_or(UNITS, |x| x.max(0.0).round() as u64);
    Comparison {
        variant: "treatment".to_string(),
        units,
        abs_lift: Some(lift),
        rel_lift,
        ci_low: Some(number(Field::CiLow).unwrap_or(low)),
        ci_high: Some(number(Field::CiHigh).unwrap_or(high)),
        ci_adj_low: Some(number(Field::CiLow).unwrap_or(low)),
        ci_adj_high: Some(number(Field::CiHigh).unwrap_or(high)),
        rel_ci_low: None,
        rel_ci_high: None,
        p_value: Some(p),
        p_adjusted: Some(p_adjusted),
        significant: sig != Significance::NotSignificant,
        better: sig == Significance::Better,
        worse: sig == Significance::Worse,
        prob_better,
        expected_loss,
        rel_credible_low: None,
        rel_credible_high: None,
        worsened: guardrail.then_some(status >= Status::Worsened),
        severe: guardrail.then_some(status == Status::Severe),
        non_inferior: if guardrail {
            metric.margin.map(|_| state.non_inferior.unwrap_or(true))
        } else {
            None
        },
        degradation_bound: None,
        status: guardrail.then_some(status),
        fixed_horizon: None,
        boundary: number(Field::Boundary),
        cuped: None,
        looks: Vec::new(),
    }
}

/// Whether a metric's facts could come out of an evaluation: significance
/// agrees with `p` and with the CI, the lift lies in its CI and points the
/// way of its significance, `prob_better` agrees with the significance, and
/// a guardrail that worsened did degrade.
fn consistent(metric: &Metric, c: &Comparison, alpha: f64, crossing_persists: bool) -> bool {
    let s = sign(metric.prefer);
    let (Some(lift), Some(low), Some(high), Some(p)) =
        (c.abs_lift, c.ci_low, c.ci_high, c.p_adjusted)
    else {
        return false;
    };
    // Undefined on real data when its posterior has no variance.
    let prob = c.prob_better.unwrap_or(0.5);
    let rel = c.rel_lift.unwrap_or(lift);
    if c.significant != (p < alpha) || c.p_value.is_some_and(|raw| raw > p) {
        return false;
    }
    // A group-sequential crossing persists: the interval of the look that
    // crossed is kept while the lift moves on, and may no longer hold it.
    let holds_lift = low <= lift && lift <= high;
    if !(crossing_persists || holds_lift) || (low > 0.0 || high < 0.0) != c.significant {
        return false;
    }
    if (c.better && s * lift <= 0.0) || (c.worse && s * lift >= 0.0) {
        return false;
    }
    if (rel > 0.0) != (lift > 0.0) || (rel < 0.0) != (lift < 0.0) {
        return false;
    }
    // A result that is not significant can still have a posterior far from
    // ½: sequential inference keeps the fixed-horizon posterior, and a
    // Welch t-test on a few units is wider than its normal posterior.
    let ok_prob = if c.better {
        prob >= 1.0 - alpha / 2.0
    } else if c.worse {
        prob <= alpha / 2.0
    } else {
        (0.0..=1.0).contains(&prob)
    };
    if !ok_prob {
        return false;
    }
    if c.worsened == Some(true) && s * lift >= 0.0 {
        return false;
    }
    if c.better && c.non_inferior == Some(false) {
        return false;
    }
    true
}

/// A number a rule compares: `srm.p`, `srm.chi2`, or a field of a metric
/// (by key) or of every guardrail (`*`). `p_adjusted` counts as `p`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Slot {
    SrmP,
    SrmChi2,
    Field(String, Field),
}

const ANY_GUARDRAIL: &str = "*";

/// What the rules of some plans read.
#[derive(Default)]
struct Reads {
    health: bool,
    sample: bool,
    /// `sequential.fixed`, varied on a policy file's stand-in experiment.
    sequential: bool,
    /// Fields read, by metric key or `*` for the quantifiers' guardrail.
    fields: HashMap<String, HashSet<Field>>,
    /// Metric keys read by name (not through a quantifier).
    named: HashSet<String>,
    /// Constants each number is compared with.
    thresholds: HashMap<Slot, Vec<f64>>,
}

fn numeric(field: Field) -> bool {
    matches!(
        field,
        Field::Lift
            | Field::RelLift
            | Field::CiLow
            | Field::CiHigh
            | Field::P
            | Field::PAdjusted
            | Field::ProbBetter
            | Field::ExpectedLoss
            | Field::Units
            | Field::Boundary
    )
}

fn unify(field: Field) -> Field {
    if field == Field::PAdjusted {
        Field::P
    } else {
        field
    }
}

impl Reads {
    fn of(plans: &[&Plan]) -> Reads {
        let mut reads = Reads::default();
        for plan in plans {
            for rule in &plan.policy.rules {
                reads.walk(plan, &rule.when);
            }
        }
        reads
    }

    fn walk(&mut self, plan: &Plan, expr: &Expr) {
        match expr {
            Expr::Fact(fact) => self.note(plan, *fact),
            Expr::Not(e) | Expr::Quantified(_, e) => self.walk(plan, e),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Arith(_, a, b) => {
                self.walk(plan, a);
                self.walk(plan, b);
            }
            Expr::Compare(_, a, b) => {
                self.walk(plan, a);
                self.walk(plan, b);
                if let Some((slot, c)) = threshold(plan, a, b) {
                    self.thresholds.entry(slot).or_default().push(c);
                }
            }
            Expr::Bool(_) | Expr::Number(_) | Expr::Health(_) | Expr::Status(_) => {}
        }
    }

    fn note(&mut self, plan: &Plan, fact: Fact) {
        match fact {
            Fact::Health => self.health = true,
            // Units and days to go, and the progress, follow the sample's
            // state.
            Fact::SampleReached
            | Fact::PlanUnitsRemaining
            | Fact::PlanDaysRemaining
            | Fact::PlanProgress => self.sample = true,
            Fact::SequentialFixed => self.sequential = true,
            Fact::Metric(id, field) => {
                if id < plan.metrics.len() {
                    let key = metric_key(plan, id).to_string();
                    self.named.insert(key.clone());
                    self.fields.entry(key).or_default().insert(unify(field));
                }
            }
            Fact::Guardrail(field) => {
                self.fields
                    .entry(ANY_GUARDRAIL.to_string())
                    .or_default()
                    .insert(unify(field));
            }
            Fact::SrmP
            | Fact::SrmChi2
            | Fact::Setting(_)
            | Fact::SequentialLook
            | Fact::SequentialInformation => {}
        }
    }

    fn fields_of(&self, key: &str, guardrail: bool) -> HashSet<Field> {
        let mut fields = self.fields.get(key).cloned().unwrap_or_default();
        if guardrail && let Some(any) = self.fields.get(ANY_GUARDRAIL) {
            fields.extend(any.iter().copied());
        }
        fields
    }

    fn thresholds_of(&self, key: &str, guardrail: bool, field: Field) -> Vec<f64> {
        let mut out = self
            .thresholds
            .get(&Slot::Field(key.to_string(), field))
            .cloned()
            .unwrap_or_default();
        if guardrail
            && let Some(any) = self
                .thresholds
                .get(&Slot::Field(ANY_GUARDRAIL.to_string(), field))
        {
            out.extend(any.iter().copied());
        }
        out
    }
}

fn slot(plan: &Plan, expr: &Expr) -> Option<Slot> {
    match expr {
        Expr::Fact(Fact::SrmP) => Some(Slot::SrmP),
        Expr::Fact(Fact::SrmChi2) => Some(Slot::SrmChi2),
        Expr::Fact(Fact::Metric(id, field)) if numeric(*field) && *id < plan.metrics.len() => Some(
            Slot::Field(metric_key(plan, *id).to_string(), unify(*field)),
        ),
        Expr::Fact(Fact::Guardrail(field)) if numeric(*field) => {
            Some(Slot::Field(ANY_GUARDRAIL.to_string(), unify(*field)))
        }
        _ => None,
    }
}

/// `expr` as `a·x + b` of one number `x` (a fact) and constants: a fact
/// with literals and settings added, subtracted, multiplied or divided
/// (`primary.lift * 2`, `-primary.lift`, `primary.lift - 0.1pp`). `None`
/// when it reads two facts or divides by a fact.
fn linear(plan: &Plan, expr: &Expr) -> Option<(Slot, f64, f64)> {
    if let Some(slot) = slot(plan, expr) {
        return Some((slot, 1.0, 0.0));
    }
    let Expr::Arith(op, x, y) = expr else {
        return None;
    };
    let (slot, a, b) = match (linear(plan, x), constant(plan, y), constant(plan, x)) {
        (Some((slot, a, b)), Some(c), _) => match op {
            ArithOp::Add => (slot, a, b + c),
            ArithOp::Sub => (slot, a, b - c),
            ArithOp::Mul => (slot, a * c, b * c),
            ArithOp::Div if c != 0.0 => (slot, a / c, b / c),
            ArithOp::Div => return None,
        },
        (None, _, Some(c)) => {
            let (slot, a, b) = linear(plan, y)?;
            match op {
                ArithOp::Add => (slot, a, c + b),
                ArithOp::Sub => (slot, -a, c - b),
                ArithOp::Mul => (slot, c * a, c * b),
                ArithOp::Div => return None,
            }
        }
        _ => return None,
    };
    (a.is_finite() && b.is_finite() && a != 0.0).then_some((slot, a, b))
}

/// The number a comparison of `lhs` with `rhs` turns on: `(x, t)` when one
/// side is linear in one number `x` ([`linear`]) and the other a constant
/// `k`, with `t = (k − b)/a`, where `a·x + b` crosses `k`.
fn threshold(plan: &Plan, lhs: &Expr, rhs: &Expr) -> Option<(Slot, f64)> {
    let (slot, a, b, k) = match (linear(plan, lhs), constant(plan, rhs)) {
        (Some((slot, a, b)), Some(k)) => (slot, a, b, k),
        _ => {
            let (slot, a, b) = linear(plan, rhs)?;
            (slot, a, b, constant(plan, lhs)?)
        }
    };
    let t = (k - b) / a;
    t.is_finite().then_some((slot, t))
}

/// The value of an expression made of literals and settings.
fn constant(plan: &Plan, expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Number(x) => Some(*x),
        Expr::Fact(Fact::Setting(key)) => Some(key.value(&plan.settings)),
        Expr::Arith(op, a, b) => {
            let (a, b) = (constant(plan, a)?, constant(plan, b)?);
            let x = match op {
                ArithOp::Add => a + b,
                ArithOp::Sub => a - b,
                ArithOp::Mul => a * b,
                ArithOp::Div => a / b,
            };
            x.is_finite().then_some(x)
        }
        _ => None,
    }
}

/// Whether every comparison in `expr` compares one fact, or a linear
/// function of one fact (`primary.lift * 2`), with a constant (or constants
/// with each other), so that the scenario space decides it exactly: the
/// space holds both sides of the point where it turns. Two facts compared,
/// or a fact divided by a fact, are only sampled.
pub fn decided_exactly(plan: &Plan, expr: &Expr) -> bool {
    // Scenarios have one treatment arm, where `p_adjusted` is `p`; a rule
    // that reads both may tell arms apart that the space merges.
    let (mut raw, mut adjusted) = (false, false);
    visit(expr, &mut |fact| match fact {
        Fact::Metric(_, Field::P) | Fact::Guardrail(Field::P) => raw = true,
        Fact::Metric(_, Field::PAdjusted) | Fact::Guardrail(Field::PAdjusted) => adjusted = true,
        _ => {}
    });
    !(raw && adjusted) && compares_with_constants(plan, expr) && !unfaithful(plan, expr)
}

/// Whether `expr` compares a number the scenarios do not vary faithfully,
/// so that the space only samples it:
///
/// - `sequential.look`, `sequential.information` and `plan.progress` (the
///   progress can pass 100% while an arm is short), and `plan.units_remaining`
///   or `plan.days_remaining` against anything but 0;
/// - on a policy file's stand-in experiment, where the spec's settings are
///   unknown: a setting against a literal (`settings.alpha > 5%`), and a
///   p-value (`p`, `p_adjusted`, `srm.p`) against a literal, whose relation
///   to significance and health turns on the spec's α and SRM thresholds;
/// - the raw `p` wherever several treatment arms are possible (a policy
///   file, or a spec with more than one): under a correction, `p < α` is not
///   `significant`, and the scenarios have one arm;
/// - on a policy file's stand-in, a quantifier that a spec without
///   guardrails flips (`any`/`no` whose body holds on a guardrail with no
///   effect, `all` whose body fails on one).
fn unfaithful(plan: &Plan, expr: &Expr) -> bool {
    match expr {
        // A policy file's stand-in has three guardrails; a spec may have
        // none, where `any` is false and `all`/`no` true whatever the body.
        // Guardrails with no effect behave as none unless the body holds
        // on them (`any`, `no`) or fails on them (`all`).
        Expr::Quantified(q, body) if plan.is_generic() => {
            let facts = Scenario::default().facts(plan);
            let holds = plan
                .guardrails()
                .next()
                .map(|(id, _)| decide::holds(plan, &facts, body, Some(id)));
            let differs = match q {
                Quantifier::Any | Quantifier::No => holds == Some(true),
                Quantifier::All => holds == Some(false),
            };
            differs || unfaithful(plan, body)
        }
        Expr::Not(e) | Expr::Quantified(_, e) => unfaithful(plan, e),
        Expr::And(a, b) | Expr::Or(a, b) => unfaithful(plan, a) || unfaithful(plan, b),
        Expr::Compare(_, a, b) => {
            let mut facts = Vec::new();
            visit(a, &mut |f| facts.push(f));
            visit(b, &mut |f| facts.push(f));
            let literal = constant(plan, a).or_else(|| constant(plan, b));
            let setting = facts.iter().any(|f| matches!(f, Fact::Setting(_)));
            let data: Vec<Fact> = facts
                .into_iter()
                .filter(|f| !matches!(f, Fact::Setting(_)))
                .collect();
            let p_value = |f: &Fact| {
                matches!(
                    f,
                    Fact::SrmP
                        | Fact::Metric(_, Field::P | Field::PAdjusted)
                        | Fact::Guardrail(Field::P | Field::PAdjusted)
                )
            };
            let raw_p =
                |f: &Fact| matches!(f, Fact::Metric(_, Field::P) | Fact::Guardrail(Field::P));
            let several_arms = plan.is_generic() || plan.treatments().len() > 1;
            data.iter().any(|f| match f {
                Fact::SequentialLook | Fact::SequentialInformation | Fact::PlanProgress => true,
                Fact::PlanUnitsRemaining | Fact::PlanDaysRemaining => literal != Some(0.0),
                _ => false,
            }) || (plan.is_generic() && setting && data.is_empty())
                || (plan.is_generic() && !setting && data.iter().any(p_value))
                || (several_arms && data.iter().any(raw_p))
        }
        _ => false,
    }
}

fn visit(expr: &Expr, f: &mut dyn FnMut(Fact)) {
    match expr {
        Expr::Fact(fact) => f(*fact),
        Expr::Not(e) | Expr::Quantified(_, e) => visit(e, f),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Compare(_, a, b) | Expr::Arith(_, a, b) => {
            visit(a, f);
            visit(b, f);
        }
        Expr::Bool(_) | Expr::Number(_) | Expr::Health(_) | Expr::Status(_) => {}
    }
}

fn compares_with_constants(plan: &Plan, expr: &Expr) -> bool {
    match expr {
        Expr::Not(e) | Expr::Quantified(_, e) => compares_with_constants(plan, e),
        Expr::And(a, b) | Expr::Or(a, b) => {
            compares_with_constants(plan, a) && compares_with_constants(plan, b)
        }
        Expr::Compare(_, a, b) => {
            let literal = |e: &Expr| {
                constant(plan, e).is_some()
                    || matches!(e, Expr::Bool(_) | Expr::Health(_) | Expr::Status(_))
            };
            let side = |e: &Expr| literal(e) || matches!(e, Expr::Fact(_));
            (side(a) && side(b) && (literal(a) || literal(b))) || threshold(plan, a, b).is_some()
        }
        Expr::Arith(..) => false,
        Expr::Bool(_) | Expr::Number(_) | Expr::Health(_) | Expr::Status(_) | Expr::Fact(_) => true,
    }
}

#[derive(Clone, Copy)]
enum Domain {
    Probability,
    NonNegative,
    Any,
}

fn domain(field: Field) -> Domain {
    match field {
        Field::P | Field::PAdjusted | Field::ProbBetter => Domain::Probability,
        Field::ExpectedLoss | Field::Units | Field::Boundary => Domain::NonNegative,
        _ => Domain::Any,
    }
}

/// Values on both sides of every threshold, and (with `exact`) the
/// thresholds themselves, for `<` against `<=`; within the domain: below the
/// lowest, between each pair, above the highest.
fn candidates(thresholds: &[f64], domain: Domain, exact: bool) -> Vec<f64> {
    let inside = |x: f64| match domain {
        Domain::Probability => (0.0..=1.0).contains(&x),
        Domain::NonNegative => x >= 0.0,
        Domain::Any => x.is_finite(),
    };
    let mut ts: Vec<f64> = thresholds.iter().copied().filter(|t| inside(*t)).collect();
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    let (Some(&first), Some(&last)) = (ts.first(), ts.last()) else {
        return Vec::new();
    };
    let below = match domain {
        Domain::Probability | Domain::NonNegative => first / 2.0,
        Domain::Any => first - (first.abs() / 2.0).max(0.005),
    };
    let above = match domain {
        Domain::Probability => (last + 1.0) / 2.0,
        Domain::NonNegative => {
            if last == 0.0 {
                0.001
            } else {
                last * 1.5
            }
        }
        Domain::Any => last + (last.abs() / 2.0).max(0.005),
    };
    let mut out = vec![below];
    for (i, t) in ts.iter().enumerate() {
        if exact {
            out.push(*t);
        }
        if let Some(next) = ts.get(i + 1) {
            out.push((t + next) / 2.0);
        }
    }
    out.push(above);
    out.retain(|x| inside(*x));
    out.dedup();
    out
}

/// Most scenarios a space holds before merging. Beyond it only the
/// simplest are kept: those with the fewest facts changed from no effect.
pub const MAX_SCENARIOS: u64 = 200_000;

/// Most combinations of numbers tried for one metric state.
const MAX_NUMBERS: usize = 4_096;

/// One way a metric can be in the space, and how far it is from no effect.
#[derive(Clone)]
struct Alternative {
    state: MetricState,
    complexity: usize,
    /// What the rules' atoms see of this metric in this state.
    signature: Vec<u8>,
}

/// The scenario-wide facts of a [`Choice`].
#[derive(Clone, Copy)]
struct Globals {
    health: Health,
    srm_p: f64,
    srm_chi2: f64,
    sample_reached: bool,
    sequential: bool,
}

/// One option of one dimension of the space: some facts of a scenario.
#[derive(Clone)]
struct Choice {
    globals: Option<Globals>,
    metrics: Vec<(String, MetricState)>,
    complexity: usize,
}

/// The scenario space of some plans.
#[derive(Clone, Debug)]
pub struct Space {
    /// Simplest first; no two on which every rule of every plan agrees.
    pub scenarios: Vec<Explored>,
    /// `false` when the space was too large and only the simplest
    /// scenarios were kept, or numbers were sampled more coarsely: absence
    /// (a rule that never fires) is then not proven.
    pub complete: bool,
    /// Some rule reads the sample's state (`plan.sample_reached`,
    /// `plan.units_remaining`, `plan.days_remaining`, `plan.progress`), so
    /// the space varies it. Scenarios before the planned sample are often
    /// merged into simpler ones on which every rule agrees: their absence
    /// from `scenarios` does not say the sample was never varied.
    pub reads_sample: bool,
    /// Some rule reads `health`, so the space varies it (a policy that never
    /// reads it launches whatever the health).
    pub reads_health: bool,
}

/// A scenario with the truth of every rule of every plan on it.
#[derive(Clone, Debug)]
pub struct Explored {
    /// The imagined experiment.
    pub scenario: Scenario,
    /// `rules[plan][rule]`: whether the rule's condition holds.
    pub rules: Vec<Vec<bool>>,
}

impl Explored {
    /// The index of the rule that decides for plan `i`, `None` for
    /// `otherwise`.
    pub fn fired(&self, i: usize) -> Option<usize> {
        self.rules.get(i)?.iter().position(|holds| *holds)
    }
}

/// The verdict and rule name of plan `i` on an explored scenario.
pub fn decision(plan: &Plan, explored: &Explored, i: usize) -> (Verdict, String) {
    match explored.fired(i).and_then(|r| plan.policy.rules.get(r)) {
        Some(rule) => (rule.then, rule.name.clone()),
        None => (plan.policy.otherwise.then, "otherwise".to_string()),
    }
}

/// The leaves of the plans' conditions: comparisons and boolean facts,
/// outside quantifiers (`global`) and inside (`quantified`, evaluated per
/// guardrail).
struct Atoms {
    global: Vec<Vec<Expr>>,
    quantified: Vec<Vec<Expr>>,
}

impl Atoms {
    fn of(plans: &[&Plan]) -> Atoms {
        let mut atoms = Atoms {
            global: vec![Vec::new(); plans.len()],
            quantified: vec![Vec::new(); plans.len()],
        };
        for (p, plan) in plans.iter().enumerate() {
            for rule in &plan.policy.rules {
                atoms.collect(p, &rule.when, false);
            }
        }
        atoms
    }

    fn collect(&mut self, p: usize, expr: &Expr, quantified: bool) {
        match expr {
            Expr::Not(e) => self.collect(p, e, quantified),
            Expr::And(a, b) | Expr::Or(a, b) => {
                self.collect(p, a, quantified);
                self.collect(p, b, quantified);
            }
            Expr::Quantified(_, e) => self.collect(p, e, true),
            leaf => {
                let list = if quantified {
                    &mut self.quantified[p]
                } else {
                    &mut self.global[p]
                };
                if !list.contains(leaf) {
                    list.push(leaf.clone());
                }
            }
        }
    }
}

/// What the atoms of every plan see of metric `key` in `state`, the other
/// facts being those of no effect; with the metric's significance and
/// status, which describe every scenario.
fn local_signature(plans: &[&Plan], atoms: &Atoms, key: &str, state: &MetricState) -> Vec<u8> {
    let scenario = Scenario {
        metrics: vec![(key.to_string(), state.clone())],
        ..Scenario::default()
    };
    let mut signature = Vec::new();
    for (p, plan) in plans.iter().enumerate() {
        let facts = scenario.facts(plan);
        let id = (0..plan.metrics.len()).find(|&id| metric_key(plan, id) == key);
        for atom in &atoms.global[p] {
            signature.push(u8::from(decide::holds(plan, &facts, atom, None)));
        }
        if let Some(id) = id.filter(|&id| plan.metrics[id].role == Role::Guardrail) {
            for atom in &atoms.quantified[p] {
                signature.push(u8::from(decide::holds(plan, &facts, atom, Some(id))));
            }
        }
        if let Some(c) = id.and_then(|id| facts.metrics.get(id)) {
            signature.push(c.status.map_or(9, |s| s as u8));
            signature.push(u8::from(c.better) + 2 * u8::from(c.worse));
        }
    }
    signature
}

/// Every scenario that the plans' rules can tell apart (see the module
/// docs), simplest first. The plans' metrics are matched by name, the
/// primary as `primary`; the last plan's settings decide which facts are
/// consistent.
pub fn explore(plans: &[&Plan]) -> Space {
    let Some(last) = plans.last() else {
        return Space {
            scenarios: Vec::new(),
            complete: true,
            reads_sample: false,
            reads_health: false,
        };
    };
    let settings = &last.settings;
    let alpha = settings.alpha;
    let reads = Reads::of(plans);
    let atoms = Atoms::of(plans);
    let mut complete = true;

    // Scenario-wide facts: one dimension.
    let healths: Vec<Health> = if reads.health {
        vec![Health::Healthy, Health::Warning, Health::Blocked]
    } else {
        vec![Health::Healthy]
    };
    let mut srm_ps = vec![1.0];
    if let Some(ts) = reads.thresholds.get(&Slot::SrmP) {
        srm_ps.extend(candidates(ts, Domain::Probability, true));
    }
    let mut chi2s = vec![0.0];
    if let Some(ts) = reads.thresholds.get(&Slot::SrmChi2) {
        chi2s.extend(candidates(ts, Domain::NonNegative, true));
    }
    let samples: Vec<bool> = if reads.sample {
        vec![true, false]
    } else {
        vec![true]
    };
    // A policy file does not know whether the spec reads it sequentially.
    let sequentials: Vec<bool> = if reads.sequential && plans.iter().all(|p| p.is_generic()) {
        vec![false, true]
    } else {
        vec![false]
    };
    let mut globals = Vec::new();
    for &health in &healths {
        for &srm_p in &srm_ps {
            // SRM below a threshold makes health at least that bad.
            let implied = if srm_p < settings.srm_blocked {
                Health::Blocked
            } else if srm_p < settings.srm_warning {
                Health::Warning
            } else {
                Health::Healthy
            };
            if health < implied {
                continue;
            }
            for &chi2 in &chi2s {
                for &sample in &samples {
                    for &sequential in &sequentials {
                        let complexity = usize::from(health != Health::Healthy)
                            + usize::from(srm_p != 1.0)
                            + usize::from(chi2 != 0.0)
                            + usize::from(!sample)
                            + usize::from(sequential);
                        globals.push(Choice {
                            globals: Some(Globals {
                                health,
                                srm_p,
                                srm_chi2: chi2,
                                sample_reached: sample,
                                sequential,
                            }),
                            metrics: Vec::new(),
                            complexity,
                        });
                    }
                }
            }
        }
    }
    let mut dims: Vec<Vec<Choice>> = vec![globals];

    // One dimension per metric the rules name; the guardrails they only
    // quantify over form one pool.
    let (metrics, pool) = space_metrics(plans, &reads);
    for (key, metric) in &metrics {
        let alternatives = alternatives(plans, &atoms, key, metric, &reads, alpha, &mut complete);
        dims.push(
            alternatives
                .into_iter()
                .map(|a| Choice {
                    globals: None,
                    metrics: vec![(key.clone(), a.state)],
                    complexity: a.complexity,
                })
                .collect(),
        );
    }
    if !pool.is_empty() {
        dims.push(pool_choices(
            plans,
            &atoms,
            &pool,
            &reads,
            alpha,
            &mut complete,
        ));
    }

    // Keep the simplest scenarios when the product is too large.
    let mut histogram = vec![1u64];
    for dim in &dims {
        let top = dim.iter().map(|c| c.complexity).max().unwrap_or(0);
        let mut next = vec![0u64; histogram.len() + top];
        for (c, count) in histogram.iter().enumerate() {
            for choice in dim {
                let slot = &mut next[c + choice.complexity];
                *slot = slot.saturating_add(*count);
            }
        }
        histogram = next;
    }
    let mut budget = histogram.len().saturating_sub(1);
    let mut total: u64 = histogram.iter().fold(0u64, |a, b| a.saturating_add(*b));
    while total > MAX_SCENARIOS && budget > 0 {
        total = total.saturating_sub(histogram[budget]);
        budget -= 1;
        complete = false;
    }

    let mut all: Vec<(usize, Scenario)> = Vec::new();
    let mut picked: Vec<usize> = Vec::with_capacity(dims.len());
    product(&dims, budget, 0, &mut picked, &mut all);
    all.sort_by_key(|(complexity, _)| *complexity);

    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut scenarios = Vec::new();
    for (_, scenario) in all {
        let mut signature = Vec::new();
        let mut rules = Vec::with_capacity(plans.len());
        for plan in plans {
            let facts = scenario.facts(plan);
            let truths: Vec<bool> = plan
                .policy
                .rules
                .iter()
                .map(|rule| decide::holds(plan, &facts, &rule.when, None))
                .collect();
            signature.extend(truths.iter().map(|t| u8::from(*t)));
            let worst = plan
                .guardrails()
                .filter_map(|(id, _)| facts.metrics.get(id).and_then(|c| c.status))
                .max()
                .unwrap_or(Status::Ok);
            signature.push(worst as u8 + 2);
            let primary = facts.metrics.get(plan.primary);
            signature.push(primary.map_or(0, |c| u8::from(c.better) + 2 * u8::from(c.worse)) + 10);
            rules.push(truths);
        }
        if seen.insert(signature) {
            scenarios.push(Explored { scenario, rules });
        }
    }
    Space {
        scenarios,
        complete,
        reads_sample: reads.sample,
        reads_health: reads.health,
    }
}

/// Every combination of one choice per dimension with a total complexity
/// within `budget`.
fn product(
    dims: &[Vec<Choice>],
    budget: usize,
    used: usize,
    picked: &mut Vec<usize>,
    out: &mut Vec<(usize, Scenario)>,
) {
    let Some(dim) = dims.get(picked.len()) else {
        let mut scenario = Scenario::default();
        for (d, &k) in picked.iter().enumerate() {
            let choice = &dims[d][k];
            if let Some(g) = choice.globals {
                scenario.health = g.health;
                scenario.srm_p = g.srm_p;
                scenario.srm_chi2 = g.srm_chi2;
                scenario.sample_reached = g.sample_reached;
                scenario.sequential = g.sequential;
            }
            scenario.metrics.extend(choice.metrics.iter().cloned());
        }
        out.push((used, scenario));
        return;
    };
    for (k, choice) in dim.iter().enumerate() {
        if used + choice.complexity > budget {
            continue;
        }
        picked.push(k);
        product(dims, budget, used + choice.complexity, picked, out);
        picked.pop();
    }
}

/// Every scenario of [`explore`], without the rules' truths.
pub fn enumerate(plans: &[&Plan]) -> Vec<Scenario> {
    explore(plans)
        .scenarios
        .into_iter()
        .map(|e| e.scenario)
        .collect()
}

/// The union of the plans' metrics by key (the first plan that has a metric
/// describes it, thresholds merged): those with a dimension of their own,
/// and the pool of guardrails that rules only quantify over.
type Metrics = Vec<(String, Metric)>;

fn space_metrics(plans: &[&Plan], reads: &Reads) -> (Metrics, Metrics) {
    let mut all: Metrics = Vec::new();
    for plan in plans {
        for (id, metric) in plan.metrics.iter().enumerate() {
            let key = metric_key(plan, id).to_string();
            match all.iter_mut().find(|(k, _)| *k == key) {
                Some((_, known)) => {
                    known.worsened = known.worsened.or(metric.worsened);
                    known.severe = known.severe.or(metric.severe);
                    known.margin = known.margin.or(metric.margin);
                }
                None => all.push((key, metric.clone())),
            }
        }
    }
    let mut own = Vec::new();
    let mut pool = Vec::new();
    for (key, metric) in all {
        match metric.role {
            Role::Primary => own.push((key, metric)),
            Role::Secondary if !reads.fields_of(&key, false).is_empty() => own.push((key, metric)),
            Role::Secondary => {}
            Role::Guardrail if reads.named.contains(&key) => own.push((key, metric)),
            Role::Guardrail => pool.push((key, metric)),
        }
    }
    (own, pool)
}

/// The pool of guardrails the rules only quantify over: what the
/// quantifiers see is the multiset of their states, and two guardrails away
/// from no effect tell `any` from `all`, so at most two deviate.
fn pool_choices(
    plans: &[&Plan],
    atoms: &Atoms,
    pool: &Metrics,
    reads: &Reads,
    alpha: f64,
    complete: &mut bool,
) -> Vec<Choice> {
    let mut ids: HashMap<Vec<u8>, usize> = HashMap::new();
    let members: Vec<(String, Vec<(Alternative, usize)>)> = pool
        .iter()
        .map(|(key, metric)| {
            let alternatives = alternatives(plans, atoms, key, metric, reads, alpha, complete)
                .into_iter()
                .map(|a| {
                    let next = ids.len();
                    let id = *ids.entry(a.signature.clone()).or_insert(next);
                    (a, id)
                })
                .collect();
            (key.clone(), alternatives)
        })
        .collect();
    let defaults: Vec<usize> = members
        .iter()
        .map(|(_, alts)| alts.first().map_or(0, |(_, id)| *id))
        .collect();
    let mut seen: HashSet<Vec<usize>> = HashSet::new();
    let mut out = Vec::new();
    let mut push = |deviations: &[(usize, usize)], out: &mut Vec<Choice>| {
        let mut key: Vec<usize> = defaults.clone();
        for &(m, a) in deviations {
            key[m] = members[m].1[a].1;
        }
        key.sort_unstable();
        if !seen.insert(key) {
            return;
        }
        out.push(Choice {
            globals: None,
            metrics: deviations
                .iter()
                .map(|&(m, a)| (members[m].0.clone(), members[m].1[a].0.state.clone()))
                .collect(),
            complexity: deviations
                .iter()
                .map(|&(m, a)| members[m].1[a].0.complexity)
                .sum(),
        });
    };
    push(&[], &mut out);
    for (m, (_, alts)) in members.iter().enumerate() {
        for a in 1..alts.len() {
            push(&[(m, a)], &mut out);
        }
    }
    for (m, (_, alts)) in members.iter().enumerate() {
        for (n, (_, others)) in members.iter().enumerate().skip(m + 1) {
            for a in 1..alts.len() {
                for b in 1..others.len() {
                    push(&[(m, a), (n, b)], &mut out);
                }
            }
        }
    }
    // A policy file's three interchangeable stand-in guardrails may all
    // leave no effect when one of them is severe: one better, one worse and
    // one severe is a state a rule can launch on (`any guardrail better and
    // any guardrail worse`). Their states are a multiset, so the triples
    // stay few.
    if plans.iter().all(|p| p.is_generic()) && members.len() >= 3 {
        for (m, (_, first)) in members.iter().enumerate() {
            for (n, (_, second)) in members.iter().enumerate().skip(m + 1) {
                for (o, (_, third)) in members.iter().enumerate().skip(n + 1) {
                    let severe =
                        |(alt, _): &(Alternative, usize)| alt.state.status == Status::Severe;
                    for (a, x) in first.iter().enumerate().skip(1) {
                        for (b, y) in second.iter().enumerate().skip(1) {
                            for (c, z) in third.iter().enumerate().skip(1) {
                                // The third deviation is there to be severe
                                // beside the two a rule reads; other
                                // triples add no decision a pair does not.
                                if severe(x) || severe(y) || severe(z) {
                                    push(&[(m, a), (n, b), (o, c)], &mut out);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out.sort_by_key(|c| c.complexity);
    out
}

/// The states of one metric the space distinguishes, simplest first (the
/// first is no effect): significance, status and non-inferiority as the
/// rules read them, and the numbers they compare on both sides of each
/// constant; inconsistent states left out, states the rules' atoms cannot
/// tell apart merged.
fn alternatives(
    plans: &[&Plan],
    atoms: &Atoms,
    key: &str,
    metric: &Metric,
    reads: &Reads,
    alpha: f64,
    complete: &mut bool,
) -> Vec<Alternative> {
    let guardrail = metric.role == Role::Guardrail;
    let fields = reads.fields_of(key, guardrail);
    // A policy file may be read group-sequentially; a spec says so.
    let crossing_persists = plans.iter().any(|p| {
        p.is_generic()
            || p.sequential
                .is_some_and(|s| s.method == crate::plan::SequentialMethod::GroupSequential)
    });
    let thresholds: Vec<(Field, Vec<f64>)> = Field::ALL
        .into_iter()
        .filter(|f| numeric(*f) && *f != Field::PAdjusted)
        .filter_map(|field| {
            let mut ts = reads.thresholds_of(key, guardrail, field);
            if ts.is_empty() {
                return None;
            }
            // Where the field's own meaning changes: α for p, the bounds
            // of a significant prob_better, 0 for lifts.
            match field {
                Field::P => ts.push(alpha),
                Field::ProbBetter => ts.extend([alpha / 2.0, 1.0 - alpha / 2.0]),
                Field::Lift | Field::RelLift | Field::CiLow | Field::CiHigh => ts.push(0.0),
                _ => {}
            }
            Some((field, ts))
        })
        .collect();
    let numbers_of = |exact: bool| -> Vec<(Field, Vec<f64>)> {
        thresholds
            .iter()
            .map(|(field, ts)| {
                let mut values = candidates(ts, domain(*field), exact);
                // Undefined (NaN here), as real data can leave these: a
                // comparison with it is false, so `not (x >= t)` and `x < t`
                // differ there.
                if matches!(
                    field,
                    Field::RelLift | Field::ProbBetter | Field::ExpectedLoss
                ) {
                    values.push(f64::NAN);
                }
                (*field, values)
            })
            .collect()
    };
    let size = |numbers: &[(Field, Vec<f64>)]| {
        numbers
            .iter()
            .fold(1usize, |n, (_, v)| n.saturating_mul(v.len() + 1))
    };
    let mut numbers = numbers_of(true);
    if size(&numbers) > MAX_NUMBERS {
        numbers = numbers_of(false);
        *complete = false;
    }
    while size(&numbers) > MAX_NUMBERS {
        // Keep the fields that come first; the rest keep their defaults.
        numbers.pop();
        *complete = false;
    }

    let reads_significance = metric.role == Role::Primary
        || !numbers.is_empty()
        || fields
            .iter()
            .any(|f| matches!(f, Field::Significant | Field::Better | Field::Worse));
    let significances = if reads_significance {
        vec![
            Significance::NotSignificant,
            Significance::Better,
            Significance::Worse,
        ]
    } else {
        vec![Significance::NotSignificant]
    };
    let statuses: Vec<Status> = if guardrail {
        let mut s = vec![Status::Ok];
        if metric.worsened.is_some() {
            s.push(Status::Worsened);
        }
        if metric.severe.is_some() {
            s.push(Status::Severe);
        }
        s
    } else {
        vec![Status::Ok]
    };
    let inferiority: Vec<Option<bool>> =
        if guardrail && metric.margin.is_some() && fields.contains(&Field::NonInferior) {
            vec![None, Some(false)]
        } else {
            vec![None]
        };

    let mut raw: Vec<Alternative> = Vec::new();
    for &status in &statuses {
        for &significance in &significances {
            for &non_inferior in &inferiority {
                // The product of the numbers' candidates, each `None` (the
                // state's default) first.
                let mut index = vec![0usize; numbers.len()];
                loop {
                    let mut state = MetricState {
                        significance,
                        status,
                        non_inferior,
                        numbers: Vec::new(),
                    };
                    for ((field, values), &k) in numbers.iter().zip(&index) {
                        if k > 0 {
                            state.numbers.push((*field, values[k - 1]));
                        }
                    }
                    let c = comparison(metric, &state, alpha);
                    if consistent(metric, &c, alpha, crossing_persists) {
                        let complexity = usize::from(significance != Significance::NotSignificant)
                            + usize::from(status != Status::Ok)
                            + usize::from(non_inferior.is_some())
                            + state.numbers.len();
                        raw.push(Alternative {
                            state,
                            complexity,
                            signature: Vec::new(),
                        });
                    }
                    let mut i = 0;
                    while i < numbers.len() {
                        index[i] += 1;
                        if index[i] <= numbers[i].1.len() {
                            break;
                        }
                        index[i] = 0;
                        i += 1;
                    }
                    if i == numbers.len() {
                        break;
                    }
                }
            }
        }
    }
    raw.sort_by_key(|a| a.complexity);
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut out = Vec::new();
    for mut alternative in raw {
        let signature = local_signature(plans, atoms, key, &alternative.state);
        if seen.insert(signature.clone()) {
            alternative.signature = signature;
            out.push(alternative);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_take_both_sides_and_the_threshold() {
        assert_eq!(
            candidates(&[0.95], Domain::Probability, true),
            vec![0.475, 0.95, 0.975]
        );
        assert_eq!(
            candidates(&[0.02, 0.0], Domain::Any, true),
            vec![-0.005, 0.0, 0.01, 0.02, 0.03]
        );
        assert_eq!(
            candidates(&[0.95], Domain::Probability, false),
            vec![0.475, 0.975]
        );
        assert!(candidates(&[], Domain::Any, true).is_empty());
    }
}

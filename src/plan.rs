//! The checked plan: what to compute and how to decide.
//!
//! Only `check` builds a [`Plan`]; `evaluate` only accepts one, so nothing is
//! ever computed from an unchecked spec. Everything here is resolved: units are
//! applied (`5%` is `0.05`, `0.1pp` is `0.001`), names are ids, defaults are
//! filled in, and the policy's rules are in the order they are tried.

use std::path::PathBuf;

use serde::Serialize;

use crate::diagnostic::Span;

/// Index into [`Plan::metrics`].
pub type MetricId = usize;

/// A checked experiment: its data source, variants, metrics, settings and
/// policy, every name resolved and every unit applied.
///
/// Only the checker builds one ([`crate::check`]; `tests/layout.rs` fails on
/// a `Plan` literal anywhere else), so the fields are crate-private and read
/// through the accessors below.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The experiment's name (`checkout_redesign`).
    pub(crate) name: String,
    pub(crate) title: Option<String>,
    pub(crate) owner: Option<String>,
    pub(crate) hypothesis: Option<String>,
    /// The spec file, as the user named it.
    pub(crate) spec_path: PathBuf,
    pub(crate) data: DataSource,
    /// `variants[0]` is the control; shares are normalised to sum to 1.
    pub(crate) variants: Vec<Variant>,
    /// Primary first, then secondary metrics and guardrails in spec order.
    pub(crate) metrics: Vec<Metric>,
    /// Always 0: the primary metric comes first.
    pub(crate) primary: MetricId,
    pub(crate) sample_plan: Option<SamplePlan>,
    /// The `sequential` block (or `xos.toml`'s `[sequential]`); `None`:
    /// fixed-horizon inference.
    pub(crate) sequential: Option<Sequential>,
    pub(crate) settings: Settings,
    pub(crate) policy: Policy,
    /// The `xos.toml` in force, if one was found walking up from the spec.
    pub(crate) config: Option<PathBuf>,
    /// Folder whose templates override the built-in memo templates by name.
    pub(crate) templates: Option<PathBuf>,
    /// Folder memos are written to by default (from `xos.toml`).
    pub(crate) output: Option<PathBuf>,
}

impl Plan {
    /// The experiment's name (`checkout_redesign`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `title` header field, lines joined.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The `owner` header field, lines joined.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// The `hypothesis` header field, lines joined.
    pub fn hypothesis(&self) -> Option<&str> {
        self.hypothesis.as_deref()
    }

    /// The spec file, as the user named it.
    pub fn spec_path(&self) -> &std::path::Path {
        &self.spec_path
    }

    /// Where the data is and how to read it.
    pub fn data(&self) -> &DataSource {
        &self.data
    }

    /// The variants, control first; shares sum to 1.
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// The metrics, primary first, then secondary metrics and guardrails in
    /// spec order; indexed by [`MetricId`].
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// The primary metric's id (always 0).
    pub fn primary_id(&self) -> MetricId {
        self.primary
    }

    /// The `plan` block: units per day, power, duration.
    pub fn sample_plan(&self) -> Option<&SamplePlan> {
        self.sample_plan.as_ref()
    }

    /// The settings in force: built-in defaults, then `xos.toml`, then the
    /// spec's `settings` block.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The policy, the spec's inline rules first.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The `xos.toml` in force, if one was found walking up from the spec.
    pub fn config(&self) -> Option<&std::path::Path> {
        self.config.as_deref()
    }

    /// The folder whose templates override the built-in memo templates.
    pub fn templates(&self) -> Option<&std::path::Path> {
        self.templates.as_deref()
    }

    /// The folder memos are written to by default (from `xos.toml`).
    pub fn output(&self) -> Option<&std::path::Path> {
        self.output.as_deref()
    }

    /// The same plan with only the rules of its policy file (no inline
    /// rules): what the policy decides on its own.
    pub fn policy_rules_only(&self) -> Plan {
        let mut plan = self.clone();
        plan.policy
            .rules
            .retain(|rule| rule.source == RuleSource::Policy);
        plan
    }

    pub fn control(&self) -> &Variant {
        &self.variants[0]
    }

    pub fn treatments(&self) -> &[Variant] {
        &self.variants[1..]
    }

    pub fn primary(&self) -> &Metric {
        &self.metrics[self.primary]
    }

    pub fn guardrails(&self) -> impl Iterator<Item = (MetricId, &Metric)> {
        self.metrics
            .iter()
            .enumerate()
            .filter(|(_, m)| m.role == Role::Guardrail)
    }

    pub fn metric_id(&self, name: &str) -> Option<MetricId> {
        self.metrics.iter().position(|m| m.name == name)
    }
}

#[derive(Clone, Debug)]
pub struct DataSource {
    /// Resolved against the spec's folder (or as given by `--data`).
    pub path: PathBuf,
    /// The path as written in the spec (or given to `--data`), for messages.
    pub written: String,
    /// Whether the path came from `--data` rather than the spec.
    pub from_command_line: bool,
    /// The field separator of the CSV (`delimiter ";"`): `b','` unless the
    /// spec declares another.
    pub delimiter: u8,
    pub variant_column: String,
    pub units_column: String,
    pub shape: Shape,
    /// Row-level data only: the column identifying a unit.
    pub unit_id: Option<String>,
    pub missing: Missing,
    /// `look "COLUMN"`: the column naming each row's look (aggregated: one
    /// cumulative row per look and variant; rows: each unit's look).
    pub look: Option<String>,
    /// The spec and the span of its `data "…"` path, where a data file that
    /// cannot be read is reported; `None` with `--data`.
    pub named_at: Option<(
        std::sync::Arc<crate::diagnostic::SourceFile>,
        crate::diagnostic::Span,
    )>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// One row per variant with counts and sums (the default).
    Aggregated,
    /// One row per unit.
    Rows,
}

/// What to do with an empty cell in row-level data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    Error,
    Zero,
}

#[derive(Clone, Debug)]
pub struct Variant {
    pub name: String,
    /// Designed share of traffic, normalised so the shares sum to 1.
    pub share: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Secondary,
    Guardrail,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MetricKind {
    /// `rate(X)`: aggregated column `X` counts units with the event.
    Rate { column: String },
    /// `mean(X)`: aggregated columns `X_sum`, `X_sum_sq`.
    Mean { column: String },
    /// `ratio(X, Y)`: aggregated columns `X_sum`, `X_sum_sq`, `Y_sum`,
    /// `Y_sum_sq`, `X_Y_sum_prod`; compared by the delta method.
    Ratio {
        numerator: String,
        denominator: String,
    },
}

impl MetricKind {
    /// The metric's (first) column: a ratio's numerator.
    pub fn column(&self) -> &str {
        match self {
            MetricKind::Rate { column } | MetricKind::Mean { column } => column,
            MetricKind::Ratio { numerator, .. } => numerator,
        }
    }

    /// A ratio's denominator column.
    pub fn denominator(&self) -> Option<&str> {
        match self {
            MetricKind::Ratio { denominator, .. } => Some(denominator),
            _ => None,
        }
    }

    pub fn is_rate(&self) -> bool {
        matches!(self, MetricKind::Rate { .. })
    }

    pub fn label(&self) -> &'static str {
        match self {
            MetricKind::Rate { .. } => "rate",
            MetricKind::Mean { .. } => "mean",
            MetricKind::Ratio { .. } => "ratio",
        }
    }

    /// As written in a spec: `rate(conversions)`, `ratio(clicks, queries)`.
    pub fn form(&self) -> String {
        match self.denominator() {
            Some(denominator) => format!("{}({}, {denominator})", self.label(), self.column()),
            None => format!("{}({})", self.label(), self.column()),
        }
    }
}

/// The columns of a metric in an aggregated export, in the order a query
/// produces them: `rate(X)` reads `X`; `mean(X)` `X_sum`, `X_sum_sq`;
/// `ratio(X, Y)` `X_sum`, `X_sum_sq`, `Y_sum`, `Y_sum_sq`, `X_Y_sum_prod`; a
/// covariate `C` adds `C_sum`, `C_sum_sq`, `X_C_sum_prod`.
pub fn aggregated_columns(metric: &Metric) -> Vec<String> {
    let x = metric.kind.column();
    let mut columns = match &metric.kind {
        MetricKind::Rate { .. } => vec![x.to_string()],
        MetricKind::Mean { .. } => vec![format!("{x}_sum"), format!("{x}_sum_sq")],
        MetricKind::Ratio { denominator: y, .. } => vec![
            format!("{x}_sum"),
            format!("{x}_sum_sq"),
            format!("{y}_sum"),
            format!("{y}_sum_sq"),
            format!("{x}_{y}_sum_prod"),
        ],
    };
    if let Some(c) = &metric.covariate {
        columns.extend([
            format!("{c}_sum"),
            format!("{c}_sum_sq"),
            format!("{x}_{c}_sum_prod"),
        ]);
    }
    columns
}

/// The columns of a metric in a row-level export: `X`, a ratio's `Y`, and
/// the covariate `C`.
pub fn row_columns(metric: &Metric) -> Vec<&str> {
    std::iter::once(metric.kind.column())
        .chain(metric.kind.denominator())
        .chain(metric.covariate.as_deref())
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Higher,
    Lower,
}

/// An effect size: an absolute difference in the metric's units (`0.1pp` is
/// `0.001` for a rate), or a fraction of the control's value (`5% relative`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Effect {
    Absolute(f64),
    Relative(f64),
}

#[derive(Clone, Debug)]
pub struct Metric {
    pub name: String,
    pub role: Role,
    pub kind: MetricKind,
    pub prefer: Direction,
    /// Planning input: the control's expected value.
    pub baseline: Option<f64>,
    /// Planning input: the minimum detectable effect.
    pub mde: Option<Effect>,
    /// Planning input for mean metrics: the standard deviation.
    pub sd: Option<f64>,
    /// Planning inputs of a ratio metric.
    pub ratio_inputs: RatioInputs,
    /// CUPED: the column holding each unit's pre-experiment value (rate and
    /// mean metrics only).
    pub covariate: Option<String>,
    /// Planning input with a covariate: the expected share of the variance
    /// CUPED removes, in [0, 1).
    pub cuped: Option<f64>,
    /// `unit "ms"`: the unit of a mean metric's values, for the memo.
    pub unit: Option<String>,
    /// Guardrails: degradation (in the unpreferred direction) at which the
    /// guardrail is `worsened` / `severe`, judged on the point estimate.
    pub worsened: Option<Effect>,
    pub severe: Option<Effect>,
    /// Guardrails: non-inferiority margin for the one-sided (1 − α) bound of
    /// the degradation.
    pub margin: Option<Effect>,
}

/// Planning inputs of `ratio(X, Y)`: per-unit moments of numerator and
/// denominator (with `baseline`, the expected ratio).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RatioInputs {
    /// Mean denominator per unit (queries per user); never 0.
    pub mean_y: Option<f64>,
    /// Per-unit standard deviations of X and Y.
    pub sd_x: Option<f64>,
    pub sd_y: Option<f64>,
    /// Per-unit correlation of X and Y, in [−1, 1].
    pub correlation: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct SamplePlan {
    /// Units entering the experiment per day, all arms together.
    pub daily_users: Option<f64>,
    /// Target power, in (0, 1); 0.8 by default.
    pub power: f64,
    /// Planned duration in days (`duration 14d`), if stated.
    pub duration_days: Option<f64>,
}

/// Sequential inference: decisions that stay valid when results are read
/// while data accrues (DESIGN.md §1 "Sequential inference and looks").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sequential {
    pub method: SequentialMethod,
    /// `always_valid`: total units where the interval is tightest; `None`:
    /// the plan's total, else 10,000.
    pub tuning: Option<u64>,
    /// `group_sequential`: the α-spending family.
    pub spending: crate::stats::sequential::Spending,
    /// `group_sequential`: total units at which all α is spent; `None`: the
    /// plan's total.
    pub max_units: Option<u64>,
}

/// The inference a comparison's `p`, CI and significance come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SequentialMethod {
    /// Fixed horizon: valid at one look, the planned sample.
    Fixed,
    AlwaysValid,
    GroupSequential,
}

impl SequentialMethod {
    /// How the memo names it.
    pub fn describe(self) -> &'static str {
        match self {
            SequentialMethod::Fixed => "fixed-horizon",
            SequentialMethod::AlwaysValid => "always-valid",
            SequentialMethod::GroupSequential => "group-sequential",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Correction {
    None,
    Bonferroni,
    Holm,
    Bh,
}

/// `rate_test`: how rate metrics are tested and their intervals formed
/// (DESIGN §2; `stats::proportion::RateMethod`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RateTest {
    /// Miettinen–Nurminen score test and interval (the default).
    Score,
    /// Mee's score method: the pooled z-test with its interval.
    Pooled,
    /// Unpooled Wald z-test and interval (alias `unpooled`).
    Wald,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RelativeCi {
    Delta,
    Fieller,
    Log,
}

impl RateTest {
    /// The method of `stats::proportion` this setting selects.
    pub fn method(self) -> crate::stats::proportion::RateMethod {
        use crate::stats::proportion::RateMethod;
        match self {
            RateTest::Score => RateMethod::Score,
            RateTest::Pooled => RateMethod::Pooled,
            RateTest::Wald => RateMethod::Wald,
        }
    }

    /// The setting's keyword: `score`, `pooled` or `wald`.
    pub fn keyword(self) -> &'static str {
        self.method().name()
    }

    /// What the setting does, for `xos explain` and the memo's assumptions.
    pub fn description(self) -> &'static str {
        match self {
            RateTest::Score => {
                "Miettinen–Nurminen score test with the CI inverted from the same statistic"
            }
            RateTest::Pooled => {
                "pooled z-test with Mee's score CI inverted from the same statistic"
            }
            RateTest::Wald => "unpooled Wald z-test, CI = Δ ± z·SE",
        }
    }
}

impl RelativeCi {
    /// The method of `stats::relative` this setting selects.
    pub fn method(self) -> crate::stats::relative::RelativeCiMethod {
        use crate::stats::relative::RelativeCiMethod;
        match self {
            RelativeCi::Delta => RelativeCiMethod::Delta,
            RelativeCi::Fieller => RelativeCiMethod::Fieller,
            RelativeCi::Log => RelativeCiMethod::Log,
        }
    }

    /// The setting's keyword: `delta`, `fieller` or `log`.
    pub fn keyword(self) -> &'static str {
        match self {
            RelativeCi::Delta => "delta",
            RelativeCi::Fieller => "fieller",
            RelativeCi::Log => "log",
        }
    }

    /// What the setting does, for `xos explain` and the memo's assumptions.
    pub fn description(self) -> &'static str {
        match self {
            RelativeCi::Delta => "delta method",
            RelativeCi::Fieller => "Fieller's interval of the ratio",
            RelativeCi::Log => "log method (Katz)",
        }
    }
}

/// Every setting, with defaults applied (spec > `xos.toml` > built-in).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub alpha: f64,
    pub srm_warning: f64,
    pub srm_blocked: f64,
    pub min_units: u64,
    pub correction: Correction,
    pub rate_test: RateTest,
    pub relative_ci: RelativeCi,
    /// Beta(a, b) prior of rate metrics.
    pub prior: (f64, f64),
    pub seed: u64,
    pub draws: u64,
    /// Row-level data with `unit_id`: the share of units assigned to more
    /// than one variant, or duplicated, above which health is `warning` /
    /// `blocked`.
    pub assignment_warning: f64,
    pub assignment_blocked: f64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            alpha: 0.05,
            srm_warning: 0.001,
            srm_blocked: 0.00001,
            min_units: 100,
            correction: Correction::Holm,
            rate_test: RateTest::Score,
            relative_ci: RelativeCi::Delta,
            prior: (1.0, 1.0),
            seed: 42,
            draws: 100_000,
            assignment_warning: 0.001,
            assignment_blocked: 0.01,
        }
    }
}

/// Settings a rule can read as `settings.K` (the numeric ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingKey {
    Alpha,
    SrmWarning,
    SrmBlocked,
    MinUnits,
    Seed,
    Draws,
}

impl SettingKey {
    pub fn value(self, settings: &Settings) -> f64 {
        match self {
            SettingKey::Alpha => settings.alpha,
            SettingKey::SrmWarning => settings.srm_warning,
            SettingKey::SrmBlocked => settings.srm_blocked,
            SettingKey::MinUnits => settings.min_units as f64,
            SettingKey::Seed => settings.seed as f64,
            SettingKey::Draws => settings.draws as f64,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SettingKey::Alpha => "alpha",
            SettingKey::SrmWarning => "srm_warning",
            SettingKey::SrmBlocked => "srm_blocked",
            SettingKey::MinUnits => "min_units",
            SettingKey::Seed => "seed",
            SettingKey::Draws => "draws",
        }
    }
}

/// The ordered decision rules: the spec's inline rules, then the policy's,
/// then `otherwise`.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The policy's name (`default`), and where it came from.
    pub name: String,
    pub origin: PolicyOrigin,
    pub rules: Vec<Rule>,
    pub otherwise: Otherwise,
    /// The policy's unit tests (`test NAME { ... }`), from the spec and the
    /// policy file, checked; `xos test` runs them.
    pub tests: Vec<PolicyTest>,
}

/// A checked policy unit test: `test clean_win { given primary.better = true
/// expect launch by clear_win }`. Facts not given take the values of a
/// healthy experiment with no effect.
#[derive(Clone, Debug)]
pub struct PolicyTest {
    pub name: String,
    /// `Inline`: written in the spec, run against all of the plan's rules.
    /// `Policy`: written in the policy file, run against its rules only.
    pub source: RuleSource,
    pub given: Vec<Given>,
    pub expect: Verdict,
    /// `by RULE`: the rule expected to decide (`otherwise` for the fallback).
    pub by: Option<String>,
    pub span: Span,
}

/// One `given` fact of a test. `guardrail.X` paths give a field of one
/// guardrail ([`Fact::Guardrail`]), as seen by the quantifiers.
#[derive(Clone, Debug, PartialEq)]
pub struct Given {
    pub fact: Fact,
    /// The path as written.
    pub path: String,
    pub value: Value,
}

/// A literal value of a fact's type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Number(f64),
    Health(Health),
    Status(Status),
}

#[derive(Clone, Debug, PartialEq)]
pub enum PolicyOrigin {
    /// `rules/default.xos`, embedded in the binary.
    BuiltIn,
    /// A policy file, resolved relative to the spec (or from `xos.toml`).
    File(PathBuf),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Launch,
    Hold,
    Rollback,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Launch => "launch",
            Verdict::Hold => "hold",
            Verdict::Rollback => "rollback",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSource {
    /// Written inside the experiment.
    Inline,
    /// From the policy file.
    Policy,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub source: RuleSource,
    pub when: Expr,
    pub then: Verdict,
    /// The `because` text; `{{ fact.path }}` placeholders are interpolated
    /// when the rule fires.
    pub because: Reason,
    /// The rule's condition as written, for explain and the memo.
    pub condition_text: String,
    pub span: Span,
    /// The span of the rule's name, in the file the rule is written in.
    pub name_span: Span,
}

#[derive(Clone, Debug)]
pub struct Otherwise {
    pub then: Verdict,
    pub because: Reason,
}

/// A `because` string split into literal text and checked fact references.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    pub parts: Vec<ReasonPart>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReasonPart {
    Text(String),
    /// `{{ srm.p }}`: the fact and the path as written.
    Fact(Fact, String),
}

/// A checked, typed rule condition. Type checking guarantees that `Not`,
/// `And`, `Or` and quantifiers hold booleans, arithmetic holds numbers, and
/// comparisons compare values of one type.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Bool(bool),
    Number(f64),
    Health(Health),
    Status(Status),
    Fact(Fact),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// `any guardrail P`, `all guardrails P`, `no guardrail P`: P is evaluated
    /// once per guardrail with [`Fact::Guardrail`] bound to it. With no
    /// guardrails, `any` is false and `all` / `no` are true.
    Quantified(Quantifier, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
    No,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// A fact a rule reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fact {
    Health,
    SrmP,
    SrmChi2,
    SampleReached,
    /// `plan.progress`: units so far over the planned total.
    PlanProgress,
    /// `sequential.look`: the current look, from 1.
    SequentialLook,
    /// `sequential.information`: the information fraction reached (of
    /// `max_units` for group-sequential, of the tuning for always-valid).
    SequentialInformation,
    /// `sequential.fixed`: the spec declares no `sequential` block, so its
    /// p-values and intervals are fixed-horizon (valid at the planned sample).
    SequentialFixed,
    /// `plan.units_remaining`: units still missing until every arm reaches
    /// its planned size (0 once reached); undefined without a plan.
    PlanUnitsRemaining,
    /// `plan.days_remaining`: days until the slowest arm reaches its size at
    /// `daily_users`; undefined without a plan or `daily_users`.
    PlanDaysRemaining,
    Setting(SettingKey),
    /// A field of a named metric (`primary` resolves to the primary's id).
    Metric(MetricId, Field),
    /// A field of the guardrail bound by the enclosing quantifier.
    Guardrail(Field),
}

/// A field of a metric's comparison of one treatment arm with the control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    // numbers
    Lift,
    RelLift,
    CiLow,
    CiHigh,
    P,
    PAdjusted,
    ProbBetter,
    ExpectedLoss,
    Units,
    /// Group-sequential z bound at the current look.
    Boundary,
    // booleans
    Significant,
    Better,
    Worse,
    Worsened,
    Severe,
    NonInferior,
    // enum
    Status,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Lift => "lift",
            Field::RelLift => "rel_lift",
            Field::CiLow => "ci_low",
            Field::CiHigh => "ci_high",
            Field::P => "p",
            Field::PAdjusted => "p_adjusted",
            Field::ProbBetter => "prob_better",
            Field::ExpectedLoss => "expected_loss",
            Field::Units => "units",
            Field::Boundary => "boundary",
            Field::Significant => "significant",
            Field::Better => "better",
            Field::Worse => "worse",
            Field::Worsened => "worsened",
            Field::Severe => "severe",
            Field::NonInferior => "non_inferior",
            Field::Status => "status",
        }
    }

    /// Fields only guardrails have.
    pub fn guardrail_only(self) -> bool {
        matches!(
            self,
            Field::Worsened | Field::Severe | Field::NonInferior | Field::Status
        )
    }

    pub const ALL: [Field; 17] = [
        Field::Lift,
        Field::RelLift,
        Field::CiLow,
        Field::CiHigh,
        Field::P,
        Field::PAdjusted,
        Field::ProbBetter,
        Field::ExpectedLoss,
        Field::Units,
        Field::Boundary,
        Field::Significant,
        Field::Better,
        Field::Worse,
        Field::Worsened,
        Field::Severe,
        Field::NonInferior,
        Field::Status,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Healthy,
    Warning,
    Blocked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Worsened,
    Severe,
}

impl Health {
    /// The name as written in rules and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Warning => "warning",
            Health::Blocked => "blocked",
        }
    }
}

impl Status {
    /// The name as written in rules and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Worsened => "worsened",
            Status::Severe => "severe",
        }
    }
}

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
    /// The `title` header field, lines joined.
    pub(crate) title: Option<String>,
    /// The `owner` header field, lines joined.
    pub(crate) owner: Option<String>,
    /// The `hypothesis` header field, lines joined.
    pub(crate) hypothesis: Option<String>,
    /// The spec file, as the user named it.
    pub(crate) spec_path: PathBuf,
    /// Where the data is and how to read it.
    pub(crate) data: DataSource,
    /// `variants[0]` is the control; shares are normalised to sum to 1.
    pub(crate) variants: Vec<Variant>,
    /// Primary first, then secondary metrics and guardrails in spec order.
    pub(crate) metrics: Vec<Metric>,
    /// Always 0: the primary metric comes first.
    pub(crate) primary: MetricId,
    /// The `plan` block (units per day, power, duration); `None` when the spec has none.
    pub(crate) sample_plan: Option<SamplePlan>,
    /// The `sequential` block (or `xos.toml`'s `[sequential]`); `None`:
    /// fixed-horizon inference.
    pub(crate) sequential: Option<Sequential>,
    /// The settings in force: built-in defaults, then `xos.toml`, then the spec's `settings` block.
    pub(crate) settings: Settings,
    /// The decision rules, the spec's inline rules first.
    pub(crate) policy: Policy,
    /// The `xos.toml` in force, if one was found walking up from the spec.
    pub(crate) config: Option<PathBuf>,
    /// Folder whose templates override the built-in memo templates by name.
    pub(crate) templates: Option<PathBuf>,
    /// Folder memos are written to by default (from `xos.toml`).
    pub(crate) output: Option<PathBuf>,
    /// The stand-in experiment a policy file is analysed and tested on
    /// (generic metrics, default settings): what a real spec would set —
    /// its α, its number of arms, `sequential` — is unknown.
    pub(crate) generic: bool,
}

impl Plan {
    /// `true` for the stand-in experiment of a policy file
    /// ([`crate::check::policy_plan`]): facts a spec fixes (α, the number
    /// of arms, `sequential`) may take any value there.
    pub fn is_generic(&self) -> bool {
        self.generic
    }

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

    /// The control arm (`variants[0]`), which every treatment is compared with.
    pub fn control(&self) -> &Variant {
        &self.variants[0]
    }

    /// The treatment arms: every variant after the control, in spec order; never empty.
    pub fn treatments(&self) -> &[Variant] {
        &self.variants[1..]
    }

    /// The primary metric.
    pub fn primary(&self) -> &Metric {
        &self.metrics[self.primary]
    }

    /// The guardrail metrics with their ids, in spec order.
    pub fn guardrails(&self) -> impl Iterator<Item = (MetricId, &Metric)> {
        self.metrics
            .iter()
            .enumerate()
            .filter(|(_, m)| m.role == Role::Guardrail)
    }

    /// The id of the metric named `name`, if the plan has one.
    pub fn metric_id(&self, name: &str) -> Option<MetricId> {
        self.metrics.iter().position(|m| m.name == name)
    }
}

/// Where the data of an experiment is and how to read it: the `data "f.csv" { ... }` block with its
/// defaults applied.
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
    /// The column naming each row's variant (`variant` unless the spec says `variant_column
    /// "arm"`).
    pub variant_column: String,
    /// Aggregated data: the column counting the units of each variant (`users` unless the spec says
    /// `units "visitors"`).
    pub units_column: String,
    /// One row per variant or one row per unit.
    pub shape: Shape,
    /// Row-level data only: the column identifying a unit.
    pub unit_id: Option<String>,
    /// Row-level data: what an empty metric cell means.
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

impl DataSource {
    /// The defaults of a `data` block with no options: aggregated, comma
    /// separated, columns `variant` and `users`, a missing value an error,
    /// no unit id and no look. `written` is the path as the spec wrote it.
    pub(crate) fn aggregated(path: PathBuf, written: String, from_command_line: bool) -> Self {
        DataSource {
            path,
            written,
            from_command_line,
            delimiter: b',',
            variant_column: "variant".to_string(),
            units_column: "users".to_string(),
            shape: Shape::Aggregated,
            unit_id: None,
            missing: Missing::Error,
            look: None,
            named_at: None,
        }
    }
}

/// The shape of a data file: what one CSV row describes.
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
    /// An empty cell is a located error (the default).
    Error,
    /// An empty cell counts as 0 (`missing zero`).
    Zero,
}

/// An arm of the experiment.
#[derive(Clone, Debug)]
pub struct Variant {
    /// The variant's label as it appears in the data's variant column.
    pub name: String,
    /// Designed share of traffic, normalised so the shares sum to 1.
    pub share: f64,
}

/// What a metric is for in the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The one metric the experiment is meant to move (`primary`).
    Primary,
    /// A secondary metric (`metric`): reported, and readable by rules.
    Secondary,
    /// A metric that must not degrade (`guardrail`): it has thresholds (`worsened`, `severe`,
    /// `margin`) and `prefer lower` by default.
    Guardrail,
}

/// What a metric computes from each arm's data, and so which columns it reads and which test
/// compares the arms (DESIGN §1 "Metrics").
#[derive(Clone, Debug, PartialEq)]
pub enum MetricKind {
    /// `rate(X)`: aggregated column `X` counts units with the event.
    Rate {
        /// The 0/1 event column (aggregated: the count of units with the event).
        column: String,
    },
    /// `mean(X)`: aggregated columns `X_sum`, `X_sum_sq`.
    Mean {
        /// The per-unit value column `X`.
        column: String,
    },
    /// `ratio(X, Y)`: aggregated columns `X_sum`, `X_sum_sq`, `Y_sum`,
    /// `Y_sum_sq`, `X_Y_sum_prod`; compared by the delta method.
    Ratio {
        /// The numerator column `X` (clicks).
        numerator: String,
        /// The denominator column `Y` (queries); its per-unit mean must not be 0.
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

    /// Whether this is `rate(X)`: a proportion, whose lifts are in percentage points.
    pub fn is_rate(&self) -> bool {
        matches!(self, MetricKind::Rate { .. })
    }

    /// The metric kind's keyword: `rate`, `mean` or `ratio`.
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

/// The direction in which a metric's change is good (`prefer higher` / `prefer lower`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// An increase is good (the default for primary and secondary metrics).
    Higher,
    /// A decrease is good (the default for guardrails: cancellations, errors).
    Lower,
}

/// An effect size: an absolute difference in the metric's units (`0.1pp` is
/// `0.001` for a rate), or a fraction of the control's value (`5% relative`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Effect {
    /// A difference in the metric's own units: a fraction for rates (`0.1pp` is `0.001`), the
    /// mean's unit for means.
    Absolute(f64),
    /// A fraction of the control's value: `5% relative` is `0.05`.
    Relative(f64),
}

/// A checked metric: its role, what it computes, its preferred direction and its planning inputs
/// and thresholds, every unit applied.
#[derive(Clone, Debug)]
pub struct Metric {
    /// The metric's name as declared (`conversion`); rules read it as `conversion.p`.
    pub name: String,
    /// Primary, secondary or guardrail.
    pub role: Role,
    /// What the metric computes and from which columns.
    pub kind: MetricKind,
    /// The direction in which a change is good; `better` / `worse` and guardrail degradation are
    /// judged against it.
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
    /// Guardrails: the degradation at or past which the guardrail is `severe` (a severe guardrail
    /// is also worsened).
    pub severe: Option<Effect>,
    /// Guardrails: non-inferiority margin for the one-sided (1 − α) bound of
    /// the degradation.
    /// Guardrails: the non-inferiority margin: the guardrail is `non_inferior` when the one-sided
    /// (1 − α) upper bound of its degradation is below it (DESIGN §2 "guardrails").
    pub margin: Option<Effect>,
}

/// Planning inputs of `ratio(X, Y)`: per-unit moments of numerator and
/// denominator (with `baseline`, the expected ratio).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RatioInputs {
    /// Mean denominator per unit (queries per user); never 0.
    pub mean_y: Option<f64>,
    /// Per-unit standard deviations of X and Y.
    /// Per-unit standard deviation of the numerator X, in X's units.
    pub sd_x: Option<f64>,
    /// Per-unit standard deviation of the denominator Y, in Y's units.
    pub sd_y: Option<f64>,
    /// Per-unit correlation of X and Y, in [−1, 1].
    pub correlation: Option<f64>,
}

/// The `plan` block: what the sample-size calculation ([`crate::sample_size`]) needs besides each
/// metric's baseline and mde.
#[derive(Clone, Debug)]
pub struct SamplePlan {
    /// Units entering the experiment per day, all arms together (`daily_users`
    /// in the spec, its public name).
    pub daily_units: Option<f64>,
    /// Target power, in (0, 1); 0.8 by default.
    pub power: f64,
    /// Planned duration in days (`duration 14d`), if stated.
    pub duration_days: Option<f64>,
}

/// Sequential inference: decisions that stay valid when results are read
/// while data accrues (DESIGN.md §1 "Sequential inference and looks").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sequential {
    /// Always-valid or group-sequential (never `Fixed` here: no `sequential` block means
    /// `Plan::sequential` is `None`).
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
    /// Normal-mixture confidence sequence (Howard et al. 2021, GrowthBook's form): valid at every
    /// look, tuned at [`Sequential::tuning`].
    AlwaysValid,
    /// Lan–DeMets α spending on the observed information fractions, bounds by exact recursive
    /// integration (DESIGN §2 "Group-sequential").
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

/// `correction`: how p-values are corrected for multiple treatment arms (on each metric, across
/// arms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Correction {
    /// No correction: adjusted p equals p.
    None,
    /// Bonferroni: p × k, capped at 1, for k treatment arms.
    Bonferroni,
    /// Holm's step-down method (the default): controls the family-wise error rate, uniformly more
    /// powerful than Bonferroni.
    Holm,
    /// Benjamini–Hochberg step-up method: controls the false discovery rate.
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

/// `relative_ci`: how the interval of the relative lift (m_t − m_c)/|m_c| is formed, for every
/// metric kind, with the critical value of the metric's own test (DESIGN §2; `stats::relative`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RelativeCi {
    /// Delta method: rel ± crit·SE(rel) from a first-order expansion (the default).
    Delta,
    /// Fieller's interval of the ratio m_t/m_c, minus 1; unbounded when the control's mean is not
    /// significantly away from 0.
    Fieller,
    /// Log method (Katz): an interval for ln(m_t/m_c), exponentiated, minus 1; needs both means
    /// positive.
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
    /// Two-sided significance level, a fraction (`5%` is `0.05`); intervals are at 1 − α.
    pub alpha: f64,
    /// Sample-ratio-mismatch p-value below which health is `warning` (default 0.001).
    pub srm_warning: f64,
    /// Sample-ratio-mismatch p-value below which health is `blocked` (default 0.00001).
    pub srm_blocked: f64,
    /// An arm with fewer units than this makes health `warning` (default 100).
    pub min_units: u64,
    /// Multiple-comparison correction across treatment arms (default Holm).
    pub correction: Correction,
    /// Test and interval of rate metrics (default Miettinen–Nurminen score).
    pub rate_test: RateTest,
    /// Interval of the relative lift (default delta method).
    pub relative_ci: RelativeCi,
    /// Beta(a, b) prior of rate metrics.
    pub prior: (f64, f64),
    /// Seed of the Monte Carlo draws behind credible intervals, so memos are reproducible.
    pub seed: u64,
    /// Number of Monte Carlo draws for credible intervals (default 100,000).
    pub draws: u64,
    /// Row-level data with `unit_id`: the share of units assigned to more
    /// than one variant, or duplicated, above which health is `warning` /
    /// `blocked`.
    pub assignment_warning: f64,
    /// Row-level data with `unit_id`: the share of units assigned to more than one variant, or
    /// duplicated, above which health is `blocked` (default 0.01).
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
/// Settings a rule can read as `settings.K` (the numeric ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SettingKey {
    /// `settings.alpha`: the significance level, a fraction.
    Alpha,
    /// `settings.srm_warning`: the SRM p-value threshold of health `warning`.
    SrmWarning,
    /// `settings.srm_blocked`: the SRM p-value threshold of health `blocked`.
    SrmBlocked,
    /// `settings.min_units`: the fewest units an arm may have without a warning.
    MinUnits,
    /// `settings.seed`: the Monte Carlo seed.
    Seed,
    /// `settings.draws`: the number of Monte Carlo draws.
    Draws,
}

impl SettingKey {
    /// The setting's value in `settings`, as the number a rule compares (counts converted to
    /// `f64`).
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

    /// The key as written after `settings.` (`srm_warning`).
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
    /// Built in, or the file the policy was read from.
    pub origin: PolicyOrigin,
    /// The rules in the order they are tried: the spec's inline rules, then the policy's; the first
    /// whose condition holds decides.
    pub rules: Vec<Rule>,
    /// The verdict when no rule fires; required, so the policy is total.
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
    /// The test's name (`clean_win`).
    pub name: String,
    /// `Inline`: written in the spec, run against all of the plan's rules.
    /// `Policy`: written in the policy file, run against its rules only.
    pub source: RuleSource,
    /// The facts the test sets; every other fact takes the value of a healthy experiment with no
    /// effect, and `.better` / `.worse` set to true also set `.significant`.
    pub given: Vec<Given>,
    /// The verdict the policy must reach.
    pub expect: Verdict,
    /// `by RULE`: the rule expected to decide (`otherwise` for the fallback).
    pub by: Option<String>,
    /// Where the test is written, for the failure message.
    pub span: Span,
}

/// One `given` fact of a test. `guardrail.X` paths give a field of one
/// guardrail ([`Fact::Guardrail`]), as seen by the quantifiers.
#[derive(Clone, Debug, PartialEq)]
pub struct Given {
    /// The fact the test sets.
    pub fact: Fact,
    /// The path as written.
    pub path: String,
    /// The value it is given, checked against the fact's type, units applied (`1pp` is `0.01`).
    pub value: GivenValue,
}

/// The literal value a policy test gives a fact (`given primary.better = true`), of the fact's type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GivenValue {
    /// A boolean fact (`primary.better = true`).
    Bool(bool),
    /// A number, units applied (`1pp` is `0.01`, `5%` is `0.05`).
    Number(f64),
    /// A health (`health = warning`).
    Health(Health),
    /// A guardrail status (`guardrail.status = severe`).
    Status(Status),
}

/// Where a policy's rules came from.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyOrigin {
    /// `rules/default.xos`, embedded in the binary.
    BuiltIn,
    /// A policy file, resolved relative to the spec (or from `xos.toml`).
    File(PathBuf),
}

/// The decision for a treatment arm or the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Ship the treatment.
    Launch,
    /// Keep the experiment running (or stop without shipping): no decision yet.
    Hold,
    /// Turn the treatment off: it does harm.
    Rollback,
}

impl Verdict {
    /// The verdict's keyword as written in rules and reports (`launch`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Launch => "launch",
            Verdict::Hold => "hold",
            Verdict::Rollback => "rollback",
        }
    }
}

/// Where a rule or a policy test is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSource {
    /// Written inside the experiment.
    Inline,
    /// From the policy file.
    Policy,
}

/// A checked decision rule: `rule NAME { when COND then VERDICT because "..." }`.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The rule's name (`clear_win`), reported as the rule that decided.
    pub name: String,
    /// Written in the spec or in the policy file.
    pub source: RuleSource,
    /// The condition, type-checked to a boolean.
    pub when: Expr,
    /// The verdict when the condition holds.
    pub then: Verdict,
    /// The `because` text; `{{ fact.path }}` placeholders are interpolated
    /// when the rule fires.
    pub because: Reason,
    /// The rule's condition as written, for explain and the memo.
    pub condition_text: String,
    /// The whole rule, in the file the rule is written in.
    pub span: Span,
    /// The span of the rule's name, in the file the rule is written in.
    pub name_span: Span,
}

/// The policy's fallback: `otherwise VERDICT because "..."`.
#[derive(Clone, Debug)]
pub struct Otherwise {
    /// The verdict when no rule fires.
    pub then: Verdict,
    /// Why, with `{{ fact }}` placeholders interpolated.
    pub because: Reason,
}

/// A `because` string split into literal text and checked fact references.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    /// Literal text and fact references, in the order written.
    pub parts: Vec<ReasonPart>,
}

/// A piece of a `because` string.
#[derive(Clone, Debug, PartialEq)]
pub enum ReasonPart {
    /// Literal text, copied as written.
    Text(String),
    /// `{{ srm.p }}`: the fact and the path as written.
    Fact(Fact, String),
}

/// A checked, typed rule condition. Type checking guarantees that `Not`,
/// `And`, `Or` and quantifiers hold booleans, arithmetic holds numbers, and
/// comparisons compare values of one type.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A boolean literal (`true`, `false`).
    Bool(bool),
    /// A number literal, units applied (`1pp` is `0.01`).
    Number(f64),
    /// A health literal (`blocked`).
    Health(Health),
    /// A guardrail status literal (`severe`).
    Status(Status),
    /// A fact read from the evaluation (`primary.p`); an undefined number fact makes every
    /// comparison with it false.
    Fact(Fact),
    /// `not E`.
    Not(Box<Expr>),
    /// `A and B`.
    And(Box<Expr>, Box<Expr>),
    /// `A or B`.
    Or(Box<Expr>, Box<Expr>),
    /// A comparison of two values of one type (`srm.p < settings.srm_warning`).
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    /// Arithmetic on numbers (`primary.lift - 1pp`).
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// `any guardrail P`, `all guardrails P`, `no guardrail P`: P is evaluated
    /// once per guardrail with [`Fact::Guardrail`] bound to it. With no
    /// guardrails, `any` is false and `all` / `no` are true.
    Quantified(Quantifier, Box<Expr>),
}

/// Hashes what [`PartialEq`] compares, so that a condition can key a map
/// (the checker's search for repeated conditions): a number by its bit
/// pattern, with `−0` as `0` since the two are equal.
impl std::hash::Hash for Expr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Expr::Bool(b) => b.hash(state),
            Expr::Number(x) => (if *x == 0.0 { 0 } else { x.to_bits() }).hash(state),
            Expr::Health(h) => h.hash(state),
            Expr::Status(s) => s.hash(state),
            Expr::Fact(f) => f.hash(state),
            Expr::Not(e) => e.hash(state),
            Expr::And(a, b) | Expr::Or(a, b) => (a, b).hash(state),
            Expr::Compare(op, a, b) => (op, a, b).hash(state),
            Expr::Arith(op, a, b) => (op, a, b).hash(state),
            Expr::Quantified(q, e) => (q, e).hash(state),
        }
    }
}

/// The quantifier of `any guardrail P`, `all guardrails P`, `no guardrail P`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// `any guardrail P`: P holds for at least one guardrail.
    Any,
    /// `all guardrails P`: P holds for every guardrail.
    All,
    /// `no guardrail P`: P holds for none.
    No,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

/// An arithmetic operator on numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`; a division by 0 is undefined, so comparisons with it are false.
    Div,
}

/// A fact a rule reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fact {
    /// `health`: `healthy`, `warning` or `blocked`, from SRM, arm sizes and data checks.
    Health,
    /// `srm.p`: the p-value of the sample-ratio-mismatch χ² test.
    SrmP,
    /// `srm.chi2`: the SRM χ² statistic (df = arms − 1).
    SrmChi2,
    /// `plan.sample_reached`: every arm has the units the plan needs (the declared duration's
    /// units, else the sample the MDE needs); false when the spec gives no sample target.
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
    /// `settings.K`: a numeric setting.
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
    /// `lift`: treatment minus control, in the metric's units (a fraction for rates).
    Lift,
    /// `rel_lift`: (m_t − m_c)/|m_c|, a fraction; undefined when m_c = 0.
    RelLift,
    /// `ci_low`: lower bound of the lift's interval, at the corrected per-comparison level.
    CiLow,
    /// `ci_high`: upper bound of the lift's interval, at the corrected per-comparison level.
    CiHigh,
    /// `p`: the two-sided p-value of the metric's test.
    P,
    /// `p_adjusted`: p corrected across treatment arms (`settings.correction`).
    PAdjusted,
    /// `prob_better`: posterior probability that the treatment is better in the preferred
    /// direction.
    ProbBetter,
    /// `expected_loss`: expected loss of shipping the treatment, in the metric's units.
    ExpectedLoss,
    /// `units`: the treatment arm's units.
    Units,
    /// Group-sequential z bound at the current look.
    Boundary,
    // booleans
    /// `significant`: the adjusted p is below α (the sequential test's verdict with `sequential`).
    Significant,
    /// `better`: significant in the preferred direction.
    Better,
    /// `worse`: significant against the preferred direction.
    Worse,
    /// `worsened` (guardrails): the degradation's point estimate is at or past the `worsened`
    /// threshold.
    Worsened,
    /// `severe` (guardrails): the degradation's point estimate is at or past the `severe`
    /// threshold.
    Severe,
    /// `non_inferior` (guardrails): the one-sided (1 − α) bound of the degradation is below the
    /// margin.
    NonInferior,
    // enum
    /// `status` (guardrails): `ok`, `worsened` or `severe`, the worst that applies.
    Status,
}

impl Field {
    /// The field as written after a metric's name (`rel_lift`).
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

    /// Every field, numbers first, then booleans, then the status.
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

/// The health of an experiment's data, ordered from best to worst (DESIGN §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// No problem found.
    Healthy,
    /// A warning: SRM p below `srm_warning`, an arm under `min_units`, a metric with no variance,
    /// or assignment problems above `assignment_warning`.
    Warning,
    /// Results must not be read: SRM p below `srm_blocked`, assignment problems above
    /// `assignment_blocked`, or a sequential design that cannot be formed.
    Blocked,
}

/// A guardrail's status, ordered from best to worst: the worst threshold its degradation reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Below the `worsened` threshold (or no thresholds).
    Ok,
    /// At or past `worsened`, below `severe`.
    Worsened,
    /// At or past `severe`.
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

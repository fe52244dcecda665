//! Reports → memos, with tera.
//!
//! The built-in templates (`src/output/templates/memo.md`, `memo.html`) are embedded
//! in the binary; a templates folder (from `xos.toml` or `--templates`)
//! overrides them by file name. Templates see two values: `report`, the JSON
//! report exactly as `--format json` prints it, and `memo`, the same facts
//! formatted for reading (percentages, points, badges, next actions). HTML
//! templates are autoescaped, so every user-supplied string is escaped.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::evaluate::Comparison;
use crate::numbers;
use crate::output::report::{MetricReport, Report};
use crate::plan::{Direction, Health, Role, Status, Verdict};

const MEMO_MD: &str = include_str!("templates/memo.md");
const MEMO_HTML: &str = include_str!("templates/memo.html");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Md,
    Html,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Html => "html",
            Format::Json => "json",
        }
    }

    fn template(self) -> &'static str {
        match self {
            Format::Md => "memo.md",
            Format::Html => "memo.html",
            Format::Json => "",
        }
    }
}

/// Renders a report in the given format. `templates` is a folder whose
/// `memo.md` / `memo.html` replace the built-in ones.
pub fn render(
    report: &Report,
    format: Format,
    templates: Option<&Path>,
) -> Result<String, Diagnostic> {
    if format == Format::Json {
        return Ok(crate::output::report::to_json(report));
    }
    let name = format.template();
    let mut context = tera::Context::new();
    context.insert("report", report);
    context.insert("memo", &memo_view(report, format));
    let user = templates
        .map(|dir| dir.join(name))
        .filter(|path| path.is_file());
    let Some(path) = user else {
        // The built-in templates are compiled once per process.
        let origin = PathBuf::from(format!("built-in {name}"));
        let tera = BUILT_IN
            .as_ref()
            .map_err(|err| template_error(&origin, err))?;
        return tera
            .render(name, &context)
            .map_err(|err| template_error(&origin, &err));
    };
    let text = std::fs::read_to_string(&path).map_err(|err| {
        Diagnostic::error(
            "xos::render::unreadable_template",
            format!("cannot read `{}`", path.display()),
        )
        .at_path(&path)
        .help(err.to_string())
    })?;
    let mut tera = new_tera();
    tera.add_raw_template(name, &text)
        .map_err(|err| template_error(&path, &err))?;
    tera.render(name, &context)
        .map_err(|err| template_error(&path, &err))
}

/// A tera instance with the memo conventions: HTML autoescaped, and the
/// `code` filter.
fn new_tera() -> tera::Tera {
    let mut tera = tera::Tera::new();
    tera.autoescape_on([".html"]);
    // `x` spans of the formatted text become <code> in HTML.
    tera.register_filter("code", |text: &str, _: tera::Kwargs, _: &tera::State| {
        tera::Value::safe_string(&code_html(text))
    });
    tera
}

static BUILT_IN: std::sync::LazyLock<Result<tera::Tera, tera::Error>> =
    std::sync::LazyLock::new(|| {
        let mut tera = new_tera();
        tera.add_raw_template("memo.md", MEMO_MD)?;
        tera.add_raw_template("memo.html", MEMO_HTML)?;
        Ok(tera)
    });

fn template_error(origin: &Path, err: &tera::Error) -> Diagnostic {
    // Tera's own message names the template, the line and what went wrong.
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        detail.push_str(": ");
        detail.push_str(&inner.to_string());
        source = inner.source();
    }
    Diagnostic::error(
        "xos::render::template",
        format!("the memo template `{}` failed", origin.display()),
    )
    .at_path(origin)
    .help(detail)
}

/// The report formatted for reading.
#[derive(Clone, Debug, Serialize)]
pub struct MemoView {
    pub title: String,
    pub verdict: String,
    pub verdict_word: String,
    pub arm: Option<String>,
    pub rule: String,
    pub reason: String,
    pub headline: String,
    pub facts: Vec<(String, String)>,
    pub multiarm: bool,
    pub arms: Vec<ArmView>,
    pub primary: MetricView,
    pub secondary: Vec<MetricView>,
    pub guardrails: Vec<MetricView>,
    pub health: HealthView,
    pub bayes: Vec<BayesRow>,
    pub next_actions: Vec<String>,
    pub assumptions: Vec<String>,
    pub charter: CharterView,
    /// The planned sample and how far the experiment is from it.
    pub sample: String,
    /// Inline SVG of every comparison's relative lift with its CI; drawn for
    /// HTML only, empty in other formats.
    pub chart_svg: String,
    /// The confidence level, `95%`.
    pub level: String,
    /// One sentence per comparison of a metric with a covariate: what CUPED
    /// did and how much it narrowed the interval. Empty without covariates.
    pub cuped: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ArmView {
    pub variant: String,
    pub verdict: String,
    pub rule: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CharterView {
    pub hypothesis: String,
    pub owner: String,
    pub primary: String,
    pub mde: String,
    pub policy: String,
    pub split: String,
    pub data: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MetricView {
    pub name: String,
    pub kind: String,
    pub prefer: String,
    pub thresholds: String,
    pub control: String,
    pub control_value: String,
    pub rows: Vec<ComparisonView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ComparisonView {
    pub variant: String,
    pub value: String,
    pub units: String,
    pub lift: String,
    pub rel_lift: String,
    pub ci: String,
    pub rel_ci: String,
    pub p: String,
    pub p_adjusted: String,
    pub significant: String,
    pub direction: String,
    pub status: String,
    pub badge: String,
    pub css: String,
    pub non_inferior: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct HealthView {
    pub status: String,
    pub badge: String,
    pub css: String,
    pub srm: String,
    pub issues: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BayesRow {
    pub metric: String,
    pub variant: String,
    pub prob_better: String,
    pub expected_loss: String,
}

/// The memo's formatted facts. The SVG chart is drawn only for HTML, the
/// one format that shows it.
pub fn memo_view(report: &Report, format: Format) -> MemoView {
    let decision = &report.decision;
    let primary = report
        .metrics
        .iter()
        .find(|m| m.role == Role::Primary)
        .unwrap_or(&report.metrics[0]);
    let alpha = report.settings.alpha;
    let verdict_word = match decision.verdict {
        Verdict::Launch => "Launch",
        Verdict::Hold => "Hold",
        Verdict::Rollback => "Roll back",
    };
    let headline = match (&decision.arm, decision.verdict) {
        (Some(arm), Verdict::Launch) => format!("Launch `{arm}`"),
        (Some(arm), Verdict::Rollback) => format!("Roll back `{arm}`"),
        (Some(arm), Verdict::Hold) => format!("Hold `{arm}`"),
        (None, _) => "Hold all arms".to_string(),
    };
    let facts = decision
        .arms
        .iter()
        .find(|a| Some(&a.variant) == decision.arm.as_ref())
        .or(decision.arms.first())
        .map(|a| {
            a.facts
                .iter()
                .map(|f| (f.fact.clone(), f.value.clone()))
                .collect()
        })
        .unwrap_or_default();

    let views = |role: Role| -> Vec<MetricView> {
        report
            .metrics
            .iter()
            .filter(|m| m.role == role)
            .map(|m| metric_view(m, alpha))
            .collect()
    };
    let bayes = report
        .metrics
        .iter()
        .flat_map(|m| {
            m.comparisons.iter().map(move |c| BayesRow {
                metric: m.name.clone(),
                variant: c.variant.clone(),
                prob_better: c.prob_better.map_or("n/a".into(), numbers::percent1),
                expected_loss: c.expected_loss.map_or("n/a".into(), |l| loss(m, l)),
            })
        })
        .collect();

    MemoView {
        title: report
            .title
            .clone()
            .unwrap_or_else(|| report.experiment.clone()),
        verdict: decision.verdict.as_str().to_string(),
        verdict_word: verdict_word.to_string(),
        arm: decision.arm.clone(),
        rule: decision.rule.clone(),
        reason: decision.reason.clone(),
        headline,
        facts,
        multiarm: decision.arms.len() > 1,
        arms: decision
            .arms
            .iter()
            .map(|a| ArmView {
                variant: a.variant.clone(),
                verdict: a.verdict.as_str().to_string(),
                rule: a.rule.clone(),
                reason: a.reason.clone(),
            })
            .collect(),
        primary: metric_view(primary, alpha),
        secondary: views(Role::Secondary),
        guardrails: views(Role::Guardrail),
        health: health_view(report),
        bayes,
        next_actions: next_actions(report),
        assumptions: assumptions(report),
        charter: charter(report, primary),
        sample: sample_line(report, primary),
        chart_svg: if format == Format::Html {
            chart_svg(report)
        } else {
            String::new()
        },
        level: numbers::percent(1.0 - alpha),
        cuped: cuped_notes(report),
    }
}

/// What CUPED did to each comparison of a metric with a covariate.
fn cuped_notes(report: &Report) -> Vec<String> {
    let level = numbers::percent(1.0 - report.settings.alpha);
    let mut notes = Vec::new();
    for m in &report.metrics {
        let Some(covariate) = &m.covariate else {
            continue;
        };
        for c in &m.comparisons {
            let Some(cuped) = &c.cuped else {
                continue;
            };
            let head = format!("`{}`, {}", m.name, c.variant);
            let Some(theta) = cuped.theta else {
                notes.push(format!(
                    "{head}: covariate `{covariate}` has no variance, so CUPED was not applied; \
                     the numbers are unadjusted."
                ));
                continue;
            };
            let u = &cuped.unadjusted;
            let narrower = match (c.ci_low, c.ci_high, u.ci_low, u.ci_high) {
                (Some(lo), Some(hi), Some(ulo), Some(uhi)) if uhi > ulo => {
                    let change = 1.0 - (hi - lo) / (uhi - ulo);
                    let how = if change >= 0.0 { "narrower" } else { "wider" };
                    format!(
                        "; the {level} interval is {} {how} than without it ({} instead of [{}, {}])",
                        numbers::percent1(change.abs()),
                        format_args!("[{}, {}]", lift(m, lo), lift(m, hi)),
                        lift(m, ulo),
                        lift(m, uhi)
                    )
                }
                _ => String::new(),
            };
            let reduction = cuped
                .variance_reduction
                .map_or("an unknown share".into(), numbers::percent1);
            notes.push(format!(
                "{head}: CUPED with covariate `{covariate}` (θ = {}) removed {reduction} of the \
                 lift's variance{narrower}.",
                numbers::number(theta)
            ));
        }
    }
    notes
}

/// The metric as written in the spec: `rate(conversions)`, `ratio(clicks, queries)`.
fn form(m: &MetricReport) -> String {
    match &m.denominator {
        Some(denominator) => format!("{}({}, {denominator})", m.kind, m.column),
        None => format!("{}({})", m.kind, m.column),
    }
}

fn charter(report: &Report, primary: &MetricReport) -> CharterView {
    CharterView {
        hypothesis: report
            .hypothesis
            .clone()
            .unwrap_or_else(|| "not stated".into()),
        owner: report.owner.clone().unwrap_or_else(|| "not stated".into()),
        primary: format!("{} = {}", primary.name, form(primary)),
        mde: primary
            .mde
            .map_or("not stated".into(), |e| effect(primary, e.value, e.scale)),
        policy: format!("{} ({})", report.policy.name, report.policy.source),
        split: report
            .settings
            .split
            .iter()
            .map(|s| format!("{} {}", s.variant, numbers::percent1(s.share)))
            .collect::<Vec<_>>()
            .join(" / "),
        data: report.settings.data.clone(),
    }
}

fn sample_line(report: &Report, primary: &MetricReport) -> String {
    let plan = &report.plan;
    let Some(per_variant) = &plan.per_variant else {
        return "no sample plan (the primary metric has no `baseline` and `mde`)".into();
    };
    let sizes: Vec<String> = per_variant
        .iter()
        .map(|v| format!("{} {}", v.variant, numbers::thousands(v.units)))
        .collect();
    let mut line = format!(
        "planned {} ({} in all",
        sizes.join(", "),
        numbers::thousands(plan.total.unwrap_or(0))
    );
    if let Some(days) = plan.days {
        line.push_str(&format!(", {days} day{}", if days == 1 { "" } else { "s" }));
    }
    line.push(')');
    if plan.sample_reached {
        line.push_str("; reached");
    } else {
        // Progress of the slowest arm.
        let progress = per_variant
            .iter()
            .zip(&primary.variants)
            .filter(|(need, _)| need.units > 0)
            .map(|(need, have)| have.units as f64 / need.units as f64)
            .fold(f64::INFINITY, f64::min);
        if progress.is_finite() {
            line.push_str(&format!(
                "; {:.0}% of it so far",
                (progress * 100.0).min(99.0)
            ));
        }
    }
    line
}

fn metric_view(m: &MetricReport, alpha: f64) -> MetricView {
    let control = &m.variants[0];
    let mut thresholds = Vec::new();
    if let Some(e) = m.worsened {
        thresholds.push(format!("worsened at {}", effect(m, e.value, e.scale)));
    }
    if let Some(e) = m.severe {
        thresholds.push(format!("severe at {}", effect(m, e.value, e.scale)));
    }
    if let Some(e) = m.margin {
        thresholds.push(format!("margin {}", effect(m, e.value, e.scale)));
    }
    MetricView {
        name: m.name.clone(),
        kind: form(m),
        prefer: match m.prefer {
            Direction::Higher => "higher is better".into(),
            Direction::Lower => "lower is better".into(),
        },
        thresholds: if thresholds.is_empty() {
            "none".into()
        } else {
            thresholds.join(", ")
        },
        control: control.name.clone(),
        control_value: value(m, control.value),
        rows: m
            .comparisons
            .iter()
            .zip(&m.variants[1..])
            .map(|(c, v)| comparison_view(m, c, v.value, alpha))
            .collect(),
    }
}

fn comparison_view(
    m: &MetricReport,
    c: &Comparison,
    treatment: Option<f64>,
    alpha: f64,
) -> ComparisonView {
    let (status, badge, css) = match c.status {
        Some(Status::Severe) => ("severe", "⛔ severe", "severe"),
        Some(Status::Worsened) => ("worsened", "⚠️ worsened", "worsened"),
        Some(Status::Ok) => ("ok", "✅ ok", "ok"),
        None if c.better => ("better", "▲ better", "ok"),
        None if c.worse => ("worse", "▼ worse", "severe"),
        None => ("not significant", "· not significant", "neutral"),
    };
    let direction = if c.better {
        "significantly better"
    } else if c.worse {
        "significantly worse"
    } else {
        "not significant"
    };
    ComparisonView {
        variant: c.variant.clone(),
        value: value(m, treatment),
        units: numbers::thousands(c.units),
        lift: c.abs_lift.map_or("n/a".into(), |l| lift(m, l)),
        rel_lift: c.rel_lift.map_or("n/a".into(), numbers::signed_percent),
        // The interval at the per-comparison level of the correction, the
        // one that agrees with `significant` (equal to the plain one
        // without a correction).
        ci: match (c.ci_adj_low, c.ci_adj_high) {
            (Some(lo), Some(hi)) => format!("[{}, {}]", lift(m, lo), lift(m, hi)),
            _ => "n/a".into(),
        },
        rel_ci: match (c.rel_ci_low, c.rel_ci_high) {
            (Some(lo), Some(hi)) => format!(
                "[{}, {}]",
                numbers::signed_percent(lo),
                numbers::signed_percent(hi)
            ),
            _ => "n/a".into(),
        },
        p: c.p_value.map_or("n/a".into(), numbers::p_value),
        p_adjusted: c.p_adjusted.map_or("n/a".into(), numbers::p_value),
        significant: if c.significant {
            format!("yes (p < {})", numbers::number(alpha))
        } else {
            "no".into()
        },
        direction: direction.into(),
        status: status.into(),
        badge: badge.into(),
        css: css.into(),
        non_inferior: match c.non_inferior {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => "n/a".into(),
        },
    }
}

fn health_view(report: &Report) -> HealthView {
    let h = &report.health;
    let (status, badge, css) = match h.status {
        Health::Healthy => ("healthy", "✅ healthy", "ok"),
        Health::Warning => ("warning", "⚠️ warning", "worsened"),
        Health::Blocked => ("blocked", "⛔ blocked", "severe"),
    };
    HealthView {
        status: status.into(),
        badge: badge.into(),
        css: css.into(),
        srm: match h.srm {
            Some(srm) => format!(
                "χ² = {} (df {}), p = {}",
                numbers::number(srm.chi2),
                srm.df,
                numbers::p_value(srm.p_value)
            ),
            None => "not computed".into(),
        },
        issues: h.issues.iter().map(|i| i.message.clone()).collect(),
    }
}

fn next_actions(report: &Report) -> Vec<String> {
    let d = &report.decision;
    let mut actions = Vec::new();
    match d.verdict {
        Verdict::Launch => {
            let arm = d.arm.clone().unwrap_or_default();
            actions.push(format!(
                "Roll out `{arm}` to all traffic, in stages if the change is risky."
            ));
            let guardrails: Vec<String> = report
                .metrics
                .iter()
                .filter(|m| m.role == Role::Guardrail)
                .map(|m| format!("`{}`", m.name))
                .collect();
            if !guardrails.is_empty() {
                actions.push(format!(
                    "Keep watching {} during the roll-out.",
                    guardrails.join(", ")
                ));
            }
            actions
                .push("Record this memo with the commit of the spec and the data it read.".into());
        }
        Verdict::Rollback => {
            let arm = d.arm.clone().unwrap_or_default();
            actions.push(format!(
                "Turn `{arm}` off now and return its traffic to the control."
            ));
            actions.push(format!("Find the cause before any relaunch: {}", d.reason));
            actions.push("Share this memo with the team that owns the change.".into());
        }
        Verdict::Hold => {
            let primary_better = report
                .metrics
                .first()
                .is_some_and(|m| m.comparisons.iter().any(|c| c.better));
            if d.rule != "otherwise" && primary_better && report.health.status == Health::Healthy {
                actions.push(format!(
                    "This hold comes from the rule `{}`, not from a lack of evidence: more data will not \
                     change it unless the effect itself changes. Revisit the change, or the rule's bar.",
                    d.rule
                ));
            }
            if report.health.status != Health::Healthy {
                actions.push(
                    "Fix the health issues below before reading the results: they may invalidate them.".into(),
                );
            }
            match (&report.plan.remaining, report.plan.sample_reached) {
                (Some(remaining), false) => {
                    let needed: u64 = remaining.iter().map(|r| r.units).sum();
                    let per: Vec<String> = remaining
                        .iter()
                        .map(|r| format!("{} for `{}`", numbers::thousands(r.units), r.variant))
                        .collect();
                    let mut line = format!(
                        "Keep the experiment running: the plan needs {} more units ({})",
                        numbers::thousands(needed),
                        per.join(", ")
                    );
                    if let Some(days) = report.plan.days_remaining {
                        line.push_str(&format!(
                            ", about {days} more day{}",
                            if days == 1 { "" } else { "s" }
                        ));
                        if let Some(daily) = report.plan.daily_users {
                            line.push_str(&format!(
                                " at {} units a day",
                                numbers::thousands(daily.round() as u64)
                            ));
                        }
                    }
                    line.push('.');
                    actions.push(line);
                    actions.push(
                        "A significant improvement of the primary metric with every guardrail holding \
                         would change this to a launch."
                            .into(),
                    );
                }
                (Some(_), true) => {
                    actions.push(
                        "The planned sample is reached without a decisive result: the effect is likely \
                         smaller than the MDE. Decide whether a smaller effect is worth a longer run, or stop."
                            .into(),
                    );
                }
                (None, _) => {
                    actions.push(
                        "Add `baseline` and `mde` to the primary metric (and `plan { daily_users … }`) so \
                         xos can say how many more units a decision needs."
                            .into(),
                    );
                }
            }
        }
    }
    actions
}

fn assumptions(report: &Report) -> Vec<String> {
    let s = &report.settings;
    let level = numbers::percent(1.0 - s.alpha);
    let mut out = vec![
        format!("Significance level α = {} (two-sided); confidence intervals at {level}.", numbers::percent(s.alpha)),
        format!(
            "Rate metrics: {} (`rate_test {}`), so a significant result is exactly a CI that excludes 0.",
            s.rate_test.description(),
            s.rate_test.keyword()
        ),
        "Mean metrics: Welch t-test from Σx and Σx² (sample variance, n − 1), Welch–Satterthwaite \
         degrees of freedom, t-quantile CI, so a significant result is exactly a CI that excludes 0."
            .to_string(),
        format!(
            "Relative lift: (treatment − control)/|control|, its sign always that of the absolute lift; \
             CI by the {} (`relative_ci {}`) with the critical value of the metric's own test \
             (z for rates, Welch t for means).",
            s.relative_ci.description(),
            s.relative_ci.keyword()
        ),
        "A metric whose arms have no variance (every unit the same) has p = 1 or 0 and no \
         information: health is a warning, and it never proves non-inferiority."
            .to_string(),
    ];
    if report.metrics.iter().any(|m| m.kind == "ratio") {
        out.push(
            "Ratio metrics: Σx/Σy per arm with the delta-method variance from per-unit sums \
             (n − 1 moments), two-sided z-test, CI = Δ ± z·SE."
                .to_string(),
        );
    }
    if report.metrics.iter().any(|m| m.covariate.is_some()) {
        out.push(
            "CUPED: the covariate's slope θ pooled over both arms' units, adjusted means, Welch \
             t-test on the within-arm adjusted variances; the unadjusted numbers are in the report."
                .to_string(),
        );
    }
    if report.decision.arms.len() > 1 {
        out.push(format!(
            "p-values adjusted across {} treatment arms with {}; significance uses the adjusted p-value, \
             and each comparison's CI is shown at its per-comparison level α·p/p_adj, so it excludes 0 \
             exactly when the comparison is significant.",
            report.decision.arms.len(),
            match s.correction {
                crate::plan::Correction::None => "no correction",
                crate::plan::Correction::Bonferroni => "Bonferroni",
                crate::plan::Correction::Holm => "Holm",
                crate::plan::Correction::Bh => "Benjamini–Hochberg",
            }
        ));
    }
    out.push(format!(
        "Sample ratio mismatch: Pearson χ² goodness of fit against the designed split ({}), matched by \
         variant name; warning below p = {}, blocked below p = {}.",
        s.split.iter().map(|v| format!("{} {}", v.variant, numbers::percent1(v.share))).collect::<Vec<_>>().join(" / "),
        numbers::number(s.srm_warning),
        numbers::number(s.srm_blocked)
    ));
    out.push(format!(
        "An arm with fewer than {} units makes the health a warning.",
        s.min_units
    ));
    out.push(format!(
        "Bayesian evidence: Beta({}, {}) prior for rates; P(better) and expected loss computed exactly; \
         mean metrics by normal approximation.",
        numbers::number(s.prior[0]),
        numbers::number(s.prior[1])
    ));
    out.push(format!(
        "Guardrails: worsened and severe judged on the point estimate of the degradation; \
         non-inferiority when the one-sided {level} bound of the degradation, by the metric's own \
         method (for rates the `rate_test {}` interval), is below the margin.",
        s.rate_test.keyword()
    ));
    if let Some(power) = report.plan.power {
        out.push(format!(
            "Sample size: normal approximation with unpooled variance at {} power.",
            numbers::percent(power)
        ));
    }
    out.push(format!(
        "Data: `{}`, variant column `{}`, units column `{}`.",
        s.data, s.variant_column, s.units_column
    ));
    out.push(format!(
        "Policy `{}` ({}): {} rules, then otherwise {}.",
        report.policy.name,
        report.policy.source,
        report.policy.rules.len(),
        report.policy.otherwise.as_str()
    ));
    out
}

/// A horizontal forest plot of every comparison's relative lift with its CI.
fn chart_svg(report: &Report) -> String {
    struct Row {
        label: String,
        point: f64,
        low: f64,
        high: f64,
        class: &'static str,
    }
    let mut rows = Vec::new();
    for m in &report.metrics {
        for c in &m.comparisons {
            let (Some(point), Some(low), Some(high)) = (c.rel_lift, c.rel_ci_low, c.rel_ci_high)
            else {
                continue;
            };
            let class = match c.status {
                Some(Status::Severe) => "severe",
                Some(Status::Worsened) => "worsened",
                _ if c.better => "better",
                _ if c.worse => "worse",
                _ => "neutral",
            };
            let label = if m.comparisons.len() > 1 {
                format!("{} · {}", m.name, c.variant)
            } else {
                m.name.clone()
            };
            rows.push(Row {
                label,
                point,
                low,
                high,
                class,
            });
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let extent = rows
        .iter()
        .map(|r| r.low.abs().max(r.high.abs()))
        .fold(0.0_f64, f64::max)
        .max(1e-6)
        * 1.15;
    let (left, width, row_h, top) = (190.0, 420.0, 30.0, 24.0);
    let height = top + row_h * rows.len() as f64 + 10.0;
    let x = |v: f64| left + (v + extent) / (2.0 * extent) * width;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
         height=\"{h}\" role=\"img\" aria-label=\"Relative lift of each comparison with its confidence interval\">",
        w = left + width + 20.0,
        h = height
    );
    svg.push_str(&format!(
        "<line x1=\"{z}\" y1=\"{t}\" x2=\"{z}\" y2=\"{b}\" class=\"zero\"/>\
         <text x=\"{z}\" y=\"14\" class=\"axis\" text-anchor=\"middle\">0%</text>\
         <text x=\"{l}\" y=\"14\" class=\"axis\" text-anchor=\"start\">{lo}</text>\
         <text x=\"{r}\" y=\"14\" class=\"axis\" text-anchor=\"end\">{hi}</text>",
        z = x(0.0),
        t = top - 4.0,
        b = height - 6.0,
        l = left,
        r = left + width,
        lo = escape(&numbers::signed_percent(-extent)),
        hi = escape(&numbers::signed_percent(extent)),
    ));
    for (i, row) in rows.iter().enumerate() {
        let y = top + row_h * i as f64 + row_h / 2.0;
        svg.push_str(&format!(
            "<g class=\"{class}\"><text x=\"{lx}\" y=\"{ty}\" class=\"label\" text-anchor=\"end\">{label}</text>\
             <line x1=\"{x1:.1}\" y1=\"{y}\" x2=\"{x2:.1}\" y2=\"{y}\" class=\"ci\"/>\
             <circle cx=\"{cx:.1}\" cy=\"{y}\" r=\"4.5\" class=\"point\"/>\
             <title>{label}: {point} [{low}, {high}]</title></g>",
            class = row.class,
            lx = left - 10.0,
            ty = y + 4.0,
            label = escape(&row.label),
            x1 = x(row.low),
            x2 = x(row.high),
            cx = x(row.point),
            point = escape(&numbers::signed_percent(row.point)),
            low = escape(&numbers::signed_percent(row.low)),
            high = escape(&numbers::signed_percent(row.high)),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Escapes `text` for HTML and turns its `code` spans into `<code>` elements.
pub fn code_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let parts = text.split('`').count();
    for (i, part) in text.split('`').enumerate() {
        // An unmatched final backtick leaves its text as it is.
        let closed = i % 2 == 1 && i + 1 < parts;
        if closed {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&escape(part));
        }
    }
    out
}

/// HTML escaping for the SVG, which is built here rather than by a template.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn is_rate(m: &MetricReport) -> bool {
    m.kind == "rate"
}

/// A metric's value: a rate as a percentage, a mean as a number.
fn value(m: &MetricReport, v: Option<f64>) -> String {
    match v {
        None => "n/a".into(),
        Some(v) if is_rate(m) => numbers::percent2(v),
        Some(v) => numbers::number(v),
    }
}

/// An absolute lift: percentage points for rates.
fn lift(m: &MetricReport, l: f64) -> String {
    if is_rate(m) {
        let pp = l * 100.0;
        let digits = if pp != 0.0 && pp.abs() < 0.01 { 4 } else { 2 };
        format!("{}{:.*} pp", numbers::sign(pp), digits, pp.abs())
    } else {
        format!("{}{}", numbers::sign(l), numbers::number(l.abs()))
    }
}

fn loss(m: &MetricReport, l: f64) -> String {
    if is_rate(m) {
        format!("{} pp", numbers::number(l * 100.0))
    } else {
        numbers::number(l)
    }
}

fn effect(m: &MetricReport, value: f64, scale: &str) -> String {
    if scale == "relative" {
        format!("{} relative", numbers::percent(value))
    } else if is_rate(m) {
        format!("{} pp", numbers::number(value * 100.0))
    } else {
        numbers::number(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_become_code_elements() {
        assert_eq!(
            code_html("Launch `treatment` now"),
            "Launch <code>treatment</code> now"
        );
        assert_eq!(code_html("a `<b>` c"), "a <code>&lt;b&gt;</code> c");
        assert_eq!(code_html("odd ` tick"), "odd ` tick");
    }

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape("<script>\"&'"), "&lt;script&gt;&quot;&amp;&#x27;");
    }
}

//! The report formatted for reading: what templates see as `memo`
//! (percentages, points, badges), built from the JSON report.

use serde::Serialize;

use crate::evaluate::Comparison;
use crate::numbers;
use crate::output::report::{MetricReport, Report};
use crate::plan::{Direction, Health, Role, Status, Verdict};
use crate::stats::cuped::CupedUse;

use super::Format;
use super::advice::{assumptions, next_actions};
use super::chart::chart_svg;

/// The report formatted for reading.
#[derive(Clone, Debug, Serialize)]
pub struct MemoView {
    /// The spec's `title`, else the experiment's name.
    pub title: String,
    /// The verdict's keyword: `launch`, `hold` or `rollback`.
    pub verdict: String,
    /// The verdict as a heading says it: `Launch`, `Hold`, `Roll back`.
    pub verdict_word: String,
    /// The arm the verdict is about; `None` on a multi-arm hold.
    pub arm: Option<String>,
    /// The rule that decided (`otherwise` for the fallback).
    pub rule: String,
    /// The rule's `because`, facts interpolated.
    pub reason: String,
    /// The verdict with its arm: ``Launch `treatment` ``, `Hold all arms`.
    pub headline: String,
    /// What a reader must know before acting, under the verdict: health,
    /// guardrails, the share of the planned sample, the inference.
    pub risks: Vec<RiskView>,
    /// The facts the rule read, `primary.better = true`, `srm.p < 0.0001`.
    pub facts: Vec<String>,
    /// Whether there is more than one treatment arm (the memo then shows
    /// each arm's decision).
    pub multiarm: bool,
    /// Every treatment arm's own decision, in spec order.
    pub arms: Vec<ArmView>,
    /// The primary metric's table.
    pub primary: MetricView,
    /// The secondary metrics' tables, in spec order.
    pub secondary: Vec<MetricView>,
    /// The guardrails' tables, in spec order.
    pub guardrails: Vec<MetricView>,
    /// The data's health.
    pub health: HealthView,
    /// The Bayesian reading of every comparison of every metric.
    pub bayes: Vec<BayesRow>,
    /// What to do next, given the verdict and the health.
    pub next_actions: Vec<String>,
    /// The statistical conventions used, one sentence each.
    pub assumptions: Vec<String>,
    /// What the experiment set out to test.
    pub charter: CharterView,
    /// The planned sample and how far the experiment is from it.
    pub sample: String,
    /// Inline SVG of every comparison's relative lift with its CI; drawn for
    /// HTML only, empty in other formats.
    pub chart_svg: String,
    /// The confidence level, `95%`.
    pub level: String,
    /// Which sequential inference decided, at which look; `None` for a
    /// fixed-horizon spec.
    pub inference: Option<String>,
    /// One sentence per comparison of a metric with a covariate: what CUPED
    /// did and how much it narrowed the interval. Empty without covariates.
    pub cuped: Vec<String>,
    /// The primary look by look (`looks.rs`); `None` without looks.
    pub looks: Option<super::looks::LooksView>,
}

/// One line of the verdict area: `Health: ✅ healthy`.
#[derive(Clone, Debug, Serialize)]
pub struct RiskView {
    /// What the line is about: `Health`, `Guardrails`, `Sample` or
    /// `Inference`.
    pub label: String,
    /// The whole line after the label, as Markdown shows it.
    pub text: String,
    /// The Health line's status word (`healthy`, `warning`, `blocked`) for an
    /// HTML badge, and what follows it; empty for the other lines.
    pub badge: String,
    /// What follows the badge on the Health line (its issues, `; `-joined);
    /// the whole text on the other lines.
    pub detail: String,
    /// `ok`, `worsened` or `severe`: how much the line should worry a reader.
    pub css: String,
}

/// One treatment arm's decision, for the multi-arm table.
#[derive(Clone, Debug, Serialize)]
pub struct ArmView {
    /// The arm's name.
    pub variant: String,
    /// The arm's verdict keyword.
    pub verdict: String,
    /// The rule that decided for the arm.
    pub rule: String,
    /// That rule's `because`, facts interpolated.
    pub reason: String,
}

/// The charter: what the experiment set out to test, from the spec.
#[derive(Clone, Debug, Serialize)]
pub struct CharterView {
    /// The spec's `hypothesis`, or `not stated`.
    pub hypothesis: String,
    /// The spec's `owner`, or `not stated`.
    pub owner: String,
    /// The primary metric as declared: `conversion = rate(conversions)`.
    pub primary: String,
    /// The primary's minimum detectable effect (`0.5 pp`, `5% relative`), or
    /// `not stated`.
    pub mde: String,
    /// The policy's name and where it comes from.
    pub policy: String,
    /// The designed split: `control 50.0% / treatment 50.0%`.
    pub split: String,
    /// The data path as written in the spec.
    pub data: String,
}

/// One metric's table: its control and a row per treatment arm.
#[derive(Clone, Debug, Serialize)]
pub struct MetricView {
    /// The metric's name.
    pub name: String,
    /// The metric as written: `rate(conversions)`, `ratio(clicks, queries)`.
    pub kind: String,
    /// `higher is better` or `lower is better`.
    pub prefer: String,
    /// A guardrail's `worsened`, `severe` and `margin` in words, or `none`.
    pub thresholds: String,
    /// The control's name.
    pub control: String,
    /// The control's value: a rate as a percentage, a mean or ratio in its unit.
    pub control_value: String,
    /// One row per treatment arm, in spec order.
    pub rows: Vec<ComparisonView>,
}

/// One treatment arm against the control on one metric, every number
/// formatted (`n/a` where undefined).
#[derive(Clone, Debug, Serialize)]
pub struct ComparisonView {
    /// The treatment arm's name.
    pub variant: String,
    /// The arm's value: a rate as a percentage, a mean or ratio in its unit.
    pub value: String,
    /// The arm's units, with thousands separators.
    pub units: String,
    /// The absolute lift, signed: percentage points for rates, the metric's unit
    /// otherwise.
    pub lift: String,
    /// The relative lift, a signed percentage.
    pub rel_lift: String,
    /// Guardrails: the absolute change, with the relative change beside it
    /// when a threshold is relative (what the status is judged on).
    pub change: String,
    /// The interval of the lift at the per-comparison level of the
    /// correction, the one that agrees with `significant`.
    pub ci: String,
    /// The interval of the relative lift, in signed percentages.
    pub rel_ci: String,
    /// The p-value.
    pub p: String,
    /// The p-value corrected across arms.
    pub p_adjusted: String,
    /// `yes (p < α)` or `no`.
    pub significant: String,
    /// `significantly better`, `significantly worse` or `not significant`.
    pub direction: String,
    /// Guardrails: the threshold status and the significance, `ok ·
    /// significantly worse`; otherwise the significance.
    pub status: String,
    /// The status with its symbol, for the table (`⚠️ worsened`).
    pub badge: String,
    /// The CSS class of the status: `ok`, `worsened`, `severe` or `neutral`.
    pub css: String,
    /// A guardrail's non-inferiority: `yes`, `no`, or `n/a` without a margin.
    pub non_inferior: String,
    /// This row made the decision: a guardrail the firing rule turned on,
    /// for the arm the verdict is about.
    pub decided: bool,
}

/// The data's health, formatted.
#[derive(Clone, Debug, Serialize)]
pub struct HealthView {
    /// `healthy`, `warning` or `blocked`.
    pub status: String,
    /// The status with its symbol (`✅ healthy`).
    pub badge: String,
    /// The CSS class of the status: `ok`, `worsened` or `severe`.
    pub css: String,
    /// The SRM test: `χ² = 0.42 (df 1), p = 0.52`, or `not computed`.
    pub srm: String,
    /// Each health issue's message.
    pub issues: Vec<String>,
}

/// The Bayesian reading of one comparison.
#[derive(Clone, Debug, Serialize)]
pub struct BayesRow {
    /// The metric's name.
    pub metric: String,
    /// The treatment arm's name.
    pub variant: String,
    /// P(treatment better in the preferred direction), as a percentage.
    pub prob_better: String,
    /// The expected loss of shipping the treatment, in the metric's units
    /// (percentage points for rates).
    pub expected_loss: String,
    /// Credible interval of the relative lift at 1 − α, or `n/a`.
    pub credible: String,
}

/// "Decided by group-sequential inference (…) at look 1, information 21.3%;
/// … its fixed-horizon p would be 0.0154 …". `None` for a fixed-horizon
/// spec.
fn inference_line(report: &Report) -> Option<String> {
    use crate::plan::SequentialMethod;
    let i = &report.inference;
    let how = match i.method {
        SequentialMethod::Fixed => return None,
        SequentialMethod::AlwaysValid => format!(
            "always-valid inference (confidence sequence tuned at {})",
            numbers::units(i.tuning.unwrap_or(0))
        ),
        SequentialMethod::GroupSequential => format!(
            "group-sequential inference (all α spent at {})",
            numbers::units(i.max_units.unwrap_or(0))
        ),
    };
    let information = i.information.map_or(String::new(), |t| {
        format!(", information {}", numbers::percent1(t))
    });
    let fixed = report
        .metrics
        .iter()
        .find(|m| m.role == Role::Primary)
        .and_then(|m| m.comparisons.first())
        .and_then(|c| Some((c.fixed_horizon?.p_value?, c.boundary)));
    let tail = match fixed {
        Some((p, Some(b))) => format!(
            "; the primary's bound at this look is |z| ≥ {}; its fixed-horizon p would be {} (valid only at the planned sample)",
            numbers::statistic(b),
            numbers::p_value(p)
        ),
        Some((p, None)) => format!(
            "; the primary's fixed-horizon p would be {} (valid only at the planned sample)",
            numbers::p_value(p)
        ),
        None => String::new(),
    };
    Some(format!(
        "Decided by {how} at look {}{information}{tail}.",
        i.look
    ))
}

/// The memo's view of `report` in `format` (the SVG chart is drawn for HTML
/// only).
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
        (Some(_), Verdict::Rollback) if decision.rolled_back.len() > 1 => {
            format!("Roll back {}", arm_list(&decision.rolled_back))
        }
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
                .map(|f| numbers::relation(&f.fact, &f.value))
                .collect()
        })
        .unwrap_or_default();

    // The (guardrail, arm) pairs that made the decision.
    let deciding: Vec<(String, String)> = decision
        .arms
        .iter()
        .filter(|a| match decision.verdict {
            Verdict::Rollback => decision.rolled_back.contains(&a.variant),
            _ => Some(&a.variant) == decision.arm.as_ref(),
        })
        .flat_map(|a| a.guardrails.iter().map(|g| (g.clone(), a.variant.clone())))
        .collect();
    let views = |role: Role| -> Vec<MetricView> {
        report
            .metrics
            .iter()
            .filter(|m| m.role == role)
            .map(|m| metric_view(m, alpha, &deciding))
            .collect()
    };
    let bayes = report
        .metrics
        .iter()
        .flat_map(|m| {
            let f = metric_format(m);
            m.comparisons.iter().map(move |c| BayesRow {
                metric: m.name.clone(),
                variant: c.variant.clone(),
                prob_better: c.prob_better.map_or("n/a".into(), numbers::probability),
                expected_loss: c.expected_loss.map_or("n/a".into(), |l| f.amount(l)),
                credible: relative_interval(&f, c.rel_credible_low, c.rel_credible_high),
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
        risks: risks(report, primary),
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
        primary: metric_view(primary, alpha, &deciding),
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
        inference: inference_line(report),
        cuped: cuped_notes(report),
        looks: super::looks::looks_view(report, format),
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
            let f = metric_format(m);
            let Some(theta) = cuped.theta else {
                notes.push(format!(
                    "{head}: covariate `{covariate}` has no variance, so CUPED was not applied; \
                     the numbers are unadjusted."
                ));
                continue;
            };
            match cuped.usage {
                CupedUse::Applied => {}
                CupedUse::Imbalanced => {
                    notes.push(format!(
                        "{head}: covariate `{covariate}` differs between the arms ({}), as a \
                         measure taken before assignment does not, so CUPED was not applied; the \
                         numbers are unadjusted.",
                        numbers::p_is(cuped.balance_p.unwrap_or(0.0))
                    ));
                    continue;
                }
                CupedUse::DeterminesMetric | CupedUse::NoVariance => {
                    notes.push(format!(
                        "{head}: covariate `{covariate}` predicts the metric almost exactly \
                         (θ = {}), as only the metric itself or a value computed from it does, so \
                         CUPED was not applied; the numbers are unadjusted.",
                        numbers::general(theta)
                    ));
                    continue;
                }
            }
            let u = &cuped.unadjusted;
            let narrower = match (c.ci_low, c.ci_high, u.ci_low, u.ci_high) {
                (Some(lo), Some(hi), Some(ulo), Some(uhi)) if uhi > ulo => {
                    let change = 1.0 - (hi - lo) / (uhi - ulo);
                    let how = if change >= 0.0 { "narrower" } else { "wider" };
                    format!(
                        "; the {level} interval is {} {how} than without it ({} instead of [{}, {}])",
                        numbers::percent1(change.abs()),
                        f.interval(lo, hi),
                        f.change(ulo),
                        f.change(uhi)
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
                numbers::general(theta)
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

/// An interval of relative lifts as `[−1.20%, +3.40%]`, or `n/a`.
fn relative_interval(f: &numbers::MetricFormat, low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(lo), Some(hi)) => f.relative_interval(lo, hi),
        _ => "n/a".into(),
    }
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
pub(super) fn arm_list(arms: &[String]) -> String {
    let quoted: Vec<String> = arms.iter().map(|a| format!("`{a}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// The share of its target (the declared duration's units, else the planned
/// sample) the slowest arm has reached; `None` without a target.
fn plan_progress(report: &Report, primary: &MetricReport) -> Option<f64> {
    let remaining = report.sample.remaining.as_ref()?;
    let progress = remaining
        .iter()
        .zip(&primary.variants)
        .filter(|(left, have)| left.units + have.units > 0)
        .map(|(left, have)| have.units as f64 / (left.units + have.units) as f64)
        .fold(f64::INFINITY, f64::min);
    progress.is_finite().then_some(progress)
}

/// The verdict area's risks: health (with what the issues are), guardrails
/// that worsened or are significantly worse, the share of the planned
/// sample, the inference.
fn risks(report: &Report, primary: &MetricReport) -> Vec<RiskView> {
    let line = |label: &str, text: String, css: &str| RiskView {
        label: label.into(),
        detail: text.clone(),
        text,
        badge: String::new(),
        css: css.into(),
    };
    let h = &report.health;
    let issues: Vec<&str> = h.issues.iter().map(|i| i.message.as_str()).collect();
    let (emoji, word, css) = match h.status {
        Health::Healthy => ("✅", "healthy", "ok"),
        Health::Warning => ("⚠️", "warning", "worsened"),
        Health::Blocked => ("⛔", "blocked", "severe"),
    };
    let detail = issues.join("; ");
    let health = RiskView {
        label: "Health".into(),
        text: if detail.is_empty() {
            format!("{emoji} {word}")
        } else {
            format!("{emoji} {word}: {detail}")
        },
        badge: word.into(),
        detail,
        css: css.into(),
    };
    let mut guardrails = Vec::new();
    let mut worst = "ok";
    for m in report.metrics.iter().filter(|m| m.role == Role::Guardrail) {
        let f = metric_format(m);
        for c in &m.comparisons {
            let state = match c.status {
                Some(Status::Severe) => "severe",
                Some(Status::Worsened) => "worsened",
                _ if !c.has_interval() => "not evaluated",
                _ if c.worse && c.without_variance() => "worse without variance",
                _ if c.worse => "significantly worse",
                _ => continue,
            };
            worst = if state == "severe" || state == "not evaluated" || worst == "severe" {
                "severe"
            } else {
                "worsened"
            };
            let arm = if m.comparisons.len() > 1 {
                format!(" ({})", c.variant)
            } else {
                String::new()
            };
            let significance = if !state.contains("worse") && c.worse {
                if c.without_variance() {
                    ", worse without variance"
                } else {
                    ", significantly worse"
                }
            } else {
                ""
            };
            if state == "not evaluated" {
                guardrails.push(format!(
                    "`{}`{arm} not evaluated: it has not held (see Health)",
                    m.name
                ));
                continue;
            }
            guardrails.push(format!(
                "`{}`{arm} {state}{significance}: {}",
                m.name,
                guardrail_change(m, &f, c)
            ));
        }
    }
    let guardrail_line = if report.metrics.iter().all(|m| m.role != Role::Guardrail) {
        line("Guardrails", "none declared".into(), "worsened")
    } else if guardrails.is_empty() {
        line(
            "Guardrails",
            "all held (none worsened, none significantly worse)".into(),
            "ok",
        )
    } else {
        line("Guardrails", guardrails.join("; "), worst)
    };
    // The target `sample_reached` is measured against: the declared
    // duration's units, else the planned sample.
    let target = match (
        report.sample.duration_units,
        report.sample.duration_days,
        report.sample.total,
    ) {
        (Some(units), Some(days), _) => format!(
            "{} of the planned {}",
            numbers::units(units),
            numbers::days(days)
        ),
        (_, _, Some(total)) => format!("planned {}", numbers::units(total)),
        _ => "planned sample".into(),
    };
    let sample = match (plan_progress(report, primary), report.sample.sample_reached) {
        (Some(_), true) => line("Sample", format!("the {target} reached"), "ok"),
        (Some(progress), false) => line(
            "Sample",
            format!(
                "{} of the {target} reached",
                numbers::percent1(progress.min(0.999))
            ),
            "worsened",
        ),
        (None, _) => line(
            "Sample",
            "no sample plan: nothing says whether the sample is large enough".into(),
            "worsened",
        ),
    };
    let i = &report.inference;
    let inference = match i.method {
        crate::plan::SequentialMethod::Fixed => line(
            "Inference",
            format!(
                "fixed horizon, {} confidence",
                numbers::percent(1.0 - report.settings.alpha)
            ),
            "ok",
        ),
        crate::plan::SequentialMethod::AlwaysValid => line(
            "Inference",
            format!("sequential (always-valid), look {}", i.look),
            "ok",
        ),
        crate::plan::SequentialMethod::GroupSequential => line(
            "Inference",
            format!("sequential (group-sequential), look {}", i.look),
            "ok",
        ),
    };
    vec![health, guardrail_line, sample, inference]
}

/// A guardrail's change: absolute, with the relative change beside it when
/// a threshold is relative (`+10.00 ms (+4.17%)`).
fn guardrail_change(m: &MetricReport, f: &numbers::MetricFormat, c: &Comparison) -> String {
    let absolute = c.abs_lift.map_or("n/a".into(), |l| f.change(l));
    let relative_threshold = [m.worsened, m.severe, m.margin]
        .iter()
        .flatten()
        .any(|e| e.scale == "relative");
    match c.rel_lift {
        Some(r) if relative_threshold => format!("{absolute} ({})", f.relative(r)),
        _ => absolute,
    }
}

fn sample_line(report: &Report, primary: &MetricReport) -> String {
    let sample = &report.sample;
    let mut line = match &sample.per_variant {
        Some(per_variant) => {
            let sizes: Vec<String> = per_variant
                .iter()
                .map(|v| format!("{} {}", v.variant, numbers::thousands(v.units)))
                .collect();
            let mut line = format!(
                "planned {} ({} in all",
                sizes.join(", "),
                numbers::thousands(sample.total.unwrap_or(0))
            );
            if let Some(days) = sample.days {
                line.push_str(&format!(", {days} day{}", if days == 1 { "" } else { "s" }));
            }
            line.push(')');
            line
        }
        None if sample.duration_days.is_none() => {
            return "no sample plan (the primary metric has no `baseline` and `mde`)".into();
        }
        None => "no sample size (the primary metric has no `baseline` and `mde`)".into(),
    };
    // The declared duration: what `sample_reached` is measured against.
    if let (Some(days), Some(units)) = (sample.duration_days, sample.duration_units) {
        line.push_str(&format!(
            "; planned duration {} ({})",
            numbers::days(days),
            numbers::units(units)
        ));
        match sample.days {
            Some(needed) if days < needed as f64 => line.push_str(&format!(
                ", shorter than the {needed} days the MDE needs: underpowered"
            )),
            _ => {}
        }
    }
    if sample.remaining.is_none() {
        return line;
    }
    if sample.sample_reached {
        line.push_str("; reached");
    } else if let Some(progress) = plan_progress(report, primary) {
        // Progress of the slowest arm toward its target.
        line.push_str(&format!(
            "; {} of it so far",
            numbers::percent1(progress.min(0.999))
        ));
    }
    line
}

fn metric_view(m: &MetricReport, alpha: f64, deciding: &[(String, String)]) -> MetricView {
    let f = metric_format(m);
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
        control_value: control.value.map_or("n/a".into(), |v| f.value(v)),
        rows: m
            .comparisons
            .iter()
            .zip(&m.variants[1..])
            .map(|(c, v)| {
                let decided = deciding
                    .iter()
                    .any(|(g, arm)| *g == m.name && *arm == c.variant);
                comparison_view(m, &f, c, v.value, alpha, decided)
            })
            .collect(),
    }
}

fn comparison_view(
    m: &MetricReport,
    f: &numbers::MetricFormat,
    c: &Comparison,
    treatment: Option<f64>,
    alpha: f64,
    decided: bool,
) -> ComparisonView {
    let flat = c.without_variance();
    let direction = if flat && (c.better || c.worse) {
        // p = 0 by convention (DESIGN §2), which is no evidence: the row
        // must not read as a finding.
        if c.better {
            "better, but without variance: not informative"
        } else {
            "worse, but without variance: not informative"
        }
    } else if c.better {
        "significantly better"
    } else if c.worse {
        "significantly worse"
    } else {
        "not significant"
    };
    // A guardrail's status is its threshold status and its significance: a
    // significantly worse guardrail under its threshold is `ok ·
    // significantly worse`, never a plain green `ok`.
    let (status, emoji, css) = match c.status {
        Some(Status::Severe) => ("severe".to_string(), "⛔", "severe"),
        Some(Status::Worsened) => ("worsened".to_string(), "⚠️", "worsened"),
        Some(Status::Ok) if !c.has_interval() => ("not evaluated".to_string(), "⛔", "severe"),
        Some(Status::Ok) if c.worse => ("ok".to_string(), "⚠️", "worsened"),
        Some(Status::Ok) => ("ok".to_string(), "✅", "ok"),
        None if flat && (c.better || c.worse) => ("no variance".to_string(), "·", "neutral"),
        None if c.better => ("better".to_string(), "▲", "ok"),
        None if c.worse => ("worse".to_string(), "▼", "severe"),
        None => ("not significant".to_string(), "·", "neutral"),
    };
    let status = if c.status.is_some() && c.has_interval() {
        format!("{status} · {direction}")
    } else {
        status
    };
    ComparisonView {
        variant: c.variant.clone(),
        value: treatment.map_or("n/a".into(), |v| f.value(v)),
        units: numbers::thousands(c.units),
        lift: c.abs_lift.map_or("n/a".into(), |l| f.change(l)),
        rel_lift: c.rel_lift.map_or("n/a".into(), |r| f.relative(r)),
        change: guardrail_change(m, f, c),
        // The interval at the per-comparison level of the correction, the
        // one that agrees with `significant` (equal to the plain one
        // without a correction).
        ci: match (c.ci_adj_low, c.ci_adj_high) {
            (Some(lo), Some(hi)) => f.interval(lo, hi),
            _ => "n/a".into(),
        },
        rel_ci: relative_interval(f, c.rel_ci_low, c.rel_ci_high),
        p: c.p_value.map_or("n/a".into(), numbers::p_value),
        p_adjusted: c.p_adjusted.map_or("n/a".into(), numbers::p_value),
        significant: if c.significant && flat {
            "no variance: not informative".into()
        } else if c.significant {
            format!("yes (p < {})", numbers::general(alpha))
        } else {
            "no".into()
        },
        direction: direction.into(),
        badge: format!("{emoji} {status}"),
        status,
        css: css.into(),
        non_inferior: match c.non_inferior {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => "n/a".into(),
        },
        decided,
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
                "χ² = {} (df {}), {}",
                numbers::statistic(srm.chi2),
                srm.df,
                numbers::p_is(srm.p_value)
            ),
            None => "not computed".into(),
        },
        issues: h.issues.iter().map(|i| i.message.clone()).collect(),
    }
}

fn is_rate(m: &MetricReport) -> bool {
    m.kind == "rate"
}

/// How the memo writes a metric's numbers (see [`numbers::MetricFormat`]).
pub(super) fn metric_format(m: &MetricReport) -> numbers::MetricFormat {
    let values: Vec<f64> = m.variants.iter().filter_map(|v| v.value).collect();
    crate::decide::metric_format(is_rate(m), m.unit.clone(), &values, m.comparisons.iter())
}

/// A threshold or MDE as written: `5% relative`, `0.1 pp`, `20 ms`.
fn effect(m: &MetricReport, value: f64, scale: &str) -> String {
    if scale == "relative" {
        format!("{}% relative", numbers::general(value * 100.0))
    } else if is_rate(m) {
        format!("{} pp", numbers::general(value * 100.0))
    } else {
        match &m.unit {
            Some(unit) => format!("{} {unit}", numbers::general(value)),
            None => numbers::general(value),
        }
    }
}

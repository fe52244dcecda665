//! The memo's advice: next actions and the assumptions behind the numbers,
//! from the report's health, decision and metrics.

use crate::numbers;
use crate::output::report::Report;
use crate::plan::{Health, Role, Verdict};

pub(super) fn next_actions(report: &Report) -> Vec<String> {
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
            let arms = if d.rolled_back.is_empty() {
                d.arm.iter().cloned().collect()
            } else {
                d.rolled_back.clone()
            };
            let theirs = if arms.len() > 1 { "their" } else { "its" };
            actions.push(format!(
                "Turn {} off now and return {theirs} traffic to the control.",
                super::view::arm_list(&arms)
            ));
            // One line per distinct rule and reason, its arms worst first.
            let mut causes: Vec<(&str, &str, Vec<String>)> = Vec::new();
            for variant in &arms {
                let Some(arm) = d.arms.iter().find(|a| &a.variant == variant) else {
                    continue;
                };
                match causes
                    .iter_mut()
                    .find(|(rule, reason, _)| *rule == arm.rule && *reason == arm.reason)
                {
                    Some((_, _, named)) => named.push(variant.clone()),
                    None => causes.push((&arm.rule, &arm.reason, vec![variant.clone()])),
                }
            }
            for (rule, reason, named) in causes {
                let whose = if arms.len() > 1 {
                    format!(" of {}", super::view::arm_list(&named))
                } else {
                    String::new()
                };
                actions.push(format!(
                    "Find the cause{whose} before any relaunch (rule `{rule}`): {reason}"
                ));
            }
            actions.push("Share this memo with the team that owns the change.".into());
        }
        Verdict::Hold => hold_actions(report, &mut actions),
    }
    actions
}

/// A hold's next actions, from the rule that fired and the health: a
/// blocked experiment is fixed and restarted, never kept running; a hold by
/// a rule other than `otherwise` says what that rule needs; only a hold for
/// lack of evidence says that more data would decide it.
fn hold_actions(report: &Report, actions: &mut Vec<String>) {
    let d = &report.decision;
    let health = report.health.status;
    let issues: Vec<&str> = report
        .health
        .issues
        .iter()
        .map(|i| i.message.as_str())
        .collect();
    let srm_broken = report
        .health
        .srm
        .is_some_and(|srm| srm.p_value < report.settings.srm_warning);
    if health == Health::Blocked {
        actions.push(format!(
            "Do not act on these results: the data is blocked ({}).",
            issues.join("; ")
        ));
        if srm_broken {
            actions.push(
                "Find why the units per arm deviate from the designed split (assignment, \
                 redirects, bot filtering, logging per arm), fix it, and restart the experiment: \
                 data collected under a broken assignment cannot be repaired by running longer."
                    .into(),
            );
        } else {
            actions.push("Fix the data's blocking issue, then re-run this memo.".into());
        }
        return;
    }
    if health == Health::Warning {
        actions.push(format!(
            "Fix the health warning before reading the results: {}.",
            issues.join("; ")
        ));
    } else if srm_broken {
        actions.push(
            "Find why the units per arm deviate from the designed split before reading the results."
                .into(),
        );
    }
    let arm = d
        .arms
        .iter()
        .find(|a| Some(&a.variant) == d.arm.as_ref())
        .or(d.arms.first());
    let guardrails: Vec<String> = arm
        .map(|a| a.guardrails.iter().map(|g| format!("`{g}`")).collect())
        .unwrap_or_default();
    // A rule that read the plan's progress (`early_look`) holds until the
    // planned sample: more data decides it.
    let waits_for_sample = d.rule != "otherwise"
        && arm.is_some_and(|a| a.facts.iter().any(|f| f.fact.starts_with("plan.")));
    let primary_better = report
        .metrics
        .iter()
        .find(|m| m.role == Role::Primary)
        .is_some_and(|m| m.comparisons.iter().any(|c| c.better));
    if d.rule != "otherwise" && !guardrails.is_empty() {
        actions.push(format!(
            "Investigate {}: the rule `{}` holds the change because of {}; it does not launch \
             while {} does.",
            guardrails.join(", "),
            d.rule,
            if guardrails.len() > 1 { "them" } else { "it" },
            if guardrails.len() > 1 {
                "any of them"
            } else {
                "it"
            }
        ));
    } else if waits_for_sample {
        actions.push(format!(
            "This hold comes from the rule `{}`: a fixed-horizon test is read only at its planned \
             sample. Do not act on the current numbers; more data decides it (or declare a \
             `sequential` block to decide validly at any look).",
            d.rule
        ));
    } else if d.rule != "otherwise" && primary_better && health == Health::Healthy {
        actions.push(format!(
            "This hold comes from the rule `{}`, not from a lack of evidence: more data will not \
             change it unless the effect itself changes. Revisit the change, or the rule's bar.",
            d.rule
        ));
    }
    // More data decides only a hold for lack of evidence.
    let waiting = d.rule == "otherwise" || waits_for_sample || health == Health::Warning;
    match (&report.sample.remaining, report.sample.sample_reached) {
        (Some(remaining), false) => {
            let needed: u64 = remaining.iter().map(|r| r.units).sum();
            let per: Vec<String> = remaining
                .iter()
                .map(|r| format!("{} for `{}`", numbers::thousands(r.units), r.variant))
                .collect();
            let mut line = format!(
                "{} {} more units ({})",
                if waiting {
                    "Keep the experiment running: the plan needs"
                } else {
                    "The plan needs"
                },
                numbers::thousands(needed),
                per.join(", ")
            );
            if let Some(days) = report.sample.days_remaining {
                line.push_str(&format!(
                    ", about {days} more day{}",
                    if days == 1 { "" } else { "s" }
                ));
                if let Some(daily) = report.sample.daily_units {
                    line.push_str(&format!(
                        " at {} a day",
                        numbers::units(daily.round() as u64)
                    ));
                }
            }
            line.push('.');
            actions.push(line);
            if d.rule == "otherwise" && health == Health::Healthy {
                actions.push(
                    "A significant improvement of the primary metric with every guardrail holding \
                     would change this to a launch."
                        .into(),
                );
            }
        }
        (Some(_), true) if d.rule == "otherwise" => {
            actions.push(
                "The planned sample is reached without a decisive result: the effect is likely \
                 smaller than the MDE. Decide whether a smaller effect is worth a longer run, or stop."
                    .into(),
            );
        }
        (Some(_), true) => {}
        (None, _) if waiting => {
            actions.push(
                "Add `baseline` and `mde` to the primary metric (and `plan { daily_users … }`) so \
                 xos can say how many more units a decision needs."
                    .into(),
            );
        }
        (None, _) => {}
    }
}

/// The data assumption of row-level data: one row per unit (so no units
/// column), the unit id column, and what an empty value became.
fn rows_data_line(data: &str, variant_column: &str, rows: &super::report::RowsReport) -> String {
    let mut line = format!(
        "Data: `{data}`, one row per unit (`shape rows`: a variant's units are its rows), \
         variant column `{variant_column}`, "
    );
    match &rows.unit_id {
        Some(id) => line.push_str(&format!(
            "unit id column `{id}` (each unit checked to be in one variant, once)"
        )),
        None => line.push_str("no unit id column (assignment not checked)"),
    }
    if rows.missing == "zero" {
        let zeroed: Vec<String> = rows
            .missing_zeroed
            .iter()
            .filter(|z| z.cells > 0)
            .enumerate()
            .map(|(i, z)| {
                let cells = match (i, z.cells) {
                    (0, 1) => " cell",
                    (0, _) => " cells",
                    _ => "",
                };
                format!("{}{cells} of `{}`", numbers::thousands(z.cells), z.column)
            })
            .collect();
        line.push_str("; empty, `NULL` and `NA` values count as 0 (`missing zero`): ");
        if zeroed.is_empty() {
            line.push_str("the file had none.");
        } else {
            line.push_str(&format!("{}.", zeroed.join(", ")));
        }
    } else {
        line.push_str("; an empty, `NULL` or `NA` value is an error (the file had none).");
    }
    line
}

pub(super) fn assumptions(report: &Report) -> Vec<String> {
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
             t-test on the within-arm adjusted variances; the unadjusted numbers are in the report. \
             A covariate whose mean differs between the arms (p < 0.0001), as a pre-experiment \
             measure does not, is not applied."
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
        numbers::general(s.srm_warning),
        numbers::general(s.srm_blocked)
    ));
    out.push(if s.min_units == 0 {
        "No arm is too small for the health (`min_units 0`).".to_string()
    } else {
        format!(
            "An arm with fewer than {} makes the health a warning.",
            numbers::units(s.min_units)
        )
    });
    out.push(format!(
        "Bayesian evidence: Beta({}, {}) prior for rates; P(better) and expected loss computed exactly; \
         mean metrics by normal approximation. Credible intervals of the relative lift (rates) at {level}: \
         {} seeded Monte Carlo draws (seed {}), reproducible.",
        numbers::general(s.prior[0]),
        numbers::general(s.prior[1]),
        numbers::thousands(s.draws),
        s.seed
    ));
    out.push(format!(
        "Guardrails: worsened and severe judged on the point estimate of the degradation; \
         non-inferiority when the one-sided {level} bound of the degradation, by the metric's own \
         method (for rates the `rate_test {}` interval), is below the margin.",
        s.rate_test.keyword()
    ));
    if let Some(power) = report.sample.power {
        let mut line = format!(
            "Sample size: normal approximation with unpooled variance at {} power, sized for {} of the primary",
            numbers::percent(power),
            match report.sample.change {
                Some("decrease") => "a decrease",
                _ => "an increase",
            }
        );
        match (report.sample.alpha, report.sample.alpha_divided_by) {
            (Some(alpha), Some(k)) => line.push_str(&format!(
                "; α = {} / {k} = {} per comparison (the correction's level split over {k} treatments).",
                numbers::percent(s.alpha),
                numbers::general(alpha)
            )),
            _ => line.push('.'),
        }
        out.push(line);
    }
    out.push(match &s.rows {
        None => format!(
            "Data: `{}`, variant column `{}`, units column `{}`.",
            s.data, s.variant_column, s.units_column
        ),
        Some(rows) => rows_data_line(&s.data, &s.variant_column, rows),
    });
    out.push(format!(
        "Policy `{}` ({}): {} rules, then otherwise {}.",
        report.policy.name,
        report.policy.source,
        report.policy.rules.len(),
        report.policy.otherwise.as_str()
    ));
    out
}

//! The `plan` block and the `settings` block: one checker that a spec's
//! `settings` and `xos.toml`'s `[settings]` both feed.

use crate::diagnostic::{Diagnostic, Span, did_you_mean};
use crate::plan::{
    Correction, Effect, Metric, MetricKind, RateTest, RelativeCi, SamplePlan, Settings,
};
use crate::syntax::ast::{self, Unit};

use super::values::{
    beta_prior, check_range, count, in_range, list, number_value, open_unit, options_once,
    probability, unit_in, unknown_option, word_value,
};

// ---------------------------------------------------------------- plan and settings

pub(super) fn check_sample_plan(block: &ast::OptionBlock, out: &mut Vec<Diagnostic>) -> SamplePlan {
    let mut plan = SamplePlan {
        daily_users: None,
        power: 0.8,
        duration_days: None,
    };
    for kv in options_once(block, out) {
        match kv.key.name.as_str() {
            "daily_users" => {
                if let Some(n) = number_value(kv, out)
                    && unit_in(kv, n, &[Unit::None], "a plain number of units per day", out)
                        .is_some()
                    && let Some(v) = in_range(kv, n, n.value > 0.0, "a number above 0", out)
                {
                    plan.daily_users = Some(v);
                }
            }
            "power" => {
                if let Some(n) = number_value(kv, out)
                    && unit_in(
                        kv,
                        n,
                        &[Unit::Percent, Unit::None],
                        "a probability such as `80%`",
                        out,
                    )
                    .is_some()
                    && let Some(v) = in_range(
                        kv,
                        n,
                        n.value > 0.0 && n.value < 1.0,
                        "a probability between 0% and 100%",
                        out,
                    )
                {
                    plan.power = v;
                }
            }
            "duration" => {
                if let Some(n) = number_value(kv, out)
                    && unit_in(kv, n, &[Unit::Days], "a number of days such as `14d`", out)
                        .is_some()
                    && let Some(v) = in_range(kv, n, n.value > 0.0, "a number of days above 0", out)
                {
                    plan.duration_days = Some(v);
                }
            }
            _ => out.push(unknown_option(
                &kv.key,
                "plan",
                &["daily_users", "power", "duration"],
            )),
        }
    }
    plan
}

/// A `plan` block sizes the experiment from the primary's planning inputs;
/// warns when they are missing, before `xos plan` fails for want of them.
pub(super) fn plan_inputs(decl: &ast::OptionsDecl, metrics: &[Metric], out: &mut Vec<Diagnostic>) {
    let Some(primary) = metrics.first() else {
        return;
    };
    let mut missing = Vec::new();
    if primary.mde.is_none() {
        missing.push("`mde`");
    }
    match (&primary.kind, primary.mde) {
        (MetricKind::Rate { .. } | MetricKind::Ratio { .. }, _) if primary.baseline.is_none() => {
            missing.push("`baseline`")
        }
        (MetricKind::Mean { .. }, Some(Effect::Relative(_))) if primary.baseline.is_none() => {
            missing.push("`baseline`")
        }
        _ => {}
    }
    if matches!(primary.kind, MetricKind::Mean { .. }) && primary.sd.is_none() {
        missing.push("`sd`");
    }
    if matches!(primary.kind, MetricKind::Ratio { .. }) {
        let inputs = primary.ratio_inputs;
        for (value, name) in [
            (inputs.mean_y, "`mean_y`"),
            (inputs.sd_x, "`sd_x`"),
            (inputs.sd_y, "`sd_y`"),
            (inputs.correlation, "`correlation`"),
        ] {
            if value.is_none() {
                missing.push(name);
            }
        }
    }
    if missing.is_empty() {
        return;
    }
    let example = match primary.kind {
        MetricKind::Rate { .. } => "`baseline 12%` and `mde 5% relative`",
        MetricKind::Mean { .. } => "`sd 40`, `mde 2.5` (or `baseline 50` and `mde 5% relative`)",
        MetricKind::Ratio { .. } => {
            "`baseline 0.3`, `mean_y 4`, `sd_x 1.6`, `sd_y 3.4`, `correlation 0.6` and `mde 5% relative`"
        }
    };
    out.push(
        Diagnostic::warning(
            "xos::check::incomplete_plan",
            format!(
                "the `plan` cannot be computed: the primary `{}` has no {}",
                primary.name,
                missing.join(" or ")
            ),
        )
        .label(
            decl.keyword_span,
            "sizes the experiment from the primary's planning inputs",
        )
        .help(format!("give the primary {example}")),
    );
}

/// The settings keys, in documentation order.
pub const SETTING_KEYS: [&str; 12] = [
    "alpha",
    "srm_warning",
    "srm_blocked",
    "min_units",
    "assignment_warning",
    "assignment_blocked",
    "correction",
    "rate_test",
    "relative_ci",
    "prior",
    "seed",
    "draws",
];

/// Applies a `settings` block (from a spec or `xos.toml`) on top of
/// `settings`, checking keys, units and ranges.
pub fn apply_settings(
    settings: &mut Settings,
    block: &ast::OptionBlock,
    out: &mut Vec<Diagnostic>,
) {
    let mut warning_at = None;
    let mut blocked_at = None;
    // Spans of `assignment_warning` and `assignment_blocked`.
    let mut assignment_at: (Option<Span>, Option<Span>) = (None, None);
    for kv in options_once(block, out) {
        match kv.key.name.as_str() {
            "alpha" => {
                if let Some(v) = probability(kv, out)
                    && let Some(v) = check_range(
                        kv,
                        v,
                        v > 0.0 && v < 0.5,
                        "between 0 and 0.5 (exclusive)",
                        out,
                    )
                {
                    settings.alpha = v;
                }
            }
            "srm_warning" => {
                if let Some(v) = open_unit(kv, out) {
                    settings.srm_warning = v;
                    warning_at = Some(kv.value.span());
                }
            }
            "srm_blocked" => {
                if let Some(v) = open_unit(kv, out) {
                    settings.srm_blocked = v;
                    blocked_at = Some(kv.value.span());
                }
            }
            "assignment_warning" => {
                if let Some(v) = open_unit(kv, out) {
                    settings.assignment_warning = v;
                    assignment_at.0 = Some(kv.value.span());
                }
            }
            "assignment_blocked" => {
                if let Some(v) = open_unit(kv, out) {
                    settings.assignment_blocked = v;
                    assignment_at.1 = Some(kv.value.span());
                }
            }
            "min_units" => {
                if let Some(v) = count(kv, out, 0) {
                    settings.min_units = v;
                }
            }
            "seed" => {
                if let Some(v) = count(kv, out, 0) {
                    settings.seed = v;
                }
            }
            "draws" => {
                if let Some(v) = count(kv, out, 1) {
                    settings.draws = v;
                }
            }
            "correction" => {
                if let Some(w) = word_value(kv, &["none", "bonferroni", "holm", "bh"], out) {
                    settings.correction = match w {
                        "none" => Correction::None,
                        "bonferroni" => Correction::Bonferroni,
                        "bh" => Correction::Bh,
                        _ => Correction::Holm,
                    };
                }
            }
            "rate_test" => {
                if let Some(w) = word_value(kv, &["score", "pooled", "wald", "unpooled"], out) {
                    settings.rate_test = match w {
                        "pooled" => RateTest::Pooled,
                        "wald" | "unpooled" => RateTest::Wald,
                        _ => RateTest::Score,
                    };
                }
            }
            "relative_ci" => {
                if let Some(w) = word_value(kv, &["delta", "fieller", "log"], out) {
                    settings.relative_ci = match w {
                        "fieller" => RelativeCi::Fieller,
                        "log" => RelativeCi::Log,
                        _ => RelativeCi::Delta,
                    };
                }
            }
            "prior" => {
                if let Some(prior) = beta_prior(kv, out) {
                    settings.prior = prior;
                }
            }
            _ => {
                let mut d = Diagnostic::error(
                    "xos::check::unknown_setting",
                    format!("unknown setting `{}`", kv.key.name),
                )
                .label(kv.key.span, "not a setting");
                d = match did_you_mean(&kv.key.name, SETTING_KEYS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("the settings are {}", list(&SETTING_KEYS))),
                };
                out.push(d);
            }
        }
    }
    if (warning_at.is_some() || blocked_at.is_some()) && settings.srm_blocked > settings.srm_warning
    {
        let mut d = Diagnostic::error(
            "xos::check::srm_thresholds",
            "`srm_blocked` is above `srm_warning`",
        )
        .help(format!(
            "health is `blocked` below `srm_blocked` and `warning` below `srm_warning`, so `srm_blocked` ({}) must be at most `srm_warning` ({})",
            settings.srm_blocked, settings.srm_warning
        ));
        if let Some(span) = blocked_at {
            d = d.label(span, "blocked threshold");
        }
        if let Some(span) = warning_at {
            d = if blocked_at.is_some() {
                d.secondary(span, "warning threshold")
            } else {
                d.label(span, "warning threshold")
            };
        }
        out.push(d);
    }
    // Assignment problems are graded upwards: more than `assignment_blocked`
    // of the units blocks, so it cannot be below the warning level.
    if (assignment_at.0.is_some() || assignment_at.1.is_some())
        && settings.assignment_blocked < settings.assignment_warning
    {
        let mut d = Diagnostic::error(
            "xos::check::assignment_thresholds",
            "`assignment_blocked` is below `assignment_warning`",
        )
        .help(format!(
            "health is `warning` above `assignment_warning` and `blocked` above `assignment_blocked` of the units, so `assignment_blocked` ({}) must be at least `assignment_warning` ({})",
            settings.assignment_blocked, settings.assignment_warning
        ));
        if let Some(span) = assignment_at.1.or(assignment_at.0) {
            d = d.label(span, "threshold set here");
        }
        out.push(d);
    }
}

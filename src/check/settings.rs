//! The `plan` block and the `settings` block: one checker that a spec's
//! `settings` and `xos.toml`'s `[settings]` both feed.
//!
//! Both arrive in one representation, an [`ast::OptionBlock`]: each key
//! with its typed value and spans in its own file. The parser builds it for
//! a spec; `config.rs` builds it from the TOML table (TOML numbers as
//! numbers, strings read by the grammar's `value` rule), so nothing is
//! printed and read back, and `xos.toml`'s problems point into `xos.toml`.

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

/// Largest `plan { daily_users }`: 10¹² units a day, so that the units of a
/// [`MAX_DURATION_DAYS`] duration (3.7·10¹⁶) stay exact counts.
pub const MAX_DAILY_UNITS: f64 = 1e12;

/// Longest `plan { duration }`, in days: a century. A longer one made the
/// units it collects overflow a count, and no experiment runs that long.
pub const MAX_DURATION_DAYS: f64 = 36_525.0;

pub(super) fn check_sample_plan(block: &ast::OptionBlock, out: &mut Vec<Diagnostic>) -> SamplePlan {
    let mut plan = SamplePlan {
        daily_units: None,
        power: 0.8,
        duration_days: None,
    };
    for kv in options_once(block, out) {
        match kv.key.name.as_str() {
            "daily_users" => {
                if let Some(n) = number_value(kv, out)
                    && unit_in(kv, n, &[Unit::None], "a plain number of units per day", out)
                        .is_some()
                    // From one unit a day (below it, the days to a
                    // plan's sample no longer fit in a count) to 10¹²
                    // (so that a century of them still does).
                    && let Some(v) = in_range(
                        kv,
                        n,
                        (1.0..=MAX_DAILY_UNITS).contains(&n.value),
                        "a number of units per day from 1 to 1e12",
                        out,
                    )
                {
                    plan.daily_units = Some(v);
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
                    // Below 50 %, (z_{1−α/2} + z_power)² no longer grows
                    // with the power (a power of 1e-10 needed more units
                    // than 80 %): as in `xos serve`'s calculator.
                    && let Some(v) = in_range(
                        kv,
                        n,
                        n.value >= 0.5 && n.value < 1.0,
                        "a power from 50% up to (not including) 100%",
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
                    && let Some(v) = in_range(
                        kv,
                        n,
                        n.value > 0.0 && n.value <= MAX_DURATION_DAYS,
                        "a number of days above 0, at most 36_525 (a century)",
                        out,
                    )
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

/// The declared `duration` against the rest of the plan: without
/// `daily_users` it cannot be turned into units (an error); shorter than
/// the days the primary's MDE needs, the test is underpowered (a warning).
pub(super) fn duration_against_sample(
    plan: &crate::plan::Plan,
    decl: &ast::OptionsDecl,
    out: &mut Vec<Diagnostic>,
) {
    let Some(kv) = decl
        .block
        .options
        .iter()
        .find(|kv| kv.key.name == "duration")
    else {
        return;
    };
    let Some(sample_plan) = &plan.sample_plan else {
        return;
    };
    let Some(days) = sample_plan.duration_days else {
        return;
    };
    let Some(daily) = sample_plan.daily_units else {
        out.push(
            Diagnostic::error(
                "xos::check::duration_without_daily_users",
                "`duration` needs `daily_users` to say how many units it collects",
            )
            .label(kv.span, "a planned duration in days")
            .help(
                "add `daily_users N` (units entering per day, all arms) to the `plan` block: the \
                 duration then sets the units at which `plan.sample_reached` holds",
            ),
        );
        return;
    };
    let Ok(sample) = crate::sample_size::planned_sample(plan) else {
        return;
    };
    let Some(needed) = sample.days else { return };
    if days < needed as f64 {
        out.push(
            Diagnostic::warning(
                "xos::check::short_duration",
                format!(
                    "the planned duration of {} is shorter than the {} the primary's MDE needs at \
                     {} a day",
                    crate::numbers::days(days),
                    crate::numbers::days(needed as f64),
                    crate::numbers::units(daily.round() as u64),
                ),
            )
            .label(
                kv.span,
                format!("{} needed", crate::numbers::days(needed as f64)),
            )
            .help(format!(
                "the test stops with less than the planned {}% power to detect the MDE: run for \
                 `duration {needed}d`, or accept a larger `mde`",
                crate::numbers::written(sample.power * 100.0)
            )),
        );
    }
}

/// Why the plan has no planned total: no `plan` block, or the primary's
/// planning inputs give none; `None` when it has one.
pub(super) fn why_no_planned_total(plan: &crate::plan::Plan) -> Option<String> {
    match (&plan.sample_plan, crate::sample_size::planned_sample(plan)) {
        (None, _) => Some("no `plan` block".to_string()),
        (Some(_), Err(crate::sample_size::NoPlan(why))) => Some(why),
        (Some(_), Ok(_)) => None,
    }
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
    // What each input is, never a number: the values come from the
    // team's own past data, and an invented one would size the test wrongly.
    let meaning = |name: &str| match name {
        "`mde`" => "`mde` (the smallest change worth detecting: absolute, or `relative`)",
        "`baseline`" => "`baseline` (the control's expected value, from past data)",
        "`sd`" => "`sd` (the standard deviation of the value per unit, from past data)",
        "`mean_y`" => "`mean_y` (the mean denominator per unit)",
        "`sd_x`" => "`sd_x` (the per-unit standard deviation of the numerator)",
        "`sd_y`" => "`sd_y` (the per-unit standard deviation of the denominator)",
        _ => "`correlation` (the per-unit correlation of numerator and denominator)",
    };
    let wanted: Vec<&str> = missing.iter().map(|m| meaning(m)).collect();
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
        .help(format!("give the primary {}", wanted.join("; "))),
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
                    if v > crate::stats::bayes::MAX_DRAWS {
                        out.push(
                            Diagnostic::error(
                                "xos::check::out_of_range",
                                "`draws` is above 10,000,000",
                            )
                            .label(kv.value.span(), "too many Monte Carlo draws")
                            .help(
                                "the credible interval keeps every draw in memory (8 bytes \
                                 each); 100000 (the default) puts the bounds within about 0.2 % of \
                                 the width of a near-normal interval",
                            ),
                        );
                    } else {
                        settings.draws = v;
                    }
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

#[cfg(test)]
mod tests {
    use super::super::testing::{block, codes};
    use super::*;

    #[test]
    fn settings_apply_on_top_of_the_defaults() {
        let mut settings = Settings::default();
        let mut out = Vec::new();
        let options = block(&[
            ("alpha", "1%"),
            ("correction", "bonferroni"),
            ("prior", "beta(2, 3)"),
            ("min_units", "500"),
        ]);
        apply_settings(&mut settings, &options, &mut out);
        assert!(out.is_empty(), "{:?}", codes(&out));
        assert_eq!(settings.alpha, 0.01);
        assert_eq!(settings.correction, Correction::Bonferroni);
        assert_eq!(settings.prior, (2.0, 3.0));
        assert_eq!(settings.min_units, 500);
        assert_eq!(settings.rate_test, Settings::default().rate_test);
    }

    #[test]
    fn unknown_settings_get_a_suggestion() {
        let mut out = Vec::new();
        apply_settings(
            &mut Settings::default(),
            &block(&[("alpa", "5%")]),
            &mut out,
        );
        assert_eq!(codes(&out), ["xos::check::unknown_setting"]);
        assert_eq!(out[0].help.as_deref(), Some("did you mean `alpha`?"));
    }

    #[test]
    fn thresholds_must_be_ordered() {
        let mut out = Vec::new();
        let options = block(&[("srm_warning", "0.001"), ("srm_blocked", "0.01")]);
        apply_settings(&mut Settings::default(), &options, &mut out);
        assert_eq!(codes(&out), ["xos::check::srm_thresholds"]);
        let mut out = Vec::new();
        let options = block(&[("alpha", "0.6")]);
        apply_settings(&mut Settings::default(), &options, &mut out);
        assert_eq!(codes(&out), ["xos::check::out_of_range"]);
    }

    #[test]
    fn a_plan_block_reads_units_per_day_power_and_duration() {
        let mut out = Vec::new();
        let options = block(&[
            ("daily_users", "2000"),
            ("power", "90%"),
            ("duration", "14d"),
        ]);
        let plan = check_sample_plan(&options, &mut out);
        assert!(out.is_empty(), "{:?}", codes(&out));
        assert_eq!(plan.daily_units, Some(2000.0));
        assert_eq!(plan.power, 0.9);
        assert_eq!(plan.duration_days, Some(14.0));
        let plan = check_sample_plan(&block(&[("power", "2")]), &mut out);
        assert_eq!(plan.power, 0.8);
        assert_eq!(codes(&out), ["xos::check::out_of_range"]);
        // Below 50 % a higher power would need fewer units.
        for low in ["49%", "0.025"] {
            let mut out = Vec::new();
            let plan = check_sample_plan(&block(&[("power", low)]), &mut out);
            assert_eq!(plan.power, 0.8);
            assert_eq!(codes(&out), ["xos::check::out_of_range"], "{low}");
        }
        let mut out = Vec::new();
        assert_eq!(
            check_sample_plan(&block(&[("power", "50%")]), &mut out).power,
            0.5
        );
        assert!(out.is_empty());
    }
}

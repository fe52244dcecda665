//! Metric declarations: kinds, roles, directions, thresholds and planning
//! inputs.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Span, did_you_mean};
use crate::plan::{Direction, Effect, Metric, MetricKind, RatioInputs, Role};
use crate::stats::power;
use crate::syntax::ast::{self, Unit};

use super::values::duplicate;
use super::values::{
    effect_value, in_range, number_value, options_once, padded_name, text_value, unit_in,
    unknown_option, word_value,
};

// ---------------------------------------------------------------- metrics

/// What rules need to know about a declared metric.
#[derive(Clone, Debug)]
pub(super) struct MetricInfo {
    pub(super) name: String,
    pub(super) role: Role,
    pub(super) is_rate: bool,
    /// The direction the metric prefers: `prefer` as written, else lower
    /// for a guardrail and higher otherwise.
    pub(super) prefer: Direction,
}

pub(super) fn check_metrics(
    decls: &[&ast::MetricDecl],
    experiment: &ast::Experiment,
    out: &mut Vec<Diagnostic>,
) -> (Option<Vec<Metric>>, Vec<MetricInfo>) {
    let mut ok = true;
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut primaries: Vec<&ast::MetricDecl> = Vec::new();
    let mut unique: Vec<&ast::MetricDecl> = Vec::new();
    for decl in decls {
        if let Some(first) = seen.get(decl.name.name.as_str()) {
            out.push(duplicate("metric", &decl.name.name, *first, decl.name.span));
            ok = false;
            continue;
        }
        seen.insert(&decl.name.name, decl.name.span);
        if RESERVED_NAMES.contains(&decl.name.name.as_str()) {
            out.push(
                Diagnostic::error(
                    "xos::check::reserved_name",
                    format!("`{}` cannot name a metric", decl.name.name),
                )
                .label(decl.name.span, "a name rules already use")
                .help(format!(
                    "rules read `{}` as a fact or a value, so a metric of this name could not be read; choose another name",
                    decl.name.name
                )),
            );
            ok = false;
        }
        if decl.role == ast::Role::Primary {
            primaries.push(decl);
        }
        unique.push(decl);
    }
    match primaries.as_slice() {
        [] => {
            out.push(
                Diagnostic::error(
                    "xos::check::missing_primary",
                    "the experiment has no primary metric",
                )
                .label(experiment.name.span, "no `primary` in this experiment")
                .help("declare exactly one, e.g. `primary conversion = rate(conversions)`"),
            );
            ok = false;
        }
        [_] => {}
        [first, rest @ ..] => {
            for other in rest {
                out.push(
                    Diagnostic::error("xos::check::multiple_primaries", "the experiment has more than one primary metric")
                        .label(other.role_span, "a second `primary`")
                        .secondary(first.role_span, "the first `primary`")
                        .help("an experiment decides on one primary metric; declare the others as `metric` or `guardrail`"),
                );
            }
            ok = false;
        }
    }
    // Plan order: the primary first, then the rest in spec order.
    unique.sort_by_key(|d| d.role != ast::Role::Primary);
    let infos: Vec<MetricInfo> = unique
        .iter()
        .map(|d| MetricInfo {
            name: d.name.name.clone(),
            role: plan_role(d.role),
            is_rate: d.kind.name == ast::KindName::Rate,
            prefer: declared_prefer(d),
        })
        .collect();
    let mut metrics = Vec::new();
    for decl in &unique {
        match check_metric(decl, out) {
            Some(m) => metrics.push(m),
            None => ok = false,
        }
    }
    (ok.then_some(metrics), infos)
}

/// Words rules give a meaning of their own: fact roots and literals.
const RESERVED_NAMES: [&str; 15] = [
    "primary",
    "srm",
    "plan",
    "settings",
    "health",
    "guardrail",
    "true",
    "false",
    "healthy",
    "warning",
    "blocked",
    "ok",
    "worsened",
    "severe",
    "otherwise",
];

fn plan_role(role: ast::Role) -> Role {
    match role {
        ast::Role::Primary => Role::Primary,
        ast::Role::Metric => Role::Secondary,
        ast::Role::Guardrail => Role::Guardrail,
    }
}

/// The direction `decl` prefers, as [`check_metric`] reads it (an invalid
/// `prefer` is reported there).
fn declared_prefer(decl: &ast::MetricDecl) -> Direction {
    let written = decl
        .options
        .iter()
        .flat_map(|block| &block.options)
        .filter(|kv| kv.key.name == "prefer")
        .find_map(|kv| match &kv.value {
            ast::Value::Word(w) if w.name == "lower" => Some(Direction::Lower),
            ast::Value::Word(w) if w.name == "higher" => Some(Direction::Higher),
            _ => None,
        });
    written.unwrap_or(if decl.role == ast::Role::Guardrail {
        Direction::Lower
    } else {
        Direction::Higher
    })
}

fn check_metric(decl: &ast::MetricDecl, out: &mut Vec<Diagnostic>) -> Option<Metric> {
    let role = plan_role(decl.role);
    let kind_name = decl.kind.name;
    let is_rate = kind_name == ast::KindName::Rate;
    let kind = metric_kind(&decl.kind, out)?;
    let mut metric = Metric {
        name: decl.name.name.clone(),
        role,
        kind,
        prefer: if role == Role::Guardrail {
            Direction::Lower
        } else {
            Direction::Higher
        },
        baseline: None,
        mde: None,
        sd: None,
        ratio_inputs: RatioInputs::default(),
        covariate: None,
        cuped: None,
        unit: None,
        worsened: None,
        severe: None,
        margin: None,
    };
    let Some(block) = &decl.options else {
        return Some(metric);
    };
    let mut ok = true;
    let mut worsened_at = None;
    let mut severe_at = None;
    let mut covariate_at = None;
    let mut cuped_at: Option<Span> = None;
    let mut mde_at = None;
    for kv in options_once(block, out) {
        let key = kv.key.name.as_str();
        let guardrail_only = matches!(key, "worsened" | "severe" | "margin");
        if guardrail_only && role != Role::Guardrail {
            out.push(
                Diagnostic::error(
                    "xos::check::guardrail_option",
                    format!("`{key}` only applies to guardrails"),
                )
                .label(
                    kv.key.span,
                    format!("`{}` is a {} metric", decl.name.name, decl.role.keyword()),
                )
                .help(format!(
                    "declare the metric with `guardrail {} = ...` to give it thresholds",
                    decl.name.name
                )),
            );
            ok = false;
            continue;
        }
        let result = match key {
            "baseline" => number_value(kv, out).and_then(|n| {
                let baseline = if is_rate {
                    unit_in(kv, n, &[Unit::Percent, Unit::None], "a rate such as `12%`", out)?;
                    in_range(kv, n, n.value > 0.0 && n.value < 1.0, "a rate between 0% and 100%", out)?
                } else {
                    unit_in(kv, n, &[Unit::None], "a plain number in the metric's units", out)?
                };
                metric.baseline = Some(baseline);
                Some(())
            }),
            "mde" => effect_value(kv, kind_name, out).map(|e| {
                metric.mde = Some(e);
                mde_at = Some(kv.value.span());
            }),
            "sd" => number_value(kv, out).and_then(|n| {
                if is_rate {
                    out.push(
                        Diagnostic::error("xos::check::mean_only_option", "`sd` only applies to mean metrics")
                            .label(kv.key.span, "a rate's variance follows from its baseline")
                            .help("remove `sd`: for `rate(...)` metrics the planning variance is p(1 − p)"),
                    );
                    return None;
                }
                if kind_name == ast::KindName::Ratio {
                    out.push(
                        Diagnostic::error("xos::check::mean_only_option", "`sd` only applies to mean metrics")
                            .label(kv.key.span, "a ratio's variance follows from its numerator and denominator")
                            .help("give a ratio's planning inputs as `mean_y`, `sd_x`, `sd_y` and `correlation`"),
                    );
                    return None;
                }
                unit_in(kv, n, &[Unit::None], "a plain number in the metric's units", out)?;
                let sd = in_range(kv, n, n.value > 0.0, "a standard deviation above 0", out)?;
                metric.sd = Some(sd);
                Some(())
            }),
            "prefer" => word_value(kv, &["higher", "lower"], out).map(|w| {
                metric.prefer = if w == "lower" {
                    Direction::Lower
                } else {
                    Direction::Higher
                };
            }),
            "worsened" => effect_value(kv, kind_name, out).map(|e| {
                metric.worsened = Some(e);
                worsened_at = Some(kv.value.span());
            }),
            "severe" => effect_value(kv, kind_name, out).map(|e| {
                metric.severe = Some(e);
                severe_at = Some(kv.value.span());
            }),
            "margin" => effect_value(kv, kind_name, out).map(|e| metric.margin = Some(e)),
            "covariate" => covariate(kv, decl, out).map(|c| {
                metric.covariate = Some(c);
                covariate_at = Some(kv.key.span);
            }),
            "cuped" => number_value(kv, out).and_then(|n| {
                unit_in(kv, n, &[Unit::Percent, Unit::None], "a share such as `30%`", out)?;
                let share = in_range(kv, n, (0.0..1.0).contains(&n.value), "a share in [0%, 100%)", out)?;
                metric.cuped = Some(share);
                cuped_at = Some(kv.key.span);
                Some(())
            }),
            "mean_y" | "sd_x" | "sd_y" | "correlation" => ratio_input(kv, decl, &mut metric.ratio_inputs, out),
            "unit" => unit_label(kv, decl, out).map(|u| metric.unit = Some(u)),
            _ => {
                // A guardrail's thresholds first: what a guardrail is for.
                let mut known = if role == Role::Guardrail {
                    vec!["worsened", "severe", "margin"]
                } else {
                    Vec::new()
                };
                known.extend(["baseline", "mde", "prefer"]);
                match kind_name {
                    ast::KindName::Ratio => known.extend(["mean_y", "sd_x", "sd_y", "correlation"]),
                    ast::KindName::Mean => known.extend(["sd", "covariate", "cuped", "unit"]),
                    ast::KindName::Rate => known.extend(["covariate", "cuped"]),
                }
                let mut d = unknown_option(&kv.key, decl.role.keyword(), &known);
                if role != Role::Guardrail
                    && did_you_mean(&kv.key.name, ["worsened", "severe", "margin"]).is_some()
                {
                    d = d.help("thresholds (`worsened`, `severe`, `margin`) only apply to guardrails");
                }
                out.push(d);
                None
            }
        };
        ok &= result.is_some();
    }
    if let (Some(at), None) = (cuped_at, covariate_at) {
        out.push(
            Diagnostic::error(
                "xos::check::cuped_without_covariate",
                format!("`cuped` needs a `covariate` on `{}`", decl.name.name),
            )
            .label(at, "an expected variance reduction, but nothing to reduce it with")
            .help(
                "name the column of each unit's pre-experiment value, e.g. `covariate revenue_pre`, \
                 or remove `cuped`",
            ),
        );
        ok = false;
    }
    // The primary's only: `xos plan` sizes the experiment from it (a
    // guardrail's `mde` plans nothing, and its harm lies the other way).
    if is_rate
        && role == Role::Primary
        && let (Some(baseline), Some(mde), Some(at)) = (metric.baseline, metric.mde, mde_at)
        && let Some(d) = unreachable_rate(&decl.name.name, baseline, mde, metric.prefer, at)
    {
        out.push(d);
        ok = false;
    }
    if let (Some(w), Some(s), Some(ws), Some(ss)) =
        (metric.worsened, metric.severe, worsened_at, severe_at)
    {
        let below = match (w, s) {
            (Effect::Absolute(w), Effect::Absolute(s))
            | (Effect::Relative(w), Effect::Relative(s)) => s < w,
            _ => false,
        };
        if below {
            out.push(
                Diagnostic::error(
                    "xos::check::severe_below_worsened",
                    format!(
                        "the `severe` threshold of `{}` is smaller than its `worsened` threshold",
                        decl.name.name
                    ),
                )
                .label(ss, "severe threshold")
                .secondary(ws, "worsened threshold")
                .help(
                    "a severe guardrail is also worsened, so `severe` must be at least `worsened`",
                ),
            );
            ok = false;
        }
    }
    ok.then_some(metric)
}

/// A rate's `mde` that moves its `baseline` out of the rates, in the
/// direction the metric prefers (`baseline 99% mde 2pp` aims at 101 %): no
/// sample can detect it, so the plan would silently have no planned sample
/// and a fixed-horizon policy nothing to wait for. `None` when the target
/// rate is a rate (`stats::power::rate_effect_toward`).
fn unreachable_rate(
    name: &str,
    baseline: f64,
    mde: Effect,
    prefer: Direction,
    at: Span,
) -> Option<Diagnostic> {
    let (value, kind) = crate::sample_size::mde_kind(mde);
    let change = crate::sample_size::change_toward(prefer);
    if power::rate_effect_toward(baseline, value, kind, change).is_some() {
        return None;
    }
    let (target, _) = power::rate_target(baseline, value, kind, change);
    let room = match change {
        power::Change::Increase => 1.0 - baseline,
        power::Change::Decrease => baseline,
    };
    let percent = |x: f64| format!("{}%", crate::numbers::written(x * 100.0));
    Some(
        Diagnostic::error(
            "xos::check::unreachable_mde",
            format!(
                "the `mde` of `{name}` aims at a rate of {}, which no rate can reach",
                percent(target)
            ),
        )
        .label(
            at,
            format!(
                "from the baseline {} toward a {} rate",
                percent(baseline),
                match change {
                    power::Change::Increase => "higher",
                    power::Change::Decrease => "lower",
                }
            ),
        )
        .help(format!(
            "the change to detect must stay within the {}pp between the baseline and {}: give a \
             smaller `mde`, or check `baseline` and `prefer`",
            crate::numbers::written(room * 100.0),
            match change {
                power::Change::Increase => "100%",
                power::Change::Decrease => "0%",
            }
        )),
    )
}

/// `unit "ms"`: the unit a mean metric's values are in, printed by the
/// memo after every value and change. Mean metrics only (a rate is in %, a
/// ratio in the ratio of its columns); a short non-empty label.
fn unit_label(
    kv: &ast::KeyValue,
    decl: &ast::MetricDecl,
    out: &mut Vec<Diagnostic>,
) -> Option<String> {
    if decl.kind.name != ast::KindName::Mean {
        out.push(
            Diagnostic::error(
                "xos::check::mean_only_option",
                "`unit` only applies to mean metrics",
            )
            .label(
                kv.key.span,
                format!("`{}` is not a `mean(...)` metric", decl.name.name),
            )
            .help(
                "remove `unit`: a rate is shown in % and pp, a ratio as the ratio of its columns",
            ),
        );
        return None;
    }
    let ast::Value::String(text) = &kv.value else {
        out.push(
            Diagnostic::error("xos::check::wrong_value", "`unit` needs a quoted label")
                .label(kv.value.span(), "not accepted here")
                .help("write the unit in quotes, e.g. `unit \"ms\"` or `unit \"EUR\"`"),
        );
        return None;
    };
    let label = text.value.trim();
    if label.is_empty() || label.chars().count() > 12 || label.chars().any(char::is_control) {
        out.push(
            Diagnostic::error("xos::check::wrong_value", "`unit` needs a short label")
                .label(
                    text.span,
                    "empty, longer than 12 characters or with a control character",
                )
                .help("write a unit such as `unit \"ms\"`, `unit \"EUR\"` or `unit \"items\"`"),
        );
        return None;
    }
    Some(label.to_string())
}

/// The plan's kind of a metric, holding each kind to its number of columns:
/// one for `rate` and `mean`, two for `ratio`.
fn metric_kind(kind: &ast::MetricKind, out: &mut Vec<Diagnostic>) -> Option<MetricKind> {
    let column = kind.column.name.clone();
    let keyword = kind.name.keyword();
    let (needed, example) = match kind.name {
        ast::KindName::Ratio => (2, "`ratio(clicks, queries)`: clicks per query"),
        ast::KindName::Rate => (1, "`rate(conversions)`"),
        ast::KindName::Mean => (1, "`mean(revenue)`"),
    };
    let given = 1 + kind.more.len();
    if given != needed {
        let mut d = Diagnostic::error(
            "xos::check::metric_arguments",
            format!(
                "`{keyword}` takes {} column{}, found {given}",
                if needed == 1 { "one" } else { "two" },
                if needed == 1 { "" } else { "s" },
            ),
        )
        .label(
            kind.span,
            format!("{given} column{}", if given == 1 { "" } else { "s" }),
        )
        .help(format!("write {example}"));
        if kind.name != ast::KindName::Ratio && given == 2 {
            d = d.help(format!(
                "for a ratio of two per-unit sums, write `ratio({}, {})`",
                kind.column.name, kind.more[0].name
            ));
        }
        out.push(d);
        return None;
    }
    let padded: Vec<Diagnostic> = std::iter::once(&kind.column)
        .chain(&kind.more)
        .filter_map(|c| padded_name("column", &c.name, c.span))
        .collect();
    if !padded.is_empty() {
        out.extend(padded);
        return None;
    }
    Some(match kind.name {
        ast::KindName::Rate => MetricKind::Rate { column },
        ast::KindName::Mean => MetricKind::Mean { column },
        ast::KindName::Ratio => MetricKind::Ratio {
            numerator: column,
            denominator: kind.more[0].name.clone(),
        },
    })
}

/// `covariate C`: a column name, on a rate or mean metric.
fn covariate(
    kv: &ast::KeyValue,
    decl: &ast::MetricDecl,
    out: &mut Vec<Diagnostic>,
) -> Option<String> {
    if decl.kind.name == ast::KindName::Ratio {
        out.push(
            Diagnostic::error(
                "xos::check::covariate_on_ratio",
                format!(
                    "`covariate` does not apply to the ratio metric `{}`",
                    decl.name.name
                ),
            )
            .label(kv.key.span, "CUPED adjusts rate and mean metrics")
            .help(
                "remove `covariate`; to adjust the numerator alone, declare it as a \
                 `mean(...)` metric with the covariate",
            ),
        );
        return None;
    }
    if let ast::Value::String(name) = &kv.value
        && let Some(padded) = padded_name("covariate column", &name.value, name.span)
    {
        out.push(padded);
        return None;
    }
    let column = text_value(kv, out)?;
    if column == decl.kind.column.name {
        out.push(
            Diagnostic::error(
                "xos::check::covariate_is_metric",
                format!("`{}` cannot be its own covariate", column),
            )
            .label(kv.value.span(), "the metric's own column")
            .help("the covariate is the unit's value from before the experiment, in its own column (e.g. `revenue_pre`)"),
        );
        return None;
    }
    Some(column)
}

/// `mean_y`, `sd_x`, `sd_y`, `correlation`: planning inputs of a ratio.
fn ratio_input(
    kv: &ast::KeyValue,
    decl: &ast::MetricDecl,
    inputs: &mut RatioInputs,
    out: &mut Vec<Diagnostic>,
) -> Option<()> {
    let key = kv.key.name.as_str();
    if decl.kind.name != ast::KindName::Ratio {
        out.push(
            Diagnostic::error(
                "xos::check::ratio_only_option",
                format!("`{key}` only applies to ratio metrics"),
            )
            .label(
                kv.key.span,
                format!(
                    "`{}` is a {} metric",
                    decl.name.name,
                    decl.kind.name.keyword()
                ),
            )
            .help(if decl.kind.name == ast::KindName::Mean {
                "a mean metric's planning input is `sd`"
            } else {
                "a rate's planning variance follows from its `baseline`"
            }),
        );
        return None;
    }
    let n = number_value(kv, out)?;
    unit_in(kv, n, &[Unit::None], "a plain number", out)?;
    let (ok, expected, slot) = match key {
        "mean_y" => (
            n.value != 0.0,
            "a mean denominator per unit other than 0",
            &mut inputs.mean_y,
        ),
        "sd_x" => (
            n.value >= 0.0,
            "a standard deviation of at least 0",
            &mut inputs.sd_x,
        ),
        "sd_y" => (
            n.value >= 0.0,
            "a standard deviation of at least 0",
            &mut inputs.sd_y,
        ),
        _ => (
            (-1.0..=1.0).contains(&n.value),
            "a correlation between -1 and 1",
            &mut inputs.correlation,
        ),
    };
    *slot = Some(in_range(kv, n, ok, expected, out)?);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SPEC, codes, spec};
    use super::super::{LoadOptions, check_source};
    use crate::plan::{Effect, MetricKind, Role};

    #[test]
    fn the_primary_comes_first_with_its_planning_inputs() {
        let text = SPEC.replace(
            "    primary conversion",
            "    metric revenue = mean(revenue)\n    primary conversion",
        );
        let plan = check_source(&spec(&text), &LoadOptions::default())
            .unwrap()
            .plan;
        let names: Vec<&str> = plan.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["conversion", "revenue", "errors"]);
        let primary = &plan.metrics[0];
        assert_eq!(primary.role, Role::Primary);
        assert!(matches!(primary.kind, MetricKind::Rate { .. }));
        assert_eq!(primary.baseline, Some(0.1));
        assert!(matches!(primary.mde, Some(Effect::Absolute(x)) if (x - 0.01).abs() < 1e-12));
        assert!(matches!(plan.metrics[1].kind, MetricKind::Mean { .. }));
    }

    #[test]
    fn a_spec_needs_exactly_one_primary() {
        let text = SPEC.replace("primary conversion", "metric conversion");
        let errors = check_source(&spec(&text), &LoadOptions::default()).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::missing_primary"]);
    }

    #[test]
    fn severe_is_at_least_worsened() {
        let text = SPEC.replace("severe 0.3pp", "severe 0.05pp");
        let errors = check_source(&spec(&text), &LoadOptions::default()).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::severe_below_worsened"]);
    }

    #[test]
    fn fact_roots_are_reserved() {
        let text = SPEC.replace("guardrail errors", "guardrail primary");
        let errors = check_source(&spec(&text), &LoadOptions::default()).unwrap_err();
        assert!(
            codes(&errors.0).contains(&"xos::check::reserved_name"),
            "{:?}",
            codes(&errors.0)
        );
    }
}

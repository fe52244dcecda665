//! The `sequential` block of a spec and `[sequential]` of `xos.toml`:
//!
//! ```xos
//! sequential {
//!     method    group_sequential   // or always_valid
//!     tuning    50_000             // always_valid: units where the interval is tightest
//!     spending  obrien_fleming     // group_sequential: obrien_fleming | pocock
//!     max_units 100_000            // group_sequential: units at which all α is spent
//! }
//! ```
//!
//! A spec's block overrides `xos.toml`'s key by key. Whether a
//! `group_sequential` design has a `max_units` (given, or the plan's total) is
//! checked once the plan is assembled ([`check_design`]).

use crate::diagnostic::{Diagnostic, Span};
use crate::plan::{Plan, Sequential, SequentialMethod};
use crate::stats::sequential::Spending;
use crate::syntax::ast;

use super::values::{count, options_once, unknown_option, word_value};

/// The keys of a `sequential` block, in documentation order.
pub const SEQUENTIAL_KEYS: [&str; 4] = ["method", "tuning", "spending", "max_units"];

/// A `sequential` block applied on top of `base` (the `xos.toml` defaults,
/// or none). Without a `method` anywhere the block is an error: it must say
/// which inference it asks for.
pub(super) fn check_sequential(
    base: Option<Sequential>,
    block: &ast::OptionBlock,
    keyword: Span,
    out: &mut Vec<Diagnostic>,
) -> Option<Sequential> {
    let mut method = base.map(|b| b.method);
    let mut sequential = base.unwrap_or(Sequential {
        method: SequentialMethod::AlwaysValid,
        tuning: None,
        spending: Spending::OBrienFleming,
        max_units: None,
    });
    let mut errors = false;
    for kv in options_once(block, out) {
        let before = out.len();
        match kv.key.name.as_str() {
            "method" => {
                if let Some(w) = word_value(kv, &["always_valid", "group_sequential"], out) {
                    method = Some(if w == "always_valid" {
                        SequentialMethod::AlwaysValid
                    } else {
                        SequentialMethod::GroupSequential
                    });
                }
            }
            "tuning" => {
                if let Some(n) = count(kv, out, 1) {
                    sequential.tuning = Some(n);
                }
            }
            "spending" => {
                if let Some(w) = word_value(kv, &["obrien_fleming", "pocock"], out) {
                    sequential.spending = if w == "pocock" {
                        Spending::Pocock
                    } else {
                        Spending::OBrienFleming
                    };
                }
            }
            "max_units" => {
                if let Some(n) = count(kv, out, 1) {
                    sequential.max_units = Some(n);
                }
            }
            _ => out.push(unknown_option(&kv.key, "sequential", &SEQUENTIAL_KEYS)),
        }
        errors |= out.len() > before;
    }
    let Some(method) = method else {
        if !errors {
            out.push(
                Diagnostic::error(
                    "xos::check::sequential_method",
                    "the `sequential` block does not say which method",
                )
                .label(keyword, "which sequential inference?")
                .help("add `method always_valid` (valid at any look, no history needed) or `method group_sequential` (α spent over looks up to `max_units`)"),
            );
        }
        return None;
    };
    sequential.method = method;
    Some(sequential)
}

/// `group_sequential` spends all α at `max_units`: without it and without a
/// computable plan, there is no design. `at` is the block's keyword, or the
/// experiment's name when the method comes from `xos.toml`.
pub(super) fn check_design(plan: &Plan, at: Span, out: &mut Vec<Diagnostic>) {
    let Some(sequential) = plan.sequential else {
        return;
    };
    // The sequential methods are defined on the Wald / Welch standard error
    // of a rate or a mean; a ratio or a CUPED-adjusted metric would silently
    // fall back to something else, so it is refused.
    for metric in &plan.metrics {
        let kind = if matches!(metric.kind, crate::plan::MetricKind::Ratio { .. }) {
            "a ratio metric"
        } else if metric.covariate.is_some() {
            "a metric with a CUPED covariate"
        } else {
            continue;
        };
        out.push(
            Diagnostic::error(
                "xos::check::sequential_metric_kind",
                format!("`sequential` inference does not support `{}`, {kind}", metric.name),
            )
            .label(at, "sequential inference declared here")
            .help("sequential inference covers rate and mean metrics without a covariate; remove the `sequential` block or decide on this metric at the planned sample"),
        );
    }
    // Both sequential methods form the relative interval by the delta method
    // (DESIGN §2); a Fieller or log request would be silently ignored.
    if plan.settings.relative_ci != crate::plan::RelativeCi::Delta {
        out.push(
            Diagnostic::error(
                "xos::check::sequential_relative_ci",
                format!(
                    "`relative_ci {}` cannot be honoured under `sequential` inference",
                    plan.settings.relative_ci.keyword()
                ),
            )
            .label(at, "sequential inference declared here")
            .help("sequential inference forms the relative interval by the delta method: use `relative_ci delta` (the default), or remove the `sequential` block"),
        );
    }
    if sequential.method != SequentialMethod::GroupSequential || sequential.max_units.is_some() {
        return;
    }
    if let Some(why) = super::settings::why_no_planned_total(plan) {
        out.push(
            Diagnostic::error(
                "xos::check::sequential_max_units",
                "`group_sequential` needs the total units at which all α is spent",
            )
            .label(at, format!("no `max_units`, and no planned total: {why}"))
            .help("add `max_units 100_000` to the `sequential` block, or a `plan` block with the primary's `baseline` and `mde` (its total is the default)"),
        );
    }
}

//! `[require]` of `xos.toml` checked on one spec: organisation-wide
//! requirements (guardrails, α, approved policy folders, hypothesis, a
//! sample plan).

use std::path::{Path, PathBuf};

use super::config::Config;
use crate::diagnostic::Diagnostic;
use crate::numbers;
use crate::plan::{Plan, PolicyOrigin};
use crate::syntax::ast;

/// The organisation's requirements (`[require]` of `config`) checked on one
/// spec. Each violation is an error pointing at the spec: at the item at
/// fault, or at the experiment's name; the help names the toml.
pub(super) fn check_requirements(
    config: &Config,
    experiment: &ast::Experiment,
    plan: &Plan,
) -> Vec<Diagnostic> {
    let require = &config.require;
    let toml = config.path.display().to_string();
    let header = experiment.name.span;
    let name = &plan.name;
    let mut out = Vec::new();

    if let Some(min) = require.min_guardrails {
        let count = plan.guardrails().count() as u64;
        if count < min {
            out.push(
                Diagnostic::error(
                    "xos::require::min_guardrails",
                    format!(
                        "experiment `{name}` has {count} guardrail{}, fewer than the {min} required",
                        if count == 1 { "" } else { "s" }
                    ),
                )
                .label(header, format!("declares {count} guardrail{}", if count == 1 { "" } else { "s" }))
                .help(format!(
                    "`{toml}` requires `min_guardrails = {min}`: add a guardrail, e.g. `guardrail cancel_rate = rate(cancellations) {{ worsened 0.1pp severe 0.3pp }}`"
                )),
            );
        }
    }

    if let Some(max) = require.max_alpha
        && plan.settings.alpha > max * (1.0 + 1e-12)
    {
        let written = experiment.items.iter().find_map(|item| match item {
            ast::Item::Settings(decl) => decl
                .block
                .options
                .iter()
                .find(|kv| kv.key.name == "alpha")
                .map(|kv| kv.value.span()),
            _ => None,
        });
        let alpha = numbers::number(plan.settings.alpha);
        let max_text = numbers::number(max);
        let d = Diagnostic::error(
            "xos::require::max_alpha",
            format!("`alpha` is {alpha}, above the {max_text} allowed"),
        );
        let d = match written {
            Some(span) => d.label(span, format!("above {max_text}")),
            None => d.label(
                header,
                format!("`alpha` {alpha} comes from `[settings]` in `{toml}`"),
            ),
        };
        out.push(d.help(format!(
            "`{toml}` requires `max_alpha = {max_text}`: a higher α makes false launches more likely; lower `alpha`"
        )));
    }

    if let Some(folders) = &require.policy_in {
        let allowed = |path: &Path| {
            let path = canonical(path);
            folders
                .iter()
                .any(|(dir, _)| path.starts_with(canonical(dir)))
        };
        let ok = match &plan.policy.origin {
            PolicyOrigin::File(path) => allowed(path),
            PolicyOrigin::BuiltIn => false,
        };
        if !ok {
            let list: Vec<String> = folders.iter().map(|(_, w)| format!("`{w}`")).collect();
            let reference = experiment.items.iter().find_map(|item| match item {
                ast::Item::Policy(decl) => Some((decl.path.span, decl.path.value.clone())),
                _ => None,
            });
            let message = match (&plan.policy.origin, &reference) {
                (PolicyOrigin::BuiltIn, _) => format!(
                    "experiment `{name}` uses the built-in policy, not one from an approved folder"
                ),
                (PolicyOrigin::File(_), Some((_, written))) => {
                    format!("policy `{written}` is not in an approved folder")
                }
                (PolicyOrigin::File(path), None) => {
                    format!("policy `{}` is not in an approved folder", path.display())
                }
            };
            let reference = reference.map(|(span, _)| span);
            let d = Diagnostic::error("xos::require::policy_in", message);
            let d = match (&plan.policy.origin, reference) {
                (PolicyOrigin::File(_), Some(span)) => d.label(span, "not in an approved folder"),
                _ => d.label(header, "the policy is not named in this spec"),
            };
            out.push(d.help(format!(
                "`{toml}` requires policies from {}: name one with `policy \"...\"`",
                list.join(", ")
            )));
        }
    }

    if require.hypothesis
        && plan
            .hypothesis
            .as_deref()
            .is_none_or(|h| h.trim().is_empty())
    {
        out.push(
            Diagnostic::error(
                "xos::require::hypothesis",
                format!("experiment `{name}` has no hypothesis"),
            )
            .label(header, "no `hypothesis`")
            .help(format!(
                "`{toml}` requires `require_hypothesis = true`: state what should change and why, e.g. `hypothesis \"A one-page checkout raises conversion.\"`"
            )),
        );
    }

    if require.plan {
        let block = experiment.items.iter().find_map(|item| match item {
            ast::Item::Plan(decl) => Some(decl.keyword_span),
            _ => None,
        });
        let problem = match (block, crate::sample_size::planned_sample(plan)) {
            (None, _) => Some("no `plan` block".to_string()),
            (Some(_), Err(crate::sample_size::NoPlan(why))) => Some(why),
            (Some(_), Ok(_)) => None,
        };
        if let Some(why) = problem {
            out.push(
                Diagnostic::error(
                    "xos::require::plan",
                    format!("experiment `{name}` has no sample plan"),
                )
                .label(block.unwrap_or(header), why)
                .help(format!(
                    "`{toml}` requires `require_plan = true`: add `plan {{ daily_users N power 80% }}` and give the primary `baseline` and `mde`"
                )),
            );
        }
    }
    out
}

/// The path made absolute and without `..`, as far as the file system can
/// tell; lexically absolute otherwise.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

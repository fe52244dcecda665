//! An experiment's items: header fields, `data`, `variants`, and the
//! assembly of the [`Plan`] from every checked part.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::plan::{DataSource, Missing, Plan, RuleSource, Settings, Shape, Variant};
use crate::syntax::ast::{self, Unit};

use super::LoadOptions;
use super::config::Config;
use super::expr::Scope;
use super::metric::check_metrics;
use super::policy::{
    PolicySite, check_margins, check_rule, check_test, load_policy, reachability_combined,
};
use super::settings::{apply_settings, check_sample_plan, plan_inputs};
use super::values::{
    duplicate, join_lines, once, options_once, padded_name, text_value, unknown_option, word_value,
};
use crate::numbers;

// ---------------------------------------------------------------- experiment

pub(super) fn check_experiment(
    source: &Arc<SourceFile>,
    experiment: &ast::Experiment,
    config: Option<&Config>,
    options: &LoadOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Plan> {
    let mut out: Vec<Diagnostic> = Vec::new();
    let spec_dir = source
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();

    // Header fields and the one-of-a-kind items.
    let mut title = None;
    let mut owner = None;
    let mut hypothesis = None;
    let mut data: Option<&ast::DataDecl> = None;
    let mut variants: Option<&ast::VariantsDecl> = None;
    let mut plan_decl: Option<&ast::OptionsDecl> = None;
    let mut settings_decl: Option<&ast::OptionsDecl> = None;
    let mut sequential_decl: Option<&ast::OptionsDecl> = None;
    let mut policy_ref: Option<&ast::PolicyRef> = None;
    let mut header_spans: HashMap<&'static str, Span> = HashMap::new();
    let mut item_spans: HashMap<&'static str, Span> = HashMap::new();
    let mut metric_decls = Vec::new();
    let mut rule_decls = Vec::new();
    let mut test_decls = Vec::new();

    for item in &experiment.items {
        match item {
            ast::Item::Header(field) => {
                let key = field.key.name();
                if let Some(first) = header_spans.get(key) {
                    out.push(duplicate("field", key, *first, field.key_span));
                    continue;
                }
                header_spans.insert(key, field.key_span);
                let value = join_lines(&field.value.value);
                match field.key {
                    ast::HeaderKey::Title => title = Some(value),
                    ast::HeaderKey::Owner => owner = Some(value),
                    ast::HeaderKey::Hypothesis => hypothesis = Some(value),
                }
            }
            ast::Item::Data(decl) => {
                if once(&mut item_spans, "data", decl.span, &mut out) {
                    data = Some(decl);
                }
            }
            ast::Item::Variants(decl) => {
                if once(&mut item_spans, "variants", decl.span, &mut out) {
                    variants = Some(decl);
                }
            }
            ast::Item::Plan(decl) => {
                if once(&mut item_spans, "plan", decl.keyword_span, &mut out) {
                    plan_decl = Some(decl);
                }
            }
            ast::Item::Settings(decl) => {
                if once(&mut item_spans, "settings", decl.keyword_span, &mut out) {
                    settings_decl = Some(decl);
                }
            }
            ast::Item::Sequential(decl) => {
                if once(&mut item_spans, "sequential", decl.keyword_span, &mut out) {
                    sequential_decl = Some(decl);
                }
            }
            ast::Item::Policy(decl) => {
                if once(&mut item_spans, "policy", decl.span, &mut out) {
                    policy_ref = Some(decl);
                }
            }
            ast::Item::Metric(decl) => metric_decls.push(decl),
            ast::Item::Rule(decl) => rule_decls.push(decl),
            ast::Item::Test(decl) => test_decls.push(decl),
        }
    }

    let data_decl = data;
    let spec = source;
    let data = check_data(data_decl, &spec_dir, options, experiment, &mut out).map(|mut source| {
        if options.data_override.is_none() {
            source.named_at = data_decl.map(|decl| (Arc::clone(spec), decl.path.span));
        }
        source
    });
    let variants = check_variants(variants, experiment, &mut out);
    // INVARIANT: `metrics` and `infos` list the primary first, so that
    // `primary` is metric id 0 as the plan promises.
    let (metrics, infos) = check_metrics(&metric_decls, experiment, &mut out);
    if let (Some(source), Some(metrics)) = (&data, &metrics) {
        // `unit_id` is rows-only: with aggregated data the data block
        // failed its check, and this is not reached.
        out.extend(LOOK.read_by_a_metric(data_decl, source, source.look.as_deref(), metrics));
        out.extend(UNIT_ID.read_by_a_metric(data_decl, source, source.unit_id.as_deref(), metrics));
    }
    let sample_plan = plan_decl.map(|decl| check_sample_plan(&decl.block, &mut out));
    if let (Some(decl), Some(metrics)) = (plan_decl, &metrics) {
        plan_inputs(decl, metrics, &mut out);
    }

    let mut settings = config.map_or_else(Settings::default, |c| c.settings.clone());
    if let Some(decl) = settings_decl {
        apply_settings(&mut settings, &decl.block, &mut out);
    }

    let config_sequential = config.and_then(|c| c.sequential);
    let sequential = match sequential_decl {
        Some(decl) => super::sequential::check_sequential(
            config_sequential,
            &decl.block,
            decl.keyword_span,
            &mut out,
        ),
        None => config_sequential,
    };

    let scope = Scope {
        metrics: &infos,
        policy_file: false,
        text: &source.text,
    };

    // Inline rules: checked in the spec, tried before the policy's.
    let mut inline_rules = Vec::new();
    let mut rule_names: HashMap<String, Span> = HashMap::new();
    for decl in &rule_decls {
        if let Some(first) = rule_names.get(&decl.name.name) {
            out.push(duplicate("rule", &decl.name.name, *first, decl.name.span));
            continue;
        }
        rule_names.insert(decl.name.name.clone(), decl.name.span);
        if let Some(rule) = check_rule(decl, &scope, RuleSource::Inline, &mut out) {
            inline_rules.push(rule);
        }
    }

    // The policy: named in the spec, else from xos.toml, else built in.
    let site = match (policy_ref, config.and_then(|c| c.policy.as_ref())) {
        (Some(reference), _) => Some(PolicySite {
            source: Arc::clone(source),
            span: reference.path.span,
            written: reference.path.value.clone(),
            resolved: spec_dir.join(&reference.path.value),
        }),
        (None, Some(from_config)) => Some(PolicySite {
            source: Arc::clone(&from_config.source),
            span: from_config.span,
            written: from_config.written.clone(),
            resolved: from_config.resolved.clone(),
        }),
        (None, None) => None,
    };
    // Every path the spec and its `xos.toml` name stays in the repository.
    let repository = super::paths::Repository::of(
        &source.path,
        config.map(|c| c.path.as_path()),
        options.allow_outside || config.is_some_and(|c| c.allow_outside),
        options.folders.as_deref(),
    );
    if let (Some(decl), None) = (data_decl, &options.data_override)
        && !crate::data::input::is_stdin(Path::new(&decl.path.value))
        && let Some(d) = repository.check(
            &spec_dir.join(&decl.path.value),
            &decl.path.value,
            decl.path.span,
            "data file",
        )
    {
        out.push(d);
    }
    let mut policy_outside = false;
    if let Some(site) = &site
        && let Some(d) = repository.check(&site.resolved, &site.written, site.span, "policy")
    {
        diagnostics.push(d.in_file(&site.source));
        policy_outside = true;
    }
    for (what, span, written, resolved) in config.map_or(&[][..], |c| &c.folders[..]) {
        if let (Some(d), Some(config)) = (repository.check(resolved, written, *span, what), config)
        {
            diagnostics.push(d.in_file(&config.source));
        }
    }
    let mut policy_out = Vec::new();
    // A policy outside the repository is not read.
    let policy = if policy_outside {
        None
    } else {
        load_policy(site.as_ref(), &scope, &mut policy_out)
    };

    let mut test_out = Vec::new();
    let policy = policy.map(|(mut policy, policy_source)| {
        // Rule names must be unique across the spec and the policy, so that
        // the memo's "rule that fired" is unambiguous.
        for rule in &policy.rules {
            if let Some(first) = rule_names.get(&rule.name) {
                out.push(
                    Diagnostic::error(
                        "xos::check::duplicate_rule",
                        format!("rule `{}` is also defined by policy `{}`", rule.name, policy.name),
                    )
                    .label(*first, "this inline rule")
                    .help("rename the inline rule: the memo names the rule that fired, so names must be unique"),
                );
            }
        }
        let mut all_rules = inline_rules.clone();
        all_rules.append(&mut policy.rules);
        policy.rules = all_rules;
        let mut tests = Vec::new();
        let mut names: HashMap<String, Span> = HashMap::new();
        for decl in &test_decls {
            if let Some(first) = names.get(&decl.name.name) {
                test_out.push(duplicate("test", &decl.name.name, *first, decl.name.span));
                continue;
            }
            names.insert(decl.name.name.clone(), decl.name.span);
            if let Some(test) = check_test(decl, &scope, RuleSource::Inline, &policy, &mut test_out) {
                tests.push(test);
            }
        }
        tests.append(&mut policy.tests);
        policy.tests = tests;
        (policy, policy_source)
    });

    // Reachability over the combined list, and margins for non_inferior.
    if let Some((policy, policy_source)) = &policy {
        let mut inline_out = Vec::new();
        let mut file_out = Vec::new();
        reachability_combined(&policy.rules, &mut inline_out, &mut file_out);
        out.extend(inline_out);
        if let Some(policy_source) = policy_source {
            for d in file_out {
                policy_out.push(d.in_file(policy_source));
            }
        }
        check_margins(policy, &metric_decls, &metrics, &mut out);
    }

    out.extend(test_out);
    for d in out {
        diagnostics.push(d.in_file(source));
    }
    for d in policy_out {
        diagnostics.push(d);
    }

    let (policy, _) = policy?;
    let (data, variants, metrics) = (data?, variants?, metrics?);
    let plan = Plan {
        name: experiment.name.name.clone(),
        title,
        owner,
        hypothesis,
        spec_path: source.path.clone(),
        data,
        variants,
        metrics,
        primary: 0,
        sample_plan,
        sequential,
        settings,
        policy,
        config: config.map(|c| c.path.clone()),
        templates: config.and_then(|c| c.templates.clone()),
        output: config.and_then(|c| c.output.clone()),
        generic: false,
    };
    let mut design_out = Vec::new();
    let at = sequential_decl.map_or(experiment.name.span, |d| d.keyword_span);
    super::sequential::check_design(&plan, at, &mut design_out);
    if let Some(decl) = plan_decl {
        super::settings::duration_against_sample(&plan, decl, &mut design_out);
    }
    for d in design_out {
        diagnostics.push(d.in_file(source));
    }
    // Organisation-wide requirements: `[require]` of `xos.toml`.
    if let Some(config) = config {
        for d in super::requirements::check_requirements(config, experiment, &plan) {
            diagnostics.push(d.in_file(source));
        }
    }
    Some(plan)
}

// ---------------------------------------------------------------- data

/// A `data` option that names a column of its own (`look`, `unit_id`),
/// which no other role of the data and no metric may read.
struct OwnColumn {
    /// The option.
    key: &'static str,
    /// The code of its diagnostics.
    code: &'static str,
    /// How the messages name the column.
    called: &'static str,
    /// What the column holds.
    holds: &'static str,
}

const LOOK: OwnColumn = OwnColumn {
    key: "look",
    code: "xos::check::look_column",
    called: "the look column",
    holds: "each row's look (a day, a date)",
};

/// A `unit_id` column read for something else: the mixed-assignment check
/// then counted those values as units (a rate's 0 and 1) and silently
/// found nothing, or everything.
const UNIT_ID: OwnColumn = OwnColumn {
    key: "unit_id",
    code: "xos::check::unit_id_column",
    called: "the `unit_id` column",
    holds: "each unit's id (a user id)",
};

impl OwnColumn {
    /// `column`, named by this option at `span`, is also `what`.
    fn also(&self, column: &str, what: &str, span: Span, label: &str) -> Diagnostic {
        Diagnostic::error(
            self.code,
            format!("{} `{column}` is also {what}", self.called),
        )
        .label(span, label)
        .help(format!(
            "`{}` names the column holding {}; give it that column",
            self.key, self.holds
        ))
    }

    /// `column` is one of `taken` (another role's column, with how the
    /// message names it).
    fn taken<'a>(
        &self,
        column: &str,
        span: Span,
        taken: impl IntoIterator<Item = (&'a String, &'a str)>,
    ) -> Option<Diagnostic> {
        let (_, what) = taken.into_iter().find(|(other, _)| *other == column)?;
        Some(self.also(
            column,
            what,
            span,
            "names a column already read for something else",
        ))
    }

    /// `column` is also read by a metric: its values would be read both as
    /// this option's and as the metric's.
    fn read_by_a_metric(
        &self,
        decl: Option<&ast::DataDecl>,
        source: &DataSource,
        column: Option<&str>,
        metrics: &[crate::plan::Metric],
    ) -> Option<Diagnostic> {
        let column = column?;
        let metric = metrics.iter().find(|m| match source.shape {
            Shape::Rows => crate::plan::row_columns(m).contains(&column),
            Shape::Aggregated => crate::plan::aggregated_columns(m)
                .iter()
                .any(|c| c == column),
        })?;
        let span = data_option_span(decl, self.key)?;
        Some(self.also(
            column,
            &format!("read by metric `{}`", metric.name),
            span,
            "names a column a metric reads",
        ))
    }
}

/// Where the `data` block's option `key` is written, key and value.
fn data_option_span(decl: Option<&ast::DataDecl>, key: &str) -> Option<Span> {
    let kv = decl?
        .options
        .as_ref()?
        .options
        .iter()
        .find(|kv| kv.key.name == key)?;
    Some(kv.span)
}

fn check_data(
    decl: Option<&ast::DataDecl>,
    spec_dir: &Path,
    options: &LoadOptions,
    experiment: &ast::Experiment,
    out: &mut Vec<Diagnostic>,
) -> Option<DataSource> {
    let (path, written) = match (&options.data_override, decl) {
        (Some(path), _) => (path.clone(), path.display().to_string()),
        (None, Some(decl)) => (spec_dir.join(&decl.path.value), decl.path.value.clone()),
        (None, None) => {
            out.push(
                Diagnostic::error("xos::check::missing_data", "the experiment names no data")
                    .label(experiment.name.span, "no `data` in this experiment")
                    .help("add `data \"results.csv\"` (relative to this file), or pass `--data`"),
            );
            return None;
        }
    };
    let mut source = DataSource::aggregated(path, written, options.data_override.is_some());
    let Some(block) = decl.and_then(|d| d.options.as_ref()) else {
        return Some(source);
    };
    let mut ok = true;
    let mut unit_id_span = None;
    let mut missing_span = None;
    let mut look_span = None;
    for kv in options_once(block, out) {
        let key = kv.key.name.as_str();
        if matches!(key, "variant_column" | "units" | "unit_id" | "look")
            && let ast::Value::String(name) = &kv.value
            && let Some(padded) = padded_name(&format!("`{key}` column"), &name.value, name.span)
        {
            out.push(padded);
            ok = false;
            continue;
        }
        match key {
            "variant_column" => match text_value(kv, out) {
                Some(v) => source.variant_column = v,
                None => ok = false,
            },
            "units" => match text_value(kv, out) {
                Some(v) => source.units_column = v,
                None => ok = false,
            },
            "unit_id" => match text_value(kv, out) {
                Some(v) => {
                    source.unit_id = Some(v);
                    unit_id_span = Some(kv.key.span);
                }
                None => ok = false,
            },
            "look" => match text_value(kv, out) {
                Some(v) => {
                    source.look = Some(v);
                    look_span = Some(kv.span);
                }
                None => ok = false,
            },
            "shape" => match word_value(kv, &["aggregated", "rows"], out) {
                Some("rows") => source.shape = Shape::Rows,
                Some(_) => source.shape = Shape::Aggregated,
                None => ok = false,
            },
            "delimiter" => match delimiter(kv, out) {
                Some(d) => source.delimiter = d,
                None => ok = false,
            },
            "missing" => match word_value(kv, &["error", "zero"], out) {
                Some("zero") => {
                    source.missing = Missing::Zero;
                    missing_span = Some(kv.key.span);
                }
                Some(_) => missing_span = Some(kv.key.span),
                None => ok = false,
            },
            _ => {
                out.push(unknown_option(
                    &kv.key,
                    "data",
                    &[
                        "variant_column",
                        "units",
                        "shape",
                        "unit_id",
                        "missing",
                        "delimiter",
                        "look",
                    ],
                ));
                ok = false;
            }
        }
    }
    if let (Some(unit_id), Some(span)) = (&source.unit_id, unit_id_span)
        && let Some(d) = UNIT_ID.taken(
            unit_id,
            span,
            [(&source.variant_column, "the variant column")],
        )
    {
        out.push(d);
        ok = false;
    }
    if let (Some(look), Some(span)) = (&source.look, look_span)
        && let Some(d) = LOOK.taken(
            look,
            span,
            [
                (&source.variant_column, "the variant column"),
                (&source.units_column, "the units column"),
            ]
            .into_iter()
            .chain(source.unit_id.as_ref().map(|u| (u, "the `unit_id` column"))),
        )
    {
        out.push(d);
        ok = false;
    }
    if source.shape == Shape::Aggregated {
        for (span, key) in [(unit_id_span, "unit_id"), (missing_span, "missing")] {
            if let Some(span) = span {
                out.push(
                    Diagnostic::error(
                        "xos::check::rows_only_option",
                        format!("`{key}` only applies to row-level data"),
                    )
                    .label(span, "the data is aggregated (one row per variant)")
                    .help("add `shape rows` for one row per unit, or remove this option"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(source)
}

/// The separators `delimiter` accepts: what spreadsheet exports use.
const DELIMITERS: [(&str, u8); 4] = [(",", b','), (";", b';'), ("\\t", b'\t'), ("|", b'|')];

/// `delimiter ";"`: one of `,` `;` `|` or a tab (`"\t"`).
fn delimiter(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<u8> {
    let text = text_value(kv, out)?;
    let found = DELIMITERS
        .iter()
        .find(|(written, byte)| text == *written || text.as_bytes() == [*byte]);
    if let Some((_, byte)) = found {
        return Some(*byte);
    }
    out.push(
        Diagnostic::error(
            "xos::check::unknown_choice",
            format!("`{text}` is not a CSV delimiter xos reads"),
        )
        .label(kv.value.span(), "not a delimiter")
        .help("write `delimiter \",\"`, `\";\"`, `\"|\"` or `\"\\t\"` (a tab)"),
    );
    None
}

// ---------------------------------------------------------------- variants

fn check_variants(
    decl: Option<&ast::VariantsDecl>,
    experiment: &ast::Experiment,
    out: &mut Vec<Diagnostic>,
) -> Option<Vec<Variant>> {
    let Some(decl) = decl else {
        out.push(
            Diagnostic::error(
                "xos::check::missing_variants",
                "the experiment declares no variants",
            )
            .label(experiment.name.span, "no `variants` in this experiment")
            .help("add `variants { control 50% treatment 50% }`: the first variant is the control"),
        );
        return None;
    };
    let mut ok = true;
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut variants = Vec::new();
    for v in &decl.variants {
        if let Some(first) = seen.get(v.name.name.as_str()) {
            out.push(duplicate("variant", &v.name.name, *first, v.name.span));
            ok = false;
            continue;
        }
        seen.insert(&v.name.name, v.name.span);
        if let Some(padded) = padded_name("variant", &v.name.name, v.name.span) {
            out.push(padded);
            ok = false;
            continue;
        }
        let share = &v.share;
        if share.relative || !matches!(share.unit, Unit::Percent | Unit::None) {
            out.push(
                Diagnostic::error(
                    "xos::check::unit_mismatch",
                    format!("the share of `{}` must be a percentage", v.name.name),
                )
                .label(share.span, "not a share of traffic")
                .help("write the designed share of traffic, e.g. `50%`"),
            );
            ok = false;
            continue;
        }
        if !(share.value > 0.0 && share.value <= 1.0) {
            out.push(
                Diagnostic::error(
                    "xos::check::share_out_of_range",
                    format!("the share of `{}` is out of range", v.name.name),
                )
                .label(share.span, "must be more than 0% and at most 100%")
                .help("shares are percentages of traffic, e.g. `50%`; a plain number is a fraction (`0.5`)"),
            );
            ok = false;
            continue;
        }
        variants.push(Variant {
            name: v.name.name.clone(),
            share: share.value,
        });
    }
    if decl.variants.len() < 2 {
        out.push(
            Diagnostic::error(
                "xos::check::too_few_variants",
                "an experiment needs at least two variants",
            )
            .label(decl.span, format!("{} variant(s) declared", decl.variants.len()))
            .help("declare the control first and at least one treatment: `variants { control 50% treatment 50% }`"),
        );
        return None;
    }
    if !ok {
        return None;
    }
    let sum: f64 = variants.iter().map(|v| v.share).sum();
    if (sum - 1.0).abs() > 0.005 {
        let keyword = Span::new(decl.span.start, decl.span.start + "variants".len());
        let mut d = Diagnostic::error(
            "xos::check::shares_sum",
            format!("the variant shares sum to {}, not 100%", numbers::share(sum)),
        )
        .label(keyword, format!("these shares sum to {}", numbers::share(sum)))
        .help("the shares are the designed traffic split and must sum to 100% (within 0.5%); `33.3%` three times is an equal split");
        for v in &decl.variants {
            d = d.secondary(v.share.span, "");
        }
        out.push(d);
        return None;
    }
    for v in &mut variants {
        v.share /= sum;
    }
    Some(variants)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SPEC, codes, spec};
    use super::super::{LoadOptions, check_source};

    #[test]
    fn a_valid_spec_becomes_a_plan() {
        let checked = check_source(&spec(SPEC), &LoadOptions::default()).unwrap();
        let plan = checked.plan;
        assert_eq!(plan.name, "checkout");
        assert_eq!(plan.variants.len(), 2);
        assert_eq!(plan.variants[0].name, "control");
        assert!(plan.data.path.ends_with("checkout.csv"));
        assert_eq!(plan.metrics[plan.primary].name, "conversion");
    }

    #[test]
    fn shares_must_sum_to_one() {
        let text = SPEC.replace("treatment 50%", "treatment 40%");
        let errors = check_source(&spec(&text), &LoadOptions::default()).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::shares_sum"]);
    }

    #[test]
    fn one_of_a_kind_items_are_reported_when_repeated() {
        let text = SPEC.replace(
            "    data \"checkout.csv\"\n",
            "    data \"checkout.csv\"\n    data \"again.csv\"\n",
        );
        let errors = check_source(&spec(&text), &LoadOptions::default()).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::duplicate_item"]);
    }

    #[test]
    fn the_data_override_replaces_the_spec_path() {
        let options = LoadOptions {
            data_override: Some("other.csv".into()),
            allow_outside: false,
            folders: None,
        };
        let plan = check_source(&spec(SPEC), &options).unwrap().plan;
        assert!(plan.data.path.ends_with("other.csv"));
    }
}

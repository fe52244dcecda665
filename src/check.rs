//! Syntax tree → [`Plan`]: name resolution, types, units, policy totality.
//!
//! The checker reports every problem it finds, not the first: each item is
//! checked on its own, and a broken item only suppresses the checks that
//! depend on it. What the user sees for a rule that names a metric that does
//! not exist:
//!
//! ```text
//! error: xos::check::unknown_metric
//!   × unknown metric `conversoin`
//!    ╭─[checkout.xos:12:14]
//! 12 │     when conversoin.better
//!    ·          ─────┬────
//!    ·               ╰── not declared in this experiment
//!    ╰────
//!   help: did you mean `conversion`?
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ast::{self, BinaryOp, ExprKind, Unit};
use crate::config::{self, Config};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::parse;
use crate::plan::{
    self, ArithOp, CompareOp, Correction, DataSource, Direction, Effect, Expr, Fact, Field, Given,
    Health, Metric, MetricKind, Missing, Plan, Policy, PolicyOrigin, PolicyTest, Quantifier,
    RateTest, RatioInputs, Reason, ReasonPart, RelativeCi, Role, Rule, RuleSource, SamplePlan,
    SettingKey, Settings, Shape, Status, Value, Variant, Verdict,
};

/// The built-in policy, `rules/default.xos`, used when nothing names one.
pub const DEFAULT_POLICY: &str = include_str!("../rules/default.xos");

/// How the built-in policy is named in messages.
pub const DEFAULT_POLICY_NAME: &str = "<built-in rules/default.xos>";

/// Options for [`load_plan`] and [`check_source`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Replaces the spec's `data` path (`--data`).
    pub data_override: Option<PathBuf>,
}

/// A checked experiment: its plan, and the warnings found on the way.
#[derive(Clone, Debug)]
pub struct Checked {
    pub plan: Plan,
    pub warnings: Diagnostics,
}

/// A checked policy file on its own (`xos check rules/strict.xos`).
#[derive(Clone, Debug)]
pub struct CheckedPolicy {
    pub policy: Policy,
    pub warnings: Diagnostics,
}

/// What a file turned out to be, for `xos check FILE...`.
#[derive(Clone, Debug)]
pub enum CheckedFile {
    Experiment(Box<Checked>),
    Policy(CheckedPolicy),
}

impl CheckedFile {
    pub fn warnings(&self) -> &Diagnostics {
        match self {
            CheckedFile::Experiment(c) => &c.warnings,
            CheckedFile::Policy(p) => &p.warnings,
        }
    }
}

/// Reads the spec file, finds `xos.toml` by walking up from the spec, reads
/// and checks the policy (named in the spec, or from `xos.toml`, or the
/// built-in `rules/default.xos`), and reports every problem at once.
pub fn load_plan(spec: &Path, options: &LoadOptions) -> Result<Checked, Diagnostics> {
    let source = read_source(spec)?;
    check_source(&source, options)
}

/// The same as [`load_plan`] from source text already in memory (for tests
/// and watch). `source.path` still locates `xos.toml`, the policy and data.
pub fn check_source(
    source: &Arc<SourceFile>,
    options: &LoadOptions,
) -> Result<Checked, Diagnostics> {
    let file = parse::parse(source)?;
    let experiment = match file {
        ast::File::Experiment(experiment) => experiment,
        ast::File::Policy(policy) => {
            return Err(Diagnostic::error(
                "xos::check::not_an_experiment",
                format!("`{}` is a policy, not an experiment", source.name()),
            )
            .label(policy.name.span, "a policy file")
            .help("experiments name their policy with `policy \"path\"`; `xos check` accepts policy files on their own")
            .in_file(source)
            .into());
        }
    };
    let mut diagnostics = Diagnostics::new();
    let config = match config::find_config(&source.path) {
        Some(path) => match config::load_config(&path) {
            Ok(config) => Some(config),
            Err(errors) => {
                diagnostics.extend(errors);
                None
            }
        },
        None => None,
    };
    let plan = check_experiment(
        source,
        &experiment,
        config.as_ref(),
        options,
        &mut diagnostics,
    );
    finish(plan, diagnostics).map(|(plan, warnings)| Checked { plan, warnings })
}

/// Reads a file as UTF-8 source text; a missing or unreadable file is a
/// diagnostic naming the path.
pub fn read_source(path: &Path) -> Result<Arc<SourceFile>, Diagnostics> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile::new(path, text)),
            Err(_) => Err(Diagnostic::error(
                "xos::io::not_utf8",
                format!("`{}` is not UTF-8 text", path.display()),
            )
            .at_path(path)
            .help("xos files are UTF-8 text")
            .into()),
        },
        Err(error) => Err(Diagnostic::error(
            "xos::io::read",
            format!("cannot read `{}`: {}", path.display(), io_reason(&error)),
        )
        .at_path(path)
        .help("check the path: it is relative to the current folder")
        .into()),
    }
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string().to_lowercase(),
    }
}

/// Checks any `.xos` file: an experiment (with its policy) or a policy file
/// on its own.
pub fn check_path(path: &Path, options: &LoadOptions) -> Result<CheckedFile, Diagnostics> {
    let source = read_source(path)?;
    let (checked, name) = match parse::parse(&source)? {
        ast::File::Experiment(experiment) => (
            check_source(&source, options).map(|c| CheckedFile::Experiment(Box::new(c))),
            experiment.name.span,
        ),
        ast::File::Policy(policy) => (
            check_policy_source(&source).map(CheckedFile::Policy),
            policy.name.span,
        ),
    };
    // Static analysis over the scenario space (src/analysis.rs): warnings
    // only, and only here, so that `run` and `watch` do not pay for it.
    checked.map(|checked| crate::analysis::with_warnings(checked, &source, name))
}

/// Checks a policy file on its own: generic facts only, `otherwise`
/// required, tests consistent with the rules.
pub fn check_policy_source(source: &Arc<SourceFile>) -> Result<CheckedPolicy, Diagnostics> {
    let file = parse::parse(source)?;
    let ast::File::Policy(decl) = file else {
        return Err(Diagnostic::error(
            "xos::check::not_a_policy",
            format!("`{}` is an experiment, not a policy", source.name()),
        )
        .in_file(source)
        .into());
    };
    let scope = Scope {
        metrics: &[],
        policy_file: true,
        text: &source.text,
    };
    let mut diagnostics = Diagnostics::new();
    let mut out = Vec::new();
    let policy = check_policy_decl(
        &decl,
        &scope,
        PolicyOrigin::File(source.path.clone()),
        &mut out,
    );
    if let Some(policy) = &policy {
        reachability(&policy.rules, &source.text, &mut out);
    }
    for d in out {
        diagnostics.push(d.in_file(source));
    }
    finish(policy, diagnostics).map(|(policy, warnings)| CheckedPolicy { policy, warnings })
}

fn finish<T>(value: Option<T>, diagnostics: Diagnostics) -> Result<(T, Diagnostics), Diagnostics> {
    match value {
        Some(value) if !diagnostics.has_errors() => Ok((value, diagnostics)),
        _ => {
            let mut diagnostics = diagnostics;
            if !diagnostics.has_errors() {
                diagnostics.push(Diagnostic::error(
                    "xos::check::internal",
                    "the file could not be checked",
                ));
            }
            Err(diagnostics)
        }
    }
}

// ---------------------------------------------------------------- experiment

/// What rules need to know about a declared metric.
#[derive(Clone, Debug)]
struct MetricInfo {
    name: String,
    role: Role,
    is_rate: bool,
}

fn check_experiment(
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

    let data = check_data(data, &spec_dir, options, experiment, &mut out);
    let variants = check_variants(variants, experiment, &mut out);
    // INVARIANT: `metrics` and `infos` list the primary first, so that
    // `primary` is metric id 0 as the plan promises.
    let (metrics, infos) = check_metrics(&metric_decls, experiment, &mut out);
    let sample_plan = plan_decl.map(|decl| check_sample_plan(&decl.block, &mut out));
    if let (Some(decl), Some(metrics)) = (plan_decl, &metrics) {
        plan_inputs(decl, metrics, &mut out);
    }

    let mut settings = config.map_or_else(Settings::default, |c| c.settings.clone());
    if let Some(decl) = settings_decl {
        apply_settings(&mut settings, &decl.block, &mut out);
    }

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
    let mut policy_out = Vec::new();
    let policy = load_policy(site.as_ref(), &scope, &mut policy_out);

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
        let policy_text = policy_source.as_ref().map_or("", |s| s.text.as_str());
        reachability_combined(
            &policy.rules,
            (&source.text, policy_text),
            &mut inline_out,
            &mut file_out,
        );
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
        settings,
        policy,
        config: config.map(|c| c.path.clone()),
        templates: config.and_then(|c| c.templates.clone()),
        output: config.and_then(|c| c.output.clone()),
    };
    // Organisation-wide requirements: `[require]` of `xos.toml`.
    if let Some(config) = config {
        for d in config::check_requirements(config, experiment, &plan) {
            diagnostics.push(d.in_file(source));
        }
    }
    Some(plan)
}

/// Records a one-of-a-kind item; a second one is a duplicate.
fn once(
    seen: &mut HashMap<&'static str, Span>,
    what: &'static str,
    span: Span,
    out: &mut Vec<Diagnostic>,
) -> bool {
    if let Some(first) = seen.get(what) {
        out.push(
            Diagnostic::error(
                "xos::check::duplicate_item",
                format!("`{what}` is given twice"),
            )
            .label(span, "given again here")
            .secondary(*first, "first given here")
            .help(format!(
                "an experiment has at most one `{what}`; merge the two"
            )),
        );
        return false;
    }
    seen.insert(what, span);
    true
}

fn duplicate(what: &str, name: &str, first: Span, second: Span) -> Diagnostic {
    let verb = if what == "fact" { "given" } else { "defined" };
    Diagnostic::error(
        match what {
            "metric" => "xos::check::duplicate_metric",
            "variant" => "xos::check::duplicate_variant",
            "rule" => "xos::check::duplicate_rule",
            "test" => "xos::check::duplicate_test",
            "option" => "xos::check::duplicate_option",
            "fact" => "xos::check::duplicate_fact",
            _ => "xos::check::duplicate_field",
        },
        format!("{what} `{name}` is {verb} twice"),
    )
    .label(second, format!("{verb} again here"))
    .secondary(first, format!("first {verb} here"))
    .help(format!(
        "rename or remove one of the two: {what} names must be unique"
    ))
}

/// Joins the lines of a string that spans lines: the newline and the
/// indentation around it become one space.
pub fn join_lines(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len().saturating_sub(1);
    let parts: Vec<&str> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let line = if i > 0 { line.trim_start() } else { line };
            if i < last { line.trim_end() } else { line }
        })
        .collect();
    parts.join(" ")
}

// ---------------------------------------------------------------- data

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
    let mut source = DataSource {
        path,
        written,
        variant_column: "variant".to_string(),
        units_column: "users".to_string(),
        shape: Shape::Aggregated,
        unit_id: None,
        missing: Missing::Error,
    };
    let Some(block) = decl.and_then(|d| d.options.as_ref()) else {
        return Some(source);
    };
    let mut ok = true;
    let mut unit_id_span = None;
    let mut missing_span = None;
    for kv in options_once(block, out) {
        let key = kv.key.name.as_str();
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
            "shape" => match word_value(kv, &["aggregated", "rows"], out) {
                Some("rows") => source.shape = Shape::Rows,
                Some(_) => source.shape = Shape::Aggregated,
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
                    &["variant_column", "units", "shape", "unit_id", "missing"],
                ));
                ok = false;
            }
        }
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

/// The options of a block, reporting (and skipping) repeated keys.
fn options_once<'a>(
    block: &'a ast::OptionBlock,
    out: &mut Vec<Diagnostic>,
) -> Vec<&'a ast::KeyValue> {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut options = Vec::new();
    for kv in &block.options {
        if let Some(first) = seen.get(kv.key.name.as_str()) {
            out.push(duplicate("option", &kv.key.name, *first, kv.key.span));
            continue;
        }
        seen.insert(&kv.key.name, kv.key.span);
        options.push(kv);
    }
    options
}

fn unknown_option(key: &ast::Ident, block: &str, known: &[&str]) -> Diagnostic {
    let mut d = Diagnostic::error(
        "xos::check::unknown_option",
        format!("unknown option `{}` in `{block}`", key.name),
    )
    .label(key.span, "not an option here");
    d = match did_you_mean(&key.name, known.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!("`{block}` knows {}", list(known))),
    };
    d
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{s}`")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

fn text_value(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<String> {
    match &kv.value {
        ast::Value::String(s) => Some(s.value.clone()),
        ast::Value::Word(w) => Some(w.name.clone()),
        other => {
            out.push(wrong_value(
                kv,
                other.span(),
                "a column name such as `\"arm\"`",
            ));
            None
        }
    }
}

fn word_value<'a>(
    kv: &ast::KeyValue,
    choices: &[&'a str],
    out: &mut Vec<Diagnostic>,
) -> Option<&'a str> {
    let ast::Value::Word(word) = &kv.value else {
        out.push(wrong_value(
            kv,
            kv.value.span(),
            &format!("one of {}", list(choices)),
        ));
        return None;
    };
    if let Some(choice) = choices.iter().find(|c| **c == word.name) {
        return Some(choice);
    }
    let mut d = Diagnostic::error(
        "xos::check::unknown_choice",
        format!("`{}` is not a valid `{}`", word.name, kv.key.name),
    )
    .label(word.span, format!("expected one of {}", list(choices)));
    if let Some(s) = did_you_mean(&word.name, choices.iter().copied()) {
        d = d.help(format!("did you mean `{s}`?"));
    } else {
        d = d.help(format!("`{}` is one of {}", kv.key.name, list(choices)));
    }
    out.push(d);
    None
}

fn wrong_value(kv: &ast::KeyValue, span: Span, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "xos::check::wrong_value",
        format!("`{}` needs {expected}", kv.key.name),
    )
    .label(span, "not accepted here")
    .help(format!("write `{} <value>` with {expected}", kv.key.name))
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
            format!("the variant shares sum to {}, not 100%", percent(sum)),
        )
        .label(keyword, format!("these shares sum to {}", percent(sum)))
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

fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    let rounded = (p * 1000.0).round() / 1000.0;
    format!("{rounded}%")
}

// ---------------------------------------------------------------- metrics

fn check_metrics(
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
            "mde" => effect_value(kv, kind_name, out).map(|e| metric.mde = Some(e)),
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
            _ => {
                let mut known = vec!["baseline", "mde", "prefer"];
                match kind_name {
                    ast::KindName::Ratio => known.extend(["mean_y", "sd_x", "sd_y", "correlation"]),
                    ast::KindName::Mean => known.extend(["sd", "covariate", "cuped"]),
                    ast::KindName::Rate => known.extend(["covariate", "cuped"]),
                }
                if role == Role::Guardrail {
                    known.extend(["worsened", "severe", "margin"]);
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

fn number_value<'a>(kv: &'a ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<&'a ast::Number> {
    match &kv.value {
        ast::Value::Number(n) => Some(n),
        other => {
            out.push(wrong_value(kv, other.span(), "a number"));
            None
        }
    }
}

/// Accepts the number when it is written with one of `units` and is not
/// `relative`; returns its value.
fn unit_in(
    kv: &ast::KeyValue,
    n: &ast::Number,
    units: &[Unit],
    expected: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<f64> {
    if !n.relative && units.contains(&n.unit) {
        return Some(n.value);
    }
    let written = if n.relative {
        "a relative effect".to_string()
    } else {
        unit_words(n.unit).to_string()
    };
    out.push(
        Diagnostic::error(
            "xos::check::unit_mismatch",
            format!("`{}` needs {expected}, not {written}", kv.key.name),
        )
        .label(n.span, format!("{written} is not accepted here"))
        .help(format!("write `{}` with {expected}", kv.key.name)),
    );
    None
}

fn unit_words(unit: Unit) -> &'static str {
    match unit {
        Unit::None => "a plain number",
        Unit::Percent => "a percentage",
        Unit::Pp => "percentage points",
        Unit::Days => "days",
    }
}

fn in_range(
    kv: &ast::KeyValue,
    n: &ast::Number,
    ok: bool,
    expected: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<f64> {
    if ok {
        return Some(n.value);
    }
    out.push(
        Diagnostic::error(
            "xos::check::out_of_range",
            format!("`{}` is out of range", kv.key.name),
        )
        .label(n.span, format!("expected {expected}"))
        .help(format!("`{}` must be {expected}", kv.key.name)),
    );
    None
}

/// An effect size: absolute (`0.1pp` or a plain number for a rate; a plain
/// number for a mean) or relative (`5% relative`); always above 0.
fn effect_value(
    kv: &ast::KeyValue,
    kind: ast::KindName,
    out: &mut Vec<Diagnostic>,
) -> Option<Effect> {
    let is_rate = kind == ast::KindName::Rate;
    let n = number_value(kv, out)?;
    let effect = if n.relative {
        if !matches!(n.unit, Unit::Percent | Unit::None) {
            out.push(
                Diagnostic::error(
                    "xos::check::unit_mismatch",
                    format!("a relative `{}` must be a percentage", kv.key.name),
                )
                .label(n.span, format!("{} cannot be relative", unit_words(n.unit)))
                .help(format!("write e.g. `{} 5% relative`", kv.key.name)),
            );
            return None;
        }
        Effect::Relative(n.value)
    } else {
        match (n.unit, is_rate) {
            (Unit::Pp | Unit::None, true) | (Unit::None, false) => Effect::Absolute(n.value),
            (Unit::Percent, true) => {
                out.push(
                    Diagnostic::error(
                        "xos::check::ambiguous_percent",
                        format!("`{}` of a rate cannot be a bare percentage", kv.key.name),
                    )
                    .label(n.span, "absolute or relative?")
                    .help(format!(
                        "write `{}` for an absolute difference of rates, or `{} relative` for a relative one",
                        n.span_text_pp(),
                        n.span_text_percent()
                    )),
                );
                return None;
            }
            (unit, _) => {
                out.push(
                    Diagnostic::error(
                        "xos::check::unit_mismatch",
                        format!(
                            "`{}` of a {} metric cannot be in {}",
                            kv.key.name,
                            kind.keyword(),
                            unit_words(unit)
                        ),
                    )
                    .label(n.span, "unit not accepted here")
                    .help(if is_rate {
                        format!("write `{} 0.5pp` (absolute) or `{} 5% relative`", kv.key.name, kv.key.name)
                    } else {
                        format!(
                            "write an absolute difference in the metric's units (`{} 2.5`) or `{} 5% relative`",
                            kv.key.name, kv.key.name
                        )
                    }),
                );
                return None;
            }
        }
    };
    let value = match effect {
        Effect::Absolute(v) | Effect::Relative(v) => v,
    };
    if value <= 0.0 {
        out.push(
            Diagnostic::error(
                "xos::check::out_of_range",
                format!("`{}` must be above 0", kv.key.name),
            )
            .label(n.span, "not a positive effect")
            .help("effects are sizes: the direction comes from the metric's `prefer`"),
        );
        return None;
    }
    Some(effect)
}

impl ast::Number {
    /// `1%` rewritten as `1pp`, for help text.
    fn span_text_pp(&self) -> String {
        format!("{}pp", trim_float(self.value * 100.0))
    }

    fn span_text_percent(&self) -> String {
        format!("{}%", trim_float(self.value * 100.0))
    }
}

fn trim_float(v: f64) -> String {
    let rounded = (v * 1e9).round() / 1e9;
    format!("{rounded}")
}

// ---------------------------------------------------------------- plan and settings

fn check_sample_plan(block: &ast::OptionBlock, out: &mut Vec<Diagnostic>) -> SamplePlan {
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
fn plan_inputs(decl: &ast::OptionsDecl, metrics: &[Metric], out: &mut Vec<Diagnostic>) {
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
                if let Some(w) = word_value(kv, &["unpooled", "pooled"], out) {
                    settings.rate_test = if w == "pooled" {
                        RateTest::Pooled
                    } else {
                        RateTest::Unpooled
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

/// A probability strictly between 0 and 1 (a threshold on p-values or shares).
fn open_unit(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<f64> {
    let v = probability(kv, out)?;
    check_range(
        kv,
        v,
        v > 0.0 && v < 1.0,
        "between 0 and 1 (exclusive)",
        out,
    )
}

/// A probability: a plain number or a percentage.
fn probability(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<f64> {
    let n = number_value(kv, out)?;
    if !n.relative && matches!(n.unit, Unit::None | Unit::Percent) {
        return Some(n.value);
    }
    let what = if n.relative {
        "a relative effect".to_string()
    } else {
        unit_words(n.unit).to_string()
    };
    let mut d = Diagnostic::error(
        "xos::check::unit_mismatch",
        format!("`{}` is a probability, not {what}", kv.key.name),
    )
    .label(n.span, format!("{what} cannot be a probability"));
    d = if n.unit == Unit::Pp {
        d.help(format!(
            "percentage points are differences of rates; write `{} {}%` or `{} {}`",
            kv.key.name,
            trim_float(n.value * 100.0),
            kv.key.name,
            trim_float(n.value)
        ))
    } else {
        d.help(format!(
            "write `{} 5%` or `{} 0.05`",
            kv.key.name, kv.key.name
        ))
    };
    out.push(d);
    None
}

fn check_range(
    kv: &ast::KeyValue,
    v: f64,
    ok: bool,
    expected: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<f64> {
    if ok {
        return Some(v);
    }
    out.push(
        Diagnostic::error(
            "xos::check::out_of_range",
            format!("`{}` is out of range", kv.key.name),
        )
        .label(kv.value.span(), format!("must be {expected}"))
        .help(format!("`{}` must be {expected}", kv.key.name)),
    );
    None
}

fn count(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>, min: u64) -> Option<u64> {
    let n = number_value(kv, out)?;
    unit_in(kv, n, &[Unit::None], "a whole number", out)?;
    if n.value.fract() != 0.0 || n.value < min as f64 || n.value > 9.0e15 {
        out.push(
            Diagnostic::error(
                "xos::check::out_of_range",
                format!("`{}` must be a whole number of at least {min}", kv.key.name),
            )
            .label(n.span, "not accepted here")
            .help(format!("write e.g. `{} 100`", kv.key.name)),
        );
        return None;
    }
    Some(n.value as u64)
}

fn beta_prior(kv: &ast::KeyValue, out: &mut Vec<Diagnostic>) -> Option<(f64, f64)> {
    let bad = |out: &mut Vec<Diagnostic>, span: Span| {
        out.push(
            Diagnostic::error(
                "xos::check::wrong_value",
                "`prior` needs `beta(a, b)` with a, b above 0",
            )
            .label(span, "not a Beta prior")
            .help("write e.g. `prior beta(1, 1)` (uniform)"),
        );
        None
    };
    let ast::Value::Call(call) = &kv.value else {
        return bad(out, kv.value.span());
    };
    if call.name.name != "beta" || call.args.len() != 2 {
        return bad(out, call.span);
    }
    let mut params = [0.0; 2];
    for (slot, arg) in params.iter_mut().zip(&call.args) {
        match arg {
            ast::Value::Number(n) if n.unit == Unit::None && !n.relative && n.value > 0.0 => {
                *slot = n.value
            }
            other => return bad(out, other.span()),
        }
    }
    Some((params[0], params[1]))
}

// ---------------------------------------------------------------- policy

static BUILT_IN: std::sync::LazyLock<(Arc<SourceFile>, Option<Policy>)> =
    std::sync::LazyLock::new(|| {
        let source = SourceFile::new(DEFAULT_POLICY_NAME, DEFAULT_POLICY);
        let policy = match parse::parse(&source) {
            Ok(ast::File::Policy(decl)) => {
                let scope = Scope {
                    metrics: &[],
                    policy_file: true,
                    text: &source.text,
                };
                let mut out = Vec::new();
                let policy = check_policy_decl(&decl, &scope, PolicyOrigin::BuiltIn, &mut out);
                policy.filter(|_| out.is_empty())
            }
            _ => None,
        };
        (source, policy)
    });

/// Where a policy file was named: a path literal in the spec or `xos.toml`.
struct PolicySite {
    source: Arc<SourceFile>,
    span: Span,
    written: String,
    resolved: PathBuf,
}

/// Reads, parses and checks the policy. Returns it with its source file
/// (`None` for the built-in one, whose problems are not the user's).
fn load_policy(
    site: Option<&PolicySite>,
    scope: &Scope<'_>,
    out: &mut Vec<Diagnostic>,
) -> Option<(Policy, Option<Arc<SourceFile>>)> {
    let Some(site) = site else {
        // The built-in policy reads no specific metric, so its checked form
        // is the same for every experiment: check it once per process.
        let (source, policy) = &*BUILT_IN;
        if policy.is_none() {
            out.push(Diagnostic::error(
                "xos::check::internal",
                "the built-in policy does not check",
            ));
        }
        return policy.clone().map(|p| (p, Some(Arc::clone(source))));
    };
    let text = match std::fs::read_to_string(&site.resolved) {
        Ok(text) => text,
        Err(error) => {
            out.push(
                Diagnostic::error(
                    "xos::check::policy_not_found",
                    format!(
                        "cannot read policy `{}`: {}",
                        site.written,
                        io_reason(&error)
                    ),
                )
                .label(site.span, "policy file named here")
                .help(format!(
                    "looked for `{}`; the path is relative to the file that names it",
                    site.resolved.display()
                ))
                .in_file(&site.source),
            );
            return None;
        }
    };
    if let Some((source, policy, warnings)) = cached_policy(&site.resolved, &text) {
        out.extend(warnings);
        return Some((policy, Some(source)));
    }
    let source = SourceFile::new(&site.resolved, text);
    let problem = |message: String, help: &str| {
        Diagnostic::error("xos::check::invalid_policy", message)
            .label(site.span, "policy file named here")
            .help(help.to_string())
            .in_file(&site.source)
    };
    let decl = match parse::parse(&source) {
        Ok(ast::File::Policy(decl)) => decl,
        Ok(ast::File::Experiment(_)) => {
            out.push(
                Diagnostic::error(
                    "xos::check::not_a_policy",
                    format!("`{}` is an experiment, not a policy", site.written),
                )
                .label(site.span, "named as the policy here")
                .help("a policy file holds `policy NAME { rule ... otherwise ... }`")
                .in_file(&site.source),
            );
            return None;
        }
        Err(errors) => {
            out.push(problem(
                format!("policy `{}` does not parse", site.written),
                "fix the policy file: its own diagnostics follow",
            ));
            out.extend(errors);
            return None;
        }
    };
    let mut policy_out = Vec::new();
    let scope = Scope {
        metrics: scope.metrics,
        policy_file: true,
        text: &source.text,
    };
    let policy = check_policy_decl(
        &decl,
        &scope,
        PolicyOrigin::File(site.resolved.clone()),
        &mut policy_out,
    );
    if policy_out.iter().any(Diagnostic::is_error) {
        out.push(problem(
            format!("policy `{}` has errors", site.written),
            "fix the policy file: its own diagnostics follow",
        ));
    }
    let policy_out: Vec<Diagnostic> = policy_out.into_iter().map(|d| d.in_file(&source)).collect();
    if let Some(policy) = &policy
        && !policy_out.iter().any(Diagnostic::is_error)
    {
        cache_policy(&source, policy, &policy_out);
    }
    out.extend(policy_out);
    policy.map(|p| (p, Some(source)))
}

/// Policy files checked cleanly in this process, by path, with their text:
/// many experiments share one policy (`xos run DIR`), and a clean policy
/// checks the same whichever experiment names it (its rules read generic
/// facts only). A changed file (watch mode) no longer matches its text.
type PolicyCache = HashMap<PathBuf, (Arc<SourceFile>, Policy, Vec<Diagnostic>)>;

static POLICY_CACHE: std::sync::LazyLock<std::sync::Mutex<PolicyCache>> =
    std::sync::LazyLock::new(|| std::sync::Mutex::new(HashMap::new()));

fn cached_policy(path: &Path, text: &str) -> Option<(Arc<SourceFile>, Policy, Vec<Diagnostic>)> {
    let cache = POLICY_CACHE.lock().ok()?;
    let (source, policy, warnings) = cache.get(path)?;
    (source.text == text).then(|| (Arc::clone(source), policy.clone(), warnings.clone()))
}

fn cache_policy(source: &Arc<SourceFile>, policy: &Policy, warnings: &[Diagnostic]) {
    if let Ok(mut cache) = POLICY_CACHE.lock() {
        cache.insert(
            source.path.clone(),
            (Arc::clone(source), policy.clone(), warnings.to_vec()),
        );
    }
}

fn check_policy_decl(
    decl: &ast::PolicyDecl,
    scope: &Scope<'_>,
    origin: PolicyOrigin,
    out: &mut Vec<Diagnostic>,
) -> Option<Policy> {
    let mut rules = Vec::new();
    let mut ok = true;
    let mut names: HashMap<&str, Span> = HashMap::new();
    let mut otherwise: Option<(plan::Otherwise, Span)> = None;
    for item in &decl.items {
        match item {
            ast::PolicyItem::Rule(rule) => {
                if let Some(first) = names.get(rule.name.name.as_str()) {
                    out.push(duplicate("rule", &rule.name.name, *first, rule.name.span));
                    ok = false;
                    continue;
                }
                names.insert(&rule.name.name, rule.name.span);
                match check_rule(rule, scope, RuleSource::Policy, out) {
                    Some(rule) => rules.push(rule),
                    None => ok = false,
                }
            }
            ast::PolicyItem::Otherwise(o) => {
                if let Some((_, first)) = &otherwise {
                    out.push(
                        Diagnostic::error(
                            "xos::check::duplicate_otherwise",
                            "`otherwise` is given twice",
                        )
                        .label(o.span, "given again here")
                        .secondary(*first, "first given here")
                        .help("a policy has exactly one `otherwise`, its last resort"),
                    );
                    ok = false;
                    continue;
                }
                match check_reason(&o.because, scope, out) {
                    Some(because) => {
                        otherwise = Some((
                            plan::Otherwise {
                                then: verdict(o.then.verdict),
                                because,
                            },
                            o.span,
                        ));
                    }
                    None => ok = false,
                }
            }
            ast::PolicyItem::Test(_) => {}
        }
    }
    let otherwise = match otherwise {
        Some((o, _)) => Some(o),
        None => {
            out.push(
                Diagnostic::error(
                    "xos::check::missing_otherwise",
                    format!("policy `{}` has no `otherwise`", decl.name.name),
                )
                .label(decl.name.span, "this policy can end without a decision")
                .help("add a last resort after the rules, e.g. `otherwise hold because \"No rule applied.\"`"),
            );
            None
        }
    };
    let mut policy = Policy {
        name: decl.name.name.clone(),
        origin,
        rules,
        otherwise: otherwise?,
        tests: Vec::new(),
    };
    let mut test_names: HashMap<&str, Span> = HashMap::new();
    for item in &decl.items {
        if let ast::PolicyItem::Test(test) = item {
            if let Some(first) = test_names.get(test.name.name.as_str()) {
                out.push(duplicate("test", &test.name.name, *first, test.name.span));
                ok = false;
                continue;
            }
            test_names.insert(&test.name.name, test.name.span);
            match check_test(test, scope, RuleSource::Policy, &policy, out) {
                Some(t) => policy.tests.push(t),
                None => ok = false,
            }
        }
    }
    ok.then_some(policy)
}

fn verdict(v: ast::Verdict) -> Verdict {
    match v {
        ast::Verdict::Launch => Verdict::Launch,
        ast::Verdict::Hold => Verdict::Hold,
        ast::Verdict::Rollback => Verdict::Rollback,
    }
}

fn check_rule(
    decl: &ast::RuleDecl,
    scope: &Scope<'_>,
    source: RuleSource,
    out: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let when = check_condition(&decl.when, scope, out);
    let because = check_reason(&decl.because, scope, out);
    let raw = scope
        .text
        .get(decl.when.span.start..decl.when.span.end)
        .unwrap_or("");
    Some(Rule {
        name: decl.name.name.clone(),
        source,
        when: when?,
        then: verdict(decl.then.verdict),
        because: because?,
        condition_text: condition_text(raw),
        span: decl.span,
    })
}

/// A condition as written, on one line: comments dropped and whitespace
/// collapsed.
pub fn condition_text(raw: &str) -> String {
    let mut text = String::new();
    for line in raw.lines() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        for word in code.split_whitespace() {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(word);
        }
    }
    text
}

/// Warnings for rules that can never fire, over one policy's own rules.
fn reachability(rules: &[Rule], text: &str, out: &mut Vec<Diagnostic>) {
    let mut inline = Vec::new();
    reachability_combined(rules, ("", text), &mut inline, out);
    out.extend(inline);
}

/// The span of a rule's name, found from the start of its declaration in
/// the text it was written in (`rule NAME {`).
pub(crate) fn rule_name_span(text: &str, rule: &Rule) -> Span {
    let start = rule.span.start;
    let Some(after) = text.get(start..).and_then(|t| t.strip_prefix("rule")) else {
        return rule.span;
    };
    let mut offset = start + 4;
    let mut rest = after;
    loop {
        let trimmed = rest.trim_start();
        offset += rest.len() - trimmed.len();
        rest = trimmed;
        if rest.starts_with("//") {
            let line = rest.find('\n').unwrap_or(rest.len());
            offset += line;
            rest = &rest[line..];
            continue;
        }
        break;
    }
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    if len == 0 {
        return rule.span;
    }
    Span::new(offset, offset + len)
}

/// Warnings for rules that can never fire: after an unconditional rule, or
/// with the same condition as an earlier rule. Warnings about inline rules
/// go to `inline`, about policy rules to `file`.
fn reachability_combined(
    rules: &[Rule],
    texts: (&str, &str),
    inline: &mut Vec<Diagnostic>,
    file: &mut Vec<Diagnostic>,
) {
    let name = |rule: &Rule| match rule.source {
        RuleSource::Inline => rule_name_span(texts.0, rule),
        RuleSource::Policy => rule_name_span(texts.1, rule),
    };
    for (i, rule) in rules.iter().enumerate() {
        let sink = |rule: &Rule| -> bool { rule.source == RuleSource::Inline };
        if let Some(earlier) = rules[..i].iter().find(|r| r.when == Expr::Bool(true)) {
            let same_file = earlier.source == rule.source;
            let mut d = Diagnostic::warning(
                "xos::check::unreachable_rule",
                format!("rule `{}` can never fire", rule.name),
            )
            .label(name(rule), "never reached")
            .help(format!(
                "rule `{}` always applies (`when true`) and comes first; remove or reorder one of them",
                earlier.name
            ));
            if same_file {
                d = d.secondary(name(earlier), "this rule always applies");
            }
            // Only the first unreachable rule of a file is worth a warning.
            let already = rules[..i]
                .iter()
                .skip_while(|r| r.when != Expr::Bool(true))
                .skip(1)
                .any(|r| r.source == rule.source);
            if !already {
                if sink(rule) {
                    inline.push(d);
                } else {
                    file.push(d);
                }
            }
            continue;
        }
        if let Some(earlier) = rules[..i].iter().find(|r| r.when == rule.when) {
            let mut d = Diagnostic::warning(
                "xos::check::repeated_condition",
                format!("rule `{}` can never fire", rule.name),
            )
            .label(name(rule), "same condition as an earlier rule")
            .help(format!(
                "rule `{}` has the same condition and comes first, so it always decides instead",
                earlier.name
            ));
            if earlier.source == rule.source {
                d = d.secondary(name(earlier), "the earlier rule");
            }
            if sink(rule) {
                inline.push(d);
            } else {
                file.push(d);
            }
        }
    }
}

/// If the policy reads a guardrail's `non_inferior`, the guardrails it reads
/// need a `margin`.
fn check_margins(
    policy: &Policy,
    decls: &[&ast::MetricDecl],
    metrics: &Option<Vec<Metric>>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(metrics) = metrics else { return };
    let mut all = false;
    let mut some: Vec<usize> = Vec::new();
    let mut reader = None;
    for rule in &policy.rules {
        visit_facts(&rule.when, &mut |fact| match fact {
            Fact::Guardrail(Field::NonInferior) => {
                all = true;
                reader.get_or_insert(rule.name.clone());
            }
            Fact::Metric(id, Field::NonInferior) => {
                some.push(id);
                reader.get_or_insert(rule.name.clone());
            }
            _ => {}
        });
    }
    let Some(reader) = reader else { return };
    for (id, metric) in metrics.iter().enumerate() {
        if metric.role != Role::Guardrail || metric.margin.is_some() {
            continue;
        }
        if !all && !some.contains(&id) {
            continue;
        }
        let span = decls
            .iter()
            .find(|d| d.name.name == metric.name)
            .map_or(Span::default(), |d| d.name.span);
        out.push(
            Diagnostic::error(
                "xos::check::missing_margin",
                format!("guardrail `{}` has no `margin`", metric.name),
            )
            .label(span, "declared without a non-inferiority margin")
            .help(format!(
                "rule `{reader}` of policy `{}` reads `non_inferior`, which needs a margin; add e.g. `margin 0.5pp` (or `margin 2% relative`)",
                policy.name
            )),
        );
    }
}

fn visit_facts(expr: &Expr, f: &mut dyn FnMut(Fact)) {
    match expr {
        Expr::Fact(fact) => f(*fact),
        Expr::Not(e) | Expr::Quantified(_, e) => visit_facts(e, f),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Compare(_, a, b) | Expr::Arith(_, a, b) => {
            visit_facts(a, f);
            visit_facts(b, f);
        }
        Expr::Bool(_) | Expr::Number(_) | Expr::Health(_) | Expr::Status(_) => {}
    }
}

// ---------------------------------------------------------------- tests

fn check_test(
    decl: &ast::TestDecl,
    scope: &Scope<'_>,
    source: RuleSource,
    policy: &Policy,
    out: &mut Vec<Diagnostic>,
) -> Option<PolicyTest> {
    let mut ok = true;
    let mut given = Vec::new();
    let mut seen: HashMap<String, Span> = HashMap::new();
    for fact in &decl.given {
        let text = fact.path.text();
        if let Some(first) = seen.get(&text) {
            out.push(duplicate("fact", &text, *first, fact.path.span));
            ok = false;
            continue;
        }
        seen.insert(text.clone(), fact.path.span);
        let checker = ExprChecker {
            scope,
            out: &mut *out,
        };
        let Some((resolved, ty)) = checker.resolve_given(&fact.path) else {
            ok = false;
            continue;
        };
        match given_value(&fact.value, ty, &text, out) {
            Some(value) => given.push(Given {
                fact: resolved,
                path: text,
                value,
            }),
            None => ok = false,
        }
    }
    let expect = verdict(decl.expect.verdict);
    if let Some(by) = &decl.by {
        let rules: Vec<&Rule> = policy
            .rules
            .iter()
            .filter(|r| source == RuleSource::Inline || r.source == RuleSource::Policy)
            .collect();
        let decides = if by.name == "otherwise" {
            Some(policy.otherwise.then)
        } else {
            rules.iter().find(|r| r.name == by.name).map(|r| r.then)
        };
        match decides {
            None => {
                let mut names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
                names.push("otherwise");
                let mut d = Diagnostic::error(
                    "xos::check::unknown_rule",
                    format!("unknown rule `{}`", by.name),
                )
                .label(by.span, "no rule of this name");
                d = match did_you_mean(&by.name, names.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("the rules are {}", list(&names))),
                };
                out.push(d);
                ok = false;
            }
            Some(v) if v != expect => {
                out.push(
                    Diagnostic::error(
                        "xos::check::test_verdict",
                        format!(
                            "rule `{}` decides `{}`, but the test expects `{}`",
                            by.name,
                            v.as_str(),
                            expect.as_str()
                        ),
                    )
                    .label(decl.expect.span, "expected verdict")
                    .secondary(by.span, format!("decides `{}`", v.as_str()))
                    .help("a test cannot pass if the rule it names decides otherwise"),
                );
                ok = false;
            }
            Some(_) => {}
        }
    }
    ok.then(|| PolicyTest {
        name: decl.name.name.clone(),
        source,
        given,
        expect,
        by: decl.by.as_ref().map(|b| b.name.clone()),
        span: decl.span,
    })
}

fn given_value(value: &ast::Value, ty: Ty, path: &str, out: &mut Vec<Diagnostic>) -> Option<Value> {
    let found = match value {
        ast::Value::Number(n) => {
            if let Ty::Number(dim) = ty {
                if let Some(dim) = dim {
                    literal_fits(n, dim, path, out)?;
                } else {
                    literal_alone(n, out)?;
                }
                return Some(Value::Number(n.value));
            }
            Ty::Number(None)
        }
        ast::Value::Word(w) => {
            let literal = match w.name.as_str() {
                "true" => Some((Value::Bool(true), Ty::Bool)),
                "false" => Some((Value::Bool(false), Ty::Bool)),
                "healthy" => Some((Value::Health(Health::Healthy), Ty::Health)),
                "warning" => Some((Value::Health(Health::Warning), Ty::Health)),
                "blocked" => Some((Value::Health(Health::Blocked), Ty::Health)),
                "ok" => Some((Value::Status(Status::Ok), Ty::Status)),
                "worsened" => Some((Value::Status(Status::Worsened), Ty::Status)),
                "severe" => Some((Value::Status(Status::Severe), Ty::Status)),
                _ => None,
            };
            match literal {
                Some((v, t)) if t == ty => return Some(v),
                Some((_, t)) => t,
                None => {
                    out.push(
                        Diagnostic::error(
                            "xos::check::unknown_value",
                            format!("`{}` is not a value", w.name),
                        )
                        .label(w.span, format!("expected {}", ty.describe()))
                        .help(format!("`{path}` is {}", ty.describe())),
                    );
                    return None;
                }
            }
        }
        other => {
            out.push(
                Diagnostic::error(
                    "xos::check::type_mismatch",
                    format!("`{path}` needs {}", ty.describe()),
                )
                .label(other.span(), "not a fact value")
                .help(format!("`{path}` is {}", ty.describe())),
            );
            return None;
        }
    };
    out.push(
        Diagnostic::error(
            "xos::check::type_mismatch",
            format!("`{path}` is {}, not {}", ty.describe(), found.describe()),
        )
        .label(value.span(), found.describe())
        .help(format!("give `{path}` {}", ty.example())),
    );
    None
}

// ---------------------------------------------------------------- expressions

/// What names mean where a rule is written.
struct Scope<'a> {
    /// The experiment's metrics, primary first (empty for a policy file on
    /// its own).
    metrics: &'a [MetricInfo],
    /// Rules in policy files may only read generic facts.
    policy_file: bool,
    /// The text of the file the rules are written in.
    text: &'a str,
}

/// The type of a condition's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Bool,
    /// A number, with the kind of quantity when it comes from a fact.
    Number(Option<Dim>),
    Health,
    Status,
}

impl Ty {
    fn describe(self) -> &'static str {
        match self {
            Ty::Bool => "a boolean",
            Ty::Number(_) => "a number",
            Ty::Health => "a health (`healthy`, `warning` or `blocked`)",
            Ty::Status => "a guardrail status (`ok`, `worsened` or `severe`)",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Ty::Bool => "`true` or `false`",
            Ty::Number(_) => "a number such as `0.01`",
            Ty::Health => "`healthy`, `warning` or `blocked`",
            Ty::Status => "`ok`, `worsened` or `severe`",
        }
    }
}

/// What a number measures, so literals compared with it can be unit-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dim {
    /// p-values, probabilities, α: plain or `%`.
    Probability,
    /// `rel_lift`: plain or `%`.
    RelLift,
    /// The lift of a rate: plain or `pp`.
    RateLift,
    /// The lift of a mean: plain only.
    MeanLift,
    /// A lift whose metric kind is not known here (policy files): plain or `pp`.
    AnyLift,
    /// Counts and statistics: plain only.
    Plain,
}

fn field_ty(field: Field, lift: Dim) -> Ty {
    match field {
        Field::P | Field::PAdjusted | Field::ProbBetter => Ty::Number(Some(Dim::Probability)),
        Field::RelLift => Ty::Number(Some(Dim::RelLift)),
        Field::Lift | Field::CiLow | Field::CiHigh | Field::ExpectedLoss => Ty::Number(Some(lift)),
        Field::Units => Ty::Number(Some(Dim::Plain)),
        Field::Significant
        | Field::Better
        | Field::Worse
        | Field::Worsened
        | Field::Severe
        | Field::NonInferior => Ty::Bool,
        Field::Status => Ty::Status,
    }
}

fn field_by_name(name: &str) -> Option<Field> {
    Field::ALL.into_iter().find(|f| f.name() == name)
}

fn field_names() -> Vec<&'static str> {
    Field::ALL.iter().map(|f| f.name()).collect()
}

const SETTING_FACTS: [SettingKey; 6] = [
    SettingKey::Alpha,
    SettingKey::SrmWarning,
    SettingKey::SrmBlocked,
    SettingKey::MinUnits,
    SettingKey::Seed,
    SettingKey::Draws,
];

fn check_condition(expr: &ast::Expr, scope: &Scope<'_>, out: &mut Vec<Diagnostic>) -> Option<Expr> {
    let mut checker = ExprChecker { scope, out };
    let (checked, ty) = checker.check(expr, false, None)?;
    if ty != Ty::Bool {
        checker.out.push(
            Diagnostic::error(
                "xos::check::not_a_condition",
                format!(
                    "a condition must be true or false, but this is {}",
                    ty.describe()
                ),
            )
            .label(expr.span, ty.describe())
            .help("compare it with something, e.g. `primary.p < 0.01`"),
        );
        return None;
    }
    Some(checked)
}

struct ExprChecker<'a, 'o> {
    scope: &'a Scope<'a>,
    out: &'o mut Vec<Diagnostic>,
}

impl ExprChecker<'_, '_> {
    fn check(
        &mut self,
        expr: &ast::Expr,
        in_quantifier: bool,
        hint: Option<Ty>,
    ) -> Option<(Expr, Ty)> {
        match &expr.kind {
            ExprKind::Number(n) => {
                if n.relative || n.unit == Unit::Days {
                    literal_alone(n, self.out)?;
                }
                Some((Expr::Number(n.value), Ty::Number(None)))
            }
            ExprKind::Path(path) => self.resolve(path, in_quantifier, hint),
            ExprKind::Not(inner) => {
                let (e, ty) = self.check(inner, in_quantifier, Some(Ty::Bool))?;
                self.expect_bool(inner, ty, "`not`")?;
                Some((Expr::Not(Box::new(e)), Ty::Bool))
            }
            ExprKind::Neg(inner) => {
                let (e, ty) = self.check(inner, in_quantifier, None)?;
                let Ty::Number(dim) = ty else {
                    self.out
                        .push(type_error(inner.span, "`-` needs a number", ty));
                    return None;
                };
                let negated = match e {
                    Expr::Number(v) => Expr::Number(-v),
                    e => Expr::Arith(ArithOp::Sub, Box::new(Expr::Number(0.0)), Box::new(e)),
                };
                Some((negated, Ty::Number(dim)))
            }
            ExprKind::Quantified(q, body) => {
                if in_quantifier {
                    self.out.push(
                        Diagnostic::error("xos::check::nested_quantifier", "quantifiers cannot be nested")
                            .label(expr.span, "inside another `any`/`all`/`no guardrail`")
                            .help("a quantifier already ranges over every guardrail; write the condition over one guardrail's fields"),
                    );
                    return None;
                }
                let (e, ty) = self.check(body, true, Some(Ty::Bool))?;
                self.expect_bool(body, ty, "a quantifier")?;
                let q = match q {
                    ast::Quantifier::Any => Quantifier::Any,
                    ast::Quantifier::All => Quantifier::All,
                    ast::Quantifier::No => Quantifier::No,
                };
                Some((Expr::Quantified(q, Box::new(e)), Ty::Bool))
            }
            ExprKind::Binary(op, lhs, rhs) => self.binary(*op, lhs, rhs, in_quantifier),
        }
    }

    fn expect_bool(&mut self, expr: &ast::Expr, ty: Ty, what: &str) -> Option<()> {
        if ty == Ty::Bool {
            return Some(());
        }
        self.out.push(type_error(
            expr.span,
            &format!("{what} needs a condition"),
            ty,
        ));
        None
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        q: bool,
    ) -> Option<(Expr, Ty)> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let l = self.check(lhs, q, Some(Ty::Bool));
                let r = self.check(rhs, q, Some(Ty::Bool));
                let (l, lt) = l?;
                let (r, rt) = r?;
                let word = if op == BinaryOp::And { "`and`" } else { "`or`" };
                let lok = self.expect_bool(lhs, lt, word);
                let rok = self.expect_bool(rhs, rt, word);
                lok?;
                rok?;
                let e = if op == BinaryOp::And {
                    Expr::And(Box::new(l), Box::new(r))
                } else {
                    Expr::Or(Box::new(l), Box::new(r))
                };
                Some((e, Ty::Bool))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                let l = self.check(lhs, q, None);
                let r = self.check(rhs, q, None);
                let (l, lt) = l?;
                let (r, rt) = r?;
                let (Ty::Number(ld), Ty::Number(rd)) = (lt, rt) else {
                    let (span, ty) = if matches!(lt, Ty::Number(_)) {
                        (rhs.span, rt)
                    } else {
                        (lhs.span, lt)
                    };
                    self.out.push(type_error(
                        span,
                        &format!("`{}` needs numbers", op.symbol()),
                        ty,
                    ));
                    return None;
                };
                let arith = match op {
                    BinaryOp::Add => ArithOp::Add,
                    BinaryOp::Sub => ArithOp::Sub,
                    BinaryOp::Mul => ArithOp::Mul,
                    _ => ArithOp::Div,
                };
                let dim = if matches!(arith, ArithOp::Add | ArithOp::Sub) {
                    self.units_agree(lhs, ld, rhs, rd)?;
                    ld.or(rd)
                } else {
                    None
                };
                Some((
                    Expr::Arith(arith, Box::new(l), Box::new(r)),
                    Ty::Number(dim),
                ))
            }
            _ => self.compare(op, lhs, rhs, q),
        }
    }

    fn compare(
        &mut self,
        op: BinaryOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        q: bool,
    ) -> Option<(Expr, Ty)> {
        // A bare `worsened`/`severe` is a status literal when compared with a
        // status, so type the other side first.
        let lhs_ambiguous = is_status_word(lhs);
        let (l, r) = if lhs_ambiguous && !is_status_word(rhs) {
            let r = self.check(rhs, q, None);
            let hint = r.as_ref().map(|(_, t)| *t);
            (self.check(lhs, q, hint), r)
        } else {
            let l = self.check(lhs, q, None);
            let hint = l.as_ref().map(|(_, t)| *t);
            (l, self.check(rhs, q, hint))
        };
        let (l, lt) = l?;
        let (r, rt) = r?;
        let cmp = match op {
            BinaryOp::Lt => CompareOp::Lt,
            BinaryOp::Le => CompareOp::Le,
            BinaryOp::Gt => CompareOp::Gt,
            BinaryOp::Ge => CompareOp::Ge,
            BinaryOp::Eq => CompareOp::Eq,
            _ => CompareOp::Ne,
        };
        match (lt, rt) {
            (Ty::Number(ld), Ty::Number(rd)) => {
                self.units_agree(lhs, ld, rhs, rd)?;
            }
            (a, b) if same_kind(a, b) => {
                if !matches!(cmp, CompareOp::Eq | CompareOp::Ne) {
                    self.out.push(
                        Diagnostic::error(
                            "xos::check::type_mismatch",
                            format!("`{}` only compares numbers", op.symbol()),
                        )
                        .label(
                            lhs.span.join(rhs.span),
                            format!("compares {}", a.describe()),
                        )
                        .help("use `==` or `!=` for booleans, health and statuses"),
                    );
                    return None;
                }
            }
            (a, b) => {
                self.out.push(
                    Diagnostic::error(
                        "xos::check::type_mismatch",
                        format!("cannot compare {} with {}", a.describe(), b.describe()),
                    )
                    .label(rhs.span, b.describe())
                    .secondary(lhs.span, a.describe())
                    .help(format!(
                        "compare {} with {}",
                        a.describe(),
                        a.example()
                    )),
                );
                return None;
            }
        }
        Some((Expr::Compare(cmp, Box::new(l), Box::new(r)), Ty::Bool))
    }

    /// Literals added to or compared with a fact must be in the fact's units.
    fn units_agree(
        &mut self,
        lhs: &ast::Expr,
        ld: Option<Dim>,
        rhs: &ast::Expr,
        rd: Option<Dim>,
    ) -> Option<()> {
        let mut ok = true;
        if let Some(dim) = ld {
            ok &= check_literals(rhs, dim, &fact_label(lhs), self.out);
        }
        if let Some(dim) = rd {
            ok &= check_literals(lhs, dim, &fact_label(rhs), self.out);
        }
        ok.then_some(())
    }

    fn resolve(
        &mut self,
        path: &ast::Path,
        in_quantifier: bool,
        hint: Option<Ty>,
    ) -> Option<(Expr, Ty)> {
        let segments: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
        match segments.as_slice() {
            [word] => self.resolve_word(path, word, in_quantifier, hint),
            [root, field] => self
                .resolve_pair(path, root, field, in_quantifier)
                .map(|(f, t)| (Expr::Fact(f), t)),
            _ => {
                self.out.push(
                    Diagnostic::error(
                        "xos::check::unknown_fact",
                        format!("unknown fact `{}`", path.text()),
                    )
                    .label(path.span, "not a fact")
                    .help("facts have at most two parts, such as `primary.better` or `srm.p`"),
                );
                None
            }
        }
    }

    fn resolve_word(
        &mut self,
        path: &ast::Path,
        word: &str,
        q: bool,
        hint: Option<Ty>,
    ) -> Option<(Expr, Ty)> {
        let literal = match word {
            "true" => Some((Expr::Bool(true), Ty::Bool)),
            "false" => Some((Expr::Bool(false), Ty::Bool)),
            "healthy" => Some((Expr::Health(Health::Healthy), Ty::Health)),
            "warning" => Some((Expr::Health(Health::Warning), Ty::Health)),
            "blocked" => Some((Expr::Health(Health::Blocked), Ty::Health)),
            "ok" => Some((Expr::Status(Status::Ok), Ty::Status)),
            "health" => Some((Expr::Fact(Fact::Health), Ty::Health)),
            _ => None,
        };
        if literal.is_some() {
            return literal;
        }
        if matches!(word, "worsened" | "severe") && (!q || hint == Some(Ty::Status)) {
            let status = if word == "severe" {
                Status::Severe
            } else {
                Status::Worsened
            };
            return Some((Expr::Status(status), Ty::Status));
        }
        if q && let Some(field) = field_by_name(word) {
            return Some((
                Expr::Fact(Fact::Guardrail(field)),
                field_ty(field, Dim::AnyLift),
            ));
        }
        let span = path.span;
        if self.scope.metrics.iter().any(|m| m.name == word) {
            self.out.push(
                Diagnostic::error(
                    "xos::check::metric_not_value",
                    format!("`{word}` is a metric, not a value"),
                )
                .label(span, "a metric has fields")
                .help(format!(
                    "read one of its fields, e.g. `{word}.better` or `{word}.p`"
                )),
            );
            return None;
        }
        if !q && field_by_name(word).is_some() {
            self.out.push(
                Diagnostic::error("xos::check::unknown_fact", format!("`{word}` needs a metric"))
                    .label(span, "a field of which metric?")
                    .help(format!(
                        "write `primary.{word}`, or test every guardrail with `any guardrail {word}`; several fields of one guardrail go in parentheses: `any guardrail (severe and {word})`"
                    )),
            );
            return None;
        }
        let mut candidates: Vec<&str> = vec![
            "health", "true", "false", "healthy", "warning", "blocked", "ok", "worsened", "severe",
            "primary", "srm", "settings", "plan",
        ];
        if q {
            candidates.extend(field_names());
        }
        let mut d = Diagnostic::error("xos::check::unknown_fact", format!("unknown fact `{word}`"))
            .label(span, "not a fact or value");
        d = match did_you_mean(word, candidates) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help("facts are `health`, `srm.p`, `primary.better`, `settings.alpha`, ...; see docs/language.md"),
        };
        self.out.push(d);
        None
    }

    fn resolve_pair(
        &mut self,
        path: &ast::Path,
        root: &str,
        name: &str,
        q: bool,
    ) -> Option<(Fact, Ty)> {
        let root_span = path.segments[0].span;
        let field_span = path.segments[1].span;
        match root {
            "srm" => match name {
                "p" => Some((Fact::SrmP, Ty::Number(Some(Dim::Probability)))),
                "chi2" => Some((Fact::SrmChi2, Ty::Number(Some(Dim::Plain)))),
                _ => {
                    self.out
                        .push(unknown_field(root, name, field_span, &["p", "chi2"]));
                    None
                }
            },
            "plan" => match name {
                "sample_reached" => Some((Fact::SampleReached, Ty::Bool)),
                _ => {
                    self.out
                        .push(unknown_field(root, name, field_span, &["sample_reached"]));
                    None
                }
            },
            "settings" => {
                if let Some(key) = SETTING_FACTS.iter().find(|k| k.name() == name) {
                    let dim = match key {
                        SettingKey::Alpha | SettingKey::SrmWarning | SettingKey::SrmBlocked => {
                            Dim::Probability
                        }
                        _ => Dim::Plain,
                    };
                    return Some((Fact::Setting(*key), Ty::Number(Some(dim))));
                }
                if SETTING_KEYS.contains(&name) {
                    self.out.push(
                        Diagnostic::error(
                            "xos::check::unreadable_setting",
                            format!("`settings.{name}` is not a number a rule can read"),
                        )
                        .label(field_span, "not readable in rules")
                        .help("rules can read `settings.alpha`, `srm_warning`, `srm_blocked`, `min_units`, `seed` and `draws`"),
                    );
                    return None;
                }
                let names: Vec<&str> = SETTING_FACTS.iter().map(|k| k.name()).collect();
                let mut d = Diagnostic::error(
                    "xos::check::unknown_setting",
                    format!("unknown setting `{name}`"),
                )
                .label(field_span, "not a setting");
                d = match did_you_mean(name, names.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `settings.{s}`?")),
                    None => d.help(format!("rules can read {}", list(&names))),
                };
                self.out.push(d);
                None
            }
            "primary" => {
                let field = self.field(root, name, field_span)?;
                if field.guardrail_only() {
                    self.out.push(guardrail_field_error(
                        root,
                        field,
                        field_span,
                        "the primary metric is never a guardrail",
                    ));
                    return None;
                }
                let lift = match self.scope.metrics.first() {
                    Some(m) if !self.scope.policy_file => {
                        if m.is_rate {
                            Dim::RateLift
                        } else {
                            Dim::MeanLift
                        }
                    }
                    _ => Dim::AnyLift,
                };
                Some((Fact::Metric(0, field), field_ty(field, lift)))
            }
            "guardrail" if q => {
                let field = self.field(root, name, field_span)?;
                Some((Fact::Guardrail(field), field_ty(field, Dim::AnyLift)))
            }
            "guardrail" => {
                self.out.push(
                    Diagnostic::error(
                        "xos::check::unknown_fact",
                        format!("`guardrail.{name}` needs a quantifier"),
                    )
                    .label(root_span, "which guardrail?")
                    .help(format!(
                        "test the guardrails with `any guardrail {name}`, `all guardrails {name}` or `no guardrail {name}`"
                    )),
                );
                None
            }
            _ => {
                let id = self.scope.metrics.iter().position(|m| m.name == root);
                if self.scope.policy_file
                    && (id.is_some() || field_by_name(name).is_some())
                    && did_you_mean(root, ["primary", "srm", "settings", "plan"])
                        .is_none_or(|_| id.is_some())
                {
                    self.out.push(
                            Diagnostic::error(
                                "xos::check::metric_in_policy",
                                format!("a policy rule cannot name the metric `{root}`"),
                            )
                            .label(root_span, "a specific metric")
                            .help("policy files are shared by many experiments: read `primary.*` or quantify over guardrails (`any guardrail worsened`), or move this rule into the experiment"),
                        );
                    return None;
                }
                let Some(id) = id else {
                    let mut names: Vec<&str> =
                        self.scope.metrics.iter().map(|m| m.name.as_str()).collect();
                    names.extend(["primary", "srm", "settings", "plan"]);
                    let mut d = Diagnostic::error(
                        "xos::check::unknown_metric",
                        format!("unknown metric `{root}`"),
                    )
                    .label(root_span, "not declared in this experiment");
                    d = match did_you_mean(root, names.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!(
                            "the experiment's metrics are {}",
                            list(&names[..names.len() - 4])
                        )),
                    };
                    self.out.push(d);
                    return None;
                };
                let field = self.field(root, name, field_span)?;
                let metric = &self.scope.metrics[id];
                if field.guardrail_only() && metric.role != Role::Guardrail {
                    self.out.push(guardrail_field_error(
                        root,
                        field,
                        field_span,
                        &format!("`{root}` is not a guardrail"),
                    ));
                    return None;
                }
                let lift = if metric.is_rate {
                    Dim::RateLift
                } else {
                    Dim::MeanLift
                };
                Some((Fact::Metric(id, field), field_ty(field, lift)))
            }
        }
    }

    fn field(&mut self, root: &str, name: &str, span: Span) -> Option<Field> {
        let field = field_by_name(name);
        if field.is_none() {
            self.out
                .push(unknown_field(root, name, span, &field_names()));
        }
        field
    }

    /// A fact path in a test's `given` list: like a rule's, and `guardrail.X`
    /// gives a field of one guardrail.
    fn resolve_given(mut self, path: &ast::Path) -> Option<(Fact, Ty)> {
        let segments: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
        match segments.as_slice() {
            ["health"] => Some((Fact::Health, Ty::Health)),
            [root, field] => self.resolve_pair(path, root, field, true),
            _ => {
                let mut d = Diagnostic::error(
                    "xos::check::unknown_fact",
                    format!("unknown fact `{}`", path.text()),
                )
                .label(path.span, "not a fact a test can give");
                d = match segments.as_slice() {
                    [w] if field_by_name(w).is_some() => {
                        d.help(format!("write `primary.{w}` or `guardrail.{w}`"))
                    }
                    _ => d.help("give facts such as `health`, `srm.p`, `primary.better` or `guardrail.severe`"),
                };
                self.out.push(d);
                None
            }
        }
    }
}

fn is_status_word(expr: &ast::Expr) -> bool {
    matches!(&expr.kind, ExprKind::Path(p) if p.segments.len() == 1 && matches!(p.segments[0].name.as_str(), "worsened" | "severe"))
}

fn same_kind(a: Ty, b: Ty) -> bool {
    matches!(
        (a, b),
        (Ty::Bool, Ty::Bool) | (Ty::Health, Ty::Health) | (Ty::Status, Ty::Status)
    )
}

fn type_error(span: Span, message: &str, found: Ty) -> Diagnostic {
    Diagnostic::error(
        "xos::check::type_mismatch",
        format!("{message}, found {}", found.describe()),
    )
    .label(span, found.describe())
    .help(
        "conditions combine booleans with `and`, `or`, `not`; compare numbers with `<`, `>`, `==`",
    )
}

fn unknown_field(root: &str, name: &str, span: Span, known: &[&str]) -> Diagnostic {
    let mut d = Diagnostic::error(
        "xos::check::unknown_field",
        format!("`{root}` has no field `{name}`"),
    )
    .label(span, "unknown field");
    d = match did_you_mean(name, known.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{root}.{s}`?")),
        None => d.help(format!("`{root}` has {}", list(known))),
    };
    d
}

fn guardrail_field_error(root: &str, field: Field, span: Span, why: &str) -> Diagnostic {
    Diagnostic::error(
        "xos::check::guardrail_field",
        format!("`{}` is only defined for guardrails", field.name()),
    )
    .label(span, why.to_string())
    .help(format!(
        "`{root}.{}` needs `{root}` to be declared with `guardrail`; or test all guardrails with `any guardrail {}`",
        field.name(),
        field.name()
    ))
}

/// The fact a numeric expression reads, for messages.
fn fact_label(expr: &ast::Expr) -> String {
    match &expr.kind {
        ExprKind::Path(p) => p.text(),
        ExprKind::Neg(e) => fact_label(e),
        ExprKind::Binary(_, a, b) => {
            let a = fact_label(a);
            if a.is_empty() { fact_label(b) } else { a }
        }
        _ => String::new(),
    }
}

/// Checks the literals added to or compared with a quantity of kind `dim`.
fn check_literals(expr: &ast::Expr, dim: Dim, fact: &str, out: &mut Vec<Diagnostic>) -> bool {
    match &expr.kind {
        ExprKind::Number(n) => literal_fits(n, dim, fact, out).is_some(),
        ExprKind::Neg(e) => check_literals(e, dim, fact, out),
        ExprKind::Binary(BinaryOp::Add | BinaryOp::Sub, a, b) => {
            let a = check_literals(a, dim, fact, out);
            check_literals(b, dim, fact, out) && a
        }
        _ => true,
    }
}

/// `relative` and `d` never fit a fact.
fn literal_alone(n: &ast::Number, out: &mut Vec<Diagnostic>) -> Option<()> {
    if n.relative {
        out.push(
            Diagnostic::error(
                "xos::check::unit_mismatch",
                "a relative effect cannot be compared with a fact",
            )
            .label(n.span, "`relative` is not accepted here")
            .help("compare a relative lift as a percentage: `primary.rel_lift > 5%`"),
        );
        return None;
    }
    if n.unit == Unit::Days {
        out.push(
            Diagnostic::error("xos::check::unit_mismatch", "no fact is measured in days")
                .label(n.span, "days are not accepted here")
                .help("`d` is for `plan { duration 14d }`; write a plain number"),
        );
        return None;
    }
    Some(())
}

fn literal_fits(n: &ast::Number, dim: Dim, fact: &str, out: &mut Vec<Diagnostic>) -> Option<()> {
    literal_alone(n, out)?;
    let fact = if fact.is_empty() {
        "this fact".to_string()
    } else {
        format!("`{fact}`")
    };
    let (ok, help) = match (dim, n.unit) {
        (_, Unit::None) => (true, String::new()),
        (Dim::Probability | Dim::RelLift, Unit::Percent) => (true, String::new()),
        (Dim::RateLift | Dim::AnyLift, Unit::Pp) => (true, String::new()),
        (Dim::Probability, _) => (
            false,
            format!(
                "{fact} is a probability; percentage points are differences of rates: write `{}%` or `{}`",
                trim_float(n.value * 100.0),
                trim_float(n.value)
            ),
        ),
        (Dim::RelLift, _) => (
            false,
            format!(
                "{fact} is already relative: write `{}%`",
                trim_float(n.value * 100.0)
            ),
        ),
        (Dim::RateLift | Dim::AnyLift, _) => (
            false,
            format!(
                "{fact} is an absolute difference of rates: write `{}pp`, or compare `rel_lift` with `{}%`",
                trim_float(n.value * 100.0),
                trim_float(n.value * 100.0)
            ),
        ),
        (Dim::MeanLift, _) => (
            false,
            format!(
                "{fact} is in the metric's own units: write a plain number, or compare `rel_lift` with a percentage"
            ),
        ),
        (Dim::Plain, _) => (
            false,
            format!("{fact} is a plain number: write it without a unit"),
        ),
    };
    if ok {
        return Some(());
    }
    out.push(
        Diagnostic::error(
            "xos::check::unit_mismatch",
            format!("{} cannot be compared with {fact}", unit_words(n.unit)),
        )
        .label(n.span, format!("{} not accepted here", unit_words(n.unit)))
        .help(help),
    );
    None
}

// ---------------------------------------------------------------- reasons

/// Splits a `because` string into text and checked `{{ fact }}` references.
fn check_reason(
    string: &ast::StringLit,
    scope: &Scope<'_>,
    out: &mut Vec<Diagnostic>,
) -> Option<Reason> {
    let raw = scope
        .text
        .get(string.span.start..string.span.end)
        .unwrap_or("\"\"");
    let body = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
    let base = string.span.start + 1;
    let mut parts = Vec::new();
    let mut ok = true;
    let mut rest = body;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        push_text(&mut parts, &rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            let at = base + offset + open;
            out.push(
                Diagnostic::error("xos::check::unclosed_placeholder", "`{{` is never closed")
                    .label(Span::new(at, at + 2), "placeholder opened here")
                    .help("write `{{ fact.path }}`, e.g. `{{ srm.p }}`"),
            );
            return None;
        };
        let inner = &after[..close];
        let trimmed = inner.trim();
        let lead = inner.len() - inner.trim_start().len();
        let start = base + offset + open + 2 + lead;
        let mut segments = Vec::new();
        let mut pos = start;
        for seg in trimmed.split('.') {
            segments.push(ast::Ident {
                name: seg.to_string(),
                span: Span::new(pos, pos + seg.len()),
            });
            pos += seg.len() + 1;
        }
        let valid = !trimmed.is_empty()
            && segments.iter().all(|s| {
                s.name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && s.name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        let path = ast::Path {
            segments,
            span: Span::new(start, start + trimmed.len()),
        };
        if !valid {
            out.push(
                Diagnostic::error(
                    "xos::check::bad_placeholder",
                    format!("`{trimmed}` is not a fact path"),
                )
                .label(path.span, "expected a fact such as `srm.p`")
                .help("placeholders hold one fact: `{{ primary.rel_lift }}`"),
            );
            ok = false;
        } else {
            let mut checker = ExprChecker {
                scope,
                out: &mut *out,
            };
            match checker.resolve(&path, false, None) {
                Some((Expr::Fact(fact), _)) => {
                    parts.push(ReasonPart::Fact(fact, trimmed.to_string()))
                }
                Some(_) => {
                    out.push(
                        Diagnostic::error(
                            "xos::check::bad_placeholder",
                            format!("`{trimmed}` is not a fact"),
                        )
                        .label(path.span, "a literal, not a fact")
                        .help("placeholders show facts, e.g. `{{ srm.p }}`"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    push_text(&mut parts, rest);
    ok.then_some(Reason { parts })
}

fn push_text(parts: &mut Vec<ReasonPart>, raw: &str) {
    if raw.is_empty() {
        return;
    }
    let text = join_lines(&parse::unescape(raw).unwrap_or_else(|_| raw.to_string()));
    parts.push(ReasonPart::Text(text));
}

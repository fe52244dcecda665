//! Policies: reading the policy file (built-in, named, cached), its rules,
//! reachability, `non_inferior` margins, and policy tests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, SourceFile, Span, did_you_mean};
use crate::plan::{
    self, DataSource, Direction, Effect, Expr, Fact, Field, Given, GivenValue, Metric, MetricKind,
    Plan, Policy, PolicyOrigin, PolicyTest, Role, Rule, RuleSource, SettingKey, Settings, Status,
    Variant, Verdict,
};
use crate::syntax::ast;
use crate::syntax::parse;

use super::expr::{
    ExprChecker, Scope, Ty, check_condition, check_reason, literal_alone, literal_fits,
    literal_word,
};
use super::values::duplicate;
use super::values::list;
use super::{DEFAULT_POLICY, DEFAULT_POLICY_NAME, io_reason};
use crate::syntax::condition_text;

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
pub(super) struct PolicySite {
    pub(super) source: Arc<SourceFile>,
    pub(super) span: Span,
    pub(super) written: String,
    pub(super) resolved: PathBuf,
}

/// Reads, parses and checks the policy. Returns it with its source file
/// (`None` for the built-in one, whose problems are not the user's).
pub(super) fn load_policy(
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
    let text = match crate::limits::read_file(&site.resolved, crate::limits::max_source_bytes())
        .and_then(|bytes| {
            String::from_utf8(bytes).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "not UTF-8 text")
            })
        }) {
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
                .in_file(&site.source)
                // Named so that `xos watch` sees the file when it appears.
                .at_path(&site.resolved),
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
            // A file that is not xos at all (`policy "/etc/passwd"`) is
            // quoted no further than its offending token; a policy with a
            // typo keeps its excerpt.
            if starts_as_xos(&source.text) {
                out.extend(errors);
            } else {
                let quoted = SourceFile::data(&source.path, source.text.clone(), source.first_line);
                out.extend(errors.into_iter().map(|mut d| {
                    if d.source.as_ref().is_some_and(|s| Arc::ptr_eq(s, &source)) {
                        d.source = Some(Arc::clone(&quoted));
                        d.message = crate::text::short_quotes(&d.message);
                        for label in &mut d.labels {
                            label.text = crate::text::short_quotes(&label.text);
                        }
                    }
                    d
                }));
            }
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

/// Whether `text` starts, after blank and `//` comment lines, with the
/// keyword `policy` or `experiment`: an xos file, however broken further on.
fn starts_as_xos(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim_start)
        .find(|line| !line.is_empty() && !line.starts_with("//"))
        .unwrap_or("");
    ["policy", "experiment"].iter().any(|keyword| {
        first
            .strip_prefix(keyword)
            .is_some_and(|rest| rest.starts_with(char::is_whitespace))
    })
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

pub(super) fn check_policy_decl(
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

pub(super) fn check_rule(
    decl: &ast::RuleDecl,
    scope: &Scope<'_>,
    source: RuleSource,
    out: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    if decl.name.name == "otherwise" {
        // The memo, the report and `by otherwise` in tests name the
        // fallback `otherwise`: a rule of that name would pass for it.
        out.push(
            Diagnostic::error(
                "xos::check::reserved_rule_name",
                "a rule cannot be named `otherwise`: the memo and the report name the fallback so",
            )
            .label(decl.name.span, "reserved for the fallback")
            .help("rename the rule; to change what happens when no rule fires, write `otherwise launch|hold|rollback because \"…\"`"),
        );
        return None;
    }
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
        name_span: decl.name.span,
    })
}

/// Warnings for rules that can never fire, over one policy's own rules.
pub(super) fn reachability(rules: &[Rule], out: &mut Vec<Diagnostic>) {
    let mut inline = Vec::new();
    reachability_combined(rules, &mut inline, out);
    out.extend(inline);
}

/// Warnings for rules that can never fire: after an unconditional rule, or
/// with the same condition as an earlier rule. Warnings about inline rules
/// go to `inline`, about policy rules to `file`.
pub(super) fn reachability_combined(
    rules: &[Rule],
    inline: &mut Vec<Diagnostic>,
    file: &mut Vec<Diagnostic>,
) {
    // One pass, linear in the rules (3,000 inline rules took 36 s when each
    // rule was compared with every earlier one): the first `when true`, the
    // files already warned about it, and the first rule of each condition
    // (keyed by the condition itself; it was keyed by its `Debug` text, 2%
    // of a folder run's CPU).
    let mut first_true: Option<&Rule> = None;
    let mut warned_after_true: Vec<RuleSource> = Vec::new();
    let mut first_with: std::collections::HashMap<Condition, &Rule> =
        std::collections::HashMap::new();
    for rule in rules {
        let sink = |rule: &Rule| -> bool { rule.source == RuleSource::Inline };
        if let Some(earlier) = first_true {
            let same_file = earlier.source == rule.source;
            let mut d = Diagnostic::warning(
                "xos::check::unreachable_rule",
                format!("rule `{}` can never fire", rule.name),
            )
            .label(rule.name_span, "never reached")
            .help(format!(
                "rule `{}` always applies (`when true`) and comes first; remove or reorder one of them",
                earlier.name
            ));
            if same_file {
                d = d.secondary(earlier.name_span, "this rule always applies");
            }
            // Only the first unreachable rule of a file is worth a warning.
            if !warned_after_true.contains(&rule.source) {
                warned_after_true.push(rule.source);
                if sink(rule) {
                    inline.push(d);
                } else {
                    file.push(d);
                }
            }
            continue;
        }
        if rule.when == Expr::Bool(true) {
            first_true = Some(rule);
        }
        let earlier = match first_with.entry(Condition(&rule.when)) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(rule);
                None
            }
        };
        if let Some(earlier) = earlier {
            let mut d = Diagnostic::warning(
                "xos::check::repeated_condition",
                format!("rule `{}` can never fire", rule.name),
            )
            .label(rule.name_span, "same condition as an earlier rule")
            .help(format!(
                "rule `{}` has the same condition and comes first, so it always decides instead",
                earlier.name
            ));
            if earlier.source == rule.source {
                d = d.secondary(earlier.name_span, "the earlier rule");
            }
            if sink(rule) {
                inline.push(d);
            } else {
                file.push(d);
            }
        }
    }
}

/// A rule's condition as a map key: equal when the conditions are (`==`).
/// `Eq` holds because a condition's numbers are literals, never NaN.
#[derive(PartialEq, Hash)]
struct Condition<'a>(&'a Expr);

impl Eq for Condition<'_> {}

/// If the policy reads a guardrail's `non_inferior`, the guardrails it reads
/// need a `margin`.
pub(super) fn check_margins(
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

/// Whether a test's `given` facts could come out of one evaluation: each
/// number in its domain (a p-value or a probability in [0, 1], a count or a
/// loss not negative, α in (0, ½) and the SRM thresholds in (0, 1)), and one metric's
/// facts not contradicting each other (significantly better and worse,
/// significant with p ≥ ½, better or worse with a lift or an interval on
/// the wrong side of 0 for the direction `prefer` gives, severe but not
/// worsened, a status its flags deny). An impossible test passes or fails on the order its facts are
/// applied in, never on the policy: each problem is
/// `xos::check::impossible_given` at the fact, with the fact it contradicts.
fn possible_givens(
    given: &[Given],
    spans: &[Span],
    prefer: &dyn Fn(Option<usize>) -> Option<Direction>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let mut ok = true;
    let mut fail = |at: usize, message: String, other: Option<usize>| {
        let mut d = Diagnostic::error("xos::check::impossible_given", message)
            .label(spans[at], "no evaluation gives this")
            .help("give facts one experiment could have; facts not given follow the ones given (`primary.better = true` also sets a positive lift and a small p)");
        if let Some(other) = other {
            d = d.secondary(spans[other], "contradicted here");
        }
        out.push(d);
        ok = false;
    };
    for (i, g) in given.iter().enumerate() {
        let GivenValue::Number(x) = g.value else {
            continue;
        };
        let field = match g.fact {
            Fact::Metric(_, field) | Fact::Guardrail(field) => Some(field),
            _ => None,
        };
        let domain = match (g.fact, field) {
            (_, Some(Field::P | Field::PAdjusted | Field::ProbBetter)) | (Fact::SrmP, _) => {
                Some(("a probability, from 0 to 1", (0.0..=1.0).contains(&x)))
            }
            (_, Some(Field::Units | Field::ExpectedLoss))
            | (
                Fact::SrmChi2
                | Fact::PlanProgress
                | Fact::PlanUnitsRemaining
                | Fact::PlanDaysRemaining
                | Fact::SequentialInformation,
                _,
            )
            | (Fact::Setting(SettingKey::MinUnits | SettingKey::Seed | SettingKey::Draws), _) => {
                Some(("never negative", x >= 0.0))
            }
            // As the `settings` block allows.
            (Fact::Setting(SettingKey::Alpha), _) => Some((
                "between 0 and 0.5 (exclusive), as in `settings`",
                x > 0.0 && x < 0.5,
            )),
            (Fact::Setting(SettingKey::SrmWarning | SettingKey::SrmBlocked), _) => {
                Some(("a level strictly between 0 and 1", x > 0.0 && x < 1.0))
            }
            _ => None,
        };
        if let Some((what, false)) = domain {
            fail(
                i,
                format!("`{}` is {what}, not {}", g.path, crate::numbers::number(x)),
                None,
            );
        }
    }
    // One metric's facts, by the metric (`guardrail.X` for every guardrail).
    let owner = |fact: Fact| match fact {
        Fact::Metric(id, field) => Some((Some(id), field)),
        Fact::Guardrail(field) => Some((None, field)),
        _ => None,
    };
    let find = |metric: Option<usize>, wanted: Field| {
        given
            .iter()
            .position(|g| owner(g.fact) == Some((metric, wanted)))
    };
    let flag = |at: Option<usize>| {
        at.and_then(|i| match given[i].value {
            GivenValue::Bool(b) => Some((i, b)),
            _ => None,
        })
    };
    let mut metrics: Vec<Option<usize>> = given
        .iter()
        .filter_map(|g| owner(g.fact).map(|(m, _)| m))
        .collect();
    metrics.sort();
    metrics.dedup();
    for m in metrics {
        let better = flag(find(m, Field::Better));
        let worse = flag(find(m, Field::Worse));
        let significant = flag(find(m, Field::Significant));
        let worsened = flag(find(m, Field::Worsened));
        let severe = flag(find(m, Field::Severe));
        if let (Some((b, true)), Some((w, true))) = (better, worse) {
            fail(
                b.max(w),
                "a metric cannot be significantly better and significantly worse at once".into(),
                Some(b.min(w)),
            );
        }
        if let Some((s, false)) = significant {
            for (i, _) in [better, worse].into_iter().flatten().filter(|(_, v)| *v) {
                fail(
                    i.max(s),
                    "significantly better or worse means significant".into(),
                    Some(i.min(s)),
                );
            }
        }
        let significance = [better, worse, significant]
            .into_iter()
            .flatten()
            .find(|(_, v)| *v);
        for field in [Field::P, Field::PAdjusted] {
            if let (Some((i, _)), Some(p)) = (significance, find(m, field))
                && let GivenValue::Number(x) = given[p].value
                && x >= 0.5
            {
                fail(
                    i.max(p),
                    format!(
                        "a significant result has a p-value below α, which is below ½; `{}` is {}",
                        given[p].path,
                        crate::numbers::number(x)
                    ),
                    Some(i.min(p)),
                );
            }
        }
        // Significance in the preferred direction (or against it) is a lift
        // and an interval on that side of 0.
        if let Some(direction) = prefer(m) {
            let s = match direction {
                Direction::Higher => 1.0,
                Direction::Lower => -1.0,
            };
            for (flag, side, word) in [(better, s, "better"), (worse, -s, "worse")] {
                let Some((i, true)) = flag else { continue };
                for field in [Field::Lift, Field::RelLift, Field::CiLow, Field::CiHigh] {
                    let Some(at) = find(m, field) else { continue };
                    let GivenValue::Number(x) = given[at].value else {
                        continue;
                    };
                    // The lift, and the interval's end nearer 0, lie on the
                    // side of the significance.
                    let wrong = match field {
                        Field::Lift | Field::RelLift => side * x <= 0.0,
                        Field::CiLow => side > 0.0 && x <= 0.0,
                        _ => side < 0.0 && x >= 0.0,
                    };
                    if wrong {
                        fail(
                            i.max(at),
                            format!(
                                "significantly {word} (the metric prefers {}) with `{}` = {}",
                                match direction {
                                    Direction::Higher => "higher",
                                    Direction::Lower => "lower",
                                },
                                given[at].path,
                                crate::numbers::number(x)
                            ),
                            Some(i.min(at)),
                        );
                    }
                }
            }
        }
        if let (Some((s, true)), Some((w, false))) = (severe, worsened) {
            fail(
                s.max(w),
                "a severe guardrail has also worsened (its severe threshold is past its worsened one)"
                    .into(),
                Some(s.min(w)),
            );
        }
        if let Some(at) = find(m, Field::Status)
            && let GivenValue::Status(status) = given[at].value
        {
            let denied = match status {
                Status::Ok => [worsened, severe].into_iter().flatten().find(|(_, v)| *v),
                Status::Worsened => severe.filter(|(_, v)| *v),
                Status::Severe => [worsened, severe].into_iter().flatten().find(|(_, v)| !*v),
            };
            if let Some((i, _)) = denied {
                fail(
                    i.max(at),
                    format!(
                        "the status `{}` and `{}` contradict each other",
                        status.as_str(),
                        given[i].path
                    ),
                    Some(i.min(at)),
                );
            }
        }
    }
    ok
}

pub(super) fn check_test(
    decl: &ast::TestDecl,
    scope: &Scope<'_>,
    source: RuleSource,
    policy: &Policy,
    out: &mut Vec<Diagnostic>,
) -> Option<PolicyTest> {
    let mut ok = true;
    let mut given = Vec::new();
    let mut spans = Vec::new();
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
        if matches!(resolved, Fact::Guardrail(_))
            && !scope.policy_file
            && !scope.metrics.iter().any(|m| m.role == Role::Guardrail)
        {
            out.push(
                Diagnostic::error(
                    "xos::check::impossible_given",
                    format!("`{text}` sets nothing: the experiment declares no guardrail"),
                )
                .label(fact.path.span, "no guardrail to give this to")
                .help("declare the guardrail in the spec, or test the policy file on its own (`xos test POLICY.xos`), where tests run on a generic guardrail"),
            );
            ok = false;
            continue;
        }
        match given_value(&fact.value, ty, &text, out) {
            Some(value) => {
                given.push(Given {
                    fact: resolved,
                    path: text,
                    value,
                });
                spans.push(fact.span);
            }
            None => ok = false,
        }
    }
    // The direction each metric prefers: a policy file's stand-in primary
    // prefers higher; `guardrail.X` applies to guardrails of either.
    let prefer = |metric: Option<usize>| match metric {
        Some(id) => scope
            .metrics
            .get(id)
            .map_or((id == 0).then_some(Direction::Higher), |m| Some(m.prefer)),
        None => None,
    };
    if !possible_givens(&given, &spans, &prefer, out) {
        ok = false;
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

fn given_value(
    value: &ast::Value,
    ty: Ty,
    path: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<GivenValue> {
    let found = match value {
        ast::Value::Number(n) => {
            if let Ty::Number(dim) = ty {
                if let Some(dim) = dim {
                    literal_fits(n, dim, path, out)?;
                } else {
                    literal_alone(n, out)?;
                }
                return Some(GivenValue::Number(n.value));
            }
            Ty::Number(None)
        }
        ast::Value::Word(w) => {
            let literal = literal_word(&w.name);
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

// ---------------------------------------------------------------- a policy on its own

/// The name of the generic guardrail of a policy file on its own.
pub const GUARDRAIL: &str = "guardrail";

/// The name of the second generic guardrail, for `any` versus `all`.
pub const SECOND_GUARDRAIL: &str = "guardrail_2";

/// A plan-like view of a policy file on its own: a rate primary metric named
/// `primary` and `guardrails` generic rate guardrails (`guardrail`,
/// `guardrail_2`, ...) with worsened, severe and margin thresholds, default
/// settings, and the policy's rules. Tests and scenarios run on it.
pub fn policy_plan(policy: &Policy, guardrails: usize) -> Plan {
    let spec_path = match &policy.origin {
        PolicyOrigin::File(path) => path.clone(),
        PolicyOrigin::BuiltIn => PathBuf::from("rules/default.xos"),
    };
    let mut metrics = vec![Metric {
        name: "primary".to_string(),
        role: Role::Primary,
        kind: MetricKind::Rate {
            column: "primary".to_string(),
        },
        prefer: Direction::Higher,
        baseline: Some(0.1),
        mde: None,
        sd: None,
        ratio_inputs: Default::default(),
        covariate: None,
        cuped: None,
        unit: None,
        worsened: None,
        severe: None,
        margin: None,
    }];
    for i in 0..guardrails {
        let name = if i == 0 {
            GUARDRAIL.to_string()
        } else {
            format!("{GUARDRAIL}_{}", i + 1)
        };
        metrics.push(Metric {
            name: name.clone(),
            role: Role::Guardrail,
            kind: MetricKind::Rate { column: name },
            prefer: Direction::Lower,
            baseline: None,
            mde: None,
            sd: None,
            ratio_inputs: Default::default(),
            covariate: None,
            cuped: None,
            unit: None,
            worsened: Some(Effect::Absolute(0.001)),
            severe: Some(Effect::Absolute(0.003)),
            margin: Some(Effect::Absolute(0.005)),
        });
    }
    Plan {
        name: policy.name.clone(),
        title: None,
        owner: None,
        hypothesis: None,
        spec_path,
        data: DataSource::aggregated(PathBuf::new(), String::new(), false),
        variants: vec![
            Variant {
                name: "control".to_string(),
                share: 0.5,
            },
            Variant {
                name: "treatment".to_string(),
                share: 0.5,
            },
        ],
        metrics,
        primary: 0,
        sample_plan: None,
        sequential: None,
        settings: Settings::default(),
        policy: policy.clone(),
        config: None,
        templates: None,
        output: None,
        generic: true,
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_policy_source;
    use super::super::testing::{codes, spec};

    fn policy(rules: &str) -> String {
        format!("policy p {{\n{rules}\n}}\n")
    }

    #[test]
    fn a_policy_needs_otherwise() {
        let text = policy(r#"rule a { when primary.better then launch because "Won." }"#);
        let errors = check_policy_source(&spec(&text)).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::missing_otherwise"]);
    }

    #[test]
    fn rules_after_when_true_are_unreachable() {
        let text = policy(
            r#"rule stop { when true then hold because "Always." }
rule win { when primary.better then launch because "Won." }
otherwise hold because "Wait.""#,
        );
        let checked = check_policy_source(&spec(&text)).unwrap();
        assert_eq!(codes(&checked.warnings.0), ["xos::check::unreachable_rule"]);
        let win = &checked.policy.rules[1];
        assert_eq!(&text[win.name_span.start..win.name_span.end], "win");
    }

    #[test]
    fn policy_files_read_generic_facts_only() {
        let text = policy(
            r#"rule win { when conversion.better then launch because "Won." }
otherwise hold because "Wait.""#,
        );
        let errors = check_policy_source(&spec(&text)).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::metric_in_policy"]);
    }

    #[test]
    fn policy_tests_are_checked_and_kept() {
        let text = policy(
            r#"rule win { when primary.better then launch because "Won." }
otherwise hold because "Wait."
test better { given primary.better = true expect launch by win }"#,
        );
        let checked = check_policy_source(&spec(&text)).unwrap();
        assert_eq!(checked.policy.tests.len(), 1);
        let text = text.replace("by win", "by lose");
        let errors = check_policy_source(&spec(&text)).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::unknown_rule"]);
    }
}

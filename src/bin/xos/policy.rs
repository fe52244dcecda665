//! `xos test` and `xos diff`: decision policies as reviewed code.

use crate::cli::{out, outln};
use std::collections::HashSet;
use std::path::PathBuf;

use xos::check::CheckedFile;
use xos::diagnostic::{Diagnostic, Diagnostics};
use xos::plan::{Plan, PolicyOrigin, RuleSource};
use xos::review::tests::{self, TestResult};

use crate::cli::{
    CommandResult, DiffArgs, DiffFormat, ErrorFormat, Exit, TestArgs, expand, print_diagnostics,
};

/// Runs every test of every file, like `cargo test`: one line per test,
/// the details of each failure, and `N passed, M failed`.
pub fn test_command(args: &TestArgs) -> Exit {
    let options = args.containment.load_options();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut invalid = false;
    // A policy named by several specs is tested once.
    let mut tested: HashSet<Option<PathBuf>> = HashSet::new();
    let files = match expand(&args.files) {
        Ok(files) => files,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics, ErrorFormat::Human);
            return Exit::Failed;
        }
    };
    let mut unchecked = 0usize;
    for file in &files {
        // The tests, and the file each kind of test is written in: a
        // policy's own file, or for a spec, the spec (its own tests) and its
        // policy's file.
        let (results, spec, policy) = match xos::check_path(file, &options) {
            Ok(CheckedFile::Policy(checked)) => {
                tested.insert(origin_key(&checked.policy.origin));
                let results = tests::policy_tests(&checked.policy);
                (results, None, Some(file.clone()))
            }
            Ok(CheckedFile::Experiment(checked)) => {
                let plan = &checked.plan;
                let first = tested.insert(origin_key(&plan.policy().origin));
                let results = tests::plan_tests(plan)
                    .into_iter()
                    .filter(|r| first || r.suite == plan.name())
                    .collect();
                let policy = match &plan.policy().origin {
                    PolicyOrigin::File(path) => Some(path.clone()),
                    PolicyOrigin::BuiltIn => None,
                };
                (results, Some(file.clone()), policy)
            }
            Err(diagnostics) => {
                print_diagnostics(&diagnostics, ErrorFormat::Human);
                invalid = true;
                unchecked += 1;
                continue;
            }
        };
        // The files are read again only to locate a failing test.
        let place = results
            .iter()
            .any(|r| !r.passed)
            .then(|| Places::new(spec.as_deref(), policy.as_deref()));
        let own = results
            .iter()
            .filter(|r| r.source == RuleSource::Inline)
            .count();
        let inherited = results.len() - own;
        let tests = |n: usize| format!("{n} test{}", if n == 1 { "" } else { "s" });
        if spec.is_some() && inherited > 0 {
            outln!(
                "running {} from {} and {} of its policy from {}",
                tests(own),
                xos::text::shown_path(file),
                tests(inherited),
                policy.as_ref().map_or_else(
                    || xos::check::DEFAULT_POLICY_NAME.to_string(),
                    |p| xos::text::shown_path(p)
                )
            );
        } else {
            outln!(
                "running {} from {}",
                tests(results.len()),
                xos::text::shown_path(file)
            );
        }
        for result in &results {
            out!("{}", show(result, place.as_ref()));
            if result.passed {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    outln!();
    if unchecked > 0 {
        outln!(
            "{passed} passed, {failed} failed, {unchecked} file{} not checked (errors above)",
            if unchecked == 1 { "" } else { "s" }
        );
    } else {
        outln!("{passed} passed, {failed} failed");
    }
    if invalid {
        Exit::Failed
    } else if failed > 0 {
        Exit::No
    } else {
        Exit::Success
    }
}

fn origin_key(origin: &PolicyOrigin) -> Option<PathBuf> {
    match origin {
        PolicyOrigin::BuiltIn => None,
        PolicyOrigin::File(path) => Some(std::fs::canonicalize(path).unwrap_or(path.clone())),
    }
}

/// The files a test can be written in, with their text, to say where a
/// failing test is (`rules/strict.xos:84:5`).
struct Places {
    spec: Option<std::sync::Arc<xos::diagnostic::SourceFile>>,
    policy: Option<std::sync::Arc<xos::diagnostic::SourceFile>>,
}

impl Places {
    /// `spec` holds the spec's own tests; `policy` is its policy's file, or
    /// `None` for the built-in default policy.
    fn new(spec: Option<&std::path::Path>, policy: Option<&std::path::Path>) -> Places {
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path)
                .ok()
                .map(|text| xos::diagnostic::SourceFile::new(path.display().to_string(), text))
        };
        Places {
            spec: spec.and_then(read),
            policy: match policy {
                Some(path) => read(path),
                None => Some(xos::diagnostic::SourceFile::new(
                    xos::check::DEFAULT_POLICY_NAME,
                    xos::check::DEFAULT_POLICY,
                )),
            },
        }
    }

    /// `FILE:LINE:COLUMN` of a test.
    fn of(&self, result: &TestResult) -> Option<String> {
        let file = match result.source {
            RuleSource::Inline => self.spec.as_ref(),
            RuleSource::Policy => self.policy.as_ref(),
        }?;
        let (line, column) = file.line_col(result.span.start);
        Some(format!("{}:{line}:{column}", file.name()))
    }
}

/// `test default::clean_win ... ok`, and for a failure where the test is,
/// what was expected, the rule that fired instead, why, and the facts it
/// read.
fn show(result: &TestResult, place: Option<&Places>) -> String {
    let mut out = format!("test {}::{} ... ", result.suite, result.name);
    if result.passed {
        out.push_str("ok\n");
        return out;
    }
    out.push_str("FAILED\n");
    if let Some(at) = place.and_then(|p| p.of(result)) {
        out.push_str(&format!("    at        {at}\n"));
    }
    let expected = match &result.by {
        Some(by) => format!("{} by {by}", result.expect.as_str()),
        None => result.expect.as_str().to_string(),
    };
    let d = &result.decision;
    out.push_str(&format!("    expected  {expected}\n"));
    out.push_str(&format!(
        "    got       {} by {}\n",
        d.verdict.as_str(),
        d.rule
    ));
    out.push_str(&format!("    because   {}\n", d.reason));
    if !d.facts.is_empty() {
        let facts: Vec<String> = d
            .facts
            .iter()
            .map(|f| format!("{} = {}", f.fact, f.value))
            .collect();
        out.push_str(&format!("    read      {}\n", facts.join(", ")));
    }
    out
}

/// What `xos diff` compares: the two plans, and the plans their tests run
/// on (for a policy file, one generic guardrail).
struct Sides {
    old: Plan,
    new: Plan,
    old_tests: Plan,
    new_tests: Plan,
}

/// The file at `path`, the span of the name it declares and what it is
/// ("an experiment spec", "a policy file"): where `xos::diff::mixed` points.
fn declared_name(
    path: &std::path::Path,
) -> Option<(
    std::sync::Arc<xos::diagnostic::SourceFile>,
    xos::diagnostic::Span,
    &'static str,
)> {
    use xos::syntax::ast::File;
    let source = xos::check::read_source(path).ok()?;
    let (span, kind) = match xos::syntax::parse::parse(&source).ok()? {
        File::Experiment(experiment) => (experiment.name.span, "an experiment spec"),
        File::Policy(policy) => (policy.name.span, "a policy file"),
    };
    Some((source, span, kind))
}

pub fn diff_command(args: &DiffArgs) -> CommandResult {
    let options = args.containment.load_options();
    let old = xos::check_path(&args.old, &options);
    let new = xos::check_path(&args.new, &options);
    let (old, new) = match (old, new) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            let mut all = Diagnostics::new();
            for result in [old, new] {
                if let Err(d) = result {
                    all.extend(d);
                }
            }
            return Err(all);
        }
    };
    let sides = match (old, new) {
        (CheckedFile::Policy(old), CheckedFile::Policy(new)) => Sides {
            old: xos::check::policy_plan(&old.policy, 3),
            new: xos::check::policy_plan(&new.policy, 3),
            old_tests: xos::check::policy_plan(&old.policy, 1),
            new_tests: xos::check::policy_plan(&new.policy, 1),
        },
        (CheckedFile::Experiment(old), CheckedFile::Experiment(new)) => Sides {
            old_tests: old.plan.clone(),
            new_tests: new.plan.clone(),
            old: old.plan,
            new: new.plan,
        },
        (old, _) => {
            let old_kind = match old {
                CheckedFile::Policy(_) => "a policy file",
                CheckedFile::Experiment(_) => "an experiment spec",
            };
            let diagnostic = Diagnostic::error(
                "xos::diff::mixed",
                "`xos diff` compares two policy files or two specs, not one of each",
            )
            .help("give two policy files (`rules/default.xos`) or two experiment specs");
            return Err(match declared_name(&args.new) {
                Some((source, span, kind)) => diagnostic.in_file(&source).label(
                    span,
                    format!("{kind}, while `{}` is {old_kind}", args.old.display()),
                ),
                None => diagnostic.at_path(&args.new),
            }
            .into());
        }
    };
    let (old_name, new_name) = (
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    let diff = xos::review::diff::diff(
        &sides.old,
        &sides.new,
        (&old_name, &new_name),
        Some((&sides.old_tests, &sides.new_tests)),
    );
    match args.format {
        DiffFormat::Text => out!("{}", xos::review::diff::render_text(&diff)),
        DiffFormat::Json => {
            let text = serde_json::to_string_pretty(&diff).unwrap_or_else(|_| "{}".to_string());
            outln!("{text}");
        }
    }
    let gated = (args.fail_on_change && diff.verdict_changed())
        || (args.fail_on_untested_change && diff.unpinned().next().is_some());
    Ok(if gated { Exit::No } else { Exit::Success })
}

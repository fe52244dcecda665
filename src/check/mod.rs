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

pub mod config;
mod experiment;
mod expr;
mod metric;
mod paths;
mod policy;
mod requirements;
mod sequential;
mod settings;
mod values;

use crate::diagnostic::{Diagnostic, Diagnostics, Quote, SourceFile, Span};
use crate::plan::{Plan, Policy, PolicyOrigin};
use crate::syntax::ast;
use crate::syntax::parse;
use expr::Scope;
pub use policy::{GUARDRAIL, SECOND_GUARDRAIL, policy_plan};
use policy::{check_policy_decl, reachability};

/// The built-in policy, `rules/default.xos`, used when nothing names one.
pub const DEFAULT_POLICY: &str = include_str!("../../rules/default.xos");

/// How the built-in policy is named in messages.
pub const DEFAULT_POLICY_NAME: &str = "<built-in rules/default.xos>";

/// Options for [`load_plan`] and [`check_source`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Replaces the spec's `data` path (`--data`).
    pub data_override: Option<PathBuf>,
    /// Lets the spec's and `xos.toml`'s paths point outside the spec's
    /// repository (`--allow-outside`); see `docs/limits.md`.
    pub allow_outside: bool,
    /// Look-ups shared by the specs of one folder run (`xos run DIR`); each
    /// spec looks again without it (`watch` and `serve`, which run for
    /// hours while files come and go).
    pub folders: Option<Arc<FolderCache>>,
}

/// What the specs of one folder run look up once per folder instead of once
/// per spec: the `xos.toml` in force for a spec folder (a `stat` of
/// `xos.toml` in every folder up to `/`), that file read and checked once,
/// and the canonical path of each repository root (a `readlink` per
/// component). Files that appear, move or change during the run are not
/// seen by the specs after the first of their folder. The folders between a
/// root and a spec's data file are looked at again for every spec (an
/// `lstat` each): a folder swapped for a symlink during a run must not let
/// a later spec read outside its repository. In a 1,000-spec run these
/// look-ups were about 4% of the CPU, and reading the `xos.toml` again for
/// every spec another 9% of the system time (`bench/fleet/run.sh`, whose
/// specs have one).
#[derive(Debug, Default)]
pub struct FolderCache {
    /// Spec folder → the `xos.toml` in force, if any.
    configs: std::sync::Mutex<HashMap<PathBuf, Option<PathBuf>>>,
    /// `xos.toml` → the file read and checked.
    loaded: std::sync::Mutex<HashMap<PathBuf, Result<config::Config, Diagnostics>>>,
    /// Repository root as written → canonical.
    roots: std::sync::Mutex<HashMap<PathBuf, PathBuf>>,
}

impl FolderCache {
    /// [`config::find_config`] for `spec`, once per folder.
    fn config_for(&self, spec: &Path) -> Option<PathBuf> {
        let folder = spec.parent().unwrap_or(Path::new(""));
        remembered(&self.configs, folder, || config::find_config(spec))
    }

    /// [`config::load_config`] of `path`, once per file.
    fn load_config(&self, path: &Path) -> Result<config::Config, Diagnostics> {
        remembered(&self.loaded, path, || config::load_config(path))
    }

    /// `resolve(root)`, once per root.
    fn resolved_root(&self, root: &Path, resolve: impl FnOnce(&Path) -> PathBuf) -> PathBuf {
        remembered(&self.roots, root, || resolve(root))
    }
}

/// The value `map` keeps for `key`, computed by `compute` the first time.
fn remembered<V: Clone>(
    map: &std::sync::Mutex<HashMap<PathBuf, V>>,
    key: &Path,
    compute: impl FnOnce() -> V,
) -> V {
    crate::locked(map)
        .entry(key.to_path_buf())
        .or_insert_with(compute)
        .clone()
}

/// A checked experiment: its plan, and the warnings found on the way.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The checked plan, ready for `data` and `evaluate`.
    pub plan: Plan,
    /// Warnings from the spec, its policy and `xos.toml` (unreachable rules, unused options, ...);
    /// never errors.
    pub warnings: Diagnostics,
}

/// A checked policy file on its own (`xos check rules/strict.xos`).
#[derive(Clone, Debug)]
pub struct CheckedPolicy {
    /// The policy's rules, `otherwise` and tests, checked.
    pub policy: Policy,
    /// Warnings found in the policy (unreachable rules and the like).
    pub warnings: Diagnostics,
}

/// What a file turned out to be, for `xos check FILE...`.
#[derive(Clone, Debug)]
pub enum CheckedFile {
    /// An experiment spec, checked with its policy.
    Experiment(Box<Checked>),
    /// A policy file on its own.
    Policy(CheckedPolicy),
}

impl CheckedFile {
    /// The warnings of the checked file, whatever its kind.
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
    match parse::parse(source)? {
        ast::File::Experiment(experiment) => check_experiment_file(source, &experiment, options),
        ast::File::Policy(policy) => Err(Diagnostic::error(
            "xos::check::not_an_experiment",
            format!("`{}` is a policy, not an experiment", source.name()),
        )
        .label(policy.name.span, "a policy file")
        .help("experiments name their policy with `policy \"path\"`; `xos check` accepts policy files on their own")
        .in_file(source)
        .into()),
    }
}

/// Checks a parsed experiment: finds and reads `xos.toml`, then the spec
/// and its policy.
fn check_experiment_file(
    source: &Arc<SourceFile>,
    experiment: &ast::Experiment,
    options: &LoadOptions,
) -> Result<Checked, Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let found = match &options.folders {
        Some(folders) => folders.config_for(&source.path),
        None => config::find_config(&source.path),
    };
    let loaded = |path: &Path| match &options.folders {
        Some(folders) => folders.load_config(path),
        None => config::load_config(path),
    };
    let config = match found {
        Some(path) => match loaded(&path) {
            Ok(config) => Some(config),
            Err(errors) => {
                diagnostics.extend(errors);
                None
            }
        },
        None => None,
    };
    let plan = experiment::check_experiment(
        source,
        experiment,
        config.as_ref(),
        options,
        &mut diagnostics,
    );
    finish(plan, diagnostics).map(|(plan, warnings)| Checked { plan, warnings })
}

/// Checks a parsed experiment without looking for an `xos.toml` (so no
/// configured policy, settings or templates): for a spec received over HTTP
/// by `xos serve`, which may make the server read no file. A `policy "path"`
/// in the spec would still be read: the caller refuses it first.
pub fn check_experiment_without_config(
    source: &Arc<SourceFile>,
    experiment: &ast::Experiment,
    options: &LoadOptions,
) -> Result<Checked, Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let plan = experiment::check_experiment(source, experiment, None, options, &mut diagnostics);
    finish(plan, diagnostics).map(|(plan, warnings)| Checked { plan, warnings })
}

/// Reads a file as UTF-8 source text; a missing or unreadable file is a
/// diagnostic naming the path.
pub fn read_source(path: &Path) -> Result<Arc<SourceFile>, Diagnostics> {
    match crate::limits::read_file(path, crate::limits::max_source_bytes()) {
        Ok(bytes) => {
            crate::diagnostic::decode_utf8(path, bytes, Quote::Excerpt).map_err(|(source, byte)| {
                Diagnostic::error(
                    "xos::io::not_utf8",
                    format!("`{}` is not UTF-8 text", path.display()),
                )
                .in_file(&source)
                .label(byte, "invalid byte here")
                .help("xos files are UTF-8 text")
                .into()
            })
        }
        Err(error) => Err(Diagnostic::error(
            "xos::io::read",
            format!("cannot read `{}`: {}", path.display(), io_reason(&error)),
        )
        .at_path(path)
        .help(read_help(path, &error))
        .into()),
    }
}

/// What to check when `path` cannot be read: a relative path may be
/// relative to the wrong folder, an absolute one was moved or deleted.
fn read_help(path: &Path, error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::NotFound if path.is_absolute() => {
            "check the path: nothing is there (was the file moved or deleted?)"
        }
        std::io::ErrorKind::NotFound => "check the path: it is relative to the current folder",
        std::io::ErrorKind::PermissionDenied => "the file must be readable by the user running xos",
        _ => "docs/limits.md lists the kinds and sizes of file xos reads",
    }
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::FileTooLarge | std::io::ErrorKind::InvalidInput => error.to_string(),
        _ => error.to_string().to_lowercase(),
    }
}

/// A file checked by [`check_file`], with what static analysis needs to
/// point into it.
#[derive(Clone, Debug)]
pub struct CheckedSource {
    /// The experiment or policy.
    pub checked: CheckedFile,
    /// The file's text.
    pub source: Arc<SourceFile>,
    /// The span of the experiment's or policy's name.
    pub name: Span,
}

/// Checks any `.xos` file, parsed once: an experiment (with its policy) or a
/// policy file on its own. Static analysis of the rules is
/// [`crate::check_path`]'s.
pub fn check_file(path: &Path, options: &LoadOptions) -> Result<CheckedSource, Diagnostics> {
    let source = read_source(path)?;
    let (checked, name) = match parse::parse(&source)? {
        ast::File::Experiment(experiment) => (
            check_experiment_file(&source, &experiment, options)
                .map(|c| CheckedFile::Experiment(Box::new(c)))?,
            experiment.name.span,
        ),
        ast::File::Policy(policy) => (
            check_policy_file(&source, &policy).map(CheckedFile::Policy)?,
            policy.name.span,
        ),
    };
    Ok(CheckedSource {
        checked,
        source,
        name,
    })
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
    check_policy_file(source, &decl)
}

/// Checks a parsed policy file.
fn check_policy_file(
    source: &Arc<SourceFile>,
    decl: &ast::PolicyDecl,
) -> Result<CheckedPolicy, Diagnostics> {
    let scope = Scope {
        metrics: &[],
        policy_file: true,
        text: &source.text,
    };
    let mut diagnostics = Diagnostics::new();
    let mut out = Vec::new();
    let policy = check_policy_decl(
        decl,
        &scope,
        PolicyOrigin::File(source.path.clone()),
        &mut out,
    );
    if let Some(policy) = &policy {
        reachability(&policy.rules, &mut out);
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

/// The experiment name the spec at `path` declares, if it reads and
/// parses (whether or not it checks): the name its memo would take, which
/// `xos watch` and `xos serve` compare across specs.
pub fn declared_name(path: &Path) -> Option<String> {
    let source = read_source(path).ok()?;
    match parse::parse(&source) {
        Ok(ast::File::Experiment(experiment)) => Some(experiment.name.name),
        _ => None,
    }
}

/// Experiment names must be unique among the specs of one run or check:
/// memos are named after the experiment (`OUT/NAME.md`), so two specs of one
/// name (a spec copied to start a new one) would write one memo over the
/// other. `specs` holds each experiment's name and spec path, in the order
/// they were found; every later spec that repeats an earlier name gets an
/// error located at its name (`xos::check::duplicate_experiment`), naming the
/// first spec. The name is located by parsing the spec again, on this error
/// path only.
pub fn unique_experiments(specs: &[(String, PathBuf)]) -> Diagnostics {
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    let mut diagnostics = Diagnostics::new();
    for (name, path) in specs {
        let Some(first) = seen.get(name.as_str()).copied() else {
            seen.insert(name, path);
            continue;
        };
        let mut diagnostic = Diagnostic::error(
            "xos::check::duplicate_experiment",
            format!(
                "experiment `{name}` is also declared in `{}`",
                first.display()
            ),
        )
        .help(format!(
            "memos are named after the experiment, so both would be written to `{name}.md`; \
             rename one of them (a copied spec keeps the old name)"
        ));
        diagnostic = match read_source(path) {
            Ok(source) => match parse::parse(&source) {
                Ok(ast::File::Experiment(experiment)) => diagnostic
                    .in_file(&source)
                    .label(experiment.name.span, "declared again here"),
                _ => diagnostic.at_path(path),
            },
            Err(_) => diagnostic.at_path(path),
        };
        diagnostics.push(diagnostic);
    }
    diagnostics
}

/// Builders shared by the unit tests of the checker's files.
#[cfg(test)]
mod testing {
    use std::sync::Arc;

    use super::*;

    /// `key value` as one option, the value parsed from xos text.
    pub(super) fn option(key: &str, value: &str) -> ast::KeyValue {
        let value = parse::parse_value_text(value).expect("a valid xos value");
        let key = ast::Ident {
            name: key.to_string(),
            span: Span::new(0, key.len()),
        };
        ast::KeyValue {
            span: key.span.join(value.span()),
            key,
            value,
        }
    }

    /// An option block of `key value` pairs.
    pub(super) fn block(options: &[(&str, &str)]) -> ast::OptionBlock {
        ast::OptionBlock {
            options: options.iter().map(|(k, v)| option(k, v)).collect(),
            span: Span::default(),
        }
    }

    /// The codes of the diagnostics, in order.
    pub(super) fn codes(out: &[Diagnostic]) -> Vec<&'static str> {
        out.iter().map(|d| d.code).collect()
    }

    /// A spec in memory, in a folder with no `xos.toml` above it.
    pub(super) fn spec(text: &str) -> Arc<SourceFile> {
        SourceFile::new("/nonexistent-xos-unit-test/spec.xos", text)
    }

    /// The parsed experiment of a spec.
    pub(super) fn experiment(source: &Arc<SourceFile>) -> ast::Experiment {
        match parse::parse(source).expect("a spec that parses") {
            ast::File::Experiment(experiment) => experiment,
            ast::File::Policy(_) => panic!("an experiment, not a policy"),
        }
    }

    /// A small valid spec: two arms, a rate primary and a guardrail.
    pub(super) const SPEC: &str = r#"experiment checkout {
    data "checkout.csv"
    variants { control 50% treatment 50% }
    primary conversion = rate(orders) { baseline 10% mde 1pp }
    guardrail errors = rate(errors) { worsened 0.1pp severe 0.3pp }
}
"#;
}

#[cfg(test)]
mod tests {
    use super::testing::{SPEC, codes, spec};
    use super::*;

    /// A folder run reads each `xos.toml` once: a change during the run is
    /// not seen by the specs after the first (as documented), and a broken
    /// file gives every spec under it the same errors.
    #[test]
    fn the_folder_cache_reads_each_xos_toml_once() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let toml = dir.path().join("xos.toml");
        std::fs::write(&toml, "[settings]\nalpha = 0.1\n").expect("written");
        let cache = FolderCache::default();
        let first = cache.load_config(&toml).expect("a valid xos.toml");
        std::fs::write(&toml, "[settings]\nalpha = 0.2\n").expect("written");
        let again = cache.load_config(&toml).expect("a valid xos.toml");
        assert_eq!((first.settings.alpha, again.settings.alpha), (0.1, 0.1));
        assert_eq!(
            config::load_config(&toml).expect("valid").settings.alpha,
            0.2
        );

        let broken = dir.path().join("broken.toml");
        std::fs::write(&broken, "[settings\n").expect("written");
        let errors = |cache: &FolderCache| codes(&cache.load_config(&broken).unwrap_err().0);
        assert_eq!(errors(&cache), errors(&cache));
        assert!(!errors(&cache).is_empty());
    }

    #[test]
    fn a_policy_is_not_an_experiment() {
        let source = spec("policy p { otherwise hold because \"Wait.\" }");
        let errors = check_source(&source, &LoadOptions::default()).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::not_an_experiment"]);
        assert!(check_policy_source(&source).is_ok());
    }

    #[test]
    fn an_experiment_is_not_a_policy() {
        let errors = check_policy_source(&spec(SPEC)).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::not_a_policy"]);
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let errors = read_source(Path::new("/nonexistent-xos-unit-test/a.xos")).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::io::read"]);
        assert!(errors.0[0].message.contains("no such file"));
    }

    #[test]
    fn finish_never_returns_nothing_without_an_error() {
        let errors = finish::<()>(None, Diagnostics::new()).unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::check::internal"]);
    }
}

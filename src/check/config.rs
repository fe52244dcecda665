//! `xos.toml`: project-wide defaults, found by walking up from the spec.
//!
//! ```toml
//! policy    = "rules/strict.xos"   # default policy, relative to this file
//! output    = "memos"              # where `xos run DIR` writes memos
//! templates = "templates"          # memo templates that override the built-in ones
//! allow_outside = false           # true: specs' paths may leave this folder (docs/limits.md)
//!
//! [settings]                       # the keys and ranges of a spec's `settings`
//! alpha      = "5%"                # strings hold xos values: "5%", "holm", "beta(1, 1)"
//! correction = "holm"
//! min_units  = 500
//!
//! [sequential]                     # defaults of every spec's `sequential` block
//! method = "always_valid"          # a spec's own block overrides key by key
//! ```
//!
//! A spec's own `settings` override these; these override the built-in
//! defaults. Problems point into the toml file.
//!
//! `[require]` states organisation-wide requirements that every spec under
//! the toml must meet; `xos check` (and every command that loads a spec)
//! reports a violation as an error pointing at the spec:
//!
//! ```toml
//! [require]
//! min_guardrails     = 1            # at least this many guardrails
//! max_alpha          = 0.05         # or "5%"
//! policy_in          = ["rules/"]   # policies from these folders only
//! require_hypothesis = true
//! require_plan       = true         # a `plan` block and a computable sample size
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::plan::Settings;
use crate::syntax::ast;
use crate::syntax::parse;

/// The file name looked for.
pub const CONFIG_FILE: &str = "xos.toml";

/// The top-level keys of `xos.toml`.
const KEYS: [&str; 7] = [
    "allow_outside",
    "settings",
    "sequential",
    "policy",
    "output",
    "templates",
    "require",
];

/// A checked `xos.toml`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where `xos.toml` is, as found walking up from the spec.
    pub path: PathBuf,
    /// The file's text, for located diagnostics.
    pub source: Arc<SourceFile>,
    /// The built-in defaults with `[settings]` applied.
    pub settings: Settings,
    /// `policy = "..."`: the default policy of specs that name none.
    pub policy: Option<ConfigPolicy>,
    /// Resolved against the folder of `xos.toml`.
    pub output: Option<PathBuf>,
    /// `templates = "..."`: the folder whose files override the built-in memo templates by name,
    /// resolved against the folder of `xos.toml`.
    pub templates: Option<PathBuf>,
    /// `[require]`: organisation-wide requirements.
    pub require: Require,
    /// `[sequential]`: the default inference of every spec under this file.
    pub sequential: Option<crate::plan::Sequential>,
    /// `allow_outside = true`: the paths of specs under this file may point
    /// outside its folder.
    pub allow_outside: bool,
    /// `templates` and `output` as written (span in this file, text) and
    /// resolved, for the check that they stay inside this file's folder.
    /// The first item names the key ("`templates` folder").
    pub folders: Vec<(&'static str, Span, String, PathBuf)>,
}

/// Organisation-wide requirements (`[require]`); `None` / `false` is no
/// requirement.
#[derive(Clone, Debug, Default)]
pub struct Require {
    /// `min_guardrails`: the fewest guardrails a spec may declare.
    pub min_guardrails: Option<u64>,
    /// `max_alpha`: the largest `alpha` a spec may use, a fraction.
    pub max_alpha: Option<f64>,
    /// Folders (resolved against the toml's folder), as written.
    pub policy_in: Option<Vec<(PathBuf, String)>>,
    /// `require_hypothesis = true`: every spec must state a `hypothesis`.
    pub hypothesis: bool,
    /// `require_plan = true`: every spec must have a sample plan from which a planned
    /// total follows (a `plan` block with the metrics' planning inputs).
    pub plan: bool,
}

/// The keys of `[require]`.
const REQUIRE_KEYS: [&str; 5] = [
    "min_guardrails",
    "max_alpha",
    "policy_in",
    "require_hypothesis",
    "require_plan",
];

/// The default policy named by `policy = "..."`.
#[derive(Clone, Debug)]
pub struct ConfigPolicy {
    /// The text of `xos.toml`, which the span points into.
    pub source: Arc<SourceFile>,
    /// The string literal in `xos.toml`.
    pub span: Span,
    /// The path as written in `xos.toml`, for messages.
    pub written: String,
    /// The path resolved against the folder of `xos.toml`.
    pub resolved: PathBuf,
}

/// The `xos.toml` in force for a spec: the nearest one in the spec's folder
/// or a folder above it. Anything of that name counts, so that a folder or
/// a FIFO named `xos.toml` is refused when read (`docs/limits.md`) instead
/// of passed over for one further up.
pub fn find_config(spec: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(spec).ok()?;
    let found = absolute
        .ancestors()
        .skip(1)
        .map(|dir| dir.join(CONFIG_FILE))
        .find(|candidate| candidate.exists())?;
    // Relative to the current folder when possible, for shorter messages.
    let shorter = std::env::current_dir()
        .ok()
        .and_then(|cwd| found.strip_prefix(cwd).ok().map(Path::to_path_buf));
    Some(shorter.unwrap_or(found))
}

/// Every place an `xos.toml` for the spec at `spec` may be: the spec's
/// folder and each folder above it, nearest first, whether or not one is
/// there (the nearest that is, [`find_config`] takes). One written at any
/// of them can change the spec's configuration, so `xos watch` follows
/// them all; following only those up to the one in force would stop
/// watching a folder when an `xos.toml` appears below it, and miss one
/// written there right after.
pub fn config_candidates(spec: &Path) -> Vec<PathBuf> {
    std::path::absolute(spec).map_or_else(
        |_| Vec::new(),
        |absolute| {
            absolute
                .ancestors()
                .skip(1)
                .map(|dir| dir.join(CONFIG_FILE))
                .collect()
        },
    )
}

/// Reads and checks an `xos.toml`.
pub fn load_config(path: &Path) -> Result<Config, Diagnostics> {
    let source = super::read_source(path)?;
    check_config(&source)
}

/// Checks the text of an `xos.toml`.
pub fn check_config(source: &Arc<SourceFile>) -> Result<Config, Diagnostics> {
    let dir = source
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut out = Vec::new();
    let table = match DeTable::parse(&source.text) {
        Ok(table) => table,
        Err(error) => {
            let span = error
                .span()
                .map_or(Span::default(), |r| Span::new(r.start, r.end));
            let message = error.message().trim().trim_end_matches('.').to_string();
            return Err(Diagnostic::error("xos::config::toml", "invalid TOML")
                .label(span, message)
                .help("see https://toml.io for the syntax")
                .in_file(source)
                .into());
        }
    };
    let mut config = Config {
        path: source.path.clone(),
        source: Arc::clone(source),
        settings: Settings::default(),
        policy: None,
        output: None,
        templates: None,
        require: Require::default(),
        sequential: None,
        allow_outside: false,
        folders: Vec::new(),
    };
    for (key, value) in table.get_ref() {
        let key_span = span(key.span());
        let name: &str = key.get_ref();
        match name {
            "settings" => match value.get_ref() {
                DeValue::Table(settings) => {
                    let block = settings_block(source, settings, span(value.span()), &mut out);
                    super::settings::apply_settings(&mut config.settings, &block, &mut out);
                }
                _ => out.push(not_a(key_span, "settings", "a table: `[settings]`")),
            },
            "sequential" => match value.get_ref() {
                DeValue::Table(table) => {
                    let block = settings_block(source, table, span(value.span()), &mut out);
                    config.sequential =
                        super::sequential::check_sequential(None, &block, key_span, &mut out);
                }
                _ => out.push(not_a(key_span, "sequential", "a table: `[sequential]`")),
            },
            "policy" | "output" | "templates" => {
                let DeValue::String(text) = value.get_ref() else {
                    out.push(not_a(span(value.span()), name, "a path in quotes"));
                    continue;
                };
                let written = text.to_string();
                let resolved = dir.join(&written);
                if name != "policy" {
                    let what = if name == "templates" {
                        "`templates` folder"
                    } else {
                        "`output` folder"
                    };
                    let at = span(value.span());
                    config
                        .folders
                        .push((what, at, written.clone(), resolved.clone()));
                }
                match name {
                    "policy" => {
                        config.policy = Some(ConfigPolicy {
                            source: Arc::clone(source),
                            span: span(value.span()),
                            written,
                            resolved,
                        });
                    }
                    "output" => config.output = Some(resolved),
                    _ if !resolved.is_dir() => out.push(
                        Diagnostic::error(
                            "xos::config::missing_templates",
                            format!("templates folder `{written}` does not exist"),
                        )
                        .label(span(value.span()), "no folder at this path")
                        .help(format!(
                            "the path is relative to `{CONFIG_FILE}`; create the folder with \
                             `memo.md` / `memo.html`, or remove the key to use the built-in memo"
                        )),
                    ),
                    _ => config.templates = Some(resolved),
                }
            }
            "allow_outside" => match value.get_ref() {
                DeValue::Boolean(allow) => config.allow_outside = *allow,
                _ => out.push(not_a(span(value.span()), name, "`true` or `false`")),
            },
            "require" => match value.get_ref() {
                DeValue::Table(table) => {
                    config.require = require_table(source, table, &dir, &mut out)
                }
                _ => out.push(not_a(key_span, "require", "a table: `[require]`")),
            },
            _ => {
                let mut d = Diagnostic::error(
                    "xos::config::unknown_key",
                    format!("unknown key `{name}` in `{CONFIG_FILE}`"),
                )
                .label(key_span, "not a configuration key");
                d = match did_you_mean(name, KEYS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(
                        "`xos.toml` knows `policy`, `output`, `templates`, `allow_outside`, `[settings]`, `[sequential]` and `[require]`",
                    ),
                };
                out.push(d);
            }
        }
    }
    if out.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(
            out.into_iter().map(|d| d.in_file(source)).collect(),
        ));
    }
    Ok(config)
}

pub(super) fn span(range: std::ops::Range<usize>) -> Span {
    Span::new(range.start, range.end)
}

fn not_a(span: Span, key: &str, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "xos::config::wrong_value",
        format!("`{key}` must be {expected}"),
    )
    .label(span, "not accepted here")
    .help(format!("write `{key}` as {expected}"))
}

/// A TOML table (`[settings]`, `[sequential]`) as the entries a spec's
/// option block holds: each key with its typed xos value, located in the
/// toml. The checker of the spec's block then checks them, so one function
/// reads both files and its diagnostics point into `xos.toml`.
fn settings_block(
    source: &SourceFile,
    table: &DeTable<'_>,
    block_span: Span,
    out: &mut Vec<Diagnostic>,
) -> ast::OptionBlock {
    let mut options = Vec::new();
    for (key, value) in table {
        let key = ast::Ident {
            name: key.get_ref().to_string(),
            span: span(key.span()),
        };
        let value_span = span(value.span());
        match xos_value(source, value) {
            Some(value) => options.push(ast::KeyValue {
                span: key.span.join(value_span),
                key,
                value,
            }),
            None => out.push(
                Diagnostic::error(
                    "xos::config::wrong_value",
                    format!("`{}` has a value xos cannot read", key.name),
                )
                .label(value_span, "not a setting value")
                .help("write numbers as TOML numbers (`0.05`) and everything else as a string holding an xos value (`\"5%\"`, `\"holm\"`, `\"beta(1, 1)\"`)"),
            ),
        }
    }
    ast::OptionBlock {
        options,
        span: block_span,
    }
}

/// The xos value a TOML value stands for, located in the toml: a TOML
/// number is a plain number; a string holds xos value text (`"5%"`,
/// `"holm"`, `"beta(1, 1)"`), read by the grammar's `value` rule. `None` for
/// booleans, dates, arrays and tables, a string that holds no xos value, and
/// a number that is not finite.
///
/// Spans point at the characters inside the quotes when the string is
/// written as is (one-line quotes, no escapes); otherwise at the whole
/// string, as its characters are not where the decoded text has them.
fn xos_value(source: &SourceFile, value: &Spanned<DeValue<'_>>) -> Option<ast::Value> {
    let at = span(value.span());
    let number = |value: f64| {
        value.is_finite().then_some(ast::Value::Number(ast::Number {
            value,
            unit: ast::Unit::None,
            relative: false,
            span: at,
        }))
    };
    match value.get_ref() {
        // `as_str` is the digits without sign prefix or `_`, in `radix`.
        DeValue::Integer(i) => number(i128::from_str_radix(i.as_str(), i.radix()).ok()? as f64),
        DeValue::Float(f) => number(f.as_str().replace('_', "").parse().ok()?),
        DeValue::String(text) => {
            let mut parsed = parse::parse_value_text(text).ok()?;
            let written = source.text.get(at.start..at.end).unwrap_or_default();
            let as_is = written.len() == text.len() + 2
                && written.get(1..written.len() - 1) == Some(text.as_ref());
            if as_is {
                parsed.relocate(&|s| Span::new(s.start + at.start + 1, s.end + at.start + 1));
            } else {
                parsed.relocate(&|_| at);
            }
            Some(parsed)
        }
        _ => None,
    }
}

/// Reads `[require]`.
fn require_table(
    source: &SourceFile,
    table: &DeTable<'_>,
    dir: &Path,
    out: &mut Vec<Diagnostic>,
) -> Require {
    let mut require = Require::default();
    for (key, value) in table {
        let name: &str = key.get_ref();
        let value_span = span(value.span());
        match (name, value.get_ref()) {
            ("min_guardrails", DeValue::Integer(i)) => {
                match u64::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) => require.min_guardrails = Some(n),
                    Err(_) => out.push(not_a(value_span, name, "a whole number, 0 or more")),
                }
            }
            ("max_alpha", DeValue::Integer(_) | DeValue::Float(_) | DeValue::String(_)) => {
                match xos_value(source, value) {
                    Some(ast::Value::Number(n))
                        if n.value > 0.0
                            && n.value < 1.0
                            && matches!(n.unit, ast::Unit::None | ast::Unit::Percent)
                            && !n.relative =>
                    {
                        require.max_alpha = Some(n.value);
                    }
                    _ => out.push(not_a(
                        value_span,
                        name,
                        "a significance level such as `0.05` or `\"5%\"`",
                    )),
                }
            }
            ("policy_in", DeValue::Array(items)) => {
                let mut folders = Vec::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(text) => {
                            folders.push((dir.join(text.as_ref()), text.to_string()));
                        }
                        _ => out.push(not_a(
                            span(item.span()),
                            name,
                            "a list of folders in quotes",
                        )),
                    }
                }
                require.policy_in = Some(folders);
            }
            ("require_hypothesis", DeValue::Boolean(b)) => require.hypothesis = *b,
            ("require_plan", DeValue::Boolean(b)) => require.plan = *b,
            ("min_guardrails", _) => out.push(not_a(value_span, name, "a whole number, 0 or more")),
            ("max_alpha", _) => out.push(not_a(
                value_span,
                name,
                "a significance level such as `0.05` or `\"5%\"`",
            )),
            ("policy_in", _) => out.push(not_a(
                value_span,
                name,
                "a list of folders in quotes: `[\"rules/\"]`",
            )),
            ("require_hypothesis" | "require_plan", _) => {
                out.push(not_a(value_span, name, "`true` or `false`"))
            }
            _ => {
                let mut d = Diagnostic::error(
                    "xos::config::unknown_key",
                    format!("unknown requirement `{name}` in `{CONFIG_FILE}`"),
                )
                .label(span(key.span()), "not a requirement");
                d = match did_you_mean(name, REQUIRE_KEYS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "`[require]` knows {}",
                        REQUIRE_KEYS.map(|k| format!("`{k}`")).join(", ")
                    )),
                };
                out.push(d);
            }
        }
    }
    require
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;
    use super::*;

    fn config(text: &str) -> Result<Config, Diagnostics> {
        check_config(&SourceFile::new(
            "/nonexistent-xos-unit-test/xos.toml",
            text,
        ))
    }

    #[test]
    fn settings_hold_xos_values_and_toml_numbers() {
        let config = config(
            "policy = \"rules/strict.xos\"\n[settings]\nalpha = \"1%\"\nmin_units = 1_000\nprior = \"beta(2, 2)\"\n",
        )
        .unwrap();
        assert_eq!(config.settings.alpha, 0.01);
        assert_eq!(config.settings.min_units, 1000);
        assert_eq!(config.settings.prior, (2.0, 2.0));
        let policy = config.policy.unwrap();
        assert_eq!(policy.written, "rules/strict.xos");
        assert!(policy.resolved.ends_with("rules/strict.xos"));
    }

    #[test]
    fn problems_point_into_the_toml() {
        let errors = config("polcy = \"x\"\n[settings]\nalpha = true\n").unwrap_err();
        assert_eq!(
            codes(&errors.0),
            ["xos::config::unknown_key", "xos::config::wrong_value"]
        );
        assert!(errors.0.iter().all(|d| d.source.is_some()));
        let errors = config("[settings\n").unwrap_err();
        assert_eq!(codes(&errors.0), ["xos::config::toml"]);
    }

    #[test]
    fn values_inside_strings_are_located_in_the_toml() {
        // Written as is: the label covers the characters of the xos value.
        let text = "[settings]\nalpha = \"60%\"\n";
        let errors = config(text).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        let at = text.find("60%").unwrap();
        assert_eq!(errors.0[0].labels[0].span, Span::new(at, at + 3));
        // With an escape the decoded characters are elsewhere: the whole string.
        let text = "[settings]\nalpha = \"6\\u00300%\"\n";
        let errors = config(text).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        let at = text.find('"').unwrap();
        assert_eq!(
            errors.0[0].labels[0].span,
            Span::new(at, text.trim_end().len())
        );
        // A call's arguments move with it.
        let text = "[settings]\nprior = 'beta(0, 1)'\n";
        let errors = config(text).unwrap_err();
        let label = errors.0[0].labels[0].span;
        assert!(text[label.start..label.end].starts_with('0'), "{label:?}");
    }

    #[test]
    fn toml_integers_keep_their_radix() {
        let config = config("[settings]\nmin_units = 0x10\nseed = 0o17\n").unwrap();
        assert_eq!(config.settings.min_units, 16);
        assert_eq!(config.settings.seed, 15);
    }

    #[test]
    fn requirements_are_read() {
        let config =
            config("[require]\nmin_guardrails = 2\nmax_alpha = \"5%\"\nrequire_plan = true\n")
                .unwrap();
        assert_eq!(config.require.min_guardrails, Some(2));
        assert_eq!(config.require.max_alpha, Some(0.05));
        assert!(config.require.plan && !config.require.hypothesis);
    }
}

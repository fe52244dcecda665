//! `xos.toml`: project-wide defaults, found by walking up from the spec.
//!
//! ```toml
//! policy    = "rules/strict.xos"   # default policy, relative to this file
//! output    = "memos"              # where `xos run DIR` writes memos
//! templates = "templates"          # memo templates that override the built-in ones
//!
//! [settings]                       # the keys and ranges of a spec's `settings`
//! alpha      = "5%"                # strings hold xos values: "5%", "holm", "beta(1, 1)"
//! correction = "holm"
//! min_units  = 500
//! ```
//!
//! A spec's own `settings` override these; these override the built-in
//! defaults. Problems point into the toml file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::ast;
use crate::check;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::parse;
use crate::plan::Settings;

/// The file name looked for.
pub const CONFIG_FILE: &str = "xos.toml";

/// The top-level keys of `xos.toml`.
const KEYS: [&str; 5] = ["settings", "policy", "output", "templates", "require"];

/// A checked `xos.toml`.
#[derive(Clone, Debug)]
pub struct Config {
    pub path: PathBuf,
    pub source: Arc<SourceFile>,
    /// The built-in defaults with `[settings]` applied.
    pub settings: Settings,
    pub policy: Option<ConfigPolicy>,
    /// Resolved against the folder of `xos.toml`.
    pub output: Option<PathBuf>,
    pub templates: Option<PathBuf>,
}

/// The default policy named by `policy = "..."`.
#[derive(Clone, Debug)]
pub struct ConfigPolicy {
    pub source: Arc<SourceFile>,
    /// The string literal in `xos.toml`.
    pub span: Span,
    pub written: String,
    pub resolved: PathBuf,
}

/// The `xos.toml` in force for a spec: the nearest one in the spec's folder
/// or a folder above it.
pub fn find_config(spec: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(spec).ok()?;
    let found = absolute
        .ancestors()
        .skip(1)
        .map(|dir| dir.join(CONFIG_FILE))
        .find(|candidate| candidate.is_file())?;
    // Relative to the current folder when possible, for shorter messages.
    let shorter = std::env::current_dir()
        .ok()
        .and_then(|cwd| found.strip_prefix(cwd).ok().map(Path::to_path_buf));
    Some(shorter.unwrap_or(found))
}

/// Reads and checks an `xos.toml`.
pub fn load_config(path: &Path) -> Result<Config, Diagnostics> {
    let source = check::read_source(path)?;
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
    };
    for (key, value) in table.get_ref() {
        let key_span = span(key.span());
        let name: &str = key.get_ref();
        match name {
            "settings" => match value.get_ref() {
                DeValue::Table(settings) => {
                    let block = settings_block(settings, span(value.span()), &mut out);
                    check::apply_settings(&mut config.settings, &block, &mut out);
                }
                _ => out.push(not_a(key_span, "settings", "a table: `[settings]`")),
            },
            "policy" | "output" | "templates" => {
                let DeValue::String(text) = value.get_ref() else {
                    out.push(not_a(span(value.span()), name, "a path in quotes"));
                    continue;
                };
                let written = text.to_string();
                let resolved = dir.join(&written);
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
                    _ => config.templates = Some(resolved),
                }
            }
            // Organisation-wide requirements are a later feature; accepted now
            // so that files written for it keep loading.
            "require" => {}
            _ => {
                let mut d = Diagnostic::error(
                    "xos::config::unknown_key",
                    format!("unknown key `{name}` in `{CONFIG_FILE}`"),
                )
                .label(key_span, "not a configuration key");
                d = match did_you_mean(name, KEYS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => {
                        d.help("`xos.toml` knows `policy`, `output`, `templates` and `[settings]`")
                    }
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

fn span(range: std::ops::Range<usize>) -> Span {
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

/// `[settings]` as an option block, so it is checked like a spec's.
fn settings_block(
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
        let converted = match value.get_ref() {
            DeValue::Integer(i) => plain_number(i.as_str(), value_span),
            DeValue::Float(f) => plain_number(f.as_str(), value_span),
            DeValue::String(text) => {
                // Strings hold xos values: "5%", "holm", "beta(1, 1)".
                parse::parse_value_text(text, value_span.start + 1).ok()
            }
            _ => None,
        };
        match converted {
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

fn plain_number(text: &str, span: Span) -> Option<ast::Value> {
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    let value: f64 = digits.parse().ok()?;
    value.is_finite().then_some(ast::Value::Number(ast::Number {
        value,
        unit: ast::Unit::None,
        relative: false,
        span,
    }))
}

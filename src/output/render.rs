//! Reports → memos, with tera.
//!
//! The built-in templates (`src/output/templates/memo.md`, `memo.html`) are embedded
//! in the binary; a templates folder (from `xos.toml` or `--templates`)
//! overrides them by file name. Templates see two values: `report`, the JSON
//! report exactly as `--format json` prints it, and `memo`, the same facts
//! formatted for reading (percentages, points, badges, next actions). HTML
//! templates are autoescaped, so every user-supplied string is escaped.

use std::path::{Path, PathBuf};

use super::Format;
use super::html::code_html;
use super::view::memo_view;
use crate::diagnostic::Diagnostic;
use crate::output::report::Report;

const MEMO_MD: &str = include_str!("templates/memo.md");
const MEMO_HTML: &str = include_str!("templates/memo.html");
/// Partials the memos include; user templates may include them too.
const PARTIALS: [(&str, &str); 2] = [
    ("looks.md", include_str!("templates/looks.md")),
    ("looks.html", include_str!("templates/looks.html")),
];

/// Renders a report in the given format. `templates` is a folder whose
/// `memo.md` / `memo.html` replace the built-in ones.
pub fn render(
    report: &Report,
    format: Format,
    templates: Option<&Path>,
) -> Result<String, Diagnostic> {
    if format == Format::Json {
        return Ok(crate::output::report::to_json(report));
    }
    // User text is inert in Markdown (HTML is autoescaped by tera).
    let escaped;
    let report = if format == Format::Md {
        escaped = crate::output::escape::markdown_safe(report);
        &escaped
    } else {
        report
    };
    let name = format.template();
    let mut context = tera::Context::new();
    context.insert("memo", &memo_view(report, format));
    let user = templates
        .map(|dir| dir.join(name))
        .filter(|path| path.is_file());
    let Some(path) = user else {
        // The built-in templates read three fields of the report; handing
        // tera those alone, not the whole report as its values, takes a
        // fifth off a Markdown memo (`cargo bench --bench pipeline`: the
        // report's conversion was 15 µs of 80). A field the templates come
        // to read beyond these is an undefined-variable error in every
        // memo test.
        context.insert("report", &BuiltInReport::of(report));
        // The built-in templates are compiled once per process.
        let origin = PathBuf::from(format!("built-in {name}"));
        let tera = BUILT_IN
            .as_ref()
            .map_err(|err| template_error(&origin, err))?;
        return tera
            .render(name, &context)
            .map_err(|err| template_error(&origin, &err));
    };
    // A user's template may read any field of the report.
    context.insert("report", report);
    let text = std::fs::read_to_string(&path).map_err(|err| {
        Diagnostic::error(
            "xos::render::unreadable_template",
            format!("cannot read `{}`", path.display()),
        )
        .at_path(&path)
        .help(err.to_string())
    })?;
    let mut tera = new_tera();
    tera.add_raw_template(name, &text)
        .map_err(|err| template_error(&path, &err))?;
    tera.render(name, &context)
        .map_err(|err| template_error(&path, &err))
}

/// The fields of the report the built-in templates read: `report.experiment`,
/// `report.policy.name` and `report.date`, with the report's own values.
#[derive(serde::Serialize)]
struct BuiltInReport<'a> {
    experiment: &'a str,
    policy: BuiltInPolicy<'a>,
    date: Option<&'a str>,
}

/// `report.policy` of [`BuiltInReport`]: its `name`.
#[derive(serde::Serialize)]
struct BuiltInPolicy<'a> {
    name: &'a str,
}

impl<'a> BuiltInReport<'a> {
    fn of(report: &'a Report) -> BuiltInReport<'a> {
        BuiltInReport {
            experiment: &report.experiment,
            policy: BuiltInPolicy {
                name: &report.policy.name,
            },
            date: report.date.as_deref(),
        }
    }
}

/// A tera instance with the memo conventions: HTML autoescaped, and the
/// `code` filter.
fn new_tera() -> tera::Tera {
    let mut tera = tera::Tera::new();
    tera.autoescape_on([".html"]);
    // `x` spans of the formatted text become <code> in HTML.
    tera.register_filter("code", |text: &str, _: tera::Kwargs, _: &tera::State| {
        tera::Value::safe_string(&code_html(text))
    });
    for (name, text) in PARTIALS {
        // INVARIANT: the built-in partials parse (the memo tests render them).
        if let Err(err) = tera.add_raw_template(name, text) {
            unreachable!("built-in partial {name}: {err}");
        }
    }
    tera
}

static BUILT_IN: std::sync::LazyLock<Result<tera::Tera, tera::Error>> =
    std::sync::LazyLock::new(|| {
        let mut tera = new_tera();
        tera.add_raw_template("memo.md", MEMO_MD)?;
        tera.add_raw_template("memo.html", MEMO_HTML)?;
        Ok(tera)
    });

fn template_error(origin: &Path, err: &tera::Error) -> Diagnostic {
    // Tera's own message names the template, the line and what went wrong.
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        detail.push_str(": ");
        detail.push_str(&inner.to_string());
        source = inner.source();
    }
    Diagnostic::error(
        "xos::render::template",
        format!("the memo template `{}` failed", origin.display()),
    )
    .at_path(origin)
    .help(detail)
}

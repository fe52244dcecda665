//! The server-rendered pages: `/` (every experiment, live), `/experiments/
//! {name}` (the live memo), `/try` (a CSV in, an inferred spec and its memo
//! out), `/plan` (the power calculator) and `/policies`.
//!
//! Templates are tera files embedded in the binary (`src/serve/templates/`),
//! autoescaped: every user string — names, owners, labels, diagnostics — is
//! escaped. The only script is `assets/live.js`, which follows
//! `/api/v1/events` and swaps the live parts of a page in place.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::api::{self, Summary};
use super::app::{AppState, Entry};
use super::infer::{InferOptions, infer};
use super::sandbox;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use crate::stats::dist::{normal_cdf, normal_quantile};
use crate::stats::power;

const BASE: &str = include_str!("templates/base.html");
const INDEX: &str = include_str!("templates/index.html");
const EXPERIMENT: &str = include_str!("templates/experiment.html");
const TRY: &str = include_str!("templates/try.html");
const PLAN: &str = include_str!("templates/plan.html");
const POLICIES: &str = include_str!("templates/policies.html");
const NOT_FOUND: &str = include_str!("templates/not_found.html");
const CSS: &str = include_str!("assets/xos.css");
const LIVE_JS: &str = include_str!("assets/live.js");

static PAGES: LazyLock<Result<tera::Tera, tera::Error>> = LazyLock::new(|| {
    let mut tera = tera::Tera::new();
    tera.autoescape_on([".html"]);
    tera.add_raw_templates([
        ("base.html", BASE),
        ("index.html", INDEX),
        ("experiment.html", EXPERIMENT),
        ("try.html", TRY),
        ("plan.html", PLAN),
        ("policies.html", POLICIES),
        ("not_found.html", NOT_FOUND),
    ])?;
    Ok(tera)
});

/// Renders a page template; a template error is a 500 naming it.
fn page(name: &str, context: &tera::Context) -> Response {
    let rendered = PAGES
        .as_ref()
        .map_err(ToString::to_string)
        .and_then(|tera| tera.render(name, context).map_err(|e| e.to_string()));
    match rendered {
        Ok(html) => html_response(StatusCode::OK, html),
        Err(err) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the page template `{name}` failed: {err}"),
        )
            .into_response(),
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

fn context(active: &str) -> tera::Context {
    let mut context = tera::Context::new();
    context.insert("active", active);
    context
}

/// `GET /assets/xos.css`.
pub async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// `GET /assets/live.js`.
pub async fn live_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        LIVE_JS,
    )
        .into_response()
}

/// The 404 page.
pub fn not_found_page(path: &str) -> Response {
    let mut context = context("");
    context.insert("path", path);
    let mut response = page("not_found.html", &context);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

// ------------------------------------------------------------------ index

/// One row of the index table, formatted.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    id: String,
    /// The experiment's page, its id percent-encoded.
    href: String,
    spec: String,
    title: String,
    owner: String,
    verdict: String,
    rule: String,
    health: String,
    lift: String,
    ci: String,
    sample: String,
    evaluated_at: String,
    failed: bool,
    errors: usize,
}

/// The sort keys of the index, by column.
const SORTS: [&str; 8] = [
    "name",
    "owner",
    "verdict",
    "rule",
    "health",
    "lift",
    "sample",
    "evaluated",
];

/// The index page's query: `?sort=COLUMN` (one of the table's columns) and `&desc=1` for descending
/// order.
#[derive(Debug, Deserialize)]
pub struct IndexQuery {
    sort: Option<String>,
    desc: Option<String>,
}

/// `GET /`: every experiment, sortable by any column (`?sort=verdict&desc=1`).
pub async fn index(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Query(query): Query<IndexQuery>,
) -> Response {
    if state.options.compat && !accepts_html(&headers) {
        return super::compat::liveness().await;
    }
    let sort = query
        .sort
        .filter(|s| SORTS.contains(&s.as_str()))
        .unwrap_or_else(|| "name".to_string());
    let desc = query.desc.is_some_and(|d| d == "1");
    let mut summaries: Vec<Summary> = state.entries().iter().map(Summary::of).collect();
    summaries.sort_by(|a, b| {
        let order = match sort.as_str() {
            "owner" => a.owner.cmp(&b.owner),
            "verdict" => verdict_rank(a.verdict).cmp(&verdict_rank(b.verdict)),
            "rule" => a.rule.cmp(&b.rule),
            "health" => a.health.cmp(&b.health),
            "lift" => lift_of(a).total_cmp(&lift_of(b)),
            "sample" => a
                .sample_share
                .unwrap_or(-1.0)
                .total_cmp(&b.sample_share.unwrap_or(-1.0)),
            "evaluated" => a.evaluated_at.cmp(&b.evaluated_at),
            _ => a.name.cmp(&b.name),
        };
        let order = order.then_with(|| a.name.cmp(&b.name));
        if desc { order.reverse() } else { order }
    });
    let rows: Vec<Row> = summaries.iter().map(row).collect();
    let columns: Vec<(String, String, String)> = [
        ("name", "experiment"),
        ("owner", "owner"),
        ("verdict", "verdict"),
        ("rule", "rule"),
        ("health", "health"),
        ("lift", "primary lift (CI)"),
        ("sample", "of planned sample"),
        ("evaluated", "last evaluated"),
    ]
    .iter()
    .map(|(key, label)| {
        let next_desc = *key == sort && !desc;
        let href = format!("/?sort={key}{}", if next_desc { "&desc=1" } else { "" });
        let mark = if *key == sort {
            if desc { " ▼" } else { " ▲" }
        } else {
            ""
        };
        (href, format!("{label}{mark}"), key.to_string())
    })
    .collect();
    let mut context = context("index");
    context.insert("rows", &rows);
    context.insert("columns", &columns);
    context.insert("dir", &state.options.dir.display().to_string());
    page("index.html", &context)
}

/// `text` as one URL path segment: every byte but RFC 3986's unreserved
/// characters percent-encoded, so an id that is a path (`b/x.xos`) stays
/// one segment (`b%2Fx.xos`), which the router decodes back.
pub fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Launch, hold, rollback, then specs that never evaluated.
fn verdict_rank(verdict: Option<&str>) -> u8 {
    match verdict {
        Some("launch") => 0,
        Some("hold") => 1,
        Some("rollback") => 2,
        _ => 3,
    }
}

fn accepts_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

fn lift_of(summary: &Summary) -> f64 {
    summary
        .primary
        .as_ref()
        .and_then(|p| p.abs_lift)
        .unwrap_or(f64::NEG_INFINITY)
}

fn row(summary: &Summary) -> Row {
    let (lift, ci) = match &summary.primary {
        Some(p) => (
            format!("{} on {}", signed(p.abs_lift), p.variant),
            match (p.ci_low, p.ci_high) {
                (Some(lo), Some(hi)) => format!("[{}, {}]", signed(Some(lo)), signed(Some(hi))),
                _ => "n/a".to_string(),
            },
        ),
        None => ("n/a".to_string(), String::new()),
    };
    Row {
        name: summary.name.clone(),
        id: summary.id.clone(),
        href: format!("/experiments/{}", url_segment(&summary.id)),
        spec: summary.spec.clone(),
        title: summary.title.clone().unwrap_or_default(),
        owner: summary.owner.clone().unwrap_or_default(),
        verdict: summary.verdict.unwrap_or("invalid").to_string(),
        rule: summary.rule.clone().unwrap_or_default(),
        health: summary.health.unwrap_or("n/a").to_string(),
        lift,
        ci,
        sample: summary
            .sample_share
            .map_or_else(|| "no plan".to_string(), |s| format!("{:.0}%", s * 100.0)),
        evaluated_at: summary.evaluated_at.replace('T', " ").replace('Z', " UTC"),
        failed: summary.failed,
        errors: summary.errors.as_array().map_or(0, Vec::len),
    }
}

/// An absolute lift with its sign, 4 significant digits; rates read as
/// fractions (`+0.01134`), as in the JSON report.
fn signed(x: Option<f64>) -> String {
    match x {
        Some(x) if x > 0.0 => format!("+{}", crate::numbers::number(x)),
        Some(x) => crate::numbers::number(x),
        None => "n/a".to_string(),
    }
}

// ------------------------------------------------------------------ experiment

/// The memo's `<style>` and `<body>` contents, to place inside a page.
pub fn memo_parts(html: &str) -> (String, String) {
    let between = |open: &str, close: &str| -> Option<String> {
        let start = html.find(open)?;
        let after = start + html[start..].find('>')? + 1;
        let end = after + html[after..].find(close)?;
        Some(html[after..end].to_string())
    };
    (
        between("<style", "</style>").unwrap_or_default(),
        between("<body", "</body>").unwrap_or_else(|| html.to_string()),
    )
}

/// A diagnostic as text with its source excerpt, no colour.
pub fn diagnostic_text(diagnostic: &Diagnostic) -> String {
    crate::diagnostic::render(diagnostic, false, 100)
}

/// Diagnostics for a page: location, message, excerpt.
#[derive(Debug, Serialize)]
struct ShownDiagnostic {
    severity: &'static str,
    location: String,
    message: String,
    line: Option<usize>,
    column: Option<usize>,
    rendered: String,
}

fn shown(diagnostics: &Diagnostics) -> Vec<ShownDiagnostic> {
    diagnostics
        .iter()
        .map(|d| {
            let location = match (d.file_name(), d.location()) {
                (Some(file), Some((line, column))) => format!("{file}:{line}:{column}"),
                (Some(file), None) => file,
                (None, _) => String::new(),
            };
            ShownDiagnostic {
                severity: if d.is_error() { "error" } else { "warning" },
                location,
                message: d.message.clone(),
                line: d.location().map(|l| l.0),
                column: d.location().map(|l| l.1),
                rendered: diagnostic_text(d),
            }
        })
        .collect()
}

fn experiment_context(entry: &Entry) -> tera::Context {
    let mut context = context("experiment");
    context.insert("name", &entry.name);
    context.insert("id", &entry.id);
    context.insert("url_id", &url_segment(&entry.id));
    context.insert("spec", &entry.relative);
    context.insert("revision", &entry.revision);
    context.insert("evaluated_at", &entry.evaluated_at);
    let (style, body) = entry
        .last_good
        .as_ref()
        .map(|e| memo_parts(&e.html))
        .unwrap_or_default();
    context.insert("memo_style", &style);
    context.insert("memo_body", &body);
    context.insert("has_memo", &entry.last_good.is_some());
    let errors = entry.errors.as_deref().map(shown).unwrap_or_default();
    context.insert("errors", &errors);
    let warnings = entry
        .last_good
        .as_ref()
        .filter(|_| entry.errors.is_none())
        .map(|e| shown(&e.warnings))
        .unwrap_or_default();
    context.insert("warnings", &warnings);
    context
}

/// `GET /experiments/{name}`: the HTML memo, updated in place on change.
pub async fn experiment(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    match state.entry(&name) {
        Some(entry) => page("experiment.html", &experiment_context(&entry)),
        None => not_found_page(&format!("/experiments/{name}")),
    }
}

/// `GET /experiments/{name}/source`: the spec's text, as served (the file
/// the watcher follows; no URL names a file).
pub async fn source(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    let Some(entry) = state.entry(&name) else {
        return api::error(
            StatusCode::NOT_FOUND,
            format!("no experiment named `{name}` is served"),
        );
    };
    if state.leads_outside(&entry.spec) {
        return api::error(
            StatusCode::NOT_FOUND,
            format!(
                "`{}` is a symlink leading out of the served folder, which is not served",
                entry.relative
            ),
        );
    }
    // As every spec is read: a regular file, within the size limit.
    match crate::check::read_source(&entry.spec) {
        Ok(source) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            source.text.clone(),
        )
            .into_response(),
        Err(problems) => api::error(
            StatusCode::NOT_FOUND,
            problems.iter().next().map_or_else(
                || format!("cannot read `{}`", entry.relative),
                |d| d.message.clone(),
            ),
        ),
    }
}

// ------------------------------------------------------------------ try

/// `GET /try`: the upload form.
pub async fn try_page() -> Response {
    let mut context = context("try");
    context.insert("csv", "");
    context.insert("spec", "");
    context.insert("file_name", "");
    page("try.html", &context)
}

/// The parts of the `/try` form: the CSV (the chosen file, else the pasted
/// text) with the name it is shown under, and the spec text (empty: infer).
struct TryForm {
    csv: String,
    file_name: String,
    spec: String,
}

/// Reads the `/try` form. A part that is not UTF-8 text is refused, naming
/// it: a spec that cannot be read is never replaced by the inferred one.
fn try_form(parts: &mut HashMap<String, api::Part>) -> Result<TryForm, String> {
    let mut text = |name: &str| -> Result<Option<String>, String> {
        parts
            .remove(name)
            .map(|part| {
                String::from_utf8(part.bytes).map_err(|_| {
                    if name == "spec" {
                        "the `spec` part is not UTF-8 text".to_string()
                    } else {
                        format!("the `{name}` part is not UTF-8 text")
                    }
                })
            })
            .transpose()
    };
    let spec = text("spec")?.unwrap_or_default();
    let given_name = text("file_name")?.filter(|n| !n.trim().is_empty());
    let pasted = text("csv")?.unwrap_or_default();
    let (bytes, file_name) = match parts.remove("csv_file").filter(|p| !p.bytes.is_empty()) {
        Some(part) => {
            let name = sandbox::data_name(part.file_name.as_deref());
            (part.bytes, name)
        }
        None => (
            pasted.into_bytes(),
            sandbox::data_name(given_name.as_deref().or(Some("pasted.csv"))),
        ),
    };
    let csv = String::from_utf8(bytes).map_err(|_| "the CSV is not UTF-8 text".to_string())?;
    Ok(TryForm {
        csv,
        file_name,
        spec,
    })
}

/// `POST /try` (multipart form: `csv` text or `csv_file`, optional `spec`):
/// infers a spec when none is given, evaluates, and shows the spec, its
/// diagnostics and the memo.
pub async fn try_submit(
    State(state): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut parts = match api::read_parts(multipart, state.options.max_upload).await {
        Ok(parts) => parts,
        Err(bad) => return try_error(bad.status, &bad.message),
    };
    let TryForm {
        csv,
        file_name,
        spec,
    } = match try_form(&mut parts) {
        Ok(form) => form,
        Err(problem) => return try_error(StatusCode::BAD_REQUEST, &problem),
    };
    let mut context = context("try");
    context.insert("csv", &csv);
    context.insert("file_name", &file_name);
    if csv.trim().is_empty() {
        context.insert("spec", &spec);
        context.insert("problem", "paste a CSV or choose a file");
        return page("try.html", &context);
    }
    let (spec, notes) = if spec.trim().is_empty() {
        match infer(&csv, &file_name, &InferOptions::default()) {
            Ok(inferred) => (inferred.text, inferred.notes),
            Err(no_spec) => {
                context.insert("spec", "");
                context.insert("problem", &no_spec.0);
                return page("try.html", &context);
            }
        }
    } else {
        (spec, Vec::new())
    };
    context.insert("spec", &spec);
    context.insert("notes", &notes);
    match api::evaluate_upload(&state, spec.clone(), csv.into_bytes(), file_name).await {
        Ok(uploaded) => {
            let html =
                crate::output::render::render(&uploaded.report, crate::output::Format::Html, None);
            match html {
                Ok(html) => {
                    let (style, body) = memo_parts(&html);
                    context.insert("memo_style", &style);
                    context.insert("memo_body", &body);
                }
                Err(d) => context.insert("diagnostics", &shown(&d.into())),
            }
            context.insert("experiment", &uploaded.checked.plan.name);
            context.insert("diagnostics", &shown(&uploaded.checked.warnings));
        }
        Err(diagnostics) => {
            context.insert("diagnostics", &shown(&diagnostics));
            context.insert("spec_lines", &spec_lines(&spec, &diagnostics));
        }
    }
    page("try.html", &context)
}

/// The spec's lines, each with the messages of the errors located on it.
fn spec_lines(spec: &str, diagnostics: &Diagnostics) -> Vec<(usize, String, Vec<String>)> {
    let mut by_line: HashMap<usize, Vec<String>> = HashMap::new();
    for d in diagnostics.iter() {
        let in_spec = d
            .source
            .as_ref()
            .is_some_and(|s| s.path == std::path::Path::new(sandbox::SPEC_NAME));
        if let (true, Some((line, column))) = (in_spec, d.location()) {
            by_line
                .entry(line)
                .or_default()
                .push(format!("{line}:{column}: {}", d.message));
        }
    }
    spec.lines()
        .enumerate()
        .map(|(i, text)| {
            (
                i + 1,
                text.to_string(),
                by_line.remove(&(i + 1)).unwrap_or_default(),
            )
        })
        .collect()
}

fn try_error(status: StatusCode, message: &str) -> Response {
    let mut context = context("try");
    context.insert("csv", "");
    context.insert("spec", "");
    context.insert("file_name", "");
    context.insert("problem", message);
    let mut response = page("try.html", &context);
    *response.status_mut() = status;
    response
}

/// `POST /try/spec.xos` (the `/try` form): the spec as a file to save. An
/// empty spec means "infer", as on `/try`: the download is then the spec
/// inferred from the form's CSV.
pub async fn download_spec(
    State(state): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut parts = match api::read_parts(multipart, state.options.max_upload).await {
        Ok(parts) => parts,
        Err(bad) => return try_error(bad.status, &bad.message),
    };
    let form = match try_form(&mut parts) {
        Ok(form) => form,
        Err(problem) => return try_error(StatusCode::BAD_REQUEST, &problem),
    };
    let spec = if !form.spec.trim().is_empty() {
        form.spec
    } else if form.csv.trim().is_empty() {
        return try_error(
            StatusCode::BAD_REQUEST,
            "nothing to download: write a spec, or give a CSV to infer one from",
        );
    } else {
        match infer(&form.csv, &form.file_name, &InferOptions::default()) {
            Ok(inferred) => inferred.text,
            Err(no_spec) => return try_error(StatusCode::BAD_REQUEST, &no_spec.0),
        }
    };
    let source = SourceFile::new(sandbox::SPEC_NAME, spec.as_str());
    let name = match crate::syntax::parse::parse(&source) {
        Ok(crate::syntax::ast::File::Experiment(e)) => e.name.name,
        _ => "experiment".to_string(),
    };
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.xos\""),
            ),
        ],
        spec,
    )
        .into_response()
}

// ------------------------------------------------------------------ plan

/// The power calculator's inputs, as fractions (`baseline 0.12` for 12 %).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PlanInputs {
    /// The control's conversion rate, in (0, 1).
    pub baseline: f64,
    /// The minimum detectable effect: relative to the baseline when
    /// `relative`, else absolute (a difference of rates).
    pub mde: f64,
    /// Whether `mde` is relative to the baseline (the default) or an absolute difference of rates.
    #[serde(default = "yes")]
    pub relative: bool,
    /// Two-sided significance level, a fraction in (0, 0.5) as in a spec; 0.05 by default.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Target power, a fraction in [0.5, 1); 0.8 by default.
    #[serde(default = "default_power")]
    pub power: f64,
    /// The treatment's share of the traffic, in (0, 1).
    #[serde(default = "half")]
    pub treatment_share: f64,
    /// Units entering per day (both arms), for the duration.
    pub daily_units: Option<f64>,
}

fn yes() -> bool {
    true
}
fn default_alpha() -> f64 {
    0.05
}
fn default_power() -> f64 {
    0.8
}
fn half() -> f64 {
    0.5
}

/// The calculator's answer.
#[derive(Clone, Debug, Serialize)]
pub struct Calculation {
    /// Units needed in the control.
    pub control: u64,
    /// Units needed in the treatment.
    pub treatment: u64,
    /// Units needed in both arms together.
    pub total: u64,
    /// Days to enrol `total` at `daily_units`, `⌈total / daily⌉`; `null` without `daily_units`.
    pub days: Option<u64>,
    /// The absolute effect, `p2 − p1`.
    pub mde_abs: f64,
    /// Power against the MDE at up to 40 whole totals, evenly spaced up to
    /// twice the answer.
    pub curve: Vec<CurvePoint>,
}

/// One point of the power curve.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CurvePoint {
    /// Units in both arms together.
    pub total: u64,
    /// The power against the MDE at that total, a fraction.
    pub power: f64,
}

/// Sample sizes by the normal approximation with unpooled variances (the
/// same [`power::rate_sample_size`] as `xos plan`), and the power curve
/// `power(n) = Φ(|Δ|/√(p1q1/n_c + p2q2/n_t) − z_{1−α/2})` (the same
/// approximation solved for power, the far tail neglected, as in the
/// sample-size formula).
pub fn calculate(inputs: &PlanInputs) -> Result<Calculation, String> {
    let share = inputs.treatment_share;
    if !(share > 0.0 && share < 1.0) {
        return Err("the treatment share must be between 0 and 1 (exclusive)".into());
    }
    // α and the baseline as a spec's `settings { alpha }` and `baseline`
    // are checked.
    if !(inputs.alpha > 0.0 && inputs.alpha < 0.5) {
        return Err("alpha must be above 0 and below 0.5 (50%), as in a spec's settings".into());
    }
    // Below 50 %, (z_{1−α/2} + z_power)² no longer grows with the power:
    // a power of 1e-10 asked for more units than 80 %.
    if !(inputs.power >= 0.5 && inputs.power < 1.0) {
        return Err(
            "power must be at least 0.5 (50%) and below 1: a test planned to miss the effect \
             more often than it finds it has no meaningful sample size"
                .into(),
        );
    }
    if !(inputs.baseline > 0.0 && inputs.baseline < 1.0) {
        return Err("the baseline rate must be between 0 and 1 (exclusive)".into());
    }
    let kind = if inputs.relative {
        power::MdeKind::Relative
    } else {
        power::MdeKind::Absolute
    };
    // The rule of `xos plan` (`power::rate_effect`): a treatment rate of
    // exactly 0 or 1 is a valid alternative (the control's variance
    // remains), one past them is not.
    let (p1, p2, delta) = power::rate_effect(inputs.baseline, inputs.mde, kind).ok_or(
        "the MDE must be non-zero and keep the treatment's rate within 0 and 1, as `xos plan` \
         requires",
    )?;
    let ratio = share / (1.0 - share);
    let size = power::rate_sample_size(
        inputs.baseline,
        inputs.mde,
        kind,
        inputs.alpha,
        inputs.power,
        ratio,
    )
    .ok_or("these inputs give no finite sample size")?;
    let total = size.n_control + size.n_treatment;
    let days = match inputs.daily_units {
        Some(daily) => Some(
            power::duration_days(total, daily).ok_or("daily units must be a positive number")?,
        ),
        None => None,
    };
    let z = -normal_quantile(inputs.alpha / 2.0);
    let power_at = |n_total: f64| {
        let n_c = n_total * (1.0 - share);
        let n_t = n_total * share;
        let se = (p1 * (1.0 - p1) / n_c + p2 * (1.0 - p2) / n_t).sqrt();
        normal_cdf(delta.abs() / se - z)
    };
    // Whole totals up to twice the answer, each point's power at the total
    // it shows; a tiny answer gives fewer than 40 distinct points.
    let steps = 40;
    let mut curve: Vec<CurvePoint> = Vec::with_capacity(steps);
    for i in 1..=steps {
        let n = ((2 * total) as f64 * i as f64 / steps as f64).round() as u64;
        if n > 0 && curve.last().is_none_or(|p| p.total < n) {
            curve.push(CurvePoint {
                total: n,
                power: power_at(n as f64),
            });
        }
    }
    Ok(Calculation {
        control: size.n_control,
        treatment: size.n_treatment,
        total,
        days,
        mde_abs: delta,
        curve,
    })
}

/// The calculator form, in percent as people type it.
#[derive(Debug, Deserialize, Serialize)]
pub struct PlanForm {
    baseline: Option<String>,
    mde: Option<String>,
    scale: Option<String>,
    alpha: Option<String>,
    power: Option<String>,
    split: Option<String>,
    daily: Option<String>,
}

/// The SVG power curve: power against the total sample, the target power
/// and the answer marked.
fn curve_svg(calculation: &Calculation, target: f64) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 260.0, 48.0, 36.0, 12.0, 16.0);
    let max_n = calculation.curve.last().map_or(1, |p| p.total.max(1)) as f64;
    let x = |n: f64| left + (w - left - right) * n / max_n;
    let y = |p: f64| top + (h - top - bottom) * (1.0 - p);
    let points: Vec<String> = std::iter::once((0.0, 0.0))
        .chain(calculation.curve.iter().map(|p| (p.total as f64, p.power)))
        .map(|(n, p)| format!("{:.1},{:.1}", x(n), y(p.max(0.0))))
        .collect();
    let mut svg = format!(
        "<svg class=\"curve\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-label=\"power against total sample size\">"
    );
    for tick in [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] {
        svg.push_str(&format!(
            "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}%</text>",
            w - right,
            y(tick),
            y(tick),
            left - 6.0,
            y(tick) + 4.0,
            tick * 100.0
        ));
    }
    for i in 0..=4 {
        let n = max_n * f64::from(i) / 4.0;
        svg.push_str(&format!(
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(n),
            h - bottom + 16.0,
            n.round() as u64
        ));
    }
    svg.push_str(&format!(
        "<line class=\"target\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
         <line class=\"target\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{top}\" y2=\"{:.1}\"/>\
         <polyline class=\"power\" fill=\"none\" points=\"{}\"/>\
         <circle class=\"answer\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"/>\
         <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">total units</text></svg>",
        w - right,
        y(target),
        y(target),
        x(calculation.total as f64),
        x(calculation.total as f64),
        h - bottom,
        points.join(" "),
        x(calculation.total as f64),
        y(target),
        (w + left) / 2.0,
        h - 2.0
    ));
    svg
}

fn percent(field: &Option<String>, default: f64) -> Result<f64, String> {
    match field.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text
            .trim_end_matches('%')
            .trim()
            .replace('_', "")
            .parse::<f64>()
            .map(|x| x / 100.0)
            .map_err(|_| format!("`{text}` is not a number")),
    }
}

/// `GET /plan`: the power calculator (inputs in the query string).
pub async fn plan_page(Query(form): Query<PlanForm>) -> Response {
    let mut context = context("plan");
    let relative = match form.scale.as_deref().map(str::trim) {
        None | Some("") | Some("relative") => Ok(true),
        Some("absolute") => Ok(false),
        Some(other) => Err(format!(
            "`{other}` is not a scale of the MDE: `relative` (a share of the baseline) or \
             `absolute` (a difference of rates)"
        )),
    };
    let inputs = (|| -> Result<PlanInputs, String> {
        Ok(PlanInputs {
            baseline: percent(&form.baseline, 0.12)?,
            mde: percent(&form.mde, 0.05)?,
            relative: relative.clone()?,
            alpha: percent(&form.alpha, 0.05)?,
            power: percent(&form.power, 0.8)?,
            treatment_share: percent(&form.split, 0.5)?,
            daily_units: match form.daily.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(
                    text.replace(['_', ','], "")
                        .parse::<f64>()
                        .map_err(|_| format!("`{text}` is not a number of units per day"))?,
                ),
            },
        })
    })();
    let shown = |field: &Option<String>, default: &str| {
        field
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| default.to_string())
    };
    context.insert("baseline", &shown(&form.baseline, "12"));
    context.insert("mde", &shown(&form.mde, "5"));
    context.insert("relative", &relative.unwrap_or(true));
    context.insert("alpha", &shown(&form.alpha, "5"));
    context.insert("power", &shown(&form.power, "80"));
    context.insert("split", &shown(&form.split, "50"));
    context.insert("daily", &shown(&form.daily, "20000"));
    match inputs.and_then(|inputs| {
        let mut inputs = inputs;
        if form.daily.is_none() {
            inputs.daily_units = Some(20_000.0);
        }
        calculate(&inputs).map(|c| (inputs, c))
    }) {
        Ok((inputs, calculation)) => {
            context.insert("result", &calculation);
            context.insert("curve_svg", &curve_svg(&calculation, inputs.power));
        }
        Err(problem) => context.insert("problem", &problem),
    }
    page("plan.html", &context)
}

// ------------------------------------------------------------------ policies

#[derive(Debug, Serialize)]
struct PolicyView {
    name: String,
    source: String,
    rules: Vec<(String, String, String, String)>,
    otherwise: (String, String),
    tests: Vec<(String, String, String, bool, String)>,
    problems: Vec<ShownDiagnostic>,
}

fn reason_text(reason: &crate::plan::Reason) -> String {
    reason
        .parts
        .iter()
        .map(|part| match part {
            crate::plan::ReasonPart::Text(text) => text.clone(),
            crate::plan::ReasonPart::Fact(_, path) => format!("{{{{ {path} }}}}"),
        })
        .collect()
}

fn policy_view(source: &str, shown_as: String, text: &str) -> PolicyView {
    let file = SourceFile::new(source, text);
    match crate::check::check_policy_source(&file) {
        Ok(checked) => {
            let policy = checked.policy;
            let tests = crate::review::tests::policy_tests(&policy)
                .into_iter()
                .map(|t| {
                    let expected = match &t.by {
                        Some(by) => format!("{} by {by}", t.expect.as_str()),
                        None => t.expect.as_str().to_string(),
                    };
                    let got = format!("{} by {}", t.decision.verdict.as_str(), t.decision.rule);
                    (t.name, expected, got, t.passed, String::new())
                })
                .collect();
            PolicyView {
                name: policy.name.clone(),
                source: shown_as,
                rules: policy
                    .rules
                    .iter()
                    .map(|r| {
                        (
                            r.name.clone(),
                            r.condition_text.clone(),
                            r.then.as_str().to_string(),
                            reason_text(&r.because),
                        )
                    })
                    .collect(),
                otherwise: (
                    policy.otherwise.then.as_str().to_string(),
                    reason_text(&policy.otherwise.because),
                ),
                tests,
                problems: shown(&checked.warnings),
            }
        }
        Err(diagnostics) => problem_view(&shown_as, shown_as.clone(), diagnostics),
    }
}

/// A section of `/policies` that shows only `problems`, under `name` and
/// `source`.
fn problem_view(name: &str, source: String, problems: Diagnostics) -> PolicyView {
    PolicyView {
        name: name.to_string(),
        source,
        rules: Vec::new(),
        otherwise: (String::new(), String::new()),
        tests: Vec::new(),
        problems: shown(&problems),
    }
}

/// `GET /policies`: the built-in default policy, every policy file under the
/// served folder and every policy a served spec names, each with its
/// decision table and its tests' results.
pub async fn policies(State(state): State<Arc<AppState>>) -> Response {
    let mut views = vec![policy_view(
        crate::check::DEFAULT_POLICY_NAME,
        "built-in (rules/default.xos)".to_string(),
        crate::check::DEFAULT_POLICY,
    )];
    // A folder that cannot be walked (a symlink leading out of it) is
    // shown as the problem it is, not as a folder without policies.
    let mut files: Vec<PathBuf> = match crate::xos_files(&state.dir) {
        Ok(files) => files
            .into_iter()
            .filter(|p| !crate::is_experiment(p))
            .collect(),
        Err(error) => {
            views.push(problem_view("policy files", String::new(), error.into()));
            Vec::new()
        }
    };
    for entry in state.entries() {
        if let Some(evaluated) = &entry.last_good {
            let source = &evaluated.report.policy.source;
            if source != "built-in" {
                let path = crate::watch::normalize(std::path::Path::new(source));
                files.push(path);
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for file in files {
        let file = crate::watch::normalize(&file);
        if !seen.insert(file.clone()) {
            continue;
        }
        let shown_as = super::app::relative_name(&state.dir, &file);
        match crate::check::read_source(&file) {
            Ok(source) => views.push(policy_view(&shown_as, shown_as.clone(), &source.text)),
            Err(problems) => views.push(problem_view(&shown_as, shown_as.clone(), problems)),
        }
    }
    let mut context = context("policies");
    context.insert("policies", &views);
    page("policies.html", &context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calculator_agrees_with_xos_plan() {
        // The checkout example: baseline 12 %, MDE 5 % relative, α 5 %,
        // power 80 %, equal split: `xos plan` gives 46,583 per arm.
        let calc = calculate(&PlanInputs {
            baseline: 0.12,
            mde: 0.05,
            relative: true,
            alpha: 0.05,
            power: 0.8,
            treatment_share: 0.5,
            daily_units: Some(20_000.0),
        })
        .unwrap();
        let size =
            power::rate_sample_size(0.12, 0.05, power::MdeKind::Relative, 0.05, 0.8, 1.0).unwrap();
        assert_eq!(calc.control, size.n_control);
        assert_eq!(calc.total, size.n_control + size.n_treatment);
        assert_eq!(calc.days, power::duration_days(calc.total, 20_000.0));
        // The curve crosses the target power at the answer (half-way).
        let mid = calc.curve[19];
        assert!((mid.power - 0.8).abs() < 0.002, "{mid:?}");
        assert!(calc.curve.windows(2).all(|w| w[0].power <= w[1].power));
    }

    #[test]
    fn bad_calculator_inputs_are_explained() {
        let mut inputs = PlanInputs {
            baseline: 1.2,
            mde: 0.05,
            relative: true,
            alpha: 0.05,
            power: 0.8,
            treatment_share: 0.5,
            daily_units: None,
        };
        assert!(calculate(&inputs).unwrap_err().contains("baseline"));
        inputs.baseline = 0.12;
        inputs.mde = 0.0;
        assert!(calculate(&inputs).unwrap_err().contains("MDE"));
    }

    #[test]
    fn memo_parts_split_style_and_body() {
        let (style, body) = memo_parts(
            "<html><head><style>p{}</style></head><body class=\"x\"><p>hi</p></body></html>",
        );
        assert_eq!(style, "p{}");
        assert_eq!(body, "<p>hi</p>");
    }
}

//! The native JSON API, `/api/v1/…` (documented in `docs/api.md`).
//!
//! Errors are `{"error": "<message>"}` with a 4xx status; spec and data
//! problems add `"diagnostics"`: the diagnostics of `xos check
//! --error-format json`, each with its `file`, `line` and `column`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::app::{AppState, Entry};
use super::sandbox;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::output::report::Report;

/// Uploads above this size are evaluated on the blocking pool, so a large
/// row-level file never stalls the threads that serve other requests.
const INLINE_LIMIT: usize = 1 << 20;

/// `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// 422 with every diagnostic, located.
pub fn diagnostics_response(message: &str, diagnostics: &Diagnostics) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({
            "error": message,
            "diagnostics": diagnostics_json(diagnostics),
        })),
    )
        .into_response()
}

/// Diagnostics as `xos check --error-format json` prints them.
pub fn diagnostics_json(diagnostics: &Diagnostics) -> Value {
    serde_json::to_value(
        diagnostics
            .iter()
            .map(Diagnostic::to_json)
            .collect::<Vec<_>>(),
    )
    .unwrap_or(Value::Array(Vec::new()))
}

/// A body that is already JSON text.
pub fn json_text(status: StatusCode, text: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// Reads and drops what a client sent to a path that answers without its
/// body (at most 1 MiB): a server that answers and closes with unread bytes
/// in the socket makes the kernel reset the connection, and the client sees
/// the reset instead of the answer (it happened to a 404 of `/api/analyze`
/// with the compatible API off, under load).
async fn drain(body: axum::body::Body) {
    let _ = axum::body::to_bytes(body, 1 << 20).await;
}

/// The 404 of every path no route serves.
pub async fn not_found(uri: Uri, body: axum::body::Body) -> Response {
    drain(body).await;
    let path = uri.path();
    if path.starts_with("/api/v1/") || path == "/api/v1" {
        error(StatusCode::NOT_FOUND, format!("no such endpoint: `{path}`"))
    } else if path.starts_with("/api/") {
        super::compat::detail(StatusCode::NOT_FOUND, "Not Found")
    } else {
        super::pages::not_found_page(path)
    }
}

/// The 405 of a known path asked with the wrong method.
pub async fn method_not_allowed(uri: Uri, body: axum::body::Body) -> Response {
    drain(body).await;
    let path = uri.path();
    if path.starts_with("/api/") && !path.starts_with("/api/v1/") {
        super::compat::method_not_allowed()
    } else {
        error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("`{path}` does not take this method"),
        )
    }
}

/// One part of a multipart request.
#[derive(Debug)]
pub struct Part {
    /// The part's `filename`, if the client sent one.
    pub file_name: Option<String>,
    /// The part's body, at most the upload limit.
    pub bytes: Vec<u8>,
}

/// Why a multipart body could not be read.
#[derive(Debug)]
pub struct BadUpload {
    /// The HTTP status to answer with: 400 for a malformed body, 413 past the upload limit.
    pub status: StatusCode,
    /// What went wrong, for the response's `error` field.
    pub message: String,
}

/// The message of a 413.
pub fn too_large_message(limit: usize) -> String {
    format!(
        "the upload is larger than this server's limit of {} (`xos serve --max-upload`)",
        human_bytes(limit)
    )
}

fn human_bytes(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Every part of a multipart body, by name (a repeated name keeps the first).
pub async fn read_parts(
    multipart: Result<Multipart, MultipartRejection>,
    limit: usize,
) -> Result<HashMap<String, Part>, BadUpload> {
    let mut multipart = multipart.map_err(|rejection| BadUpload {
        status: StatusCode::BAD_REQUEST,
        message: format!(
            "expected a multipart/form-data body ({})",
            rejection.body_text()
        ),
    })?;
    let mut parts = HashMap::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) if timed_out(&err) => return Err(stalled()),
            Err(err) => return Err(upload_error(err.status(), &err.body_text(), limit)),
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes.to_vec(),
            Err(err) if timed_out(&err) => return Err(stalled()),
            Err(err) => return Err(upload_error(err.status(), &err.body_text(), limit)),
        };
        parts.entry(name).or_insert(Part { file_name, bytes });
    }
    Ok(parts)
}

/// Whether reading a body failed because the client paused longer than
/// `--read-timeout` (the body's timeout layer, anywhere in the error's
/// chain of sources).
pub fn timed_out(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |e| e.source())
        .any(|e| e.is::<tower_http::timeout::TimeoutError>())
}

/// The 408 of a body that stalled.
fn stalled() -> BadUpload {
    BadUpload {
        status: StatusCode::REQUEST_TIMEOUT,
        message: STALLED.to_string(),
    }
}

/// The message of a 408: the body stopped arriving.
pub const STALLED: &str = "the request body stopped arriving for longer than this server waits \
     (`xos serve --read-timeout`)";

fn upload_error(status: StatusCode, text: &str, limit: usize) -> BadUpload {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        BadUpload {
            status,
            message: too_large_message(limit),
        }
    } else {
        BadUpload {
            status: StatusCode::BAD_REQUEST,
            message: format!("the multipart body is malformed: {text}"),
        }
    }
}

/// A part as UTF-8 text, or a 400 naming it.
fn text_part(parts: &HashMap<String, Part>, name: &str) -> Result<Option<String>, Response> {
    match parts.get(name) {
        None => Ok(None),
        Some(part) => String::from_utf8(part.bytes.clone())
            .map(Some)
            .map_err(|_| {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("the `{name}` part is not UTF-8 text"),
                )
            }),
    }
}

/// One row of `GET /api/v1/experiments` and of the index page.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The experiment's name (its spec's relative path while the spec has
    /// never parsed).
    pub name: String,
    /// The experiment's key in URLs (`/api/v1/experiments/{id}/report`):
    /// its name, or its spec's relative path when an earlier spec declares
    /// the same name or the spec never parsed.
    pub id: String,
    /// The spec, relative to the served folder.
    pub spec: String,
    /// The spec's `title`, from the last good evaluation.
    pub title: Option<String>,
    /// The spec's `owner`, from the last good evaluation.
    pub owner: Option<String>,
    /// `launch`, `hold` or `rollback` of the last good evaluation.
    pub verdict: Option<&'static str>,
    /// The rule that decided (`otherwise` for the fallback).
    pub rule: Option<String>,
    /// The arm the verdict is about (`null` on a multi-arm hold).
    pub arm: Option<String>,
    /// `healthy`, `warning` or `blocked`.
    pub health: Option<&'static str>,
    /// The primary metric's comparison with the decisive arm.
    pub primary: Option<PrimarySummary>,
    /// Units so far over the planned total (`null` without a plan).
    pub sample_share: Option<f64>,
    /// UTC time of the last evaluation, RFC 3339.
    pub evaluated_at: String,
    /// Increases by one per evaluation.
    pub revision: u64,
    /// Whether the last evaluation failed (then the numbers are the last
    /// good ones, if any).
    pub failed: bool,
    /// The last evaluation's errors as `xos check --error-format json` prints them; `[]` when it
    /// succeeded.
    pub errors: Value,
}

/// The primary metric's lift against the decisive arm.
#[derive(Clone, Debug, Serialize)]
pub struct PrimarySummary {
    /// The primary metric's name.
    pub metric: String,
    /// The treatment arm compared with the control: the decision's arm, else the first treatment.
    pub variant: String,
    /// Treatment minus control, in the metric's units (a fraction for rates); `null` when
    /// undefined.
    pub abs_lift: Option<f64>,
    /// (m_t − m_c)/|m_c|, a fraction; `null` when the control's value is 0.
    pub rel_lift: Option<f64>,
    /// Lower bound of the lift's (1 − α) interval, from the metric's own test.
    pub ci_low: Option<f64>,
    /// Upper bound of the lift's (1 − α) interval, from the metric's own test.
    pub ci_high: Option<f64>,
    /// The two-sided p-value of the metric's test (sequential with `sequential`).
    pub p_value: Option<f64>,
    /// The adjusted p is below α.
    pub significant: bool,
}

impl Summary {
    /// The summary of one served spec, from its last good evaluation (the numbers are `null` when
    /// there is none).
    pub fn of(entry: &Entry) -> Summary {
        let report = entry.last_good.as_ref().map(|e| &e.report);
        Summary {
            name: entry.name.clone(),
            id: entry.id.clone(),
            spec: entry.relative.clone(),
            title: report.and_then(|r| r.title.clone()),
            owner: report.and_then(|r| r.owner.clone()),
            verdict: report.map(|r| r.decision.verdict.as_str()),
            rule: report.map(|r| r.decision.rule.clone()),
            arm: report.and_then(|r| r.decision.arm.clone()),
            health: report.map(|r| r.health.status.as_str()),
            primary: report.and_then(primary_summary),
            sample_share: report.and_then(sample_share),
            evaluated_at: entry.evaluated_at.clone(),
            revision: entry.revision,
            failed: entry.errors.is_some(),
            errors: entry
                .errors
                .as_ref()
                .map_or(Value::Array(Vec::new()), |d| diagnostics_json(d)),
        }
    }
}

/// The primary comparison of the decisive arm (the first treatment when no
/// arm is named).
pub fn primary_summary(report: &Report) -> Option<PrimarySummary> {
    let metric = report
        .metrics
        .iter()
        .find(|m| m.role == crate::plan::Role::Primary)?;
    let comparison = report
        .decision
        .arm
        .as_ref()
        .and_then(|arm| metric.comparisons.iter().find(|c| &c.variant == arm))
        .or(metric.comparisons.first())?;
    Some(PrimarySummary {
        metric: metric.name.clone(),
        variant: comparison.variant.clone(),
        abs_lift: comparison.abs_lift,
        rel_lift: comparison.rel_lift,
        ci_low: comparison.ci_low,
        ci_high: comparison.ci_high,
        p_value: comparison.p_value,
        significant: comparison.significant,
    })
}

/// Units so far over the planned total.
pub fn sample_share(report: &Report) -> Option<f64> {
    let total = report.sample.total? as f64;
    let metric = report.metrics.first()?;
    let units: u64 = metric.variants.iter().map(|v| v.units).sum();
    (total > 0.0).then(|| units as f64 / total)
}

/// `GET /api/v1/experiments`: every served spec, in path order.
pub async fn experiments(State(state): State<Arc<AppState>>) -> Response {
    let summaries: Vec<Summary> = state.entries().iter().map(Summary::of).collect();
    axum::Json(json!({ "experiments": summaries })).into_response()
}

/// The entry of `id`, evaluated without error, or the error response.
fn evaluated(state: &AppState, id: &str) -> Result<Arc<super::app::Evaluated>, Response> {
    let Some(entry) = state.entry(id) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no experiment named `{id}` is served"),
        ));
    };
    match (&entry.errors, &entry.last_good) {
        (None, Some(evaluated)) => Ok(Arc::clone(evaluated)),
        (Some(errors), _) => Err(diagnostics_response(
            &format!("`{}` does not evaluate", entry.relative),
            errors,
        )),
        (None, None) => Err(error(
            StatusCode::NOT_FOUND,
            format!("`{id}` has not been evaluated"),
        )),
    }
}

/// `GET /api/v1/experiments/{name}/report`: `xos run --format json`.
pub async fn report(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    match evaluated(&state, &name) {
        Ok(evaluated) => json_text(StatusCode::OK, evaluated.json.clone()),
        Err(response) => response,
    }
}

/// `GET /api/v1/experiments/{name}/memo.md`.
pub async fn memo_md(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    memo(&state, &name, "text/markdown; charset=utf-8", |e| {
        e.md.clone()
    })
}

/// `GET /api/v1/experiments/{name}/memo.html`.
pub async fn memo_html(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    memo(&state, &name, "text/html; charset=utf-8", |e| {
        e.html.clone()
    })
}

fn memo(
    state: &AppState,
    name: &str,
    content_type: &'static str,
    text: impl Fn(&super::app::Evaluated) -> String,
) -> Response {
    match evaluated(state, name) {
        Ok(evaluated) => ([(header::CONTENT_TYPE, content_type)], text(&evaluated)).into_response(),
        Err(response) => response,
    }
}

/// The `spec` and `data` parts of a request, the data's shown name.
struct SpecAndData {
    spec: String,
    data: Option<(Vec<u8>, String)>,
}

async fn spec_and_data(
    state: &AppState,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<SpecAndData, Response> {
    let mut parts = read_parts(multipart, state.options.max_upload)
        .await
        .map_err(|bad| error(bad.status, bad.message))?;
    let Some(spec) = text_part(&parts, "spec")? else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "missing the `spec` part: the `.xos` text of the experiment",
        ));
    };
    let data = parts.remove("data").map(|part| {
        let name = sandbox::data_name(part.file_name.as_deref());
        (part.bytes, name)
    });
    Ok(SpecAndData { spec, data })
}

/// Runs the sandboxed evaluation of an upload. What may take more than a
/// millisecond runs on tokio's blocking pool, so it never holds one of the
/// few threads that serve every other request (two clients posting specs
/// with 32 sampled credible intervals each held both of this 2-core
/// machine's workers: a `GET` took 0.29 s at the median, 0.70 s at worst):
/// an upload above 1 MiB or gzipped is read and evaluated there,
/// and the evaluation of one that samples ([`sandbox::Prepared::samples`]).
/// The rest, the common case, runs in place: a trip to the blocking pool
/// costs two thread hand-offs per request.
pub async fn evaluate_upload(
    state: &Arc<AppState>,
    spec: String,
    bytes: Vec<u8>,
    name: String,
) -> Result<sandbox::Uploaded, Diagnostics> {
    let limit = state.options.max_upload;
    if bytes.len() > INLINE_LIMIT || crate::data::rows::is_gzip(&bytes) {
        let state = Arc::clone(state);
        return off_the_workers(move || sandbox::run(&state.plans, &spec, bytes, &name, limit))
            .await
            .and_then(|result| result);
    }
    let prepared = sandbox::prepare(&state.plans, &spec, bytes, &name, limit)?;
    if !prepared.samples() {
        return Ok(prepared.evaluate());
    }
    off_the_workers(move || prepared.evaluate()).await
}

/// `work` on tokio's blocking pool; an internal error if it panicked.
pub async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Diagnostics> {
    tokio::task::spawn_blocking(work).await.map_err(|err| {
        Diagnostic::error("xos::serve::internal", "the evaluation failed")
            .help(err.to_string())
            .into()
    })
}

/// `POST /api/v1/run`: multipart `spec` (the `.xos` text) and `data` (the
/// CSV) → the JSON report, or 422 with the diagnostics.
pub async fn run(
    State(state): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let input = match spec_and_data(&state, multipart).await {
        Ok(input) => input,
        Err(response) => return response,
    };
    let Some((bytes, name)) = input.data else {
        return error(
            StatusCode::BAD_REQUEST,
            "missing the `data` part: the CSV to evaluate (a spec sent over HTTP reads no file)",
        );
    };
    match evaluate_upload(&state, input.spec, bytes, name).await {
        Ok(uploaded) => json_text(
            StatusCode::OK,
            crate::output::report::to_json(&uploaded.report),
        ),
        Err(diagnostics) => diagnostics_response("the spec or the data is invalid", &diagnostics),
    }
}

/// `POST /api/v1/check`: multipart `spec` (and optionally `data`) → 200
/// `{"ok": true, "diagnostics": [warnings]}` or 422 with the errors.
pub async fn check(
    State(state): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let input = match spec_and_data(&state, multipart).await {
        Ok(input) => input,
        Err(response) => return response,
    };
    let result = match input.data {
        Some((bytes, name)) => evaluate_upload(&state, input.spec, bytes, name)
            .await
            .map(|uploaded| uploaded.checked),
        None => sandbox::check(&state.plans, &input.spec, sandbox::DATA_NAME),
    };
    match result {
        Ok(checked) => axum::Json(json!({
            "ok": true,
            "experiment": checked.plan.name,
            "diagnostics": diagnostics_json(&checked.warnings),
        }))
        .into_response(),
        Err(diagnostics) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({
                "ok": false,
                "error": "the spec or the data is invalid",
                "diagnostics": diagnostics_json(&diagnostics),
            })),
        )
            .into_response(),
    }
}

/// `POST /api/v1/plan`: a multipart `spec` → `xos plan --format json`; or a
/// JSON body of calculator inputs → sample size, days and the power curve.
pub async fn plan(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if content_type.starts_with("application/json") {
        let bytes = match axum::body::to_bytes(request.into_body(), state.options.max_upload).await
        {
            Ok(bytes) => bytes,
            Err(err) if timed_out(&err) => return error(StatusCode::REQUEST_TIMEOUT, STALLED),
            Err(_) => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    too_large_message(state.options.max_upload),
                );
            }
        };
        let inputs: super::pages::PlanInputs = match serde_json::from_slice(&bytes) {
            Ok(inputs) => inputs,
            Err(err) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the calculator inputs are not valid JSON: {err}"),
                );
            }
        };
        return match super::pages::calculate(&inputs) {
            Ok(result) => axum::Json(result).into_response(),
            Err(message) => error(StatusCode::UNPROCESSABLE_ENTITY, message),
        };
    }
    let multipart = <Multipart as axum::extract::FromRequest<()>>::from_request(request, &()).await;
    let input = match spec_and_data(&state, multipart).await {
        Ok(input) => input,
        Err(response) => return response,
    };
    let checked = match sandbox::check(&state.plans, &input.spec, sandbox::DATA_NAME) {
        Ok(checked) => checked,
        Err(diagnostics) => {
            return diagnostics_response("the spec is invalid", &diagnostics);
        }
    };
    match crate::sample_size::planned_sample(&checked.plan) {
        Ok(sample) => axum::Json(planned_json(&sample)).into_response(),
        Err(crate::sample_size::NoPlan(why)) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("cannot plan `{}`: {why}", checked.plan.name),
        ),
    }
}

/// The planned sample as `xos plan --format json` prints it.
pub fn planned_json(sample: &crate::sample_size::PlannedSample) -> Value {
    let per_variant: serde_json::Map<String, Value> = sample
        .per_variant
        .iter()
        .map(|(name, n)| (name.clone(), Value::from(*n)))
        .collect();
    json!({
        "per_variant": per_variant,
        "total": sample.total,
        "days": sample.days,
        "alpha": sample.alpha,
        "power": sample.power,
        "mde_abs": sample.mde_abs,
        "change": sample.change,
        "target_rate": sample.target_rate,
        "alpha_divided_by": sample.alpha_divided_by,
    })
}

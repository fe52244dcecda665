//! The HTTP API of ExperimentOS, the Python system xos replaces: the same
//! paths, request fields and response keys (the contract is `docs/api.md`,
//! from `compat-api.md`), with xos's statistics behind them. On with
//! `xos serve --compat`; off, these paths answer 404.
//!
//! Every CSV endpoint takes the multipart part `file` and, optionally, a
//! part `spec` (the `.xos` text; the old front end never sends one). Without
//! a spec, xos infers one from the columns ([`super::infer`]) and lists what
//! it inferred in the health issues. Labels are trimmed and lower-cased
//! before anything else; a file is *multi-arm* when it has more than two
//! labels or none is `treatment`. The numbers are xos's: the configured
//! rate test with its own interval (so `is_significant` ⇔ `ci_95` excludes
//! 0), α from the spec, Holm across arms, exact Bayesian probabilities, and
//! the verdict of the policy — none of the old system's defects.
//!
//! The one intended difference in shape: multi-arm `continuous_results` is a
//! flat list with a `variant` key per entry (the old object crashed the old
//! front end).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::api;
use super::app::AppState;
use super::infer::{InferOptions, infer, infer_table};
use super::sandbox;
use crate::diagnostic::Diagnostics;
use crate::output::Format;
use crate::output::render::render;
use crate::output::report::{MetricReport, Report};
use crate::plan::{Correction, Health, Role, Verdict};
use crate::stats::dist::{beta_inc, chi2_sf, ln_beta, normal_sf};
use crate::stats::sequential::{Spending, boundaries};

/// `{"detail": message}` with `status`: the error shape of the compatible
/// API (`detail` is always a string).
pub fn detail(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "detail": message.into() }))).into_response()
}

/// Whether `path` is one of the ExperimentOS-compatible routes, whose
/// errors are `{"detail": …}` rather than `{"error": …}`.
pub fn is_compat_path(path: &str) -> bool {
    path.starts_with("/api/") && !path.starts_with("/api/v1/")
}

/// `GET /` for scripts (no `text/html` in `Accept`): the liveness answer.
pub async fn liveness() -> Response {
    axum::Json(json!({ "message": "ExperimentOS API is running" })).into_response()
}

/// The compatible endpoints, added to the router by `--compat`.
pub fn routes(app: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    app.route("/api/health-check", post(health_check))
        .route("/api/analyze", post(analyze))
        .route("/api/continuous-metrics", post(continuous_metrics))
        .route("/api/bayesian-analysis", post(bayesian_analysis))
        .route("/api/decision-memo", post(decision_memo))
        .route("/api/sequential-analysis", post(sequential_analysis))
        .route("/api/sequential-boundaries", get(sequential_boundaries))
        .route(
            "/api/integrations/{provider}/experiments",
            get(integration_experiments),
        )
        .route(
            "/api/integrations/{provider}/experiments/{id}/analyze",
            get(integration_analyze),
        )
}

/// The 405 of the compatible paths (axum's own has no body).
pub fn method_not_allowed() -> Response {
    detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

// ------------------------------------------------------------------ uploads

/// An uploaded CSV, its labels normalised, with the spec that reads it.
struct Upload {
    file_name: String,
    header: Vec<String>,
    /// The rows as written (labels normalised), for the preview and counts.
    rows: Vec<Vec<String>>,
    /// Distinct labels in row order.
    labels: Vec<String>,
    /// The CSV as evaluated (labels normalised).
    csv: String,
    /// The spec sent or inferred, or why there is none (no spec can be
    /// inferred, or the file is not a readable CSV).
    spec: Result<String, String>,
    /// What the inference chose or ignored, for the health issues.
    notes: Vec<String>,
    /// Guardrails named in `?guardrails=` that the file lacks.
    missing_guardrails: Vec<String>,
}

impl Upload {
    /// A file that cannot be read as a CSV: no rows, and `problem` where the
    /// spec would be, so evaluating it reports the problem.
    fn unreadable(file_name: String, problem: &str) -> Upload {
        Upload {
            file_name,
            header: Vec::new(),
            rows: Vec::new(),
            labels: Vec::new(),
            csv: String::new(),
            spec: Err(problem.to_string()),
            notes: Vec::new(),
            missing_guardrails: Vec::new(),
        }
    }

    fn multi_arm(&self) -> bool {
        self.labels.len() > 2 || !self.labels.iter().any(|l| l == "treatment")
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The integer in `column` of the row labelled `label`.
    fn count(&self, label: &str, column: &str) -> Option<u64> {
        let (variant, column) = (self.column("variant")?, self.column(column)?);
        self.rows
            .iter()
            .find(|r| r.get(variant).map(String::as_str) == Some(label))?
            .get(column)?
            .trim()
            .parse()
            .ok()
    }
}

/// The query of the CSV endpoints: `?guardrails=a,b` names columns to treat as guardrails; those
/// the file lacks are listed in the response.
#[derive(Debug, Default, Deserialize)]
pub struct GuardrailQuery {
    guardrails: Option<String>,
}

/// Reads the `file` (and optional `spec`) parts, normalises the labels and
/// infers a spec when none is sent.
async fn upload(
    state: &AppState,
    multipart: Result<Multipart, MultipartRejection>,
    guardrails: Option<&str>,
) -> Result<Upload, Response> {
    let mut parts = api::read_parts(multipart, state.options.max_upload)
        .await
        .map_err(|bad| {
            let status = if bad.status == StatusCode::PAYLOAD_TOO_LARGE
                || bad.status == StatusCode::REQUEST_TIMEOUT
            {
                bad.status
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            detail(status, bad.message)
        })?;
    let Some(file) = parts.remove("file") else {
        return Err(detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Field required: the multipart part `file` (the CSV)",
        ));
    };
    let file_name = file.file_name.clone().unwrap_or_default();
    if !file_name.ends_with(".csv") {
        return Err(detail(
            StatusCode::BAD_REQUEST,
            "Only CSV files are supported",
        ));
    }
    let file_name = sandbox::data_name(Some(&file_name));
    // A spec that cannot be read is refused, never replaced by the inferred
    // one; an empty one means "infer".
    let spec_part =
        match parts.remove("spec") {
            None => None,
            Some(part) => Some(String::from_utf8(part.bytes).map_err(|_| {
                detail(StatusCode::BAD_REQUEST, "the `spec` part is not UTF-8 text")
            })?),
        }
        .filter(|s| !s.trim().is_empty());
    // Data that cannot be read is invalid data: the health check reports it
    // as `Blocked` (200), the other endpoints answer 400.
    let text = match String::from_utf8(file.bytes) {
        Ok(text) if text.trim().is_empty() => {
            return Ok(Upload::unreadable(file_name, "The CSV file is empty"));
        }
        Ok(text) => text,
        Err(_) => return Ok(Upload::unreadable(file_name, "The CSV is not UTF-8 text")),
    };
    // One reader per thread, reset between uploads (see `data::records`).
    let mut records = crate::data::records::records(&text, b',');
    let Some(header) = records.next() else {
        return Ok(Upload::unreadable(file_name, "The CSV file has no header"));
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let variant = header
        .iter()
        .position(|h| h.eq_ignore_ascii_case("variant"));
    let mut rows = Vec::new();
    for record in records {
        let mut row: Vec<String> = record.iter().map(str::to_string).collect();
        if let Some(cell) = variant.and_then(|v| row.get_mut(v)) {
            *cell = cell.trim().to_lowercase();
        }
        rows.push(row);
    }
    let mut labels: Vec<String> = Vec::new();
    for row in &rows {
        if let Some(label) = variant.and_then(|v| row.get(v))
            && !label.is_empty()
            && !labels.contains(label)
        {
            labels.push(label.clone());
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(&header);
    for row in &rows {
        let _ = writer.write_record(row);
    }
    let csv = String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default();
    let named: Option<Vec<String>> = guardrails.map(|list| {
        list.split(',')
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect()
    });
    let missing_guardrails: Vec<String> = named
        .iter()
        .flatten()
        .filter(|g| !header.contains(g))
        .cloned()
        .collect();
    let (spec, notes) = match spec_part {
        Some(spec) => (Ok(spec), Vec::new()),
        None => {
            let options = InferOptions {
                lowercase_labels: true,
                guardrails: named.map(|n| {
                    n.into_iter()
                        .filter(|g| !missing_guardrails.contains(g))
                        .collect()
                }),
            };
            // `infer` reads the CSV with every cell trimmed.
            let trimmed: Vec<Vec<String>>;
            let cells = if rows.iter().flatten().any(|c| c.trim().len() != c.len()) {
                trimmed = rows
                    .iter()
                    .map(|row| row.iter().map(|c| c.trim().to_string()).collect())
                    .collect();
                &trimmed
            } else {
                &rows
            };
            match infer_table(&header, cells, &file_name, &options) {
                Ok(inferred) => (Ok(inferred.text), inferred.notes),
                Err(no_spec) => (Err(no_spec.0), Vec::new()),
            }
        }
    };
    Ok(Upload {
        file_name,
        header,
        rows,
        labels,
        csv,
        spec,
        notes,
        missing_guardrails,
    })
}

/// The report of an upload, or the problems as one message per line.
async fn evaluate(state: &Arc<AppState>, upload: &Upload) -> Result<Report, Vec<String>> {
    let spec = upload.spec.clone().map_err(|why| vec![why])?;
    api::evaluate_upload(
        state,
        spec,
        upload.csv.clone().into_bytes(),
        upload.file_name.clone(),
    )
    .await
    .map(|uploaded| uploaded.report)
    .map_err(|d| messages(&d))
}

/// Diagnostics as `file:line:col: message` lines (errors only).
fn messages(diagnostics: &Diagnostics) -> Vec<String> {
    diagnostics
        .errors()
        .map(|d| match (d.file_name(), d.location()) {
            (Some(file), Some((line, column))) => format!("{file}:{line}:{column}: {}", d.message),
            (Some(file), None) => format!("{file}: {}", d.message),
            _ => d.message.clone(),
        })
        .collect()
}

/// The upload evaluated, for the endpoints that answer 400 on data xos
/// cannot evaluate (analyze, continuous-metrics, bayesian-analysis; the
/// health check reports such data as `Blocked` instead).
async fn uploaded_report(
    state: &Arc<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
    guardrails: Option<&str>,
) -> Result<(Upload, Report), Response> {
    let upload = upload(state, multipart, guardrails).await?;
    match evaluate(state, &upload).await {
        Ok(report) => Ok((upload, report)),
        Err(problems) => Err(bad_data(&problems)),
    }
}

/// The request of a JSON endpoint, or its error as `{"detail": …}`: 413
/// past the upload limit, 408 when it stalled, 400 when it could not be
/// read, 422 when it is not the JSON of a `T`.
fn json_request<T: serde::de::DeserializeOwned>(
    state: &AppState,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<T, Response> {
    let body = body.map_err(|rejection| {
        if api::timed_out(&rejection) {
            detail(StatusCode::REQUEST_TIMEOUT, api::STALLED)
        } else if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            detail(
                StatusCode::PAYLOAD_TOO_LARGE,
                api::too_large_message(state.options.max_upload),
            )
        } else {
            detail(StatusCode::BAD_REQUEST, rejection.body_text())
        }
    })?;
    serde_json::from_slice(&body).map_err(|err| {
        detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The request body is not the expected JSON: {err}"),
        )
    })
}

/// A 400 for data xos cannot evaluate (the old system answered 500).
fn bad_data(problems: &[String]) -> Response {
    detail(StatusCode::BAD_REQUEST, problems.join("; "))
}

fn num(x: Option<f64>) -> Value {
    x.filter(|x| x.is_finite()).map_or(Value::Null, Value::from)
}

/// A p-value the old front end formats: never null (1 when undefined).
fn p(x: Option<f64>) -> Value {
    Value::from(x.filter(|x| x.is_finite()).unwrap_or(1.0))
}

fn primary(report: &Report) -> Option<&MetricReport> {
    report.metrics.iter().find(|m| m.role == Role::Primary)
}

// ------------------------------------------------------------------ health

/// `POST /api/health-check`.
async fn health_check(
    State(state): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let upload = match upload(&state, multipart, None).await {
        Ok(upload) => upload,
        Err(response) => return response,
    };
    let result = match evaluate(&state, &upload).await {
        Ok(report) => health_result(&report, &upload),
        Err(problems) => json!({
            "schema": { "status": "Blocked", "issues": problems },
            "srm": null,
            "overall_status": "Blocked",
        }),
    };
    let variant = upload.column("variant");
    let preview: Vec<Value> = upload
        .rows
        .iter()
        .take(5)
        .map(|row| {
            let record: Map<String, Value> = upload
                .header
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let cell = row.get(i).cloned().unwrap_or_default();
                    let value = if Some(i) == variant {
                        Value::from(cell)
                    } else if let Ok(n) = cell.trim().parse::<i64>() {
                        Value::from(n)
                    } else if let Some(x) =
                        cell.trim().parse::<f64>().ok().filter(|x| x.is_finite())
                    {
                        Value::from(x)
                    } else {
                        Value::from(cell)
                    };
                    (name.clone(), value)
                })
                .collect();
            Value::Object(record)
        })
        .collect();
    axum::Json(json!({
        "status": "success",
        "result": result,
        "preview": preview,
        "columns": upload.header,
        "filename": upload.file_name,
    }))
    .into_response()
}

fn health_word(health: Health) -> &'static str {
    match health {
        Health::Healthy => "Healthy",
        Health::Warning => "Warning",
        Health::Blocked => "Blocked",
    }
}

fn health_result(report: &Report, upload: &Upload) -> Value {
    let settings = &report.settings;
    let srm_p = report.health.srm.map(|s| s.p_value);
    let srm_status = match srm_p {
        Some(p) if p < settings.srm_blocked => Health::Blocked,
        Some(p) if p < settings.srm_warning => Health::Warning,
        _ => Health::Healthy,
    };
    let mut schema_status = Health::Healthy;
    let mut issues: Vec<String> = upload.notes.clone();
    for issue in &report.health.issues {
        issues.push(issue.message.clone());
        if !issue.message.starts_with("sample ratio mismatch") {
            schema_status = schema_status.max(issue.severity);
        }
    }
    let units: Vec<(String, u64)> = report
        .metrics
        .first()
        .map(|m| {
            m.variants
                .iter()
                .map(|v| (v.name.clone(), v.units))
                .collect()
        })
        .unwrap_or_default();
    let total: u64 = units.iter().map(|(_, n)| n).sum();
    let srm = match report.health.srm {
        Some(srm) if total > 0 => {
            let mut observed = Map::new();
            let mut expected = Map::new();
            for (name, n) in &units {
                let share = settings
                    .split
                    .iter()
                    .find(|s| &s.variant == name)
                    .map_or(0.0, |s| s.share);
                observed.insert(name.clone(), Value::from(*n));
                observed.insert(
                    format!("{name}_pct"),
                    Value::from(*n as f64 / total as f64 * 100.0),
                );
                expected.insert(name.clone(), Value::from(share * total as f64));
                expected.insert(format!("{name}_pct"), Value::from(share * 100.0));
            }
            let message = match srm_status {
                Health::Healthy => format!(
                    "No sample ratio mismatch (p={})",
                    crate::numbers::p_value(srm.p_value)
                ),
                _ => format!(
                    "Sample ratio mismatch: p={} against the declared split",
                    crate::numbers::p_value(srm.p_value)
                ),
            };
            json!({
                "status": health_word(srm_status),
                "p_value": srm.p_value,
                "chi2_stat": srm.chi2,
                "observed": observed,
                "expected": expected,
                "message": message,
            })
        }
        _ => json!({ "status": "Healthy", "message": "SRM not computed: no units" }),
    };
    json!({
        "schema": { "status": health_word(schema_status), "issues": issues },
        "srm": srm,
        "overall_status": health_word(schema_status.max(srm_status)),
    })
}

// ------------------------------------------------------------------ analyze

/// `POST /api/analyze[?guardrails=a,b]`.
async fn analyze(
    State(state): State<Arc<AppState>>,
    Query(query): Query<GuardrailQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    match uploaded_report(&state, multipart, query.guardrails.as_deref()).await {
        Ok((upload, report)) => axum::Json(analysis(&report, &upload)).into_response(),
        Err(response) => response,
    }
}

/// The `/api/analyze` object of an evaluated upload.
fn analysis(report: &Report, upload: &Upload) -> Value {
    let multi = upload.multi_arm();
    json!({
        "status": "success",
        "is_multivariant": multi,
        "variant_count": report.metrics.first().map_or(0, |m| m.variants.len()),
        "primary_result": if multi {
            multi_primary(report, upload)
        } else {
            two_arm_primary(report, upload)
        },
        "guardrail_results": guardrail_results(report, upload, multi),
    })
}

fn arm_stats(metric: &MetricReport, index: usize, upload: &Upload) -> Value {
    let v = &metric.variants[index];
    json!({
        "users": v.units,
        "conversions": upload.count(&v.name, &metric.column),
        "rate": num(v.value),
    })
}

fn two_arm_primary(report: &Report, upload: &Upload) -> Value {
    let Some(metric) = primary(report) else {
        return Value::Null;
    };
    let c = &metric.comparisons[0];
    json!({
        "control": arm_stats(metric, 0, upload),
        "treatment": arm_stats(metric, 1, upload),
        "absolute_lift": num(c.abs_lift),
        "relative_lift": num(c.rel_lift),
        "ci_95": [num(c.ci_low), num(c.ci_high)],
        "p_value": p(c.p_value),
        "is_significant": c.p_value.is_some_and(|p| p < report.settings.alpha),
    })
}

fn correction_name(correction: Correction) -> &'static str {
    match correction {
        Correction::None => "none",
        Correction::Bonferroni => "bonferroni",
        Correction::Holm => "holm",
        Correction::Bh => "fdr_bh",
    }
}

fn adjustment(correction: Correction) -> crate::stats::multiple::Adjustment {
    use crate::stats::multiple::Adjustment;
    match correction {
        Correction::None => Adjustment::None,
        Correction::Bonferroni => Adjustment::Bonferroni,
        Correction::Holm => Adjustment::Holm,
        Correction::Bh => Adjustment::Bh,
    }
}

/// Pearson χ² test of equal rates over the k × 2 table (no continuity
/// correction): `Σ (O − E)²/E`, df = k − 1. `None` when a margin is empty.
fn omnibus(arms: &[(u64, u64)]) -> Option<(f64, u64, f64)> {
    let n: f64 = arms.iter().map(|a| a.0 as f64).sum();
    let x: f64 = arms.iter().map(|a| a.1 as f64).sum();
    if n <= 0.0 || x <= 0.0 || x >= n || arms.len() < 2 {
        return None;
    }
    let rate = x / n;
    let chi2: f64 = arms
        .iter()
        .map(|&(units, conv)| {
            let (units, conv) = (units as f64, conv as f64);
            let (e1, e0) = (units * rate, units * (1.0 - rate));
            (conv - e1).powi(2) / e1 + ((units - conv) - e0).powi(2) / e0
        })
        .sum();
    let df = arms.len() as u64 - 1;
    Some((chi2, df, chi2_sf(chi2, df as f64)))
}

fn multi_primary(report: &Report, upload: &Upload) -> Value {
    let Some(metric) = primary(report) else {
        return Value::Null;
    };
    let alpha = report.settings.alpha;
    let counts: Vec<(u64, u64)> = metric
        .variants
        .iter()
        .map(|v| (v.units, upload.count(&v.name, &metric.column).unwrap_or(0)))
        .collect();
    let overall = match omnibus(&counts) {
        Some((chi2, dof, p_value)) => json!({
            "chi2_stat": chi2, "p_value": p_value, "dof": dof, "is_significant": p_value < alpha,
        }),
        None => {
            json!({ "error": "no variation: every arm has the same 0 or 100 % rate", "p_value": 1.0, "is_significant": false })
        }
    };
    let mut variants = Map::new();
    for (i, c) in metric.comparisons.iter().enumerate() {
        let mut entry = arm_stats(metric, i + 1, upload);
        let fields = [
            ("absolute_lift", num(c.abs_lift)),
            ("relative_lift", num(c.rel_lift)),
            ("ci_95", json!([num(c.ci_low), num(c.ci_high)])),
            ("p_value", p(c.p_value)),
            (
                "is_significant",
                Value::from(c.p_value.is_some_and(|p| p < alpha)),
            ),
            ("p_value_corrected", p(c.p_adjusted)),
            ("is_significant_corrected", Value::from(c.significant)),
        ];
        if let Value::Object(map) = &mut entry {
            for (key, value) in fields {
                map.insert(key.to_string(), value);
            }
        }
        variants.insert(c.variant.clone(), entry);
    }
    let best = (report.decision.verdict == Verdict::Launch)
        .then(|| report.decision.arm.clone())
        .flatten();
    json!({
        "overall": overall,
        "variants": variants,
        "all_pairs": all_pairs(report, upload, metric),
        "correction_method": correction_name(report.settings.correction),
        "control_stats": arm_stats(metric, 0, upload),
        "is_multivariant": true,
        "best_variant": best,
    })
}

/// Every pair of arms in row order, `variant_b − variant_a`, with the
/// spec's rate test (`compare_rates_with`, the function the evaluation
/// uses for each treatment against the control) and the configured
/// correction over the pairs. A pair costs a few microseconds: nothing else
/// of an evaluation (credible intervals, the policy) is computed for it.
fn all_pairs(report: &Report, upload: &Upload, metric: &MetricReport) -> Value {
    let names: Vec<&str> = upload
        .labels
        .iter()
        .map(String::as_str)
        .filter(|l| metric.variants.iter().any(|v| v.name == *l))
        .collect();
    let units = |name: &str| {
        metric
            .variants
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.units)
    };
    let method = report.settings.rate_test.method();
    let alpha = report.settings.alpha;
    let mut pairs = Vec::new();
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            let (Some(units_a), Some(units_b)) = (units(a), units(b)) else {
                continue;
            };
            let x_a = upload.count(a, &metric.column).unwrap_or(0);
            let x_b = upload.count(b, &metric.column).unwrap_or(0);
            let result = crate::stats::proportion::compare_rates_with(
                units_a, x_a, units_b, x_b, alpha, method,
            );
            pairs.push((a.to_string(), b.to_string(), result));
        }
    }
    let raw: Vec<f64> = pairs
        .iter()
        .map(|(_, _, c)| c.as_ref().map_or(1.0, |c| c.p_value))
        .collect();
    let adjusted = crate::stats::multiple::adjust(&raw, adjustment(report.settings.correction));
    Value::Array(
        pairs
            .iter()
            .zip(raw.iter().zip(&adjusted))
            .map(|((a, b, c), (p_raw, p_adj))| {
                json!({
                    "variant_a": a,
                    "variant_b": b,
                    "absolute_lift": num(c.as_ref().map(|c| c.abs_lift)),
                    "p_value": p_raw,
                    "p_value_corrected": p_adj,
                    "is_significant_corrected": *p_adj < alpha,
                })
            })
            .collect(),
    )
}

fn guardrail_entry(report: &Report, metric: &MetricReport, arm: usize, upload: &Upload) -> Value {
    let c = &metric.comparisons[arm];
    let control = &metric.variants[0];
    let treatment = &metric.variants[arm + 1];
    json!({
        "name": metric.column,
        "control_count": upload.count(&control.name, &metric.column),
        "treatment_count": upload.count(&treatment.name, &metric.column),
        "control_rate": num(control.value),
        "treatment_rate": num(treatment.value),
        "delta": num(c.abs_lift),
        "relative_lift": num(c.rel_lift),
        "worsened": c.worsened.unwrap_or(false),
        "severe": c.severe.unwrap_or(false),
        "p_value": p(c.p_value),
        "is_significant": c.p_value.is_some_and(|p| p < report.settings.alpha),
    })
}

fn guardrail_results(report: &Report, upload: &Upload, multi: bool) -> Value {
    let guardrails: Vec<&MetricReport> = report
        .metrics
        .iter()
        .filter(|m| m.role == Role::Guardrail)
        .collect();
    let missing = |variant: Option<&str>| -> Vec<Value> {
        upload
            .missing_guardrails
            .iter()
            .map(|name| {
                let mut entry =
                    json!({ "name": name, "error": format!("column `{name}` is not in the CSV") });
                if let (Some(v), Value::Object(map)) = (variant, &mut entry) {
                    map.insert("variant".into(), Value::from(v));
                }
                entry
            })
            .collect()
    };
    if !multi {
        let mut list: Vec<Value> = guardrails
            .iter()
            .map(|m| guardrail_entry(report, m, 0, upload))
            .collect();
        list.extend(missing(None));
        return Value::Array(list);
    }
    let arms: Vec<String> = primary(report)
        .map(|m| m.comparisons.iter().map(|c| c.variant.clone()).collect())
        .unwrap_or_default();
    let mut by_variant = Map::new();
    for (arm, name) in arms.iter().enumerate() {
        let mut entries: Vec<Value> = guardrails
            .iter()
            .map(|m| {
                let mut entry = guardrail_entry(report, m, arm, upload);
                if let Value::Object(map) = &mut entry {
                    map.insert("variant".into(), Value::from(name.clone()));
                }
                entry
            })
            .collect();
        entries.extend(missing(Some(name)));
        by_variant.insert(name.clone(), Value::Array(entries));
    }
    let summary: Vec<Value> = guardrails
        .iter()
        .map(|m| {
            let worst = m.comparisons.iter().max_by(|a, b| {
                a.abs_lift
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&b.abs_lift.unwrap_or(f64::NEG_INFINITY))
            });
            json!({
                "name": m.column,
                "worst_variant": worst.map(|c| c.variant.clone()),
                "worst_delta": num(worst.and_then(|c| c.abs_lift)),
                "severe": m.comparisons.iter().any(|c| c.severe == Some(true)),
                "worsened": m.comparisons.iter().any(|c| c.worsened == Some(true)),
            })
        })
        .collect();
    let any = |field: &str| summary.iter().any(|s| s[field] == true);
    json!({
        "by_variant": by_variant,
        "any_severe": any("severe"),
        "any_worsened": any("worsened"),
        "summary": summary,
    })
}

// ------------------------------------------------------------------ continuous

/// `POST /api/continuous-metrics`.
async fn continuous_metrics(
    State(state): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let (upload, report) = match uploaded_report(&state, multipart, None).await {
        Ok(uploaded) => uploaded,
        Err(response) => return response,
    };
    let multi = upload.multi_arm();
    let alpha = report.settings.alpha;
    let mut results = Vec::new();
    for metric in report.metrics.iter().filter(|m| m.kind == "mean") {
        for (arm, c) in metric.comparisons.iter().enumerate() {
            let mut entry = json!({
                "metric_name": metric.column,
                "is_valid": true,
                "control_mean": num(metric.variants[0].value),
                "treatment_mean": num(metric.variants[arm + 1].value),
                "absolute_lift": num(c.abs_lift),
                "relative_lift": num(c.rel_lift),
                "p_value": p(c.p_value),
                "ci_95": [num(c.ci_low), num(c.ci_high)],
                "is_significant": c.p_value.is_some_and(|p| p < alpha),
            });
            if multi && let Value::Object(map) = &mut entry {
                map.insert("variant".into(), Value::from(c.variant.clone()));
            }
            results.push(entry);
        }
    }
    axum::Json(json!({
        "status": "success",
        "is_multivariant": multi,
        "continuous_results": results,
    }))
    .into_response()
}

// ------------------------------------------------------------------ bayesian

/// `POST /api/bayesian-analysis`.
async fn bayesian_analysis(
    State(state): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let (upload, report) = match uploaded_report(&state, multipart, None).await {
        Ok(uploaded) => uploaded,
        Err(response) => return response,
    };
    let multi_arm = upload.multi_arm();
    // The probability of being best integrates every arm's posterior at
    // 4,001 points (3 arms: about 5 ms; 32 arms: 70 ms), so it runs off
    // the threads that serve other requests.
    let insights = if multi_arm {
        match api::off_the_workers(move || bayesian_insights(&report, &upload)).await {
            Ok(insights) => insights,
            Err(failed) => {
                return detail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    messages(&failed).join("\n"),
                );
            }
        }
    } else {
        bayesian_insights(&report, &upload)
    };
    axum::Json(json!({
        "status": "success",
        "is_multivariant": multi_arm,
        "bayesian_insights": insights,
    }))
    .into_response()
}

fn posterior(report: &Report, metric: &MetricReport, index: usize, upload: &Upload) -> Value {
    let [a, b] = report.settings.prior;
    let v = &metric.variants[index];
    let x = upload.count(&v.name, &metric.column).unwrap_or(0) as f64;
    json!({ "alpha": a + x, "beta": b + v.units as f64 - x })
}

fn bayesian_insights(report: &Report, upload: &Upload) -> Value {
    let Some(metric) = primary(report).filter(|m| m.kind == "rate") else {
        return json!({ "conversion": null, "continuous": {} });
    };
    let means: Vec<&MetricReport> = report.metrics.iter().filter(|m| m.kind == "mean").collect();
    let continuous_of = |arm: usize| -> Map<String, Value> {
        means
            .iter()
            .map(|m| {
                let c = &m.comparisons[arm];
                (
                    m.column.clone(),
                    json!({
                        "prob_treatment_beats_control": num(c.prob_better),
                        "expected_loss": num(c.expected_loss),
                    }),
                )
            })
            .collect()
    };
    if !upload.multi_arm() {
        let c = &metric.comparisons[0];
        return json!({
            "conversion": {
                "prob_treatment_beats_control": num(c.prob_better),
                "expected_loss": num(c.expected_loss),
                "control_posterior": posterior(report, metric, 0, upload),
                "treatment_posterior": posterior(report, metric, 1, upload),
            },
            "continuous": continuous_of(0),
        });
    }
    let mut vs_control = Map::new();
    let mut by_variant = Map::new();
    for (arm, c) in metric.comparisons.iter().enumerate() {
        vs_control.insert(
            c.variant.clone(),
            json!({
                "prob_beats_control": num(c.prob_better),
                "expected_loss": num(c.expected_loss),
                "posterior": posterior(report, metric, arm + 1, upload),
            }),
        );
        by_variant.insert(c.variant.clone(), Value::Object(continuous_of(arm)));
    }
    let shapes: Vec<(f64, f64)> = (0..metric.variants.len())
        .map(|i| {
            let post = posterior(report, metric, i, upload);
            (
                post["alpha"].as_f64().unwrap_or(1.0),
                post["beta"].as_f64().unwrap_or(1.0),
            )
        })
        .collect();
    let best = prob_being_best(&shapes);
    let prob_being_best: Map<String, Value> = metric
        .variants
        .iter()
        .zip(best)
        .map(|(v, p)| (v.name.clone(), Value::from(p)))
        .collect();
    json!({
        "conversion": {
            "vs_control": vs_control,
            "prob_being_best": prob_being_best,
            "control_posterior": posterior(report, metric, 0, upload),
        },
        "continuous": { "by_variant": by_variant },
    })
}

/// P(arm i has the highest rate) for independent Beta(α_i, β_i) posteriors:
/// `∫ f_i(x) Π_{j≠i} F_j(x) dx` by composite Simpson's rule on 4,000
/// intervals spanning every posterior's mean ± 12 sd (outside it each
/// density is below 1e-30), with the regularised incomplete beta for `F_j`;
/// the results are normalised to sum to 1 (the integration error is below
/// 1e-9 for the sample sizes of A/B tests).
pub fn prob_being_best(shapes: &[(f64, f64)]) -> Vec<f64> {
    let stats: Vec<(f64, f64)> = shapes
        .iter()
        .map(|&(a, b)| {
            let mean = a / (a + b);
            let var = a * b / ((a + b).powi(2) * (a + b + 1.0));
            (mean, var.sqrt())
        })
        .collect();
    let lo = stats
        .iter()
        .map(|(m, s)| m - 12.0 * s)
        .fold(1.0, f64::min)
        .max(0.0);
    let hi = stats
        .iter()
        .map(|(m, s)| m + 12.0 * s)
        .fold(0.0, f64::max)
        .min(1.0);
    let intervals = 4000;
    let h = (hi - lo) / f64::from(intervals);
    let mut totals = vec![0.0; shapes.len()];
    if h.is_nan() || h <= 0.0 {
        return vec![1.0 / shapes.len() as f64; shapes.len()];
    }
    for k in 0..=intervals {
        let x = lo + h * f64::from(k);
        if x <= 0.0 || x >= 1.0 {
            continue;
        }
        let weight = if k == 0 || k == intervals {
            1.0
        } else if k % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let cdf: Vec<f64> = shapes
            .iter()
            .map(|&(a, b)| beta_inc(a, b, x, 1.0 - x).0)
            .collect();
        for (i, &(a, b)) in shapes.iter().enumerate() {
            let log_pdf = (a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - ln_beta(a, b);
            let others: f64 = cdf
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, f)| f)
                .product();
            totals[i] += weight * log_pdf.exp() * others;
        }
    }
    let sum: f64 = totals.iter().sum();
    if sum > 0.0 {
        totals.iter().map(|t| t / sum).collect()
    } else {
        vec![1.0 / shapes.len() as f64; shapes.len()]
    }
}

// ------------------------------------------------------------------ memo

#[derive(Debug, Deserialize)]
struct MemoRequest {
    experiment_name: Option<String>,
    health_result: Option<Value>,
    primary_result: Option<Value>,
    guardrail_results: Option<Value>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "accepted for compatibility with the old API's requests, never read"
    )]
    bayesian_insights: Option<Value>,
}

fn count_of(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

/// The columns of the arms in the memo's CSV, which no guardrail may take.
const ARM_COLUMNS: [&str; 3] = ["variant", "users", "conversions"];

/// One guardrail entry echoed back: its name and the two counts.
struct EchoedGuardrail {
    name: String,
    control: u64,
    treatment: u64,
}

/// Reads the guardrail entry at `at` (`guardrail_results[0]`): a `name`
/// string and `control_count` / `treatment_count` as JSON integers ≥ 0, the
/// type `compat-api.md` gives them. `Ok(None)` for the entry analyze writes
/// for a `?guardrails=` column the file lacks (it has an `error` and no
/// counts). Anything else is refused, naming the entry and the field: a
/// guardrail is never dropped from the decision.
fn echoed_guardrail(entry: &Value, at: &str) -> Result<Option<EchoedGuardrail>, String> {
    let Some(fields) = entry.as_object() else {
        return Err(format!(
            "{at}: a guardrail must be an object with `name`, `control_count` and `treatment_count`, not `{}`",
            shown_json(entry)
        ));
    };
    let name = match fields.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        Some(other) => {
            return Err(format!(
                "{at}: the guardrail's `name` must be a column name, not `{}`",
                shown_json(other)
            ));
        }
        None => return Err(format!("{at}: the guardrail has no `name`")),
    };
    if fields.contains_key("error")
        && !fields.contains_key("control_count")
        && !fields.contains_key("treatment_count")
    {
        return Ok(None);
    }
    if ARM_COLUMNS.contains(&name.as_str()) {
        return Err(format!(
            "{at}: guardrail `{name}` takes the name of an arm column (`variant`, `users`, `conversions`)"
        ));
    }
    let count = |key: &str| -> Result<u64, String> {
        match fields.get(key) {
            None => Err(format!(
                "{at}: guardrail `{name}` has no `{key}`: xos decides again from each guardrail's \
                 `control_count` and `treatment_count`"
            )),
            Some(value) => value.as_u64().ok_or_else(|| {
                format!(
                    "{at}: guardrail `{name}`: `{key}` must be a whole number of events written as a \
                     JSON integer (such as 120), not `{}`",
                    shown_json(value)
                )
            }),
        }
    };
    Ok(Some(EchoedGuardrail {
        control: count("control_count")?,
        treatment: count("treatment_count")?,
        name,
    }))
}

/// A JSON value as it was sent, cut to 60 characters for a message.
fn shown_json(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// The aggregated CSV the echoed objects describe — users and conversions
/// per arm, and each guardrail's counts — with the guardrails' names.
/// Echoed booleans and verdicts are never read (A2): xos decides again from
/// the counts. Every guardrail sent is in the CSV, or the request is refused
/// with a message naming it: a two-arm `primary_result` takes a list of
/// guardrails, a multi-arm one `{"by_variant": {arm: [...]}}` with every
/// guardrail under every treatment arm and one `control_count` per
/// guardrail.
fn memo_csv(primary: &Value, guardrails: &Value) -> Result<(String, Vec<String>), String> {
    let mut arms: Vec<(String, u64, u64)> = Vec::new();
    let arm = |name: &str, stats: &Value| -> Result<(String, u64, u64), String> {
        match (count_of(stats, "users"), count_of(stats, "conversions")) {
            (Some(users), Some(conversions)) => Ok((name.to_string(), users, conversions)),
            _ => Err(format!(
                "primary_result: `{name}` needs integer `users` and `conversions`"
            )),
        }
    };
    let multi = primary.get("is_multivariant") == Some(&Value::Bool(true));
    if multi {
        arms.push(arm(
            "control",
            primary.get("control_stats").unwrap_or(&Value::Null),
        )?);
        let variants = primary
            .get("variants")
            .and_then(Value::as_object)
            .ok_or("primary_result: `variants` must be an object")?;
        for (name, stats) in variants {
            arms.push(arm(name, stats)?);
        }
    } else {
        arms.push(arm(
            "control",
            primary.get("control").unwrap_or(&Value::Null),
        )?);
        arms.push(arm(
            "treatment",
            primary.get("treatment").unwrap_or(&Value::Null),
        )?);
    }
    // Each guardrail's count per arm label, in the order first sent.
    let mut names: Vec<String> = Vec::new();
    let mut counts: HashMap<(String, String), u64> = HashMap::new();
    let mut take = |entry: &Value, variant: &str, at: &str| -> Result<(), String> {
        let Some(g) = echoed_guardrail(entry, at)? else {
            return Ok(());
        };
        if !names.contains(&g.name) {
            names.push(g.name.clone());
        }
        if counts
            .insert((g.name.clone(), variant.to_string()), g.treatment)
            .is_some()
        {
            return Err(format!(
                "{at}: guardrail `{}` is listed twice for `{variant}`",
                g.name
            ));
        }
        let control = (g.name.clone(), "control".to_string());
        match counts.get(&control) {
            Some(&earlier) if earlier != g.control => Err(format!(
                "{at}: guardrail `{}` has `control_count` {} here and {earlier} under another arm: \
                 the control has one count",
                g.name, g.control
            )),
            _ => {
                counts.insert(control, g.control);
                Ok(())
            }
        }
    };
    match (guardrails, multi) {
        (Value::Array(list), false) => {
            for (i, entry) in list.iter().enumerate() {
                take(entry, "treatment", &format!("guardrail_results[{i}]"))?;
            }
        }
        (Value::Object(map), true) => {
            let by_variant = map.get("by_variant").and_then(Value::as_object).ok_or(
                "guardrail_results: a multi-arm result needs `by_variant`, an object of lists by arm",
            )?;
            for (variant, list) in by_variant {
                if !arms.iter().skip(1).any(|(label, _, _)| label == variant) {
                    return Err(format!(
                        "guardrail_results.by_variant: `{variant}` is not an arm of primary_result"
                    ));
                }
                let list = list.as_array().ok_or_else(|| {
                    format!("guardrail_results.by_variant.{variant} must be a list of guardrails")
                })?;
                for (i, entry) in list.iter().enumerate() {
                    take(
                        entry,
                        variant,
                        &format!("guardrail_results.by_variant.{variant}[{i}]"),
                    )?;
                }
            }
        }
        (Value::Array(_), true) => {
            return Err(
                "guardrail_results: a multi-arm primary_result takes `{\"by_variant\": …}`, not a list"
                    .into(),
            );
        }
        (Value::Object(_), false) => {
            return Err(
                "guardrail_results: a two-arm primary_result takes a list of guardrails, not an object"
                    .into(),
            );
        }
        _ => return Err("guardrail_results must be a list or an object".into()),
    }
    for name in &names {
        if let Some((label, _, _)) = arms
            .iter()
            .find(|(label, _, _)| !counts.contains_key(&(name.clone(), label.clone())))
        {
            return Err(format!(
                "guardrail_results: guardrail `{name}` has no entry for the arm `{label}`"
            ));
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ARM_COLUMNS.iter().map(ToString::to_string).collect();
    header.extend(names.iter().cloned());
    writer.write_record(&header).map_err(|e| e.to_string())?;
    for (label, users, conversions) in &arms {
        let mut row = vec![label.clone(), users.to_string(), conversions.to_string()];
        for name in &names {
            row.push(counts[&(name.clone(), label.clone())].to_string());
        }
        writer.write_record(&row).map_err(|e| e.to_string())?;
    }
    let csv = String::from_utf8(writer.into_inner().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    Ok((csv, names))
}

/// The memo's HTML with its `<style>` moved into `<body>` (the old front end
/// shows only the body).
fn styled_body_html(html: &str) -> String {
    let (style, _) = super::pages::memo_parts(html);
    let without: String = match (html.find("<style"), html.find("</style>")) {
        (Some(start), Some(end)) => {
            format!("{}{}", &html[..start], &html[end + "</style>".len()..])
        }
        _ => html.to_string(),
    };
    match without.find("<body>") {
        Some(at) => format!(
            "{}<body>\n<style>{style}</style>{}",
            &without[..at],
            &without[at + "<body>".len()..]
        ),
        None => without,
    }
}

/// `POST /api/decision-memo`.
async fn decision_memo(
    State(state): State<Arc<AppState>>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let request: MemoRequest = match json_request(&state, body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let (Some(name), Some(_health), Some(primary_result), Some(guardrails)) = (
        request.experiment_name,
        request.health_result,
        request.primary_result,
        request.guardrail_results,
    ) else {
        return detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Field required: experiment_name, health_result, primary_result and guardrail_results",
        );
    };
    let (csv, guardrail_names) = match memo_csv(&primary_result, &guardrails) {
        Ok(csv) => csv,
        Err(why) => return detail(StatusCode::BAD_REQUEST, why),
    };
    let file_name = format!("{}.csv", super::infer::experiment_name(&name));
    // The guardrails sent are the guardrails: none is left to inference,
    // which would ignore a column whose counts exceed the users.
    let options = InferOptions {
        guardrails: Some(guardrail_names),
        ..InferOptions::default()
    };
    let inferred = match infer(&csv, &file_name, &options) {
        Ok(inferred) => inferred,
        Err(no_spec) => return detail(StatusCode::BAD_REQUEST, no_spec.0),
    };
    let mut spec = inferred.text;
    let title = name.replace(['"', '\\', '\n'], " ");
    spec = spec.replacen("{\n", &format!("{{\n    title \"{title}\"\n"), 1);
    let report = match api::evaluate_upload(&state, spec, csv.into_bytes(), file_name).await {
        Ok(uploaded) => uploaded.report,
        Err(diagnostics) => return bad_data(&messages(&diagnostics)),
    };
    let (md, html) = match (
        render(&report, Format::Md, None),
        render(&report, Format::Html, None),
    ) {
        (Ok(md), Ok(html)) => (md, html),
        (Err(e), _) | (_, Err(e)) => {
            return detail(StatusCode::INTERNAL_SERVER_ERROR, e.message);
        }
    };
    let word = match report.decision.verdict {
        Verdict::Launch => "Launch",
        Verdict::Hold => "Hold",
        Verdict::Rollback => "Rollback",
    };
    let mut details: Vec<String> = Vec::new();
    if let Some(metric) = primary(&report) {
        for c in &metric.comparisons {
            details.push(format!(
                "{}: absolute lift {}, {} CI [{}, {}], p = {}",
                c.variant,
                c.abs_lift.map_or("n/a".into(), crate::numbers::number),
                crate::numbers::percent(1.0 - report.settings.alpha),
                c.ci_low.map_or("n/a".into(), crate::numbers::number),
                c.ci_high.map_or("n/a".into(), crate::numbers::number),
                c.p_value.map_or("n/a".into(), crate::numbers::p_value),
            ));
        }
    }
    details.push(format!(
        "rule `{}` of policy `{}`",
        report.decision.rule, report.policy.name
    ));
    let mut decision = json!({
        "decision": word,
        "reason": report.decision.reason,
        "details": details,
    });
    if primary_result.get("is_multivariant") == Some(&Value::Bool(true))
        && let Value::Object(map) = &mut decision
    {
        let best = (report.decision.verdict == Verdict::Launch)
            .then(|| report.decision.arm.clone())
            .flatten();
        map.insert("best_variant".into(), json!(best));
    }
    axum::Json(json!({
        "status": "success",
        "decision": decision,
        "memo_markdown": md,
        "memo_html": styled_body_html(&html),
    }))
    .into_response()
}

// ------------------------------------------------------------------ sequential

fn spending(name: &str) -> Result<Spending, Response> {
    match name {
        "obrien_fleming" => Ok(Spending::OBrienFleming),
        "pocock" => Ok(Spending::Pocock),
        other => Err(detail(
            StatusCode::BAD_REQUEST,
            format!("Unknown boundary type: {other} (expected obrien_fleming or pocock)"),
        )),
    }
}

/// The boundary table at the given fractions.
fn boundary_rows(alpha: f64, spend: Spending, fractions: &[f64]) -> Result<Vec<Value>, Response> {
    let b = boundaries(alpha, spend, fractions).ok_or_else(|| {
        detail(
            StatusCode::BAD_REQUEST,
            "No boundaries at these information fractions: they must increase within (0, 1], and α lie in (0, 1)",
        )
    })?;
    let mut previous = 0.0;
    Ok(fractions
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            let cumulative = b.cumulative_alpha[k];
            let row = json!({
                "look": k + 1,
                "info_fraction": t,
                "z_boundary": b.z_bounds[k],
                "alpha_spent": cumulative - previous,
                "cumulative_alpha": cumulative,
                "p_boundary": 2.0 * normal_sf(b.z_bounds[k]),
            });
            previous = cumulative;
            row
        })
        .collect())
}

#[derive(Debug, Deserialize)]
struct SequentialRequest {
    control_users: i64,
    control_conversions: i64,
    treatment_users: i64,
    treatment_conversions: i64,
    target_sample_size: i64,
    current_look: i64,
    #[serde(default = "five")]
    max_looks: i64,
    #[serde(default = "alpha_default")]
    alpha: f64,
    #[serde(default = "obf")]
    boundary_type: String,
    previous_looks: Option<Vec<PreviousLook>>,
}

#[derive(Debug, Deserialize)]
struct PreviousLook {
    look: i64,
    z_stat: Option<f64>,
    info_fraction: Option<f64>,
}

fn five() -> i64 {
    5
}
fn alpha_default() -> f64 {
    0.05
}
fn obf() -> String {
    "obrien_fleming".into()
}

/// `POST /api/sequential-analysis`: Lan–DeMets boundaries by exact recursive
/// integration on the observed information fractions (earlier looks from
/// `previous_looks`, else k/K below the current one; later looks spaced
/// evenly up to 1), the unpooled Wald z of the rates, and the decision.
async fn sequential_analysis(
    State(state): State<Arc<AppState>>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let r: SequentialRequest = match json_request(&state, body) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let spend = match spending(&r.boundary_type) {
        Ok(s) => s,
        Err(response) => return response,
    };
    if r.max_looks < 1 || r.max_looks > 50 {
        return detail(
            StatusCode::BAD_REQUEST,
            format!("max_looks must be in [1, 50], got {}", r.max_looks),
        );
    }
    let k_max = r.max_looks as usize;
    if r.current_look < 1 || r.current_look > r.max_looks {
        return detail(
            StatusCode::BAD_REQUEST,
            format!(
                "current_look must be in [1, {}], got {}",
                r.max_looks, r.current_look
            ),
        );
    }
    let current = r.current_look as usize;
    let counts = [
        r.control_users,
        r.control_conversions,
        r.treatment_users,
        r.treatment_conversions,
    ];
    if counts.iter().any(|&c| c < 0)
        || r.control_conversions > r.control_users
        || r.treatment_conversions > r.treatment_users
    {
        return detail(
            StatusCode::BAD_REQUEST,
            "Counts must be non-negative and conversions at most users",
        );
    }
    if r.control_users == 0 || r.treatment_users == 0 {
        return detail(StatusCode::BAD_REQUEST, "Each arm needs at least one user");
    }
    if r.target_sample_size < 1 {
        return detail(
            StatusCode::BAD_REQUEST,
            "target_sample_size must be at least 1",
        );
    }
    let current_sample = (r.control_users + r.treatment_users) as u64;
    let t_now = (current_sample as f64 / r.target_sample_size as f64).min(1.0);
    // Information fractions: observed before, now, planned after.
    let mut fractions: Vec<f64> = Vec::with_capacity(k_max);
    for k in 1..current {
        let given = r
            .previous_looks
            .iter()
            .flatten()
            .find(|p| p.look == k as i64)
            .and_then(|p| p.info_fraction);
        fractions.push(given.unwrap_or(k as f64 / k_max as f64));
    }
    fractions.push(t_now);
    for k in current + 1..=k_max {
        fractions.push(t_now + (1.0 - t_now) * (k - current) as f64 / (k_max - current) as f64);
    }
    if fractions.windows(2).any(|w| w[1] <= w[0]) || fractions[0] <= 0.0 {
        return detail(
            StatusCode::BAD_REQUEST,
            format!(
                "The information fractions {fractions:?} do not increase: look {current} has {current_sample} of {} planned units",
                r.target_sample_size
            ),
        );
    }
    let rows = match boundary_rows(r.alpha, spend, &fractions) {
        Ok(rows) => rows,
        Err(response) => return response,
    };
    let (nc, xc, nt, xt) = (
        r.control_users as u64,
        r.control_conversions as u64,
        r.treatment_users as u64,
        r.treatment_conversions as u64,
    );
    let Some(cmp) = crate::stats::proportion::compare_rates(nc, xc, nt, xt, r.alpha) else {
        return detail(StatusCode::BAD_REQUEST, "alpha must be between 0 and 1");
    };
    let z = cmp.z.unwrap_or(0.0);
    let bound = rows[current - 1]["z_boundary"]
        .as_f64()
        .unwrap_or(f64::INFINITY);
    let crossed_before = r.previous_looks.iter().flatten().any(|p| {
        let b = (p.look >= 1 && (p.look as usize) < current)
            .then(|| rows[p.look as usize - 1]["z_boundary"].as_f64())
            .flatten();
        matches!((p.z_stat, b), (Some(z), Some(b)) if z.abs() >= b)
    });
    let decision = if crossed_before || z.abs() >= bound {
        "reject_null"
    } else if current == k_max || t_now >= 1.0 {
        "fail_to_reject"
    } else {
        "continue"
    };
    let message = match decision {
        "reject_null" => format!(
            "Look {current}/{k_max}: |z| = {:.3} ≥ boundary {bound:.3}: stop, the difference is significant.",
            z.abs()
        ),
        "fail_to_reject" => format!(
            "Look {current}/{k_max}: |z| = {:.3} < boundary {bound:.3} at the final look: stop, no significant difference.",
            z.abs()
        ),
        _ => format!(
            "Look {current}/{k_max}: |z| = {:.3} < boundary {bound:.3}: continue to the next look.",
            z.abs()
        ),
    };
    axum::Json(json!({
        "status": "success",
        "sequential_result": {
            "can_stop": decision != "continue",
            "decision": decision,
            "z_stat": z,
            "z_boundary": bound,
            "alpha_spent_this_look": rows[current - 1]["alpha_spent"],
            "cumulative_alpha_spent": rows[current - 1]["cumulative_alpha"],
            "info_fraction": t_now,
            "current_look": current,
            "max_looks": k_max,
            "message": message,
        },
        "primary_result": {
            "control_rate": cmp.p_c,
            "treatment_rate": cmp.p_t,
            "absolute_lift": cmp.abs_lift,
            "relative_lift": num(cmp.rel_lift),
            "z_stat": z,
            "p_value": cmp.p_value,
            "is_significant": decision == "reject_null",
        },
        "boundaries": rows,
        "progress": {
            "current_sample": current_sample,
            "target_sample": r.target_sample_size,
            "info_fraction": t_now,
            "percentage": (t_now * 1000.0).round() / 10.0,
        },
    }))
    .into_response()
}

/// The query of `GET /api/sequential-boundaries`: `max_looks` (1 to 50, default 5), `alpha`
/// (default 0.05) and `boundary_type` (`obrien_fleming` by default, or `pocock`).
#[derive(Debug, Deserialize)]
pub struct BoundaryQuery {
    max_looks: Option<i64>,
    alpha: Option<f64>,
    boundary_type: Option<String>,
}

/// `GET /api/sequential-boundaries`: the table at fractions k/K.
async fn sequential_boundaries(
    query: Result<Query<BoundaryQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid query: max_looks must be an integer and alpha a number",
        );
    };
    let k = query.max_looks.unwrap_or(5);
    let alpha = query.alpha.unwrap_or(0.05);
    let kind = query.boundary_type.unwrap_or_else(obf);
    if k < 1 {
        return detail(
            StatusCode::BAD_REQUEST,
            format!("max_looks must be >= 1, got {k}"),
        );
    }
    if k > 50 {
        return detail(
            StatusCode::BAD_REQUEST,
            format!("max_looks must be <= 50, got {k}"),
        );
    }
    let spend = match spending(&kind) {
        Ok(s) => s,
        Err(response) => return response,
    };
    let fractions: Vec<f64> = (1..=k).map(|i| i as f64 / k as f64).collect();
    match boundary_rows(alpha, spend, &fractions) {
        Ok(rows) => axum::Json(json!({
            "boundaries": rows,
            "config": { "max_looks": k, "alpha": alpha, "boundary_type": kind },
        }))
        .into_response(),
        Err(response) => response,
    }
}

// ------------------------------------------------------------------ integrations

const PROVIDERS: [&str; 2] = ["statsig", "growthbook"];

fn integration(provider: &str, headers: &HeaderMap) -> Response {
    if headers
        .get("x-integration-api-key")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim().is_empty())
    {
        return detail(
            StatusCode::UNAUTHORIZED,
            "X-Integration-Api-Key header is required",
        );
    }
    if !PROVIDERS.contains(&provider) {
        return detail(
            StatusCode::NOT_FOUND,
            format!("Provider '{provider}' not found"),
        );
    }
    detail(
        StatusCode::BAD_GATEWAY,
        format!(
            "Integration Error: xos serve makes no outbound call to {provider}; export the experiment's results as CSV and upload them"
        ),
    )
}

/// `GET /api/integrations/{provider}/experiments`.
async fn integration_experiments(Path(provider): Path<String>, headers: HeaderMap) -> Response {
    integration(&provider, &headers)
}

/// `GET /api/integrations/{provider}/experiments/{id}/analyze`.
async fn integration_analyze(
    Path((provider, _id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    integration(&provider, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prob_being_best_of_two_arms_is_the_exact_prob_better() {
        // Two arms: P(t best) = P(t > c), which bayes computes exactly.
        let shapes = [(1201.0, 8801.0), (1321.0, 8731.0)];
        let best = prob_being_best(&shapes);
        let exact = crate::stats::bayes::beta_binomial(1200, 10000, 1320, 10050, (1.0, 1.0))
            .unwrap()
            .prob_t_beats_c;
        assert!((best[1] - exact).abs() < 1e-7, "{} vs {exact}", best[1]);
        assert!((best[0] + best[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn omnibus_chi_square() {
        // 3 × 2 table of the compat 3-arm example: χ² = 44.2, df 2 (scipy
        // chi2_contingency without correction: 44.2151...).
        let (chi2, df, p) = omnibus(&[(10000, 1000), (10000, 1150), (10000, 1300)]).unwrap();
        assert_eq!(df, 2);
        assert!((chi2 - 44.215).abs() < 1e-3, "{chi2}");
        assert!(p < 1e-9);
        assert!(omnibus(&[(10, 0), (10, 0)]).is_none());
    }

    #[test]
    fn memo_html_keeps_its_style_in_the_body() {
        let html = "<html><head><style>p{}</style></head><body>\n<p>x</p></body></html>";
        let out = styled_body_html(html);
        assert!(out.contains("<body>\n<style>p{}</style>"));
        assert!(!out[..out.find("<body>").unwrap()].contains("<style"));
    }
}

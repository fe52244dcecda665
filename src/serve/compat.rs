//! The HTTP API of ExperimentOS, the Python system xos replaces
//! (`docs/api.md`, contract in `compat-api.md`): the same paths, request
//! fields and response keys, with xos's statistics behind them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `{"detail": message}` with `status`: the error shape of the compatible
/// API (`detail` is always a string).
pub fn detail(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "detail": message.into() }))).into_response()
}

/// `GET /` for scripts (no `text/html` in `Accept`): the liveness answer.
pub async fn liveness() -> Response {
    axum::Json(json!({ "message": "ExperimentOS API is running" })).into_response()
}

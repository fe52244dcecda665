//! Server-sent events: `GET /api/v1/events` sends one `evaluated` (or
//! `removed`) event per re-evaluation of a served spec, so pages and scripts
//! follow the folder live.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use super::app::{AppState, Entry};

/// One re-evaluation, as the `data` of an event (JSON).
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// `evaluated`, `failed` or `removed`.
    pub kind: &'static str,
    /// The experiment's name.
    pub experiment: String,
    /// The experiment's key in URLs (`/experiments/{id}`): its name, or its
    /// spec's path when the name is taken by an earlier spec or the spec
    /// never parsed.
    pub id: String,
    /// The spec, relative to the served folder.
    pub spec: String,
    /// The entry's revision: increases by one per evaluation.
    pub revision: u64,
    /// UTC time of the evaluation, RFC 3339.
    pub evaluated_at: String,
    /// The verdict of the last good evaluation (`launch`, `hold`,
    /// `rollback`), `null` if there never was one.
    pub verdict: Option<&'static str>,
    /// The rule that decided in the last good evaluation, `null` if there never was one.
    pub rule: Option<String>,
    /// Errors of this evaluation (0 when it succeeded).
    pub errors: usize,
}

impl Change {
    /// The change of an entry just (re-)evaluated: `evaluated`, or `failed` when the evaluation had
    /// errors.
    pub fn of(entry: &Entry) -> Change {
        let decision = entry.last_good.as_ref().map(|e| &e.report.decision);
        Change {
            kind: if entry.errors.is_some() {
                "failed"
            } else {
                "evaluated"
            },
            experiment: entry.name.clone(),
            id: entry.id.clone(),
            spec: entry.relative.clone(),
            revision: entry.revision,
            evaluated_at: entry.evaluated_at.clone(),
            verdict: decision.map(|d| d.verdict.as_str()),
            rule: decision.map(|d| d.rule.clone()),
            errors: entry.errors.as_ref().map_or(0, |d| d.errors().count()),
        }
    }

    /// The change of an entry whose spec was deleted: `removed`, with its last known numbers.
    pub fn removed(entry: &Entry) -> Change {
        Change {
            kind: "removed",
            ..Change::of(entry)
        }
    }
}

/// `GET /api/v1/events`: `text/event-stream`; the event name is the change's
/// `kind`, its data the [`Change`] as JSON. A comment every 15 s keeps
/// proxies from closing the stream; a client too slow to keep up gets a
/// `lagged` event and should reload.
pub async fn stream(
    State(state): State<Arc<AppState>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = BroadcastStream::new(state.changes.subscribe()).map(|change| {
        Ok(match change {
            Ok(change) => Event::default()
                .event(change.kind)
                .id(change.revision.to_string())
                .data(serde_json::to_string(&*change).unwrap_or_default()),
            Err(_) => Event::default().event("lagged").data("{}"),
        })
    });
    Sse::new(changes).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

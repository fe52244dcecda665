//! The shared state of `xos serve` — every spec's last evaluation — the
//! router, and the layers every request passes: the token, the response
//! headers (Content-Security-Policy), CORS and the upload limit.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::routing::{get, post};
use tokio::sync::broadcast;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;

use super::events::Change;
use super::{ServeEvent, ServeOptions, api, auth, compat, pages, sandbox};
use crate::Outcome;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::output::Format;
use crate::output::render::render;
use crate::output::report::Report;
use crate::watch::{FollowOptions, SpecChange, follow};

/// A spec evaluated without error, with its memos rendered once.
#[derive(Debug)]
pub struct Evaluated {
    /// The report of the evaluation.
    pub report: Report,
    /// `xos run --format json`, byte for byte.
    pub json: String,
    /// The Markdown memo, as `xos run --format md` writes it.
    pub md: String,
    /// The HTML memo, as `xos run --format html` writes it.
    pub html: String,
    /// Warnings of the spec and its policy.
    pub warnings: Diagnostics,
}

/// One spec under the served folder.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The spec's path as the watcher names it (absolute, normalised).
    pub spec: PathBuf,
    /// The spec's path relative to the served folder, `/`-separated.
    pub relative: String,
    /// The experiment's name as the spec declares it (read again from the
    /// spec while its evaluation fails); while the spec has never parsed,
    /// its relative path.
    pub name: String,
    /// Whether `name` is declared by the spec (not the path in its place).
    pub declared: bool,
    /// The key of the experiment in URLs (`/experiments/{id}`, the API, the
    /// events): its name, unless the spec declares none or an earlier spec
    /// (in path order) declares the same name — then its relative path,
    /// which no experiment name can equal (a name has no `.` or `/`). Two
    /// specs never share an id.
    pub id: String,
    /// UTC time of the last evaluation, RFC 3339.
    pub evaluated_at: String,
    /// Increases by one per evaluation.
    pub revision: u64,
    /// The last good evaluation (kept while the inputs are invalid).
    pub last_good: Option<Arc<Evaluated>>,
    /// The errors of the experiment, when it has any: those of its last
    /// evaluation, and `xos::check::duplicate_experiment` when an earlier
    /// spec declares the same name (as `xos check DIR` reports it).
    pub errors: Option<Arc<Diagnostics>>,
    /// The errors of the last evaluation alone.
    pub evaluation_errors: Option<Arc<Diagnostics>>,
    /// The spec (relative path) that declares the same name first in path
    /// order, when one does.
    pub duplicate_of: Option<String>,
}

/// Every served spec, by normalised path.
#[derive(Debug, Default)]
pub struct Store {
    /// The served specs, by their normalised absolute path.
    pub entries: BTreeMap<PathBuf, Entry>,
}

impl Store {
    /// The entry whose URL key is `id` (see [`Entry::id`]).
    pub fn by_id(&self, id: &str) -> Option<&Entry> {
        self.entries.values().find(|e| e.id == id)
    }

    /// Gives every entry its id and its errors again, after an entry was
    /// added, changed or removed: in path order, the first spec of a name
    /// keeps the name as its id; every later one is keyed by its path and
    /// fails with `xos::check::duplicate_experiment`, naming the first.
    /// Returns the entries whose id or duplicate status changed, as they
    /// were before. Diagnostics name files relative to the served folder
    /// `root`.
    fn reassign(&mut self, root: &Path) -> Vec<Entry> {
        let mut first: HashMap<String, String> = HashMap::new();
        let mut changed = Vec::new();
        for entry in self.entries.values_mut() {
            let earlier = if entry.declared {
                match first.get(&entry.name) {
                    Some(earlier) => Some(earlier.clone()),
                    None => {
                        first.insert(entry.name.clone(), entry.relative.clone());
                        None
                    }
                }
            } else {
                None
            };
            let id = match (&earlier, entry.declared) {
                (None, true) => &entry.name,
                _ => &entry.relative,
            };
            // Cloned only when it changes: this runs over every entry at
            // every evaluation.
            if entry.id != *id || entry.duplicate_of != earlier {
                changed.push(entry.clone());
            }
            entry.id = id.clone();
            entry.duplicate_of = earlier.clone();
            match earlier {
                None => {
                    entry.errors = entry.evaluation_errors.clone();
                }
                Some(earlier) => {
                    // The earlier spec is shown by its relative path; this
                    // one is read again to locate its name.
                    let duplicate = crate::check::unique_experiments(&[
                        (entry.name.clone(), PathBuf::from(earlier)),
                        (entry.name.clone(), entry.spec.clone()),
                    ]);
                    let mut errors = entry
                        .evaluation_errors
                        .as_deref()
                        .cloned()
                        .unwrap_or_default();
                    errors.0.extend(duplicate.relative_to(root).0);
                    entry.errors = Some(Arc::new(errors));
                }
            }
        }
        changed
    }
}

/// What every handler sees.
pub struct AppState {
    /// The options `xos serve` was started with.
    pub options: ServeOptions,
    /// The served folder, canonical.
    pub dir: PathBuf,
    /// Every served spec's last evaluation, replaced as the watcher re-evaluates.
    pub store: RwLock<Store>,
    /// One message per re-evaluation, for the server-sent events stream.
    pub changes: broadcast::Sender<Arc<Change>>,
    /// Checked plans of specs received over HTTP, by spec text.
    pub plans: sandbox::PlanCache,
    /// Set when the server shuts down; the watcher thread then ends.
    pub stop: Arc<AtomicBool>,
}

impl AppState {
    /// The entry whose URL key is `id`, cloned out of the lock.
    pub fn entry(&self, id: &str) -> Option<Entry> {
        self.store.read().ok()?.by_id(id).cloned()
    }

    /// Every entry, in path order.
    pub fn entries(&self) -> Vec<Entry> {
        self.store
            .read()
            .map(|store| store.entries.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `path` is a symlink leading out of the served folder, which
    /// is never read (the watcher reports it as `xos::io::walk_outside`).
    pub fn leads_outside(&self, path: &Path) -> bool {
        crate::outside_link(path, &self.dir).is_some()
    }

    /// Records the result of evaluating `spec` and announces it: a
    /// `removed` event first when the experiment's id changed (renamed in
    /// its spec), then its own event, then one for every other entry whose
    /// id or errors changed with it (a duplicate name that appeared or went).
    pub fn record(&self, spec: &Path, result: Result<Outcome, Diagnostics>) {
        let relative = relative_name(&self.dir, spec);
        let evaluated =
            result.and_then(|outcome| rendered(&outcome, &self.dir).map_err(Diagnostics::from));
        // Read before the lock: the name a failing spec still declares
        // (never read through a symlink leading out of the folder).
        let declared_name = match &evaluated {
            Ok(evaluated) => Some(evaluated.report.experiment.clone()),
            Err(_) if self.leads_outside(spec) => None,
            Err(_) => crate::check::declared_name(spec),
        };
        let Ok(mut store) = self.store.write() else {
            return;
        };
        let previous = store.entries.get(spec).cloned();
        let revision = previous.as_ref().map_or(1, |e| e.revision + 1);
        let (name, declared) = match (declared_name, &previous) {
            (Some(name), _) => (name, true),
            (None, Some(previous)) => (previous.name.clone(), previous.declared),
            (None, None) => (relative.clone(), false),
        };
        let (last_good, evaluation_errors) = match evaluated {
            Ok(evaluated) => (Some(Arc::new(evaluated)), None),
            Err(diagnostics) => (
                previous.as_ref().and_then(|e| e.last_good.clone()),
                Some(Arc::new(diagnostics.relative_to(&self.dir))),
            ),
        };
        let entry = Entry {
            spec: spec.to_path_buf(),
            relative,
            id: name.clone(),
            name,
            declared,
            evaluated_at: now_rfc3339(),
            revision,
            last_good,
            errors: evaluation_errors.clone(),
            evaluation_errors,
            duplicate_of: None,
        };
        store.entries.insert(spec.to_path_buf(), entry);
        let others = store.reassign(&self.dir);
        let mut changes = Vec::new();
        if let Some(previous) = &previous
            && store.entries.get(spec).is_some_and(|e| e.id != previous.id)
        {
            changes.push(Change::removed(previous));
        }
        let (removed, current) = announced(&store, others, spec);
        changes.extend(removed);
        if let Some(entry) = store.entries.get(spec) {
            changes.push(Change::of(entry));
        }
        changes.extend(current);
        drop(store);
        for change in changes {
            // No subscriber is not an error.
            let _ = self.changes.send(Arc::new(change));
        }
    }

    /// Forgets a deleted spec and announces it, and every entry whose id or
    /// errors changed with it (the other spec of a name no longer shared).
    pub fn remove(&self, spec: &Path) {
        let Ok(mut store) = self.store.write() else {
            return;
        };
        let Some(entry) = store.entries.remove(spec) else {
            return;
        };
        let others = store.reassign(&self.dir);
        let (removed, current) = announced(&store, others, spec);
        let mut changes = vec![Change::removed(&entry)];
        changes.extend(removed);
        changes.extend(current);
        drop(store);
        for change in changes {
            let _ = self.changes.send(Arc::new(change));
        }
    }
}

/// The events of entries changed by [`Store::reassign`], except `spec`'s
/// own: `removed` under the old id of those whose id changed, and the
/// state of each as it is now.
fn announced(store: &Store, before: Vec<Entry>, spec: &Path) -> (Vec<Change>, Vec<Change>) {
    let mut removed = Vec::new();
    let mut current = Vec::new();
    for before in before.into_iter().filter(|e| e.spec != spec) {
        let Some(now) = store.entries.get(&before.spec) else {
            continue;
        };
        if now.id != before.id {
            removed.push(Change::removed(&before));
        }
        current.push(Change::of(now));
    }
    (removed, current)
}

/// The JSON report and both memos of an outcome; its warnings with paths
/// relative to the served folder `root`.
fn rendered(outcome: &Outcome, root: &Path) -> Result<Evaluated, Diagnostic> {
    let templates = outcome.plan.templates.as_deref();
    Ok(Evaluated {
        json: render(&outcome.report, Format::Json, templates)?,
        md: render(&outcome.report, Format::Md, templates)?,
        html: render(&outcome.report, Format::Html, templates)?,
        report: outcome.report.clone(),
        warnings: outcome.warnings.relative_to(root),
    })
}

/// `spec` relative to `dir`, with `/` separators.
pub fn relative_name(dir: &Path, spec: &Path) -> String {
    let relative = spec.strip_prefix(dir).unwrap_or(spec);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The router with every layer, for the given state.
pub fn router(state: Arc<AppState>) -> Router {
    let app = Router::new()
        .route("/", get(pages::index))
        .route("/experiments/{name}", get(pages::experiment))
        .route("/experiments/{name}/source", get(pages::source))
        .route("/try", get(pages::try_page).post(pages::try_submit))
        .route("/try/spec.xos", post(pages::download_spec))
        .route("/plan", get(pages::plan_page))
        .route("/policies", get(pages::policies))
        .route("/assets/xos.css", get(pages::css))
        .route("/assets/live.js", get(pages::live_js))
        .route("/api/v1/experiments", get(api::experiments))
        .route("/api/v1/experiments/{name}/report", get(api::report))
        .route("/api/v1/experiments/{name}/memo.md", get(api::memo_md))
        .route("/api/v1/experiments/{name}/memo.html", get(api::memo_html))
        .route("/api/v1/run", post(api::run))
        .route("/api/v1/check", post(api::check))
        .route("/api/v1/plan", post(api::plan))
        .route("/api/v1/events", get(super::events::stream));
    let app = if state.options.compat {
        compat::routes(app)
    } else {
        app
    };
    let app = app
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed);
    let mut app = app
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::guard,
        ))
        .layer(DefaultBodyLimit::max(state.options.max_upload))
        .layer(RequestBodyTimeoutLayer::new(state.options.read_timeout))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            refuse_declared_oversize,
        ))
        .layer(axum::middleware::from_fn(auth::headers));
    if let Some(origin) = &state.options.cors {
        app = app.layer(cors(origin));
    }
    app.with_state(state)
}

/// Answers 413 before reading a byte of the body when the request's
/// `Content-Length` already exceeds `--max-upload`.
///
/// Without it the limit trips part-way through the body; the server answers
/// and closes with unread bytes in the socket, which resets the connection,
/// and a client still sending often sees the reset instead of the 413. A
/// client that sends `Expect: 100-continue` (curl does above 1 MiB) gets the
/// answer without sending the body at all. Bodies without a length (chunked)
/// still meet the limit while they are read.
async fn refuse_declared_oversize(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    match declared {
        Some(length) if length > state.options.max_upload as u64 => {
            let status = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
            let message = api::too_large_message(state.options.max_upload);
            if compat::is_compat_path(request.uri().path()) {
                compat::detail(status, message)
            } else {
                api::error(status, message)
            }
        }
        _ => next.run(request).await,
    }
}

/// Who may call the server from a page of another origin (`--cors`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cors {
    /// `*`: every origin, as the ExperimentOS back end allowed. Responses
    /// carry `Access-Control-Allow-Origin: *`, under which browsers send no
    /// credentials (cookies): a page elsewhere can call the API, but not
    /// with the `xos_token` cookie of this server's pages.
    AnyOrigin,
    /// One origin, `scheme://host[:port]`, lower-case, exactly as browsers
    /// write it in the `Origin` header.
    Origin(String),
}

impl Cors {
    /// Reads `--cors`: `*`, or an origin as browsers send it. The URL is
    /// parsed as browsers parse it (the `url` crate, WHATWG URL): scheme
    /// and host lower-cased, an international host in its ASCII form
    /// (`bücher.example` is `xn--bcher-kva.example`), as the `Origin`
    /// header carries them. Anything that can never equal that header — a
    /// path or trailing slash, a query, user info, a default port, `null`,
    /// not a URL at all — is refused with the reason.
    pub fn parse(text: &str) -> Result<Cors, String> {
        if text == "*" {
            return Ok(Cors::AnyOrigin);
        }
        let example = "an origin is `scheme://host` or `scheme://host:port`, such as \
                       `http://localhost:3000`, or `*` for every origin";
        if text.eq_ignore_ascii_case("null") {
            return Err(format!(
                "`null` is the origin of sandboxed frames and local files, which any page can \
                 take on; {example}"
            ));
        }
        let not_an_origin = || format!("`{text}` is not an origin: {example}");
        let (Ok(url), Some((_, authority))) = (url::Url::parse(text), text.split_once("://"))
        else {
            return Err(not_an_origin());
        };
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(not_an_origin());
        };
        let origin = format!(
            "{}://{host}{}",
            url.scheme(),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        );
        if authority.contains(['/', '?', '#']) {
            return Err(format!(
                "`{text}` has a path, query or trailing slash, which the `Origin` header never \
                 has: write `{origin}`"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "`{text}` names a user, which the `Origin` header never does; {example}"
            ));
        }
        if let (None, Some(port)) = (url.port(), url.port_or_known_default())
            && authority.contains(':')
            && !authority.ends_with(']')
        {
            return Err(format!(
                "`{text}`: browsers leave the default port {port} out of the `Origin` \
                 header: write `{origin}`"
            ));
        }
        Ok(Cors::Origin(origin))
    }
}

impl std::str::FromStr for Cors {
    type Err = String;

    fn from_str(text: &str) -> Result<Cors, String> {
        Cors::parse(text)
    }
}

/// The CORS layer: the allowed origin(s), the methods of the API, JSON and
/// multipart bodies, and the two headers the ExperimentOS front end sends.
/// Credentials are never allowed (tower-http refuses them with `*`).
fn cors(allowed: &Cors) -> CorsLayer {
    let origin = match allowed {
        Cors::AnyOrigin => AllowOrigin::any(),
        // INVARIANT: `Cors::parse` keeps only visible ASCII, a valid header value.
        Cors::Origin(origin) => match HeaderValue::from_str(origin) {
            Ok(value) => AllowOrigin::list([value]),
            Err(_) => AllowOrigin::list(std::iter::empty::<HeaderValue>()),
        },
    };
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            axum::http::header::CONTENT_TYPE,
            axum::http::header::AUTHORIZATION,
            HeaderName::from_static("x-integration-api-key"),
            HeaderName::from_static("x-integration-provider"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// Binds, evaluates every spec, starts the watcher and serves until Ctrl-C.
pub async fn run(
    options: ServeOptions,
    report: Arc<dyn Fn(ServeEvent) + Send + Sync>,
) -> Result<(), Diagnostic> {
    let state = start(options, Arc::clone(&report))?;
    let stop = Arc::clone(&state.stop);
    let listener = tokio::net::TcpListener::bind(state.options.bind)
        .await
        .map_err(|err| {
            Diagnostic::error(
                "xos::serve::bind",
                format!("cannot listen on {}", state.options.bind),
            )
            .help(err.to_string())
        })?;
    let local: SocketAddr = listener.local_addr().map_err(|err| {
        Diagnostic::error("xos::serve::bind", "cannot read the bound address").help(err.to_string())
    })?;
    report(ServeEvent::Listening(local));
    let read_timeout = state.options.read_timeout;
    let app = router(state);
    // hyper's HTTP/1 connections, as `axum::serve` makes them, plus what it
    // cannot set: a deadline on each request's headers (and on the wait
    // for the next request of a kept-alive connection), so a client that
    // sends half a request line does not hold a connection forever.
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
            signal = &mut ctrl_c => match signal {
                Ok(()) => break,
                Err(err) => {
                    stop.store(true, Ordering::SeqCst);
                    return Err(Diagnostic::error(
                        "xos::serve::io",
                        "the server stopped: it cannot wait for Ctrl-C",
                    )
                    .help(err.to_string()));
                }
            },
        };
        // TCP_NODELAY: a response written in two segments (head, then body)
        // otherwise waits for the client's delayed ACK, 40 ms on Linux, on
        // every request of a kept-alive connection (measured: 25 requests/s
        // per connection without it).
        let _ = tcp.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection that fails (a reset, a stalled header) only ends itself.
            let _ = connection.await;
        });
    }
    stop.store(true, Ordering::SeqCst);
    // Requests in flight may finish; event streams never end by themselves,
    // so the wait is bounded.
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    Ok(())
}

/// After a failed `accept`: a connection reset before it was accepted is
/// the client's business; anything else (out of file descriptors) is
/// waited out for a second rather than retried in a busy loop.
async fn accept_failed(err: &std::io::Error) {
    use std::io::ErrorKind;
    if !matches!(
        err.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Checks the options, evaluates every spec under the folder and starts the
/// watcher thread.
fn start(
    options: ServeOptions,
    report: Arc<dyn Fn(ServeEvent) + Send + Sync>,
) -> Result<Arc<AppState>, Diagnostic> {
    if !options.bind.ip().is_loopback() && options.token.is_none() {
        return Err(Diagnostic::error(
            "xos::serve::token_required",
            format!(
                "binding to {} exposes the experiments beyond this machine, and no token is set",
                options.bind
            ),
        )
        .help("pass `--token TOKEN` (or set XOS_TOKEN); clients then send `Authorization: Bearer TOKEN`"));
    }
    if !options.dir.is_dir() {
        return Err(Diagnostic::error(
            "xos::serve::not_a_folder",
            format!("`{}` is not a folder", options.dir.display()),
        )
        .at_path(&options.dir)
        .help("`xos serve DIR` serves the experiment specs under DIR"));
    }
    // The real path, as the watcher keys the specs under it.
    let dir = options
        .dir
        .canonicalize()
        .unwrap_or_else(|_| crate::watch::normalize(&options.dir));
    let (changes, _) = broadcast::channel(256);
    let state = Arc::new(AppState {
        options,
        dir,
        store: RwLock::new(Store::default()),
        changes,
        plans: sandbox::PlanCache::default(),
        stop: Arc::new(AtomicBool::new(false)),
    });
    // The watch loop of `xos watch`, on its own thread: it evaluates every
    // spec once (then reports `Ready`), and again whenever an input changes.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), Diagnostic>>();
    let follow_options = FollowOptions {
        debounce: state.options.debounce,
        data: None,
        templates: None,
        // The served folder's specs stay inside their repositories.
        allow_outside: false,
        // Serve keys a repeated name by its path (`Store::reassign`).
        declared_names: false,
    };
    let watcher_state = Arc::clone(&state);
    let stop = Arc::clone(&state.stop);
    std::thread::Builder::new()
        .name("xos-watch".into())
        .spawn(move || {
            let ready = ready_tx.clone();
            let dir = watcher_state.dir.clone();
            let result = follow(&[dir], &follow_options, &stop, |change| {
                match change {
                    SpecChange::Evaluated { spec, result } => {
                        let line = status_line(&watcher_state.dir, &spec, &result);
                        watcher_state.record(&spec, *result);
                        report(ServeEvent::Status(line));
                    }
                    SpecChange::Removed { spec } => {
                        watcher_state.remove(&spec);
                        report(ServeEvent::Status(format!(
                            "{} {}: deleted, no longer served",
                            now_rfc3339(),
                            crate::text::shown_line(&relative_name(&watcher_state.dir, &spec))
                        )));
                    }
                    SpecChange::WatchError { message } => {
                        report(ServeEvent::Status(format!(
                            "{} watch error: {}",
                            now_rfc3339(),
                            crate::text::shown_line(&message)
                        )));
                    }
                    SpecChange::Ready => {
                        let _ = ready.send(Ok(()));
                    }
                    // Not asked for (`declared_names: false`).
                    SpecChange::Evaluating { .. } => {}
                }
                // Serve writes no file.
                Vec::new()
            });
            if let Err(diagnostic) = result {
                let _ = ready_tx.send(Err(diagnostic));
            }
        })
        .map_err(|err| {
            Diagnostic::error("xos::serve::watch", "cannot start the watcher thread")
                .help(err.to_string())
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(diagnostic)) => return Err(diagnostic),
        Err(_) => {
            return Err(Diagnostic::error(
                "xos::serve::watch",
                "the watcher stopped before the first evaluation",
            ));
        }
    }
    Ok(state)
}

/// One status line per evaluation: `2026-11-30T21:05:00Z checkout/checkout.xos:
/// launch (clear_win)`.
fn status_line(dir: &Path, spec: &Path, result: &Result<Outcome, Diagnostics>) -> String {
    let shown = crate::text::shown_line(&relative_name(dir, spec));
    match result {
        Ok(outcome) => format!(
            "{} {shown}: {} ({})",
            now_rfc3339(),
            outcome.report.decision.verdict.as_str(),
            outcome.report.decision.rule
        ),
        Err(diagnostics) => {
            let errors = diagnostics.errors().count();
            format!(
                "{} {shown}: invalid, {errors} error{}",
                now_rfc3339(),
                if errors == 1 { "" } else { "s" }
            )
        }
    }
}

/// The current UTC time, RFC 3339 with seconds (`2026-11-30T21:05:00Z`).
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar. Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html>).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_787), (2026, 11, 30));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn cors_origins_are_read_as_browsers_write_them() {
        let origin = |text: &str| match Cors::parse(text) {
            Ok(Cors::Origin(o)) => o,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(origin("HTTP://App.Example:3000"), "http://app.example:3000");
        assert_eq!(
            origin("http://bücher.example"),
            "http://xn--bcher-kva.example"
        );
        assert_eq!(origin("http://[::1]:8080"), "http://[::1]:8080");
        assert_eq!(origin("http://[::1]"), "http://[::1]");
        assert_eq!(
            origin("chrome-extension://abcdef"),
            "chrome-extension://abcdef"
        );
        assert_eq!(Cors::parse("*"), Ok(Cors::AnyOrigin));
        let refused = |text: &str, why: &str| {
            let message = Cors::parse(text).expect_err(text);
            assert!(message.contains(why), "{text}: {message}");
        };
        refused("http://[::1]:80", "default port 80");
        refused("https://x:443", "default port 443");
        refused("http://a@b", "names a user");
        refused("http://x:65536", "not an origin");
        refused("http://x/?q", "write `http://x`");
        refused("http://x#f", "write `http://x`");
        refused("http://", "not an origin");
        refused("http://x y", "not an origin");
        refused("mailto:a@b", "not an origin");
        refused("file:///tmp", "not an origin");
        refused("localhost:3000", "not an origin");
    }
}

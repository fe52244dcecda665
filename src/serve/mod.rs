//! `xos serve`: the experiments of a folder as a live web app and an HTTP
//! API, on the same [`run_once`](crate::run_once) as `xos run` and the same
//! watcher as `xos watch`.
//!
//! - [`app`]: the shared state (every spec's last evaluation), the router and
//!   the security layers (token, Content-Security-Policy, CORS, upload limit).
//! - [`api`]: the native JSON API under `/api/v1/`.
//! - [`sandbox`]: evaluation of a spec and CSV received over HTTP, which may
//!   read no file.
//! - [`infer`]: a spec inferred from the columns of a CSV (`/try`, and the
//!   compatible API when no spec is sent).
//! - [`events`]: server-sent events, one per re-evaluation.
//! - [`auth`]: the bearer token, its cookie, and the response headers.
//! - [`pages`]: the server-rendered pages (tera).
//! - [`compat`]: the HTTP API of ExperimentOS, the Python system xos
//!   replaces (`docs/api.md`).
//!
//! The library never prints: [`serve`] reports the address it listens on
//! and every re-evaluation through a callback.

pub mod api;
pub mod app;
pub mod auth;
pub mod compat;
pub mod events;
pub mod infer;
pub mod pages;
pub mod sandbox;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::diagnostic::Diagnostic;

/// The default upload limit of `--max-upload`: 50 MiB.
pub const DEFAULT_MAX_UPLOAD: usize = 50 * 1024 * 1024;

/// The default of `--read-timeout`: 30 s to send a request's headers, and
/// at most 30 s of silence in the middle of its body.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The most variants (control included) of an experiment received over
/// HTTP, sent as a spec or inferred from a CSV. The compatible API compares
/// every pair of arms and integrates the probability of being best over
/// every arm, both growing with the square of the arms (a 1,000-arm CSV of
/// 15 KB cost 12 s of CPU and a 75 MB answer). `xos run` has no such bound.
pub const MAX_VARIANTS: usize = 32;

/// The most comparisons — treatment arms times metrics — of an experiment
/// received over HTTP. A comparison of a rate with fewer than 20 events
/// (or non-events) in an arm draws its credible interval by Monte Carlo
/// (`settings.draws`, 100,000 by default), the most expensive part of an
/// evaluation (about 11 ms each in a release build): this bounds their
/// number in one request (32 of them took 0.35 s; `docs/limits.md`).
pub const MAX_COMPARISONS: usize = 32;

/// The most Monte Carlo draws (`settings { draws N }`) of a spec received
/// over HTTP: the default. The command line allows up to 10,000,000.
pub const MAX_DRAWS: u64 = 100_000;

/// How `xos serve` runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The folder whose specs are served; URLs never reach outside it.
    pub dir: PathBuf,
    /// The address to listen on; a non-loopback address needs `token`.
    pub bind: SocketAddr,
    /// Required as `Authorization: Bearer TOKEN` (or the `xos_token` cookie
    /// set from `?token=`) on every request when set.
    pub token: Option<auth::Token>,
    /// The largest request body accepted, in bytes; larger ones get 413.
    pub max_upload: usize,
    /// The origin(s) allowed by CORS; CORS is off when `None`.
    pub cors: Option<app::Cors>,
    /// Whether the ExperimentOS-compatible endpoints answer (else 404).
    pub compat: bool,
    /// How long file events settle before a re-evaluation.
    pub debounce: Duration,
    /// How long a client may take to send a request's headers (and, on a
    /// kept-alive connection, to start its next request), and may pause
    /// while sending a body; a connection that stalls longer is closed.
    pub read_timeout: Duration,
}

impl ServeOptions {
    /// Loopback on port 8000, no token, 50 MiB uploads, no CORS, no compat,
    /// a 30 s read timeout.
    pub fn new(dir: PathBuf) -> ServeOptions {
        ServeOptions {
            dir,
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            token: None,
            max_upload: DEFAULT_MAX_UPLOAD,
            cors: None,
            compat: false,
            debounce: Duration::from_millis(50),
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

/// What the server reports to its caller (the binary prints it).
#[derive(Clone, Debug)]
pub enum ServeEvent {
    /// Listening on this address; the first event.
    Listening(SocketAddr),
    /// A status line from the watcher (one per re-evaluation).
    Status(String),
}

/// Evaluates every spec under `options.dir`, serves them until Ctrl-C, and
/// re-evaluates on every change of their inputs.
///
/// Errors: a non-loopback `bind` without a token, a folder that cannot be
/// read, an address that cannot be bound.
pub fn serve(
    options: ServeOptions,
    report: impl Fn(ServeEvent) + Send + Sync + 'static,
) -> Result<(), Diagnostic> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            Diagnostic::error("xos::serve::runtime", "cannot start the async runtime")
                .help(err.to_string())
        })?;
    runtime.block_on(app::run(options, std::sync::Arc::new(report)))
}

//! `xos serve`: the experiments of a folder as a live web app and an HTTP
//! API (the library's `xos::serve`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use xos::diagnostic::Diagnostic;
use xos::serve::app::Cors;
use xos::serve::auth::Token;
use xos::serve::{ServeEvent, ServeOptions, serve};

use crate::cli::{CommandResult, Exit};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The folder of experiment specs to serve (default: the current one).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The address to listen on; anything but loopback needs `--token`.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
    /// Require `Authorization: Bearer TOKEN` on every request: visible ASCII
    /// characters other than `;`, `,`, `"` and `\` (no spaces).
    #[arg(long, value_name = "TOKEN", env = "XOS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The largest request body accepted, in bytes (`K`, `M`, `G` suffixes
    /// are powers of 1024); larger uploads get 413.
    #[arg(long, value_name = "BYTES", default_value = "50M", value_parser = parse_size)]
    pub max_upload: usize,
    /// Allow cross-origin requests from this origin (`scheme://host[:port]`,
    /// as browsers send it), or from every origin with `*` (without
    /// credentials). CORS is off by default.
    #[arg(long, value_name = "ORIGIN", value_parser = Cors::parse)]
    pub cors: Option<Cors>,
    /// Also answer the HTTP API of ExperimentOS, the Python system xos
    /// replaces (`/api/health-check`, `/api/analyze`, …; docs/api.md).
    #[arg(long)]
    pub compat: bool,
    /// Milliseconds to wait for a burst of file events to settle.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub debounce: u64,
    /// Seconds a client may take to send a request's headers (or to start
    /// the next request on a kept-alive connection), and may pause while
    /// sending a body; a connection that stalls longer is closed.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout: u64,
}

/// `50M` → 52,428,800.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 50M"))?;
    let factor: usize = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("`{text}`: the unit must be K, M or G")),
    };
    n.checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a usable size"))
}

pub fn serve_command(args: &ServeArgs) -> CommandResult {
    let mut options = ServeOptions::new(args.dir.clone());
    options.bind = args.bind;
    // Checked here rather than by clap, whose message would repeat the
    // secret (from XOS_TOKEN, perhaps into a CI log).
    options.token = match args.token.as_deref().map(Token::new).transpose() {
        Ok(token) => token,
        Err(why) => {
            let message = format!("invalid value for '--token <TOKEN>' (or XOS_TOKEN): {why}\n");
            let _ = clap::Error::raw(clap::error::ErrorKind::InvalidValue, message).print();
            return Ok(Exit::Usage);
        }
    };
    options.max_upload = args.max_upload;
    options.cors = args.cors.clone();
    options.compat = args.compat;
    options.debounce = Duration::from_millis(args.debounce);
    options.read_timeout = Duration::from_secs(args.read_timeout);
    serve(options, |event| {
        // A closed stdout must not stop the server: write errors are ignored.
        let mut out = std::io::stdout().lock();
        let _ = match event {
            ServeEvent::Listening(addr) => writeln!(out, "xos serve: listening on http://{addr}/"),
            ServeEvent::Status(line) => writeln!(out, "{line}"),
        };
        let _ = out.flush();
    })
    .map_err(|d: Diagnostic| d.into())
    .map(|()| Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xos::serve::DEFAULT_MAX_UPLOAD;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("50M"), Ok(DEFAULT_MAX_UPLOAD));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert!(parse_size("0").is_err());
        assert!(parse_size("5T").is_err());
        assert!(parse_size("M").is_err());
    }
}

//! Helpers shared by the integration tests. Each test crate uses only some
//! of them, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod reference;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use xos::diagnostic::{self, Diagnostics};

pub fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path relative to the crate, as a user in the crate's folder names it.
pub fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(manifest()).unwrap_or(path).to_path_buf()
}

/// Runs the `xos` binary in the crate's folder, without colours.
pub fn xos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xos"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run xos: {e}"))
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Diagnostics as a user sees them, without colours, 100 columns wide.
pub fn render_all(diagnostics: &Diagnostics) -> String {
    diagnostics
        .iter()
        .map(|d| diagnostic::render(d, false, 100))
        .collect::<Vec<_>>()
        .join("\n")
}

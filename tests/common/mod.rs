//! Helpers shared by the integration tests.
// Not `expect`: a test crate that happens to use every helper would leave
// the expectation unfulfilled.
#![allow(
    dead_code,
    reason = "each test crate compiles this module and uses only some of its helpers"
)]

pub mod finite;
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

/// Runs a one-metric spec (`primary METRIC`, `settings { SETTINGS }`) over
/// an aggregated CSV of two rows, `control` and `treatment`, whose header is
/// `variant,users,HEADER`; returns the JSON report.
pub fn run_two_rows(
    metric: &str,
    header: &str,
    control: &str,
    treatment: &str,
    settings: &str,
) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = format!(
        "experiment reference {{
            data \"data.csv\"
            variants {{ control 50% treatment 50% }}
            primary {metric}
            settings {{ {settings} }}
        }}"
    );
    std::fs::write(dir.path().join("spec.xos"), spec).expect("write spec");
    std::fs::write(
        dir.path().join("data.csv"),
        format!("variant,users,{header}\ncontrol,{control}\ntreatment,{treatment}\n"),
    )
    .expect("write data");
    let outcome = xos::run_once(&dir.path().join("spec.xos"), &xos::RunOptions::default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let json = xos::output::render(&outcome.report, xos::output::Format::Json, None).expect("json");
    serde_json::from_str(&json).expect("valid json")
}

/// A small deterministic generator (SplitMix64) for synthetic data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Appends every `.xos` file under `dir` (recursively, in directory order)
/// to `out`; a folder that cannot be read adds nothing.
pub fn xos_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            xos_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "xos") {
            out.push(path);
        }
    }
}

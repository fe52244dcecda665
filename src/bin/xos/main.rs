//! The `xos` binary: parse the command line, run it, map the outcome to an
//! exit code. Everything else is in `cli.rs` and the library.

mod cli;
mod policy;
mod run;
mod sql;

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(cli::main().code())
}

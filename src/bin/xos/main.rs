//! The `xos` binary: parse the command line, run it, map the outcome to an
//! exit code. Everything else is in `cli.rs` and the library.

mod cli;
mod policy;
mod run;
mod serve;
mod sql;

use std::process::ExitCode;

/// mimalloc instead of the system allocator: a `POST /api/v1/run` of `xos
/// serve` makes a few hundred small allocations (the report's strings and
/// vectors, the CSV records, the JSON buffer); with mimalloc the whole request
/// through the router takes 106 µs instead of 113 (`cargo bench --bench serve`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(cli::main().code())
}

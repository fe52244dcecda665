//! `xos run` and `xos plan`: provided by the evaluation stage, which replaces
//! this file when it is merged.

use xos::diagnostic::Diagnostic;

use crate::cli::{CommandResult, PlanArgs, RunArgs};

pub fn run_command(_args: &RunArgs) -> CommandResult {
    Err(
        Diagnostic::error("xos::cli::unavailable", "`xos run` is not available yet")
            .help("this build of xos can `check`, `fmt` and `explain` specs")
            .into(),
    )
}

pub fn plan_command(_args: &PlanArgs) -> CommandResult {
    Err(
        Diagnostic::error("xos::cli::unavailable", "`xos plan` is not available yet")
            .help("this build of xos can `check`, `fmt` and `explain` specs")
            .into(),
    )
}

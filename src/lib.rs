//! xos: experiment specs in, Launch / Hold / Rollback decisions out.
//!
//! Modules in the order the data flows: `parse → ast → check → plan → data →
//! stats → evaluate → decide → report → render`.

pub mod ast;
pub mod check;
pub mod config;
pub mod diagnostic;
pub mod parse;
pub mod plan;

pub use check::{Checked, LoadOptions, check_source, load_plan};
pub mod explain;
pub mod fmt;

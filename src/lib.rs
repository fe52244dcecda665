//! xos: experiment specs in, Launch / Hold / Rollback decisions out.
//!
//! Modules in the order the data flows: `parse → ast → check → plan → data →
//! stats → evaluate → decide → report → render`.
//!
//! The entry points for the rest of the pipeline are [`load_plan`] (a spec
//! on disk) and [`check_source`] (a spec in memory): both find `xos.toml`,
//! read and check the policy, and return a [`plan::Plan`] or every problem
//! found, as [`diagnostic::Diagnostics`].

pub mod ast;
pub mod check;
pub mod config;
pub mod diagnostic;
pub mod explain;
pub mod fmt;
pub mod parse;
pub mod plan;

pub use check::{Checked, LoadOptions, check_source, load_plan};

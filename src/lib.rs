//! xos: experiment specs in, Launch / Hold / Rollback decisions out.
//!
//! Modules in the order the data flows: `parse → ast → check → plan → data →
//! stats → evaluate → decide → report → render`.

pub mod diagnostic;
pub mod plan;
pub mod ast;
pub mod parse;

//! xos: experiment specs in, Launch / Hold / Rollback decisions out.
//!
//! Modules in the order the data flows: `parse → ast → check → plan → data →
//! stats → evaluate → decide → report → render`.

pub mod diagnostic;
pub mod plan;
pub mod data;
pub mod stats;
pub mod evaluate;
pub mod decide;
pub mod report;
pub mod render;

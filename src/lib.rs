//! xos: experiment specs in, Launch / Hold / Rollback decisions out.
//!
//! Modules in the order the data flows: `parse → ast → check → plan → data →
//! stats → evaluate → decide → report → render`.

pub mod data;
pub mod decide;
pub mod diagnostic;
pub mod evaluate;
pub mod plan;
pub mod render;
pub mod report;
pub mod rows;
pub mod stats;

//! The statistics engine: pure functions from sufficient statistics to test
//! results, with the conventions of DESIGN.md §2 (documented formula by
//! formula in `docs/stats.md`).
//!
//! Undefined results are `None`, never NaN or infinity; p-values come from
//! survival functions; a test without information has p = 1.

pub mod always_valid;
pub mod bayes;
pub mod beta_draws;
pub mod credible;
pub mod cuped;
pub mod dist;
pub mod mean;
pub mod moments;
pub mod multiple;
pub mod power;
pub mod proportion;
pub mod ratio;
pub mod relative;
pub mod sequential;
pub mod srm;

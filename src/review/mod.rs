//! Decision policies as reviewed code: the scenario space a policy is
//! judged over ([`scenario`]), policy tests ([`tests`]), static analysis of
//! rules ([`analysis`]) and the difference between two policies ([`diff`]).

pub mod analysis;
pub mod diff;
pub mod scenario;
pub mod tests;

//! The outside world as the app sees it, one port per file. Ports carry
//! domain records; adapters live in the server crate.

/// What [`StoreError::Unavailable`] says when the process closed its own
/// pool (it is stopping): expected, so not worth a warning.
pub const POOL_CLOSED: &str = "the database pool is closed: the process is stopping";

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or timed out: worth retrying.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored row no longer parses as a domain value.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("store query failed: {0}")]
    Query(String),
}

mod approvals;
mod audit;
mod board;
mod calendar;
mod github;
mod identity;
mod inventory;
mod notifications;
mod org;
mod pipelines;
mod users;

pub use approvals::*;
pub use audit::*;
pub use board::*;
pub use calendar::*;
pub use github::*;
pub use identity::*;
pub use inventory::*;
pub use notifications::*;
pub use org::*;
pub use pipelines::*;
pub use users::*;

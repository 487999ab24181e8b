//! Postgres adapters.

mod approvals;
pub mod board;
mod calendar;
mod org;
mod users;

pub use org::sync_org;
pub use users::upsert_personas;

use app::ssr::ports::StoreError;
use sqlx::PgPool;

/// The schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The Postgres implementation of the app's store ports.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// Sorts a sqlx error into the store's categories.
fn store_error(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(err.to_string()),
        other => StoreError::Query(other.to_string()),
    }
}

/// Parses a stored value, reporting a row that no longer parses as corrupt.
fn stored<T, E: std::fmt::Display>(what: &str, parsed: Result<T, E>) -> Result<T, StoreError> {
    parsed.map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Parses each stored string of a text array.
fn stored_all<T, E: std::fmt::Display>(
    what: &str,
    values: &[String],
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, StoreError> {
    values.iter().map(|v| stored(what, parse(v))).collect()
}

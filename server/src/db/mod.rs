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
    if is_unavailable(&err) {
        StoreError::Unavailable(err.to_string())
    } else {
        StoreError::Query(err.to_string())
    }
}

/// Whether `err` says the database cannot be reached right now (restarting,
/// shutting down, refusing connections, pool exhausted) rather than that a
/// query is wrong: worth a "try again in a moment".
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // connection_exception, admin/crash shutdown, cannot_connect_now,
            // and "the database system is starting up / not accepting
            // connections".
            code.starts_with("08")
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                || (code.as_ref() == "55000"
                    && db.message().contains("not currently accepting connections"))
        }),
        _ => false,
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

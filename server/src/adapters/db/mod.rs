//! Postgres adapters.

mod approvals;
pub mod audit;
pub mod board;
mod calendar;
mod inventory;
mod notifications;
mod org;
mod users;

pub use org::sync_org;
pub use users::upsert_personas;

use app::ssr::ports::StoreError;
use sqlx::PgPool;

/// The schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Tables Gatehouse only ever appends to: the serving role may read and
/// insert, never update, delete or truncate (their triggers refuse too, and
/// only the owner could switch those off).
const APPEND_ONLY: &[&str] = &["audit_log", "calendar_changes", "audit_verifications"];

/// Tables only the schema's owner touches: the audit chain's head moves
/// only inside the owner's chaining function.
const OWNER_ONLY: &[&str] = &["audit_chain_head"];

/// Functions that run with the owner's rights and that the serving role
/// may call: the audit chain's head, read by every verification.
const OWNER_FUNCTIONS: &[&str] = &["audit_chain_head_now()"];

/// Tables the serving role reads and only the owner writes.
const OWNER_WRITES: &[&str] = &["audit_archives"];

/// Runs the migrations as the schema's owner (`owner`), then grants
/// `app_role`, the role Gatehouse serves with, what serving needs: rows of
/// every table, nothing of the schema itself, and only SELECT and INSERT on
/// the append-only tables. Idempotent; run at every start.
pub async fn migrate_and_grant(owner: &PgPool, app_role: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let valid = !app_role.is_empty()
        && app_role.len() <= 63
        && app_role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    anyhow::ensure!(
        valid,
        "the serving role's name {app_role:?} must be lower-case letters, digits and _"
    );
    MIGRATOR
        .run(owner)
        .await
        .context("cannot apply database migrations")?;
    let owner_role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(owner)
        .await?;
    if owner_role == app_role {
        tracing::warn!(role = app_role, "Gatehouse serves as the schema's owner: give DATABASE_URL a role of its own (docs/operations/database-roles.md)");
        return Ok(());
    }
    let role = format!("\"{app_role}\"");
    let mut tx = owner.begin().await?;
    for statement in [
        format!("GRANT USAGE ON SCHEMA public, tower_sessions TO {role}"),
        format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tower_sessions TO {role}"
        ),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        format!("REVOKE ALL ON _sqlx_migrations FROM {role}"),
        format!(
            "REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {role}",
            APPEND_ONLY.join(", ")
        ),
        format!("REVOKE ALL ON {} FROM {role}", OWNER_ONLY.join(", ")),
        format!(
            "GRANT EXECUTE ON FUNCTION {} TO {role}",
            OWNER_FUNCTIONS.join(", ")
        ),
        format!(
            "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {} FROM {role}",
            OWNER_WRITES.join(", ")
        ),
    ] {
        sqlx::query(&statement)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot grant the serving role its rights: {statement}"))?;
    }
    tx.commit().await?;
    Ok(())
}

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
pub(crate) fn store_error(err: sqlx::Error) -> StoreError {
    if matches!(err, sqlx::Error::PoolClosed) {
        StoreError::Unavailable(app::ssr::ports::POOL_CLOSED.to_owned())
    } else if is_unavailable(&err) {
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

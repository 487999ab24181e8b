//! Background work. Every job is safe to run on several replicas at once.

use sqlx::PgPool;
use std::time::Duration;

/// Deletes expired sessions every ten minutes. Idempotent across replicas.
pub async fn sweep_expired_sessions(pool: PgPool) {
    let mut interval = tokio::time::interval(Duration::from_secs(600));
    loop {
        interval.tick().await;
        if pool.is_closed() {
            return;
        }
        match sqlx::query!("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
            .execute(&pool)
            .await
        {
            Ok(done) if done.rows_affected() > 0 => {
                tracing::debug!(removed = done.rows_affected(), "expired sessions removed")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not remove expired sessions"),
        }
    }
}

//! Background work. Every job is safe to run on several replicas at once.

use app::ssr::AppState;
use sqlx::PgPool;
use std::time::Duration;

/// Advisory lock held by the one process that polls CodePipeline.
const POLLER_LOCK: i64 = 0x6761_7465_0002;

/// How often the leader checks the mapped pipelines against CodePipeline.
const PIPELINE_CHECK_EVERY: Duration = Duration::from_secs(600);

/// `base` give or take 10%, so replicas and pipelines do not fall into step.
fn jittered(base: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let factor = 0.9 + f64::from(nanos % 1000) / 5000.0;
    base.mul_f64(factor)
}

/// Polls CodePipeline for waiting approvals every `interval`. Only the
/// process holding a Postgres advisory lock polls; the others wait and
/// take over when its connection goes away.
pub async fn poll_approvals(state: AppState, pool: PgPool, interval: Duration) {
    loop {
        if pool.is_closed() {
            return;
        }
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn.detach(),
            Err(err) => {
                tracing::warn!(error = %err, "poller cannot get a connection");
                tokio::time::sleep(jittered(interval)).await;
                continue;
            }
        };
        let leader =
            sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "got!""#, POLLER_LOCK)
                .fetch_one(&mut conn)
                .await
                .unwrap_or(false);
        if !leader {
            drop(conn);
            tokio::time::sleep(jittered(interval)).await;
            continue;
        }
        tracing::info!(?interval, "this process polls CodePipeline");
        let mut checked: Option<std::time::Instant> = None;
        loop {
            // The pipelines are checked against the configuration when this
            // process takes over, then every ten minutes.
            if checked.is_none_or(|at| at.elapsed() >= PIPELINE_CHECK_EVERY) {
                match app::ssr::approvals::check_pipelines(&state, Duration::from_millis(50)).await
                {
                    Ok(problems) => tracing::info!(problems = problems.len(), "pipelines checked"),
                    Err(err) => tracing::warn!(error = %err, "pipeline check failed"),
                }
                checked = Some(std::time::Instant::now());
            }
            // At most 20 GetPipelineState calls a second.
            match app::ssr::approvals::poll(&state, Duration::from_millis(50)).await {
                Ok(report) => tracing::debug!(?report, "poll finished"),
                Err(err) => tracing::warn!(error = %err, "poll failed"),
            }
            tokio::time::sleep(jittered(interval)).await;
            if pool.is_closed()
                || sqlx::query_scalar!("SELECT 1 AS one")
                    .fetch_one(&mut conn)
                    .await
                    .is_err()
            {
                break;
            }
        }
    }
}

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

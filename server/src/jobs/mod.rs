//! Background work. Every job is safe to run on several replicas at once.

pub mod board;
pub mod health;
pub mod history;
pub mod poller;

use crate::org_config::HealthConfig;
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

/// Advisory lock held by the one process that probes health URLs.
const PROBER_LOCK: i64 = 0x6761_7465_0003;

/// Advisory lock held by the one process that routes and sends
/// notifications.
const NOTIFIER_LOCK: i64 = 0x6761_7465_0005;

/// Advisory lock held by the one process that reads Terraform states.
const TERRAFORM_LOCK: i64 = 0x6761_7465_0006;

/// How often the notifier's leader routes the outbox and sends what is due.
const NOTIFY_EVERY: Duration = Duration::from_secs(1);

/// A pass that failed: a warning, unless the process is stopping (its
/// pool closed under the pass), which is expected and said quietly.
fn failed(pool: &PgPool, what: &'static str, err: &dyn std::fmt::Display) {
    if pool.is_closed() {
        tracing::debug!(error = %err, what, "pass ended by the shutdown");
    } else {
        tracing::warn!(error = %err, "{what}");
    }
}

/// Runs `pass` every `interval` (jittered) while this process holds the
/// Postgres advisory lock `lock`. The other replicas wait and take over
/// when the leader's connection goes away.
async fn lead<F, Fut>(pool: PgPool, lock: i64, interval: Duration, what: &'static str, mut pass: F)
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        if pool.is_closed() {
            return;
        }
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn.detach(),
            Err(_) if pool.is_closed() => return,
            Err(err) => {
                tracing::warn!(error = %err, what, "cannot get a connection");
                tokio::time::sleep(jittered(interval)).await;
                continue;
            }
        };
        let leader = sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "got!""#, lock)
            .fetch_one(&mut conn)
            .await
            .unwrap_or(false);
        crate::metrics::leader(what, leader);
        if !leader {
            drop(conn);
            tokio::time::sleep(jittered(interval)).await;
            continue;
        }
        tracing::info!(?interval, what, "this process leads");
        let mut first = true;
        loop {
            pass(first).await;
            first = false;
            tokio::time::sleep(jittered(interval)).await;
            if pool.is_closed()
                || sqlx::query_scalar!("SELECT 1 AS one")
                    .fetch_one(&mut conn)
                    .await
                    .is_err()
            {
                crate::metrics::leader(what, false);
                break;
            }
        }
    }
}

/// Polls CodePipeline every `interval`: waiting approvals, then the
/// board's deployments (with what GitHub says of them). Only the process
/// holding a Postgres advisory lock polls. While CodePipeline cannot be
/// reached (`integrations` says so, once), a pass is one call that finds
/// out whether it can be again, not one per pipeline.
pub async fn poll_approvals(
    state: AppState,
    pool: PgPool,
    interval: Duration,
    integrations: crate::adapters::integrations::Integrations,
) {
    use crate::adapters::integrations::Integration;
    let mut checked: Option<std::time::Instant> = None;
    let board_pool = pool.clone();
    lead(pool, POLLER_LOCK, interval, "poller", |first| {
        let state = state.clone();
        let pool = board_pool.clone();
        let integrations = integrations.clone();
        let down = integrations.is_failing(&Integration::CodePipeline);
        // The pipelines are checked against the configuration when this
        // process takes over, then every ten minutes, when CodePipeline
        // can be reached.
        let check =
            !down && (first || checked.is_none_or(|at| at.elapsed() >= PIPELINE_CHECK_EVERY));
        if check {
            checked = Some(std::time::Instant::now());
        }
        async move {
            let started = std::time::Instant::now();
            if down && state.pipelines.pipeline_names().await.is_err() {
                crate::metrics::job_pass("poller", started, false);
                tracing::debug!("CodePipeline still cannot be reached; pass skipped");
                return;
            }
            if check {
                match poller::check_pipelines(&state, Duration::from_millis(50)).await {
                    Ok(problems) => {
                        tracing::info!(problems = problems.len(), "pipelines checked")
                    }
                    // Reported once, as the integration's state.
                    Err(err) if integrations.is_failing(&Integration::CodePipeline) => {
                        tracing::debug!(error = %err, "pipeline check failed")
                    }
                    Err(err) => failed(&pool, "pipeline check failed", &err),
                }
            }
            // At most 20 GetPipelineState calls a second.
            let started = std::time::Instant::now();
            let polled = poller::poll(&state, Duration::from_millis(50)).await;
            crate::metrics::job_pass("poller", started, polled.is_ok());
            match polled {
                Ok(report) => tracing::debug!(?report, "poll finished"),
                Err(err) => failed(&pool, "poll failed", &err),
            }
            let started = std::time::Instant::now();
            let refreshed = board::refresh(&state, &pool, Duration::from_millis(50)).await;
            crate::metrics::job_pass("board", started, refreshed.is_ok());
            match refreshed {
                Ok(report) => tracing::debug!(?report, "board refreshed"),
                Err(err) => failed(&pool, "board refresh failed", &err),
            }
            let started = std::time::Instant::now();
            let read = history::read(&state, &pool, Duration::from_millis(50)).await;
            crate::metrics::job_pass("history", started, read.is_ok());
            match read {
                Ok(report) if report != history::HistoryReport::default() => {
                    tracing::info!(?report, "deployment history read")
                }
                Ok(_) => {}
                Err(err) => failed(&pool, "reading the deployment history failed", &err),
            }
        }
    })
    .await;
}

/// Routes and sends notifications every second, on one replica.
pub async fn notify(
    state: AppState,
    pool: PgPool,
    notifier: std::sync::Arc<crate::adapters::notify::Notifier>,
) {
    let notify_pool = pool.clone();
    lead(pool, NOTIFIER_LOCK, NOTIFY_EVERY, "notifier", |_| {
        let state = state.clone();
        let notifier = notifier.clone();
        let pool = notify_pool.clone();
        async move {
            let started = std::time::Instant::now();
            let passed = notifier.pass(&state, chrono::Utc::now()).await;
            crate::metrics::job_pass("notifier", started, passed.is_ok());
            match passed {
                Ok(report) if report != crate::adapters::notify::PassReport::default() => {
                    tracing::info!(?report, "notifications")
                }
                Ok(_) => {}
                Err(err) => failed(&pool, "notification pass failed", &err),
            }
        }
    })
    .await;
}

/// Reads the Terraform states every `refresh`, on one replica.
pub async fn read_terraform(pool: PgPool, config: crate::adapters::terraform::TerraformConfig) {
    let readers = crate::adapters::terraform::Readers::for_config(&config).await;
    let read_pool = pool.clone();
    let interval = config.refresh;
    lead(pool, TERRAFORM_LOCK, interval, "inventory", |_| {
        let (pool, config, readers) = (read_pool.clone(), config.clone(), readers.clone());
        async move {
            let started = std::time::Instant::now();
            let read = crate::adapters::terraform::refresh(&pool, &config, &readers).await;
            crate::metrics::job_pass("inventory", started, read.is_ok());
            match read {
                Ok(report) => tracing::debug!(?report, "Terraform states read"),
                Err(err) => failed(&pool, "reading Terraform states failed", &err),
            }
        }
    })
    .await;
}

/// Probes the health URLs every configured interval, on one replica.
pub async fn probe_health(state: AppState, pool: PgPool, config: HealthConfig) {
    let client = reqwest::Client::builder()
        .user_agent("gatehouse-health-probe")
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .unwrap_or_default();
    let probe_pool = pool.clone();
    let interval = config.interval;
    lead(pool, PROBER_LOCK, interval, "prober", |_| {
        let state = state.clone();
        let pool = probe_pool.clone();
        let client = client.clone();
        let config = config.clone();
        async move {
            let started = std::time::Instant::now();
            let probed = health::probe_once(&state, &pool, &config, &client).await;
            crate::metrics::job_pass("prober", started, probed.is_ok());
            match probed {
                Ok(report) => tracing::debug!(?report, "health probed"),
                Err(err) => failed(&pool, "health probe pass failed", &err),
            }
        }
    })
    .await;
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
            Err(err) => failed(&pool, "could not remove expired sessions", &err),
        }
    }
}

/// Chains audit rows no writer chained (the last of a burst of writers,
/// or one that died or lost the database in between) four times a second;
/// writers chain their own rows as they commit, so this usually finds
/// nothing.
pub async fn chain_audit_rows(pool: PgPool) {
    let mut interval = tokio::time::interval(Duration::from_millis(250));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if pool.is_closed() {
            return;
        }
        match crate::adapters::db::audit::chain_pending(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "chained audit rows left behind"),
            Err(err) => tracing::debug!(error = %err, "could not chain audit rows"),
        }
    }
}

/// Verifies the audit rows written since the last verification, once a
/// minute, and records what it found (the Audit page shows it to admins).
/// A broken chain is logged as an error on every pass until someone looks;
/// a check that cannot run is recorded and logged once per reason, and
/// its recovery once.
pub async fn verify_audit_chain(pool: PgPool, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing: Option<String> = None;
    loop {
        interval.tick().await;
        if pool.is_closed() {
            return;
        }
        let started = std::time::Instant::now();
        let verified = crate::audit::verify_new_rows(&pool).await;
        crate::metrics::job_pass("audit_verify", started, verified.is_ok());
        match verified {
            Ok(v) => {
                if failing.take().is_some() {
                    tracing::info!(to = v.last_seq, "the audit chain can be verified again");
                }
                match &v.broken {
                    None => {
                        tracing::debug!(rows = v.rows, to = v.last_seq, "audit chain verified")
                    }
                    Some(b) => {
                        tracing::error!(row = b.seq, problem = %b.problem, "the audit chain is broken")
                    }
                }
            }
            Err(err) => {
                let why = crate::audit::could_not_run_words(&err);
                if failing.as_deref() != Some(why.as_str()) {
                    tracing::error!(reason = %why, "could not verify the audit chain");
                }
                if let Err(err) = crate::audit::record_could_not_run(&pool, &why).await {
                    tracing::debug!(error = %err, "could not record why the audit chain was not verified");
                }
                failing = Some(why);
            }
        }
    }
}

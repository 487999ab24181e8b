//! The deployment history the Metrics page measures. The board's job
//! records each new deployment (a trigger on `deployments`); this pass, run
//! by the poller's leader after the board, reads each Prod pipeline's
//! earlier executions from CodePipeline once, then when the commits of each
//! Prod deployment were made, from GitHub (a compare with the deployment
//! before it, or the deployed commit alone for the first one).

use app::ssr::ports::{GitHubError, PipelineError, StoreError};
use app::ssr::AppState;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

/// How far back a Prod pipeline's executions are read, in days.
pub const BACKFILL_DAYS: i64 = 400;
/// ListPipelineExecutions pages (of 100) read per pipeline, at most.
const BACKFILL_PAGES: usize = 10;
/// Pipelines read per pass, at most (the rest on the next passes).
const PIPELINES_PER_PASS: usize = 20;
/// Deployments whose commit times are read per pass, at most.
const COMMITS_PER_PASS: i64 = 25;
/// Commit times kept per deployment, at most (a compare lists 250).
const COMMIT_TIMES_KEPT: usize = 250;

/// What a pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HistoryReport {
    /// Pipelines whose earlier executions were read.
    pub pipelines_read: usize,
    /// Executions that were new to the history.
    pub executions_added: u64,
    /// Deployments whose commit times were read.
    pub commits_read: usize,
    /// Calls that failed (tried again on a later pass).
    pub failed: usize,
}

/// One pass; `pause` between calls to AWS or GitHub.
pub async fn read(
    state: &AppState,
    pool: &PgPool,
    pause: std::time::Duration,
) -> Result<HistoryReport, StoreError> {
    let org = state.org.load_org().await?;
    let Some(prod) = org.environments.iter().max_by_key(|e| e.position) else {
        return Ok(HistoryReport::default());
    };
    let mut report = HistoryReport::default();
    let done: Vec<String> = sqlx::query_scalar!(
        "SELECT service_id FROM deployment_history_backfills WHERE environment_id = $1",
        prod.id.as_str()
    )
    .fetch_all(pool)
    .await
    .map_err(crate::adapters::db::store_error)?;
    let since = Utc::now() - Duration::days(BACKFILL_DAYS);
    for service in org
        .services
        .iter()
        .filter(|s| !done.iter().any(|d| d == s.id.as_str()))
        .take(PIPELINES_PER_PASS)
    {
        let pipeline = org.pipelines.pipeline_name(&service.id, &prod.id);
        let executions = match state
            .pipelines
            .succeeded_since(&pipeline, since, BACKFILL_PAGES)
            .await
        {
            Ok(list) => list,
            // A pipeline that does not exist has no history; the pipeline
            // check reports it.
            Err(PipelineError::Configuration(_)) => Vec::new(),
            Err(err) => {
                tracing::debug!(error = %err, pipeline, "cannot read the pipeline's history");
                report.failed += 1;
                continue;
            }
        };
        let _wrote = state.changes.writing(app::ssr::changes::Topic::Board);
        let mut tx = pool
            .begin()
            .await
            .map_err(crate::adapters::db::store_error)?;
        for e in &executions {
            let added = sqlx::query!(
                "INSERT INTO deployment_history
                     (service_id, environment_id, execution_id, commit_sha, commit_message,
                      branch, deployed_at)
                 VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7)
                 ON CONFLICT (service_id, environment_id, execution_id) DO NOTHING",
                service.id.as_str(),
                prod.id.as_str(),
                e.execution_id,
                e.revision.commit,
                e.revision.message,
                e.revision.branch,
                e.finished_at as _
            )
            .execute(&mut *tx)
            .await
            .map_err(crate::adapters::db::store_error)?;
            report.executions_added += added.rows_affected();
        }
        sqlx::query!(
            "INSERT INTO deployment_history_backfills (service_id, environment_id, pipeline, executions)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (service_id, environment_id) DO NOTHING",
            service.id.as_str(),
            prod.id.as_str(),
            pipeline,
            i32::try_from(executions.len()).unwrap_or(i32::MAX)
        )
        .execute(&mut *tx)
        .await
        .map_err(crate::adapters::db::store_error)?;
        tx.commit()
            .await
            .map_err(crate::adapters::db::store_error)?;
        report.pipelines_read += 1;
        tokio::time::sleep(pause).await;
    }

    // Commit times, oldest deployments first, for services whose earlier
    // executions are in (so each deployment is compared with the one
    // before it).
    let unread = sqlx::query!(
        r#"SELECT h.id, h.commit_sha, s.repository,
                  (SELECT p.commit_sha FROM deployment_history p
                   WHERE p.service_id = h.service_id AND p.environment_id = h.environment_id
                     AND p.commit_sha IS NOT NULL
                     AND (p.deployed_at, p.id) < (h.deployed_at, h.id)
                   ORDER BY p.deployed_at DESC, p.id DESC LIMIT 1) AS previous
           FROM deployment_history h
           JOIN services s ON s.id = h.service_id
           JOIN deployment_history_backfills b
             ON b.service_id = h.service_id AND b.environment_id = h.environment_id
           WHERE h.environment_id = $1 AND h.commit_times IS NULL AND h.commits_note IS NULL
           ORDER BY h.deployed_at, h.id
           LIMIT $2"#,
        prod.id.as_str(),
        COMMITS_PER_PASS
    )
    .fetch_all(pool)
    .await
    .map_err(crate::adapters::db::store_error)?;
    for row in unread {
        let read = match &row.commit_sha {
            None => Ok(Err(
                "CodePipeline recorded no commit for this deployment".to_owned()
            )),
            Some(sha) => commit_times(state, &row.repository, row.previous.as_deref(), sha).await,
        };
        let (times, note) = match read {
            Ok(Ok(times)) => (Some(times), None),
            Ok(Err(note)) => (None, Some(note)),
            Err(err) => {
                // Rate limited or unavailable: the rest waits for a later
                // pass.
                tracing::debug!(error = %err, "cannot read commit times from GitHub");
                report.failed += 1;
                break;
            }
        };
        let times = times.map(|t| {
            serde_json::Value::Array(
                t.iter()
                    .take(COMMIT_TIMES_KEPT)
                    .map(|d| serde_json::Value::String(d.to_rfc3339()))
                    .collect(),
            )
        });
        let _wrote = state.changes.writing(app::ssr::changes::Topic::Board);
        sqlx::query!(
            "UPDATE deployment_history SET commit_times = $2, commits_note = $3 WHERE id = $1",
            row.id,
            times,
            note
        )
        .execute(pool)
        .await
        .map_err(crate::adapters::db::store_error)?;
        report.commits_read += 1;
        tokio::time::sleep(pause).await;
    }
    Ok(report)
}

/// When the commits a deployment of `sha` brought were made: those of
/// `previous...sha` (none for a redeploy of the same commit), or `sha`'s
/// own when there is no earlier deployment or GitHub cannot compare the
/// two. `Ok(Err(note))` when GitHub does not have the commit.
async fn commit_times(
    state: &AppState,
    repo: &str,
    previous: Option<&str>,
    sha: &str,
) -> Result<Result<Vec<DateTime<Utc>>, String>, GitHubError> {
    if previous == Some(sha) {
        return Ok(Ok(Vec::new()));
    }
    if let Some(base) = previous {
        if let Some(c) = state.github.compare(repo, base, sha).await? {
            let mut times: Vec<DateTime<Utc>> =
                c.commits.iter().filter_map(|k| k.committed_at).collect();
            if !times.is_empty() || c.ahead_by == 0 {
                times.sort();
                return Ok(Ok(times));
            }
        }
    }
    Ok(match state.github.commit_author(repo, sha).await? {
        Some(author) => match author.date {
            Some(date) => Ok(vec![date]),
            None => Err(format!("GitHub gives no date for commit {sha}")),
        },
        None => Err(format!("GitHub does not have commit {sha} in {repo}")),
    })
}

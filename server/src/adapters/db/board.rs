//! What the board's jobs record (deployments, gaps between environments,
//! hotfix branches, health and outages), and the board's one read of it all.

use super::{store_error, stored, PgStore};
use app::domain::health::ProbeState;
use app::ssr::ports::{
    ActionStatus, BoardSnapshot, BoardStore, CommitSummary, DeploymentRecord, GapRecord,
    HealthRecord, HistoryRecord, HotfixRecord, NewAudit, OutageRecord, StoreError, WaitingRecord,
    HISTORY_LIMIT,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// A `deployments` row as stored; its actions are JSON.
struct DeploymentRow {
    service_id: String,
    environment_id: String,
    pipeline: String,
    commit_sha: Option<String>,
    commit_message: Option<String>,
    branch: Option<String>,
    revision_url: Option<String>,
    tag: Option<String>,
    deployed_execution: Option<String>,
    deployed_at: Option<DateTime<Utc>>,
    latest_execution: Option<String>,
    latest_status: Option<String>,
    actions: serde_json::Value,
    problem: Option<String>,
}

impl DeploymentRow {
    fn parse(self) -> Result<DeploymentRecord, StoreError> {
        let actions: Vec<ActionStatus> =
            stored("pipeline actions", serde_json::from_value(self.actions))?;
        Ok(DeploymentRecord {
            service_id: self.service_id,
            environment_id: self.environment_id,
            pipeline: self.pipeline,
            commit: self.commit_sha,
            message: self.commit_message,
            branch: self.branch,
            revision_url: self.revision_url,
            tag: self.tag,
            deployed_execution: self.deployed_execution,
            deployed_at: self.deployed_at,
            latest_execution: self.latest_execution,
            latest_status: self.latest_status,
            actions,
            problem: self.problem,
        })
    }
}

fn commits_of(value: serde_json::Value) -> Result<Vec<CommitSummary>, StoreError> {
    stored("gap commits", serde_json::from_value(value))
}

#[async_trait]
impl BoardStore for PgStore {
    async fn snapshot(
        &self,
        since: DateTime<Utc>,
    ) -> Result<std::sync::Arc<BoardSnapshot>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // One consistent view of what the jobs wrote.
        sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let deployments = sqlx::query_as!(
            DeploymentRow,
            r#"SELECT service_id, environment_id, pipeline, commit_sha, commit_message, branch,
                      revision_url, tag, deployed_execution,
                      deployed_at AS "deployed_at: DateTime<Utc>", latest_execution,
                      latest_status, actions, problem
               FROM deployments"#
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(DeploymentRow::parse)
        .collect::<Result<Vec<_>, StoreError>>()?;
        let gaps = sqlx::query!(
            "SELECT service_id, environment_id, ahead_of, base_sha, head_sha, behind_by, commits
             FROM commit_gaps"
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| {
            Ok(GapRecord {
                service_id: r.service_id,
                environment_id: r.environment_id,
                ahead_of: r.ahead_of,
                base_sha: r.base_sha,
                head_sha: r.head_sha,
                behind_by: stored("behind_by", u32::try_from(r.behind_by))?,
                commits: commits_of(r.commits)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let hotfixes = sqlx::query_as!(
            HotfixRecord,
            "SELECT service_id, branch, head_sha, in_release_env, merged_develop,
                    release_branch, merged_release
             FROM hotfixes ORDER BY service_id, branch"
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        let health = sqlx::query_as!(
            HealthRecord,
            r#"SELECT service_id, environment_id, up, since AS "since: DateTime<Utc>",
                      checked_at AS "checked_at: DateTime<Utc>", detail
               FROM health_status"#
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        let outages = sqlx::query_as!(
            OutageRecord,
            r#"SELECT service_id, environment_id, started_at AS "started_at: DateTime<Utc>",
                      ended_at AS "ended_at: DateTime<Utc>", issue_url
               FROM outages WHERE ended_at IS NULL OR ended_at > $1
               ORDER BY started_at"#,
            since as _
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        let waiting = sqlx::query_as!(
            WaitingRecord,
            r#"SELECT r.id::text AS "request_id!", r.service_id, r.environment_id,
                      r.commit_sha AS commit, r.requested_at AS "requested_at: DateTime<Utc>",
                      count(v.request_id) FILTER (WHERE v.decision = 'approve') AS "approvals!"
               FROM approval_requests r
               LEFT JOIN approval_votes v ON v.request_id = r.id
               WHERE r.state = 'pending'
               GROUP BY r.id
               ORDER BY r.requested_at"#
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(std::sync::Arc::new(BoardSnapshot {
            waiting,
            deployments,
            gaps,
            hotfixes,
            health,
            outages,
            index: Default::default(),
        }))
    }

    async fn hotfixes(&self, service_id: &str) -> Result<Vec<HotfixRecord>, StoreError> {
        sqlx::query_as!(
            HotfixRecord,
            "SELECT service_id, branch, head_sha, in_release_env, merged_develop,
                    release_branch, merged_release
             FROM hotfixes WHERE service_id = $1 ORDER BY branch",
            service_id
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)
    }

    async fn deployment_history(
        &self,
        environment_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<HistoryRecord>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT h.service_id, h.deployed_at AS "deployed_at: DateTime<Utc>", h.commit_times,
                      (coalesce(h.branch, '') LIKE 'hotfix/%'
                       OR coalesce(h.commit_message, '') ILIKE 'hotfix%'
                       OR coalesce(h.commit_message, '') ILIKE '%hotfix/%'
                       OR EXISTS (SELECT 1 FROM hotfixes f
                                  WHERE f.service_id = h.service_id AND f.head_sha = h.commit_sha))
                      AS "hotfix!"
               FROM deployment_history h
               WHERE h.environment_id = $1 AND h.deployed_at >= $2
               ORDER BY h.deployed_at, h.id
               LIMIT $3"#,
            environment_id,
            since as _,
            HISTORY_LIMIT
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|r| {
                let commit_times = r
                    .commit_times
                    .map(|t| stored("commit times", serde_json::from_value(t)))
                    .transpose()?;
                Ok(HistoryRecord {
                    service_id: r.service_id,
                    deployed_at: r.deployed_at,
                    commit_times,
                    hotfix: r.hotfix,
                })
            })
            .collect()
    }

    async fn outage_history(
        &self,
        environment_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<OutageRecord>, StoreError> {
        sqlx::query_as!(
            OutageRecord,
            r#"SELECT service_id, environment_id, started_at AS "started_at: DateTime<Utc>",
                      ended_at AS "ended_at: DateTime<Utc>", issue_url
               FROM outages
               WHERE environment_id = $1 AND (ended_at IS NULL OR ended_at >= $2)
               ORDER BY started_at, id
               LIMIT $3"#,
            environment_id,
            since as _,
            HISTORY_LIMIT
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)
    }
}

/// The recorded deployment of one service in one environment.
pub async fn deployment(
    pool: &PgPool,
    service_id: &str,
    environment_id: &str,
) -> Result<Option<DeploymentRecord>, StoreError> {
    sqlx::query_as!(
        DeploymentRow,
        r#"SELECT service_id, environment_id, pipeline, commit_sha, commit_message, branch,
                  revision_url, tag, deployed_execution,
                  deployed_at AS "deployed_at: DateTime<Utc>", latest_execution,
                  latest_status, actions, problem
           FROM deployments WHERE service_id = $1 AND environment_id = $2"#,
        service_id,
        environment_id
    )
    .fetch_optional(pool)
    .await
    .map_err(store_error)?
    .map(DeploymentRow::parse)
    .transpose()
}

/// Writes a deployment; the row (and the board's notification) changes
/// only when something in it did. Returns whether it changed.
pub async fn save_deployment(pool: &PgPool, d: &DeploymentRecord) -> Result<bool, StoreError> {
    let actions = stored("pipeline actions", serde_json::to_value(&d.actions))?;
    let done = sqlx::query!(
        r#"INSERT INTO deployments (service_id, environment_id, pipeline, commit_sha,
               commit_message, branch, revision_url, tag, deployed_execution, deployed_at,
               latest_execution, latest_status, actions, problem)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (service_id, environment_id) DO UPDATE SET
               pipeline = EXCLUDED.pipeline, commit_sha = EXCLUDED.commit_sha,
               commit_message = EXCLUDED.commit_message, branch = EXCLUDED.branch,
               revision_url = EXCLUDED.revision_url, tag = EXCLUDED.tag,
               deployed_execution = EXCLUDED.deployed_execution,
               deployed_at = EXCLUDED.deployed_at, latest_execution = EXCLUDED.latest_execution,
               latest_status = EXCLUDED.latest_status, actions = EXCLUDED.actions,
               problem = EXCLUDED.problem
           WHERE (deployments.pipeline, deployments.commit_sha, deployments.commit_message,
                  deployments.branch, deployments.revision_url, deployments.tag,
                  deployments.deployed_execution, deployments.deployed_at,
                  deployments.latest_execution, deployments.latest_status, deployments.actions,
                  deployments.problem)
                 IS DISTINCT FROM
                 (EXCLUDED.pipeline, EXCLUDED.commit_sha, EXCLUDED.commit_message,
                  EXCLUDED.branch, EXCLUDED.revision_url, EXCLUDED.tag,
                  EXCLUDED.deployed_execution, EXCLUDED.deployed_at, EXCLUDED.latest_execution,
                  EXCLUDED.latest_status, EXCLUDED.actions, EXCLUDED.problem)"#,
        d.service_id,
        d.environment_id,
        d.pipeline,
        d.commit,
        d.message,
        d.branch,
        d.revision_url,
        d.tag,
        d.deployed_execution,
        d.deployed_at as _,
        d.latest_execution,
        d.latest_status,
        actions,
        d.problem
    )
    .execute(pool)
    .await
    .map_err(store_error)?;
    Ok(done.rows_affected() > 0)
}

/// Writes (or, with `None`, removes) the gap of one environment.
pub async fn save_gap(
    pool: &PgPool,
    service_id: &str,
    environment_id: &str,
    gap: Option<&GapRecord>,
) -> Result<(), StoreError> {
    match gap {
        None => {
            sqlx::query!(
                "DELETE FROM commit_gaps WHERE service_id = $1 AND environment_id = $2",
                service_id,
                environment_id
            )
            .execute(pool)
            .await
            .map_err(store_error)?;
        }
        Some(g) => {
            let commits = stored("gap commits", serde_json::to_value(&g.commits))?;
            sqlx::query!(
                "INSERT INTO commit_gaps (service_id, environment_id, ahead_of, base_sha,
                     head_sha, behind_by, commits)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (service_id, environment_id) DO UPDATE SET
                     ahead_of = EXCLUDED.ahead_of, base_sha = EXCLUDED.base_sha,
                     head_sha = EXCLUDED.head_sha, behind_by = EXCLUDED.behind_by,
                     commits = EXCLUDED.commits
                 WHERE (commit_gaps.ahead_of, commit_gaps.base_sha, commit_gaps.head_sha,
                        commit_gaps.behind_by, commit_gaps.commits)
                       IS DISTINCT FROM
                       (EXCLUDED.ahead_of, EXCLUDED.base_sha, EXCLUDED.head_sha,
                        EXCLUDED.behind_by, EXCLUDED.commits)",
                g.service_id,
                g.environment_id,
                g.ahead_of,
                g.base_sha,
                g.head_sha,
                i32::try_from(g.behind_by).unwrap_or(i32::MAX),
                commits
            )
            .execute(pool)
            .await
            .map_err(store_error)?;
        }
    }
    Ok(())
}

/// The key each stored hotfix answer was computed from, by branch.
pub async fn hotfix_keys(
    pool: &PgPool,
    service_id: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query!(
        "SELECT branch, checked_key FROM hotfixes WHERE service_id = $1",
        service_id
    )
    .fetch_all(pool)
    .await
    .map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.branch, r.checked_key))
        .collect())
}

/// Writes one hotfix branch's answers.
pub async fn save_hotfix(pool: &PgPool, h: &HotfixRecord, key: &str) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO hotfixes (service_id, branch, head_sha, in_release_env, merged_develop,
             release_branch, merged_release, checked_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (service_id, branch) DO UPDATE SET
             head_sha = EXCLUDED.head_sha, in_release_env = EXCLUDED.in_release_env,
             merged_develop = EXCLUDED.merged_develop, release_branch = EXCLUDED.release_branch,
             merged_release = EXCLUDED.merged_release, checked_key = EXCLUDED.checked_key
         WHERE hotfixes.checked_key IS DISTINCT FROM EXCLUDED.checked_key",
        h.service_id,
        h.branch,
        h.head_sha,
        h.in_release_env,
        h.merged_develop,
        h.release_branch,
        h.merged_release,
        key
    )
    .execute(pool)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Forgets hotfix branches of a service that no longer exist.
pub async fn drop_hotfixes_except(
    pool: &PgPool,
    service_id: &str,
    branches: &[String],
) -> Result<(), StoreError> {
    sqlx::query!(
        "DELETE FROM hotfixes WHERE service_id = $1 AND NOT (branch = ANY($2))",
        service_id,
        branches
    )
    .execute(pool)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// A probed URL as last recorded.
pub async fn probe_state(
    pool: &PgPool,
    service_id: &str,
    environment_id: &str,
) -> Result<ProbeState, StoreError> {
    let row = sqlx::query!(
        r#"SELECT up, streak, streak_since AS "streak_since: DateTime<Utc>"
           FROM health_status WHERE service_id = $1 AND environment_id = $2"#,
        service_id,
        environment_id
    )
    .fetch_optional(pool)
    .await
    .map_err(store_error)?;
    Ok(row.map_or_else(ProbeState::default, |r| ProbeState {
        up: r.up,
        streak: u32::try_from(r.streak).unwrap_or(0),
        streak_since: r.streak_since,
    }))
}

/// One probe's result. With a state change, also the change, and the outage
/// opened or closed (when `counts_downtime`), in the same transaction.
/// Returns the outage id opened or closed.
#[allow(clippy::too_many_arguments)]
pub async fn record_probe(
    pool: &PgPool,
    service_id: &str,
    environment_id: &str,
    url: &str,
    state: &ProbeState,
    change: Option<app::domain::health::Transition>,
    at: DateTime<Utc>,
    detail: &str,
    counts_downtime: bool,
    ticket: bool,
) -> Result<Option<i64>, StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    let since = change.map(|c| c.since);
    sqlx::query!(
        "INSERT INTO health_status (service_id, environment_id, url, up, since, streak,
             streak_since, checked_at, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (service_id, environment_id) DO UPDATE SET
             url = EXCLUDED.url, up = EXCLUDED.up,
             since = COALESCE(EXCLUDED.since, health_status.since),
             streak = EXCLUDED.streak, streak_since = EXCLUDED.streak_since,
             checked_at = EXCLUDED.checked_at, detail = EXCLUDED.detail
         -- A probe that agrees with the last one changes nothing worth a write.
         WHERE (health_status.url, health_status.up, health_status.streak,
                health_status.streak_since, health_status.detail)
               IS DISTINCT FROM
               (EXCLUDED.url, EXCLUDED.up, EXCLUDED.streak, EXCLUDED.streak_since,
                EXCLUDED.detail)
            OR EXCLUDED.since IS NOT NULL",
        service_id,
        environment_id,
        url,
        state.up,
        since as _,
        i32::try_from(state.streak).unwrap_or(i32::MAX),
        state.streak_since as _,
        at as _,
        detail
    )
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    let mut outage = None;
    if let Some(change) = change {
        sqlx::query!(
            "INSERT INTO health_changes (service_id, environment_id, up, at, detail)
             VALUES ($1, $2, $3, $4, $5)",
            service_id,
            environment_id,
            change.up,
            change.since as _,
            detail
        )
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if counts_downtime && !change.up {
            outage = sqlx::query_scalar!(
                "INSERT INTO outages (service_id, environment_id, started_at, ticket)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (service_id, environment_id) WHERE ended_at IS NULL DO NOTHING
                 RETURNING id",
                service_id,
                environment_id,
                change.since as _,
                ticket
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        } else if change.up {
            outage = sqlx::query_scalar!(
                "UPDATE outages SET ended_at = GREATEST($3, started_at)
                 WHERE service_id = $1 AND environment_id = $2 AND ended_at IS NULL
                 RETURNING id",
                service_id,
                environment_id,
                change.since as _
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        }
    }
    tx.commit().await.map_err(store_error)?;
    Ok(outage)
}

/// An outage whose Critical ticket still needs work: opened without an
/// issue yet, or ended with its issue not closed yet.
#[derive(Debug, Clone)]
pub struct TicketWork {
    pub outage_id: i64,
    pub service_id: String,
    pub environment_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub issue_number: Option<i64>,
    pub issue_url: Option<String>,
}

/// Outages whose ticket is not where it should be.
pub async fn ticket_work(pool: &PgPool) -> Result<Vec<TicketWork>, StoreError> {
    sqlx::query_as!(
        TicketWork,
        r#"SELECT id AS outage_id, service_id, environment_id,
                  started_at AS "started_at: DateTime<Utc>", ended_at AS "ended_at: DateTime<Utc>",
                  issue_number, issue_url
           FROM outages
           WHERE ticket AND ((ended_at IS NULL AND issue_number IS NULL)
                 OR (ended_at IS NOT NULL AND issue_number IS NOT NULL AND NOT issue_closed)
                 OR (ended_at IS NULL AND issue_number IS NOT NULL AND issue_closed))
           ORDER BY id"#
    )
    .fetch_all(pool)
    .await
    .map_err(store_error)
}

/// The ticket of the last outage of a cell that ended after `after`, to
/// reopen instead of opening another: (issue number, url).
pub async fn recent_ticket(
    pool: &PgPool,
    service_id: &str,
    environment_id: &str,
    exclude_outage: i64,
    after: DateTime<Utc>,
) -> Result<Option<(i64, String)>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT issue_number AS "issue_number!", issue_url AS "issue_url!" FROM outages
           WHERE service_id = $1 AND environment_id = $2 AND id <> $3
             AND issue_number IS NOT NULL AND issue_url IS NOT NULL AND ended_at > $4
           ORDER BY ended_at DESC LIMIT 1"#,
        service_id,
        environment_id,
        exclude_outage,
        after as _
    )
    .fetch_optional(pool)
    .await
    .map_err(store_error)?;
    Ok(row.map(|r| (r.issue_number, r.issue_url)))
}

/// Records the issue an outage's ticket is, open.
pub async fn set_ticket(
    pool: &PgPool,
    outage_id: i64,
    number: i64,
    url: &str,
    audit: &NewAudit,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    sqlx::query!(
        "UPDATE outages SET issue_number = $2, issue_url = $3, issue_closed = false WHERE id = $1",
        outage_id,
        number,
        url
    )
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    super::audit::append(&mut tx, audit)
        .await
        .map_err(store_error)?;
    super::audit::commit_and_chain(tx, pool)
        .await
        .map_err(store_error)
}

/// Records that an outage's ticket was commented on and closed.
pub async fn ticket_closed(
    pool: &PgPool,
    outage_id: i64,
    audit: &NewAudit,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    sqlx::query!(
        "UPDATE outages SET issue_closed = true WHERE id = $1",
        outage_id
    )
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    super::audit::append(&mut tx, audit)
        .await
        .map_err(store_error)?;
    super::audit::commit_and_chain(tx, pool)
        .await
        .map_err(store_error)
}

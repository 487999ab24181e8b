//! The audit log in Postgres: appending, chaining the appended rows just
//! after their writer commits (`audit_chain_pending()`, migration 016), and
//! the Audit page's filtered, keyset-paginated reads of chained rows.

use super::{store_error, PgStore};
use app::domain::audit::{AuditEntry, AuditQuery, AuditVerification, Person};
use app::ssr::ports::{AuditStore, NewAudit, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

/// Longest summary kept, in characters.
pub const SUMMARY_CHARS: usize = 1000;
/// Largest details kept, in bytes of JSON.
pub const DETAILS_BYTES: usize = 60_000;
/// Longest detail value the page shows, in characters.
const DETAIL_VALUE_CHARS: usize = 600;
/// Details the page shows per row.
const DETAILS_SHOWN: usize = 40;

fn cut(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(chars.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Chains the committed rows not yet chained, waiting for another chainer
/// to finish first; how many it chained.
pub async fn chain_pending(pool: &sqlx::PgPool) -> Result<i64, sqlx::Error> {
    let chained: Option<i64> = sqlx::query_scalar("SELECT audit_chain_pending(true)")
        .fetch_one(pool)
        .await?;
    Ok(chained.unwrap_or(0))
}

/// Commits `tx`, which appended audit rows, then chains them (and any
/// other writer's) unless another session is chaining right now: then
/// that one, the next writer or the process's quarter-second pass does,
/// and nobody queues behind anybody. Without another writer at the same
/// moment, the rows are on the Audit page when this returns. A failure to
/// chain is logged, not returned (the write is committed).
pub async fn commit_and_chain(
    tx: sqlx::Transaction<'_, Postgres>,
    pool: &sqlx::PgPool,
) -> Result<(), sqlx::Error> {
    tx.commit().await?;
    try_chain(pool).await;
    Ok(())
}

/// Chains the committed rows not yet chained unless another session is
/// chaining right now (see [`commit_and_chain`]); a failure is logged.
pub async fn try_chain(pool: &sqlx::PgPool) {
    let tried: Result<Option<i64>, _> = sqlx::query_scalar("SELECT audit_chain_pending(false)")
        .fetch_one(pool)
        .await;
    if let Err(err) = tried {
        tracing::warn!(error = %err, "audit rows committed, not chained yet; the next pass chains them");
    }
}

/// Appends one row within the caller's transaction (or alone); it is
/// chained after the transaction commits (see [`commit_and_chain`]).
pub async fn append(conn: &mut PgConnection, entry: &NewAudit) -> Result<(), sqlx::Error> {
    let actor_id = entry
        .actor
        .as_ref()
        .and_then(|a| Uuid::parse_str(&a.user_id).ok());
    let roles = entry
        .actor
        .as_ref()
        .map(|a| a.roles.clone())
        .unwrap_or_default();
    let details = match serde_json::to_string(&entry.details) {
        Ok(text) if text.len() <= DETAILS_BYTES => entry.details.clone(),
        Ok(text) => {
            serde_json::json!({ "cut": format!("{} bytes of details were too many to keep", text.len()) })
        }
        Err(_) => serde_json::json!({}),
    };
    sqlx::query(
        r#"INSERT INTO audit_log (event, actor_id, actor_name, actor_roles, team, environment, service,
               pipeline, subject, summary, details)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
    )
    .bind(entry.kind)
    .bind(actor_id)
    .bind(entry.actor.as_ref().map(|a| a.display_name.clone()))
    .bind(&roles)
    .bind(&entry.team)
    .bind(&entry.environment)
    .bind(&entry.service)
    .bind(&entry.pipeline)
    .bind(entry.subject.as_deref().map(|s| cut(s, 500)))
    .bind(cut(&entry.summary, SUMMARY_CHARS))
    .bind(details)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: DateTime<Utc>,
    event: String,
    actor_id: Option<Uuid>,
    actor_name: Option<String>,
    actor_roles: Vec<String>,
    team: Option<String>,
    environment: Option<String>,
    service: Option<String>,
    pipeline: Option<String>,
    request_id: Option<Uuid>,
    subject: Option<String>,
    summary: String,
    stage: Option<String>,
    action: Option<String>,
    execution_id: Option<String>,
    revision: Option<String>,
    decision: Option<String>,
    comment: Option<String>,
    sign_off: Option<String>,
    aws_result: Option<String>,
    details: String,
    hash: String,
    prev_hash: String,
}

/// A details key as words: `after_date` is "After date".
fn detail_name(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn detail_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn entry(r: Row) -> AuditEntry {
    let mut details: Vec<(String, String)> = Vec::new();
    for (name, value) in [
        ("Decision", r.decision),
        ("Comment", r.comment),
        ("Stage", r.stage),
        ("Action", r.action),
        ("Execution", r.execution_id),
        ("Revision", r.revision),
        ("CodePipeline answered", r.aws_result),
        ("Sign-off", r.sign_off),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            details.push((name.to_owned(), cut(&v, DETAIL_VALUE_CHARS)));
        }
    }
    if !r.actor_roles.is_empty() {
        details.push(("Roles".into(), r.actor_roles.join(", ")));
    }
    match serde_json::from_str::<serde_json::Value>(&r.details) {
        Ok(serde_json::Value::Object(map)) => {
            for (name, value) in map {
                details.push((
                    detail_name(&name),
                    cut(&detail_value(&value), DETAIL_VALUE_CHARS),
                ));
            }
        }
        Ok(serde_json::Value::Null) | Err(_) => {}
        Ok(other) => details.push((
            "Details".into(),
            cut(&other.to_string(), DETAIL_VALUE_CHARS),
        )),
    }
    details.truncate(DETAILS_SHOWN);
    AuditEntry {
        seq: r.seq,
        at: r.at,
        kind: r.event,
        actor_id: r.actor_id.map(|id| id.to_string()),
        actor_name: r.actor_name,
        actor_roles: r.actor_roles,
        team: r.team,
        environment: r.environment,
        service: r.service,
        pipeline: r.pipeline,
        request_id: r.request_id.map(|id| id.to_string()),
        subject: r.subject,
        summary: r.summary,
        details,
        hash: r.hash,
        prev_hash: r.prev_hash,
    }
}

/// The WHERE clause of `query` (every filter given, and the developer's
/// teams), pushed onto `sql`. Only given filters appear, so each query
/// can use its own index.
pub fn push_filters(sql: &mut QueryBuilder<'_, Postgres>, query: &AuditQuery) {
    // Only chained rows: a row is on the page once it has its place.
    sql.push(" WHERE seq IS NOT NULL");
    if let Some(p) = query
        .person
        .as_deref()
        .and_then(|p| Uuid::parse_str(p).ok())
    {
        sql.push(" AND actor_id = ").push_bind(p);
    }
    for (column, value) in [
        ("team", &query.team),
        ("environment", &query.environment),
        ("service", &query.service),
        (
            "event",
            &query
                .kind
                .clone()
                .filter(|k| k != app::domain::audit::ALL_KINDS),
        ),
    ] {
        if let Some(v) = value {
            sql.push(format!(" AND {column} = ")).push_bind(v.clone());
        }
    }
    if query.hide_routine && query.kind.is_none() {
        let routine: Vec<String> = app::domain::audit::ROUTINE
            .iter()
            .map(|k| (*k).to_owned())
            .collect();
        sql.push(" AND event <> ALL(").push_bind(routine).push(")");
    }
    if let Some(teams) = &query.only_teams {
        sql.push(" AND team = ANY(")
            .push_bind(teams.clone())
            .push(")");
    }
    // Times rise with sequence numbers (the chainer sees to it),
    // so a time range is also a range of rows, which the newest-first scan
    // can start and stop at.
    if let Some(from) = query
        .from
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
    {
        sql.push(" AND at >= ").push_bind(from);
        sql.push(
            " AND seq >= COALESCE((SELECT seq FROM audit_log WHERE seq IS NOT NULL AND at >= ",
        )
        .push_bind(from)
        .push(" ORDER BY at, seq LIMIT 1), 9223372036854775807)");
    }
    if let Some(to) = query
        .to
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
    {
        sql.push(" AND at < ").push_bind(to);
        sql.push(" AND seq <= COALESCE((SELECT seq FROM audit_log WHERE seq IS NOT NULL AND at < ")
            .push_bind(to)
            .push(" ORDER BY at DESC, seq DESC LIMIT 1), 0)");
    }
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append(&self, entry: &NewAudit) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        append(&mut tx, entry).await.map_err(store_error)?;
        commit_and_chain(tx, &self.pool).await.map_err(store_error)
    }

    async fn page(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql = QueryBuilder::<Postgres>::new(
            r#"SELECT seq, at, event, actor_id, actor_name, actor_roles, team, environment, service,
                   pipeline, request_id, subject, left(summary, 1000) AS summary, stage, action, execution_id,
                   revision, decision, left(comment, 2000) AS comment,
                   left(sign_off::text, 2000) AS sign_off, left(aws_result, 2000) AS aws_result,
                   CASE WHEN octet_length(details::text) > 16384 THEN '{"details": "too large to show; see the export"}'
                        ELSE details::text END AS details,
                   hash, prev_hash
               FROM audit_log"#,
        );
        push_filters(&mut sql, query);
        if let Some(before) = query.before {
            sql.push(" AND seq < ").push_bind(before);
        }
        sql.push(" ORDER BY seq DESC LIMIT ")
            .push_bind(i64::try_from(query.limit.clamp(1, 201)).unwrap_or(51));
        let rows: Vec<Row> = sql
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(rows.into_iter().map(entry).collect())
    }

    async fn last_verification(&self) -> Result<Option<AuditVerification>, StoreError> {
        type Row = (
            DateTime<Utc>,
            i64,
            i64,
            bool,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT at, checked_to, rows, ok, first_bad, problem, could_not_run
             FROM audit_verifications ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(row.map(
            |(at, checked_to, rows, ok, first_bad, problem, could_not_run)| AuditVerification {
                at,
                checked_to,
                rows,
                ok,
                first_bad,
                problem,
                could_not_run,
            },
        ))
    }

    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT id, display_name FROM users ORDER BY display_name, id LIMIT 500",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| Person {
                id: id.to_string(),
                name,
            })
            .collect())
    }
}

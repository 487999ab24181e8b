//! Approval requests, votes, deliveries and the audit log in Postgres.

use super::{store_error, stored, PgStore};
use app::domain::approval::{Decision, SignOff};
use app::domain::request::{
    ApprovalRequest, DeliveryOutcome, DeliveryRecord, PipelineProblem, RequestState, VoteRecord,
};
use app::ssr::ports::{
    Actor, ApprovalStore, ApprovalTarget, ClaimedDelivery, CommitAuthor, NewRequest, NewVote,
    PendingApproval, RecordedWait, StoreError, VoteCommit,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, Transaction};
use std::collections::HashMap;
use uuid::Uuid;

/// A stored keyword as the domain's value; anything else is corrupt data.
fn keyword<T>(
    parse: impl Fn(&str) -> Result<T, app::domain::ParseError>,
    raw: &str,
) -> Result<T, StoreError> {
    parse(raw).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn request_uuid(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

/// One audit row, with the request's pipeline, stage, action, execution
/// and revision copied from the request.
struct Audit<'a> {
    event: &'a str,
    actor: Option<&'a Actor>,
    request: Uuid,
    decision: Option<&'a str>,
    comment: Option<&'a str>,
    sign_off: Option<serde_json::Value>,
    aws_result: Option<&'a str>,
    /// Words the row's sentence ends with, where its event has them.
    note: Option<&'a str>,
}

async fn audit(conn: &mut PgConnection, a: Audit<'_>) -> Result<(), sqlx::Error> {
    let actor_id = a.actor.and_then(|x| Uuid::parse_str(&x.user_id).ok());
    let roles = a.actor.map(|x| x.roles.clone()).unwrap_or_default();
    let (lead, tail) = summary(&a);
    // audit_request (migration 021) copies the request's fields.
    sqlx::query!(
        "SELECT audit_request($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        a.request,
        a.event,
        actor_id,
        a.actor.map(|x| x.display_name.clone()),
        &roles,
        a.decision,
        a.comment,
        a.sign_off,
        a.aws_result,
        lead,
        tail,
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// One audit row of a vote's transaction, as `cast_vote` (migration 021)
/// appends it: by the voter, about the request.
fn vote_audit(a: &Audit<'_>) -> serde_json::Value {
    let (lead, tail) = summary(a);
    serde_json::json!({
        "event": a.event,
        "decision": a.decision,
        "comment": a.comment,
        "sign_off": a.sign_off,
        "lead": lead,
        "tail": tail,
    })
}

/// The row's sentence, as the words before and after the request's
/// pipeline (which the INSERT reads from the request): a name is never
/// taken for a placeholder.
fn summary(a: &Audit<'_>) -> (String, String) {
    let who = a.actor.map_or("Gatehouse", |x| x.display_name.as_str());
    let decided = match a.decision {
        Some("approve") => "approved",
        Some("reject") => "rejected",
        Some(other) => other,
        None => "decided",
    };
    let (lead, tail) = match a.event {
        "requested" => (String::new(), " is waiting for approval".to_owned()),
        "vote" => (format!("{who} voted: {decided} on "), String::new()),
        "decision" => (String::new(), format!(" {decided} ({who} decided)")),
        "closed" => (
            "The approval of ".to_owned(),
            " closed without a decision".to_owned(),
        ),
        "author_unknown" => (
            format!("{who} voted on "),
            " while GitHub could not say who wrote the change: one more approver is needed"
                .to_owned(),
        ),
        "aws_delivered" => (
            "CodePipeline took the decision on ".to_owned(),
            format!(" ({decided})"),
        ),
        "aws_reconciled" => (
            "CodePipeline already had the decision on ".to_owned(),
            format!(" ({decided}); nothing was sent again"),
        ),
        "aws_failed" => (
            "CodePipeline refused the decision on ".to_owned(),
            format!(" ({decided})"),
        ),
        "aws_error" => (
            "Sending the decision on ".to_owned(),
            " to CodePipeline failed; it will be tried again".to_owned(),
        ),
        "rerun" => (format!("{who} started a new run of "), String::new()),
        "override" => (
            format!("{who} overrode the Prod plan to approve "),
            a.note.unwrap_or_default().to_owned(),
        ),
        other => (format!("{other} on "), String::new()),
    };
    (lead, tail)
}

/// A request as read, with its service's, team's and environment's names.
/// Read by id, its votes (JSON) and its delivery come in the same row; a
/// list reads them for all its rows at once afterwards.
struct ItemRow {
    id: Uuid,
    service_id: String,
    service_name: String,
    team_id: String,
    team_name: String,
    environment_id: String,
    environment_name: String,
    environment_position: i32,
    pipeline: String,
    stage: String,
    action: String,
    execution_id: String,
    commit_sha: String,
    commit_message: Option<String>,
    branch: Option<String>,
    commit_url: Option<String>,
    author_login: Option<String>,
    author_name: Option<String>,
    author_checked: bool,
    author_id: Option<i64>,
    author_email: Option<String>,
    requested_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    state: String,
    closed_reason: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    votes: Option<serde_json::Value>,
    delivery_decision: Option<String>,
    delivery_outcome: Option<String>,
    delivery_aws_result: Option<String>,
}

/// A vote as the by-id read gives it.
#[derive(serde::Deserialize)]
struct VoteJson {
    user_id: String,
    person: String,
    author_unknown: bool,
    display_name: String,
    decision: String,
    comment: String,
    sign_off: serde_json::Value,
    at: DateTime<Utc>,
}

fn vote_record(v: VoteJson) -> Result<VoteRecord, StoreError> {
    Ok(VoteRecord {
        user_id: v.user_id,
        person: v.person,
        author_unknown: v.author_unknown,
        display_name: v.display_name,
        decision: keyword(Decision::parse, &v.decision)?,
        comment: v.comment,
        sign_off: stored("sign-off", serde_json::from_value::<SignOff>(v.sign_off))?,
        at: v.at,
    })
}

fn delivery_record(
    decision: &str,
    outcome: Option<&str>,
    aws_result: Option<String>,
) -> Result<DeliveryRecord, StoreError> {
    Ok(DeliveryRecord {
        decision: keyword(Decision::parse, decision)?,
        outcome: outcome
            .map(|o| keyword(DeliveryOutcome::parse, o))
            .transpose()?,
        aws_result,
    })
}

fn item(
    r: ItemRow,
    votes: Vec<VoteRecord>,
    delivery: Option<DeliveryRecord>,
) -> Result<ApprovalRequest, StoreError> {
    Ok(ApprovalRequest {
        id: r.id.to_string(),
        service_id: r.service_id,
        service_name: r.service_name,
        team_id: r.team_id,
        team_name: r.team_name,
        environment_id: r.environment_id,
        environment_name: r.environment_name,
        environment_position: r.environment_position,
        pipeline: r.pipeline,
        stage: r.stage,
        action: r.action,
        execution_id: r.execution_id,
        commit: r.commit_sha,
        commit_message: r.commit_message,
        branch: r.branch,
        commit_url: r.commit_url,
        author_login: r.author_login,
        author_name: r.author_name,
        author_github_id: r.author_id.and_then(|id| u64::try_from(id).ok()),
        author_email: r.author_email,
        author_checked: r.author_checked,
        requested_at: r.requested_at,
        expires_at: r.expires_at,
        state: keyword(RequestState::parse, &r.state)?,
        closed_reason: r.closed_reason,
        decided_at: r.decided_at,
        votes,
        delivery,
    })
}

impl PgStore {
    /// One request with its votes and delivery, in one statement (a vote
    /// reads its request this way).
    async fn item_by_id(&self, id: Uuid) -> Result<Option<ApprovalRequest>, StoreError> {
        let row = sqlx::query_as!(
            ItemRow,
            r#"SELECT r.id, r.service_id, s.name AS service_name, t.id AS team_id, t.name AS team_name,
                      r.environment_id, e.name AS environment_name, e.position AS environment_position,
                      r.pipeline, r.stage, r.action, r.execution_id, r.commit_sha,
                      left(r.commit_message, 1000) AS commit_message, r.branch, r.commit_url, r.author_login, r.author_name, r.author_checked, r.author_id, r.author_email,
                      r.requested_at AS "requested_at: DateTime<Utc>", r.expires_at AS "expires_at: DateTime<Utc>",
                      r.state, r.closed_reason, r.decided_at AS "decided_at: DateTime<Utc>",
                      v.votes, d.decision AS "delivery_decision?", d.outcome AS delivery_outcome,
                      left(d.aws_result, 2000) AS delivery_aws_result
               FROM approval_requests r
               JOIN services s ON s.id = r.service_id
               JOIN teams t ON t.id = s.team_id
               JOIN environments e ON e.id = r.environment_id
               LEFT JOIN approval_deliveries d ON d.request_id = r.id
               LEFT JOIN LATERAL (
                   SELECT jsonb_agg(jsonb_build_object(
                              'user_id', v.user_id, 'person', v.person, 'author_unknown', v.author_unknown,
                              'display_name', u.display_name, 'decision', v.decision,
                              'comment', left(v.comment, 2000),
                              'sign_off', CASE WHEN octet_length(v.sign_off::text) > 16384
                                               THEN '{"marks": [], "evidence": []}'::jsonb ELSE v.sign_off END,
                              'at', v.created_at) ORDER BY v.created_at) AS votes
                   FROM approval_votes v JOIN users u ON u.id = v.user_id
                   WHERE v.request_id = r.id) v ON true
               WHERE r.id = $1"#,
            id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        let Some(mut row) = row else {
            return Ok(None);
        };
        let votes = match row.votes.take() {
            Some(json) => stored("votes", serde_json::from_value::<Vec<VoteJson>>(json))?
                .into_iter()
                .map(vote_record)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let delivery = match row.delivery_decision.take() {
            Some(decision) => Some(delivery_record(
                &decision,
                row.delivery_outcome.as_deref(),
                row.delivery_aws_result.take(),
            )?),
            None => None,
        };
        item(row, votes, delivery).map(Some)
    }

    /// Requests with their service, team and environment; pending or not,
    /// newest first.
    async fn items(
        &self,
        pending: bool,
        limit: i64,
        before: Option<(DateTime<Utc>, Uuid)>,
    ) -> Result<Vec<ApprovalRequest>, StoreError> {
        // Free text is read within its bounds whatever was stored before
        // the bounds existed: a page's size never depends on what one
        // person typed.
        let rows = sqlx::query_as!(
            ItemRow,
            r#"SELECT r.id, r.service_id, s.name AS service_name, t.id AS team_id, t.name AS team_name,
                      r.environment_id, e.name AS environment_name, e.position AS environment_position,
                      r.pipeline, r.stage, r.action, r.execution_id, r.commit_sha,
                      left(r.commit_message, 1000) AS commit_message, r.branch, r.commit_url, r.author_login, r.author_name, r.author_checked, r.author_id, r.author_email,
                      r.requested_at AS "requested_at: DateTime<Utc>", r.expires_at AS "expires_at: DateTime<Utc>",
                      r.state, r.closed_reason, r.decided_at AS "decided_at: DateTime<Utc>",
                      NULL::jsonb AS votes, NULL::text AS delivery_decision, NULL::text AS delivery_outcome,
                      NULL::text AS delivery_aws_result
               FROM approval_requests r
               JOIN services s ON s.id = r.service_id
               JOIN teams t ON t.id = s.team_id
               JOIN environments e ON e.id = r.environment_id
               WHERE (r.state = 'pending') = $1
                 AND ($3::timestamptz IS NULL OR (COALESCE(r.decided_at, r.requested_at), r.id) < ($3, $4))
               ORDER BY COALESCE(r.decided_at, r.requested_at) DESC, r.id DESC
               LIMIT $2"#,
            pending,
            limit,
            before.map(|b| b.0) as _,
            before.map(|b| b.1),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();

        let mut votes: HashMap<Uuid, Vec<VoteRecord>> = HashMap::new();
        for v in sqlx::query!(
            r#"SELECT v.request_id, v.user_id, v.person, v.author_unknown, u.display_name, v.decision,
                      left(v.comment, 2000) AS "comment!",
                      CASE WHEN octet_length(v.sign_off::text) > 16384 THEN '{"marks": [], "evidence": []}'::jsonb
                           ELSE v.sign_off END AS "sign_off!",
                      v.created_at AS "created_at: DateTime<Utc>"
               FROM approval_votes v JOIN users u ON u.id = v.user_id
               WHERE v.request_id = ANY($1) ORDER BY v.created_at"#,
            &ids
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?
        {
            votes
                .entry(v.request_id)
                .or_default()
                .push(vote_record(VoteJson {
                    user_id: v.user_id.to_string(),
                    person: v.person,
                    author_unknown: v.author_unknown,
                    display_name: v.display_name,
                    decision: v.decision,
                    comment: v.comment,
                    sign_off: v.sign_off,
                    at: v.created_at,
                })?);
        }
        let mut deliveries: HashMap<Uuid, DeliveryRecord> = HashMap::new();
        for d in sqlx::query!(
            "SELECT request_id, decision, outcome, left(aws_result, 2000) AS aws_result FROM approval_deliveries WHERE request_id = ANY($1)",
            &ids
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?
        {
            deliveries.insert(
                d.request_id,
                delivery_record(&d.decision, d.outcome.as_deref(), d.aws_result)?,
            );
        }
        rows.into_iter()
            .map(|r| {
                let id = r.id;
                item(
                    r,
                    votes.remove(&id).unwrap_or_default(),
                    deliveries.remove(&id),
                )
            })
            .collect()
    }
}

async fn begin(pool: &sqlx::PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    pool.begin().await.map_err(store_error)
}

/// Locks a request and tells whether it is still pending.
async fn lock_pending(conn: &mut PgConnection, request: Uuid) -> Result<bool, StoreError> {
    let state = sqlx::query_scalar!(
        "SELECT state FROM approval_requests WHERE id = $1 FOR UPDATE",
        request
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(state.as_deref() == Some(RequestState::Pending.as_str()))
}

/// Whether a locked request has exactly `expected_votes` committed votes.
///
/// Lock first, count after: under READ COMMITTED a statement that waits for
/// the row lock still reads other tables as of its own start, so a count
/// taken inside the locking statement would miss the vote that the lock
/// holder just committed (two approvers at once would each see the other's
/// vote missing, and a 2-of-M request would never be decided). The count is
/// a later statement, whose snapshot is taken after the lock was granted
/// (a vote counts inside `cast_vote`, migration 021, the same way).
async fn has_votes(
    conn: &mut PgConnection,
    request: Uuid,
    expected_votes: usize,
) -> Result<bool, StoreError> {
    let votes = sqlx::query_scalar!(
        r#"SELECT count(*) AS "votes!" FROM approval_votes WHERE request_id = $1"#,
        request
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(usize::try_from(votes).ok() == Some(expected_votes))
}

/// Records the one decision of a locked, pending request: its delivery row,
/// its state, and the audit row (`actor` `None`: the poller's repair).
async fn record_decision(
    conn: &mut PgConnection,
    request: Uuid,
    actor: Option<&Actor>,
    decision: Decision,
    summary: &str,
) -> Result<(), StoreError> {
    // One round trip: the delivery to make and the request's new state.
    sqlx::query!(
        "WITH delivery AS (
             INSERT INTO approval_deliveries (request_id, decision, summary) VALUES ($1, $2, $3)
         )
         UPDATE approval_requests SET state = $4, decided_at = now() WHERE id = $1",
        request,
        decision.as_str(),
        summary,
        RequestState::decided(decision).as_str()
    )
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    audit(
        conn,
        Audit {
            event: "decision",
            actor,
            request,
            decision: Some(decision.as_str()),
            comment: Some(summary),
            sign_off: None,
            aws_result: None,
            note: None,
        },
    )
    .await
    .map_err(store_error)
}

#[async_trait]
impl ApprovalStore for PgStore {
    async fn upsert_request(&self, new: &NewRequest) -> Result<bool, StoreError> {
        let mut tx = begin(&self.pool).await?;
        let p = &new.pending;
        let inserted = sqlx::query!(
            r#"INSERT INTO approval_requests (id, service_id, environment_id, pipeline, stage, action, execution_id,
                   token, commit_sha, commit_message, branch, commit_url, requested_at, expires_at,
                   author_login, author_name, author_checked, author_id, author_email)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
               ON CONFLICT ON CONSTRAINT approval_requests_execution_key
               DO UPDATE SET token = EXCLUDED.token WHERE approval_requests.token <> EXCLUDED.token
               RETURNING id AS "id!", (xmax = 0) AS "inserted!""#,
            Uuid::new_v4(),
            new.service_id,
            new.environment_id,
            p.target.pipeline,
            p.target.stage,
            p.target.action,
            p.execution_id,
            p.token,
            new.revision.commit,
            new.revision.message,
            new.revision.branch,
            new.revision.url,
            p.requested_at as _,
            new.expires_at as _,
            new.author.as_ref().and_then(|a| a.login.as_deref()),
            new.author.as_ref().map(|a| a.name.as_str()),
            new.author_checked,
            new.author.as_ref().and_then(|a| a.id).and_then(|id| i64::try_from(id).ok()),
            new.author.as_ref().and_then(|a| a.email.as_deref()),
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        let is_new = match inserted {
            Some(row) if row.inserted => {
                let request = row.id;
                audit(
                    &mut tx,
                    Audit {
                        event: "requested",
                        actor: None,
                        request,
                        decision: None,
                        comment: None,
                        sign_off: None,
                        aws_result: None,
                        note: None,
                    },
                )
                .await
                .map_err(store_error)?;
                true
            }
            _ => false,
        };
        // The poller records a thousand of these in a pass: their rows are
        // chained by the next chainer (within a quarter of a second), not
        // one by one.
        tx.commit().await.map_err(store_error)?;
        Ok(is_new)
    }

    async fn set_author(
        &self,
        request_id: &str,
        author: Option<&CommitAuthor>,
    ) -> Result<(), StoreError> {
        let Some(id) = request_uuid(request_id) else {
            return Ok(());
        };
        sqlx::query!(
            r#"UPDATE approval_requests SET author_login = $2, author_name = $3, author_id = $4, author_email = $5,
                   author_checked = true WHERE id = $1"#,
            id,
            author.and_then(|a| a.login.as_deref()),
            author.map(|a| a.name.as_str()),
            author.and_then(|a| a.id).and_then(|id| i64::try_from(id).ok()),
            author.and_then(|a| a.email.as_deref()),
        )
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn is_known(&self, pending: &PendingApproval) -> Result<bool, StoreError> {
        let known = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM approval_requests
                   WHERE pipeline = $1 AND stage = $2 AND action = $3 AND execution_id = $4 AND token = $5) AS "known!""#,
            pending.target.pipeline,
            pending.target.stage,
            pending.target.action,
            pending.execution_id,
            pending.token,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(known)
    }

    async fn recorded_waits(&self) -> Result<Vec<RecordedWait>, StoreError> {
        let rows = sqlx::query!(
            "SELECT pipeline, stage, action, execution_id, token FROM approval_requests
             WHERE state = 'pending'"
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| RecordedWait {
                target: ApprovalTarget {
                    pipeline: r.pipeline,
                    stage: r.stage,
                    action: r.action,
                },
                execution_id: r.execution_id,
                token: r.token,
            })
            .collect())
    }

    async fn close_missing(
        &self,
        target: &ApprovalTarget,
        keep_execution: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut tx = begin(&self.pool).await?;
        let closed = sqlx::query_scalar!(
            r#"UPDATE approval_requests SET state = 'closed', decided_at = now(),
                   closed_reason = 'no longer waiting in CodePipeline (answered there, expired or superseded)'
               WHERE pipeline = $1 AND stage = $2 AND action = $3 AND state = 'pending'
                 AND ($4::text IS NULL OR execution_id <> $4)
               RETURNING id"#,
            target.pipeline,
            target.stage,
            target.action,
            keep_execution,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        for request in &closed {
            audit(
                &mut tx,
                Audit {
                    event: "closed",
                    actor: None,
                    request: *request,
                    decision: None,
                    comment: None,
                    sign_off: None,
                    aws_result: None,
                    note: None,
                },
            )
            .await
            .map_err(store_error)?;
        }
        super::audit::commit_and_chain(tx, &self.pool)
            .await
            .map_err(store_error)?;
        Ok(closed.len() as u64)
    }

    async fn request(&self, id: &str) -> Result<Option<ApprovalRequest>, StoreError> {
        let Some(id) = request_uuid(id) else {
            return Ok(None);
        };
        self.item_by_id(id).await
    }

    async fn pending(&self) -> Result<Vec<ApprovalRequest>, StoreError> {
        self.items(true, 500, None).await
    }

    async fn history(
        &self,
        limit: i64,
        before: Option<(DateTime<Utc>, String)>,
    ) -> Result<Vec<ApprovalRequest>, StoreError> {
        let before = match before {
            Some((at, id)) => match request_uuid(&id) {
                Some(id) => Some((at, id)),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        self.items(false, limit, before).await
    }

    async fn commit_vote(
        &self,
        request_id: &str,
        actor: &Actor,
        expected_votes: usize,
        vote: &NewVote,
        decided: Option<(Decision, String)>,
    ) -> Result<VoteCommit, StoreError> {
        let (Some(request), Ok(user_id)) =
            (request_uuid(request_id), Uuid::parse_str(&actor.user_id))
        else {
            return Ok(VoteCommit::Conflict);
        };
        let sign_off =
            serde_json::to_value(&vote.sign_off).map_err(|e| StoreError::Query(e.to_string()))?;
        let row = |event, decision, comment, sign_off, note| {
            vote_audit(&Audit {
                event,
                actor: Some(actor),
                request,
                decision,
                comment,
                sign_off,
                aws_result: None,
                note,
            })
        };
        let voted = Some(vote.decision.as_str());
        let mut audits = vec![row(
            "vote",
            voted,
            Some(&vote.comment),
            Some(sign_off.clone()),
            None,
        )];
        if vote.author_unknown {
            audits.push(row(
                "author_unknown",
                voted,
                Some("Gatehouse could not establish whether this approver wrote the commit, so this approval does not count alone: one more approver is needed."),
                None,
                None,
            ));
        }
        let override_tail = vote
            .plan_override
            .as_ref()
            .map(|o| format!(" although it is blocked on {}", o.blocked_on.join(", ")));
        if let (Some(plan_override), Some(tail)) = (&vote.plan_override, &override_tail) {
            audits.push(row(
                "override",
                voted,
                Some(&plan_override.reason),
                None,
                Some(tail),
            ));
        }
        if let Some((decision, summary)) = &decided {
            audits.push(row(
                "decision",
                Some(decision.as_str()),
                Some(summary),
                None,
                None,
            ));
        }
        // One statement: the lock, the count of earlier votes (taken after
        // the lock: see `has_votes`), the vote, the decision and the audit
        // rows, committed together or not at all. The vote counts only on
        // top of exactly the votes it was weighed with; a second vote of
        // the same identity or person conflicts too.
        let expected = i64::try_from(expected_votes).unwrap_or(i64::MAX);
        let recorded = sqlx::query_scalar!(
            r#"SELECT cast_vote($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) AS "recorded!""#,
            request,
            user_id,
            actor.person,
            actor.display_name,
            &actor.roles,
            vote.decision.as_str(),
            vote.comment,
            sign_off,
            vote.author_unknown,
            expected,
            serde_json::Value::Array(audits),
            decided.as_ref().map(|(d, _)| d.as_str()),
            decided
                .as_ref()
                .map(|(d, _)| RequestState::decided(*d).as_str()),
            decided.as_ref().map(|(_, summary)| summary.as_str()),
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        if !recorded {
            return Ok(VoteCommit::Conflict);
        }
        match decided {
            Some((decision, _)) => {
                // Its delivery follows at once and chains these rows with
                // its own (or the quarter-second pass does).
                metrics::counter!("gatehouse_decisions_total", "decision" => decision.as_str())
                    .increment(1);
            }
            None => super::audit::try_chain(&self.pool).await,
        }
        Ok(VoteCommit::Recorded)
    }

    async fn decide_pending(
        &self,
        request_id: &str,
        expected_votes: usize,
        decision: Decision,
        summary: &str,
    ) -> Result<VoteCommit, StoreError> {
        let Some(request) = request_uuid(request_id) else {
            return Ok(VoteCommit::Conflict);
        };
        let mut tx = begin(&self.pool).await?;
        if !lock_pending(&mut tx, request).await?
            || !has_votes(&mut tx, request, expected_votes).await?
        {
            return Ok(VoteCommit::Conflict);
        }
        record_decision(&mut tx, request, None, decision, summary).await?;
        super::audit::commit_and_chain(tx, &self.pool)
            .await
            .map_err(store_error)?;
        Ok(VoteCommit::Recorded)
    }

    async fn claim_delivery(
        &self,
        request_id: &str,
        lease: std::time::Duration,
    ) -> Result<Option<ClaimedDelivery>, StoreError> {
        let Some(request) = request_uuid(request_id) else {
            return Ok(None);
        };
        let row = sqlx::query!(
            r#"UPDATE approval_deliveries d
               SET lease_until = now() + make_interval(secs => $2), attempts = d.attempts + 1
               FROM approval_requests r
               WHERE d.request_id = $1 AND r.id = d.request_id AND d.outcome IS NULL
                 AND (d.lease_until IS NULL OR d.lease_until < now())
               RETURNING r.pipeline, r.stage, r.action, r.token, r.execution_id, r.commit_sha, d.decision, d.summary"#,
            request,
            lease.as_secs_f64(),
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|r| {
            Ok(ClaimedDelivery {
                request_id: request_id.to_owned(),
                target: ApprovalTarget {
                    pipeline: r.pipeline,
                    stage: r.stage,
                    action: r.action,
                },
                token: r.token,
                execution_id: r.execution_id,
                commit: r.commit_sha,
                approved: keyword(Decision::parse, &r.decision)? == Decision::Approve,
                summary: r.summary,
            })
        })
        .transpose()
    }

    async fn finish_delivery(
        &self,
        request_id: &str,
        outcome: DeliveryOutcome,
        aws_result: &str,
    ) -> Result<(), StoreError> {
        let Some(request) = request_uuid(request_id) else {
            return Ok(());
        };
        // One statement, so one round trip and no transaction around it:
        // the delivery settled if it is still open, and then (only then)
        // its audit row, worded for the decision the delivery carried.
        let event = format!("aws_{}", outcome.as_str());
        let worded = |decision: &'static str| {
            summary(&Audit {
                event: &event,
                actor: None,
                request,
                decision: Some(decision),
                comment: None,
                sign_off: None,
                aws_result: Some(aws_result),
                note: None,
            })
        };
        let (lead, approved_tail) = worded("approve");
        let (_, rejected_tail) = worded("reject");
        sqlx::query!(
            r#"WITH settled AS (
                   UPDATE approval_deliveries
                   SET outcome = $2, aws_result = $3, completed_at = now(), lease_until = NULL
                   WHERE request_id = $1 AND outcome IS NULL RETURNING decision
               )
               SELECT audit_request($1, $4, NULL, NULL, NULL, settled.decision, NULL, NULL, $3, $5,
                                    CASE settled.decision WHEN 'approve' THEN $6 ELSE $7 END)
               FROM settled"#,
            request,
            outcome.as_str(),
            aws_result,
            event,
            lead,
            approved_tail,
            rejected_tail,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        super::audit::try_chain(&self.pool).await;
        metrics::counter!("gatehouse_deliveries_total", "outcome" => outcome.as_str()).increment(1);
        Ok(())
    }

    async fn release_delivery(&self, request_id: &str, aws_result: &str) -> Result<(), StoreError> {
        let Some(request) = request_uuid(request_id) else {
            return Ok(());
        };
        let mut tx = begin(&self.pool).await?;
        sqlx::query!("UPDATE approval_deliveries SET lease_until = NULL WHERE request_id = $1 AND outcome IS NULL", request)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        audit(
            &mut tx,
            Audit {
                event: "aws_error",
                actor: None,
                request,
                decision: None,
                comment: None,
                sign_off: None,
                aws_result: Some(aws_result),
                note: None,
            },
        )
        .await
        .map_err(store_error)?;
        super::audit::commit_and_chain(tx, &self.pool)
            .await
            .map_err(store_error)
    }

    async fn undelivered(&self) -> Result<Vec<String>, StoreError> {
        let ids = sqlx::query_scalar!(
            r#"SELECT request_id FROM approval_deliveries
               WHERE outcome IS NULL AND (lease_until IS NULL OR lease_until < now()) ORDER BY created_at"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(ids.into_iter().map(|id| id.to_string()).collect())
    }

    async fn replace_pipeline_problems(
        &self,
        problems: &[PipelineProblem],
    ) -> Result<bool, StoreError> {
        let mut tx = begin(&self.pool).await?;
        // Rewritten only when the problems differ: each write notifies every
        // open Approvals page, and the check runs on every poll.
        let held = sqlx::query!(
            r#"SELECT pipeline, service_id, environment_id, problem
               FROM pipeline_problems ORDER BY pipeline FOR UPDATE"#
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        let mut wanted: Vec<_> = problems
            .iter()
            .map(|p| (&p.pipeline, &p.service_id, &p.environment_id, &p.problem))
            .collect();
        wanted.sort();
        wanted.dedup_by(|a, b| a.0 == b.0);
        let same = held.len() == wanted.len()
            && held
                .iter()
                .zip(&wanted)
                .all(|(h, w)| (&h.pipeline, &h.service_id, &h.environment_id, &h.problem) == *w);
        if same {
            tx.commit().await.map_err(store_error)?;
            return Ok(false);
        }
        sqlx::query!("DELETE FROM pipeline_problems")
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        for p in problems {
            sqlx::query!(
                r#"INSERT INTO pipeline_problems (pipeline, service_id, environment_id, problem, checked_at)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pipeline) DO UPDATE SET problem = EXCLUDED.problem"#,
                p.pipeline,
                p.service_id,
                p.environment_id,
                p.problem,
                p.checked_at as _,
            )
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        // Each problem that appeared, changed or went away is audited once.
        let mut changes: Vec<(&str, &str, &str, Option<&str>)> = wanted
            .iter()
            .filter(|w| {
                !held
                    .iter()
                    .any(|h| (&h.pipeline, &h.service_id, &h.environment_id, &h.problem) == **w)
            })
            .map(|w| (w.0.as_str(), w.1.as_str(), w.2.as_str(), Some(w.3.as_str())))
            .collect();
        changes.extend(
            held.iter()
                .filter(|h| !wanted.iter().any(|w| *w.0 == h.pipeline))
                .map(|h| {
                    (
                        h.pipeline.as_str(),
                        h.service_id.as_str(),
                        h.environment_id.as_str(),
                        None,
                    )
                }),
        );
        for (pipeline, service, environment, problem) in changes.into_iter().take(200) {
            let team: Option<String> =
                sqlx::query_scalar("SELECT team_id FROM services WHERE id = $1")
                    .bind(service)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
            let entry = app::ssr::ports::NewAudit {
                kind: "pipeline_problem",
                team,
                environment: Some(environment.to_owned()),
                service: Some(service.to_owned()),
                pipeline: Some(pipeline.to_owned()),
                summary: match problem {
                    Some(p) => format!("{pipeline} cannot be governed as configured: {p}"),
                    None => format!("{pipeline}'s configuration problem is resolved"),
                },
                details: serde_json::json!({ "problem": problem, "resolved": problem.is_none() }),
                ..Default::default()
            };
            super::audit::append(&mut tx, &entry)
                .await
                .map_err(store_error)?;
        }
        super::audit::commit_and_chain(tx, &self.pool)
            .await
            .map_err(store_error)?;
        Ok(true)
    }

    async fn pipeline_problems(&self) -> Result<Vec<PipelineProblem>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT pipeline, service_id, environment_id, problem, checked_at AS "checked_at: DateTime<Utc>"
               FROM pipeline_problems ORDER BY pipeline"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| PipelineProblem {
                pipeline: r.pipeline,
                service_id: r.service_id,
                environment_id: r.environment_id,
                problem: r.problem,
                checked_at: r.checked_at,
            })
            .collect())
    }

    async fn record_rerun(
        &self,
        request_id: &str,
        actor: &Actor,
        execution_id: &str,
    ) -> Result<(), StoreError> {
        let Some(request) = request_uuid(request_id) else {
            return Ok(());
        };
        let mut tx = begin(&self.pool).await?;
        let result = format!("StartPipelineExecution: started execution {execution_id}");
        audit(
            &mut tx,
            Audit {
                event: "rerun",
                actor: Some(actor),
                request,
                decision: None,
                comment: None,
                sign_off: None,
                aws_result: Some(&result),
                note: None,
            },
        )
        .await
        .map_err(store_error)?;
        super::audit::commit_and_chain(tx, &self.pool)
            .await
            .map_err(store_error)
    }
}

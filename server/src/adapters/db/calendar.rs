//! Managers' changes to the release calendar, append-only, and the approval
//! times the calendar counts per release.

use super::{store_error, stored, stored_all, PgStore};
use app::domain::calendar::{Blackout, MilestoneKind, MilestoneMove};
use app::domain::{EnvironmentId, TeamId};
use app::ssr::ports::{
    Actor, CalendarEdit, CalendarStore, NewAudit, StoreError, StoredCalendarEdit,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

#[async_trait]
impl CalendarStore for PgStore {
    async fn edits(&self) -> Result<Vec<StoredCalendarEdit>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT id, at AS "at: DateTime<Utc>", kind, actor_name, actor_roles, reason,
                   release_number, milestone, team_id, before_at AS "before_at: DateTime<Utc>",
                   after_date AS "after_date: NaiveDate", after_time AS "after_time: NaiveTime",
                   blackout_name, first_day AS "first_day: NaiveDate", last_day AS "last_day: NaiveDate", environments
               FROM calendar_changes ORDER BY id"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|r| {
                let edit = match r.kind.as_str() {
                    "move-milestone" => {
                        let missing = || StoreError::Corrupt("incomplete milestone move".into());
                        let release = r.release_number.ok_or_else(missing)?;
                        CalendarEdit::Move {
                            movement: MilestoneMove {
                                release: stored("release number", u32::try_from(release))?,
                                kind: stored(
                                    "milestone",
                                    MilestoneKind::parse(r.milestone.as_deref().unwrap_or("")),
                                )?,
                                team: r
                                    .team_id
                                    .as_deref()
                                    .map(|t| stored("team id", TeamId::parse(t)))
                                    .transpose()?,
                                date: r.after_date.ok_or_else(missing)?,
                                time: r.after_time,
                                reason: r.reason.clone(),
                            },
                            before: r.before_at.ok_or_else(missing)?,
                        }
                    }
                    "add-blackout" => {
                        let missing = || StoreError::Corrupt("incomplete blackout".into());
                        CalendarEdit::Blackout(Blackout {
                            id: format!("change-{}", r.id),
                            name: r.blackout_name.clone().ok_or_else(missing)?,
                            first_day: r.first_day.ok_or_else(missing)?,
                            last_day: r.last_day.ok_or_else(missing)?,
                            reason: r.reason.clone(),
                            environments: stored_all(
                                "environment id",
                                &r.environments.clone().unwrap_or_default(),
                                EnvironmentId::parse,
                            )?,
                        })
                    }
                    other => {
                        return Err(StoreError::Corrupt(format!(
                            "unknown calendar change {other:?}"
                        )))
                    }
                };
                Ok(StoredCalendarEdit {
                    id: r.id,
                    at: r.at,
                    actor_name: r.actor_name,
                    actor_roles: r.actor_roles,
                    reason: r.reason,
                    edit,
                })
            })
            .collect()
    }

    async fn record_edits(
        &self,
        actor: &Actor,
        reason: &str,
        edits: &[CalendarEdit],
    ) -> Result<(), StoreError> {
        let actor_id = Uuid::parse_str(&actor.user_id)
            .map_err(|e| StoreError::Corrupt(format!("actor id: {e}")))?;
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        for edit in edits {
            record_one(&mut tx, actor_id, actor, reason, edit)
                .await
                .map_err(store_error)?;
        }
        super::audit::commit_and_chain(tx, &self.pool)
            .await
            .map_err(store_error)
    }

    async fn approval_times(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, bool)>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT requested_at AS "requested_at: DateTime<Utc>", state = 'pending' AS "pending!"
               FROM approval_requests WHERE requested_at >= $1 AND requested_at < $2"#,
            from as _,
            to as _,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.requested_at, r.pending))
            .collect())
    }
}

/// One change and its audit row, inside the caller's transaction.
async fn record_one(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    actor_id: Uuid,
    actor: &Actor,
    reason: &str,
    edit: &CalendarEdit,
) -> Result<(), sqlx::Error> {
    let audit = match edit {
        CalendarEdit::Move { movement, before } => NewAudit {
            kind: "calendar_move",
            actor: Some(actor.clone()),
            team: movement.team.as_ref().map(ToString::to_string),
            subject: Some(movement.date.to_string()),
            summary: format!(
                "{} moved Release {}'s {} ({}) to {}{}",
                actor.display_name,
                movement.release,
                movement.kind.label(),
                movement
                    .team
                    .as_ref()
                    .map_or_else(|| "every team".to_owned(), |t| t.to_string()),
                movement.date,
                movement
                    .time
                    .map(|t| format!(" {}", t.format("%H:%M")))
                    .unwrap_or_default(),
            ),
            details: serde_json::json!({
                "release": movement.release,
                "milestone": movement.kind.as_str(),
                "team": movement.team.as_ref().map(ToString::to_string),
                "before": before.to_rfc3339(),
                "after_date": movement.date.to_string(),
                "after_time": movement.time.map(|t| t.format("%H:%M").to_string()),
                "reason": reason,
            }),
            ..NewAudit::default()
        },
        CalendarEdit::Blackout(b) => NewAudit {
            kind: "calendar_blackout",
            actor: Some(actor.clone()),
            subject: Some(b.first_day.to_string()),
            summary: format!(
                "{} added the blackout \u{201c}{}\u{201d}, {} to {}",
                actor.display_name, b.name, b.first_day, b.last_day
            ),
            details: serde_json::json!({
                "name": b.name,
                "first_day": b.first_day.to_string(),
                "last_day": b.last_day.to_string(),
                "environments": b.environments.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "reason": reason,
            }),
            ..NewAudit::default()
        },
    };
    match edit {
        CalendarEdit::Move { movement, before } => {
            sqlx::query!(
                r#"INSERT INTO calendar_changes (kind, actor_id, actor_name, actor_roles, reason,
                           release_number, milestone, team_id, before_at, after_date, after_time)
                       VALUES ('move-milestone', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
                actor_id,
                actor.display_name,
                &actor.roles,
                reason,
                i32::try_from(movement.release).unwrap_or(i32::MAX),
                movement.kind.as_str(),
                movement.team.as_ref().map(|t| t.as_str()),
                before as _,
                movement.date as _,
                movement.time as _,
            )
            .execute(&mut **tx)
            .await?;
        }
        CalendarEdit::Blackout(b) => {
            let environments: Vec<String> =
                b.environments.iter().map(ToString::to_string).collect();
            sqlx::query!(
                r#"INSERT INTO calendar_changes (kind, actor_id, actor_name, actor_roles, reason,
                           blackout_name, first_day, last_day, environments)
                       VALUES ('add-blackout', $1, $2, $3, $4, $5, $6, $7, $8)"#,
                actor_id,
                actor.display_name,
                &actor.roles,
                reason,
                b.name,
                b.first_day as _,
                b.last_day as _,
                &environments,
            )
            .execute(&mut **tx)
            .await?;
        }
    }
    super::audit::append(tx, &audit).await
}

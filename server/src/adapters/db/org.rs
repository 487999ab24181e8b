//! The org model in Postgres: synced from configuration, loaded for pages.

use super::{store_error, stored, stored_all, PgStore};
use app::domain::approval::ApprovalRule;
use app::domain::calendar::CalendarConfig;
use app::domain::deploy_dag::Call;
use app::domain::{
    BranchPattern, DeployTrigger, DisplayName, DownPolicy, Environment, EnvironmentId,
    EnvironmentOverride, OrgModel, PipelineMapping, RepoName, RoleKind, Service, ServiceId, Team,
    TeamId, TestType,
};
use app::ssr::ports::{OrgStore, StoreError};
use async_trait::async_trait;
use sqlx::PgPool;
use std::path::Path;

/// Advisory lock key serialising org syncs across replicas starting together.
pub(crate) const ORG_SYNC_LOCK: i64 = 0x6761_7465_0001;
// 0x6761_7465_0004 (113668262264836) chains the audit log (its migration).

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

/// Makes the database's org model equal to `org`, in one transaction.
pub async fn sync_org(pool: &PgPool, org: &OrgModel, source: &Path) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", ORG_SYNC_LOCK)
        .execute(&mut *tx)
        .await?;
    let before: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT applied_model FROM org_settings WHERE singleton")
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
    let after = serde_json::to_value(org).unwrap_or_default();
    let changed = before.as_ref() != Some(&after);
    if changed {
        let mut changes = Vec::new();
        let null = serde_json::Value::Null;
        crate::audit::json_diff(before.as_ref().unwrap_or(&null), &after, "", &mut changes);
        let summary = match &before {
            None => format!(
                "The org configuration was applied from {}: {} teams, {} services, {} environments",
                source.display(),
                org.teams.len(),
                org.services.len(),
                org.environments.len()
            ),
            Some(_) => format!(
                "The org configuration changed at start ({} {}): {}",
                changes.len(),
                if changes.len() == 1 {
                    "change"
                } else {
                    "changes"
                },
                changes
                    .iter()
                    .take(3)
                    .map(|c| c.path.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let entry = app::ssr::ports::NewAudit {
            kind: "org_config",
            subject: Some(source.display().to_string()),
            summary,
            details: serde_json::json!({
                "source": source.display().to_string(),
                "changes": changes.len(),
                "diff": changes.iter().take(crate::audit::DIFF_ENTRIES).map(|c| serde_json::json!({
                    "path": c.path, "before": c.before, "after": c.after,
                })).collect::<Vec<_>>(),
            }),
            ..Default::default()
        };
        super::audit::append(&mut tx, &entry).await?;
    }
    sqlx::query!(
        r#"INSERT INTO org_settings (singleton, name, source_file, synced_at, pipeline_template, approval_stage, approval_action, calendar, prod_plan_strict)
           VALUES (true, $1, $2, now(), $3, $4, $5, $6, $7)
           ON CONFLICT (singleton) DO UPDATE SET name = EXCLUDED.name, source_file = EXCLUDED.source_file, synced_at = now(),
               pipeline_template = EXCLUDED.pipeline_template, approval_stage = EXCLUDED.approval_stage,
               approval_action = EXCLUDED.approval_action, calendar = EXCLUDED.calendar,
               prod_plan_strict = EXCLUDED.prod_plan_strict"#,
        org.name.as_str(),
        source.display().to_string(),
        org.pipelines.template(),
        org.pipelines.approval_stage(),
        org.pipelines.approval_action(),
        sqlx::types::Json(&org.calendar) as _,
        org.prod_plan.strict,
    )
    .execute(&mut *tx)
    .await?;

    let team_ids = org
        .teams
        .iter()
        .map(|t| t.id.to_string())
        .collect::<Vec<_>>();
    sqlx::query!("DELETE FROM teams WHERE NOT (id = ANY($1))", &team_ids)
        .execute(&mut *tx)
        .await?;
    for (position, team) in (0_i32..).zip(&org.teams) {
        sqlx::query!(
            r#"INSERT INTO teams (id, name, position) VALUES ($1, $2, $3)
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, position = EXCLUDED.position"#,
            team.id.as_str(),
            team.name.as_str(),
            position,
        )
        .execute(&mut *tx)
        .await?;
    }

    let service_ids = org
        .services
        .iter()
        .map(|s| s.id.to_string())
        .collect::<Vec<_>>();
    sqlx::query!(
        "DELETE FROM services WHERE NOT (id = ANY($1))",
        &service_ids
    )
    .execute(&mut *tx)
    .await?;
    for (position, service) in (0_i32..).zip(&org.services) {
        sqlx::query!(
            r#"INSERT INTO services (id, team_id, name, repository, position, calls) VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (id) DO UPDATE SET team_id = EXCLUDED.team_id, name = EXCLUDED.name,
                   repository = EXCLUDED.repository, position = EXCLUDED.position, calls = EXCLUDED.calls"#,
            service.id.as_str(),
            service.team.as_str(),
            service.name.as_str(),
            service.repository.to_string(),
            position,
            sqlx::types::Json(&service.calls) as _,
        )
        .execute(&mut *tx)
        .await?;
    }

    let env_ids = org
        .environments
        .iter()
        .map(|e| e.id.to_string())
        .collect::<Vec<_>>();
    sqlx::query!(
        "DELETE FROM environments WHERE NOT (id = ANY($1))",
        &env_ids
    )
    .execute(&mut *tx)
    .await?;
    for env in &org.environments {
        sqlx::query!(
            r#"INSERT INTO environments (id, name, position, usage, test_types, branches, trigger, stakeholders, down_policy,
                   approvers, required_approvals)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, position = EXCLUDED.position,
                   usage = EXCLUDED.usage, test_types = EXCLUDED.test_types, branches = EXCLUDED.branches,
                   trigger = EXCLUDED.trigger, stakeholders = EXCLUDED.stakeholders, down_policy = EXCLUDED.down_policy,
                   approvers = EXCLUDED.approvers, required_approvals = EXCLUDED.required_approvals"#,
            env.id.as_str(),
            env.name.as_str(),
            i32::from(env.position),
            env.usage,
            &strings(&env.test_types),
            &strings(&env.branches),
            env.trigger.as_str(),
            &strings(&env.stakeholders),
            env.down_policy.as_str(),
            env.approval.as_ref().map(|a| strings(&a.approvers)) as Option<Vec<String>>,
            env.approval.as_ref().map(|a| i32::from(a.required)),
        )
        .execute(&mut *tx)
        .await?;
    }

    sqlx::query!("DELETE FROM environment_overrides")
        .execute(&mut *tx)
        .await?;
    for over in &org.overrides {
        sqlx::query!(
            r#"INSERT INTO environment_overrides (team_id, environment_id, branches, trigger, stakeholders)
               VALUES ($1, $2, $3, $4, $5)"#,
            over.team.as_str(),
            over.environment.as_str(),
            over.branches.as_deref().map(strings) as Option<Vec<String>>,
            over.trigger.map(DeployTrigger::as_str),
            over.stakeholders.as_deref().map(strings) as Option<Vec<String>>,
        )
        .execute(&mut *tx)
        .await?;
    }
    if changed {
        sqlx::query("UPDATE org_settings SET applied_model = $1 WHERE singleton")
            .bind(&after)
            .execute(&mut *tx)
            .await?;
    }
    super::audit::commit_and_chain(tx, pool).await
}

#[async_trait]
impl OrgStore for PgStore {
    async fn load_org(&self) -> Result<std::sync::Arc<OrgModel>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        let settings = sqlx::query!(
            r#"SELECT name, pipeline_template, approval_stage, approval_action, prod_plan_strict,
                   calendar AS "calendar: sqlx::types::Json<CalendarConfig>"
               FROM org_settings"#
        )
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?
        .ok_or_else(|| StoreError::Corrupt("the org model has not been synced".into()))?;
        let pipelines = stored(
            "pipeline mapping",
            PipelineMapping::parse(
                &settings.pipeline_template,
                &settings.approval_stage,
                &settings.approval_action,
            ),
        )?;

        let calendar = settings
            .calendar
            .map(|c| c.0)
            .ok_or_else(|| StoreError::Corrupt("the calendar has not been synced".into()))?;

        let teams = sqlx::query!("SELECT id, name FROM teams ORDER BY position")
            .fetch_all(&mut *conn)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|r| {
                Ok(Team {
                    id: stored("team id", TeamId::parse(&r.id))?,
                    name: stored("team name", DisplayName::parse(&r.name))?,
                })
            })
            .collect::<Result<_, StoreError>>()?;

        let services =
            sqlx::query!(r#"SELECT id, team_id, name, repository, calls AS "calls: sqlx::types::Json<Vec<Call>>" FROM services ORDER BY position"#)
                .fetch_all(&mut *conn)
                .await
                .map_err(store_error)?
                .into_iter()
                .map(|r| {
                    Ok(Service {
                        id: stored("service id", ServiceId::parse(&r.id))?,
                        name: stored("service name", DisplayName::parse(&r.name))?,
                        team: stored("service team", TeamId::parse(&r.team_id))?,
                        repository: stored("repository", RepoName::parse(&r.repository))?,
                        calls: r.calls.0,
                    })
                })
                .collect::<Result<_, StoreError>>()?;

        let environments = sqlx::query!(
            r#"SELECT id, name, position, usage, test_types, branches, trigger, stakeholders, down_policy,
                   approvers, required_approvals
               FROM environments ORDER BY position"#
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| {
            Ok(Environment {
                id: stored("environment id", EnvironmentId::parse(&r.id))?,
                name: stored("environment name", DisplayName::parse(&r.name))?,
                position: stored("position", u16::try_from(r.position))?,
                usage: r.usage,
                test_types: stored_all("test type", &r.test_types, TestType::parse)?,
                branches: stored_all("branch", &r.branches, BranchPattern::parse)?,
                trigger: stored("trigger", DeployTrigger::parse(&r.trigger))?,
                stakeholders: stored_all("stakeholder", &r.stakeholders, RoleKind::parse)?,
                down_policy: stored("down policy", DownPolicy::parse(&r.down_policy))?,
                approval: match (r.approvers, r.required_approvals) {
                    (Some(approvers), Some(required)) => Some(ApprovalRule {
                        approvers: stored_all("approver", &approvers, RoleKind::parse)?,
                        required: stored("required approvals", u8::try_from(required))?,
                    }),
                    _ => None,
                },
            })
        })
        .collect::<Result<_, StoreError>>()?;

        let overrides = sqlx::query!(
            r#"SELECT team_id, environment_id, branches, trigger, stakeholders
               FROM environment_overrides ORDER BY team_id, environment_id"#
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| {
            Ok(EnvironmentOverride {
                team: stored("override team", TeamId::parse(&r.team_id))?,
                environment: stored(
                    "override environment",
                    EnvironmentId::parse(&r.environment_id),
                )?,
                branches: r
                    .branches
                    .map(|b| stored_all("branch", &b, BranchPattern::parse))
                    .transpose()?,
                trigger: r
                    .trigger
                    .map(|t| stored("trigger", DeployTrigger::parse(&t)))
                    .transpose()?,
                stakeholders: r
                    .stakeholders
                    .map(|s| stored_all("stakeholder", &s, RoleKind::parse))
                    .transpose()?,
            })
        })
        .collect::<Result<_, StoreError>>()?;

        Ok(std::sync::Arc::new(OrgModel {
            name: stored("org name", DisplayName::parse(&settings.name))?,
            teams,
            services,
            environments,
            overrides,
            pipelines,
            calendar,
            prod_plan: app::domain::ProdPlanConfig {
                strict: settings.prod_plan_strict,
            },
        }))
    }
}

//! Keeps the board's tables current: per service and environment, what the
//! pipeline last deployed and what its actions are doing (CodePipeline),
//! tags and GitHub Actions runs, how many commits each environment lacks of
//! the one before it, and where each hotfix branch has got (GitHub). Rows
//! change only when something did, so the board's live updates fire only
//! then. Runs on the leader only.

use crate::adapters::db::board as store;
use app::domain::{DeployTrigger, GitRef, OrgModel, Service};
use app::ssr::ports::{
    ActionStatus, BranchHead, DeploymentRecord, GapRecord, GitHubError, HotfixRecord,
    PipelineError, StoreError,
};
use app::ssr::AppState;
use sqlx::PgPool;
use std::collections::HashMap;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RefreshReport {
    pub pipelines: usize,
    pub deployments_changed: usize,
    pub compares: usize,
    pub errors: usize,
}

/// The most commits a gap keeps to show (GitHub lists up to 250).
const GAP_COMMITS_KEPT: usize = 50;

/// Logs what GitHub said about one repository; GitHub itself being
/// unreachable or out of requests is reported once, by
/// [`crate::adapters::integrations`], not for every repository and pass.
fn log_github(repo: &str, err: &GitHubError, what: &str) {
    if err.is_service_failure() {
        tracing::debug!(%repo, error = %err, "{what}");
    } else {
        tracing::warn!(%repo, error = %err, "{what}");
    }
}

fn pipeline_words(err: &PipelineError) -> String {
    match err {
        PipelineError::Configuration(m) => format!("The pipeline is not set up as configured: {m}"),
        PipelineError::Unavailable(m) => format!("CodePipeline could not be read: {m}"),
        other => format!("CodePipeline refused: {other}"),
    }
}

/// One pass over every service, pausing `pause` after each pipeline's
/// reads (CodePipeline's API allows only a few calls a second).
pub async fn refresh(
    state: &AppState,
    pool: &PgPool,
    pause: std::time::Duration,
) -> Result<RefreshReport, StoreError> {
    let _wrote = state.changes.writing(app::ssr::changes::Topic::Board);
    let org = state.org.load_org().await?;
    // What earlier passes recorded, read once for the whole pass, from
    // Postgres itself (not the pages' in-memory copy, which trails the
    // change notifications by a moment).
    let before = app::ssr::ports::BoardStore::snapshot(
        &crate::adapters::db::PgStore::new(pool.clone()),
        chrono::Utc::now(),
    )
    .await?;
    // Fresh from Postgres: this pass holds the only copy.
    let before = std::sync::Arc::unwrap_or_clone(before);
    let mut recorded = Recorded {
        deployments: before
            .deployments
            .into_iter()
            .map(|d| ((d.service_id.clone(), d.environment_id.clone()), d))
            .collect(),
        gaps: before
            .gaps
            .into_iter()
            .map(|g| ((g.service_id, g.environment_id), (g.base_sha, g.head_sha)))
            .collect(),
    };
    let mut report = RefreshReport::default();
    for service in &org.services {
        refresh_service(
            state,
            pool,
            &org,
            service,
            pause,
            &mut recorded,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// The deployments and the revisions each gap was computed from, as earlier
/// passes recorded them, by (service, environment).
struct Recorded {
    deployments: HashMap<(String, String), DeploymentRecord>,
    gaps: HashMap<(String, String), (String, String)>,
}

async fn refresh_service(
    state: &AppState,
    pool: &PgPool,
    org: &OrgModel,
    service: &Service,
    pause: std::time::Duration,
    recorded: &mut Recorded,
    report: &mut RefreshReport,
) -> Result<(), StoreError> {
    let repo = service.repository.to_string();
    let environments = org.environments_for(&service.team);
    let tags = match state.github.tags(&repo).await {
        Ok(tags) => tags,
        Err(err) => {
            log_github(&repo, &err, "cannot read tags");
            report.errors += 1;
            Vec::new()
        }
    };
    let mut deployed: Vec<Option<String>> = Vec::with_capacity(environments.len());
    for env in &environments {
        let pipeline = org.pipelines.pipeline_name(&service.id, &env.id);
        report.pipelines += 1;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let previous = recorded
            .deployments
            .remove(&(service.id.to_string(), env.id.to_string()));
        let mut record = previous.clone().unwrap_or_else(|| DeploymentRecord {
            service_id: service.id.to_string(),
            environment_id: env.id.to_string(),
            pipeline: pipeline.clone(),
            commit: None,
            message: None,
            branch: None,
            revision_url: None,
            tag: None,
            deployed_execution: None,
            deployed_at: None,
            latest_execution: None,
            latest_status: None,
            actions: Vec::new(),
            problem: None,
        });
        record.pipeline = pipeline.clone();
        match state.pipelines.status(&pipeline).await {
            Err(err) => {
                report.errors += 1;
                record.problem = Some(pipeline_words(&err));
            }
            Ok(status) => {
                record.problem = None;
                record.latest_execution =
                    status.latest_execution.as_ref().map(|(id, _)| id.clone());
                record.latest_status = status.latest_execution.as_ref().map(|(_, s)| s.clone());
                // The last action deploys: a success there by an execution
                // not yet recorded means something new is deployed.
                let deploy = status.actions.last();
                let fresh_deploy = deploy.is_some_and(|a| {
                    a.status.as_deref() == Some("Succeeded")
                        && a.execution_id.is_some()
                        && a.execution_id != record.deployed_execution
                });
                let mut actions = status.actions;
                if fresh_deploy || previous.is_none() {
                    match state.pipelines.last_succeeded(&pipeline).await {
                        Ok(Some(done)) => {
                            record.commit = Some(done.revision.commit);
                            record.message = done
                                .revision
                                .message
                                .map(|m| m.lines().next().unwrap_or_default().to_owned());
                            record.branch = done.revision.branch;
                            record.revision_url = done.revision.url;
                            record.deployed_execution = Some(done.execution_id);
                            record.deployed_at = Some(done.finished_at);
                        }
                        Ok(None) => {}
                        Err(err) => {
                            report.errors += 1;
                            record.problem = Some(pipeline_words(&err));
                        }
                    }
                }
                if env.trigger == DeployTrigger::OnCommit {
                    if let Some(run) = workflow_run(state, &repo, &record).await {
                        actions.insert(0, run);
                    }
                }
                record.actions = actions;
            }
        }
        record.tag = record
            .commit
            .as_deref()
            .and_then(|sha| tags.iter().find(|t| t.sha == sha))
            .map(|t| t.name.clone());
        // Unchanged since the last pass (most cells, most passes): no write.
        if previous.as_ref() != Some(&record) && store::save_deployment(pool, &record).await? {
            report.deployments_changed += 1;
        }
        deployed.push(record.commit.clone());
    }

    // How far each environment is behind the one before it.
    for (i, env) in environments.iter().enumerate().skip(1) {
        let previous_env = &environments[i - 1];
        let known = recorded
            .gaps
            .get(&(service.id.to_string(), env.id.to_string()));
        let (Some(head), Some(base)) = (&deployed[i - 1], &deployed[i]) else {
            if known.is_some() {
                store::save_gap(pool, service.id.as_str(), env.id.as_str(), None).await?;
            }
            continue;
        };
        if known == Some(&(base.clone(), head.clone())) {
            continue;
        }
        let (behind_by, commits) = if base == head {
            (0, Vec::new())
        } else {
            report.compares += 1;
            match state.github.compare(&repo, base, head).await {
                Ok(Some(cmp)) => (
                    cmp.ahead_by,
                    cmp.commits
                        .into_iter()
                        .rev()
                        .take(GAP_COMMITS_KEPT)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect(),
                ),
                Ok(None) => {
                    store::save_gap(pool, service.id.as_str(), env.id.as_str(), None).await?;
                    continue;
                }
                Err(err) => {
                    log_github(&repo, &err, "cannot compare environments");
                    report.errors += 1;
                    continue;
                }
            }
        };
        let gap = GapRecord {
            service_id: service.id.to_string(),
            environment_id: env.id.to_string(),
            ahead_of: previous_env.id.to_string(),
            base_sha: base.clone(),
            head_sha: head.clone(),
            behind_by,
            commits,
        };
        store::save_gap(pool, service.id.as_str(), env.id.as_str(), Some(&gap)).await?;
    }

    // Hotfix branches: in Release? merged back into develop and the open
    // release branch?
    let release_env = environments
        .iter()
        .position(|e| e.accepts(&GitRef::Branch("hotfix/x".into())));
    let release_env_sha = release_env.and_then(|i| deployed[i].clone());
    if let Err(err) = refresh_hotfixes(state, pool, service, release_env_sha, report).await {
        match err.downcast_ref::<GitHubError>() {
            Some(github) => log_github(&repo, github, "cannot read hotfix branches"),
            None => tracing::warn!(%repo, error = %err, "cannot read hotfix branches"),
        }
        report.errors += 1;
    }
    Ok(())
}

/// The newest GitHub Actions run on the deployed branch, as an action of the
/// Dev cell: Dev deploys from GitHub Actions on every commit.
async fn workflow_run(
    state: &AppState,
    repo: &str,
    record: &DeploymentRecord,
) -> Option<ActionStatus> {
    let branch = record.branch.as_deref().unwrap_or("develop");
    let runs = match state.github.workflow_runs(repo, branch).await {
        Ok(runs) => runs,
        Err(err) => {
            log_github(repo, &err, "cannot read workflow runs");
            return None;
        }
    };
    let run = runs.into_iter().next()?;
    let status = match (run.status.as_str(), run.conclusion.as_deref()) {
        ("completed", Some("success")) => "Succeeded",
        ("completed", Some("cancelled" | "skipped")) => "Abandoned",
        ("completed", _) => "Failed",
        _ => "InProgress",
    };
    Some(ActionStatus {
        stage: "GitHub Actions".into(),
        action: run.name,
        status: Some(status.to_owned()),
        summary: Some(format!(
            "on {}",
            run.head_sha.chars().take(7).collect::<String>()
        )),
        url: Some(run.url),
        execution_id: None,
    })
}

fn newest_release(branches: &[BranchHead]) -> Option<&BranchHead> {
    branches
        .iter()
        .filter(|b| b.name.starts_with("release/"))
        .max_by(|a, b| a.name.cmp(&b.name))
}

async fn refresh_hotfixes(
    state: &AppState,
    pool: &PgPool,
    service: &Service,
    release_env_sha: Option<String>,
    report: &mut RefreshReport,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let repo = service.repository.to_string();
    let branches = state.github.branches(&repo).await?;
    let develop = branches.iter().find(|b| b.name == "develop");
    let release = newest_release(&branches);
    let hotfixes: Vec<&BranchHead> = branches
        .iter()
        .filter(|b| b.name.starts_with("hotfix/"))
        .collect();
    let keys = store::hotfix_keys(pool, service.id.as_str()).await?;
    for hotfix in &hotfixes {
        let key = format!(
            "{}:{}:{}:{}",
            hotfix.sha,
            develop.map_or("-", |b| b.sha.as_str()),
            release.map_or("-", |b| b.sha.as_str()),
            release_env_sha.as_deref().unwrap_or("-"),
        );
        if keys.iter().any(|(b, k)| b == &hotfix.name && k == &key) {
            continue;
        }
        report.compares += 1;
        let merged_develop = match develop {
            Some(d) => state
                .github
                .contains(&repo, &d.name, &hotfix.sha)
                .await?
                .unwrap_or(false),
            None => false,
        };
        let merged_release = match release {
            Some(r) => Some(
                state
                    .github
                    .contains(&repo, &r.name, &hotfix.sha)
                    .await?
                    .unwrap_or(false),
            ),
            None => None,
        };
        let in_release_env = match &release_env_sha {
            Some(sha) => state
                .github
                .contains(&repo, sha, &hotfix.sha)
                .await?
                .unwrap_or(false),
            None => false,
        };
        let record = HotfixRecord {
            service_id: service.id.to_string(),
            branch: hotfix.name.clone(),
            head_sha: hotfix.sha.clone(),
            in_release_env,
            merged_develop,
            release_branch: release.map(|r| r.name.clone()),
            merged_release,
        };
        store::save_hotfix(pool, &record, &key).await?;
    }
    let names: Vec<String> = hotfixes.iter().map(|h| h.name.clone()).collect();
    if keys.iter().any(|(branch, _)| !names.contains(branch)) {
        store::drop_hotfixes_except(pool, service.id.as_str(), &names).await?;
    }
    Ok(())
}

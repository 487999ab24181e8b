//! The approval poller: keeps the queue in step with CodePipeline (new
//! approvals recorded, ones answered elsewhere closed, undelivered
//! decisions sent again) and checks the mapped pipelines against the org
//! configuration. The leader runs it (see [`super`]); the rules it applies
//! are the app's (`app::ssr::approvals`).

use app::domain::approval::{self, Decision};
use app::domain::request::PipelineProblem;
use app::domain::OrgModel;
use app::error::AppError;
use app::ssr::approvals::{deliver, APPROVAL_TTL_DAYS};
use app::ssr::changes::Topic;
use app::ssr::ports::{ApprovalTarget, NewRequest, VoteCommit};
use app::ssr::AppState;
use std::collections::HashMap;
use std::time::Duration;

/// Checks every mapped pipeline whose environment needs approval against
/// CodePipeline (ListPipelines, then GetPipeline) and records what does not
/// match the org configuration, for admins and SRE to fix.
pub async fn check_pipelines(
    state: &AppState,
    pause_between_calls: Duration,
) -> Result<Vec<PipelineProblem>, AppError> {
    let org = state.org.load_org().await?;
    let names: std::collections::HashSet<String> = state
        .pipelines
        .pipeline_names()
        .await
        .map_err(|e| {
            AppError::Dependency(format!("CodePipeline could not list the pipelines: {e}"))
        })?
        .into_iter()
        .collect();
    let stage_name = org.pipelines.approval_stage();
    let action_name = org.pipelines.approval_action();
    let now = chrono::Utc::now();
    let mut problems = Vec::new();
    for env in org.environments.iter().filter(|e| e.approval.is_some()) {
        for service in &org.services {
            let pipeline = org.pipelines.pipeline_name(&service.id, &env.id);
            let problem = if names.contains(&pipeline) {
                if !pause_between_calls.is_zero() {
                    tokio::time::sleep(pause_between_calls).await;
                }
                match state.pipelines.pipeline_stages(&pipeline).await {
                    Err(err) => Some(format!("CodePipeline could not describe {pipeline}: {err}")),
                    Ok(stages) => match stages.iter().find(|(s, _)| s == stage_name) {
                        None => Some(format!(
                            "Pipeline {pipeline} has no stage {stage_name} (its stages: {}); add it, or change [codepipeline] approval_stage.",
                            stages.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(", ")
                        )),
                        Some((_, actions)) => match actions.iter().find(|(a, _)| a == action_name) {
                            None => Some(format!(
                                "Stage {stage_name} of {pipeline} has no action {action_name}; add a manual approval action, or change [codepipeline] approval_action."
                            )),
                            Some((_, category)) if category != "Approval" => Some(format!(
                                "Action {action_name} of {pipeline} is a {category} action, not a manual approval."
                            )),
                            Some(_) => None,
                        },
                    },
                }
            } else {
                Some(format!(
                    "There is no pipeline {pipeline} for {} in {}; create it, or change [codepipeline] pipeline_name.",
                    service.name, env.name
                ))
            };
            if let Some(problem) = problem {
                problems.push(PipelineProblem {
                    pipeline,
                    service_id: service.id.to_string(),
                    environment_id: env.id.to_string(),
                    problem,
                    checked_at: now,
                });
            }
        }
    }
    state.approvals.replace_pipeline_problems(&problems).await?;
    if !problems.is_empty() {
        tracing::warn!(
            count = problems.len(),
            "pipelines do not match the org configuration"
        );
    }
    Ok(problems)
}

/// What one poll found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollReport {
    pub pipelines: usize,
    pub new_requests: usize,
    pub closed: u64,
    pub delivered: usize,
    /// Pending requests whose committed votes already decided them.
    pub repaired: usize,
    pub errors: usize,
}

/// Decides every pending request whose committed votes already meet its
/// rule: the repair for a deciding vote that was recorded without its
/// decision (whatever the cause), so no request stays wedged.
async fn repair_undecided(state: &AppState, org: &OrgModel) -> Result<usize, AppError> {
    let mut repaired = 0;
    for item in state.approvals.pending().await? {
        let Some(rule) = org
            .environment(&item.environment_id)
            .and_then(|e| e.approval.as_ref())
        else {
            continue;
        };
        let votes = item.prior_votes();
        let Some(decision) = approval::tally(rule, &votes) else {
            continue;
        };
        let deciders: Vec<String> = item
            .votes
            .iter()
            .filter(|v| v.decision == decision)
            .map(|v| v.display_name.clone())
            .collect();
        let comment = item
            .votes
            .iter()
            .find(|v| v.decision == Decision::Reject)
            .map_or("", |v| v.comment.as_str());
        let summary = approval::aws_summary(decision, &deciders, comment);
        if state
            .approvals
            .decide_pending(&item.id, votes.len(), decision, &summary)
            .await?
            == VoteCommit::Recorded
        {
            tracing::warn!(request = %item.id, ?decision, "decided a request its votes had already decided");
            repaired += 1;
        }
    }
    Ok(repaired)
}

/// One pass of the poller: every pipeline whose environment needs approval
/// is read once; new approvals are recorded, ones answered elsewhere are
/// closed, and undelivered decisions are sent again.
pub async fn poll(state: &AppState, pause_between_calls: Duration) -> Result<PollReport, AppError> {
    let _wrote = state.changes.writing(Topic::Approvals);
    let org = state.org.load_org().await?;
    let mut report = PollReport::default();
    // What is recorded as waiting, read once: a pipeline that shows the
    // same costs no query (the common case in a steady pass). Requests are
    // only added by this pass, so this stays true for the rest of it apart
    // from decisions, which only make some of it stale: closing is checked
    // again in the database.
    let mut recorded: HashMap<ApprovalTarget, Vec<(String, String)>> = HashMap::new();
    for wait in state.approvals.recorded_waits().await? {
        recorded
            .entry(wait.target)
            .or_default()
            .push((wait.execution_id, wait.token));
    }
    for env in org.environments.iter().filter(|e| e.approval.is_some()) {
        for service in &org.services {
            if report.pipelines > 0 && !pause_between_calls.is_zero() {
                tokio::time::sleep(pause_between_calls).await;
            }
            report.pipelines += 1;
            let target = ApprovalTarget {
                pipeline: org.pipelines.pipeline_name(&service.id, &env.id),
                stage: org.pipelines.approval_stage().to_owned(),
                action: org.pipelines.approval_action().to_owned(),
            };
            let pending = match state.pipelines.pending_approval(&target).await {
                Ok(pending) => pending,
                Err(err) => {
                    report.errors += 1;
                    // CodePipeline itself unreachable is reported once by
                    // the server (per change of state), not per pipeline.
                    if err.is_service_failure() {
                        tracing::debug!(pipeline = %target.pipeline, error = %err, "cannot read pipeline state");
                    } else {
                        tracing::warn!(pipeline = %target.pipeline, error = %err, "cannot read pipeline state");
                    }
                    continue;
                }
            };
            let waits = recorded.get(&target).map(Vec::as_slice).unwrap_or_default();
            // Only an approval not yet recorded needs its revision read.
            let unknown = match &pending {
                Some(p)
                    if !waits.iter().any(|(execution, token)| {
                        *execution == p.execution_id && *token == p.token
                    }) && !state.approvals.is_known(p).await? =>
                {
                    Some(p)
                }
                _ => None,
            };
            if let Some(pending) = unknown {
                let revision = match state
                    .pipelines
                    .revision(&target.pipeline, &pending.execution_id)
                    .await
                {
                    Ok(revision) => revision,
                    Err(err) => {
                        report.errors += 1;
                        tracing::warn!(pipeline = %target.pipeline, error = %err, "cannot read the revision");
                        continue;
                    }
                };
                let (author, author_checked) = match state
                    .github
                    .commit_author(&service.repository.to_string(), &revision.commit)
                    .await
                {
                    Ok(author) => (author, true),
                    Err(err) => {
                        tracing::warn!(pipeline = %target.pipeline, error = %err, "cannot read the commit's author; asked again at the first vote");
                        (None, false)
                    }
                };
                let new = NewRequest {
                    service_id: service.id.to_string(),
                    environment_id: env.id.to_string(),
                    pending: pending.clone(),
                    revision,
                    expires_at: pending.requested_at + chrono::Duration::days(APPROVAL_TTL_DAYS),
                    author,
                    author_checked,
                };
                if state.approvals.upsert_request(&new).await? {
                    report.new_requests += 1;
                }
            }
            // Something recorded as waiting that CodePipeline no longer
            // shows waiting is closed.
            let keep = pending.as_ref().map(|p| p.execution_id.as_str());
            if waits
                .iter()
                .any(|(execution, _)| Some(execution.as_str()) != keep)
            {
                report.closed += state.approvals.close_missing(&target, keep).await?;
            }
        }
    }
    report.repaired = repair_undecided(state, &org).await?;
    for id in state.approvals.undelivered().await? {
        if deliver(state, &id).await?.is_some() {
            report.delivered += 1;
        }
    }
    Ok(report)
}

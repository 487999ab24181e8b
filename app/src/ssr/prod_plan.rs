//! The Prod plan of the current release, from what the board's jobs
//! recorded: which services change (Pre-Prod runs what Prod does not, or
//! Prod took it since the release's code freeze), where each is on its way
//! to Prod, and what each waits for.

use super::calendar::OrgCalendar;
use super::ports::{BoardSnapshot, DeploymentRecord};
use super::AppState;
use crate::domain::calendar::MilestoneKind;
use crate::domain::deploy_dag::{Plan, PlanService, ProdState};
use crate::domain::OrgModel;
use crate::error::AppError;
use chrono::{DateTime, Utc};

/// The release the plan is for: its name and its (earliest) code freeze.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentRelease {
    pub name: String,
    pub frozen_at: DateTime<Utc>,
    /// When, in the org's zone as the calendar says it.
    pub frozen_words: String,
}

/// The plan and the release it is for.
#[derive(Debug, Clone)]
pub struct CurrentPlan {
    pub plan: Plan,
    pub release: Option<CurrentRelease>,
}

/// The newest release whose code freeze has passed: the one going through
/// Release, QA, Pre-Prod and Prod now.
pub fn current_release(calendar: &OrgCalendar, now: DateTime<Utc>) -> Option<CurrentRelease> {
    let number = calendar.release_number_on(calendar.local_date(now))?;
    (number.saturating_sub(1).max(1)..=number)
        .rev()
        .map(|n| calendar.release(n))
        .find_map(|release| {
            let frozen_at = release
                .milestones
                .iter()
                .filter(|m| m.kind == MilestoneKind::CodeFreeze)
                .map(|m| m.at)
                .min()?;
            (frozen_at <= now).then(|| CurrentRelease {
                name: release.name.clone(),
                frozen_at,
                frozen_words: super::calendar::moment_words(calendar, frozen_at),
            })
        })
}

/// Where `service_id` is on its way to Prod, from its Prod and Pre-Prod
/// records; `since`: the release's code freeze (a Prod deploy since then
/// belongs to this release).
pub fn prod_state(
    org: &OrgModel,
    snapshot: &BoardSnapshot,
    service_id: &str,
    since: Option<DateTime<Utc>>,
) -> ProdState {
    let count = org.environments.len();
    let (Some(prod), Some(pre)) = (
        org.environments.last(),
        count.checked_sub(2).and_then(|i| org.environments.get(i)),
    ) else {
        return ProdState::Unchanged;
    };
    let cells = snapshot.service(service_id);
    let cell = |env: &str| cells.and_then(|s| s.cells.get(env));
    let deployment = |env: &str| -> Option<&DeploymentRecord> {
        cell(env)
            .and_then(|c| c.deployment)
            .and_then(|i| snapshot.deployments.get(i))
    };
    let in_prod = deployment(prod.id.as_str());
    let in_pre = deployment(pre.id.as_str());
    let waiting = cell(prod.id.as_str()).is_some_and(|c| c.waiting.is_some());
    let gap = cell(prod.id.as_str())
        .and_then(|c| c.gap)
        .and_then(|i| snapshot.gaps.get(i))
        .filter(|g| g.ahead_of == pre.id.as_str());
    let prod_commit = in_prod.and_then(|d| d.commit.as_deref());
    let pre_commit = in_pre.and_then(|d| d.commit.as_deref());
    let behind = match (gap, prod_commit, pre_commit) {
        (Some(g), Some(p), Some(q)) if g.base_sha == p && g.head_sha == q => g.behind_by > 0,
        (_, None, Some(_)) => true,
        (_, Some(p), Some(q)) => p != q,
        _ => false,
    };
    if waiting {
        return ProdState::WaitingForApproval;
    }
    // Not read yet (the board's job has not reached it, or cannot read its
    // pipelines): not known, which holds its callers.
    let read =
        |d: Option<&DeploymentRecord>| d.is_some_and(|d| d.commit.is_some() || d.problem.is_none());
    if !read(in_prod) || !read(in_pre) {
        return ProdState::Unknown;
    }
    if let Some(state) = in_prod.and_then(|d| newest_run(d, org.pipelines.approval_stage())) {
        return state;
    }
    if behind {
        return ProdState::NotStarted;
    }
    match (in_prod.and_then(|d| d.deployed_at), since) {
        (Some(at), Some(since)) if at >= since => ProdState::Deployed,
        _ => ProdState::Unchanged,
    }
}

/// Where the newest run of a Prod pipeline is, when it is on its way and
/// not yet deployed: the run the first stage holds, followed through the
/// later stages (each stage shows the last run that reached it). `None`
/// when that run is the deployed one, was stopped, or has not reached the
/// approval.
fn newest_run(d: &DeploymentRecord, approval_stage: &str) -> Option<ProdState> {
    let newest = d.actions.first()?.execution_id.as_deref()?;
    if d.deployed_execution.as_deref() == Some(newest) {
        return None;
    }
    let of_newest: Vec<(usize, &str)> = d
        .actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.execution_id.as_deref() == Some(newest))
        .filter_map(|(i, a)| a.status.as_deref().map(|s| (i, s)))
        .collect();
    if of_newest.iter().any(|(_, s)| *s == "Failed") {
        return Some(ProdState::Failed);
    }
    let approval = d.actions.iter().position(|a| a.stage == approval_stage);
    let approved_at = match approval {
        Some(at) => match of_newest.iter().find(|(i, _)| *i == at).map(|(_, s)| *s) {
            Some("InProgress") => return Some(ProdState::WaitingForApproval),
            Some("Succeeded") => at,
            _ => return None,
        },
        // No approval stage: the run is deploying once it started.
        None => return of_newest.first().map(|_| ProdState::Deploying),
    };
    if of_newest
        .iter()
        .any(|(i, s)| *i > approved_at && matches!(*s, "InProgress" | "Succeeded"))
    {
        Some(ProdState::Deploying)
    } else {
        Some(ProdState::Approved)
    }
}

/// The changed services `service` calls whose change has not reached Prod,
/// when its own change has not either: what its Prod approval waits for.
/// The same as the plan's `blocked_on` (which services count as settled
/// does not depend on the release's code freeze), without building it.
pub fn blockers_of(
    org: &OrgModel,
    snapshot: &BoardSnapshot,
    service: &crate::domain::Service,
) -> Vec<String> {
    if prod_state(org, snapshot, service.id.as_str(), None).settled() {
        return Vec::new();
    }
    service
        .calls
        .iter()
        .filter(|c| org.service(c.service.as_str()).is_some())
        .filter(|c| !prod_state(org, snapshot, c.service.as_str(), None).settled())
        .map(|c| c.service.to_string())
        .collect()
}

/// The plan of every configured service.
pub fn build(
    org: &OrgModel,
    snapshot: &BoardSnapshot,
    release: Option<CurrentRelease>,
) -> Result<CurrentPlan, AppError> {
    let since = release.as_ref().map(|r| r.frozen_at);
    let services: Vec<PlanService> = org
        .services
        .iter()
        .map(|s| PlanService {
            id: s.id.clone(),
            name: s.name.to_string(),
            team: s.team.clone(),
            calls: s.calls.clone(),
            state: prod_state(org, snapshot, s.id.as_str(), since),
        })
        .collect();
    // The configuration was checked for cycles at start.
    let plan = Plan::build(&services).map_err(|cycle| AppError::internal(&cycle))?;
    Ok(CurrentPlan { plan, release })
}

/// The plan now, from the board's cached snapshot.
pub async fn current(state: &AppState, org: &OrgModel) -> Result<CurrentPlan, AppError> {
    let now = Utc::now();
    let (calendar, _) = super::calendar::load(state, org).await?;
    let cycle_start = super::calendar::cycle_start_of(&calendar, now);
    let snapshot = state
        .board
        .snapshot(super::calendar::snapshot_since(cycle_start, now))
        .await?;
    build(org, &snapshot, current_release(&calendar, now))
}

/// The Prod plan page's data: the whole plan, and the nodes the `team`
/// view shows (its services and what they call), drawn.
pub async fn view(
    state: &super::AppState,
    team: Option<&str>,
) -> Result<crate::views::prod_plan::ProdPlanView, AppError> {
    let org = state.org.load_org().await?;
    let team = super::calendar::selected_team(&org, team)?;
    let current = current(state, &org).await?;
    Ok(view_of(
        &org,
        current,
        team.map(|t| t.to_string()),
        Utc::now(),
    ))
}

/// The view of `current` for `team`.
pub fn view_of(
    org: &OrgModel,
    current: CurrentPlan,
    team: Option<String>,
    now: DateTime<Utc>,
) -> crate::views::prod_plan::ProdPlanView {
    let plan = current.plan;
    let mut shown = vec![false; plan.nodes.len()];
    for (i, node) in plan.nodes.iter().enumerate() {
        if team.as_ref().is_none_or(|t| &node.team == t) {
            shown[i] = true;
        }
    }
    if team.is_some() {
        for &(caller, callee, _) in &plan.edges {
            if plan.nodes[caller].team.as_str() == team.as_deref().unwrap_or_default() {
                shown[callee] = true;
            }
        }
    }
    let shown: Vec<usize> = (0..plan.nodes.len()).filter(|&i| shown[i]).collect();
    let release = current.release;
    let title = format!(
        "The Prod plan{}: {} services, callees to the left of their callers, each with its state",
        release
            .as_ref()
            .map_or_else(String::new, |r| format!(" of release {}", r.name)),
        shown.len()
    );
    let outside = |i: usize| {
        let node = &plan.nodes[i];
        team.as_ref()
            .filter(|t| node.team.as_str() != t.as_str())
            .map(|_| crate::views::prod_plan::team_name(&org.teams, node.team.as_str()))
    };
    let svg = crate::domain::plan_drawing::svg(&plan, &shown, &title, &outside);
    crate::views::prod_plan::ProdPlanView {
        now,
        release: release.as_ref().map(|r| r.name.clone()),
        frozen_at: release.as_ref().map(|r| r.frozen_at),
        frozen_words: release.as_ref().map(|r| r.frozen_words.clone()),
        teams: org.teams.clone(),
        team,
        plan,
        shown,
        svg,
    }
}

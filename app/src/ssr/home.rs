//! The home page: one screen per person that answers their question first
//! (QA: what waits for my sign-off; SRE: what is down; a manager: the Prod
//! release; a stakeholder: the Release demo; a developer: their team).

use super::ports::BoardSnapshot;
use super::{AppState, Caller};
use crate::domain::approval::Decision;
use crate::domain::calendar::MilestoneKind;
use crate::domain::deploy_dag::ProdState;
use crate::domain::{OrgModel, Role, RoleKind, User};
use crate::error::AppError;
use crate::views::home::{
    AdminSummary, DemoSummary, DownCell, Focus, HomeApproval, HomeView, ProdSummary, TeamSummary,
    UpcomingMilestone, HIGHLIGHTS, MILESTONES_LISTED, YOURS_LISTED,
};
use chrono::{DateTime, Utc};

/// The question a person's roles make theirs first.
pub fn focus_of(user: Option<&User>) -> Focus {
    let Some(user) = user else {
        return Focus::Overview;
    };
    let order = [
        (RoleKind::Qa, Focus::Approvals),
        (RoleKind::Sre, Focus::Health),
        (RoleKind::Admin, Focus::Record),
        (RoleKind::Manager, Focus::Prod),
        (RoleKind::Stakeholder, Focus::Demo),
        (RoleKind::Developer, Focus::Team),
    ];
    order
        .into_iter()
        .find(|(kind, _)| user.has(*kind))
        .map_or(Focus::Overview, |(_, focus)| focus)
}

/// Every cell down, longest first.
fn down_cells(org: &OrgModel, snapshot: &BoardSnapshot) -> Vec<DownCell> {
    let mut out: Vec<DownCell> = snapshot
        .health
        .iter()
        .filter(|h| h.up == Some(false))
        .filter_map(|h| {
            let service = org.service(&h.service_id)?;
            let environment = org.environment(&h.environment_id)?;
            // Only cells the board shows (the team's environments).
            org.environments_for(&service.team)
                .iter()
                .any(|e| e.id == environment.id)
                .then(|| DownCell {
                    service_id: service.id.to_string(),
                    service: service.name.to_string(),
                    environment_id: environment.id.to_string(),
                    environment: environment.name.to_string(),
                    since: h.since,
                    detail: h.detail.clone(),
                    ticket: snapshot
                        .outages
                        .iter()
                        .filter(|o| {
                            o.ended_at.is_none()
                                && o.service_id == h.service_id
                                && o.environment_id == h.environment_id
                        })
                        .find_map(|o| o.issue_url.clone()),
                })
        })
        .collect();
    out.sort_by(|a, b| {
        a.since
            .cmp(&b.since)
            .then_with(|| a.service.cmp(&b.service))
            .then_with(|| a.environment.cmp(&b.environment))
    });
    out
}

/// The milestones still ahead for `teams`, soonest first.
fn upcoming(
    org: &OrgModel,
    calendar: &super::calendar::OrgCalendar,
    teams: &[crate::domain::TeamId],
    now: DateTime<Utc>,
) -> Vec<UpcomingMilestone> {
    let Some(number) = calendar.release_number_on(calendar.local_date(now)) else {
        return Vec::new();
    };
    let mut out: Vec<UpcomingMilestone> = (number..=number.saturating_add(1))
        .flat_map(|n| super::calendar::release_events(org, calendar, &calendar.release(n), teams))
        .filter(|e| e.at > now)
        .collect();
    out.sort_by_key(|m| m.at);
    out.truncate(MILESTONES_LISTED);
    out
}

/// The current release on its way to Prod.
fn prod_summary(
    org: &OrgModel,
    calendar: &super::calendar::OrgCalendar,
    snapshot: &BoardSnapshot,
    now: DateTime<Utc>,
) -> Result<Option<ProdSummary>, AppError> {
    let release = super::prod_plan::current_release(calendar, now);
    let Some(current) = release.clone() else {
        return Ok(None);
    };
    let plan = super::prod_plan::build(org, snapshot, release)?.plan;
    let changed: Vec<_> = plan
        .nodes
        .iter()
        .filter(|n| n.state != ProdState::Unchanged)
        .collect();
    let prod_date = calendar
        .release_number_on(calendar.local_date(current.frozen_at))
        .map(|n| calendar.release(n))
        .and_then(|r| {
            r.milestones
                .iter()
                .filter(|m| m.kind == MilestoneKind::ProdRelease)
                .map(|m| m.date)
                .min()
        });
    Ok(Some(ProdSummary {
        release: current.name,
        prod_date,
        changed: changed.len(),
        deployed: changed
            .iter()
            .filter(|n| n.state == ProdState::Deployed)
            .count(),
        next: changed
            .iter()
            .filter(|n| n.blocked_on.is_empty() && !n.state.settled())
            .map(|n| (n.name.clone(), n.state))
            .collect(),
        blocked: changed
            .iter()
            .filter(|n| !n.blocked_on.is_empty() && !n.state.settled())
            .map(|n| {
                let waits_for = n
                    .blocked_on
                    .iter()
                    .map(|id| plan.node(id).map_or_else(|| id.clone(), |b| b.name.clone()))
                    .collect();
                (n.name.clone(), waits_for)
            })
            .collect(),
        failed: changed
            .iter()
            .filter(|n| n.state == ProdState::Failed)
            .map(|n| n.name.clone())
            .collect(),
    }))
}

/// The home page of whoever asks.
pub async fn view(state: &AppState, caller: &Caller) -> Result<HomeView, AppError> {
    let org = state.org.load_org().await?;
    let (calendar, _) = super::calendar::load(state, &org).await?;
    let now = Utc::now();
    let cycle_start = super::calendar::cycle_start_of(&calendar, now);
    let snapshot = state
        .board
        .snapshot(super::calendar::snapshot_since(cycle_start, now))
        .await?;
    let user = caller.user();
    let focus = focus_of(user);
    let team_ids: Vec<crate::domain::TeamId> = user
        .map(|u| u.roles.iter().filter_map(Role::team).cloned().collect())
        .unwrap_or_default();
    let down = down_cells(&org, &snapshot);
    let teams = team_ids
        .iter()
        .filter_map(|id| org.team(id))
        .map(|t| TeamSummary {
            id: t.id.to_string(),
            name: t.name.to_string(),
            services: org.services_of(&t.id).count(),
            counts: super::board::status_counts(&org, &snapshot, Some(&t.id)),
            down: down
                .iter()
                .filter(|d| org.service(&d.service_id).is_some_and(|s| s.team == t.id))
                .map(|d| format!("{} in {}", d.service, d.environment))
                .collect(),
        })
        .collect();
    // What the viewer may decide: the Approvals page's own rule, read
    // only for someone signed in.
    let (pending, yours, yours_listed) = match user {
        Some(_) => {
            let queue = super::approvals::queue(state, caller, None, None).await?;
            let pending = queue.counts.iter().map(|c| c.total).sum();
            let yours = queue.counts.iter().map(|c| c.mine).sum();
            let listed = queue
                .pending
                .iter()
                .filter(|q| q.blocked.is_none())
                .take(YOURS_LISTED)
                .map(|q| HomeApproval {
                    request_id: q.item.id.clone(),
                    service: q.item.service_name.clone(),
                    environment: q.item.environment_name.clone(),
                    commit: q.item.commit.chars().take(7).collect(),
                    votes: q
                        .item
                        .votes
                        .iter()
                        .filter(|v| v.decision == Decision::Approve)
                        .count(),
                    needed: q.required,
                    requested_at: q.item.requested_at,
                })
                .collect();
            (pending, yours, listed)
        }
        None => (
            snapshot
                .waiting
                .iter()
                .filter(|w| org.service(&w.service_id).is_some())
                .count(),
            0,
            Vec::new(),
        ),
    };
    // Read only for those whose first question it answers: the demo view
    // asks GitHub (once per pair of commits; the answers are kept).
    let demo = if focus == Focus::Demo {
        let view = super::release_demo::view(state).await?;
        Some(DemoSummary {
            teams: view
                .teams
                .iter()
                .map(|t| (t.team.clone(), t.changes().len()))
                .collect(),
            highlights: view
                .teams
                .iter()
                .flat_map(|t| t.changes())
                .map(|c| c.title)
                .take(HIGHLIGHTS)
                .collect(),
            health: view.health_line(),
        })
    } else {
        None
    };
    // Only an admin answers for the record; both reads are small.
    let admin = if user.is_some_and(|u| u.has(RoleKind::Admin)) {
        Some(AdminSummary {
            verification: state.audit.last_verification().await?,
            pipeline_problems: state.approvals.pipeline_problems().await?,
        })
    } else {
        None
    };
    let shown_teams = if team_ids.is_empty() {
        org.teams_shown(None)
    } else {
        team_ids.clone()
    };
    Ok(HomeView {
        now,
        today: calendar.local_date(now),
        name: user.map(|u| u.display_name.to_string()),
        focus,
        counts: super::board::status_counts(&org, &snapshot, None),
        pending,
        yours,
        yours_listed,
        down,
        milestones: upcoming(&org, &calendar, &shown_teams, now),
        prod: prod_summary(&org, &calendar, &snapshot, now)?,
        teams,
        demo,
        admin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DisplayName, TeamId};

    fn user(roles: Vec<Role>) -> User {
        User {
            id: "u1".into(),
            login: "someone".into(),
            display_name: DisplayName::parse("Someone").expect("a name"),
            roles,
            person: "demo:someone".into(),
            github_id: None,
            emails: Vec::new(),
        }
    }

    #[test]
    fn each_role_is_shown_its_own_question_first() {
        let team = TeamId::parse("frontend").expect("a team");
        assert_eq!(focus_of(None), Focus::Overview);
        assert_eq!(focus_of(Some(&user(vec![]))), Focus::Overview);
        assert_eq!(focus_of(Some(&user(vec![Role::Qa]))), Focus::Approvals);
        assert_eq!(focus_of(Some(&user(vec![Role::Sre]))), Focus::Health);
        assert_eq!(focus_of(Some(&user(vec![Role::Admin]))), Focus::Record);
        // An SRE who is also an admin is asked about health first.
        assert_eq!(
            focus_of(Some(&user(vec![Role::Admin, Role::Sre]))),
            Focus::Health
        );
        assert_eq!(focus_of(Some(&user(vec![Role::Manager]))), Focus::Prod);
        assert_eq!(focus_of(Some(&user(vec![Role::Stakeholder]))), Focus::Demo);
        assert_eq!(
            focus_of(Some(&user(vec![Role::Developer(team.clone())]))),
            Focus::Team
        );
        // QA's sign-offs come before a developer's board.
        assert_eq!(
            focus_of(Some(&user(vec![Role::Developer(team), Role::Qa]))),
            Focus::Approvals
        );
    }
}

//! The Metrics page's service: the deployment history and outages of the
//! last environment (Prod), measured per org, team and service.

use super::{AppState, Mode};
use crate::domain::calendar::Release;
use crate::domain::dora::{measure, Outage, ProdDeployment, Window};
use crate::domain::OrgModel;
use crate::error::AppError;
use crate::ssr::ports::{HistoryRecord, OutageRecord};
use crate::views::delivery::{
    DeliveryView, MeasureRow, Scope, TrendPoint, TrendSeries, FAILURE_WINDOW_DAYS, TREND_RELEASES,
    WINDOWS,
};
use chrono::{DateTime, Duration, Utc};

/// The page for `days` (30 or 90; anything else is 90) and `team`, for
/// the signed-in caller (anyone in demo mode).
pub async fn view(
    state: &AppState,
    caller: &super::Caller,
    days: Option<u32>,
    team: Option<&str>,
) -> Result<DeliveryView, AppError> {
    if state.mode != Mode::Demo {
        caller.required()?;
    }
    read(state, days, team).await
}

/// The page's data, for a caller already let in.
pub async fn read(
    state: &AppState,
    days: Option<u32>,
    team: Option<&str>,
) -> Result<DeliveryView, AppError> {
    let org = state.org.load_org().await?;
    let team = super::calendar::selected_team(&org, team)?;
    let days = days.filter(|d| WINDOWS.contains(d)).unwrap_or(90);
    let now = Utc::now();
    let (calendar, _) = super::calendar::load(state, &org).await?;
    let mut releases: Vec<Release> = calendar
        .release_number_on(calendar.local_date(now))
        .map(|n| {
            (n.saturating_sub(TREND_RELEASES as u32 - 1).max(1)..=n)
                .map(|n| calendar.release(n))
                .collect()
        })
        .unwrap_or_default();
    // A calendar that starts recently: the cycles before its first
    // release, of the same length, named by the month they start in.
    while let Some(first) = releases.first().filter(|_| releases.len() < TREND_RELEASES) {
        let cycle = first.next_starts - first.starts;
        if cycle <= Duration::zero() {
            break;
        }
        let starts = first.starts - cycle;
        let earlier = Release {
            number: 0,
            name: starts.format("%Y.%m").to_string(),
            starts,
            next_starts: first.starts,
            milestones: Vec::new(),
        };
        releases.insert(0, earlier);
    }
    let Some(prod) = org.environments.iter().max_by_key(|e| e.position) else {
        return Err(AppError::NotFound("The org has no environments.".into()));
    };
    let window_start = now - Duration::days(i64::from(days));
    let from = releases
        .first()
        .map_or(window_start, |r| r.starts.min(window_start));
    let history = state
        .board
        .deployment_history(prod.id.as_str(), from)
        .await?;
    let outages = state.board.outage_history(prod.id.as_str(), from).await?;
    Ok(build(
        &org,
        team.map(|t| t.to_string()),
        days,
        now,
        &releases,
        prod.name.to_string(),
        &history,
        &outages,
    ))
}

/// The view from the records: pure, so tests can give it any history.
#[allow(clippy::too_many_arguments)]
pub fn build(
    org: &OrgModel,
    team: Option<String>,
    days: u32,
    now: DateTime<Utc>,
    releases: &[Release],
    environment: String,
    history: &[HistoryRecord],
    outages: &[OutageRecord],
) -> DeliveryView {
    let deployments: Vec<ProdDeployment> = history
        .iter()
        .map(|h| ProdDeployment {
            service: h.service_id.clone(),
            at: h.deployed_at,
            commits: h.commit_times.clone().unwrap_or_default(),
            hotfix: h.hotfix,
        })
        .collect();
    let outages: Vec<Outage> = outages
        .iter()
        .map(|o| Outage {
            service: o.service_id.clone(),
            started: o.started_at,
            ended: o.ended_at,
        })
        .collect();
    let after = Duration::days(FAILURE_WINDOW_DAYS);
    let window = Window {
        from: now - Duration::days(i64::from(days)),
        to: now,
    };
    let of = |services: &dyn Fn(&str) -> bool, w: Window| {
        let d: Vec<ProdDeployment> = deployments
            .iter()
            .filter(|d| services(&d.service))
            .cloned()
            .collect();
        let o: Vec<Outage> = outages
            .iter()
            .filter(|o| services(&o.service))
            .cloned()
            .collect();
        measure(&d, &o, w, after, now)
    };
    // Each service's team, looked up once per deployment and scope.
    let teams_of: std::collections::HashMap<&str, &str> = org
        .services
        .iter()
        .map(|s| (s.id.as_str(), s.team.as_str()))
        .collect();
    let team_of = |service: &str| teams_of.get(service).copied();
    let shown_teams: Vec<_> = org
        .teams
        .iter()
        .filter(|t| team.as_ref().is_none_or(|f| t.id.as_str() == f))
        .collect();
    let mut rows = Vec::new();
    if team.is_none() {
        rows.push(MeasureRow {
            scope: Scope::Org,
            id: "all".into(),
            name: "All teams".into(),
            team: String::new(),
            measures: of(&|s| team_of(s).is_some(), window),
        });
    }
    for t in &shown_teams {
        let id = t.id.to_string();
        rows.push(MeasureRow {
            scope: Scope::Team,
            id: id.clone(),
            name: t.name.to_string(),
            team: t.name.to_string(),
            measures: of(&|s| team_of(s) == Some(id.as_str()), window),
        });
    }
    for t in &shown_teams {
        for s in org.services.iter().filter(|s| s.team == t.id) {
            let id = s.id.to_string();
            rows.push(MeasureRow {
                scope: Scope::Service,
                id: id.clone(),
                name: s.name.to_string(),
                team: t.name.to_string(),
                measures: of(&|x| x == id, window),
            });
        }
    }
    let trend = shown_teams
        .iter()
        .map(|t| {
            let id = t.id.to_string();
            TrendSeries {
                id: id.clone(),
                name: t.name.to_string(),
                points: releases
                    .iter()
                    .filter(|r| r.starts < now)
                    .map(|r| {
                        let w = Window {
                            from: r.starts,
                            to: r.next_starts.min(now),
                        };
                        TrendPoint {
                            release: r.name.clone(),
                            from: w.from,
                            to: w.to,
                            measures: of(&|s| team_of(s) == Some(id.as_str()), w),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    DeliveryView {
        now,
        days,
        teams: org.teams.clone(),
        team,
        environment,
        rows,
        trend,
        history_from: history.first().map(|h| h.deployed_at),
        unread: history
            .iter()
            .filter(|h| h.commit_times.is_none() && window.contains(h.deployed_at))
            .count(),
    }
}

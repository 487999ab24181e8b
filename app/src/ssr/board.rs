//! The board from what the jobs recorded in Postgres and the approval
//! queue: no page view calls AWS or GitHub.

use super::ports::{ActionStatus, BoardSnapshot, CellIndex};
use super::AppState;
use crate::domain::health::{downtime, timeline, uptime_percent, Outage};
use crate::domain::{DownPolicy, OrgModel};
use crate::error::AppError;
use crate::views::board::{
    ActionChip, ActionState, BoardFilters, BoardView, Cell, CellDetail, CellStatus, Gap, GapCommit,
    Health, HotfixLine, ServiceRow, TeamRows, WaitingApproval,
};
use crate::views::home::{NavCounts, StatusCounts};
use chrono::{DateTime, Duration, Utc};

/// Services per page: a laptop screen of rows, every one complete.
pub const PAGE_SIZE: usize = 25;

/// Commits of a gap listed in its cell; the rest are one link away.
pub const GAP_COMMITS_SHOWN: usize = 5;

/// The pull request a squash-merge title names: "Fix totals (#123)".
pub(crate) fn pull_request(title: &str) -> Option<u64> {
    let start = title.rfind("(#")?;
    let rest = &title[start + 2..];
    let end = rest.find(')')?;
    rest[..end].parse().ok()
}

fn chips(actions: &[ActionStatus], approval_stage: &str) -> Vec<ActionChip> {
    actions
        .iter()
        .map(|a| ActionChip {
            label: if a.stage == a.action {
                a.stage.clone()
            } else {
                format!("{}: {}", a.stage, a.action)
            },
            state: ActionState::of(a.status.as_deref(), a.stage == approval_stage),
            detail: a.summary.clone(),
            url: a.url.clone(),
        })
        .collect()
}

/// A commit's first 12 hex digits: what GitHub's commit pages (and Git)
/// accept as unambiguous, and what keeps a board of hundreds of links
/// small.
fn abbreviated(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn flag(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "true" | "on" | "yes"))
}

/// When the current release cycle started (where downtime is counted);
/// sixty days back when the calendar has no cycle today.
async fn cycle_start(
    state: &super::AppState,
    org: &OrgModel,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, AppError> {
    let (calendar, _) = super::calendar::load(state, org).await?;
    Ok(super::calendar::cycle_start_of(&calendar, now))
}

/// The board for the filters in the URL.
pub async fn view(
    state: &AppState,
    team: Option<String>,
    service: Option<String>,
    waiting: Option<String>,
    down: Option<String>,
    failed: Option<String>,
    page: Option<String>,
) -> Result<BoardView, AppError> {
    let org = state.org.load_org().await?;
    let team = super::calendar::selected_team(&org, team.as_deref())?;
    let now = Utc::now();
    let cycle_start = cycle_start(state, &org, now).await?;
    let thirty_days = now - Duration::days(30);
    let snapshot = state
        .board
        .snapshot(super::calendar::snapshot_since(cycle_start, now))
        .await?;
    let page = page
        .as_deref()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    let filters = BoardFilters {
        team: team.as_ref().map(ToString::to_string),
        service: service
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        waiting: flag(waiting.as_deref()),
        down: flag(down.as_deref()),
        failed: flag(failed.as_deref()),
        page,
    };
    Ok(build(
        &org,
        &snapshot,
        filters,
        now,
        cycle_start,
        thirty_days,
        &state.github_web,
    ))
}

/// One service in one environment, as the board shows it, for the cell's
/// own page.
pub async fn cell(
    state: &AppState,
    service_id: &str,
    environment_id: &str,
) -> Result<CellDetail, AppError> {
    let org = state.org.load_org().await?;
    let unknown = || {
        AppError::NotFound(
            "Gatehouse knows no such service and environment; the board lists them all.".into(),
        )
    };
    let service = org.service(service_id).ok_or_else(unknown)?;
    let team = org.team(&service.team).ok_or_else(unknown)?;
    let now = Utc::now();
    let cycle_start = cycle_start(state, &org, now).await?;
    let snapshot = state
        .board
        .snapshot(super::calendar::snapshot_since(cycle_start, now))
        .await?;
    let row = Rows::new(&org, &snapshot, now, cycle_start, &state.github_web).row(team, service);
    let cell = row
        .cells
        .into_iter()
        .find(|c| c.environment_id == environment_id)
        .ok_or_else(unknown)?;
    Ok(CellDetail {
        now: now.to_rfc3339(),
        service_id: row.id,
        service: row.name,
        team: team.name.to_string(),
        repository: row.repository,
        repository_url: row.repository_url,
        cell,
        hotfixes: row.hotfixes,
        demo: state.mode == super::Mode::Demo,
    })
}

/// A cell's status from its records: the one rule the board's cells, its
/// summary strip, its filters and the navigation's counts share.
pub fn cell_status(snapshot: &BoardSnapshot, at: Option<&CellIndex>) -> CellStatus {
    let d = at
        .and_then(|c| c.deployment)
        .map(|i| &snapshot.deployments[i]);
    CellStatus::of(
        d.is_some_and(|d| d.commit.is_some()),
        d.and_then(|d| d.latest_status.as_deref()),
        at.is_some_and(|c| c.waiting.is_some()),
        at.and_then(|c| c.health).map(|i| snapshot.health[i].up),
    )
}

/// The statuses of one service's cells, environment by environment as the
/// board shows them.
fn statuses<'a>(
    org: &'a OrgModel,
    snapshot: &'a BoardSnapshot,
    team: &'a crate::domain::Team,
    service: &'a crate::domain::Service,
) -> impl Iterator<Item = CellStatus> + 'a {
    let records = snapshot.service(service.id.as_str());
    org.environments_for(&team.id)
        .into_iter()
        .map(move |env| cell_status(snapshot, records.and_then(|r| r.cells.get(env.id.as_str()))))
}

impl StatusCounts {
    fn add(&mut self, status: CellStatus) {
        match status {
            CellStatus::Down => self.down += 1,
            CellStatus::Failed => self.failed += 1,
            CellStatus::Waiting => self.waiting += 1,
            _ => {}
        }
    }
}

/// How many cells of `team`'s services (every team's when `None`) are
/// down, failed and waiting.
pub fn status_counts(
    org: &OrgModel,
    snapshot: &BoardSnapshot,
    team: Option<&crate::domain::TeamId>,
) -> StatusCounts {
    let mut counts = StatusCounts::default();
    for t in org
        .teams
        .iter()
        .filter(|t| team.is_none_or(|id| &t.id == id))
    {
        for service in org.services_of(&t.id) {
            statuses(org, snapshot, t, service).for_each(|s| counts.add(s));
        }
    }
    counts
}

/// What the navigation counts: requests waiting for a decision and cells
/// down, from the cached snapshot; `audit`: whether it links the log.
pub async fn nav_counts(state: &AppState, audit: bool) -> Result<NavCounts, AppError> {
    let org = state.org.load_org().await?;
    let now = Utc::now();
    let snapshot = state
        .board
        .snapshot(super::calendar::snapshot_since(now, now))
        .await?;
    let counts = status_counts(&org, &snapshot, None);
    Ok(NavCounts {
        approvals: snapshot
            .waiting
            .iter()
            .filter(|w| org.service(&w.service_id).is_some())
            .count(),
        down: counts.down,
        audit,
    })
}

/// Builds a service's row of the board: what every cell shows.
struct Rows<'a> {
    org: &'a OrgModel,
    snapshot: &'a BoardSnapshot,
    env_names: std::collections::HashMap<&'a str, String>,
    now: DateTime<Utc>,
    cycle_start: DateTime<Utc>,
    thirty_days: DateTime<Utc>,
    /// GitHub's web address, for links.
    web: &'a str,
}

impl<'a> Rows<'a> {
    fn new(
        org: &'a OrgModel,
        snapshot: &'a BoardSnapshot,
        now: DateTime<Utc>,
        cycle_start: DateTime<Utc>,
        web: &'a str,
    ) -> Self {
        Self {
            org,
            snapshot,
            env_names: org
                .environments
                .iter()
                .map(|e| (e.id.as_str(), e.name.to_string()))
                .collect(),
            now,
            cycle_start,
            thirty_days: now - Duration::days(30),
            web,
        }
    }

    fn row(&self, t: &crate::domain::Team, service: &crate::domain::Service) -> ServiceRow {
        let web = self.web;
        let mut cells = Vec::new();
        let records = self.snapshot.service(service.id.as_str());
        for env in self.org.environments_for(&t.id) {
            let at = records.and_then(|r| r.cells.get(env.id.as_str()));
            let d = at
                .and_then(|c| c.deployment)
                .map(|i| &self.snapshot.deployments[i]);
            let cell_outages: Vec<&super::ports::OutageRecord> = at
                .map(|c| {
                    c.outages
                        .iter()
                        .map(|&i| &self.snapshot.outages[i])
                        .collect()
                })
                .unwrap_or_default();
            let outages: Vec<Outage> = cell_outages
                .iter()
                .map(|o| Outage {
                    start: o.started_at,
                    end: o.ended_at,
                })
                .collect();
            let counts = env.down_policy == DownPolicy::CalculateDowntime;
            let cell_health = at
                .and_then(|c| c.health)
                .map(|i| &self.snapshot.health[i])
                .map(|h| Health {
                    up: h.up,
                    since: h.since.map(|t| t.to_rfc3339()),
                    detail: h.detail.clone(),
                    uptime_cycle: counts
                        .then(|| uptime_percent(&outages, self.cycle_start, self.now)),
                    uptime_30d: counts
                        .then(|| uptime_percent(&outages, self.thirty_days, self.now)),
                    timeline: if counts {
                        timeline(&outages, self.thirty_days, self.now)
                    } else {
                        Vec::new()
                    },
                    downtime_cycle_minutes: counts
                        .then(|| downtime(&outages, self.cycle_start, self.now).num_minutes()),
                    ticket: cell_outages
                        .iter()
                        .filter(|o| o.ended_at.is_none())
                        .find_map(|o| o.issue_url.clone()),
                });
            let repo = service.repository.to_string();
            let behind = at
                .and_then(|c| c.gap)
                .map(|i| &self.snapshot.gaps[i])
                .map(|g| Gap {
                    behind_by: g.behind_by,
                    of: self
                        .env_names
                        .get(g.ahead_of.as_str())
                        .cloned()
                        .unwrap_or_else(|| g.ahead_of.clone()),
                    compare_url: format!("{web}/{repo}/compare/{}...{}", g.base_sha, g.head_sha),
                    commits: g
                        .commits
                        .iter()
                        .take(GAP_COMMITS_SHOWN)
                        .map(|c| {
                            let pr = pull_request(&c.title);
                            GapCommit {
                                sha: c.sha.chars().take(7).collect(),
                                title: c.title.clone(),
                                author: c.author_login.clone(),
                                url: format!("{web}/{repo}/commit/{}", abbreviated(&c.sha)),
                                pull_request: pr.map(|n| (n, format!("{web}/{repo}/pull/{n}"))),
                            }
                        })
                        .collect(),
                });
            let waiting = at
                .and_then(|c| c.waiting)
                .map(|i| &self.snapshot.waiting[i])
                .map(|p| WaitingApproval {
                    request_id: p.request_id.clone(),
                    commit: p.commit.chars().take(7).collect(),
                    votes: usize::try_from(p.approvals).unwrap_or(0),
                    needed: env.approval.as_ref().map_or(1, |r| r.required),
                    requested_at: p.requested_at.to_rfc3339(),
                    blocked_on: if self.org.is_prod(env.id.as_str()) {
                        super::prod_plan::blockers_of(self.org, self.snapshot, service)
                            .into_iter()
                            .map(|id| {
                                self.org
                                    .service(&id)
                                    .map_or(id.clone(), |s| s.name.to_string())
                            })
                            .collect()
                    } else {
                        Vec::new()
                    },
                });
            let status = cell_status(self.snapshot, at);
            cells.push(Cell {
                status,
                environment_id: env.id.to_string(),
                environment: env.name.to_string(),
                pipeline: d.map_or_else(
                    || self.org.pipelines.pipeline_name(&service.id, &env.id),
                    |d| d.pipeline.clone(),
                ),
                short_sha: d
                    .and_then(|d| d.commit.as_ref())
                    .map(|c| c.chars().take(7).collect()),
                // GitHub's address as configured (GitHub Enterprise, or the
                // demo's simulated GitHub), not the URL CodePipeline stored.
                commit_url: d.and_then(|d| {
                    d.commit
                        .as_ref()
                        .map(|c| format!("{web}/{repo}/commit/{}", abbreviated(c)))
                        .or_else(|| d.revision_url.clone())
                }),
                tag: d.and_then(|d| d.tag.clone()),
                branch: d.and_then(|d| d.branch.clone()),
                message: d.and_then(|d| d.message.clone()),
                deployed_at: d.and_then(|d| d.deployed_at).map(|t| t.to_rfc3339()),
                execution: d
                    .and_then(|d| d.deployed_execution.as_ref())
                    .map(|e| e.chars().take(8).collect()),
                run_id: d.and_then(|d| d.deployed_execution.clone()),
                latest_status: d.and_then(|d| d.latest_status.clone()),
                latest_run: d.and_then(|d| d.latest_execution.clone()),
                actions: d.map_or_else(Vec::new, |d| {
                    chips(&d.actions, self.org.pipelines.approval_stage())
                }),
                waiting,
                behind,
                health: cell_health,
                problem: d.and_then(|d| d.problem.clone()),
            });
        }
        let hotfixes = records
            .map(|r| r.hotfixes.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|&i| &self.snapshot.hotfixes[i])
            .map(|h| HotfixLine {
                branch: h.branch.clone(),
                in_release: h.in_release_env,
                missing: h.missing(),
            })
            .collect();
        ServiceRow {
            id: service.id.to_string(),
            name: service.name.to_string(),
            repository: service.repository.to_string(),
            repository_url: format!("{web}/{}", service.repository),
            cells,
            hotfixes,
        }
    }
}

/// Assembles the board; pure, so the benchmark and tests can drive it.
#[allow(clippy::too_many_arguments)]
pub fn build(
    org: &OrgModel,
    snapshot: &BoardSnapshot,
    filters: BoardFilters,
    now: DateTime<Utc>,
    cycle_start: DateTime<Utc>,
    thirty_days: DateTime<Utc>,
    github_web: &str,
) -> BoardView {
    let needle = filters.service.as_ref().map(|s| s.to_lowercase());

    // Which services match, from cheap lookups; cells are built only for
    // the page shown.
    let mut matching: Vec<(&crate::domain::Team, &crate::domain::Service)> = Vec::new();
    let mut counts = StatusCounts::default();
    for t in &org.teams {
        if filters.team.as_deref().is_some_and(|f| f != t.id.as_str()) {
            continue;
        }
        for service in org.services_of(&t.id) {
            if let Some(n) = &needle {
                let hit = service.id.as_str().to_lowercase().contains(n)
                    || service.name.to_string().to_lowercase().contains(n);
                if !hit {
                    continue;
                }
            }
            // The summary counts every cell the other filters leave, so
            // each of its numbers is what its filter then shows.
            let (mut down, mut failed, mut waiting) = (false, false, false);
            for status in statuses(org, snapshot, t, service) {
                counts.add(status);
                down |= status == CellStatus::Down;
                failed |= status == CellStatus::Failed;
                waiting |= status == CellStatus::Waiting;
            }
            let wanted = [
                (filters.down, down),
                (filters.failed, failed),
                (filters.waiting, waiting),
            ];
            // Several status filters show services with any of them.
            if wanted.iter().any(|(on, _)| *on) && !wanted.iter().any(|(on, has)| *on && *has) {
                continue;
            }
            matching.push((t, service));
        }
    }
    let rows_of = Rows {
        thirty_days,
        ..Rows::new(org, snapshot, now, cycle_start, github_web)
    };
    let count = matching.len();
    let pages = u32::try_from(count.div_ceil(PAGE_SIZE).max(1)).unwrap_or(u32::MAX);
    let page = filters.page.clamp(1, pages);
    let skip = (page as usize - 1) * PAGE_SIZE;
    let mut rows: Vec<TeamRows> = Vec::new();
    for (t, service) in matching.into_iter().skip(skip).take(PAGE_SIZE) {
        let row = rows_of.row(t, service);
        match rows.last_mut() {
            Some(last) if last.id == t.id.as_str() => last.services.push(row),
            _ => rows.push(TeamRows {
                id: t.id.to_string(),
                name: t.name.to_string(),
                services: vec![row],
            }),
        }
    }
    let shown: usize = rows.iter().map(|r| r.services.len()).sum();
    BoardView {
        now: now.to_rfc3339(),
        environments: org
            .environments
            .iter()
            .map(|e| (e.id.to_string(), e.name.to_string()))
            .collect(),
        teams: org.teams.clone(),
        rows,
        filters: BoardFilters { page, ..filters },
        matching: count,
        first: if shown == 0 { 0 } else { skip + 1 },
        last: skip + shown,
        page,
        pages,
        total: org.services.len(),
        counts,
        recorded: !snapshot.deployments.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_request_is_read_from_a_squash_merge_title() {
        assert_eq!(pull_request("Fix totals (#123)"), Some(123));
        assert_eq!(pull_request("Fix totals"), None);
        assert_eq!(pull_request("Fix (#x)"), None);
    }

    #[test]
    fn an_approval_action_in_progress_is_waiting() {
        use crate::views::board::ActionState;
        assert_eq!(
            ActionState::of(Some("InProgress"), true),
            ActionState::Waiting
        );
        assert_eq!(
            ActionState::of(Some("InProgress"), false),
            ActionState::Running
        );
        assert_eq!(ActionState::of(None, false), ActionState::None);
    }
}

//! The environment board: per team and service, what runs in each
//! environment, what waits to move, and whether it is up.

use crate::domain::Team;
use serde::{Deserialize, Serialize};

/// One commit an environment lacks of the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapCommit {
    pub sha: String,
    pub title: String,
    pub author: Option<String>,
    pub url: String,
    /// The pull request the commit's title names (`(#123)`), with its URL.
    pub pull_request: Option<(u64, String)>,
}

/// How far an environment is behind the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub behind_by: u32,
    /// The environment before, by name.
    pub of: String,
    /// The first few commits as GitHub lists them, and GitHub's comparison
    /// of all of them.
    pub commits: Vec<GapCommit>,
    pub compare_url: String,
}

/// How a pipeline action's latest run went, in the board's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    Succeeded,
    /// In progress at the stage that waits for Gatehouse's approval.
    Waiting,
    Running,
    Failed,
    /// Abandoned, stopped, stopping or superseded.
    Stopped,
    /// Not run yet (or a status CodePipeline may add later).
    None,
}

impl ActionState {
    /// The state of an action from CodePipeline's status word; `waiting`
    /// when the action is the stage that waits for Gatehouse.
    pub fn of(status: Option<&str>, waiting_stage: bool) -> ActionState {
        match status {
            Some("Succeeded") => ActionState::Succeeded,
            Some("InProgress") if waiting_stage => ActionState::Waiting,
            Some("InProgress") => ActionState::Running,
            Some("Failed") => ActionState::Failed,
            Some("Abandoned" | "Stopped" | "Stopping" | "Superseded") => ActionState::Stopped,
            _ => ActionState::None,
        }
    }

    /// Its class on the page, its word, and its rank (worst first).
    pub fn look(self) -> (&'static str, &'static str, u8) {
        match self {
            ActionState::Failed => ("fail", "failed", 0),
            ActionState::Waiting => ("wait", "waiting", 1),
            ActionState::Running => ("run", "running", 2),
            ActionState::Stopped => ("stop", "stopped", 3),
            ActionState::None => ("none", "not run", 4),
            ActionState::Succeeded => ("ok", "succeeded", 5),
        }
    }
}

/// One pipeline action and how its latest run went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionChip {
    pub label: String,
    pub state: ActionState,
    pub detail: Option<String>,
    pub url: Option<String>,
}

/// An approval waiting in this cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingApproval {
    pub request_id: String,
    pub commit: String,
    pub votes: usize,
    pub needed: u8,
    pub requested_at: String,
    /// For Prod: the changed services it calls whose change has not
    /// reached Prod (the Prod plan), by name.
    #[serde(default)]
    pub blocked_on: Vec<String>,
}

/// Health as the prober last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// `None` until the first probes settle it.
    pub up: Option<bool>,
    pub since: Option<String>,
    pub detail: Option<String>,
    /// Where downtime is counted: uptime over the current release cycle and
    /// the last 30 days, in percent, and the last 30 days' outages as
    /// (offset, width) fractions.
    pub uptime_cycle: Option<f64>,
    pub uptime_30d: Option<f64>,
    pub timeline: Vec<(f64, f64)>,
    /// The open Critical ticket.
    pub ticket: Option<String>,
    /// Where downtime is counted: minutes down in the current release cycle.
    pub downtime_cycle_minutes: Option<i64>,
}

/// A cell's state in one word, worst first: what a glance at the board
/// must tell. Ordered worst first, so a service's worst cell is its least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// The health URL fails.
    Down,
    /// The newest pipeline run failed.
    Failed,
    /// A run waits for an approval.
    Waiting,
    /// A run is in progress.
    Deploying,
    /// Deployed and the health URL answers.
    Up,
    /// Deployed; the first probes have not settled yet.
    Checking,
    /// Deployed; the environment has no health URL.
    Deployed,
    NotDeployed,
}

impl CellStatus {
    /// The cell's status from what it holds.
    pub fn of(
        deployed: bool,
        latest_status: Option<&str>,
        waiting: bool,
        health: Option<Option<bool>>,
    ) -> CellStatus {
        match (health, latest_status) {
            (Some(Some(false)), _) => CellStatus::Down,
            (_, Some("Failed")) => CellStatus::Failed,
            _ if waiting => CellStatus::Waiting,
            (_, Some("InProgress")) => CellStatus::Deploying,
            _ if !deployed => CellStatus::NotDeployed,
            (Some(Some(true)), _) => CellStatus::Up,
            (Some(None), _) => CellStatus::Checking,
            (None, _) => CellStatus::Deployed,
        }
    }

    /// The word shown next to its icon.
    pub fn words(self) -> &'static str {
        match self {
            CellStatus::Down => "Down",
            CellStatus::Failed => "Failed",
            CellStatus::Waiting => "Waiting for approval",
            CellStatus::Deploying => "Deploying",
            CellStatus::Up => "Up",
            CellStatus::Checking => "Checking",
            CellStatus::Deployed => "Deployed",
            CellStatus::NotDeployed => "Not deployed",
        }
    }
}

/// "99.98": a share up in percent, to two places, rounded down so that a
/// minute down never reads as 100.00.
pub fn percent_up(percent: f64, any_down: bool) -> String {
    // The epsilon keeps 99.97 (stored as 99.9699…) from reading 99.96.
    let floored = (percent * 100.0 + 1e-6).floor() / 100.0;
    let shown = if any_down {
        floored.min(99.99)
    } else {
        floored
    };
    format!("{shown:.2}")
}

/// One service in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub environment_id: String,
    pub environment: String,
    pub pipeline: String,
    pub short_sha: Option<String>,
    pub commit_url: Option<String>,
    pub tag: Option<String>,
    pub branch: Option<String>,
    pub message: Option<String>,
    pub deployed_at: Option<String>,
    pub execution: Option<String>,
    /// The deployed run's full execution id (the cell's page shows it).
    #[serde(default)]
    pub run_id: Option<String>,
    /// The newest execution's status (e.g. InProgress).
    pub latest_status: Option<String>,
    /// The newest execution's id: the run the actions belong to.
    #[serde(default)]
    pub latest_run: Option<String>,
    pub actions: Vec<ActionChip>,
    pub waiting: Option<WaitingApproval>,
    pub behind: Option<Gap>,
    pub health: Option<Health>,
    /// Why this cell could not be read, in words.
    pub problem: Option<String>,
    pub status: CellStatus,
}

/// A hotfix branch and what it still lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotfixLine {
    pub branch: String,
    pub in_release: bool,
    /// Branches it still has to be merged into.
    pub missing: Vec<String>,
}

/// One service's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub id: String,
    pub name: String,
    pub repository: String,
    /// The repository on GitHub's web (GATEHOUSE_GITHUB_URL).
    pub repository_url: String,
    pub cells: Vec<Cell>,
    pub hotfixes: Vec<HotfixLine>,
}

/// A team's rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRows {
    pub id: String,
    pub name: String,
    pub services: Vec<ServiceRow>,
}

/// The filters of the board, as in its URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardFilters {
    pub team: Option<String>,
    pub service: Option<String>,
    pub waiting: bool,
    pub down: bool,
    /// Services with a failed run.
    #[serde(default)]
    pub failed: bool,
    pub page: u32,
}

impl BoardFilters {
    /// The query string for these filters on page `page` (no leading `?`).
    pub fn query(&self, page: u32) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.team {
            parts.push(format!("team={t}"));
        }
        if let Some(s) = &self.service {
            let encoded: String = s
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c.to_string()
                    } else {
                        format!("%{:02X}", c as u32 & 0xff)
                    }
                })
                .collect();
            parts.push(format!("service={encoded}"));
        }
        if self.waiting {
            parts.push("waiting=1".into());
        }
        if self.down {
            parts.push("down=1".into());
        }
        if self.failed {
            parts.push("failed=1".into());
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        parts.join("&")
    }
}

/// The board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardView {
    pub now: String,
    pub environments: Vec<(String, String)>,
    pub teams: Vec<Team>,
    pub rows: Vec<TeamRows>,
    pub filters: BoardFilters,
    /// Services matching the filters, and the range shown on this page.
    pub matching: usize,
    pub first: usize,
    pub last: usize,
    pub page: u32,
    pub pages: u32,
    /// Services in the org.
    pub total: usize,
    /// Cells down, failed and waiting among the services the team and
    /// service filters leave (the summary strip above the table).
    #[serde(default)]
    pub counts: crate::views::home::StatusCounts,
    /// When the jobs last recorded anything, if ever.
    pub recorded: bool,
}

/// One service in one environment, for the cell's own page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellDetail {
    pub now: String,
    pub service_id: String,
    pub service: String,
    pub team: String,
    pub repository: String,
    pub repository_url: String,
    pub cell: Cell,
    pub hotfixes: Vec<HotfixLine>,
    /// Demo mode: runs are simulated, so there is no AWS console to link.
    pub demo: bool,
}

#[cfg(test)]
mod tests {
    use super::percent_up;

    #[test]
    fn a_minute_down_never_reads_as_all_up() {
        assert_eq!(percent_up(99.9995, true), "99.99");
        assert_eq!(percent_up(100.0, true), "99.99");
        assert_eq!(percent_up(100.0, false), "100.00");
        assert_eq!(percent_up(98.756, true), "98.75");
        assert_eq!(percent_up(99.97, true), "99.97");
    }

    use super::CellStatus;

    #[test]
    fn a_cell_reads_as_its_worst_state() {
        let of = CellStatus::of;
        assert_eq!(
            of(true, Some("Failed"), true, Some(Some(false))),
            CellStatus::Down
        );
        assert_eq!(
            of(true, Some("Failed"), true, Some(Some(true))),
            CellStatus::Failed
        );
        assert_eq!(
            of(true, Some("InProgress"), true, Some(Some(true))),
            CellStatus::Waiting
        );
        assert_eq!(
            of(true, Some("InProgress"), false, None),
            CellStatus::Deploying
        );
        assert_eq!(of(false, None, false, None), CellStatus::NotDeployed);
        assert_eq!(
            of(true, Some("Succeeded"), false, Some(Some(true))),
            CellStatus::Up
        );
        assert_eq!(
            of(true, Some("Succeeded"), false, Some(None)),
            CellStatus::Checking
        );
        assert_eq!(
            of(true, Some("Succeeded"), false, None),
            CellStatus::Deployed
        );
    }
}

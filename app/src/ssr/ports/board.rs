//! What the board's jobs recorded.

use super::StoreError;
use super::{ActionStatus, CommitSummary};
use async_trait::async_trait;

/// A deployment as the board keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRecord {
    pub service_id: String,
    pub environment_id: String,
    pub pipeline: String,
    pub commit: Option<String>,
    pub message: Option<String>,
    pub branch: Option<String>,
    pub revision_url: Option<String>,
    pub tag: Option<String>,
    pub deployed_execution: Option<String>,
    pub deployed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub latest_execution: Option<String>,
    pub latest_status: Option<String>,
    pub actions: Vec<ActionStatus>,
    pub problem: Option<String>,
}

/// The commits `environment_id` lacks of `ahead_of`, the environment before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapRecord {
    pub service_id: String,
    pub environment_id: String,
    pub ahead_of: String,
    pub base_sha: String,
    pub head_sha: String,
    pub behind_by: u32,
    pub commits: Vec<CommitSummary>,
}

/// A hotfix branch and how far it has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotfixRecord {
    pub service_id: String,
    pub branch: String,
    pub head_sha: String,
    pub in_release_env: bool,
    pub merged_develop: bool,
    pub release_branch: Option<String>,
    pub merged_release: Option<bool>,
}

impl HotfixRecord {
    /// Where it still has to be merged, in words (empty when nowhere).
    pub fn missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.merged_develop {
            out.push("develop".to_owned());
        }
        if let (Some(branch), Some(false)) = (&self.release_branch, self.merged_release) {
            out.push(branch.clone());
        }
        out
    }
}

/// A health URL's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthRecord {
    pub service_id: String,
    pub environment_id: String,
    pub up: Option<bool>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub checked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub detail: Option<String>,
}

/// A period of downtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutageRecord {
    pub service_id: String,
    pub environment_id: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub issue_url: Option<String>,
}

/// One finished deployment of an environment's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRecord {
    pub service_id: String,
    pub deployed_at: chrono::DateTime<chrono::Utc>,
    /// When each commit it brought was made; `None` until read from
    /// GitHub (or when GitHub does not have the commit).
    pub commit_times: Option<Vec<chrono::DateTime<chrono::Utc>>>,
    /// It shipped a hotfix (a `hotfix/*` branch, or a commit or merge of
    /// one).
    pub hotfix: bool,
}

/// An approval request still waiting, as the board shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingRecord {
    pub request_id: String,
    pub service_id: String,
    pub environment_id: String,
    pub commit: String,
    pub requested_at: chrono::DateTime<chrono::Utc>,
    /// Approving votes so far.
    pub approvals: i64,
}

/// Everything the board shows, as the jobs last recorded it.
#[derive(Debug, Clone, Default)]
pub struct BoardSnapshot {
    /// Where each service's records are, built on first use: a view reads
    /// only the services it shows, however large the org.
    pub index: std::sync::OnceLock<BoardIndex>,
    /// Approval requests still waiting.
    pub waiting: Vec<WaitingRecord>,
    pub deployments: Vec<DeploymentRecord>,
    pub gaps: Vec<GapRecord>,
    pub hotfixes: Vec<HotfixRecord>,
    pub health: Vec<HealthRecord>,
    /// Outages that overlap the time since `since` given to the store.
    pub outages: Vec<OutageRecord>,
}

/// One environment's records of one service, as positions in the
/// snapshot's lists.
#[derive(Debug, Clone, Default)]
pub struct CellIndex {
    pub deployment: Option<usize>,
    pub gap: Option<usize>,
    pub health: Option<usize>,
    pub waiting: Option<usize>,
    pub outages: Vec<usize>,
}

/// One service's records: its cells by environment id, its hotfixes, and
/// whether anything of it waits or is down (the board's filters).
#[derive(Debug, Clone, Default)]
pub struct ServiceIndex {
    pub cells: std::collections::HashMap<String, CellIndex>,
    pub hotfixes: Vec<usize>,
    pub waiting: bool,
    pub down: bool,
}

/// A snapshot's records by service.
#[derive(Debug, Clone, Default)]
pub struct BoardIndex {
    pub services: std::collections::HashMap<String, ServiceIndex>,
}

impl BoardSnapshot {
    /// The records by service, built once per snapshot.
    pub fn index(&self) -> &BoardIndex {
        self.index.get_or_init(|| {
            let mut index = BoardIndex::default();
            fn cell<'a>(
                index: &'a mut BoardIndex,
                service: &str,
                environment: &str,
            ) -> &'a mut CellIndex {
                index
                    .services
                    .entry(service.to_owned())
                    .or_default()
                    .cells
                    .entry(environment.to_owned())
                    .or_default()
            }
            for (i, d) in self.deployments.iter().enumerate() {
                cell(&mut index, &d.service_id, &d.environment_id).deployment = Some(i);
            }
            for (i, g) in self.gaps.iter().enumerate() {
                cell(&mut index, &g.service_id, &g.environment_id).gap = Some(i);
            }
            for (i, h) in self.health.iter().enumerate() {
                cell(&mut index, &h.service_id, &h.environment_id).health = Some(i);
            }
            for (i, w) in self.waiting.iter().enumerate() {
                cell(&mut index, &w.service_id, &w.environment_id).waiting = Some(i);
            }
            for (i, o) in self.outages.iter().enumerate() {
                cell(&mut index, &o.service_id, &o.environment_id)
                    .outages
                    .push(i);
            }
            for (i, h) in self.hotfixes.iter().enumerate() {
                index
                    .services
                    .entry(h.service_id.clone())
                    .or_default()
                    .hotfixes
                    .push(i);
            }
            for w in &self.waiting {
                if let Some(s) = index.services.get_mut(&w.service_id) {
                    s.waiting = true;
                }
            }
            for h in &self.health {
                if h.up == Some(false) {
                    if let Some(s) = index.services.get_mut(&h.service_id) {
                        s.down = true;
                    }
                }
            }
            index
        })
    }

    /// One service's records, if it has any.
    pub fn service(&self, service_id: &str) -> Option<&ServiceIndex> {
        self.index().services.get(service_id)
    }
}

/// What the board's jobs recorded.
#[async_trait]
pub trait BoardStore: Send + Sync {
    /// The whole board, with outages since `since`.
    async fn snapshot(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<std::sync::Arc<BoardSnapshot>, StoreError>;
    /// The hotfix branches of one service.
    async fn hotfixes(&self, service_id: &str) -> Result<Vec<HotfixRecord>, StoreError>;
    /// The deployments to `environment_id` since `since`, oldest first (at
    /// most [`HISTORY_LIMIT`]).
    async fn deployment_history(
        &self,
        environment_id: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<HistoryRecord>, StoreError>;
    /// The outages of `environment_id` that lasted into `since` or began
    /// after it, oldest first (at most [`HISTORY_LIMIT`]).
    async fn outage_history(
        &self,
        environment_id: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<OutageRecord>, StoreError>;
}

/// History rows one read returns, at most.
pub const HISTORY_LIMIT: i64 = 20_000;

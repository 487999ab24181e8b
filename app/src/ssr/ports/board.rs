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
    /// Approval requests still waiting.
    pub waiting: Vec<WaitingRecord>,
    pub deployments: Vec<DeploymentRecord>,
    pub gaps: Vec<GapRecord>,
    pub hotfixes: Vec<HotfixRecord>,
    pub health: Vec<HealthRecord>,
    /// Outages that overlap the time since `since` given to the store.
    pub outages: Vec<OutageRecord>,
}

/// What the board's jobs recorded.
#[async_trait]
pub trait BoardStore: Send + Sync {
    /// The whole board, with outages since `since`.
    async fn snapshot(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<BoardSnapshot, StoreError>;
    /// The hotfix branches of one service.
    async fn hotfixes(&self, service_id: &str) -> Result<Vec<HotfixRecord>, StoreError>;
}

//! The outside world as the app sees it. Adapters live in the server crate.

use crate::domain::{OrgModel, Persona, User};
use async_trait::async_trait;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or timed out: worth retrying.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored row no longer parses as a domain value.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("store query failed: {0}")]
    Query(String),
}

/// The organisation model: teams, services, environments.
#[async_trait]
pub trait OrgStore: Send + Sync {
    /// Loads the whole org model as last synced from configuration.
    async fn load_org(&self) -> Result<OrgModel, StoreError>;
}

/// People and their roles.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The demo personas, in the order the picker shows them.
    async fn personas(&self) -> Result<Vec<Persona>, StoreError>;
    /// The user behind a demo persona.
    async fn persona_user(&self, login: &str) -> Result<Option<User>, StoreError>;
}

/// Which approval action of which pipeline, as configured for a
/// service/environment pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalTarget {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
}

/// A manual approval waiting for an answer in CodePipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingApproval {
    pub target: ApprovalTarget,
    pub token: String,
    pub execution_id: String,
    pub requested_at: chrono::DateTime<chrono::Utc>,
}

/// The source revision a pipeline execution runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRevision {
    pub commit: String,
    pub message: Option<String>,
    pub branch: Option<String>,
    pub url: Option<String>,
}

/// Why a CodePipeline call failed, sorted by what Gatehouse does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    /// The approval was answered elsewhere, expired or its token is stale:
    /// re-read the pipeline state and reconcile.
    #[error("the approval is no longer open ({0}); re-read the pipeline state")]
    Reconcile(String),
    /// The pipeline, stage or action does not exist: an admin must fix the
    /// org configuration.
    #[error("CodePipeline configuration error: {0}")]
    Configuration(String),
    /// Throttled, timed out or a server error, after retries.
    #[error("CodePipeline is unavailable: {0}")]
    Unavailable(String),
    #[error("CodePipeline refused the request: {0}")]
    Rejected(String),
}

/// AWS CodePipeline, as much of it as Gatehouse uses.
#[async_trait]
pub trait Pipelines: Send + Sync {
    /// The approval waiting at `target`, if one is.
    async fn pending_approval(
        &self,
        target: &ApprovalTarget,
    ) -> Result<Option<PendingApproval>, PipelineError>;
    /// What an execution is building.
    async fn revision(
        &self,
        pipeline: &str,
        execution_id: &str,
    ) -> Result<SourceRevision, PipelineError>;
    /// Answers an approval; returns when AWS recorded it.
    async fn put_approval_result(
        &self,
        target: &ApprovalTarget,
        token: &str,
        approved: bool,
        summary: &str,
    ) -> Result<chrono::DateTime<chrono::Utc>, PipelineError>;
}

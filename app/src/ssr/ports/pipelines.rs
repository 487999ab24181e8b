//! CodePipeline: approvals waiting, answers, executions.

use async_trait::async_trait;

/// Which approval action of which pipeline, as configured for a
/// service/environment pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

/// How CodePipeline last answered an approval action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastAnswer {
    pub execution_id: String,
    pub approved: bool,
    pub summary: Option<String>,
    /// The principal (ARN) that answered, as GetPipelineState's
    /// `lastUpdatedBy` says.
    pub updated_by: Option<String>,
}

/// An approval action as GetPipelineState shows it at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalNow {
    /// Waiting for an answer, with the token that answers it.
    Waiting(PendingApproval),
    /// Answered (approved or rejected) for the execution named.
    Answered(LastAnswer),
    /// Neither: never run, expired, superseded or still before the stage.
    Idle,
}

/// The source revision a pipeline execution runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRevision {
    pub commit: String,
    pub message: Option<String>,
    pub branch: Option<String>,
    pub url: Option<String>,
}

/// One action of a pipeline as GetPipelineState shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActionStatus {
    pub stage: String,
    pub action: String,
    /// InProgress, Succeeded, Failed, Abandoned; `None` before its first run.
    pub status: Option<String>,
    pub summary: Option<String>,
    /// Where the action's run can be looked at (CodeBuild log, deployment).
    pub url: Option<String>,
    /// The execution the status belongs to.
    pub execution_id: Option<String>,
}

/// A pipeline's current state: every action, and the newest execution with
/// its status (from the stage it has reached).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineStatus {
    pub actions: Vec<ActionStatus>,
    pub latest_execution: Option<(String, String)>,
}

/// An execution that finished successfully and what it deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedExecution {
    pub execution_id: String,
    pub revision: SourceRevision,
    pub finished_at: chrono::DateTime<chrono::Utc>,
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

impl PipelineError {
    /// Whether CodePipeline itself failed (throttled, timed out, server
    /// errors, unreachable) rather than answering about the pipeline asked:
    /// the integration's state reports such a failure once; callers log it
    /// quietly instead of once per pipeline.
    pub fn is_service_failure(&self) -> bool {
        matches!(self, PipelineError::Unavailable(_))
    }
}

/// AWS CodePipeline, as much of it as Gatehouse uses.
#[async_trait]
pub trait Pipelines: Send + Sync {
    /// The approval action at `target` now, in one GetPipelineState call:
    /// waiting, answered, or neither.
    async fn approval_now(&self, target: &ApprovalTarget) -> Result<ApprovalNow, PipelineError>;
    /// The approval waiting at `target`, if one is.
    async fn pending_approval(
        &self,
        target: &ApprovalTarget,
    ) -> Result<Option<PendingApproval>, PipelineError> {
        Ok(match self.approval_now(target).await? {
            ApprovalNow::Waiting(p) => Some(p),
            _ => None,
        })
    }
    /// The latest answer recorded at `target`: the execution it belongs to,
    /// whether it was approved, and its summary. `None` while nothing was
    /// answered or an approval still waits.
    async fn last_answer(
        &self,
        target: &ApprovalTarget,
    ) -> Result<Option<LastAnswer>, PipelineError> {
        Ok(match self.approval_now(target).await? {
            ApprovalNow::Answered(a) => Some(a),
            _ => None,
        })
    }
    /// What an execution is building.
    async fn revision(
        &self,
        pipeline: &str,
        execution_id: &str,
    ) -> Result<SourceRevision, PipelineError>;
    /// Every pipeline's name (ListPipelines, every page).
    async fn pipeline_names(&self) -> Result<Vec<String>, PipelineError>;
    /// A pipeline's stages, each with its actions as (name, category)
    /// (GetPipeline).
    async fn pipeline_stages(
        &self,
        pipeline: &str,
    ) -> Result<Vec<(String, Vec<(String, String)>)>, PipelineError>;
    /// What each stage and action of a pipeline is doing (GetPipelineState).
    async fn status(&self, pipeline: &str) -> Result<PipelineStatus, PipelineError>;
    /// The newest execution that finished successfully, with the revision it
    /// deployed (ListPipelineExecutions, newest first).
    async fn last_succeeded(
        &self,
        pipeline: &str,
    ) -> Result<Option<FinishedExecution>, PipelineError>;
    /// The executions that finished successfully since `since`, newest
    /// first (ListPipelineExecutions, page after page until one older than
    /// `since`, at most `max_pages` pages of 100).
    async fn succeeded_since(
        &self,
        pipeline: &str,
        since: chrono::DateTime<chrono::Utc>,
        max_pages: usize,
    ) -> Result<Vec<FinishedExecution>, PipelineError>;
    /// Starts a new run of a pipeline on its latest source revision
    /// (StartPipelineExecution); returns the execution id. Retrying with
    /// the same `client_token` starts no second run.
    async fn start_execution(
        &self,
        pipeline: &str,
        client_token: &str,
    ) -> Result<String, PipelineError>;
    /// Answers an approval; returns when AWS recorded it.
    async fn put_approval_result(
        &self,
        target: &ApprovalTarget,
        token: &str,
        approved: bool,
        summary: &str,
    ) -> Result<chrono::DateTime<chrono::Utc>, PipelineError>;
}

//! Approval requests, votes and deliveries as stored.

use super::StoreError;
use super::{ApprovalTarget, CommitAuthor, PendingApproval, SourceRevision};
use crate::domain::request::{ApprovalRequest, DeliveryOutcome, PipelineProblem};
use crate::domain::User;
use async_trait::async_trait;

/// A pending approval as first seen by the poller.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub service_id: String,
    pub environment_id: String,
    pub pending: PendingApproval,
    pub revision: SourceRevision,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Who wrote the commit, when GitHub said; with `author_checked` false
    /// GitHub could not be asked yet.
    pub author: Option<CommitAuthor>,
    pub author_checked: bool,
}

/// Where a pending request waits in CodePipeline, as recorded: what the
/// poller compares each pipeline's state with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedWait {
    pub target: ApprovalTarget,
    pub execution_id: String,
    pub token: String,
}

/// Who acts, as written to the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    /// The person behind the identity (see [`User::person`]).
    pub person: String,
    pub display_name: String,
    pub roles: Vec<String>,
}

impl From<&User> for Actor {
    fn from(user: &User) -> Self {
        Self {
            user_id: user.id.clone(),
            person: user.person.clone(),
            display_name: user.display_name.to_string(),
            roles: user.roles.iter().map(ToString::to_string).collect(),
        }
    }
}

/// A vote to record.
#[derive(Debug, Clone)]
pub struct NewVote {
    pub decision: crate::domain::approval::Decision,
    pub comment: String,
    pub sign_off: crate::domain::approval::SignOff,
    /// Gatehouse could not establish whether the voter wrote the commit.
    pub author_unknown: bool,
    /// The approval overrides the Prod plan: audited with the reason.
    pub plan_override: Option<PlanOverride>,
}

/// An approval given although the Prod plan blocks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOverride {
    pub reason: String,
    /// The changed dependencies that had not reached Prod.
    pub blocked_on: Vec<String>,
}

/// Whether a vote was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteCommit {
    Recorded,
    /// The request changed since it was read (another vote, a decision, a
    /// close); read it again and re-check.
    Conflict,
}

/// A decision claimed for sending to CodePipeline.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub request_id: String,
    pub target: ApprovalTarget,
    pub token: String,
    pub execution_id: String,
    pub commit: String,
    pub approved: bool,
    pub summary: String,
}

/// Approval requests, votes, deliveries and the audit log.
#[async_trait]
pub trait ApprovalStore: Send + Sync {
    /// Records a newly seen approval (once per execution) and audits it;
    /// returns false when it was already known (its token is refreshed).
    async fn upsert_request(&self, new: &NewRequest) -> Result<bool, StoreError>;
    /// Records who wrote a request's commit, as GitHub answered (`None`: a
    /// commit GitHub does not know).
    async fn set_author(
        &self,
        request_id: &str,
        author: Option<&CommitAuthor>,
    ) -> Result<(), StoreError>;
    /// Whether the approval waiting with `token` is already recorded, so the
    /// poller need not read its revision again.
    async fn is_known(&self, pending: &PendingApproval) -> Result<bool, StoreError>;
    /// Every pending request's place in CodePipeline, read once per poll
    /// so a pipeline that shows what is recorded costs no query.
    async fn recorded_waits(&self) -> Result<Vec<RecordedWait>, StoreError>;
    /// Closes pending requests at `target` other than `keep_execution`,
    /// which CodePipeline no longer shows waiting; returns how many.
    async fn close_missing(
        &self,
        target: &ApprovalTarget,
        keep_execution: Option<&str>,
    ) -> Result<u64, StoreError>;
    async fn request(&self, id: &str) -> Result<Option<ApprovalRequest>, StoreError>;
    /// Pending requests, newest first.
    async fn pending(&self) -> Result<Vec<ApprovalRequest>, StoreError>;
    /// Decided and closed requests, newest first: at most `limit`, those
    /// older than `before` (when and id of the last one already shown).
    async fn history(
        &self,
        limit: i64,
        before: Option<(chrono::DateTime<chrono::Utc>, String)>,
    ) -> Result<Vec<ApprovalRequest>, StoreError>;
    /// Stores a vote if the request is still pending with exactly
    /// `expected_votes` votes; with `decided`, also the one delivery row.
    async fn commit_vote(
        &self,
        request_id: &str,
        actor: &Actor,
        expected_votes: usize,
        vote: &NewVote,
        decided: Option<(crate::domain::approval::Decision, String)>,
    ) -> Result<VoteCommit, StoreError>;
    /// Decides a pending request whose committed votes (exactly
    /// `expected_votes` of them) already meet its rule, without a new vote:
    /// the repair for a request left undecided. Audited as the system's.
    async fn decide_pending(
        &self,
        request_id: &str,
        expected_votes: usize,
        decision: crate::domain::approval::Decision,
        summary: &str,
    ) -> Result<VoteCommit, StoreError>;
    /// Takes the lease on an undelivered decision, if nobody holds it.
    async fn claim_delivery(
        &self,
        request_id: &str,
        lease: std::time::Duration,
    ) -> Result<Option<ClaimedDelivery>, StoreError>;
    /// Writes how a delivery ended and audits AWS's answer.
    async fn finish_delivery(
        &self,
        request_id: &str,
        outcome: DeliveryOutcome,
        aws_result: &str,
    ) -> Result<(), StoreError>;
    /// Gives the lease back after a failed attempt, auditing the error.
    async fn release_delivery(&self, request_id: &str, aws_result: &str) -> Result<(), StoreError>;
    /// Decisions not yet delivered whose lease has lapsed.
    async fn undelivered(&self) -> Result<Vec<String>, StoreError>;
    /// Replaces the configuration problems found by the last pipeline check;
    /// `true` when they differ from those held (and were written).
    async fn replace_pipeline_problems(
        &self,
        problems: &[PipelineProblem],
    ) -> Result<bool, StoreError>;
    /// The configuration problems found by the last pipeline check.
    async fn pipeline_problems(&self) -> Result<Vec<PipelineProblem>, StoreError>;
    /// Audits a new run started from Gatehouse.
    async fn record_rerun(
        &self,
        request_id: &str,
        actor: &Actor,
        execution_id: &str,
    ) -> Result<(), StoreError>;
}

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

/// An identity as a provider described it at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// `github` or `oidc`.
    pub provider: String,
    /// The OIDC issuer; empty for GitHub.
    pub issuer: String,
    /// GitHub's account id or the OIDC `sub`: what the identity is keyed on.
    pub subject: String,
    /// The username, shown only.
    pub login: String,
    pub display_name: String,
    pub roles: Vec<crate::domain::Role>,
    /// The person it belongs to (see [`User::person`]).
    pub person: String,
    pub github_id: Option<u64>,
    pub emails: Vec<String>,
}

/// People and their roles.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The demo personas, in the order the picker shows them.
    async fn personas(&self) -> Result<Vec<Persona>, StoreError>;
    /// The user behind a demo persona.
    async fn persona_user(&self, login: &str) -> Result<Option<User>, StoreError>;
    /// Creates or updates the identity signed in at a provider (`github`
    /// or `oidc`), found by its immutable subject, with what was read at
    /// sign-in.
    async fn upsert_external(&self, identity: &ExternalIdentity) -> Result<User, StoreError>;
    /// Replaces a user's roles (after a refresh from the provider).
    async fn set_roles(&self, id: &str, roles: &[crate::domain::Role]) -> Result<(), StoreError>;
    /// The user's calendar-feed token, made on first use.
    async fn feed_token(&self, user_id: &str) -> Result<String, StoreError>;
    /// Replaces the user's calendar-feed token; the old one stops working.
    async fn rotate_feed_token(&self, user_id: &str) -> Result<String, StoreError>;
    /// The user a calendar-feed token stands for.
    async fn feed_user(&self, token: &str) -> Result<Option<User>, StoreError>;
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

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// CodePipeline accepted Gatehouse's answer.
    Delivered,
    /// The approval was no longer open (answered elsewhere, expired, or an
    /// earlier attempt had already been accepted).
    Reconciled,
    /// CodePipeline refused for good (configuration).
    Failed,
}

impl DeliveryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Reconciled => "reconciled",
            DeliveryOutcome::Failed => "failed",
        }
    }
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
    /// Closes pending requests at `target` other than `keep_execution`,
    /// which CodePipeline no longer shows waiting; returns how many.
    async fn close_missing(
        &self,
        target: &ApprovalTarget,
        keep_execution: Option<&str>,
    ) -> Result<u64, StoreError>;
    async fn request(
        &self,
        id: &str,
    ) -> Result<Option<crate::api::approvals::ApprovalItem>, StoreError>;
    /// Pending requests, newest first.
    async fn pending(&self) -> Result<Vec<crate::api::approvals::ApprovalItem>, StoreError>;
    /// Decided and closed requests, newest first: at most `limit`, those
    /// older than `before` (when and id of the last one already shown).
    async fn history(
        &self,
        limit: i64,
        before: Option<(chrono::DateTime<chrono::Utc>, String)>,
    ) -> Result<Vec<crate::api::approvals::ApprovalItem>, StoreError>;
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
    /// Replaces the configuration problems found by the last pipeline check.
    async fn replace_pipeline_problems(
        &self,
        problems: &[crate::api::approvals::PipelineProblem],
    ) -> Result<(), StoreError>;
    /// The configuration problems found by the last pipeline check.
    async fn pipeline_problems(
        &self,
    ) -> Result<Vec<crate::api::approvals::PipelineProblem>, StoreError>;
    /// Audits a new run started from Gatehouse.
    async fn record_rerun(
        &self,
        request_id: &str,
        actor: &Actor,
        execution_id: &str,
    ) -> Result<(), StoreError>;
}

/// A manager's change to the calendar, as stored: a milestone moved (with
/// where it was) or a blackout added.
#[derive(Debug, Clone)]
pub enum CalendarEdit {
    Move {
        movement: crate::domain::calendar::MilestoneMove,
        before: chrono::DateTime<chrono::Utc>,
    },
    Blackout(crate::domain::calendar::Blackout),
}

/// A stored calendar change with who made it.
#[derive(Debug, Clone)]
pub struct StoredCalendarEdit {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_name: String,
    pub actor_roles: Vec<String>,
    pub reason: String,
    pub edit: CalendarEdit,
}

/// Managers' changes to the calendar (append-only) and what the calendar
/// counts of the approval queue.
#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// Every change, oldest first.
    async fn edits(&self) -> Result<Vec<StoredCalendarEdit>, StoreError>;
    /// Appends a change; `reason` is required.
    async fn record_edit(
        &self,
        actor: &Actor,
        reason: &str,
        edit: &CalendarEdit,
    ) -> Result<(), StoreError>;
    /// When each approval request in `[from, to)` was requested, and
    /// whether it is still pending.
    async fn approval_times(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, bool)>, StoreError>;
}

/// Why the identity provider could not say what roles someone holds now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The token from sign-in no longer works: the person must sign in again.
    #[error("the sign-in is no longer valid: {0}")]
    Revoked(String),
    /// The provider could not be reached or answered oddly; try later.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
}

pub use crate::api::session::SignInProvider;

/// The identity providers people sign in with, and how often their roles
/// are read again.
#[async_trait]
pub trait Identity: Send + Sync {
    /// The providers configured, in the order the sign-in page lists them.
    fn providers(&self) -> Vec<SignInProvider>;
    /// How long roles read from the provider are trusted.
    fn refresh_interval(&self) -> std::time::Duration;
    /// How long a sign-in lasts, however active the session is.
    fn session_max_age(&self) -> std::time::Duration;
    /// Encrypts a provider token for keeping in a session row.
    fn seal(&self, token: &str) -> String;
    /// Decrypts what [`Identity::seal`] made; `None` when it was sealed with
    /// another key or altered.
    fn open(&self, sealed: &str) -> Option<String>;
    /// The roles the identity `subject` holds at `provider` now, read with
    /// the token from its sign-in; revoked when the token now names another
    /// subject.
    async fn current_roles(
        &self,
        provider: &str,
        subject: &str,
        token: &str,
    ) -> Result<Vec<crate::domain::Role>, IdentityError>;
}

/// Who wrote a commit, as GitHub knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitAuthor {
    /// The GitHub account's immutable id, when GitHub matched the commit's
    /// e-mail to one.
    pub id: Option<u64>,
    /// That account's login (display only).
    pub login: Option<String>,
    pub name: String,
    /// The e-mail address written in the commit.
    pub email: Option<String>,
}

impl CommitAuthor {
    /// The facts the four-eyes rule compares.
    pub fn authorship(&self) -> crate::domain::approval::CommitAuthorship {
        crate::domain::approval::CommitAuthorship {
            github_id: self.id,
            login: self.login.clone(),
            email: self.email.clone(),
            name: Some(self.name.clone()).filter(|n| !n.is_empty()),
        }
    }
}

/// Why a GitHub call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitHubError {
    /// GitHub's rate limit is spent until the given time.
    #[error("GitHub's rate limit is used up until {0}")]
    RateLimited(String),
    #[error("GitHub is unavailable: {0}")]
    Unavailable(String),
}

/// A branch and the commit it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchHead {
    pub name: String,
    pub sha: String,
}

/// One commit of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitSummary {
    pub sha: String,
    /// The first line of the message.
    pub title: String,
    pub author_login: Option<String>,
}

/// How `head` relates to `base`: commits only in head (ahead) and only in
/// base (behind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub ahead_by: u32,
    pub behind_by: u32,
    /// The commits head has that base lacks, oldest first.
    pub commits: Vec<CommitSummary>,
}

/// An issue Gatehouse opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRef {
    pub number: u64,
    pub url: String,
}

/// GitHub, as much of it as Gatehouse uses.
#[async_trait]
pub trait GitHub: Send + Sync {
    /// The author of `sha` in `repo` (`owner/name`); `None` when GitHub
    /// has no such commit.
    async fn commit_author(
        &self,
        repo: &str,
        sha: &str,
    ) -> Result<Option<CommitAuthor>, GitHubError>;
    /// Every branch of `repo` with its head commit (all pages).
    async fn branches(&self, repo: &str) -> Result<Vec<BranchHead>, GitHubError>;
    /// `head` compared with `base` (branches, tags or shas); `None` when
    /// either is unknown.
    async fn compare(
        &self,
        repo: &str,
        base: &str,
        head: &str,
    ) -> Result<Option<Comparison>, GitHubError>;
    /// Whether `container` (a branch, tag or sha) has every commit of
    /// `head`; `None` when GitHub does not know one of them.
    async fn contains(
        &self,
        repo: &str,
        container: &str,
        head: &str,
    ) -> Result<Option<bool>, GitHubError> {
        Ok(self
            .compare(repo, container, head)
            .await?
            .map(|c| c.ahead_by == 0))
    }
    /// Opens an issue with labels.
    async fn open_issue(
        &self,
        repo: &str,
        title: &str,
        body: &str,
        labels: &[&str],
    ) -> Result<IssueRef, GitHubError>;
    /// Comments on an issue.
    async fn comment_issue(&self, repo: &str, number: u64, body: &str) -> Result<(), GitHubError>;
    /// Closes an issue.
    async fn close_issue(&self, repo: &str, number: u64) -> Result<(), GitHubError>;
    /// The newest open issue of `repo` carrying `label` whose title is
    /// exactly `title`.
    async fn find_open_issue(
        &self,
        repo: &str,
        title: &str,
        label: &str,
    ) -> Result<Option<IssueRef>, GitHubError>;
    /// Opens a closed issue again.
    async fn reopen_issue(&self, repo: &str, number: u64) -> Result<(), GitHubError>;
    /// Every tag of `repo` with the commit it points at (all pages).
    async fn tags(&self, repo: &str) -> Result<Vec<BranchHead>, GitHubError>;
    /// The newest GitHub Actions runs on `branch`, newest first.
    async fn workflow_runs(
        &self,
        repo: &str,
        branch: &str,
    ) -> Result<Vec<WorkflowRun>, GitHubError>;
}

/// A GitHub Actions workflow run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkflowRun {
    pub name: String,
    pub head_sha: String,
    /// queued, in_progress, completed.
    pub status: String,
    /// success, failure, cancelled ... once completed.
    pub conclusion: Option<String>,
    pub url: String,
}

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

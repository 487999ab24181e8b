//! GitHub: commit authors, branches, tags, compares, runs and issues.

use async_trait::async_trait;

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
    /// When it was written (the commit's author date).
    pub date: Option<chrono::DateTime<chrono::Utc>>,
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

impl GitHubError {
    /// The HTTP status GitHub answered with, when it answered (an
    /// `Unavailable`'s words start with it, e.g. "404 Not Found").
    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Unavailable(m) => m
                .get(..3)
                .and_then(|s| s.parse::<u16>().ok())
                .filter(|s| (100..600).contains(s)),
            GitHubError::RateLimited(_) => None,
        }
    }

    /// Whether GitHub itself failed (its rate limit, refused credentials, a
    /// server error, no answer) rather than answering about the thing asked
    /// (a 404, a 422). The integration's state reports such a failure once;
    /// callers log it quietly instead of once per call.
    pub fn is_service_failure(&self) -> bool {
        match self {
            GitHubError::RateLimited(_) => true,
            GitHubError::Unavailable(_) => !matches!(self.status(), Some(s) if s < 500 && s != 401),
        }
    }
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
    /// When it was written (the commit's author date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_at: Option<chrono::DateTime<chrono::Utc>>,
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

impl Comparison {
    /// Whether base already has every commit of head.
    pub fn contains_head(&self) -> bool {
        self.ahead_by == 0
    }
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
            .map(|c| c.contains_head()))
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

//! GitHub: the octocrab adapter behind the app's `GitHub` port, and the
//! simulator that demo mode and tests point it at.

pub mod simulator;

use app::ssr::ports::{
    BranchHead, CommitAuthor, CommitSummary, Comparison, GitHub, GitHubError, IssueRef,
};
use async_trait::async_trait;
use serde::Deserialize;

/// Where GitHub's REST API is and how to authenticate to it.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// `https://api.github.com`, a GitHub Enterprise Server API, or a simulator.
    pub api_url: String,
    /// A token (personal, or a GitHub App installation's) for repository reads.
    pub token: Option<crate::config::Secret>,
}

/// Reads GitHub through octocrab.
pub struct GitHubAdapter {
    octo: octocrab::Octocrab,
}

#[derive(Deserialize)]
struct CommitJson {
    commit: GitCommit,
    author: Option<Account>,
}

#[derive(Deserialize)]
struct GitCommit {
    author: Option<GitPerson>,
}

#[derive(Deserialize)]
struct GitPerson {
    name: String,
}

#[derive(Deserialize)]
struct Account {
    login: String,
}

impl GitHubAdapter {
    pub fn new(settings: &GitHubSettings) -> Result<Self, String> {
        let builder = octocrab::Octocrab::builder()
            .base_uri(settings.api_url.as_str())
            .map_err(|e| format!("GitHub API URL {:?}: {e}", settings.api_url))?;
        let builder = match &settings.token {
            Some(token) => builder.personal_token(token.expose().to_owned()),
            None => builder,
        };
        Ok(Self {
            octo: builder.build().map_err(|e| format!("GitHub client: {e}"))?,
        })
    }
}

/// Sorts an octocrab error: a spent rate limit (403 or 429 with no requests
/// remaining) is said with its reset time.
fn classify(err: &octocrab::Error) -> GitHubError {
    match err {
        octocrab::Error::GitHub { source, .. } => {
            let remaining = source
                .headers
                .as_ref()
                .and_then(|h| h.get("x-ratelimit-remaining"))
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let limited = matches!(source.status_code.as_u16(), 403 | 429)
                && (remaining.as_deref() == Some("0")
                    || source.message.to_ascii_lowercase().contains("rate limit"));
            if limited {
                let reset = source
                    .rate_limit_reset
                    .and_then(|s| chrono::DateTime::from_timestamp(i64::try_from(s).ok()?, 0))
                    .map_or_else(|| "later".to_owned(), |t| t.format("%H:%M UTC").to_string());
                GitHubError::RateLimited(reset)
            } else {
                GitHubError::Unavailable(format!("{} {}", source.status_code, source.message))
            }
        }
        other => GitHubError::Unavailable(other.to_string()),
    }
}

#[derive(Deserialize)]
struct BranchJson {
    name: String,
    commit: ShaJson,
}

#[derive(Deserialize)]
struct ShaJson {
    sha: String,
}

#[derive(Deserialize)]
struct CompareJson {
    ahead_by: u32,
    behind_by: u32,
    commits: Vec<CompareCommit>,
}

#[derive(Deserialize)]
struct CompareCommit {
    sha: String,
    commit: CompareMessage,
    author: Option<Account>,
}

#[derive(Deserialize)]
struct CompareMessage {
    message: String,
}

#[derive(Deserialize)]
struct IssueJson {
    number: u64,
    html_url: String,
}

/// The HTTP status GitHub answered with, when it answered.
pub fn status_of(err: &octocrab::Error) -> Option<u16> {
    match err {
        octocrab::Error::GitHub { source, .. } => Some(source.status_code.as_u16()),
        _ => None,
    }
}

/// GitHub has no such thing (404), or no such commit (422).
fn not_found(err: &octocrab::Error) -> bool {
    matches!(status_of(err), Some(404 | 422))
}

#[async_trait]
impl GitHub for GitHubAdapter {
    async fn branches(&self, repo: &str) -> Result<Vec<BranchHead>, GitHubError> {
        let mut out = Vec::new();
        for page in 1_u32.. {
            let route = format!("/repos/{repo}/branches");
            let page = page.to_string();
            let batch: Vec<BranchJson> = self
                .octo
                .get(
                    &route,
                    Some(&[("per_page", "100"), ("page", page.as_str())]),
                )
                .await
                .map_err(|e| classify(&e))?;
            let last = batch.len() < 100;
            out.extend(batch.into_iter().map(|b| BranchHead {
                name: b.name,
                sha: b.commit.sha,
            }));
            if last {
                break;
            }
        }
        Ok(out)
    }

    async fn compare(
        &self,
        repo: &str,
        base: &str,
        head: &str,
    ) -> Result<Option<Comparison>, GitHubError> {
        let route = format!("/repos/{repo}/compare/{base}...{head}");
        match self.octo.get::<CompareJson, _, ()>(&route, None).await {
            Ok(c) => Ok(Some(Comparison {
                ahead_by: c.ahead_by,
                behind_by: c.behind_by,
                commits: c
                    .commits
                    .into_iter()
                    .map(|k| CommitSummary {
                        sha: k.sha,
                        title: k
                            .commit
                            .message
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                        author_login: k.author.map(|a| a.login),
                    })
                    .collect(),
            })),
            Err(err) if not_found(&err) => Ok(None),
            Err(err) => Err(classify(&err)),
        }
    }

    async fn open_issue(
        &self,
        repo: &str,
        title: &str,
        body: &str,
        labels: &[&str],
    ) -> Result<IssueRef, GitHubError> {
        let issue: IssueJson = self
            .octo
            .post(
                format!("/repos/{repo}/issues"),
                Some(&serde_json::json!({ "title": title, "body": body, "labels": labels })),
            )
            .await
            .map_err(|e| classify(&e))?;
        Ok(IssueRef {
            number: issue.number,
            url: issue.html_url,
        })
    }

    async fn comment_issue(&self, repo: &str, number: u64, body: &str) -> Result<(), GitHubError> {
        let _: serde_json::Value = self
            .octo
            .post(
                format!("/repos/{repo}/issues/{number}/comments"),
                Some(&serde_json::json!({ "body": body })),
            )
            .await
            .map_err(|e| classify(&e))?;
        Ok(())
    }

    async fn close_issue(&self, repo: &str, number: u64) -> Result<(), GitHubError> {
        let _: serde_json::Value = self
            .octo
            .patch(
                format!("/repos/{repo}/issues/{number}"),
                Some(&serde_json::json!({ "state": "closed", "state_reason": "completed" })),
            )
            .await
            .map_err(|e| classify(&e))?;
        Ok(())
    }

    async fn commit_author(
        &self,
        repo: &str,
        sha: &str,
    ) -> Result<Option<CommitAuthor>, GitHubError> {
        let route = format!("/repos/{repo}/commits/{sha}");
        match self.octo.get::<CommitJson, _, ()>(&route, None).await {
            Ok(c) => Ok(Some(CommitAuthor {
                login: c.author.map(|a| a.login),
                name: c.commit.author.map(|p| p.name).unwrap_or_default(),
            })),
            Err(err) if not_found(&err) => Ok(None),
            Err(err) => Err(classify(&err)),
        }
    }
}

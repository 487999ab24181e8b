//! GitHub: the octocrab adapter behind the app's `GitHub` port, and the
//! simulator that demo mode and tests point it at.

pub mod simulator;

use app::ssr::ports::{CommitAuthor, GitHub, GitHubError};
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

#[async_trait]
impl GitHub for GitHubAdapter {
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
            Err(err) => match &err {
                octocrab::Error::GitHub { source, .. }
                    if matches!(source.status_code.as_u16(), 404 | 422) =>
                {
                    Ok(None)
                }
                _ => Err(classify(&err)),
            },
        }
    }
}

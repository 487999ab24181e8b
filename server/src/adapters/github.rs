//! GitHub: the octocrab adapter behind the app's `GitHub` port, and the
//! simulator that demo mode and tests point it at.

use crate::metrics::Timed;
use app::ssr::ports::{
    BranchHead, CommitAuthor, CommitSummary, Comparison, GitHub, GitHubError, IssueRef, WorkflowRun,
};
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// How many conditional-request answers the adapter remembers.
const ETAG_CACHE_ENTRIES: usize = 2_048;

/// Where GitHub's REST API is and how to authenticate to it.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// `https://api.github.com`, a GitHub Enterprise Server API, or a simulator.
    pub api_url: String,
    /// A token for repository reads.
    pub token: Option<crate::config::Secret>,
    /// Or a GitHub App installation (takes precedence over the token).
    pub app: Option<crate::config::GitHubApp>,
}

/// Reads GitHub through octocrab.
pub struct GitHubAdapter {
    octo: octocrab::Octocrab,
    base: String,
    /// URL -> (ETag, body) of list reads, asked again with `If-None-Match`:
    /// GitHub answers an unchanged list with 304, which does not count
    /// against the rate limit.
    etags: Mutex<HashMap<String, (String, String)>>,
    /// "repo commit head" -> whether the commit contains head, for two
    /// full commit ids: history never changes, so neither does the answer.
    ancestry: Mutex<HashMap<String, bool>>,
}

/// Answers about two commits kept at most; past it they are forgotten.
const ANCESTRY_KEPT: usize = 4096;

/// Whether `id` is a full commit id (not a branch or tag, which move).
fn full_commit_id(id: &str) -> bool {
    id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit())
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
    email: Option<String>,
    #[serde(default)]
    date: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
struct Account {
    /// Immutable, unlike the login.
    id: Option<u64>,
    login: String,
}

impl GitHubAdapter {
    pub fn new(settings: &GitHubSettings) -> Result<Self, String> {
        // Every call is bounded: a GitHub that hangs fails the call, and the
        // job or page says so, instead of waiting forever.
        let builder = octocrab::Octocrab::builder()
            .set_connect_timeout(Some(std::time::Duration::from_secs(5)))
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .set_write_timeout(Some(std::time::Duration::from_secs(20)))
            .base_uri(settings.api_url.as_str())
            .map_err(|e| format!("GitHub API URL {:?}: {e}", settings.api_url))?;
        let octo = match (&settings.app, &settings.token) {
            (Some(app), _) => builder
                .app_from_rsa_pem(
                    octocrab::models::AppId(app.app_id),
                    app.private_key_pem.expose().as_bytes(),
                )
                .map_err(|e| format!("GitHub App private key: {e}"))?
                .build()
                .map_err(|e| format!("GitHub client: {e}"))?
                // Installation tokens are requested on first use and
                // renewed before they expire.
                .installation(octocrab::models::InstallationId(app.installation_id))
                .map_err(|e| format!("GitHub App installation: {e}"))?,
            (None, Some(token)) => builder
                .personal_token(token.expose().to_owned())
                .build()
                .map_err(|e| format!("GitHub client: {e}"))?,
            (None, None) => builder.build().map_err(|e| format!("GitHub client: {e}"))?,
        };
        Ok(Self {
            octo,
            base: settings.api_url.trim_end_matches('/').to_owned(),
            etags: Mutex::new(HashMap::new()),
            ancestry: Mutex::new(HashMap::new()),
        })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, String)>> {
        self.etags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn ancestry(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        self.ancestry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// GETs `path_and_query` as JSON, conditionally when an earlier answer
    /// carried an ETag; a 304 reuses that answer.
    async fn get_cached<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<T, GitHubError> {
        let url = format!("{}{path_and_query}", self.base);
        let known = self.cache().get(&url).cloned();
        let mut headers = http::HeaderMap::new();
        if let Some((etag, _)) = &known {
            if let Ok(value) = http::HeaderValue::from_str(etag) {
                headers.insert(http::header::IF_NONE_MATCH, value);
            }
        }
        let response = self
            .octo
            // A path, not a full URL: octocrab adds its credentials only to
            // requests for its own base URI.
            ._get_with_headers(path_and_query, Some(headers))
            .github(crate::metrics::github_endpoint(path_and_query))
            .await
            .map_err(|e| classify(&e))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = header("etag");
        let remaining = header("x-ratelimit-remaining");
        crate::metrics::github_rate_limit(remaining.as_deref());
        let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok());
        if status == http::StatusCode::NOT_MODIFIED {
            if let Some((_, body)) = known {
                return serde_json::from_str(&body)
                    .map_err(|e| GitHubError::Unavailable(format!("unreadable answer: {e}")));
            }
        }
        let body = self
            .octo
            .body_to_string(response)
            .await
            .map_err(|e| GitHubError::Unavailable(e.to_string()))?;
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
                .unwrap_or_default();
            return Err(answer_error(status, remaining.as_deref(), reset, &message));
        }
        let parsed = serde_json::from_str(&body)
            .map_err(|e| GitHubError::Unavailable(format!("unreadable answer: {e}")))?;
        if let Some(etag) = etag {
            let mut cache = self.cache();
            if cache.len() >= ETAG_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(url, (etag, body));
        }
        Ok(parsed)
    }

    /// Every name and head commit of a paginated list (branches or tags).
    async fn heads(&self, repo: &str, kind: &str) -> Result<Vec<BranchHead>, GitHubError> {
        let mut out = Vec::new();
        for page in 1_u32.. {
            let batch: Vec<BranchJson> = self
                .get_cached(&format!("/repos/{repo}/{kind}?per_page=100&page={page}"))
                .await?;
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
}

#[derive(Deserialize)]
struct RunsJson {
    workflow_runs: Vec<RunJson>,
}

#[derive(Deserialize)]
struct RunJson {
    name: Option<String>,
    head_sha: String,
    status: Option<String>,
    conclusion: Option<String>,
    html_url: String,
}

/// What a GitHub error answer means: a spent rate limit (403 or 429 with
/// no requests remaining, or saying so) with its reset time, else GitHub
/// being unavailable.
fn answer_error(
    status: http::StatusCode,
    remaining: Option<&str>,
    reset: Option<i64>,
    message: &str,
) -> GitHubError {
    let limited = matches!(status.as_u16(), 403 | 429)
        && (remaining == Some("0") || message.to_ascii_lowercase().contains("rate limit"));
    if limited {
        let at = reset
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map_or_else(|| "later".to_owned(), |t| t.format("%H:%M UTC").to_string());
        GitHubError::RateLimited(at)
    } else {
        GitHubError::Unavailable(format!("{status} {message}"))
    }
}

/// Sorts an octocrab error as [`answer_error`] does.
fn classify(err: &octocrab::Error) -> GitHubError {
    match err {
        octocrab::Error::GitHub { source, .. } => answer_error(
            source.status_code,
            source
                .headers
                .as_ref()
                .and_then(|h| h.get("x-ratelimit-remaining"))
                .and_then(|v| v.to_str().ok()),
            source.rate_limit_reset.and_then(|s| i64::try_from(s).ok()),
            &source.message,
        ),
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
    #[serde(default)]
    author: Option<GitPerson>,
}

#[derive(Deserialize)]
struct IssueJson {
    number: u64,
    html_url: String,
}

#[derive(Deserialize)]
struct ListedIssue {
    number: u64,
    html_url: String,
    title: String,
    /// Present when the "issue" is a pull request.
    pull_request: Option<serde_json::Value>,
}

/// A branch name as a query value (`release/2027.01` keeps its meaning).
fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
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
    async fn contains(
        &self,
        repo: &str,
        container: &str,
        head: &str,
    ) -> Result<Option<bool>, GitHubError> {
        let key = (full_commit_id(container) && full_commit_id(head))
            .then(|| format!("{repo} {container} {head}"));
        if let Some(known) = key
            .as_deref()
            .and_then(|key| self.ancestry().get(key).copied())
        {
            return Ok(Some(known));
        }
        let answer = self
            .compare(repo, container, head)
            .await?
            .map(|c| c.contains_head());
        if let (Some(key), Some(answer)) = (key, answer) {
            let mut ancestry = self.ancestry();
            if ancestry.len() >= ANCESTRY_KEPT {
                ancestry.clear();
            }
            ancestry.insert(key, answer);
        }
        Ok(answer)
    }

    async fn branches(&self, repo: &str) -> Result<Vec<BranchHead>, GitHubError> {
        self.heads(repo, "branches").await
    }

    async fn tags(&self, repo: &str) -> Result<Vec<BranchHead>, GitHubError> {
        self.heads(repo, "tags").await
    }

    async fn workflow_runs(
        &self,
        repo: &str,
        branch: &str,
    ) -> Result<Vec<WorkflowRun>, GitHubError> {
        let runs: RunsJson = self
            .get_cached(&format!(
                "/repos/{repo}/actions/runs?branch={}&per_page=20",
                urlencoding(branch)
            ))
            .await?;
        Ok(runs
            .workflow_runs
            .into_iter()
            .map(|r| WorkflowRun {
                name: r.name.unwrap_or_else(|| "workflow".to_owned()),
                head_sha: r.head_sha,
                status: r.status.unwrap_or_else(|| "queued".to_owned()),
                conclusion: r.conclusion,
                url: r.html_url,
            })
            .collect())
    }

    async fn find_open_issue(
        &self,
        repo: &str,
        title: &str,
        label: &str,
    ) -> Result<Option<IssueRef>, GitHubError> {
        let route = format!("/repos/{repo}/issues");
        let issues: Vec<ListedIssue> = self
            .octo
            .get(
                &route,
                Some(&[("state", "open"), ("labels", label), ("per_page", "100")]),
            )
            .github("find_open_issue")
            .await
            .map_err(|e| classify(&e))?;
        Ok(issues
            .into_iter()
            .find(|i| i.pull_request.is_none() && i.title == title)
            .map(|i| IssueRef {
                number: i.number,
                url: i.html_url,
            }))
    }

    async fn reopen_issue(&self, repo: &str, number: u64) -> Result<(), GitHubError> {
        let _: serde_json::Value = self
            .octo
            .patch(
                format!("/repos/{repo}/issues/{number}"),
                Some(&serde_json::json!({ "state": "open" })),
            )
            .github("reopen_issue")
            .await
            .map_err(|e| classify(&e))?;
        Ok(())
    }

    async fn compare(
        &self,
        repo: &str,
        base: &str,
        head: &str,
    ) -> Result<Option<Comparison>, GitHubError> {
        let route = format!("/repos/{repo}/compare/{base}...{head}");
        match self
            .octo
            .get::<CompareJson, _, ()>(&route, None)
            .github("compare")
            .await
        {
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
                        committed_at: k.commit.author.and_then(|p| p.date),
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
            .github("open_issue")
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
            .github("comment_issue")
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
            .github("close_issue")
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
        match self
            .octo
            .get::<CommitJson, _, ()>(&route, None)
            .github("get_commit")
            .await
        {
            Ok(c) => {
                let (name, email, date) = c
                    .commit
                    .author
                    .map(|p| (p.name, p.email, p.date))
                    .unwrap_or_default();
                Ok(Some(CommitAuthor {
                    id: c.author.as_ref().and_then(|a| a.id),
                    login: c.author.map(|a| a.login),
                    name,
                    email: email.filter(|e| !e.trim().is_empty()),
                    date,
                }))
            }
            Err(err) if not_found(&err) => Ok(None),
            Err(err) => Err(classify(&err)),
        }
    }
}

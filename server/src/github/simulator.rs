//! A GitHub simulator for demo mode and tests: GitHub's REST routes and JSON
//! shapes for a seeded set of repositories, so the real octocrab adapter
//! talks to it unchanged through its base URI. Under `/_sim/` a control
//! surface adds commits and scripts rate limiting.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// One commit of a simulated repository.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitSpec {
    pub sha: String,
    pub message: String,
    /// The GitHub account that authored it; `None` for an author GitHub
    /// cannot match to an account.
    pub author_login: Option<String>,
    pub author_name: String,
    #[serde(default = "Utc::now")]
    pub date: DateTime<Utc>,
}

#[derive(Default)]
struct Inner {
    /// `owner/name` -> sha -> commit.
    repos: BTreeMap<String, BTreeMap<String, CommitSpec>>,
    /// Requests left before the rate limit answers 403.
    rate_limited: bool,
    calls: u64,
}

/// The simulator's state, shared by its HTTP handlers.
#[derive(Clone, Default)]
pub struct GitHubSimulator {
    inner: Arc<Mutex<Inner>>,
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string(),
        })),
    )
        .into_response()
}

fn account(login: &str, id: u64) -> Value {
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_sim{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "html_url": format!("https://github.com/{login}"),
        "url": format!("https://api.github.com/users/{login}"),
        "type": "User",
        "site_admin": false,
    })
}

fn id_of(login: &str) -> u64 {
    login.bytes().fold(1_000_u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 100_000_000
}

impl GitHubSimulator {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds (or replaces) a commit of `repo` (`owner/name`).
    pub fn add_commit(&self, repo: &str, commit: CommitSpec) {
        self.lock()
            .repos
            .entry(repo.to_owned())
            .or_default()
            .insert(commit.sha.clone(), commit);
    }

    /// Answers every API call with GitHub's rate-limit 403 while `on`.
    pub fn rate_limit(&self, on: bool) {
        self.lock().rate_limited = on;
    }

    /// How many API calls were answered.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// The REST routes and the control surface.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/repos/{owner}/{repo}/commits/{sha}", get(get_commit))
            .route("/_sim/repos/{owner}/{repo}/commits", post(sim_add_commit))
            .route("/_sim/rate-limit", post(sim_rate_limit))
            .with_state(self.clone())
    }
}

fn rate_limit_headers(limited: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let reset = (Utc::now() + chrono::Duration::minutes(10)).timestamp();
    headers.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from_static(if limited { "0" } else { "4999" }),
    );
    if let Ok(v) = HeaderValue::from_str(&reset.to_string()) {
        headers.insert("x-ratelimit-reset", v);
    }
    headers
}

async fn get_commit(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let mut inner = sim.lock();
    inner.calls += 1;
    if inner.rate_limited {
        let mut response = error(
            StatusCode::FORBIDDEN,
            "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
        );
        response.headers_mut().extend(rate_limit_headers(true));
        return response;
    }
    let full = format!("{owner}/{repo}");
    let Some(commits) = inner.repos.get(&full) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    // GitHub accepts any unambiguous prefix of at least 7 characters.
    let found: Vec<&CommitSpec> = commits
        .values()
        .filter(|c| sha.len() >= 7 && c.sha.starts_with(&sha))
        .collect();
    let commit = match found.as_slice() {
        [one] => *one,
        _ => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("No commit found for SHA: {sha}"),
            )
        }
    };
    let author = commit
        .author_login
        .as_deref()
        .map_or(Value::Null, |login| account(login, id_of(login)));
    let email = commit.author_login.as_deref().map_or_else(
        || "someone@example.com".to_owned(),
        |l| format!("{l}@users.noreply.github.com"),
    );
    let person =
        json!({ "name": commit.author_name, "email": email, "date": commit.date.to_rfc3339() });
    let body = json!({
        "sha": commit.sha,
        "node_id": format!("C_sim{}", &commit.sha[..12.min(commit.sha.len())]),
        "url": format!("https://api.github.com/repos/{full}/commits/{}", commit.sha),
        "html_url": format!("https://github.com/{full}/commit/{}", commit.sha),
        "comments_url": format!("https://api.github.com/repos/{full}/commits/{}/comments", commit.sha),
        "commit": {
            "url": format!("https://api.github.com/repos/{full}/git/commits/{}", commit.sha),
            "author": person,
            "committer": person,
            "message": commit.message,
            "tree": { "sha": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "url": format!("https://api.github.com/repos/{full}/git/trees/4b825dc642cb6eb9a060e54bf8d69288fbee4904") },
            "comment_count": 0,
            "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null },
        },
        "author": author,
        "committer": author,
        "parents": [],
        "stats": { "total": 0, "additions": 0, "deletions": 0 },
        "files": [],
    });
    let mut response = Json(body).into_response();
    response.headers_mut().extend(rate_limit_headers(false));
    response
}

async fn sim_add_commit(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo)): Path<(String, String)>,
    Json(commit): Json<CommitSpec>,
) -> Response {
    sim.add_commit(&format!("{owner}/{repo}"), commit);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct RateLimit {
    limited: bool,
}

async fn sim_rate_limit(State(sim): State<GitHubSimulator>, Json(r): Json<RateLimit>) -> Response {
    sim.rate_limit(r.limited);
    StatusCode::NO_CONTENT.into_response()
}

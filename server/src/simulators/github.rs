//! A GitHub simulator for demo mode and tests: GitHub's REST routes and JSON
//! shapes for a seeded set of repositories, so the real octocrab adapter
//! talks to it unchanged through its base URI: commits, branches, compare,
//! and issues (open, comment, close). Under `/_sim/` a control surface adds
//! commits and scripts rate limiting.

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
    /// The e-mail in the commit when no account is matched (GitHub shows
    /// an account's no-reply address otherwise).
    #[serde(default)]
    pub author_email: Option<String>,
    #[serde(default = "Utc::now")]
    pub date: DateTime<Utc>,
}

/// An issue opened in a simulated repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimIssue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub open: bool,
    pub comments: Vec<String>,
}

impl Inner {
    fn web_base(&self) -> String {
        self.web
            .clone()
            .unwrap_or_else(|| "https://github.com".to_owned())
    }
}

#[derive(Default)]
struct Inner {
    /// `owner/name` -> sha -> commit.
    repos: BTreeMap<String, BTreeMap<String, CommitSpec>>,
    /// `owner/name` -> branch -> its history, oldest first.
    branches: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// `owner/name` -> issues, by number.
    issues: BTreeMap<String, Vec<SimIssue>>,
    /// `owner/name` -> tag -> sha.
    tags: BTreeMap<String, BTreeMap<String, String>>,
    /// Requests left before the rate limit answers 403.
    rate_limited: bool,
    calls: u64,
    /// Conditional requests answered 304 (GitHub does not count them).
    not_modified: u64,
    /// Installation tokens issued to GitHub Apps.
    installation_tokens: Vec<String>,
    /// Where the simulated web pages are (`html_url`s); GitHub's own
    /// address until demo mode serves them.
    web: Option<String>,
    /// The Authorization header of the last list read (branches, tags,
    /// Actions runs).
    last_authorization: Option<String>,
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

/// The simulated account id of `login` (stable, like GitHub's).
pub fn account_id(login: &str) -> u64 {
    id_of(login)
}

/// The no-reply address GitHub gives `login`'s commits.
pub fn noreply_email(login: &str) -> String {
    format!("{}+{login}@users.noreply.github.com", id_of(login))
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

    /// Serves `html_url`s under `base` (demo mode: `/demo/github`, where
    /// [`GitHubSimulator::web_router`] answers).
    pub fn set_web_base(&self, base: &str) {
        self.lock().web = Some(base.trim_end_matches('/').to_owned());
    }

    /// Adds (or replaces) a commit of `repo` (`owner/name`).
    pub fn add_commit(&self, repo: &str, commit: CommitSpec) {
        self.lock()
            .repos
            .entry(repo.to_owned())
            .or_default()
            .insert(commit.sha.clone(), commit);
    }

    /// Sets `branch` of `repo` to the history `shas` (oldest first); each
    /// commit must have been added.
    pub fn set_branch(&self, repo: &str, branch: &str, shas: Vec<String>) {
        self.lock()
            .branches
            .entry(repo.to_owned())
            .or_default()
            .insert(branch.to_owned(), shas);
    }

    /// Points tag `name` of `repo` at `sha`.
    pub fn set_tag(&self, repo: &str, name: &str, sha: &str) {
        self.lock()
            .tags
            .entry(repo.to_owned())
            .or_default()
            .insert(name.to_owned(), sha.to_owned());
    }

    /// A branch's history, oldest first.
    pub fn branch(&self, repo: &str, branch: &str) -> Option<Vec<String>> {
        self.lock().branches.get(repo)?.get(branch).cloned()
    }

    /// The installation tokens issued so far.
    pub fn installation_tokens(&self) -> Vec<String> {
        self.lock().installation_tokens.clone()
    }

    /// The Authorization header the last list read carried.
    pub fn last_authorization(&self) -> Option<String> {
        self.lock().last_authorization.clone()
    }

    /// How many conditional requests were answered 304 Not Modified.
    pub fn not_modified(&self) -> u64 {
        self.lock().not_modified
    }

    /// The issues opened in `repo`.
    pub fn issues(&self, repo: &str) -> Vec<SimIssue> {
        self.lock().issues.get(repo).cloned().unwrap_or_default()
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
            .route("/repos/{owner}/{repo}/branches", get(list_branches))
            .route("/repos/{owner}/{repo}/tags", get(list_tags))
            .route("/repos/{owner}/{repo}/actions/runs", get(workflow_runs))
            .route("/repos/{owner}/{repo}/compare/{*spec}", get(compare))
            .route(
                "/repos/{owner}/{repo}/issues",
                post(open_issue).get(list_issues),
            )
            .route(
                "/repos/{owner}/{repo}/issues/{number}",
                axum::routing::patch(update_issue),
            )
            .route(
                "/repos/{owner}/{repo}/issues/{number}/comments",
                post(comment_issue),
            )
            .route("/_sim/repos/{owner}/{repo}/commits", post(sim_add_commit))
            .route(
                "/app/installations/{id}/access_tokens",
                post(installation_token),
            )
            .route("/_sim/rate-limit", post(sim_rate_limit))
            .route(
                "/_sim/repos/{owner}/{repo}/branches/{*branch}",
                post(sim_set_branch),
            )
            .with_state(self.clone())
    }
}

/// A GitHub App trades a JWT (three dot-separated parts, signed with its
/// key) for an installation token valid for an hour.
async fn installation_token(
    State(sim): State<GitHubSimulator>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let jwt = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| t.split('.').count() == 3);
    if jwt.is_none() {
        return error(
            StatusCode::UNAUTHORIZED,
            "A JSON web token could not be decoded",
        );
    }
    let mut inner = sim.lock();
    let token = format!("ghs_sim{id}x{}", inner.installation_tokens.len() + 1);
    inner.installation_tokens.push(token.clone());
    (
        StatusCode::CREATED,
        Json(json!({
            "token": token,
            "expires_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "permissions": { "contents": "read", "issues": "write", "actions": "read" },
            "repository_selection": "all",
        })),
    )
        .into_response()
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

/// The commits of `repo` that `sha` names (`None`: no such repository):
/// GitHub accepts any unambiguous prefix of at least 7 characters.
fn commits_by_prefix<'a>(inner: &'a Inner, repo: &str, sha: &str) -> Option<Vec<&'a CommitSpec>> {
    let commits = inner.repos.get(repo)?;
    Some(
        commits
            .values()
            .filter(|c| sha.len() >= 7 && c.sha.starts_with(sha))
            .collect(),
    )
}

async fn get_commit(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let mut inner = sim.lock();
    let web = inner.web_base();
    if let Some(limited) = gate(&mut inner) {
        return limited;
    }
    let full = format!("{owner}/{repo}");
    let Some(found) = commits_by_prefix(&inner, &full, &sha) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
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
        || {
            commit
                .author_email
                .clone()
                .unwrap_or_else(|| "someone@example.com".to_owned())
        },
        noreply_email,
    );
    let person =
        json!({ "name": commit.author_name, "email": email, "date": commit.date.to_rfc3339() });
    let body = json!({
        "sha": commit.sha,
        "node_id": format!("C_sim{}", &commit.sha[..12.min(commit.sha.len())]),
        "url": format!("https://api.github.com/repos/{full}/commits/{}", commit.sha),
        "html_url": format!("{web}/{full}/commit/{}", commit.sha),
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

/// Counts the call and answers GitHub's 403 while the rate limit is spent.
fn gate(inner: &mut Inner) -> Option<Response> {
    inner.calls += 1;
    if inner.rate_limited {
        let mut response = error(
            StatusCode::FORBIDDEN,
            "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
        );
        response.headers_mut().extend(rate_limit_headers(true));
        return Some(response);
    }
    None
}

#[derive(Deserialize)]
struct Page {
    per_page: Option<usize>,
    page: Option<usize>,
}

/// A JSON list answered with an ETag; 304 when the client already has it.
fn conditional(inner: &mut Inner, headers: &HeaderMap, body: &Value) -> Response {
    inner.last_authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = body.to_string();
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let etag = format!("W/\"{hash:016x}\"");
    let matches = headers
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    let mut response = if matches {
        inner.not_modified += 1;
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([("content-type", "application/json; charset=utf-8")], text).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert("etag", v);
    }
    response.headers_mut().extend(rate_limit_headers(false));
    response
}

async fn list_branches(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<Page>,
) -> Response {
    list_refs(&sim, &format!("{owner}/{repo}"), &headers, &q, false)
}

async fn list_tags(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<Page>,
) -> Response {
    list_refs(&sim, &format!("{owner}/{repo}"), &headers, &q, true)
}

/// A page of a repository's branches (by name) or tags (newest name
/// first), each with the commit it points at, as GitHub lists them.
fn list_refs(
    sim: &GitHubSimulator,
    full: &str,
    headers: &HeaderMap,
    q: &Page,
    tags: bool,
) -> Response {
    let mut inner = sim.lock();
    if let Some(limited) = gate(&mut inner) {
        return limited;
    }
    let Some(branches) = inner.branches.get(full) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let refs: Vec<(String, String)> = if tags {
        inner
            .tags
            .get(full)
            .into_iter()
            .flatten()
            .rev()
            .map(|(name, sha)| (name.clone(), sha.clone()))
            .collect()
    } else {
        branches
            .iter()
            .map(|(name, history)| (name.clone(), history.last().cloned().unwrap_or_default()))
            .collect()
    };
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let body: Vec<Value> = refs
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(name, sha)| {
            let mut item = json!({
                "name": name,
                "commit": { "sha": sha, "url": format!("https://api.github.com/repos/{full}/commits/{sha}") },
            });
            if tags {
                item["zipball_url"] = json!(format!("https://api.github.com/repos/{full}/zipball/refs/tags/{name}"));
                item["tarball_url"] = json!(format!("https://api.github.com/repos/{full}/tarball/refs/tags/{name}"));
                item["node_id"] = json!(format!("REF_sim_{name}"));
            } else {
                item["protected"] = json!(name == "master" || name == "develop");
            }
            item
        })
        .collect();
    conditional(&mut inner, headers, &Value::Array(body))
}

#[derive(Deserialize)]
struct RunsQuery {
    branch: Option<String>,
    per_page: Option<usize>,
}

/// GitHub Actions runs: one "Deploy to Dev" run per commit of the branch,
/// newest first, each completed successfully except one still running on
/// the branch's head when it is less than five minutes old.
async fn workflow_runs(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<RunsQuery>,
) -> Response {
    let mut inner = sim.lock();
    let web = inner.web_base();
    if let Some(limited) = gate(&mut inner) {
        return limited;
    }
    let full = format!("{owner}/{repo}");
    let Some(branches) = inner.branches.get(&full) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let branch = q.branch.unwrap_or_else(|| "develop".to_owned());
    let history = branches.get(&branch).cloned().unwrap_or_default();
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let now = Utc::now();
    let runs: Vec<Value> = history
        .iter()
        .rev()
        .take(per_page)
        .enumerate()
        .map(|(i, sha)| {
            let date = inner
                .repos
                .get(&full)
                .and_then(|c| c.get(sha))
                .map_or(now, |c| c.date);
            let running = i == 0 && now - date < chrono::Duration::minutes(5);
            let id = id_of(sha);
            json!({
                "id": id,
                "name": "Deploy to Dev",
                "head_branch": branch,
                "head_sha": sha,
                "event": "push",
                "status": if running { "in_progress" } else { "completed" },
                "conclusion": if running { Value::Null } else { json!("success") },
                "html_url": format!("{web}/{full}/actions/runs/{id}"),
                "created_at": date.to_rfc3339(),
            })
        })
        .collect();
    let body = json!({ "total_count": runs.len(), "workflow_runs": runs });
    conditional(&mut inner, &headers, &body)
}

#[derive(Deserialize)]
struct BranchHistory {
    shas: Vec<String>,
}

async fn sim_set_branch(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, branch)): Path<(String, String, String)>,
    Json(history): Json<BranchHistory>,
) -> Response {
    sim.set_branch(&format!("{owner}/{repo}"), &branch, history.shas);
    StatusCode::NO_CONTENT.into_response()
}

/// A branch's history, or a tag's or a sha's: the history up to it.
fn history_of(inner: &Inner, repo: &str, reference: &str) -> Option<Vec<String>> {
    let branches = inner.branches.get(repo)?;
    if let Some(h) = branches.get(reference) {
        return Some(h.clone());
    }
    let tagged = inner.tags.get(repo).and_then(|t| t.get(reference));
    let reference = tagged.map_or(reference, String::as_str);
    // Histories are linear here: a commit merged into several branches
    // sits in each with different commits before it. Its own ancestry is
    // the shortest of those prefixes (a merge adds, never removes).
    branches
        .values()
        .filter_map(|h| {
            let at = h
                .iter()
                .position(|s| s.starts_with(reference) && reference.len() >= 7)?;
            Some(h[..=at].to_vec())
        })
        .min_by_key(Vec::len)
}

async fn compare(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, spec)): Path<(String, String, String)>,
) -> Response {
    let mut inner = sim.lock();
    let web = inner.web_base();
    if let Some(limited) = gate(&mut inner) {
        return limited;
    }
    let full = format!("{owner}/{repo}");
    let Some((base, head)) = spec.split_once("...") else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let (Some(base_h), Some(head_h)) = (
        history_of(&inner, &full, base),
        history_of(&inner, &full, head),
    ) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let ahead: Vec<&String> = head_h.iter().filter(|s| !base_h.contains(s)).collect();
    let behind = base_h.iter().filter(|s| !head_h.contains(s)).count();
    let status = match (ahead.len(), behind) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let commits: Vec<Value> = ahead
        .iter()
        .filter_map(|sha| inner.repos.get(&full).and_then(|c| c.get(*sha)))
        .map(|c| {
            json!({
                "sha": c.sha,
                "commit": { "message": c.message, "author": { "name": c.author_name, "date": c.date.to_rfc3339() } },
                "author": c.author_login.as_deref().map_or(Value::Null, |l| account(l, id_of(l))),
                "html_url": format!("{web}/{full}/commit/{}", c.sha),
            })
        })
        .collect();
    Json(json!({
        "url": format!("https://api.github.com/repos/{full}/compare/{spec}"),
        "html_url": format!("{web}/{full}/compare/{spec}"),
        "status": status,
        "ahead_by": ahead.len(),
        "behind_by": behind,
        "total_commits": ahead.len(),
        "commits": commits,
        "files": [],
    }))
    .into_response()
}

#[derive(Deserialize)]
struct NewIssue {
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    labels: Vec<String>,
}

fn issue_json(web: &str, repo: &str, issue: &SimIssue) -> Value {
    json!({
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": if issue.open { "open" } else { "closed" },
        "labels": issue.labels.iter().map(|l| json!({ "name": l })).collect::<Vec<_>>(),
        "comments": issue.comments.len(),
        "html_url": format!("{web}/{repo}/issues/{}", issue.number),
        "url": format!("https://api.github.com/repos/{repo}/issues/{}", issue.number),
    })
}

#[derive(Deserialize)]
struct IssueQuery {
    state: Option<String>,
    /// Comma-separated; an issue must carry every one.
    labels: Option<String>,
}

/// Issues of a repository, newest first, filtered by state (default open)
/// and labels, as GitHub lists them.
async fn list_issues(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<IssueQuery>,
) -> Response {
    let mut inner = sim.lock();
    let web = inner.web_base();
    if let Some(limited) = gate(&mut inner) {
        return limited;
    }
    let full = format!("{owner}/{repo}");
    let state = q.state.unwrap_or_else(|| "open".to_owned());
    let labels: Vec<&str> = q
        .labels
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|l| !l.is_empty())
        .collect();
    let body: Vec<Value> = inner
        .issues
        .get(&full)
        .into_iter()
        .flatten()
        .rev()
        .filter(|i| match state.as_str() {
            "all" => true,
            "closed" => !i.open,
            _ => i.open,
        })
        .filter(|i| labels.iter().all(|l| i.labels.iter().any(|x| x == l)))
        .map(|i| issue_json(&web, &full, i))
        .collect();
    Json(body).into_response()
}

async fn open_issue(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo)): Path<(String, String)>,
    Json(new): Json<NewIssue>,
) -> Response {
    let mut inner = sim.lock();
    let web = inner.web_base();
    if let Some(limited) = gate(&mut inner) {
        return limited;
    }
    let full = format!("{owner}/{repo}");
    if new.title.trim().is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: title is missing",
        );
    }
    let issues = inner.issues.entry(full.clone()).or_default();
    let issue = SimIssue {
        number: issues.len() as u64 + 1,
        title: new.title,
        body: new.body,
        labels: new.labels,
        open: true,
        comments: Vec::new(),
    };
    let body = issue_json(&web, &full, &issue);
    issues.push(issue);
    (StatusCode::CREATED, Json(body)).into_response()
}

#[derive(Deserialize)]
struct IssueUpdate {
    state: Option<String>,
}

async fn update_issue(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Json(update): Json<IssueUpdate>,
) -> Response {
    let web = sim.lock().web_base();
    with_issue(&sim, &format!("{owner}/{repo}"), number, |full, issue| {
        match update.state.as_deref() {
            Some("closed") => issue.open = false,
            Some("open") => issue.open = true,
            _ => {}
        }
        Json(issue_json(&web, full, issue)).into_response()
    })
}

/// Runs `f` on issue `number` of `repo`, behind the rate limit; 404 when
/// there is no such issue.
fn with_issue(
    sim: &GitHubSimulator,
    repo: &str,
    number: u64,
    f: impl FnOnce(&str, &mut SimIssue) -> Response,
) -> Response {
    let mut inner = sim.lock();
    if let Some(limited) = gate(&mut inner) {
        return limited;
    }
    match inner
        .issues
        .get_mut(repo)
        .and_then(|i| i.iter_mut().find(|x| x.number == number))
    {
        Some(issue) => f(repo, issue),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

#[derive(Deserialize)]
struct NewComment {
    body: String,
}

async fn comment_issue(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Json(comment): Json<NewComment>,
) -> Response {
    let web = sim.lock().web_base();
    with_issue(&sim, &format!("{owner}/{repo}"), number, |full, issue| {
        issue.comments.push(comment.body.clone());
        let id = issue.comments.len();
        (
            StatusCode::CREATED,
            Json(json!({ "id": id, "body": comment.body, "html_url": format!("{web}/{full}/issues/{number}#issuecomment-{id}") })),
        )
            .into_response()
    })
}

// The simulated GitHub's web pages, for demo mode: the commit, pull request,
// comparison, issue, Actions run and repository links that Gatehouse shows
// open a page that exists (and says it is simulated) instead of a 404 on
// github.com. Read-only, plain HTML, no rate limit.
impl GitHubSimulator {
    /// The web pages, to be served under [`GitHubSimulator::set_web_base`].
    pub fn web_router(&self) -> Router {
        Router::new()
            .route("/{owner}/{repo}", get(repo_page))
            .route("/{owner}/{repo}/commit/{sha}", get(commit_page))
            .route("/{owner}/{repo}/pull/{number}", get(pull_page))
            .route("/{owner}/{repo}/compare/{*spec}", get(compare_page))
            .route("/{owner}/{repo}/issues/{number}", get(issue_page))
            .route("/{owner}/{repo}/actions/runs/{id}", get(run_page))
            .with_state(self.clone())
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A page: `title` and `body` (HTML, already escaped).
fn web_page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · simulated GitHub</title></head><body><main>\
         <p>Simulated GitHub: Gatehouse's demo mode. Nothing here is on github.com.</p>\
         <h1>{t}</h1>{body}<p><a href=\"/board\">Back to the Gatehouse board</a></p>\
         </main></body></html>",
        t = escape(title)
    );
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response()
}

fn not_here(what: &str) -> Response {
    web_page(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("<p>The simulator has no {}.</p>", escape(what)),
    )
}

fn commit_item(web: &str, full: &str, c: &CommitSpec) -> String {
    format!(
        "<li><a href=\"{web}/{f}/commit/{sha}\"><code>{short}</code></a> {title} <span>by {who}</span></li>",
        f = escape(full),
        sha = escape(&c.sha),
        short = escape(&c.sha.chars().take(7).collect::<String>()),
        title = escape(c.message.lines().next().unwrap_or_default()),
        who = escape(c.author_login.as_deref().unwrap_or(&c.author_name)),
    )
}

async fn repo_page(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    let inner = sim.lock();
    let full = format!("{owner}/{repo}");
    if !inner.repos.contains_key(&full) {
        return not_here(&format!("repository {full}"));
    }
    let list = |names: Vec<&String>| {
        names
            .into_iter()
            .map(|n| format!("<li><code>{}</code></li>", escape(n)))
            .collect::<String>()
    };
    let branches = inner
        .branches
        .get(&full)
        .map(|b| list(b.keys().collect()))
        .unwrap_or_default();
    let tags = inner
        .tags
        .get(&full)
        .map(|t| list(t.keys().collect()))
        .unwrap_or_default();
    web_page(
        StatusCode::OK,
        &full,
        &format!("<h2>Branches</h2><ul>{branches}</ul><h2>Tags</h2><ul>{tags}</ul>"),
    )
}

async fn commit_page(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let inner = sim.lock();
    let full = format!("{owner}/{repo}");
    let found = commits_by_prefix(&inner, &full, &sha).unwrap_or_default();
    let [commit] = found.as_slice() else {
        return not_here(&format!("commit {sha} in {full}"));
    };
    let mut lines = commit.message.lines();
    let title = lines.next().unwrap_or_default().to_owned();
    let rest = lines.collect::<Vec<_>>().join("\n");
    web_page(
        StatusCode::OK,
        &title,
        &format!(
            "<p><code>{sha}</code> in <a href=\"{web}/{f}\">{f}</a>, by {who} on {date}</p>{rest}",
            sha = escape(&commit.sha),
            web = inner.web_base(),
            f = escape(&full),
            who = escape(
                commit
                    .author_login
                    .as_deref()
                    .unwrap_or(&commit.author_name)
            ),
            date = commit.date.format("%-d %b %Y %H:%M UTC"),
            rest = if rest.trim().is_empty() {
                String::new()
            } else {
                format!("<pre>{}</pre>", escape(rest.trim()))
            },
        ),
    )
}

async fn pull_page(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Response {
    let inner = sim.lock();
    let full = format!("{owner}/{repo}");
    let web = inner.web_base();
    let mark = format!("(#{number})");
    let commits: String = inner
        .repos
        .get(&full)
        .map(|c| {
            c.values()
                .filter(|c| c.message.lines().next().unwrap_or_default().contains(&mark))
                .map(|c| commit_item(&web, &full, c))
                .collect()
        })
        .unwrap_or_default();
    if commits.is_empty() {
        return not_here(&format!("pull request #{number} in {full}"));
    }
    web_page(
        StatusCode::OK,
        &format!("Pull request #{number} in {full}"),
        &format!("<p>Merged as:</p><ul>{commits}</ul>"),
    )
}

async fn compare_page(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, spec)): Path<(String, String, String)>,
) -> Response {
    let inner = sim.lock();
    let full = format!("{owner}/{repo}");
    let web = inner.web_base();
    let Some((base, head)) = spec.split_once("...") else {
        return not_here(&format!("comparison {spec}"));
    };
    let (Some(base_h), Some(head_h)) = (
        history_of(&inner, &full, base),
        history_of(&inner, &full, head),
    ) else {
        return not_here(&format!("comparison {spec} in {full}"));
    };
    let commits: String = head_h
        .iter()
        .filter(|s| !base_h.contains(s))
        .rev()
        .filter_map(|s| inner.repos.get(&full).and_then(|c| c.get(s)))
        .map(|c| commit_item(&web, &full, c))
        .collect();
    web_page(
        StatusCode::OK,
        &format!("Comparing {spec} in {full}"),
        &format!("<ul>{commits}</ul>"),
    )
}

async fn issue_page(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Response {
    let inner = sim.lock();
    let full = format!("{owner}/{repo}");
    let Some(issue) = inner
        .issues
        .get(&full)
        .and_then(|i| i.iter().find(|i| i.number == number))
    else {
        return not_here(&format!("issue #{number} in {full}"));
    };
    let comments: String = issue
        .comments
        .iter()
        .map(|c| format!("<li><pre>{}</pre></li>", escape(c)))
        .collect();
    web_page(
        StatusCode::OK,
        &format!("#{number} {}", issue.title),
        &format!(
            "<p>{state} · labels: {labels}</p><pre>{body}</pre><h2>Comments</h2><ol>{comments}</ol>",
            state = if issue.open { "Open" } else { "Closed" },
            labels = escape(&issue.labels.join(", ")),
            body = escape(&issue.body),
        ),
    )
}

async fn run_page(
    State(sim): State<GitHubSimulator>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
) -> Response {
    let inner = sim.lock();
    let full = format!("{owner}/{repo}");
    if !inner.repos.contains_key(&full) {
        return not_here(&format!("repository {full}"));
    }
    web_page(
        StatusCode::OK,
        &format!("Actions run {id} of {full}"),
        "<p>Deploy to Dev: the simulator records the run, not its logs.</p>",
    )
}

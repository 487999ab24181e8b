//! `/api/v1`: Gatehouse for scripts and the command line, JSON over HTTPS.
//! A caller is a personal access token (`Authorization: Bearer
//! gatehouse_pat_…`) or a browser's session (with the same-origin rule for
//! writes that every page has); nobody else. A token acts as its person:
//! the same services as the pages decide, and the token's scopes only
//! narrow what it may reach. Errors are `application/problem+json` (RFC
//! 9457) carrying the page's own sentence and its `kind`.

use app::domain::token::{ApiToken, Scope};
use app::error::AppError;
use app::ssr::{AppState, Caller};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub fn router(state: AppState) -> Router {
    // Nested, so its fallback (a problem, not the pages' HTML) answers
    // for `/api/v1/…` alone.
    let v1 = Router::new()
        .route("/me", get(me))
        .route("/approvals", get(approvals))
        .route("/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .fallback(not_found)
        .with_state(state);
    Router::new().nest("/api/v1", v1)
}

/// Whether a path is the API's: it answers for itself who may call it (a
/// token or a session), in its own words, instead of the pages' sign-in
/// redirect.
pub fn is_api(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// An error as RFC 9457 describes it, with Gatehouse's `kind`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub kind: String,
}

/// The error answered as `application/problem+json`.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        ApiError(err)
    }
}

impl From<app::ssr::ports::StoreError> for ApiError {
    fn from(err: app::ssr::ports::StoreError) -> Self {
        ApiError(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status().as_u16())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let kind = serde_json::to_value(&self.0)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "Internal".to_owned());
        let problem = Problem {
            kind_uri: format!(
                "https://gatehouse.dev/problems/{}",
                kind.to_ascii_lowercase()
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.0.to_string(),
            kind,
        };
        let body = serde_json::to_string(&problem).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(
                    r#"Bearer realm="gatehouse", error="invalid_token""#,
                ),
            );
        }
        response
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Who calls: the token's person, or the session's. A malformed
/// `Authorization` header is refused rather than ignored (a script that
/// sends one means to use it).
pub struct ApiCaller {
    pub caller: Caller,
    /// `None` for a browser session, which has every scope its person has.
    pub token: Option<ApiToken>,
}

impl ApiCaller {
    /// Refuses a token that lacks `scope` (a session has them all).
    fn needs(&self, scope: Scope) -> Result<(), AppError> {
        match &self.token {
            Some(token) => app::ssr::tokens::require(token, scope),
            None => Ok(()),
        }
    }
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    session: &tower_sessions::Session,
) -> Result<ApiCaller, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(AppError::Unauthenticated)?;
        let (user, token) = app::ssr::tokens::bearer(state, secret).await?;
        return Ok(ApiCaller {
            caller: Caller::signed_in(user),
            token: Some(token),
        });
    }
    match app::ssr::session::user_of(state, session).await? {
        Some(user) => Ok(ApiCaller {
            caller: Caller::signed_in(user),
            token: None,
        }),
        None => Err(AppError::Unauthenticated),
    }
}

/// The query string as `T`, or a 400 problem in the pages' words.
fn query<T: serde::de::DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, AppError> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| AppError::BadRequest(crate::http::query::REFUSAL.to_owned()))
}

/// The caller of a handler, or its refusal.
macro_rules! caller {
    ($state:expr, $headers:expr, $session:expr) => {
        authenticate(&$state, &$headers, &$session).await?
    };
}

async fn not_found() -> ApiError {
    ApiError(AppError::NotFound(
        "No such API address; docs/features/api.md lists them.".into(),
    ))
}

/// `GET /api/v1/me`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Me {
    pub id: String,
    pub login: String,
    pub name: String,
    pub roles: Vec<String>,
    /// The token's scopes, or `null` for a browser session.
    pub token: Option<TokenInfo>,
}

async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: tower_sessions::Session,
) -> ApiResult<Me> {
    let who = caller!(state, headers, session);
    let user = who.caller.required()?;
    Ok(Json(Me {
        id: user.id.clone(),
        login: user.login.to_string(),
        name: user.display_name.to_string(),
        roles: user.roles.iter().map(ToString::to_string).collect(),
        token: who.token.as_ref().map(TokenInfo::from),
    }))
}

/// A request waiting for a decision, as the caller may see it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ApiApproval {
    pub id: String,
    pub service_id: String,
    pub service: String,
    pub team_id: String,
    pub environment_id: String,
    pub environment: String,
    pub pipeline: String,
    pub commit: String,
    pub commit_message: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// People who approved (each once), and how many the rule needs.
    pub approvals: usize,
    pub required: u8,
    pub votes: Vec<ApiVote>,
    /// Whether the caller may decide it now (their roles and the rules,
    /// and the token's scopes); if not, why (the page's sentence).
    pub may_decide: bool,
    pub refusal: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ApiVote {
    pub person: String,
    pub name: String,
    pub decision: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ApprovalsQuery {
    environment: Option<String>,
    team: Option<String>,
    service: Option<String>,
    waiting_for: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ApprovalList {
    pub approvals: Vec<ApiApproval>,
    /// Requests waiting beyond the ones listed (the queue's page).
    pub not_listed: usize,
}

/// `GET /api/v1/approvals`: the waiting requests, by the Approvals page's
/// own rules (`waiting_for=me`: only those the caller may decide now).
async fn approvals(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: tower_sessions::Session,
    uri: axum::http::Uri,
) -> ApiResult<ApprovalList> {
    let who = caller!(state, headers, session);
    who.needs(Scope::Read)?;
    let q: ApprovalsQuery = query(&uri)?;
    let org = state.org.load_org().await?;
    let unknown = |what: &str, value: &str| {
        AppError::BadRequest(format!(
            "There is no {what} \u{201c}{}\u{201d}.",
            value.chars().take(60).collect::<String>()
        ))
    };
    if let Some(e) = q.environment.as_deref() {
        org.environment(e)
            .ok_or_else(|| unknown("environment", e))?;
    }
    if let Some(t) = q.team.as_deref() {
        org.teams
            .iter()
            .find(|team| team.id.as_str() == t)
            .ok_or_else(|| unknown("team", t))?;
    }
    if let Some(sv) = q.service.as_deref() {
        org.service(sv).ok_or_else(|| unknown("service", sv))?;
    }
    let mine = match q.waiting_for.as_deref() {
        None => false,
        Some("me") => true,
        Some(_) => {
            return Err(AppError::BadRequest("waiting_for takes one value: me.".into()).into())
        }
    };
    let (team, service) = (q.team.clone(), q.service.clone());
    let keep = move |r: &app::domain::request::ApprovalRequest| {
        team.as_deref().is_none_or(|t| r.team_id == t)
            && service.as_deref().is_none_or(|s| r.service_id == s)
    };
    let queue =
        app::ssr::approvals::queue_of(&state, &who.caller, q.environment.as_deref(), None, &keep)
            .await?;
    // A token without `approve` may not decide, whatever its person may.
    let scope_refusal = who.needs(Scope::Approve).err().map(|e| e.to_string());
    let approvals = queue
        .pending
        .into_iter()
        .map(|q| {
            let refusal = q
                .blocked
                .clone()
                .or_else(|| q.approve_blocked.clone())
                .or_else(|| scope_refusal.clone());
            let mut approvers: Vec<&str> = q
                .item
                .votes
                .iter()
                .filter(|v| v.decision == app::domain::approval::Decision::Approve)
                .map(|v| v.person.as_str())
                .collect();
            approvers.sort_unstable();
            approvers.dedup();
            ApiApproval {
                approvals: approvers.len(),
                votes: q
                    .item
                    .votes
                    .iter()
                    .map(|v| ApiVote {
                        person: v.user_id.clone(),
                        name: v.display_name.clone(),
                        decision: serde_json::to_value(v.decision)
                            .ok()
                            .and_then(|d| d.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        at: v.at,
                    })
                    .collect(),
                id: q.item.id,
                service_id: q.item.service_id,
                service: q.item.service_name,
                team_id: q.item.team_id,
                environment_id: q.item.environment_id,
                environment: q.item.environment_name,
                pipeline: q.item.pipeline,
                commit: q.item.commit,
                commit_message: q.item.commit_message,
                requested_at: q.item.requested_at,
                expires_at: q.item.expires_at,
                required: q.required,
                may_decide: refusal.is_none(),
                refusal,
            }
        })
        .filter(|a| !mine || a.may_decide)
        .collect();
    Ok(Json(ApprovalList {
        approvals,
        not_listed: queue.not_shown,
    }))
}

/// A token as the API lists it: never its secret.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub shown: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiToken> for TokenInfo {
    fn from(t: &ApiToken) -> Self {
        TokenInfo {
            id: t.id.clone(),
            name: t.name.clone(),
            shown: t.shown.clone(),
            scopes: t.scopes.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// `GET /api/v1/tokens`: the caller's own tokens.
async fn tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: tower_sessions::Session,
) -> ApiResult<Vec<TokenInfo>> {
    let who = caller!(state, headers, session);
    who.needs(Scope::Read)?;
    let list = app::ssr::tokens::list(&state, &who.caller).await?;
    Ok(Json(list.iter().map(TokenInfo::from).collect()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewToken {
    pub name: String,
    /// Each scope, or one string of them separated by commas.
    pub scopes: Scopes,
    pub expires_in_days: Option<i64>,
}

/// `["read", "approve"]` or `"read,approve"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Scopes {
    List(Vec<String>),
    Text(String),
}

impl Default for Scopes {
    fn default() -> Self {
        Scopes::List(Vec::new())
    }
}

/// A token just made: its secret, this once.
#[derive(Debug, Serialize, Deserialize)]
pub struct MadeToken {
    #[serde(flatten)]
    pub token: TokenInfo,
    pub secret: String,
}

/// `POST /api/v1/tokens`: a browser session only. A token cannot make
/// tokens (a leaked one would outlive its own revocation).
async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: tower_sessions::Session,
    body: Result<Json<NewToken>, axum::extract::rejection::JsonRejection>,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, &'static str); 1],
        Json<MadeToken>,
    ),
    ApiError,
> {
    let who = caller!(state, headers, session);
    if who.token.is_some() {
        return Err(AppError::Forbidden(
            "Tokens are made on the Tokens page, signed in, not with another token.".into(),
        )
        .into());
    }
    let Json(body) = body.map_err(|_| {
        AppError::BadRequest(
            "The body is not a new token: send JSON such as {\"name\": \"release laptop\", \"scopes\": [\"read\"], \"expires_in_days\": 30}.".into(),
        )
    })?;
    let link = app::ssr::session::provider_link(&session).await?;
    let (made, secret) = app::ssr::tokens::create(
        &state,
        &who.caller,
        &app::ssr::tokens::TokenRequest {
            name: body.name,
            scopes: match body.scopes {
                Scopes::List(list) => list,
                Scopes::Text(text) => vec![text],
            },
            days: body.expires_in_days,
            link,
        },
    )
    .await?;
    // The secret is in this answer only: no cache keeps it.
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(MadeToken {
            token: TokenInfo::from(&made),
            secret,
        }),
    ))
}

/// `DELETE /api/v1/tokens/{id}`: revoked at once. A token may revoke
/// itself and its person's other tokens, whatever its scopes (revoking
/// only takes away); another person's token only an admin signed in may.
async fn revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: tower_sessions::Session,
    Path(id): Path<String>,
) -> ApiResult<TokenInfo> {
    let who = caller!(state, headers, session);
    let as_admin = who.token.is_none();
    let revoked = app::ssr::tokens::revoke(&state, &who.caller, &id, as_admin).await?;
    Ok(Json(TokenInfo::from(&revoked)))
}

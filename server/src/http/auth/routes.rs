//! `/auth/<provider>/login` sends the browser to the provider with a fresh
//! PKCE challenge and a random `state` kept in the session;
//! `/auth/<provider>/callback` checks the state, exchanges the code (once:
//! the pending sign-in is removed before anything else), reads who signed
//! in and their roles, and signs them in on a new session id. Every failure
//! ends on the sign-in page with a sentence of our own saying what happened
//! (the provider's text goes to the log only). A provider name that is not
//! configured is answered 404 before anything is read or written, and only a
//! sign-in this session started is audited when refused.

use super::{Directory, LookupError};
use crate::http::query::Query;
use app::notice::Notice;
use app::ssr::session::{establish, leave_notice_on, ProviderSignIn};
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tower_sessions::Session;

const PENDING: &str = "oauth_pending";

/// What the two handlers share.
#[derive(Clone)]
pub struct AuthState {
    pub app: AppState,
    pub directory: Arc<Directory>,
}

/// The sign-in routes.
pub fn router(state: AuthState) -> Router {
    Router::new()
        .route("/auth/{provider}/login", get(login))
        .route("/auth/{provider}/callback", get(callback))
        .with_state(state)
}

/// A sign-in started in this session and not finished yet.
#[derive(Serialize, Deserialize)]
struct Pending {
    provider: String,
    state: String,
    verifier: String,
    return_to: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The longest `return_to` kept; a longer one becomes the start page.
const RETURN_TO_MAX: usize = 2_000;

/// A path on this site to return to; anything else becomes the start page.
///
/// Browsers drop tabs and newlines from URLs and read `\` as `/`, so
/// `/\t/evil.example/` would leave the site: no control character, white
/// space or backslash is accepted, and the path must stay on Gatehouse when
/// resolved against it the way a browser resolves a `Location` header.
fn local_path(path: Option<String>) -> String {
    const START: &str = "/";
    let Some(path) = path else {
        return START.to_owned();
    };
    let clean = path.len() <= RETURN_TO_MAX
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if !clean {
        return START.to_owned();
    }
    let Ok(base) = oauth2::url::Url::parse("https://gatehouse.invalid/") else {
        return START.to_owned();
    };
    match base.join(&path) {
        Ok(resolved) if resolved.origin() == base.origin() => path,
        _ => START.to_owned(),
    }
}

/// Our own words for an error a provider (or whoever crafted the callback
/// link) sent back; its `error_description` is never shown, only logged.
fn callback_error_words(who: &str, error: &str) -> String {
    match error {
        "access_denied" => format!(
            "You did not allow Gatehouse to read your identity at {who}, so you are not signed in."
        ),
        "login_required"
        | "interaction_required"
        | "consent_required"
        | "account_selection_required" => {
            format!("{who} needs you to sign in there first; start again.")
        }
        "temporarily_unavailable" | "server_error" => {
            format!("{who} could not sign you in right now; try again in a moment.")
        }
        "invalid_scope"
        | "unauthorized_client"
        | "unsupported_response_type"
        | "invalid_request" => format!(
            "{who} refused Gatehouse's sign-in request; an admin must check its sign-in settings."
        ),
        _ => format!("{who} did not sign you in; start again."),
    }
}

fn provider_name(provider: &str) -> &str {
    match provider {
        "github" => "GitHub",
        _ => "the identity provider",
    }
}

/// At most `n` characters of `text`.
fn bounded(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// The answer for a provider name this Gatehouse does not offer: nothing is
/// read, written or audited for it.
fn unknown_provider() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Gatehouse offers no sign-in provider by that name; go back to the sign-in page and choose one it lists.",
    )
        .into_response()
}

async fn fail(session: &Session, text: String) -> Response {
    tracing::info!(reason = %text, "sign-in failed");
    let mut chars = text.chars();
    let text = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    };
    let notice = Notice::of(&Err::<String, String>(text));
    if let Err(err) = leave_notice_on(session, &notice).await {
        tracing::error!(error = %err, "cannot leave the sign-in notice");
    }
    Redirect::to("/sign-in").into_response()
}

/// A refused sign-in, then [`fail`]. Audited (who tried is unknown) only
/// when `started`: this session began a sign-in with `provider` (a
/// configured one) through `/login`, so every row stands for a sign-in
/// someone started, and holds only the provider's name and our sentence. A
/// callback nobody started (a link or an image on another site) is logged,
/// never audited.
async fn refuse(
    state: &AuthState,
    provider: &str,
    started: bool,
    session: &Session,
    text: String,
) -> Response {
    if started {
        let reason = bounded(&text, 500);
        let entry = app::ssr::ports::NewAudit {
            kind: "sign_in_refused",
            subject: Some(provider.to_owned()),
            summary: format!("A sign-in through {} was refused", provider_name(provider)),
            details: serde_json::json!({ "provider": provider, "reason": reason }),
            ..Default::default()
        };
        if let Err(err) = state.app.audit.append(&entry).await {
            tracing::error!(error = %err, "cannot audit a refused sign-in");
        }
    } else {
        tracing::info!(%provider, "a sign-in callback arrived that this session did not start; not audited");
    }
    fail(session, text).await
}

async fn login(
    State(state): State<AuthState>,
    Path(provider): Path<String>,
    Query(q): Query<LoginQuery>,
    session: Session,
) -> Response {
    if !state.directory.offers(&provider) {
        return unknown_provider();
    }
    let client = match state.directory.client(&provider).await {
        Ok(Some(client)) => client,
        Ok(None) => return unknown_provider(),
        Err(why) => {
            tracing::warn!(%provider, %why, "provider unavailable");
            return fail(
                &session,
                // The reason is the provider's or the network's text
                // (addresses, decoder errors): logged, never shown.
                format!(
                    "Sign-in with {} is unavailable right now: Gatehouse cannot reach the provider. Try again in a minute, or ask an admin to check the sign-in settings.",
                    provider_name(&provider)
                ),
            )
            .await;
        }
    };
    let (oauth, scopes) = client;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new(scope));
    }
    let (url, csrf) = request.url();
    let pending = Pending {
        provider,
        state: csrf.secret().clone(),
        verifier: verifier.secret().clone(),
        return_to: local_path(q.return_to),
    };
    if let Err(err) = session.insert(PENDING, &pending).await {
        tracing::error!(error = %err, "cannot store the pending sign-in");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable right now.",
        )
            .into_response();
    }
    Redirect::to(url.as_str()).into_response()
}

/// GitHub answers a bad code with HTTP 200 and `{"error": ...}`; other
/// providers with 400. Either way, say in our own words what went wrong:
/// the provider's `error_description` (and any other text of its) is
/// logged for an admin, never shown.
fn token_error_words<RE: std::error::Error + 'static>(
    provider: &str,
    err: &oauth2::RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> String {
    let who = provider_name(provider);
    let described = |code: &str, description: Option<&str>| {
        tracing::warn!(
            %provider,
            error = %bounded(code, 100),
            description = %bounded(description.unwrap_or_default(), 300),
            "the token endpoint refused the sign-in"
        );
        match code {
            "bad_verification_code" | "invalid_grant" => format!(
                "{who} did not accept the sign-in code: it was already used or has expired. Sign in again."
            ),
            "incorrect_client_credentials" | "invalid_client" => format!(
                "{who} did not accept Gatehouse's client credentials; an admin must check its sign-in settings."
            ),
            "redirect_uri_mismatch" => format!(
                "{who} refused the sign-in because Gatehouse's callback address is not the one registered there; an admin must check GATEHOUSE_PUBLIC_URL and the callback URL registered at {who}."
            ),
            "unauthorized_client" | "unsupported_grant_type" | "invalid_scope" => format!(
                "{who} refused Gatehouse's sign-in request; an admin must check its sign-in settings."
            ),
            _ => format!(
                "{who} refused the sign-in. Start again; if it happens again, an admin finds the provider's reason in Gatehouse's log."
            ),
        }
    };
    match err {
        oauth2::RequestTokenError::ServerResponse(resp) => described(
            resp.error().as_ref(),
            resp.error_description().map(String::as_str),
        ),
        oauth2::RequestTokenError::Parse(_, body) => {
            #[derive(Deserialize)]
            struct ErrorBody {
                error: String,
                error_description: Option<String>,
            }
            match serde_json::from_slice::<ErrorBody>(body) {
                Ok(e) => described(&e.error, e.error_description.as_deref()),
                Err(_) => {
                    format!("{who} answered the sign-in with something Gatehouse could not read.")
                }
            }
        }
        oauth2::RequestTokenError::Request(e) => {
            tracing::warn!(%provider, error = %e, "the token endpoint could not be reached");
            format!("{who} could not be reached to finish the sign-in; try again in a moment.")
        }
        oauth2::RequestTokenError::Other(e) => {
            tracing::warn!(%provider, error = %e, "the token exchange failed");
            format!("Gatehouse could not finish the sign-in with {who}; start again.")
        }
    }
}

async fn callback(
    State(state): State<AuthState>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
    session: Session,
) -> Response {
    // Only configured providers are answered: nothing is read or written
    // for a made-up name.
    if !state.directory.offers(&provider) {
        return unknown_provider();
    }
    // One use only: a replayed or late callback finds nothing pending.
    let pending: Option<Pending> = match session.remove(PENDING).await {
        Ok(p) => p,
        Err(err) => {
            tracing::error!(error = %err, "cannot read the pending sign-in");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable right now.",
            )
                .into_response();
        }
    };
    let who = provider_name(&provider).to_owned();
    let started = pending.as_ref().is_some_and(|p| p.provider == provider);
    if let Some(error) = q.error.as_deref() {
        tracing::info!(
            %provider,
            error = %bounded(error, 100),
            description = %bounded(q.error_description.as_deref().unwrap_or(""), 300),
            "the provider answered the sign-in with an error"
        );
        return refuse(
            &state,
            &provider,
            started,
            &session,
            callback_error_words(&who, error),
        )
        .await;
    }
    let Some(pending) =
        pending.filter(|p| p.provider == provider && q.state.as_deref() == Some(p.state.as_str()))
    else {
        return refuse(
            &state,
            &provider,
            started,
            &session,
            "This sign-in expired or was started in another browser tab; start again.".into(),
        )
        .await;
    };
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return refuse(
            &state,
            &provider,
            started,
            &session,
            format!("{who} sent no sign-in code back; start again."),
        )
        .await;
    };
    let (client, _) = match state.directory.client(&provider).await {
        Ok(Some(c)) => c,
        Ok(None) => return unknown_provider(),
        Err(why) => {
            tracing::warn!(%provider, %why, "provider unavailable");
            return refuse(
                &state,
                &provider,
                started,
                &session,
                format!("{who} is unavailable right now: Gatehouse cannot reach it. Try again in a minute."),
            )
            .await;
        }
    };
    let token = match client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(state.directory.http())
        .await
    {
        Ok(t) => t.access_token().secret().clone(),
        Err(err) => {
            return refuse(
                &state,
                &provider,
                started,
                &session,
                token_error_words(&provider, &err),
            )
            .await
        }
    };
    let identified = match state.directory.identify(&provider, &token).await {
        Ok(i) => i,
        Err(LookupError::Revoked(why)) => {
            tracing::warn!(%provider, %why, "the provider refused the identity lookup");
            return refuse(
                &state,
                &provider,
                started,
                &session,
                format!("Signed in at {who}, but {who} refused to tell Gatehouse who you are. Sign in again."),
            )
            .await;
        }
        Err(LookupError::Unavailable(why)) => {
            tracing::warn!(%provider, %why, "the identity lookup failed");
            return refuse(
                &state,
                &provider,
                started,
                &session,
                format!("Signed in at {who}, but Gatehouse could not read who you are from {who}. Try again in a minute."),
            )
            .await;
        }
    };
    let identity = app::ssr::ports::ExternalIdentity {
        provider: provider.clone(),
        issuer: identified.issuer,
        subject: identified.subject,
        login: identified.login,
        display_name: identified.display_name,
        roles: identified.roles,
        person: identified.person,
        github_id: identified.github_id,
        emails: identified.emails,
    };
    let user = match state.app.users.upsert_external(&identity).await {
        Ok(u) => u,
        Err(err) => {
            tracing::error!(error = %err, "cannot store the signed-in user");
            return refuse(
                &state,
                &provider,
                started,
                &session,
                "Gatehouse cannot reach its database right now; try again in a moment.".into(),
            )
            .await;
        }
    };
    let sign_in = ProviderSignIn {
        provider: &provider,
        subject: &identity.subject,
        token: &token,
    };
    if let Err(err) = establish(&state.app, &session, &user, Some(sign_in)).await {
        return refuse(&state, &provider, started, &session, err.to_string()).await;
    }
    Redirect::to(&pending.return_to).into_response()
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        assert_eq!(
            local_path(Some("/approvals?tab=history".into())),
            "/approvals?tab=history"
        );
        assert_eq!(local_path(Some("//evil.example/x".into())), "/");
        assert_eq!(local_path(Some("https://evil.example".into())), "/");
        assert_eq!(local_path(Some("/\\evil".into())), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn tabs_newlines_and_other_blanks_cannot_lead_off_the_site() {
        for attack in [
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/\u{0b}/evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "/approvals\nSet-Cookie: x=1",
            "/%0a/evil.example",
        ] {
            let kept = local_path(Some(attack.into()));
            assert!(
                kept == "/" || kept == attack && !attack.contains(char::is_control),
                "{attack:?} became {kept:?}"
            );
            assert!(
                !kept.chars().any(|c| c.is_control() || c.is_whitespace()),
                "{kept:?}"
            );
        }
        assert_eq!(local_path(Some("/\t/evil.example/".into())), "/");
        assert_eq!(local_path(Some(format!("/{}", "a".repeat(3_000)))), "/");
    }

    #[test]
    fn a_crafted_error_description_is_never_shown() {
        let said = super::callback_error_words("GitHub", "server_error");
        assert_eq!(
            said,
            "GitHub could not sign you in right now; try again in a moment."
        );
        let said = super::callback_error_words("GitHub", "call +1 555 0100 to restore access");
        assert_eq!(said, "GitHub did not sign you in; start again.");
    }
}

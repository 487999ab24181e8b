//! Personal access tokens: made, listed and revoked by their person (an
//! admin may revoke anyone's), and the caller a token stands for. A token
//! acts as its person: the rules that decide are the browser's, and its
//! scopes only narrow what it may reach. Making and revoking a token are
//! audited with the token's id, never its secret.

use super::ports::{Actor, IdentityError, NewAudit};
use super::{AppState, Caller};
use crate::domain::token::{self, ApiToken, ProviderLink, Scope};
use crate::domain::{RoleKind, User};
use crate::error::AppError;
use chrono::Utc;

/// What a new token is asked to be.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub name: String,
    /// `read`, `approve`, `calendar`, `audit`, each or comma-separated.
    pub scopes: Vec<String>,
    /// Its life in days; [`token::DEFAULT_DAYS`] when `None`.
    pub days: Option<i64>,
    /// The sign-in it is made in (see [`super::session::provider_link`]).
    pub link: Option<ProviderLink>,
}

/// Makes a token for the caller; answers it with its secret, shown this
/// once.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: &TokenRequest,
) -> Result<(ApiToken, String), AppError> {
    let user = caller.required()?;
    let name = token::parse_name(&request.name).map_err(AppError::Invalid)?;
    let scopes =
        Scope::parse_all(request.scopes.iter().map(String::as_str)).map_err(AppError::Invalid)?;
    let expires_at = token::expiry(Utc::now(), request.days).map_err(AppError::Invalid)?;
    let Some((made, secret)) = state
        .users
        .create_token(&user.id, &name, &scopes, expires_at, request.link.as_ref())
        .await?
    else {
        return Err(AppError::Conflict(format!(
            "You already keep {} live tokens; revoke one you no longer use first.",
            token::TOKENS_PER_PERSON
        )));
    };
    // A token the log cannot record does not stay: it is revoked again.
    let audited = state
        .audit
        .append(&NewAudit {
            kind: "token_created",
            actor: Some(Actor::from(user)),
            subject: Some(made.id.clone()),
            summary: format!(
                "{} created the access token \u{201c}{}\u{201d} ({}), scopes {}, expiring {}",
                user.display_name,
                made.name,
                made.shown,
                scope_list(&made.scopes),
                made.expires_at.format("%-d %b %Y")
            ),
            details: serde_json::json!({
                "token_id": made.id,
                "scopes": made.scopes,
                "expires_at": made.expires_at,
            }),
            ..NewAudit::default()
        })
        .await;
    if let Err(err) = audited {
        state.users.revoke_token(&made.id, &user.id).await?;
        return Err(err.into());
    }
    Ok((made, secret))
}

/// The caller's own tokens, newest first.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<ApiToken>, AppError> {
    let user = caller.required()?;
    Ok(state.users.tokens(&user.id).await?)
}

/// Revokes a token at once: its owner's, or anyone's for an admin who
/// asks signed in (`as_admin`; a token never revokes another person's).
/// Someone else's token is "not found" otherwise (its existence is not
/// told).
pub async fn revoke(
    state: &AppState,
    caller: &Caller,
    id: &str,
    as_admin: bool,
) -> Result<ApiToken, AppError> {
    let user = caller.required()?;
    let not_found = || AppError::NotFound("No such access token of yours.".into());
    let found = state.users.token(id).await?.ok_or_else(not_found)?;
    if found.user_id != user.id && !(as_admin && user.has(RoleKind::Admin)) {
        return Err(not_found());
    }
    let Some(revoked) = state.users.revoke_token(&found.id, &user.id).await? else {
        return Err(AppError::Conflict("This token was already revoked.".into()));
    };
    let owner = if revoked.user_id == user.id {
        "their".to_owned()
    } else {
        state.users.user(&revoked.user_id).await?.map_or_else(
            || "another person's".to_owned(),
            |u| format!("{}'s", u.display_name),
        )
    };
    state
        .audit
        .append(&NewAudit {
            kind: "token_revoked",
            actor: Some(Actor::from(user)),
            subject: Some(revoked.id.clone()),
            summary: format!(
                "{} revoked {owner} access token \u{201c}{}\u{201d} ({})",
                user.display_name, revoked.name, revoked.shown
            ),
            details: serde_json::json!({
                "token_id": revoked.id,
                "owner": revoked.user_id,
            }),
            ..NewAudit::default()
        })
        .await?;
    Ok(revoked)
}

/// Who a bearer token stands for: its person and the token (to check its
/// scopes), or `Unauthenticated` when it is unknown, revoked or expired
/// (the refusal does not say which: nothing to learn from trying). A token
/// made in a GitHub or OpenID sign-in has its person's roles read again
/// from the provider once they are older than the refresh interval, as a
/// session's are; a sign-in the provider revoked revokes the person's
/// tokens.
pub async fn bearer(state: &AppState, secret: &str) -> Result<(User, ApiToken), AppError> {
    let holder = state
        .users
        .token_user(secret)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let mut user = holder.user;
    let Some(link) = holder.link else {
        return Ok((user, holder.token));
    };
    let refresh = chrono::Duration::from_std(state.identity.refresh_interval())
        .unwrap_or(chrono::Duration::MAX);
    if Utc::now() - holder.roles_checked_at < refresh {
        return Ok((user, holder.token));
    }
    let Some(provider_token) = state.identity.open(&link.sealed) else {
        // Sealed with another key: its roles cannot be read again.
        tracing::info!(user = %user.login, "an access token's sign-in cannot be opened; refused");
        return Err(AppError::Unauthenticated);
    };
    match state
        .identity
        .current_roles(&link.provider, &link.subject, &provider_token)
        .await
    {
        Ok(roles) => {
            super::session::record_roles(state, &mut user, roles, &link.provider).await?;
            state.users.token_roles_checked(&holder.token.id).await?;
            Ok((user, holder.token))
        }
        Err(IdentityError::Revoked(why)) => {
            tracing::info!(user = %user.login, %why, "provider sign-in revoked; access tokens revoked");
            state.users.revoke_tokens_of(&user.id).await?;
            Err(AppError::Unauthenticated)
        }
        Err(IdentityError::Unavailable(why)) => {
            // As a session does: the roles read last, again next request.
            tracing::warn!(user = %user.login, %why, "could not refresh roles");
            Ok((user, holder.token))
        }
    }
}

/// A token's scopes as a list: "read, approve".
pub fn scope_list(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Refuses a token without `scope`, naming it.
pub fn require(token: &ApiToken, scope: Scope) -> Result<(), AppError> {
    if token.allows(scope) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "This token may not do that: it needs the \u{201c}{}\u{201d} scope (it has {}).",
            scope.as_str(),
            scope_list(&token.scopes)
        )))
    }
}

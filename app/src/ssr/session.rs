//! The signed-in user, kept in a server-side session (tower-sessions): who
//! it is, when they signed in (sessions end after a fixed age however active
//! they are), and for provider sign-ins the provider, its token and when the
//! roles were last read from it.

use super::ports::{Actor, IdentityError, NewAudit};
use super::AppState;
use crate::domain::User;
use crate::error::AppError;
use crate::notice::Notice;
use tower_sessions::Session;

const USER_ID: &str = "user_id";
const SIGNED_IN_AT: &str = "signed_in_at";
const PROVIDER: &str = "provider";
const SUBJECT: &str = "subject";
const PROVIDER_TOKEN: &str = "provider_token";
const ROLES_CHECKED_AT: &str = "roles_checked_at";
const NOTICE: &str = "notice";

/// A session that cannot be read or written: the session store is
/// Postgres, so a failing store means the database cannot be reached (a
/// restart, an outage) and the person is asked to try again, not given a
/// reference to quote.
fn internal(err: tower_sessions::session::Error) -> AppError {
    match &err {
        tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Backend(
            why,
        )) => {
            tracing::warn!(error = %why, "session store unavailable");
            AppError::Unavailable
        }
        _ => AppError::internal(&err),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The request's session, provided by the session layer.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::internal(&e))
}

/// The user signed in on this request's session, if any.
pub async fn current_user(state: &AppState) -> Result<Option<User>, AppError> {
    user_of(state, &session().await?).await
}

/// The user signed in on `session`: `None` once the sign-in is older than
/// the maximum age, or the provider no longer accepts its token. Roles from
/// a provider are read again once they are older than the refresh interval,
/// so someone removed from a team loses its role within that interval.
pub async fn user_of(state: &AppState, session: &Session) -> Result<Option<User>, AppError> {
    let Some(id) = session.get::<String>(USER_ID).await.map_err(internal)? else {
        return Ok(None);
    };
    let signed_in_at = session
        .get::<i64>(SIGNED_IN_AT)
        .await
        .map_err(internal)?
        .unwrap_or(0);
    let max_age = i64::try_from(state.identity.session_max_age().as_secs()).unwrap_or(i64::MAX);
    if now().saturating_sub(signed_in_at) > max_age {
        tracing::info!("session reached its maximum age; signed out");
        session.flush().await.map_err(internal)?;
        return Ok(None);
    }
    let Some(mut user) = state.users.user(&id).await? else {
        return Ok(None);
    };
    let provider = session.get::<String>(PROVIDER).await.map_err(internal)?;
    let sealed = session
        .get::<String>(PROVIDER_TOKEN)
        .await
        .map_err(internal)?;
    let subject = session.get::<String>(SUBJECT).await.map_err(internal)?;
    if provider.is_some() && (sealed.is_none() || subject.is_none()) {
        // A provider sign-in from before identities were kept by subject:
        // its roles could never be read again, so it ends here.
        tracing::info!(user = %user.login, "a provider sign-in without its subject; signed out");
        session.flush().await.map_err(internal)?;
        return Ok(None);
    }
    if let (Some(provider), Some(sealed), Some(subject)) = (provider, sealed, subject) {
        let Some(token) = state.identity.open(&sealed) else {
            tracing::info!(user = %user.login, "the sign-in's token cannot be decrypted (another key); signed out");
            session.flush().await.map_err(internal)?;
            return Ok(None);
        };
        let checked = session
            .get::<i64>(ROLES_CHECKED_AT)
            .await
            .map_err(internal)?
            .unwrap_or(0);
        let refresh = i64::try_from(state.identity.refresh_interval().as_secs()).unwrap_or(0);
        if now().saturating_sub(checked) >= refresh {
            match state
                .identity
                .current_roles(&provider, &subject, &token)
                .await
            {
                Ok(roles) => {
                    record_roles(state, &mut user, roles, &provider).await?;
                    session
                        .insert(ROLES_CHECKED_AT, now())
                        .await
                        .map_err(internal)?;
                }
                Err(IdentityError::Revoked(why)) => {
                    tracing::info!(user = %user.login, %why, "provider token revoked; signed out");
                    // Their access tokens rest on the same sign-in.
                    state.users.revoke_tokens_of(&user.id).await?;
                    session.flush().await.map_err(internal)?;
                    return Ok(None);
                }
                Err(IdentityError::Unavailable(why)) => {
                    // Keep the roles read last; try again on the next request.
                    tracing::warn!(user = %user.login, %why, "could not refresh roles");
                }
            }
        }
    }
    Ok(Some(user))
}

/// Keeps the roles a provider answers now for `user`, and audits a change
/// (a session's refresh and an access token's use alike).
pub async fn record_roles(
    state: &AppState,
    user: &mut User,
    roles: Vec<crate::domain::Role>,
    provider: &str,
) -> Result<(), AppError> {
    if roles == user.roles {
        return Ok(());
    }
    tracing::info!(user = %user.login, ?roles, "roles changed at the provider");
    state.users.set_roles(&user.id, &roles).await?;
    let words =
        |roles: &[crate::domain::Role]| roles.iter().map(ToString::to_string).collect::<Vec<_>>();
    let (before, after) = (words(&user.roles), words(&roles));
    user.roles = roles;
    let list = |names: &[String]| {
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    state
        .audit
        .append(&NewAudit {
            kind: "roles_changed",
            actor: Some(Actor::from(&*user)),
            subject: Some(provider.to_owned()),
            summary: format!(
                "{}'s roles changed at {provider}: {} (were {})",
                user.display_name,
                list(&after),
                list(&before),
            ),
            details: serde_json::json!({ "before": before, "after": after }),
            ..NewAudit::default()
        })
        .await?;
    Ok(())
}

/// The provider sign-in a session rests on (GitHub or OpenID Connect), as
/// an access token made in it keeps it; `None` for a demo persona.
pub async fn provider_link(
    session: &Session,
) -> Result<Option<crate::domain::token::ProviderLink>, AppError> {
    let provider = session.get::<String>(PROVIDER).await.map_err(internal)?;
    let subject = session.get::<String>(SUBJECT).await.map_err(internal)?;
    let sealed = session
        .get::<String>(PROVIDER_TOKEN)
        .await
        .map_err(internal)?;
    Ok(match (provider, subject, sealed) {
        (Some(provider), Some(subject), Some(sealed)) => Some(crate::domain::token::ProviderLink {
            provider,
            subject,
            sealed,
        }),
        _ => None,
    })
}

/// A provider sign-in as the session keeps it, to read the roles again.
pub struct ProviderSignIn<'a> {
    pub provider: &'a str,
    pub subject: &'a str,
    pub token: &'a str,
}

/// Signs `user` in on `session`, issuing a new session id first so an id
/// planted before sign-in is worthless after it. A provider sign-in keeps
/// the provider, the subject and its token (encrypted), to read the roles
/// again later; signing out deletes the session row and all of it.
pub async fn establish(
    state: &AppState,
    session: &Session,
    user: &User,
    provider: Option<ProviderSignIn<'_>>,
) -> Result<(), AppError> {
    // Audited first: a sign-in the log cannot record does not happen.
    let through = provider
        .as_ref()
        .map_or_else(|| "demo".to_owned(), |p| p.provider.to_owned());
    state
        .audit
        .append(&NewAudit {
            kind: "sign_in",
            actor: Some(Actor::from(user)),
            subject: Some(through.clone()),
            summary: format!("{} signed in ({through})", user.display_name),
            details: serde_json::json!({ "provider": through, "login": user.login }),
            ..NewAudit::default()
        })
        .await?;
    session.cycle_id().await.map_err(internal)?;
    session.insert(USER_ID, &user.id).await.map_err(internal)?;
    session
        .insert(SIGNED_IN_AT, now())
        .await
        .map_err(internal)?;
    let provider_name = provider.as_ref().map(|p| p.provider.to_owned());
    if let Some(p) = provider {
        session
            .insert(PROVIDER, p.provider)
            .await
            .map_err(internal)?;
        session.insert(SUBJECT, p.subject).await.map_err(internal)?;
        session
            .insert(PROVIDER_TOKEN, state.identity.seal(p.token))
            .await
            .map_err(internal)?;
        session
            .insert(ROLES_CHECKED_AT, now())
            .await
            .map_err(internal)?;
    }
    tracing::info!(user = %user.login, provider = provider_name, "signed in");
    Ok(())
}

/// Signs a demo persona in on this request's session.
pub async fn sign_in(state: &AppState, user: &User) -> Result<(), AppError> {
    establish(state, &session().await?, user, None).await
}

/// Ends the session on the server and clears its cookie.
pub async fn sign_out(state: &AppState) -> Result<(), AppError> {
    let session = session().await?;
    let user = match session.get::<String>(USER_ID).await.map_err(internal)? {
        Some(id) => state.users.user(&id).await?,
        None => None,
    };
    session.flush().await.map_err(internal)?;
    if let Some(user) = user {
        state
            .audit
            .append(&NewAudit {
                kind: "sign_out",
                actor: Some(Actor::from(&user)),
                summary: format!("{} signed out", user.display_name),
                details: serde_json::json!({ "login": user.login }),
                ..NewAudit::default()
            })
            .await?;
    }
    Ok(())
}

/// Leaves a message for the next page view on `session`.
pub async fn leave_notice_on(session: &Session, notice: &Notice) -> Result<(), AppError> {
    session.insert(NOTICE, notice).await.map_err(internal)
}

/// Leaves a message for the next page view (forms posted without JavaScript).
pub async fn leave_notice(notice: &Notice) -> Result<(), AppError> {
    leave_notice_on(&session().await?, notice).await
}

/// Whether a message waits for the next page view on `session`.
pub async fn has_notice(session: &Session) -> Result<bool, AppError> {
    Ok(session
        .get::<serde_json::Value>(NOTICE)
        .await
        .map_err(internal)?
        .is_some())
}

/// The navigation of this viewer: the counts for someone who may read the
/// board (anyone in demo mode, anyone signed in otherwise), and the audit
/// link unless their roles cannot read the log (someone not signed in is
/// offered it, and asked to sign in there).
pub async fn nav(
    state: &AppState,
    demo: bool,
    user: Option<&crate::domain::User>,
) -> Result<crate::views::home::NavCounts, AppError> {
    let audit = user.is_none_or(|u| super::audit::access(u) != super::audit::Access::Nothing);
    let without_counts = crate::views::home::NavCounts {
        audit,
        ..Default::default()
    };
    if !(demo || user.is_some()) {
        return Ok(without_counts);
    }
    // The counts are a courtesy: a page whose snapshot cannot be read
    // still knows who is signed in, and says what failed where it shows it.
    match super::board::nav_counts(state, audit).await {
        Ok(counts) => Ok(counts),
        Err(err) => {
            tracing::warn!(error = %err, "the header's counts could not be read");
            Ok(without_counts)
        }
    }
}

/// Who asks on this request's session: for server functions, which hand
/// it to the services.
pub async fn caller(state: &AppState) -> Result<super::Caller, AppError> {
    Ok(match current_user(state).await? {
        Some(user) => super::Caller::signed_in(user),
        None => super::Caller::anonymous(),
    })
}

/// The state and the caller of this request: what a server function reads
/// from the request before it calls a service.
pub async fn asking() -> Result<(AppState, super::Caller), AppError> {
    let state = super::app_state()?;
    let caller = caller(&state).await?;
    Ok((state, caller))
}

/// The state, and the caller only where a page needs someone signed in
/// (real mode): demo mode's public pages read no session.
pub async fn asking_outside_demo() -> Result<(AppState, super::Caller), AppError> {
    let state = super::app_state()?;
    let caller = if state.mode == super::Mode::Demo {
        super::Caller::anonymous()
    } else {
        caller(&state).await?
    };
    Ok((state, caller))
}

/// Takes the message left for this page view, if any.
pub async fn take_notice() -> Result<Option<Notice>, AppError> {
    session().await?.remove(NOTICE).await.map_err(internal)
}

/// Signs this session in as the demo persona `login`; an unknown persona is
/// refused, in words, and audited.
pub async fn demo_sign_in(state: &AppState, login: &str) -> Result<(), AppError> {
    let Some(user) = state.users.persona_user(login).await? else {
        let login: String = login.chars().take(100).collect();
        state
            .audit
            .append(&super::ports::NewAudit {
                kind: "sign_in_refused",
                subject: Some("demo".into()),
                summary: format!(
                    "A demo sign-in as \u{201c}{login}\u{201d} was refused: no such persona"
                ),
                details: serde_json::json!({ "provider": "demo", "login": login }),
                ..Default::default()
            })
            .await?;
        return Err(AppError::NotFound(format!(
            "There is no demo persona called \u{201c}{login}\u{201d}."
        )));
    };
    sign_in(state, &user).await?;
    Ok(())
}

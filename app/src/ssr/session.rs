//! The signed-in user, kept in a server-side session (tower-sessions).

use super::AppState;
use crate::domain::User;
use crate::error::AppError;
use tower_sessions::Session;

const USER_ID: &str = "user_id";

/// The request's session, provided by the session layer.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::internal(&e))
}

/// The user signed in on this request's session, if any.
pub async fn current_user(state: &AppState) -> Result<Option<User>, AppError> {
    let session = session().await?;
    let id: Option<String> = session
        .get(USER_ID)
        .await
        .map_err(|e| AppError::internal(&e))?;
    match id {
        Some(id) => Ok(state.users.user(&id).await?),
        None => Ok(None),
    }
}

/// Signs `user` in on this session, issuing a new session id first so an id
/// planted before sign-in is worthless after it.
pub async fn sign_in(user: &User) -> Result<(), AppError> {
    let session = session().await?;
    session
        .cycle_id()
        .await
        .map_err(|e| AppError::internal(&e))?;
    session
        .insert(USER_ID, &user.id)
        .await
        .map_err(|e| AppError::internal(&e))?;
    tracing::info!(user = %user.login, "signed in");
    Ok(())
}

/// Ends the session on the server and clears its cookie.
pub async fn sign_out() -> Result<(), AppError> {
    let session = session().await?;
    session.flush().await.map_err(|e| AppError::internal(&e))
}

const NOTICE: &str = "notice";

/// Leaves a message for the next page view (forms posted without JavaScript).
pub async fn leave_notice(notice: &crate::api::approvals::Notice) -> Result<(), AppError> {
    session()
        .await?
        .insert(NOTICE, notice)
        .await
        .map_err(|e| AppError::internal(&e))
}

/// Takes the message left for this page view, if any.
pub async fn take_notice() -> Result<Option<crate::api::approvals::Notice>, AppError> {
    session()
        .await?
        .remove(NOTICE)
        .await
        .map_err(|e| AppError::internal(&e))
}

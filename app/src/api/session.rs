//! Server functions for session; what they return is in
//! [`crate::views::session`].

use crate::domain::Persona;
pub use crate::domain::SignInProvider;
use crate::error::AppError;
use crate::views::session::*;
use leptos::prelude::*;

/// The ways to sign in, and how the last attempt went.
#[server(endpoint = "sign-in/options")]
pub async fn sign_in_options() -> Result<SignInChoices, AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            Ok(SignInChoices {
                demo: state.mode == crate::ssr::Mode::Demo,
                providers: state.identity.providers(),
                user: crate::ssr::session::current_user(&state).await?,
                notice: crate::ssr::session::take_notice().await?,
            })
        }
        .await,
    )
}

#[server(endpoint = "session")]
pub async fn viewer() -> Result<SessionInfo, AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            let demo = state.mode == crate::ssr::Mode::Demo;
            let user = crate::ssr::session::current_user(&state).await?;
            let nav = crate::ssr::session::nav(&state, demo, user.as_ref()).await?;
            Ok(SessionInfo { demo, user, nav })
        }
        .await,
    )
}

/// The personas a visitor may sign in as. Exists only in demo mode.
#[server(endpoint = "demo/personas")]
pub async fn demo_personas() -> Result<Vec<Persona>, AppError> {
    AppError::respond(async { Ok(demo_only()?.users.personas().await?) }.await)
}

/// Signs in as a demo persona, then goes to their home page.
#[server(endpoint = "demo/sign-in")]
pub async fn demo_sign_in(login: String) -> Result<(), AppError> {
    AppError::respond(
        async {
            let state = demo_only()?;
            crate::ssr::session::demo_sign_in(&state, &login).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Ends the current session.
#[server(endpoint = "sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            crate::ssr::session::sign_out(&state).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn demo_only() -> Result<crate::ssr::AppState, AppError> {
    let state = crate::ssr::app_state()?;
    if state.mode != crate::ssr::Mode::Demo {
        return Err(AppError::NotFound(
            "Demo sign-in exists only in demo mode.".into(),
        ));
    }
    Ok(state)
}

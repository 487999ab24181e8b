//! Who is signed in, and demo-mode sign-in.

pub use crate::domain::SignInProvider;
use crate::domain::{Persona, User};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What every page needs to know about the viewer and the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// True when Gatehouse runs against its simulators with seeded data.
    pub demo: bool,
    pub user: Option<User>,
}

/// What the sign-in page offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInChoices {
    pub demo: bool,
    pub providers: Vec<SignInProvider>,
    pub user: Option<User>,
    /// Why the last sign-in failed, when it did.
    pub notice: Option<crate::notice::Notice>,
}

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
            Ok(SessionInfo {
                demo: state.mode == crate::ssr::Mode::Demo,
                user: crate::ssr::session::current_user(&state).await?,
            })
        }
        .await,
    )
}

/// The personas a visitor may sign in as. Exists only in demo mode.
#[server(endpoint = "demo/personas")]
pub async fn demo_personas() -> Result<Vec<Persona>, AppError> {
    AppError::respond(async { Ok(demo_only()?.users.personas().await?) }.await)
}

/// Signs in as a demo persona, then goes to the Environments page.
#[server(endpoint = "demo/sign-in")]
pub async fn demo_sign_in(login: String) -> Result<(), AppError> {
    AppError::respond(
        async {
            let state = demo_only()?;
            let Some(user) = state.users.persona_user(&login).await? else {
                let login: String = login.chars().take(100).collect();
                state
                    .audit
                    .append(&crate::ssr::ports::NewAudit {
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
            crate::ssr::session::sign_in(&state, &user).await?;
            leptos_axum::redirect("/environments");
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
            leptos_axum::redirect("/environments");
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

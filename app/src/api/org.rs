//! Server functions for org; what they return is in
//! [`crate::views::org`].

use crate::error::AppError;
use crate::views::org::*;
use leptos::prelude::*;

/// The environment model, optionally as one team sees it.
#[server(endpoint = "environments")]
pub async fn environments(team: Option<String>) -> Result<EnvironmentsView, AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            crate::ssr::services::environments(&state, team.as_deref()).await
        }
        .await,
    )
}

//! Server functions for the home page; what they return is in
//! [`crate::views::home`].

use crate::error::AppError;
use crate::views::home::*;
use leptos::prelude::*;

/// The home page of whoever asks: what waits for them, what is down, the
/// next milestones and the Prod release.
#[server(endpoint = "home")]
pub async fn home() -> Result<HomeView, AppError> {
    AppError::respond(
        async {
            let (state, caller) = crate::ssr::session::asking().await?;
            crate::ssr::home::view(&state, &caller).await
        }
        .await,
    )
}

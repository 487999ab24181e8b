//! Server functions for release demo; what they return is in
//! [`crate::views::release_demo`].

use crate::error::AppError;
use crate::views::release_demo::*;
use leptos::prelude::*;

/// For each team and service: the commits the revision deployed in Release
/// has that the one deployed in Prod lacks, and Release's health.
#[server(endpoint = "release-demo")]
pub async fn release_demo() -> Result<ReleaseDemoView, AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            crate::ssr::release_demo::view(&state).await
        }
        .await,
    )
}

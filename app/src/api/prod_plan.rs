//! Server functions for prod plan; what they return is in
//! [`crate::views::prod_plan`].

use crate::error::AppError;
use crate::views::prod_plan::*;
use leptos::prelude::*;

/// The Prod plan of the current release, for everyone who may see the
/// board; `team` narrows it to one team's services (and what they call).
#[server(endpoint = "prod-plan")]
pub async fn prod_plan(#[server(default)] team: Option<String>) -> Result<ProdPlanView, AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            crate::ssr::prod_plan::view(&state, team.as_deref()).await
        }
        .await,
    )
}

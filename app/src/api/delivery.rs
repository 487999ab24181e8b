//! Server functions for delivery; what they return is in
//! [`crate::views::delivery`].

use crate::error::AppError;
use crate::views::delivery::*;
use leptos::prelude::*;

/// The Metrics page's data: `days` is 30 or 90 (anything else is 90);
/// `team` narrows it to one team.
#[server(endpoint = "delivery")]
pub async fn delivery(
    #[server(default)] days: Option<u32>,
    #[server(default)] team: Option<String>,
) -> Result<DeliveryView, AppError> {
    AppError::respond(
        async {
            let (state, caller) = crate::ssr::session::asking_outside_demo().await?;
            crate::ssr::delivery::view(&state, &caller, days, team.as_deref()).await
        }
        .await,
    )
}

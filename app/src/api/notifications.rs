//! Server functions for notifications; what they return is in
//! [`crate::views::notifications`].

use crate::error::AppError;
use crate::views::notifications::*;
use leptos::prelude::*;

/// The page's data; `failed=1` lists only deliveries given up.
#[server(endpoint = "notifications")]
pub async fn notifications(
    #[server(default)] failed: Option<String>,
) -> Result<NotificationsView, AppError> {
    AppError::respond(
        async {
            let (state, caller) = crate::ssr::session::asking().await?;
            let failed_only = failed.as_deref() == Some("1");
            let mut view = crate::ssr::notifications::view(&state, &caller, failed_only).await?;
            // Taken once the page could be built, so a failure leaves the
            // message for the next view.
            view.notice = crate::ssr::session::take_notice().await?;
            Ok(view)
        }
        .await,
    )
}

/// Replaces the viewer's muted events with `muted` (event keywords).
#[server(endpoint = "notifications/mute")]
pub async fn mute_notifications(#[server(default)] muted: Vec<String>) -> Result<String, AppError> {
    let result = async {
        let (state, caller) = crate::ssr::session::asking().await?;
        crate::ssr::notifications::set_mutes(&state, &caller, &muted).await
    }
    .await;
    crate::ssr::forms::answer_form_at(result, "/notifications", Some("mutes"), Vec::new()).await
}

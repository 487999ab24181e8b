//! Server functions for inventory; what they return is in
//! [`crate::views::inventory`].

use crate::error::AppError;
use crate::views::inventory::*;
use leptos::prelude::*;

#[server(endpoint = "inventory")]
pub async fn inventory() -> Result<InventoryView, AppError> {
    AppError::respond(
        async {
            let (state, caller) = crate::ssr::session::asking_outside_demo().await?;
            crate::ssr::inventory::view(&state, &caller).await
        }
        .await,
    )
}

//! Server functions for board; what they return is in
//! [`crate::views::board`].

use crate::error::AppError;
use crate::views::board::*;
use leptos::prelude::*;

/// The board, filtered and paged as in its URL.
#[server(endpoint = "board")]
pub async fn board(
    team: Option<String>,
    service: Option<String>,
    waiting: Option<String>,
    down: Option<String>,
    #[server(default)] failed: Option<String>,
    page: Option<String>,
) -> Result<BoardView, AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            crate::ssr::board::view(&state, team, service, waiting, down, failed, page).await
        }
        .await,
    )
}

/// One service in one environment: every action of its run with its
/// links, all missing commits, health and uptime.
#[server(endpoint = "board/cell")]
pub async fn board_cell(service: String, environment: String) -> Result<CellDetail, AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            crate::ssr::board::cell(&state, &service, &environment).await
        }
        .await,
    )
}

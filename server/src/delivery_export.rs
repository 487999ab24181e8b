//! `/delivery/export.csv`: the Metrics page's table (org, teams, services
//! over the last 30 or 90 days, narrowed by `?team=`) as CSV. Readable by
//! whoever may read the page.

use app::error::AppError;
use app::ssr::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/delivery/export.csv", get(export))
        .with_state(state)
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    days: Option<u32>,
    team: Option<String>,
}

async fn export(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
    session: tower_sessions::Session,
) -> Response {
    if state.mode != app::ssr::Mode::Demo {
        match app::ssr::session::user_of(&state, &session).await {
            Ok(Some(_)) => {}
            Ok(None) => return crate::audit_export::refusal(&AppError::Unauthenticated),
            Err(err) => return crate::audit_export::refusal(&err),
        }
    }
    let view = app::ssr::delivery::read(&state, q.days, q.team.as_deref()).await;
    let view = match view {
        Ok(view) => view,
        Err(err) => return crate::audit_export::refusal(&err),
    };
    let name = format!(
        "delivery-metrics-{}d{}",
        view.days,
        view.team
            .as_deref()
            .map_or_else(String::new, |t| format!("-{t}"))
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        view.csv(),
    )
        .into_response()
}

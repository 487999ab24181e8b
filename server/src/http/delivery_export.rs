//! `/delivery/export.csv`: the Metrics page's table (org, teams, services
//! over the last 30 or 90 days, narrowed by `?team=`) as CSV, its cells
//! written so that no spreadsheet runs one as a formula
//! ([`app::encode::csv_text`]). Readable by whoever may read the page.

use crate::http::query::Query;
use app::error::AppError;
use app::ssr::AppState;
use app::views::delivery::WINDOWS;
use axum::extract::State;
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
    days: Option<String>,
    team: Option<String>,
}

/// The window asked for: 30 or 90 days (90 when not given); anything else
/// is refused in a sentence.
fn window(days: Option<&str>) -> Result<Option<u32>, AppError> {
    let Some(days) = days.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    match days.parse::<u32>() {
        Ok(d) if WINDOWS.contains(&d) => Ok(Some(d)),
        _ => {
            let shown: String = days.chars().take(20).collect();
            Err(AppError::BadRequest(format!(
                "The export covers the last 30 or 90 days (days=30 or days=90), not \u{201c}{shown}\u{201d}."
            )))
        }
    }
}

async fn export(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
    session: tower_sessions::Session,
) -> Response {
    if state.mode != app::ssr::Mode::Demo {
        match app::ssr::session::user_of(&state, &session).await {
            Ok(Some(_)) => {}
            Ok(None) => return crate::http::audit_export::refusal(&AppError::Unauthenticated),
            Err(err) => return crate::http::audit_export::refusal(&err),
        }
    }
    let days = match window(q.days.as_deref()) {
        Ok(days) => days,
        Err(err) => return crate::http::audit_export::refusal(&err),
    };
    let view = app::ssr::delivery::read(&state, days, q.team.as_deref()).await;
    let view = match view {
        Ok(view) => view,
        Err(err) => return crate::http::audit_export::refusal(&err),
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

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn the_window_is_30_or_90_days_or_a_sentence() {
        assert_eq!(window(None), Ok(None));
        assert_eq!(window(Some("30")), Ok(Some(30)));
        assert_eq!(window(Some(" 90 ")), Ok(Some(90)));
        for days in ["-1", "7", "abc", "99999999999"] {
            let said = window(Some(days)).expect_err(days).to_string();
            assert!(
                said.starts_with("The export covers the last 30 or 90 days"),
                "{said}"
            );
        }
    }
}

//! `/prod-plan/export.md` and `/prod-plan/export.json`: the Prod plan of
//! the current release (narrowed by `?team=`), for change-management
//! tickets and tools. Readable by whoever may read the board.

use crate::http::query::Query;
use app::error::AppError;
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/prod-plan/{file}", get(export))
        .with_state(state)
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    team: Option<String>,
}

async fn export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let markdown = match file.as_str() {
        "export.md" => true,
        "export.json" => false,
        _ => return (StatusCode::NOT_FOUND, "Not found").into_response(),
    };
    let view = async {
        let org = state.org.load_org().await?;
        let team = app::ssr::calendar::selected_team(&org, q.team.as_deref())?;
        let current = app::ssr::prod_plan::current(&state, &org).await?;
        Ok::<_, AppError>(app::ssr::prod_plan::view_of(
            &org,
            current,
            team.map(|t| t.to_string()),
            chrono::Utc::now(),
        ))
    }
    .await;
    let view = match view {
        Ok(view) => view,
        Err(err) => return crate::http::audit_export::refusal(&err),
    };
    let name = format!(
        "prod-plan{}{}",
        view.release
            .as_deref()
            .map_or_else(String::new, |r| format!("-{r}")),
        view.team
            .as_deref()
            .map_or_else(String::new, |t| format!("-{t}"))
    );
    let (body, content_type, ext) = if markdown {
        (view.markdown(), "text/markdown; charset=utf-8", "md")
    } else {
        (
            serde_json::to_string_pretty(&view.json()).unwrap_or_default(),
            "application/json",
            "json",
        )
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{ext}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

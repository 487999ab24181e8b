//! Live updates. Writes notify the Postgres channel `gatehouse_changes`
//! (triggers, migration 006); one `PgListener` per process receives them
//! and fans them out in memory to every open `/events` stream as
//! server-sent events. Browsers refetch what the topic names. Any replica's
//! write reaches every replica's browsers.

use crate::cache::Generations;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
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
    /// Streams open now, and how many may be.
    streams: Arc<std::sync::atomic::AtomicUsize>,
    max_streams: usize,
    /// True once the process is shutting down: streams end, so browsers
    /// reconnect to another replica.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// One open stream, counted until it is dropped.
struct StreamSlot(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Changes {
    /// Starts the process's one listener; it reconnects on its own. Every
    /// notification also counts in `generations`, which the per-process
    /// caches read.
    pub fn start(pool: PgPool, generations: Arc<Generations>, max_streams: usize) -> Self {
        let (sender, _) = broadcast::channel(256);
        let changes = Self {
            sender,
            streams: Arc::default(),
            max_streams,
            stopping: tokio::sync::watch::Sender::new(false),
        };
        let forward = changes.sender.clone();
        tokio::spawn(async move {
            loop {
                let result = listen(&pool, &forward, &generations).await;
                generations.listening(false);
                match result {
                    Ok(()) => return,
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
        self.streams.load(std::sync::atomic::Ordering::SeqCst)
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

/// `GET /events`: a server-sent event `change` per notification, with the
/// JSON payload (`{"topic": "approvals"}`), and a comment every 15 s to
/// keep proxies from closing the stream.
///
/// At most `max_streams` are open per process; one more is answered 503
/// with a sentence (pages keep working without live updates).
pub async fn stream(State(changes): State<Changes>) -> axum::response::Response {
    use axum::response::IntoResponse;
    use std::sync::atomic::Ordering;
    let open = changes.streams.fetch_add(1, Ordering::SeqCst);
    let slot = StreamSlot(changes.streams.clone());
    if open >= changes.max_streams {
        drop(slot);
        tracing::warn!(
            limit = changes.max_streams,
            "refused a live-update stream: the process has its most open"
        );
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [
                (axum::http::header::RETRY_AFTER, "30"),
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                ),
            ],
            format!(
                "This server already keeps {} live-update streams open, its limit. Pages still work; reload later for live updates.",
                changes.max_streams
            ),
        )
            .into_response();
    }
    let receiver = changes.subscribe();
    let stopping = changes.stopping.subscribe();
    let events = futures::stream::unfold(
        (receiver, stopping, slot),
        |(mut receiver, mut stopping, slot)| async move {
            let received = tokio::select! {
                received = receiver.recv() => received,
                _ = stopping.wait_for(|stop| *stop) => return None,
            };
            let data = match received {
                Ok(payload) => payload,
                // Too slow to keep up: everything may have changed.
                Err(broadcast::error::RecvError::Lagged(_)) => r#"{"topic":"resync"}"#.to_owned(),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            Some((
                Ok::<_, Infallible>(Event::default().event("change").data(data)),
                (receiver, stopping, slot),
            ))
        },
    );
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

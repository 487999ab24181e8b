//! What changed, per process: a count per change topic, moved by the
//! change listener (any replica's writes) and by this process's own writes
//! as they finish, so per-process caches know when to load again.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// The topics whose changes invalidate what is cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    Org,
    Calendar,
    Board,
    Approvals,
    /// A person's own settings a page shows (their calendar-feed address).
    People,
    /// Notification deliveries (the Notifications page).
    Notifications,
}

impl Topic {
    /// Every topic: what a whole page may show.
    pub const ALL: [Topic; 6] = [
        Topic::Org,
        Topic::Calendar,
        Topic::Board,
        Topic::Approvals,
        Topic::People,
        Topic::Notifications,
    ];

    /// What the pages kept whole may show (the Notifications page is not
    /// kept).
    pub const KEPT_PAGES: [Topic; 5] = [
        Topic::Org,
        Topic::Calendar,
        Topic::Board,
        Topic::Approvals,
        Topic::People,
    ];

    fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Topic::Org => "org",
            Topic::Calendar => "calendar",
            Topic::Board => "board",
            Topic::Approvals => "approvals",
            Topic::People => "people",
            Topic::Notifications => "notifications",
        }
    }
}

/// How many changes each topic has seen in this process.
#[derive(Default)]
pub struct Generations {
    listening: AtomicBool,
    counts: [AtomicU64; 6],
}

impl Generations {
    /// Counts a notification's payload (`{"topic":"board"}`); `resync` or
    /// an unknown topic counts as a change to everything.
    pub fn saw(&self, payload: &str) {
        let topic = serde_json::from_str::<serde_json::Value>(payload)
            .ok()
            .and_then(|v| {
                v.get("topic")
                    .and_then(|t| t.as_str())
                    .and_then(Topic::parse)
            });
        match topic {
            Some(t) => self.bump(t),
            None => Topic::ALL.into_iter().for_each(|t| self.bump(t)),
        }
    }

    pub fn bump(&self, topic: Topic) {
        self.counts[topic as usize].fetch_add(1, Ordering::SeqCst);
    }

    /// The listener is connected (`true`) or lost (`false`); either way
    /// whatever was cached may have missed changes.
    pub fn listening(&self, on: bool) {
        self.listening.store(on, Ordering::SeqCst);
        Topic::ALL.into_iter().for_each(|t| self.bump(t));
    }

    /// A number that changes whenever one of `topics` changed; `None` while
    /// no listener is connected.
    pub fn stamp(&self, topics: &[Topic]) -> Option<u64> {
        if !self.listening.load(Ordering::SeqCst) {
            return None;
        }
        Some(
            topics
                .iter()
                .map(|t| self.counts[*t as usize].load(Ordering::SeqCst))
                .sum(),
        )
    }
}

/// Counts a change to its topic when dropped: held by a service while it
/// writes, so whatever it wrote (even on an early error return) is read
/// fresh by the next page view in this process.
pub struct Wrote(Arc<Generations>, Topic);

impl Drop for Wrote {
    fn drop(&mut self) {
        self.0.bump(self.1);
    }
}

impl Generations {
    /// See [`Wrote`].
    pub fn writing(self: &Arc<Self>, topic: Topic) -> Wrote {
        Wrote(self.clone(), topic)
    }
}

/// The minute kept HTML belongs to: pages say "3 min ago", so what was
/// rendered in an earlier minute is rendered again.
pub fn this_minute() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(60)
}

/// Pages' server-rendered HTML that every viewer is shown alike (the
/// board's table), kept under the stamp of the topics it was rendered from
/// and the minute it was rendered in (its "3 min ago"s): a repeated view
/// copies bytes instead of rendering hundreds of cells again.
#[derive(Default)]
pub struct Rendered {
    held: std::sync::Mutex<Vec<RenderedPage>>,
}

struct RenderedPage {
    stamp: u64,
    minute: i64,
    key: String,
    html: Arc<str>,
}

impl Rendered {
    /// Pages kept: a few filters of the board at once.
    const KEEP: usize = 16;
    /// Longer keys (a pasted search) are rendered, not kept.
    const KEY_LIMIT: usize = 200;

    /// The HTML kept for `key` under `stamp` in `minute`, if any.
    pub fn get(&self, stamp: Option<u64>, minute: i64, key: &str) -> Option<Arc<str>> {
        let stamp = stamp?;
        let held = self.held.lock().ok()?;
        held.iter()
            .find(|p| p.stamp == stamp && p.minute == minute && p.key == key)
            .map(|p| p.html.clone())
    }

    /// Keeps `html`, rendered from what was read under `stamp` (taken
    /// before reading, so a change during the render is not hidden).
    pub fn put(&self, stamp: Option<u64>, minute: i64, key: &str, html: Arc<str>) {
        let (Some(stamp), Ok(mut held)) = (stamp, self.held.lock()) else {
            return;
        };
        if key.len() > Self::KEY_LIMIT {
            return;
        }
        held.retain(|p| p.stamp == stamp && p.minute == minute && p.key != key);
        if held.len() >= Self::KEEP {
            held.remove(0);
        }
        held.push(RenderedPage {
            stamp,
            minute,
            key: key.to_owned(),
            html,
        });
    }

    /// The HTML kept for `key` under the stamp of `topics` in this minute,
    /// or what `render` makes of it then: `(html, keep)`, where `keep` is
    /// false for a render that shows a passing failure.
    pub async fn get_or_render<F>(
        &self,
        generations: &Generations,
        topics: &[Topic],
        key: &str,
        render: F,
    ) -> Result<String, crate::error::AppError>
    where
        F: std::future::Future<Output = Result<(String, bool), crate::error::AppError>>,
    {
        // Taken before anything is read: a change during the render is not
        // hidden behind what it rendered.
        let stamp = generations.stamp(topics);
        let minute = this_minute();
        if let Some(html) = self.get(stamp, minute, key) {
            return Ok(html.to_string());
        }
        let (html, keep) = render.await?;
        if keep {
            self.put(stamp, minute, key, html.as_str().into());
        } else {
            passing_failure_shown();
        }
        Ok(html)
    }
}

/// The response header by which a page says it shows a failure that may
/// pass (an unreachable store, a GitHub error): such a page is not kept for
/// the next view. The server removes it before the page is sent.
pub const PASSING_FAILURE_HEADER: &str = "x-gatehouse-passing-failure";

/// Marks this request's page as showing a failure that may pass.
pub fn passing_failure_shown() {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::HeaderName::from_static(PASSING_FAILURE_HEADER),
            axum::http::HeaderValue::from_static("1"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_html_is_served_only_for_its_stamp_minute_and_key() {
        let r = Rendered::default();
        r.put(Some(1), 10, "team=a", Arc::from("<a>"));
        assert_eq!(r.get(Some(1), 10, "team=a").as_deref(), Some("<a>"));
        assert_eq!(r.get(Some(2), 10, "team=a"), None, "a change renders again");
        assert_eq!(
            r.get(Some(1), 11, "team=a"),
            None,
            "a new minute renders again"
        );
        assert_eq!(r.get(Some(1), 10, "team=b"), None);
        assert_eq!(r.get(None, 10, "team=a"), None, "no listener, no cache");
        r.put(None, 10, "team=b", Arc::from("<b>"));
        assert_eq!(r.get(Some(1), 10, "team=b"), None);
        r.put(Some(1), 10, &"x".repeat(500), Arc::from("<x>"));
        assert_eq!(
            r.get(Some(1), 10, &"x".repeat(500)),
            None,
            "long keys are not kept"
        );
        for i in 0..40 {
            r.put(Some(1), 10, &format!("k{i}"), Arc::from("<k>"));
        }
        assert_eq!(r.held.lock().map(|h| h.len()).unwrap_or(0), Rendered::KEEP);
        r.put(Some(2), 10, "team=a", Arc::from("<a2>"));
        assert_eq!(
            r.held.lock().map(|h| h.len()).unwrap_or(0),
            1,
            "a new stamp drops the rest"
        );
    }

    #[test]
    fn a_stamp_changes_with_its_topics_and_is_absent_without_a_listener() {
        let g = Generations::default();
        assert_eq!(g.stamp(&[Topic::Org]), None);
        g.listening(true);
        let org = g.stamp(&[Topic::Org]);
        let board = g.stamp(&[Topic::Board, Topic::Approvals]);
        g.saw(r#"{"topic":"calendar"}"#);
        assert_eq!(g.stamp(&[Topic::Org]), org);
        assert_eq!(g.stamp(&[Topic::Board, Topic::Approvals]), board);
        g.saw(r#"{"topic":"approvals"}"#);
        assert_ne!(g.stamp(&[Topic::Board, Topic::Approvals]), board);
        g.saw(r#"{"topic":"resync"}"#);
        assert_ne!(g.stamp(&[Topic::Org]), org);
        g.listening(false);
        assert_eq!(g.stamp(&[Topic::Org]), None);
    }
}

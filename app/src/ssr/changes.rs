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
}

impl Topic {
    const ALL: [Topic; 4] = [Topic::Org, Topic::Calendar, Topic::Board, Topic::Approvals];

    fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Topic::Org => "org",
            Topic::Calendar => "calendar",
            Topic::Board => "board",
            Topic::Approvals => "approvals",
        }
    }
}

/// How many changes each topic has seen in this process.
#[derive(Default)]
pub struct Generations {
    listening: AtomicBool,
    counts: [AtomicU64; 4],
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

#[cfg(test)]
mod tests {
    use super::*;

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

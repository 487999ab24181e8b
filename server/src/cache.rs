//! Read-mostly state kept per process: the org model, the calendar's
//! changes and the board's snapshot. Each is loaded once and served from
//! memory until a change notification for its topic arrives (from any
//! replica, through the process's one `PgListener`; see `events`), so a
//! page view reads no table that grows with the org. While the listener is
//! not connected nothing is served from memory: a change could be missed.
//! Writes made through this process mark their topic changed at once, so a
//! page that follows a form reads what the form wrote.

use app::domain::OrgModel;
pub use app::ssr::changes::{Generations, Topic};
use app::ssr::ports::{
    Actor, BoardSnapshot, BoardStore, CalendarEdit, CalendarStore, HotfixRecord, OrgStore,
    StoreError, StoredCalendarEdit,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// A few cached values (by key), each with the stamp it was loaded at.
struct Slot<K, V>(Mutex<Vec<(u64, K, V)>>);

/// Keys kept per slot (the board and the Release demo read two).
const KEYS: usize = 4;

impl<K: PartialEq + Clone, V: Clone> Slot<K, V> {
    fn new() -> Self {
        Slot(Mutex::new(Vec::new()))
    }

    fn get(&self, stamp: Option<u64>, key: &K) -> Option<V> {
        let stamp = stamp?;
        let held = self.0.lock().ok()?;
        held.iter()
            .find(|(s, k, _)| *s == stamp && k == key)
            .map(|(_, _, v)| v.clone())
    }

    /// Keeps `value` under the stamp read before it was loaded: a change
    /// committed during the load makes the next read load again.
    fn put(&self, stamp: Option<u64>, key: K, value: &V) {
        if let (Some(stamp), Ok(mut held)) = (stamp, self.0.lock()) {
            held.retain(|(s, k, _)| *s == stamp && *k != key);
            if held.len() >= KEYS {
                held.remove(0);
            }
            held.push((stamp, key, value.clone()));
        }
    }
}

/// The store, with the org, calendar and board reads served from memory.
pub struct Cached<S> {
    inner: Arc<S>,
    generations: Arc<Generations>,
    org: Slot<(), OrgModel>,
    edits: Slot<(), Vec<StoredCalendarEdit>>,
    board: Slot<DateTime<Utc>, BoardSnapshot>,
}

impl<S> Cached<S> {
    pub fn new(inner: Arc<S>, generations: Arc<Generations>) -> Self {
        Cached {
            inner,
            generations,
            org: Slot::new(),
            edits: Slot::new(),
            board: Slot::new(),
        }
    }
}

#[async_trait]
impl<S: OrgStore> OrgStore for Cached<S> {
    async fn load_org(&self) -> Result<OrgModel, StoreError> {
        let stamp = self.generations.stamp(&[Topic::Org]);
        if let Some(org) = self.org.get(stamp, &()) {
            return Ok(org);
        }
        let org = self.inner.load_org().await?;
        self.org.put(stamp, (), &org);
        Ok(org)
    }
}

#[async_trait]
impl<S: CalendarStore> CalendarStore for Cached<S> {
    async fn edits(&self) -> Result<Vec<StoredCalendarEdit>, StoreError> {
        let stamp = self.generations.stamp(&[Topic::Calendar]);
        if let Some(edits) = self.edits.get(stamp, &()) {
            return Ok(edits);
        }
        let edits = self.inner.edits().await?;
        self.edits.put(stamp, (), &edits);
        Ok(edits)
    }

    async fn record_edit(
        &self,
        actor: &Actor,
        reason: &str,
        edit: &CalendarEdit,
    ) -> Result<(), StoreError> {
        let recorded = self.inner.record_edit(actor, reason, edit).await;
        self.generations.bump(Topic::Calendar);
        recorded
    }

    async fn approval_times(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, bool)>, StoreError> {
        self.inner.approval_times(from, to).await
    }
}

#[async_trait]
impl<S: BoardStore> BoardStore for Cached<S> {
    async fn snapshot(&self, since: DateTime<Utc>) -> Result<BoardSnapshot, StoreError> {
        let stamp = self.generations.stamp(&[Topic::Board, Topic::Approvals]);
        if let Some(snapshot) = self.board.get(stamp, &since) {
            return Ok(snapshot);
        }
        let snapshot = self.inner.snapshot(since).await?;
        self.board.put(stamp, since, &snapshot);
        Ok(snapshot)
    }

    async fn hotfixes(&self, service_id: &str) -> Result<Vec<HotfixRecord>, StoreError> {
        self.inner.hotfixes(service_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_serves_only_the_stamp_and_key_it_was_filled_under() {
        let slot: Slot<u8, String> = Slot::new();
        slot.put(Some(3), 1, &"three".to_owned());
        assert_eq!(slot.get(Some(3), &1).as_deref(), Some("three"));
        assert_eq!(slot.get(Some(4), &1), None);
        assert_eq!(slot.get(Some(3), &2), None);
        assert_eq!(slot.get(None, &1), None);
        slot.put(None, 1, &"none".to_owned());
        assert_eq!(slot.get(Some(3), &1).as_deref(), Some("three"));
        slot.put(Some(3), 2, &"two".to_owned());
        assert_eq!(slot.get(Some(3), &1).as_deref(), Some("three"));
        slot.put(Some(5), 2, &"five".to_owned());
        assert_eq!(
            slot.get(Some(5), &1),
            None,
            "a newer stamp drops the older values"
        );
    }
}

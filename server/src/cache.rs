//! Read-mostly state kept per process: the org model, the calendar's
//! changes, the board's snapshot, the approval queue and the history's first
//! page. Each is loaded once and served from
//! memory until a change notification for its topic arrives (from any
//! replica, through the process's one `PgListener`; see `events`), so a
//! page view reads no table that grows with the org. While the listener is
//! not connected nothing is served from memory: a change could be missed.
//! Writes made through this process mark their topic changed at once, so a
//! page that follows a form reads what the form wrote.

use app::domain::approval::Decision;
use app::domain::request::{ApprovalRequest, DeliveryOutcome, PipelineProblem};
use app::domain::OrgModel;
pub use app::ssr::changes::{Generations, Topic};
use app::ssr::ports::{
    Actor, ApprovalStore, ApprovalTarget, BoardSnapshot, BoardStore, CalendarEdit, CalendarStore,
    ClaimedDelivery, CommitAuthor, HistoryRecord, HotfixRecord, NewRequest, NewVote, OrgStore,
    OutageRecord, PendingApproval, RecordedWait, StoreError, StoredCalendarEdit, VoteCommit,
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
    org: Slot<(), Arc<OrgModel>>,
    edits: Slot<(), Vec<StoredCalendarEdit>>,
    board: Slot<DateTime<Utc>, Arc<BoardSnapshot>>,
    pending: Slot<(), Arc<Vec<ApprovalRequest>>>,
    /// The history's first pages, by length.
    history: Slot<i64, Arc<Vec<ApprovalRequest>>>,
    problems: Slot<(), Vec<PipelineProblem>>,
}

impl<S> Cached<S> {
    pub fn new(inner: Arc<S>, generations: Arc<Generations>) -> Self {
        Cached {
            inner,
            generations,
            org: Slot::new(),
            edits: Slot::new(),
            board: Slot::new(),
            pending: Slot::new(),
            history: Slot::new(),
            problems: Slot::new(),
        }
    }
}

#[async_trait]
impl<S: OrgStore> OrgStore for Cached<S> {
    async fn load_org(&self) -> Result<Arc<OrgModel>, StoreError> {
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

    async fn record_edits(
        &self,
        actor: &Actor,
        reason: &str,
        edits: &[CalendarEdit],
    ) -> Result<(), StoreError> {
        let recorded = self.inner.record_edits(actor, reason, edits).await;
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
    async fn snapshot(&self, since: DateTime<Utc>) -> Result<Arc<BoardSnapshot>, StoreError> {
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

    async fn deployment_history(
        &self,
        environment_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<HistoryRecord>, StoreError> {
        self.inner.deployment_history(environment_id, since).await
    }

    async fn outage_history(
        &self,
        environment_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<OutageRecord>, StoreError> {
        self.inner.outage_history(environment_id, since).await
    }
}

/// The queue and the history's first page are served from memory; every
/// write marks the approvals topic changed when it returns, whatever it
/// returned, and every other read goes to the store (a vote reads its
/// request fresh).
#[async_trait]
impl<S: ApprovalStore> ApprovalStore for Cached<S> {
    async fn upsert_request(&self, new: &NewRequest) -> Result<bool, StoreError> {
        let _wrote = self.generations.writing(Topic::Approvals);
        self.inner.upsert_request(new).await
    }

    async fn set_author(
        &self,
        request_id: &str,
        author: Option<&CommitAuthor>,
    ) -> Result<(), StoreError> {
        let _wrote = self.generations.writing(Topic::Approvals);
        self.inner.set_author(request_id, author).await
    }

    async fn is_known(&self, pending: &PendingApproval) -> Result<bool, StoreError> {
        self.inner.is_known(pending).await
    }

    async fn recorded_waits(&self) -> Result<Vec<RecordedWait>, StoreError> {
        self.inner.recorded_waits().await
    }

    async fn close_missing(
        &self,
        target: &ApprovalTarget,
        keep_execution: Option<&str>,
    ) -> Result<u64, StoreError> {
        let _wrote = self.generations.writing(Topic::Approvals);
        self.inner.close_missing(target, keep_execution).await
    }

    async fn request(&self, id: &str) -> Result<Option<ApprovalRequest>, StoreError> {
        self.inner.request(id).await
    }

    async fn pending(&self) -> Result<Vec<ApprovalRequest>, StoreError> {
        let stamp = self.generations.stamp(&[Topic::Approvals]);
        if let Some(items) = self.pending.get(stamp, &()) {
            return Ok(items.as_ref().clone());
        }
        let items = Arc::new(self.inner.pending().await?);
        self.pending.put(stamp, (), &items);
        Ok(items.as_ref().clone())
    }

    async fn history(
        &self,
        limit: i64,
        before: Option<(DateTime<Utc>, String)>,
    ) -> Result<Vec<ApprovalRequest>, StoreError> {
        if before.is_some() {
            return self.inner.history(limit, before).await;
        }
        let stamp = self.generations.stamp(&[Topic::Approvals]);
        if let Some(items) = self.history.get(stamp, &limit) {
            return Ok(items.as_ref().clone());
        }
        let items = Arc::new(self.inner.history(limit, None).await?);
        self.history.put(stamp, limit, &items);
        Ok(items.as_ref().clone())
    }

    async fn commit_vote(
        &self,
        request_id: &str,
        actor: &Actor,
        expected_votes: usize,
        vote: &NewVote,
        decided: Option<(Decision, String)>,
    ) -> Result<VoteCommit, StoreError> {
        let _wrote = self.generations.writing(Topic::Approvals);
        self.inner
            .commit_vote(request_id, actor, expected_votes, vote, decided)
            .await
    }

    async fn decide_pending(
        &self,
        request_id: &str,
        expected_votes: usize,
        decision: Decision,
        summary: &str,
    ) -> Result<VoteCommit, StoreError> {
        let _wrote = self.generations.writing(Topic::Approvals);
        self.inner
            .decide_pending(request_id, expected_votes, decision, summary)
            .await
    }

    async fn claim_delivery(
        &self,
        request_id: &str,
        lease: std::time::Duration,
    ) -> Result<Option<ClaimedDelivery>, StoreError> {
        let _wrote = self.generations.writing(Topic::Approvals);
        self.inner.claim_delivery(request_id, lease).await
    }

    async fn finish_delivery(
        &self,
        request_id: &str,
        outcome: DeliveryOutcome,
        aws_result: &str,
    ) -> Result<(), StoreError> {
        let _wrote = self.generations.writing(Topic::Approvals);
        self.inner
            .finish_delivery(request_id, outcome, aws_result)
            .await
    }

    async fn release_delivery(&self, request_id: &str, aws_result: &str) -> Result<(), StoreError> {
        let _wrote = self.generations.writing(Topic::Approvals);
        self.inner.release_delivery(request_id, aws_result).await
    }

    async fn undelivered(&self) -> Result<Vec<String>, StoreError> {
        self.inner.undelivered().await
    }

    async fn replace_pipeline_problems(
        &self,
        problems: &[PipelineProblem],
    ) -> Result<bool, StoreError> {
        let changed = self.inner.replace_pipeline_problems(problems).await;
        if !matches!(changed, Ok(false)) {
            self.generations.bump(Topic::Approvals);
        }
        changed
    }

    async fn pipeline_problems(&self) -> Result<Vec<PipelineProblem>, StoreError> {
        let stamp = self.generations.stamp(&[Topic::Approvals]);
        if let Some(problems) = self.problems.get(stamp, &()) {
            return Ok(problems);
        }
        let problems = self.inner.pipeline_problems().await?;
        self.problems.put(stamp, (), &problems);
        Ok(problems)
    }

    async fn record_rerun(
        &self,
        request_id: &str,
        actor: &Actor,
        execution_id: &str,
    ) -> Result<(), StoreError> {
        let _wrote = self.generations.writing(Topic::Approvals);
        self.inner
            .record_rerun(request_id, actor, execution_id)
            .await
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

//! Managers' changes to the release calendar.

use super::Actor;
use super::StoreError;
use async_trait::async_trait;

/// A manager's change to the calendar, as stored: a milestone moved (with
/// where it was) or a blackout added.
#[derive(Debug, Clone)]
pub enum CalendarEdit {
    Move {
        movement: crate::domain::calendar::MilestoneMove,
        before: chrono::DateTime<chrono::Utc>,
    },
    Blackout(crate::domain::calendar::Blackout),
}

/// A stored calendar change with who made it.
#[derive(Debug, Clone)]
pub struct StoredCalendarEdit {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_name: String,
    pub actor_roles: Vec<String>,
    pub reason: String,
    pub edit: CalendarEdit,
}

/// Managers' changes to the calendar (append-only) and what the calendar
/// counts of the approval queue.
#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// Every change, oldest first.
    async fn edits(&self) -> Result<Vec<StoredCalendarEdit>, StoreError>;
    /// Appends changes made together (one reason; all or none); `reason`
    /// is required.
    async fn record_edits(
        &self,
        actor: &Actor,
        reason: &str,
        edits: &[CalendarEdit],
    ) -> Result<(), StoreError>;
    /// When each approval request in `[from, to)` was requested, and
    /// whether it is still pending.
    async fn approval_times(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, bool)>, StoreError>;
}

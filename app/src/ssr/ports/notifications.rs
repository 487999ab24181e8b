//! Notifications as people see them: what was sent (or recorded), and
//! what each person muted.

use super::StoreError;
use crate::domain::notification::NotificationEvent;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// One message to one channel (and, for e-mail, one address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub event: NotificationEvent,
    pub channel: String,
    /// An e-mail address; empty for a webhook.
    pub recipient: String,
    pub title: String,
    pub link: Option<String>,
    /// `pending`, `sent`, `failed` or `recorded`.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

/// How many deliveries are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub recorded: i64,
}

#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The newest deliveries, newest first (`failed_only`: those given up).
    async fn recent_deliveries(
        &self,
        limit: i64,
        failed_only: bool,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;
    async fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError>;
    /// The events `person` muted.
    async fn mutes(&self, person: &str) -> Result<Vec<NotificationEvent>, StoreError>;
    async fn set_mutes(&self, person: &str, events: &[NotificationEvent])
        -> Result<(), StoreError>;
}

//! The Notifications page: the channels configured, what was sent (or, in
//! demo mode without a sink, recorded), and the viewer's own mutes.

use crate::domain::notification::ChannelSummary;
use crate::notice::Notice;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Deliveries listed at most.
pub const LISTED: i64 = 50;

/// One event the viewer may mute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventChoice {
    pub keyword: String,
    pub label: String,
    pub muted: bool,
}

/// One delivery as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub event: String,
    pub channel: String,
    /// The address (for anyone but admins, masked: `p…@acme.example`);
    /// `None` for a webhook.
    pub recipient: Option<String>,
    pub title: String,
    /// A path or address in Gatehouse the message links to.
    pub link: Option<String>,
    /// `pending`, `sent`, `failed` or `recorded`.
    pub state: String,
    pub attempts: i32,
    /// Why the last send failed, for admins.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsView {
    pub channels: Vec<ChannelSummary>,
    pub events: Vec<EventChoice>,
    pub deliveries: Vec<DeliveryRow>,
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub recorded: i64,
    /// Listing only the deliveries given up.
    pub failed_only: bool,
    pub admin: bool,
    /// Whether someone is signed in (to mute).
    pub signed_in: bool,
    pub demo: bool,
    /// What the viewer's last plain form post did.
    pub notice: Option<Notice>,
}

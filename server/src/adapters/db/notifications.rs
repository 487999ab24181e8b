//! Notification deliveries and mutes in Postgres (the outbox itself is
//! written by triggers; see the migration `notifications`).

use super::{store_error, PgStore};
use app::domain::notification::NotificationEvent;
use app::ssr::ports::{DeliveryCounts, DeliveryRecord, NotificationStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

type Row = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i32,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

fn record(row: Row) -> Result<DeliveryRecord, StoreError> {
    let (
        id,
        event,
        channel,
        recipient,
        title,
        link,
        state,
        attempts,
        last_error,
        created_at,
        sent_at,
        next_attempt_at,
    ) = row;
    Ok(DeliveryRecord {
        id,
        event: NotificationEvent::parse(&event).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        channel,
        recipient,
        title,
        link,
        state,
        attempts,
        last_error,
        created_at,
        sent_at,
        next_attempt_at,
    })
}

#[async_trait]
impl NotificationStore for PgStore {
    async fn recent_deliveries(
        &self,
        limit: i64,
        failed_only: bool,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, event, channel, recipient, title, link, state, attempts, last_error,
                    created_at, sent_at, next_attempt_at
               FROM notification_deliveries
              WHERE (NOT $2 OR state = 'failed')
              ORDER BY id DESC LIMIT $1",
        )
        .bind(limit.clamp(1, 500))
        .bind(failed_only)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(record).collect()
    }

    async fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, count(*) FROM notification_deliveries GROUP BY state")
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
        let mut counts = DeliveryCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "pending" => counts.pending = n,
                "sent" => counts.sent = n,
                "failed" => counts.failed = n,
                _ => counts.recorded = n,
            }
        }
        Ok(counts)
    }

    async fn mutes(&self, person: &str) -> Result<Vec<NotificationEvent>, StoreError> {
        let events: Option<Vec<String>> =
            sqlx::query_scalar("SELECT events FROM notification_mutes WHERE person = $1")
                .bind(person)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(events
            .unwrap_or_default()
            .iter()
            .filter_map(|e| NotificationEvent::parse(e).ok())
            .collect())
    }

    async fn set_mutes(
        &self,
        person: &str,
        events: &[NotificationEvent],
    ) -> Result<(), StoreError> {
        let events: Vec<String> = events.iter().map(|e| e.as_str().to_owned()).collect();
        sqlx::query(
            "INSERT INTO notification_mutes (person, events) VALUES ($1, $2)
             ON CONFLICT (person) DO UPDATE SET events = EXCLUDED.events, updated_at = now()",
        )
        .bind(person)
        .bind(&events)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

//! The Terraform inventory in Postgres (written by `crate::adapters::terraform`).

use super::{store_error, PgStore};
use app::domain::inventory::TfResource;
use app::ssr::ports::{InventoryStore, StoreError, StoredState};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

type Row = (
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    serde_json::Value,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

#[async_trait]
impl InventoryStore for PgStore {
    async fn states(&self) -> Result<Vec<StoredState>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT environment_id, source, serial, lineage, terraform_version, resources,
                    applied_at, fetched_at, error
               FROM terraform_states ORDER BY environment_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(
                |(
                    environment_id,
                    source,
                    serial,
                    lineage,
                    terraform_version,
                    resources,
                    applied_at,
                    fetched_at,
                    error,
                )| {
                    let resources: Vec<TfResource> = serde_json::from_value(resources)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Ok(StoredState {
                        environment_id,
                        source,
                        serial,
                        lineage,
                        terraform_version,
                        resources,
                        applied_at,
                        fetched_at,
                        error,
                    })
                },
            )
            .collect()
    }
}

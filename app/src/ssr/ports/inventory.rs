//! The Terraform inventory as stored by the inventory job.

use super::StoreError;
use crate::domain::inventory::TfResource;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// One environment's last read state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState {
    pub environment_id: String,
    /// Where it is read (without credentials).
    pub source: String,
    /// `None` until a state was read.
    pub serial: Option<i64>,
    pub lineage: Option<String>,
    pub terraform_version: Option<String>,
    pub resources: Vec<TfResource>,
    /// When the serial last changed.
    pub applied_at: Option<DateTime<Utc>>,
    pub fetched_at: Option<DateTime<Utc>>,
    /// Why the last read failed.
    pub error: Option<String>,
}

#[async_trait]
pub trait InventoryStore: Send + Sync {
    async fn states(&self) -> Result<Vec<StoredState>, StoreError>;
}

//! The Inventory page: what each environment's Terraform state manages, by
//! AWS service, and the drift between neighbouring environments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Addresses listed per side of a drift, at most.
pub const DRIFT_LISTED: usize = 50;

/// One environment's state, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentState {
    pub id: String,
    pub name: String,
    /// `None`: no state configured or read yet.
    pub source: Option<String>,
    pub serial: Option<i64>,
    /// Its first eight characters.
    pub lineage: Option<String>,
    pub terraform_version: Option<String>,
    pub resources: usize,
    pub applied_at: Option<DateTime<Utc>>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

/// One AWS service's resource count in each environment (in the order of
/// [`InventoryView::environments`]; `None` where no state was read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub service: String,
    /// The seed's long name ("Amazon Simple Queue Service").
    pub title: String,
    pub counts: Vec<Option<usize>>,
}

/// What one environment has that the next lacks, and the reverse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftView {
    pub first: String,
    pub second: String,
    pub only_in_first: Vec<String>,
    pub only_in_second: Vec<String>,
    /// Addresses beyond [`DRIFT_LISTED`] not listed.
    pub more_in_first: usize,
    pub more_in_second: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryView {
    pub environments: Vec<EnvironmentState>,
    pub services: Vec<ServiceRow>,
    pub drifts: Vec<DriftView>,
}

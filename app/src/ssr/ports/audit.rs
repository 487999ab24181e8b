//! The audit log as stored: one chained, append-only log of everything that
//! matters.

use super::{Actor, StoreError};
use crate::domain::audit::{AuditEntry, AuditQuery, AuditVerification, Person};
use async_trait::async_trait;

/// A row to append. The store gives it its sequence number, time and
/// place in the hash chain.
#[derive(Debug, Clone, Default)]
pub struct NewAudit {
    /// One of [`crate::domain::audit::KINDS`].
    pub kind: &'static str,
    /// `None`: the system did it (a background job, the start-up sync).
    pub actor: Option<Actor>,
    pub team: Option<String>,
    pub environment: Option<String>,
    pub service: Option<String>,
    pub pipeline: Option<String>,
    /// What else it concerns: a calendar day (`2026-12-10`), a GitHub
    /// issue's address, a sign-in provider.
    pub subject: Option<String>,
    /// One sentence, bounded by the store.
    pub summary: String,
    /// Structured details, bounded by the store.
    pub details: serde_json::Value,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append(&self, entry: &NewAudit) -> Result<(), StoreError>;
    /// One page of rows matching `query`, newest first.
    async fn page(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;
    /// The last verification of the chain, if any ran.
    async fn last_verification(&self) -> Result<Option<AuditVerification>, StoreError>;
    /// Everyone who can appear as an actor, for the person filter.
    async fn people(&self) -> Result<Vec<Person>, StoreError>;
}

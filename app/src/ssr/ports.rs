//! The outside world as the app sees it. Adapters live in the server crate.

use crate::domain::{OrgModel, Persona, User};
use async_trait::async_trait;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or timed out: worth retrying.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored row no longer parses as a domain value.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("store query failed: {0}")]
    Query(String),
}

/// The organisation model: teams, services, environments.
#[async_trait]
pub trait OrgStore: Send + Sync {
    /// Loads the whole org model as last synced from configuration.
    async fn load_org(&self) -> Result<OrgModel, StoreError>;
}

/// People and their roles.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The demo personas, in the order the picker shows them.
    async fn personas(&self) -> Result<Vec<Persona>, StoreError>;
    /// The user behind a demo persona.
    async fn persona_user(&self, login: &str) -> Result<Option<User>, StoreError>;
}

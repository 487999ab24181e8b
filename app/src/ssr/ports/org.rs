//! The org model as last synced from configuration.

use super::StoreError;
use crate::domain::OrgModel;
use async_trait::async_trait;

/// The organisation model: teams, services, environments.
#[async_trait]
pub trait OrgStore: Send + Sync {
    /// Loads the whole org model as last synced from configuration.
    ///
    /// Shared: callers read it, a cache hands out the same copy.
    async fn load_org(&self) -> Result<std::sync::Arc<OrgModel>, StoreError>;
}

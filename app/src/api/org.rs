//! The organisation's environment model.

use crate::domain::{Environment, Service, Team, TeamId};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the Environments page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentsView {
    pub org_name: String,
    pub teams: Vec<Team>,
    /// The team the page is filtered to; `None` shows the org-wide model.
    pub team: Option<TeamId>,
    /// In promotion order, with the selected team's overrides applied.
    pub environments: Vec<EnvironmentRow>,
    /// The selected team's services, or every service.
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentRow {
    pub environment: Environment,
    /// Teams whose definition of this environment differs from the org's.
    pub overridden_for: Vec<TeamId>,
}

/// The environment model, optionally as one team sees it.
#[server(endpoint = "environments")]
pub async fn environments(team: Option<String>) -> Result<EnvironmentsView, AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            let org = state.org.load_org().await?;
            crate::ssr::services::environments_view(&org, team.as_deref())
        }
        .await,
    )
}

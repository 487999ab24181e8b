//! The organisation's environment model.

use crate::domain::{Environment, Service, Team, TeamId};
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
    /// What the release calendar lets it take today: (team where teams
    /// differ, gate, sentence).
    pub today: Vec<(Option<String>, crate::domain::calendar::Gate, String)>,
}

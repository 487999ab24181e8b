//! The organisation: teams, their services and the environment model.

use super::{
    DisplayName, Environment, EnvironmentOverride, PipelineMapping, RepoName, ServiceId, TeamId,
};
use serde::{Deserialize, Serialize};

/// A product team (FrontEnd, BackEnd, Mobile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: DisplayName,
}

/// A deployable service owned by one team, built from one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub name: DisplayName,
    pub team: TeamId,
    pub repository: RepoName,
}

/// Everything the org configuration describes, checked for consistency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgModel {
    pub name: DisplayName,
    pub teams: Vec<Team>,
    pub services: Vec<Service>,
    /// In promotion order.
    pub environments: Vec<Environment>,
    pub overrides: Vec<EnvironmentOverride>,
    /// How services and environments map to CodePipeline pipelines.
    pub pipelines: PipelineMapping,
    /// The release cycle, its milestones and blackouts, as configured.
    pub calendar: super::calendar::CalendarConfig,
}

impl OrgModel {
    pub fn team(&self, id: &TeamId) -> Option<&Team> {
        self.teams.iter().find(|t| &t.id == id)
    }

    pub fn services_of<'a>(&'a self, team: &'a TeamId) -> impl Iterator<Item = &'a Service> + 'a {
        self.services.iter().filter(move |s| &s.team == team)
    }

    /// The environments as one team sees them, overrides applied, in promotion order.
    pub fn environments_for(&self, team: &TeamId) -> Vec<Environment> {
        self.environments
            .iter()
            .map(|env| {
                let over = self
                    .overrides
                    .iter()
                    .find(|o| &o.team == team && o.environment == env.id);
                env.for_team(over)
            })
            .collect()
    }
}

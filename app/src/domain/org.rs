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
    /// The services it calls (its IPC dependencies): they go to Prod first.
    #[serde(default)]
    pub calls: Vec<super::deploy_dag::Call>,
}

/// How the Prod plan holds Prod approvals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProdPlanConfig {
    /// Refuse approving a Prod request whose dependencies have not reached
    /// Prod, instead of asking for an override with a reason.
    pub strict: bool,
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
    #[serde(default)]
    pub prod_plan: ProdPlanConfig,
}

impl OrgModel {
    pub fn team(&self, id: &TeamId) -> Option<&Team> {
        self.teams.iter().find(|t| &t.id == id)
    }

    pub fn services_of<'a>(&'a self, team: &'a TeamId) -> impl Iterator<Item = &'a Service> + 'a {
        self.services.iter().filter(move |s| &s.team == team)
    }

    /// A team's name, or its id if the org no longer has it.
    pub fn team_name(&self, id: &TeamId) -> String {
        self.team(id)
            .map_or_else(|| id.to_string(), |t| t.name.to_string())
    }

    /// The team a URL names (`None` or empty: every team), checked against
    /// the org; `Err` says which teams there are.
    pub fn selected_team(&self, raw: Option<&str>) -> Result<Option<TeamId>, String> {
        let Some(raw) = raw.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        match TeamId::parse(raw) {
            Ok(id) if self.team(&id).is_some() => Ok(Some(id)),
            _ => {
                let names: Vec<&str> = self.teams.iter().map(|t| t.id.as_str()).collect();
                let shown: String = raw.chars().take(40).collect();
                Err(format!(
                    "There is no team \u{201c}{shown}\u{201d}. Teams are: {}.",
                    names.join(", ")
                ))
            }
        }
    }

    /// The teams a view covers: the selected one, or every team.
    pub fn teams_shown(&self, team: Option<&TeamId>) -> Vec<TeamId> {
        match team {
            Some(t) => vec![t.clone()],
            None => self.teams.iter().map(|t| t.id.clone()).collect(),
        }
    }

    /// A configured service by its id.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id.as_str() == id)
    }

    /// A configured environment by its id (not overridden for a team).
    pub fn environment(&self, id: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.id.as_str() == id)
    }

    /// Whether `environment_id` is Prod: the last environment in promotion
    /// order.
    pub fn is_prod(&self, environment_id: &str) -> bool {
        self.environments
            .last()
            .is_some_and(|e| e.id.as_str() == environment_id)
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

//! Application services: pure rules over data loaded through the ports.

use crate::api::org::{EnvironmentRow, EnvironmentsView};
use crate::domain::OrgModel;
use crate::error::AppError;

/// Builds the Environments page for the whole org or, given a team id from
/// the URL, for that team.
pub fn environments_view(org: &OrgModel, team: Option<&str>) -> Result<EnvironmentsView, AppError> {
    let team = super::calendar::selected_team(org, team)?;
    let environments = match &team {
        Some(id) => org.environments_for(id),
        None => org.environments.clone(),
    };
    let environments = environments
        .into_iter()
        .map(|environment| {
            let overridden_for = org
                .overrides
                .iter()
                .filter(|o| o.environment == environment.id)
                .map(|o| o.team.clone())
                .collect();
            EnvironmentRow {
                environment,
                overridden_for,
                today: Vec::new(),
            }
        })
        .collect();
    let services = match &team {
        Some(id) => org.services_of(id).cloned().collect(),
        None => org.services.clone(),
    };
    Ok(EnvironmentsView {
        org_name: org.name.to_string(),
        teams: org.teams.clone(),
        team,
        environments,
        services,
    })
}

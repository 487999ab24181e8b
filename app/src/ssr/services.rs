//! Application services: pure rules over data loaded through the ports.

use crate::domain::OrgModel;
use crate::error::AppError;
use crate::views::org::{EnvironmentRow, EnvironmentsView};

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

/// The Environments page: each environment as configured, and what the
/// calendar allows in it today where that is more than its trigger says.
pub async fn environments(
    state: &super::AppState,
    team: Option<&str>,
) -> Result<EnvironmentsView, AppError> {
    let org = state.org.load_org().await?;
    let mut view = environments_view(&org, team)?;
    let (calendar, _) = super::calendar::load(state, &org).await?;
    let shown = org.teams_shown(view.team.as_ref());
    let allowances = super::calendar::allowances(&org, &calendar, &shown, chrono::Utc::now());
    for row in &mut view.environments {
        if let Some(a) = allowances
            .iter()
            .find(|a| a.environment_id == row.environment.id.as_str())
        {
            // "Manual, any time" only repeats the trigger: say what
            // the calendar changes, not what it leaves alone.
            let calendar_matters = row.environment.trigger.after_freeze()
                || a.lines
                    .iter()
                    .any(|(_, gate, _)| *gate != crate::domain::calendar::Gate::Open);
            if calendar_matters {
                row.today.clone_from(&a.lines);
            }
        }
    }
    Ok(view)
}

//! The organisation's environment model.

#[cfg(feature = "ssr")]
use crate::domain::calendar::Gate;
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
    /// What the release calendar lets it take today: (team where teams
    /// differ, gate, sentence).
    pub today: Vec<(Option<String>, crate::domain::calendar::Gate, String)>,
}

/// The environment model, optionally as one team sees it.
#[server(endpoint = "environments")]
pub async fn environments(team: Option<String>) -> Result<EnvironmentsView, AppError> {
    AppError::respond(
        async {
            let state = crate::ssr::app_state()?;
            let org = state.org.load_org().await?;
            let mut view = crate::ssr::services::environments_view(&org, team.as_deref())?;
            let (calendar, _) = crate::ssr::calendar::load(&state, &org).await?;
            let shown = org.teams_shown(view.team.as_ref());
            let allowances =
                crate::ssr::calendar::allowances(&org, &calendar, &shown, chrono::Utc::now());
            for row in &mut view.environments {
                if let Some(a) = allowances
                    .iter()
                    .find(|a| a.environment_id == row.environment.id.as_str())
                {
                    // "Manual, any time" only repeats the trigger: say what
                    // the calendar changes, not what it leaves alone.
                    let calendar_matters = row.environment.trigger.after_freeze()
                        || a.lines.iter().any(|(_, gate, _)| *gate != Gate::Open);
                    if calendar_matters {
                        row.today.clone_from(&a.lines);
                    }
                }
            }
            Ok(view)
        }
        .await,
    )
}

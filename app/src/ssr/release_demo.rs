//! What is in Release that is not in Prod, read from GitHub: each service's
//! newest `release/*` branch compared with the branch Prod deploys.

use super::app_state;
use super::ports::GitHubError;
use crate::api::release_demo::{DemoCommit, ReleaseDemoView, ServiceDemo, TeamDemo};
use crate::error::AppError;

fn words(err: &GitHubError) -> String {
    format!("GitHub could not be read: {err}.")
}

/// The Release demo view.
pub async fn view() -> Result<ReleaseDemoView, AppError> {
    let state = app_state()?;
    let org = state.org.load_org().await?;
    let release = org
        .environments
        .iter()
        .find(|e| e.id.as_str() == "release")
        .ok_or_else(|| AppError::NotFound("There is no Release environment configured.".into()))?;
    let prod = org
        .environments
        .last()
        .ok_or_else(|| AppError::NotFound("No environments are configured.".into()))?;
    // Prod's first branch (not a tag pattern) is the base: master in Git Flow.
    let base = prod
        .branches
        .iter()
        .find(|p| !p.is_tag())
        .map(ToString::to_string)
        .unwrap_or_else(|| "master".to_owned());
    let mut teams = Vec::new();
    for team in &org.teams {
        let mut services = Vec::new();
        for service in org.services_of(&team.id) {
            let repo = service.repository.to_string();
            let mut demo = ServiceDemo {
                name: service.name.to_string(),
                repository: repo.clone(),
                release_branch: None,
                commits: Vec::new(),
                problem: None,
            };
            match state.github.branches(&repo).await {
                Err(err) => demo.problem = Some(words(&err)),
                Ok(branches) => {
                    demo.release_branch = branches
                        .into_iter()
                        .map(|b| b.name)
                        .filter(|n| n.starts_with("release/"))
                        .max();
                    if let Some(branch) = &demo.release_branch {
                        match state.github.compare(&repo, &base, branch).await {
                            Ok(Some(cmp)) => {
                                demo.commits = cmp
                                    .commits
                                    .into_iter()
                                    .map(|c| DemoCommit {
                                        sha: c.sha.chars().take(7).collect(),
                                        title: c.title,
                                        author: c.author_login,
                                    })
                                    .collect();
                            }
                            Ok(None) => {
                                demo.problem =
                                    Some(format!("GitHub cannot compare {base} with {branch}."));
                            }
                            Err(err) => demo.problem = Some(words(&err)),
                        }
                    }
                }
            }
            services.push(demo);
        }
        teams.push(TeamDemo {
            team: team.name.to_string(),
            services,
        });
    }
    Ok(ReleaseDemoView {
        release: release.name.to_string(),
        prod: prod.name.to_string(),
        base,
        teams,
    })
}

//! What is in Release that is not in Prod: per service, the revision the
//! Release pipeline deployed compared (GitHub) with the one Prod runs, as
//! the board's jobs recorded them, and Release's health.

use super::ports::{DeploymentRecord, GitHubError};
use super::AppState;
use crate::error::AppError;
use crate::views::release_demo::{DemoCommit, ReleaseDemoView, ServiceDemo, TeamDemo};

fn words(err: &GitHubError) -> String {
    format!("GitHub could not be read: {err}.")
}

/// "abc1234 (v2027.01.0)" or "abc1234 on release/2027.01".
fn revision(d: &DeploymentRecord) -> Option<String> {
    let short: String = d.commit.as_deref()?.chars().take(7).collect();
    Some(match (&d.tag, &d.branch) {
        (Some(tag), _) => format!("{short} ({tag})"),
        (None, Some(branch)) => format!("{short} on {branch}"),
        (None, None) => short,
    })
}

/// The Release demo view.
pub async fn view(state: &AppState) -> Result<ReleaseDemoView, AppError> {
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
    // The board's own snapshot (outages are not shown here).
    let now = chrono::Utc::now();
    let snapshot = state
        .board
        .snapshot(super::calendar::snapshot_since(now, now))
        .await?;
    let cell = |service: &str, env: &str| {
        snapshot
            .service(service)
            .and_then(|records| records.cells.get(env))
    };
    let deployed = |service: &str, env: &str| {
        cell(service, env)
            .and_then(|c| c.deployment)
            .map(|i| &snapshot.deployments[i])
    };
    let (mut up, mut down, mut unknown) = (0, 0, 0);
    let mut github_failed = false;
    let mut teams = Vec::new();
    for team in &org.teams {
        let mut services = Vec::new();
        for service in org.services_of(&team.id) {
            let repo = service.repository.to_string();
            let in_release = deployed(service.id.as_str(), release.id.as_str());
            let in_prod = deployed(service.id.as_str(), prod.id.as_str());
            let health = cell(service.id.as_str(), release.id.as_str())
                .and_then(|c| c.health)
                .and_then(|i| snapshot.health[i].up);
            match health {
                Some(true) => up += 1,
                Some(false) => down += 1,
                None => unknown += 1,
            }
            let mut demo = ServiceDemo {
                name: service.name.to_string(),
                repository: repo.clone(),
                release_revision: in_release.and_then(revision),
                prod_revision: in_prod.and_then(revision),
                up: health,
                commits: Vec::new(),
                problem: None,
            };
            let shas = (
                in_release.and_then(|d| d.commit.clone()),
                in_prod.and_then(|d| d.commit.clone()),
            );
            match shas {
                (Some(head), Some(base)) if head == base => {}
                (Some(head), Some(base)) => match state.github.compare(&repo, &base, &head).await {
                    Ok(Some(cmp)) => {
                        demo.commits = cmp
                            .commits
                            .into_iter()
                            .map(|c| DemoCommit {
                                sha: c.sha.chars().take(7).collect(),
                                pull_request: super::board::pull_request(&c.title),
                                title: c.title,
                                author: c.author_login,
                            })
                            .collect();
                    }
                    Ok(None) => {
                        demo.problem = Some(format!(
                            "GitHub does not know one of the deployed revisions of {repo}."
                        ));
                    }
                    Err(err) => {
                        github_failed = true;
                        demo.problem = Some(words(&err));
                    }
                },
                (None, _) => {
                    demo.problem = Some(format!(
                        "Gatehouse has not seen a {} deployment of this service yet.",
                        release.name
                    ));
                }
                (Some(_), None) => {
                    demo.problem = Some(format!(
                        "Gatehouse has not seen a {} deployment of this service yet.",
                        prod.name
                    ));
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
        teams,
        up,
        down,
        unknown,
        github_failed,
    })
}

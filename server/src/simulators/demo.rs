//! Demo mode: the personas a visitor can sign in as.

use crate::simulators::codepipeline::{PipelineSpec, RevisionSpec, Simulator};
use crate::simulators::github::{CommitSpec, GitHubSimulator};
use crate::simulators::health::HealthSimulator;
use app::domain::calendar::CalendarConfig;
use app::domain::{BranchPattern, OrgModel, Role};
use chrono::{Datelike, Days, NaiveDate};

/// A persona to seed as a demo user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonaSeed {
    pub login: String,
    pub display_name: String,
    pub title: String,
    pub roles: Vec<Role>,
}

fn seed(login: &str, name: &str, title: String, role: Role) -> PersonaSeed {
    PersonaSeed {
        login: login.to_owned(),
        display_name: name.to_owned(),
        title,
        roles: vec![role],
    }
}

const DEVELOPERS: &[(&str, &str)] = &[
    ("lena.fischer", "Lena Fischer"),
    ("diego.alvarez", "Diego Alvarez"),
    ("mei.tanaka", "Mei Tanaka"),
    ("tom.becker", "Tom Becker"),
    ("aisha.khan", "Aisha Khan"),
    ("jonas.berg", "Jonas Berg"),
];

/// The developer persona of the `index`-th team: a name from the list, its
/// login made unique by the team id once the list runs out.
fn developer_of(index: usize, team: &app::domain::TeamId) -> (String, &'static str) {
    let (login, name) = DEVELOPERS[index % DEVELOPERS.len()];
    if index < DEVELOPERS.len() {
        (login.to_owned(), name)
    } else {
        (format!("{login}.{team}"), name)
    }
}

/// A QA engineer, an SRE, a developer of each team, a manager, a
/// stakeholder and an admin.
pub fn personas(org: &OrgModel) -> Vec<PersonaSeed> {
    let mut out = vec![
        seed("priya.raman", "Priya Raman", "QA engineer".into(), Role::Qa),
        seed(
            "sam.okafor",
            "Sam Okafor",
            "Site reliability engineer".into(),
            Role::Sre,
        ),
    ];
    for (i, team) in org.teams.iter().enumerate() {
        let (login, name) = developer_of(i, &team.id);
        out.push(seed(
            &login,
            name,
            format!("{} developer", team.name),
            Role::Developer(team.id.clone()),
        ));
    }
    out.push(seed(
        "morgan.lee",
        "Morgan Lee",
        "Engineering manager".into(),
        Role::Manager,
    ));
    out.push(seed(
        "alex.kim",
        "Alex Kim",
        "Product stakeholder".into(),
        Role::Stakeholder,
    ));
    out.push(seed(
        "ada.admin",
        "Ada Admin",
        "Gatehouse admin".into(),
        Role::Admin,
    ));
    out
}

/// Where today falls in a demo's release cycle: after the Release demo,
/// with QA approvals open.
pub const DEMO_CYCLE_DAY: u64 = 40;

/// The configured calendar moved, blackouts and all, so that today is day
/// [`DEMO_CYCLE_DAY`] of release 1: a demo always opens mid-release, the
/// same way whatever the date.
pub fn calendar_around(config: &CalendarConfig, today: NaiveDate) -> CalendarConfig {
    let anchor = today - Days::new(DEMO_CYCLE_DAY);
    let shift = anchor - config.anchor;
    let mut moved = config.clone();
    moved.anchor = anchor;
    for b in &mut moved.blackouts {
        b.first_day += shift;
        b.last_day += shift;
    }
    moved
}

/// The demo's two releases, named as its calendar (moved around today)
/// names them: the one on its way to Prod now (its code freeze passed; its
/// branch `release/<name>`, its candidate tagged `v<name>.0-rc.1`) and the
/// one before it (tagged `v<name>.0`, in Prod).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReleases {
    pub current: String,
    pub previous: String,
}

impl DemoReleases {
    pub fn branch(&self) -> String {
        format!("release/{}", self.current)
    }

    pub fn candidate_tag(&self) -> String {
        format!("v{}.0-rc.1", self.current)
    }

    pub fn released_tag(&self) -> String {
        format!("v{}.0", self.previous)
    }
}

/// The demo's releases now (see [`DemoReleases`]).
pub fn releases(org: &OrgModel) -> DemoReleases {
    let now = chrono::Utc::now();
    let config = calendar_around(&org.calendar, now.date_naive());
    let named = org
        .calendar
        .time_zone
        .parse::<chrono_tz::Tz>()
        .ok()
        .and_then(|tz| {
            let teams = org.teams.iter().map(|t| t.id.clone()).collect();
            let calendar = app::domain::calendar::Calendar::new(config, tz, teams);
            let current = app::ssr::prod_plan::current_release(&calendar, now)?;
            let number = calendar.release_number_on(calendar.local_date(current.frozen_at))?;
            // The cycle before (which may start before the calendar's anchor),
            // named as the calendar names releases: year and month it starts.
            let starts = calendar.local_date(calendar.release(number).starts);
            let before = starts
                .checked_sub_months(chrono::Months::new(u32::from(org.calendar.cycle_months)))?;
            Some(DemoReleases {
                current: current.name,
                previous: format!("{}.{:02}", before.year(), before.month()),
            })
        });
    named.unwrap_or_else(|| DemoReleases {
        current: "2027.01".into(),
        previous: "2026.11".into(),
    })
}

/// A concrete branch for a pattern: what a demo pipeline watches.
fn demo_branch(pattern: &BranchPattern, releases: &DemoReleases) -> String {
    let text = pattern.to_string();
    match text.as_str() {
        "feature/*" => "feature/saved-carts".into(),
        "release/*" => releases.branch(),
        "hotfix/*" => "hotfix/checkout-timeout".into(),
        t if t.starts_with("tags/") => "master".into(),
        t => t.trim_end_matches('*').trim_end_matches('/').to_owned(),
    }
}

/// The branch a demo pipeline watches: a named branch of the environment
/// (develop, master), else its release branches, else its first pattern.
fn watched_branch(patterns: &[BranchPattern], releases: &DemoReleases) -> String {
    patterns
        .iter()
        .find(|p| !p.is_tag() && !p.to_string().contains('*'))
        .or_else(|| patterns.iter().find(|p| p.to_string() == "release/*"))
        .or_else(|| patterns.first())
        .map_or_else(|| "develop".into(), |p| demo_branch(p, releases))
}

const COMMIT_MESSAGES: &[&str] = &[
    "Fix rounding of order totals in multi-currency carts",
    "Add retry with backoff to the payment provider client",
    "Paginate the order history endpoint",
    "Show the delivery window on the confirmation page",
    "Upgrade the TLS library and rotate the pinned certificates",
    "Cache inventory lookups for 30 seconds",
    "Log the correlation id on every outbound call",
    "Make the checkout button reachable by keyboard",
];

/// A stable, commit-like id for demo data.
fn demo_sha(seed: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::with_capacity(40);
    while out.len() < 40 {
        for byte in seed.bytes().chain(out.clone().into_bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{hash:016x}"));
    }
    out.truncate(40);
    out
}

/// Teammates who write commits but have no demo persona, one per team.
const TEAMMATES: &[(&str, &str)] = &[
    ("rhea.patel", "Rhea Patel"),
    ("owen.murphy", "Owen Murphy"),
    ("sofia.rossi", "Sofia Rossi"),
];

/// The change a demo pipeline runs: its commit, message and author.
pub struct DemoChange {
    pub pipeline: String,
    pub repository: String,
    pub commit: String,
    pub message: String,
    pub author_login: String,
    pub author_name: String,
}

/// The change waiting in every demo pipeline. Every other service's changes
/// are by the team's developer persona, so the four-eyes rule shows in a
/// demo: that persona cannot approve their own commit into Stage.
pub fn changes(org: &OrgModel) -> Vec<DemoChange> {
    let mut out = Vec::new();
    for (i, service) in org.services.iter().enumerate() {
        let team = org
            .teams
            .iter()
            .position(|t| t.id == service.team)
            .unwrap_or(0);
        let (login, name) = if i % 2 == 0 {
            let (login, name) = developer_of(team, &service.team);
            (login, name.to_owned())
        } else {
            let (login, name) = TEAMMATES[team % TEAMMATES.len()];
            (login.to_owned(), name.to_owned())
        };
        for env in &org.environments {
            let pipeline = org.pipelines.pipeline_name(&service.id, &env.id);
            let hotfixed = i == HOTFIX_SERVICE && HOTFIX_ENVIRONMENTS.contains(&env.id.as_str());
            out.push(DemoChange {
                commit: if hotfixed {
                    hotfix_sha(&service.repository.to_string())
                } else {
                    demo_sha(&pipeline)
                },
                message: if hotfixed {
                    HOTFIX_MESSAGE.to_owned()
                } else {
                    COMMIT_MESSAGES[(i + usize::from(env.position)) % COMMIT_MESSAGES.len()]
                        .to_owned()
                },
                repository: service.repository.to_string(),
                author_login: login.clone(),
                author_name: name.clone(),
                pipeline,
            });
        }
    }
    out
}

/// The service whose hotfix a demo follows (Checkout UI), the environments
/// its pipelines run the hotfix in, and the hotfix.
const HOTFIX_SERVICE: usize = 1;
const HOTFIX_ENVIRONMENTS: &[&str] = &["release", "prod"];
pub const HOTFIX_BRANCH: &str = "hotfix/checkout-timeout";
const HOTFIX_MESSAGE: &str = "Hotfix: raise the payment provider timeout to 30 s (#412)";

/// The message of the `n`-th commit of a demo history that no pipeline runs
/// now (0 is the base release).
fn history_message(n: usize, releases: &DemoReleases) -> String {
    if n == 0 {
        format!("Release {}", releases.previous)
    } else {
        COMMIT_MESSAGES[(n + 5) % COMMIT_MESSAGES.len()].to_owned()
    }
}

/// The release every demo repository starts from (tagged with the
/// previous release, see [`DemoReleases`]).
fn base_sha(repo: &str) -> String {
    demo_sha(&format!("{repo}@v2026.11.0"))
}

fn hotfix_sha(repo: &str) -> String {
    demo_sha(&format!("{repo}@{HOTFIX_BRANCH}"))
}

/// Each environment's change in promotion order, oldest (Prod's) first,
/// after the base release: a service's history.
fn ladder(org: &OrgModel, service: &app::domain::Service) -> Vec<String> {
    let mut out = vec![base_sha(&service.repository.to_string())];
    out.extend(
        org.environments
            .iter()
            .rev()
            .map(|env| demo_sha(&org.pipelines.pipeline_name(&service.id, &env.id))),
    );
    out
}

/// Creates a pipeline per service and environment, with an approval stage
/// where the environment's trigger needs one. Each has deployed the change
/// of the environment after it (Prod the base release) and runs its own
/// change, already past Source and Build, so that a demo opens with every
/// environment deployed and approvals waiting.
pub fn seed_codepipeline(sim: &Simulator, org: &OrgModel) {
    let mapping = &org.pipelines;
    let changes = changes(org);
    let releases = releases(org);
    let now = chrono::Utc::now();
    let history = history(org, now);
    for service in &org.services {
        let ladder = ladder(org, service);
        let count = org.environments.len();
        for (position, env) in org.environments.iter().enumerate() {
            let name = mapping.pipeline_name(&service.id, &env.id);
            let branch = watched_branch(&env.branches, &releases);
            sim.add_pipeline(PipelineSpec {
                name: name.clone(),
                repository: service.repository.to_string(),
                branch,
                approval: env.trigger.needs_approval().then(|| {
                    (
                        mapping.approval_stage().to_owned(),
                        mapping.approval_action().to_owned(),
                    )
                }),
            });
            // The environment after this one in promotion order has this
            // one's previous change: ladder[count - position - 1].
            let previous_index = count - position - 1;
            let previous = &ladder[previous_index];
            let message = changes.iter().find(|c| &c.commit == previous).map_or_else(
                || history_message(previous_index, &releases),
                |c| c.message.clone(),
            );
            sim.add_past_execution(
                &name,
                RevisionSpec {
                    commit: previous.clone(),
                    message,
                    branch: None,
                },
                now - chrono::Duration::hours(i64::try_from(position * 7 + 2).unwrap_or(2)),
            );
            if position + 1 == count {
                // Prod's history, newest first (each is older than the
                // executions already there).
                let service_index = org.services.iter().position(|s| s.id == service.id);
                for deploy in history
                    .iter()
                    .rev()
                    .filter(|d| Some(d.service) == service_index)
                {
                    sim.add_past_execution(
                        &name,
                        RevisionSpec {
                            commit: deploy.commit.clone(),
                            message: deploy.message.clone(),
                            branch: deploy.branch.clone(),
                        },
                        deploy.at,
                    );
                }
            }
            if let Some(change) = changes.iter().find(|c| c.pipeline == name) {
                sim.start_execution(
                    &name,
                    RevisionSpec {
                        commit: change.commit.clone(),
                        message: change.message.clone(),
                        branch: None,
                    },
                );
            }
        }
    }
    sim.advance_clock(chrono::Duration::minutes(1));
}

/// Release cycles of Prod history a demo starts with, before its base
/// release.
const HISTORY_RELEASES: i64 = 6;
/// Days between two releases in the demo's history (bimonthly).
const HISTORY_CYCLE_DAYS: i64 = 61;

/// One deployment to Prod in a demo's history, with the commits it brought
/// (oldest first, each with its time).
pub struct HistoryDeploy {
    pub service: usize,
    pub at: chrono::DateTime<chrono::Utc>,
    pub commit: String,
    pub message: String,
    pub branch: Option<String>,
    pub commits: Vec<(String, String, chrono::DateTime<chrono::Utc>)>,
}

/// The demo's Prod history before its base release, oldest first per
/// service: a release deployment per cycle, more deployments between
/// releases and shorter lead times in newer cycles, and hotfixes after some
/// releases, so the Metrics page has a trend to show. Times are whole
/// hours before `now`, so every caller computes the same history.
pub fn history(org: &OrgModel, now: chrono::DateTime<chrono::Utc>) -> Vec<HistoryDeploy> {
    use chrono::{Duration, DurationRound};
    let now = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let mut out = Vec::new();
    for (i, service) in org.services.iter().enumerate() {
        let repo = service.repository.to_string();
        let offset = Duration::hours(i64::try_from(i % 7).unwrap_or(0) * 3);
        for k in (1..=HISTORY_RELEASES).rev() {
            let release_at = now - Duration::days(k * HISTORY_CYCLE_DAYS - 12) + offset;
            // Newer cycles deploy between releases too, with fresher commits.
            let extra = (HISTORY_RELEASES - k) / 2;
            let lead_days = 1 + k * 3;
            let mut deploys = vec![(release_at, None)];
            for j in 0..extra {
                deploys.push((release_at + Duration::days(14 * (j + 1)), None));
            }
            let hotfix = if k >= 3 {
                (i + k as usize) % 3 == 0
            } else {
                (i + k as usize) % 6 == 0
            };
            if hotfix {
                deploys.push((
                    release_at + Duration::days(2),
                    Some(format!(
                        "hotfix/{}-{}",
                        service.id,
                        HISTORY_RELEASES - k + 1
                    )),
                ));
            }
            deploys.sort_by_key(|d| d.0);
            for (n, (at, branch)) in deploys.into_iter().enumerate() {
                let seed = format!("{repo}@history-{k}-{n}");
                let count = if branch.is_some() { 1 } else { 3 };
                let commits = (0..count)
                    .map(|c| {
                        let sha = demo_sha(&format!("{seed}-{c}"));
                        let message = if branch.is_some() {
                            format!(
                                "Hotfix: {}",
                                COMMIT_MESSAGES[(i + c) % COMMIT_MESSAGES.len()].to_lowercase()
                            )
                        } else {
                            COMMIT_MESSAGES[(i + n + c + k as usize) % COMMIT_MESSAGES.len()]
                                .to_owned()
                        };
                        let age = if branch.is_some() {
                            Duration::hours(6)
                        } else {
                            Duration::days(lead_days)
                                - Duration::hours(i64::try_from(c).unwrap_or(0) * 20)
                        };
                        (sha, message, at - age)
                    })
                    .collect::<Vec<_>>();
                let (commit, message) = commits
                    .last()
                    .map(|c| (c.0.clone(), c.1.clone()))
                    .unwrap_or_default();
                out.push(HistoryDeploy {
                    service: i,
                    at,
                    commit,
                    message,
                    branch: branch.clone(),
                    commits,
                });
            }
        }
    }
    out
}

/// Prod outages in a demo's history: after some of its releases, shorter
/// in newer cycles. (service index, started, ended), oldest first.
pub fn past_outages(
    org: &OrgModel,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(
    usize,
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::Utc>,
)> {
    history(org, now)
        .into_iter()
        .filter(|d| d.branch.is_none() && (d.service + d.at.timestamp() as usize / 3600) % 5 == 0)
        .map(|d| {
            let cycles_ago = (now - d.at).num_days() / HISTORY_CYCLE_DAYS + 1;
            let started = d.at + chrono::Duration::hours(20);
            (
                d.service,
                started,
                started + chrono::Duration::minutes(25 * cycles_ago * cycles_ago),
            )
        })
        .collect()
}

/// Records a demo's past Prod outages, once (not again on a restart).
pub async fn seed_past_outages(pool: &sqlx::PgPool, org: &OrgModel) -> Result<(), sqlx::Error> {
    let Some(prod) = org.environments.iter().max_by_key(|e| e.position) else {
        return Ok(());
    };
    let now = chrono::Utc::now();
    let mut tx = pool.begin().await?;
    let seeded = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM outages WHERE environment_id = $1 AND started_at < $2) AS "seeded!""#,
        prod.id.as_str(),
        (now - chrono::Duration::days(3)) as _
    )
    .fetch_one(&mut *tx)
    .await?;
    if !seeded {
        for (service, started, ended) in past_outages(org, now) {
            sqlx::query!(
                "INSERT INTO outages (service_id, environment_id, started_at, ended_at, ticket, issue_closed)
                 VALUES ($1, $2, $3, $4, false, false)",
                org.services[service].id.as_str(),
                prod.id.as_str(),
                started as _,
                ended as _
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}

/// Gives every demo repository the commits the demo pipelines run, with
/// their authors, and Git Flow over them: develop has every change, the
/// release branch all but the two newest, master the base release and the
/// two oldest (tagged as a release candidate). Checkout UI has a hotfix
/// branch from master, merged into master and the release branch but not
/// yet into develop.
pub fn seed_github(sim: &GitHubSimulator, org: &OrgModel) {
    let now = chrono::Utc::now();
    let history = history(org, now);
    let releases = releases(org);
    let changes = changes(org);
    let run_now: std::collections::HashSet<String> =
        changes.iter().map(|c| c.commit.clone()).collect();
    for (i, change) in changes.into_iter().enumerate() {
        sim.add_commit(
            &change.repository,
            CommitSpec {
                sha: change.commit,
                message: change.message,
                author_login: Some(change.author_login),
                author_name: change.author_name,
                author_email: None,
                date: now - chrono::Duration::hours(i64::try_from(i % 48).unwrap_or(0) + 1),
            },
        );
    }
    for (i, service) in org.services.iter().enumerate() {
        let repo_name = service.repository.to_string();
        let repo = repo_name.as_str();
        let ladder = ladder(org, service);
        let base = base_sha(repo);
        for (n, sha) in ladder.iter().enumerate().skip(1) {
            // Commits in the history that no pipeline runs now.
            if !run_now.contains(sha) {
                sim.add_commit(
                    repo,
                    CommitSpec {
                        sha: sha.clone(),
                        message: history_message(n, &releases),
                        author_login: Some(TEAMMATES[i % TEAMMATES.len()].0.to_owned()),
                        author_name: TEAMMATES[i % TEAMMATES.len()].1.to_owned(),
                        author_email: None,
                        date: now - chrono::Duration::days(3),
                    },
                );
            }
        }
        sim.add_commit(
            repo,
            CommitSpec {
                sha: base.clone(),
                message: history_message(0, &releases),
                author_login: Some("sam.okafor".into()),
                author_name: "Sam Okafor".into(),
                author_email: None,
                date: now - chrono::Duration::days(6),
            },
        );
        // The history before the base release, on every branch.
        let mut past: Vec<String> = Vec::new();
        for deploy in history.iter().filter(|d| d.service == i) {
            for (sha, message, date) in &deploy.commits {
                let mate = TEAMMATES[(i + past.len()) % TEAMMATES.len()];
                sim.add_commit(
                    repo,
                    CommitSpec {
                        sha: sha.clone(),
                        message: message.clone(),
                        author_login: Some(mate.0.to_owned()),
                        author_name: mate.1.to_owned(),
                        author_email: None,
                        date: *date,
                    },
                );
                past.push(sha.clone());
            }
        }
        let upto = |n: usize| {
            let mut branch = past.clone();
            branch.extend_from_slice(&ladder[..n.min(ladder.len())]);
            branch
        };
        let mut master = upto(3);
        let mut release = upto(5);
        if i == HOTFIX_SERVICE {
            let hotfix = hotfix_sha(repo);
            let mut branch = master.clone();
            branch.push(hotfix.clone());
            sim.set_branch(repo, HOTFIX_BRANCH, branch);
            master.push(hotfix.clone());
            release.push(hotfix);
        }
        sim.set_tag(repo, &releases.released_tag(), &base);
        sim.set_tag(repo, &releases.candidate_tag(), &ladder[2]);
        sim.set_branch(repo, "master", master);
        sim.set_branch(repo, &releases.branch(), release);
        sim.set_branch(repo, "develop", upto(ladder.len()));
    }
}

/// The simulated services a demo shows down: Mobile BFF in QA (a Critical
/// ticket opens) and Orders API in Stage (downtime is counted).
pub fn seed_health(sim: &HealthSimulator) {
    sim.set_up("mobile-bff", "qa", false);
    sim.set_up("orders-api", "stage", false);
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::RoleKind;
    use std::collections::HashSet;
    use std::path::Path;

    #[test]
    fn there_is_a_persona_for_every_role_and_a_developer_for_every_team() {
        let org = crate::org_config::parse(
            Path::new("org.toml"),
            include_str!("../../../config/org.toml"),
        )
        .expect("valid");
        let personas = personas(&org);
        let kinds: HashSet<RoleKind> = personas
            .iter()
            .flat_map(|p| p.roles.iter().map(Role::kind))
            .collect();
        for kind in [
            RoleKind::Qa,
            RoleKind::Sre,
            RoleKind::Developer,
            RoleKind::Manager,
            RoleKind::Stakeholder,
        ] {
            assert!(kinds.contains(&kind), "{kind}");
        }
        for team in &org.teams {
            assert!(
                personas
                    .iter()
                    .any(|p| p.roles == [Role::Developer(team.id.clone())]),
                "{}",
                team.id
            );
        }
        let logins: HashSet<&str> = personas.iter().map(|p| p.login.as_str()).collect();
        assert_eq!(logins.len(), personas.len(), "logins are unique");
    }

    #[test]
    fn demo_commit_ids_look_like_git_shas_and_are_stable() {
        let sha = demo_sha("orders-api-qa");
        assert_eq!(sha.len(), 40);
        assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(sha, demo_sha("orders-api-qa"));
        assert_ne!(sha, demo_sha("orders-api-prod"));
    }

    #[test]
    fn demo_pipelines_watch_a_branch_their_environment_accepts() {
        use app::domain::GitRef;
        let org = crate::org_config::parse(
            Path::new("org.toml"),
            include_str!("../../../config/org.toml"),
        )
        .expect("valid");
        for env in org
            .environments
            .iter()
            .filter(|e| !e.branches.iter().all(BranchPattern::is_tag))
        {
            let branch = watched_branch(&env.branches, &releases(&org));
            assert!(
                env.accepts(&GitRef::Branch(branch.clone())),
                "{}: {branch}",
                env.id
            );
        }
    }

    #[test]
    fn the_demo_releases_are_named_as_its_calendar_names_them() {
        let org = crate::org_config::parse(
            Path::new("org.toml"),
            include_str!("../../../config/org.toml"),
        )
        .expect("valid");
        let r = releases(&org);
        let month = |name: &str| {
            let (y, m) = name.split_once('.').expect("year.month");
            (
                y.parse::<i32>().expect("year"),
                m.parse::<u32>().expect("month"),
            )
        };
        let (cy, cm) = month(&r.current);
        let (py, pm) = month(&r.previous);
        // The release before starts one cycle earlier.
        let cycle = i32::from(org.calendar.cycle_months);
        assert_eq!(
            (cy * 12 + cm as i32) - (py * 12 + pm as i32),
            cycle,
            "{r:?}"
        );
        assert_eq!(r.branch(), format!("release/{}", r.current));
        assert_eq!(r.candidate_tag(), format!("v{}.0-rc.1", r.current));
        assert_eq!(r.released_tag(), format!("v{}.0", r.previous));
    }
}

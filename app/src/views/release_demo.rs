//! The Release demo view: what is in Release now that is not in Prod.

use serde::{Deserialize, Serialize};

/// One commit waiting in Release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCommit {
    pub sha: String,
    pub title: String,
    pub author: Option<String>,
    /// The pull request its squash-merge title names.
    pub pull_request: Option<u64>,
}

/// One service's Release-only changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDemo {
    pub name: String,
    pub repository: String,
    /// What Release and Prod run: short sha, and tag or branch.
    pub release_revision: Option<String>,
    pub prod_revision: Option<String>,
    /// Release's health for this service: `None` when not probed (yet).
    pub up: Option<bool>,
    pub commits: Vec<DemoCommit>,
    /// Why the comparison could not be made, in words.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamDemo {
    pub team: String,
    pub services: Vec<ServiceDemo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseDemoView {
    pub release: String,
    pub prod: String,
    pub teams: Vec<TeamDemo>,
    /// Release's health across services: up, down, not known.
    pub up: usize,
    pub down: usize,
    pub unknown: usize,
    /// GitHub could not be read for some service (a passing failure: the
    /// next view asks again).
    pub github_failed: bool,
}

/// One change as a stakeholder names it: a pull request (or a squash
/// title) told once, with every service of the team it reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoChange {
    pub title: String,
    pub pull_request: Option<u64>,
    pub authors: Vec<String>,
    pub services: Vec<String>,
}

impl TeamDemo {
    /// The team's Release-only commits grouped by change: by pull request
    /// where the title names one, else by title; in order of first
    /// appearance.
    pub fn changes(&self) -> Vec<DemoChange> {
        let mut changes: Vec<DemoChange> = Vec::new();
        for service in &self.services {
            for commit in &service.commits {
                let same = |c: &DemoChange| match (c.pull_request, commit.pull_request) {
                    (Some(a), Some(b)) => a == b,
                    (None, None) => c.title == commit.title,
                    _ => false,
                };
                let index = match changes.iter().position(same) {
                    Some(i) => i,
                    None => {
                        changes.push(DemoChange {
                            title: commit.title.clone(),
                            pull_request: commit.pull_request,
                            authors: Vec::new(),
                            services: Vec::new(),
                        });
                        changes.len() - 1
                    }
                };
                let change = &mut changes[index];
                if let Some(author) = &commit.author {
                    if !change.authors.contains(author) {
                        change.authors.push(author.clone());
                    }
                }
                if !change.services.contains(&service.name) {
                    change.services.push(service.name.clone());
                }
            }
        }
        changes
    }

    /// Services whose comparison could not be made, with why.
    pub fn problems(&self) -> Vec<(String, String)> {
        self.services
            .iter()
            .filter_map(|s| s.problem.clone().map(|p| (s.name.clone(), p)))
            .collect()
    }
}

impl ReleaseDemoView {
    /// Release's health as one line: "Release is healthy: all 9 services
    /// up", or what is down, by name.
    pub fn health_line(&self) -> String {
        let down: Vec<&str> = self
            .teams
            .iter()
            .flat_map(|t| t.services.iter())
            .filter(|s| s.up == Some(false))
            .map(|s| s.name.as_str())
            .collect();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let mut line = if !down.is_empty() {
            format!(
                "{} has {} service{} down: {}. {} up",
                self.release,
                down.len(),
                plural(down.len()),
                down.join(", "),
                self.up
            )
        } else if self.unknown == 0 {
            format!(
                "{} is healthy: all {} service{} up",
                self.release,
                self.up,
                plural(self.up)
            )
        } else {
            format!(
                "{} is up where checked: {} service{} up",
                self.release,
                self.up,
                plural(self.up)
            )
        };
        if self.unknown > 0 {
            line.push_str(&format!(", {} not checked yet", self.unknown));
        }
        line.push('.');
        line
    }
}

/// What one column of a presentation slide shows: a team's changes, or a
/// part of them when they do not fit one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    pub team: String,
    /// 1-based part and parts of this team's list.
    pub part: usize,
    pub parts: usize,
    pub changes: Vec<DemoChange>,
    /// Services whose changes could not be read, with why.
    pub problems: Vec<(String, String)>,
}

/// Columns per presentation slide, and the lines one column holds at the
/// presentation's type size on a 1920x1080 screen.
pub const SLIDE_COLUMNS: usize = 3;

pub const COLUMN_LINES: usize = 17;

/// Characters of a change title per line in one column.
const LINE_CHARS: usize = 30;

/// One column's changes and problems, while slides are laid out.
type Column = (Vec<DemoChange>, Vec<(String, String)>);

/// Lines an item takes: its text wrapped, and one line under it (a
/// change's services, a problem's service).
fn lines(text: &str) -> usize {
    text.chars().count().div_ceil(LINE_CHARS).max(1) + 1
}

/// Lines a change takes: its title, wrapped, and one for its services.
fn cost(change: &DemoChange) -> usize {
    lines(&change.title)
}

/// Lines a column's team heading takes.
const HEADING: usize = 2;

/// The column an item of `lines` lines goes in: a new one when it would
/// overflow the last (an item too tall for any column still gets a column
/// of its own); `used` counts the last column's lines.
fn column_for<'a>(columns: &'a mut Vec<Column>, used: &mut usize, lines: usize) -> &'a mut Column {
    if *used + lines > COLUMN_LINES && *used > HEADING {
        columns.push(Default::default());
        *used = HEADING;
    }
    *used += lines;
    columns.last_mut().expect("one column")
}

/// The presentation's slides: each team's changes in columns of at most
/// `COLUMN_LINES`, a team over several columns when it needs them, and
/// `SLIDE_COLUMNS` columns to a slide. Never empty.
pub fn slides(view: &ReleaseDemoView) -> Vec<Vec<Panel>> {
    let mut panels: Vec<Panel> = Vec::new();
    for team in &view.teams {
        let mut columns: Vec<Column> = vec![Default::default()];
        let mut used = HEADING;
        for problem in team.problems() {
            column_for(&mut columns, &mut used, lines(&problem.1))
                .1
                .push(problem);
        }
        for change in team.changes() {
            column_for(&mut columns, &mut used, cost(&change))
                .0
                .push(change);
        }
        let parts = columns.len();
        for (i, (changes, problems)) in columns.into_iter().enumerate() {
            panels.push(Panel {
                team: team.team.clone(),
                part: i + 1,
                parts,
                changes,
                problems,
            });
        }
    }
    let mut slides: Vec<Vec<Panel>> = panels
        .chunks(SLIDE_COLUMNS)
        .map(<[Panel]>::to_vec)
        .collect();
    if slides.is_empty() {
        slides.push(Vec::new());
    }
    slides
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(title: &str, pr: Option<u64>, author: &str) -> DemoCommit {
        DemoCommit {
            sha: "abc1234".into(),
            title: title.into(),
            author: Some(author.into()),
            pull_request: pr,
        }
    }

    fn service(name: &str, commits: Vec<DemoCommit>, up: Option<bool>) -> ServiceDemo {
        ServiceDemo {
            name: name.into(),
            repository: format!("acme/{name}"),
            release_revision: None,
            prod_revision: None,
            up,
            commits,
            problem: None,
        }
    }

    fn view(teams: Vec<TeamDemo>) -> ReleaseDemoView {
        ReleaseDemoView {
            release: "Release".into(),
            prod: "Prod".into(),
            teams,
            up: 2,
            down: 0,
            unknown: 0,
            github_failed: false,
        }
    }

    #[test]
    fn a_pull_request_that_reached_two_services_is_one_change_naming_both() {
        let team = TeamDemo {
            team: "FrontEnd".into(),
            services: vec![
                service(
                    "web",
                    vec![
                        commit("Checkout button (#12)", Some(12), "ana"),
                        commit("Fix typo", None, "bo"),
                    ],
                    Some(true),
                ),
                service(
                    "shell",
                    vec![commit("Checkout button (#12)", Some(12), "cy")],
                    Some(true),
                ),
            ],
        };
        let changes = team.changes();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].services, vec!["web", "shell"]);
        assert_eq!(changes[0].authors, vec!["ana", "cy"]);
        assert_eq!(changes[1].title, "Fix typo");
        assert_eq!(changes[1].services, vec!["web"]);
    }

    #[test]
    fn a_team_too_long_for_one_column_continues_in_the_next_and_slides_hold_three() {
        let many: Vec<DemoCommit> = (0..40)
            .map(|i| commit(&format!("Change number {i}"), Some(i), "ana"))
            .collect();
        let teams = vec![
            TeamDemo {
                team: "A".into(),
                services: vec![service("a", many, Some(true))],
            },
            TeamDemo {
                team: "B".into(),
                services: vec![service("b", vec![], Some(true))],
            },
        ];
        let slides = slides(&view(teams));
        let panels: Vec<&Panel> = slides.iter().flatten().collect();
        let a: Vec<&&Panel> = panels.iter().filter(|p| p.team == "A").collect();
        assert!(a.len() > 1, "40 changes do not fit one column");
        assert!(a.iter().all(|p| p.parts == a.len()));
        assert_eq!(a.iter().map(|p| p.changes.len()).sum::<usize>(), 40);
        for panel in &panels {
            let lines: usize = HEADING + panel.changes.iter().map(cost).sum::<usize>();
            assert!(lines <= COLUMN_LINES, "{lines} lines in one column");
        }
        assert!(slides.iter().all(|s| s.len() <= SLIDE_COLUMNS));
        assert_eq!(panels.last().map(|p| p.team.as_str()), Some("B"));
    }

    #[test]
    fn health_names_what_is_down() {
        let mut v = view(vec![TeamDemo {
            team: "A".into(),
            services: vec![
                service("a", vec![], Some(false)),
                service("b", vec![], Some(true)),
            ],
        }]);
        v.up = 1;
        v.down = 1;
        assert_eq!(v.health_line(), "Release has 1 service down: a. 1 up.");
        v.teams[0].services[0].up = Some(true);
        v.up = 2;
        v.down = 0;
        assert_eq!(v.health_line(), "Release is healthy: all 2 services up.");
    }
}

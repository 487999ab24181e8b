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
    /// The team's changes in all its parts.
    pub total: usize,
    pub changes: Vec<DemoChange>,
    /// Services whose changes could not be read, with why.
    pub problems: Vec<(String, String)>,
}

/// Columns per presentation slide.
pub const SLIDE_COLUMNS: usize = 3;

/// The height one column has on a 1920x1080 screen, in CSS pixels: the
/// screen less the slide's header and padding (the browser tests check
/// that every slide fits and that the demo is one slide).
pub const COLUMN_PX: usize = 895;

/// Characters per line in one 576 px column: of a change's title (26 px
/// type) and of the line under it (24 px type).
const TITLE_CHARS: usize = 43;
const UNDER_CHARS: usize = 48;

/// A title line (26 px type, tight leading), a line under it (24 px, 28
/// px leading), and the space between items (16 px, and 4 above the line
/// under).
const TITLE_LINE_PX: usize = 33;
const UNDER_LINE_PX: usize = 28;
const ITEM_GAP_PX: usize = 20;

/// A team's heading (30 px type and the space under it), and the space
/// above a team that follows another in the same column.
const HEADING_PX: usize = 52;
const TEAM_GAP_PX: usize = 24;

/// Lines `text` takes at `per_line` characters a line.
fn wrapped(text: &str, per_line: usize) -> usize {
    text.chars().count().div_ceil(per_line).max(1)
}

/// The height an item takes: its text wrapped, the line under it wrapped,
/// and the gap to the next.
fn item_px(text: &str, under: &str) -> usize {
    wrapped(text, TITLE_CHARS) * TITLE_LINE_PX
        + wrapped(under, UNDER_CHARS) * UNDER_LINE_PX
        + ITEM_GAP_PX
}

/// The height a problem takes: its service, then why.
fn lines(text: &str) -> usize {
    item_px(text, "")
}

/// The height a change takes: its title, and the services it reached.
fn cost(change: &DemoChange) -> usize {
    item_px(&change.title, &change.services.join(", "))
}

/// One column of a slide: the teams (or parts of teams) it shows, in order.
pub type SlideColumn = Vec<Panel>;

/// Lays teams out in columns of `COLUMN_PX`: a team follows the one before
/// it in the same column when its heading and first item fit there, and
/// goes on in the next column only when its items do not fit one.
struct Layout {
    columns: Vec<SlideColumn>,
    /// Pixels used in the last column.
    used: usize,
}

impl Layout {
    /// Starts a panel of `team`, whose items take `whole` pixels, the first
    /// of them `first`: in the last column when the whole team fits there;
    /// else, to `keep` it together, at the top of a new one when it fits a
    /// column; else where its first item fits.
    fn start(&mut self, team: &str, total: usize, first: usize, whole: usize, keep: bool) {
        let gap = if self.columns.last().is_some_and(|c| !c.is_empty()) {
            TEAM_GAP_PX
        } else {
            0
        };
        let left = COLUMN_PX.saturating_sub(self.used + gap + HEADING_PX);
        let fits_here = whole <= left;
        let fits_a_column = whole <= COLUMN_PX - HEADING_PX;
        let starts_here = fits_here || ((!keep || !fits_a_column) && first <= left);
        if self.columns.is_empty() || !starts_here {
            self.columns.push(Vec::new());
            self.used = HEADING_PX;
        } else {
            self.used += gap + HEADING_PX;
        }
        let part = 1;
        self.last_column().push(Panel {
            team: team.to_owned(),
            part,
            parts: 1,
            total,
            changes: Vec::new(),
            problems: Vec::new(),
        });
    }

    fn last_column(&mut self) -> &mut SlideColumn {
        if self.columns.is_empty() {
            self.columns.push(Vec::new());
        }
        self.columns.last_mut().expect("a column")
    }

    /// The panel an item `height` pixels high goes in: the current one, or
    /// the team's next part at the top of a new column when it would
    /// overflow (an item too tall for any column still gets one).
    fn panel_for(&mut self, height: usize) -> &mut Panel {
        let fits = self.used + height <= COLUMN_PX;
        let empty = self
            .columns
            .last()
            .and_then(|c| c.last())
            .is_none_or(|p| p.changes.is_empty() && p.problems.is_empty());
        if !fits && !empty {
            let previous = self
                .columns
                .last()
                .and_then(|c| c.last())
                .cloned()
                .expect("a panel");
            self.columns.push(vec![Panel {
                part: previous.part + 1,
                changes: Vec::new(),
                problems: Vec::new(),
                ..previous
            }]);
            self.used = HEADING_PX;
        }
        self.used += height;
        self.last_column().last_mut().expect("a panel")
    }
}

/// The presentation's slides: `SLIDE_COLUMNS` columns each, every column
/// holding as many teams as fit, each part of a team naming its total.
/// Teams are kept together (a team over several columns only when its
/// changes need them) unless that takes more slides than filling every
/// column does. Never empty.
pub fn slides(view: &ReleaseDemoView) -> Vec<Vec<SlideColumn>> {
    let together = laid_out(view, true);
    let filled = laid_out(view, false);
    if filled.len() < together.len() {
        filled
    } else {
        together
    }
}

fn laid_out(view: &ReleaseDemoView, keep: bool) -> Vec<Vec<SlideColumn>> {
    let mut layout = Layout {
        columns: Vec::new(),
        used: 0,
    };
    for team in &view.teams {
        let problems = team.problems();
        let changes = team.changes();
        let first = problems
            .first()
            .map(|p| lines(&p.1))
            .or_else(|| changes.first().map(cost))
            .unwrap_or(TITLE_LINE_PX);
        // A team with nothing new says so in a line of its own.
        let whole = (problems.iter().map(|p| lines(&p.1)).sum::<usize>()
            + changes.iter().map(cost).sum::<usize>())
        .max(lines("Nothing new in Release."));
        layout.start(&team.team, changes.len(), first, whole, keep);
        let from = layout.columns.iter().map(Vec::len).sum::<usize>() - 1;
        for problem in problems {
            layout.panel_for(lines(&problem.1)).problems.push(problem);
        }
        for change in changes {
            layout.panel_for(cost(&change)).changes.push(change);
        }
        // Every part of the team knows how many there are.
        let mut index = 0;
        let mut parts: Vec<&mut Panel> = Vec::new();
        for column in &mut layout.columns {
            for panel in column.iter_mut() {
                if index >= from {
                    parts.push(panel);
                }
                index += 1;
            }
        }
        let count = parts.len();
        for panel in parts {
            panel.parts = count;
        }
    }
    let mut slides: Vec<Vec<SlideColumn>> = layout
        .columns
        .chunks(SLIDE_COLUMNS)
        .map(<[SlideColumn]>::to_vec)
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
        let columns: Vec<&SlideColumn> = slides.iter().flatten().collect();
        let panels: Vec<&Panel> = columns.iter().copied().flatten().collect();
        let a: Vec<&&Panel> = panels.iter().filter(|p| p.team == "A").collect();
        assert!(a.len() > 1, "40 changes do not fit one column");
        assert!(a.iter().all(|p| p.parts == a.len()));
        assert_eq!(a.iter().map(|p| p.changes.len()).sum::<usize>(), 40);
        for column in &columns {
            let height: usize = column
                .iter()
                .map(|p| HEADING_PX + p.changes.iter().map(cost).sum::<usize>())
                .sum::<usize>()
                + TEAM_GAP_PX * column.len().saturating_sub(1);
            assert!(height <= COLUMN_PX, "{height} px in one column");
        }
        for panel in &panels {
            assert_eq!(panel.total, if panel.team == "A" { 40 } else { 0 });
        }
        assert!(slides.iter().all(|s| s.len() <= SLIDE_COLUMNS));
        assert_eq!(panels.last().map(|p| p.team.as_str()), Some("B"));
    }

    #[test]
    fn teams_that_fit_share_columns_and_one_slide() {
        let few = |n: u64| -> Vec<DemoCommit> {
            (0..n)
                .map(|i| {
                    commit(
                        &format!("A change of about thirty chars {i}"),
                        Some(i),
                        "ana",
                    )
                })
                .collect()
        };
        let teams = ["FrontEnd", "BackEnd", "Mobile"]
            .into_iter()
            .zip([7, 5, 4])
            .map(|(name, n)| TeamDemo {
                team: name.into(),
                services: vec![service(name, few(n), Some(true))],
            })
            .collect();
        let slides = slides(&view(teams));
        assert_eq!(slides.len(), 1, "16 short changes are one slide");
        let panels: Vec<&Panel> = slides.iter().flatten().flatten().collect();
        assert_eq!(panels.len(), 3, "no team is split: {panels:?}");
        assert!(panels
            .iter()
            .all(|p| p.parts == 1 && p.total == p.changes.len()));
        // Small teams share a column.
        let small = ["FrontEnd", "BackEnd", "Mobile"]
            .into_iter()
            .zip([2, 2, 1])
            .map(|(name, n)| TeamDemo {
                team: name.into(),
                services: vec![service(name, few(n), Some(true))],
            })
            .collect();
        let slides = super::slides(&view(small));
        assert_eq!(slides.len(), 1);
        assert_eq!(slides[0].len(), 1, "one column holds all three");
        assert_eq!(slides[0][0].len(), 3);
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

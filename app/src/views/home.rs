//! The home page: per person, what waits for them, what is down, the next
//! milestones and the Prod release, each with the link that acts on it; and
//! the counts the navigation carries on every page.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How many cells of the board are in each state that asks for someone:
/// the board's summary strip and the navigation's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub down: usize,
    pub failed: usize,
    pub waiting: usize,
}

/// What the header shows beside its links, read from the board's cached
/// snapshot (no query per page view), and which links it offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NavCounts {
    /// Requests waiting for a decision.
    pub approvals: usize,
    /// Cells whose health check fails.
    pub down: usize,
    /// Whether the viewer may read the audit log (stakeholders and people
    /// without a role may not: the link is not offered to them).
    pub audit: bool,
}

/// The question a person's home answers first, from their roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Focus {
    /// QA: the approvals waiting for them.
    Approvals,
    /// SRE: what is down.
    Health,
    /// Admins: whether the audit record is intact and every pipeline
    /// governed.
    Record,
    /// Managers: the Prod release and what blocks it.
    Prod,
    /// Stakeholders: the Release demo.
    Demo,
    /// Developers: their team's services.
    Team,
    /// Someone not signed in, or without a role: what is going on.
    Overview,
}

impl Focus {
    /// The heading of the section the focus puts first.
    pub fn question(self) -> &'static str {
        match self {
            Focus::Approvals => "What waits for my sign-off?",
            Focus::Health => "Is anything down?",
            Focus::Record => "Is the record intact?",
            Focus::Prod => "When does this release reach Prod, and what blocks it?",
            Focus::Demo => "What will the Release demo show?",
            Focus::Team => "How are my team’s services?",
            Focus::Overview => "What is going on?",
        }
    }
}

/// A request the viewer may decide now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeApproval {
    pub request_id: String,
    pub service: String,
    pub environment: String,
    pub commit: String,
    pub votes: usize,
    pub needed: u8,
    pub requested_at: DateTime<Utc>,
}

/// A service down in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownCell {
    pub service_id: String,
    pub service: String,
    pub environment_id: String,
    pub environment: String,
    pub since: Option<DateTime<Utc>>,
    /// The health check's answer ("HTTP 503").
    pub detail: Option<String>,
    pub ticket: Option<String>,
}

/// A milestone still ahead: the calendar's own event.
pub type UpcomingMilestone = crate::views::calendar::CalendarEvent;

/// Where the current release stands on its way to Prod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProdSummary {
    pub release: String,
    /// The release's Prod milestone (the earliest team's).
    pub prod_date: Option<NaiveDate>,
    /// Changed services, and how many of them are in Prod.
    pub changed: usize,
    pub deployed: usize,
    /// Changed services that may go to Prod now (nothing they call is
    /// still on its way), with where each stands: what to push first.
    #[serde(default)]
    pub next: Vec<(String, crate::domain::deploy_dag::ProdState)>,
    /// Changed services waiting for services they call, each with the
    /// names of what it waits for.
    pub blocked: Vec<(String, Vec<String>)>,
    /// Changed services whose Prod run failed, by name.
    pub failed: Vec<String>,
}

/// What the Release demo will show: each team's changes (a change is a
/// pull request, as the demo counts them), the first few titles, and
/// Release's health in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoSummary {
    pub teams: Vec<(String, usize)>,
    pub highlights: Vec<String>,
    pub health: String,
}

/// Change titles the stakeholder's home lists.
pub const HIGHLIGHTS: usize = 5;

/// A developer's team at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamSummary {
    pub id: String,
    pub name: String,
    pub services: usize,
    pub counts: StatusCounts,
    /// Its cells down, as "Mobile BFF in QA".
    #[serde(default)]
    pub down: Vec<String>,
}

/// What an admin answers for: the audit chain's last check and the
/// pipelines Gatehouse cannot govern as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSummary {
    /// `None` until the background check has run once.
    pub verification: Option<crate::domain::audit::AuditVerification>,
    pub pipeline_problems: Vec<crate::domain::request::PipelineProblem>,
}

/// The home page of one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeView {
    pub now: DateTime<Utc>,
    /// Today in the org's time zone (milestones are local days).
    pub today: NaiveDate,
    /// The viewer's display name, when signed in.
    pub name: Option<String>,
    pub focus: Focus,
    /// Cells down, failed and waiting across the org.
    pub counts: StatusCounts,
    /// Requests waiting for a decision, and the ones the viewer may decide
    /// (the first few of them listed).
    pub pending: usize,
    pub yours: usize,
    pub yours_listed: Vec<HomeApproval>,
    /// Every cell down, worst (longest) first.
    pub down: Vec<DownCell>,
    pub milestones: Vec<UpcomingMilestone>,
    pub prod: Option<ProdSummary>,
    /// The developer's teams.
    pub teams: Vec<TeamSummary>,
    /// For a stakeholder: what the Release demo will show.
    #[serde(default)]
    pub demo: Option<DemoSummary>,
    /// For an admin: the record and the pipelines.
    #[serde(default)]
    pub admin: Option<AdminSummary>,
}

/// Requests listed under "Waiting for you"; the rest are on Approvals.
pub const YOURS_LISTED: usize = 6;

/// Milestones listed under "Next".
pub const MILESTONES_LISTED: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_focus_asks_its_own_question() {
        let all = [
            Focus::Approvals,
            Focus::Health,
            Focus::Record,
            Focus::Prod,
            Focus::Demo,
            Focus::Team,
            Focus::Overview,
        ];
        let questions: std::collections::HashSet<_> = all.iter().map(|f| f.question()).collect();
        assert_eq!(questions.len(), all.len());
    }
}

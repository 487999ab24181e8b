//! The release calendar: the month, the agenda, the next releases, what each
//! environment allows now, and managers' changes.

use crate::domain::calendar::{Gate, MilestoneKind, ReleaseState};
use crate::domain::{Team, TeamId};
use crate::notice::Notice;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Something that happens on a day of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEvent {
    pub kind: MilestoneKind,
    pub release: String,
    /// The teams it applies to; empty when it is the same for every team.
    pub teams: Vec<String>,
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
    /// "18:00 GMT" in the org's zone; `None` for all-day milestones.
    pub time: Option<String>,
    /// The org zone's offset from UTC at that moment, in minutes.
    pub offset_minutes: i32,
    /// How many times it was moved, and why last.
    pub moves: u32,
    pub moved_because: Option<String>,
    /// The blackout it falls in.
    pub in_blackout: Option<String>,
}

/// One day of the month grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCell {
    pub date: NaiveDate,
    pub in_month: bool,
    pub today: bool,
    pub events: Vec<CalendarEvent>,
    pub blackouts: Vec<String>,
    /// Release takes hotfix branches only on this day.
    pub hotfix_window: bool,
}

/// A span of days shown in the agenda (blackouts, hotfix windows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySpan {
    pub name: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub detail: String,
}

/// One of the next releases, for managers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseSummary {
    pub number: u32,
    pub name: String,
    pub state: ReleaseState,
    /// Each milestone with its date words ("8 Feb", or "5–8 Feb" where
    /// teams differ), flagged when it falls in a blackout.
    pub milestones: Vec<(MilestoneKind, String, Option<String>)>,
    pub approvals_done: u32,
    pub approvals_pending: u32,
}

/// What one environment allows now, per team where teams differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentAllowance {
    pub environment_id: String,
    pub environment: String,
    /// `(team name or None for every team, gate, sentence)`.
    pub lines: Vec<(Option<String>, Gate, String)>,
}

/// A manager's change, as the calendar's history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarChange {
    pub at: DateTime<Utc>,
    pub actor_name: String,
    pub actor_roles: Vec<String>,
    /// What changed, before and after, in words.
    pub summary: String,
    pub reason: String,
}

/// One milestone of the current release, for the timeline at the top.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineStep {
    pub kind: MilestoneKind,
    /// "8 Feb", or "5–8 Feb" where teams differ.
    pub words: String,
    /// Weekday and time where the teams agree ("Fri 18:00 GMT").
    pub detail: Option<String>,
    /// It has happened for every team shown.
    pub passed: bool,
    /// The blackout it falls in.
    pub in_blackout: Option<String>,
}

/// The release the calendar is in today, as one row of milestones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentRelease {
    pub number: u32,
    pub name: String,
    pub state: ReleaseState,
    pub steps: Vec<TimelineStep>,
}

/// The milestone the Move form is for (`?move=<release>:<milestone>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveTarget {
    pub release: u32,
    pub release_name: String,
    pub kind: MilestoneKind,
    /// Where it is now: `(team name, or None for every team, words)`.
    pub now: Vec<(Option<String>, String)>,
    /// The date and time inputs' starting values (YYYY-MM-DD, HH:MM).
    pub date: String,
    pub time: String,
}

/// The release the Edit dates form is for (`?edit=<release>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditTarget {
    pub release: u32,
    pub release_name: String,
    /// The team whose dates it changes (the page's team); `None`: every team.
    pub team: Option<TeamId>,
    pub team_name: Option<String>,
    pub rows: Vec<EditRow>,
}

/// One milestone in the Edit dates form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditRow {
    pub kind: MilestoneKind,
    /// Where it is now, as in [`MoveTarget::now`].
    pub now: Vec<(Option<String>, String)>,
    /// The teams' dates differ (the fields start at the first team's).
    pub differs: bool,
    /// The fields' starting values (YYYY-MM-DD, HH:MM or empty).
    pub date: String,
    pub time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarView {
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    /// IANA name and current abbreviation of the org's zone.
    pub zone: String,
    pub zone_abbreviation: String,
    /// "2027-01" and its neighbours, for links.
    pub month: String,
    pub month_title: String,
    pub previous_month: String,
    pub next_month: String,
    pub this_month: String,
    pub teams: Vec<Team>,
    pub team: Option<TeamId>,
    pub weeks: Vec<Vec<DayCell>>,
    /// This month's events in order.
    pub agenda: Vec<CalendarEvent>,
    /// Blackouts and hotfix windows touching this month.
    pub spans: Vec<DaySpan>,
    pub next_releases: Vec<ReleaseSummary>,
    pub allowances: Vec<EnvironmentAllowance>,
    pub history: Vec<CalendarChange>,
    pub can_manage: bool,
    /// Environments a blackout may close: (id, name, closed by default).
    pub environments: Vec<(String, String, bool)>,
    pub notice: Option<Notice>,
    /// This cycle's milestones in one row.
    #[serde(default)]
    pub current: Option<CurrentRelease>,
    /// What the Move form moves (managers, `?move=`).
    #[serde(default)]
    pub moving: Option<MoveTarget>,
    /// What the Edit dates form edits (managers, `?edit=`).
    #[serde(default)]
    pub editing: Option<EditTarget>,
    /// The viewer's secret calendar-feed link (signed in only).
    #[serde(default)]
    pub feed_link: Option<FeedLink>,
}

/// A person's secret calendar-feed link: calendar apps cannot sign in, so
/// a feed URL carries a token that stands for its person. Gatehouse keeps
/// only the token's hash, so the link is shown once, when it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedLink {
    /// When the current link was made (e.g. "7 Dec 2026"); `None`: none yet.
    pub made: Option<String>,
    /// The token made just now, shown in this one view.
    pub fresh_token: Option<String>,
}

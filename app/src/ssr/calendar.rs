//! The release calendar service: the configured cycle with managers'
//! changes applied, the Calendar page, the changes themselves, and the
//! calendar's part in the approval policy.

use super::ports::{Actor, CalendarEdit, StoredCalendarEdit};
use super::{AppState, Caller};
use crate::domain::calendar::{
    Blackout, Calendar, Gate, Milestone, MilestoneKind, MilestoneMove, Release,
};
use crate::domain::{EnvironmentId, OrgModel, RoleKind, TeamId, User};
use crate::error::AppError;
use crate::notice::Notice;
use crate::views::calendar::{
    CalendarChange, CalendarEvent, CalendarView, CurrentRelease, DayCell, DaySpan, EditRow,
    EditTarget, EnvironmentAllowance, FeedLink, MoveTarget, ReleaseSummary, TimelineStep,
};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, Offset, Utc};
use chrono_tz::Tz;

/// The org's calendar in its zone.
pub type OrgCalendar = Calendar<Tz>;

/// How many releases the summary and the forms offer.
const UPCOMING: u32 = 6;

/// The org's calendar with every manager's change applied, and the changes.
pub async fn load(
    state: &AppState,
    org: &OrgModel,
) -> Result<(OrgCalendar, Vec<StoredCalendarEdit>), AppError> {
    let tz: Tz = org.calendar.time_zone.parse().map_err(|_| {
        let err = std::io::Error::other(format!(
            "the stored time zone {:?} is unknown",
            org.calendar.time_zone
        ));
        AppError::internal(&err)
    })?;
    let teams = org.teams.iter().map(|t| t.id.clone()).collect();
    let mut calendar = Calendar::new(org.calendar.clone(), tz, teams);
    let edits = state.calendar.edits().await?;
    for stored in &edits {
        match &stored.edit {
            CalendarEdit::Move { movement, .. } => calendar.moves.push(movement.clone()),
            CalendarEdit::Blackout(b) => calendar.blackouts.push(b.clone()),
        }
    }
    Ok((calendar, edits))
}

/// The team named in a URL, checked against the org.
pub fn selected_team(org: &OrgModel, raw: Option<&str>) -> Result<Option<TeamId>, AppError> {
    org.selected_team(raw).map_err(AppError::NotFound)
}

/// "18:00 GMT" in the org's zone.
pub fn time_words(calendar: &OrgCalendar, at: DateTime<Utc>) -> String {
    at.with_timezone(&calendar.tz)
        .format("%H:%M %Z")
        .to_string()
}

/// "8 Feb 2027 18:00 GMT": a moment in the org's zone, as the calendar
/// writes its milestones.
pub fn moment_words(calendar: &OrgCalendar, at: DateTime<Utc>) -> String {
    at.with_timezone(&calendar.tz)
        .format("%-d %b %Y %H:%M %Z")
        .to_string()
}

/// "8 Feb 2027" or "8 Feb 2027 18:00 GMT".
fn when_words(calendar: &OrgCalendar, date: NaiveDate, time: Option<NaiveTime>) -> String {
    match time {
        None => date.format("%-d %b %Y").to_string(),
        Some(_) => {
            let at = crate::domain::calendar::local_instant(&calendar.tz, date, time);
            format!("{} {}", date.format("%-d %b %Y"), time_words(calendar, at))
        }
    }
}

/// The events of one release for the shown teams: one per milestone where
/// the teams agree, one per group of teams where they differ.
pub fn release_events(
    org: &OrgModel,
    calendar: &OrgCalendar,
    release: &Release,
    shown: &[TeamId],
) -> Vec<CalendarEvent> {
    let mut out = Vec::new();
    for &kind in MilestoneKind::ALL {
        let mut groups: Vec<Vec<&Milestone>> = Vec::new();
        for m in shown.iter().filter_map(|t| release.milestone(kind, t)) {
            match groups.iter_mut().find(|g| g[0].at == m.at) {
                Some(g) => g.push(m),
                None => groups.push(vec![m]),
            }
        }
        let split = groups.len() > 1;
        for group in groups {
            let first = group[0];
            let teams = if split {
                group.iter().map(|m| org.team_name(&m.team)).collect()
            } else {
                Vec::new()
            };
            out.push(CalendarEvent {
                kind,
                release: release.name.clone(),
                teams,
                date: first.date,
                at: first.at,
                time: first.time.map(|_| time_words(calendar, first.at)),
                offset_minutes: first
                    .at
                    .with_timezone(&calendar.tz)
                    .offset()
                    .fix()
                    .local_minus_utc()
                    / 60,
                moves: group.iter().map(|m| m.sequence).max().unwrap_or(0),
                moved_because: group.iter().find_map(|m| m.moved_because.clone()),
                in_blackout: first.in_blackout.clone(),
            });
        }
    }
    out
}

/// The months the calendar shows: release arithmetic far outside them
/// would overflow, and nobody plans a release train there.
const FIRST_YEAR: i32 = 2000;
const LAST_YEAR: i32 = 2099;

fn first_of_month(raw: Option<&str>, today: NaiveDate) -> Result<NaiveDate, AppError> {
    let Some(m) = raw.filter(|m| !m.is_empty()) else {
        return Ok(today.with_day(1).unwrap_or(today));
    };
    let shown: String = m.chars().take(20).collect();
    let not_a_month = || {
        AppError::BadRequest(format!(
            "\u{201c}{shown}\u{201d} is not a month; write it as YYYY-MM, like 2027-01."
        ))
    };
    // Only YYYY-MM: chrono would take signed and six-digit years.
    let well_formed = m.len() == 7
        && m.as_bytes()[4] == b'-'
        && m.bytes()
            .enumerate()
            .all(|(i, b)| i == 4 || b.is_ascii_digit());
    if !well_formed {
        return Err(not_a_month());
    }
    let first =
        NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").map_err(|_| not_a_month())?;
    if !(FIRST_YEAR..=LAST_YEAR).contains(&first.year()) {
        return Err(AppError::BadRequest(format!(
            "Gatehouse shows months from {FIRST_YEAR}-01 to {LAST_YEAR}-12; {shown} is outside them."
        )));
    }
    Ok(first)
}

fn month_key(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// "8 Feb", "5–8 Feb" or "30 Jan – 2 Feb".
fn day_range_words(first: NaiveDate, last: NaiveDate) -> String {
    if first == last {
        first.format("%-d %b").to_string()
    } else if (first.year(), first.month()) == (last.year(), last.month()) {
        format!("{}\u{2013}{}", first.format("%-d"), last.format("%-d %b"))
    } else {
        format!(
            "{} \u{2013} {}",
            first.format("%-d %b"),
            last.format("%-d %b")
        )
    }
}

fn may_manage(user: Option<&User>) -> bool {
    user.is_some_and(|u| u.has(RoleKind::Manager) || u.has(RoleKind::Admin))
}

/// The hotfix windows of the shown teams around `releases`: (first, last,
/// team names).
fn hotfix_windows(
    org: &OrgModel,
    calendar: &OrgCalendar,
    releases: &[Release],
    shown: &[TeamId],
) -> Vec<(NaiveDate, NaiveDate, Vec<String>)> {
    let mut out: Vec<(NaiveDate, NaiveDate, Vec<String>)> = Vec::new();
    for pair in releases.windows(2) {
        for team in shown {
            if let Some((from, to)) = calendar.hotfix_window(&pair[0], &pair[1], team) {
                match out.iter_mut().find(|w| w.0 == from && w.1 == to) {
                    Some(w) => w.2.push(org.team_name(team)),
                    None => out.push((from, to, vec![org.team_name(team)])),
                }
            }
        }
    }
    out
}

fn summary(org: &OrgModel, calendar: &OrgCalendar, edit: &StoredCalendarEdit) -> String {
    match &edit.edit {
        CalendarEdit::Move { movement, before } => {
            let release = calendar.release(movement.release);
            let scope = match &movement.team {
                Some(t) => format!(" for {}", org.team_name(t)),
                None => " for every team".to_owned(),
            };
            let before = before.with_timezone(&calendar.tz);
            format!(
                "Moved {} of release {}{scope} from {} {} to {}.",
                movement.kind.label(),
                release.name,
                before.format("%-d %b %Y"),
                before.format("%H:%M %Z"),
                when_words(calendar, movement.date, movement.time),
            )
        }
        CalendarEdit::Blackout(b) => {
            let envs: Vec<String> = b
                .environments
                .iter()
                .map(|id| {
                    org.environments
                        .iter()
                        .find(|e| &e.id == id)
                        .map_or_else(|| id.to_string(), |e| e.name.to_string())
                })
                .collect();
            format!(
                "Added blackout \u{201c}{}\u{201d}, {} to {}, closing {}.",
                b.name,
                b.first_day.format("%-d %b %Y"),
                b.last_day.format("%-d %b %Y"),
                envs.join(", ")
            )
        }
    }
}

/// What each environment allows now, for the shown teams.
pub fn allowances(
    org: &OrgModel,
    calendar: &OrgCalendar,
    shown: &[TeamId],
    now: DateTime<Utc>,
) -> Vec<EnvironmentAllowance> {
    // Each team's view of the environments, overrides applied, in the same
    // order as the org's.
    let per_team_envs: Vec<(&TeamId, Vec<crate::domain::Environment>)> = shown
        .iter()
        .map(|team| (team, org.environments_for(team)))
        .collect();
    org.environments
        .iter()
        .enumerate()
        .map(|(i, env)| {
            let per_team: Vec<(String, _)> = per_team_envs
                .iter()
                .map(|(team, envs)| {
                    let for_team = envs.get(i).unwrap_or(env);
                    (org.team_name(team), calendar.allowance(for_team, team, now))
                })
                .collect();
            // Teams that get the same answer share one line.
            let mut groups: Vec<(Vec<String>, Gate, String)> = Vec::new();
            for (name, a) in per_team {
                match groups
                    .iter_mut()
                    .find(|g| g.1 == a.gate && g.2 == a.sentence)
                {
                    Some(g) => g.0.push(name),
                    None => groups.push((vec![name], a.gate, a.sentence)),
                }
            }
            let lines = if groups.len() == 1 {
                groups.into_iter().map(|(_, g, s)| (None, g, s)).collect()
            } else {
                groups
                    .into_iter()
                    .map(|(names, g, s)| (Some(names.join(", ")), g, s))
                    .collect()
            };
            EnvironmentAllowance {
                environment_id: env.id.to_string(),
                environment: env.name.to_string(),
                lines,
            }
        })
        .collect()
}

/// This cycle's milestones for the shown teams, in one row.
fn timeline(
    calendar: &OrgCalendar,
    release: &Release,
    shown: &[TeamId],
    team: Option<&TeamId>,
    now: DateTime<Utc>,
) -> CurrentRelease {
    let steps = MilestoneKind::ALL
        .iter()
        .filter(|&&kind| kind != MilestoneKind::DevelopmentStart)
        .filter_map(|&kind| {
            let ms: Vec<&Milestone> = shown
                .iter()
                .filter_map(|t| release.milestone(kind, t))
                .collect();
            let first = *ms.first()?;
            let lo = ms.iter().map(|m| m.date).min().unwrap_or(first.date);
            let hi = ms.iter().map(|m| m.date).max().unwrap_or(first.date);
            let agree = ms.iter().all(|m| m.at == first.at);
            let detail = agree.then(|| {
                let day = first.date.format("%a").to_string();
                match first.time {
                    Some(_) => format!("{day} {}", time_words(calendar, first.at)),
                    None => format!("{day}, all day"),
                }
            });
            Some(TimelineStep {
                kind,
                words: day_range_words(lo, hi),
                detail,
                passed: ms.iter().all(|m| m.at <= now),
                in_blackout: ms.iter().find_map(|m| m.in_blackout.clone()),
            })
        })
        .collect();
    CurrentRelease {
        number: release.number,
        name: release.name.clone(),
        state: match team {
            Some(t) => release.state_for(t, now),
            None => release.state(shown, now),
        },
        steps,
    }
}

/// A milestone's place for a team (`None`: every team), in words.
type WhereNow = (Option<String>, String);

/// Where milestone `kind` of release `number` is now for the teams shown:
/// one line when they agree, one per team when not; and the form's
/// starting date and time (the first team's).
fn milestone_now(
    org: &OrgModel,
    calendar: &OrgCalendar,
    release: &Release,
    kind: MilestoneKind,
    team: Option<&TeamId>,
) -> Option<(Vec<WhereNow>, String, String)> {
    let shown = org.teams_shown(team);
    let ms: Vec<&Milestone> = shown
        .iter()
        .filter_map(|t| release.milestone(kind, t))
        .collect();
    let first = *ms.first()?;
    let agree = ms.iter().all(|m| m.at == first.at);
    let now = if agree {
        let who = team.map(|t| org.team_name(t));
        vec![(who, when_words(calendar, first.date, first.time))]
    } else {
        ms.iter()
            .map(|m| {
                (
                    Some(org.team_name(&m.team)),
                    when_words(calendar, m.date, m.time),
                )
            })
            .collect()
    };
    let time = first
        .time
        .map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default();
    Some((now, first.date.to_string(), time))
}

/// The milestone `raw` (`<release>:<milestone>`, from a Move link) names,
/// with where it is now; `None` for anything else.
fn move_target(
    org: &OrgModel,
    calendar: &OrgCalendar,
    raw: &str,
    team: Option<&TeamId>,
    current: u32,
) -> Option<MoveTarget> {
    let (number, kind) = raw.split_once(':')?;
    let number: u32 = number.trim().parse().ok()?;
    // The releases the forms offer: this one and the next few.
    if !(current..current + UPCOMING).contains(&number) {
        return None;
    }
    let kind = MilestoneKind::parse(kind.trim()).ok()?;
    let release = calendar.release(number);
    let (now, date, time) = milestone_now(org, calendar, &release, kind, team)?;
    Some(MoveTarget {
        release: number,
        release_name: release.name.clone(),
        kind,
        now,
        date,
        time,
    })
}

/// The release `raw` (`?edit=<release>`, from an Edit dates link) names,
/// with each milestone's date for the teams shown; `None` for anything
/// else.
fn edit_target(
    org: &OrgModel,
    calendar: &OrgCalendar,
    raw: &str,
    team: Option<&TeamId>,
    current: u32,
) -> Option<EditTarget> {
    let number: u32 = raw.trim().parse().ok()?;
    if !(current..current + UPCOMING).contains(&number) {
        return None;
    }
    let release = calendar.release(number);
    let rows = MilestoneKind::ALL
        .iter()
        .filter_map(|&kind| {
            let (now, date, time) = milestone_now(org, calendar, &release, kind, team)?;
            Some(EditRow {
                kind,
                differs: now.len() > 1,
                now,
                date,
                time,
            })
        })
        .collect();
    Some(EditTarget {
        release: number,
        release_name: release.name.clone(),
        team: team.cloned(),
        team_name: team.map(|t| org.team_name(t)),
        rows,
    })
}

/// The Calendar page for `month` (YYYY-MM) and optionally one team;
/// `moving` names the milestone a manager chose to move, `editing` the
/// release whose dates they chose to edit.
pub async fn view(
    state: &AppState,
    caller: &Caller,
    notice: Option<Notice>,
    month: Option<&str>,
    team: Option<&str>,
    moving: Option<&str>,
    editing: Option<&str>,
) -> Result<CalendarView, AppError> {
    let user = caller.user().cloned();
    let org = state.org.load_org().await?;
    let team = selected_team(&org, team)?;
    let (calendar, edits) = load(state, &org).await?;
    let now = Utc::now();
    let today = calendar.local_date(now);
    let first = first_of_month(month, today)?;
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    let grid_first = first - Days::new(u64::from(first.weekday().num_days_from_monday()));
    let grid_last = last + Days::new(u64::from(6 - last.weekday().num_days_from_monday()));
    let shown = org.teams_shown(team.as_ref());

    let releases = calendar.releases_around(grid_first, grid_last);
    let mut events: Vec<CalendarEvent> = releases
        .iter()
        .flat_map(|r| release_events(&org, &calendar, r, &shown))
        .filter(|e| grid_first <= e.date && e.date <= grid_last)
        .collect();
    events.sort_by_key(|e| (e.at, e.kind.as_str()));
    let windows = hotfix_windows(&org, &calendar, &releases, &shown);

    let mut weeks = Vec::new();
    let mut day = grid_first;
    while day <= grid_last {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            week.push(DayCell {
                date: day,
                in_month: day.month() == first.month(),
                today: day == today,
                events: events.iter().filter(|e| e.date == day).cloned().collect(),
                blackouts: calendar
                    .blackouts
                    .iter()
                    .filter(|b| b.covers(day))
                    .map(|b| b.name.clone())
                    .collect(),
                hotfix_window: windows.iter().any(|w| w.0 <= day && day <= w.1),
            });
            day = day.succ_opt().unwrap_or(day);
        }
        weeks.push(week);
    }

    let agenda = events
        .iter()
        .filter(|e| first <= e.date && e.date <= last)
        .cloned()
        .collect();
    let mut spans: Vec<DaySpan> = calendar
        .blackouts
        .iter()
        .filter(|b| b.first_day <= last && first <= b.last_day)
        .map(|b| DaySpan {
            name: format!("Blackout: {}", b.name),
            first_day: b.first_day,
            last_day: b.last_day,
            detail: b.reason.clone(),
        })
        .collect();
    spans.extend(windows.iter().filter(|w| w.0 <= last && first <= w.1).map(
        |(from, to, teams)| DaySpan {
            name: "Hotfix window".into(),
            first_day: *from,
            last_day: *to,
            detail: if teams.len() == shown.len() && team.is_none() {
                "Release takes hotfix branches only.".into()
            } else {
                format!("Release takes hotfix branches only ({}).", teams.join(", "))
            },
        },
    ));
    spans.sort_by_key(|s| s.first_day);

    let current = calendar.release_number_on(today).unwrap_or(1);
    let upcoming: Vec<Release> = (current..current + UPCOMING)
        .map(|n| calendar.release(n))
        .collect();
    let times = match (upcoming.first(), upcoming.last()) {
        (Some(a), Some(b)) => {
            state
                .calendar
                .approval_times(a.starts, b.next_starts)
                .await?
        }
        _ => Vec::new(),
    };
    let next_releases = upcoming
        .iter()
        .map(|r| {
            let in_release = |t: &DateTime<Utc>| r.starts <= *t && *t < r.next_starts;
            let pending = times.iter().filter(|(t, p)| in_release(t) && *p).count();
            let done = times.iter().filter(|(t, p)| in_release(t) && !*p).count();
            let milestones = MilestoneKind::ALL
                .iter()
                .map(|&kind| {
                    let ms: Vec<&Milestone> =
                        shown.iter().filter_map(|t| r.milestone(kind, t)).collect();
                    let lo = ms.iter().map(|m| m.date).min().unwrap_or(today);
                    let hi = ms.iter().map(|m| m.date).max().unwrap_or(today);
                    let flag = ms.iter().find_map(|m| m.in_blackout.clone());
                    (kind, day_range_words(lo, hi), flag)
                })
                .collect();
            ReleaseSummary {
                number: r.number,
                name: r.name.clone(),
                state: match &team {
                    Some(t) => r.state_for(t, now),
                    None => r.state(&shown, now),
                },
                milestones,
                approvals_done: u32::try_from(done).unwrap_or(u32::MAX),
                approvals_pending: u32::try_from(pending).unwrap_or(u32::MAX),
            }
        })
        .collect();

    let history = edits
        .iter()
        .rev()
        .map(|e| CalendarChange {
            at: e.at,
            actor_name: e.actor_name.clone(),
            actor_roles: e.actor_roles.clone(),
            summary: summary(&org, &calendar, e),
            reason: e.reason.clone(),
        })
        .collect();
    let last_env = org.environments.last().map(|e| e.id.clone());
    let can_manage = may_manage(user.as_ref());
    let moving = moving
        .filter(|_| can_manage)
        .and_then(|raw| move_target(&org, &calendar, raw, team.as_ref(), current));
    let editing = editing
        .filter(|_| can_manage && moving.is_none())
        .and_then(|raw| edit_target(&org, &calendar, raw, team.as_ref(), current));
    let current_release = upcoming
        .first()
        .map(|r| timeline(&calendar, r, &shown, team.as_ref(), now));
    Ok(CalendarView {
        now,
        today,
        zone: calendar.config.time_zone.clone(),
        zone_abbreviation: now.with_timezone(&calendar.tz).format("%Z").to_string(),
        month: month_key(first),
        month_title: first.format("%B %Y").to_string(),
        previous_month: month_key(first.checked_sub_months(Months::new(1)).unwrap_or(first)),
        next_month: month_key(first.checked_add_months(Months::new(1)).unwrap_or(first)),
        this_month: month_key(today),
        teams: org.teams.clone(),
        team,
        weeks,
        agenda,
        spans,
        next_releases,
        allowances: allowances(&org, &calendar, &shown, now),
        history,
        can_manage,
        current: current_release,
        moving,
        editing,
        feed_link: match &user {
            Some(u) => Some(FeedLink {
                made: state.users.feed_link_made(&u.id).await?.map(|t| {
                    t.with_timezone(&calendar.tz)
                        .format("%-d %b %Y")
                        .to_string()
                }),
                fresh_token: fresh_feed_token(notice.as_ref()),
            }),
            None => None,
        },
        environments: org
            .environments
            .iter()
            .map(|e| {
                (
                    e.id.to_string(),
                    e.name.to_string(),
                    Some(&e.id) == last_env.as_ref(),
                )
            })
            .collect(),
        notice,
    })
}

/// The signed-in manager, as written to the calendar's history.
fn manager(caller: &Caller) -> Result<Actor, AppError> {
    let user = caller.required()?.clone();
    if !may_manage(Some(&user)) {
        return Err(AppError::Forbidden(
            "Only managers may change the release calendar.".into(),
        ));
    }
    Ok(Actor::from(&user))
}

fn reason_given(reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::Invalid(
            "Say why: the reason is kept in the calendar's history.".into(),
        ));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::Invalid(
            "Keep the reason under 500 characters.".into(),
        ));
    }
    Ok(reason.to_owned())
}

fn date_input(what: &str, raw: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::Invalid(format!(
            "The {what} \u{201c}{raw}\u{201d} is not a date; write it as YYYY-MM-DD."
        ))
    })
}

/// A manager's move of a milestone, as the form gave it.
#[derive(Debug, Clone, Copy)]
pub struct MoveRequest<'a> {
    /// The release's number.
    pub release: &'a str,
    /// The milestone's kind, e.g. `code_freeze`.
    pub milestone: &'a str,
    /// A team's id, or empty for every team.
    pub team: &'a str,
    /// YYYY-MM-DD.
    pub date: &'a str,
    /// HH:MM, or empty for an all-day milestone.
    pub time: &'a str,
    pub reason: &'a str,
}

/// Moves a milestone of a release for one team or all, keeping each
/// team's milestones in order.
pub async fn move_milestone(
    state: &AppState,
    caller: &Caller,
    input: MoveRequest<'_>,
) -> Result<String, AppError> {
    let MoveRequest {
        release,
        milestone,
        team,
        date,
        time,
        reason,
    } = input;
    let actor = manager(caller)?;
    let reason = reason_given(reason)?;
    let org = state.org.load_org().await?;
    let number = release_number(release)?;
    let kind = MilestoneKind::parse(milestone.trim())
        .map_err(|e| AppError::Invalid(format!("Unknown milestone: {e}.")))?;
    let team = selected_team(&org, Some(team.trim()))?;
    let date = date_input("date", date)?;
    let time = time_input("time", time)?;
    let (mut calendar, _) = load(state, &org).await?;
    let affected = org.teams_shown(team.as_ref());
    let before_release = calendar.release(number);
    let before = affected
        .first()
        .and_then(|t| before_release.milestone(kind, t))
        .map(|m| m.at)
        .ok_or_else(|| AppError::NotFound("That milestone is not in the calendar.".into()))?;
    let movement = MilestoneMove {
        release: number,
        kind,
        team: team.clone(),
        date,
        time,
        reason: reason.clone(),
    };
    calendar.moves.push(movement.clone());
    let after = calendar.release(number);
    in_order(&org, &calendar, &after, &affected, &[kind])?;
    state
        .calendar
        .record_edits(&actor, &reason, &[CalendarEdit::Move { movement, before }])
        .await?;
    let scope = match &team {
        Some(t) => format!(" for {}", org.team_name(t)),
        None => String::new(),
    };
    Ok(format!(
        "{} of release {}{scope} moved to {}.",
        kind.label(),
        after.name,
        when_words(&calendar, date, time)
    ))
}

/// A release number from a form.
fn release_number(raw: &str) -> Result<u32, AppError> {
    raw.trim()
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| AppError::Invalid(format!("There is no release \u{201c}{raw}\u{201d}.")))
}

/// A time of day from a form (HH:MM); empty is all day.
fn time_input(what: &str, raw: &str) -> Result<Option<NaiveTime>, AppError> {
    match raw.trim() {
        "" => Ok(None),
        t => NaiveTime::parse_from_str(t, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
            .map(Some)
            .map_err(|_| {
                AppError::Invalid(format!(
                    "The {what} \u{201c}{t}\u{201d} is not a time; write it as HH:MM, or leave it empty for all day."
                ))
            }),
    }
}

/// Refuses a change that would put a team's milestones out of order,
/// naming the moved milestone (one of `moved`) and the one it would pass.
fn in_order(
    org: &OrgModel,
    calendar: &OrgCalendar,
    after: &Release,
    teams: &[TeamId],
    moved: &[MilestoneKind],
) -> Result<(), AppError> {
    for t in teams {
        let track: Vec<&Milestone> = MilestoneKind::ALL
            .iter()
            .filter_map(|&k| after.milestone(k, t))
            .collect();
        for pair in track.windows(2) {
            if pair[1].at < pair[0].at {
                let (subject, other, relation) = if moved.contains(&pair[0].kind) {
                    (pair[0], pair[1], "after")
                } else {
                    (pair[1], pair[0], "before")
                };
                return Err(AppError::Invalid(format!(
                    "{} would fall {relation} {} ({}) for {}; move that first.",
                    subject.kind.label(),
                    other.kind.label(),
                    when_words(calendar, other.date, other.time),
                    org.team_name(t),
                )));
            }
        }
    }
    Ok(())
}

/// A manager's new dates for a release, as the Edit dates form gave them:
/// each milestone's kind with its date and time, in the same order.
#[derive(Debug, Clone, Copy)]
pub struct EditRequest<'a> {
    pub release: &'a str,
    /// A team's id, or empty for every team.
    pub team: &'a str,
    pub milestones: &'a [String],
    /// YYYY-MM-DD each.
    pub dates: &'a [String],
    /// HH:MM each, or empty for all day.
    pub times: &'a [String],
    pub reason: &'a str,
}

/// Moves every milestone of a release whose date or time the form changed,
/// for one team or all, in one change with one reason: all of them or, if
/// any is refused, none. A milestone left as the form showed it (the first
/// team's date where teams differ) is not touched.
pub async fn edit_release_dates(
    state: &AppState,
    caller: &Caller,
    input: EditRequest<'_>,
) -> Result<String, AppError> {
    let actor = manager(caller)?;
    let reason = reason_given(input.reason)?;
    let n = input.milestones.len();
    if n == 0 || n > MilestoneKind::ALL.len() || input.dates.len() != n || input.times.len() != n {
        return Err(AppError::Invalid(
            "The form sends each milestone with its date and time; reload the page and try again."
                .into(),
        ));
    }
    let org = state.org.load_org().await?;
    let number = release_number(input.release)?;
    let team = selected_team(&org, Some(input.team.trim()))?;
    let (mut calendar, _) = load(state, &org).await?;
    let affected = org.teams_shown(team.as_ref());
    let before_release = calendar.release(number);
    let mut edits = Vec::new();
    let mut moved: Vec<MilestoneKind> = Vec::new();
    let mut said = Vec::new();
    let mut seen: Vec<MilestoneKind> = Vec::new();
    for ((kind, date), time) in input.milestones.iter().zip(input.dates).zip(input.times) {
        let kind = MilestoneKind::parse(kind.trim())
            .map_err(|e| AppError::Invalid(format!("Unknown milestone: {e}.")))?;
        if seen.contains(&kind) {
            return Err(AppError::Invalid(format!(
                "{} is in the form twice; reload the page and try again.",
                kind.label()
            )));
        }
        seen.push(kind);
        let label = kind.label();
        let date = date_input(&format!("date of {label}"), date)?;
        let time = time_input(&format!("time of {label}"), time)?;
        let was = affected
            .first()
            .and_then(|t| before_release.milestone(kind, t))
            .ok_or_else(|| AppError::NotFound("That milestone is not in the calendar.".into()))?;
        if was.date == date && was.time == time {
            continue;
        }
        let movement = MilestoneMove {
            release: number,
            kind,
            team: team.clone(),
            date,
            time,
            reason: reason.clone(),
        };
        calendar.moves.push(movement.clone());
        said.push(format!("{label} to {}", when_words(&calendar, date, time)));
        moved.push(kind);
        edits.push(CalendarEdit::Move {
            movement,
            before: was.at,
        });
    }
    if edits.is_empty() {
        return Err(AppError::Invalid(
            "Nothing changed: every date is as it was. Change a date, or close the form.".into(),
        ));
    }
    let after = calendar.release(number);
    in_order(&org, &calendar, &after, &affected, &moved)?;
    state.calendar.record_edits(&actor, &reason, &edits).await?;
    let scope = match &team {
        Some(t) => format!(" for {}", org.team_name(t)),
        None => String::new(),
    };
    Ok(format!(
        "Release {}{scope}: moved {}.",
        after.name,
        said.join("; ")
    ))
}

/// Adds a blackout closing `environments` (default: the last environment).
pub async fn add_blackout(
    state: &AppState,
    caller: &Caller,
    name: &str,
    first_day: &str,
    last_day: &str,
    environments: &[String],
    reason: &str,
) -> Result<String, AppError> {
    let actor = manager(caller)?;
    let reason = reason_given(reason)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::Invalid(
            "Give the blackout a name of up to 80 characters, like \u{201c}Year-end holidays\u{201d}."
                .into(),
        ));
    }
    let first = date_input("first day", first_day)?;
    let last = date_input("last day", last_day)?;
    if last < first {
        return Err(AppError::Invalid(
            "The last day comes before the first day.".into(),
        ));
    }
    if (last - first).num_days() > 90 {
        return Err(AppError::Invalid(
            "A blackout may last at most 90 days.".into(),
        ));
    }
    let org = state.org.load_org().await?;
    let mut ids: Vec<EnvironmentId> = Vec::new();
    for raw in environments
        .iter()
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
    {
        let env = org
            .environments
            .iter()
            .find(|e| e.id.as_str() == raw)
            .ok_or_else(|| {
                AppError::Invalid(format!("There is no environment \u{201c}{raw}\u{201d}."))
            })?;
        if !ids.contains(&env.id) {
            ids.push(env.id.clone());
        }
    }
    if ids.is_empty() {
        ids.extend(org.environments.last().map(|e| e.id.clone()));
    }
    let names: Vec<String> = ids
        .iter()
        .filter_map(|id| org.environments.iter().find(|e| &e.id == id))
        .map(|e| e.name.to_string())
        .collect();
    let blackout = Blackout {
        id: String::new(),
        name: name.to_owned(),
        first_day: first,
        last_day: last,
        reason: reason.clone(),
        environments: ids,
    };
    state
        .calendar
        .record_edits(&actor, &reason, &[CalendarEdit::Blackout(blackout)])
        .await?;
    Ok(format!(
        "Blackout \u{201c}{name}\u{201d} added: {} to {}, closing {}.",
        first.format("%-d %b %Y"),
        last.format("%-d %b %Y"),
        names.join(", ")
    ))
}

/// Gives the signed-in person a new secret feed link.
pub async fn rotate_feed_token(state: &AppState, caller: &Caller) -> Result<String, AppError> {
    let user = caller.required()?.clone();
    // Pages kept in this process show the old link until this is dropped.
    let _wrote = state.changes.writing(super::changes::Topic::People);
    let replaced = state.users.feed_link_made(&user.id).await?.is_some();
    let token = state.users.rotate_feed_token(&user.id).await?;
    Ok(format!(
        "Your new calendar link is /calendar.ics?token={token} (or /calendar/<team>.ics?token={token} for one team). Copy it now: Gatehouse keeps only a fingerprint of it and shows it this once.{}",
        if replaced {
            " Subscriptions using your old link stop updating."
        } else {
            ""
        }
    ))
}

/// The token a feed-link notice just showed (see [`rotate_feed_token`]).
fn fresh_feed_token(notice: Option<&Notice>) -> Option<String> {
    let notice = notice.filter(|n| !n.error && n.answers("feed"))?;
    let (_, after) = notice.text.split_once("?token=")?;
    let token: String = after
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .take(128)
        .collect();
    (token.len() >= 32).then_some(token)
}

/// Outages back to here are read: the start of the day of the earlier of
/// the cycle's start and thirty days ago, so every view of a day shares one
/// snapshot (the uptime sums clip outages to their windows).
pub fn snapshot_since(cycle_start: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let from = cycle_start.min(now - chrono::Duration::days(30));
    from.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(from, |midnight| midnight.and_utc())
}

/// When the release cycle holding `now` started; sixty days back when the
/// calendar has none.
pub fn cycle_start_of(calendar: &OrgCalendar, now: DateTime<Utc>) -> DateTime<Utc> {
    calendar
        .release_number_on(calendar.local_date(now))
        .map(|n| calendar.release(n).starts)
        .unwrap_or(now - chrono::Duration::days(60))
}

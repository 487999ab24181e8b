//! Calendar feeds (`/calendar.ics`, `/calendar/<team>.ics`) that Google
//! Calendar and Outlook subscribe to: every milestone of the recent and next
//! releases and every blackout, with stable UIDs and a SEQUENCE that grows
//! each time a milestone moves. The text is written by the icalendar crate
//! (escaping, line folding).

use crate::http::query::Query;
use app::domain::calendar::MilestoneKind;
use app::domain::{OrgModel, TeamId};
use app::error::AppError;
use app::ssr::calendar::{load, selected_team, OrgCalendar};
use app::ssr::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Days, Duration, Utc};
use icalendar::{Calendar, Component, Event, EventLike};
use serde::Deserialize;

/// Releases before the current one kept in a feed.
const PAST_RELEASES: u32 = 2;
/// Releases after the current one.
const NEXT_RELEASES: u32 = 6;

#[derive(Deserialize)]
pub struct FeedQuery {
    team: Option<String>,
    /// The subscriber's secret feed token (see the Calendar page).
    token: Option<String>,
}

/// `/calendar.ics`, optionally `?team=<id>`; `&token=` in real mode.
pub async fn org_feed(
    State(state): State<AppState>,
    Query(q): Query<FeedQuery>,
    session: tower_sessions::Session,
) -> Response {
    if let Some(refused) = refuse_without_token(&state, q.token.as_deref(), &session).await {
        return refused;
    }
    feed(&state, q.team.as_deref()).await
}

/// `/calendar/<team>.ics`; `?token=` in real mode.
pub async fn team_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<FeedQuery>,
    session: tower_sessions::Session,
) -> Response {
    if let Some(refused) = refuse_without_token(&state, q.token.as_deref(), &session).await {
        return refused;
    }
    match file.strip_suffix(".ics") {
        Some(team) if !team.is_empty() => feed(&state, Some(team)).await,
        _ => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

/// In real mode a feed is read with a person's secret token (calendar apps
/// cannot sign in) or from a signed-in browser; anything else is refused.
async fn refuse_without_token(
    state: &AppState,
    token: Option<&str>,
    session: &tower_sessions::Session,
) -> Option<Response> {
    if state.mode != app::ssr::Mode::Real {
        return None;
    }
    let by_token = match token {
        Some(token) => state.users.feed_user(token).await.map(|u| u.is_some()),
        None => Ok(false),
    };
    let allowed = match by_token {
        Ok(true) => Ok(true),
        Ok(false) => app::ssr::session::user_of(state, session)
            .await
            .map(|u| u.is_some()),
        Err(err) => Err(AppError::from(err)),
    };
    match allowed {
        Ok(true) => None,
        Ok(false) => Some(
            (
                StatusCode::UNAUTHORIZED,
                "This calendar feed needs its secret link: make one on the Calendar page while signed in to Gatehouse (it is shown once, when it is made). A link that was replaced no longer works.",
            )
                .into_response(),
        ),
        Err(err) => Some(
            (
                StatusCode::from_u16(err.status().as_u16())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                err.to_string(),
            )
                .into_response(),
        ),
    }
}

async fn feed(state: &AppState, team: Option<&str>) -> Response {
    let result = async {
        let org = state.org.load_org().await?;
        let team = selected_team(&org, team)?;
        let (calendar, _) = load(state, &org).await?;
        Ok::<_, AppError>(render(&org, &calendar, team.as_ref()))
    }
    .await;
    match result {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "max-age=300"),
            ],
            text,
        )
            .into_response(),
        Err(err) => (
            StatusCode::from_u16(err.status().as_u16())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            err.to_string(),
        )
            .into_response(),
    }
}

/// A DNS-like label for UIDs: "acme-retail".
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The feed's text for the org, or for one team's track.
pub fn render(org: &OrgModel, calendar: &OrgCalendar, team: Option<&TeamId>) -> String {
    let domain = format!("{}.gatehouse", slug(org.name.as_str()));
    let shown = org.teams_shown(team);
    let team_name = |id: &TeamId| org.team_name(id);
    let mut feed = Calendar::new();
    feed.name(&match team {
        Some(t) => format!("{} releases \u{b7} {}", org.name, team_name(t)),
        None => format!("{} releases", org.name),
    });
    let now = Utc::now();
    let current = calendar
        .release_number_on(calendar.local_date(now))
        .unwrap_or(1);
    let first = current.saturating_sub(PAST_RELEASES).max(1);
    for number in first..=current + NEXT_RELEASES {
        let release = calendar.release(number);
        for &kind in MilestoneKind::ALL {
            let milestones: Vec<_> = shown
                .iter()
                .filter_map(|t| release.milestone(kind, t))
                .collect();
            // Every UID lives as long as its milestone. A single team's feed
            // has that team's events. The org's feed has one org-wide event
            // per milestone, always, at the date most teams share, and one
            // exception per team whose date differs: moving one team's
            // milestone adds that team's exception and never deletes or
            // renames the org-wide event. Its SEQUENCE is the sum of the
            // teams' sequences, so it rises with every move of any team.
            let org_wide = team.is_none() && !milestones.is_empty();
            let common = org_wide
                .then(|| {
                    let mut dates: Vec<_> = milestones.iter().map(|m| m.at).collect();
                    dates.sort();
                    // The date most teams share; the earliest of equals.
                    dates
                        .iter()
                        .max_by_key(|d| {
                            (
                                dates.iter().filter(|x| x == d).count(),
                                std::cmp::Reverse(**d),
                            )
                        })
                        .copied()
                })
                .flatten();
            let mut groups: Vec<(String, Vec<_>, String, u32)> = Vec::new();
            if let Some(at) = common {
                let together: Vec<_> = milestones.iter().filter(|m| m.at == at).cloned().collect();
                let who = if together.len() == milestones.len() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        together
                            .iter()
                            .map(|m| team_name(&m.team))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let sequence = milestones.iter().map(|m| m.sequence).sum();
                groups.push((
                    format!("release-{number}-{kind}@{domain}"),
                    together,
                    who,
                    sequence,
                ));
            }
            for m in milestones.iter().filter(|m| Some(m.at) != common) {
                groups.push((
                    format!("release-{number}-{kind}-{}@{domain}", m.team),
                    vec![*m],
                    format!(" ({})", team_name(&m.team)),
                    m.sequence,
                ));
            }
            for (uid, group, who, sequence) in groups {
                let Some(m) = group.first() else { continue };
                let mut event = Event::new();
                event
                    .uid(&uid)
                    .summary(&format!(
                        "{} \u{b7} release {}{who}",
                        kind.label(),
                        release.name
                    ))
                    .sequence(sequence)
                    .timestamp(now);
                if m.time.is_some() {
                    event.starts(m.at).ends(m.at + Duration::minutes(30));
                } else {
                    event
                        .starts(m.date)
                        .ends(m.date.checked_add_days(Days::new(1)).unwrap_or(m.date));
                }
                let mut notes = Vec::new();
                if let Some(reason) = group.iter().find_map(|m| m.moved_because.as_deref()) {
                    notes.push(format!("Moved: {reason}"));
                }
                if let Some(blackout) = &m.in_blackout {
                    notes.push(format!("Falls in the blackout \u{201c}{blackout}\u{201d}."));
                }
                if !notes.is_empty() {
                    event.description(&notes.join("\n"));
                }
                feed.push(event.done());
            }
        }
    }
    for b in &calendar.blackouts {
        let mut event = Event::new();
        event
            .uid(&format!("blackout-{}@{domain}", b.id))
            .summary(&format!("Blackout: {}", b.name))
            .description(&b.reason)
            .starts(b.first_day)
            .ends(
                b.last_day
                    .checked_add_days(Days::new(1))
                    .unwrap_or(b.last_day),
            )
            .timestamp(now);
        feed.push(event.done());
    }
    feed.done().to_string()
}

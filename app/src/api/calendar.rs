//! Server functions for calendar; what they return is in
//! [`crate::views::calendar`].

use crate::error::AppError;
use crate::views::calendar::*;
use leptos::prelude::*;

/// The calendar for a month (`YYYY-MM`, default: this month) and
/// optionally one team.
#[server(endpoint = "calendar")]
pub async fn calendar(
    month: Option<String>,
    team: Option<String>,
    #[server(default)] moving: Option<String>,
    #[server(default)] editing: Option<String>,
) -> Result<CalendarView, AppError> {
    AppError::respond(
        async {
            let (state, caller) = crate::ssr::session::asking().await?;
            let notice = crate::ssr::session::take_notice().await?;
            let (month, team) = (month.as_deref(), team.as_deref());
            let (moving, editing) = (moving.as_deref(), editing.as_deref());
            crate::ssr::calendar::view(&state, &caller, notice, month, team, moving, editing).await
        }
        .await,
    )
}

/// Moves one milestone of one release, for one team or all (`team` empty).
/// `time` empty makes it an all-day milestone. Managers only.
#[server(endpoint = "calendar/move")]
pub async fn move_milestone(
    release: String,
    milestone: String,
    #[server(default)] team: String,
    date: String,
    #[server(default)] time: String,
    #[server(default)] reason: String,
) -> Result<String, AppError> {
    let result = async {
        let (state, caller) = crate::ssr::session::asking().await?;
        let input = crate::ssr::calendar::MoveRequest {
            release: &release,
            milestone: &milestone,
            team: &team,
            date: &date,
            time: &time,
            reason: &reason,
        };
        crate::ssr::calendar::move_milestone(&state, &caller, input).await
    }
    .await;
    let kept = vec![
        ("team".to_owned(), team),
        ("date".to_owned(), date),
        ("time".to_owned(), time),
        ("reason".to_owned(), reason),
    ];
    crate::ssr::forms::answer_dialog_form(result, "/calendar", Some("move"), kept, DIALOG).await
}

/// The address parameters that open the calendar's dialogs.
#[cfg(feature = "ssr")]
const DIALOG: &[&str] = &["move", "edit"];

/// Moves the milestones of one release whose dates changed, for one team or
/// all (`team` empty), in one change: `milestones[]`, `dates[]` and
/// `times[]` go together, one of each per milestone. Managers only.
#[server(endpoint = "calendar/edit")]
pub async fn edit_release_dates(
    release: String,
    #[server(default)] team: String,
    #[server(default)] milestones: Vec<String>,
    #[server(default)] dates: Vec<String>,
    #[server(default)] times: Vec<String>,
    #[server(default)] reason: String,
) -> Result<String, AppError> {
    let result = async {
        let (state, caller) = crate::ssr::session::asking().await?;
        let input = crate::ssr::calendar::EditRequest {
            release: &release,
            team: &team,
            milestones: &milestones,
            dates: &dates,
            times: &times,
            reason: &reason,
        };
        crate::ssr::calendar::edit_release_dates(&state, &caller, input).await
    }
    .await;
    // A refused form comes back with what was typed, by milestone.
    let mut kept = vec![("reason".to_owned(), reason)];
    for ((kind, date), time) in milestones.iter().zip(&dates).zip(&times).take(6) {
        kept.push((format!("date:{kind}"), date.clone()));
        kept.push((format!("time:{kind}"), time.clone()));
    }
    crate::ssr::forms::answer_dialog_form(result, "/calendar", Some("edit"), kept, DIALOG).await
}

/// Adds a blackout (inclusive days) closing the given environments.
/// Managers only.
#[server(endpoint = "calendar/blackout")]
pub async fn add_blackout(
    name: String,
    first_day: String,
    last_day: String,
    #[server(default)] environments: Vec<String>,
    #[server(default)] reason: String,
) -> Result<String, AppError> {
    let result = async {
        let (state, caller) = crate::ssr::session::asking().await?;
        crate::ssr::calendar::add_blackout(
            &state,
            &caller,
            &name,
            &first_day,
            &last_day,
            &environments,
            &reason,
        )
        .await
    }
    .await;
    let mut kept = vec![
        ("name".to_owned(), name),
        ("first_day".to_owned(), first_day),
        ("last_day".to_owned(), last_day),
        ("reason".to_owned(), reason),
    ];
    kept.extend(
        environments
            .into_iter()
            .take(8)
            .map(|e| ("environments".to_owned(), e)),
    );
    crate::ssr::forms::answer_form_at(result, "/calendar", Some("blackout"), kept).await
}

/// Makes the viewer a new secret calendar-feed link, answered (and shown)
/// this once; subscriptions using an older one stop updating. Any
/// signed-in person.
#[server(endpoint = "calendar/feed-token")]
pub async fn rotate_feed_token() -> Result<String, AppError> {
    let result = async {
        let (state, caller) = crate::ssr::session::asking().await?;
        crate::ssr::calendar::rotate_feed_token(&state, &caller).await
    }
    .await;
    crate::ssr::forms::answer_form_at(result, "/calendar", Some("feed"), Vec::new()).await
}

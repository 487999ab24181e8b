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
) -> Result<CalendarView, AppError> {
    AppError::respond(
        async {
            let (state, caller) = crate::ssr::session::asking().await?;
            let notice = crate::ssr::session::take_notice().await?;
            let (month, team, moving) = (month.as_deref(), team.as_deref(), moving.as_deref());
            crate::ssr::calendar::view(&state, &caller, notice, month, team, moving).await
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
    crate::ssr::forms::answer_form_at(result, "/calendar", Some("move"), kept).await
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

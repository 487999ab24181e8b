//! The Notifications page's service: what a viewer may see of the
//! deliveries, and their mutes.

use super::AppState;
use crate::domain::notification::NotificationEvent;
use crate::domain::RoleKind;
use crate::error::AppError;
use crate::views::notifications::{DeliveryRow, EventChoice, NotificationsView, LISTED};

/// The page for the signed-in viewer: everyone sees the channels, the
/// deliveries' titles and states, and their own mutes; admins also see
/// each delivery's address and why it failed.
pub async fn view(
    state: &AppState,
    caller: &super::Caller,
    failed_only: bool,
) -> Result<NotificationsView, AppError> {
    let user = caller.user().cloned();
    // Demo mode is readable without signing in; real mode is not.
    if user.is_none() && state.mode != super::Mode::Demo {
        return Err(AppError::Unauthenticated);
    }
    let admin = user.as_ref().is_some_and(|u| u.has(RoleKind::Admin));
    let muted = match &user {
        Some(u) => state.notifications.mutes(&u.person).await?,
        None => Vec::new(),
    };
    let counts = state.notifications.delivery_counts().await?;
    let deliveries = state
        .notifications
        .recent_deliveries(LISTED, failed_only)
        .await?
        .into_iter()
        .map(|d| DeliveryRow {
            id: d.id,
            event: d.event.label().to_owned(),
            channel: d.channel,
            recipient: (!d.recipient.is_empty()).then(|| {
                if admin {
                    d.recipient
                } else {
                    masked(&d.recipient)
                }
            }),
            title: d.title,
            link: d.link,
            next_attempt_at: (d.state == "pending").then_some(d.next_attempt_at),
            state: d.state,
            attempts: d.attempts,
            // Never a URL (a webhook's URL is its secret), even in an
            // error recorded before errors were written without them.
            last_error: if admin {
                d.last_error
                    .map(|e| crate::domain::notification::without_urls(&e))
            } else {
                None
            },
            created_at: d.created_at,
            sent_at: d.sent_at,
        })
        .collect();
    Ok(NotificationsView {
        channels: state.notification_channels.as_ref().clone(),
        events: NotificationEvent::ALL
            .iter()
            .map(|e| EventChoice {
                keyword: e.as_str().to_owned(),
                label: e.label().to_owned(),
                muted: muted.contains(e),
            })
            .collect(),
        deliveries,
        pending: counts.pending,
        sent: counts.sent,
        failed: counts.failed,
        recorded: counts.recorded,
        failed_only,
        admin,
        signed_in: user.is_some(),
        demo: state.mode == super::Mode::Demo,
        notice: None,
    })
}

/// An address as others see it: its first character and its domain
/// (`p…@acme.example`), enough to tell two deliveries apart.
fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}\u{2026}@{domain}")
        }
        None => "\u{2026}".to_owned(),
    }
}

/// Replaces the viewer's mutes: e-mails addressed to them by role skip
/// these events (channels addressed to a list or a webhook are not theirs
/// to mute).
pub async fn set_mutes(
    state: &AppState,
    caller: &super::Caller,
    muted: &[String],
) -> Result<String, AppError> {
    let user = caller.required()?.clone();
    if muted.len() > NotificationEvent::ALL.len() {
        return Err(AppError::Invalid(format!(
            "At most {} events can be muted.",
            NotificationEvent::ALL.len()
        )));
    }
    let mut events = Vec::new();
    for keyword in muted {
        let event = NotificationEvent::parse(keyword).map_err(|_| {
            let shown: String = keyword.chars().take(40).collect();
            AppError::Invalid(format!(
                "\u{201c}{shown}\u{201d} is not a notification event."
            ))
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    let _wrote = state.changes.writing(super::changes::Topic::People);
    state.notifications.set_mutes(&user.person, &events).await?;
    Ok(match events.len() {
        0 => "Nothing is muted: you get every notification addressed to you.".to_owned(),
        1 => "Muted 1 event: your e-mails skip it.".to_owned(),
        n => format!("Muted {n} events: your e-mails skip them."),
    })
}

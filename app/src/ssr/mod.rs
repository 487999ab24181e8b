//! Server-only parts of the app: ports to the outside world, the services
//! that use them, and the state handed to every request.

pub mod approvals;
pub mod audit;
pub mod board;
pub mod calendar;
pub mod changes;
pub mod delivery;
pub mod forms;
pub mod home;
pub mod inventory;
pub mod notifications;
pub mod ports;
pub mod prod_plan;
pub mod release_demo;
pub mod services;
pub mod session;
pub mod tokens;

pub use changes::{passing_failure_shown, PASSING_FAILURE_HEADER};

use crate::error::AppError;
use leptos::prelude::LeptosOptions;
use ports::{
    ApprovalStore, AuditStore, BoardStore, CalendarStore, GitHub, Identity, InventoryStore,
    NotificationStore, OrgStore, Pipelines, StoreError, UserStore,
};
use std::sync::Arc;

/// Whether Gatehouse runs against simulators and seeded data, or for real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Demo,
    Real,
}

/// Everything a request may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub mode: Mode,
    pub org: Arc<dyn OrgStore>,
    pub users: Arc<dyn UserStore>,
    pub approvals: Arc<dyn ApprovalStore>,
    pub audit: Arc<dyn AuditStore>,
    pub pipelines: Arc<dyn Pipelines>,
    pub calendar: Arc<dyn CalendarStore>,
    pub board: Arc<dyn BoardStore>,
    pub notifications: Arc<dyn NotificationStore>,
    pub inventory: Arc<dyn InventoryStore>,
    /// The notification channels configured, for the Notifications page.
    pub notification_channels: Arc<Vec<crate::domain::notification::ChannelSummary>>,
    /// What changed, for the per-process caches; services mark what they
    /// write.
    pub changes: Arc<changes::Generations>,
    /// Server-rendered HTML shown alike to every viewer, by change stamp.
    pub rendered: Arc<changes::Rendered>,
    pub identity: Arc<dyn Identity>,
    pub github: Arc<dyn GitHub>,
    /// Refuse Prod approvals of revisions with unmerged hotfixes.
    pub refuse_unmerged_hotfix: bool,
    /// GitHub's web address (`https://github.com`, or GitHub Enterprise's),
    /// for links to repositories, commits and pull requests.
    pub github_web: String,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Who asks: the person the server function or handler found signed in on
/// the request (its session), or nobody. Services take it as an argument
/// and never read the request themselves, so any way in (a page, a form,
/// a handler) reaches the same rules with the same caller.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    user: Option<crate::domain::User>,
}

impl Caller {
    /// Someone signed in as `user`.
    pub fn signed_in(user: crate::domain::User) -> Caller {
        Caller { user: Some(user) }
    }

    /// Nobody signed in.
    pub fn anonymous() -> Caller {
        Caller { user: None }
    }

    /// The person, if signed in.
    pub fn user(&self) -> Option<&crate::domain::User> {
        self.user.as_ref()
    }

    /// The person, or the refusal that asks them to sign in.
    pub fn required(&self) -> Result<&crate::domain::User, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthenticated)
    }
}

/// The state provided to server functions and SSR by the server's router.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        let err = std::io::Error::other("AppState is not in the reactive context");
        AppError::internal(&err)
    })
}

/// HTML every viewer is shown alike: as rendered since the last change of
/// `topics` in this minute, or rendered now (see [`changes::Rendered`]).
pub async fn kept_html<F>(
    topics: &[changes::Topic],
    key: &str,
    render: F,
) -> Result<String, AppError>
where
    F: std::future::Future<Output = Result<(String, bool), AppError>>,
{
    let state = app_state()?;
    state
        .rendered
        .get_or_render(&state.changes, topics, key, render)
        .await
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(ref why) if why == ports::POOL_CLOSED => {
                tracing::debug!(error = %err, "store closed: stopping");
                AppError::Unavailable
            }
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %err, "store unavailable");
                AppError::Unavailable
            }
            other => AppError::internal(&other),
        }
    }
}

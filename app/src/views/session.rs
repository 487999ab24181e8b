//! Who is signed in, and how one may sign in.

pub use crate::domain::SignInProvider;
use crate::domain::User;
use serde::{Deserialize, Serialize};

/// What every page needs to know about the viewer and the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// True when Gatehouse runs against its simulators with seeded data.
    pub demo: bool,
    pub user: Option<User>,
    /// The navigation's counts and links (counts only for someone who may
    /// read the board).
    #[serde(default)]
    pub nav: crate::views::home::NavCounts,
}

/// What the sign-in page offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInChoices {
    pub demo: bool,
    pub providers: Vec<SignInProvider>,
    pub user: Option<User>,
    /// Why the last sign-in failed, when it did.
    pub notice: Option<crate::notice::Notice>,
}

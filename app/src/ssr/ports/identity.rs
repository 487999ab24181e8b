//! Identity providers: who someone is and what roles they hold now.

use async_trait::async_trait;

/// Why the identity provider could not say what roles someone holds now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The token from sign-in no longer works: the person must sign in again.
    #[error("the sign-in is no longer valid: {0}")]
    Revoked(String),
    /// The provider could not be reached or answered oddly; try later.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
}

pub use crate::domain::SignInProvider;

/// The identity providers people sign in with, and how often their roles
/// are read again.
#[async_trait]
pub trait Identity: Send + Sync {
    /// The providers configured, in the order the sign-in page lists them.
    fn providers(&self) -> Vec<SignInProvider>;
    /// How long roles read from the provider are trusted.
    fn refresh_interval(&self) -> std::time::Duration;
    /// How long a sign-in lasts, however active the session is.
    fn session_max_age(&self) -> std::time::Duration;
    /// Encrypts a provider token for keeping in a session row.
    fn seal(&self, token: &str) -> String;
    /// Decrypts what [`Identity::seal`] made; `None` when it was sealed with
    /// another key or altered.
    fn open(&self, sealed: &str) -> Option<String>;
    /// The roles the identity `subject` holds at `provider` now, read with
    /// the token from its sign-in; revoked when the token now names another
    /// subject.
    async fn current_roles(
        &self,
        provider: &str,
        subject: &str,
        token: &str,
    ) -> Result<Vec<crate::domain::Role>, IdentityError>;
}

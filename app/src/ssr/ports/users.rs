//! People, their identities and roles.

use super::StoreError;
use crate::domain::token::{ApiToken, ProviderLink, Scope, TokenHolder};
use crate::domain::{Persona, User};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// An identity as a provider described it at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// `github` or `oidc`.
    pub provider: String,
    /// The OIDC issuer; empty for GitHub.
    pub issuer: String,
    /// GitHub's account id or the OIDC `sub`: what the identity is keyed on.
    pub subject: String,
    /// The username, shown only.
    pub login: String,
    pub display_name: String,
    pub roles: Vec<crate::domain::Role>,
    /// The person it belongs to (see [`User::person`]).
    pub person: String,
    pub github_id: Option<u64>,
    pub emails: Vec<String>,
}

/// People and their roles.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The demo personas, in the order the picker shows them.
    async fn personas(&self) -> Result<Vec<Persona>, StoreError>;
    /// The user behind a demo persona.
    async fn persona_user(&self, login: &str) -> Result<Option<User>, StoreError>;
    /// Creates or updates the identity signed in at a provider (`github`
    /// or `oidc`), found by its immutable subject, with what was read at
    /// sign-in.
    async fn upsert_external(&self, identity: &ExternalIdentity) -> Result<User, StoreError>;
    /// Replaces a user's roles (after a refresh from the provider).
    async fn set_roles(&self, id: &str, roles: &[crate::domain::Role]) -> Result<(), StoreError>;
    /// When the user's calendar-feed token was made (`None`: they have
    /// none). The token itself is not kept, only its hash.
    async fn feed_link_made(
        &self,
        user_id: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError>;
    /// Makes the user a new calendar-feed token, answered this once;
    /// a previous one stops working.
    async fn rotate_feed_token(&self, user_id: &str) -> Result<String, StoreError>;
    /// The user a calendar-feed token stands for.
    async fn feed_user(&self, token: &str) -> Result<Option<User>, StoreError>;
    /// Makes a personal access token for a person: kept as its hash,
    /// answered with its secret this once. `None` when the person already
    /// keeps [`TOKENS_PER_PERSON`] live tokens (counted under a lock on
    /// the person, so two at once cannot pass it).
    ///
    /// [`TOKENS_PER_PERSON`]: crate::domain::token::TOKENS_PER_PERSON
    async fn create_token(
        &self,
        user_id: &str,
        name: &str,
        scopes: &[Scope],
        expires_at: DateTime<Utc>,
        link: Option<&ProviderLink>,
    ) -> Result<Option<(ApiToken, String)>, StoreError>;
    /// A person's tokens, live ones first, then newest first, revoked and
    /// expired ones too (at most [`TOKENS_LISTED`]).
    ///
    /// [`TOKENS_LISTED`]: crate::domain::token::TOKENS_LISTED
    async fn tokens(&self, user_id: &str) -> Result<Vec<ApiToken>, StoreError>;
    /// One token, by id.
    async fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError>;
    /// Revokes a live token at once, noting who did; `None` when there is
    /// no such live token.
    async fn revoke_token(&self, id: &str, by_user: &str) -> Result<Option<ApiToken>, StoreError>;
    /// The person and live token a secret stands for, noting its use.
    async fn token_user(&self, secret: &str) -> Result<Option<TokenHolder>, StoreError>;
    /// Notes that a token's person's roles were read from the provider now.
    async fn token_roles_checked(&self, id: &str) -> Result<(), StoreError>;
    /// Revokes every live token of a person (their provider sign-in was
    /// revoked); how many.
    async fn revoke_tokens_of(&self, user_id: &str) -> Result<u64, StoreError>;
}

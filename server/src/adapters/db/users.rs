//! Users and demo personas in Postgres.

use super::{store_error, stored, stored_all, PgStore};
use crate::simulators::demo::PersonaSeed;
use app::domain::token::{
    ApiToken, ProviderLink, Scope, TokenHolder, SECRET_CHARS, TOKENS_LISTED, TOKENS_PER_PERSON,
    TOKEN_PREFIX,
};
use app::domain::{DisplayName, Persona, Role, User};
use app::ssr::ports::{ExternalIdentity, StoreError, UserStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// Creates or refreshes the demo personas, keeping their user ids stable.
pub async fn upsert_personas(pool: &PgPool, personas: &[PersonaSeed]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Replicas starting together take turns.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock($1)",
        super::org::ORG_SYNC_LOCK
    )
    .execute(&mut *tx)
    .await?;
    for (position, p) in (0_i32..).zip(personas) {
        let roles: Vec<String> = p.roles.iter().map(ToString::to_string).collect();
        // A persona is a GitHub account of the demo's simulated GitHub: its
        // commits carry that account's id and no-reply e-mail.
        let github_id = i64::try_from(crate::simulators::github::account_id(&p.login)).ok();
        let emails = vec![crate::simulators::github::noreply_email(&p.login)];
        sqlx::query!(
            r#"INSERT INTO users (id, login, display_name, roles, provider, persona_title, persona_position,
                   issuer, subject, person, github_id, emails)
               VALUES ($1, $2, $3, $4, 'demo', $5, $6, '', $2, 'demo:' || $2, $7, $8)
               ON CONFLICT ON CONSTRAINT users_identity_key DO UPDATE SET display_name = EXCLUDED.display_name,
                   roles = EXCLUDED.roles, persona_title = EXCLUDED.persona_title,
                   persona_position = EXCLUDED.persona_position, github_id = EXCLUDED.github_id,
                   emails = EXCLUDED.emails"#,
            Uuid::new_v4(),
            p.login,
            p.display_name,
            &roles,
            p.title,
            position,
            github_id,
            &emails,
        )
        .execute(&mut *tx)
        .await?;
    }
    // Demo accounts no longer in the list go; one that voted stays, since
    // its votes name it, retired: no roles, not offered as a persona.
    let logins: Vec<String> = personas.iter().map(|p| p.login.to_owned()).collect();
    sqlx::query!(
        "DELETE FROM users u WHERE provider = 'demo' AND NOT (login = ANY($1))
           AND NOT EXISTS (SELECT 1 FROM approval_votes v WHERE v.user_id = u.id)",
        &logins
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE users SET roles = '{}', persona_title = NULL, persona_position = NULL
          WHERE provider = 'demo' AND NOT (login = ANY($1))",
        &logins
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// One users row as read.
#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    login: String,
    display_name: String,
    roles: Vec<String>,
    person: String,
    github_id: Option<i64>,
    emails: Vec<String>,
}

fn user(r: Row) -> Result<User, StoreError> {
    Ok(User {
        id: r.id.to_string(),
        login: r.login,
        display_name: stored("display name", DisplayName::parse(&r.display_name))?,
        roles: stored_all("role", &r.roles, Role::parse)?,
        person: r.person,
        github_id: r.github_id.and_then(|id| u64::try_from(id).ok()),
        emails: r.emails,
    })
}

#[async_trait]
impl UserStore for PgStore {
    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let row = sqlx::query_as!(
            Row,
            "SELECT id, login, display_name, roles, person, github_id, emails FROM users WHERE id = $1",
            id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(user).transpose()
    }

    async fn personas(&self) -> Result<Vec<Persona>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT login, display_name, roles, persona_title AS "title!"
               FROM users WHERE provider = 'demo' AND persona_title IS NOT NULL
               ORDER BY persona_position"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|r| {
                let role = r.roles.first().ok_or_else(|| {
                    StoreError::Corrupt(format!("persona {} has no role", r.login))
                })?;
                Ok(Persona {
                    display_name: stored("display name", DisplayName::parse(&r.display_name))?,
                    role: stored("role", Role::parse(role))?,
                    title: r.title,
                    login: r.login,
                })
            })
            .collect()
    }

    async fn persona_user(&self, login: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query_as!(
            Row,
            r#"SELECT id, login, display_name, roles, person, github_id, emails
               FROM users WHERE provider = 'demo' AND issuer = '' AND subject = $1"#,
            login
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(user).transpose()
    }

    async fn upsert_external(&self, who: &ExternalIdentity) -> Result<User, StoreError> {
        let roles: Vec<String> = who.roles.iter().map(ToString::to_string).collect();
        // A name the app cannot show (empty, too long) falls back to the login.
        let name = DisplayName::parse(&who.display_name)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| who.login.chars().take(100).collect());
        let login: String = who.login.chars().take(100).collect();
        let emails: Vec<String> = who
            .emails
            .iter()
            .take(20)
            .map(|e| e.chars().take(254).collect())
            .collect();
        // Keyed on the immutable subject: a second account with the same
        // username is another row, and a renamed account keeps its row.
        let row = sqlx::query_as!(
            Row,
            r#"INSERT INTO users (id, login, display_name, roles, provider, issuer, subject, person, github_id, emails)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT ON CONSTRAINT users_identity_key DO UPDATE SET login = EXCLUDED.login,
                   display_name = EXCLUDED.display_name, roles = EXCLUDED.roles, person = EXCLUDED.person,
                   github_id = EXCLUDED.github_id, emails = EXCLUDED.emails
               RETURNING id, login, display_name, roles, person, github_id, emails"#,
            Uuid::new_v4(),
            login,
            name,
            &roles,
            who.provider,
            who.issuer,
            who.subject,
            who.person,
            who.github_id.and_then(|id| i64::try_from(id).ok()),
            &emails,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        user(row)
    }

    async fn set_roles(&self, id: &str, roles: &[Role]) -> Result<(), StoreError> {
        let id = Uuid::parse_str(id).map_err(|e| StoreError::Corrupt(format!("user id: {e}")))?;
        let roles: Vec<String> = roles.iter().map(ToString::to_string).collect();
        sqlx::query!("UPDATE users SET roles = $2 WHERE id = $1", id, &roles)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn feed_link_made(&self, user_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let id =
            Uuid::parse_str(user_id).map_err(|e| StoreError::Corrupt(format!("user id: {e}")))?;
        sqlx::query_scalar("SELECT created_at FROM feed_tokens WHERE user_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)
    }

    async fn rotate_feed_token(&self, user_id: &str) -> Result<String, StoreError> {
        let id =
            Uuid::parse_str(user_id).map_err(|e| StoreError::Corrupt(format!("user id: {e}")))?;
        // Only the token's hash is kept: the token is answered this once.
        let token = new_feed_token();
        sqlx::query(
            "INSERT INTO feed_tokens (user_id, token_hash) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()",
        )
        .bind(id)
        .bind(feed_token_hash(&token))
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(token)
    }

    async fn feed_user(&self, token: &str) -> Result<Option<User>, StoreError> {
        if !(32..=128).contains(&token.len()) {
            return Ok(None);
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT u.id, u.login, u.display_name, u.roles, u.person, u.github_id, u.emails
               FROM feed_tokens f JOIN users u ON u.id = f.user_id WHERE f.token_hash = $1",
        )
        .bind(feed_token_hash(token))
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(user).transpose()
    }

    async fn create_token(
        &self,
        user_id: &str,
        name: &str,
        scopes: &[Scope],
        expires_at: DateTime<Utc>,
        link: Option<&ProviderLink>,
    ) -> Result<Option<(ApiToken, String)>, StoreError> {
        self.create_api_token(user_id, name, scopes, expires_at, link)
            .await
    }

    async fn tokens(&self, user_id: &str) -> Result<Vec<ApiToken>, StoreError> {
        self.api_tokens(user_id).await
    }

    async fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        self.api_token(id).await
    }

    async fn revoke_token(&self, id: &str, by_user: &str) -> Result<Option<ApiToken>, StoreError> {
        self.revoke_api_token(id, by_user).await
    }

    async fn token_user(&self, secret: &str) -> Result<Option<TokenHolder>, StoreError> {
        self.api_token_user(secret).await
    }

    async fn token_roles_checked(&self, id: &str) -> Result<(), StoreError> {
        self.api_token_roles_checked(id).await
    }

    async fn revoke_tokens_of(&self, user_id: &str) -> Result<u64, StoreError> {
        self.revoke_api_tokens_of(user_id).await
    }
}

/// One api_tokens row as read.
#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    shown: String,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

const TOKEN_COLUMNS: &str =
    "id, user_id, name, shown, scopes, created_at, expires_at, last_used_at, revoked_at";

fn api_token(r: TokenRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: r.id.to_string(),
        user_id: r.user_id.to_string(),
        name: r.name,
        shown: r.shown,
        scopes: stored_all("token scope", &r.scopes, Scope::parse)?,
        created_at: r.created_at,
        expires_at: r.expires_at,
        last_used_at: r.last_used_at,
        revoked_at: r.revoked_at,
    })
}

/// A fresh token: the prefix and 40 letters and digits drawn from v4
/// UUIDs' random bytes (bytes past the last whole multiple of 62 are
/// skipped, so each character is equally likely).
fn new_api_token() -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut secret = String::with_capacity(TOKEN_PREFIX.len() + SECRET_CHARS);
    secret.push_str(TOKEN_PREFIX);
    while secret.len() < TOKEN_PREFIX.len() + SECRET_CHARS {
        // A v4 UUID's bytes 6 and 8 carry its version and variant bits.
        let bytes = *Uuid::new_v4().as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if i == 6 || i == 8 || *b >= 248 {
                continue;
            }
            if secret.len() < TOKEN_PREFIX.len() + SECRET_CHARS {
                secret.push(char::from(ALPHABET[usize::from(*b % 62)]));
            }
        }
    }
    secret
}

impl PgStore {
    pub(crate) async fn create_api_token(
        &self,
        user_id: &str,
        name: &str,
        scopes: &[Scope],
        expires_at: DateTime<Utc>,
        link: Option<&ProviderLink>,
    ) -> Result<Option<(ApiToken, String)>, StoreError> {
        let id =
            Uuid::parse_str(user_id).map_err(|e| StoreError::Corrupt(format!("user id: {e}")))?;
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // One person's tokens are counted and made one at a time.
        sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let live: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM api_tokens
              WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        if usize::try_from(live).unwrap_or(usize::MAX) >= TOKENS_PER_PERSON {
            return Ok(None);
        }
        let secret = new_api_token();
        let shown: String = secret
            .chars()
            .take(app::domain::token::SHOWN_CHARS)
            .collect();
        let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        let row: TokenRow = sqlx::query_as(&format!(
            "INSERT INTO api_tokens
                    (user_id, name, token_hash, shown, scopes, expires_at, provider, subject, sealed_token)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(id)
        .bind(name)
        .bind(feed_token_hash(&secret))
        .bind(&shown)
        .bind(&scopes)
        .bind(expires_at)
        .bind(link.map(|l| l.provider.as_str()))
        .bind(link.map(|l| l.subject.as_str()))
        .bind(link.map(|l| l.sealed.as_str()))
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(Some((api_token(row)?, secret)))
    }

    pub(crate) async fn api_tokens(&self, user_id: &str) -> Result<Vec<ApiToken>, StoreError> {
        let Ok(id) = Uuid::parse_str(user_id) else {
            return Ok(Vec::new());
        };
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1
              ORDER BY (revoked_at IS NULL AND expires_at > now()) DESC, created_at DESC, id
              LIMIT $2"
        ))
        .bind(id)
        .bind(i64::try_from(TOKENS_LISTED).unwrap_or(100))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(api_token).collect()
    }

    pub(crate) async fn api_token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(api_token).transpose()
    }

    pub(crate) async fn revoke_api_token(
        &self,
        id: &str,
        by_user: &str,
    ) -> Result<Option<ApiToken>, StoreError> {
        let (Ok(id), Ok(by)) = (Uuid::parse_str(id), Uuid::parse_str(by_user)) else {
            return Ok(None);
        };
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "UPDATE api_tokens SET revoked_at = now(), revoked_by = $2
              WHERE id = $1 AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(id)
        .bind(by)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(api_token).transpose()
    }

    pub(crate) async fn api_token_user(
        &self,
        secret: &str,
    ) -> Result<Option<TokenHolder>, StoreError> {
        if !app::domain::token::well_formed(secret) {
            return Ok(None);
        }
        // Found by its hash, live only, in one statement; its last use is
        // noted at most once a minute, so a busy script does not write a
        // row per request.
        let row: Option<HolderRow> = sqlx::query_as(
            "WITH found AS (
                 SELECT * FROM api_tokens
                  WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()),
             used AS (
                 UPDATE api_tokens t SET last_used_at = now() FROM found
                  WHERE t.id = found.id
                    AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute'))
             SELECT f.id, f.user_id, f.name, f.shown, f.scopes, f.created_at, f.expires_at,
                    f.last_used_at, f.revoked_at, f.provider, f.subject, f.sealed_token,
                    f.roles_checked_at
               FROM found f",
        )
        .bind(feed_token_hash(secret))
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let link = match (row.provider, row.subject, row.sealed_token) {
            (Some(provider), Some(subject), Some(sealed)) => Some(ProviderLink {
                provider,
                subject,
                sealed,
            }),
            _ => None,
        };
        let roles_checked_at = row.roles_checked_at;
        let token = api_token(TokenRow {
            id: row.id,
            user_id: row.user_id,
            name: row.name,
            shown: row.shown,
            scopes: row.scopes,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })?;
        let Some(user) = self.user(&token.user_id).await? else {
            return Ok(None);
        };
        Ok(Some(TokenHolder {
            user,
            token,
            link,
            roles_checked_at,
        }))
    }

    pub(crate) async fn api_token_roles_checked(&self, id: &str) -> Result<(), StoreError> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(());
        };
        sqlx::query("UPDATE api_tokens SET roles_checked_at = now() WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    pub(crate) async fn revoke_api_tokens_of(&self, user_id: &str) -> Result<u64, StoreError> {
        let Ok(id) = Uuid::parse_str(user_id) else {
            return Ok(0);
        };
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = now()
              WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected())
    }
}

/// A token as found by its secret, with its sign-in.
#[derive(sqlx::FromRow)]
struct HolderRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    shown: String,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    provider: Option<String>,
    subject: Option<String>,
    sealed_token: Option<String>,
    roles_checked_at: DateTime<Utc>,
}

/// What is kept of a feed token: its SHA-256, as lowercase hex.
fn feed_token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh feed token: 244 random bits (two v4 UUIDs) as hex.
fn new_feed_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

//! Users and demo personas in Postgres.

use super::{store_error, stored, stored_all, PgStore};
use crate::demo::PersonaSeed;
use app::domain::{DisplayName, Persona, Role, User};
use app::ssr::ports::{StoreError, UserStore};
use async_trait::async_trait;
use sqlx::PgPool;
use uuid::Uuid;

/// Creates or refreshes the demo personas, keeping their user ids stable.
pub async fn upsert_personas(pool: &PgPool, personas: &[PersonaSeed]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (position, p) in (0_i32..).zip(personas) {
        let roles: Vec<String> = p.roles.iter().map(ToString::to_string).collect();
        sqlx::query!(
            r#"INSERT INTO users (id, login, display_name, roles, provider, persona_title, persona_position)
               VALUES ($1, $2, $3, $4, 'demo', $5, $6)
               ON CONFLICT (provider, login) DO UPDATE SET display_name = EXCLUDED.display_name,
                   roles = EXCLUDED.roles, persona_title = EXCLUDED.persona_title,
                   persona_position = EXCLUDED.persona_position"#,
            Uuid::new_v4(),
            p.login,
            p.display_name,
            &roles,
            p.title,
            position,
        )
        .execute(&mut *tx)
        .await?;
    }
    let logins: Vec<String> = personas.iter().map(|p| p.login.to_owned()).collect();
    sqlx::query!(
        "DELETE FROM users WHERE provider = 'demo' AND NOT (login = ANY($1))",
        &logins
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

fn user(id: Uuid, login: String, display_name: &str, roles: &[String]) -> Result<User, StoreError> {
    Ok(User {
        id: id.to_string(),
        login,
        display_name: stored("display name", DisplayName::parse(display_name))?,
        roles: stored_all("role", roles, Role::parse)?,
    })
}

#[async_trait]
impl UserStore for PgStore {
    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let row = sqlx::query!(
            "SELECT id, login, display_name, roles FROM users WHERE id = $1",
            id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|r| user(r.id, r.login, &r.display_name, &r.roles))
            .transpose()
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
        let row = sqlx::query!(
            "SELECT id, login, display_name, roles FROM users WHERE provider = 'demo' AND login = $1",
            login
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|r| user(r.id, r.login, &r.display_name, &r.roles))
            .transpose()
    }

    async fn upsert_external(
        &self,
        provider: &str,
        login: &str,
        display_name: &str,
        roles: &[Role],
    ) -> Result<User, StoreError> {
        let roles: Vec<String> = roles.iter().map(ToString::to_string).collect();
        // A name the app cannot show (empty, too long) falls back to the login.
        let name = DisplayName::parse(display_name)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| login.to_owned());
        let row = sqlx::query!(
            r#"INSERT INTO users (id, login, display_name, roles, provider)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (provider, login) DO UPDATE SET display_name = EXCLUDED.display_name,
                   roles = EXCLUDED.roles
               RETURNING id, login, display_name, roles"#,
            Uuid::new_v4(),
            login,
            name,
            &roles,
            provider,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        user(row.id, row.login, &row.display_name, &row.roles)
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
}

//! Server functions for audit; what they return is in
//! [`crate::views::audit`].

// The server function takes each filter as its own form field (so plain
// links and forms work), and its generated client repeats them.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::views::audit::*;
use leptos::prelude::*;

/// One page of the audit log. Managers, SRE, QA and admins see every row;
/// a developer their own teams' rows; stakeholders none.
#[server(endpoint = "audit")]
pub async fn audit(
    #[server(default)] person: Option<String>,
    #[server(default)] team: Option<String>,
    #[server(default)] environment: Option<String>,
    #[server(default)] service: Option<String>,
    #[server(default)] kind: Option<String>,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
    #[server(default)] before: Option<String>,
) -> Result<AuditView, AppError> {
    AppError::respond(
        async {
            let (state, caller) = crate::ssr::session::asking().await?;
            let query = crate::ssr::audit::parse_query(
                person,
                team,
                environment,
                service,
                kind,
                from,
                to,
                before,
            )?;
            crate::ssr::audit::view(&state, &caller, query).await
        }
        .await,
    )
}

//! The audit log: who did what, when, under which rule, and what AWS
//! answered.

use serde::{Deserialize, Serialize};

use crate::domain::audit::{AuditEntry, AuditQuery, AuditVerification, Person};

/// Rows per page.
pub const PAGE_ROWS: usize = 50;

/// The address of `query` with `extra` pairs added.
pub fn href(query: &AuditQuery, path: &str, extra: &[(&'static str, String)]) -> String {
    let pairs: Vec<String> = query
        .filters()
        .into_iter()
        .chain(extra.iter().cloned())
        .map(|(k, v)| format!("{k}={}", crate::encode::query_value(&v)))
        .collect();
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

/// Everything the Audit page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub query: AuditQuery,
    pub rows: Vec<AuditEntry>,
    /// The cursor of the next (older) page, when there is one.
    pub next: Option<i64>,
    pub people: Vec<Person>,
    pub teams: Vec<(String, String)>,
    pub environments: Vec<(String, String)>,
    pub services: Vec<String>,
    /// Each service's name by id: rows lead with the name, not the
    /// pipeline's id.
    #[serde(default)]
    pub service_names: Vec<(String, String)>,
    /// Shown to admins only.
    pub verification: Option<AuditVerification>,
    pub is_admin: bool,
    /// Set when a developer sees only their teams' rows.
    pub limited_to: Option<Vec<String>>,
}

//! The audit log's records: what a row says, what a search of the log asks
//! for, and the last walk of its hash chain.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Every kind of row, with the words the page uses for it.
pub const KINDS: &[(&str, &str)] = &[
    ("requested", "Approval requested"),
    ("vote", "Vote"),
    ("decision", "Decision"),
    ("closed", "Request closed"),
    ("author_unknown", "Author unknown"),
    ("aws_delivered", "Delivered to CodePipeline"),
    ("aws_reconciled", "Reconciled with CodePipeline"),
    ("aws_failed", "Refused by CodePipeline"),
    ("aws_error", "CodePipeline call failed"),
    ("rerun", "New run started"),
    ("override", "Prod plan overridden"),
    ("calendar_move", "Milestone moved"),
    ("calendar_blackout", "Blackout added"),
    ("sign_in", "Signed in"),
    ("sign_out", "Signed out"),
    ("sign_in_refused", "Sign-in refused"),
    ("roles_changed", "Roles changed"),
    ("ticket_opened", "Critical ticket opened"),
    ("ticket_closed", "Critical ticket closed"),
    ("ticket_adopted", "Critical ticket adopted"),
    ("pipeline_problem", "Pipeline configuration problem"),
    ("org_config", "Org configuration changed"),
    ("token_created", "Access token created"),
    ("token_revoked", "Access token revoked"),
];

/// Kinds the Audit page leaves out unless asked (`kind=all` or the kind
/// itself): routine sign-ins and sign-outs would fill its first screen.
/// Refused sign-ins stay in view. Exports always hold every row.
pub const ROUTINE: &[&str] = &["sign_in", "sign_out"];

/// The `kind` filter's value for every row, routine ones included.
pub const ALL_KINDS: &str = "all";

/// The words for a kind of row (the kind itself when unknown).
pub fn kind_words(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, w)| w)
}

/// What the page asks for: the filters, all from the address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// A user's id (never a name).
    pub person: Option<String>,
    pub team: Option<String>,
    pub environment: Option<String>,
    pub service: Option<String>,
    pub kind: Option<String>,
    /// First day shown, inclusive (UTC).
    pub from: Option<NaiveDate>,
    /// Last day shown, inclusive (UTC).
    pub to: Option<NaiveDate>,
    /// Keyset cursor: rows with a lower sequence number than this.
    pub before: Option<i64>,
    /// Set by the server, never by the address: the teams a developer may
    /// see (`None`: every row).
    #[serde(skip)]
    pub only_teams: Option<Vec<String>>,
    /// Rows to read; set by the server.
    #[serde(skip)]
    pub limit: usize,
    /// Leave out [`ROUTINE`] rows (the page's view without a kind chosen);
    /// set by the server.
    #[serde(skip)]
    pub hide_routine: bool,
}

impl AuditQuery {
    /// The filters as an address query (`?person=…&kind=…`), without the
    /// cursor; empty when nothing is filtered.
    pub fn filters(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut put = |k: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                out.push((k, v.clone()));
            }
        };
        put("person", &self.person);
        put("team", &self.team);
        put("environment", &self.environment);
        put("service", &self.service);
        put("kind", &self.kind);
        put("from", &self.from.map(|d| d.to_string()));
        put("to", &self.to.map(|d| d.to_string()));
        out
    }
}

/// One row of the log as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor_id: Option<String>,
    /// `None`: the system.
    pub actor_name: Option<String>,
    pub actor_roles: Vec<String>,
    pub team: Option<String>,
    pub environment: Option<String>,
    pub service: Option<String>,
    pub pipeline: Option<String>,
    pub request_id: Option<String>,
    pub subject: Option<String>,
    pub summary: String,
    /// Name and value of each detail, values cut to a bounded length.
    pub details: Vec<(String, String)>,
    pub hash: String,
    pub prev_hash: String,
}

impl AuditEntry {
    /// Where what the row concerns lives in Gatehouse or on GitHub: the
    /// approval, the GitHub issue, the board cell, the calendar's month.
    pub fn links(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(request) = &self.request_id {
            out.push((
                format!("/approvals?request={request}#request-{request}"),
                "approval".into(),
            ));
        }
        let subject = self.subject.as_deref();
        let issue = self.kind.starts_with("ticket_");
        if let Some(url) = subject.filter(|s| issue || s.starts_with("https://")) {
            out.push((url.to_owned(), "GitHub issue".into()));
        }
        if let (Some(service), Some(environment)) = (&self.service, &self.environment) {
            out.push((
                format!("/board/{service}/{environment}"),
                "board cell".into(),
            ));
        }
        if let Some(day) = subject.and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()) {
            out.push((
                format!("/calendar?month={}", day.format("%Y-%m")),
                "calendar".into(),
            ));
        }
        out
    }

    /// The first of [`Self::links`].
    pub fn link(&self) -> Option<(String, String)> {
        self.links().into_iter().next()
    }
}

/// The last walk of the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub at: DateTime<Utc>,
    pub checked_to: i64,
    pub rows: i64,
    pub ok: bool,
    pub first_bad: Option<i64>,
    pub problem: Option<String>,
    /// Why the check could not run at all (nothing was checked), if so.
    pub could_not_run: Option<String>,
}

/// Someone the person filter offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
}

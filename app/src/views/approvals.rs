//! The approval queue.

use crate::domain::request::{ApprovalRequest, PipelineProblem};
use crate::notice::Notice;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A request with what the viewer may do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub item: ApprovalRequest,
    pub required: u8,
    pub test_types: Vec<crate::domain::TestType>,
    /// Why the viewer cannot vote, or `None` when they can.
    pub blocked: Option<String>,
    /// Why the viewer, who may vote, may only reject for now (the revision
    /// contains a hotfix not merged back), or `None`.
    #[serde(default)]
    pub approve_blocked: Option<String>,
    /// Who wrote the commit cannot be established: the request needs one
    /// more approver than its rule.
    #[serde(default)]
    pub author_unknown: bool,
    /// Hotfix branches of the service not yet merged back, for a Prod
    /// approval, in words.
    #[serde(default)]
    pub hotfix_warnings: Vec<String>,
    /// For a Prod approval: the changed services it calls whose change has
    /// not reached Prod yet (the Prod plan), by name.
    #[serde(default)]
    pub plan_blocked_on: Vec<String>,
    /// Approving it needs an override with a reason (blocked, and the plan
    /// is not strict).
    #[serde(default)]
    pub needs_override: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalsView {
    /// The server's clock, so relative times read the same after hydration.
    pub now: DateTime<Utc>,
    pub pending: Vec<QueueItem>,
    /// One page of decided requests, newest first.
    pub history: Vec<ApprovalRequest>,
    /// Where the next (older) page of the history starts, if there is one.
    #[serde(default)]
    pub older: Option<String>,
    pub signed_in: bool,
    /// A message left by a form submitted without JavaScript.
    pub notice: Option<Notice>,
    /// Configuration problems, shown to admins and SRE; empty for others.
    pub problems: Vec<PipelineProblem>,
    /// Which decided requests the viewer may start a new run for.
    pub may_rerun: Vec<String>,
    /// Pending requests per environment (before the `env` filter), in
    /// promotion order.
    #[serde(default)]
    pub counts: Vec<EnvironmentCount>,
    /// The environment the queue is narrowed to (`?env=`), if any.
    #[serde(default)]
    pub environment: Option<String>,
    /// Pending requests that match but are not listed (each list shows at
    /// most [`PENDING_SHOWN`]: a page has a bounded answer).
    #[serde(default)]
    pub not_shown: usize,
}

/// Requests listed at most in each of the queue's lists (what waits for the
/// viewer, and the rest); narrowing to an environment lists others.
pub const PENDING_SHOWN: usize = 50;

/// How many requests wait in one environment, and how many of them the
/// viewer may decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentCount {
    pub id: String,
    pub name: String,
    pub total: usize,
    pub mine: usize,
}

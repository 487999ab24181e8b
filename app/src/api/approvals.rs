//! The approval queue.

use crate::domain::approval::{Decision, SignOff};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestState {
    Pending,
    Approved,
    Rejected,
    Closed,
}

/// A vote as shown in the queue and the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteView {
    pub user_id: String,
    /// The person who voted (linked identities are one person).
    #[serde(default)]
    pub person: String,
    /// Whether Gatehouse could not establish that the voter did not write
    /// the commit (then the approval does not count alone).
    #[serde(default)]
    pub author_unknown: bool,
    pub display_name: String,
    pub decision: Decision,
    pub comment: String,
    pub sign_off: SignOff,
    pub at: DateTime<Utc>,
}

/// What Gatehouse sent to CodePipeline and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub decision: Decision,
    /// `delivered`, `reconciled`, `failed`, or `None` while sending.
    pub outcome: Option<String>,
    pub aws_result: Option<String>,
}

/// One CodePipeline approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalItem {
    pub id: String,
    pub service_id: String,
    pub service_name: String,
    pub team_id: String,
    pub team_name: String,
    pub environment_id: String,
    pub environment_name: String,
    pub environment_position: i32,
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    pub execution_id: String,
    pub commit: String,
    pub commit_message: Option<String>,
    pub branch: Option<String>,
    pub commit_url: Option<String>,
    /// The commit's author: their GitHub login when GitHub knows it.
    pub author_login: Option<String>,
    pub author_name: Option<String>,
    /// The author's GitHub account id, when GitHub matched the commit.
    #[serde(default)]
    pub author_github_id: Option<u64>,
    /// The e-mail address written in the commit.
    #[serde(default)]
    pub author_email: Option<String>,
    /// Whether GitHub was asked (and answered) who wrote the commit.
    pub author_checked: bool,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub state: RequestState,
    pub closed_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub votes: Vec<VoteView>,
    pub delivery: Option<DeliveryView>,
}

/// A request whose CodePipeline token expires within this many hours sorts
/// first in the queue and says so.
pub const EXPIRING_HOURS: i64 = 24;

impl ApprovalItem {
    /// Whether its CodePipeline token (7 days) expires within
    /// [`EXPIRING_HOURS`].
    pub fn expires_soon(&self, now: DateTime<Utc>) -> bool {
        self.expires_at - now < chrono::Duration::hours(EXPIRING_HOURS)
    }

    /// Its place in the queue: about to expire first (soonest first), then
    /// the newest.
    pub fn queue_order(&self, now: DateTime<Utc>) -> (bool, i64) {
        if self.expires_soon(now) {
            (false, self.expires_at.timestamp())
        } else {
            (true, -self.requested_at.timestamp())
        }
    }
}

/// A request with what the viewer may do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub item: ApprovalItem,
    pub required: u8,
    pub test_types: Vec<crate::domain::TestType>,
    /// Why the viewer cannot vote, or `None` when they can.
    pub blocked: Option<String>,
    /// Who wrote the commit cannot be established: the request needs one
    /// more approver than its rule.
    #[serde(default)]
    pub author_unknown: bool,
    /// Hotfix branches of the service not yet merged back, for a Prod
    /// approval, in words.
    #[serde(default)]
    pub hotfix_warnings: Vec<String>,
}

/// A mapped pipeline that does not match the org configuration, found by
/// the pipeline check (ListPipelines, GetPipeline) or a failed delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineProblem {
    pub pipeline: String,
    pub service_id: String,
    pub environment_id: String,
    pub problem: String,
    pub checked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalsView {
    /// The server's clock, so relative times read the same after hydration.
    pub now: DateTime<Utc>,
    pub pending: Vec<QueueItem>,
    /// One page of decided requests, newest first.
    pub history: Vec<ApprovalItem>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

/// The queue and one page of the history (`before`: the cursor of the
/// page's older link; none for the newest decisions). `env` narrows the
/// queue to one environment; `request` makes sure that request is listed
/// (the board's "Review" links).
#[server(endpoint = "approvals")]
pub async fn approvals(
    #[server(default)] before: Option<String>,
    #[server(default)] env: Option<String>,
    #[server(default)] request: Option<String>,
) -> Result<ApprovalsView, AppError> {
    AppError::respond(
        crate::ssr::approvals::view(before.as_deref(), env.as_deref(), request.as_deref()).await,
    )
}

/// Starts a new run of a decided request's pipeline (after a rejection or
/// a failure), for those who may approve its environment, SRE and admins.
#[server(endpoint = "approvals/rerun")]
pub async fn rerun(request: String) -> Result<String, AppError> {
    let result = crate::ssr::approvals::rerun(&request).await;
    crate::ssr::approvals::answer_form(result, "/approvals").await
}

/// Approves or rejects a request. `passed` lists test types marked passed;
/// `not_applicable` holds `type: reason` lines; `evidence` is one link per line.
#[server(endpoint = "approvals/decide")]
pub async fn decide(
    request: String,
    decision: String,
    #[server(default)] comment: String,
    #[server(default)] passed: Vec<String>,
    #[server(default)] not_applicable: String,
    #[server(default)] evidence: String,
) -> Result<String, AppError> {
    let result = async {
        let decision = match decision.as_str() {
            "approve" => Decision::Approve,
            "reject" => Decision::Reject,
            other => {
                return Err(AppError::Invalid(format!(
                    "Unknown decision \u{201c}{other}\u{201d}."
                )))
            }
        };
        let comment =
            crate::domain::limits::bounded("comment", &comment, crate::domain::limits::COMMENT_MAX)
                .map_err(AppError::Invalid)?;
        let sign_off = parse_sign_off(&passed, &not_applicable, &evidence)?;
        crate::ssr::approvals::vote(&request, decision, comment, sign_off).await
    }
    .await;
    crate::ssr::approvals::answer_form(result, "/approvals").await
}

#[cfg(feature = "ssr")]
fn parse_sign_off(
    passed: &[String],
    not_applicable: &str,
    evidence: &str,
) -> Result<SignOff, AppError> {
    use crate::domain::approval::TestMark;
    use crate::domain::limits::{bounded, LINKS_MAX, LINK_MAX, REASON_MAX};
    use crate::domain::TestType;
    let mut marks = Vec::new();
    if passed.len() > TestType::ALL.len() {
        return Err(AppError::Invalid(format!(
            "A sign-off marks at most {} test types.",
            TestType::ALL.len()
        )));
    }
    for p in passed.iter().filter(|p| !p.is_empty()) {
        let t = TestType::parse(p).map_err(|e| AppError::Invalid(e.to_string()))?;
        marks.push((t, TestMark::Passed));
    }
    for line in not_applicable.lines().filter(|l| !l.trim().is_empty()) {
        let (t, reason) = line.split_once(':').ok_or_else(|| {
            AppError::Invalid(format!(
                "Write \u{201c}test: reason\u{201d}, not \u{201c}{line}\u{201d}."
            ))
        })?;
        let t = TestType::parse(t.trim()).map_err(|e| AppError::Invalid(e.to_string()))?;
        let reason = bounded(&format!("reason for {}", t.label()), reason, REASON_MAX)
            .map_err(AppError::Invalid)?;
        if marks.len() >= 2 * TestType::ALL.len() {
            return Err(AppError::Invalid(
                "Mark each test type once: passed, or not applicable with a reason.".into(),
            ));
        }
        marks.push((
            t,
            TestMark::NotApplicable {
                reason: reason.to_owned(),
            },
        ));
    }
    let links: Vec<&str> = evidence
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if links.len() > LINKS_MAX {
        return Err(AppError::Invalid(format!(
            "Give at most {LINKS_MAX} evidence links; this sign-off has {}.",
            links.len()
        )));
    }
    let evidence = links
        .into_iter()
        .map(|l| {
            let l = bounded("evidence link", l, LINK_MAX).map_err(AppError::Invalid)?;
            let shown: String = l.chars().take(80).collect();
            let parsed = url::Url::parse(l).ok().filter(|u| {
                matches!(u.scheme(), "https" | "http")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            });
            match parsed {
                Some(_) => Ok(l.to_owned()),
                None => Err(AppError::Invalid(format!(
                    "Evidence must be links (http or https): \u{201c}{shown}\u{201d}."
                ))),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(SignOff { marks, evidence })
}

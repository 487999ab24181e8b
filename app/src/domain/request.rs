//! CodePipeline approval requests as Gatehouse records them: their state,
//! the votes cast, and what was delivered to CodePipeline. One vocabulary
//! for the database, the forms and the pages.

use super::approval::{Decision, SignOff};
use super::keywords::keyword_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

keyword_enum!(
    /// Where a request stands.
    RequestState, "request state" {
        Pending => "pending", "Pending";
        Approved => "approved", "Approved";
        Rejected => "rejected", "Rejected";
        Closed => "closed", "Closed";
    }
);

keyword_enum!(
    /// How sending a decision to CodePipeline ended: `delivered` (CodePipeline
    /// accepted Gatehouse's answer), `reconciled` (the approval was no longer
    /// open: answered elsewhere, expired, or an earlier attempt had already
    /// been accepted), `failed` (CodePipeline refused for good).
    DeliveryOutcome, "delivery outcome" {
        Delivered => "delivered", "Delivered";
        Reconciled => "reconciled", "Reconciled";
        Failed => "failed", "Failed";
    }
);

impl RequestState {
    /// The state a decision leaves a request in.
    pub fn decided(decision: Decision) -> Self {
        match decision {
            Decision::Approve => RequestState::Approved,
            Decision::Reject => RequestState::Rejected,
        }
    }
}

/// A vote cast on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRecord {
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
pub struct DeliveryRecord {
    pub decision: Decision,
    /// `None` while sending.
    pub outcome: Option<DeliveryOutcome>,
    pub aws_result: Option<String>,
}

/// One CodePipeline approval request, with its service's and
/// environment's names, its votes and its delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
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
    pub votes: Vec<VoteRecord>,
    pub delivery: Option<DeliveryRecord>,
}

/// A request whose CodePipeline token expires within this many hours sorts
/// first in the queue and says so.
pub const EXPIRING_HOURS: i64 = 24;

impl ApprovalRequest {
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

    /// The votes as the approval rules count them.
    pub fn prior_votes(&self) -> Vec<super::approval::Vote> {
        self.votes
            .iter()
            .map(|v| super::approval::Vote {
                user_id: v.user_id.clone(),
                person: v.person.clone(),
                display_name: v.display_name.clone(),
                decision: v.decision,
                author_unknown: v.author_unknown,
            })
            .collect()
    }

    /// The commit's author as recorded.
    pub fn recorded_author(&self) -> super::approval::CommitAuthorship {
        super::approval::CommitAuthorship {
            github_id: self.author_github_id,
            login: self.author_login.clone(),
            email: self.author_email.clone(),
            name: self.author_name.clone(),
        }
    }

    /// Its commit, shortened as people read it.
    pub fn short_commit(&self) -> &str {
        &self.commit[..self.commit.len().min(7)]
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_outcomes_are_the_keywords_the_database_stores() {
        for state in RequestState::ALL {
            assert_eq!(RequestState::parse(state.as_str()), Ok(*state));
        }
        assert_eq!(RequestState::Pending.as_str(), "pending");
        assert_eq!(DeliveryOutcome::Reconciled.as_str(), "reconciled");
        assert!(DeliveryOutcome::parse("sent").is_err());
        assert_eq!(
            serde_json::to_string(&RequestState::Closed).expect("serialises"),
            "\"closed\""
        );
    }
}

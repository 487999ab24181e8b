//! The approval queue: votes checked against the policy, and decisions sent
//! to CodePipeline exactly once. The poller that keeps the queue in step
//! with CodePipeline is a job (the server's `jobs::poller`).

use super::calendar::OrgCalendar;
use super::ports::{
    Actor, ApprovalNow, ClaimedDelivery, HotfixRecord, NewVote, PipelineError, PlanOverride,
    VoteCommit,
};
use super::{AppState, Caller};
use crate::domain::approval::{
    self, Authorship, CommitAuthorship, Decision, Outcome, PlanBlock, Refusal, SignOff, VoteRequest,
};
use crate::domain::request::{ApprovalRequest, DeliveryOutcome, RequestState};
use crate::domain::{OrgModel, RoleKind, TeamId, User};
use crate::error::AppError;
use crate::views::approvals::{ApprovalsView, EnvironmentCount, QueueItem, PENDING_SHOWN};
use std::time::Duration;

/// How long a delivery may take before another process may retry it.
const DELIVERY_LEASE: Duration = Duration::from_secs(30);
/// CodePipeline's approval timeout.
pub const APPROVAL_TTL_DAYS: i64 = 7;

/// The queue as `user` sees it; `hotfix_refusal` says why approving its
/// revision must wait (see [`hotfix_refusal`]); `plan_block` what the Prod
/// plan says it waits for.
fn queue_item(
    org: &OrgModel,
    calendar: &OrgCalendar,
    user: Option<&User>,
    item: ApprovalRequest,
    hotfix_refusal: Option<String>,
    plan_block: Option<PlanBlock>,
) -> QueueItem {
    let env = org.environment(&item.environment_id);
    let rule = env.and_then(|e| e.approval.clone());
    let votes = item.prior_votes();
    let (blocked, approve_blocked) = match (user, env, &rule, TeamId::parse(&item.team_id)) {
        (None, ..) => (Some("Sign in to approve or reject.".to_owned()), None),
        (Some(user), Some(env), Some(rule), Ok(team)) => {
            let no_sign_off = SignOff::default();
            let author = item.recorded_author();
            let request = VoteRequest {
                user,
                environment: env,
                rule,
                team: &team,
                author: &author,
                commit: &item.commit,
                prior_votes: &votes,
                decision: Decision::Approve,
                comment: "",
                sign_off: &no_sign_off,
                calendar_refusal: calendar.approval_refusal(env, &team, chrono::Utc::now()),
                hotfix_refusal,
                plan_block: plan_block.clone(),
                override_reason: "",
            };
            match approval::eligibility(&request) {
                Err(refusal) => (Some(refusal.message().to_owned()), None),
                Ok(()) => (
                    None,
                    approval::approval_refusal(&request)
                        .err()
                        .map(|r| r.message().to_owned()),
                ),
            }
        }
        _ => (
            Some("Gatehouse's configuration no longer asks for approval here.".to_owned()),
            None,
        ),
    };
    let author_unknown = votes.iter().any(|v| v.author_unknown)
        || (item.author_checked && item.author_github_id.is_none());
    QueueItem {
        required: rule.as_ref().map_or(1, |r| {
            let required = if author_unknown {
                usize::from(r.required.max(1)) + 1
            } else {
                approval::required_approvals(r, &votes)
            };
            u8::try_from(required).unwrap_or(u8::MAX)
        }),
        author_unknown,
        test_types: env.map(|e| e.test_types.clone()).unwrap_or_default(),
        blocked,
        approve_blocked,
        hotfix_warnings: Vec::new(),
        plan_blocked_on: plan_block
            .as_ref()
            .map(|b| b.blocked_names.clone())
            .unwrap_or_default(),
        needs_override: plan_block.is_some_and(|b| !b.strict),
        item,
    }
}

/// What the Prod plan says a Prod request waits for, from the board's
/// records (`None` for other environments, or when nothing blocks it).
fn plan_block_of(
    org: &OrgModel,
    snapshot: &super::ports::BoardSnapshot,
    item: &ApprovalRequest,
) -> Option<PlanBlock> {
    if !org.is_prod(&item.environment_id) {
        return None;
    }
    let service = org.service(&item.service_id)?;
    PlanBlock::of(
        &item.service_id,
        super::prod_plan::blockers_of(org, snapshot, service),
        org.prod_plan.strict,
    )
    .map(|b| b.named(|id| org.service(id).map(|s| s.name.to_string())))
}

/// The request's commit linked on GitHub's web as configured (GitHub
/// Enterprise, or the demo's simulated GitHub), not where CodePipeline's
/// revision URL points.
fn with_commit_link(
    state: &AppState,
    org: &OrgModel,
    mut item: ApprovalRequest,
) -> ApprovalRequest {
    if let Ok(repo) = repository_of(org, &item.service_id) {
        item.commit_url = Some(format!(
            "{}/{repo}/commit/{}",
            state.github_web, item.commit
        ));
    }
    item
}

/// The GitHub repository of a configured service.
fn repository_of(org: &OrgModel, service_id: &str) -> Result<String, AppError> {
    org.service(service_id)
        .map(|s| s.repository.to_string())
        .ok_or_else(|| AppError::NotFound("This service is no longer configured.".into()))
}

/// The hotfix branches of `service_id` among `hotfixes` that still lack a
/// merge back.
fn unmerged<'a>(
    hotfixes: &'a [HotfixRecord],
    service_id: &'a str,
) -> impl Iterator<Item = &'a HotfixRecord> + 'a {
    hotfixes
        .iter()
        .filter(move |h| h.service_id == service_id && !h.missing().is_empty())
}

/// Why approving the request's revision for Prod must wait: it contains a
/// hotfix of `hotfixes` (the service's, as recorded) that is not merged
/// back into develop and the open release branch (asked of GitHub, as the
/// revision may predate the hotfix), or GitHub cannot tell. A fact the
/// rule needs and cannot get holds the approval back; it never passes.
async fn hotfix_refusal(
    state: &AppState,
    org: &OrgModel,
    item: &ApprovalRequest,
    hotfixes: &[HotfixRecord],
) -> Result<Option<String>, AppError> {
    if !state.refuse_unmerged_hotfix || !org.is_prod(&item.environment_id) {
        return Ok(None);
    }
    let held: Vec<HotfixRecord> = unmerged(hotfixes, &item.service_id).cloned().collect();
    if held.is_empty() {
        return Ok(None);
    }
    let repo = repository_of(org, &item.service_id)?;
    let short = item.short_commit();
    for hotfix in held {
        let contains = state
            .github
            .contains(&repo, &item.commit, &hotfix.head_sha)
            .await;
        let merge_back = hotfix.missing().join(" and ");
        match contains {
            Ok(Some(false)) => {}
            Ok(Some(true)) => {
                return Ok(Some(format!(
                    "Commit {short} contains {}, which is not merged back into {merge_back} yet. Merge the hotfix back first (Git Flow), then approve Prod.",
                    hotfix.branch,
                )))
            }
            Ok(None) => {
                return Ok(Some(format!(
                    "GitHub does not know commit {short} or the head of {}, so Gatehouse cannot tell whether {short} contains that hotfix (not merged back into {merge_back} yet); approve Prod once it is merged back.",
                    hotfix.branch,
                )))
            }
            Err(err) => {
                return Err(AppError::Dependency(format!(
                    "Gatehouse cannot check whether {short} contains {} right now ({err}); try again in a moment.",
                    hotfix.branch
                )))
            }
        }
    }
    Ok(None)
}

/// Decided requests shown on one page of the history.
const HISTORY_PAGE: usize = 50;

/// A position in the history: when the last request shown was decided, and
/// its id (`2026-11-30T10:00:00Z~<uuid>`).
fn history_cursor(item: &ApprovalRequest) -> String {
    format!(
        "{}~{}",
        item.decided_at.unwrap_or(item.requested_at).to_rfc3339(),
        item.id
    )
}

fn parse_cursor(raw: &str) -> Result<(chrono::DateTime<chrono::Utc>, String), AppError> {
    let bad =
        || AppError::Invalid("That history page does not exist; start from the newest.".into());
    let (at, id) = raw.split_once('~').ok_or_else(bad)?;
    let at = chrono::DateTime::parse_from_rfc3339(at).map_err(|_| bad())?;
    if id.len() > 64 {
        return Err(bad());
    }
    Ok((at.with_timezone(&chrono::Utc), id.to_owned()))
}

/// The pending queue as the viewer sees it: each request with what it
/// needs and whether they may decide it, bounded as [`bounded_queue`] says.
pub struct Queue {
    pub pending: Vec<QueueItem>,
    pub counts: Vec<EnvironmentCount>,
    pub environment: Option<String>,
    pub not_shown: usize,
}

/// The Approvals page; the history from `before` (a cursor the previous
/// page gave), newest first.
pub async fn view(
    state: &AppState,
    caller: &Caller,
    notice: Option<crate::notice::Notice>,
    before: Option<&str>,
    environment: Option<&str>,
    request: Option<&str>,
) -> Result<ApprovalsView, AppError> {
    let user = caller.user().cloned();
    let org = state.org.load_org().await?;
    let Queue {
        pending,
        counts,
        environment,
        not_shown,
    } = queue(state, caller, environment, request).await?;
    let before = before
        .filter(|b| !b.is_empty())
        .map(parse_cursor)
        .transpose()?;
    let mut history = state
        .approvals
        .history(i64::try_from(HISTORY_PAGE + 1).unwrap_or(51), before)
        .await?;
    let older = (history.len() > HISTORY_PAGE).then(|| {
        history.truncate(HISTORY_PAGE);
        history.last().map(history_cursor)
    });
    let history: Vec<ApprovalRequest> = history
        .into_iter()
        .map(|item| with_commit_link(state, &org, item))
        .collect();
    let problems = match &user {
        Some(u) if u.has(RoleKind::Admin) || u.has(RoleKind::Sre) => {
            state.approvals.pipeline_problems().await?
        }
        _ => Vec::new(),
    };
    let may_rerun = match &user {
        Some(u) => history
            .iter()
            .filter(|item| may_rerun(&org, u, item))
            .map(|item| item.id.clone())
            .collect(),
        None => Vec::new(),
    };
    Ok(ApprovalsView {
        now: chrono::Utc::now(),
        pending,
        counts,
        environment,
        not_shown,
        history,
        older: older.flatten(),
        signed_in: user.is_some(),
        notice,
        problems,
        may_rerun,
    })
}

/// The pending queue for the viewer (the Approvals page's and the home
/// page's), narrowed to `environment`, with `request` listed whatever its
/// place.
pub async fn queue(
    state: &AppState,
    caller: &Caller,
    environment: Option<&str>,
    request: Option<&str>,
) -> Result<Queue, AppError> {
    queue_of(state, caller, environment, request, &|_| true).await
}

/// The pending queue for the viewer, of the requests `keep` keeps (before
/// it is counted and cut to a page: the API's team and service filters).
pub async fn queue_of(
    state: &AppState,
    caller: &Caller,
    environment: Option<&str>,
    request: Option<&str>,
    keep: &(dyn Fn(&ApprovalRequest) -> bool + Sync),
) -> Result<Queue, AppError> {
    let user = caller.user().cloned();
    let org = state.org.load_org().await?;
    let (calendar, _) = super::calendar::load(state, &org).await?;
    // Hotfixes as the board shows them (its in-memory snapshot; a vote
    // asks the store itself).
    let now = chrono::Utc::now();
    let snapshot = state
        .board
        .snapshot(super::calendar::snapshot_since(now, now))
        .await?;
    let hotfixes = &snapshot.hotfixes;
    let mut pending = Vec::new();
    for item in state.approvals.pending().await? {
        if !keep(&item) {
            continue;
        }
        let item = with_commit_link(state, &org, item);
        // Whether approving must wait for a hotfix is asked only for
        // someone who could approve (GitHub's answers about two commits
        // are kept: they never change).
        let held = match &user {
            Some(_) => hotfix_refusal(state, &org, &item, hotfixes)
                .await
                .unwrap_or_else(|err| Some(err.to_string())),
            None => None,
        };
        let block = plan_block_of(&org, &snapshot, &item);
        let mut queued = queue_item(&org, &calendar, user.as_ref(), item, held, block);
        if org.is_prod(&queued.item.environment_id) {
            queued.hotfix_warnings = unmerged(hotfixes, &queued.item.service_id)
                .map(|h| {
                    format!(
                        "{} is not merged back into {} yet",
                        h.branch,
                        h.missing().join(" and ")
                    )
                })
                .collect();
        }
        pending.push(queued);
    }
    let (pending, counts, environment, not_shown) =
        bounded_queue(&org, pending, environment, request, now);
    Ok(Queue {
        pending,
        counts,
        environment,
        not_shown,
    })
}

/// The queue as a page lists it: counted per environment, narrowed to
/// `environment` (an id the org knows; anything else lists them all), and
/// at most [`PENDING_SHOWN`] of what the viewer may decide and as many of
/// the rest, those about to expire first, then the newest; `request` is
/// listed whatever its place. Returns the listed requests, the counts, the
/// environment narrowed to, and how many matching requests are not listed.
fn bounded_queue(
    org: &OrgModel,
    pending: Vec<QueueItem>,
    environment: Option<&str>,
    request: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<QueueItem>, Vec<EnvironmentCount>, Option<String>, usize) {
    let counts: Vec<EnvironmentCount> = org
        .environments
        .iter()
        .filter_map(|env| {
            let here = pending
                .iter()
                .filter(|q| q.item.environment_id == env.id.as_str());
            let (total, mine) = here.fold((0, 0), |(t, m), q| {
                (t + 1, m + usize::from(q.blocked.is_none()))
            });
            (total > 0).then(|| EnvironmentCount {
                id: env.id.to_string(),
                name: env.name.to_string(),
                total,
                mine,
            })
        })
        .collect();
    let environment = environment
        .filter(|e| org.environments.iter().any(|env| env.id.as_str() == *e))
        .map(str::to_owned);
    let mut matching: Vec<QueueItem> = pending
        .into_iter()
        .filter(|q| {
            environment
                .as_deref()
                .is_none_or(|e| q.item.environment_id == e)
                || request == Some(q.item.id.as_str())
        })
        .collect();
    matching.sort_by_key(|q| (request != Some(q.item.id.as_str()), q.item.queue_order(now)));
    let total = matching.len();
    let (mut mine, mut others): (Vec<QueueItem>, Vec<QueueItem>) =
        matching.into_iter().partition(|q| q.blocked.is_none());
    mine.truncate(PENDING_SHOWN);
    others.truncate(PENDING_SHOWN);
    mine.extend(others);
    let not_shown = total - mine.len();
    (mine, counts, environment, not_shown)
}

/// Why a vote on a closed request is refused, naming only the people
/// whose votes decided it (the approvers of an approval, the rejecter of
/// a rejection), each once.
fn already_decided(item: &ApprovalRequest) -> String {
    let deciding = match item.state {
        RequestState::Approved => Some(Decision::Approve),
        RequestState::Rejected => Some(Decision::Reject),
        _ => None,
    };
    let mut people: Vec<&str> = Vec::new();
    let mut by: Vec<&str> = Vec::new();
    for vote in item.votes.iter().filter(|v| Some(v.decision) == deciding) {
        if !people.contains(&vote.person.as_str()) {
            people.push(vote.person.as_str());
            by.push(vote.display_name.as_str());
        }
    }
    match item.state {
        RequestState::Approved => format!("Already approved by {}.", by.join(", ")),
        RequestState::Rejected => format!("Already rejected by {}.", by.join(", ")),
        _ => format!(
            "This request is closed: {}.",
            item.closed_reason
                .as_deref()
                .unwrap_or("answered elsewhere")
        ),
    }
}

/// Who wrote the request's commit, for the four-eyes rule. Asked of GitHub
/// now if the poller could not; a vote is not counted while GitHub cannot
/// answer.
async fn commit_author(
    state: &AppState,
    org: &OrgModel,
    item: &ApprovalRequest,
) -> Result<CommitAuthorship, AppError> {
    if item.author_checked {
        return Ok(item.recorded_author());
    }
    let repo = repository_of(org, &item.service_id)?;
    match state.github.commit_author(&repo, &item.commit).await {
        Ok(author) => {
            state.approvals.set_author(&item.id, author.as_ref()).await?;
            Ok(author.map(|a| a.authorship()).unwrap_or_default())
        }
        Err(err) => Err(AppError::Dependency(format!(
            "Gatehouse cannot check who wrote commit {} right now ({err}), so it cannot apply the four-eyes rule; try again in a moment.",
            item.short_commit()
        ))),
    }
}

/// Records the signed-in user's vote; when it decides the request, tells
/// CodePipeline. Returns a sentence saying what happened.
pub async fn vote(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
    decision: Decision,
    comment: &str,
    sign_off: SignOff,
    override_reason: &str,
) -> Result<String, AppError> {
    let _wrote = state.changes.writing(super::changes::Topic::Approvals);
    let user = caller.required()?;
    let actor = Actor::from(user);
    let org = state.org.load_org().await?;
    let (calendar, _) = super::calendar::load(state, &org).await?;
    // A concurrent vote makes the commit conflict; read again and re-check.
    for _ in 0..8 {
        let item = state
            .approvals
            .request(request_id)
            .await?
            .ok_or_else(|| AppError::NotFound("There is no such approval request.".into()))?;
        if item.state != RequestState::Pending {
            return Err(AppError::Conflict(already_decided(&item)));
        }
        let env = org.environment(&item.environment_id).ok_or_else(|| {
            AppError::NotFound("This environment is no longer configured.".into())
        })?;
        let rule = env
            .approval
            .as_ref()
            .ok_or_else(|| AppError::Invalid(format!("{} needs no approval.", env.name)))?;
        let team = TeamId::parse(&item.team_id).map_err(|e| AppError::internal(&e))?;
        let votes = item.prior_votes();
        let author = commit_author(state, &org, &item).await?;
        let author_unknown = approval::authorship(&author, user) == Authorship::Unknown;
        let hotfix_refusal = match decision {
            Decision::Approve => {
                let hotfixes = state.board.hotfixes(&item.service_id).await?;
                hotfix_refusal(state, &org, &item, &hotfixes).await?
            }
            Decision::Reject => None,
        };
        // What the Prod plan says, from the board's latest records (a
        // dependency reaching Prod lifts the block on the next refresh).
        let plan_block = match decision {
            Decision::Approve if org.is_prod(&item.environment_id) => {
                let now = chrono::Utc::now();
                let snapshot = state
                    .board
                    .snapshot(super::calendar::snapshot_since(now, now))
                    .await?;
                plan_block_of(&org, &snapshot, &item)
            }
            _ => None,
        };
        let request = VoteRequest {
            user,
            environment: env,
            rule,
            team: &team,
            author: &author,
            commit: &item.commit,
            prior_votes: &votes,
            decision,
            comment,
            sign_off: &sign_off,
            calendar_refusal: calendar.approval_refusal(env, &team, chrono::Utc::now()),
            hotfix_refusal,
            plan_block: plan_block.clone(),
            override_reason,
        };
        let outcome = approval::cast(&request).map_err(|refusal| match refusal {
            Refusal::NotAllowed(m) => AppError::Forbidden(m),
            Refusal::AlreadyVoted(m) | Refusal::NotYet(m) => AppError::Conflict(m),
            Refusal::Incomplete(m) => AppError::Invalid(m),
        })?;
        let decided = match outcome {
            Outcome::Decided(d) => {
                let mut deciders: Vec<String> = item
                    .votes
                    .iter()
                    .filter(|v| d == Decision::Approve && v.decision == Decision::Approve)
                    .map(|v| v.display_name.clone())
                    .collect();
                deciders.push(format!(
                    "{} ({})",
                    user.display_name,
                    actor.roles.join(", ")
                ));
                Some((d, approval::aws_summary(d, &deciders, comment)))
            }
            Outcome::Waiting { .. } => None,
        };
        let new_vote = NewVote {
            decision,
            comment: comment.trim().to_owned(),
            sign_off: sign_off.clone(),
            author_unknown: decision == Decision::Approve && author_unknown,
            plan_override: approval::overrides_plan(&request).then(|| PlanOverride {
                reason: override_reason.trim().to_owned(),
                blocked_on: plan_block
                    .as_ref()
                    .map(|b| b.blocked_on.clone())
                    .unwrap_or_default(),
            }),
        };
        match state
            .approvals
            .commit_vote(request_id, &actor, votes.len(), &new_vote, decided.clone())
            .await?
        {
            VoteCommit::Conflict => continue,
            VoteCommit::Recorded => {}
        }
        return Ok(match (outcome, decided) {
            (
                Outcome::Waiting {
                    remaining,
                    author_unknown,
                },
                _,
            ) => format!(
                "Your approval is recorded; {}{remaining} more approver{} needed.",
                if author_unknown {
                    format!(
                        "Gatehouse cannot establish who wrote commit {}, so ",
                        item.short_commit()
                    )
                } else {
                    String::new()
                },
                if remaining == 1 { " is" } else { "s are" }
            ),
            (Outcome::Decided(d), _) => {
                let verb = if d == Decision::Approve {
                    "Approved"
                } else {
                    "Rejected"
                };
                // The vote is committed: a failure from here on is the
                // delivery's, which the poller finishes.
                let delivered = deliver(state, request_id).await;
                if let Err(err) = &delivered {
                    tracing::warn!(request = %request_id, error = %err, "delivery interrupted; the poller finishes it");
                }
                match delivered {
                    Err(_) => format!(
                        "{verb}. Sending it to CodePipeline was interrupted (Gatehouse lost its database for a moment); it finishes on its own."
                    ),
                    Ok(Some(DeliveryOutcome::Delivered)) => format!("{verb}. CodePipeline has the decision."),
                    Ok(Some(DeliveryOutcome::Reconciled)) => format!(
                        "{verb} in Gatehouse, but CodePipeline had already closed this approval; see the history."
                    ),
                    Ok(Some(DeliveryOutcome::Failed)) => format!(
                        "{verb} in Gatehouse, but CodePipeline refused it; an admin must check the pipeline configuration."
                    ),
                    Ok(None) => format!("{verb}. CodePipeline is not answering right now; Gatehouse will keep trying."),
                }
            }
        });
    }
    Err(AppError::Conflict(
        "The request kept changing while you voted; reload and try again.".into(),
    ))
}

/// Sends a recorded decision to CodePipeline if no one else is sending it.
/// `None` when another process holds the delivery or AWS was unavailable
/// (the poller retries).
///
/// Read before write: GetPipelineState first, and PutApprovalResult only
/// while the approval still waits with the request's token. So a decision
/// that reached CodePipeline before a crash or a lost response is found
/// there and recorded, not sent again: at most one PutApprovalResult per
/// decision, whatever fails in between. Only an answer read from
/// CodePipeline settles a delivery; a read that fails leaves it for the
/// next attempt.
pub async fn deliver(
    state: &AppState,
    request_id: &str,
) -> Result<Option<DeliveryOutcome>, AppError> {
    let _wrote = state.changes.writing(super::changes::Topic::Approvals);
    let Some(claim) = state
        .approvals
        .claim_delivery(request_id, DELIVERY_LEASE)
        .await?
    else {
        return Ok(None);
    };
    let now = match state.pipelines.approval_now(&claim.target).await {
        Ok(now) => now,
        Err(err) => return give_back(state, &claim, &err).await,
    };
    let (outcome, aws_result) = match now {
        ApprovalNow::Waiting(p) if p.token == claim.token => {
            match state
                .pipelines
                .put_approval_result(&claim.target, &claim.token, claim.approved, &claim.summary)
                .await
            {
                Ok(at) => (
                    DeliveryOutcome::Delivered,
                    format!("PutApprovalResult accepted at {}", at.to_rfc3339()),
                ),
                // Answered between the read and the write: read again.
                Err(PipelineError::Reconcile(message)) => {
                    match state.pipelines.approval_now(&claim.target).await {
                        Ok(now) => settle(&claim, now, &message),
                        Err(err) => return give_back(state, &claim, &err).await,
                    }
                }
                Err(err @ (PipelineError::Configuration(_) | PipelineError::Rejected(_))) => {
                    (DeliveryOutcome::Failed, err.to_string())
                }
                Err(err @ PipelineError::Unavailable(_)) => {
                    return give_back(state, &claim, &err).await
                }
            }
        }
        other => settle(
            &claim,
            other,
            "not sent: the approval no longer waits for this token",
        ),
    };
    if let Err(err) = state
        .approvals
        .finish_delivery(request_id, outcome, &aws_result)
        .await
    {
        // CodePipeline has its answer and only the record failed (the
        // database went away): record it as soon as the database is back
        // rather than when the lease lapses. Recording twice is harmless:
        // only an open delivery is settled.
        let (state, request_id) = (state.clone(), request_id.to_owned());
        tokio::spawn(async move {
            for _ in 0..50 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let recorded = state
                    .approvals
                    .finish_delivery(&request_id, outcome, &aws_result)
                    .await;
                if recorded.is_ok() {
                    return;
                }
            }
        });
        return Err(err.into());
    }
    Ok(Some(outcome))
}

/// Returns a claimed delivery after a failed CodePipeline call (audited);
/// a configuration error settles it as failed instead.
async fn give_back(
    state: &AppState,
    claim: &ClaimedDelivery,
    err: &PipelineError,
) -> Result<Option<DeliveryOutcome>, AppError> {
    if let PipelineError::Configuration(_) = err {
        state
            .approvals
            .finish_delivery(&claim.request_id, DeliveryOutcome::Failed, &err.to_string())
            .await?;
        return Ok(Some(DeliveryOutcome::Failed));
    }
    tracing::warn!(request = %claim.request_id, error = %err, "delivery not settled; will retry");
    state
        .approvals
        .release_delivery(&claim.request_id, &err.to_string())
        .await?;
    Ok(None)
}

/// Whether CodePipeline's answer is the one Gatehouse sent: the same
/// execution and decision, and Gatehouse's own summary. CodePipeline keeps
/// the summary PutApprovalResult was given as the action's summary (the
/// simulator does the same); a prefix that a console or a later service
/// version adds in front is tolerated, a different text is not.
fn is_our_answer(claim: &ClaimedDelivery, answer: &super::ports::LastAnswer) -> bool {
    answer.execution_id == claim.execution_id
        && answer.approved == claim.approved
        && answer
            .summary
            .as_deref()
            .map(str::trim)
            .is_some_and(|s| s.ends_with(claim.summary.trim()))
}

/// How a delivery ends given what CodePipeline shows now.
fn settle(claim: &ClaimedDelivery, now: ApprovalNow, context: &str) -> (DeliveryOutcome, String) {
    match now {
        ApprovalNow::Answered(answer) if is_our_answer(claim, &answer) => (
            DeliveryOutcome::Delivered,
            format!(
                "an earlier attempt was accepted: CodePipeline shows Gatehouse's answer ({context})"
            ),
        ),
        ApprovalNow::Answered(answer) if answer.execution_id == claim.execution_id => (
            DeliveryOutcome::Reconciled,
            format!(
                "answered in CodePipeline{}: {} \u{201c}{}\u{201d}",
                answer
                    .updated_by
                    .as_deref()
                    .map(|by| format!(" by {by}"))
                    .unwrap_or_default(),
                if answer.approved {
                    "approved"
                } else {
                    "rejected"
                },
                answer.summary.unwrap_or_default()
            ),
        ),
        ApprovalNow::Waiting(p) if p.execution_id != claim.execution_id => (
            DeliveryOutcome::Reconciled,
            format!(
                "no longer waiting: superseded by execution {}",
                &p.execution_id[..p.execution_id.len().min(8)]
            ),
        ),
        ApprovalNow::Waiting(_) => (
            DeliveryOutcome::Reconciled,
            "no longer waiting for this token: the approval was restarted in CodePipeline".into(),
        ),
        _ => (
            DeliveryOutcome::Reconciled,
            format!("no longer waiting (expired or superseded): {context}"),
        ),
    }
}

/// Why starting a new run of `item`'s pipeline makes no sense, if it does
/// not: a request still waiting is decided instead, and a delivered (or
/// still delivering) approval's run goes on in CodePipeline. A rejection, a
/// request closed elsewhere or a delivery that did not land may run again.
fn rerun_refusal(item: &ApprovalRequest) -> Option<&'static str> {
    match (item.state, item.delivery.as_ref().map(|d| d.outcome)) {
        (RequestState::Pending, _) => Some(
            "This request still waits for a decision; decide it rather than starting a new run.",
        ),
        (RequestState::Approved, Some(Some(DeliveryOutcome::Delivered))) => Some(
            "This approval was delivered: its run goes on in CodePipeline, so there is nothing to run again.",
        ),
        (RequestState::Approved, Some(None)) => Some(
            "This approval is still being delivered to CodePipeline; wait for its outcome.",
        ),
        _ => None,
    }
}

/// Whether Run again is offered to `user` next to `item`.
fn may_rerun(org: &OrgModel, user: &User, item: &ApprovalRequest) -> bool {
    rerun_refusal(item).is_none() && may_start_runs(org, user, item)
}

/// Whether `user` may start a new run of `item`'s pipeline at all: those
/// who may approve its environment, SRE and admins.
fn may_start_runs(org: &OrgModel, user: &User, item: &ApprovalRequest) -> bool {
    if user.has(RoleKind::Sre) || user.has(RoleKind::Admin) {
        return true;
    }
    let rule = org
        .environment(&item.environment_id)
        .and_then(|e| e.approval.as_ref());
    match (rule, TeamId::parse(&item.team_id)) {
        (Some(rule), Ok(team)) => approval::may_approve(user, rule, &team),
        _ => false,
    }
}

/// Starts a new run of a decided request's pipeline and audits it.
pub async fn rerun(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
) -> Result<String, AppError> {
    let _wrote = state.changes.writing(super::changes::Topic::Approvals);
    let user = caller.required()?.clone();
    let item = state
        .approvals
        .request(request_id)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such approval request.".into()))?;
    let org = state.org.load_org().await?;
    if !may_start_runs(&org, &user, &item) {
        return Err(AppError::Forbidden(format!(
            "Only SRE, admins and those who may approve {} may start a new run.",
            item.environment_name
        )));
    }
    if let Some(why) = rerun_refusal(&item) {
        return Err(AppError::Conflict(why.into()));
    }
    // One new run per decided request: a double click, a retry or a second
    // visitor asking again gets the same execution back.
    let client_token = format!("rerun-{}", item.id);
    let execution = state
        .pipelines
        .start_execution(&item.pipeline, &client_token)
        .await
        .map_err(|err| match err {
            PipelineError::Configuration(m) => {
                AppError::Invalid(format!("CodePipeline cannot run {}: {m}", item.pipeline))
            }
            other => AppError::Dependency(format!(
                "CodePipeline did not start a new run of {}: {other}",
                item.pipeline
            )),
        })?;
    let actor = Actor::from(&user);
    state
        .approvals
        .record_rerun(&item.id, &actor, &execution)
        .await?;
    Ok(format!(
        "A new run of {} started (execution {}); its approval shows up here when it reaches the approval stage.",
        item.pipeline,
        &execution[..execution.len().min(8)]
    ))
}

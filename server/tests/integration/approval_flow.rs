//! The approval service (`app::ssr::approvals::vote`) against in-memory
//! ports: no PostgreSQL, CodePipeline or GitHub. Each policy shape the
//! shipped org uses (1 of M, N of M), people voting at once over many
//! rounds, the four-eyes rule, an anonymous caller, and CodePipeline
//! unreachable at the deciding vote; CodePipeline's calls are counted.

use crate::common::fakes::{self, Fakes};
use app::domain::approval::{Decision, SignOff};
use app::domain::request::{DeliveryOutcome, RequestState};
use app::domain::OrgModel;
use app::error::AppError;
use app::ssr::ports::ApprovalNow;
use app::ssr::{AppState, Caller};
use std::path::Path;
use std::sync::atomic::Ordering;

/// The shipped org, with Pre-Prod needing `required` approvers and no
/// blackout (so the calendar never closes an environment on the day the
/// test runs).
fn org(required: u8) -> OrgModel {
    let text = include_str!("../../../config/org.toml");
    let mut org = server::org_config::parse(Path::new("org.toml"), text).expect("org");
    org.calendar.blackouts.clear();
    let pre_prod = org
        .environments
        .iter_mut()
        .find(|e| e.id.as_str() == "pre-prod")
        .expect("pre-prod");
    pre_prod.approval.as_mut().expect("rule").required = required;
    org
}

fn setup(required: u8) -> (AppState, Fakes, OrgModel) {
    let org = org(required);
    let (state, fakes) = fakes::state(org.clone());
    (state, fakes, org)
}

async fn vote(
    state: &AppState,
    who: &Caller,
    request: &str,
    decision: Decision,
) -> Result<String, AppError> {
    let comment = if decision == Decision::Reject {
        "Fails the smoke test"
    } else {
        ""
    };
    app::ssr::approvals::vote(
        state,
        who,
        request,
        decision,
        comment,
        SignOff::default(),
        "",
    )
    .await
}

fn person(login: &str, roles: &[&str]) -> Caller {
    Caller::signed_in(fakes::user(login, roles))
}

#[tokio::test]
async fn one_of_m_is_decided_by_one_vote_and_delivered_once() {
    let (state, fakes, org) = setup(1);
    let id = fakes::waiting_request(
        &fakes,
        &org,
        "identity-service",
        "pre-prod",
        "a1b2c3d",
        "dana",
    );
    let said = vote(&state, &person("sam", &["sre"]), &id, Decision::Approve)
        .await
        .expect("vote");
    assert_eq!(said, "Approved. CodePipeline has the decision.");
    let request = fakes.approvals.get(&id);
    assert_eq!(request.state, RequestState::Approved);
    assert_eq!(
        request.delivery.and_then(|d| d.outcome),
        Some(DeliveryOutcome::Delivered)
    );
    assert_eq!(fakes.pipelines.puts.load(Ordering::SeqCst), 1);
    assert!(matches!(
        fakes.pipelines.now(&request.pipeline),
        ApprovalNow::Answered(a) if a.approved
    ));
    // A second click, by someone else, is told it is decided and sends
    // nothing.
    let again = vote(&state, &person("quinn", &["qa"]), &id, Decision::Approve).await;
    assert!(
        matches!(&again, Err(AppError::Conflict(m)) if m == "Already approved by sam."),
        "{again:?}"
    );
    assert_eq!(fakes.pipelines.puts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn n_of_m_waits_for_distinct_people_and_the_author_may_not_approve() {
    let (state, fakes, org) = setup(2);
    let id = fakes::waiting_request(
        &fakes,
        &org,
        "identity-service",
        "pre-prod",
        "d4e5f6a",
        "sam",
    );
    // Sam wrote the commit.
    let own = vote(&state, &person("sam", &["sre"]), &id, Decision::Approve).await;
    assert!(matches!(own, Err(AppError::Forbidden(_))), "{own:?}");
    let first = vote(&state, &person("sky", &["sre"]), &id, Decision::Approve)
        .await
        .expect("first vote");
    assert!(first.contains("1 more approver is needed"), "{first}");
    let twice = vote(&state, &person("sky", &["sre"]), &id, Decision::Approve).await;
    assert!(matches!(twice, Err(AppError::Conflict(_))), "{twice:?}");
    assert_eq!(fakes.pipelines.puts.load(Ordering::SeqCst), 0);
    let second = vote(&state, &person("quinn", &["qa"]), &id, Decision::Approve)
        .await
        .expect("second vote");
    assert_eq!(second, "Approved. CodePipeline has the decision.");
    assert_eq!(fakes.approvals.get(&id).votes.len(), 2);
    assert_eq!(fakes.pipelines.puts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_developer_may_not_approve_pre_prod_and_nobody_anonymous_votes() {
    let (state, fakes, org) = setup(1);
    let id = fakes::waiting_request(
        &fakes,
        &org,
        "identity-service",
        "pre-prod",
        "0a1b2c3",
        "dana",
    );
    let dev = vote(
        &state,
        &person("devon", &["developer:backend"]),
        &id,
        Decision::Approve,
    )
    .await;
    assert!(matches!(dev, Err(AppError::Forbidden(_))), "{dev:?}");
    let anonymous = vote(&state, &Caller::anonymous(), &id, Decision::Approve).await;
    assert!(
        matches!(anonymous, Err(AppError::Unauthenticated)),
        "{anonymous:?}"
    );
    assert_eq!(fakes.approvals.get(&id).votes.len(), 0);
    assert_eq!(fakes.pipelines.puts.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn people_voting_at_once_decide_each_request_once() {
    let voters = [
        ("ana", "sre"),
        ("ben", "sre"),
        ("cleo", "qa"),
        ("dev", "qa"),
        ("eli", "sre"),
        ("fay", "qa"),
    ];
    for required in [1_u8, 2, 3] {
        let (state, fakes, org) = setup(required);
        let rounds = 12;
        for round in 0..rounds {
            let sha = format!("{round:07x}");
            let id =
                fakes::waiting_request(&fakes, &org, "identity-service", "pre-prod", &sha, "zed");
            let votes = voters.iter().enumerate().map(|(i, (login, role))| {
                let state = state.clone();
                let id = id.clone();
                let who = person(login, &[role]);
                // One in six rejects: a reject decides at once.
                let decision = if round % 4 == 3 && i == 5 {
                    Decision::Reject
                } else {
                    Decision::Approve
                };
                tokio::spawn(async move { vote(&state, &who, &id, decision).await })
            });
            let answers: Vec<Result<String, AppError>> = futures::future::join_all(votes)
                .await
                .into_iter()
                .map(|joined| joined.expect("vote task"))
                .collect();
            let request = fakes.approvals.get(&id);
            assert_ne!(
                request.state,
                RequestState::Pending,
                "round {round}: {answers:?}"
            );
            let approvals = request
                .votes
                .iter()
                .filter(|v| v.decision == Decision::Approve)
                .count();
            let rejects = request.votes.len() - approvals;
            match request.state {
                RequestState::Approved => assert_eq!(approvals, usize::from(required)),
                RequestState::Rejected => {
                    assert_eq!(rejects, 1);
                    assert!(approvals < usize::from(required));
                }
                other => panic!("round {round}: {other:?}"),
            }
            let decided = answers
                .iter()
                .filter(|a| matches!(a, Ok(m) if m.starts_with("Approved.") || m.starts_with("Rejected.")))
                .count();
            assert_eq!(decided, 1, "one vote decides, round {round}: {answers:?}");
            for answer in &answers {
                assert!(
                    matches!(answer, Ok(_) | Err(AppError::Conflict(_))),
                    "round {round}: {answer:?}"
                );
            }
        }
        // Exactly one PutApprovalResult per request, whoever decided it.
        assert_eq!(fakes.pipelines.puts.load(Ordering::SeqCst), rounds);
    }
}

#[tokio::test]
async fn codepipeline_unreachable_at_the_deciding_vote_leaves_the_delivery_to_the_poller() {
    let (state, fakes, org) = setup(1);
    let id = fakes::waiting_request(
        &fakes,
        &org,
        "identity-service",
        "pre-prod",
        "c0ffee0",
        "dana",
    );
    fakes.pipelines.unreachable_reads.store(1, Ordering::SeqCst);
    let said = vote(&state, &person("sam", &["sre"]), &id, Decision::Reject)
        .await
        .expect("vote");
    assert_eq!(
        said,
        "Rejected. CodePipeline is not answering right now; Gatehouse will keep trying."
    );
    assert_eq!(fakes.pipelines.puts.load(Ordering::SeqCst), 0);
    assert_eq!(fakes.approvals.get(&id).state, RequestState::Rejected);
    // The poller's pass sends it, once.
    let report = server::jobs::poller::poll(&state, std::time::Duration::ZERO)
        .await
        .expect("poll");
    assert_eq!(report.delivered, 1);
    assert_eq!(fakes.pipelines.puts.load(Ordering::SeqCst), 1);
    let request = fakes.approvals.get(&id);
    assert_eq!(
        request.delivery.and_then(|d| d.outcome),
        Some(DeliveryOutcome::Delivered)
    );
    assert!(matches!(
        fakes.pipelines.now(&request.pipeline),
        ApprovalNow::Answered(a) if !a.approved
    ));
    let again = server::jobs::poller::poll(&state, std::time::Duration::ZERO)
        .await
        .expect("poll");
    assert_eq!(again.delivered, 0);
    assert_eq!(fakes.pipelines.puts.load(Ordering::SeqCst), 1);
}

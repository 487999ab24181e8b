//! "Only the right people release, exactly once", tried the way crashes,
//! lost responses and several people at once try it: every policy shape
//! (1-of-M, 2-of-M, 3-of-M) with people clicking at the same moment over
//! many rounds, a decision left undecided, and deliveries interrupted at
//! every step, counting the calls CodePipeline receives.

use crate::common;

use app::ssr::ports::ApprovalTarget;
use app::ssr::Mode;
use common::{config, count, shipped_org_config, spawn_with, Person, TestApp};
use server::simulators::codepipeline::{Faults, RevisionSpec};
use server::simulators::github::CommitSpec;
use sqlx::PgPool;
use std::path::PathBuf;
use std::sync::Arc;

/// The shipped org configuration with Pre-Prod needing three approvers, so
/// that 1-of-M (Stage, QA), 2-of-M (Prod) and 3-of-M (Pre-Prod) all run.
fn org_with_three_for_pre_prod() -> PathBuf {
    let text = std::fs::read_to_string(shipped_org_config()).expect("org.toml");
    let pre_prod = "id = \"pre-prod\"";
    let at = text.find(pre_prod).expect("pre-prod");
    let rule = "approvers = [\"sre\", \"qa\"]\n";
    let rule_at = at + text[at..].find(rule).expect("pre-prod approvers") + rule.len();
    let mut edited = text.clone();
    edited.insert_str(rule_at, "required_approvals = 3\n");
    let path = std::env::temp_dir().join(format!("gatehouse-org-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, edited).expect("write org");
    path
}

async fn app_with(pool: PgPool, org: PathBuf) -> TestApp {
    let app = spawn_with(pool, config(Mode::Demo, org)).await;
    app.poll().await;
    app
}

fn target(pipeline: &str) -> ApprovalTarget {
    ApprovalTarget {
        pipeline: pipeline.into(),
        stage: "Approval".into(),
        action: "ManualApproval".into(),
    }
}

/// Runs a new execution of `service`'s pipeline into `env` up to its
/// approval, with a commit by a teammate GitHub knows; returns the request.
async fn fresh_request(app: &TestApp, service: &str, env: &str, round: usize) -> String {
    let pipeline = format!("{service}-{env}");
    let repo: String = sqlx::query_scalar("SELECT repository FROM services WHERE id = $1")
        .bind(service)
        .fetch_one(&app.pool)
        .await
        .expect("service");
    let sha = format!("{:040x}", 0x5eed_0000_u64 + round as u64);
    app.github.as_ref().expect("github").add_commit(
        &repo,
        CommitSpec {
            sha: sha.clone(),
            message: format!("Round {round} of the concurrency test"),
            author_login: Some("kai.teammate".into()),
            author_name: "Kai Teammate".into(),
            author_email: None,
            date: chrono::Utc::now(),
        },
    );
    let sim = app.simulator.as_ref().expect("simulator");
    // An approval still waiting holds the stage (SUPERSEDED mode): answer
    // it in the console first, as a release manager clearing the way would.
    sim.answer_out_of_band(&pipeline, true, "Cleared for the next round");
    sim.start_execution(
        &pipeline,
        RevisionSpec {
            commit: sha.clone(),
            message: format!("Round {round}"),
            branch: None,
        },
    )
    .expect("pipeline");
    sim.advance_clock(chrono::Duration::seconds(120));
    app.poll().await;
    sqlx::query_scalar::<_, uuid::Uuid>(
        "SELECT id FROM approval_requests WHERE pipeline = $1 AND commit_sha = $2 AND state = 'pending'",
    )
    .bind(&pipeline)
    .bind(&sha)
    .fetch_one(&app.pool)
    .await
    .unwrap_or_else(|e| panic!("no pending request for {pipeline} in round {round}: {e}"))
    .to_string()
}

/// Everyone in `people` approves `request` at the same moment; returns each
/// answer's status and text.
async fn approve_together(people: &[Arc<Person>], request: &str) -> Vec<(u16, String)> {
    let start = Arc::new(tokio::sync::Barrier::new(people.len()));
    let tasks: Vec<_> = people
        .iter()
        .map(|person| {
            let (person, start, request) = (person.clone(), start.clone(), request.to_owned());
            tokio::spawn(async move {
                // Prod approvals of services whose dependencies also wait
                // override the Prod plan (tested in prod_plan.rs); a
                // reason where nothing blocks changes nothing.
                let mut form = vec![
                    ("request", request.as_str()),
                    ("decision", "approve"),
                    (
                        "override_reason",
                        "Approving together; the plan is tested elsewhere",
                    ),
                ];
                for t in app::domain::TestType::ALL {
                    form.push(("passed[]", t.as_str()));
                }
                start.wait().await;
                let response = person.call("approvals/decide", &form).await;
                let status = response.status().as_u16();
                (status, response.text().await.expect("body"))
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.expect("task"));
    }
    out
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn people_approving_at_once_never_wedge_a_request_of_any_shape(pool: PgPool) {
    let app = app_with(pool.clone(), org_with_three_for_pre_prod()).await;
    let mut people = Vec::new();
    for (login, role) in [
        ("qa.one", "qa"),
        ("qa.two", "qa"),
        ("qa.three", "qa"),
        ("sre.one", "sre"),
        ("sre.two", "sre"),
    ] {
        people.push(Arc::new(app.person(login, &[role]).await));
    }
    let qa: Vec<Arc<Person>> = people[..3].to_vec();
    let services = [
        "orders-api",
        "payments-service",
        "inventory-service",
        "identity-service",
        "mobile-bff",
    ];
    // (environment, rule's N, who clicks): exactly N at once, and more than N.
    let shapes: [(&str, usize, Vec<Arc<Person>>); 6] = [
        ("qa", 1, qa.clone()),
        ("prod", 2, vec![people[0].clone(), people[3].clone()]),
        ("prod", 2, people.clone()),
        (
            "pre-prod",
            3,
            vec![people[0].clone(), people[1].clone(), people[3].clone()],
        ),
        ("pre-prod", 3, people.clone()),
        ("stage", 1, vec![people[3].clone(), people[4].clone()]),
    ];
    let rounds = 48;
    for round in 0..rounds {
        let (env, n, clicking) = &shapes[round % shapes.len()];
        let service = services[round % services.len()];
        let request = fresh_request(&app, service, env, round).await;
        let puts_before = app.aws_calls("PutApprovalResult");
        let answers = approve_together(clicking, &request).await;
        let ok = answers.iter().filter(|(s, _)| *s == 200).count();
        let decided = answers
            .iter()
            .filter(|(s, text)| *s == 200 && text.contains("CodePipeline has the decision"))
            .count();
        let refused = answers.iter().filter(|(s, _)| *s == 409).count();
        let context = format!(
            "round {round}: {env}, {n} of M, {} clicking: {answers:?}",
            clicking.len()
        );
        assert_eq!(ok, *n, "exactly N votes are accepted; {context}");
        assert_eq!(decided, 1, "one of them decides; {context}");
        assert_eq!(
            refused,
            clicking.len() - n,
            "the rest are told it is decided; {context}"
        );
        let (state, votes, deliveries): (String, i64, i64) = sqlx::query_as(
            r#"SELECT r.state, (SELECT count(*) FROM approval_votes v WHERE v.request_id = r.id),
                      (SELECT count(*) FROM approval_deliveries d WHERE d.request_id = r.id AND d.outcome = 'delivered')
               FROM approval_requests r WHERE r.id = $1::uuid"#,
        )
        .bind(&request)
        .fetch_one(&pool)
        .await
        .expect("request");
        assert_eq!(
            (state.as_str(), votes, deliveries),
            ("approved", *n as i64, 1),
            "{context}"
        );
        assert_eq!(
            app.aws_calls("PutApprovalResult") - puts_before,
            1,
            "CodePipeline hears once; {context}"
        );
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM approval_requests WHERE state = 'pending' AND commit_sha LIKE '%5eed00%'").await,
        0,
        "no round left a request waiting"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_request_whose_votes_already_decide_it_is_decided_by_the_poller(pool: PgPool) {
    let app = app_with(pool.clone(), shipped_org_config()).await;
    let request: String = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE pipeline = 'orders-api-prod' AND state = 'pending'",
    )
    .fetch_one(&pool)
    .await
    .expect("prod request");
    // Two approvals committed, and no decision: the state the race left.
    for login in ["sam.okafor", "priya.raman"] {
        sqlx::query(
            r#"INSERT INTO approval_votes (request_id, user_id, person, decision, sign_off)
               SELECT $1::uuid, id, person, 'approve', '{"marks": [], "evidence": []}' FROM users WHERE login = $2"#,
        )
        .bind(&request)
        .bind(login)
        .execute(&pool)
        .await
        .expect("vote");
    }
    let report = app.poll().await;
    assert_eq!(report.repaired, 1, "{report:?}");
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_eq!(app.aws_calls("PutApprovalResult"), 1);
    let answer = app
        .state
        .pipelines
        .last_answer(&target("orders-api-prod"))
        .await
        .expect("read")
        .expect("answered");
    assert!(answer.approved);
    assert_eq!(
        answer.summary.as_deref(),
        Some("Approved in Gatehouse by Sam Okafor, Priya Raman")
    );
    let decided_by: Option<String> = sqlx::query_scalar(
        "SELECT actor_name FROM audit_log WHERE request_id = $1::uuid AND event = 'decision'",
    )
    .bind(&request)
    .fetch_one(&pool)
    .await
    .expect("decision audited");
    assert_eq!(decided_by, None, "decided by Gatehouse itself");
    assert_eq!(app.poll().await.repaired, 0, "and only once");
}

/// Decides `pipeline`'s request as `login` and returns the request id.
async fn decide_as(
    app: &TestApp,
    login: &str,
    pipeline: &str,
    form: &[(&str, &str)],
) -> (String, String) {
    app.sign_in(login).await;
    let request: String = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE pipeline = $1 AND state = 'pending'",
    )
    .bind(pipeline)
    .fetch_one(&app.pool)
    .await
    .expect("request");
    let mut fields = vec![("request", request.as_str())];
    fields.extend_from_slice(form);
    let response = app.call("approvals/decide", &fields).await;
    assert_eq!(response.status(), 200);
    (request, response.json::<String>().await.expect("json"))
}

async fn delivery(pool: &PgPool, request: &str) -> (Option<String>, Option<String>) {
    sqlx::query_as(
        "SELECT outcome, aws_result FROM approval_deliveries WHERE request_id = $1::uuid",
    )
    .bind(request)
    .fetch_one(pool)
    .await
    .expect("delivery")
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn gatehouse_s_own_rejection_whose_answer_was_lost_is_recognised_and_not_sent_again(
    pool: PgPool,
) {
    let app = app_with(pool.clone(), shipped_org_config()).await;
    let sim = app.simulator.clone().expect("simulator");
    sim.set_faults(Faults {
        lost_response_ms: 5_000,
        operation: Some("PutApprovalResult".into()),
        ..Faults::default()
    });
    let (request, said) = decide_as(
        &app,
        "priya.raman",
        "orders-api-qa",
        &[
            ("decision", "reject"),
            ("comment", "Totals are wrong on refunds"),
        ],
    )
    .await;
    assert!(said.contains("Gatehouse will keep trying"), "{said}");
    sim.set_faults(Faults::default());
    app.poll().await;
    let (outcome, result) = delivery(&pool, &request).await;
    assert_eq!(outcome.as_deref(), Some("delivered"), "{result:?}");
    assert!(
        result
            .as_deref()
            .is_some_and(|r| r.contains("an earlier attempt was accepted")),
        "{result:?}"
    );
    assert_eq!(
        app.aws_calls("PutApprovalResult"),
        1,
        "read first, never re-sent"
    );
    let answer = app
        .state
        .pipelines
        .last_answer(&target("orders-api-qa"))
        .await
        .expect("read")
        .expect("answered");
    assert!(!answer.approved);
    assert_eq!(
        answer.summary.as_deref(),
        Some("Rejected in Gatehouse by Priya Raman (qa): Totals are wrong on refunds"),
        "CodePipeline keeps the summary as sent"
    );
    assert!(
        answer
            .updated_by
            .as_deref()
            .is_some_and(|by| by.ends_with("user/GATEHOUSEDEMO")),
        "{answer:?}"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_decision_sent_before_a_crash_is_found_in_codepipeline_and_not_sent_again(pool: PgPool) {
    let app = app_with(pool.clone(), shipped_org_config()).await;
    let sim = app.simulator.clone().expect("simulator");
    // The first delivery cannot read CodePipeline, so it sends nothing.
    sim.set_faults(Faults {
        server_errors: 100,
        operation: Some("GetPipelineState".into()),
        ..Faults::default()
    });
    let (request, said) = decide_as(
        &app,
        "priya.raman",
        "payments-service-qa",
        &[("decision", "approve"), ("passed[]", "qa")],
    )
    .await;
    assert!(said.contains("Gatehouse will keep trying"), "{said}");
    assert_eq!(app.aws_calls("PutApprovalResult"), 0);
    sim.set_faults(Faults::default());
    // Another process claimed it, sent it, and died before recording it.
    let (token, summary): (String, String) = sqlx::query_as(
        "SELECT r.token, d.summary FROM approval_requests r JOIN approval_deliveries d ON d.request_id = r.id WHERE r.id = $1::uuid",
    )
    .bind(&request)
    .fetch_one(&pool)
    .await
    .expect("delivery");
    app.state
        .pipelines
        .put_approval_result(&target("payments-service-qa"), &token, true, &summary)
        .await
        .expect("sent before the crash");
    sqlx::query("UPDATE approval_deliveries SET lease_until = now() - interval '1 second', attempts = attempts + 1 WHERE request_id = $1::uuid")
        .bind(&request)
        .execute(&pool)
        .await
        .expect("lease lapses");
    let report = app.poll().await;
    assert_eq!(report.delivered, 1);
    let (outcome, result) = delivery(&pool, &request).await;
    assert_eq!(outcome.as_deref(), Some("delivered"), "{result:?}");
    assert_eq!(
        app.aws_calls("PutApprovalResult"),
        1,
        "at most one per decision"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_failed_re_read_leaves_the_delivery_open_until_codepipeline_answers(pool: PgPool) {
    let app = app_with(pool.clone(), shipped_org_config()).await;
    let sim = app.simulator.clone().expect("simulator");
    sim.set_faults(Faults {
        lost_response_ms: 5_000,
        operation: Some("PutApprovalResult".into()),
        ..Faults::default()
    });
    let (request, _) = decide_as(
        &app,
        "priya.raman",
        "inventory-service-qa",
        &[("decision", "approve"), ("passed[]", "qa")],
    )
    .await;
    // CodePipeline throttles every read for a while.
    sim.set_faults(Faults {
        throttle: 1_000,
        operation: Some("GetPipelineState".into()),
        ..Faults::default()
    });
    for _ in 0..3 {
        app.poll().await;
        let (outcome, _) = delivery(&pool, &request).await;
        assert_eq!(
            outcome, None,
            "nothing settles without an answer read from CodePipeline"
        );
    }
    sim.set_faults(Faults::default());
    app.poll().await;
    let (outcome, result) = delivery(&pool, &request).await;
    assert_eq!(outcome.as_deref(), Some("delivered"), "{result:?}");
    assert_eq!(app.aws_calls("PutApprovalResult"), 1);
    let errors = count(
        &pool,
        &format!(
            "SELECT count(*) FROM audit_log WHERE request_id = '{request}' AND event = 'aws_error'"
        ),
    )
    .await;
    assert_eq!(
        errors, 4,
        "the lost response and three throttled reads are audited"
    );
    common::audited(
        &app,
        "aws_error",
        "Sending the decision on inventory-service-qa to CodePipeline failed",
    )
    .await;
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_decision_answered_in_the_console_meanwhile_is_recorded_as_theirs(pool: PgPool) {
    let app = app_with(pool.clone(), shipped_org_config()).await;
    let sim = app.simulator.clone().expect("simulator");
    sim.set_faults(Faults {
        server_errors: 100,
        operation: Some("GetPipelineState".into()),
        ..Faults::default()
    });
    let (request, _) = decide_as(
        &app,
        "priya.raman",
        "mobile-bff-qa",
        &[("decision", "approve"), ("passed[]", "qa")],
    )
    .await;
    sim.set_faults(Faults::default());
    assert!(sim.answer_out_of_band("mobile-bff-qa", false, "Stopped by the release manager"));
    app.poll().await;
    let (outcome, result) = delivery(&pool, &request).await;
    assert_eq!(outcome.as_deref(), Some("reconciled"));
    common::audited(
        &app,
        "aws_reconciled",
        "CodePipeline already had the decision on mobile-bff-qa",
    )
    .await;
    let result = result.expect("result");
    assert!(
        result.contains(
            "answered in CodePipeline by arn:aws:iam::000000000000:user/console-reviewer: rejected"
        ),
        "{result}"
    );
    assert_eq!(app.aws_calls("PutApprovalResult"), 0);
}

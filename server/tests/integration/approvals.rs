//! The approval queue end to end: poller, policy, exactly-once delivery to
//! the CodePipeline simulator over HTTP, and the audit log.

use crate::common;

use app::domain::request::{DeliveryOutcome, RequestState};
use app::ssr::ports::ApprovalTarget;
use app::ssr::Mode;
use app::views::approvals::{ApprovalsView, QueueItem};
use common::{count, spawn, TestApp};
use server::simulators::codepipeline::Faults;
use sqlx::PgPool;
use std::time::Duration;

/// Runs the demo pipelines up to their approvals and lets the poller see them.
async fn queue(pool: PgPool) -> TestApp {
    let app = spawn(pool, Mode::Demo).await;
    app.simulator
        .as_ref()
        .expect("demo simulator")
        .advance_clock(chrono::Duration::seconds(60));
    let report = server::jobs::poller::poll(&app.state, Duration::ZERO)
        .await
        .expect("poll");
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(
        report.new_requests, 40,
        "10 services x 4 environments with approvals"
    );
    app
}

async fn sign_in(app: &TestApp, login: &str) {
    let response = app.call("demo/sign-in", &[("login", login)]).await;
    assert_eq!(response.status(), 200, "sign in as {login}");
}

async fn view(app: &TestApp) -> ApprovalsView {
    app.call("approvals", &[])
        .await
        .json()
        .await
        .expect("approvals json")
}

async fn item(app: &TestApp, pipeline: &str) -> QueueItem {
    view(app)
        .await
        .pending
        .into_iter()
        .find(|q| q.item.pipeline == pipeline)
        .expect(pipeline)
}

fn target(pipeline: &str) -> ApprovalTarget {
    ApprovalTarget {
        pipeline: pipeline.into(),
        stage: "Approval".into(),
        action: "ManualApproval".into(),
    }
}

fn put_calls(app: &TestApp) -> u64 {
    app.simulator
        .as_ref()
        .expect("simulator")
        .calls()
        .get("PutApprovalResult")
        .copied()
        .unwrap_or(0)
}

/// Posts a decision on `request` as the hydrated page does.
async fn decide(app: &TestApp, request: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![("request", request)];
    form.extend_from_slice(fields);
    app.call("approvals/decide", &form).await
}

/// Asserts that `response` refused with `status` and says `words`.
async fn assert_refused(response: reqwest::Response, status: u16, words: &str) {
    assert_eq!(response.status(), status);
    let body = response.text().await.expect("body");
    assert!(body.contains(words), "{body}");
}

/// The audit events of one request, oldest first.
async fn audit_events(pool: &PgPool, request: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT event FROM audit_log WHERE request_id = $1::uuid ORDER BY id")
        .bind(request)
        .fetch_all(pool)
        .await
        .expect("audit")
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_qa_engineer_signs_off_a_qa_request_and_codepipeline_moves_on(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "orders-api-qa").await;
    assert_eq!(q.blocked, None, "QA may approve QA");
    assert_eq!(q.item.branch, Some(common::demo_releases().branch()));
    assert_eq!(q.test_types, [app::domain::TestType::Qa]);

    let response = decide(
        &app,
        &q.item.id,
        &[
            ("decision", "approve"),
            ("passed[]", "qa"),
            ("evidence", "https://ci.example/run/42"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<String>().await.expect("json"),
        "Approved. CodePipeline has the decision."
    );
    assert_eq!(put_calls(&app), 1);
    assert_eq!(
        app.state
            .pipelines
            .pending_approval(&target("orders-api-qa"))
            .await,
        Ok(None)
    );
    let answer = app
        .state
        .pipelines
        .last_answer(&target("orders-api-qa"))
        .await
        .expect("read")
        .expect("answered");
    assert!(answer.approved);
    assert_eq!(
        answer.summary.as_deref(),
        Some("Approved in Gatehouse by Priya Raman (qa)")
    );

    let history = view(&app).await.history;
    let done = history
        .iter()
        .find(|i| i.id == q.item.id)
        .expect("in history");
    assert_eq!(done.state, RequestState::Approved);
    assert_eq!(
        done.delivery.as_ref().and_then(|d| d.outcome),
        Some(DeliveryOutcome::Delivered)
    );
    assert_eq!(
        done.votes[0].sign_off.evidence,
        ["https://ci.example/run/42"]
    );
    let events = audit_events(&pool, &q.item.id).await;
    assert_eq!(events, ["requested", "vote", "decision", "aws_delivered"]);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_approval_without_every_sign_off_names_what_is_missing(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "checkout-ui-qa").await;
    let response = decide(&app, &q.item.id, &[("decision", "approve")]).await;
    assert_refused(
        response,
        422,
        "Sign off every required test before approving: missing QA.",
    )
    .await;
    assert_eq!(put_calls(&app), 0);
    assert_eq!(count(&pool, "SELECT count(*) FROM approval_votes").await, 0);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn each_test_type_is_marked_on_its_own_and_not_applicable_needs_a_reason(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "checkout-ui-qa").await;
    let refused = [
        (
            vec![("marks[qa]", "not-applicable"), ("reasons[qa]", "  ")],
            "Say why QA testing does not apply: a reason is required.",
        ),
        (
            vec![("marks[qa]", "skipped")],
            "Mark QA testing passed or not applicable, not \u{201c}skipped\u{201d}.",
        ),
        (
            vec![("marks[qa]", "")],
            "Sign off every required test before approving: missing QA.",
        ),
    ];
    for (form, sentence) in refused {
        let mut form = form;
        form.push(("decision", "approve"));
        let response = decide(&app, &q.item.id, &form).await;
        assert!(response.status().is_client_error(), "{form:?}");
        let body = response.text().await.expect("body");
        assert!(body.contains(sentence), "{form:?}: {body}");
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM approval_votes").await, 0);
    let response = decide(
        &app,
        &q.item.id,
        &[
            ("decision", "approve"),
            ("marks[qa]", "not-applicable"),
            ("reasons[qa]", "Copy change only; covered by UI review"),
        ],
    )
    .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let (sign_off,): (serde_json::Value,) = sqlx::query_as("SELECT sign_off FROM approval_votes")
        .fetch_one(&pool)
        .await
        .expect("vote");
    assert!(
        sign_off
            .to_string()
            .contains("Copy change only; covered by UI review"),
        "{sign_off}"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_developer_sees_no_prod_buttons_and_a_forged_post_is_refused(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "diego.alvarez").await;
    let q = item(&app, "orders-api-prod").await;
    assert_eq!(
        q.blocked.as_deref(),
        Some("Only SRE or QA may approve Prod.")
    );
    let response = decide(&app, &q.item.id, &[("decision", "approve")]).await;
    assert_refused(response, 403, "Only SRE or QA may approve Prod.").await;
    let stage = item(&app, "orders-api-stage").await;
    assert_eq!(stage.blocked, None, "but may approve Stage for BackEnd");
    let other_team = item(&app, "ios-app-stage").await;
    assert!(other_team.blocked.is_some(), "not another team's Stage");
    assert_eq!(put_calls(&app), 0);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_hundred_concurrent_approvals_call_codepipeline_once(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "payments-service-qa").await;
    let calls = (0..100).map(|_| {
        let client = app.client.clone();
        let url = format!("{}/api/approvals/decide", app.base);
        let id = q.item.id.clone();
        let base = app.base.clone();
        async move {
            client
                .post(url)
                .header("Accept", "application/json")
                .header("Origin", &base)
                .form(&[
                    ("request", id.as_str()),
                    ("decision", "approve"),
                    ("passed[]", "qa"),
                ])
                .send()
                .await
                .expect("POST")
                .status()
        }
    });
    let statuses = futures_join_all(calls).await;
    let ok = statuses.iter().filter(|s| s.as_u16() == 200).count();
    let conflicts = statuses.iter().filter(|s| s.as_u16() == 409).count();
    assert_eq!((ok, conflicts), (1, 99), "{statuses:?}");
    assert_eq!(put_calls(&app), 1, "exactly one PutApprovalResult");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM approval_deliveries").await,
        1
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM approval_votes").await, 1);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE event = 'decision'"
        )
        .await,
        1
    );
}

async fn futures_join_all<F: std::future::Future<Output = reqwest::StatusCode> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<reqwest::StatusCode> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn prod_needs_two_approvers_and_codepipeline_hears_once(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "sam.okafor").await;
    let q = item(&app, "identity-service-prod").await;
    let first = decide(&app, &q.item.id, &[("decision", "approve")]).await;
    assert_eq!(
        first.json::<String>().await.expect("json"),
        "Your approval is recorded; 1 more approver is needed."
    );
    let again = decide(&app, &q.item.id, &[("decision", "approve")]).await;
    assert_eq!(again.status(), 409, "the same person cannot count twice");
    assert_eq!(put_calls(&app), 0);

    sign_in(&app, "priya.raman").await;
    let second = decide(&app, &q.item.id, &[("decision", "approve")]).await;
    assert_eq!(
        second.json::<String>().await.expect("json"),
        "Approved. CodePipeline has the decision."
    );
    assert_eq!(put_calls(&app), 1);
    let answer = app
        .state
        .pipelines
        .last_answer(&target("identity-service-prod"))
        .await
        .expect("read")
        .expect("answered");
    assert_eq!(
        answer.summary.as_deref(),
        Some("Approved in Gatehouse by Sam Okafor, Priya Raman (qa)")
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_late_vote_names_only_those_whose_votes_decided(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "sam.okafor").await;
    let q = item(&app, "identity-service-prod").await;
    let first = decide(&app, &q.item.id, &[("decision", "approve")]).await;
    assert_eq!(first.status(), 200);
    sign_in(&app, "priya.raman").await;
    let rejected = decide(
        &app,
        &q.item.id,
        &[("decision", "reject"), ("comment", "Login fails on Safari")],
    )
    .await;
    assert_eq!(
        rejected.json::<String>().await.expect("json"),
        "Rejected. CodePipeline has the decision."
    );
    sign_in(&app, "morgan.lee").await;
    let late = decide(&app, &q.item.id, &[("decision", "approve")]).await;
    assert_eq!(late.status(), 409);
    let said = late.text().await.expect("body");
    assert!(said.contains("Already rejected by Priya Raman."), "{said}");
    assert!(
        !said.contains("Sam Okafor"),
        "an approver is named as a rejecter: {said}"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_reject_needs_a_comment_and_fails_the_execution(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "sam.okafor").await;
    let q = item(&app, "inventory-service-pre-prod").await;
    let bare = decide(&app, &q.item.id, &[("decision", "reject")]).await;
    assert_refused(bare, 422, "a comment is required").await;
    let rejected = decide(
        &app,
        &q.item.id,
        &[
            ("decision", "reject"),
            ("comment", "Stock counts drift under load"),
        ],
    )
    .await;
    assert_eq!(
        rejected.json::<String>().await.expect("json"),
        "Rejected. CodePipeline has the decision."
    );
    let answer = app
        .state
        .pipelines
        .last_answer(&target("inventory-service-pre-prod"))
        .await
        .expect("read")
        .expect("answered");
    assert!(!answer.approved);
    assert!(answer
        .summary
        .expect("summary")
        .ends_with(": Stock counts drift under load"));
    // The delivery's audit row says which decision CodePipeline took.
    common::audited(
        &app,
        "aws_delivered",
        "CodePipeline took the decision on inventory-service-pre-prod (rejected)",
    )
    .await;
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_accepted_call_whose_answer_was_lost_is_reconciled_by_the_poller(pool: PgPool) {
    let app = queue(pool.clone()).await;
    let sim = app.simulator.clone().expect("simulator");
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "identity-service-qa").await;

    // CodePipeline records the approval, but its answer never arrives.
    sim.set_faults(Faults {
        lost_response_ms: 5_000,
        operation: Some("PutApprovalResult".into()),
        ..Faults::default()
    });
    let response = decide(
        &app,
        &q.item.id,
        &[("decision", "approve"), ("passed[]", "qa")],
    )
    .await;
    assert_eq!(
        response.json::<String>().await.expect("json"),
        "Approved. CodePipeline is not answering right now; Gatehouse will keep trying."
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM approval_deliveries WHERE outcome IS NULL"
        )
        .await,
        1
    );
    sim.set_faults(Faults::default());

    let report = server::jobs::poller::poll(&app.state, Duration::ZERO)
        .await
        .expect("poll");
    assert_eq!(report.delivered, 1);
    let (outcome, result): (String, String) =
        sqlx::query_as("SELECT outcome, aws_result FROM approval_deliveries")
            .fetch_one(&pool)
            .await
            .expect("delivery");
    assert_eq!(outcome, "delivered");
    assert!(
        result.contains("an earlier attempt was accepted"),
        "{result}"
    );
    let events = audit_events(&pool, &q.item.id).await;
    assert_eq!(
        events,
        [
            "requested",
            "vote",
            "decision",
            "aws_error",
            "aws_delivered"
        ]
    );
    let answer = app
        .state
        .pipelines
        .last_answer(&target("identity-service-qa"))
        .await
        .expect("read")
        .expect("answered");
    assert!(answer.approved, "approved once, and only once");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_approval_answered_in_the_console_is_closed_and_cannot_be_voted(pool: PgPool) {
    let app = queue(pool.clone()).await;
    let sim = app.simulator.clone().expect("simulator");
    assert!(sim.answer_out_of_band("mobile-bff-qa", false, "Rejected in the AWS console"));
    let report = server::jobs::poller::poll(&app.state, Duration::ZERO)
        .await
        .expect("poll");
    assert_eq!(report.closed, 1);
    common::audited(
        &app,
        "closed",
        "The approval of mobile-bff-qa closed without a decision",
    )
    .await;
    sign_in(&app, "priya.raman").await;
    let closed = view(&app)
        .await
        .history
        .into_iter()
        .find(|i| i.pipeline == "mobile-bff-qa")
        .expect("closed");
    assert_eq!(closed.state, RequestState::Closed);
    let vote = decide(
        &app,
        &closed.id,
        &[("decision", "approve"), ("passed[]", "qa")],
    )
    .await;
    assert_refused(vote, 409, "This request is closed").await;
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_audit_log_refuses_updates_and_deletes(pool: PgPool) {
    let app = queue(pool.clone()).await;
    drop(app);
    for sql in [
        "UPDATE audit_log SET event = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        assert!(
            err.to_string().contains("audit_log is append-only"),
            "{sql}: {err}"
        );
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE event = 'requested'"
        )
        .await,
        40
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_form_posted_without_javascript_comes_back_with_a_notice(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "design-system-qa").await;
    let response = app
        .submit(
            "approvals/decide",
            &[
                ("request", q.item.id.as_str()),
                ("decision", "approve"),
                ("passed[]", "qa"),
            ],
            "/approvals",
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/approvals");
    let (_, html) = app.page("/approvals?tab=history").await;
    assert!(
        html.contains("Approved. CodePipeline has the decision."),
        "the notice is shown once"
    );
    let (_, html) = app.page("/approvals?tab=history").await;
    assert!(
        !html.contains("Approved. CodePipeline has the decision."),
        "and then gone"
    );
    assert!(html.contains("Design system to QA"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn polling_again_reads_each_pipeline_once_and_no_known_revision(pool: PgPool) {
    let app = queue(pool).await;
    let sim = app.simulator.clone().expect("simulator");
    let before = sim.calls();
    let report = server::jobs::poller::poll(&app.state, Duration::ZERO)
        .await
        .expect("poll");
    assert_eq!(
        (report.pipelines, report.new_requests, report.closed),
        (40, 0, 0)
    );
    let after = sim.calls();
    let delta =
        |op: &str| after.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0);
    assert_eq!(delta("GetPipelineState"), 40, "one read per pipeline");
    assert_eq!(
        delta("GetPipelineExecution"),
        0,
        "known approvals are not read again"
    );
    assert_eq!(delta("ListActionExecutions"), 0);
}

/// Reads server-sent events until one carries `topic`; panics after 5 s.
async fn next_change(response: &mut reqwest::Response, topic: &str) -> std::time::Duration {
    let started = std::time::Instant::now();
    let mut seen = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {topic} event within 5 s; saw {seen:?}"))
            .expect("stream")
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if seen.contains("event: change") && seen.contains(&format!("\"topic\":\"{topic}\"")) {
            return started.elapsed();
        }
    }
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_committed_change_reaches_an_open_event_stream_within_a_second(pool: PgPool) {
    let app = queue(pool.clone()).await;
    let mut events = app
        .client
        .get(format!("{}/events", app.base))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    // A vote committed through the app...
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "orders-api-qa").await;
    let voted = decide(
        &app,
        &q.item.id,
        &[("decision", "reject"), ("comment", "Fails checkout")],
    )
    .await;
    assert_eq!(voted.status(), 200);
    let took = next_change(&mut events, "approvals").await;
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // ...and a write by another process (here: plain SQL) alike.
    sqlx::query("INSERT INTO calendar_changes (kind, actor_id, actor_name, reason, blackout_name, first_day, last_day, environments) VALUES ('add-blackout', gen_random_uuid(), 'Another replica', 'test', 'Freeze', '2030-01-01', '2030-01-02', '{prod}')")
        .execute(&pool)
        .await
        .expect("insert");
    let took = next_change(&mut events, "calendar").await;
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_pipeline_that_does_not_match_the_configuration_is_shown_to_admins_and_sre(pool: PgPool) {
    let app = queue(pool).await;
    let problems = server::jobs::poller::check_pipelines(&app.state, Duration::ZERO)
        .await
        .expect("check");
    assert!(
        problems.is_empty(),
        "the demo pipelines match: {problems:?}"
    );
    // Someone renames the approval action of one pipeline in CodePipeline.
    app.simulator.as_ref().expect("simulator").add_pipeline(
        server::simulators::codepipeline::PipelineSpec {
            name: "orders-api-qa".into(),
            repository: "acme-retail/orders-api".into(),
            branch: "release/2027.01".into(),
            approval: Some(("Approval".into(), "QAGate".into())),
        },
    );
    let problems = server::jobs::poller::check_pipelines(&app.state, Duration::ZERO)
        .await
        .expect("check");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].pipeline, "orders-api-qa");
    assert!(
        problems[0].problem.contains("has no action ManualApproval"),
        "{problems:?}"
    );
    let row = common::audited(
        &app,
        "pipeline_problem",
        "orders-api-qa cannot be governed as configured",
    )
    .await;
    assert_eq!(row.team.as_deref(), Some("backend"));

    sign_in(&app, "sam.okafor").await;
    assert_eq!(view(&app).await.problems.len(), 1);
    let (_, html) = app.page("/approvals").await;
    assert!(
        html.contains("Configuration problems: 1 pipeline cannot be governed"),
        "{html}"
    );
    sign_in(&app, "priya.raman").await;
    assert!(
        view(&app).await.problems.is_empty(),
        "QA does not see configuration problems"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn after_a_rejection_a_new_run_is_started_and_audited(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "orders-api-qa").await;
    // Still waiting: decide it instead.
    let early = app
        .call("approvals/rerun", &[("request", &q.item.id)])
        .await;
    assert_eq!(early.status(), 409);
    let rejected = decide(
        &app,
        &q.item.id,
        &[("decision", "reject"), ("comment", "Totals are wrong")],
    )
    .await;
    assert_eq!(rejected.status(), 200);
    assert!(view(&app).await.may_rerun.contains(&q.item.id));

    sign_in(&app, "lena.fischer").await;
    let refused = app
        .call("approvals/rerun", &[("request", &q.item.id)])
        .await;
    assert_eq!(refused.status(), 403);
    assert!(view(&app).await.may_rerun.is_empty());

    sign_in(&app, "sam.okafor").await;
    let started = app
        .call("approvals/rerun", &[("request", &q.item.id)])
        .await;
    assert_eq!(started.status(), 200);
    let said: String = started.json().await.expect("json");
    assert!(
        said.starts_with("A new run of orders-api-qa started"),
        "{said}"
    );
    let calls = app.simulator.as_ref().expect("simulator").calls();
    assert_eq!(calls.get("StartPipelineExecution"), Some(&1));
    assert!(audit_events(&pool, &q.item.id)
        .await
        .contains(&"rerun".to_owned()));
    let by: String = sqlx::query_scalar("SELECT actor_name FROM audit_log WHERE event = 'rerun'")
        .fetch_one(&pool)
        .await
        .expect("audited");
    assert_eq!(by, "Sam Okafor");
    common::audited(
        &app,
        "rerun",
        "Sam Okafor started a new run of orders-api-qa",
    )
    .await;
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_delivered_approval_is_not_run_again(pool: PgPool) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "orders-api-qa").await;
    let approved = decide(
        &app,
        &q.item.id,
        &[("decision", "approve"), ("passed[]", "qa")],
    )
    .await;
    assert_eq!(approved.status(), 200);
    sign_in(&app, "sam.okafor").await;
    // An SRE may start runs, but not next to an approval CodePipeline took.
    assert!(
        !view(&app).await.may_rerun.contains(&q.item.id),
        "Run again is not offered after a delivered approval"
    );
    let forged = app
        .call("approvals/rerun", &[("request", &q.item.id)])
        .await;
    assert_refused(forged, 409, "its run goes on in CodePipeline").await;
    let calls = app.simulator.as_ref().expect("simulator").calls();
    assert_eq!(calls.get("StartPipelineExecution"), None);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn without_javascript_a_refused_sign_off_is_said_on_its_card_beside_the_sign_off(
    pool: PgPool,
) {
    let app = queue(pool.clone()).await;
    sign_in(&app, "priya.raman").await;
    let q = item(&app, "checkout-ui-qa").await;
    let response = app
        .submit(
            "approvals/decide",
            &[
                ("request", q.item.id.as_str()),
                ("decision", "approve"),
                ("marks[qa]", "not-applicable"),
                ("reasons[qa]", ""),
            ],
            "/approvals",
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let (_, html) = app.page("/approvals").await;
    let sentence = "Say why QA testing does not apply: a reason is required.";
    // Said inside the card's panel, in an alert the sign-off names; the
    // card comes first, its form open.
    let card = html
        .split(&format!("id=\"card-{}\"", q.item.id))
        .nth(1)
        .expect("the card is on the page");
    let alert_id = format!("refusal-{}", q.item.id);
    let alert = card
        .split(&format!("id=\"{alert_id}\" role=\"alert\""))
        .nth(1)
        .expect("the alert is in the card");
    assert!(
        alert[..alert.len().min(1_500)].contains(sentence),
        "{alert}"
    );
    assert!(card.contains(&format!("aria-describedby=\"{alert_id}\"")));
    assert!(html.contains("The request you decided"));
    assert!(
        !html.contains("data-testid=\"form-outcome\""),
        "nothing at the top"
    );
    assert_eq!(put_calls(&app), 0);
}

//! The Prod plan end to end: the demo's call graph read from the shipped
//! configuration, each service's Prod state from what the board's job read
//! from the CodePipeline simulator over HTTP, blocked Prod approvals on the
//! queue and the board, the audited override, strict mode, and the block
//! lifting once a dependency reaches Prod.

use crate::common;

use app::domain::deploy_dag::ProdState;
use app::ssr::Mode;
use app::views::approvals::{ApprovalsView, QueueItem};
use app::views::prod_plan::ProdPlanView;
use common::{audited, config, spawn, spawn_with, TestApp};
use sqlx::PgPool;

/// A demo whose pipelines reached their approvals, recorded by the poller
/// and the board's job.
async fn demo_with(app: TestApp) -> TestApp {
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    app.poll().await;
    let report = app.refresh_board().await;
    assert_eq!(report.errors, 0, "{report:?}");
    app
}

async fn demo(pool: PgPool) -> TestApp {
    demo_with(spawn(pool, Mode::Demo).await).await
}

async fn plan(app: &TestApp, team: Option<&str>) -> ProdPlanView {
    let form: Vec<(&str, &str)> = team.map(|t| vec![("team", t)]).unwrap_or_default();
    let response = app.call("prod-plan", &form).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("plan json")
}

fn step_ids(view: &ProdPlanView) -> Vec<Vec<String>> {
    view.steps()
        .into_iter()
        .map(|(_, nodes)| {
            let mut ids: Vec<String> = nodes
                .into_iter()
                .map(|i| view.plan.nodes[i].id.clone())
                .collect();
            ids.sort();
            ids
        })
        .collect()
}

async fn queue_item(app: &TestApp, pipeline: &str) -> QueueItem {
    let view: ApprovalsView = app.approvals().await;
    view.pending
        .into_iter()
        .find(|q| q.item.pipeline == pipeline)
        .unwrap_or_else(|| panic!("{pipeline} waits"))
}

async fn decide(app: &TestApp, request: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![("request", request), ("decision", "approve")];
    form.extend_from_slice(fields);
    app.call("approvals/decide", &form).await
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_demo_plan_orders_services_by_their_calls_with_their_prod_states(pool: PgPool) {
    let app = demo(pool).await;
    let view = plan(&app, None).await;
    assert!(view.release.is_some(), "the demo is past its code freeze");
    assert_eq!(
        step_ids(&view),
        [
            vec!["design-system", "identity-service", "inventory-service"],
            vec!["payments-service"],
            vec!["orders-api"],
            vec!["checkout-ui", "mobile-bff", "storefront-web"],
            vec!["android-app", "ios-app"],
        ]
    );
    // Every demo service waits for its Prod approval.
    assert!(view
        .plan
        .nodes
        .iter()
        .all(|n| n.state == ProdState::WaitingForApproval));
    let orders = view.plan.node("orders-api").expect("orders-api");
    assert_eq!(
        orders.blocked_on,
        ["payments-service", "inventory-service", "identity-service"]
    );
    assert!(view
        .plan
        .node("identity-service")
        .expect("identity")
        .blocked_on
        .is_empty());

    // The page draws the graph and lists the steps, without JavaScript.
    let (status, html) = app.page("/prod-plan").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "drawn"
    );
    assert!(html.contains("Step 3 of 5"), "listed");
    assert!(html.contains("Blocked on Payments service, Inventory service, Identity service"));

    // A team's view: its services and what they call.
    let mobile = plan(&app, Some("mobile")).await;
    let shown: Vec<&str> = mobile
        .shown
        .iter()
        .map(|&i| mobile.plan.nodes[i].id.as_str())
        .collect();
    assert_eq!(
        shown,
        [
            "orders-api",
            "inventory-service",
            "identity-service",
            "ios-app",
            "android-app",
            "mobile-bff"
        ]
    );
    assert_eq!(
        step_ids(&mobile),
        [vec!["mobile-bff"], vec!["android-app", "ios-app"]]
    );
    let unknown = app.call("prod-plan", &[("team", "marketing")]).await;
    assert_eq!(unknown.status(), 404);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_plan_exports_as_markdown_and_json(pool: PgPool) {
    let app = demo(pool).await;
    let md = app.get("/prod-plan/export.md").await;
    assert_eq!(md.status(), 200);
    assert_eq!(md.headers()["content-type"], "text/markdown; charset=utf-8");
    let disposition = md.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"prod-plan-"),
        "{disposition}"
    );
    let text = md.text().await.expect("body");
    assert!(text.starts_with("# Prod plan: release "), "{text}");
    assert!(text.contains("## Step 1\n"));
    assert!(text.contains(
        "| Orders API (`orders-api`) | BackEnd | Waiting for approval | payments-service (grpc), inventory-service (queue), identity-service (grpc) | payments-service, inventory-service, identity-service |"
    ), "{text}");

    let json: serde_json::Value = app
        .get("/prod-plan/export.json?team=frontend")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(json["team"], "frontend");
    let steps = json["steps"].as_array().expect("steps");
    assert_eq!(steps[0]["step"], 1);
    let first: Vec<&str> = steps[0]["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| s["id"].as_str().expect("id"))
        .collect();
    assert_eq!(first, ["design-system"]);
    assert_eq!(
        steps.last().expect("last")["services"][0]["state"],
        "waiting_for_approval"
    );
    let missing = app.get("/prod-plan/export.pdf").await;
    assert_eq!(missing.status(), 404);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_blocked_prod_approval_shows_its_blockers_and_an_override_needs_a_reason_and_is_audited(
    pool: PgPool,
) {
    let app = demo(pool).await;
    app.sign_in("sam.okafor").await;
    let orders = queue_item(&app, "orders-api-prod").await;
    assert_eq!(
        orders.plan_blocked_on,
        ["Payments service", "Inventory service", "Identity service"]
    );
    assert!(orders.needs_override);
    assert_eq!(
        orders.approve_blocked, None,
        "not strict: approving is offered"
    );
    let identity = queue_item(&app, "identity-service-prod").await;
    assert!(identity.plan_blocked_on.is_empty() && !identity.needs_override);

    // The board's Prod cell says so too.
    let board = app.board(&[("service", "orders-api")]).await;
    let prod = board.rows[0].services[0]
        .cells
        .iter()
        .find(|c| c.environment_id == "prod")
        .expect("prod cell");
    assert_eq!(
        prod.waiting.as_ref().expect("waiting").blocked_on,
        ["Payments service", "Inventory service", "Identity service"]
    );
    let (_, html) = app.page("/approvals").await;
    assert!(html.contains("Blocked on Payments service, Inventory service, Identity service"));

    // Approving without a reason is refused with the sentence; nothing is
    // recorded.
    let bare = decide(&app, &orders.item.id, &[]).await;
    assert_eq!(bare.status(), 422);
    let body = bare.text().await.expect("body");
    assert!(
        body.contains("Orders API is blocked on Payments service, Inventory service, Identity service: their changes in this release have not reached Prod yet. To approve anyway, override the Prod plan and give the reason."),
        "{body}"
    );
    let blank = decide(&app, &orders.item.id, &[("override_reason", "   ")]).await;
    assert_eq!(blank.status(), 422);
    assert_eq!(
        common::count(&app.pool, "SELECT count(*) FROM approval_votes").await,
        0
    );
    let long = "x".repeat(2_001);
    let too_long = decide(&app, &orders.item.id, &[("override_reason", &long)]).await;
    assert_eq!(too_long.status(), 422);

    // With a reason it is recorded, and audited as an override.
    let reason = "Orders only adds a read-only endpoint; its dependencies' changes are unrelated";
    let accepted = decide(&app, &orders.item.id, &[("override_reason", reason)]).await;
    assert_eq!(
        accepted.status(),
        200,
        "{}",
        accepted.text().await.unwrap_or_default()
    );
    let row = audited(
        &app,
        "override",
        "overrode the Prod plan to approve orders-api-prod",
    )
    .await;
    assert!(
        row.summary.ends_with(
            "although it is blocked on payments-service, inventory-service, identity-service"
        ),
        "{}",
        row.summary
    );
    assert!(
        row.details.iter().any(|(_, value)| value == reason),
        "{:?}",
        row.details
    );
    assert_eq!(row.service.as_deref(), Some("orders-api"));
    assert_eq!(row.actor_name.as_deref(), Some("Sam Okafor"));
    // An approval that nothing blocks writes no override.
    let plain = decide(&app, &identity.item.id, &[]).await;
    assert_eq!(plain.status(), 200);
    assert_eq!(
        common::count(
            &app.pool,
            "SELECT count(*) FROM audit_log WHERE event = 'override'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn strict_mode_refuses_a_blocked_prod_approval_with_the_sentence(pool: PgPool) {
    let shipped = std::fs::read_to_string(common::shipped_org_config()).expect("config");
    let strict = shipped.replacen(
        "[prod_plan]\nstrict = false",
        "[prod_plan]\nstrict = true",
        1,
    );
    assert_ne!(strict, shipped);
    let dir = std::env::temp_dir().join(format!("gatehouse-strict-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("org.toml");
    std::fs::write(&path, strict).expect("write");
    let app = demo_with(spawn_with(pool, config(Mode::Demo, path)).await).await;
    app.sign_in("sam.okafor").await;
    let orders = queue_item(&app, "orders-api-prod").await;
    let sentence = "Orders API is blocked on Payments service, Inventory service, Identity service: their changes in this release have not reached Prod yet, and the Prod plan is strict, so approve once they are deployed.";
    assert_eq!(orders.approve_blocked.as_deref(), Some(sentence));
    assert!(!orders.needs_override);
    let refused = decide(&app, &orders.item.id, &[("override_reason", "Ship it")]).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.expect("body").contains(sentence));
    // Rejecting stays open.
    let reject = app
        .call(
            "approvals/decide",
            &[
                ("request", orders.item.id.as_str()),
                ("decision", "reject"),
                ("comment", "Waits for its dependencies"),
            ],
        )
        .await;
    assert_eq!(reject.status(), 200);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn once_a_dependency_reaches_prod_the_block_lifts_without_a_restart(pool: PgPool) {
    let app = demo(pool).await;
    app.sign_in("sam.okafor").await;
    let payments = queue_item(&app, "payments-service-prod").await;
    assert_eq!(payments.plan_blocked_on, ["Identity service"]);

    // Identity service goes to Prod: two approvers, then the deploy runs.
    let identity = queue_item(&app, "identity-service-prod").await;
    assert_eq!(decide(&app, &identity.item.id, &[]).await.status(), 200);
    app.sign_in("priya.raman").await;
    let second = decide(&app, &identity.item.id, &[]).await;
    assert_eq!(
        second.json::<String>().await.expect("json"),
        "Approved. CodePipeline has the decision."
    );
    // The board's job sees the approved run; the deploy has not finished.
    app.refresh_board().await;
    let approved = plan(&app, None).await;
    let state = approved
        .plan
        .node("identity-service")
        .expect("identity")
        .state;
    assert!(
        matches!(state, ProdState::Approved | ProdState::Deploying),
        "{state:?}"
    );
    assert_eq!(
        queue_item(&app, "payments-service-prod")
            .await
            .plan_blocked_on,
        ["Identity service"],
        "payments still waits"
    );
    let sim = app.simulator.as_ref().expect("simulator");
    sim.advance_clock(chrono::Duration::seconds(60));
    app.poll().await;
    let report = app.refresh_board().await;
    assert!(report.deployments_changed >= 1, "{report:?}");
    let view = plan(&app, None).await;
    assert_eq!(
        view.plan.node("identity-service").expect("identity").state,
        ProdState::Deployed
    );
    assert!(view
        .plan
        .node("payments-service")
        .expect("payments")
        .blocked_on
        .is_empty());
    let payments = queue_item(&app, "payments-service-prod").await;
    assert!(payments.plan_blocked_on.is_empty() && !payments.needs_override);
    // Approving needs no reason now.
    let approved = decide(&app, &payments.item.id, &[]).await;
    assert_eq!(
        approved.status(),
        200,
        "{}",
        approved.text().await.unwrap_or_default()
    );
    let (_, html) = app.page("/prod-plan").await;
    assert!(html.contains("Deployed"));
}

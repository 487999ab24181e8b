//! The home page and the header's counts: each persona's first screen
//! answers their role's question, and every count (home, header, the
//! board's summary) is the number of cells it names, from one rule.

use crate::common;

use app::views::board::{BoardView, CellStatus};
use app::views::home::HomeView;
use app::views::session::SessionInfo;
use common::TestApp;
use server::jobs::health::probe_once;
use sqlx::PgPool;

/// A demo whose pipelines reached their approvals, whose board is
/// recorded, and whose health probes settled (Mobile BFF down in QA).
async fn busy_demo(pool: PgPool) -> TestApp {
    let app = common::demo_queue(pool).await;
    app.refresh_board().await;
    let health = app.health.clone().expect("health config");
    for _ in 0..2 {
        probe_once(&app.state, &app.pool, &health, &reqwest::Client::new())
            .await
            .expect("probe pass");
    }
    app.refresh_board().await;
    app
}

/// The cells of a board in each status.
fn cells(board: &BoardView, status: CellStatus) -> usize {
    board
        .rows
        .iter()
        .flat_map(|t| t.services.iter())
        .flat_map(|s| s.cells.iter())
        .filter(|c| c.status == status)
        .count()
}

async fn home(app: &TestApp) -> HomeView {
    let response = app.call("home", &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("home json")
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn each_persona_lands_on_the_page_that_answers_their_question(pool: PgPool) {
    let app = busy_demo(pool).await;
    for (login, question) in [
        ("priya.raman", "What waits for my sign-off?"),
        ("sam.okafor", "Is anything down?"),
        (
            "morgan.lee",
            "When does this release reach Prod, and what blocks it?",
        ),
        ("alex.kim", "What will the Release demo show?"),
        ("mei.tanaka", "How are my team\u{2019}s services?"),
        ("ada.admin", "Is the record intact?"),
    ] {
        let response = app
            .submit("demo/sign-in", &[("login", login)], "/demo/sign-in")
            .await;
        assert_eq!(response.headers()["location"], "/", "{login} goes home");
        let (status, html) = app.page("/").await;
        assert_eq!(status, 200);
        // The lead section is the first heading after the page's own.
        let first_h2 = html
            .split("<h2")
            .nth(1)
            .and_then(|h| h.split_once('>'))
            .and_then(|(_, rest)| rest.split_once("</h2>"))
            .map(|(text, _)| text.to_owned())
            .unwrap_or_default();
        assert_eq!(first_h2, question, "{login}'s first section");
    }
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn every_count_is_the_cells_it_names_on_the_home_the_header_and_the_board(pool: PgPool) {
    let app = busy_demo(pool).await;
    app.sign_in("sam.okafor").await;
    let board = app.board(&[]).await;
    assert_eq!(board.pages, 1, "the demo's board is one page");
    let (down, failed, waiting) = (
        cells(&board, CellStatus::Down),
        cells(&board, CellStatus::Failed),
        cells(&board, CellStatus::Waiting),
    );
    assert!(down >= 1, "the demo has a service down");
    assert!(waiting >= 1, "the demo has approvals waiting");
    assert_eq!(
        (board.counts.down, board.counts.failed, board.counts.waiting),
        (down, failed, waiting),
        "the board's summary"
    );
    let home = home(&app).await;
    assert_eq!(home.counts, board.counts, "the home's tiles");
    assert_eq!(home.down.len(), down, "the home lists every cell down");
    assert!(home
        .down
        .iter()
        .any(|d| d.service_id == "mobile-bff" && d.environment_id == "qa"));
    let info: SessionInfo = app.call("session", &[]).await.json().await.expect("json");
    assert_eq!(info.nav.down, down, "the header's Board count");
    assert_eq!(
        info.nav.approvals, home.pending,
        "the header's Approvals count"
    );
    assert!(info.nav.audit, "SRE may read the audit log");
    // A waiting cell whose health check passes says so beside "Waiting".
    let waiting_up = board
        .rows
        .iter()
        .flat_map(|t| t.services.iter())
        .flat_map(|s| s.cells.iter())
        .filter(|c| {
            c.status == CellStatus::Waiting && c.health.as_ref().and_then(|h| h.up) == Some(true)
        })
        .count();
    assert!(waiting_up >= 1, "the demo has waiting cells that are up");
    let (_, html) = app.page("/board").await;
    assert_eq!(
        html.matches(r#"data-testid="health-word""#).count(),
        waiting_up,
        "every waiting cell that is up, and only those"
    );
    // A count is a filter: its services, and only those.
    let only_down = app.board(&[("down", "1")]).await;
    assert!(only_down
        .rows
        .iter()
        .flat_map(|t| t.services.iter())
        .all(|s| s.cells.iter().any(|c| c.status == CellStatus::Down)));
    assert_eq!(
        only_down.counts, board.counts,
        "filters leave the summary as it is"
    );
    let only_failed = app.board(&[("failed", "1")]).await;
    assert_eq!(
        only_failed.matching,
        board
            .rows
            .iter()
            .flat_map(|t| t.services.iter())
            .filter(|s| s.cells.iter().any(|c| c.status == CellStatus::Failed))
            .count()
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn qa_is_shown_what_they_may_decide_and_a_stakeholder_no_audit_link(pool: PgPool) {
    let app = busy_demo(pool).await;
    app.sign_in("priya.raman").await;
    let home = home(&app).await;
    let queue = app.approvals().await;
    let mine: usize = queue.counts.iter().map(|c| c.mine).sum();
    assert!(mine > 0, "QA has requests to decide in the demo");
    assert_eq!(home.yours, mine, "the Approvals page's own rule");
    assert!(!home.yours_listed.is_empty());
    for listed in &home.yours_listed {
        let card = queue
            .pending
            .iter()
            .find(|q| q.item.id == listed.request_id)
            .expect("listed on Approvals too");
        assert!(card.blocked.is_none(), "only what she may decide");
    }
    app.sign_in("alex.kim").await;
    let info: SessionInfo = app.call("session", &[]).await.json().await.expect("json");
    assert!(
        !info.nav.audit,
        "stakeholders are not offered the audit log"
    );
    let (_, html) = app.page("/board").await;
    assert!(!html.contains(r#"href="/audit""#), "no Audit link for them");
    app.sign_in("priya.raman").await;
    let (_, html) = app.page("/board").await;
    assert!(html.contains(r#"href="/audit""#), "QA has it");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_admin_is_told_whether_the_record_is_intact_and_which_pipelines_cannot_be_governed(
    pool: PgPool,
) {
    let app = common::demo_queue(pool.clone()).await;
    app.submit("demo/sign-in", &[("login", "ada.admin")], "/demo/sign-in")
        .await;
    // The chain's state as the Audit page says it (the background check
    // may or may not have run yet), and every pipeline governed.
    let before = home(&app).await;
    let admin = before.admin.expect("an admin's summary");
    assert!(admin.pipeline_problems.is_empty());
    let (_, html) = app.page("/").await;
    assert!(html.contains(r#"data-testid="verification""#), "{html}");
    assert!(
        html.contains("The chain has not been verified yet") || html.contains("Chain verified"),
        "{html}"
    );
    assert!(html.contains("Gatehouse governs them all"), "{html}");
    // The check runs; a pipeline is changed behind Gatehouse's back.
    let verified = server::audit::verify_database(&pool, 0)
        .await
        .expect("verify");
    server::audit::record(&pool, &verified)
        .await
        .expect("record");
    app.simulator.as_ref().expect("simulator").add_pipeline(
        server::simulators::codepipeline::PipelineSpec {
            name: "orders-api-qa".into(),
            repository: "acme-retail/orders-api".into(),
            branch: "release/2027.01".into(),
            approval: Some(("Approval".into(), "QAGate".into())),
        },
    );
    server::jobs::poller::check_pipelines(&app.state, std::time::Duration::ZERO)
        .await
        .expect("check");
    let after = home(&app).await.admin.expect("an admin's summary");
    let check = after.verification.expect("a verification");
    assert!(check.ok && check.checked_to > 0, "{check:?}");
    assert_eq!(after.pipeline_problems.len(), 1);
    let (_, html) = app.page("/").await;
    assert!(html.contains("Chain verified: intact up to row"), "{html}");
    assert!(html.contains("1 pipeline cannot be governed"), "{html}");
    assert!(html.contains("orders-api-qa"), "{html}");
    // Nobody else is shown the record's state.
    for login in ["sam.okafor", "priya.raman", "morgan.lee"] {
        app.submit("demo/sign-in", &[("login", login)], "/demo/sign-in")
            .await;
        assert_eq!(home(&app).await.admin, None, "{login}");
        let (_, html) = app.page("/").await;
        assert!(!html.contains("data-testid=\"home-admin\""), "{login}");
    }
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_manager_is_told_what_can_go_to_prod_now_and_what_each_blocked_service_waits_for(
    pool: PgPool,
) {
    let app = busy_demo(pool).await;
    app.submit("demo/sign-in", &[("login", "morgan.lee")], "/demo/sign-in")
        .await;
    let prod = home(&app)
        .await
        .prod
        .expect("a release past its code freeze");
    // The plan's first step may go now; what calls it waits, by name.
    assert!(
        prod.next.iter().any(|(name, _)| name == "Identity service"),
        "{prod:?}"
    );
    let orders = prod
        .blocked
        .iter()
        .find(|(name, _)| name == "Orders API")
        .expect("Orders API waits");
    assert_eq!(
        orders.1,
        ["Payments service", "Inventory service", "Identity service"]
    );
    assert!(prod
        .next
        .iter()
        .all(|(name, _)| prod.blocked.iter().all(|(b, _)| b != name)));
    let (_, html) = app.page("/").await;
    assert!(html.contains("Can go to Prod now"), "{html}");
    assert!(html.contains(" waits for "), "{html}");
    assert!(!html.contains("wait for services they call"), "{html}");
}

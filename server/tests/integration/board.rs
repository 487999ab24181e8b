//! The environment board end to end: the leader's job reads the
//! CodePipeline and GitHub simulators over HTTP into Postgres, the board
//! reads Postgres, live updates reach SSE clients, and a Prod approval of a
//! revision with an unmerged hotfix is refused.

use crate::common;

use app::ssr::Mode;
use app::views::board::{ActionState, BoardView, Cell, ServiceRow};
use common::{spawn, spawn_with, TestApp};
use sqlx::PgPool;
use std::time::Duration;

fn row<'a>(board: &'a BoardView, service: &str) -> &'a ServiceRow {
    board
        .rows
        .iter()
        .flat_map(|t| t.services.iter())
        .find(|s| s.id == service)
        .unwrap_or_else(|| panic!("{service} on the board"))
}

fn cell<'a>(board: &'a BoardView, service: &str, env: &str) -> &'a Cell {
    row(board, service)
        .cells
        .iter()
        .find(|c| c.environment_id == env)
        .unwrap_or_else(|| panic!("{service} in {env}"))
}

/// A demo whose pipelines have reached their approvals, recorded once.
async fn demo(pool: PgPool) -> TestApp {
    let app = spawn(pool, Mode::Demo).await;
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    server::jobs::poller::poll(&app.state, Duration::ZERO)
        .await
        .expect("poll");
    let report = app.refresh_board().await;
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(report.pipelines, 60);
    assert_eq!(report.deployments_changed, 60);
    app
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_board_shows_what_each_environment_runs_and_how_far_behind_it_is(pool: PgPool) {
    let app = demo(pool).await;
    let board = app.board(&[]).await;
    assert_eq!(board.total, 10);
    assert_eq!(board.matching, 10);
    let teams: Vec<&str> = board.rows.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(teams, ["FrontEnd", "BackEnd", "Mobile"]);

    // Prod runs the base release, tagged; Pre-Prod waits with two votes needed
    // in Prod.
    let prod = cell(&board, "orders-api", "prod");
    let releases = common::demo_releases();
    assert_eq!(prod.tag, Some(releases.released_tag()));
    assert_eq!(prod.message, Some(format!("Release {}", releases.previous)));
    let waiting = prod.waiting.as_ref().expect("Prod approval waits");
    assert_eq!((waiting.votes, waiting.needed), (0, 2));
    let gap = prod.behind.as_ref().expect("gap");
    assert_eq!((gap.behind_by, gap.of.as_str()), (1, "Pre-Prod"));

    // QA runs the release candidate; it lacks two commits of Release.
    let qa = cell(&board, "orders-api", "qa");
    assert_eq!(qa.tag, Some(releases.candidate_tag()));
    let gap = qa.behind.as_ref().expect("gap");
    assert_eq!(gap.behind_by, 2);
    assert_eq!(gap.commits.len(), 2);
    assert!(gap
        .commits
        .iter()
        .all(|c| c.url.contains("acme-retail/orders-api/commit/")));

    // Stage lacks Dev's two newest commits; Release is level with Stage.
    assert_eq!(
        cell(&board, "orders-api", "stage")
            .behind
            .as_ref()
            .map(|g| g.behind_by),
        Some(2)
    );
    assert_eq!(
        cell(&board, "orders-api", "release")
            .behind
            .as_ref()
            .map(|g| g.behind_by),
        Some(0)
    );

    // Each cell has the pipeline's actions with links; Dev adds the GitHub
    // Actions run that deployed it; approvals show as waiting.
    let dev = cell(&board, "orders-api", "dev");
    assert_eq!(dev.actions[0].label, "GitHub Actions: Deploy to Dev");
    let labels: Vec<&str> = dev.actions.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(labels[1..], ["Source", "Build", "Deploy"]);
    assert!(
        dev.actions
            .iter()
            .skip(1)
            .all(|a| a.state == ActionState::Succeeded),
        "{:?}",
        dev.actions
    );
    let build = &dev.actions[2];
    assert!(
        build
            .url
            .as_deref()
            .is_some_and(|u| u.contains("codebuild")),
        "{build:?}"
    );
    let stage = cell(&board, "orders-api", "stage");
    let approval = stage
        .actions
        .iter()
        .find(|a| a.label.starts_with("Approval"))
        .expect("approval");
    assert_eq!(approval.state, ActionState::Waiting);
    assert!(stage.short_sha.is_some() && stage.deployed_at.is_some() && stage.execution.is_some());

    // Checkout UI's hotfix is in Release and the release branch, not develop.
    let hotfixes = &row(&board, "checkout-ui").hotfixes;
    assert_eq!(hotfixes.len(), 1);
    assert_eq!(hotfixes[0].branch, "hotfix/checkout-timeout");
    assert!(hotfixes[0].in_release);
    assert_eq!(hotfixes[0].missing, ["develop"]);
    assert!(row(&board, "orders-api").hotfixes.is_empty());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_pass_that_finds_nothing_new_writes_nothing_and_a_finished_deploy_moves_one_cell(
    pool: PgPool,
) {
    let app = demo(pool).await;
    let calls_before = app.github.as_ref().expect("github").not_modified();
    let again = app.refresh_board().await;
    assert_eq!(again.deployments_changed, 0, "{again:?}");
    assert_eq!(
        again.compares, 0,
        "gaps and hotfixes are kept while their revisions stay"
    );
    assert!(
        app.github.as_ref().expect("github").not_modified() > calls_before,
        "unchanged branch, tag and run lists come back as 304"
    );

    // The console approves Stage; the deploy finishes.
    let sim = app.simulator.as_ref().expect("simulator");
    assert!(sim.answer_out_of_band("orders-api-stage", true, "Approved in the console"));
    sim.advance_clock(chrono::Duration::seconds(30));
    server::jobs::poller::poll(&app.state, Duration::ZERO)
        .await
        .expect("poll");
    let after = app.refresh_board().await;
    assert!(after.deployments_changed >= 1, "{after:?}");
    let board = app.board(&[("service", "orders-api")]).await;
    let stage = cell(&board, "orders-api", "stage");
    assert_eq!(
        stage.message.as_deref(),
        Some(demo_message_of_stage(&app).await.as_str())
    );
    assert!(stage.waiting.is_none());
    // Stage now lacks only Dev's newest commit.
    assert_eq!(stage.behind.as_ref().map(|g| g.behind_by), Some(1));
}

/// The message of the change the Stage pipeline of orders-api ran.
async fn demo_message_of_stage(app: &TestApp) -> String {
    let org = app.state.org.load_org().await.expect("org");
    server::simulators::demo::changes(&org)
        .into_iter()
        .find(|c| c.pipeline == "orders-api-stage")
        .expect("change")
        .message
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn filters_come_from_the_url_and_every_service_is_reachable_by_page(pool: PgPool) {
    let app = demo(pool).await;
    let mobile = app.board(&[("team", "mobile")]).await;
    assert_eq!(mobile.matching, 3);
    assert_eq!(mobile.rows.len(), 1);
    let named = app.board(&[("service", "Pay")]).await;
    assert_eq!(named.matching, 1);
    assert_eq!(row(&named, "payments-service").name, "Payments service");
    let waiting = app.board(&[("waiting", "1")]).await;
    assert_eq!(
        waiting.matching, 10,
        "every service has an approval waiting"
    );
    let down = app.board(&[("down", "1")]).await;
    assert_eq!(down.matching, 0, "nothing probed yet");
    let unknown = app.call("board", &[("team", "nobody")]).await;
    assert_eq!(unknown.status(), 404);

    // The page renders without JavaScript with the filters applied.
    let (status, html) = app.page("/board?team=backend&waiting=1").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Services 1–4 of 4 matching (10 in all)"),
        "{html}"
    );
    assert!(html.contains("Orders API") && !html.contains("iOS app"));
}

/// An org of `n` services, round-robin over the three teams.
pub fn org_with_services(n: usize) -> std::path::PathBuf {
    let shipped = std::fs::read_to_string(common::shipped_org_config()).expect("org.toml");
    let start = shipped.find("[[services]]").expect("services");
    let end = shipped.find("[[environments]]").expect("environments");
    let teams = ["frontend", "backend", "mobile"];
    let mut services = String::new();
    for i in 0..n {
        services.push_str(&format!(
            "[[services]]\nid = \"service-{i:03}\"\nname = \"Service {i:03}\"\nteam = \"{}\"\nrepository = \"acme-retail/service-{i:03}\"\n\n",
            teams[i % 3]
        ));
    }
    let text = format!("{}{services}{}", &shipped[..start], &shipped[end..]);
    let path = std::env::temp_dir().join(format!("gatehouse-org-{n}-{}.toml", std::process::id()));
    std::fs::write(&path, text).expect("write org");
    path
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_hundred_services_are_paged_without_cutting_any_off(pool: PgPool) {
    let config = common::config(Mode::Demo, org_with_services(100));
    let app = spawn_with(pool, config).await;
    app.refresh_board().await;
    let mut seen = std::collections::BTreeSet::new();
    let first = app.board(&[]).await;
    assert_eq!((first.matching, first.pages), (100, 4));
    for page in 1..=first.pages {
        let p = page.to_string();
        let board = app.board(&[("page", p.as_str())]).await;
        assert_eq!(board.page, page);
        for s in board.rows.iter().flat_map(|t| t.services.iter()) {
            assert_eq!(s.cells.len(), 6);
            assert!(seen.insert(s.id.clone()), "{} twice", s.id);
        }
    }
    assert_eq!(seen.len(), 100);
    let beyond = app.board(&[("page", "99")]).await;
    assert_eq!(beyond.page, 4, "a page past the end shows the last one");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_deploy_recorded_by_the_job_reaches_an_open_event_stream(pool: PgPool) {
    let app = demo(pool).await;
    let response = app
        .client
        .get(format!("{}/events", app.base))
        .send()
        .await
        .expect("events");
    assert_eq!(response.status(), 200);
    let mut response = response;
    // Let the stream's subscription settle.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sim = app.simulator.as_ref().expect("simulator");
    assert!(sim.answer_out_of_band("ios-app-qa", true, "Approved in the console"));
    sim.advance_clock(chrono::Duration::seconds(30));
    app.refresh_board().await;
    let committed = std::time::Instant::now();
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(chunk) = response.chunk().await.expect("stream") {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("\"board\"") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no board event within a second: {seen}");
    assert!(committed.elapsed() < Duration::from_secs(1));
}

/// What an open stream sends within `within` (until a board change).
async fn read_stream(response: &mut reqwest::Response, within: Duration) -> String {
    let mut seen = String::new();
    let _ = tokio::time::timeout(within, async {
        while let Ok(Some(chunk)) = response.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("\"board\"") {
                return;
            }
        }
    })
    .await;
    seen
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_stream_following_some_topics_carries_only_theirs(pool: PgPool) {
    let app = demo(pool).await;
    let open = |topics: &str| {
        let url = format!("{}/events?topics={topics}", app.base);
        let client = app.client.clone();
        async move { client.get(url).send().await.expect("events") }
    };
    let mut board = open("board").await;
    let mut calendar = open("calendar").await;
    assert_eq!(
        (board.status().as_u16(), calendar.status().as_u16()),
        (200, 200)
    );
    let refused = open("board,weather").await;
    assert_eq!(refused.status(), 400);
    assert!(refused
        .text()
        .await
        .expect("text")
        .contains("\u{201c}weather\u{201d} is not a topic"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A decision and a deploy: approvals and board changes, no calendar one.
    let sim = app.simulator.as_ref().expect("simulator");
    assert!(sim.answer_out_of_band("ios-app-qa", true, "Approved in the console"));
    // The approvals change first, then the board's: the board stream is
    // read until the board's, past any approvals change.
    app.poll().await;
    sim.advance_clock(chrono::Duration::seconds(30));
    app.refresh_board().await;
    let on_board = read_stream(&mut board, Duration::from_secs(2)).await;
    assert!(on_board.contains("\"topic\":\"board\""), "{on_board}");
    assert!(!on_board.contains("\"approvals\""), "{on_board}");
    let on_calendar = read_stream(&mut calendar, Duration::from_millis(500)).await;
    assert!(
        !on_calendar.contains("event: change"),
        "the calendar stream carried another topic: {on_calendar}"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_prod_approval_of_a_revision_with_an_unmerged_hotfix_is_refused_until_it_is_merged(
    pool: PgPool,
) {
    let app = demo(pool).await;
    app.sign_in("sam.okafor").await;
    let view = app.approvals().await;
    let prod = view
        .pending
        .iter()
        .find(|q| q.item.pipeline == "checkout-ui-prod")
        .expect("checkout-ui waits for Prod");
    assert_eq!(
        prod.hotfix_warnings,
        ["hotfix/checkout-timeout is not merged back into develop yet"]
    );
    // The queue says so before anyone tries: SRE may decide, but only
    // reject, and the same sentence the vote would answer with.
    assert_eq!(prod.blocked, None);
    let held = prod.approve_blocked.clone().expect("approving is held");
    assert!(
        held.contains(
            "contains hotfix/checkout-timeout, which is not merged back into develop yet"
        ),
        "{held}"
    );
    let id = prod.item.id.clone();
    let refused = app
        .call(
            "approvals/decide",
            &[("request", id.as_str()), ("decision", "approve")],
        )
        .await;
    assert_eq!(refused.status(), 409);
    let body = refused.text().await.expect("body");
    assert!(
        body.contains(
            "contains hotfix/checkout-timeout, which is not merged back into develop yet"
        ),
        "{body}"
    );
    // A Prod approval of another service is not affected.
    let other = view
        .pending
        .iter()
        .find(|q| q.item.pipeline == "orders-api-prod")
        .expect("orders-api waits");
    assert!(other.hotfix_warnings.is_empty());

    // The hotfix is merged back into develop; the next pass sees it.
    let github = app.github.as_ref().expect("github");
    let repo = "acme-retail/checkout-ui";
    let mut develop = github.branch(repo, "develop").expect("develop");
    let hotfix = github
        .branch(repo, "hotfix/checkout-timeout")
        .expect("hotfix")
        .last()
        .cloned()
        .expect("hotfix commit");
    develop.push(hotfix);
    github.set_branch(repo, "develop", develop);
    let report = app.refresh_board().await;
    assert_eq!(report.errors, 0, "{report:?}");
    let board = app.board(&[("service", "checkout-ui")]).await;
    assert!(
        row(&board, "checkout-ui").hotfixes[0].missing.is_empty(),
        "{:?}",
        row(&board, "checkout-ui").hotfixes
    );
    let queued = app.approvals().await;
    let prod = queued
        .pending
        .iter()
        .find(|q| q.item.id == id)
        .expect("still waiting");
    assert_eq!(
        prod.approve_blocked, None,
        "merged back: approving is offered"
    );
    // Checkout UI's dependencies wait for Prod too: approving overrides
    // the Prod plan (see prod_plan.rs).
    let accepted = app
        .call(
            "approvals/decide",
            &[
                ("request", id.as_str()),
                ("decision", "approve"),
                ("override_reason", "The hotfix must reach Prod first"),
            ],
        )
        .await;
    assert_eq!(
        accepted.status(),
        200,
        "{}",
        accepted.text().await.unwrap_or_default()
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn links_to_github_use_the_configured_github_address(pool: PgPool) {
    let mut cfg = common::config(Mode::Demo, common::shipped_org_config());
    cfg.auth.github_web_url = "https://ghe.example.com".into();
    let app = spawn_with(pool, cfg).await;
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    app.poll().await;
    app.refresh_board().await;
    let board = app.board(&[]).await;
    let orders = row(&board, "orders-api");
    assert_eq!(
        orders.repository_url,
        "https://ghe.example.com/acme-retail/orders-api"
    );
    let gap = cell(&board, "orders-api", "qa")
        .behind
        .as_ref()
        .expect("gap");
    assert!(gap.commits.iter().all(|c| c
        .url
        .starts_with("https://ghe.example.com/acme-retail/orders-api/commit/")));
    let (_, html) = app.page("/board").await;
    // Links Gatehouse writes (repositories, commits, pull requests) follow
    // the configuration; those GitHub hands back (an Actions run's
    // html_url) are GitHub's own.
    let leaving: Vec<&str> = html
        .match_indices("https://github.com/")
        .map(|(i, _)| &html[i..(i + 100).min(html.len())])
        .filter(|link| !link.contains("/actions/runs/"))
        .collect();
    assert!(
        leaving.is_empty(),
        "no link of Gatehouse's leaves for github.com: {leaving:?}"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_approval_queue_of_a_large_org_is_bounded_narrowed_by_environment_and_names_a_followed_request(
    pool: PgPool,
) {
    use app::views::approvals::{ApprovalsView, PENDING_SHOWN};
    let config = common::config(Mode::Demo, org_with_services(100));
    let app = spawn_with(pool, config).await;
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    app.poll().await;
    let queue = |form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = app.call("approvals", &form).await;
            assert_eq!(response.status(), 200);
            response.json::<ApprovalsView>().await.expect("json")
        }
    };
    // Anonymous: nothing is theirs to decide; one list, bounded.
    let all = queue(vec![]).await;
    let total: usize = all.counts.iter().map(|c| c.total).sum();
    assert!(total > PENDING_SHOWN, "{total} requests wait");
    assert_eq!(all.pending.len(), PENDING_SHOWN);
    assert_eq!(all.not_shown, total - PENDING_SHOWN);
    assert!(all.counts.iter().all(|c| c.mine == 0));
    // Narrowed to QA: only QA's requests, and the counts still cover all.
    let qa = queue(vec![("env", "qa".into())]).await;
    assert_eq!(qa.environment.as_deref(), Some("qa"));
    assert!(qa.pending.iter().all(|q| q.item.environment_id == "qa"));
    let qa_total = qa.counts.iter().find(|c| c.id == "qa").expect("qa").total;
    assert_eq!(qa.pending.len() + qa.not_shown, qa_total);
    assert_eq!(qa.counts, all.counts);
    // An environment the org does not have lists them all.
    let unknown = queue(vec![("env", "<nowhere>".into())]).await;
    assert_eq!(unknown.environment, None);
    assert_eq!(unknown.pending.len(), PENDING_SHOWN);
    // A request the lists leave out is listed first when a link names it.
    let listed: Vec<String> = all.pending.iter().map(|q| q.item.id.clone()).collect();
    let every = app.state.approvals.pending().await.expect("pending");
    let left_out = every
        .iter()
        .find(|i| !listed.contains(&i.id))
        .expect("a request not listed");
    let followed = queue(vec![("request", left_out.id.clone())]).await;
    assert_eq!(followed.pending[0].item.id, left_out.id);
    assert_eq!(followed.pending.len(), PENDING_SHOWN);
    // A signed-in QA engineer: what waits for her, and the rest, each bounded.
    app.sign_in("priya.raman").await;
    let hers = queue(vec![]).await;
    let mine = hers.pending.iter().filter(|q| q.blocked.is_none()).count();
    assert!(mine > 0 && mine <= PENDING_SHOWN, "{mine}");
    assert!(hers.pending.len() <= 2 * PENDING_SHOWN);
    assert!(hers.counts.iter().any(|c| c.id == "qa" && c.mine > 0));
    // The page says how many more match.
    let page = app
        .get("/approvals?view=all")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("more requests are not listed here"),
        "no note"
    );
    assert!(page.matches("<article").count() <= PENDING_SHOWN * 2);
}

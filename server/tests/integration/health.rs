//! The health prober against controllable health endpoints (demo mode's
//! simulated services, over HTTP): state changes only, downtime with uptime,
//! and exactly one Critical GitHub issue per outage, closed on recovery,
//! even when the service flaps or GitHub refuses for a while.

use crate::common;

use app::ssr::Mode;
use common::{count, spawn, TestApp};
use server::jobs::health::{probe_once, ProbeReport};
use sqlx::PgPool;

const REPO: &str = "acme-retail/mobile-bff";

async fn probe(app: &TestApp) -> ProbeReport {
    let mut config = app.health.clone().expect("health config");
    // Only the two cells these tests look at, to keep passes short.
    config.environments = vec!["qa".into(), "stage".into()];
    probe_once(&app.state, &app.pool, &config, &reqwest::Client::new())
        .await
        .expect("probe pass")
}

fn set(app: &TestApp, service: &str, env: &str, up: bool) {
    app.services
        .as_ref()
        .expect("simulated services")
        .set_up(service, env, up);
}

fn issues(app: &TestApp) -> Vec<server::simulators::github::SimIssue> {
    app.github.as_ref().expect("github").issues(REPO)
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_outage_opens_one_critical_issue_and_recovery_comments_and_closes_it(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    // The demo starts with Mobile BFF down in QA. One failed probe is not
    // an outage yet.
    let first = probe(&app).await;
    assert_eq!(first.issues_opened, 0);
    assert!(issues(&app).is_empty());
    let second = probe(&app).await;
    assert_eq!(second.issues_opened, 1, "{second:?}");
    for _ in 0..3 {
        assert_eq!(probe(&app).await.issues_opened, 0, "still the same outage");
    }
    let opened = issues(&app);
    assert_eq!(opened.len(), 1);
    assert!(opened[0].open);
    assert_eq!(opened[0].labels, ["Critical"]);
    assert_eq!(opened[0].title, "Mobile BFF is down in QA");
    assert!(opened[0].body.contains("Down since"), "{}", opened[0].body);
    assert!(opened[0].body.contains("Last deploy"), "{}", opened[0].body);
    let row = common::audited(&app, "ticket_opened", "Mobile BFF is down in QA").await;
    assert_eq!(row.service.as_deref(), Some("mobile-bff"));
    assert_eq!(row.environment.as_deref(), Some("qa"));
    assert_eq!(row.actor_name, None, "the system opened it");
    assert_eq!(row.link().map(|l| l.1), Some("GitHub issue".into()));

    set(&app, "mobile-bff", "qa", true);
    assert_eq!(
        probe(&app).await.issues_closed,
        0,
        "one good probe is not a recovery"
    );
    assert_eq!(probe(&app).await.issues_closed, 1);
    let closed = issues(&app);
    assert_eq!(closed.len(), 1);
    assert!(!closed[0].open);
    assert_eq!(closed[0].comments.len(), 1);
    assert!(
        closed[0].comments[0].contains("answers again"),
        "{:?}",
        closed[0].comments
    );
    common::audited(&app, "ticket_closed", "Mobile BFF answers again in QA").await;

    // Only changes of state were recorded, not every probe.
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM health_changes WHERE service_id = 'mobile-bff' AND environment_id = 'qa'").await,
        2
    );
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM outages WHERE ended_at IS NOT NULL AND issue_closed"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_flapping_service_does_not_open_a_storm_of_issues(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    set(&app, "mobile-bff", "qa", true);
    probe(&app).await;
    // Down and up on every probe: never two failures in a row.
    for i in 0..10 {
        set(&app, "mobile-bff", "qa", i % 2 == 1);
        probe(&app).await;
    }
    assert!(issues(&app).is_empty(), "no outage from single failures");

    // Real outages in quick succession share one issue, reopened.
    for _ in 0..3 {
        set(&app, "mobile-bff", "qa", false);
        probe(&app).await;
        probe(&app).await;
        set(&app, "mobile-bff", "qa", true);
        probe(&app).await;
        probe(&app).await;
    }
    let all = issues(&app);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(!all[0].open);
    let reopened = all[0]
        .comments
        .iter()
        .filter(|c| c.contains("down again"))
        .count();
    assert_eq!(reopened, 2, "{:?}", all[0].comments);
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM outages WHERE service_id = 'mobile-bff' AND environment_id = 'qa'"
        )
        .await,
        3
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_ticket_github_refuses_is_opened_once_github_answers_again(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let github = app.github.as_ref().expect("github");
    github.rate_limit(true);
    probe(&app).await;
    let refused = probe(&app).await;
    assert_eq!(refused.ticket_errors, 1, "{refused:?}");
    assert!(issues(&app).is_empty());
    github.rate_limit(false);
    let retried = probe(&app).await;
    assert_eq!(retried.issues_opened, 1);
    assert_eq!(probe(&app).await.issues_opened, 0);
    assert_eq!(issues(&app).len(), 1);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn stage_downtime_is_counted_and_shown_as_uptime_without_a_ticket(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    app.refresh_board().await;
    // Orders API is down in Stage from the start of the demo.
    probe(&app).await;
    probe(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    set(&app, "orders-api", "stage", true);
    probe(&app).await;
    probe(&app).await;
    assert!(
        app.github
            .as_ref()
            .expect("github")
            .issues("acme-retail/orders-api")
            .is_empty(),
        "Stage counts downtime; it raises no ticket"
    );
    let board = app.board(&[("service", "orders-api")]).await;
    let stage = board.rows[0].services[0]
        .cells
        .iter()
        .find(|c| c.environment_id == "stage")
        .expect("stage");
    let health = stage.health.as_ref().expect("probed");
    assert_eq!(health.up, Some(true));
    let cycle = health.uptime_cycle.expect("uptime this cycle");
    let days = health.uptime_30d.expect("uptime 30 days");
    assert!(cycle < 100.0 && cycle > 99.9, "{cycle}");
    assert!(days < 100.0 && days > 99.9, "{days}");
    assert_eq!(health.timeline.len(), 1);
    // QA, which raises tickets, shows no uptime figures.
    let qa = board.rows[0].services[0]
        .cells
        .iter()
        .find(|c| c.environment_id == "qa")
        .expect("qa");
    assert!(qa.health.as_ref().is_some_and(|h| h.uptime_30d.is_none()));

    let down = app.board(&[("down", "1")]).await;
    assert_eq!(down.matching, 1, "Mobile BFF is still down in QA");
    assert_eq!(down.rows[0].services[0].id, "mobile-bff");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_issue_opened_before_a_crash_is_adopted_not_opened_again(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    // A pass opened the issue on GitHub and stopped before recording it.
    app.state
        .github
        .open_issue(
            REPO,
            "Mobile BFF is down in QA",
            "opened before a crash",
            &["Critical"],
        )
        .await
        .expect("open");
    probe(&app).await;
    let report = probe(&app).await;
    assert_eq!(report.issues_opened, 0, "{report:?}");
    assert_eq!(issues(&app).len(), 1);
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM outages WHERE issue_number = 1"
        )
        .await,
        1,
        "the outage took the existing issue"
    );
    common::audited(&app, "ticket_adopted", "already open for Mobile BFF in QA").await;
    // Recovery closes the adopted issue.
    set(&app, "mobile-bff", "qa", true);
    probe(&app).await;
    assert_eq!(probe(&app).await.issues_closed, 1);
    assert!(!issues(&app)[0].open);
}

//! Delivery metrics (DORA): the Prod deployment history read through the
//! real CodePipeline and GitHub clients from the demo's simulators (each
//! pipeline's earlier executions once, each deployment's commit times
//! once), new deployments recorded by the board's job, and the Metrics page
//! and its CSV measuring exactly that history.

use crate::common;

use app::ssr::Mode;
use chrono::{Duration, Utc};
use sqlx::PgPool;

/// History passes until one finds nothing to do; returns how many did work.
async fn read_history(app: &common::TestApp) -> usize {
    let mut passes = 0;
    loop {
        let report = server::jobs::history::read(&app.state, &app.pool, std::time::Duration::ZERO)
            .await
            .expect("history pass");
        if report == server::jobs::history::HistoryReport::default() {
            return passes;
        }
        assert_eq!(report.failed, 0, "{report:?}");
        passes += 1;
        assert!(passes < 50, "the history never settles");
    }
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_prod_history_is_read_once_and_the_metrics_page_measures_it(pool: PgPool) {
    let app = common::spawn(pool.clone(), Mode::Demo).await;
    let org = app.state.org.load_org().await.expect("org");
    let services = org.services.len();
    app.refresh_board().await;
    // The board's job recorded every environment's newest deployment.
    let recorded = common::count(&pool, "SELECT count(*) FROM deployment_history").await;
    assert_eq!(
        recorded,
        i64::try_from(services * org.environments.len()).expect("count")
    );

    let listed_before = app.aws_calls("ListPipelineExecutions");
    read_history(&app).await;
    // One ListPipelineExecutions page per Prod pipeline, and no more.
    assert_eq!(
        app.aws_calls("ListPipelineExecutions") - listed_before,
        u64::try_from(services).expect("count")
    );
    let history = server::simulators::demo::history(&org, Utc::now());
    let prod_rows = common::count(
        &pool,
        "SELECT count(*) FROM deployment_history WHERE environment_id = 'prod'",
    )
    .await;
    // The demo's history and the deployment the board saw (its base
    // release), each once although the board and the backfill both saw
    // the newest.
    assert_eq!(
        prod_rows,
        i64::try_from(history.len() + services).expect("count")
    );
    assert_eq!(
        common::count(
            &pool,
            "SELECT count(*) FROM deployment_history WHERE environment_id = 'prod' AND (commit_times IS NULL OR commits_note IS NOT NULL)"
        )
        .await,
        0,
        "every deployment's commit times were read"
    );
    // A release deployment brought its three commits, with their times.
    let first = history
        .iter()
        .filter(|d| d.service == 0)
        .nth(1)
        .expect("a second deployment");
    let times: serde_json::Value = sqlx::query_scalar(
        "SELECT commit_times FROM deployment_history WHERE commit_sha = $1 AND environment_id = 'prod'",
    )
    .bind(&first.commit)
    .fetch_one(&pool)
    .await
    .expect("times");
    let expected: Vec<String> = first.commits.iter().map(|c| c.2.to_rfc3339()).collect();
    let read: Vec<String> = serde_json::from_value::<Vec<chrono::DateTime<Utc>>>(times)
        .expect("times")
        .iter()
        .map(|t| t.to_rfc3339())
        .collect();
    assert_eq!(read, expected);

    // Nothing more to read: another pass calls neither AWS nor GitHub.
    let (aws, github) = (
        app.aws_calls("ListPipelineExecutions"),
        app.github.as_ref().expect("github").calls(),
    );
    assert_eq!(read_history(&app).await, 0);
    assert_eq!(app.aws_calls("ListPipelineExecutions"), aws);
    assert_eq!(app.github.as_ref().expect("github").calls(), github);

    // The page's numbers are the history's: deployments per team over the
    // last 90 days.
    let view: app::views::delivery::DeliveryView = app
        .call("delivery", &[("days", "90")])
        .await
        .json()
        .await
        .expect("view");
    assert_eq!(view.days, 90);
    let since = Utc::now() - Duration::days(90);
    for team in &org.teams {
        let expected = history
            .iter()
            .filter(|d| org.services[d.service].team == team.id && d.at >= since)
            .count()
            + org.services.iter().filter(|s| s.team == team.id).count();
        let row = view
            .rows
            .iter()
            .find(|r| r.id == team.id.as_str())
            .expect("team row");
        assert_eq!(row.measures.deployments, expected, "{}", team.id);
        assert!(row.measures.lead_time_secs.is_some());
        assert!(row.measures.band.is_some());
    }
    let org_row = &view.rows[0];
    assert_eq!(org_row.name, "All teams");
    // Hotfixes and outages follow some releases: some changes failed.
    assert!(
        view.trend.iter().all(|s| s.points.len() == 6),
        "six release cycles, before the calendar's first one too"
    );
    assert!(view.trend.iter().all(|s| s
        .points
        .iter()
        .filter(|p| p.measures.deployments > 0)
        .count()
        >= 4));
    assert!(
        view.trend
            .iter()
            .flat_map(|s| &s.points)
            .any(|p| p.measures.failed > 0),
        "some release had a failed change"
    );
    assert!(
        view.trend
            .iter()
            .flat_map(|s| &s.points)
            .any(|p| p.measures.restore_secs.is_some()),
        "some release had an outage that ended"
    );

    // The page, without JavaScript: the cards, four charts, the table.
    let (status, html) = app.page("/delivery?days=30&team=backend").await;
    assert_eq!(status, 200);
    assert!(html.contains("Delivery metrics"));
    assert_eq!(html.matches("role=\"img\"").count(), 4, "four charts");
    assert!(html.contains("data-testid=\"measures\""));
    assert!(html.contains("Last 30 days"));
    assert!(!html.contains("data-scope=\"All teams\""), "a team view");

    // The CSV: a header and a line per row, the same numbers.
    let response = app.get("/delivery/export.csv?days=90").await;
    assert_eq!(response.status(), 200);
    assert!(response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv")));
    let csv = response.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("scope,id,name,team,window_days,deployments"));
    assert_eq!(lines.len(), 1 + 1 + org.teams.len() + services);
    let all = lines[1].split(',').collect::<Vec<_>>();
    assert_eq!(all[0], "org");
    assert_eq!(all[5], org_row.measures.deployments.to_string());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn commit_times_wait_out_a_github_outage_and_are_read_after_it(pool: PgPool) {
    let app = common::spawn(pool.clone(), Mode::Demo).await;
    let github = app.github.clone().expect("github");
    github.rate_limit(true);
    let report = server::jobs::history::read(&app.state, &pool, std::time::Duration::ZERO)
        .await
        .expect("pass");
    assert!(report.pipelines_read > 0);
    assert_eq!(report.commits_read, 0);
    assert!(report.failed > 0, "GitHub refused: {report:?}");
    // The page says what is still being read, and still measures
    // frequency.
    let view: app::views::delivery::DeliveryView = app
        .call("delivery", &[("days", "90")])
        .await
        .json()
        .await
        .expect("view");
    assert!(view.unread > 0);
    assert!(view.rows[0].measures.deployments > 0);
    assert_eq!(view.rows[0].measures.lead_time_secs, None);
    let (_, html) = app.page("/delivery").await;
    assert!(html.contains("still being read from GitHub"));

    github.rate_limit(false);
    read_history(&app).await;
    assert_eq!(
        common::count(
            &pool,
            "SELECT count(*) FROM deployment_history WHERE environment_id = 'prod' AND commit_times IS NULL"
        )
        .await,
        0
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn past_outages_are_recorded_once_and_send_no_notification(pool: PgPool) {
    let app = common::spawn(pool.clone(), Mode::Demo).await;
    let org = app.state.org.load_org().await.expect("org");
    let seeded = common::count(
        &pool,
        "SELECT count(*) FROM outages WHERE environment_id = 'prod' AND ended_at IS NOT NULL",
    )
    .await;
    assert_eq!(
        seeded,
        i64::try_from(server::simulators::demo::past_outages(&org, Utc::now()).len())
            .expect("count")
    );
    assert!(seeded > 0);
    // A restart does not record them again.
    server::simulators::demo::seed_past_outages(&pool, &org)
        .await
        .expect("seed");
    assert_eq!(
        common::count(
            &pool,
            "SELECT count(*) FROM outages WHERE environment_id = 'prod' AND ended_at IS NOT NULL"
        )
        .await,
        seeded
    );
    // History is not news: no "environment down" in the outbox for them.
    assert_eq!(
        common::count(
            &pool,
            "SELECT count(*) FROM notification_outbox n JOIN outages o ON o.id = n.outage_id
             WHERE o.environment_id = 'prod'"
        )
        .await,
        0
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_window_other_than_30_or_90_days_or_a_value_given_twice_is_refused_in_a_sentence(
    pool: PgPool,
) {
    let app = common::spawn(pool.clone(), Mode::Demo).await;
    for days in ["-1", "abc", "7", "99999999999"] {
        let response = app.get(&format!("/delivery/export.csv?days={days}")).await;
        assert_eq!(response.status(), 400, "days={days}");
        assert!(response.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/plain")));
        let said = response.text().await.expect("body");
        assert_eq!(
            said,
            format!(
                "The export covers the last 30 or 90 days (days=30 or days=90), not \u{201c}{days}\u{201d}."
            )
        );
    }
    // Every export and feed that reads a query string refuses one it
    // cannot read in words, never in the framework's.
    for path in [
        "/delivery/export.csv?days=30&days=90",
        "/delivery/export.csv?team=mobile&team=backend",
        "/prod-plan/export.md?team=mobile&team=backend",
        "/calendar.ics?team=mobile&team=backend",
        "/calendar/mobile.ics?token=a&token=b",
        "/events?topics=board&topics=approvals",
        "/auth/github/callback?state=a&state=b",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 400, "{path}");
        let said = response.text().await.expect("body");
        assert_eq!(said, server::http::query::REFUSAL, "{path}");
    }
    // A server function's fields that cannot be read: a sentence too.
    let response = app.call("delivery", &[("days", "-1")]).await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let said: serde_json::Value = response.json().await.expect("json");
    assert_eq!(said["message"], app::error::ARGS_REFUSED, "{said}");
    let response = app.get("/delivery/export.csv?days=30").await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .expect("csv")
        .starts_with("scope,id,name,team,window_days"));
}

//! `/metrics` parses as Prometheus text and moves after an approval: HTTP
//! requests by route and status, decisions and deliveries by outcome,
//! CodePipeline calls by operation, approvals waiting by environment, and
//! the gauges read at scrape time. Real mode serves it only with the token.

use crate::common;

use app::ssr::Mode;
use common::{config, shipped_org_config, spawn, spawn_with, TestApp};
use sqlx::PgPool;

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.expect("body");
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parses")
}

/// The sum of `name`'s samples whose labels include `labels`.
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn metrics_parse_and_move_after_an_approval(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    app.poll().await;
    app.sign_in("priya.raman").await;
    let before = scrape(&app).await;
    let request = app
        .approvals()
        .await
        .pending
        .into_iter()
        .find(|q| q.item.pipeline == "orders-api-qa")
        .expect("orders-api-qa waits")
        .item
        .id;
    let approved = app
        .call(
            "approvals/decide",
            &[
                ("request", request.as_str()),
                ("decision", "approve"),
                ("marks[qa]", "passed"),
            ],
        )
        .await;
    assert_eq!(approved.status(), 200);
    let after = scrape(&app).await;

    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert!(
        moved(
            "gatehouse_http_requests_total",
            &[("route", "/api/{*fn_name}"), ("status", "200")]
        ) >= 1.0
            || moved("gatehouse_http_requests_total", &[("status", "200")]) >= 1.0,
        "requests are counted"
    );
    assert!(moved("gatehouse_decisions_total", &[("decision", "approve")]) >= 1.0);
    assert!(moved("gatehouse_deliveries_total", &[("outcome", "delivered")]) >= 1.0);
    assert!(
        moved(
            "gatehouse_aws_calls_total",
            &[("operation", "PutApprovalResult"), ("outcome", "ok")]
        ) >= 1.0
    );
    assert!(
        value(
            &after,
            "gatehouse_aws_call_duration_seconds_count",
            &[("operation", "GetPipelineState")]
        ) >= 1.0
    );
    assert!(
        value(&after, "gatehouse_github_calls_total", &[("outcome", "ok")]) >= 1.0,
        "the poller asked GitHub who wrote the commits"
    );
    // Gauges read when scraped.
    assert_eq!(
        value(
            &after,
            "gatehouse_approvals_waiting",
            &[("environment", "prod")]
        ),
        10.0
    );
    assert_eq!(value(&after, "gatehouse_database_up", &[]), 1.0);
    assert!(after
        .samples
        .iter()
        .any(|s| s.metric == "gatehouse_db_connections_in_use"));
    assert!(after
        .samples
        .iter()
        .any(|s| s.metric == "gatehouse_event_streams"));
    assert!(after
        .samples
        .iter()
        .any(|s| s.metric == "gatehouse_http_request_duration_seconds_count"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn in_real_mode_metrics_need_the_token(pool: PgPool) {
    let mut settings = config(Mode::Real, shipped_org_config());
    settings.metrics.token = Some(server::config::Secret::new("s3cret-scrape"));
    let app = spawn_with(pool, settings).await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous
        .text()
        .await
        .expect("body")
        .contains("Authorization: Bearer"));
    let wrong = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth("guess")
        .send()
        .await
        .expect("GET");
    assert_eq!(wrong.status(), 401);
    let right = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth("s3cret-scrape")
        .send()
        .await
        .expect("GET");
    assert_eq!(right.status(), 200);
    let text = right.text().await.expect("body");
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parses");
}

/// Requests no page of Gatehouse makes: invented methods (one of them
/// 10 KB long) and made-up paths, each different from the last.
async fn invented_requests(app: &TestApp, from: usize, to: usize) {
    let long = reqwest::Method::from_bytes(format!("X{}", "M".repeat(10_000)).as_bytes())
        .expect("a method token");
    let send = |method: reqwest::Method, path: String| async move {
        app.client
            .request(method, format!("{}{path}", app.base))
            .send()
            .await
            .expect("request")
            .status()
    };
    assert_ne!(send(long, "/environments".into()).await, 200);
    for n in from..to {
        let invented = reqwest::Method::from_bytes(format!("REPRO-METHOD-{n}").as_bytes())
            .expect("a method token");
        send(invented, "/environments".into()).await;
        send(reqwest::Method::GET, format!("/no-such-page-{n}")).await;
        send(reqwest::Method::GET, format!("/pkg/no-such-file-{n}.js")).await;
        send(
            reqwest::Method::GET,
            format!("/auth/made-up-{n}/callback?error=access_denied"),
        )
        .await;
    }
}

/// The HTTP request series a scrape shows, as (route, method, status).
fn request_series(scrape: &prometheus_parse::Scrape) -> Vec<(String, String, String)> {
    let mut series: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "gatehouse_http_requests_total")
        .map(|s| {
            let label = |k: &str| s.labels.get(k).unwrap_or_default().to_owned();
            (label("route"), label("method"), label("status"))
        })
        .collect();
    series.sort();
    series
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn invented_methods_and_paths_add_no_series_to_metrics(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    invented_requests(&app, 0, 40).await;
    scrape(&app).await;
    let before = request_series(&scrape(&app).await);
    // Every label value comes from a closed set.
    const METHODS: [&str; 10] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other",
    ];
    for (route, method, status) in &before {
        assert!(METHODS.contains(&method.as_str()), "method {method:?}");
        assert!(
            route == "unmatched" || (route.starts_with('/') && !route.contains("made-up")),
            "route {route:?}"
        );
        assert!(
            !route.contains("no-such") && !route.contains("REPRO"),
            "route {route:?}"
        );
        assert!(status.parse::<u16>().is_ok(), "status {status:?}");
    }
    assert!(
        before.iter().any(|(_, method, _)| method == "other"),
        "invented methods are counted, as other: {before:?}"
    );
    // Forty more of each add requests, never series.
    invented_requests(&app, 40, 80).await;
    let after = request_series(&scrape(&app).await);
    // The recorder is the process's: the other tests here add series of
    // their own pages (and unmatched paths) meanwhile, so compare those
    // only these invented methods land in.
    let invented = |series: &[(String, String, String)]| -> Vec<(String, String, String)> {
        series
            .iter()
            .filter(|(_, method, _)| method == "other")
            .cloned()
            .collect()
    };
    assert!(!invented(&before).is_empty(), "{before:?}");
    assert_eq!(
        invented(&before),
        invented(&after),
        "the series stay the same"
    );
    // 160 invented requests land in a handful of series (ten methods, a
    // few statuses), not one per request.
    assert!(
        invented(&after).len() < 40,
        "a handful of series, not one per request: {}",
        invented(&after).len()
    );
}

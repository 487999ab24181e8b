//! Limits a demanding day needs: votes per session and sign-in attempts
//! answered 429 with a sentence and Retry-After, nothing recorded past the
//! limit; live-update streams per process answered 503 with a sentence past
//! theirs, and a closed stream gives its place back.

mod common;

use app::ssr::Mode;
use common::{config, count, shipped_org_config, spawn_with, TestApp};
use server::config::LimitSettings;
use sqlx::PgPool;
use std::time::Duration;

async fn app_with(pool: PgPool, limits: LimitSettings) -> TestApp {
    let mut config = config(Mode::Demo, shipped_org_config());
    config.limits = limits;
    let app = spawn_with(pool, config).await;
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    app.poll().await;
    app
}

async fn request_of(app: &TestApp, pipeline: &str) -> String {
    app.approvals()
        .await
        .pending
        .into_iter()
        .find(|q| q.item.pipeline == pipeline)
        .unwrap_or_else(|| panic!("{pipeline} waits"))
        .item
        .id
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn votes_past_the_sessions_limit_are_refused_with_a_sentence_and_not_recorded(pool: PgPool) {
    let app = app_with(
        pool.clone(),
        LimitSettings {
            votes_per_minute: 3,
            sign_ins_per_minute: 0,
            max_event_streams: 10,
        },
    )
    .await;
    app.sign_in("priya.raman").await;
    let first = request_of(&app, "orders-api-qa").await;
    let second = request_of(&app, "payments-service-qa").await;
    // Three votes pass (the policy answers them); the fourth is refused
    // before the policy sees it.
    let reject = |id: String| {
        let app = &app;
        async move {
            app.call(
                "approvals/decide",
                &[
                    ("request", id.as_str()),
                    ("decision", "reject"),
                    ("comment", "Fails the smoke test"),
                ],
            )
            .await
        }
    };
    assert_eq!(reject(first.clone()).await.status(), 200);
    assert_eq!(reject(first.clone()).await.status(), 409, "already decided");
    assert_eq!(reject(first).await.status(), 409);
    let refused = reject(second.clone()).await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=61).contains(&retry), "{retry}");
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["kind"], "TooMany");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with("You sent more votes in the last minute than Gatehouse accepts from one session; nothing was recorded for this one."),
        "{body}"
    );
    assert_eq!(
        count(
            &pool,
            &format!("SELECT count(*) FROM approval_votes WHERE request_id = '{second}'")
        )
        .await,
        0
    );
    // Someone else has a session, and a limit, of their own.
    let sam = app.person("sam.sre", &["sre"]).await;
    let theirs = sam
        .call(
            "approvals/decide",
            &[
                ("request", second.as_str()),
                ("decision", "reject"),
                ("comment", "Pre-Prod is not ready"),
            ],
        )
        .await;
    assert_ne!(theirs.status(), 429);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sign_in_attempts_past_the_limit_are_refused_with_a_sentence(pool: PgPool) {
    let app = app_with(
        pool,
        LimitSettings {
            votes_per_minute: 0,
            sign_ins_per_minute: 1,
            max_event_streams: 10,
        },
    )
    .await;
    // A client that keeps no cookies: limited by its address, ten a minute.
    let client = reqwest::Client::new();
    let attempt = || async {
        client
            .post(format!("{}/api/demo/sign-in", app.base))
            .header("Accept", "application/json")
            .header("Origin", &app.base)
            .form(&[("login", "nobody.at.all")])
            .send()
            .await
            .expect("POST")
    };
    for _ in 0..10 {
        assert_ne!(attempt().await.status(), 429);
    }
    let refused = attempt().await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with("Too many sign-in attempts in the last minute; wait "),
        "{body}"
    );
    // Without JavaScript the browser gets the sentence as text.
    let page = client
        .post(format!("{}/api/demo/sign-in", app.base))
        .header("Accept", "text/html")
        .header("Origin", &app.base)
        .form(&[("login", "nobody.at.all")])
        .send()
        .await
        .expect("POST");
    assert_eq!(page.status(), 429);
    assert!(page
        .text()
        .await
        .expect("body")
        .starts_with("Too many sign-in attempts"));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn live_update_streams_past_the_processs_limit_are_refused_and_places_come_back(
    pool: PgPool,
) {
    let app = app_with(
        pool,
        LimitSettings {
            votes_per_minute: 0,
            sign_ins_per_minute: 0,
            max_event_streams: 2,
        },
    )
    .await;
    let open = || async {
        reqwest::Client::new()
            .get(format!("{}/events", app.base))
            .send()
            .await
            .expect("GET /events")
    };
    let first = open().await;
    let second = open().await;
    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200);
    let third = open().await;
    assert_eq!(third.status(), 503);
    assert!(third
        .text()
        .await
        .expect("body")
        .contains("live-update streams open, its limit. Pages still work"));
    drop(first);
    // The server notices the closed stream at its next write (a keep-alive
    // at the latest); a place comes back.
    let mut reopened = None;
    for _ in 0..40 {
        let again = open().await;
        if again.status() == 200 {
            reopened = Some(again);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(reopened.is_some(), "a closed stream's place comes back");
}

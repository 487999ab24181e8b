//! Limits a demanding day needs: votes per session and sign-in attempts
//! answered 429 with a sentence and Retry-After, nothing recorded past the
//! limit; live-update streams per process answered 503 with a sentence past
//! theirs, and a closed stream gives its place back. Limits count clients
//! by address (made-up cookies or forwarded-for headers change nothing
//! unless a trusted proxy wrote them), and one client or person cannot take
//! every live-update stream.

use crate::common;

use app::ssr::Mode;
use common::{config, count, shipped_org_config, spawn_with, TestApp};
use serde_json::json;
use server::config::LimitSettings;
use sqlx::PgPool;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use wiremock::matchers::{body_string_contains, header_regex, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A browser on another address of this machine (the whole of 127/8 is
/// loopback), so the server sees another client.
fn client_at(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A session cookie nobody was ever given, new on every call.
fn made_up_cookie() -> String {
    format!(
        "gatehouse_session={}",
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..22)
            .expect("22")
    )
}

/// One sign-in attempt of `client`: the demo persona form, a provider's
/// login or a provider's callback in turn, each with a cookie and a
/// forwarded-for address of its own.
async fn sign_in_attempt(
    app: &TestApp,
    client: &reqwest::Client,
    n: usize,
    forwarded_for: &str,
) -> reqwest::Response {
    let request = match n % 3 {
        0 => client
            .post(format!("{}/api/demo/sign-in", app.base))
            .header("Accept", "application/json")
            .header("Origin", &app.base)
            .form(&[("login", "nobody.at.all")]),
        1 => client.get(format!("{}/auth/github/login", app.base)),
        _ => client.get(format!(
            "{}/auth/github/callback?error=access_denied",
            app.base
        )),
    };
    request
        .header("Cookie", made_up_cookie())
        .header("X-Forwarded-For", forwarded_for)
        .send()
        .await
        .expect("sign-in attempt")
}

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

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn votes_past_the_sessions_limit_are_refused_with_a_sentence_and_not_recorded(pool: PgPool) {
    let app = app_with(
        pool.clone(),
        LimitSettings {
            votes_per_minute: 3,
            sign_ins_per_minute: 0,
            max_event_streams: 10,
            ..LimitSettings::default()
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

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn sign_in_attempts_past_the_limit_are_refused_with_a_sentence(pool: PgPool) {
    let app = app_with(
        pool,
        LimitSettings {
            votes_per_minute: 0,
            sign_ins_per_minute: 1,
            max_event_streams: 10,
            ..LimitSettings::default()
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

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn live_update_streams_past_the_processs_limit_are_refused_and_places_come_back(
    pool: PgPool,
) {
    let app = app_with(
        pool,
        LimitSettings {
            votes_per_minute: 0,
            sign_ins_per_minute: 0,
            max_event_streams: 2,
            ..LimitSettings::default()
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

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_made_up_session_cookie_per_attempt_does_not_step_around_the_sign_in_limit(pool: PgPool) {
    let app = app_with(
        pool,
        LimitSettings {
            votes_per_minute: 0,
            sign_ins_per_minute: 1,
            ..LimitSettings::default()
        },
    )
    .await;
    // Ten a minute from one address, whatever cookie or forwarded-for
    // address each attempt makes up (no proxy is trusted here).
    let attacker = client_at(1);
    for n in 0..10 {
        let spoofed = format!("198.51.100.{n}");
        let response = sign_in_attempt(&app, &attacker, n, &spoofed).await;
        assert_ne!(response.status(), 429, "attempt {n}");
    }
    for n in 10..16 {
        let spoofed = format!("198.51.100.{n}");
        let refused = sign_in_attempt(&app, &attacker, n, &spoofed).await;
        assert_eq!(refused.status(), 429, "attempt {n}");
        assert!(refused.headers().contains_key("retry-after"));
        let text = refused.text().await.expect("body");
        assert!(
            text.contains("Too many sign-in attempts in the last minute; wait "),
            "{text}"
        );
    }
    // Someone else, on another address, signs in as usual.
    let other = client_at(2);
    let theirs = other
        .post(format!("{}/api/demo/sign-in", app.base))
        .header("Accept", "application/json")
        .header("Origin", &app.base)
        .form(&[("login", "priya.raman")])
        .send()
        .await
        .expect("POST");
    assert_eq!(theirs.status(), 200);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn behind_a_trusted_proxy_the_forwarded_client_is_the_one_limited(pool: PgPool) {
    let app = app_with(
        pool,
        LimitSettings {
            votes_per_minute: 0,
            sign_ins_per_minute: 1,
            trusted_proxies: server::http::limits::TrustedProxies::parse("127.0.0.1")
                .expect("a proxy"),
            ..LimitSettings::default()
        },
    )
    .await;
    // The proxy (this test, on 127.0.0.1) appends the client it saw; what
    // a client wrote itself sits further left and changes nothing.
    let proxy = client_at(1);
    for n in 0..10 {
        let hops = format!("198.51.100.{n}, 203.0.113.5");
        let response = sign_in_attempt(&app, &proxy, n, &hops).await;
        assert_ne!(response.status(), 429, "attempt {n}");
    }
    let refused = sign_in_attempt(&app, &proxy, 10, "198.51.100.99, 203.0.113.5").await;
    assert_eq!(refused.status(), 429);
    // Another client behind the same proxy has a limit of its own.
    let theirs = sign_in_attempt(&app, &proxy, 11, "203.0.113.6").await;
    assert_ne!(theirs.status(), 429);
    // A peer that is not the proxy is counted by its own address, whatever
    // it forwards.
    let direct = sign_in_attempt(&app, &client_at(3), 12, "203.0.113.5").await;
    assert_ne!(direct.status(), 429);
}

/// Opens a live-update stream as `client`, with `cookie` if given.
async fn open_stream(
    app: &TestApp,
    client: &reqwest::Client,
    cookie: Option<String>,
) -> reqwest::Response {
    let mut request = client.get(format!("{}/events", app.base));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    request.send().await.expect("GET /events")
}

/// Streams per process and per client for the stream tests.
fn stream_limits() -> LimitSettings {
    LimitSettings {
        votes_per_minute: 0,
        sign_ins_per_minute: 0,
        max_event_streams: 10,
        max_event_streams_per_client: 3,
        ..LimitSettings::default()
    }
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn one_demo_client_cannot_take_every_live_update_stream(pool: PgPool) {
    let app = app_with(pool, stream_limits()).await;
    // An anonymous client, with a made-up cookie on every stream.
    let attacker = client_at(1);
    let mut held = Vec::new();
    for _ in 0..3 {
        let stream = open_stream(&app, &attacker, Some(made_up_cookie())).await;
        assert_eq!(stream.status(), 200);
        held.push(stream);
    }
    for _ in 0..5 {
        let refused = open_stream(&app, &attacker, Some(made_up_cookie())).await;
        assert_eq!(refused.status(), 503);
        assert!(refused.headers().contains_key("retry-after"));
        let text = refused.text().await.expect("body");
        assert!(
            text.starts_with("Your network address already has 3 live-update streams open here, the most one client may keep. Pages still work"),
            "{text}"
        );
    }
    // Signing in as a demo persona on the same address changes nothing.
    let persona = reqwest::Client::builder()
        .cookie_store(true)
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)))
        .build()
        .expect("client");
    let signed_in = common::call_function(
        &persona,
        &app.base,
        "demo/sign-in",
        &[("login", "priya.raman")],
    )
    .await;
    assert_eq!(signed_in.status(), 200);
    assert_eq!(open_stream(&app, &persona, None).await.status(), 503);
    // Anyone else still gets theirs.
    for last in [2, 3] {
        let theirs = open_stream(&app, &client_at(last), None).await;
        assert_eq!(theirs.status(), 200);
        held.push(theirs);
    }
    // A closed stream gives its client's place back.
    held.swap_remove(0);
    let mut reopened = None;
    for _ in 0..40 {
        let again = open_stream(&app, &attacker, None).await;
        if again.status() == 200 {
            reopened = Some(again);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(reopened.is_some(), "a closed stream's place comes back");
}

/// A GitHub (faked) where each of `logins` signs in with the code
/// `code-<login>` and belongs to no mapped team: signed in, with no role.
async fn github_of(logins: &[&str]) -> MockServer {
    let github = MockServer::start().await;
    for (id, login) in logins.iter().enumerate() {
        Mock::given(method("POST"))
            .and(path("/login/oauth/access_token"))
            .and(body_string_contains(format!("code=code-{login}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": format!("gho_{login}"), "token_type": "bearer", "scope": "read:org,read:user"
            })))
            .mount(&github)
            .await;
        Mock::given(method("GET"))
            .and(path("/user"))
            .and(header_regex("authorization", &format!("gho_{login}$")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "login": login, "id": 100 + id, "name": login, "type": "User"
            })))
            .mount(&github)
            .await;
    }
    Mock::given(method("GET"))
        .and(path_regex(r"^/orgs/[^/]+/teams/[^/]+/memberships/[^/]+$"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({ "message": "Not Found" })))
        .mount(&github)
        .await;
    github
}

/// A browser on 127.0.0.1 signed in through GitHub as `login`.
async fn github_browser(app: &TestApp, login: &str) -> reqwest::Client {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login_page = browser
        .get(format!("{}/auth/github/login", app.base))
        .send()
        .await
        .expect("login");
    assert_eq!(login_page.status(), 303);
    let location = login_page.headers()["location"].to_str().expect("location");
    let state = reqwest::Url::parse(location)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("state")
        .1
        .into_owned();
    let back = browser
        .get(format!(
            "{}/auth/github/callback?code=code-{login}&state={state}",
            app.base
        ))
        .send()
        .await
        .expect("callback");
    assert_eq!(back.headers()["location"], "/", "{login} signs in");
    browser
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn one_signed_in_person_cannot_take_every_live_update_stream(pool: PgPool) {
    let github = github_of(&["nadia", "omar"]).await;
    let mut settings = config(Mode::Real, shipped_org_config());
    settings.auth = server::config::AuthSettings {
        github: Some(server::config::GitHubAuth {
            client_id: "gh-client".into(),
            client_secret: server::config::Secret::new("gh-secret"),
            web_url: github.uri(),
            api_url: github.uri(),
        }),
        ..server::config::AuthSettings::default()
    };
    settings.limits = stream_limits();
    let app = spawn_with(pool, settings).await;
    // Nadia, with no role, opens every tab she can; one browser or many.
    let nadia = [
        github_browser(&app, "nadia").await,
        github_browser(&app, "nadia").await,
    ];
    let mut held = Vec::new();
    for n in 0..3 {
        let stream = open_stream(&app, &nadia[n % 2], None).await;
        assert_eq!(stream.status(), 200);
        held.push(stream);
    }
    for browser in &nadia {
        let refused = open_stream(&app, browser, None).await;
        assert_eq!(refused.status(), 503);
        let text = refused.text().await.expect("body");
        assert!(
            text.starts_with("You already have 3 live-update streams open here, the most one person may keep. Pages still work"),
            "{text}"
        );
    }
    // Omar, signed in from the same office address, gets his.
    let omar = github_browser(&app, "omar").await;
    for _ in 0..3 {
        let stream = open_stream(&app, &omar, None).await;
        assert_eq!(stream.status(), 200);
        held.push(stream);
    }
    // Without a sign-in, real mode has no stream for anyone.
    assert_eq!(open_stream(&app, &client_at(1), None).await.status(), 401);
}

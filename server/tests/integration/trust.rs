//! Governance that cannot be walked around: each test replays an attack or
//! an accident from the outside review and sees it refused.

use crate::common;

use app::domain::Role;
use app::ssr::Mode;
use app::views::calendar::CalendarView;
use app::views::session::SessionInfo;
use common::{config, count, demo_queue, shipped_org_config, spawn, spawn_with, TestApp};
use serde_json::json;
use server::config::{AuthSettings, OidcAuth, OidcEndpoints, Secret};
use sqlx::PgPool;
use std::collections::HashMap;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An OpenID Connect provider whose code `c` yields token `tok-c`, and
/// whose userinfo for that token is `people[c]`.
async fn idp(people: &[(&str, serde_json::Value)]) -> MockServer {
    let idp = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": idp.uri(),
            "authorization_endpoint": format!("{}/authorize", idp.uri()),
            "token_endpoint": format!("{}/token", idp.uri()),
            "userinfo_endpoint": format!("{}/userinfo", idp.uri()),
        })))
        .mount(&idp)
        .await;
    for (code, userinfo) in people {
        Mock::given(method("POST"))
            .and(path("/token"))
            .and(body_string_contains(format!("code={code}&")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": format!("tok-{code}"), "token_type": "Bearer", "expires_in": 3600
            })))
            .mount(&idp)
            .await;
        Mock::given(method("GET"))
            .and(path("/userinfo"))
            .and(header(
                "authorization",
                format!("Bearer tok-{code}").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(userinfo.clone()))
            .mount(&idp)
            .await;
    }
    idp
}

fn oidc(idp: &MockServer, public_url: Option<&str>) -> AuthSettings {
    AuthSettings {
        public_url: public_url.map(str::to_owned),
        oidc: Some(OidcAuth {
            label: "Acme SSO".into(),
            client_id: "gatehouse".into(),
            client_secret: Some(Secret::new("s3cret")),
            endpoints: OidcEndpoints::Discover { issuer: idp.uri() },
            scopes: vec!["openid".into(), "profile".into()],
            groups_claim: "groups".into(),
        }),
        ..AuthSettings::default()
    }
}

/// The shipped org configuration with `admins` set.
fn org_with_admins(admins: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(shipped_org_config()).expect("org.toml");
    let edited = text.replacen("admins = []", &format!("admins = {admins}"), 1);
    assert_ne!(edited, text, "the shipped config has an admins line");
    let path = std::env::temp_dir().join(format!("gatehouse-org-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, edited).expect("write");
    path
}

async fn real_app(pool: PgPool, auth: AuthSettings, org: std::path::PathBuf) -> TestApp {
    let mut cfg = config(Mode::Real, org);
    cfg.auth = auth;
    spawn_with(pool, cfg).await
}

/// Signs in through the provider with `code`, starting from
/// `/auth/oidc/login?return_to=<return_to>` (raw, as an attacker would
/// write it); returns the callback's response.
async fn sign_in(app: &TestApp, code: &str, return_to: &str) -> reqwest::Response {
    let response = app
        .get(&format!("/auth/oidc/login?return_to={return_to}"))
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().expect("location");
    let url = reqwest::Url::parse(location).expect("url");
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let response = app
        .get(&format!(
            "/auth/oidc/callback?code={code}&state={}",
            q["state"]
        ))
        .await;
    assert_eq!(response.status(), 303, "the callback redirects");
    response
}

async fn viewer(app: &TestApp) -> SessionInfo {
    app.call("session", &[])
        .await
        .json()
        .await
        .expect("session")
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn two_accounts_with_one_username_stay_two_people_and_keep_their_own_roles(pool: PgPool) {
    let provider = idp(&[
        ("alice", json!({"sub": "00u-alice-1", "preferred_username": "alice", "name": "Alice", "groups": ["acme-retail/sre"]})),
        // A second account at the provider, made with the same username.
        ("mallory", json!({"sub": "00u-mallory-2", "preferred_username": "alice", "name": "Alice", "groups": []})),
    ])
    .await;
    let app = real_app(
        pool.clone(),
        oidc(&provider, None),
        org_with_admins("[\"oidc:00u-alice-1\"]"),
    )
    .await;
    sign_in(&app, "alice", "/approvals").await;
    let alice = viewer(&app).await.user.expect("alice");
    assert_eq!(alice.roles, vec![Role::Sre, Role::Admin]);
    app.call("sign-out", &[]).await;

    sign_in(&app, "mallory", "/approvals").await;
    let mallory = viewer(&app).await.user.expect("mallory");
    assert_ne!(mallory.id, alice.id, "another identity, another user");
    assert_ne!(mallory.person, alice.person, "and another person");
    assert!(
        mallory.roles.is_empty(),
        "no role of Alice's: {:?}",
        mallory.roles
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM users WHERE login = 'alice'").await,
        2
    );
    // Alice, renamed at the provider, is still Alice.
    app.call("sign-out", &[]).await;
    sign_in(&app, "alice", "/approvals").await;
    assert_eq!(viewer(&app).await.user.expect("alice").id, alice.id);
}

#[test]
fn an_admin_named_by_username_is_refused_at_start() {
    let path = org_with_admins("[\"alice\"]");
    let err = server::org_config::load_access(&path).expect_err("a name is not an identity");
    let said = err.to_string();
    assert!(said.contains("access.admins[0]"), "{said}");
    assert!(said.contains("github:<numeric account id>"), "{said}");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn return_to_with_a_tab_or_a_newline_stays_on_gatehouse(pool: PgPool) {
    let provider = idp(&[
        (
            "a",
            json!({"sub": "s-1", "preferred_username": "a", "groups": []}),
        ),
        (
            "b",
            json!({"sub": "s-2", "preferred_username": "b", "groups": []}),
        ),
        (
            "c",
            json!({"sub": "s-3", "preferred_username": "c", "groups": []}),
        ),
    ])
    .await;
    let app = real_app(pool, oidc(&provider, None), shipped_org_config()).await;
    for (code, attack) in [
        ("a", "%2F%09%2Fevil.example%2F"),
        ("b", "%2F%0A%2Fevil.example"),
        ("c", "%2F%5C%2Fevil.example"),
    ] {
        let response = sign_in(&app, code, attack).await;
        assert_eq!(response.headers()["location"], "/", "{attack}");
        app.call("sign-out", &[]).await;
    }
    let kept = sign_in(&app, "a", "%2Fapprovals%3Ftab%3Dhistory").await;
    assert_eq!(kept.headers()["location"], "/approvals?tab=history");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_provider_s_error_description_is_never_shown(pool: PgPool) {
    let provider = idp(&[]).await;
    let app = real_app(pool, oidc(&provider, None), shipped_org_config()).await;
    let start = app.get("/auth/oidc/login").await;
    let location = start.headers()["location"].to_str().expect("location");
    let url = reqwest::Url::parse(location).expect("url");
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    app.get(&format!(
        "/auth/oidc/callback?state={}&error=server_error&error_description=Your+account+is+locked.+Call+%2B1-555-0100",
        q["state"]
    ))
    .await;
    let options: app::views::session::SignInChoices = app
        .call("sign-in/options", &[])
        .await
        .json()
        .await
        .expect("json");
    let said = options.notice.expect("notice").text;
    assert_eq!(
        said,
        "The identity provider could not sign you in right now; try again in a moment."
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_https_public_url_makes_cookies_secure_and_sends_hsts_on_a_loopback_bind(pool: PgPool) {
    let provider = idp(&[]).await;
    let app = real_app(
        pool.clone(),
        oidc(&provider, Some("https://gatehouse.example.com")),
        shipped_org_config(),
    )
    .await;
    let response = app.get("/auth/oidc/login").await;
    let cookie = response.headers()["set-cookie"].to_str().expect("cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let sign_in_page = app.get("/sign-in").await;
    assert_eq!(
        sign_in_page.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    // Plain HTTP (a developer's machine): neither.
    let plain = real_app(pool, oidc(&provider, None), shipped_org_config()).await;
    let response = plain.get("/auth/oidc/login").await;
    let cookie = response.headers()["set-cookie"].to_str().expect("cookie");
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(plain
        .get("/sign-in")
        .await
        .headers()
        .get("strict-transport-security")
        .is_none());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn in_real_mode_nothing_is_read_without_signing_in_and_feeds_take_a_rotatable_token(
    pool: PgPool,
) {
    let provider = idp(&[(
        "quinn",
        json!({"sub": "s-quinn", "preferred_username": "quinn", "name": "Quinn Avery", "groups": ["acme-retail/qa"]}),
    )])
    .await;
    let app = real_app(pool, oidc(&provider, None), shipped_org_config()).await;
    for page in [
        "/environments",
        "/calendar",
        "/approvals?tab=history",
        "/board",
        "/release-demo",
        "/audit",
        "/",
    ] {
        let response = app.get(page).await;
        assert_eq!(response.status(), 303, "{page}");
        let location = response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        if page != "/" {
            assert!(
                location.starts_with("/sign-in?return_to=/"),
                "{page}: {location}"
            );
        }
    }
    for function in [
        "approvals",
        "board",
        "calendar",
        "environments",
        "release-demo",
        "calendar/feed-token",
    ] {
        let response = app.call(function, &[]).await;
        assert_eq!(response.status(), 401, "{function}");
        assert!(response
            .text()
            .await
            .expect("body")
            .contains("Unauthenticated"));
    }
    assert_eq!(app.get("/events").await.status(), 401);
    assert_eq!(app.get("/calendar.ics").await.status(), 401);
    assert_eq!(app.get("/calendar/mobile.ics").await.status(), 401);
    for open in ["/sign-in", "/healthz", "/readyz"] {
        assert_eq!(app.get(open).await.status(), 200, "{open}");
    }
    assert_eq!(app.call("sign-in/options", &[]).await.status(), 200);

    let back = sign_in(&app, "quinn", "%2Fboard").await;
    assert_eq!(back.headers()["location"], "/board");
    assert_eq!(app.get("/approvals").await.status(), 200);
    let calendar: CalendarView = app.call("calendar", &[]).await.json().await.expect("json");
    let link = calendar
        .feed_link
        .expect("the feed link's state when signed in");
    assert_eq!(link.made, None, "no link until one is asked for");
    // A link is answered once, when it is made (only its hash is kept).
    let made_by = &app;
    let make = move || async move {
        let answer = made_by.call("calendar/feed-token", &[]).await;
        assert_eq!(answer.status(), 200);
        let text: String = answer.json().await.expect("json");
        let (_, after) = text.split_once("?token=").expect("the new link");
        after
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect::<String>()
    };
    let token = make().await;
    let calendar_app = reqwest::Client::new();
    let feed = |token: String| {
        let (client, base) = (calendar_app.clone(), app.base.clone());
        async move {
            client
                .get(format!("{base}/calendar.ics?token={token}"))
                .send()
                .await
                .expect("GET")
        }
    };
    let first = feed(token.clone()).await;
    assert_eq!(first.status(), 200);
    assert!(first
        .text()
        .await
        .expect("ics")
        .starts_with("BEGIN:VCALENDAR"));
    let new_token = make().await;
    assert_eq!(
        feed(token.clone()).await.status(),
        401,
        "the old link stops working"
    );
    assert_ne!(new_token, token);
    assert_eq!(feed(new_token).await.status(), 200);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn huge_comments_are_refused_in_words_and_the_pages_stay_small(pool: PgPool) {
    let app = demo_queue(pool.clone()).await;
    app.sign_in("priya.raman").await;
    let requests: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE environment_id = 'qa' ORDER BY pipeline",
    )
    .fetch_all(&pool)
    .await
    .expect("requests");
    let huge = "x".repeat(2 * 1024 * 1024);
    let response = app
        .call(
            "approvals/decide",
            &[
                ("request", &requests[0]),
                ("decision", "reject"),
                ("comment", &huge),
            ],
        )
        .await;
    assert_eq!(response.status(), 413);
    let said = response.text().await.expect("body");
    assert!(said.contains("larger than Gatehouse accepts"), "{said}");
    assert!(said.contains("nothing was recorded"), "{said}");
    let long = "y".repeat(2_001);
    let response = app
        .call(
            "approvals/decide",
            &[
                ("request", &requests[0]),
                ("decision", "reject"),
                ("comment", &long),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("The comment is 2,001 characters long; Gatehouse keeps at most 2,000."));
    let links: Vec<String> = (0..11)
        .map(|i| format!("https://ci.example/run/{i}"))
        .collect();
    let response = app
        .call(
            "approvals/decide",
            &[
                ("request", &requests[0]),
                ("decision", "approve"),
                ("passed[]", "qa"),
                ("evidence", &links.join("\n")),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(count(&pool, "SELECT count(*) FROM approval_votes").await, 0);

    // Rejections with the longest comment allowed: the pages stay bounded.
    let longest = "z".repeat(2_000);
    for request in &requests {
        let response = app
            .call(
                "approvals/decide",
                &[
                    ("request", request),
                    ("decision", "reject"),
                    ("comment", &longest),
                ],
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    // And a comment stored before the bounds existed is read within them.
    sqlx::query("ALTER TABLE approval_votes DROP CONSTRAINT approval_votes_comment_length")
        .execute(&pool)
        .await
        .expect("drop for the test");
    sqlx::query("UPDATE approval_votes SET comment = repeat('w', 1900000)")
        .execute(&pool)
        .await
        .expect("old rows");
    let (status, html) = app.page("/approvals?tab=history").await;
    assert_eq!(status, 200);
    assert!(html.len() < 400_000, "history page is {} bytes", html.len());
    let (status, html) = app.page("/approvals").await;
    assert_eq!(status, 200);
    assert!(html.len() < 600_000, "queue page is {} bytes", html.len());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_history_pages_by_keyset_and_every_decision_is_on_exactly_one_page(pool: PgPool) {
    let app = demo_queue(pool.clone()).await;
    // 120 closed requests, some at the same moment.
    sqlx::query(
        r#"INSERT INTO approval_requests (id, service_id, environment_id, pipeline, stage, action, execution_id,
               token, commit_sha, requested_at, expires_at, state, decided_at)
           SELECT gen_random_uuid(), 'orders-api', 'qa', 'orders-api-qa', 'Approval', 'ManualApproval',
                  'old-' || i, gen_random_uuid()::text, 'abc', now() - interval '30 days', now(),
                  'closed', now() - (i / 3) * interval '1 hour'
           FROM generate_series(1, 120) AS i"#,
    )
    .execute(&pool)
    .await
    .expect("history");
    let mut seen = std::collections::HashSet::new();
    let mut before: Option<String> = None;
    let mut pages = 0;
    loop {
        let form: Vec<(&str, &str)> = before.iter().map(|b| ("before", b.as_str())).collect();
        let view: app::views::approvals::ApprovalsView = app
            .call("approvals", &form)
            .await
            .json()
            .await
            .expect("json");
        assert!(view.history.len() <= 50);
        for item in &view.history {
            assert!(seen.insert(item.id.clone()), "{} shown twice", item.id);
        }
        pages += 1;
        match view.older {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    assert_eq!(pages, 3);
    let bad = app.call("approvals", &[("before", "yesterday")]).await;
    assert_eq!(bad.status(), 422);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn far_months_are_refused_with_a_sentence_and_no_panic(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    for month in [
        "-262143-01",
        "262143-12",
        "1999-12",
        "2100-01",
        "2027-13",
        "+2027-01",
    ] {
        let response = app.call("calendar", &[("month", month)]).await;
        assert_eq!(response.status(), 400, "{month}");
        let said = response.text().await.expect("body");
        assert!(
            said.contains("is not a month")
                || said.contains("Gatehouse shows months from 2000-01 to 2099-12"),
            "{month}: {said}"
        );
        let (status, html) = app.page(&format!("/calendar?month={month}")).await;
        assert_eq!(status, 400, "{month}");
        assert!(html.contains("That did not work"), "{month}");
    }
    assert_eq!(
        app.call("calendar", &[("month", "2099-12")]).await.status(),
        200
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_commit_whose_author_cannot_be_established_needs_one_more_approver(pool: PgPool) {
    let app = demo_queue(pool.clone()).await;
    // Committed with an e-mail GitHub matches to no account.
    sqlx::query(
        r#"UPDATE approval_requests SET author_id = NULL, author_login = NULL, author_name = 'Priya',
               author_email = 'priya@laptop.local', author_checked = true WHERE pipeline = 'orders-api-qa'"#,
    )
    .execute(&pool)
    .await
    .expect("unlinked author");
    app.sign_in("priya.raman").await;
    let view = app.approvals().await;
    let q = view
        .pending
        .iter()
        .find(|q| q.item.pipeline == "orders-api-qa")
        .expect("request");
    assert!(q.author_unknown);
    assert_eq!(q.required, 2, "one more than QA's 1-of-M");
    let first = app
        .call(
            "approvals/decide",
            &[
                ("request", &q.item.id),
                ("decision", "approve"),
                ("passed[]", "qa"),
            ],
        )
        .await;
    assert_eq!(first.status(), 200);
    let said: String = first.json().await.expect("json");
    assert!(
        said.starts_with("Your approval is recorded; Gatehouse cannot establish who wrote commit"),
        "{said}"
    );
    assert!(said.ends_with("so 1 more approver is needed."), "{said}");
    assert_eq!(
        app.aws_calls("PutApprovalResult"),
        0,
        "one person cannot approve it alone"
    );
    let audited = count(
        &pool,
        &format!(
            "SELECT count(*) FROM audit_log WHERE request_id = '{}' AND event = 'author_unknown'",
            q.item.id
        ),
    )
    .await;
    assert_eq!(audited, 1);
    common::audited(
        &app,
        "author_unknown",
        "Priya Raman voted on orders-api-qa while GitHub could not say who wrote the change",
    )
    .await;
    let second = app.person("qa.two", &["qa"]).await;
    let response = second
        .call(
            "approvals/decide",
            &[
                ("request", &q.item.id),
                ("decision", "approve"),
                ("passed[]", "qa"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<String>().await.expect("json"),
        "Approved. CodePipeline has the decision."
    );
    assert_eq!(app.aws_calls("PutApprovalResult"), 1);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_author_cannot_approve_under_another_login_with_their_commit_email(pool: PgPool) {
    let app = demo_queue(pool.clone()).await;
    // The commit is not linked to an account, but carries Priya's verified
    // no-reply address.
    let email = server::simulators::github::noreply_email("priya.raman");
    sqlx::query(
        r#"UPDATE approval_requests SET author_id = NULL, author_login = NULL, author_name = 'P. R.',
               author_email = upper($1), author_checked = true WHERE pipeline = 'orders-api-qa'"#,
    )
    .bind(&email)
    .execute(&pool)
    .await
    .expect("author");
    app.sign_in("priya.raman").await;
    let q = app
        .approvals()
        .await
        .pending
        .into_iter()
        .find(|q| q.item.pipeline == "orders-api-qa")
        .expect("request");
    assert!(
        q.blocked
            .as_deref()
            .is_some_and(|b| b.contains("You authored commit")),
        "{:?}",
        q.blocked
    );
    let response = app
        .call(
            "approvals/decide",
            &[
                ("request", &q.item.id),
                ("decision", "approve"),
                ("passed[]", "qa"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn while_the_database_refuses_connections_a_vote_gets_503_in_words(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    app.sign_in("priya.raman").await;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&pool)
        .await
        .expect("name");
    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let admin_url = format!("{}/postgres", admin_url.rsplit_once('/').expect("url").0);
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("admin connection");
    sqlx::query(&format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false"
    ))
    .execute(&mut admin)
    .await
    .expect("refuse");
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&database)
        .execute(&mut admin)
        .await
        .expect("cut");
    let response = app
        .call(
            "approvals/decide",
            &[
                ("request", "00000000-0000-0000-0000-000000000000"),
                ("decision", "approve"),
            ],
        )
        .await;
    let status = response.status();
    let body = response.text().await.expect("body");
    let (page_status, page) = app.page("/approvals").await;
    sqlx::query(&format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true"
    ))
    .execute(&mut admin)
    .await
    .expect("allow");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("Gatehouse cannot reach its database right now; try again in a moment"),
        "{body}"
    );
    assert_eq!(page_status, 503, "the page too");
    assert!(
        page.contains("Gatehouse cannot reach its database right now; try again in a moment"),
        "the page says why"
    );
    let (status, html) = app.page("/approvals").await;
    assert_eq!(status, 200, "back once the database is");
    assert!(html.contains("Approvals"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_server_function_called_without_its_fields_answers_400_in_words(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    app.sign_in("priya.raman").await;
    let response = app.call("approvals/decide", &[]).await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["kind"], "Invalid");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_provider_token_is_kept_encrypted_and_gone_at_sign_out(pool: PgPool) {
    let provider = idp(&[(
        "quinn",
        json!({"sub": "s-quinn", "preferred_username": "quinn", "groups": ["acme-retail/qa"]}),
    )])
    .await;
    let app = real_app(pool.clone(), oidc(&provider, None), shipped_org_config()).await;
    sign_in(&app, "quinn", "%2Fapprovals").await;
    assert!(viewer(&app).await.user.is_some());
    let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT data FROM tower_sessions.session")
        .fetch_all(&pool)
        .await
        .expect("sessions");
    assert_eq!(rows.len(), 1);
    let stored = String::from_utf8_lossy(&rows[0]);
    assert!(
        !stored.contains("tok-quinn"),
        "the token is not readable in the row"
    );
    assert!(stored.contains("v1."), "but kept sealed for role refresh");
    // Sealed with this process's key: tampering or another key opens nothing.
    let sealed = app.state.identity.seal("tok-quinn");
    assert_eq!(
        app.state.identity.open(&sealed).as_deref(),
        Some("tok-quinn")
    );
    let mut tampered = sealed.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    assert_eq!(
        app.state
            .identity
            .open(&String::from_utf8(tampered).expect("utf8")),
        None
    );
    app.call("sign-out", &[]).await;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM tower_sessions.session").await,
        0,
        "signing out deletes the row, token and all"
    );
}

//! Sign-in end to end against GitHub's OAuth and REST endpoints and an
//! OpenID Connect provider, faked over HTTP (wiremock): the authorization
//! code flow with PKCE and state, roles from team membership, their refresh,
//! session limits, and the request guards.

use crate::common;

use app::domain::Role;
use app::ssr::Mode;
use app::views::session::{SessionInfo, SignInChoices};
use common::{config, shipped_org_config, spawn_with, TestApp};
use serde_json::json;
use server::config::{AuthSettings, GitHubAuth, OidcAuth, OidcEndpoints, Secret};
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;
use wiremock::matchers::{body_string_contains, header_exists, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn github_settings(github: &MockServer) -> AuthSettings {
    AuthSettings {
        github: Some(GitHubAuth {
            client_id: "gh-client".into(),
            client_secret: Secret::new("gh-secret"),
            web_url: github.uri(),
            api_url: github.uri(),
        }),
        ..AuthSettings::default()
    }
}

async fn app_with(pool: PgPool, auth: AuthSettings) -> TestApp {
    let mut cfg = config(Mode::Real, shipped_org_config());
    cfg.auth = auth;
    spawn_with(pool, cfg).await
}

/// GitHub's token endpoint, handing out `token` for `code` once.
async fn token_once(github: &MockServer, code: &str, token: &str) {
    Mock::given(method("POST"))
        .and(path("/login/oauth/access_token"))
        .and(body_string_contains(format!("code={code}")))
        .and(body_string_contains("code_verifier="))
        .and(body_string_contains("client_secret=gh-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token, "token_type": "bearer", "scope": "read:org,read:user"
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(github)
        .await;
}

/// GitHub's answer to a code it does not accept: HTTP 200 with an error.
async fn token_refused(github: &MockServer, error: &str, description: &str) {
    Mock::given(method("POST"))
        .and(path("/login/oauth/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": error, "error_description": description,
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
        })))
        .with_priority(5)
        .mount(github)
        .await;
}

async fn github_user(github: &MockServer, login: &str, name: &str) {
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "login": login, "id": 1, "name": name, "type": "User"
        })))
        .mount(github)
        .await;
}

/// `login` is an active member of these `org/team` slugs, and of no other.
async fn memberships(github: &MockServer, login: &str, teams: &[&str]) {
    for team in teams {
        let (org, slug) = team.split_once('/').expect("org/team");
        Mock::given(method("GET"))
            .and(path(format!(
                "/orgs/{org}/teams/{slug}/memberships/{login}"
            )))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "state": "active", "role": "member",
                "url": format!("https://api.github.com/teams/1/memberships/{login}")
            })))
            .with_priority(1)
            .mount(github)
            .await;
    }
    Mock::given(method("GET"))
        .and(path_regex(r"^/orgs/[^/]+/teams/[^/]+/memberships/[^/]+$"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user"
        })))
        .with_priority(10)
        .mount(github)
        .await;
}

/// GitHub knows `login` (named `name`), in `teams`, and hands out a token
/// for the code `good-code` once.
async fn github_person(github: &MockServer, login: &str, name: &str, teams: &[&str]) {
    token_once(github, "good-code", &format!("gho_{login}")).await;
    github_user(github, login, name).await;
    memberships(github, login, teams).await;
}

/// Starts a sign-in, checks where the browser is sent, and returns the
/// `state` the provider will carry back.
async fn start(app: &TestApp, provider: &str, authorize: &str) -> String {
    let response = app
        .get(&format!("/auth/{provider}/login?return_to=/approvals"))
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().expect("location");
    assert!(location.starts_with(&format!("{authorize}?")), "{location}");
    let url = reqwest::Url::parse(location).expect("url");
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43, "a SHA-256 challenge");
    assert_eq!(
        q["redirect_uri"],
        format!("{}/auth/{provider}/callback", app.base)
    );
    assert!(q["state"].len() >= 16);
    q["state"].clone()
}

async fn callback(app: &TestApp, provider: &str, query: &str) -> reqwest::Response {
    let response = app.get(&format!("/auth/{provider}/callback?{query}")).await;
    assert_eq!(response.status(), 303, "callbacks always redirect");
    response
}

async fn viewer(app: &TestApp) -> SessionInfo {
    app.call("session", &[])
        .await
        .json()
        .await
        .expect("session json")
}

/// What the sign-in page says after a failed attempt.
async fn notice(app: &TestApp) -> String {
    let choices: SignInChoices = app
        .call("sign-in/options", &[])
        .await
        .json()
        .await
        .expect("choices json");
    let notice = choices.notice.expect("a notice");
    assert!(notice.error);
    notice.text
}

async fn github_sign_in(app: &TestApp, github: &MockServer, code: &str) -> reqwest::Response {
    let state = start(
        app,
        "github",
        &format!("{}/login/oauth/authorize", github.uri()),
    )
    .await;
    callback(app, "github", &format!("code={code}&state={state}")).await
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_github_sign_in_with_pkce_ends_signed_in_with_roles_from_teams(pool: PgPool) {
    let github = MockServer::start().await;
    github_person(&github, "quinn", "Quinn Avery", &["acme-retail/qa"]).await;
    let app = app_with(pool.clone(), github_settings(&github)).await;

    let choices: SignInChoices = app
        .call("sign-in/options", &[])
        .await
        .json()
        .await
        .expect("json");
    assert!(!choices.demo);
    assert_eq!(choices.providers.len(), 1);
    assert_eq!(choices.providers[0].label, "GitHub");

    let state = start(
        &app,
        "github",
        &format!("{}/login/oauth/authorize", github.uri()),
    )
    .await;
    let response = callback(&app, "github", &format!("code=good-code&state={state}")).await;
    assert_eq!(response.headers()["location"], "/approvals");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    let me = viewer(&app).await.user.expect("signed in");
    assert_eq!(me.login, "quinn");
    assert_eq!(me.display_name.as_str(), "Quinn Avery");
    assert_eq!(me.roles, vec![Role::Qa]);
    let provider: String = sqlx::query_scalar("SELECT provider FROM users WHERE login = 'quinn'")
        .fetch_one(&pool)
        .await
        .expect("user row");
    assert_eq!(provider, "github");

    // Signing out destroys the session on the server.
    let out = app.call("sign-out", &[]).await;
    assert_eq!(out.status(), 200);
    assert!(viewer(&app).await.user.is_none());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn denied_consent_is_said_in_words(pool: PgPool) {
    let github = MockServer::start().await;
    let app = app_with(pool, github_settings(&github)).await;
    let state = start(
        &app,
        "github",
        &format!("{}/login/oauth/authorize", github.uri()),
    )
    .await;
    let response = callback(
        &app,
        "github",
        &format!("error=access_denied&error_description=The+user+has+denied+your+application+access.&state={state}"),
    )
    .await;
    assert_eq!(response.headers()["location"], "/sign-in");
    assert_eq!(
        notice(&app).await,
        "You did not allow Gatehouse to read your identity at GitHub, so you are not signed in."
    );
    assert!(viewer(&app).await.user.is_none());
    let refused = common::audited(&app, "sign_in_refused", "through GitHub was refused").await;
    assert!(refused
        .details
        .iter()
        .any(|(k, v)| k == "Reason" && v.contains("did not allow")));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_forged_or_missing_state_is_refused_before_any_token_request(pool: PgPool) {
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/login/oauth/access_token"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&github)
        .await;
    let app = app_with(pool, github_settings(&github)).await;
    start(
        &app,
        "github",
        &format!("{}/login/oauth/authorize", github.uri()),
    )
    .await;
    callback(&app, "github", "code=good-code&state=forged").await;
    assert!(notice(&app)
        .await
        .contains("expired or was started in another browser tab"));
    // Without any sign-in started, a callback is refused the same way.
    callback(&app, "github", "code=good-code&state=anything").await;
    assert!(notice(&app).await.contains("start again"));
    assert!(viewer(&app).await.user.is_none());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_replayed_code_fails_with_github_s_200_error_explained(pool: PgPool) {
    let github = MockServer::start().await;
    token_once(&github, "good-code", "gho_quinn").await;
    token_refused(
        &github,
        "bad_verification_code",
        "The code passed is incorrect or expired.",
    )
    .await;
    github_user(&github, "quinn", "Quinn Avery").await;
    memberships(&github, "quinn", &["acme-retail/qa"]).await;
    let app = app_with(pool, github_settings(&github)).await;

    let state = start(
        &app,
        "github",
        &format!("{}/login/oauth/authorize", github.uri()),
    )
    .await;
    callback(&app, "github", &format!("code=good-code&state={state}")).await;
    assert!(viewer(&app).await.user.is_some());
    // The same callback again finds no pending sign-in.
    callback(&app, "github", &format!("code=good-code&state={state}")).await;
    assert!(notice(&app)
        .await
        .contains("expired or was started in another browser tab"));
    // A new sign-in carrying the used code: GitHub answers 200 with an error.
    app.call("sign-out", &[]).await;
    let response = github_sign_in(&app, &github, "good-code").await;
    assert_eq!(response.headers()["location"], "/sign-in");
    assert_eq!(
        notice(&app).await,
        "GitHub did not accept the sign-in code: it was already used or has expired. Sign in again."
    );
    assert!(viewer(&app).await.user.is_none());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn other_token_errors_answered_with_200_are_said_in_our_own_words(pool: PgPool) {
    let github = MockServer::start().await;
    token_refused(
        &github,
        "redirect_uri_mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
    )
    .await;
    let app = app_with(pool, github_settings(&github)).await;
    github_sign_in(&app, &github, "any-code").await;
    assert_eq!(
        notice(&app).await,
        "GitHub refused the sign-in because Gatehouse's callback address is not the one registered there; an admin must check GATEHOUSE_PUBLIC_URL and the callback URL registered at GitHub."
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_token_endpoint_s_error_description_is_never_shown(pool: PgPool) {
    let github = MockServer::start().await;
    let app = app_with(pool, github_settings(&github)).await;
    for (error, description) in [
        (
            "invalid_request",
            "code_verifier provided does not match code_challenge",
        ),
        (
            "made_up_error",
            "Call +1 555 0100 or visit https://evil.example/restore to restore access",
        ),
    ] {
        github.reset().await;
        token_refused(&github, error, description).await;
        github_sign_in(&app, &github, "any-code").await;
        let said = notice(&app).await;
        assert_eq!(
            said,
            "GitHub refused the sign-in. Start again; if it happens again, an admin finds the provider's reason in Gatehouse's log."
        );
        assert!(
            !said.contains(error) && !said.contains(description),
            "{said}"
        );
        let refused = common::audited(&app, "sign_in_refused", "through GitHub was refused").await;
        assert!(
            refused
                .details
                .iter()
                .all(|(_, v)| !v.contains(description) && !v.contains(error)),
            "{:?}",
            refused.details
        );
    }
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn callbacks_nobody_started_write_no_audit_rows_and_are_limited_per_client(pool: PgPool) {
    let github = MockServer::start().await;
    let mut cfg = config(Mode::Real, shipped_org_config());
    cfg.auth = github_settings(&github);
    // Thirty sign-in attempts a minute from one client address.
    cfg.limits.sign_ins_per_minute = 3;
    let app = spawn_with(pool.clone(), cfg).await;
    let rows = || {
        common::count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE event LIKE 'sign_in%' OR summary LIKE '%evil%' OR subject LIKE '%evil%'",
        )
    };
    let audit_rows = rows().await;
    // What an <img> on another site sends: no cookie, no sign-in started.
    let visitor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let get = |path: String| {
        let visitor = &visitor;
        let base = &app.base;
        async move {
            visitor
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("GET")
        }
    };
    for n in 0..15 {
        let unknown = get(format!("/auth/evil-{n}/callback?error=access_denied")).await;
        assert_eq!(unknown.status(), 404);
        assert_eq!(
            unknown.text().await.expect("body"),
            "Gatehouse offers no sign-in provider by that name; go back to the sign-in page and choose one it lists."
        );
    }
    for _ in 0..15 {
        let known = get("/auth/github/callback?error=access_denied".into()).await;
        assert_eq!(known.status(), 303);
        assert_eq!(known.headers()["location"], "/sign-in");
    }
    // Past the client's limit: 429, for made-up and real providers alike.
    for path in [
        "/auth/evil/callback?error=access_denied",
        "/auth/github/callback?error=access_denied",
        "/auth/github/login",
    ] {
        let refused = get(path.into()).await;
        assert_eq!(refused.status(), 429, "{path}");
        assert!(refused
            .text()
            .await
            .expect("body")
            .starts_with("Too many sign-in attempts in the last minute"));
    }
    assert_eq!(rows().await, audit_rows, "no audit row was written");
    assert_eq!(
        common::count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE event = 'sign_in_refused'"
        )
        .await,
        0
    );
    // A sign-in that was started and then refused is audited, with the
    // provider's configured name as its subject.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = browser
        .get(format!("{}/auth/github/login", app.base))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 303);
    let location = login.headers()["location"].to_str().expect("location");
    let url = reqwest::Url::parse(location).expect("url");
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("state")
        .1
        .into_owned();
    let back = browser
        .get(format!(
            "{}/auth/github/callback?error=access_denied&state={state}",
            app.base
        ))
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), 303);
    let refused = common::audited(&app, "sign_in_refused", "through GitHub was refused").await;
    assert_eq!(refused.subject.as_deref(), Some("github"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_user_in_no_mapped_team_reads_only_and_is_told_why(pool: PgPool) {
    let github = MockServer::start().await;
    github_person(&github, "nobody", "No Body", &[]).await;
    let app = app_with(pool, github_settings(&github)).await;
    github_sign_in(&app, &github, "good-code").await;
    let me = viewer(&app).await.user.expect("signed in");
    assert!(me.roles.is_empty());
    let (_, html) = app.page("/calendar").await;
    assert!(
        html.contains("none of your teams or groups is mapped to a Gatehouse role"),
        "{html}"
    );
    assert!(html.contains("No role (read only)"));
    // Read-only means read only: a manager's action is refused.
    let response = app
        .call(
            "calendar/blackout",
            &[
                ("name", "Nope"),
                ("first_day", "2030-01-01"),
                ("last_day", "2030-01-02"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_user_removed_from_a_team_loses_the_role_at_the_next_refresh(pool: PgPool) {
    let github = MockServer::start().await;
    github_person(
        &github,
        "quinn",
        "Quinn Avery",
        &["acme-retail/qa", "acme-retail/sre"],
    )
    .await;
    let mut settings = github_settings(&github);
    settings.role_refresh = Duration::ZERO;
    let app = app_with(pool.clone(), settings).await;
    github_sign_in(&app, &github, "good-code").await;
    assert_eq!(
        viewer(&app).await.user.expect("in").roles,
        vec![Role::Qa, Role::Sre]
    );

    // QA removes Quinn; the next request reads the teams again.
    github.reset().await;
    github_user(&github, "quinn", "Quinn Avery").await;
    memberships(&github, "quinn", &["acme-retail/sre"]).await;
    assert_eq!(viewer(&app).await.user.expect("in").roles, vec![Role::Sre]);
    let stored: Vec<String> = sqlx::query_scalar("SELECT roles FROM users WHERE login = 'quinn'")
        .fetch_one(&pool)
        .await
        .expect("row");
    assert_eq!(stored, ["sre"]);
    let changed = common::audited(
        &app,
        "roles_changed",
        "Quinn Avery's roles changed at github: sre (were qa, sre)",
    )
    .await;
    assert!(changed.actor_id.is_some());
    common::audited(&app, "sign_in", "Quinn Avery signed in (github)").await;

    // The token is revoked at GitHub: the session ends.
    github.reset().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"
        })))
        .mount(&github)
        .await;
    assert!(viewer(&app).await.user.is_none());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn roles_are_trusted_until_the_refresh_interval_and_sessions_end_at_their_maximum_age(
    pool: PgPool,
) {
    let github = MockServer::start().await;
    github_person(&github, "quinn", "Quinn Avery", &["acme-retail/qa"]).await;
    let mut settings = github_settings(&github);
    settings.session_max_age = Duration::from_secs(2);
    let app = app_with(pool, settings).await;
    github_sign_in(&app, &github, "good-code").await;
    let requests = github.received_requests().await.expect("recorded").len();
    assert_eq!(viewer(&app).await.user.expect("in").roles, vec![Role::Qa]);
    assert_eq!(
        github.received_requests().await.expect("recorded").len(),
        requests,
        "within the refresh interval GitHub is not asked again"
    );
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert!(viewer(&app).await.user.is_none(), "the sign-in is too old");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_oidc_provider_found_by_discovery_signs_in_with_roles_from_groups(pool: PgPool) {
    let idp = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": idp.uri(),
            "authorization_endpoint": format!("{}/authorize", idp.uri()),
            "token_endpoint": format!("{}/token", idp.uri()),
            "userinfo_endpoint": format!("{}/userinfo", idp.uri()),
            "jwks_uri": format!("{}/jwks", idp.uri()),
        })))
        .mount(&idp)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code_verifier="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "idp-token", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&idp)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "code expired"
        })))
        .with_priority(10)
        .mount(&idp)
        .await;
    Mock::given(method("GET"))
        .and(path("/userinfo"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sub": "248289761001", "preferred_username": "morgan", "name": "Morgan Lee",
            "groups": ["acme-retail/engineering-managers", "everyone"]
        })))
        .mount(&idp)
        .await;
    let settings = AuthSettings {
        oidc: Some(OidcAuth {
            label: "Acme SSO".into(),
            client_id: "gatehouse".into(),
            client_secret: Some(Secret::new("s3cret")),
            endpoints: OidcEndpoints::Discover { issuer: idp.uri() },
            scopes: vec!["openid".into(), "profile".into(), "groups".into()],
            groups_claim: "groups".into(),
        }),
        ..AuthSettings::default()
    };
    let app = app_with(pool, settings).await;
    let state = start(&app, "oidc", &format!("{}/authorize", idp.uri())).await;
    callback(&app, "oidc", &format!("code=abc&state={state}")).await;
    let me = viewer(&app).await.user.expect("signed in");
    assert_eq!(me.display_name.as_str(), "Morgan Lee");
    assert_eq!(me.roles, vec![Role::Manager]);
    // A provider's 400 error is explained too.
    app.call("sign-out", &[]).await;
    let state = start(&app, "oidc", &format!("{}/authorize", idp.uri())).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "code expired"
        })))
        .with_priority(1)
        .mount(&idp)
        .await;
    callback(&app, "oidc", &format!("code=old&state={state}")).await;
    assert_eq!(
        notice(&app).await,
        "The identity provider did not accept the sign-in code: it was already used or has expired. Sign in again."
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_unknown_provider_is_not_found(pool: PgPool) {
    let app = app_with(pool, AuthSettings::default()).await;
    assert_eq!(app.get("/auth/github/login").await.status(), 404);
    assert_eq!(app.get("/auth/saml/login").await.status(), 404);
    let choices: SignInChoices = app
        .call("sign-in/options", &[])
        .await
        .json()
        .await
        .expect("json");
    assert!(choices.providers.is_empty());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn cross_site_writes_are_refused_and_pages_carry_security_headers(pool: PgPool) {
    let app = app_with(pool, AuthSettings::default()).await;
    let post = |origin: Option<&str>, referer: Option<&str>| {
        let mut request = app
            .client
            .post(format!("{}/api/sign-out", app.base))
            .header("Accept", "application/json");
        if let Some(o) = origin {
            request = request.header("Origin", o);
        }
        if let Some(r) = referer {
            request = request.header("Referer", r);
        }
        request.send()
    };
    let evil = post(Some("https://evil.example"), None)
        .await
        .expect("post");
    assert_eq!(evil.status(), 403);
    assert!(evil
        .text()
        .await
        .expect("body")
        .contains("did not come from Gatehouse's own pages"));
    assert_eq!(post(None, None).await.expect("post").status(), 403);
    assert_eq!(
        post(None, Some("https://evil.example/page"))
            .await
            .expect("post")
            .status(),
        403
    );
    assert_eq!(
        post(Some(&app.base), None).await.expect("post").status(),
        200
    );
    assert_eq!(
        post(None, Some(&format!("{}/calendar", app.base)))
            .await
            .expect("post")
            .status(),
        200
    );

    // The sign-in page: in real mode the one page anyone may read.
    let page = app.get("/sign-in").await;
    let headers = page.headers().clone();
    let csp = headers["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("'unsafe-inline'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["x-frame-options"], "DENY");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce")
        .to_owned();
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry the nonce"
    );
    let api = app.call("session", &[]).await;
    assert!(api.headers().contains_key("content-security-policy"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_access_token_rests_on_its_sign_in_roles_read_again_and_revoked_with_it(pool: PgPool) {
    let github = MockServer::start().await;
    github_person(
        &github,
        "quinn",
        "Quinn Avery",
        &["acme-retail/qa", "acme-retail/sre"],
    )
    .await;
    let mut settings = github_settings(&github);
    settings.role_refresh = Duration::ZERO;
    let app = app_with(pool.clone(), settings).await;
    github_sign_in(&app, &github, "good-code").await;
    let made: serde_json::Value = app
        .client
        .post(format!("{}/api/v1/tokens", app.base))
        .header("Origin", &app.base)
        .json(&json!({ "name": "quinn's script", "scopes": ["read"] }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    let secret = made["secret"].as_str().expect("secret").to_owned();
    let me = || async {
        reqwest::Client::new()
            .get(format!("{}/api/v1/me", app.base))
            .bearer_auth(&secret)
            .send()
            .await
            .expect("GET")
    };
    let roles = |v: &serde_json::Value| v["roles"].clone();
    let first: serde_json::Value = me().await.json().await.expect("json");
    assert_eq!(roles(&first), json!(["qa", "sre"]));

    // QA removes Quinn: the token's next use reads the teams again.
    github.reset().await;
    github_user(&github, "quinn", "Quinn Avery").await;
    memberships(&github, "quinn", &["acme-retail/sre"]).await;
    let after: serde_json::Value = me().await.json().await.expect("json");
    assert_eq!(roles(&after), json!(["sre"]));
    common::audited(
        &app,
        "roles_changed",
        "Quinn Avery's roles changed at github: sre (were qa, sre)",
    )
    .await;

    // The sign-in is revoked at GitHub: the token is refused and revoked.
    github.reset().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"
        })))
        .mount(&github)
        .await;
    assert_eq!(me().await.status(), 401);
    assert_eq!(
        common::count(
            &pool,
            "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL"
        )
        .await,
        0
    );
}

//! `/api/v1` and personal access tokens: a token acts as its person within
//! its scopes, is kept only as a hash, is refused at once when revoked or
//! expired, and every refusal is `application/problem+json` with the
//! page's sentence.

use crate::common;

use common::TestApp;
use serde_json::Value;
use sqlx::PgPool;

/// Makes a token as the signed-in browser of `app` does.
async fn make_token(app: &TestApp, name: &str, scopes: &[&str]) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/tokens", app.base))
        .header("Origin", &app.base)
        .json(&serde_json::json!({ "name": name, "scopes": scopes }))
        .send()
        .await
        .expect("POST")
}

async fn secret_of(app: &TestApp, name: &str, scopes: &[&str]) -> (String, String) {
    let made = make_token(app, name, scopes).await;
    assert_eq!(made.status(), 201);
    let body: Value = made.json().await.expect("json");
    (
        body["id"].as_str().expect("id").to_owned(),
        body["secret"].as_str().expect("secret").to_owned(),
    )
}

/// A script's request: no cookies, the token only.
async fn bearer(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["status"], status);
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_token_acts_as_its_person_within_its_scopes_and_is_kept_only_as_a_hash(pool: PgPool) {
    let app = common::demo_queue(pool.clone()).await;
    app.sign_in("priya.raman").await;
    let (id, secret) = secret_of(&app, "release laptop", &["read", "approve"]).await;
    assert!(
        secret.starts_with("gatehouse_pat_") && secret.len() == 54,
        "{secret}"
    );
    let made = make_token(&app, "cache check", &["read"]).await;
    assert_eq!(made.headers()["cache-control"], "no-store");

    // Who the token is, without cookies.
    let me: Value = bearer(&app, reqwest::Method::GET, "/api/v1/me", &secret)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["login"], "priya.raman");
    assert_eq!(me["token"]["id"], id.as_str());
    assert_eq!(
        me["token"]["scopes"],
        serde_json::json!(["read", "approve"])
    );

    // What waits for her: the Approvals page's own rule.
    let page = app.approvals().await;
    let mine = page
        .pending
        .iter()
        .filter(|q| q.blocked.is_none() && q.approve_blocked.is_none())
        .count();
    assert!(mine > 0, "the demo has requests for QA");
    let listed: Value = bearer(
        &app,
        reqwest::Method::GET,
        "/api/v1/approvals?waiting_for=me",
        &secret,
    )
    .await
    .json()
    .await
    .expect("json");
    let listed = listed["approvals"].as_array().expect("approvals");
    assert_eq!(listed.len(), mine);
    assert!(listed.iter().all(|a| a["may_decide"] == true));
    let qa: Value = bearer(
        &app,
        reqwest::Method::GET,
        "/api/v1/approvals?environment=qa",
        &secret,
    )
    .await
    .json()
    .await
    .expect("json");
    assert!(qa["approvals"]
        .as_array()
        .expect("approvals")
        .iter()
        .all(|a| a["environment_id"] == "qa"));
    for bad in [
        "/api/v1/approvals?waiting_for=you",
        "/api/v1/approvals?environment=nowhere",
        "/api/v1/approvals?team=nobody",
        "/api/v1/approvals?environment=qa&environment=prod",
    ] {
        problem(bearer(&app, reqwest::Method::GET, bad, &secret).await, 400).await;
    }
    // A read-only token sees what its person may decide, but may not.
    let (_, read_only) = secret_of(&app, "reader", &["read"]).await;
    let seen: Value = bearer(&app, reqwest::Method::GET, "/api/v1/approvals", &read_only)
        .await
        .json()
        .await
        .expect("json");
    let seen = seen["approvals"].as_array().expect("approvals");
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|a| a["may_decide"] == false), "{seen:?}");
    // Those its person may decide say which scope the token lacks.
    let for_her = seen
        .iter()
        .filter(|a| {
            a["refusal"]
                .as_str()
                .is_some_and(|r| r.contains("\u{201c}approve\u{201d}"))
        })
        .count();
    assert_eq!(for_her, mine, "{seen:?}");

    // Kept only as its hash: no column holds the secret, nor does the
    // audit log.
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM api_tokens
              WHERE position($1 in name || shown || token_hash || array_to_string(scopes, ',')) > 0"
        )
        .bind(&secret)
        .fetch_one(&pool)
        .await
        .expect("count"),
        0
    );
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM audit_log WHERE position($1 in summary || details::text) > 0"
        )
        .bind(&secret[14..])
        .fetch_one(&pool)
        .await
        .expect("count"),
        0
    );
    let created = common::audited(
        &app,
        "token_created",
        "created the access token \u{201c}release laptop\u{201d}",
    )
    .await;
    assert_eq!(created.subject.as_deref(), Some(id.as_str()));
    assert!(
        created.summary.contains("release laptop"),
        "{}",
        created.summary
    );

    // A token cannot make tokens.
    let by_token = reqwest::Client::new()
        .post(format!("{}/api/v1/tokens", app.base))
        .bearer_auth(&secret)
        .json(&serde_json::json!({ "name": "more", "scopes": ["read"] }))
        .send()
        .await
        .expect("POST");
    problem(by_token, 403).await;

    // Revoked: refused at once, and said in the audit log.
    let revoked = bearer(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        &secret,
    )
    .await;
    assert_eq!(revoked.status(), 200);
    let after = bearer(&app, reqwest::Method::GET, "/api/v1/me", &secret).await;
    let body = problem(after, 401).await;
    assert_eq!(body["kind"], "Unauthenticated");
    common::audited(&app, "token_revoked", "revoked their access token").await;
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn scopes_expiry_and_ownership_are_refused_in_words(pool: PgPool) {
    let app = common::demo_queue(pool.clone()).await;
    // Nobody: 401 with the Bearer challenge; a made-up token alike.
    let anonymous = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        r#"Bearer realm="gatehouse", error="invalid_token""#
    );
    problem(anonymous, 401).await;
    let made_up = format!("gatehouse_pat_{}", "a".repeat(40));
    problem(
        bearer(&app, reqwest::Method::GET, "/api/v1/me", &made_up).await,
        401,
    )
    .await;
    problem(
        bearer(&app, reqwest::Method::GET, "/api/v1/me", "nonsense").await,
        401,
    )
    .await;
    problem(
        bearer(&app, reqwest::Method::GET, "/api/v1/nothing-here", &made_up).await,
        404,
    )
    .await;

    app.sign_in("sam.okafor").await;
    // Bad requests for a token, each in a sentence; nothing is made.
    for (name, scopes, words) in [
        ("", vec!["read"], "Give the token a name"),
        ("x", vec!["admin"], "not a token scope"),
        ("x", vec![], "at least one scope"),
    ] {
        let refused = make_token(&app, name, &scopes).await;
        let body = problem(refused, 422).await;
        assert!(
            body["detail"].as_str().unwrap_or_default().contains(words),
            "{body}"
        );
    }
    assert_eq!(
        common::count(&app.pool, "SELECT count(*) FROM api_tokens").await,
        0
    );
    // Scopes as one comma-separated string are read as a list; a body
    // that is not a new token is refused in words.
    let comma: Value = app
        .client
        .post(format!("{}/api/v1/tokens", app.base))
        .header("Origin", &app.base)
        .json(&serde_json::json!({ "name": "comma", "scopes": "approve,read" }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    assert_eq!(comma["scopes"], serde_json::json!(["read", "approve"]));
    let garbled = app
        .client
        .post(format!("{}/api/v1/tokens", app.base))
        .header("Origin", &app.base)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    let body = problem(garbled, 400).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("send JSON such as"),
        "{body}"
    );

    // A token without `read` cannot list approvals; it says which scope.
    let (_, approve_only) = secret_of(&app, "approver", &["approve"]).await;
    let body = problem(
        bearer(
            &app,
            reqwest::Method::GET,
            "/api/v1/approvals",
            &approve_only,
        )
        .await,
        403,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("\u{201c}read\u{201d}"),
        "{body}"
    );

    // Expired: refused at once.
    let (expiring_id, expiring) = secret_of(&app, "short", &["read"]).await;
    assert_eq!(
        bearer(&app, reqwest::Method::GET, "/api/v1/me", &expiring)
            .await
            .status(),
        200
    );
    sqlx::query("UPDATE api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(&expiring_id)
        .execute(&pool)
        .await
        .expect("expire");
    problem(
        bearer(&app, reqwest::Method::GET, "/api/v1/me", &expiring).await,
        401,
    )
    .await;

    // Someone else's token is not found to them; an admin signed in may
    // revoke it, an admin's token may not.
    let (sams_id, sams) = secret_of(&app, "sam's script", &["read"]).await;
    app.sign_in("priya.raman").await;
    let (_, priyas) = secret_of(&app, "priya's", &["read"]).await;
    problem(
        bearer(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{sams_id}"),
            &priyas,
        )
        .await,
        404,
    )
    .await;
    assert_eq!(
        bearer(&app, reqwest::Method::GET, "/api/v1/me", &sams)
            .await
            .status(),
        200
    );
    app.sign_in("ada.admin").await;
    let (_, adas) = secret_of(&app, "ada's", &["read"]).await;
    problem(
        bearer(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{sams_id}"),
            &adas,
        )
        .await,
        404,
    )
    .await;
    let by_admin = app
        .client
        .delete(format!("{}/api/v1/tokens/{sams_id}", app.base))
        .header("Origin", &app.base)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(by_admin.status(), 200);
    problem(
        bearer(&app, reqwest::Method::GET, "/api/v1/me", &sams).await,
        401,
    )
    .await;
    common::audited(&app, "token_revoked", "revoked Sam Okafor's access token").await;

    // A browser's write without its Origin is refused as every page's is.
    let forged = app
        .client
        .post(format!("{}/api/v1/tokens", app.base))
        .json(&serde_json::json!({ "name": "x", "scopes": ["read"] }))
        .send()
        .await
        .expect("POST");
    assert_eq!(forged.status(), 403);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn one_person_keeps_at_most_twenty_live_tokens_even_when_asking_at_once(pool: PgPool) {
    let app = common::demo_queue(pool).await;
    app.sign_in("mei.tanaka").await;
    let asks = (0..25).map(|i| {
        let app = &app;
        async move {
            make_token(app, &format!("t{i}"), &["read"])
                .await
                .status()
                .as_u16()
        }
    });
    let answers = futures::future::join_all(asks).await;
    assert_eq!(
        answers.iter().filter(|s| **s == 201).count(),
        20,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|s| **s == 409).count(),
        5,
        "{answers:?}"
    );
    assert_eq!(
        common::count(
            &app.pool,
            "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL"
        )
        .await,
        20
    );
}

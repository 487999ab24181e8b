//! Demo sign-in: personas, server-side sessions in Postgres, real mode.

use crate::common;

use app::domain::Persona;
use app::ssr::Mode;
use app::views::session::SessionInfo;
use common::spawn;
use sqlx::PgPool;

async fn session_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM tower_sessions.session")
        .fetch_one(pool)
        .await
        .expect("count")
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn demo_mode_offers_a_persona_for_each_kind_of_user(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let personas: Vec<Persona> = app
        .call("demo/personas", &[])
        .await
        .json()
        .await
        .expect("json");
    let titles: Vec<&str> = personas.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "QA engineer",
            "Site reliability engineer",
            "FrontEnd developer",
            "BackEnd developer",
            "Mobile developer",
            "Engineering manager",
            "Product stakeholder",
            "Gatehouse admin"
        ]
    );
    let (status, html) = app.page("/demo/sign-in").await;
    assert_eq!(status, 200);
    // Each persona is a button read as "Sign in as <name> <title>".
    assert!(html.contains(r#"<span class="sr-only">Sign in as </span>"#));
    assert!(html.contains("Priya Raman"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn signing_in_as_a_persona_stores_a_session_in_postgres(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    let before: SessionInfo = app.call("session", &[]).await.json().await.expect("json");
    assert!(before.demo);
    assert_eq!(before.user, None);

    let response = app.call("demo/sign-in", &[("login", "priya.raman")]).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("gatehouse_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(session_rows(&pool).await, 1);

    let after: SessionInfo = app.call("session", &[]).await.json().await.expect("json");
    let user = after.user.expect("signed in");
    assert_eq!(user.display_name.as_str(), "Priya Raman");
    assert_eq!(user.roles, [app::domain::Role::Qa]);
    let (_, html) = app.page("/environments").await;
    assert!(
        html.contains("Priya Raman"),
        "the page shows who is signed in"
    );

    assert_eq!(app.call("sign-out", &[]).await.status(), 200);
    assert_eq!(
        session_rows(&pool).await,
        0,
        "sign-out deletes the server-side session"
    );
    let (_, html) = app.page("/environments").await;
    assert!(!html.contains("Priya Raman"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn signing_in_again_issues_a_new_session_id(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    let first = app.call("demo/sign-in", &[("login", "sam.okafor")]).await;
    let first = first.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let second = app.call("demo/sign-in", &[("login", "morgan.lee")]).await;
    let second = second.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let id = |cookie: &str| cookie.split(';').next().expect("pair").to_owned();
    assert_ne!(id(&first), id(&second));
    assert_eq!(session_rows(&pool).await, 1, "the old session is gone");
    let info: SessionInfo = app.call("session", &[]).await.json().await.expect("json");
    assert_eq!(info.user.expect("signed in").login, "morgan.lee");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_form_post_without_javascript_signs_in_and_redirects(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let response = app
        .submit("demo/sign-in", &[("login", "mei.tanaka")], "/demo/sign-in")
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/", "to their home page");
    let (_, html) = app.page("/").await;
    assert!(html.contains("Mei Tanaka"));
    assert!(
        html.contains("services?"),
        "a developer's home asks about their team"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_unknown_persona_is_refused_in_words(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    let response = app.call("demo/sign-in", &[("login", "mallory")]).await;
    assert_eq!(response.status(), 404);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("There is no demo persona called"));
    assert_eq!(session_rows(&pool).await, 0);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn real_mode_has_no_personas_and_no_demo_banner(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Real).await;
    let (status, html) = app.page("/demo/sign-in").await;
    assert_eq!(status, 404);
    assert!(!html.contains("Priya Raman"));
    assert_eq!(app.call("demo/personas", &[]).await.status(), 404);
    assert_eq!(
        app.call("demo/sign-in", &[("login", "priya.raman")])
            .await
            .status(),
        404
    );
    assert_eq!(session_rows(&pool).await, 0);
    let personas: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE provider = 'demo'")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(personas, 0, "real mode seeds no personas");

    let (status, html) = app.page("/sign-in").await;
    assert_eq!(status, 200);
    assert!(!html.contains("DEMO"));
    assert!(!html.contains("Use a demo persona"));
}

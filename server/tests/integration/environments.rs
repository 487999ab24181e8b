//! The Environments page and its server function, over HTTP.

use crate::common;

use app::ssr::Mode;
use app::views::org::EnvironmentsView;
use common::{config, spawn, spawn_with};
use sqlx::PgPool;

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_environments_page_renders_the_seed_table_on_the_server(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let (status, html) = app.page("/environments").await;
    assert_eq!(status, 200);
    for name in ["Dev", "Stage", "Release", "QA", "Pre-Prod", "Prod"] {
        assert!(
            html.contains(&format!(">{name}</h3>")),
            "{name} is rendered"
        );
    }
    for text in [
        "feature/*",
        "develop",
        "hotfix/*",
        "release/*",
        "master",
        "tags/*",
    ] {
        assert!(html.contains(text), "branch {text}");
    }
    for text in [
        "On commit",
        "Manual approval",
        "On commit, after code freeze",
        "Manual approval, after code freeze",
    ] {
        assert!(html.contains(text), "trigger {text}");
    }
    for text in [
        "May be down",
        "Calculate downtime",
        "Raise a Critical ticket",
        "Regression",
        "QA",
    ] {
        assert!(html.contains(text), "{text}");
    }
    assert!(html.contains("DEMO"), "the demo banner is shown");
    assert!(
        html.contains("acme-retail/payments-service"),
        "services with their repositories"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn environments_come_back_in_promotion_order_for_one_team(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let response = app.call("environments", &[("team", "mobile")]).await;
    assert_eq!(response.status(), 200);
    let view: EnvironmentsView = response.json().await.expect("json");
    let ids: Vec<&str> = view
        .environments
        .iter()
        .map(|r| r.environment.id.as_str())
        .collect();
    assert_eq!(ids, ["dev", "stage", "release", "qa", "pre-prod", "prod"]);
    assert_eq!(view.team.as_ref().map(|t| t.as_str()), Some("mobile"));
    assert!(!view.services.is_empty());
    assert!(view.services.iter().all(|s| s.team.as_str() == "mobile"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_unknown_team_is_a_404_that_names_the_real_teams(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let response = app.call("environments", &[("team", "web")]).await;
    assert_eq!(response.status(), 404);
    let body = response.text().await.expect("body");
    assert!(body.contains("There is no team"), "{body}");
    assert!(body.contains("frontend, backend, mobile"), "{body}");

    let (status, html) = app.page("/environments?team=web").await;
    assert_eq!(status, 404, "the page answers 404 and explains why");
    assert!(html.contains("role=\"alert\""));
    assert!(html.contains("There is no team"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_changed_org_configuration_is_synced_at_start(pool: PgPool) {
    spawn(pool.clone(), Mode::Demo).await;
    let shipped = std::fs::read_to_string(common::shipped_org_config()).expect("read");
    let changed = shipped.replace(
        "[[services]]\nid = \"mobile-bff\"\nname = \"Mobile BFF\"\nteam = \"mobile\"\nrepository = \"acme-retail/mobile-bff\"\ncalls = [\n  \"orders-api\",\n  \"inventory-service\",\n  { service = \"identity-service\", kind = \"grpc\" },\n]\n",
        "",
    )
    .replace("calls = [\"mobile-bff\"]\n", "") + "\n[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\nbranches = [\"tags/v*\"]\n";
    assert!(
        !changed.contains("mobile-bff"),
        "the fixture removes the service"
    );
    let dir = std::env::temp_dir().join(format!("gatehouse-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("org.toml");
    std::fs::write(&file, changed).expect("write");

    let app = spawn_with(pool, config(Mode::Demo, file)).await;
    let view: EnvironmentsView = app
        .call("environments", &[("team", "mobile")])
        .await
        .json()
        .await
        .expect("json");
    assert!(
        view.services.iter().all(|s| s.id.as_str() != "mobile-bff"),
        "removed service is gone"
    );
    let prod = view
        .environments
        .iter()
        .find(|r| r.environment.id.as_str() == "prod")
        .expect("prod");
    let branches: Vec<String> = prod
        .environment
        .branches
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(branches, ["tags/v*"]);
    assert_eq!(
        prod.overridden_for
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>(),
        ["mobile"]
    );

    let all: EnvironmentsView = app
        .call("environments", &[])
        .await
        .json()
        .await
        .expect("json");
    let prod = all
        .environments
        .iter()
        .find(|r| r.environment.id.as_str() == "prod")
        .expect("prod");
    assert_eq!(
        prod.environment.branches.len(),
        2,
        "the org-wide definition is unchanged"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_invalid_org_configuration_stops_start_up_naming_file_and_key(pool: PgPool) {
    let dir = std::env::temp_dir().join(format!("gatehouse-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("broken.toml");
    let shipped = std::fs::read_to_string(common::shipped_org_config()).expect("read");
    std::fs::write(
        &file,
        shipped.replacen("trigger = \"on-commit\"", "trigger = \"whenever\"", 1),
    )
    .expect("write");
    let err = server::startup::Application::build_with_pool(config(Mode::Demo, file.clone()), pool)
        .await
        .err()
        .expect("start-up fails");
    let message = format!("{err:#}");
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert!(message.contains("environments[0].trigger"), "{message}");
    assert!(message.contains("\"whenever\" is not one of"), "{message}");
    std::fs::remove_dir_all(dir).ok();
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn health_and_readiness_answer(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "ok");

    pool.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503, "not ready without a database");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "but the process is alive"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_root_is_the_home_page_and_unknown_paths_are_404(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let (status, html) = app.page("/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("What is going on?"),
        "someone not signed in is shown the overview"
    );
    let (status, html) = app.page("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(html.contains("Page not found"));
}

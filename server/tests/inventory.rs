//! The Terraform inventory: states read from an HTTP backend with
//! conditional requests and from a file, stored without attribute values,
//! failures said in words, and the Inventory page's counts and drift.

mod common;

use app::ssr::Mode;
use server::terraform::{demo_state, refresh, StateSource, TerraformBackend, TerraformConfig};
use sqlx::PgPool;
use std::time::Duration;

async fn serve(backend: &TerraformBackend) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let router = backend.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn states_are_read_once_per_change_and_kept_without_their_values(pool: PgPool) {
    let app = common::spawn(pool.clone(), Mode::Demo).await;
    let org = app.state.org.load_org().await.expect("org");
    let backend = TerraformBackend::new();
    backend.put("stage", demo_state(&org, "stage", 3));
    let base = serve(&backend).await;
    let file = std::env::temp_dir().join(format!("gatehouse-prod-{}.tfstate", std::process::id()));
    std::fs::write(&file, demo_state(&org, "prod", 9)).expect("state file");
    let config = TerraformConfig {
        refresh: Duration::from_secs(300),
        states: vec![
            (
                "stage".into(),
                StateSource::Http(format!("{base}/state/stage")),
            ),
            ("prod".into(), StateSource::File(file.clone())),
            ("qa".into(), StateSource::Http(format!("{base}/state/qa"))),
        ],
    };
    let client = reqwest::Client::new();

    let first = refresh(&pool, &config, &client).await.expect("refresh");
    assert_eq!((first.read, first.unchanged, first.failed), (2, 0, 1));
    assert_eq!(backend.answered(200), 1);
    // Nothing changed: the backend answers 304, the file is not read again.
    let second = refresh(&pool, &config, &client).await.expect("refresh");
    assert_eq!((second.read, second.unchanged, second.failed), (0, 2, 1));
    assert_eq!(
        backend.answered(304),
        1,
        "a conditional request with the ETag"
    );
    // An apply: a new serial is read.
    backend.put("stage", demo_state(&org, "stage", 4));
    let third = refresh(&pool, &config, &client).await.expect("refresh");
    assert_eq!(third.read, 1);
    let serial: i64 =
        sqlx::query_scalar("SELECT serial FROM terraform_states WHERE environment_id = 'stage'")
            .fetch_one(&pool)
            .await
            .expect("serial");
    assert_eq!(serial, 4);

    // Secrets in the states are nowhere in the database.
    let stored: String =
        sqlx::query_scalar("SELECT string_agg(resources::text, '') FROM terraform_states")
            .fetch_one(&pool)
            .await
            .expect("stored");
    assert!(
        stored.contains("aws_db_instance.service[\\\"orders-api\\\"]"),
        "{stored}"
    );
    assert!(!stored.contains("demo-secret"), "a secret was stored");

    // QA has no state at its URL: said in words.
    let error: String =
        sqlx::query_scalar("SELECT error FROM terraform_states WHERE environment_id = 'qa'")
            .fetch_one(&pool)
            .await
            .expect("error");
    assert!(error.contains("HTTP 404"), "{error}");

    // The page: counts by service, the drift between QA and Pre-Prod is not
    // comparable (QA failed), Stage's and Prod's states are.
    let view: serde_json::Value = app.call("inventory", &[]).await.json().await.expect("json");
    let stage_at = view["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .position(|e| e["id"] == "stage")
        .expect("stage");
    let rds = view["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["service"] == "RDS")
        .expect("RDS row");
    assert_eq!(rds["counts"][stage_at], 4);
    assert_eq!(rds["title"], "Amazon Relational Database Service");
    let (status, html) = app.page("/inventory").await;
    assert_eq!(status, 200);
    assert!(html.contains("Resources by AWS service"), "{html}");
    assert!(html.contains("Last read failed"), "QA's failure is shown");
    assert!(!html.contains("demo-secret"));
    let _ = std::fs::remove_file(file);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn demo_mode_reads_its_own_backend_and_shows_the_drift_between_neighbours(pool: PgPool) {
    let app = common::spawn(pool.clone(), Mode::Demo).await;
    // The test app's jobs are off; read as the leader would.
    let config = app
        .terraform
        .clone()
        .expect("demo mode's Terraform sources");
    let report = refresh(&pool, &config, &reqwest::Client::new())
        .await
        .expect("refresh");
    assert_eq!(report.read, 6, "{report:?}");
    let (status, html) = app.page("/inventory").await;
    assert_eq!(status, 200);
    assert!(html.contains("Stage and Release"), "{html}");
    assert!(html.contains("aws_sqs_queue.experiments"));
    assert!(html.contains("aws_wafv2_web_acl.edge"));
    assert!(
        html.contains("The same resources"),
        "Release and QA share everything"
    );
}

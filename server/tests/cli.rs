//! The `gatehouse` binary: help, configuration check, and graceful shutdown.

use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

fn org_config() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../config/org.toml").to_owned()
}

#[test]
fn help_lists_the_subcommands_and_their_settings() {
    let out = Command::new(BIN).arg("--help").output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).expect("utf8");
    for word in [
        "serve",
        "migrate",
        "check-config",
        "DATABASE_URL",
        "GATEHOUSE_BIND",
        "GATEHOUSE_MODE",
        "GATEHOUSE_LOG_FORMAT",
        "GATEHOUSE_ORG_CONFIG",
    ] {
        assert!(help.contains(word), "--help mentions {word}:\n{help}");
    }
}

#[test]
fn check_config_summarises_a_valid_file_and_rejects_a_broken_one() {
    let out = Command::new(BIN)
        .args(["check-config", "--org-config", &org_config()])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8(out.stdout).expect("utf8");
    assert!(summary.contains("3 teams"), "{summary}");
    assert!(
        summary.contains("Dev -> Stage -> Release -> QA -> Pre-Prod -> Prod"),
        "{summary}"
    );

    let out = Command::new(BIN)
        .args(["check-config", "--org-config", "/nonexistent.toml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).expect("utf8");
    assert!(err.contains("/nonexistent.toml"), "{err}");
}

#[test]
fn serving_without_a_database_url_says_so() {
    let out = Command::new(BIN)
        .env_remove("DATABASE_URL")
        .arg("serve")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL is not set"));
}

fn url_of(options: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().expect("database")
    )
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_server_stops_cleanly_on_sigterm(pool: PgPool) {
    let url = url_of(&pool.connect_options());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--org-config",
            &org_config(),
            "--log-format",
            "json",
        ])
        .env("DATABASE_URL", url)
        .env("GATEHOUSE_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            if r.status() == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "exit status {exit:?}");
}

#[tokio::test]
async fn the_codepipeline_simulator_runs_alone_seeded_from_the_org_configuration() {
    use app::ssr::ports::{ApprovalTarget, Pipelines};
    use server::codepipeline::{AwsSettings, CodePipelineAdapter};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mut child = Command::new(BIN)
        .args([
            "simulate",
            "codepipeline",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--org-config",
            &org_config(),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client
        .get(format!("{base}/_sim/calls"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "simulator did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let adapter = CodePipelineAdapter::new(&AwsSettings {
        region: "eu-west-1".into(),
        endpoint_url: Some(base.clone()),
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        operation_timeout: Duration::from_secs(5),
        placeholder_credentials: true,
    })
    .await;
    let target = ApprovalTarget {
        pipeline: "orders-api-qa".into(),
        stage: "Approval".into(),
        action: "ManualApproval".into(),
    };
    // Seeded executions start past Build; the clock moves them on further.
    let moved = client
        .post(format!("{base}/_sim/clock"))
        .json(&serde_json::json!({ "advanceSeconds": 60 }))
        .send()
        .await
        .expect("clock");
    assert!(moved.status().is_success());
    let pending = adapter
        .pending_approval(&target)
        .await
        .expect("call")
        .expect("waiting for QA");
    let revision = adapter
        .revision("orders-api-qa", &pending.execution_id)
        .await
        .expect("revision");
    let org = server::org_config::load(std::path::Path::new(&org_config())).expect("org");
    assert_eq!(revision.branch, Some(server::demo::releases(&org).branch()));
    assert_eq!(revision.commit.len(), 40);

    child.kill().expect("kill");
    let _ = child.wait();
}

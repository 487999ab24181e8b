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

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
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
    use server::adapters::codepipeline::{AwsSettings, CodePipelineAdapter};

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
    assert_eq!(
        revision.branch,
        Some(server::simulators::demo::releases(&org).branch())
    );
    assert_eq!(revision.commit.len(), 40);

    child.kill().expect("kill");
    let _ = child.wait();
}

/// The shipped org configuration with one problem in each of `[health]`,
/// `[notifications]` and `[terraform]`, written to a file of its own.
fn org_config_with_three_problems() -> std::path::PathBuf {
    let shipped = std::fs::read_to_string(org_config()).expect("shipped");
    let broken = shipped
        .replacen(
            "url = \"https://{service}.{environment}.acme-retail.internal/healthz\"",
            "url = \"not a url\"",
            1,
        )
        .replacen(
            "events = [\"approval-waiting\"]",
            "events = [\"approval-wating\"]",
            1,
        )
        .replacen(
            "environment = \"prod\"\nsource",
            "environment = \"prood\"\nsource",
            1,
        );
    assert_eq!(broken.matches("not a url").count(), 1);
    assert_eq!(broken.matches("approval-wating").count(), 1);
    assert_eq!(broken.matches("\"prood\"").count(), 1);
    let path = std::env::temp_dir().join(format!(
        "gatehouse-three-problems-{}.toml",
        std::process::id()
    ));
    std::fs::write(&path, broken).expect("write");
    path
}

/// What every check-config and serve run below must not inherit.
fn without_outside_settings(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") || key.starts_with("GATEHOUSE_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    let home = std::env::temp_dir().join(format!("gatehouse-empty-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("home");
    command
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        // Off this machine's network: an instance role would be found here.
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn check_config_refuses_what_serve_refuses_and_names_each_setting(pool: PgPool) {
    let path = org_config_with_three_problems();
    let out = without_outside_settings(&mut Command::new(BIN))
        .args(["check-config", "--org-config"])
        .arg(&path)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(0), "{err}");
    for said in [
        "health.url: \"not a url\" is not an http:// or https:// URL",
        "notifications.channels[1].events[0]",
        "approval-wating",
        "terraform.states[5].environment: there is no environment \"prood\"",
    ] {
        assert!(err.contains(said), "check-config says {said:?}:\n{err}");
    }

    // serve stops on the same file with the same sentence.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let served = without_outside_settings(&mut Command::new(BIN))
        .args(["serve", "--org-config"])
        .arg(&path)
        .env("DATABASE_URL", url_of(&pool.connect_options()))
        .env("GATEHOUSE_BIND", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_POLL_INTERVAL_SECS", "0")
        .output()
        .expect("runs");
    let served_err = String::from_utf8_lossy(&served.stderr).into_owned();
    assert_eq!(served.status.code(), Some(1), "{served_err}");
    assert!(
        served_err.contains("health.url: \"not a url\" is not an http:// or https:// URL"),
        "{served_err}"
    );

    // Settings serve refuses are refused too, without a database.
    let out = without_outside_settings(&mut Command::new(BIN))
        .args(["check-config", "--org-config", &org_config()])
        .env("GATEHOUSE_GITHUB_CLIENT_ID", "Iv1.abc")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("GATEHOUSE_GITHUB_CLIENT_SECRET"), "{err}");
    let out = without_outside_settings(&mut Command::new(BIN))
        .args(["check-config", "--org-config", &org_config()])
        .env(
            "GATEHOUSE_WEBHOOK_RELEASE_TRAIN",
            "hooks.slack.example/T0/B0",
        )
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("GATEHOUSE_WEBHOOK_RELEASE_TRAIN must be an http(s):// URL"),
        "{err}"
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn check_config_in_real_mode_says_what_is_missing_and_what_to_set() {
    let out = without_outside_settings(&mut Command::new(BIN))
        .args(["check-config", "--org-config", &org_config()])
        .env("GATEHOUSE_MODE", "real")
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "serve starts without them: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "Nobody can sign in: no sign-in provider is configured. Set GATEHOUSE_GITHUB_CLIENT_ID and GATEHOUSE_GITHUB_CLIENT_SECRET",
        "No AWS credentials:",
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        "No GitHub token: set GATEHOUSE_GITHUB_TOKEN",
        "GATEHOUSE_WEBHOOK_RELEASE_TRAIN is not set",
        "GATEHOUSE_SMTP_URL is not set",
        "docs/operations/real-mode.md",
    ] {
        assert!(said.contains(expected), "check-config says {expected:?}:\n{said}");
    }

    // Configured, nothing is reported missing.
    let out = without_outside_settings(&mut Command::new(BIN))
        .args(["check-config", "--org-config", &org_config()])
        .env("GATEHOUSE_MODE", "real")
        .env("GATEHOUSE_GITHUB_CLIENT_ID", "Iv1.abc")
        .env("GATEHOUSE_GITHUB_CLIENT_SECRET", "shh")
        .env("GATEHOUSE_GITHUB_TOKEN", "ghp_test")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI")
        .env(
            "GATEHOUSE_WEBHOOK_RELEASE_TRAIN",
            "https://hooks.slack.example/T0/B0",
        )
        .env("GATEHOUSE_SMTP_URL", "smtp://127.0.0.1:2525")
        .env("GATEHOUSE_MAIL_FROM", "Gatehouse <gatehouse@acme.example>")
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("real mode: sign-in, AWS credentials, the GitHub token and every notification channel are configured"), "{said}");
    assert!(
        !said.contains("shh") && !said.contains("wJalrXUtnFEMI"),
        "{said}"
    );
}

/// A loopback port nothing listens on: connections are refused at once.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    listener.local_addr().expect("addr").port()
}

/// An EC2 instance metadata service that forbids everything, as a host
/// without an instance role answers: every AWS call's credential chain asks
/// it, and the SDK warned each time.
async fn forbidding_metadata_service() -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0_u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nConnection: close\r\n\r\nforbidden")
                    .await;
            });
        }
    });
    port
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_first_real_start_without_aws_or_github_says_what_is_missing_once(pool: PgPool) {
    let port = closed_port();
    let (aws, github) = (closed_port(), closed_port());
    let metadata = forbidding_metadata_service().await;
    let log_path = std::env::temp_dir().join(format!("gatehouse-real-start-{port}.log"));
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = without_outside_settings(&mut Command::new(BIN))
        .args(["serve", "--org-config", &org_config()])
        .env("DATABASE_URL", url_of(&pool.connect_options()))
        .env("GATEHOUSE_MODE", "real")
        .env("GATEHOUSE_LOG_FORMAT", "json")
        .env("GATEHOUSE_BIND", format!("127.0.0.1:{port}"))
        // A pass a second: the many passes a long first start makes.
        .env("GATEHOUSE_POLL_INTERVAL_SECS", "1")
        .env(
            "GATEHOUSE_CODEPIPELINE_ENDPOINT",
            format!("http://127.0.0.1:{aws}"),
        )
        .env(
            "GATEHOUSE_GITHUB_API_URL",
            format!("http://127.0.0.1:{github}"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "false")
        .env(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://127.0.0.1:{metadata}"),
        )
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("starts");

    let client = reqwest::Client::new();
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ready = serde_json::Value::Null;
    let mut failing_since: Option<Instant> = None;
    loop {
        if let Ok(r) = client.get(&readyz).send().await {
            assert_eq!(r.status(), 200, "integrations never make it unready");
            ready = r.json().await.expect("json");
            let failing = |key: &str| ready["integrations"][key]["state"] == "failing";
            if failing("codepipeline") && failing("github") {
                let since = *failing_since.get_or_insert_with(Instant::now);
                // Several more passes, each a chance to repeat itself.
                if since.elapsed() >= Duration::from_secs(5) {
                    break;
                }
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "CodePipeline and GitHub were not reported failing: {ready}\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).expect("log");
    let _ = std::fs::remove_file(&log_path);

    let integrations = &ready["integrations"];
    let detail = |key: &str| integrations[key]["detail"].as_str().unwrap_or_default();
    for (key, state, names) in [
        ("sign_in", "missing", "GATEHOUSE_GITHUB_CLIENT_ID"),
        ("aws_credentials", "missing", "AWS_ACCESS_KEY_ID"),
        ("github_token", "missing", "GATEHOUSE_GITHUB_TOKEN"),
        ("codepipeline", "failing", "AWS_ACCESS_KEY_ID"),
        ("github", "failing", "GATEHOUSE_GITHUB_API_URL"),
        (
            "notification_channel:release-train",
            "missing",
            "GATEHOUSE_WEBHOOK_RELEASE_TRAIN",
        ),
    ] {
        assert_eq!(integrations[key]["state"], state, "{key}: {integrations}");
        assert!(
            detail(key).contains(names),
            "{key} names {names}: {integrations}"
        );
    }

    // The log: each integration's warning once, and no warning repeated.
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let warnings: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| matches!(l["level"].as_str(), Some("WARN" | "ERROR")))
        .collect();
    for key in [
        "sign_in",
        "aws_credentials",
        "github_token",
        "codepipeline",
        "github",
    ] {
        let n = warnings
            .iter()
            .filter(|w| w["integration"].as_str() == Some(key))
            .count();
        assert_eq!(n, 1, "one warning for {key}:\n{log}");
    }
    let mut seen = std::collections::HashMap::new();
    for w in &warnings {
        let mut w = (*w).clone();
        if let Some(fields) = w.as_object_mut() {
            fields.remove("timestamp");
        }
        *seen.entry(w.to_string()).or_insert(0) += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "repeated warnings: {repeated:#?}");
    assert!(
        warnings.len() <= 20,
        "{} warnings in a few seconds:\n{log}",
        warnings.len()
    );
}

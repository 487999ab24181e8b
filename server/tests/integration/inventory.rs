//! The Terraform inventory: states read from an HTTP backend with
//! conditional requests and from a file, stored without attribute values,
//! failures said in words, and the Inventory page's counts and drift.

use crate::common;

use app::ssr::Mode;
use server::adapters::terraform::{
    demo_state, refresh, Readers, S3Settings, StateSource, TerraformBackend, TerraformConfig,
};
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

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
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
        s3: S3Settings::default(),
    };
    let readers = Readers::for_config(&config).await;

    let first = refresh(&pool, &config, &readers).await.expect("refresh");
    assert_eq!((first.read, first.unchanged, first.failed), (2, 0, 1));
    assert_eq!(backend.answered(200), 1);
    // Nothing changed: the backend answers 304, the file is not read again.
    let second = refresh(&pool, &config, &readers).await.expect("refresh");
    assert_eq!((second.read, second.unchanged, second.failed), (0, 2, 1));
    assert_eq!(
        backend.answered(304),
        1,
        "a conditional request with the ETag"
    );
    // An apply: a new serial is read.
    backend.put("stage", demo_state(&org, "stage", 4));
    let third = refresh(&pool, &config, &readers).await.expect("refresh");
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

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn demo_mode_reads_its_own_backend_and_shows_the_drift_between_neighbours(pool: PgPool) {
    let app = common::spawn(pool.clone(), Mode::Demo).await;
    // The test app's jobs are off; read as the leader would.
    let config = app
        .terraform
        .clone()
        .expect("demo mode's Terraform sources");
    let report = refresh(&pool, &config, &Readers::for_config(&config).await)
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

/// A Terraform HTTP backend that answers with a chunked body (no
/// Content-Length) of up to `total` bytes, for as long as the client reads;
/// gives the URL and, once the connection ends, how many bytes it sent.
async fn endless_backend(total: u64) -> (String, tokio::sync::oneshot::Receiver<u64>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/state/qa", listener.local_addr().expect("addr"));
    let (sent_tx, sent_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("a request");
        let mut request = Vec::new();
        let mut buf = [0_u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.expect("read");
            assert!(n > 0, "the request ended early");
            request.extend_from_slice(&buf[..n]);
        }
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            )
            .await
            .expect("head");
        let chunk = vec![b' '; 64 * 1024];
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        let mut sent = 0_u64;
        while sent < total {
            if socket.write_all(&frame).await.is_err() {
                break;
            }
            sent += chunk.len() as u64;
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
        let _ = sent_tx.send(sent);
    });
    (url, sent_rx)
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_state_sent_without_a_length_is_read_no_further_than_the_limit(pool: PgPool) {
    // The environments exist once an app synced the org configuration.
    let _app = common::spawn(pool.clone(), Mode::Demo).await;
    let (url, sent) = endless_backend(300 * 1024 * 1024).await;
    let config = TerraformConfig {
        refresh: Duration::from_secs(300),
        states: vec![("qa".into(), StateSource::Http(url))],
        s3: S3Settings::default(),
    };
    let report = refresh(&pool, &config, &Readers::for_config(&config).await)
        .await
        .expect("refresh");
    assert_eq!((report.read, report.failed), (0, 1), "{report:?}");
    let sent = tokio::time::timeout(Duration::from_secs(30), sent)
        .await
        .expect("the backend stops once Gatehouse hangs up")
        .expect("sent");
    let limit = app::domain::inventory::STATE_LIMIT as u64;
    // What socket buffers held when Gatehouse hung up, at most.
    assert!(
        sent < limit + 16 * 1024 * 1024,
        "the backend sent {} MB of a 300 MB state before Gatehouse stopped reading",
        sent / (1024 * 1024)
    );
    let error: String =
        sqlx::query_scalar("SELECT error FROM terraform_states WHERE environment_id = 'qa'")
            .fetch_one(&pool)
            .await
            .expect("error");
    assert!(
        error.contains("sent more than 50 MB, so Gatehouse stopped reading it there"),
        "{error}"
    );
}

/// moto's S3-compatible server on a free port, stopped when dropped.
struct Moto {
    child: std::process::Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn moto() -> Moto {
    let home = std::env::var_os("MOTO_HOME").map_or_else(
        || {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/gatehouse/moto")
        },
        std::path::PathBuf::from,
    );
    let server = home.join("bin/moto_server");
    assert!(
        server.exists(),
        "{} is missing: run scripts/setup.sh --test",
        server.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    // Kept in `Moto` at once, so it is stopped whatever happens next.
    let moto = Moto {
        child: std::process::Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto starts"),
        url: url.clone(),
    };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{url}/moto-api/")).send().await.is_ok() {
            return moto;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("moto did not start on {url}");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn states_in_s3_are_read_through_the_sdk_once_per_change(pool: PgPool) {
    let app = common::spawn(pool.clone(), Mode::Demo).await;
    let org = app.state.org.load_org().await.expect("org");
    let moto = moto().await;
    let s3 = S3Settings {
        region: Some("eu-west-1".into()),
        endpoint: Some(moto.url.clone()),
        credentials: Some(("gatehouse-test".into(), "gatehouse-test-secret".into())),
    };
    let client = server::adapters::terraform::s3_client(&s3).await;
    client
        .create_bucket()
        .bucket("acme-tf")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("bucket");
    let put = |serial: u64| {
        let client = client.clone();
        let body = demo_state(&org, "prod", serial);
        async move {
            client
                .put_object()
                .bucket("acme-tf")
                .key("env/prod/terraform.tfstate")
                .body(body.into_bytes().into())
                .send()
                .await
                .expect("put");
        }
    };
    put(7).await;
    let config = TerraformConfig {
        refresh: Duration::from_secs(300),
        states: vec![
            (
                "prod".into(),
                StateSource::S3 {
                    bucket: "acme-tf".into(),
                    key: "env/prod/terraform.tfstate".into(),
                },
            ),
            (
                "stage".into(),
                StateSource::S3 {
                    bucket: "acme-tf".into(),
                    key: "env/stage/terraform.tfstate".into(),
                },
            ),
        ],
        s3,
    };
    let readers = Readers::for_config(&config).await;
    assert!(readers.s3.is_some());

    let first = refresh(&pool, &config, &readers).await.expect("refresh");
    assert_eq!((first.read, first.unchanged, first.failed), (1, 0, 1));
    let (serial, source, resources): (i64, String, i32) = sqlx::query_as(
        "SELECT serial, source, jsonb_array_length(resources) FROM terraform_states WHERE environment_id = 'prod'",
    )
    .fetch_one(&pool)
    .await
    .expect("prod");
    assert_eq!(serial, 7);
    assert_eq!(source, "s3://acme-tf/env/prod/terraform.tfstate");
    assert!(resources > 20, "{resources} resources");
    let error: String =
        sqlx::query_scalar("SELECT error FROM terraform_states WHERE environment_id = 'stage'")
            .fetch_one(&pool)
            .await
            .expect("stage");
    assert_eq!(
        error,
        "s3://acme-tf/env/stage/terraform.tfstate does not exist"
    );
    let stored: String = sqlx::query_scalar(
        "SELECT resources::text FROM terraform_states WHERE environment_id = 'prod'",
    )
    .fetch_one(&pool)
    .await
    .expect("stored");
    assert!(!stored.contains("demo-secret"), "a secret was stored");

    // Unchanged: GetObject with If-None-Match is answered 304.
    let second = refresh(&pool, &config, &readers).await.expect("refresh");
    assert_eq!((second.read, second.unchanged), (0, 1));
    // An apply writes a new object: read again.
    put(8).await;
    let third = refresh(&pool, &config, &readers).await.expect("refresh");
    assert_eq!(third.read, 1);
    let serial: i64 =
        sqlx::query_scalar("SELECT serial FROM terraform_states WHERE environment_id = 'prod'")
            .fetch_one(&pool)
            .await
            .expect("serial");
    assert_eq!(serial, 8);

    // A bucket that is not there is said in words.
    let missing = TerraformConfig {
        states: vec![(
            "qa".into(),
            StateSource::S3 {
                bucket: "no-such-bucket".into(),
                key: "qa.tfstate".into(),
            },
        )],
        ..config.clone()
    };
    let report = refresh(&pool, &missing, &readers).await.expect("refresh");
    assert_eq!(report.failed, 1);
    let error: String =
        sqlx::query_scalar("SELECT error FROM terraform_states WHERE environment_id = 'qa'")
            .fetch_one(&pool)
            .await
            .expect("qa");
    assert_eq!(
        error,
        "s3://no-such-bucket/qa.tfstate: there is no bucket no-such-bucket"
    );
}

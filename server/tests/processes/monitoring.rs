//! The alert rules in `config/monitoring` against Prometheus itself:
//! promtool checks them and runs their unit tests, and a real Prometheus
//! server scrapes a running Gatehouse, stores every series those unit tests
//! name (under the same names and labels), and evaluates the rules: a
//! decision CodePipeline keeps refusing puts the delivery alert in pending,
//! and nothing else alerts. Prometheus and promtool are unpacked by
//! `scripts/setup.sh --test` into `$PROMETHEUS_HOME`.

use crate::common;

use app::ssr::Mode;
use server::simulators::codepipeline::Faults;
use sqlx::PgPool;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn monitoring_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/monitoring"))
}

/// `promtool` or `prometheus` from `$PROMETHEUS_HOME` (by default where
/// the setup script unpacks them), else from PATH.
fn tool(name: &str) -> PathBuf {
    let home = std::env::var_os("PROMETHEUS_HOME").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/gatehouse/prometheus")
        },
        PathBuf::from,
    );
    let unpacked = home.join("usr/bin").join(name);
    if unpacked.exists() {
        return unpacked;
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.exists());
    on_path.unwrap_or_else(|| {
        panic!("{name} not found in {home:?} or on PATH: run scripts/setup.sh --test")
    })
}

fn promtool(args: &[&str]) -> String {
    let output = std::process::Command::new(tool("promtool"))
        .args(args)
        .current_dir(monitoring_dir())
        .output()
        .expect("promtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn promtool_checks_the_alert_rules_and_passes_their_unit_tests() {
    let checked = promtool(&["check", "rules", "prometheus-alerts.yml"]);
    assert!(checked.contains("SUCCESS: 7 rules found"), "{checked}");
    let tested = promtool(&["test", "rules", "prometheus-alerts.test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

/// Every `series:` of the unit tests as a selector without the labels a
/// scrape adds (`job`, `instance`) or an HTTP status (a test names a 500
/// this test does not cause).
fn unit_test_selectors() -> Vec<String> {
    let text = std::fs::read_to_string(monitoring_dir().join("prometheus-alerts.test.yml"))
        .expect("unit tests");
    let mut selectors: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- series: '"))
        .filter_map(|l| l.strip_suffix('\''))
        .map(|series| {
            let (name, labels) = series.split_once('{').expect("labels");
            let kept: Vec<&str> = labels
                .trim_end_matches('}')
                .split(", ")
                .filter(|l| {
                    !l.starts_with("job=")
                        && !l.starts_with("instance=")
                        && !l.starts_with("status=")
                })
                .collect();
            format!("{name}{{{}}}", kept.join(","))
        })
        .collect();
    selectors.sort();
    selectors.dedup();
    selectors
}

async fn query(client: &reqwest::Client, prometheus: &str, promql: &str) -> serde_json::Value {
    client
        .get(format!("{prometheus}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .await
        .expect("query")
        .json::<serde_json::Value>()
        .await
        .expect("json")
}

async fn active_alerts(client: &reqwest::Client, prometheus: &str) -> Vec<(String, String)> {
    let answer: serde_json::Value = client
        .get(format!("{prometheus}/api/v1/alerts"))
        .send()
        .await
        .expect("alerts")
        .json()
        .await
        .expect("json");
    let mut alerts: Vec<(String, String)> = answer["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            (
                a["labels"]["alertname"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                a["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    alerts.sort();
    alerts
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn prometheus_scrapes_gatehouse_and_evaluates_the_alert_rules(pool: PgPool) {
    // Gatehouse in demo mode with its background jobs on.
    let mut config = common::config(Mode::Demo, common::shipped_org_config());
    config.poll_interval = Duration::from_secs(1);
    config.health_interval = Some(Duration::from_secs(1));
    let app = common::spawn_with(pool.clone(), config).await;
    let sim = app.simulator.clone().expect("simulator");
    sim.advance_clock(chrono::Duration::seconds(60));

    // A Prometheus server scraping it every second, with the shipped rules.
    let dir = std::env::temp_dir().join(format!("gatehouse-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let target = app.base.trim_start_matches("http://");
    let rules = monitoring_dir().join("prometheus-alerts.yml");
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: gatehouse\n    static_configs:\n      - targets: ['{target}']\n",
            rules.display()
        ),
    )
    .expect("config");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let log = std::fs::File::create(dir.join("prometheus.log")).expect("log");
    let _prometheus = tokio::process::Command::new(tool("prometheus"))
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("prometheus starts");
    let prometheus = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let log_text = || std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();

    // Until Prometheus is up, then until it stores the poller's and the
    // prober's first passes.
    let started = Instant::now();
    while !client
        .get(format!("{prometheus}/-/ready"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "Prometheus did not start; its log:\n{}",
            log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    loop {
        let answer = query(
            &client,
            &prometheus,
            r#"count(gatehouse_job_last_success_timestamp_seconds{task=~"poller|prober"}) == 2"#,
        )
        .await;
        if answer["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "Prometheus did not store both jobs' passes; its log:\n{}",
            log_text()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A page load, so the HTTP series exist.
    app.sign_in("sam.okafor").await;
    assert_eq!(app.page("/board").await.0, 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // Every series the unit tests reason about is one Prometheus stores
    // from Gatehouse, under those very names and labels.
    for selector in unit_test_selectors() {
        let answer = query(&client, &prometheus, &selector).await;
        assert!(
            answer["data"]["result"]
                .as_array()
                .is_some_and(|r| !r.is_empty()),
            "Prometheus has no series {selector} from Gatehouse: {answer}"
        );
    }
    assert_eq!(
        active_alerts(&client, &prometheus).await,
        Vec::<(String, String)>::new(),
        "a healthy Gatehouse alerts"
    );

    // CodePipeline refuses every PutApprovalResult: an approval is recorded
    // but cannot be delivered, and the delivery alert starts its 5 minutes.
    sim.set_faults(Faults {
        server_errors: 10_000,
        operation: Some("PutApprovalResult".into()),
        ..Faults::default()
    });
    let request: String = loop {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id::text FROM approval_requests WHERE state = 'pending' AND pipeline LIKE '%-stage' LIMIT 1",
        )
        .fetch_optional(&pool)
        .await
        .expect("request");
        if let Some(id) = found {
            break id;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no Stage approval recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let response = app
        .call("approvals/decide", &common::approval(&request))
        .await;
    assert_eq!(response.status(), 200);
    let started = Instant::now();
    loop {
        let alerts = active_alerts(&client, &prometheus).await;
        if alerts.contains(&("GatehouseApprovalDeliveryFailing".into(), "pending".into())) {
            assert_eq!(
                alerts,
                [("GatehouseApprovalDeliveryFailing".into(), "pending".into())],
                "only the delivery alert"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the delivery alert is not pending; alerts: {alerts:?}; Prometheus's log:\n{}",
            log_text()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

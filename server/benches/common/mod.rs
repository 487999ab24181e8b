//! What the benchmarks share: an org of many services, a fresh database,
//! Gatehouse built in demo mode against it, and percentiles.

#![allow(dead_code)]

use app::ssr::Mode;
use server::config::{Config, LogFormat, Secret};
use server::startup::Application;
use std::fmt::Write as _;
use std::time::Duration;

/// The shipped org configuration with `services` services, round-robin
/// over its three teams.
pub fn org_config(services: usize) -> String {
    let shipped = include_str!("../../../config/org.toml");
    let start = shipped.find("[[services]]").expect("services");
    let end = shipped.find("[[environments]]").expect("environments");
    let mut out = String::new();
    for i in 0..services {
        let team = ["frontend", "backend", "mobile"][i % 3];
        let _ = write!(
            out,
            "[[services]]\nid = \"svc-{i:03}\"\nname = \"Service {i:03}\"\nteam = \"{team}\"\nrepository = \"acme-retail/svc-{i:03}\"\n\n"
        );
    }
    format!("{}{}{}", &shipped[..start], out, &shipped[end..])
}

/// An approval of Stage request `id` with every sign-off, as the decision
/// panel sends it, answered with JSON (the caller sends and times it).
pub fn stage_approval(client: &reqwest::Client, base: &str, id: &str) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/api/approvals/decide"))
        .header("Accept", "application/json")
        .header("Origin", base)
        .form(&[
            ("request", id),
            ("decision", "approve"),
            ("passed[]", "integration"),
            ("passed[]", "api"),
            ("passed[]", "ui"),
            ("passed[]", "system"),
        ])
}

/// The value at `p` (0..=1) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// utime + stime of this process, from /proc (Linux).
pub fn cpu_time() -> Duration {
    cpu_of("/proc/self/stat")
}

/// User and system CPU of the process whose `stat` file is at `path`.
pub fn cpu_of(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// CPU used so far by every PostgreSQL process on this machine (the
/// server's own work for Gatehouse's queries, triggers and chaining), when
/// it runs here; a process that exits takes its share with it.
pub fn postgres_cpu_time() -> Duration {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .map(|e| cpu_of(&e.path().join("stat").to_string_lossy()))
        .sum()
}

/// Builds Gatehouse in demo mode with `services` services against a fresh
/// database `name` on the server in DATABASE_URL; returns the app and the
/// database's URL.
pub async fn build(name: &str, services: usize) -> (Application, String) {
    build_with(name, &org_config(services)).await
}

/// Builds Gatehouse in demo mode with the org configuration `org_text`
/// against a fresh database `name`.
pub async fn build_with(name: &str, org_text: &str) -> (Application, String) {
    let admin = std::env::var("DATABASE_URL").expect("set DATABASE_URL to a Postgres server");
    let admin_pool = sqlx::PgPool::connect(&admin).await.expect("connect");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin_pool)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin_pool)
        .await
        .expect("create");
    let url = format!("{}/{name}", admin.rsplit_once('/').expect("url").0);
    let dir = std::env::temp_dir().join(format!("gatehouse-{name}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let org_file = dir.join("org.toml");
    std::fs::write(&org_file, org_text).expect("write org");
    let config = Config {
        database_url: Secret::new(url.clone()),
        migration_database_url: None,
        bind: "127.0.0.1:0".parse().expect("addr"),
        mode: Mode::Demo,
        log_format: LogFormat::Pretty,
        org_config: org_file,
        site_root: "target/site".into(),
        db_max_connections: 20,
        shutdown_grace: Duration::from_secs(1),
        shutdown_drain: Duration::ZERO,
        aws: server::adapters::codepipeline::AwsSettings {
            region: "us-east-1".into(),
            endpoint_url: None,
            max_attempts: 3,
            initial_backoff: Duration::from_millis(50),
            operation_timeout: Duration::from_secs(10),
            placeholder_credentials: true,
        },
        poll_interval: Duration::ZERO,
        health_url: None,
        health_interval: None,
        auth: server::config::AuthSettings::default(),
        limits: server::config::LimitSettings {
            votes_per_minute: 0,
            sign_ins_per_minute: 0,
            ..Default::default()
        },
        metrics: server::config::MetricsSettings::default(),
        notifications: Default::default(),
    };
    (Application::build(config).await.expect("build"), url)
}

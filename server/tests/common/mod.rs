//! Spawning Gatehouse on a free port against the test's own database.

#![allow(dead_code)]

pub mod cluster;
pub mod fakes;
pub mod sinks;

use app::ssr::Mode;
use server::config::{Config, LogFormat, Secret};
use server::startup::Application;
use sqlx::PgPool;
use std::path::PathBuf;
use std::time::Duration;

pub struct TestApp {
    pub base: String,
    pub state: app::ssr::AppState,
    pub simulator: Option<server::simulators::codepipeline::Simulator>,
    pub github: Option<server::simulators::github::GitHubSimulator>,
    /// Demo mode's simulated services (health endpoints).
    pub services: Option<server::simulators::health::HealthSimulator>,
    /// What the prober probes.
    pub health: Option<server::org_config::HealthConfig>,
    /// Keeps cookies, never follows redirects.
    pub client: reqwest::Client,
    pub pool: PgPool,
    /// Routes and sends notifications (tests run its passes).
    pub notifier: std::sync::Arc<server::adapters::notify::Notifier>,
    /// Where Terraform states are read.
    pub terraform: Option<server::adapters::terraform::TerraformConfig>,
}

pub fn shipped_org_config() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/org.toml"))
}

pub fn config(mode: Mode, org_config: PathBuf) -> Config {
    Config {
        database_url: Secret::new("unused: the test passes its pool"),
        migration_database_url: None,
        bind: "127.0.0.1:0".parse().expect("address"),
        mode,
        log_format: LogFormat::Pretty,
        org_config,
        site_root: PathBuf::from("target/site"),
        db_max_connections: 5,
        shutdown_grace: Duration::from_secs(1),
        shutdown_drain: Duration::ZERO,
        aws: server::adapters::codepipeline::AwsSettings {
            region: "us-east-1".into(),
            endpoint_url: None,
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            operation_timeout: Duration::from_secs(3),
            placeholder_credentials: true,
        },
        // Tests drive the poller themselves.
        poll_interval: Duration::ZERO,
        health_url: None,
        health_interval: None,
        auth: server::config::AuthSettings::default(),
        // Tests send many votes from one session at once; the limits
        // have their own test.
        limits: server::config::LimitSettings {
            votes_per_minute: 0,
            sign_ins_per_minute: 0,
            ..Default::default()
        },
        metrics: server::config::MetricsSettings::default(),
        notifications: Default::default(),
    }
}

/// The demo's release names today (its branch and tags follow them).
pub fn demo_releases() -> server::simulators::demo::DemoReleases {
    server::simulators::demo::releases(
        &server::org_config::load(&shipped_org_config()).expect("org"),
    )
}

/// The form of an approval of `request` with every test signed off.
pub fn approval(request: &str) -> Vec<(&'static str, &str)> {
    let mut form = vec![("request", request), ("decision", "approve")];
    for t in app::domain::TestType::ALL {
        form.push(("passed[]", t.as_str()));
    }
    form
}

/// Waits until `pool` records `n` delivered decisions, failing after
/// `within`.
pub async fn wait_for_deliveries(pool: &PgPool, n: i64, within: Duration) {
    let started = std::time::Instant::now();
    loop {
        let delivered = count(
            pool,
            "SELECT count(*) FROM approval_deliveries WHERE outcome = 'delivered'",
        )
        .await;
        if delivered >= n {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{delivered} of {n} decisions delivered within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The single number a counting query answers.
pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .expect(sql)
}

pub async fn spawn(pool: PgPool, mode: Mode) -> TestApp {
    spawn_with(pool.clone(), config(mode, shipped_org_config())).await
}

pub async fn spawn_with(pool: PgPool, config: Config) -> TestApp {
    let app = Application::build_with_pool(config, pool)
        .await
        .expect("app builds");
    start(app)
}

/// Gatehouse as `gatehouse serve` builds it: its own pool on
/// `config.database_url`.
pub async fn spawn_connected(config: Config) -> TestApp {
    let app = Application::build(config).await.expect("app builds");
    start(app)
}

fn start(app: Application) -> TestApp {
    let pool = app.pool();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let simulator = app.codepipeline_simulator();
    let github = app.github_simulator();
    let services = app.health_simulator();
    let health = app.health();
    let notifier = app.notifier();
    let terraform = app.terraform();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base,
        state,
        simulator,
        github,
        services,
        health,
        client,
        pool,
        notifier,
        terraform,
    }
}

/// A demo-mode Gatehouse whose pipelines reached their approvals, which the
/// poller recorded.
pub async fn demo_queue(pool: PgPool) -> TestApp {
    let app = spawn(pool, Mode::Demo).await;
    app.simulator
        .as_ref()
        .expect("demo simulator")
        .advance_clock(chrono::Duration::seconds(60));
    app.poll().await;
    app
}

impl TestApp {
    /// One pass of the approvals poller, as the leader runs it.
    pub async fn poll(&self) -> server::jobs::poller::PollReport {
        server::jobs::poller::poll(&self.state, Duration::ZERO)
            .await
            .expect("poll")
    }

    /// How many times the CodePipeline simulator was called with
    /// `operation`.
    pub fn aws_calls(&self, operation: &str) -> u64 {
        self.simulator
            .as_ref()
            .expect("simulator")
            .calls()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Signs in as a demo persona.
    pub async fn sign_in(&self, login: &str) {
        let response = self.call("demo/sign-in", &[("login", login)]).await;
        assert_eq!(response.status(), 200, "sign in as {login}");
    }

    /// The Approvals page's data, as the signed-in user sees it.
    pub async fn approvals(&self) -> app::views::approvals::ApprovalsView {
        self.call("approvals", &[])
            .await
            .json()
            .await
            .expect("approvals json")
    }

    /// One pass of the board's job, as the leader runs it.
    pub async fn refresh_board(&self) -> server::jobs::board::RefreshReport {
        server::jobs::board::refresh(&self.state, &self.pool, std::time::Duration::ZERO)
            .await
            .expect("board refresh")
    }

    /// The board for a query, as the hydrated page asks for it.
    pub async fn board(&self, form: &[(&str, &str)]) -> app::views::board::BoardView {
        let response = self.call("board", form).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("board json")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    pub async fn page(&self, path: &str) -> (reqwest::StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// Calls a server function the way the hydrated app does: a urlencoded
    /// POST answered with JSON.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        call_function(&self.client, &self.base, endpoint, form).await
    }

    /// Submits a form as a browser with JavaScript off does.
    pub async fn submit(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        referer: &str,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "text/html")
            .header("Origin", &self.base)
            .header("Referer", format!("{}{referer}", self.base))
            .form(form)
            .send()
            .await
            .expect("POST")
    }
}

/// Someone with a browser of their own (their own cookies): a demo persona
/// made up for the test, with a GitHub account of the simulated GitHub.
pub struct Person {
    pub login: String,
    pub client: reqwest::Client,
    base: String,
}

impl TestApp {
    /// Adds a person with `roles` and signs them in on a browser of their
    /// own.
    pub async fn person(&self, login: &str, roles: &[&str]) -> Person {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let github_id = i64::try_from(server::simulators::github::account_id(login)).expect("id");
        sqlx::query(
            r#"INSERT INTO users (id, login, display_name, roles, provider, issuer, subject, person, github_id)
               VALUES (gen_random_uuid(), $1, $1, $2, 'demo', '', $1, 'demo:' || $1, $3)
               ON CONFLICT ON CONSTRAINT users_identity_key DO NOTHING"#,
        )
        .bind(login)
        .bind(&roles)
        .bind(github_id)
        .execute(&self.pool)
        .await
        .expect("insert person");
        let person = Person {
            login: login.to_owned(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: self.base.clone(),
        };
        let response = person.call("demo/sign-in", &[("login", login)]).await;
        assert_eq!(response.status(), 200, "sign in as {login}");
        person
    }
}

impl Person {
    /// Calls a server function as the hydrated app does.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        call_function(&self.client, &self.base, endpoint, form).await
    }
}

/// A server function called by `client` as the hydrated app calls it.
pub async fn call_function(
    client: &reqwest::Client,
    base: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(format!("{base}/api/{endpoint}"))
        .header("Accept", "application/json")
        .header("Origin", base)
        .form(form)
        .send()
        .await
        .expect("POST")
}

/// The newest audit row of `kind`, as the Audit page's kind filter finds
/// it; fails unless one exists whose summary contains `words`.
pub async fn audited(app: &TestApp, kind: &str, words: &str) -> app::domain::audit::AuditEntry {
    // A row written while another session was chaining is chained a moment
    // later; wait for any such.
    server::adapters::db::audit::chain_pending(&app.pool)
        .await
        .expect("chain");
    let rows = app
        .state
        .audit
        .page(&app::domain::audit::AuditQuery {
            kind: Some(kind.to_owned()),
            limit: 200,
            ..Default::default()
        })
        .await
        .expect("audit page");
    assert!(
        rows.iter().all(|r| r.kind == kind),
        "the kind filter returned other kinds"
    );
    rows.into_iter()
        .find(|r| r.summary.contains(words))
        .unwrap_or_else(|| panic!("no {kind} audit row says {words:?}"))
}

/// Runs `gatehouse audit verify` with `DATABASE_URL` set to `url` (and no
/// migration URL): whether it verified, and what it printed.
pub fn audit_verify(url: &str) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", url)
        .env_remove("GATEHOUSE_MIGRATION_DATABASE_URL")
        .output()
        .expect("runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

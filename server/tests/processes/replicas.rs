//! Three `gatehouse serve` processes on one database, as behind a load
//! balancer: one leader per job, a leader killed with SIGKILL and replaced,
//! its pending deliveries finished exactly once, changes reaching browsers
//! on every replica, sessions valid everywhere, and a rolling restart that
//! drops no request.

use crate::common;

use common::{count, shipped_org_config};
use server::simulators::codepipeline::{Faults, Simulator};
use server::simulators::github::GitHubSimulator;
use sqlx::PgPool;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// CodePipeline and GitHub, simulated in the test and shared by every
/// replica over HTTP.
struct World {
    codepipeline: Simulator,
    codepipeline_url: String,
    github_url: String,
    database_url: String,
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

async fn world(pool: &PgPool) -> World {
    let org = server::org_config::load(&shipped_org_config()).expect("org");
    let codepipeline = Simulator::new(Default::default());
    server::simulators::demo::seed_codepipeline(&codepipeline, &org);
    let github = GitHubSimulator::new();
    server::simulators::demo::seed_github(&github, &org);
    let options = pool.connect_options();
    let database_url = format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().expect("the test database's name"),
    );
    World {
        codepipeline_url: serve(codepipeline.router()).await,
        codepipeline,
        github_url: serve(github.router()).await,
        database_url,
    }
}

/// One `gatehouse serve` process.
struct Replica {
    name: &'static str,
    base: String,
    child: Child,
    log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Replica {
    async fn start(world: &World, name: &'static str) -> Replica {
        Self::start_on(world, name, free_port()).await
    }

    async fn start_on(world: &World, name: &'static str, port: u16) -> Replica {
        Self::start_with(world, name, port, &[]).await
    }

    async fn start_with(
        world: &World,
        name: &'static str,
        port: u16,
        settings: &[(&str, &str)],
    ) -> Replica {
        let log = std::env::temp_dir().join(format!(
            "gatehouse-replica-{}-{name}-{port}.log",
            std::process::id()
        ));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &world.database_url)
            .env("GATEHOUSE_MODE", "demo")
            .env("GATEHOUSE_BIND", format!("127.0.0.1:{port}"))
            .env("GATEHOUSE_ORG_CONFIG", shipped_org_config())
            .env("GATEHOUSE_CODEPIPELINE_ENDPOINT", &world.codepipeline_url)
            .env("GATEHOUSE_GITHUB_API_URL", &world.github_url)
            .env("GATEHOUSE_POLL_INTERVAL_SECS", "1")
            .env("GATEHOUSE_HEALTH_INTERVAL_SECS", "1")
            .env("GATEHOUSE_AWS_MAX_ATTEMPTS", "1")
            .env("GATEHOUSE_DB_MAX_CONNECTIONS", "6")
            .env("GATEHOUSE_SHUTDOWN_DRAIN_SECS", "1")
            .env("GATEHOUSE_LOG_FORMAT", "json")
            .env("RUST_LOG", "info,sqlx=warn")
            .envs(settings.iter().copied())
            .stdout(Stdio::from(file.try_clone().expect("log")))
            .stderr(Stdio::from(file))
            .kill_on_drop(true)
            .spawn()
            .expect("gatehouse starts");
        let replica = Replica {
            name,
            base: format!("http://127.0.0.1:{port}"),
            child,
            log,
        };
        replica.wait_ready(Duration::from_secs(60)).await;
        replica
    }

    async fn ready(&self, client: &reqwest::Client) -> bool {
        client
            .get(format!("{}/readyz", self.base))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    }

    async fn wait_ready(&self, within: Duration) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while !self.ready(&client).await {
            assert!(
                started.elapsed() < within,
                "replica {} not ready within {within:?}; its log:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The jobs this replica leads now, from its `/metrics`.
    async fn leads(&self, client: &reqwest::Client) -> Vec<String> {
        let Ok(response) = client.get(format!("{}/metrics", self.base)).send().await else {
            return Vec::new();
        };
        let text = response.text().await.unwrap_or_default();
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("metrics parse");
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == "gatehouse_job_leader")
            .filter(|s| matches!(s.value, prometheus_parse::Value::Gauge(v) if v == 1.0))
            .filter_map(|s| s.labels.get("task").map(str::to_owned))
            .collect()
    }

    fn kill_hard(&mut self) {
        self.child.start_kill().expect("SIGKILL");
    }

    fn terminate(&self) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
    }
}

const JOBS: [&str; 2] = ["poller", "prober"];

/// Who leads each job, once every job has exactly one leader among
/// `replicas` (waits up to `within`).
async fn leaders(replicas: &[&Replica], within: Duration) -> Vec<(String, &'static str)> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let mut seen: Vec<(String, &'static str)> = Vec::new();
        for replica in replicas {
            for job in replica.leads(&client).await {
                seen.push((job, replica.name));
            }
        }
        seen.sort();
        let each_once = JOBS
            .iter()
            .all(|job| seen.iter().filter(|(j, _)| j == job).count() == 1);
        if each_once {
            return seen;
        }
        assert!(
            started.elapsed() < within,
            "no single leader per job within {within:?}: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A browser: its own cookies, signed in on `replica` as the demo's SRE
/// (a persona every replica keeps on its restart).
async fn browser(replica: &Replica) -> reqwest::Client {
    let org = server::org_config::load(&shipped_org_config()).expect("org");
    let sre = server::simulators::demo::personas(&org)
        .into_iter()
        .find(|p| p.roles == [app::domain::Role::Sre])
        .expect("an SRE persona")
        .login;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response =
        common::call_function(&client, &replica.base, "demo/sign-in", &[("login", &sre)]).await;
    assert_eq!(response.status(), 200, "sign in as {sre}");
    client
}

/// The pending Stage requests, once the poller recorded all of them.
async fn pending_stage_requests(pool: &PgPool, at_least: i64) -> Vec<String> {
    let started = Instant::now();
    loop {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id::text FROM approval_requests WHERE state = 'pending' AND pipeline LIKE '%-stage' ORDER BY pipeline",
        )
        .fetch_all(pool)
        .await
        .expect("requests");
        if ids.len() as i64 >= at_least {
            return ids;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the leader's poller recorded {} Stage approvals, not {at_least}",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads `stream` (an open `/events` response) until a `change` event
/// whose data names `topic`, or `within` passes.
async fn sees_change(stream: &mut reqwest::Response, topic: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut text = String::new();
    while Instant::now() < deadline {
        match tokio::time::timeout_at(deadline.into(), stream.chunk()).await {
            Ok(Ok(Some(bytes))) => {
                text.push_str(&String::from_utf8_lossy(&bytes));
                if text.contains("event: change")
                    && text.contains(&format!("\"topic\":\"{topic}\""))
                {
                    return true;
                }
            }
            _ => return false,
        }
    }
    false
}

async fn open_stream(client: &reqwest::Client, replica: &Replica) -> reqwest::Response {
    let response = client
        .get(format!("{}/events", replica.base))
        .send()
        .await
        .expect("GET /events");
    assert_eq!(response.status(), 200, "stream on {}", replica.name);
    response
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn three_replicas_share_one_leader_per_job_and_survive_the_leader_s_death(pool: PgPool) {
    let world = world(&pool).await;
    // One after the other, as a deployment brings them up.
    let mut replicas = [
        Replica::start(&world, "a").await,
        Replica::start(&world, "b").await,
        Replica::start(&world, "c").await,
    ];
    let all: Vec<&Replica> = replicas.iter().collect();
    let first = leaders(&all, Duration::from_secs(10)).await;

    // Sessions work on every replica: signed in on A, known on B and C.
    let sre = browser(&replicas[0]).await;
    for replica in &replicas[1..] {
        let response = common::call_function(&sre, &replica.base, "session", &[]).await;
        assert_eq!(response.status(), 200);
        let session: app::views::session::SessionInfo = response.json().await.expect("json");
        assert!(
            session
                .user
                .as_ref()
                .is_some_and(|u| u.roles == [app::domain::Role::Sre]),
            "the session made on A is valid on {}",
            replica.name
        );
    }

    // The pipelines reach their approvals; the leader records them.
    world
        .codepipeline
        .advance_clock(chrono::Duration::seconds(60));
    let requests = pending_stage_requests(&pool, 4).await;

    // A vote through A reaches a browser connected to B within a second.
    let watcher = reqwest::Client::new();
    let mut on_b = open_stream(&watcher, &replicas[1]).await;
    let mut on_c = open_stream(&watcher, &replicas[2]).await;
    // CodePipeline stops taking answers: decisions are recorded, their
    // delivery waits for the poller.
    world.codepipeline.set_faults(Faults {
        server_errors: u32::MAX,
        operation: Some("PutApprovalResult".into()),
        ..Default::default()
    });
    let voted = Instant::now();
    let response = common::call_function(
        &sre,
        &replicas[0].base,
        "approvals/decide",
        &common::approval(&requests[0]),
    )
    .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert!(
        sees_change(&mut on_b, "approvals", Duration::from_secs(1)).await,
        "a browser on B saw the vote made on A within a second"
    );
    assert!(
        sees_change(&mut on_c, "approvals", Duration::from_secs(1)).await,
        "and one on C"
    );
    let seen_after = voted.elapsed();
    // The other decisions, through B and C.
    for (i, request) in requests[1..].iter().enumerate() {
        let replica = &replicas[1 + i % 2];
        let response = common::call_function(
            &sre,
            &replica.base,
            "approvals/decide",
            &common::approval(request),
        )
        .await;
        assert_eq!(response.status(), 200);
    }
    let decided = requests.len() as i64;
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM approval_deliveries WHERE outcome = 'delivered'"
        )
        .await,
        0,
        "nothing delivered while CodePipeline refuses answers"
    );

    // The poller's leader dies without a word.
    let poller = "poller";
    let leader_name = first
        .iter()
        .find(|(job, _)| job == poller)
        .map(|(_, name)| *name)
        .expect("a poller leader");
    let leader_at = replicas
        .iter()
        .position(|r| r.name == leader_name)
        .expect("leader");
    replicas[leader_at].kill_hard();
    let killed = Instant::now();
    let survivors: Vec<&Replica> = replicas
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != leader_at)
        .map(|(_, r)| r)
        .collect();
    // Two poll intervals (1 s each, give or take 10 %), plus the scrape.
    let next = leaders(&survivors, Duration::from_secs(5)).await;
    let took_over = killed.elapsed();
    assert!(
        took_over <= Duration::from_millis(2_500),
        "another replica led within two poll intervals, not {took_over:?}"
    );
    assert!(next.iter().all(|(_, name)| *name != leader_name));

    // CodePipeline answers again: the new leader delivers every decision
    // exactly once.
    let puts_before = world
        .codepipeline
        .calls()
        .get("PutApprovalResult")
        .copied()
        .unwrap_or(0);
    world.codepipeline.set_faults(Faults::default());
    common::wait_for_deliveries(&pool, decided, Duration::from_secs(45)).await;
    // A few more passes: nothing is sent twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let puts = world
        .codepipeline
        .calls()
        .get("PutApprovalResult")
        .copied()
        .unwrap_or(0)
        - puts_before;
    assert_eq!(
        puts, decided as u64,
        "one PutApprovalResult per decision after the takeover"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM approval_deliveries WHERE outcome = 'delivered'"
        )
        .await,
        decided
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE event = 'aws_delivered'"
        )
        .await,
        decided,
        "one delivery row in the audit log per decision"
    );
    eprintln!(
        "replicas: change seen on B and C {seen_after:?} after the vote; new leader {took_over:?} after SIGKILL"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_rolling_restart_drops_no_request_and_every_log_line_carries_its_request_id(
    pool: PgPool,
) {
    let world = world(&pool).await;
    let mut replicas = [
        Replica::start(&world, "a").await,
        Replica::start(&world, "b").await,
    ];
    world
        .codepipeline
        .advance_clock(chrono::Duration::seconds(60));
    let requests = pending_stage_requests(&pool, 4).await;
    let sre = browser(&replicas[0]).await;

    // A load balancer's view: send each request to a replica that answered
    // its last readiness check; replicas restart one at a time meanwhile.
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
    let ready = std::sync::Arc::new(std::sync::Mutex::new(vec![true; bases.len()]));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let checker = {
        let (ready, stop, bases) = (ready.clone(), stop.clone(), bases.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                for (i, base) in bases.iter().enumerate() {
                    let up = client
                        .get(format!("{base}/readyz"))
                        .timeout(Duration::from_millis(500))
                        .send()
                        .await
                        .is_ok_and(|r| r.status() == 200);
                    ready.lock().expect("lock")[i] = up;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let load = {
        let (ready, stop, bases, sre) = (ready.clone(), stop.clone(), bases.clone(), sre.clone());
        tokio::spawn(async move {
            let mut answers: Vec<u16> = Vec::new();
            let mut turn = 0usize;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                turn += 1;
                let up: Vec<usize> = {
                    let ready = ready.lock().expect("lock");
                    (0..bases.len()).filter(|&i| ready[i]).collect()
                };
                let Some(&at) = up.get(turn % up.len().max(1)) else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let status = match sre
                    .post(format!("{}/api/board", bases[at]))
                    .header("Accept", "application/json")
                    .header("Origin", &bases[at])
                    .form::<[(&str, &str); 0]>(&[])
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                answers.push(status);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answers
        })
    };
    // Votes through the restart too.
    let mut votes = Vec::new();
    for (i, replica_at) in [0usize, 1].into_iter().enumerate() {
        // Replica `replica_at` goes away gracefully and comes back.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let port: u16 = replicas[replica_at]
            .base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        replicas[replica_at].terminate();
        let other = &replicas[1 - replica_at];
        let response = common::call_function(
            &sre,
            &other.base,
            "approvals/decide",
            &common::approval(&requests[i]),
        )
        .await;
        votes.push(response.status().as_u16());
        let status =
            tokio::time::timeout(Duration::from_secs(15), replicas[replica_at].child.wait())
                .await
                .expect("stops within its drain and grace")
                .expect("exit status");
        assert!(status.success(), "a SIGTERM is a clean stop: {status:?}");
        // A clean stop is a quiet one: closing the pool under the change
        // listener is not a lost connection.
        let log = replicas[replica_at].log_text();
        let loud: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(r#""level":"WARN""#) || l.contains(r#""level":"ERROR""#))
            .collect();
        assert!(loud.is_empty(), "warnings on a clean stop: {loud:#?}");
        let name = replicas[replica_at].name;
        replicas[replica_at] = Replica::start_on(&world, name, port).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let answers = load.await.expect("load");
    checker.await.expect("checker");
    let failed = answers.iter().filter(|&&s| s != 200).count();
    assert!(
        answers.len() > 20,
        "the load ran: {} requests",
        answers.len()
    );
    assert_eq!(
        failed, 0,
        "no request dropped in the rolling restart: {answers:?}"
    );
    assert_eq!(votes, [200, 200]);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM approval_votes").await,
        2,
        "both votes recorded once"
    );

    // Request ids: the caller's is kept and answered, and the log lines of
    // that request carry it.
    let response = sre
        .get(format!("{}/board", replicas[0].base))
        .header("x-request-id", "trace-me-0042")
        .send()
        .await
        .expect("GET");
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me-0042")
    );
    let made_up = sre
        .get(format!("{}/board", replicas[0].base))
        .header("x-request-id", "not ok; <script>")
        .send()
        .await
        .expect("GET");
    let given = made_up
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("an id")
        .to_owned();
    assert!(
        uuid::Uuid::parse_str(&given).is_ok(),
        "a new id, not the caller's: {given}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = replicas[0].log_text();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.contains("trace-me-0042"))
        .map(|l| serde_json::from_str(l).expect("JSON log line"))
        .collect();
    assert!(
        lines.iter().any(|l| {
            l["span"]["request_id"] == "trace-me-0042"
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("finished processing request"))
        }),
        "the request's log line carries its id: {lines:?}"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn with_an_otlp_endpoint_the_spans_reach_the_collector(pool: PgPool) {
    let world = world(&pool).await;
    // A collector: keeps every OTLP/HTTP body it is sent.
    let received: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let collector = {
        let received = received.clone();
        axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: String| {
                let received = received.clone();
                async move {
                    received.lock().expect("lock").push(body);
                    axum::Json(serde_json::json!({}))
                }
            }),
        )
    };
    let collector_url = serve(collector).await;
    let mut replica = Replica::start_with(
        &world,
        "traced",
        free_port(),
        &[("GATEHOUSE_OTLP_ENDPOINT", &collector_url)],
    )
    .await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/api/board", replica.base))
        .header("Accept", "application/json")
        .header("Origin", &replica.base)
        .header("x-request-id", "otlp-check-7")
        .form::<[(&str, &str); 0]>(&[])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    // Stopping sends what is still batched.
    replica.terminate();
    let status = tokio::time::timeout(Duration::from_secs(15), replica.child.wait())
        .await
        .expect("stops")
        .expect("status");
    assert!(status.success());
    let bodies = received.lock().expect("lock").join("\n");
    assert!(
        bodies.contains("otlp-check-7"),
        "the request span with its id: {bodies:.2000}"
    );
    assert!(
        bodies.contains("\"server_fn\""),
        "the server function's span"
    );
    assert!(bodies.contains("\"gatehouse\""), "the service's name");
}

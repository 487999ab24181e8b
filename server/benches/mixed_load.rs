//! Mixed-load benchmark, run by hand (not part of the tests):
//!
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p server --bench mixed_load
//!
//! A scripted release day against 1 and then 3 `gatehouse serve` processes
//! (release build, demo mode) on one fresh database, with CodePipeline and
//! GitHub simulated in this process and reached over HTTP, as in service:
//!
//! - an org of 250 services, so 1,000 pipelines with approvals, which the
//!   leader's poller goes over again and again (50 ms between calls);
//! - 200 viewers, half on the board and half on the Approvals page, each
//!   with its own session and its own `/events` stream, behaving as the
//!   page's live-update island does: a change to a topic the page shows
//!   makes one refetch of the page 300 ms later (changes arriving during a
//!   fetch make one more), and the page is refetched once a minute anyway;
//! - 50 approvers, each signed in on their own, voting on Stage approvals
//!   with 6 to 18 s between votes (about 4 votes a second in all).
//!
//! Requests other than the streams go round-robin over the replicas, as
//! behind a load balancer; each stream stays on one replica. Reported per
//! run: requests and their p50/p99 by kind, errors (every non-2xx answer,
//! broken stream or transport failure), change events received, peak RSS
//! and CPU per process, PostgreSQL's CPU, each process's CPU during the
//! leader's first cycle (the board's and the history's first passes), and
//! then while only the background jobs run (their cost in steady state).

mod common;

use common::{cpu_of, percentile, postgres_cpu_time};
use server::simulators::codepipeline::Simulator;
use server::simulators::github::GitHubSimulator;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

const SERVICES: usize = 250;
const VIEWERS: usize = 200;
const APPROVERS: usize = 50;
const LOAD_FOR: Duration = Duration::from_secs(60);
const IDLE_FOR: Duration = Duration::from_secs(40);
/// What the live-update island waits to gather a burst of changes.
const GATHER: Duration = Duration::from_millis(300);

/// A small deterministic generator (xorshift), one per simulated person.
struct Rng(u64);

impl Rng {
    fn new(seed: usize) -> Self {
        Self((seed as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let span = (high - low).as_millis() as u64;
        low + Duration::from_millis(self.0 % span.max(1))
    }
}

/// CodePipeline and GitHub, simulated here and shared over HTTP.
struct World {
    codepipeline: Simulator,
    codepipeline_url: String,
    github_url: String,
    org_file: PathBuf,
    database_url: String,
    admin_url: String,
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

async fn world(name: &str) -> World {
    let admin_url = std::env::var("DATABASE_URL").expect("set DATABASE_URL to a Postgres server");
    let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create");
    admin.close().await;
    let dir = std::env::temp_dir().join(format!("gatehouse-{name}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let org_file = dir.join("org.toml");
    std::fs::write(&org_file, common::org_config(SERVICES)).expect("org file");
    let org = server::org_config::load(&org_file).expect("org");
    let codepipeline = Simulator::new(Default::default());
    server::simulators::demo::seed_codepipeline(&codepipeline, &org);
    let github = GitHubSimulator::new();
    server::simulators::demo::seed_github(&github, &org);
    World {
        codepipeline_url: serve(codepipeline.router()).await,
        codepipeline,
        github_url: serve(github.router()).await,
        org_file,
        database_url: format!("{}/{name}", admin_url.rsplit_once('/').expect("url").0),
        admin_url,
    }
}

/// One `gatehouse serve` process.
struct Replica {
    base: String,
    child: Child,
    pid: u32,
    log: PathBuf,
}

impl Replica {
    async fn start(world: &World, index: usize) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::env::temp_dir().join(format!("gatehouse-mixed-load-{index}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &world.database_url)
            .env("GATEHOUSE_MODE", "demo")
            .env("GATEHOUSE_BIND", format!("127.0.0.1:{port}"))
            .env("GATEHOUSE_ORG_CONFIG", &world.org_file)
            .env("GATEHOUSE_CODEPIPELINE_ENDPOINT", &world.codepipeline_url)
            .env("GATEHOUSE_GITHUB_API_URL", &world.github_url)
            .env("GATEHOUSE_LOG_FORMAT", "json")
            // Every simulated viewer connects from 127.0.0.1: one demo
            // client address, which keeps 20 live-update streams by default.
            .env("GATEHOUSE_MAX_EVENT_STREAMS_PER_CLIENT", "1000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::from(file.try_clone().expect("log")))
            .stderr(Stdio::from(file))
            .kill_on_drop(true)
            .spawn()
            .expect("gatehouse starts");
        let pid = child.id().expect("pid");
        let replica = Replica {
            base: format!("http://127.0.0.1:{port}"),
            child,
            pid,
            log,
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = client
                .get(format!("{}/readyz", replica.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return replica;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "replica {index} not ready; its log:\n{}",
                std::fs::read_to_string(&replica.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn cpu(&self) -> Duration {
        cpu_of(&format!("/proc/{}/stat", self.pid))
    }

    /// Resident set size now and at its peak, in MB.
    fn rss_mb(&self) -> (f64, f64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// How many passes of the history job (the last of the leader's
    /// cycle) this process finished.
    async fn history_passes(&self, client: &reqwest::Client) -> u64 {
        let Ok(response) = client.get(format!("{}/metrics", self.base)).send().await else {
            return 0;
        };
        let text = response.text().await.unwrap_or_default();
        text.lines()
            .filter(|l| {
                l.starts_with("gatehouse_job_passes_total{")
                    && l.contains(r#"task="history""#)
                    && l.contains(r#"outcome="ok""#)
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .map(|n| n as u64)
            .sum()
    }

    async fn leads(&self, client: &reqwest::Client) -> Vec<String> {
        let Ok(response) = client.get(format!("{}/metrics", self.base)).send().await else {
            return Vec::new();
        };
        let text = response.text().await.unwrap_or_default();
        text.lines()
            .filter(|l| l.starts_with("gatehouse_job_leader{") && l.ends_with(" 1"))
            .filter_map(|l| l.split('"').nth(1).map(str::to_owned))
            .collect()
    }
}

/// What every simulated person records.
#[derive(Default)]
struct Record {
    samples: BTreeMap<&'static str, Vec<Duration>>,
    errors: Vec<String>,
    events: usize,
}

type Shared = Arc<Mutex<Record>>;

fn note(record: &Shared, kind: &'static str, took: Duration) {
    let mut r = record.lock().expect("record");
    r.samples.entry(kind).or_default().push(took);
}

fn fail(record: &Shared, what: String) {
    record.lock().expect("record").errors.push(what);
}

/// The load balancer: each request to the next replica.
struct Balancer {
    bases: Vec<String>,
    next: AtomicUsize,
}

impl Balancer {
    fn pick(&self) -> &str {
        &self.bases[self.next.fetch_add(1, Ordering::Relaxed) % self.bases.len()]
    }
}

async fn signed_in(base: &str, login: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(2)
        .build()
        .expect("client");
    let response = client
        .post(format!("{base}/api/demo/sign-in"))
        .header("Accept", "application/json")
        .header("Origin", base)
        .form(&[("login", login)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), 200, "sign in as {login}");
    client
}

/// Loads `path` as a browser does (brotli accepted), reading the whole body.
async fn load_page(client: &reqwest::Client, balancer: &Balancer, path: &str, record: &Shared) {
    let started = Instant::now();
    let kind = if path == "/board" {
        "board page"
    } else {
        "approvals page"
    };
    let response = client
        .get(format!("{}{path}", balancer.pick()))
        .header("Accept-Encoding", "br")
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => match r.bytes().await {
            Ok(_) => note(record, kind, started.elapsed()),
            Err(e) => fail(record, format!("{kind}: body: {e}")),
        },
        Ok(r) => fail(record, format!("{kind}: {}", r.status())),
        Err(e) => fail(record, format!("{kind}: {e}")),
    }
}

/// A viewer with the page open: the stream on its replica, and a refetch
/// after each change its page shows, as the live-update island does.
async fn viewer(
    index: usize,
    login: String,
    stream_base: String,
    balancer: Arc<Balancer>,
    record: Shared,
    deadline: tokio::time::Instant,
) {
    let client = signed_in(&stream_base, &login).await;
    let (path, topics): (&str, &[&str]) = if index % 2 == 0 {
        ("/board", &["board", "approvals"])
    } else {
        ("/approvals", &["approvals"])
    };
    load_page(&client, &balancer, path, &record).await;
    let changed = Arc::new(Notify::new());
    let stream = client
        .get(format!("{stream_base}/events?topics={}", topics.join(",")))
        .header("Accept", "text/event-stream")
        .send()
        .await;
    let mut stream = match stream {
        Ok(r) if r.status() == 200 => r,
        Ok(r) => return fail(&record, format!("stream: {}", r.status())),
        Err(e) => return fail(&record, format!("stream: {e}")),
    };
    let reader = {
        let (changed, record) = (changed.clone(), record.clone());
        tokio::spawn(async move {
            let mut buffer = String::new();
            loop {
                match tokio::time::timeout_at(deadline, stream.chunk()).await {
                    Err(_) => return,
                    Ok(Ok(Some(bytes))) => {
                        buffer.push_str(&String::from_utf8_lossy(&bytes));
                        while let Some(end) = buffer.find("\n\n") {
                            let event: String = buffer.drain(..end + 2).collect();
                            if !event.contains("event: change") {
                                continue;
                            }
                            record.lock().expect("record").events += 1;
                            if event.contains("\"resync\"")
                                || topics.iter().any(|t| event.contains(&format!("\"{t}\"")))
                            {
                                changed.notify_one();
                            }
                        }
                    }
                    Ok(Ok(None)) => return fail(&record, "stream ended".into()),
                    Ok(Err(e)) => return fail(&record, format!("stream: {e}")),
                }
            }
        })
    };
    loop {
        tokio::select! {
            () = changed.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
            () = tokio::time::sleep_until(deadline) => break,
        }
        tokio::time::sleep(GATHER).await;
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        load_page(&client, &balancer, path, &record).await;
    }
    let _ = reader.await;
}

/// An approver: signs in, then votes on the next Stage approval every 6 to
/// 18 s.
async fn approver(
    index: usize,
    login: String,
    balancer: Arc<Balancer>,
    queue: Arc<Mutex<Vec<String>>>,
    record: Shared,
    deadline: tokio::time::Instant,
) {
    let client = signed_in(balancer.pick(), &login).await;
    let mut rng = Rng::new(10_000 + index);
    loop {
        let pause = rng.between(Duration::from_secs(6), Duration::from_secs(18));
        if tokio::time::Instant::now() + pause >= deadline {
            return;
        }
        tokio::time::sleep(pause).await;
        let Some(id) = queue.lock().expect("queue").pop() else {
            return;
        };
        let base = balancer.pick();
        let started = Instant::now();
        let response = common::stage_approval(&client, base, &id).send().await;
        match response {
            Ok(r) if r.status() == 200 => {
                let _ = r.bytes().await;
                note(&record, "vote", started.elapsed());
            }
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                fail(&record, format!("vote: {status} {text}"));
            }
            Err(e) => fail(&record, format!("vote: {e}")),
        }
    }
}

async fn wait_for(pool: &sqlx::PgPool, sql: &str, at_least: i64, within: Duration) -> i64 {
    let started = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .expect("count");
        if n >= at_least || started.elapsed() > within {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn run(replicas: usize) {
    println!("\n== {replicas} replica(s) ==");
    let world = world("gatehouse_mixed_load").await;
    let mut processes = Vec::new();
    for index in 0..replicas {
        processes.push(Replica::start(&world, index).await);
    }
    let pool = sqlx::PgPool::connect(&world.database_url)
        .await
        .expect("bench db");
    let started = Instant::now();
    let recorded = wait_for(
        &pool,
        "SELECT count(*) FROM approval_requests WHERE state = 'pending'",
        1000,
        Duration::from_secs(180),
    )
    .await;
    println!(
        "the poller's first pass recorded {recorded} pending approvals in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    // The leader's first cycle goes on after the approvals are recorded:
    // the board's first pass reads every pipeline's last deployment and
    // GitHub's side of it, the history job reads the Prod pipelines' past
    // executions. Its CPU is reported apart from the steady state.
    let metrics_client = reqwest::Client::new();
    let before: Vec<Duration> = processes.iter().map(Replica::cpu).collect();
    let cycle_started = Instant::now();
    loop {
        let mut done = false;
        for process in &processes {
            done |= process.history_passes(&metrics_client).await >= 1;
        }
        if done {
            break;
        }
        assert!(
            cycle_started.elapsed() < Duration::from_secs(600),
            "the leader's first cycle did not finish in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let cycle = cycle_started.elapsed();
    for (index, process) in processes.iter().enumerate() {
        let cpu = process.cpu() - before[index];
        println!(
            "  first cycle (board's first pass, history), process {index}: {:.1} % of a core over {:.0} s",
            cpu.as_secs_f64() / cycle.as_secs_f64() * 100.0,
            cycle.as_secs_f64()
        );
    }

    // Steady state: only the background jobs (the poller going over the
    // 1,000 pipelines again and again, the board's job, the prober).
    let before: Vec<Duration> = processes.iter().map(Replica::cpu).collect();
    tokio::time::sleep(IDLE_FOR).await;
    for (index, process) in processes.iter().enumerate() {
        let cpu = process.cpu() - before[index];
        let leads = process.leads(&metrics_client).await;
        println!(
            "  idle, process {index}: {:.1} % of a core; leads {}",
            cpu.as_secs_f64() / IDLE_FOR.as_secs_f64() * 100.0,
            if leads.is_empty() {
                "nothing".to_owned()
            } else {
                leads.join(", ")
            }
        );
    }

    let org = server::org_config::load(&world.org_file).expect("org");
    let personas = server::simulators::demo::personas(&org);
    let sre = personas
        .iter()
        .find(|p| p.roles == [app::domain::Role::Sre])
        .expect("an SRE")
        .login
        .clone();
    let mut queue: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE state = 'pending' AND pipeline LIKE '%-stage' ORDER BY pipeline DESC",
    )
    .fetch_all(&pool)
    .await
    .expect("stage requests");
    queue.truncate(SERVICES);
    let queue = Arc::new(Mutex::new(queue));

    let balancer = Arc::new(Balancer {
        bases: processes.iter().map(|p| p.base.clone()).collect(),
        next: AtomicUsize::new(0),
    });
    let record: Shared = Arc::default();
    let (cpu_before, pg_before, own_before) = (
        processes.iter().map(Replica::cpu).collect::<Vec<_>>(),
        postgres_cpu_time(),
        common::cpu_time(),
    );
    let load_started = Instant::now();
    let deadline = tokio::time::Instant::now() + LOAD_FOR;
    let mut tasks = Vec::new();
    // Viewers arrive over the first 10 s.
    for index in 0..VIEWERS {
        let login = personas[index % personas.len()].login.clone();
        let stream_base = processes[index % replicas].base.clone();
        let (balancer, record) = (balancer.clone(), record.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50 * index as u64)).await;
            viewer(index, login, stream_base, balancer, record, deadline).await;
        }));
    }
    for index in 0..APPROVERS {
        let (balancer, queue, record, login) =
            (balancer.clone(), queue.clone(), record.clone(), sre.clone());
        tasks.push(tokio::spawn(async move {
            approver(index, login, balancer, queue, record, deadline).await;
        }));
    }
    // Peak memory while the load runs.
    let mut peak_rss = vec![0.0_f64; replicas];
    while tokio::time::Instant::now() < deadline {
        for (index, process) in processes.iter().enumerate() {
            peak_rss[index] = peak_rss[index].max(process.rss_mb().0);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for task in tasks {
        task.await.expect("task");
    }
    let wall = load_started.elapsed();
    let pg_cpu = postgres_cpu_time().saturating_sub(pg_before);
    let own_cpu = common::cpu_time() - own_before;

    let record = Arc::try_unwrap(record)
        .ok()
        .expect("every task done")
        .into_inner()
        .expect("record");
    let total: usize = record.samples.values().map(Vec::len).sum();
    println!(
        "load: {:.0} s, {VIEWERS} viewers with streams, {APPROVERS} approvers: {total} requests ({:.1}/s), {} errors, {} change events received",
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
        record.errors.len(),
        record.events
    );
    for error in record.errors.iter().take(5) {
        println!("  error: {error}");
    }
    for (kind, samples) in &record.samples {
        let mut samples = samples.clone();
        samples.sort();
        println!(
            "  {kind}: {} ({:.1}/s), p50 {:.0} ms, p99 {:.0} ms",
            samples.len(),
            samples.len() as f64 / wall.as_secs_f64(),
            percentile(&samples, 0.50).as_secs_f64() * 1000.0,
            percentile(&samples, 0.99).as_secs_f64() * 1000.0
        );
    }
    for (index, process) in processes.iter().enumerate() {
        let cpu = process.cpu() - cpu_before[index];
        let (_, hwm) = process.rss_mb();
        println!(
            "  process {index}: CPU {:.0} % of a core, RSS peak {:.0} MB (sampled; kernel high-water mark {:.0} MB)",
            cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
            peak_rss[index],
            hwm
        );
    }
    println!(
        "  PostgreSQL: CPU {:.0} % of a core; this process (200 + 50 clients, both simulators): {:.0} % of a core",
        pg_cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
        own_cpu.as_secs_f64() / wall.as_secs_f64() * 100.0
    );

    // Every vote decided its Stage approval; each decision reached
    // CodePipeline exactly once.
    let votes = record.samples.get("vote").map_or(0, Vec::len) as i64;
    let delivered = wait_for(
        &pool,
        "SELECT count(*) FROM approval_deliveries WHERE outcome = 'delivered'",
        votes,
        Duration::from_secs(30),
    )
    .await;
    let calls = world
        .codepipeline
        .calls()
        .get("PutApprovalResult")
        .copied()
        .unwrap_or(0);
    println!(
        "  {votes} votes answered 200; {delivered} decisions delivered; {calls} PutApprovalResult calls"
    );
    pool.close().await;
    for mut process in processes {
        let _ = process.child.start_kill();
        let _ = process.child.wait().await;
    }
    let _ = cleanup(&world.admin_url, Path::new(&world.org_file)).await;
}

async fn cleanup(admin_url: &str, org_file: &Path) -> Result<(), sqlx::Error> {
    let _ = std::fs::remove_file(org_file);
    let admin = sqlx::PgPool::connect(admin_url).await?;
    sqlx::query("DROP DATABASE IF EXISTS gatehouse_mixed_load WITH (FORCE)")
        .execute(&admin)
        .await?;
    Ok(())
}

fn main() {
    // Two worker threads for 250 simulated people and both simulators, as
    // the replicas get two cores to share with them and PostgreSQL.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let only: Option<usize> = std::env::var("GATEHOUSE_BENCH_REPLICAS")
            .ok()
            .and_then(|v| v.parse().ok());
        for replicas in [1, 3] {
            if only.is_none_or(|n| n == replicas) {
                run(replicas).await;
            }
        }
    });
}

//! Prod plan benchmark, run by hand (not part of the tests):
//!
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p server --bench prod_plan
//!
//! 1. The plan of 500 services with 2,000 calls (a random DAG over three
//!    teams, every Prod state present): building the plan (layers, steps,
//!    blockers) plus drawing the SVG of every service, timed over many runs;
//!    the SVG's size. Budget: 50 ms, 300 KB.
//! 2. The `/prod-plan` page of the demo org (the shipped configuration,
//!    every pipeline recorded by the board's job), loaded by one client in a
//!    loop, p50/p99; the board page in the same run, for comparison. Budget:
//!    p99 25 ms.

mod common;

use app::domain::deploy_dag::{Call, CallKind, Plan, PlanService, ProdState};
use app::domain::{ServiceId, TeamId};
use common::percentile;
use std::time::{Duration, Instant};

const SERVICES: usize = 500;
const RUNS: usize = 60;
const PAGE_LOADS: usize = 400;

/// A reproducible pseudo-random sequence.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % below.max(1)
    }
}

/// 500 services; service `i` calls 4 of the services before it (the last
/// ten call 5): 2,000 calls, acyclic.
fn synthetic() -> Vec<PlanService> {
    let mut rng = Lcg(42);
    let teams = ["frontend", "backend", "mobile"];
    let kinds = [CallKind::Http, CallKind::Grpc, CallKind::Queue];
    (0..SERVICES)
        .map(|i| {
            let wanted = i.min(4) + usize::from(i >= SERVICES - 10);
            let mut called: Vec<usize> = Vec::new();
            while called.len() < wanted {
                let j = rng.next(i);
                if !called.contains(&j) {
                    called.push(j);
                }
            }
            PlanService {
                id: ServiceId::parse(&format!("service-{i:03}")).expect("id"),
                name: format!("Service {i:03} of the retail platform"),
                team: TeamId::parse(teams[i % 3]).expect("team"),
                calls: called
                    .into_iter()
                    .map(|j| Call {
                        service: ServiceId::parse(&format!("service-{j:03}")).expect("id"),
                        kind: kinds[rng.next(3)],
                    })
                    .collect(),
                state: ProdState::ALL[rng.next(ProdState::ALL.len())],
            }
        })
        .collect()
}

fn plan_and_drawing() {
    let services = synthetic();
    let calls: usize = services.iter().map(|s| s.calls.len()).sum();
    let mut samples = Vec::with_capacity(RUNS);
    let mut size = 0;
    let mut layers = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let plan = Plan::build(&services).expect("a DAG");
        let shown: Vec<usize> = (0..plan.nodes.len()).collect();
        let svg = app::domain::plan_drawing::svg(&plan, &shown, "The Prod plan", &|_| None);
        samples.push(started.elapsed());
        size = svg.len();
        layers = plan.layer_count();
    }
    samples.sort();
    println!(
        "plan + SVG, {SERVICES} services, {calls} calls, {layers} layers: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {RUNS} runs; SVG {} KB (budget 50 ms, 300 KB)",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        size / 1024
    );
}

async fn page(client: &reqwest::Client, url: &str) -> (Duration, Duration, usize) {
    let mut bytes = 0;
    for _ in 0..20 {
        let body = client
            .get(url)
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("body");
        bytes = body.len();
    }
    let mut samples = Vec::with_capacity(PAGE_LOADS);
    for _ in 0..PAGE_LOADS {
        let started = Instant::now();
        let response = client.get(url).send().await.expect("GET");
        assert_eq!(response.status(), 200, "{url}");
        response.bytes().await.expect("body");
        samples.push(started.elapsed());
    }
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.99), bytes)
}

async fn demo_page() {
    let shipped = include_str!("../../config/org.toml");
    let (app, url) = common::build_with("gatehouse_bench_prod_plan", shipped).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let pool = sqlx::PgPool::connect(&url).await.expect("pool");
    let sim = app.codepipeline_simulator().expect("demo simulator");
    tokio::spawn(app.run_until_stopped());
    sim.advance_clock(chrono::Duration::seconds(60));
    server::jobs::poller::poll(&state, Duration::ZERO)
        .await
        .expect("poll");
    server::jobs::board::refresh(&state, &pool, Duration::ZERO)
        .await
        .expect("refresh");
    let client = reqwest::Client::new();
    for path in ["/prod-plan", "/board"] {
        let (p50, p99, bytes) = page(&client, &format!("{base}{path}")).await;
        println!(
            "GET {path} (demo org, one client, {PAGE_LOADS} loads): p50 {:.2} ms, p99 {:.2} ms, {} KB of HTML",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            bytes / 1024
        );
    }
}

fn main() {
    plan_and_drawing();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(demo_page());
}

//! Approval benchmarks, run by hand (not part of the tests):
//!
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p server --bench approvals
//!
//! Builds Gatehouse in demo mode against a fresh database `gatehouse_bench`
//! with an org of 250 services (1,000 pipelines with approvals), and reports
//! 1. the approval round trip (server function -> CodePipeline simulator ->
//!    audit committed), p50 and p99, with 1 and 50 concurrent approvers;
//! 2. the poller's cost for 1,000 pipelines: a first pass that records every
//!    approval, and a steady-state pass.

mod common;

use common::{cpu_time, percentile, postgres_cpu_time};
use std::time::{Duration, Instant};

const SERVICES: usize = 250;

async fn approve(client: &reqwest::Client, base: &str, id: &str) -> Duration {
    let started = Instant::now();
    let response = common::stage_approval(client, base, id)
        .send()
        .await
        .expect("POST");
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    started.elapsed()
}

fn report(label: &str, mut samples: Vec<Duration>, wall: Duration) {
    samples.sort();
    println!(
        "{label}: {} approvals, p50 {:.1} ms, p99 {:.1} ms, throughput {:.0}/s",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1000.0,
        percentile(&samples, 0.99).as_secs_f64() * 1000.0,
        samples.len() as f64 / wall.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let (app, bench_url) = common::build("gatehouse_bench", SERVICES).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let sim = app.codepipeline_simulator().expect("demo simulator");
    tokio::spawn(app.run_until_stopped());
    sim.advance_clock(chrono::Duration::seconds(60));

    // Poller cost, 1,000 pipelines.
    let (cpu, started) = (cpu_time(), Instant::now());
    let first = server::jobs::poller::poll(&state, Duration::ZERO)
        .await
        .expect("poll");
    println!(
        "poller, first pass: {} pipelines, {} new approvals recorded, {:.2} s wall, {:.2} s CPU (Gatehouse and simulator together)",
        first.pipelines,
        first.new_requests,
        started.elapsed().as_secs_f64(),
        (cpu_time() - cpu).as_secs_f64()
    );
    let (cpu, started) = (cpu_time(), Instant::now());
    let steady = server::jobs::poller::poll(&state, Duration::ZERO)
        .await
        .expect("poll");
    println!(
        "poller, steady pass: {} pipelines, {:.2} s wall, {:.2} s CPU; with the 50 ms pause between calls a pass takes about {:.0} s",
        steady.pipelines,
        started.elapsed().as_secs_f64(),
        (cpu_time() - cpu).as_secs_f64(),
        steady.pipelines as f64 * 0.05
    );

    let bench_pool = sqlx::PgPool::connect(&bench_url).await.expect("bench db");
    // Approval round trips, as an SRE approving Stage (one approval decides).
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let signed_in = client
        .post(format!("{base}/api/demo/sign-in"))
        .header("Accept", "application/json")
        .header("Origin", &base)
        .form(&[("login", "sam.okafor")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 200);
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE environment_id = 'stage' AND state = 'pending' ORDER BY pipeline",
    )
    .fetch_all(&bench_pool)
    .await
    .expect("ids");
    assert!(ids.len() >= 250, "{} stage approvals", ids.len());

    let started = Instant::now();
    let mut sequential = Vec::new();
    for id in &ids[..100] {
        sequential.push(approve(&client, &base, id).await);
    }
    report("1 approver", sequential, started.elapsed());

    // 50 concurrent approvers: three waves of 50 approvals in flight at once.
    let (cpu, pg_cpu, started) = (cpu_time(), postgres_cpu_time(), Instant::now());
    let mut concurrent = Vec::new();
    for wave in ids[100..250].chunks(50) {
        let tasks: Vec<_> = wave
            .iter()
            .cloned()
            .map(|id| {
                let (client, base) = (client.clone(), base.clone());
                tokio::spawn(async move { approve(&client, &base, &id).await })
            })
            .collect();
        for task in tasks {
            concurrent.push(task.await.expect("task"));
        }
    }
    let wall = started.elapsed();
    let cpu = cpu_time() - cpu;
    let pg_cpu = postgres_cpu_time().saturating_sub(pg_cpu);
    report("50 concurrent approvers", concurrent, wall);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as f64;
    println!(
        "  CPU for those 150 approvals: this process {:.2} s ({:.1} ms each; Gatehouse, the simulators and the clients), PostgreSQL {:.2} s ({:.1} ms each); together {:.0} % of the {cores} cores' time",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1000.0 / 150.0,
        pg_cpu.as_secs_f64(),
        pg_cpu.as_secs_f64() * 1000.0 / 150.0,
        (cpu + pg_cpu).as_secs_f64() / wall.as_secs_f64() / cores * 100.0
    );
    // Where the time goes: the server's own time for a vote (from its
    // /metrics histogram) against what the clients saw.
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let sum_count = |suffix: &str| -> f64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(&format!("gatehouse_http_request_duration_seconds_{suffix}")))
            .filter(|l| l.contains("route=\"/api/approvals/decide\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let (sum, count) = (sum_count("sum"), sum_count("count"));
    if count > 0.0 {
        println!(
            "  inside the server, a vote took {:.1} ms on average over all {count} votes",
            sum / count * 1000.0
        );
    }
    for (name, seconds) in [
        ("GetPipelineState", "gatehouse_aws_call_duration_seconds"),
        ("PutApprovalResult", "gatehouse_aws_call_duration_seconds"),
    ] {
        let pick = |suffix: &str| -> f64 {
            metrics
                .lines()
                .filter(|l| l.starts_with(&format!("{seconds}_{suffix}")))
                .filter(|l| l.contains(&format!("operation=\"{name}\"")))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        let (sum, count) = (pick("sum"), pick("count"));
        if count > 0.0 {
            println!(
                "  {name}: {:.2} ms on average over {count} calls (the poller's and the single approver's included)",
                sum / count * 1000.0
            );
        }
    }
    println!(
        "PutApprovalResult calls seen by the simulator: {}",
        sim.calls().get("PutApprovalResult").copied().unwrap_or(0)
    );
}

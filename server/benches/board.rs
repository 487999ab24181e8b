//! Board benchmark, run by hand (not part of the tests):
//!
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p server --bench board
//!
//! For orgs of 60, 100 and 300 services (3 teams, 6 environments), builds
//! Gatehouse in demo mode on a fresh database, records every deployment
//! with the board's job, and then loads the server-rendered board page (and
//! the Approvals, Calendar, Environments and Release demo pages) with 16
//! concurrent clients for a few seconds, reporting requests per second and
//! p50/p99 latency. In the same run, a bare axum handler answering a static
//! page of the same size is measured the same way, as the floor of what
//! this machine and client can do. At the end it prints the process's
//! resident memory (server and client share the process).

mod common;

use common::percentile;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const RUN_FOR: Duration = Duration::from_secs(8);

/// Loads `url` from `CLIENTS` concurrent clients for `RUN_FOR`; prints and
/// returns (requests/s, p50, p99).
async fn load(label: &str, url: &str) -> (f64, Duration, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    // Warm up: compile caches, connections.
    for _ in 0..20 {
        let r = client.get(url).send().await.expect("GET");
        assert_eq!(r.status(), 200, "{url}");
        r.bytes().await.expect("body");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, url, stop) = (client.clone(), url.to_owned(), stop.clone());
            tokio::spawn(async move {
                let mut samples = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let r = client.get(&url).send().await.expect("GET");
                    assert_eq!(r.status(), 200);
                    r.bytes().await.expect("body");
                    samples.push(t.elapsed());
                }
                samples
            })
        })
        .collect();
    tokio::time::sleep(RUN_FOR).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await.expect("task"));
    }
    let wall = started.elapsed();
    samples.sort();
    let rps = samples.len() as f64 / wall.as_secs_f64();
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    println!(
        "{label}: {rps:.0} req/s, p50 {:.1} ms, p99 {:.1} ms ({} requests, {CLIENTS} clients)",
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        samples.len()
    );
    (rps, p50, p99)
}

/// A bare axum server answering `body` at `/`.
async fn bare(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let body: &'static str = Box::leak(body.into_boxed_str());
    let router = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(body) }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::main]
async fn main() {
    let mut board_rps = Vec::new();
    for (services, name) in [
        (60, "gatehouse_bench_board60"),
        (100, "gatehouse_bench_board100"),
        (300, "gatehouse_bench_board300"),
    ] {
        let (app, _) = common::build(name, services).await;
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state();
        let sim = app.codepipeline_simulator().expect("simulator");
        let pool = sqlx::PgPool::connect(&format!(
            "{}/{name}",
            std::env::var("DATABASE_URL")
                .expect("DATABASE_URL")
                .rsplit_once('/')
                .expect("url")
                .0
        ))
        .await
        .expect("pool");
        tokio::spawn(app.run_until_stopped());
        sim.advance_clock(chrono::Duration::seconds(60));
        server::jobs::poller::poll(&state, Duration::ZERO)
            .await
            .expect("poll");
        let started = Instant::now();
        let report = server::jobs::board::refresh(&state, &pool, Duration::ZERO)
            .await
            .expect("refresh");
        println!(
            "\n{services} services: board job first pass {:.2} s ({} pipelines, {} compares)",
            started.elapsed().as_secs_f64(),
            report.pipelines,
            report.compares
        );
        let started = Instant::now();
        server::jobs::board::refresh(&state, &pool, Duration::ZERO)
            .await
            .expect("refresh");
        println!(
            "{services} services: board job steady pass {:.2} s",
            started.elapsed().as_secs_f64()
        );
        let page = reqwest::get(format!("{base}/board"))
            .await
            .expect("GET")
            .text()
            .await
            .expect("body");
        println!(
            "{services} services: /board page 1 is {} bytes (25 services)",
            page.len()
        );
        // The caches fill from the change listener once it is connected.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (rps, _, _) = load(
            &format!("{services} services, GET /board (SSR, 25 services x 6 environments)"),
            &format!("{base}/board"),
        )
        .await;
        load(
            &format!("{services} services, GET /board?team=frontend"),
            &format!("{base}/board?team=frontend"),
        )
        .await;
        for path in ["/approvals", "/calendar", "/environments", "/release-demo"] {
            load(
                &format!("{services} services, GET {path}"),
                &format!("{base}{path}"),
            )
            .await;
        }
        let bare_url = bare(page).await;
        let (bare_rps, _, _) = load(
            &format!("{services} services, bare axum handler, same bytes"),
            &bare_url,
        )
        .await;
        println!(
            "{services} services: /board serves {:.2}x the bare handler's requests/s",
            rps / bare_rps
        );
        board_rps.push((services, rps));
    }
    if let (Some((_, first)), Some((_, last))) = (board_rps.first(), board_rps.last()) {
        println!(
            "GET /board at 300 services: {:.0}% of its requests/s at 60 services",
            last / first * 100.0
        );
    }
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS"))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    println!("process memory after the benchmark (three orgs, server and client): {rss}");
}

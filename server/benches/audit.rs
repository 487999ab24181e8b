//! Audit log benchmark, run by hand (not part of the tests):
//!
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p server --bench audit
//!
//! Builds Gatehouse in demo mode on a fresh database, appends 1,000,000
//! audit rows (chained after they are written; spread over six months, every
//! kind, team, environment, service and demo person), then measures, in
//! the same run:
//! - the Audit page (server-rendered HTML, signed in as a manager) for
//!   each filter alone, combined, a time range and a page deep in the log:
//!   p50/p99 over sequential requests;
//! - the CSV and JSON Lines export of every row: rows/s and the growth of
//!   the process's resident memory while it streams (server and client
//!   share the process; the client counts the bytes and drops them);
//! - `audit verify` over the whole chain: rows/s;
//! - one more append, alone and with eight writers at once: p50/p99 (the
//!   cost an approval's audit row adds to its round trip).

mod common;

use common::percentile;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROWS: i64 = 1_000_000;
const BATCH: i64 = 100_000;
const REQUESTS: usize = 200;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Sequential GETs of `url`; prints and returns p99.
async fn page(client: &reqwest::Client, label: &str, url: &str) -> Duration {
    for _ in 0..5 {
        client
            .get(url)
            .send()
            .await
            .expect("GET")
            .bytes()
            .await
            .expect("body");
    }
    let mut samples = Vec::with_capacity(REQUESTS);
    let mut size = 0;
    for _ in 0..REQUESTS {
        let t = Instant::now();
        let r = client.get(url).send().await.expect("GET");
        assert_eq!(r.status(), 200, "{url}");
        size = r.bytes().await.expect("body").len();
        samples.push(t.elapsed());
    }
    samples.sort();
    let p99 = percentile(&samples, 0.99);
    println!(
        "page {label:<34} p50 {:>6.1} ms  p99 {:>6.1} ms  ({size} bytes)",
        ms(percentile(&samples, 0.5)),
        ms(p99)
    );
    p99
}

/// Streams `url` to nowhere; prints rows/s and the RSS growth seen.
async fn export(client: &reqwest::Client, label: &str, url: &str, rows: i64) {
    let base = rss_kib();
    let peak = Arc::new(AtomicU64::new(base));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let t = Instant::now();
    let mut response = client.get(url).send().await.expect("GET");
    assert_eq!(response.status(), 200);
    let mut bytes = 0_usize;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        bytes += chunk.len();
    }
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    sampler.await.expect("sampler");
    println!(
        "export {label:<5} {rows} rows in {:.2} s: {:.0} rows/s, {:.0} MB, RSS growth {:.1} MB",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64(),
        bytes as f64 / 1e6,
        (peak.load(Ordering::Relaxed).saturating_sub(base)) as f64 / 1024.0
    );
}

#[tokio::main]
async fn main() {
    let name = "gatehouse_bench_audit";
    let (app, url) = common::build(name, 10).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let pool = sqlx::PgPool::connect(&url).await.expect("pool");

    let kinds: Vec<&str> = app::domain::audit::KINDS.iter().map(|(k, _)| *k).collect();
    let started = Instant::now();
    let mut done = 0;
    while done < ROWS {
        sqlx::query(
            r#"INSERT INTO audit_log (at, event, actor_id, actor_name, actor_roles, team, environment, service, pipeline, summary, details)
               SELECT now() + make_interval(secs => i * 15.5),
                      ($2::text[])[1 + i % array_length($2, 1)],
                      u.id, u.display_name, u.roles,
                      (ARRAY['frontend', 'backend', 'mobile'])[1 + i % 3],
                      (ARRAY['dev', 'stage', 'release', 'qa', 'pre-prod', 'prod'])[1 + i % 6],
                      'svc-' || lpad((i % 10)::text, 3, '0'),
                      'svc-' || lpad((i % 10)::text, 3, '0') || '-' || (ARRAY['dev', 'stage', 'release', 'qa', 'pre-prod', 'prod'])[1 + i % 6],
                      'Benchmark row ' || i || ': someone did something that matters',
                      jsonb_build_object('i', i, 'reason', 'A reason of a typical length for a change')
               FROM generate_series($1, $1 + $3 - 1) AS i
               JOIN LATERAL (SELECT id, display_name, roles FROM users ORDER BY id
                             OFFSET (i % (SELECT count(*) FROM users)) LIMIT 1) u ON true"#,
        )
        .bind(done)
        .bind(&kinds)
        .bind(BATCH)
        .execute(&pool)
        .await
        .expect("insert");
        done += BATCH;
    }
    let took = started.elapsed();
    // The rows are chained after their writers commit; here all at once.
    let chaining = Instant::now();
    let mut chained = 0;
    loop {
        let n = server::adapters::db::audit::chain_pending(&pool)
            .await
            .expect("chain");
        chained += n;
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE seq IS NULL")
            .fetch_one(&pool)
            .await
            .expect("left");
        if left == 0 {
            break;
        }
    }
    println!(
        "chained {chained} rows here (the rest by the process's pass meanwhile) in {:.1} s",
        chaining.elapsed().as_secs_f64()
    );
    sqlx::query("ANALYZE audit_log")
        .execute(&pool)
        .await
        .expect("analyze");
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&pool)
        .await
        .expect("count");
    println!(
        "appended {ROWS} rows in {:.1} s ({:.0} rows/s, one statement per {BATCH})",
        took.as_secs_f64(),
        ROWS as f64 / took.as_secs_f64()
    );

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let r = client
        .post(format!("{base}/api/demo/sign-in"))
        .header("Accept", "application/json")
        .header("Origin", &base)
        .form(&[("login", "morgan.lee")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status(), 200);
    let person: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE login = 'priya.raman'")
        .fetch_one(&pool)
        .await
        .expect("priya");
    let mid: i64 = total / 2;
    // Rows are written as if over the next six months (the chaining
    // trigger keeps times rising, so the bench cannot write the past).
    let day = (chrono::Utc::now() + chrono::Duration::days(120)).date_naive();
    let mut worst = Duration::ZERO;
    for (label, query) in [
        ("newest, no filter", String::new()),
        ("kind=vote", "kind=vote".into()),
        ("person", format!("person={person}")),
        ("team=mobile", "team=mobile".into()),
        ("environment=prod", "environment=prod".into()),
        ("service=svc-003", "service=svc-003".into()),
        ("one day", format!("from={day}&to={day}")),
        (
            "team+kind+environment",
            "team=mobile&kind=decision&environment=prod".into(),
        ),
        (
            "person+kind, deep page",
            format!("person={person}&kind=vote&before={mid}"),
        ),
        ("person+team", format!("person={person}&team=mobile")),
        (
            "service+environment",
            "service=svc-003&environment=qa".into(),
        ),
        ("no filter, page at row 500,000", format!("before={mid}")),
    ] {
        let url = format!("{base}/audit?{query}");
        worst = worst.max(page(&client, label, &url).await);
    }
    println!("worst page p99 {:.1} ms (budget 30 ms)", ms(worst));

    export(&client, "csv", &format!("{base}/audit/export.csv"), total).await;
    export(
        &client,
        "jsonl",
        &format!("{base}/audit/export.jsonl"),
        total,
    )
    .await;

    let t = Instant::now();
    let verified = server::audit::verify_database(&pool, 0)
        .await
        .expect("verify");
    assert_eq!(verified.broken, None);
    println!(
        "verify {} rows in {:.2} s: {:.0} rows/s",
        verified.rows,
        t.elapsed().as_secs_f64(),
        verified.rows as f64 / t.elapsed().as_secs_f64()
    );

    // What an audit row costs: alone (its own transaction and commit, then
    // chained), and inside a transaction that commits anyway, as an
    // approval's row is (the INSERT; it is chained after the commit).
    for (writers, own_commit) in [(1_usize, true), (1, false), (8, false)] {
        let start = Instant::now();
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let (state, pool) = (state.clone(), pool.clone());
                tokio::spawn(async move {
                    let mut samples = Vec::new();
                    for i in 0..(1000 / writers) {
                        let entry = app::ssr::ports::NewAudit {
                            kind: "calendar_move",
                            team: Some("mobile".into()),
                            summary: format!("Append {w}/{i}"),
                            details: serde_json::json!({ "i": i }),
                            ..Default::default()
                        };
                        if own_commit {
                            let t = Instant::now();
                            state.audit.append(&entry).await.expect("append");
                            samples.push(t.elapsed());
                        } else {
                            let mut tx = pool.begin().await.expect("tx");
                            sqlx::query("SELECT 1")
                                .execute(&mut *tx)
                                .await
                                .expect("begun");
                            let t = Instant::now();
                            server::adapters::db::audit::append(&mut tx, &entry)
                                .await
                                .expect("append");
                            samples.push(t.elapsed());
                            tx.commit().await.expect("commit");
                        }
                    }
                    samples
                })
            })
            .collect();
        let mut samples = Vec::new();
        for task in tasks {
            samples.extend(task.await.expect("task"));
        }
        samples.sort();
        println!(
            "append, {writers} writer(s), {}: p50 {:.2} ms, p99 {:.2} ms ({} appends in {:.2} s)",
            if own_commit {
                "own transaction and commit"
            } else {
                "inside a transaction"
            },
            ms(percentile(&samples, 0.5)),
            ms(percentile(&samples, 0.99)),
            samples.len(),
            start.elapsed().as_secs_f64()
        );
    }
}

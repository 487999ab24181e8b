//! Postgres stopped (immediate: a crash, then recovery) while people
//! vote: in-flight requests fail with a sentence, not a hang; `/readyz`
//! goes red and back to green within five seconds of Postgres; the pool
//! and the change listener reconnect on their own; and afterwards no vote,
//! decision, delivery or audit row is lost or doubled.

use crate::common;

use app::ssr::Mode;
use common::cluster::Cluster;
use common::{config, shipped_org_config, spawn_connected, TestApp};
use server::config::Secret;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&app.pool)
        .await
        .expect(sql)
}

async fn gatehouse_on(cluster: &Cluster) -> TestApp {
    let mut config = config(Mode::Demo, shipped_org_config());
    config.database_url = Secret::new(cluster.url());
    config.db_max_connections = 8;
    // The leader's poller runs, as in production: it delivers what a vote
    // could not and reconnects on its own.
    config.poll_interval = Duration::from_secs(1);
    spawn_connected(config).await
}

/// `/readyz` answers, every 50 ms: (when, ready).
fn watch_readiness(
    base: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<(Instant, bool)>> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut seen = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let ready = client
                .get(format!("{base}/readyz"))
                .timeout(Duration::from_secs(4))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            seen.push((Instant::now(), ready));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seen
    })
}

/// A vote's request, status, text and time to answer.
type Answer = (String, u16, String, Duration);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_crashing_during_votes_loses_and_doubles_nothing() {
    let cluster = Cluster::start();
    let app = gatehouse_on(&cluster).await;
    let sim = app.simulator.as_ref().expect("simulator");
    sim.advance_clock(chrono::Duration::seconds(60));
    app.poll().await;
    // Someone who may approve everything short of Prod.
    let approver = app.person("restart.approver", &["sre", "qa"]).await;
    let requests: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE state = 'pending' AND environment_id <> 'prod' ORDER BY pipeline",
    )
    .fetch_all(&app.pool)
    .await
    .expect("requests");
    assert!(
        requests.len() >= 12,
        "enough to vote on: {}",
        requests.len()
    );

    // A browser with live updates open.
    let mut events = app.get("/events").await;
    assert_eq!(events.status(), 200);

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readiness = watch_readiness(app.base.clone(), stop.clone());
    let answers: Arc<Mutex<Vec<Answer>>> = Arc::default();
    let voter = {
        let answers = answers.clone();
        let requests = requests.clone();
        let approver = Arc::new(approver);
        tokio::spawn(async move {
            for request in requests {
                let started = Instant::now();
                let response = approver
                    .call("approvals/decide", &common::approval(&request))
                    .await;
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                answers
                    .lock()
                    .expect("lock")
                    .push((request, status, text, started.elapsed()));
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            approver
        })
    };
    // Postgres crashes a few votes in, stays away six seconds (longer than
    // a readiness check or a request waits for a connection) and comes
    // back.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pg = tokio::task::spawn_blocking(move || {
        cluster.stop("immediate");
        let crashed = Instant::now();
        std::thread::sleep(Duration::from_secs(6));
        cluster.start_again();
        (cluster, crashed, Instant::now())
    });
    let (cluster, crashed, back) = pg.await.expect("restart");
    eprintln!("postgres was away for {:?}", back - crashed);
    let approver = voter.await.expect("voter");
    // Ready again, and let it settle.
    let ready_again = Instant::now();
    loop {
        let ready = app.get("/readyz").await.status() == 200;
        if ready {
            break;
        }
        assert!(
            ready_again.elapsed() < Duration::from_secs(10),
            "never ready again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = readiness.await.expect("readiness");

    // Red while it was down, green within 5 s of Postgres being back.
    assert!(
        seen.iter().any(|(_, ready)| !ready),
        "readyz went red: {} checks",
        seen.len()
    );
    let green = seen
        .iter()
        .find(|(at, ready)| *ready && *at >= back)
        .map(|(at, _)| at.saturating_duration_since(back))
        .expect("green after the restart");
    assert!(
        green <= Duration::from_secs(5),
        "ready {green:?} after Postgres was back"
    );
    eprintln!("readyz green {green:?} after Postgres was back");

    // Failures were answered in words, quickly, never with a hang.
    let answers = answers.lock().expect("lock").clone();
    assert_eq!(answers.len(), requests.len());
    let failed: Vec<&Answer> = answers.iter().filter(|(_, s, _, _)| *s != 200).collect();
    for (_, status, text, took) in &failed {
        assert!(
            [503, 500].contains(status) || *status == 409,
            "a failed vote is 503 (or 409), not {status}: {text}"
        );
        assert!(
            text.len() > 20 && !text.contains("sqlx"),
            "a sentence: {text}"
        );
        assert!(
            *took < Duration::from_secs(8),
            "answered within seconds, not {took:?}"
        );
    }
    eprintln!(
        "votes: {} answered 200, {} refused while Postgres was away ({:?}); slowest answer {:?}",
        answers.len() - failed.len(),
        failed.len(),
        failed.iter().map(|(_, s, _, _)| *s).collect::<Vec<_>>(),
        answers.iter().map(|a| a.3).max().unwrap_or_default()
    );
    // The refused ones are sent again, as a person would click again.
    for (request, _, _, _) in &failed {
        let response = approver
            .call("approvals/decide", &common::approval(request))
            .await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status == 200 || status == 409,
            "voting again after the restart: {status} {text}"
        );
    }

    // The listener came back: a change now reaches the open stream (after
    // the resync it sent for what it may have missed).
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(text.contains("resync") && text.contains("\"topic\":\"approvals\"")) {
        let chunk = tokio::time::timeout_at(deadline.into(), events.chunk())
            .await
            .expect("the stream kept going")
            .expect("stream")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }

    eprintln!(
        "phase: stream resynced {:?} after Postgres was back",
        back.elapsed()
    );
    // Everything delivered once, by the vote or by the poller.
    let n = requests.len() as i64;
    common::wait_for_deliveries(&app.pool, n, Duration::from_secs(40)).await;
    eprintln!(
        "phase: all delivered {:?} after Postgres was back",
        back.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ids = requests.join("','");
    let one_each = |sql: &str| sql.replace("{ids}", &ids);
    assert_eq!(
        count(
            &app,
            &one_each("SELECT count(*) FROM approval_votes WHERE request_id::text IN ('{ids}')")
        )
        .await,
        n,
        "one vote per request"
    );
    assert_eq!(
        count(&app, &one_each("SELECT count(*) FROM approval_requests WHERE id::text IN ('{ids}') AND state = 'approved'")).await,
        n,
        "every request decided"
    );
    for event in ["vote", "decision", "aws_delivered"] {
        assert_eq!(
            count(
                &app,
                &one_each(&format!(
                    "SELECT count(*) FROM audit_log WHERE event = '{event}' AND request_id::text IN ('{{ids}}')"
                ))
            )
            .await,
            n,
            "one {event} audit row per request"
        );
    }
    assert_eq!(
        app.aws_calls("PutApprovalResult"),
        n as u64,
        "one PutApprovalResult per decision"
    );
    drop(cluster);
}

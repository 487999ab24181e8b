//! Page views read the org, the calendar and the board from memory: once
//! the caches are warm, no page runs a statement on a table that grows with
//! the org. The statements are counted from sqlx's own query log.

use crate::common;

use sqlx::PgPool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Every SQL statement sqlx logs while installed.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl Statements {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("statements"))
    }
}

struct Sql(String);

impl tracing::field::Visit for Sql {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if matches!(field.name(), "summary" | "db.statement") {
            self.0.push_str(value);
            self.0.push(' ');
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "summary" | "db.statement") {
            self.0.push_str(&format!("{value:?} "));
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut sql = Sql(String::new());
            event.record(&mut sql);
            self.0
                .lock()
                .expect("statements")
                .push(sql.0.to_lowercase());
        }
    }
}

/// Tables whose rows grow with the org and its history.
const GROWING: [&str; 11] = [
    "org_settings",
    "teams",
    "services",
    "environments",
    "environment_overrides",
    "deployments",
    "commit_gaps",
    "hotfixes",
    "health_status",
    "outages",
    "calendar_changes",
];

/// The statements that name one of `tables`.
fn reading<'a>(statements: &'a [String], tables: &[&str]) -> Vec<&'a String> {
    statements
        .iter()
        .filter(|s| {
            tables.iter().any(|t| {
                s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|word| word == *t)
            })
        })
        .collect()
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_warm_page_view_reads_no_table_that_grows_with_the_org(pool: PgPool) {
    let statements = Statements::default();
    let _installed =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(statements.clone()));
    let app = common::demo_queue(pool).await;
    let report = app.refresh_board().await;
    assert_eq!(report.errors, 0, "{report:?}");
    // The change listener connects in the background.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let pages = [
        "/board",
        "/board?team=backend&waiting=1",
        "/board/orders-api/qa",
        "/calendar",
        "/environments",
        "/release-demo",
    ];
    let get = |path: &str| {
        let (client, url) = (app.client.clone(), format!("{}{path}", app.base));
        async move {
            let response = client.get(&url).send().await.expect("page");
            assert_eq!(response.status(), 200, "{url}");
            response.text().await.expect("html")
        }
    };

    // Cold: the first views load the caches (and show the log is seen).
    statements.take();
    for page in pages {
        get(page).await;
    }
    let cold = statements.take();
    assert!(
        !reading(&cold, &GROWING).is_empty(),
        "the first views read the org and the board: {cold:#?}"
    );

    // Warm: nothing that grows with the org is read again.
    for _ in 0..3 {
        for page in pages {
            get(page).await;
        }
    }
    let warm = statements.take();
    assert!(
        reading(&warm, &GROWING).is_empty(),
        "warm page views read: {:#?}",
        reading(&warm, &GROWING)
    );

    // The Approvals page: the queue and the history's first page are kept
    // in memory too; a vote (or anything else written to the approvals)
    // makes the next view read them again.
    const APPROVALS: [&str; 3] = ["approval_requests", "approval_votes", "approval_deliveries"];
    get("/approvals").await;
    statements.take();
    get("/approvals").await;
    let queue = statements.take();
    let read: Vec<_> = reading(&queue, &GROWING)
        .into_iter()
        .chain(reading(&queue, &APPROVALS))
        .collect();
    assert!(read.is_empty(), "a warm Approvals page read: {read:#?}");
    app.state.changes.bump(app::ssr::changes::Topic::Approvals);
    get("/approvals").await;
    let again = statements.take();
    assert!(
        !reading(&again, &APPROVALS).is_empty(),
        "the Approvals page reads the queue after a change: {again:#?}"
    );

    // A change (a deploy recorded) is read once, then served from memory
    // again.
    app.refresh_board().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    statements.take();
    get("/board").await;
    let first = statements.take();
    assert!(
        !reading(&first, &GROWING).is_empty(),
        "the board is read after a change"
    );
    get("/board").await;
    let second = statements.take();
    assert!(
        reading(&second, &GROWING).is_empty(),
        "and then from memory: {second:#?}"
    );
}

/// A steady pass of the poller and the board's job (nothing changed in
/// CodePipeline or GitHub since the last one) runs a handful of statements
/// per pass, not one or more per pipeline: the leader's idle cost does not
/// grow with the org's database round trips.
#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_steady_pass_runs_statements_per_pass_not_per_pipeline(pool: PgPool) {
    let statements = Statements::default();
    let _installed =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(statements.clone()));
    let app = common::demo_queue(pool.clone()).await;
    // The first passes record what there is (and the board's job reads
    // everything once).
    app.poll().await;
    app.refresh_board().await;
    app.refresh_board().await;
    let pending = common::count(
        &pool,
        "SELECT count(*) FROM approval_requests WHERE state = 'pending'",
    )
    .await;
    assert!(pending > 0, "the demo has approvals waiting");

    statements.take();
    let report = app.poll().await;
    let polled = statements.take();
    assert!(report.pipelines >= 20, "{report:?}");
    assert_eq!((report.new_requests, report.closed), (0, 0), "{report:?}");
    assert!(
        polled.len() < 10,
        "a steady poll over {} pipelines ran {} statements: {polled:#?}",
        report.pipelines,
        polled.len()
    );

    let board = app.refresh_board().await;
    let refreshed = statements.take();
    assert_eq!(board.deployments_changed, 0, "{board:?}");
    assert!(board.pipelines >= 50, "{board:?}");
    // The snapshot it starts from, and per service the hotfix keys it
    // checks branches against; no write.
    let services = board.pipelines / 5;
    assert!(
        refreshed.len() <= 10 + services,
        "a steady board pass over {} pipelines ran {} statements: {refreshed:#?}",
        board.pipelines,
        refreshed.len()
    );
    let writes: Vec<_> = refreshed
        .iter()
        .filter(|s| s.contains("insert ") || s.contains("update ") || s.contains("delete "))
        .collect();
    assert!(writes.is_empty(), "a steady board pass wrote: {writes:#?}");

    // A decision CodePipeline reports (the approval answered in its
    // console) is still seen and closed on the next pass.
    let pipeline: String = sqlx::query_scalar(
        "SELECT pipeline FROM approval_requests WHERE state = 'pending' ORDER BY pipeline LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a pending request");
    assert!(app
        .simulator
        .as_ref()
        .expect("simulator")
        .answer_out_of_band(&pipeline, false, "Rejected in the AWS console"));
    let report = app.poll().await;
    assert_eq!(report.closed, 1, "{report:?}");
}

/// A deciding vote, from the request to CodePipeline's answer recorded,
/// runs a bounded number of statements: each is a round trip on the
/// approval's critical path.
#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_deciding_vote_runs_a_bounded_number_of_statements(pool: PgPool) {
    let statements = Statements::default();
    let _installed =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(statements.clone()));
    let app = common::demo_queue(pool.clone()).await;
    let response = app.call("demo/sign-in", &[("login", "priya.raman")]).await;
    assert_eq!(response.status(), 200);
    let request: String = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE pipeline = 'orders-api-qa' AND state = 'pending'",
    )
    .fetch_one(&pool)
    .await
    .expect("the QA request");
    // Warm the caches a page view fills (the org, the calendar).
    app.get("/approvals").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    statements.take();
    let response = app
        .call(
            "approvals/decide",
            &[
                ("request", request.as_str()),
                ("decision", "approve"),
                ("passed[]", "qa"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<String>().await.expect("json"),
        "Approved. CodePipeline has the decision."
    );
    // Background jobs run beside it; count what the vote itself runs:
    // reading the request, the vote (one call), the delivery.
    let voted: Vec<String> = statements
        .take()
        .into_iter()
        .filter(|s| {
            (s.contains("approval_")
                || s.contains("audit_")
                || s.contains("cast_vote")
                || s.trim() == "commit")
                && !s.contains("audit_chain_pending(true)")
        })
        .collect();
    println!("{} statements: {voted:#?}", voted.len());
    assert!(voted.len() <= 5, "{} statements: {voted:#?}", voted.len());
}

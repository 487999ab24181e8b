//! Page views read the org, the calendar and the board from memory: once
//! the caches are warm, no page runs a statement on a table that grows with
//! the org. The statements are counted from sqlx's own query log.

mod common;

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

#[sqlx::test(migrator = "server::db::MIGRATOR")]
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

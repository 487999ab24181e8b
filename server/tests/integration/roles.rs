//! Gatehouse serves with a role that may read and write rows and nothing
//! more: the schema's owner migrates; the serving role cannot rewrite the
//! audit log, switch its triggers off, or change the schema.

use crate::common;

use app::ssr::Mode;
use common::{audit_verify, config, shipped_org_config};
use sqlx::{Connection, PgConnection, PgPool};

/// `DATABASE_URL`'s server, as `user`, on `database`.
fn url_as(user: &str, database: &str) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut url = reqwest::Url::parse(&base).expect("url");
    url.set_username(user).expect("user");
    url.set_password(None).expect("password");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// A login role of the test's own, dropped with what it was granted.
struct TestRole {
    name: String,
    pool: PgPool,
}

impl TestRole {
    async fn new(pool: &PgPool) -> Self {
        let name = format!(
            "gh_app_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        sqlx::query(&format!("CREATE ROLE {name} LOGIN"))
            .execute(pool)
            .await
            .expect("create role");
        Self {
            name,
            pool: pool.clone(),
        }
    }

    async fn drop(self) {
        // Sessions of the role end with it.
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1")
            .bind(&self.name)
            .execute(&self.pool)
            .await
            .expect("end sessions");
        for sql in [
            format!("DROP OWNED BY {}", self.name),
            format!("DROP ROLE {}", self.name),
        ] {
            sqlx::query(&sql).execute(&self.pool).await.expect(&sql);
        }
    }
}

async fn database(pool: &PgPool) -> String {
    sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .expect("name")
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_serving_role_may_only_append_to_the_audit_log_and_cannot_switch_triggers_off(
    pool: PgPool,
) {
    let role = TestRole::new(&pool).await;
    server::adapters::db::migrate_and_grant(&pool, &role.name)
        .await
        .expect("grant");
    let mut app = PgConnection::connect(&url_as(&role.name, &database(&pool).await))
        .await
        .expect("connect as the serving role");
    sqlx::query("INSERT INTO audit_log (event) VALUES ('test')")
        .execute(&mut app)
        .await
        .expect("appending is allowed");
    let read: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&mut app)
        .await
        .expect("reading is allowed");
    assert_eq!(read, 1);
    let chained: i64 = sqlx::query_scalar("SELECT audit_chain_pending()")
        .fetch_one(&mut app)
        .await
        .expect("the serving role may chain what it appended");
    assert_eq!(chained, 1);
    let chained: (i64, String) = sqlx::query_as("SELECT seq, prev_hash FROM audit_log")
        .fetch_one(&mut app)
        .await
        .expect("chained");
    assert_eq!(
        chained,
        (1, "0".repeat(64)),
        "the serving role's row is chained"
    );
    sqlx::query("UPDATE approval_requests SET state = state")
        .execute(&mut app)
        .await
        .expect("rows of other tables may change");
    let mut failures = Vec::new();
    for sql in [
        "UPDATE audit_log SET event = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE calendar_changes SET reason = 'x'",
        "DELETE FROM calendar_changes",
        "UPDATE audit_chain_head SET seq = 0",
        "SELECT * FROM audit_chain_head",
        "INSERT INTO audit_archives (up_to, hash, location) VALUES (1, 'x', 'y')",
        "DELETE FROM audit_verifications",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_stamp",
        "UPDATE audit_log SET seq = 2",
        "SET session_replication_role = replica",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_log_no_update_or_delete ON audit_log",
        "DROP TABLE audit_log",
        "CREATE TABLE shadow (id int)",
        "SELECT * FROM _sqlx_migrations",
        "DELETE FROM _sqlx_migrations",
    ] {
        match sqlx::query(sql).execute(&mut app).await {
            Ok(_) => failures.push(format!("allowed: {sql}")),
            Err(err) => {
                let text = err.to_string();
                if !(text.contains("permission denied") || text.contains("must be owner")) {
                    failures.push(format!(
                        "{sql}: refused, but not for want of rights: {text}"
                    ));
                }
            }
        }
    }
    app.close().await.expect("close");
    role.drop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn gatehouse_runs_and_approves_with_the_serving_role_alone(pool: PgPool) {
    let role = TestRole::new(&pool).await;
    let app = serving_as(&pool, &role, std::time::Duration::ZERO).await;
    let (state, base) = (app.state.clone(), app.base.clone());
    let simulator = app.simulator.as_ref().expect("simulator");
    simulator.advance_clock(chrono::Duration::seconds(60));
    let report = server::jobs::poller::poll(&state, std::time::Duration::ZERO)
        .await
        .expect("poll as the serving role");
    assert_eq!(report.new_requests, 40);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let post = |endpoint: &str, form: Vec<(&'static str, String)>| {
        client
            .post(format!("{base}/api/{endpoint}"))
            .header("Accept", "application/json")
            .header("Origin", &base)
            .form(&form)
            .send()
    };
    let signed = post("demo/sign-in", vec![("login", "priya.raman".into())])
        .await
        .expect("sign in");
    assert_eq!(signed.status(), 200);
    let request: String = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE pipeline = 'orders-api-qa'",
    )
    .fetch_one(&pool)
    .await
    .expect("request");
    let decided = post(
        "approvals/decide",
        vec![
            ("request", request),
            ("decision", "approve".into()),
            ("passed[]", "qa".into()),
        ],
    )
    .await
    .expect("decide");
    assert_eq!(decided.status(), 200);
    assert_eq!(
        decided.json::<String>().await.expect("json"),
        "Approved. CodePipeline has the decision."
    );
    drop(state);
    drop(app);
    role.drop().await;
}

/// The test's configuration for Gatehouse serving as `role`, migrated by
/// the test's owner; background jobs run every `jobs` when not zero.
async fn serving_as(pool: &PgPool, role: &TestRole, jobs: std::time::Duration) -> common::TestApp {
    let db = database(pool).await;
    let owner: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(pool)
        .await
        .expect("owner");
    let mut cfg = config(Mode::Demo, shipped_org_config());
    cfg.database_url = server::config::Secret::new(url_as(&role.name, &db));
    cfg.migration_database_url = Some(server::config::Secret::new(url_as(&owner, &db)));
    cfg.poll_interval = jobs;
    if !jobs.is_zero() {
        cfg.health_interval = Some(jobs);
    }
    common::spawn_connected(cfg).await
}

/// Appends `rows` audit rows as the owner and chains them.
async fn seed_audit(pool: &PgPool, rows: usize) {
    let mut conn = pool.acquire().await.expect("conn");
    for i in 0..rows {
        server::adapters::db::audit::append(
            &mut conn,
            &app::ssr::ports::NewAudit {
                kind: "calendar_move",
                subject: Some("2026-12-10".into()),
                summary: format!("Row {i}"),
                ..Default::default()
            },
        )
        .await
        .expect("append");
    }
    server::adapters::db::audit::chain_pending(pool)
        .await
        .expect("chain");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_serving_role_verifies_the_chain_and_a_rewrite_after_its_check_is_caught_at_the_anchored_row(
    pool: PgPool,
) {
    let role = TestRole::new(&pool).await;
    server::adapters::db::migrate_and_grant(&pool, &role.name)
        .await
        .expect("grant");
    let serving_url = url_as(&role.name, &database(&pool).await);
    let serving = PgPool::connect(&serving_url).await.expect("serving role");
    // A check of the empty log (a replica that starts before any row is
    // chained) anchors nothing that a later check could mistake.
    let empty = server::audit::verify_new_rows(&serving)
        .await
        .expect("the serving role can verify the chain");
    assert!(empty.broken.is_none(), "{:?}", empty.broken);
    seed_audit(&pool, 40).await;
    let last: i64 = sqlx::query_scalar("SELECT max(seq) FROM audit_log")
        .fetch_one(&pool)
        .await
        .expect("last row");

    // The minute job's check, as the serving role: it runs and is recorded.
    let first = server::audit::verify_new_rows(&serving)
        .await
        .expect("the serving role can verify the chain");
    assert!(first.broken.is_none(), "{:?}", first.broken);
    assert_eq!(first.last_seq, last);
    let recorded: (bool, Option<String>) = sqlx::query_as(
        "SELECT ok, hash FROM audit_verifications WHERE checked_to = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(last)
    .fetch_one(&pool)
    .await
    .expect("the check is recorded");
    assert!(recorded.0 && recorded.1.is_some(), "{recorded:?}");
    let (ok, said) = audit_verify(&serving_url);
    assert!(ok, "audit verify with the serving role's URL: {said}");

    // Someone with the owner's keys rewrites the chain from row 21, every
    // later hash and the head recomputed: each row is consistent again.
    let mut tx = pool.begin().await.expect("tx");
    let mut statements = vec![
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete".to_owned(),
        "UPDATE audit_log SET summary = 'rewritten' WHERE seq = 21".to_owned(),
    ];
    for seq in 21..=last {
        statements.push(format!(
            "UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = {}) WHERE seq = {seq}",
            seq - 1
        ));
        statements.push(format!(
            "UPDATE audit_log a SET hash = audit_hash(a) WHERE seq = {seq}"
        ));
    }
    statements
        .push("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete".to_owned());
    statements.push(format!(
        "UPDATE audit_chain_head SET hash = (SELECT hash FROM audit_log WHERE seq = {last})"
    ));
    for sql in &statements {
        sqlx::query(sql).execute(&mut *tx).await.expect(sql);
    }
    tx.commit().await.expect("commit");

    // The next minute's check starts where the last one ended and is
    // caught there, at the row it anchored.
    let next = server::audit::verify_new_rows(&serving)
        .await
        .expect("verify");
    let broken = next
        .broken
        .expect("a rewritten chain passes the job's check");
    assert_eq!(broken.seq, last, "{}", broken.problem);
    assert!(broken.problem.contains("rewritten"), "{}", broken.problem);
    let (ok, said) = audit_verify(&serving_url);
    assert!(!ok, "a rewritten chain passes audit verify: {said}");
    assert!(said.contains(&format!("row {last}")), "{said}");
    serving.close().await;
    role.drop().await;
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn every_background_job_reports_success_serving_as_the_least_privileged_role(pool: PgPool) {
    let role = TestRole::new(&pool).await;
    let app = serving_as(&pool, &role, std::time::Duration::from_secs(1)).await;
    let handle = server::metrics::handle().expect("metrics recorder");
    let jobs = [
        "audit_verify",
        "poller",
        "board",
        "history",
        "notifier",
        "inventory",
        "prober",
    ];
    let passes = |text: &str, job: &str, outcome: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("gatehouse_job_passes_total{"))
            .filter(|l| l.contains(&format!("task=\"{job}\"")))
            .filter(|l| l.contains(&format!("outcome=\"{outcome}\"")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let started = std::time::Instant::now();
    loop {
        let text = handle.render();
        // Metrics are the process's: another test here makes the audit
        // check fail on purpose, so that job's failures are read from this
        // test's database instead.
        let failed: Vec<String> = jobs
            .iter()
            .filter(|job| **job != "audit_verify" && passes(&text, job, "error") > 0.0)
            .map(|job| format!("{job} failed a pass"))
            .collect();
        assert!(failed.is_empty(), "{}", failed.join("; "));
        let waiting: Vec<&str> = jobs
            .iter()
            .copied()
            .filter(|job| passes(&text, job, "ok") < 1.0)
            .collect();
        if waiting.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(90),
            "no successful pass within 90 s: {waiting:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let verifications: Vec<(bool, Option<String>)> =
        sqlx::query_as("SELECT ok, could_not_run FROM audit_verifications ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("verifications");
    assert!(
        !verifications.is_empty() && verifications.iter().all(|(ok, _)| *ok),
        "the job's checks as the serving role: {verifications:?}"
    );
    drop(app);
    role.drop().await;
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_chain_check_that_cannot_run_says_why_on_the_audit_page(pool: PgPool) {
    let role = TestRole::new(&pool).await;
    let app = serving_as(&pool, &role, std::time::Duration::ZERO).await;
    // A serving role that lost its grant (an operator's hand, a restore
    // without it): the minute's check cannot read the chain's head.
    sqlx::query(&format!(
        "REVOKE EXECUTE ON FUNCTION audit_chain_head_now() FROM {}",
        role.name
    ))
    .execute(&pool)
    .await
    .expect("revoke");
    let job = tokio::spawn(server::jobs::verify_audit_chain(
        app.pool.clone(),
        std::time::Duration::from_millis(100),
    ));
    let started = std::time::Instant::now();
    let why: String = loop {
        let why: Option<String> = sqlx::query_scalar(
            "SELECT could_not_run FROM audit_verifications ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&pool)
        .await
        .expect("verifications")
        .flatten();
        if let Some(why) = why {
            break why;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the failed check was not recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(why.contains("permission denied"), "{why}");
    assert!(why.contains("GATEHOUSE_MIGRATION_DATABASE_URL"), "{why}");
    app.person("audit.admin", &["admin"]).await;
    let admin = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let signed = common::call_function(
        &admin,
        &app.base,
        "demo/sign-in",
        &[("login", "audit.admin")],
    )
    .await;
    assert_eq!(signed.status(), 200);
    let page = admin
        .get(format!("{}/audit", app.base))
        .send()
        .await
        .expect("audit page")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("could not run") && page.contains("permission denied"),
        "the Audit page does not say the check could not run, and why"
    );
    assert!(
        !page.contains("not been verified yet"),
        "the Audit page still says not verified yet"
    );
    // Failing every 100 ms for one reason is one record.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let records: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_verifications WHERE could_not_run IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    let all: Vec<(i64, Option<String>, bool)> =
        sqlx::query_as("SELECT checked_to, could_not_run, ok FROM audit_verifications ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("all");
    assert_eq!(records, 1, "one reason, one record: {all:?}");
    job.abort();
    drop(app);
    role.drop().await;
}

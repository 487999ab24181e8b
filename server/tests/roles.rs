//! Gatehouse serves with a role that may read and write rows and nothing
//! more: the schema's owner migrates; the serving role cannot rewrite the
//! audit log, switch its triggers off, or change the schema.

mod common;

use app::ssr::Mode;
use common::{config, shipped_org_config};
use server::startup::Application;
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

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_serving_role_may_only_append_to_the_audit_log_and_cannot_switch_triggers_off(
    pool: PgPool,
) {
    let role = TestRole::new(&pool).await;
    server::db::migrate_and_grant(&pool, &role.name)
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

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn gatehouse_runs_and_approves_with_the_serving_role_alone(pool: PgPool) {
    let role = TestRole::new(&pool).await;
    let db = database(&pool).await;
    let mut cfg = config(Mode::Demo, shipped_org_config());
    cfg.database_url = server::config::Secret::new(url_as(&role.name, &db));
    let owner: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&pool)
        .await
        .expect("owner");
    cfg.migration_database_url = Some(server::config::Secret::new(url_as(&owner, &db)));
    let app = Application::build(cfg)
        .await
        .expect("starts as the serving role");
    let state = app.state();
    let simulator = app.codepipeline_simulator().expect("simulator");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until_stopped());
    simulator.advance_clock(chrono::Duration::seconds(60));
    let report = app::ssr::approvals::poll(&state, std::time::Duration::ZERO)
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
    server.abort();
    drop(state);
    role.drop().await;
}

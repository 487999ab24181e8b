//! The authorization matrix: every server function and every page route,
//! called anonymously and as each role, with the expected allow or deny.
//! "Deny" is 401 or 403; "allow" is anything else (a refusal for bad input
//! still means the caller was let in). A server function or page without a
//! row here fails the test, so new ones are decided on purpose.

use crate::common;

use app::ssr::Mode;
use common::{spawn, TestApp};
use sqlx::PgPool;
use std::collections::BTreeSet;
use std::time::Duration;

/// Who calls: `None` is anonymous, otherwise a demo persona's login.
const PRINCIPALS: &[(&str, Option<&str>)] = &[
    ("anonymous", None),
    ("developer", Some("lena.fischer")),
    ("qa", Some("priya.raman")),
    ("sre", Some("sam.okafor")),
    ("manager", Some("morgan.lee")),
    ("stakeholder", Some("alex.kim")),
    ("admin", Some("ada.admin")),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Allow,
    Deny,
}
use Expect::{Allow, Deny};

/// A server function's row: endpoint, form fields, and who may call it.
type Row = (
    &'static str,
    Vec<(&'static str, String)>,
    Vec<(String, Expect)>,
);

/// Who may: everyone, or only the named principals.
fn only(who: &[&str]) -> Vec<(String, Expect)> {
    PRINCIPALS
        .iter()
        .map(|(name, _)| {
            let e = if who.contains(name) { Allow } else { Deny };
            ((*name).to_owned(), e)
        })
        .collect()
}

fn everyone() -> Vec<(String, Expect)> {
    PRINCIPALS
        .iter()
        .map(|(n, _)| ((*n).to_owned(), Allow))
        .collect()
}

/// Signs `login` in on a fresh client; returns it.
async fn as_principal(app: &TestApp, login: Option<&str>) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    if let Some(login) = login {
        let response = client
            .post(format!("{}/api/demo/sign-in", app.base))
            .header("Accept", "application/json")
            .header("Origin", &app.base)
            .form(&[("login", login)])
            .send()
            .await
            .expect("sign in");
        assert_eq!(response.status(), 200, "sign in as {login}");
    }
    client
}

/// The id of Orders API's waiting QA approval in `view`.
fn orders_api_qa_request(view: &app::views::approvals::ApprovalsView) -> String {
    view.pending
        .iter()
        .find(|q| q.item.pipeline == "orders-api-qa")
        .expect("a QA request")
        .item
        .id
        .clone()
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn every_server_function_and_route_allows_exactly_who_it_should(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    server::jobs::poller::poll(&app.state, Duration::ZERO)
        .await
        .expect("poll");
    let qa_request = orders_api_qa_request(&app.approvals().await);

    // Server functions: endpoint, form fields, who may. Votes use a reject
    // without a comment, which an allowed caller gets back as incomplete
    // (422) and which changes nothing.
    let functions: Vec<Row> = vec![
        ("/api/environments", vec![], everyone()),
        ("/api/calendar", vec![], everyone()),
        (
            "/api/calendar/move",
            vec![
                ("release", "1".into()),
                ("milestone", "code-freeze".into()),
                ("date", "not-a-date".into()),
                ("reason", "matrix".into()),
            ],
            only(&["manager", "admin"]),
        ),
        (
            "/api/calendar/edit",
            vec![
                ("release", "1".into()),
                ("milestones[]", "code-freeze".into()),
                ("dates[]", "not-a-date".into()),
                ("times[]", String::new()),
                ("reason", "matrix".into()),
            ],
            only(&["manager", "admin"]),
        ),
        (
            "/api/calendar/blackout",
            vec![
                ("name", "Matrix".into()),
                ("first_day", "2030-01-02".into()),
                ("last_day", "2030-01-01".into()),
                ("reason", "matrix".into()),
            ],
            only(&["manager", "admin"]),
        ),
        ("/api/approvals", vec![], everyone()),
        (
            "/api/approvals/decide",
            vec![
                ("request", qa_request.clone()),
                ("decision", "reject".into()),
            ],
            only(&["qa"]),
        ),
        (
            "/api/approvals/rerun",
            vec![("request", qa_request.clone())],
            only(&["qa", "sre", "admin"]),
        ),
        (
            "/api/calendar/feed-token",
            vec![],
            only(&["developer", "qa", "sre", "manager", "stakeholder", "admin"]),
        ),
        ("/api/release-demo", vec![], everyone()),
        (
            "/api/audit",
            vec![],
            only(&["developer", "qa", "sre", "manager", "admin"]),
        ),
        ("/api/board", vec![], everyone()),
        ("/api/home", vec![], everyone()),
        ("/api/prod-plan", vec![], everyone()),
        ("/api/notifications", vec![], everyone()),
        ("/api/inventory", vec![], everyone()),
        ("/api/delivery", vec![], everyone()),
        (
            "/api/notifications/mute",
            vec![("muted[]", "code-freeze-tomorrow".into())],
            only(&["developer", "qa", "sre", "manager", "stakeholder", "admin"]),
        ),
        (
            "/api/board/cell",
            vec![
                ("service", "orders-api".into()),
                ("environment", "qa".into()),
            ],
            everyone(),
        ),
        ("/api/session", vec![], everyone()),
        ("/api/sign-in/options", vec![], everyone()),
        ("/api/demo/personas", vec![], everyone()),
        (
            "/api/demo/sign-in",
            vec![("login", "nobody.at.all".into())],
            everyone(),
        ),
        ("/api/sign-out", vec![], everyone()),
    ];
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    let listed: BTreeSet<String> = functions.iter().map(|(p, _, _)| (*p).to_owned()).collect();
    assert_eq!(
        registered, listed,
        "every server function needs a row in the authorization matrix"
    );

    // Page routes (GET): all readable by everyone but the audit log (and
    // its exports); changing anything goes through the server functions
    // above.
    let audit_readers = only(&["developer", "qa", "sre", "manager", "admin"]);
    let restricted: Vec<(&str, &Vec<(String, Expect)>)> = vec![
        ("/audit", &audit_readers),
        ("/audit/export.csv", &audit_readers),
        ("/audit/export.jsonl", &audit_readers),
    ];
    let pages = [
        "/",
        "/environments",
        "/calendar",
        "/approvals",
        "/audit",
        "/release-demo",
        "/board",
        "/board/{service}/{environment}",
        "/prod-plan",
        "/notifications",
        "/inventory",
        "/delivery",
        "/sign-in",
        "/demo/sign-in",
    ];
    let routes: BTreeSet<String> = server::router::page_routes()
        .iter()
        .map(|r| r.path().to_owned())
        .collect();
    let listed_pages: BTreeSet<String> = pages.iter().map(|p| (*p).to_owned()).collect();
    assert_eq!(routes, listed_pages, "every page route needs a row");
    let other_routes = [
        "/board/orders-api/qa",
        "/prod-plan?team=mobile",
        "/prod-plan/export.md",
        "/prod-plan/export.json",
        "/delivery?days=30&team=mobile",
        "/delivery/export.csv",
        "/calendar.ics",
        "/calendar/mobile.ics",
        "/healthz",
        "/readyz",
    ];

    let mut failures = Vec::new();
    for (name, login) in PRINCIPALS {
        let client = as_principal(&app, *login).await;
        for (endpoint, fields, who) in &functions {
            // Signing out would end this principal's session mid-matrix.
            if *endpoint == "/api/sign-out" {
                continue;
            }
            let expected = who.iter().find(|(n, _)| n == name).expect("row").1;
            let response = client
                .post(format!("{}{endpoint}", app.base))
                .header("Accept", "application/json")
                .header("Origin", &app.base)
                .form(fields)
                .send()
                .await
                .expect("POST");
            let status = response.status().as_u16();
            let got = if status == 401 || status == 403 {
                Deny
            } else {
                Allow
            };
            if got != expected {
                failures.push(format!(
                    "{name} {endpoint}: expected {expected:?}, got {status}"
                ));
            }
        }
        for path in pages.iter().chain(other_routes.iter()).chain(
            restricted
                .iter()
                .map(|(p, _)| p)
                .filter(|p| !pages.contains(*p)),
        ) {
            let expected = restricted
                .iter()
                .find(|(p, _)| p == path)
                .map_or(Allow, |(_, who)| {
                    who.iter().find(|(n, _)| n == name).expect("row").1
                });
            let status = client
                .get(format!("{}{path}", app.base))
                .send()
                .await
                .expect("GET")
                .status()
                .as_u16();
            let got = if status == 401 || status == 403 {
                Deny
            } else {
                Allow
            };
            if got != expected || status >= 500 {
                failures.push(format!(
                    "{name} GET {path}: expected {expected:?}, got {status}"
                ));
            }
        }
        let out = client
            .post(format!("{}/api/sign-out", app.base))
            .header("Accept", "application/json")
            .header("Origin", &app.base)
            .send()
            .await
            .expect("sign out");
        if out.status() != 200 {
            failures.push(format!("{name} /api/sign-out: got {}", out.status()));
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{}",
        failures.join("\n")
    );

    // Nothing in the matrix changed anything.
    let votes: i64 = sqlx::query_scalar("SELECT count(*) FROM approval_votes")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(votes, 0);
    let changes: i64 = sqlx::query_scalar("SELECT count(*) FROM calendar_changes")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(changes, 0);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn in_real_mode_the_demo_functions_and_persona_page_do_not_exist(pool: PgPool) {
    let app = spawn(pool, Mode::Real).await;
    assert_eq!(app.get("/demo/sign-in").await.status(), 404);
    assert_eq!(app.call("demo/personas", &[]).await.status(), 404);
    assert_eq!(
        app.call("demo/sign-in", &[("login", "priya.raman")])
            .await
            .status(),
        404
    );
}

/// In real mode an anonymous caller reaches only the sign-in page and what
/// it needs; every other page sends them to sign in, every other server
/// function, the event stream and the calendar feeds answer 401.
#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn in_real_mode_an_anonymous_caller_reaches_only_the_sign_in_page(pool: PgPool) {
    let app = spawn(pool, Mode::Real).await;
    let open_functions = ["/api/session", "/api/sign-in/options", "/api/sign-out"];
    let demo_functions = ["/api/demo/personas", "/api/demo/sign-in"];
    let mut failures = Vec::new();
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        let status = app
            .client
            .post(format!("{}{path}", app.base))
            .header("Accept", "application/json")
            .header("Origin", &app.base)
            .form(&[
                ("login", "nobody"),
                ("request", "x"),
                ("decision", "approve"),
            ])
            .send()
            .await
            .expect("POST")
            .status()
            .as_u16();
        let expected = if open_functions.contains(&path) {
            200
        } else if demo_functions.contains(&path) {
            404
        } else {
            401
        };
        if status != expected {
            failures.push(format!("POST {path}: expected {expected}, got {status}"));
        }
    }
    for route in server::router::page_routes() {
        let path = route.path().to_owned();
        let status = app.get(&path).await.status().as_u16();
        let expected = match path.as_str() {
            "/sign-in" => 200,
            "/demo/sign-in" => 404,
            _ => 303,
        };
        if status != expected {
            failures.push(format!("GET {path}: expected {expected}, got {status}"));
        }
    }
    for (path, expected) in [
        ("/", 303),
        ("/events", 401),
        ("/calendar.ics", 401),
        ("/calendar/mobile.ics", 401),
        ("/prod-plan/export.md", 303),
        ("/prod-plan/export.json", 303),
        ("/calendar.ics?token=0123456789abcdef0123456789abcdef", 401),
        ("/healthz", 200),
        ("/readyz", 200),
    ] {
        let status = app.get(path).await.status().as_u16();
        if status != expected {
            failures.push(format!("GET {path}: expected {expected}, got {status}"));
        }
    }
    assert!(
        failures.is_empty(),
        "real mode, anonymous:\n{}",
        failures.join("\n")
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_demo_account_that_voted_outlives_the_persona_list_without_its_roles(pool: PgPool) {
    let app = common::demo_queue(pool.clone()).await;
    let voter = app.person("gone.qa", &["qa"]).await;
    let _idle = app.person("never.voted", &["qa"]).await;
    let request = orders_api_qa_request(&app.approvals().await);
    let response = voter
        .call("approvals/decide", &common::approval(&request))
        .await;
    assert_eq!(response.status(), 200);

    // The next start seeds the personas again; neither test account is
    // one. The start must not fail on the vote that names one of them.
    let org = app.state.org.load_org().await.expect("org");
    server::adapters::db::upsert_personas(&pool, &server::simulators::demo::personas(&org))
        .await
        .expect("a restart after a vote by a retired account");
    let kept: Vec<(String, Vec<String>)> =
        sqlx::query_as("SELECT login, roles FROM users WHERE login IN ('gone.qa', 'never.voted')")
            .fetch_all(&pool)
            .await
            .expect("users");
    assert_eq!(kept, [("gone.qa".to_owned(), Vec::<String>::new())]);
    assert_eq!(
        common::count(&pool, "SELECT count(*) FROM approval_votes").await,
        1,
        "the vote stays, naming its voter"
    );
    let personas: Vec<app::domain::Persona> = app
        .call("demo/personas", &[])
        .await
        .json()
        .await
        .expect("json");
    assert!(personas.iter().all(|p| p.login != "gone.qa"), "not offered");
}

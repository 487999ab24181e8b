//! The release calendar end to end: the page, managers' changes and their
//! history, the freeze rules reaching the approval policy, and the ICS
//! feeds read back by an independent iCalendar parser.

use crate::common;

use app::domain::calendar::Gate;
use app::ssr::Mode;
use app::views::calendar::CalendarView;
use app::views::org::EnvironmentsView;
use chrono::{Days, Utc};
use common::{count, spawn, TestApp};
use server::simulators::demo::DEMO_CYCLE_DAY;
use sqlx::PgPool;
use std::time::Duration;

async fn sign_in(app: &TestApp, login: &str) {
    let response = app.call("demo/sign-in", &[("login", login)]).await;
    assert_eq!(response.status(), 200, "sign in as {login}");
}

async fn calendar(app: &TestApp, fields: &[(&str, &str)]) -> CalendarView {
    let response = app.call("calendar", fields).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("calendar json")
}

/// The sentence and gate the calendar gives `env` for `team` (a team name,
/// or `None` when every team agrees).
fn allowance(view: &CalendarView, env: &str, team: Option<&str>) -> (Gate, String) {
    let a = view
        .allowances
        .iter()
        .find(|a| a.environment_id == env)
        .expect(env);
    let line = a
        .lines
        .iter()
        .find(|(t, _, _)| match (t.as_deref(), team) {
            (None, _) => true,
            (Some(names), Some(team)) => names.split(", ").any(|n| n == team),
            (Some(_), None) => false,
        })
        .unwrap_or_else(|| panic!("no line for {team:?} in {:?}", a.lines));
    (line.1, line.2.clone())
}

fn in_days(days: u64) -> String {
    (Utc::now().date_naive() + Days::new(days)).to_string()
}

async fn move_freeze(app: &TestApp, team: &str, date: &str, reason: &str) -> reqwest::Response {
    app.call(
        "calendar/move",
        &[
            ("release", "1"),
            ("milestone", "code-freeze"),
            ("team", team),
            ("date", date),
            ("time", "18:00"),
            ("reason", reason),
        ],
    )
    .await
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_demo_calendar_opens_in_the_qa_phase_of_the_current_release(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let view = calendar(&app, &[]).await;
    assert_eq!(
        view.month,
        Utc::now().date_naive().format("%Y-%m").to_string()
    );
    assert_eq!(view.zone, "Europe/London");
    let current = &view.next_releases[0];
    assert_eq!(current.number, 1);
    assert_eq!(current.state.label(), "In QA");
    assert_eq!(view.next_releases.len(), 6);
    let (gate, sentence) = allowance(&view, "qa", Some("FrontEnd"));
    assert_eq!(gate, Gate::Open, "{sentence}");
    assert!(
        sentence.starts_with("Approvals open since code freeze on"),
        "{sentence}"
    );
    // Mobile freezes three days early, so its QA sentence differs.
    let (_, mobile) = allowance(&view, "qa", Some("Mobile"));
    assert_ne!(mobile, sentence);
    assert_eq!(
        allowance(&view, "stage", None).1,
        "Manual approval, any time."
    );
    // Today is marked once in the grid, and the month's agenda has events.
    let todays: Vec<_> = view.weeks.iter().flatten().filter(|d| d.today).collect();
    assert_eq!(todays.len(), 1);
    assert!(!view.agenda.is_empty() || !view.spans.is_empty());
    assert!(!view.can_manage, "anonymous visitors do not manage");

    // The page renders completely on the server.
    let (status, html) = app.page("/calendar?team=mobile").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("What each environment allows today"),
        "{html}"
    );
    assert!(html.contains("The next six releases"));
    assert!(html.contains("/calendar/mobile.ics"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn deep_links_pick_the_month_and_team_and_bad_ones_say_why(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let view = calendar(&app, &[("month", "2031-02"), ("team", "mobile")]).await;
    assert_eq!(view.month_title, "February 2031");
    assert_eq!(view.previous_month, "2031-01");
    assert_eq!(view.next_month, "2031-03");
    assert_eq!(view.team.as_ref().map(|t| t.as_str()), Some("mobile"));
    assert_eq!(
        view.weeks.iter().flatten().filter(|d| d.in_month).count(),
        28
    );
    assert!(view.weeks.iter().all(|w| w.len() == 7));

    let response = app.call("calendar", &[("month", "February")]).await;
    assert_eq!(
        response.status(),
        400,
        "a query value Gatehouse cannot read"
    );
    let body = response.text().await.expect("body");
    assert!(body.contains("write it as YYYY-MM"), "{body}");
    let response = app.call("calendar", &[("team", "ops")]).await;
    assert_eq!(response.status(), 404);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn only_managers_change_the_calendar_and_bad_changes_are_refused_in_words(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    let response = move_freeze(&app, "mobile", &in_days(10), "Anyone?").await;
    assert_eq!(response.status(), 401);
    sign_in(&app, "priya.raman").await;
    let response = move_freeze(&app, "mobile", &in_days(10), "QA wants more time").await;
    assert_eq!(response.status(), 403);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("Only managers"));

    sign_in(&app, "morgan.lee").await;
    let response = move_freeze(&app, "mobile", &in_days(10), "  ").await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.expect("body").contains("Say why"));
    let response = move_freeze(&app, "mobile", "next week", "Later").await;
    assert_eq!(response.status(), 422);
    // A freeze after the Prod release breaks the release's order.
    let response = move_freeze(&app, "mobile", &in_days(200), "Much later").await;
    assert_eq!(response.status(), 422);
    let body = response.text().await.expect("body");
    assert!(
        body.contains("Code freeze would fall after Release demo"),
        "{body}"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM calendar_changes")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(rows, 0, "refused changes leave no trace");
    let updated = sqlx::query("UPDATE calendar_changes SET reason = 'x'")
        .execute(&pool)
        .await
        .expect("no rows to update is fine");
    assert_eq!(updated.rows_affected(), 0);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_manager_moving_a_code_freeze_closes_qa_approvals_for_that_team(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    server::jobs::poller::poll(&app.state, Duration::ZERO)
        .await
        .expect("poll");

    sign_in(&app, "morgan.lee").await;
    // Release demo is day 38 and today is day 40; moving the freeze to
    // tomorrow would pass the demo, so move the demo out of the way first.
    let response = app
        .call(
            "calendar/move",
            &[
                ("release", "1"),
                ("milestone", "release-demo"),
                ("team", "mobile"),
                ("date", &in_days(3)),
                ("time", "15:00"),
                ("reason", "Demo after the later freeze"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let tomorrow = in_days(1);
    let response = move_freeze(&app, "mobile", &tomorrow, "App store review slipped").await;
    assert_eq!(response.status(), 200);
    let said: String = response.json().await.expect("json");
    assert!(said.starts_with("Code freeze of release"), "{said}");
    assert!(said.contains("for Mobile moved to"), "{said}");

    let view = calendar(&app, &[]).await;
    assert!(view.can_manage);
    let (gate, sentence) = allowance(&view, "qa", Some("Mobile"));
    assert_eq!(gate, Gate::Closed);
    let date = (Utc::now().date_naive() + Days::new(1))
        .format("%-d %b %Y")
        .to_string();
    assert_eq!(
        sentence,
        format!(
            "Approvals open at code freeze on {date} (release {}).",
            view.next_releases[0].name
        )
    );
    // Other teams are untouched.
    assert_eq!(allowance(&view, "qa", Some("FrontEnd")).0, Gate::Open);
    // The history says who, before, after and why, newest first.
    assert_eq!(view.history.len(), 2);
    let change = &view.history[0];
    assert_eq!(change.actor_name, "Morgan Lee");
    assert_eq!(change.reason, "App store review slipped");
    assert!(
        change.summary.contains("Moved Code freeze of release"),
        "{}",
        change.summary
    );
    assert!(
        change.summary.contains(" for Mobile from "),
        "{}",
        change.summary
    );
    assert!(
        change.summary.contains(&format!("to {date} 18:00")),
        "{}",
        change.summary
    );

    // The environments page says the same.
    let envs: EnvironmentsView = app
        .call("environments", &[("team", "mobile")])
        .await
        .json()
        .await
        .expect("json");
    let qa = envs
        .environments
        .iter()
        .find(|r| r.environment.id.as_str() == "qa")
        .expect("qa");
    assert_eq!(qa.today[0].1, Gate::Closed);

    // And the approval policy refuses a Mobile QA approval with that sentence.
    sign_in(&app, "priya.raman").await;
    let approvals: app::views::approvals::ApprovalsView =
        app.call("approvals", &[]).await.json().await.expect("json");
    let mobile = approvals
        .pending
        .iter()
        .find(|q| q.item.pipeline == "ios-app-qa")
        .expect("ios-app-qa waits");
    assert_eq!(
        mobile.blocked.as_deref(),
        Some(format!("QA: {sentence}").as_str())
    );
    let response = app
        .call(
            "approvals/decide",
            &[
                ("request", &mobile.item.id),
                ("decision", "approve"),
                ("passed[]", "qa"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("Approvals open at code freeze"));
    let frontend = approvals
        .pending
        .iter()
        .find(|q| q.item.pipeline == "checkout-ui-qa")
        .expect("checkout-ui-qa waits");
    assert_eq!(frontend.blocked, None, "FrontEnd QA is still open");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_blackout_added_by_a_manager_closes_prod_and_is_audited(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    sign_in(&app, "morgan.lee").await;
    let response = app
        .call(
            "calendar/blackout",
            &[
                ("name", "Incident review"),
                ("first_day", &in_days(0)),
                ("last_day", &in_days(2)),
                ("reason", "Stabilise after last week's outage"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let view = calendar(&app, &[]).await;
    let (gate, sentence) = allowance(&view, "prod", None);
    assert_eq!(gate, Gate::Closed);
    assert!(
        sentence.starts_with("No deployments during Incident review"),
        "{sentence}"
    );
    assert_eq!(allowance(&view, "pre-prod", None).0, Gate::Open);
    assert!(view.history[0]
        .summary
        .contains("Added blackout \u{201c}Incident review\u{201d}"));
    let bad = app
        .call(
            "calendar/blackout",
            &[
                ("name", "Backwards"),
                ("first_day", &in_days(3)),
                ("last_day", &in_days(1)),
                ("reason", "Oops"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_form_posted_without_javascript_returns_to_the_same_calendar_view(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    sign_in(&app, "morgan.lee").await;
    let response = app
        .submit(
            "calendar/move",
            &[
                ("release", "2"),
                ("milestone", "prod-release"),
                ("team", ""),
                ("date", &in_days(120)),
                ("time", ""),
                ("reason", "Launch moved"),
            ],
            "/calendar?month=2031-02&team=mobile",
        )
        .await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "/calendar?month=2031-02&team=mobile"
    );
    let (_, html) = app.page("/calendar?month=2031-02&team=mobile").await;
    assert!(html.contains("Prod release of release"), "{html}");
    assert!(html.contains("moved to"), "the notice is shown once");
}

/// The HTML of the Move dialog (its title and form) on a calendar page.
fn move_form(html: &str) -> &str {
    let start = html.find(r#"id="move-dialog""#).expect("a move dialog");
    let end = html[start..]
        .find("</dialog>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_move_dialog_keeps_its_milestone_says_a_refusal_inside_and_closes_when_accepted(
    pool: PgPool,
) {
    let app = spawn(pool, Mode::Demo).await;
    sign_in(&app, "morgan.lee").await;
    let page = "/calendar?team=mobile&move=2:code-freeze";
    let (status, html) = app.page(page).await;
    assert_eq!(status, 200);
    let form = move_form(&html);
    assert!(form.contains("Move Code freeze of release"), "{form}");
    assert!(
        form.contains("Mobile: "),
        "its date now, for Mobile: {form}"
    );
    assert!(form.contains(r#"name="milestone" value="code-freeze""#));
    assert!(
        form.contains(r#"<option value="mobile" selected"#),
        "{form}"
    );

    // Refused (no reason): said inside the form, focus goes there, and
    // what was typed is kept.
    // Two days earlier than now (its starting value).
    let now = form
        .split(r#"name="date" required value=""#)
        .nth(1)
        .and_then(|rest| rest.get(..10))
        .expect("the date starts at the milestone's");
    let date = (chrono::NaiveDate::parse_from_str(now, "%Y-%m-%d").expect("a date") - Days::new(2))
        .to_string();
    let fields = [
        ("release", "2"),
        ("milestone", "code-freeze"),
        ("team", "mobile"),
        ("date", date.as_str()),
        ("time", "17:30"),
        ("reason", " "),
    ];
    let response = app.submit("calendar/move", &fields, page).await;
    assert_eq!(response.status(), 302);
    let (_, html) = app.page(page).await;
    let form = move_form(&html);
    assert!(form.contains("Say why"), "{form}");
    assert!(form.contains("autofocus"), "{form}");
    assert!(
        form.contains(&format!(r#"value="{date}""#)),
        "kept date: {form}"
    );
    assert!(form.contains(r#"value="17:30""#), "kept time: {form}");
    assert!(!html[..html.find(r#"id="move-dialog""#).expect("the dialog")].contains("Say why"));

    // Accepted: the dialog closes (the address loses `move`) and the page
    // says so at the top; opened again, the form shows the new date.
    let reason = ("reason", "Store review takes longer");
    let fields = [
        fields[0], fields[1], fields[2], fields[3], fields[4], reason,
    ];
    let response = app.submit("calendar/move", &fields, page).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/calendar?team=mobile");
    let (_, html) = app.page("/calendar?team=mobile").await;
    assert!(!html.contains(r#"id="move-form""#), "the dialog is closed");
    assert!(html.contains("for Mobile moved to"), "said on the page");
    let (_, html) = app.page(page).await;
    let form = move_form(&html);
    let words = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .expect("a date")
        .format("%-d %b %Y")
        .to_string();
    assert!(form.contains(&format!("Mobile: {words} 17:30")), "{form}");
    assert!(
        !form.contains("Store review takes longer"),
        "the form starts empty"
    );
    assert!(!form.contains("moved to"), "said once");
}

/// The Edit dates form's fields for `view.editing`, with `change` applied
/// to the milestones it names (kind, new date, new time).
fn edit_fields(
    view: &CalendarView,
    team: &str,
    reason: &str,
    change: &[(&str, String, &str)],
) -> Vec<(String, String)> {
    let target = view.editing.as_ref().expect("the edit form");
    let mut fields = vec![
        ("release".to_owned(), target.release.to_string()),
        ("team".to_owned(), team.to_owned()),
        ("reason".to_owned(), reason.to_owned()),
    ];
    for row in &target.rows {
        let kind = row.kind.as_str();
        let (date, time) = change
            .iter()
            .find(|(k, _, _)| *k == kind)
            .map_or((row.date.clone(), row.time.clone()), |(_, d, t)| {
                (d.clone(), (*t).to_owned())
            });
        fields.push(("milestones[]".to_owned(), kind.to_owned()));
        fields.push(("dates[]".to_owned(), date));
        fields.push(("times[]".to_owned(), time));
    }
    fields
}

fn later(date: &str, days: u64) -> String {
    (chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("a date") + Days::new(days))
        .to_string()
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn edit_dates_moves_only_the_changed_milestones_of_a_release_all_or_none(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    let changes = "SELECT count(*) FROM calendar_changes";
    let audited = "SELECT count(*) FROM audit_log WHERE event = 'calendar_move'";

    // Not a manager: no form, and a post changes nothing.
    sign_in(&app, "lena.fischer").await;
    let (_, html) = app.page("/calendar?team=mobile&edit=2").await;
    assert!(!html.contains(r#"id="edit-form""#));
    let forbidden = app
        .call(
            "calendar/edit",
            &[
                ("release", "2"),
                ("team", "mobile"),
                ("milestones[]", "prod-release"),
                ("dates[]", &in_days(300)),
                ("times[]", ""),
                ("reason", "Mine"),
            ],
        )
        .await;
    assert_eq!(forbidden.status(), 403);
    assert_eq!(count(&pool, changes).await, 0);

    sign_in(&app, "morgan.lee").await;
    let page = "/calendar?team=mobile&edit=2";
    let (status, html) = app.page(page).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<dialog open"#), "{html}");
    assert_eq!(
        html.matches(r#"name="dates[]""#).count(),
        6,
        "one date per milestone"
    );
    let view = calendar(&app, &[("team", "mobile"), ("editing", "2")]).await;
    let target = view.editing.clone().expect("the edit form");
    assert_eq!(target.team_name.as_deref(), Some("Mobile"));
    let row = |kind: &str| {
        target
            .rows
            .iter()
            .find(|r| r.kind.as_str() == kind)
            .expect(kind)
            .clone()
    };
    let (pre, prod) = (row("pre-prod"), row("prod-release"));

    // A valid change and an invalid one together: refused, nothing kept,
    // the dialog comes back with the refusal and what was typed.
    let freeze = row("code-freeze");
    let bad = edit_fields(
        &view,
        "mobile",
        "Both at once",
        &[
            ("prod-release", later(&prod.date, 7), "11:00"),
            ("code-freeze", later(&row("prod-release").date, 30), "18:00"),
        ],
    );
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = app.submit("calendar/edit", &bad, page).await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        page,
        "the dialog opens again"
    );
    assert_eq!(count(&pool, changes).await, 0, "all or none");
    let (_, html) = app.page(page).await;
    assert!(html.contains("Code freeze would fall after"), "{html}");
    assert!(
        html.contains(&later(&row("prod-release").date, 30)),
        "kept what was typed"
    );

    // Nothing changed: said so, nothing kept.
    let same = edit_fields(&view, "mobile", "No change", &[]);
    let same: Vec<(&str, &str)> = same.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = app.call("calendar/edit", &same).await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap_or_default()
        .contains("Nothing changed"));

    // Pre-Prod and Prod a week later: two moves, one reason, one change
    // each in the history and the audit log; the dialog closes.
    let week = edit_fields(
        &view,
        "mobile",
        "Store review",
        &[
            ("pre-prod", later(&pre.date, 7), pre.time.as_str()),
            ("prod-release", later(&prod.date, 7), "11:00"),
        ],
    );
    let week: Vec<(&str, &str)> = week.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = app.submit("calendar/edit", &week, page).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/calendar?team=mobile");
    assert_eq!(count(&pool, changes).await, 2);
    assert_eq!(count(&pool, audited).await, 2);
    let (_, html) = app.page("/calendar?team=mobile").await;
    assert!(html.contains("moved Pre-Prod"), "{html}");
    assert!(!html.contains(r#"id="edit-form""#), "closed");

    let after = calendar(&app, &[("team", "mobile"), ("editing", "2")]).await;
    let moved = after.editing.expect("the form");
    let get = |kind: &str| {
        moved
            .rows
            .iter()
            .find(|r| r.kind.as_str() == kind)
            .expect(kind)
            .clone()
    };
    assert_eq!(get("pre-prod").date, later(&pre.date, 7));
    assert_eq!(
        (get("prod-release").date, get("prod-release").time),
        (later(&prod.date, 7), "11:00".to_owned())
    );
    assert_eq!(get("code-freeze").date, freeze.date, "untouched");
    // Other teams keep their dates.
    let everyone = calendar(&app, &[("team", "frontend"), ("editing", "2")]).await;
    let frontend = everyone.editing.expect("the form");
    let fe_prod = frontend
        .rows
        .iter()
        .find(|r| r.kind.as_str() == "prod-release")
        .expect("prod");
    assert_eq!(fe_prod.date, prod.date);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_calendar_opens_on_this_cycle_s_milestones_in_order(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let view = calendar(&app, &[]).await;
    let current = view.current.expect("the current release");
    let kinds: Vec<&str> = current.steps.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "code-freeze",
            "release-demo",
            "qa-sign-off",
            "pre-prod",
            "prod-release"
        ]
    );
    // The demo opens in QA: the freeze has passed, Prod has not.
    assert!(current.steps[0].passed);
    assert!(!current.steps[4].passed);
    let passed: Vec<bool> = current.steps.iter().map(|s| s.passed).collect();
    let mut sorted = passed.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(passed, sorted, "done steps come first");
    // Nobody but a manager gets a Move form, whatever the link says.
    let view = calendar(&app, &[("moving", "1:code-freeze")]).await;
    assert!(view.moving.is_none());
    sign_in(&app, "morgan.lee").await;
    let view = calendar(&app, &[("moving", "1:code-freeze")]).await;
    assert_eq!(view.moving.map(|m| m.kind.as_str()), Some("code-freeze"));
    for bad in ["1:nonsense", "x:code-freeze", "999:code-freeze", "no-colon"] {
        let view = calendar(&app, &[("moving", bad)]).await;
        assert!(view.moving.is_none(), "{bad}");
    }
}

fn parse_ics(text: &str) -> Vec<ical::parser::ical::component::IcalEvent> {
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = calendars
        .next()
        .expect("one calendar")
        .expect("the feed parses");
    assert!(calendars.next().is_none());
    calendar.events
}

fn prop<'a>(
    event: &'a ical::parser::ical::component::IcalEvent,
    name: &str,
) -> Option<&'a ical::property::Property> {
    event.properties.iter().find(|p| p.name == name)
}

fn value(event: &ical::parser::ical::component::IcalEvent, name: &str) -> String {
    prop(event, name)
        .and_then(|p| p.value.clone())
        .unwrap_or_default()
}

async fn ics(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/calendar"));
    let text = response.text().await.expect("body");
    assert!(
        text.lines().all(|l| l.len() <= 75),
        "lines are folded at 75 octets"
    );
    text
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_ics_feeds_parse_with_stable_uids_and_a_sequence_that_grows_on_moves(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let events = parse_ics(&ics(&app, "/calendar.ics").await);
    // Releases 1 to 7 (current plus six), six milestones each, Mobile's
    // freeze apart from the others (an org-wide event for the two that
    // agree and Mobile's exception), and the two configured blackouts.
    assert_eq!(events.len(), 7 * (5 + 2) + 2);
    let mut uids: Vec<String> = events.iter().map(|e| value(e, "UID")).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), events.len(), "UIDs are unique");
    let by_uid = |events: &[ical::parser::ical::component::IcalEvent], uid: &str| {
        events
            .iter()
            .find(|e| value(e, "UID") == uid)
            .cloned()
            .unwrap_or_else(|| panic!("{uid} in feed"))
    };
    let freeze_uid = "release-1-code-freeze-mobile@acme-retail.gatehouse";
    let freeze = by_uid(&events, freeze_uid);
    assert_eq!(value(&freeze, "SEQUENCE"), "0");
    assert!(value(&freeze, "SUMMARY").contains("Code freeze"));
    assert!(
        value(&freeze, "DTSTART").ends_with('Z'),
        "timed events are in UTC"
    );
    let start = by_uid(&events, "release-1-development-start@acme-retail.gatehouse");
    let dtstart = prop(&start, "DTSTART").expect("DTSTART");
    assert!(
        dtstart.params.as_ref().is_some_and(|ps| ps
            .iter()
            .any(|(k, v)| k == "VALUE" && v == &vec!["DATE".to_owned()])),
        "all-day events are dates: {dtstart:?}"
    );
    assert_eq!(value(&start, "DTSTART").len(), 8);
    let expected_start = (Utc::now().date_naive() - Days::new(DEMO_CYCLE_DAY))
        .format("%Y%m%d")
        .to_string();
    assert_eq!(value(&start, "DTSTART"), expected_start);
    let blackout = events
        .iter()
        .find(|e| value(e, "SUMMARY") == "Blackout: Company offsite")
        .expect("blackout");
    assert!(value(blackout, "DESCRIPTION").contains("offsite"));

    sign_in(&app, "morgan.lee").await;
    let response = app
        .call(
            "calendar/move",
            &[
                ("release", "1"),
                ("milestone", "code-freeze"),
                ("team", "mobile"),
                (
                    "date",
                    &(Utc::now().date_naive() - Days::new(DEMO_CYCLE_DAY - 30)).to_string(),
                ),
                ("time", "12:00"),
                (
                    "reason",
                    "Earlier review slot, with a comma, and a; semicolon",
                ),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let events = parse_ics(&ics(&app, "/calendar.ics").await);
    let moved = by_uid(&events, freeze_uid);
    assert_eq!(value(&moved, "SEQUENCE"), "1");
    assert_ne!(value(&moved, "DTSTART"), value(&freeze, "DTSTART"));
    assert!(value(&moved, "DESCRIPTION").contains("with a comma"));

    let mobile = parse_ics(&ics(&app, "/calendar/mobile.ics").await);
    assert_eq!(mobile.len(), 7 * 6 + 2);
    assert!(mobile
        .iter()
        .filter(|e| value(e, "UID").starts_with("release-"))
        .all(|e| value(e, "UID").contains("-mobile@")));
    assert_eq!(value(&by_uid(&mobile, freeze_uid), "SEQUENCE"), "1");
    assert_eq!(app.get("/calendar/ops.ics").await.status(), 404);
    assert_eq!(app.get("/calendar.ics?team=ops").await.status(), 404);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn moving_one_team_s_milestone_keeps_the_org_wide_uid_for_subscribers(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let org_uid = "release-2-qa-sign-off@acme-retail.gatehouse";
    let exception_uid = "release-2-qa-sign-off-frontend@acme-retail.gatehouse";
    let find = |events: &[ical::parser::ical::component::IcalEvent], uid: &str| {
        events.iter().find(|e| value(e, "UID") == uid).cloned()
    };
    let before = parse_ics(&ics(&app, "/calendar.ics").await);
    let original = find(&before, org_uid).expect("one org-wide event");
    assert!(find(&before, exception_uid).is_none());
    let sequence = |e: &ical::parser::ical::component::IcalEvent| -> u32 {
        value(e, "SEQUENCE").parse().expect("number")
    };
    let original_day = value(&original, "DTSTART")[..8].to_owned();
    let day = |yyyymmdd: &str, shift: i64| {
        let d = chrono::NaiveDate::parse_from_str(yyyymmdd, "%Y%m%d").expect("date");
        (d + chrono::Duration::days(shift)).to_string()
    };
    sign_in(&app, "morgan.lee").await;
    let mv = |date: String| {
        let app = &app;
        async move {
            let response = app
                .call(
                    "calendar/move",
                    &[
                        ("release", "2"),
                        ("milestone", "qa-sign-off"),
                        ("team", "frontend"),
                        ("date", &date),
                        ("reason", "Frontend regression suite needs a day more"),
                    ],
                )
                .await;
            assert_eq!(
                response.status(),
                200,
                "{}",
                response.text().await.unwrap_or_default()
            );
        }
    };
    mv(day(&original_day, 1)).await;
    let apart = parse_ics(&ics(&app, "/calendar.ics").await);
    let org = find(&apart, org_uid).expect("the org-wide UID survives the move");
    assert!(sequence(&org) > sequence(&original), "its SEQUENCE rises");
    assert_eq!(
        value(&org, "DTSTART")[..8],
        original_day,
        "for the teams that stay"
    );
    assert!(
        value(&org, "SUMMARY").contains("BackEnd"),
        "{}",
        value(&org, "SUMMARY")
    );
    let exception = find(&apart, exception_uid).expect("FrontEnd's own event");
    assert_eq!(
        value(&exception, "DTSTART")[..8],
        day(&original_day, 1).replace('-', "")
    );

    mv(day(&original_day, 0)).await;
    let together = parse_ics(&ics(&app, "/calendar.ics").await);
    let org_again = find(&together, org_uid).expect("still there");
    assert!(sequence(&org_again) > sequence(&org), "and rises again");
    assert!(
        find(&together, exception_uid).is_none(),
        "FrontEnd is back in the org-wide event"
    );
}

/// The token in a calendar page's feed link, if it shows one.
fn shown_token(html: &str) -> Option<String> {
    let (_, after) = html.split_once(".ics?token=")?;
    Some(after.chars().take_while(char::is_ascii_hexdigit).collect())
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_feed_token_is_kept_only_as_its_hash_and_its_link_is_shown_once(pool: PgPool) {
    use app::ssr::ports::UserStore as _;
    let app = spawn(pool.clone(), Mode::Demo).await;
    sign_in(&app, "priya.raman").await;
    let view = calendar(&app, &[]).await;
    let link = view.feed_link.expect("signed in: the feed link's state");
    assert_eq!((link.made, link.fresh_token), (None, None), "no link yet");
    let (_, html) = app.page("/calendar").await;
    assert!(html.contains("Make a link for calendar apps"));
    assert_eq!(shown_token(&html), None, "viewing makes no secret");
    assert_eq!(count(&pool, "SELECT count(*) FROM feed_tokens").await, 0);

    // The form, as a browser without JavaScript posts it: the next view
    // shows the new link, once.
    let posted = app.submit("calendar/feed-token", &[], "/calendar").await;
    assert!(posted.status().is_redirection(), "{}", posted.status());
    let (_, html) = app.page("/calendar").await;
    let token = shown_token(&html).expect("the new link, shown this once");
    assert!(token.len() >= 32, "{token}");
    assert!(html.contains("shown only this once"), "the page says so");

    // The database keeps its SHA-256, not the token.
    let stored = count(
        &pool,
        &format!("SELECT count(*) FROM feed_tokens f WHERE row_to_json(f)::text LIKE '%{token}%'"),
    )
    .await;
    assert_eq!(stored, 0, "the token itself is stored");
    assert_eq!(
        count(
            &pool,
            &format!(
                "SELECT count(*) FROM feed_tokens
                  WHERE token_hash = encode(sha256(convert_to('{token}', 'UTF8')), 'hex')"
            ),
        )
        .await,
        1
    );
    // The link works; the stored hash does not stand for anyone.
    let store = server::adapters::db::PgStore::new(pool.clone());
    let user = store.feed_user(&token).await.expect("lookup");
    assert_eq!(user.map(|u| u.login), Some("priya.raman".to_owned()));
    let hash: String = sqlx::query_scalar("SELECT token_hash FROM feed_tokens")
        .fetch_one(&pool)
        .await
        .expect("hash");
    assert!(store.feed_user(&hash).await.expect("lookup").is_none());
    ics(&app, &format!("/calendar.ics?token={token}")).await;

    // Later views say a link exists, and since when, without showing it.
    let (_, html) = app.page("/calendar").await;
    assert_eq!(shown_token(&html), None, "shown only once");
    assert!(html.contains("Your secret link for calendar apps was made"));
    let link = calendar(&app, &[]).await.feed_link.expect("link");
    assert!(
        link.made.is_some() && link.fresh_token.is_none(),
        "{link:?}"
    );

    // Replacing it answers a new one; the old one stops standing for her.
    let replaced = app.call("calendar/feed-token", &[]).await;
    assert_eq!(replaced.status(), 200);
    let text: String = replaced.json().await.expect("json");
    assert!(text.contains("old link stop updating"), "{text}");
    let new = shown_token(&text).expect("the new link");
    assert_ne!(new, token);
    assert!(store.feed_user(&token).await.expect("lookup").is_none());
    assert!(store.feed_user(&new).await.expect("lookup").is_some());
}

#[sqlx::test(migrations = false)]
async fn a_feed_link_made_before_tokens_were_hashed_keeps_working(pool: PgPool) {
    use app::ssr::ports::UserStore as _;
    // The database as it was before tokens were hashed, with a link.
    let hashed = 20261207000022;
    let before = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(
            server::adapters::db::MIGRATOR
                .migrations
                .iter()
                .filter(|m| m.version < hashed)
                .cloned()
                .collect(),
        ),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    before.run(&pool).await.expect("the older migrations");
    let user: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO users (id, login, display_name, roles, provider, issuer, subject, person)
         VALUES (gen_random_uuid(), 'old.subscriber', 'Old Subscriber', ARRAY['qa'], 'demo', '', 'old.subscriber', 'demo:old.subscriber')
         RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .expect("a user");
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    sqlx::query("INSERT INTO feed_tokens (user_id, token) VALUES ($1, $2)")
        .bind(user)
        .bind(&token)
        .execute(&pool)
        .await
        .expect("a plain-text token");

    server::adapters::db::MIGRATOR
        .run(&pool)
        .await
        .expect("migrations");
    assert_eq!(
        count(
            &pool,
            &format!(
                "SELECT count(*) FROM feed_tokens f WHERE row_to_json(f)::text LIKE '%{token}%'"
            )
        )
        .await,
        0,
        "no token is kept in plain text"
    );
    let store = server::adapters::db::PgStore::new(pool.clone());
    let found = store.feed_user(&token).await.expect("lookup");
    assert_eq!(
        found.map(|u| u.login),
        Some("old.subscriber".to_owned()),
        "the subscription made before keeps working"
    );
}

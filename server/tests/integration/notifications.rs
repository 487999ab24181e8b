//! Notifications against a local webhook receiver and a local SMTP
//! server: each event reaches each subscribed channel once, with its link;
//! e-mail goes to the people who can act, minus those who muted it;
//! failures are retried later or given up for admins to see; a crash
//! between the event's commit and the send delivers once, and two
//! processes sending at once never send twice; demo mode without a sink
//! only records; reminders come once a day.

use crate::common;

use app::ssr::Mode;
use common::sinks::{SmtpSink, WebhookSink};
use common::{count, TestApp};
use server::config::Secret;
use sqlx::PgPool;
use std::collections::HashSet;

/// Demo-mode Gatehouse whose `release-train` webhook posts to `hook` and
/// whose e-mail goes to `smtp` (either may be left unset).
async fn app_with(pool: PgPool, hook: Option<&WebhookSink>, smtp: Option<&SmtpSink>) -> TestApp {
    app_with_url(pool, hook.map(|h| h.url.clone()), smtp).await
}

/// The same, with the `release-train` webhook's URL given.
async fn app_with_url(pool: PgPool, webhook: Option<String>, smtp: Option<&SmtpSink>) -> TestApp {
    let mut config = common::config(Mode::Demo, common::shipped_org_config());
    if let Some(url) = webhook {
        config
            .notifications
            .webhook_urls
            .insert("release-train".into(), url);
    }
    if let Some(smtp) = smtp {
        config.notifications.smtp_url = Some(Secret::new(smtp.url.clone()));
        config.notifications.mail_from = Some("Gatehouse <gatehouse@acme-retail.example>".into());
        config.notifications.reply_to = Some("release-train@acme-retail.example".into());
    }
    common::spawn_with(pool, config).await
}

/// The demo's pipelines reach their approvals and the poller records them
/// (each recording writes its outbox row in the same transaction).
async fn approvals_wait(app: &TestApp) {
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    app.poll().await;
}

async fn pass(app: &TestApp) -> server::adapters::notify::PassReport {
    app.notifier
        .pass(&app.state, chrono::Utc::now())
        .await
        .expect("notification pass")
}

/// Passes until one routes and sends nothing (a pass sends at most 50);
/// what they did together.
async fn drain(app: &TestApp) -> server::adapters::notify::PassReport {
    let mut total = server::adapters::notify::PassReport::default();
    for _ in 0..100 {
        let r = pass(app).await;
        if r.routed == 0 && r.sent == 0 && r.retrying == 0 && r.given_up == 0 {
            return total;
        }
        total.routed += r.routed;
        total.deliveries += r.deliveries;
        total.sent += r.sent;
        total.retrying += r.retrying;
        total.given_up += r.given_up;
        total.reminders += r.reminders;
    }
    panic!("notification passes never settled");
}

fn waiting(hooks: &[common::sinks::Hook]) -> Vec<&common::sinks::Hook> {
    hooks
        .iter()
        .filter(|h| h.text().contains("is waiting for approval"))
        .collect()
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_waiting_approval_reaches_each_subscribed_channel_once_with_its_card_link(pool: PgPool) {
    let (hook, smtp) = (WebhookSink::start().await, SmtpSink::start().await);
    let app = app_with(pool.clone(), Some(&hook), Some(&smtp)).await;
    approvals_wait(&app).await;
    let requests = count(&pool, "SELECT count(*) FROM approval_requests").await;
    assert!(requests > 5, "{requests} requests");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM notification_outbox WHERE event = 'approval-waiting'"
        )
        .await,
        requests,
        "one outbox row per recorded request, written with it"
    );

    let report = drain(&app).await;
    assert_eq!(report.given_up, 0, "{report:?}");
    let calls = hook.calls();
    assert_eq!(
        waiting(&calls).len() as i64,
        requests,
        "one post per request"
    );
    let keys: HashSet<&str> = calls.iter().map(|h| h.idempotency_key.as_str()).collect();
    assert_eq!(keys.len(), calls.len(), "each post names its own delivery");

    // The QA request for Orders API: its card link, in words people read.
    let (id, pipeline): (String, String) = sqlx::query_as(
        "SELECT id::text, pipeline FROM approval_requests WHERE service_id = 'orders-api' AND environment_id = 'qa'",
    )
    .fetch_one(&pool)
    .await
    .expect("Orders API's QA request");
    let post = calls
        .iter()
        .find(|h| {
            h.text()
                .contains(&format!("/approvals?request={id}#request-{id}"))
        })
        .unwrap_or_else(|| panic!("no post links to {id}: {calls:?}"));
    assert!(
        post.text()
            .starts_with("*Orders API to QA is waiting for approval*"),
        "{}",
        post.text()
    );
    assert!(post.text().contains(&pipeline), "{}", post.text());
    assert!(
        post.text()
            .contains(&format!("{}/approvals?request={id}", app.base)),
        "links are absolute: {}",
        post.text()
    );

    // E-mail: the people who can approve QA (the QA personas), from the
    // configured address, once each.
    let mails = smtp.mails();
    let qa: Vec<_> = mails
        .iter()
        .filter(|m| {
            m.text()
                .contains(&format!("/approvals?request={id}#request-{id}"))
        })
        .collect();
    assert!(
        !qa.is_empty(),
        "no e-mail for the QA request among {}",
        mails.len()
    );
    let priya = server::simulators::github::noreply_email("priya.raman");
    assert!(
        qa.iter().any(|m| m.to == [priya.clone()]),
        "Priya (QA) is e-mailed: {qa:?}"
    );
    let sam = server::simulators::github::noreply_email("sam.okafor");
    assert!(
        qa.iter().all(|m| m.to != [sam.clone()]),
        "Sam (SRE) cannot approve QA and is not e-mailed"
    );
    let first = qa[0];
    assert_eq!(first.from, "gatehouse@acme-retail.example");
    assert!(
        first
            .data
            .contains("Subject: Orders API to QA is waiting for approval"),
        "{}",
        first.data
    );
    assert!(
        first
            .data
            .contains("Reply-To: release-train@acme-retail.example"),
        "{}",
        first.data
    );
    assert!(
        first.data.contains("Message-ID: <notification-"),
        "{}",
        first.data
    );
    // Stage needs an SRE, but the approvers channel is not subscribed to
    // Stage: no e-mail for it.
    let stage: String = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE service_id = 'orders-api' AND environment_id = 'stage'",
    )
    .fetch_one(&pool)
    .await
    .expect("stage request");
    assert!(mails.iter().all(|m| !m.text().contains(&stage)));

    // Another pass sends nothing again.
    let again = pass(&app).await;
    assert_eq!((again.routed, again.sent), (0, 0));
    assert_eq!(hook.calls().len(), calls.len());
    assert_eq!(smtp.mails().len(), mails.len());
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM notification_deliveries WHERE state <> 'sent'"
        )
        .await,
        0
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_person_who_muted_an_event_gets_no_e_mail_for_it(pool: PgPool) {
    let smtp = SmtpSink::start().await;
    let app = app_with(pool.clone(), None, Some(&smtp)).await;
    app.sign_in("priya.raman").await;
    let response = app
        .call("notifications/mute", &[("muted[]", "approval-waiting")])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<String>().await.expect("json"),
        "Muted 1 event: your e-mails skip it."
    );
    let refused = app
        .call("notifications/mute", &[("muted[]", "everything")])
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .expect("text")
        .contains("is not a notification event"));

    // A second QA engineer, who muted nothing.
    app.person("quinn.tester", &["qa"]).await;
    sqlx::query(
        "UPDATE users SET emails = ARRAY['quinn@acme-retail.example'] WHERE login = 'quinn.tester'",
    )
    .execute(&pool)
    .await
    .expect("an address");

    approvals_wait(&app).await;
    drain(&app).await;
    let mails = smtp.mails();
    let priya = server::simulators::github::noreply_email("priya.raman");
    assert!(
        mails.iter().all(|m| m.to != [priya.clone()]),
        "Priya muted waiting approvals"
    );
    assert!(
        mails.iter().any(|m| m.to == ["quinn@acme-retail.example"]
            && m.text().contains("to QA is waiting for approval")),
        "Quinn did not"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_failing_webhook_is_retried_later_and_a_refusing_one_is_given_up_for_admins_to_see(
    pool: PgPool,
) {
    let hook = WebhookSink::start().await;
    let app = app_with(pool.clone(), Some(&hook), None).await;
    approvals_wait(&app).await;
    let total = count(&pool, "SELECT count(*) FROM approval_requests").await;

    // The receiver is down: every post fails, nothing is lost.
    hook.fail_next(usize::MAX);
    let report = drain(&app).await;
    assert_eq!(report.sent, 0);
    let pending = count(
        &pool,
        "SELECT count(*) FROM notification_deliveries WHERE channel = 'release-train' AND state = 'pending'
            AND attempts = 1 AND last_error LIKE '%HTTP 503%'
            AND next_attempt_at BETWEEN now() + interval '5 seconds' AND now() + interval '15 seconds'",
    )
    .await;
    assert_eq!(
        pending, total,
        "each waits about 10 s before its second try"
    );
    let posts = hook.calls().len();
    pass(&app).await;
    assert_eq!(
        hook.calls().len(),
        posts,
        "nothing is tried before it is due"
    );

    // Ten seconds later the receiver is back.
    hook.fail_next(0);
    sqlx::query(
        "UPDATE notification_deliveries SET next_attempt_at = now() WHERE state = 'pending'",
    )
    .execute(&pool)
    .await
    .expect("time passes");
    let report = drain(&app).await;
    assert_eq!(report.sent as i64, total);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM notification_deliveries WHERE state = 'sent' AND attempts = 2"
        )
        .await,
        total
    );

    // A revoked webhook (410) is given up at once, with the reason.
    hook.answer(410);
    sqlx::query(
        "INSERT INTO notification_outbox (event, dedupe_key, detail)
         VALUES ('release-day', 'test:release-day', '{\"release\": \"2026.10\", \"team\": \"backend\", \"day\": \"2026-12-02\"}')",
    )
    .execute(&pool)
    .await
    .expect("a reminder");
    let report = pass(&app).await;
    assert_eq!(report.given_up, 1, "{report:?}");
    let (state, error, attempts): (String, String, i32) = sqlx::query_as(
        "SELECT state, last_error, attempts FROM notification_deliveries WHERE event = 'release-day'",
    )
    .fetch_one(&pool)
    .await
    .expect("the reminder's delivery");
    assert_eq!((state.as_str(), attempts), ("failed", 1));
    assert!(error.contains("HTTP 410"), "{error}");

    // Admins see why; others see that it failed, not the details.
    let admin = app.person("ada.admin", &["admin"]).await;
    let view: serde_json::Value = admin
        .call("notifications", &[("failed", "1")])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["admin"], true, "{view}");
    assert_eq!(view["failed"], 1);
    let row = &view["deliveries"][0];
    assert_eq!(row["state"], "failed");
    assert!(
        row["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("HTTP 410"),
        "{row}"
    );
    let page = admin
        .client
        .get(format!("{}/notifications?failed=1", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Given up"), "{html}");
    assert!(html.contains("HTTP 410"));

    app.sign_in("priya.raman").await;
    let view: serde_json::Value = app
        .call("notifications", &[("failed", "1")])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["admin"], false);
    assert!(view["deliveries"][0]["last_error"].is_null());
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_crash_between_the_commit_and_the_send_delivers_once_and_two_senders_never_send_twice(
    pool: PgPool,
) {
    let hook = WebhookSink::start().await;
    // Process A records the approvals and dies before its notifier runs.
    let a = app_with(pool.clone(), Some(&hook), None).await;
    approvals_wait(&a).await;
    let total = count(&pool, "SELECT count(*) FROM notification_outbox").await;
    assert!(total > 0);
    // One delivery was even claimed by A when it died: its lease lapses.
    // Process B starts on the same database.
    let b = app_with(pool.clone(), Some(&hook), None).await;
    b.notifier
        .route(&b.state, chrono::Utc::now())
        .await
        .expect("route");
    sqlx::query(
        "UPDATE notification_deliveries SET attempts = 1, lease_until = now() - interval '1 second'
          WHERE id = (SELECT min(id) FROM notification_deliveries)",
    )
    .execute(&pool)
    .await
    .expect("a lapsed lease");
    // A (alive again, say) and B send at once, pass after pass.
    let mut sent = 0;
    for _ in 0..20 {
        let (ra, rb) = tokio::join!(pass(&a), pass(&b));
        sent += ra.sent + rb.sent;
    }
    assert_eq!(sent as i64, total);
    let calls = hook.calls();
    assert_eq!(calls.len() as i64, total, "each delivery posted once");
    let keys: HashSet<&str> = calls.iter().map(|h| h.idempotency_key.as_str()).collect();
    assert_eq!(keys.len() as i64, total);

    // More passes: still exactly once each.
    for _ in 0..3 {
        let _ = tokio::join!(pass(&a), pass(&b));
    }
    assert_eq!(hook.calls().len() as i64, total);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn demo_mode_without_a_sink_records_what_it_would_send_and_sends_nothing(pool: PgPool) {
    let app = app_with(pool.clone(), None, None).await;
    approvals_wait(&app).await;
    let report = drain(&app).await;
    assert_eq!(report.sent, 0);
    let requests = count(&pool, "SELECT count(*) FROM approval_requests").await;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM notification_deliveries WHERE channel = 'release-train' AND state = 'recorded'").await,
        requests
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM notification_deliveries WHERE state <> 'recorded'"
        )
        .await,
        0
    );
    app.sign_in("priya.raman").await;
    let (status, html) = app.page("/notifications").await;
    assert_eq!(status, 200);
    assert!(html.contains("Records only"), "{html}");
    assert!(html.contains("Demo mode: channels without a configured sink send nothing"));
    assert!(html.contains("is waiting for approval"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_code_freeze_is_announced_the_day_before_once(pool: PgPool) {
    let hook = WebhookSink::start().await;
    let app = app_with(pool.clone(), Some(&hook), None).await;
    let org = app.state.org.load_org().await.expect("org");
    let (calendar, _) = app::ssr::calendar::load(&app.state, &org)
        .await
        .expect("calendar");
    // The next code freeze in the demo calendar, and noon the day before.
    let today = chrono::Utc::now().date_naive();
    let freeze = calendar
        .releases_around(today, today + chrono::Days::new(70))
        .into_iter()
        .flat_map(|r| r.milestones)
        .filter(|m| m.kind == app::domain::calendar::MilestoneKind::CodeFreeze && m.date > today)
        .min_by_key(|m| m.date)
        .expect("a code freeze ahead");
    let eve = (freeze.date - chrono::Days::new(1))
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_local_timezone(calendar.tz)
        .single()
        .expect("a local time")
        .with_timezone(&chrono::Utc);
    let teams_freezing = calendar
        .releases_around(freeze.date, freeze.date)
        .iter()
        .flat_map(|r| r.milestones.iter())
        .filter(|m| {
            m.kind == app::domain::calendar::MilestoneKind::CodeFreeze && m.date == freeze.date
        })
        .count();
    let first = app.notifier.pass(&app.state, eve).await.expect("pass");
    assert_eq!(first.reminders, teams_freezing);
    let again = app.notifier.pass(&app.state, eve).await.expect("pass");
    assert_eq!(again.reminders, 0, "once per team and day");
    let freezes: Vec<_> = hook
        .calls()
        .into_iter()
        .filter(|h| h.text().contains("Code freeze tomorrow"))
        .collect();
    assert_eq!(freezes.len(), teams_freezing);
    assert!(
        freezes[0].text().contains("/calendar"),
        "{}",
        freezes[0].text()
    );
}

/// Adds a person with `roles` and `display_name` (as a sign-in provider
/// could name them) and signs them in on a browser of their own.
async fn person_named(
    app: &TestApp,
    login: &str,
    display_name: &str,
    roles: &[&str],
) -> common::Person {
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    let github_id = i64::try_from(server::simulators::github::account_id(login)).expect("id");
    sqlx::query(
        r#"INSERT INTO users (id, login, display_name, roles, provider, issuer, subject, person, github_id)
           VALUES (gen_random_uuid(), $1, $2, $3, 'demo', '', $1, 'demo:' || $1, $4)"#,
    )
    .bind(login)
    .bind(display_name)
    .bind(&roles)
    .bind(github_id)
    .execute(&app.pool)
    .await
    .expect("insert person");
    app.person(login, &[]).await
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_approvers_name_and_comment_cannot_ping_the_channel_or_disguise_a_link_in_slack(
    pool: PgPool,
) {
    let hook = WebhookSink::start().await;
    let app = app_with(pool.clone(), Some(&hook), None).await;
    approvals_wait(&app).await;
    drain(&app).await;
    let evil_name = "Eve <!channel> <https://evil.example/phish|docs>";
    let eve = person_named(&app, "eve.approver", evil_name, &["qa"]).await;
    let request: String = sqlx::query_scalar(
        "SELECT id::text FROM approval_requests WHERE service_id = 'orders-api' AND environment_id = 'qa'",
    )
    .fetch_one(&pool)
    .await
    .expect("Orders API's QA request");
    let mut form = common::approval(&request);
    form.push(("comment", "ship it <!here> <@U024BE7LH> & <#C0RELEASE>"));
    let response = eve.call("approvals/decide", &form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let report = drain(&app).await;
    assert!(report.sent >= 1, "{report:?}");

    let calls = hook.calls();
    let decided = calls
        .iter()
        .find(|h| h.text().contains("Orders API to QA was approved"))
        .unwrap_or_else(|| panic!("no post for the decision: {calls:?}"));
    let text = decided.text();
    assert!(
        text.contains("Eve &lt;!channel&gt; &lt;https://evil.example/phish|docs&gt;"),
        "the name is shown as text: {text}"
    );
    for control in [
        "<!channel>",
        "<!here>",
        "<@U024BE7LH>",
        "<#C0RELEASE>",
        "<https://evil",
    ] {
        assert!(!text.contains(control), "{control} reached Slack: {text}");
    }
    // Gatehouse's own link is the one `<…>` sequence, and absolute.
    assert_eq!(text.matches('<').count(), 1, "{text}");
    assert!(
        text.ends_with(&format!(
            "<{}/approvals?tab=history|Open in Gatehouse>",
            app.base
        )),
        "{text}"
    );
    // Every post escapes: no other post carries a raw control sequence.
    for call in &calls {
        assert!(!call.text().contains("<!"), "{}", call.text());
    }
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_unreachable_webhook_keeps_its_secret_url_out_of_the_stored_and_shown_errors(
    pool: PgPool,
) {
    // A port nothing listens on any more, behind a Slack-like secret path.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let secret = "T0GATE/B0HOUSE/s3cr3tW3bh00kT0ken";
    let url = format!("http://127.0.0.1:{port}/services/{secret}");
    let app = app_with_url(pool.clone(), Some(url.clone()), None).await;
    approvals_wait(&app).await;
    let report = pass(&app).await;
    assert_eq!(report.sent, 0, "{report:?}");
    assert!(report.retrying > 0, "{report:?}");
    let errors: Vec<String> = sqlx::query_scalar(
        "SELECT last_error FROM notification_deliveries WHERE channel = 'release-train' AND last_error IS NOT NULL",
    )
    .fetch_all(&pool)
    .await
    .expect("errors");
    assert_eq!(errors.len(), report.retrying, "each failure says why");
    for error in &errors {
        assert!(
            error.starts_with("the webhook could not be reached"),
            "{error}"
        );
        assert!(!error.contains("s3cr3t"), "the secret is stored: {error}");
        assert!(!error.contains("/services/"), "{error}");
        assert!(!error.contains("http://"), "{error}");
    }

    // An error kept before errors lost their URLs is not shown with it.
    sqlx::query(
        "UPDATE notification_deliveries SET last_error = $1
          WHERE id = (SELECT max(id) FROM notification_deliveries WHERE channel = 'release-train')",
    )
    .bind(format!(
        "the webhook could not be reached: error sending request for url ({url})"
    ))
    .execute(&pool)
    .await
    .expect("an old error");
    let admin = app.person("ada.admin", &["admin"]).await;
    let view = admin
        .call("notifications", &[])
        .await
        .text()
        .await
        .expect("json");
    assert!(view.contains("could not be reached"), "{view}");
    assert!(!view.contains("s3cr3t"), "the secret is shown: {view}");
    let page = admin
        .client
        .get(format!("{}/notifications", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("could not be reached"));
    assert!(!page.contains("s3cr3t"), "the secret is shown on the page");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn e_mails_say_their_mime_version_and_a_demo_critical_tickets_link_is_absolute(pool: PgPool) {
    let (hook, smtp) = (WebhookSink::start().await, SmtpSink::start().await);
    let app = app_with(pool.clone(), Some(&hook), Some(&smtp)).await;
    // Orders API went down in Prod and demo mode's GitHub opened its
    // Critical ticket, whose page is a path of this server.
    let ticket = "/demo/github/acme-retail/orders-api/issues/7";
    sqlx::query(
        "INSERT INTO outages (service_id, environment_id, started_at, ticket, issue_number, issue_url)
         VALUES ('orders-api', 'prod', now() - interval '2 minutes', true, 7, $1)",
    )
    .bind(ticket)
    .execute(&pool)
    .await
    .expect("an outage");
    let report = drain(&app).await;
    assert_eq!(report.given_up, 0, "{report:?}");
    let absolute = format!("Critical ticket: {}{ticket}", app.base);

    let calls = hook.calls();
    let down = calls
        .iter()
        .find(|h| h.text().contains("is down in"))
        .unwrap_or_else(|| panic!("no post for the outage: {calls:?}"));
    assert!(down.text().contains(&absolute), "{}", down.text());
    assert!(
        down.text()
            .contains(&format!("<{}/board/orders-api/prod|", app.base)),
        "{}",
        down.text()
    );

    let mails = smtp.mails();
    let mail = mails
        .iter()
        .find(|m| m.to == ["sre-on-call@acme-retail.example"])
        .unwrap_or_else(|| panic!("no e-mail to the SRE on call: {mails:?}"));
    let text = mail.text();
    assert!(text.contains(&absolute), "{text}");
    assert!(text.contains(&format!("{}/board/orders-api/prod", app.base)));
    assert!(
        !text.contains(&format!(" {ticket}")),
        "no relative link: {text}"
    );
    for mail in &mails {
        let headers = mail.data.split("\n\n").next().unwrap_or_default();
        assert!(
            headers.lines().any(|l| l == "MIME-Version: 1.0"),
            "RFC 2045: {headers}"
        );
        assert!(
            headers.contains("Content-Type: text/plain; charset=utf-8"),
            "{headers}"
        );
    }
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM notification_deliveries WHERE event = 'environment-down'",
    )
    .fetch_all(&pool)
    .await
    .expect("bodies");
    assert!(!stored.is_empty());
    assert!(stored.iter().all(|b| b.contains(&absolute)), "{stored:?}");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_slow_webhook_does_not_hold_up_the_other_channels_and_attempts_count_sends(pool: PgPool) {
    let (hook, smtp) = (WebhookSink::start().await, SmtpSink::start().await);
    // Three seconds per answer: slow, but under the 10 s timeout.
    hook.answer_after(std::time::Duration::from_secs(3));
    let app = app_with(pool.clone(), Some(&hook), Some(&smtp)).await;
    approvals_wait(&app).await;
    app.notifier
        .route(&app.state, chrono::Utc::now())
        .await
        .expect("route");
    let (posts, mails) = (
        count(
            &pool,
            "SELECT count(*) FROM notification_deliveries WHERE channel = 'release-train'",
        )
        .await,
        count(
            &pool,
            "SELECT count(*) FROM notification_deliveries WHERE channel = 'approvers'",
        )
        .await,
    );
    assert!(posts > 3 && mails > 0, "{posts} posts, {mails} e-mails");

    // One pass, watched: when did its last e-mail arrive?
    let started = std::time::Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    let send = async {
        let report = app.notifier.send_due().await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        report
    };
    let watch = async {
        let mut last = (0, std::time::Duration::ZERO);
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let n = smtp.mails().len();
            if n > last.0 {
                last = (n, started.elapsed());
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        last
    };
    let (report, (mailed, last_mail)) = tokio::join!(send, watch);
    let report = report.expect("send");
    let passed = started.elapsed();
    let mailed = mailed as i64;
    assert!(mailed > 0, "no e-mail in the pass");
    assert!(
        last_mail < std::time::Duration::from_secs(2),
        "the e-mails waited {last_mail:?} behind the slow webhook"
    );
    assert_eq!(smtp.mails().len() as i64, mailed);
    // The slow channel sent what fits the pass and left the rest for the
    // next one, at once due again.
    let posted = hook.calls().len();
    assert!((1..posts as usize).contains(&posted), "{posted} of {posts}");
    assert!(
        passed < std::time::Duration::from_secs(10),
        "the pass took {passed:?}"
    );
    assert_eq!(report.sent as i64, mailed + posted as i64, "{report:?}");
    // Attempts are sends: the deliveries claimed and not sent count none.
    let attempts = count(
        &pool,
        "SELECT coalesce(sum(attempts), 0) FROM notification_deliveries",
    )
    .await;
    assert_eq!(attempts, mailed + posted as i64);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM notification_deliveries
              WHERE state = 'pending' AND attempts = 0 AND lease_until IS NULL AND next_attempt_at <= now()",
        )
        .await,
        posts + mails - posted as i64 - mailed,
        "the rest is due again, not held under a lease"
    );
    // The next passes send the rest, each post once.
    hook.answer_after(std::time::Duration::ZERO);
    drain(&app).await;
    assert_eq!(hook.calls().len() as i64, posts);
    assert_eq!(smtp.mails().len() as i64, mails);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM notification_deliveries WHERE state <> 'sent' OR attempts <> 1"
        )
        .await,
        0
    );
}

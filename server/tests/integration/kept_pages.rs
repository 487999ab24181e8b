//! Whole pages are kept per process and sent again while nothing they show
//! has changed: with a fresh nonce each time, only to the viewer they were
//! rendered for, and rendered again after any change from any replica.

use crate::common;

use common::demo_queue;
use sqlx::PgPool;
use std::time::Duration;

/// The nonce a page's scripts carry.
fn nonce(html: &str) -> String {
    let start = html.find(" nonce=\"").expect("a nonce") + 8;
    html[start..start + html[start..].find('"').expect("end")].to_owned()
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_repeated_view_is_the_same_page_with_a_fresh_nonce_and_makes_no_session(pool: PgPool) {
    let app = demo_queue(pool.clone()).await;
    // The change listener connects in the background.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for path in [
        "/approvals",
        "/board",
        "/calendar",
        "/environments",
        "/release-demo",
    ] {
        let first = app.get(path).await;
        let first_policy = first.headers()["content-security-policy"]
            .to_str()
            .expect("policy")
            .to_owned();
        let first = first.text().await.expect("html");
        let sessions_before =
            common::count(&pool, "SELECT count(*) FROM tower_sessions.session").await;
        let second = app.get(path).await;
        assert_eq!(second.status(), 200, "{path}");
        let policy = second.headers()["content-security-policy"]
            .to_str()
            .expect("policy")
            .to_owned();
        let second = second.text().await.expect("html");
        let (a, b) = (nonce(&first), nonce(&second));
        assert_ne!(a, b, "{path}: every answer has its own nonce");
        assert!(first_policy.contains(&format!("'nonce-{a}'")));
        assert!(
            policy.contains(&format!("'nonce-{b}'")),
            "{path}: the policy names the new nonce"
        );
        assert!(
            !second.contains(&a),
            "{path}: the old nonce is gone everywhere"
        );
        assert_eq!(first.replace(&a, &b), second, "{path}: the same page");
        assert_eq!(
            common::count(&pool, "SELECT count(*) FROM tower_sessions.session").await,
            sessions_before,
            "a visitor's view makes no session"
        );
    }
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_kept_page_is_only_ever_sent_to_the_viewer_it_was_rendered_for(pool: PgPool) {
    let app = demo_queue(pool).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let qa = app.person("kept.qa", &["qa"]).await;
    let dev = app.person("kept.dev", &["developer:backend"]).await;
    let page = |client: reqwest::Client, path: &'static str| {
        let url = format!("{}{path}", app.base);
        async move {
            let response = client.get(&url).send().await.expect("GET");
            assert_eq!(response.status(), 200, "{url}");
            response.text().await.expect("html")
        }
    };
    for path in ["/approvals", "/calendar", "/board"] {
        for _ in 0..2 {
            let as_qa = page(qa.client.clone(), path).await;
            let as_dev = page(dev.client.clone(), path).await;
            let as_nobody = page(app.client.clone(), path).await;
            assert!(
                as_qa.contains("kept.qa") && !as_qa.contains("kept.dev"),
                "{path}"
            );
            assert!(
                as_dev.contains("kept.dev") && !as_dev.contains("kept.qa"),
                "{path}"
            );
            assert!(
                !as_nobody.contains("kept.qa") && !as_nobody.contains("kept.dev"),
                "{path}"
            );
        }
    }
    // Signed out, the same browser is a visitor again at once.
    let response = qa.call("sign-out", &[]).await;
    assert!(response.status().is_success(), "{}", response.status());
    let after = page(qa.client.clone(), "/approvals").await;
    assert!(
        !after.contains("kept.qa"),
        "the signed-out browser sees no one's page"
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_next_view_after_a_change_shows_it(pool: PgPool) {
    let app = demo_queue(pool).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let qa = app.person("kept.qa", &["qa"]).await;
    let view = |path: &'static str| {
        let (client, url) = (qa.client.clone(), format!("{}{path}", app.base));
        async move {
            client
                .get(&url)
                .send()
                .await
                .expect("GET")
                .text()
                .await
                .expect("html")
        }
    };

    // A vote: the request leaves the queue for the History.
    let queue: app::views::approvals::ApprovalsView =
        qa.call("approvals", &[]).await.json().await.expect("json");
    let request = queue
        .pending
        .iter()
        .find(|q| q.item.pipeline == "design-system-qa")
        .expect("a QA request")
        .item
        .id
        .clone();
    let plain = |html: &str| html.replace(&nonce(html), "N");
    let before = view("/approvals").await;
    assert_eq!(plain(&before), plain(&view("/approvals").await), "kept");
    let response = qa
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
    let after = view("/approvals").await;
    assert_ne!(
        plain(&before),
        plain(&after),
        "the page after the vote is rendered again"
    );
    assert!(
        after.matches(request.as_str()).count() < before.matches(request.as_str()).count(),
        "the request left the queue"
    );

    // A new feed link (a person's own setting, no other topic) is said on
    // the next view of the calendar (the link itself is shown only once,
    // when it is made: only its hash is kept).
    let first = view("/calendar").await;
    assert_eq!(plain(&first), plain(&view("/calendar").await), "kept");
    assert!(
        first.contains("Make a link for calendar apps"),
        "no link yet"
    );
    let response = qa.call("calendar/feed-token", &[]).await;
    assert_eq!(response.status(), 200);
    let made = "Your secret link for calendar apps was made";
    let next = view("/calendar").await;
    assert!(next.contains(made), "the new link shows at once");
    assert!(!next.contains("Make a link for calendar apps"));
    // Another replica hears of it through the notification.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(view("/calendar").await.contains(made));
}

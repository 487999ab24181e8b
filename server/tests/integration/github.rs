//! GitHub: the octocrab adapter against the GitHub simulator and against
//! recorded GitHub responses served over HTTP, and the four-eyes rule it
//! makes possible.

use crate::common;

use app::ssr::ports::{GitHub, GitHubError};
use app::ssr::Mode;
use app::views::approvals::ApprovalsView;
use common::{spawn, TestApp};
use serde_json::json;
use server::adapters::github::{GitHubAdapter, GitHubSettings};
use server::simulators::github::{CommitSpec, GitHubSimulator};
use sqlx::PgPool;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn serve(sim: &GitHubSimulator) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn adapter(url: &str) -> GitHubAdapter {
    GitHubAdapter::new(&GitHubSettings {
        api_url: url.to_owned(),
        token: Some(server::config::Secret::new("ghp_test")),
        app: None,
    })
    .expect("adapter")
}

#[tokio::test]
async fn the_adapter_reads_commit_authors_from_the_simulator_over_http() {
    let sim = GitHubSimulator::new();
    let sha = "3f2a1c9d0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3";
    sim.add_commit(
        "acme-retail/orders-api",
        CommitSpec {
            sha: sha.into(),
            message: "Paginate the order history endpoint".into(),
            author_login: Some("diego.alvarez".into()),
            author_name: "Diego Alvarez".into(),
            author_email: None,
            date: chrono::Utc::now(),
        },
    );
    let github = adapter(&serve(&sim).await);
    let author = github
        .commit_author("acme-retail/orders-api", sha)
        .await
        .expect("answer")
        .expect("known commit");
    assert_eq!(author.login.as_deref(), Some("diego.alvarez"));
    assert_eq!(author.name, "Diego Alvarez");
    // A short sha works as on GitHub; an unknown one is no commit.
    assert!(github
        .commit_author("acme-retail/orders-api", &sha[..7])
        .await
        .expect("ok")
        .is_some());
    assert_eq!(
        github
            .commit_author("acme-retail/orders-api", "0000000")
            .await,
        Ok(None)
    );
    assert_eq!(
        github.commit_author("acme-retail/nothing", sha).await,
        Ok(None)
    );
    sim.rate_limit(true);
    assert!(matches!(
        github.commit_author("acme-retail/orders-api", sha).await,
        Err(GitHubError::RateLimited(_))
    ));
    assert_eq!(sim.calls(), 5);
}

/// A commit as api.github.com returns it (trimmed of fields Gatehouse
/// ignores, shape unchanged).
fn recorded_commit() -> serde_json::Value {
    json!({
      "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
      "node_id": "MDY6Q29tbWl0NmRjYjA5YjViNTc4NzVmMzM0ZjYxYWViZWQ2OTVlMmU0MTkzZGI1ZQ==",
      "html_url": "https://github.com/octocat/Hello-World/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
      "commit": {
        "url": "https://api.github.com/repos/octocat/Hello-World/git/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "author": { "name": "Monalisa Octocat", "email": "support@github.com", "date": "2011-04-14T16:00:49Z" },
        "committer": { "name": "Monalisa Octocat", "email": "support@github.com", "date": "2011-04-14T16:00:49Z" },
        "message": "Fix all the bugs",
        "tree": { "url": "https://api.github.com/repos/octocat/Hello-World/tree/6dcb09b5b57875f334f61aebed695e2e4193db5e", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e" },
        "comment_count": 0,
        "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null }
      },
      "author": { "login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": false },
      "committer": { "login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": false },
      "parents": [ { "url": "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e" } ],
      "stats": { "additions": 104, "deletions": 4, "total": 108 },
      "files": []
    })
}

#[tokio::test]
async fn the_adapter_reads_recorded_github_responses_and_names_a_spent_rate_limit() {
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/Hello-World/commits/6dcb09b"))
        .respond_with(ResponseTemplate::new(200).set_body_json(recorded_commit()))
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/Hello-World/commits/deadbee"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", "1924992000")
                .set_body_json(json!({
                    "message": "API rate limit exceeded for user ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                })),
        )
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/Hello-World/commits/0000000"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "No commit found for SHA: 0000000",
            "documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit",
            "status": "422"
        })))
        .mount(&github)
        .await;
    let adapter = adapter(&github.uri());
    let author = adapter
        .commit_author("octocat/Hello-World", "6dcb09b")
        .await
        .expect("ok")
        .expect("found");
    assert_eq!(author.login.as_deref(), Some("octocat"));
    assert_eq!(author.name, "Monalisa Octocat");
    assert_eq!(
        adapter
            .commit_author("octocat/Hello-World", "0000000")
            .await,
        Ok(None)
    );
    let limited = adapter
        .commit_author("octocat/Hello-World", "deadbee")
        .await
        .expect_err("rate limited");
    assert_eq!(limited, GitHubError::RateLimited("00:00 UTC".into()));
    assert!(limited
        .to_string()
        .contains("rate limit is used up until 00:00 UTC"));
}

async fn queue(pool: PgPool) -> TestApp {
    let app = spawn(pool, Mode::Demo).await;
    app.simulator
        .as_ref()
        .expect("simulator")
        .advance_clock(chrono::Duration::seconds(60));
    app
}

async fn poll(app: &TestApp) {
    let report = server::jobs::poller::poll(&app.state, Duration::ZERO)
        .await
        .expect("poll");
    assert_eq!(report.errors, 0, "{report:?}");
}

async fn sign_in(app: &TestApp, login: &str) {
    assert_eq!(
        app.call("demo/sign-in", &[("login", login)]).await.status(),
        200
    );
}

async fn request(app: &TestApp, pipeline: &str) -> app::views::approvals::QueueItem {
    let view: ApprovalsView = app.call("approvals", &[]).await.json().await.expect("json");
    view.pending
        .into_iter()
        .find(|q| q.item.pipeline == pipeline)
        .expect(pipeline)
}

async fn approve_stage(app: &TestApp, id: &str) -> reqwest::Response {
    app.call(
        "approvals/decide",
        &[
            ("request", id),
            ("decision", "approve"),
            ("passed[]", "integration"),
            ("passed[]", "api"),
            ("passed[]", "ui"),
            ("passed[]", "system"),
        ],
    )
    .await
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_author_of_a_change_cannot_approve_it_but_a_teammate_can(pool: PgPool) {
    let app = queue(pool).await;
    poll(&app).await;
    // Lena wrote the change waiting for Stage in storefront-web.
    sign_in(&app, "lena.fischer").await;
    let q = request(&app, "storefront-web-stage").await;
    assert_eq!(q.item.author_login.as_deref(), Some("lena.fischer"));
    assert_eq!(q.item.author_name.as_deref(), Some("Lena Fischer"));
    let sentence = format!(
        "You authored commit {}; another approver is needed.",
        &q.item.commit[..7]
    );
    assert_eq!(q.blocked.as_deref(), Some(sentence.as_str()));
    let refused = approve_stage(&app, &q.item.id).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.expect("body").contains(&sentence));
    let (_, html) = app.page("/approvals").await;
    assert!(
        html.contains("by Lena Fischer (@lena.fischer)"),
        "the queue names the author"
    );

    // Rhea wrote checkout-ui's change: Lena may approve that one.
    let other = request(&app, "checkout-ui-stage").await;
    assert_eq!(other.item.author_login.as_deref(), Some("rhea.patel"));
    assert_eq!(other.blocked, None);
    assert_eq!(approve_stage(&app, &other.item.id).await.status(), 200);
    // And an SRE may approve Lena's.
    sign_in(&app, "sam.okafor").await;
    assert_eq!(approve_stage(&app, &q.item.id).await.status(), 200);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn when_github_cannot_say_who_wrote_a_change_no_vote_counts_until_it_can(pool: PgPool) {
    let app = queue(pool.clone()).await;
    let github = app.github.as_ref().expect("github simulator");
    github.rate_limit(true);
    poll(&app).await;
    sign_in(&app, "sam.okafor").await;
    let q = request(&app, "storefront-web-stage").await;
    assert!(!q.item.author_checked);
    let refused = approve_stage(&app, &q.item.id).await;
    assert_eq!(refused.status(), 503);
    let body = refused.text().await.expect("body");
    assert!(body.contains("cannot check who wrote commit"), "{body}");
    assert!(body.contains("rate limit"), "{body}");
    let votes: i64 = sqlx::query_scalar("SELECT count(*) FROM approval_votes")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(votes, 0);

    github.rate_limit(false);
    assert_eq!(approve_stage(&app, &q.item.id).await.status(), 200);
    let author: Option<String> = sqlx::query_scalar(
        "SELECT author_login FROM approval_requests WHERE pipeline = 'storefront-web-stage'",
    )
    .fetch_one(&pool)
    .await
    .expect("row");
    assert_eq!(author.as_deref(), Some("lena.fischer"));
}

fn commit(sha: &str, message: &str, login: &str) -> CommitSpec {
    CommitSpec {
        sha: sha.into(),
        message: message.into(),
        author_login: Some(login.into()),
        author_name: login.into(),
        author_email: None,
        date: chrono::Utc::now(),
    }
}

#[tokio::test]
async fn branches_compare_and_issues_work_against_the_simulator_over_http() {
    let sim = GitHubSimulator::new();
    let repo = "acme-retail/orders-api";
    let shas: Vec<String> = (1..=5).map(|i| format!("{i}{}", "a".repeat(39))).collect();
    for (i, sha) in shas.iter().enumerate() {
        sim.add_commit(
            repo,
            commit(
                sha,
                &format!("Change {}\n\nDetails", i + 1),
                "diego.alvarez",
            ),
        );
    }
    sim.set_branch(repo, "master", shas[..2].to_vec());
    sim.set_branch(repo, "develop", shas.clone());
    let github = adapter(&serve(&sim).await);

    let mut branches = github.branches(repo).await.expect("branches");
    branches.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(branches.len(), 2);
    assert_eq!(
        (branches[0].name.as_str(), branches[0].sha.as_str()),
        ("develop", shas[4].as_str())
    );

    let cmp = github
        .compare(repo, "master", "develop")
        .await
        .expect("ok")
        .expect("known");
    assert_eq!((cmp.ahead_by, cmp.behind_by), (3, 0));
    let titles: Vec<&str> = cmp.commits.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Change 3", "Change 4", "Change 5"]);
    assert_eq!(
        cmp.commits[0].author_login.as_deref(),
        Some("diego.alvarez")
    );
    let back = github
        .compare(repo, "develop", &shas[1][..7])
        .await
        .expect("ok")
        .expect("known");
    assert_eq!((back.ahead_by, back.behind_by), (0, 3));
    assert_eq!(github.compare(repo, "master", "nope").await, Ok(None));

    let issue = github
        .open_issue(
            repo,
            "Prod is down: Orders API",
            "Since 10:02 UTC",
            &["Critical"],
        )
        .await
        .expect("open");
    assert_eq!(issue.number, 1);
    assert!(issue.url.ends_with("/acme-retail/orders-api/issues/1"));
    github
        .comment_issue(repo, 1, "Back up at 10:09 UTC")
        .await
        .expect("comment");
    github.close_issue(repo, 1).await.expect("close");
    let issues = sim.issues(repo);
    assert_eq!(issues[0].labels, ["Critical"]);
    assert_eq!(issues[0].comments, ["Back up at 10:09 UTC"]);
    assert!(!issues[0].open);
    assert!(matches!(
        github.close_issue(repo, 9).await,
        Err(GitHubError::Unavailable(_))
    ));

    sim.rate_limit(true);
    assert!(matches!(
        github.branches(repo).await,
        Err(GitHubError::RateLimited(_))
    ));
    assert!(matches!(
        github.open_issue(repo, "x", "y", &[]).await,
        Err(GitHubError::RateLimited(_))
    ));
}

#[tokio::test]
async fn branches_compare_and_issues_read_recorded_github_responses() {
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/Hello-World/branches"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "name": "master", "commit": { "sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc", "url": "https://api.github.com/repos/octocat/Hello-World/commits/c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc" }, "protected": true },
            { "name": "release/2027.01", "commit": { "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "url": "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e" }, "protected": false }
        ])))
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/Hello-World/compare/master...topic"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "url": "https://api.github.com/repos/octocat/Hello-World/compare/master...topic",
            "status": "diverged", "ahead_by": 1, "behind_by": 2, "total_commits": 1,
            "base_commit": recorded_commit(), "merge_base_commit": recorded_commit(),
            "commits": [recorded_commit()], "files": []
        })))
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/octocat/Hello-World/issues"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 1, "node_id": "MDU6SXNzdWUx", "number": 1347, "state": "open",
            "title": "Found a bug", "body": "I'm having a problem with this.",
            "html_url": "https://github.com/octocat/Hello-World/issues/1347",
            "url": "https://api.github.com/repos/octocat/Hello-World/issues/1347",
            "labels": [{ "id": 208045946, "name": "Critical", "color": "f29513", "default": false }],
            "user": { "login": "octocat", "id": 1 }, "comments": 0, "locked": false
        })))
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/octocat/Hello-World/issues/1347/comments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 1, "body": "Me too", "html_url": "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1"
        })))
        .mount(&github)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/octocat/Hello-World/issues/1347"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "number": 1347, "state": "closed", "html_url": "https://github.com/octocat/Hello-World/issues/1347"
        })))
        .mount(&github)
        .await;
    let adapter = adapter(&github.uri());
    let branches = adapter
        .branches("octocat/Hello-World")
        .await
        .expect("branches");
    assert_eq!(branches.len(), 2);
    assert_eq!(branches[1].name, "release/2027.01");
    let cmp = adapter
        .compare("octocat/Hello-World", "master", "topic")
        .await
        .expect("ok")
        .expect("found");
    assert_eq!((cmp.ahead_by, cmp.behind_by), (1, 2));
    assert_eq!(cmp.commits[0].title, "Fix all the bugs");
    assert_eq!(cmp.commits[0].author_login.as_deref(), Some("octocat"));
    let issue = adapter
        .open_issue(
            "octocat/Hello-World",
            "Found a bug",
            "I'm having a problem with this.",
            &["Critical"],
        )
        .await
        .expect("open");
    assert_eq!(issue.number, 1347);
    adapter
        .comment_issue("octocat/Hello-World", 1347, "Me too")
        .await
        .expect("comment");
    adapter
        .close_issue("octocat/Hello-World", 1347)
        .await
        .expect("close");
}

async fn release_demo(app: &TestApp) -> app::views::release_demo::ReleaseDemoView {
    app.call("release-demo", &[])
        .await
        .json()
        .await
        .expect("json")
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_release_demo_view_lists_what_release_runs_that_prod_does_not(pool: PgPool) {
    let app = spawn(pool, Mode::Demo).await;
    let view = release_demo(&app).await;
    let first = &view.teams[0].services[0];
    assert!(
        first
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("has not seen a Release deployment")),
        "before the first pass: {first:?}"
    );

    app.refresh_board().await;
    let view = release_demo(&app).await;
    assert_eq!(
        (view.release.as_str(), view.prod.as_str()),
        ("Release", "Prod")
    );
    let teams: Vec<&str> = view.teams.iter().map(|t| t.team.as_str()).collect();
    assert_eq!(teams, ["FrontEnd", "BackEnd", "Mobile"]);
    assert_eq!(view.unknown, 10, "not probed yet");
    for service in view.teams.iter().flat_map(|t| t.services.iter()) {
        assert_eq!(service.problem, None, "{}", service.name);
        assert!(
            service.prod_revision.as_deref().is_some_and(
                |r| r.ends_with(&format!("({})", common::demo_releases().released_tag()))
            )
        );
        // Release runs the release branch's head; Prod the last release.
        let expected = if service.name == "Checkout UI" { 3 } else { 4 };
        assert_eq!(service.commits.len(), expected, "{}", service.name);
        assert!(service
            .commits
            .iter()
            .all(|c| c.sha.len() == 7 && c.author.is_some()));
    }
    let checkout = &view.teams[0].services[1];
    assert_eq!(
        checkout.commits.last().map(|c| c.pull_request),
        Some(Some(412)),
        "the hotfix's PR"
    );
    let (status, html) = app.page("/release-demo").await;
    assert_eq!(status, 200);
    assert!(html.contains("In Release, not yet in Prod"), "{html}");
    assert!(
        html.contains("(39 commits) deployed in Release that Prod does not run yet"),
        "{html}"
    );
    assert!(
        !html.contains(r#"http-equiv="refresh""#),
        "never reloads itself unasked (WCAG 2.2.1)"
    );
    assert!(
        html.contains(r#"href="/release-demo""#),
        "a Refresh link instead"
    );
    let (_, kiosk) = app.page("/release-demo?refresh=120").await;
    assert!(
        kiosk.contains(r#"http-equiv="refresh" content="120""#),
        "a projector's URL opts in"
    );

    // Release's health, once probed.
    let mut health = app.health.clone().expect("health");
    health.environments = vec!["release".into()];
    app.services
        .as_ref()
        .expect("services")
        .set_up("inventory-service", "release", false);
    for _ in 0..2 {
        server::jobs::health::probe_once(&app.state, &app.pool, &health, &reqwest::Client::new())
            .await
            .expect("probe");
    }
    let view = release_demo(&app).await;
    assert_eq!((view.up, view.down, view.unknown), (9, 1, 0));

    // GitHub unavailable: each service says so, the page still renders.
    app.github.as_ref().expect("github").rate_limit(true);
    let view = release_demo(&app).await;
    let first = &view.teams[0].services[0];
    assert!(
        first
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("rate limit")),
        "{first:?}"
    );
}

#[tokio::test]
async fn tags_runs_and_reopening_work_against_the_simulator_and_lists_are_asked_conditionally() {
    let sim = GitHubSimulator::new();
    let repo = "acme-retail/orders-api";
    sim.add_commit(
        repo,
        commit(
            "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "Base",
            "sam.okafor",
        ),
    );
    sim.add_commit(
        repo,
        commit(
            "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "Next (#7)",
            "lena.fischer",
        ),
    );
    sim.set_branch(
        repo,
        "develop",
        vec![
            "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
            "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into(),
        ],
    );
    sim.set_tag(repo, "v1.0.0", "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    let github = adapter(&serve(&sim).await);
    let tags = github.tags(repo).await.expect("tags");
    assert_eq!(tags.len(), 1);
    assert_eq!(
        (tags[0].name.as_str(), tags[0].sha.as_str()),
        ("v1.0.0", "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    );
    // A tag compares like a branch.
    let cmp = github
        .compare(repo, "v1.0.0", "develop")
        .await
        .expect("ok")
        .expect("known");
    assert_eq!(cmp.ahead_by, 1);

    let runs = github.workflow_runs(repo, "develop").await.expect("runs");
    assert_eq!(runs[0].head_sha, "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    assert!(runs[0].url.contains("/actions/runs/"));

    // Unchanged lists come back 304 and are served from the ETag cache.
    assert_eq!(sim.not_modified(), 0);
    let again = github.tags(repo).await.expect("tags");
    assert_eq!(again, tags);
    github.branches(repo).await.expect("branches");
    github.branches(repo).await.expect("branches");
    assert_eq!(sim.not_modified(), 2);
    sim.set_tag(repo, "v1.1.0", "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    assert_eq!(
        github.tags(repo).await.expect("tags").len(),
        2,
        "a changed list is read anew"
    );

    let issue = github
        .open_issue(repo, "Down", "body", &["Critical"])
        .await
        .expect("open");
    github.close_issue(repo, issue.number).await.expect("close");
    assert!(!sim.issues(repo)[0].open);
    github
        .reopen_issue(repo, issue.number)
        .await
        .expect("reopen");
    assert!(sim.issues(repo)[0].open);

    sim.rate_limit(true);
    assert!(matches!(
        github.tags(repo).await,
        Err(GitHubError::RateLimited(_))
    ));
}

#[tokio::test]
async fn tags_and_runs_read_recorded_github_responses_and_name_a_spent_rate_limit() {
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/Hello-World/tags"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "W/\"5ee5c9\"")
                .set_body_json(json!([{
                    "name": "v0.1", "commit": { "sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc", "url": "https://api.github.com/repos/octocat/Hello-World/commits/c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc" },
                    "zipball_url": "https://github.com/octocat/Hello-World/zipball/v0.1",
                    "tarball_url": "https://github.com/octocat/Hello-World/tarball/v0.1",
                    "node_id": "MDQ6VXNlcjE="
                }])),
        )
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/Hello-World/actions/runs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_count": 1,
            "workflow_runs": [{
                "id": 30433642, "name": "Build", "node_id": "MDEyOldvcmtmbG93IFJ1bjI2OTI4OQ==",
                "head_branch": "develop", "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
                "run_number": 562, "event": "push", "status": "completed", "conclusion": "failure",
                "workflow_id": 159038, "html_url": "https://github.com/octo-org/octo-repo/actions/runs/30433642",
                "created_at": "2020-01-22T19:33:08Z", "updated_at": "2020-01-22T19:33:08Z"
            }]
        })))
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/Spent/tags"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", "1893456000")
                .set_body_json(json!({ "message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting" })),
        )
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octocat/Hello-World/issues"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "number": 1348, "title": "Orders API is down in QA", "state": "open",
              "html_url": "https://github.com/octocat/Hello-World/pull/1348",
              "pull_request": { "url": "https://api.github.com/repos/octocat/Hello-World/pulls/1348" } },
            { "number": 1347, "title": "Orders API is down in QA", "state": "open",
              "html_url": "https://github.com/octocat/Hello-World/issues/1347",
              "labels": [{ "name": "Critical" }] }
        ])))
        .mount(&github)
        .await;
    let adapter = adapter(&github.uri());
    let found = adapter
        .find_open_issue(
            "octocat/Hello-World",
            "Orders API is down in QA",
            "Critical",
        )
        .await
        .expect("list")
        .expect("found");
    assert_eq!(
        found.number, 1347,
        "a pull request with the title is not the issue"
    );
    let tags = adapter.tags("octocat/Hello-World").await.expect("tags");
    assert_eq!(tags[0].name, "v0.1");
    let runs = adapter
        .workflow_runs("octocat/Hello-World", "develop")
        .await
        .expect("runs");
    assert_eq!(runs[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(runs[0].name, "Build");
    // The second read sends the ETag GitHub gave.
    adapter.tags("octocat/Hello-World").await.expect("tags");
    let requests = github.received_requests().await.expect("recorded");
    let conditional = requests
        .iter()
        .filter(|r| r.url.path() == "/repos/octocat/Hello-World/tags")
        .filter(|r| {
            r.headers
                .get("if-none-match")
                .is_some_and(|v| v == "W/\"5ee5c9\"")
        })
        .count();
    assert_eq!(conditional, 1);
    assert!(matches!(
        adapter.tags("octocat/Spent").await,
        Err(GitHubError::RateLimited(at)) if at.contains("UTC")
    ));
}

#[tokio::test]
async fn as_a_github_app_the_adapter_trades_a_signed_jwt_for_an_installation_token() {
    let sim = GitHubSimulator::new();
    let repo = "acme-retail/orders-api";
    sim.add_commit(
        repo,
        commit(
            "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "Base",
            "sam.okafor",
        ),
    );
    sim.set_branch(
        repo,
        "develop",
        vec!["1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into()],
    );
    let key = include_str!("../fixtures/github-app-test-key.pem");
    let github = GitHubAdapter::new(&GitHubSettings {
        api_url: serve(&sim).await,
        token: None,
        app: Some(server::config::GitHubApp {
            app_id: 123_456,
            private_key_pem: server::config::Secret::new(key),
            installation_id: 42,
        }),
    })
    .expect("adapter");
    let branches = github.branches(repo).await.expect("branches");
    assert_eq!(branches[0].name, "develop");
    let tokens = sim.installation_tokens();
    assert_eq!(tokens, ["ghs_sim42x1"], "one token for installation 42");
    assert_eq!(
        sim.last_authorization().as_deref(),
        Some("Bearer ghs_sim42x1"),
        "API calls carry the installation token"
    );
    // The token is reused until it nears expiry.
    github.tags(repo).await.expect("tags");
    assert_eq!(sim.installation_tokens().len(), 1);

    // A key that is not a key is refused when the adapter is built.
    let bad = GitHubAdapter::new(&GitHubSettings {
        api_url: "http://127.0.0.1:9".into(),
        token: None,
        app: Some(server::config::GitHubApp {
            app_id: 1,
            private_key_pem: server::config::Secret::new("not a key"),
            installation_id: 1,
        }),
    });
    assert!(bad.is_err());
}

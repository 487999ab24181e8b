//! In demo mode the links Gatehouse gives to GitHub (repositories, commits,
//! pull requests, Actions runs) open the simulated GitHub's own pages.

mod common;

use sqlx::PgPool;

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn demo_links_to_github_open_pages_that_exist(pool: PgPool) {
    let app = common::demo_queue(pool).await;
    let report = app.refresh_board().await;
    assert_eq!(report.errors, 0, "{report:?}");
    let get = |url: String| {
        let client = app.client.clone();
        async move {
            let response = client.get(&url).send().await.expect("GET");
            let status = response.status();
            (status, response.text().await.expect("body"))
        }
    };
    let (status, board) = get(format!("{}/board", app.base)).await;
    assert_eq!(status, 200);
    assert!(
        !board.contains("https://github.com/"),
        "a demo link leads to github.com"
    );
    let links: Vec<String> = board
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with("/demo/github/"))
        .map(|href| href.replace("&amp;", "&"))
        .collect();
    for kind in ["/commit/", "/actions/runs/", "/pull/"] {
        assert!(
            links.iter().any(|l| l.contains(kind)),
            "the board links a {kind} page: {links:?}"
        );
    }
    let mut opened = 0;
    for link in links.iter().take(60) {
        let (status, page) = get(format!("{}{link}", app.base)).await;
        assert_eq!(status, 200, "{link}: {page}");
        assert!(page.contains("Simulated GitHub"), "{link}");
        opened += 1;
    }
    assert!(opened > 10, "{opened} links opened");

    let (status, page) = get(format!(
        "{}/demo/github/acme-retail/orders-api/commit/0000000deadbeef",
        app.base
    ))
    .await;
    assert_eq!(status, 404);
    assert!(page.contains("The simulator has no commit"), "{page}");
    // What the address holds is shown escaped.
    let (status, page) = get(format!(
        "{}/demo/github/acme-retail/%3Cb%3Ex/commit/abc1234",
        app.base
    ))
    .await;
    assert_eq!(status, 404);
    assert!(
        page.contains("&lt;b&gt;x") && !page.contains("<b>x"),
        "{page}"
    );
}

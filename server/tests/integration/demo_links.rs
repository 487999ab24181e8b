//! In demo mode the links Gatehouse gives to GitHub (repositories, commits,
//! pull requests, Actions runs) open the simulated GitHub's own pages.

use crate::common;

use sqlx::PgPool;

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
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
    let hrefs = |page: &str, prefix: &str| -> Vec<String> {
        page.split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|href| href.starts_with(prefix))
            .map(|href| href.replace("&amp;", "&"))
            .collect()
    };
    let mut links = hrefs(&board, "/demo/github/");
    // The board's run links open each cell's own page in Gatehouse, which
    // links on to the rest (Actions runs, every missing commit).
    let cells = hrefs(&board, "/board/");
    assert!(
        cells.len() > 10,
        "the board links its cells' pages: {cells:?}"
    );
    for cell in cells.iter().take(20) {
        let (status, page) = get(format!("{}{cell}", app.base)).await;
        assert_eq!(status, 200, "{cell}: {page}");
        assert!(page.contains("id=\"run-heading\""), "{cell} shows its run");
        assert!(
            !page.contains("https://github.com/") && !page.contains("console.aws.amazon.com"),
            "{cell} links outside the demo"
        );
        links.extend(hrefs(&page, "/demo/github/"));
    }
    links.sort();
    links.dedup();
    for kind in ["/commit/", "/actions/runs/", "/pull/"] {
        assert!(
            links.iter().any(|l| l.contains(kind)),
            "the board links a {kind} page: {links:?}"
        );
    }
    let mut opened = 0;
    for link in links.iter().take(80) {
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
    // A cell Gatehouse does not know is a 404 in words.
    let (status, page) = get(format!("{}/board/orders-api/nowhere", app.base)).await;
    assert_eq!(status, 404);
    assert!(
        page.contains("knows no such service and environment"),
        "{page}"
    );
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

//! The browser bundle: pages link its files under content-hashed names,
//! which browsers may keep for good; plain names revalidate; pages carry
//! islands and no hydration data.

use crate::common;

use app::ssr::Mode;
use sqlx::PgPool;

/// A site root with a bundle of three small files.
fn site_with_bundle() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gatehouse-site-{}", uuid::Uuid::new_v4()));
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    std::fs::write(
        pkg.join("gatehouse.js"),
        "export default async function init() {}\n",
    )
    .expect("js");
    std::fs::write(pkg.join("gatehouse.wasm"), b"\0asm\x01\0\0\0").expect("wasm");
    std::fs::write(pkg.join("gatehouse.css"), "body { margin: 0 }\n").expect("css");
    dir
}

/// Every `/pkg/…` URL in `html`.
fn bundle_urls(html: &str) -> Vec<String> {
    html.match_indices("/pkg/")
        .map(|(i, _)| {
            html[i..]
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '`' | ')'))
                .collect()
        })
        .collect()
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn pages_link_hashed_bundle_files_that_browsers_may_keep_for_good(pool: PgPool) {
    let mut config = common::config(Mode::Demo, common::shipped_org_config());
    let site = site_with_bundle();
    config.site_root = site.clone();
    let app = common::spawn_with(pool, config).await;

    let page = app
        .client
        .get(format!("{}/environments", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let html = page.text().await.expect("html");
    assert!(
        html.contains("<leptos-island"),
        "the page carries its islands"
    );
    // Leptos declares its hydration arrays; a server-only page fills none.
    assert_eq!(
        html.matches("__RESOLVED_RESOURCES").count(),
        1,
        "no resource data"
    );
    assert!(
        html.contains("__RESOLVED_RESOURCES=[];"),
        "no resource data"
    );
    assert_eq!(
        html.matches("__SERIALIZED_ERRORS").count(),
        1,
        "no error data"
    );

    let urls = bundle_urls(&html);
    for ext in ["js", "wasm", "css"] {
        let url = urls
            .iter()
            .find(|u| u.ends_with(&format!(".{ext}")))
            .unwrap_or_else(|| panic!("the page links a .{ext} file: {urls:?}"));
        let hash = url
            .trim_start_matches("/pkg/gatehouse.")
            .trim_end_matches(&format!(".{ext}"));
        assert_eq!(hash.len(), 20, "{url} names its content hash");
        let file = app
            .client
            .get(format!("{}{url}", app.base))
            .send()
            .await
            .expect("file");
        assert_eq!(file.status(), 200, "{url}");
        assert_eq!(
            file.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let on_disk =
            std::fs::read(site.join("pkg").join(format!("gatehouse.{ext}"))).expect("file");
        let body = file.bytes().await.expect("body");
        assert_eq!(body.as_ref(), on_disk.as_slice(), "{url} is the file");
    }

    // The plain names revalidate.
    let plain = app
        .client
        .get(format!("{}/pkg/gatehouse.js", app.base))
        .send()
        .await
        .expect("plain");
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["cache-control"], "no-cache");
    let etag = plain.headers()["etag"].clone();
    let again = app
        .client
        .get(format!("{}/pkg/gatehouse.js", app.base))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("conditional");
    assert_eq!(again.status(), 304);

    // A name that is not in the bundle is a plain 404, not a page.
    let missing = app
        .client
        .get(format!("{}/pkg/gatehouse.0000.js", app.base))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status(), 404);
    assert!(!missing.text().await.expect("text").contains("<html"));
}

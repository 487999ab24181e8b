//! Whole pages kept per process: a page view that nothing it shows has
//! changed since (no change notification on any topic, from any replica,
//! and the same minute for its "3 min ago"s) is answered with the bytes
//! rendered for the same viewer and address before, with a fresh
//! Content-Security-Policy nonce.
//!
//! What a page may show decides its key: the address (path and query) and
//! the viewer, as read from the session on every request (the user with
//! their roles, or nobody). A page is not kept when it carries a message
//! for one view (a form's outcome), shows a failure that may pass (see
//! [`app::ssr::PASSING_FAILURE_HEADER`]), answers other than 200, or sets
//! a cookie; nothing is kept or served while the change listener is not
//! connected.

use app::ssr::changes::Topic;
use app::ssr::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex, OnceLock};

/// Pages kept, by viewer and address.
#[derive(Default)]
pub struct Pages {
    held: Mutex<Vec<Kept>>,
}

struct Kept {
    viewer: String,
    target: String,
    stamp: u64,
    minute: i64,
    headers: HeaderMap,
    /// The page split where its nonce stood.
    parts: Vec<Bytes>,
}

impl Kept {
    fn size(&self) -> usize {
        self.parts.iter().map(Bytes::len).sum::<usize>() + self.viewer.len() + self.target.len()
    }
}

/// Bytes kept in all: about a hundred board pages.
const KEEP_BYTES: usize = 16 * 1024 * 1024;
/// A page larger than this is sent, not kept.
const PAGE_BYTES: usize = 1024 * 1024;
/// Addresses longer than this (a pasted search) are rendered, not kept.
const TARGET_LIMIT: usize = 200;
/// A page read whole to keep it; larger answers pass through untouched.
const READ_LIMIT: usize = 16 * 1024 * 1024;

/// The pages that may be kept: read-only views whose content comes from
/// the per-process caches and the clock.
fn keepable(path: &str) -> bool {
    match path {
        "/board" | "/environments" | "/calendar" | "/approvals" | "/release-demo" => true,
        _ => path
            .strip_prefix("/board/")
            .is_some_and(|rest| rest.split('/').count() == 2 && !rest.ends_with('/')),
    }
}

impl Pages {
    fn get(
        &self,
        viewer: &str,
        target: &str,
        stamp: u64,
        minute: i64,
    ) -> Option<(HeaderMap, Vec<Bytes>)> {
        let held = self.held.lock().ok()?;
        held.iter()
            .find(|k| {
                k.stamp == stamp && k.minute == minute && k.viewer == viewer && k.target == target
            })
            .map(|k| (k.headers.clone(), k.parts.clone()))
    }

    fn put(&self, kept: Kept) {
        let Ok(mut held) = self.held.lock() else {
            return;
        };
        // Anything kept under an older stamp or minute is never served again.
        held.retain(|k| {
            k.stamp == kept.stamp
                && k.minute == kept.minute
                && !(k.viewer == kept.viewer && k.target == kept.target)
        });
        let mut total: usize = held.iter().map(Kept::size).sum::<usize>() + kept.size();
        while total > KEEP_BYTES && !held.is_empty() {
            total -= held.remove(0).size();
        }
        held.push(kept);
    }

    /// How many pages are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.held.lock().map(|h| h.len()).unwrap_or(0)
    }
}

/// How many kept pages one process renders at once (one per core, at
/// least two). A burst of changes makes every open page refetch itself; the
/// renders queue here, not on the runtime's threads, so a vote or any other
/// server function arriving meanwhile is not queued behind hundreds of
/// renders.
fn renders() -> &'static tokio::sync::Semaphore {
    static RENDERS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    RENDERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        tokio::sync::Semaphore::new(cores.max(2))
    })
}

/// State of the [`serve`] middleware.
#[derive(Clone)]
pub struct Keeper {
    pub app: AppState,
    pub pages: Arc<Pages>,
}

/// Who the page is rendered for, as the page itself will read it; `None`
/// when this view must be rendered (a message waits for it, or the session
/// cannot be read: the page says why).
async fn viewer(app: &AppState, session: &tower_sessions::Session) -> Option<String> {
    if app::ssr::session::has_notice(session).await.ok()? {
        return None;
    }
    let user = app::ssr::session::user_of(app, session).await.ok()?;
    match user {
        Some(user) => serde_json::to_string(&user).ok(),
        None => Some(String::new()),
    }
}

/// Serves a kept page when nothing it shows has changed; otherwise renders
/// it and keeps it for the next view.
pub async fn serve(
    State(keeper): State<Keeper>,
    session: tower_sessions::Session,
    request: Request,
    next: Next,
) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    if request.method() != Method::GET
        || !keepable(request.uri().path())
        || target.len() > TARGET_LIMIT
    {
        return without_marker(next.run(request).await);
    }
    // Taken before anything is read: a change during the render is not
    // hidden behind what it rendered.
    let Some(stamp) = keeper.app.changes.stamp(&Topic::KEPT_PAGES) else {
        let _render = renders().acquire().await;
        return without_marker(next.run(request).await);
    };
    let minute = app::ssr::changes::this_minute();
    let Some(viewer) = viewer(&keeper.app, &session).await else {
        let _render = renders().acquire().await;
        return without_marker(next.run(request).await);
    };
    if let Some((headers, parts)) = keeper.pages.get(&viewer, &target, stamp, minute) {
        let nonce = leptos::nonce::Nonce::new().to_string();
        let mut body = Vec::with_capacity(parts.iter().map(Bytes::len).sum::<usize>() + 64);
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(nonce.as_bytes());
            }
            body.extend_from_slice(part);
        }
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = headers;
        return response;
    }
    // Held until the page is read whole below.
    let _render = renders().acquire().await;
    let response = next.run(request).await;
    let passing = response
        .headers()
        .contains_key(app::ssr::PASSING_FAILURE_HEADER);
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if passing
        || !html
        || response.status() != StatusCode::OK
        || response.headers().contains_key(header::SET_COOKIE)
        || response.headers().contains_key(header::CONTENT_ENCODING)
    {
        return without_marker(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, READ_LIMIT).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read a page to keep it");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be sent.",
            )
                .into_response();
        }
    };
    if bytes.len() <= PAGE_BYTES {
        if let Some(split) = split_at_nonce(&bytes) {
            let mut headers = parts.headers.clone();
            headers.remove(header::CONTENT_LENGTH);
            headers.remove(header::DATE);
            keeper.pages.put(Kept {
                viewer,
                target,
                stamp,
                minute,
                headers,
                parts: split,
            });
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn without_marker(mut response: Response) -> Response {
    response
        .headers_mut()
        .remove(HeaderName::from_static(app::ssr::PASSING_FAILURE_HEADER));
    response
}

/// The page cut at every occurrence of its nonce; `None` for a page that
/// carries none (every page has hydration scripts, so it is not kept).
fn split_at_nonce(page: &Bytes) -> Option<Vec<Bytes>> {
    let nonce = crate::http::auth::guard::nonce_in(page)?;
    let nonce = nonce.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at + nonce.len() <= page.len() {
        if &page[at..at + nonce.len()] == nonce {
            parts.push(page.slice(start..at));
            at += nonce.len();
            start = at;
        } else {
            at += 1;
        }
    }
    parts.push(page.slice(start..));
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_pages_are_kept() {
        for path in [
            "/board",
            "/approvals",
            "/calendar",
            "/environments",
            "/release-demo",
            "/board/orders-api/qa",
        ] {
            assert!(keepable(path), "{path}");
        }
        for path in [
            "/",
            "/sign-in",
            "/demo/sign-in",
            "/api/board",
            "/events",
            "/board/a",
            "/board/a/b/c",
            "/board/a/",
            "/audit",
            "/calendar.ics",
        ] {
            assert!(!keepable(path), "{path}");
        }
    }

    #[test]
    fn a_page_is_cut_at_each_of_its_nonces() {
        let page = Bytes::from_static(
            br#"<script nonce="abc123">x</script><p>abc</p><script nonce="abc123">y</script>"#,
        );
        let parts = split_at_nonce(&page).expect("nonce");
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts.join(&b"N"[..]),
            br#"<script nonce="N">x</script><p>abc</p><script nonce="N">y</script>"#
        );
        assert!(split_at_nonce(&Bytes::from_static(b"<p>none</p>")).is_none());
    }

    fn kept(viewer: &str, target: &str, stamp: u64, minute: i64, size: usize) -> Kept {
        Kept {
            viewer: viewer.into(),
            target: target.into(),
            stamp,
            minute,
            headers: HeaderMap::new(),
            parts: vec![Bytes::from(vec![b'x'; size])],
        }
    }

    #[test]
    fn a_kept_page_is_served_only_to_its_viewer_address_stamp_and_minute() {
        let pages = Pages::default();
        pages.put(kept("ana", "/board", 1, 10, 10));
        assert!(pages.get("ana", "/board", 1, 10).is_some());
        assert!(
            pages.get("ben", "/board", 1, 10).is_none(),
            "another viewer renders"
        );
        assert!(
            pages.get("", "/board", 1, 10).is_none(),
            "nobody is not somebody"
        );
        assert!(pages.get("ana", "/board?team=x", 1, 10).is_none());
        assert!(
            pages.get("ana", "/board", 2, 10).is_none(),
            "a change renders again"
        );
        assert!(
            pages.get("ana", "/board", 1, 11).is_none(),
            "a new minute renders again"
        );
        pages.put(kept("ana", "/board", 2, 10, 10));
        assert_eq!(pages.len(), 1, "what an older stamp kept is dropped");
    }

    #[test]
    fn pages_kept_stay_within_their_bytes() {
        let pages = Pages::default();
        for i in 0..40 {
            pages.put(kept("v", &format!("/board?page={i}"), 1, 1, PAGE_BYTES));
        }
        assert!(pages.len() <= KEEP_BYTES / PAGE_BYTES);
        assert!(
            pages.get("v", "/board?page=39", 1, 1).is_some(),
            "the newest stays"
        );
        assert!(
            pages.get("v", "/board?page=0", 1, 1).is_none(),
            "the oldest goes"
        );
    }
}

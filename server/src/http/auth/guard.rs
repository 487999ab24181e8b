//! What every request and response passes through: writes only from this
//! site's own pages, and security headers.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The host and port a header's URL names (`Origin` or `Referer`).
fn authority_of(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    let uri: Uri = value.parse().ok()?;
    uri.authority().map(|a| a.as_str().to_ascii_lowercase())
}

/// Refuses state-changing requests (anything but GET, HEAD, OPTIONS) whose
/// `Origin`, or failing that `Referer`, is not this site: a page elsewhere
/// cannot make a signed-in browser approve or change anything. Browsers
/// send `Origin` on every cross-site POST, and on same-site form posts too.
pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    // A bearer token is sent by a script, never by a browser on its own
    // (another site's page cannot add the header without the API's
    // consent, which it never gives): the API answers it as the token's
    // person, whatever cookies come along.
    if crate::http::api::is_api(request.uri().path())
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer "))
    {
        return next.run(request).await;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    let from =
        authority_of(headers, header::ORIGIN).or_else(|| authority_of(headers, header::REFERER));
    match (host, from) {
        (Some(host), Some(from)) if host == from => next.run(request).await,
        (_, from) => {
            tracing::warn!(
                method = %request.method(),
                path = %request.uri().path(),
                from = from.as_deref().unwrap_or("(no Origin or Referer)"),
                "cross-site request refused"
            );
            (
                StatusCode::FORBIDDEN,
                "Refused: this request did not come from Gatehouse's own pages (its Origin or Referer names another site, or neither was sent).",
            )
                .into_response()
        }
    }
}

/// Whether the client asked for JSON (a server-function call) rather than
/// a page (a form posted without JavaScript).
pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") && !v.contains("text/html"))
}

/// Answers a request body larger than [`BODY_MAX`] with 413 and a sentence
/// (JSON for server-function clients, text otherwise) before anything reads
/// it; smaller bodies pass on, buffered.
///
/// [`BODY_MAX`]: app::domain::limits::BODY_MAX
pub async fn limit_body(request: Request, next: Next) -> Response {
    use app::domain::limits::{BODY_MAX, COMMENT_MAX, LINKS_MAX};
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let too_large = |headers: &HeaderMap| {
        let text = format!(
            "This request is larger than Gatehouse accepts ({} KB). A comment holds at most {} characters and a sign-off at most {LINKS_MAX} evidence links; nothing was recorded.",
            BODY_MAX / 1024,
            app::domain::limits::thousands(COMMENT_MAX)
        );
        if wants_json(headers) {
            let body =
                serde_json::to_string(&app::error::AppError::Invalid(text.clone())).unwrap_or(text);
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        } else {
            (StatusCode::PAYLOAD_TOO_LARGE, text).into_response()
        }
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_MAX as u64) {
        return too_large(request.headers());
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, BODY_MAX).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => too_large(&parts.headers),
    }
}

/// Paths anyone may reach in real mode: the sign-in page and flow, what
/// that page itself asks for, health endpoints, static files, the calendar
/// feeds (they check their own token), and demo mode's routes (which real
/// mode answers 404).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/sign-in"
            | "/healthz"
            | "/readyz"
            | "/favicon.ico"
            | "/favicon.svg"
            | "/robots.txt"
            | "/api/sign-in/options"
            | "/api/session"
            | "/api/sign-out"
            | "/calendar.ics"
    ) || crate::http::api::is_api(path)
        || path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        || path.starts_with("/demo/")
        || path.starts_with("/api/demo/")
        || (path.starts_with("/calendar/") && path.ends_with(".ics"))
}

/// In real mode every page, server function and stream needs a signed-in
/// user (see [`is_public`] for the exceptions): a page sends the browser to
/// sign in and back, anything else is answered 401 with a sentence. Demo
/// mode is open to visitors, who pick a persona to act.
pub async fn require_sign_in(
    axum::extract::State(state): axum::extract::State<app::ssr::AppState>,
    session: tower_sessions::Session,
    request: Request,
    next: Next,
) -> Response {
    if state.mode != app::ssr::Mode::Real || is_public(request.uri().path()) {
        return next.run(request).await;
    }
    match app::ssr::session::user_of(&state, &session).await {
        Ok(Some(_)) => return next.run(request).await,
        Ok(None) => {}
        Err(err) => {
            let status = StatusCode::from_u16(err.status().as_u16())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, err.to_string()).into_response();
        }
    }
    let path = request.uri().path();
    let page = request.method() == Method::GET && !path.starts_with("/api/") && path != "/events";
    if page {
        let back = request
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let location = format!("/sign-in?return_to={}", app::encode::query_value(&back));
        return (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, location)],
            "Sign in to see this page.",
        )
            .into_response();
    }
    let body = serde_json::to_string(&app::error::AppError::Unauthenticated)
        .unwrap_or_else(|_| "\"Unauthenticated\"".into());
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Server functions answer a request whose fields cannot be read (missing,
/// malformed) with their error body but status 500; that is the caller's
/// mistake, so the status becomes 400 and the sentence stays.
pub async fn bad_input_is_400(request: Request, next: Next) -> Response {
    let is_function = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_function || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on the server.",
        )
            .into_response();
    };
    let unreadable_input = serde_json::from_slice::<app::error::AppError>(&bytes)
        .is_ok_and(|e| matches!(e, app::error::AppError::Invalid(_)));
    if unreadable_input {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Logs every answer other than 200 for the browser bundle (`/pkg/`) with
/// the request headers that decide it: a page whose bundle does not load
/// does not hydrate, and a rare first-load 404 of a file that exists has
/// been seen in browser tests (leptos_axum's file handler renders the app's
/// 404 page for any answer of its file server but 200, a 304 included).
pub async fn log_bundle_misses(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/pkg/") {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let asked = {
        let headers = request.headers();
        let value = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .chars()
                .take(120)
                .collect::<String>()
        };
        format!(
            "range={} if-none-match={} if-modified-since={} accept-encoding={}",
            value(header::RANGE),
            value(header::IF_NONE_MATCH),
            value(header::IF_MODIFIED_SINCE),
            value(header::ACCEPT_ENCODING)
        )
    };
    let response = next.run(request).await;
    if !matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED) {
        tracing::warn!(%path, status = response.status().as_u16(), %asked, "browser bundle not served");
    }
    response
}

/// The policy for responses that are not pages.
pub const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// A page's policy: the app's own scripts, styles and WebAssembly, and its
/// inline hydration scripts by `nonce`; no framing, no plugins, forms only
/// to the app itself.
fn page_policy(nonce: Option<&str>) -> String {
    let inline = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{inline} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The nonce the page's inline scripts carry (Leptos puts the same one on
/// each).
pub(crate) fn nonce_in(html: &[u8]) -> Option<String> {
    const MARK: &[u8] = b" nonce=\"";
    let start = html.windows(MARK.len()).position(|w| w == MARK)? + MARK.len();
    let len = html[start..].iter().position(|&b| b == b'"')?;
    let nonce = std::str::from_utf8(&html[start..start + len]).ok()?;
    nonce
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='))
        .then(|| nonce.to_owned())
}

/// Largest page read to find its nonce.
const PAGE_LIMIT: usize = 16 * 1024 * 1024;

/// Security headers for every response. A page's Content-Security-Policy
/// names the nonce found in the page itself, so the header and the inline
/// scripts always agree.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let mut response = if html && !response.headers().contains_key(header::CONTENT_ENCODING) {
        let (mut parts, body) = response.into_parts();
        match axum::body::to_bytes(body, PAGE_LIMIT).await {
            Ok(bytes) => {
                let policy = page_policy(nonce_in(&bytes).as_deref());
                if let Ok(value) = HeaderValue::from_str(&policy) {
                    parts.headers.insert(header::CONTENT_SECURITY_POLICY, value);
                }
                // Pages are asked for again each time (their bundle files
                // are cached for good under hashed names).
                if !parts.headers.contains_key(header::CACHE_CONTROL) {
                    parts
                        .headers
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                }
                Response::from_parts(parts, axum::body::Body::from(bytes))
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot read a page to set its policy");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The page could not be sent.",
                )
                    .into_response();
            }
        }
    } else {
        response
    };
    let headers = response.headers_mut();
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_names_the_nonce_of_the_page() {
        let html = br#"<html><head><script type="module" nonce="aB3-_x">import('/pkg/gatehouse.js')</script>"#;
        assert_eq!(nonce_in(html).as_deref(), Some("aB3-_x"));
        assert!(page_policy(Some("aB3-_x"))
            .contains("script-src 'self' 'nonce-aB3-_x' 'wasm-unsafe-eval'"));
        assert_eq!(nonce_in(b"<p>no scripts</p>"), None);
        assert_eq!(
            nonce_in(br#"<script nonce="x' 'unsafe-inline">"#),
            None,
            "a nonce cannot widen the policy"
        );
        assert!(!page_policy(None).contains("nonce"));
    }
}

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

/// The policy for responses that are not pages (pages set their own, with
/// the nonce of their inline scripts).
pub const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Security headers for every response, unless the response set its own.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
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

//! Structured logs with `tracing`, a request id on every request, and an
//! optional OTLP export of the spans.

use crate::config::LogFormat;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The header a request id travels in, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Keeps the span export running; dropping it sends what is left. Drop it
/// outside the async runtime (the exporter's client blocks).
#[must_use]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(err) = provider.shutdown() {
                eprintln!("gatehouse: the last spans were not sent: {err}");
            }
        }
    }
}

/// The log levels without `RUST_LOG`. The AWS credential chain (a warning
/// from every source that has none, on every call) and octocrab (an error
/// line for every failed call) are left to Gatehouse, which reports a
/// missing or failing AWS or GitHub once per change of state, naming the
/// setting to fix (see [`crate::adapters::integrations`]).
pub const DEFAULT_LOG_FILTER: &str =
    "info,sqlx=warn,tower_sessions=warn,tower_http=info,aws_config=error,octocrab=off";

/// Installs the global subscriber: log lines in `format` (`RUST_LOG`
/// overrides the default levels) and, with `otlp_endpoint`, the spans sent
/// to `<otlp_endpoint>/v1/traces` as OTLP/HTTP JSON in batches. Call it
/// before the async runtime starts.
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> anyhow::Result<Telemetry> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let provider = match otlp_endpoint {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpJson)
                .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
                .with_timeout(Duration::from_secs(5))
                .build()?;
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(
                        opentelemetry_sdk::Resource::builder()
                            .with_service_name("gatehouse")
                            .build(),
                    )
                    .build(),
            )
        }
        None => None,
    };
    let lines = match format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_target(true).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_target(true)
            .boxed(),
    };
    let spans = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("gatehouse")));
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(spans)
        .with(lines)
        .with(filter)
        .try_init();
    Ok(Telemetry { provider })
}

/// The id a request is known by in the logs: the caller's `x-request-id`
/// when it is a short token (1 to 64 letters, digits, `-`, `_`, `.`), so a
/// proxy's id carries through; otherwise a new UUID.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

impl RequestId {
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Gives every request an id (see [`RequestId`]), sets it on the request
/// for the layers inside and on the response for the caller.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| acceptable(v))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or(HeaderValue::from_static("unknown"))
        });
    request.headers_mut().insert(REQUEST_ID, id.clone());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// How much of a request's path its log lines keep, in characters.
const PATH_LOGGED: usize = 200;

/// The span a request's logs are written in: its id, method and path.
pub fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .map(RequestId::as_str)
        .unwrap_or_default();
    // A client chooses the method and the path: the log keeps a method
    // from HTTP's own (else `other`) and at most 200 characters of path.
    let path = request.uri().path();
    let path = match path.char_indices().nth(PATH_LOGGED) {
        Some((cut, _)) => &path[..cut],
        None => path,
    };
    tracing::info_span!(
        "request",
        request_id = %id,
        method = crate::metrics::method_label(request.method()),
        path = %path,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken_from_the_caller() {
        for good in ["a", "0f3c-42_ab.c", &"x".repeat(64)] {
            assert!(
                acceptable(&HeaderValue::from_str(good).expect("a header")),
                "{good}"
            );
        }
        for bad in ["", &"x".repeat(65), "a b", "a\tb", "ünï", "a;b", "<script>"] {
            let value = HeaderValue::from_bytes(bad.as_bytes());
            assert!(!value.is_ok_and(|v| acceptable(&v)), "{bad:?}");
        }
    }
}

//! `/metrics` in Prometheus text format: HTTP requests by route and status
//! with latency histograms, approvals waiting by environment, decisions and
//! deliveries by outcome, CodePipeline calls by operation and outcome with
//! latency, background job passes (duration, last success, leader), open
//! live-update streams and database connections in use.
//!
//! Served on the main address behind `GATEHOUSE_METRICS_TOKEN` (a bearer
//! token), open in demo mode, and open on `GATEHOUSE_METRICS_BIND` when
//! that is set (a port the load balancer does not expose).

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use std::sync::OnceLock;
use std::time::Instant;
use tracing::Instrument;

/// The process's recorder, installed once (tests build many apps in one
/// process).
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets, in seconds: 1 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the recorder if no other is installed; `None` when another
/// recorder holds the process.
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    zero_counters();
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

/// Serves the counters the alert rules take `increase()` of from the
/// start, at 0: Prometheus sees no increase in a series whose first sample
/// already counts the first failure.
fn zero_counters() {
    for outcome in ["delivered", "reconciled", "failed"] {
        metrics::counter!("gatehouse_deliveries_total", "outcome" => outcome).increment(0);
    }
    for operation in ["GetPipelineState", "PutApprovalResult"] {
        for outcome in ["ok", "error"] {
            metrics::counter!("gatehouse_aws_calls_total", "operation" => operation, "outcome" => outcome)
                .increment(0);
        }
    }
}

/// Who may read `/metrics` on the main address, and what it reads.
#[derive(Clone)]
pub struct MetricsState {
    pub pool: PgPool,
    pub changes: crate::http::events::Changes,
    /// `None`: open (demo mode, or the separate metrics address).
    pub token: Option<String>,
    /// Served on the main address at all.
    pub enabled: bool,
}

/// A request's method as a label: one of HTTP's own, else `other` (a
/// client may send any token as a method).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Counts and times every request by its route, method and status. Every
/// label comes from a closed set, so a client cannot add series: the route
/// is the pattern the router matched (`unmatched` for none, never the
/// path), the method one of HTTP's nine or `other`, the status one this
/// server answered.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    // A server function's work is its own span inside the request's.
    let response = match route.strip_prefix("/api/") {
        Some(function) => {
            let span = tracing::info_span!("server_fn", function = %function);
            next.run(request).instrument(span).await
        }
        None => next.run(request).await,
    };
    let status = response.status().as_u16().to_string();
    let labels = [
        ("route", route),
        ("method", method.to_owned()),
        ("status", status),
    ];
    metrics::counter!("gatehouse_http_requests_total", &labels).increment(1);
    metrics::histogram!("gatehouse_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// Constant-time comparison of two tokens.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `GET /metrics`.
pub async fn serve(State(state): State<MetricsState>, headers: HeaderMap) -> Response {
    if !state.enabled {
        return (
            StatusCode::NOT_FOUND,
            "Metrics are served on GATEHOUSE_METRICS_BIND, or here with GATEHOUSE_METRICS_TOKEN set.",
        )
            .into_response();
    }
    if let Some(token) = &state.token {
        if !bearer(&headers).is_some_and(|given| same(given, token)) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "Send the metrics token as Authorization: Bearer <token>.",
            )
                .into_response();
        }
    }
    let Some(handle) = handle() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Another metrics recorder holds this process.",
        )
            .into_response();
    };
    // Gauges read at scrape time.
    metrics::gauge!("gatehouse_event_streams").set(state.changes.open_streams() as f64);
    let idle = state.pool.num_idle() as f64;
    metrics::gauge!("gatehouse_db_connections_in_use").set(f64::from(state.pool.size()) - idle);
    metrics::gauge!("gatehouse_db_connections_idle").set(idle);
    match sqlx::query_as::<_, (String, i64)>(
        "SELECT environment_id, count(*) FROM approval_requests WHERE state = 'pending' GROUP BY environment_id",
    )
    .fetch_all(&state.pool)
    .await
    {
        Ok(rows) => {
            for (environment, waiting) in rows {
                metrics::gauge!("gatehouse_approvals_waiting", "environment" => environment)
                    .set(waiting as f64);
            }
            metrics::gauge!("gatehouse_database_up").set(1.0);
        }
        Err(err) => {
            tracing::warn!(error = %err, "metrics: cannot count waiting approvals");
            metrics::gauge!("gatehouse_database_up").set(0.0);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Times one CodePipeline call and counts it by operation and outcome:
/// `client.get_pipeline_state().name(n).send().timed("GetPipelineState")`.
pub trait Timed<T, E>: std::future::Future<Output = Result<T, E>> + Sized {
    fn timed(self, operation: &'static str) -> impl std::future::Future<Output = Result<T, E>> {
        observed(
            self,
            "gatehouse_aws_calls_total",
            "gatehouse_aws_call_duration_seconds",
            operation,
        )
        .instrument(tracing::info_span!(
            "aws_call",
            service = "codepipeline",
            operation
        ))
    }

    /// The same for a GitHub call.
    fn github(self, operation: &'static str) -> impl std::future::Future<Output = Result<T, E>> {
        observed(
            self,
            "gatehouse_github_calls_total",
            "gatehouse_github_call_duration_seconds",
            operation,
        )
        .instrument(tracing::info_span!("github_call", operation))
    }
}

/// Awaits `call`, counting it in `calls` by operation and outcome and
/// timing it in `seconds` by operation.
async fn observed<T, E>(
    call: impl std::future::Future<Output = Result<T, E>>,
    calls: &'static str,
    seconds: &'static str,
    operation: &'static str,
) -> Result<T, E> {
    let started = Instant::now();
    let result = call.await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::counter!(calls, "operation" => operation, "outcome" => outcome).increment(1);
    metrics::histogram!(seconds, "operation" => operation).record(started.elapsed().as_secs_f64());
    result
}

/// GitHub's answer of how many calls are left in this hour.
pub fn github_rate_limit(remaining: Option<&str>) {
    if let Some(left) = remaining.and_then(|r| r.parse::<f64>().ok()) {
        metrics::gauge!("gatehouse_github_rate_limit_remaining").set(left);
    }
}

/// A bounded label for a GitHub API path the adapter reads.
pub fn github_endpoint(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or_default();
    if path.contains("/actions/runs") {
        "list_workflow_runs"
    } else if path.ends_with("/branches") {
        "list_branches"
    } else if path.ends_with("/tags") {
        "list_tags"
    } else if path.contains("/branches/") {
        "get_branch"
    } else if path.contains("/commits") {
        "commits"
    } else if path.contains("/teams/") || path.starts_with("/user") {
        "membership"
    } else {
        "other"
    }
}

impl<T, E, F: std::future::Future<Output = Result<T, E>>> Timed<T, E> for F {}

/// Records one pass of a background job.
pub fn job_pass(job: &'static str, started: Instant, ok: bool) {
    metrics::histogram!("gatehouse_job_pass_duration_seconds", "task" => job)
        .record(started.elapsed().as_secs_f64());
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!("gatehouse_job_passes_total", "task" => job, "outcome" => outcome)
        .increment(1);
    if ok {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        metrics::gauge!("gatehouse_job_last_success_timestamp_seconds", "task" => job).set(now);
    }
}

/// Counts one notification send by channel kind and outcome.
pub fn notification(
    kind: app::domain::notification::ChannelKind,
    outcome: &crate::adapters::notify::Sent,
) {
    let kind = match kind {
        app::domain::notification::ChannelKind::Webhook => "webhook",
        app::domain::notification::ChannelKind::Email => "email",
    };
    let outcome = match outcome {
        crate::adapters::notify::Sent::Yes => "sent",
        crate::adapters::notify::Sent::Retry(_) => "retry",
        crate::adapters::notify::Sent::GiveUp(_) => "given_up",
    };
    metrics::counter!("gatehouse_notifications_total", "channel" => kind, "outcome" => outcome)
        .increment(1);
}

/// Whether this process leads `job` now.
pub fn leader(job: &'static str, leads: bool) {
    metrics::gauge!("gatehouse_job_leader", "task" => job).set(if leads { 1.0 } else { 0.0 });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_compared_whole() {
        assert!(same("s3cret", "s3cret"));
        assert!(!same("s3cret", "s3cre"));
        assert!(!same("s3cret", "s3crex"));
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().expect("header"));
        assert_eq!(bearer(&headers), Some("abc"));
    }

    #[test]
    fn invented_methods_are_counted_as_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::TRACE), "TRACE");
        let invented = Method::from_bytes(b"REPRO-METHOD-1").expect("a token");
        assert_eq!(method_label(&invented), "other");
        let lower = Method::from_bytes(b"get").expect("a token");
        assert_eq!(method_label(&lower), "other");
    }
}

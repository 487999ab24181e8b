//! Rate limits: votes per session and sign-in attempts per session (or per
//! client address before there is a session), answered 429 with a sentence
//! and `Retry-After`. Kept per process (governor's keyed token buckets): N
//! replicas allow N times as much, which is still far below what anyone
//! clicks.

use crate::config::LimitSettings;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Buckets kept before the idle ones are dropped.
const KEYS_KEPT: usize = 10_000;

/// The process's limiters; `None` where the setting is 0 (no limit).
#[derive(Clone)]
pub struct RateLimits {
    votes: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    sign_ins: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// Sign-ins of browsers without a session yet, by client address.
    fresh_sign_ins: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

fn per_minute(n: u32) -> Option<Arc<DefaultKeyedRateLimiter<String>>> {
    NonZeroU32::new(n).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))))
}

impl RateLimits {
    pub fn new(settings: &LimitSettings) -> Self {
        Self {
            votes: per_minute(settings.votes_per_minute),
            sign_ins: per_minute(settings.sign_ins_per_minute),
            fresh_sign_ins: per_minute(settings.sign_ins_per_minute.saturating_mul(10)),
        }
    }
}

/// What a path is, for the limits.
enum Limited {
    Vote,
    SignIn,
}

fn limited(path: &str) -> Option<Limited> {
    match path {
        "/api/approvals/decide" | "/api/approvals/rerun" => Some(Limited::Vote),
        "/api/demo/sign-in" => Some(Limited::SignIn),
        p if p.starts_with("/auth/") && p.ends_with("/login") => Some(Limited::SignIn),
        _ => None,
    }
}

/// The session cookie's value, if the request carries one.
fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "gatehouse_session")
        .map(|(_, value)| value.to_owned())
}

fn refused(headers: &HeaderMap, text: String, retry_after: u64) -> Response {
    let retry = retry_after.max(1).to_string();
    if crate::auth::guard::wants_json(headers) {
        let body =
            serde_json::to_string(&app::error::AppError::TooMany(text.clone())).unwrap_or(text);
        (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (header::RETRY_AFTER, retry),
            ],
            body,
        )
            .into_response()
    } else {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
                (header::RETRY_AFTER, retry),
            ],
            text,
        )
            .into_response()
    }
}

/// Checks `key` against `limiter`: `Err(seconds to wait)` when over.
fn check(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), u64> {
    if limiter.len() > KEYS_KEPT {
        limiter.retain_recent();
    }
    limiter.check_key(&key.to_owned()).map_err(|not_until| {
        not_until
            .wait_time_from(DefaultClock::default().now())
            .as_secs()
            + 1
    })
}

/// The middleware: votes and sign-in attempts over their limits are
/// answered 429 before anything else reads them.
pub async fn limit_rate(
    State(limits): State<RateLimits>,
    request: Request,
    next: Next,
) -> Response {
    let Some(kind) = limited(request.uri().path()) else {
        return next.run(request).await;
    };
    let session = session_of(request.headers());
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned());
    let verdict = match kind {
        Limited::Vote => match (&limits.votes, &session) {
            (Some(limiter), Some(session)) => check(limiter, session).map_err(|wait| {
                (
                    format!(
                        "You sent more votes in the last minute than Gatehouse accepts from one session; nothing was recorded for this one. Wait {wait} s and try again."
                    ),
                    wait,
                )
            }),
            _ => Ok(()),
        },
        Limited::SignIn => {
            let (limiter, key) = match &session {
                Some(session) => (&limits.sign_ins, session.clone()),
                None => (&limits.fresh_sign_ins, address),
            };
            match limiter {
                Some(limiter) => check(limiter, &key).map_err(|wait| {
                    (
                        format!(
                            "Too many sign-in attempts in the last minute; wait {wait} s and sign in again."
                        ),
                        wait,
                    )
                }),
                None => Ok(()),
            }
        }
    };
    match verdict {
        Ok(()) => next.run(request).await,
        Err((text, wait)) => {
            tracing::warn!(path = %request.uri().path(), "rate limit reached");
            refused(request.headers(), text, wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; gatehouse_session=abc123; other=1"
                .parse()
                .expect("header"),
        );
        assert_eq!(session_of(&headers).as_deref(), Some("abc123"));
        assert_eq!(session_of(&HeaderMap::new()), None);
    }

    #[test]
    fn a_bucket_refuses_past_its_quota_and_says_how_long_to_wait() {
        let limiter = RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(3).expect("3")));
        for _ in 0..3 {
            assert_eq!(check(&limiter, "a"), Ok(()));
        }
        let wait = check(&limiter, "a").expect_err("fourth");
        assert!((1..=21).contains(&wait), "{wait}");
        assert_eq!(check(&limiter, "b"), Ok(()), "another session has its own");
    }
}

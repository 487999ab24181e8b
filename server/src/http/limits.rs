//! Rate limits: votes per session, sign-in attempts per client address (and
//! per session once that session exists on the server), answered 429 with
//! a sentence and `Retry-After`. Kept per process (governor's keyed token
//! buckets): N replicas allow N times as much, which is still far below
//! what anyone clicks.
//!
//! A client is its address: the peer of the connection, or, when that peer
//! is one of `GATEHOUSE_TRUSTED_PROXIES`, the address that proxy wrote in
//! `X-Forwarded-For` (the nearest one not itself trusted). An IPv6 client
//! is its /64, which one subscriber usually holds whole. A cookie is never
//! a key by itself: anyone can send a new one with every request, so a
//! session counts only once the server has it.

use crate::config::LimitSettings;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use tower_sessions::Session;

/// Buckets kept before the idle ones are dropped.
const KEYS_KEPT: usize = 10_000;

/// `X-Forwarded-For` hops read, from the nearest.
const HOPS_READ: usize = 16;

/// Networks whose `X-Forwarded-For` is believed: the load balancers and
/// proxies in front of Gatehouse (`GATEHOUSE_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// A comma-separated list of addresses and networks
    /// (`10.0.0.0/8, 192.168.1.7, fd00::/8`); empty trusts none.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (address, bits) = match item.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (item, None),
            };
            let not_one = || {
                let shown: String = item.chars().take(60).collect();
                format!(
                    "GATEHOUSE_TRUSTED_PROXIES: \u{201c}{shown}\u{201d} is not an IP address or a network such as 10.0.0.0/8."
                )
            };
            let address: IpAddr = address.parse().map_err(|_| not_one())?;
            let address = address.to_canonical();
            let most = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= most)
                    .ok_or_else(not_one)?,
                None => most,
            };
            nets.push((address, bits));
        }
        Ok(Self(nets))
    }

    /// Whether none is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|(net, bits)| within(ip, *net, *bits))
    }
}

/// Whether `ip` is in the network `net/bits`.
fn within(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// One `X-Forwarded-For` entry: an address, maybe with a port.
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .or_else(|_| {
            hop.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
        })
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The client a request comes from, as limits count it: an IPv4 address,
/// or an IPv6 client's /64. Every request that reached the rate-limit layer
/// carries one in its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The client of a connection from `peer` whose request carries
    /// `headers`: `peer`, unless it is a trusted proxy, whose
    /// `X-Forwarded-For` is then read from the right up to the first hop
    /// that is not trusted.
    pub fn of(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> Self {
        let mut client = peer.to_canonical();
        if trusted.trusts(client) {
            let hops: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .collect();
            for hop in hops.into_iter().rev().take(HOPS_READ) {
                // A hop the proxy did not write as an address: the proxy
                // itself is the client (it cannot be stepped around).
                let Some(ip) = hop_address(hop) else {
                    break;
                };
                client = ip;
                if !trusted.trusts(client) {
                    break;
                }
            }
        }
        Self(match client {
            IpAddr::V4(_) => client,
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        })
    }
}

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V6(_) => write!(f, "{}/64", self.0),
            IpAddr::V4(_) => write!(f, "{}", self.0),
        }
    }
}

/// The process's limiters (`None` where the setting is 0: no limit), and
/// whose `X-Forwarded-For` is believed.
#[derive(Clone)]
pub struct RateLimits {
    /// Votes by session, or by client address for a request without one.
    votes: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// Sign-in attempts by client address, ten times the setting.
    sign_ins_by_address: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// Sign-in attempts by session, once it exists on the server.
    sign_ins_by_session: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    trusted: Arc<TrustedProxies>,
}

fn per_minute(n: u32) -> Option<Arc<DefaultKeyedRateLimiter<String>>> {
    NonZeroU32::new(n).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))))
}

impl RateLimits {
    pub fn new(settings: &LimitSettings) -> Self {
        Self {
            votes: per_minute(settings.votes_per_minute),
            sign_ins_by_address: per_minute(settings.sign_ins_per_minute.saturating_mul(10)),
            sign_ins_by_session: per_minute(settings.sign_ins_per_minute),
            trusted: Arc::new(settings.trusted_proxies.clone()),
        }
    }
}

/// What a path is, for the limits.
#[derive(Debug, PartialEq, Eq)]
enum Limited {
    Vote,
    SignIn,
}

fn limited(path: &str) -> Option<Limited> {
    match path {
        "/api/approvals/decide" | "/api/approvals/rerun" => Some(Limited::Vote),
        "/api/demo/sign-in" => Some(Limited::SignIn),
        p if p.starts_with("/auth/") && (p.ends_with("/login") || p.ends_with("/callback")) => {
            Some(Limited::SignIn)
        }
        _ => None,
    }
}

/// The session's id when the request names a session the server has (one
/// read of the store, which the handlers then reuse); `None` for no cookie,
/// a made-up one, or a store that cannot be read.
async fn verified(session: &Session) -> Option<String> {
    session.id()?;
    session.get_value("user_id").await.ok()?;
    session.id().map(|id| id.to_string())
}

fn refused(headers: &HeaderMap, text: String, retry_after: u64) -> Response {
    let retry = retry_after.max(1).to_string();
    if crate::http::auth::guard::wants_json(headers) {
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

/// Checks `key` against `limiter` when there is a limit.
fn check_if(limiter: &Option<Arc<DefaultKeyedRateLimiter<String>>>, key: &str) -> Result<(), u64> {
    limiter.as_ref().map_or(Ok(()), |l| check(l, key))
}

/// The middleware (inside the session layer): notes the request's
/// [`ClientAddress`], and answers votes and sign-in attempts over their
/// limits 429 before anything else reads them. A sign-in attempt counts
/// against its client address first, so a flood with made-up cookies is
/// refused without a session read.
pub async fn limit_rate(
    State(limits): State<RateLimits>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| ClientAddress::of(c.0.ip(), request.headers(), &limits.trusted));
    if let Some(address) = address {
        request.extensions_mut().insert(address);
    }
    let Some(kind) = limited(request.uri().path()) else {
        return next.run(request).await;
    };
    let address = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    let verdict = match kind {
        Limited::Vote => match &limits.votes {
            None => Ok(()),
            Some(limiter) => {
                let key = match verified(&session).await {
                    Some(id) => format!("session {id}"),
                    None => format!("address {address}"),
                };
                check(limiter, &key).map_err(|wait| {
                    (
                        format!(
                            "You sent more votes in the last minute than Gatehouse accepts from one session; nothing was recorded for this one. Wait {wait} s and try again."
                        ),
                        wait,
                    )
                })
            }
        },
        Limited::SignIn => {
            let by_address = check_if(&limits.sign_ins_by_address, &address);
            let verdict = match (by_address, &limits.sign_ins_by_session) {
                (Ok(()), Some(limiter)) => match verified(&session).await {
                    Some(id) => check(limiter, &id),
                    None => Ok(()),
                },
                (verdict, _) => verdict,
            };
            verdict.map_err(|wait| {
                (
                    format!(
                        "Too many sign-in attempts in the last minute; wait {wait} s and sign in again."
                    ),
                    wait,
                )
            })
        }
    };
    match verdict {
        Ok(()) => next.run(request).await,
        Err((text, wait)) => {
            // Each refusal is the client's doing: not worth a warning each.
            tracing::debug!(path = %request.uri().path(), client = %address, "rate limit reached");
            refused(request.headers(), text, wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn sign_in_paths_and_votes_are_limited() {
        assert_eq!(limited("/auth/github/login"), Some(Limited::SignIn));
        assert_eq!(limited("/auth/anything/callback"), Some(Limited::SignIn));
        assert_eq!(limited("/api/demo/sign-in"), Some(Limited::SignIn));
        assert_eq!(limited("/api/approvals/decide"), Some(Limited::Vote));
        assert_eq!(limited("/approvals"), None);
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().expect("header"));
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let none = TrustedProxies::default();
        let headers = forwarded("203.0.113.9");
        assert_eq!(
            ClientAddress::of(ip("198.51.100.1"), &headers, &none).0,
            ip("198.51.100.1"),
            "without trusted proxies the peer is the client"
        );
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7").expect("parses");
        assert_eq!(
            ClientAddress::of(ip("10.1.2.3"), &headers, &trusted).0,
            ip("203.0.113.9")
        );
        assert_eq!(
            ClientAddress::of(ip("198.51.100.1"), &headers, &trusted).0,
            ip("198.51.100.1"),
            "an untrusted peer's header is ignored"
        );
        // A client's own made-up entries sit left of the one the proxy wrote.
        let spoofed = forwarded("1.1.1.1, 2.2.2.2, 203.0.113.9, 10.9.9.9");
        assert_eq!(
            ClientAddress::of(ip("192.168.1.7"), &spoofed, &trusted).0,
            ip("203.0.113.9")
        );
        assert_eq!(
            ClientAddress::of(ip("10.0.0.1"), &forwarded("garbage"), &trusted).0,
            ip("10.0.0.1")
        );
        assert_eq!(
            ClientAddress::of(ip("10.0.0.1"), &forwarded("203.0.113.9:4711"), &trusted).0,
            ip("203.0.113.9")
        );
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let none = TrustedProxies::default();
        let a = ClientAddress::of(
            "2001:db8:1:2:aaaa::1".parse().expect("ip"),
            &HeaderMap::new(),
            &none,
        );
        let b = ClientAddress::of(
            "2001:db8:1:2:bbbb::9".parse().expect("ip"),
            &HeaderMap::new(),
            &none,
        );
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        let mapped = ClientAddress::of(
            "::ffff:203.0.113.9".parse().expect("ip"),
            &HeaderMap::new(),
            &none,
        );
        assert_eq!(mapped.to_string(), "203.0.113.9");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert!(TrustedProxies::parse("").expect("empty").is_empty());
        let err = TrustedProxies::parse("10.0.0.0/33").expect_err("bits");
        assert!(err.contains("is not an IP address or a network"), "{err}");
        assert!(TrustedProxies::parse("proxy.internal").is_err());
        let all = TrustedProxies::parse("0.0.0.0/0").expect("all");
        assert!(all.trusts("8.8.8.8".parse().expect("ip")));
        assert!(!all.trusts("::1".parse().expect("ip")));
    }
}

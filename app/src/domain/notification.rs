//! Notifications: the events people can be told about, and how a failed
//! send is retried.

use super::keywords::keyword_enum;
use std::time::Duration;

keyword_enum!(
    /// Something worth telling the people around a release train.
    NotificationEvent, "notification event" {
        ApprovalWaiting => "approval-waiting", "An approval is waiting";
        ApprovalDecided => "approval-decided", "An approval was decided";
        DeliveryFailed => "delivery-failed", "A decision could not be delivered to CodePipeline";
        EnvironmentDown => "environment-down", "A service went down in an environment";
        EnvironmentUp => "environment-up", "A service came back";
        CodeFreezeTomorrow => "code-freeze-tomorrow", "Code freeze tomorrow";
        ReleaseDay => "release-day", "Release day";
        PipelineProblem => "pipeline-problem", "A pipeline configuration problem";
    }
);

/// How a channel is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChannelKind {
    /// A Slack-compatible incoming webhook (JSON POST).
    Webhook,
    /// E-mail over SMTP.
    Email,
}

impl ChannelKind {
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "Webhook",
            ChannelKind::Email => "E-mail",
        }
    }
}

/// A configured channel as the Notifications page describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChannelSummary {
    pub id: String,
    pub kind: ChannelKind,
    pub events: Vec<NotificationEvent>,
    /// Team and environment ids it is limited to (empty: all).
    pub teams: Vec<String>,
    pub environments: Vec<String>,
    /// Who gets it, in words ("qa@acme.example; people who can approve").
    pub audience: String,
    /// Whether it really sends (`false`: demo mode without a sink records
    /// what it would send).
    pub live: bool,
    /// Why it cannot send.
    pub problem: Option<String>,
}

/// Sends a delivery is tried before it is given up (and shown to admins as
/// failed).
pub const MAX_ATTEMPTS: u32 = 8;

/// How long to wait after the `attempt`-th failed send (1-based) before
/// the next: 10 s, 30 s, 1 min, 5 min, 15 min, 30 min, 1 h; `None` once
/// [`MAX_ATTEMPTS`] sends failed. About 1 h 52 min from the first try to
/// the last.
pub fn retry_after(attempt: u32) -> Option<Duration> {
    const WAITS: [u64; 7] = [10, 30, 60, 300, 900, 1800, 3600];
    if attempt == 0 || attempt >= MAX_ATTEMPTS {
        return None;
    }
    WAITS
        .get(attempt as usize - 1)
        .map(|s| Duration::from_secs(*s))
}

/// What an HTTP status from a webhook means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAnswer {
    Sent,
    /// Try again later: the receiver is down, busy or throttling.
    Retry,
    /// Trying again cannot help (a revoked or wrong URL, a refused
    /// payload): an admin must look.
    GiveUp,
}

pub fn webhook_answer(status: u16) -> WebhookAnswer {
    match status {
        200..=299 => WebhookAnswer::Sent,
        408 | 425 | 429 | 500..=599 => WebhookAnswer::Retry,
        _ => WebhookAnswer::GiveUp,
    }
}

/// `text` with every `http://` or `https://` URL replaced by
/// "[URL hidden]": an error about a webhook must not carry its URL, which
/// is the webhook's secret, into the database or onto a page.
pub fn without_urls(text: &str) -> String {
    const HIDDEN: &str = "[URL hidden]";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        // ASCII lowercasing keeps every byte where it was.
        let lower = rest.to_ascii_lowercase();
        let Some(at) = [lower.find("http://"), lower.find("https://")]
            .into_iter()
            .flatten()
            .min()
        else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        out.push_str(HIDDEN);
        let url = &rest[at..];
        let end = url
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '(' | ')' | '`')
            })
            .unwrap_or(url.len());
        rest = &url[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_lose_every_url_and_keep_their_words() {
        assert_eq!(
            without_urls("error sending request for url (https://hooks.slack.com/services/T0/B0/s3cret): connection refused"),
            "error sending request for url ([URL hidden]): connection refused"
        );
        assert_eq!(
            without_urls("HTTP://a.example/x?token=1 and http://b.example:8080/y\tthen"),
            "[URL hidden] and [URL hidden]\tthen"
        );
        assert_eq!(
            without_urls("the webhook answered HTTP 503"),
            "the webhook answered HTTP 503"
        );
        assert_eq!(
            without_urls("ünïcode https://x.example/ä ok"),
            "ünïcode [URL hidden] ok"
        );
        assert_eq!(without_urls("ends with https://"), "ends with [URL hidden]");
    }

    #[test]
    fn retries_wait_longer_each_time_and_stop_after_the_last_attempt() {
        let waits: Vec<u64> = (1..MAX_ATTEMPTS)
            .map(|a| retry_after(a).expect("a wait").as_secs())
            .collect();
        assert_eq!(waits, [10, 30, 60, 300, 900, 1800, 3600]);
        assert!(waits.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(retry_after(MAX_ATTEMPTS), None);
        assert_eq!(retry_after(MAX_ATTEMPTS + 5), None);
        assert_eq!(retry_after(0), None, "attempts are counted from 1");
        let total: u64 = waits.iter().sum();
        assert_eq!(total, 6_700, "1 h 52 min from the first try to the last");
    }

    #[test]
    fn a_webhook_is_retried_when_busy_or_down_and_given_up_when_refused() {
        assert_eq!(webhook_answer(200), WebhookAnswer::Sent);
        assert_eq!(webhook_answer(204), WebhookAnswer::Sent);
        for busy in [408, 429, 500, 502, 503, 504] {
            assert_eq!(webhook_answer(busy), WebhookAnswer::Retry, "{busy}");
        }
        for refused in [301, 400, 401, 403, 404, 410, 413] {
            assert_eq!(webhook_answer(refused), WebhookAnswer::GiveUp, "{refused}");
        }
    }

    #[test]
    fn events_are_written_in_configuration_as_their_keywords() {
        assert_eq!(
            NotificationEvent::parse("approval-waiting"),
            Ok(NotificationEvent::ApprovalWaiting)
        );
        let err = NotificationEvent::parse("approval_waiting").expect_err("snake case");
        assert!(
            err.reason.contains("code-freeze-tomorrow"),
            "{}",
            err.reason
        );
        assert_eq!(NotificationEvent::ALL.len(), 8);
    }
}

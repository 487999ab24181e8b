//! Relative times ("3 min ago", "in 6 days") measured from a given now.

use chrono::{DateTime, Utc};

fn span(seconds: i64) -> String {
    let s = seconds.abs();
    match s {
        0..=59 => "less than a minute".into(),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h", s / 3600),
        _ => {
            // Nearest whole day: "7 days" for an approval requested a minute ago.
            let days = (s + 43_200) / 86_400;
            format!("{days} day{}", if days == 1 { "" } else { "s" })
        }
    }
}

/// "7 Dec 2026 14:03 UTC": the one way a moment is written (dates alone
/// are "7 Dec 2026"; calendar milestones are in the org's zone).
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y %H:%M UTC").to_string()
}

/// "7 Dec 2026 14:03:05 UTC", where seconds matter (the audit log).
pub fn stamp_seconds(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y %H:%M:%S UTC").to_string()
}

/// "3 min ago".
pub fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    format!("{} ago", span((now - then).num_seconds()))
}

/// "12 min": how long since `then`, for "Down for 12 min".
pub fn lasting(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    span((now - then).num_seconds())
}

/// "in 6 days", or "expired" once past.
pub fn until(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let seconds = (then - now).num_seconds();
    if seconds <= 0 {
        "expired".into()
    } else {
        format!("in {}", span(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc::now();
        assert_eq!(
            ago(now, now - Duration::seconds(20)),
            "less than a minute ago"
        );
        assert_eq!(ago(now, now - Duration::minutes(3)), "3 min ago");
        assert_eq!(ago(now, now - Duration::hours(5)), "5 h ago");
        assert_eq!(lasting(now, now - Duration::minutes(12)), "12 min");
        assert_eq!(until(now, now + Duration::days(6)), "in 6 days");
        assert_eq!(until(now, now + Duration::days(1)), "in 1 day");
        assert_eq!(
            until(now, now + Duration::days(7) - Duration::minutes(1)),
            "in 7 days"
        );
        assert_eq!(until(now, now - Duration::minutes(1)), "expired");
        let at = DateTime::parse_from_rfc3339("2026-12-07T09:03:05Z")
            .expect("a time")
            .with_timezone(&Utc);
        assert_eq!(stamp(at), "7 Dec 2026 09:03 UTC");
        assert_eq!(stamp_seconds(at), "7 Dec 2026 09:03:05 UTC");
    }
}

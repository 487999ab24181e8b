//! Health: when a run of probe results changes an environment's state, and
//! how much of a period it was up.

use chrono::{DateTime, Duration, Utc};

/// How many probes in a row must agree before the state changes, so that one
/// slow answer or one blip does not open a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub failures_to_down: u32,
    pub successes_to_up: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            failures_to_down: 2,
            successes_to_up: 2,
        }
    }
}

/// What is known of one health URL between probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbeState {
    /// `None` until the first probes settle it.
    pub up: Option<bool>,
    /// Consecutive results that disagree with `up`.
    pub streak: u32,
    /// When that run of disagreeing results began.
    pub streak_since: Option<DateTime<Utc>>,
}

/// A change of state: up or down, since when (the first probe of the run
/// that decided it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub up: bool,
    pub since: DateTime<Utc>,
}

impl ProbeState {
    /// The state after one more probe result at `at`, and the change it
    /// made, if any. A first success counts at once (nothing to protect);
    /// going down, and coming back up, need the thresholds' runs.
    pub fn observe(
        self,
        ok: bool,
        at: DateTime<Utc>,
        thresholds: Thresholds,
    ) -> (ProbeState, Option<Transition>) {
        if self.up == Some(ok) {
            return (
                ProbeState {
                    up: self.up,
                    streak: 0,
                    streak_since: None,
                },
                None,
            );
        }
        let streak = self.streak + 1;
        let since = self.streak_since.unwrap_or(at);
        let needed = match (self.up, ok) {
            (None, true) => 1,
            (_, true) => thresholds.successes_to_up.max(1),
            (_, false) => thresholds.failures_to_down.max(1),
        };
        if streak >= needed {
            (
                ProbeState {
                    up: Some(ok),
                    streak: 0,
                    streak_since: None,
                },
                Some(Transition { up: ok, since }),
            )
        } else {
            (
                ProbeState {
                    up: self.up,
                    streak,
                    streak_since: Some(since),
                },
                None,
            )
        }
    }
}

/// A period of downtime; `end` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// How long `[from, to)` was covered by outages. Overlapping outages count
/// once; an open outage lasts until `to`.
pub fn downtime(outages: &[Outage], from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    if to <= from {
        return Duration::zero();
    }
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = outages
        .iter()
        .map(|o| (o.start.max(from), o.end.unwrap_or(to).min(to)))
        .filter(|(s, e)| s < e)
        .collect();
    spans.sort();
    let mut down = Duration::zero();
    let mut current: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (s, e) in spans {
        match current {
            Some((cs, ce)) if s <= ce => current = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                down += ce - cs;
                current = Some((s, e));
            }
            None => current = Some((s, e)),
        }
    }
    if let Some((cs, ce)) = current {
        down += ce - cs;
    }
    down
}

/// The share of `[from, to)` not covered by any outage, in percent.
/// Overlapping outages count once; an open outage lasts until `to`.
pub fn uptime_percent(outages: &[Outage], from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    if to <= from {
        return 100.0;
    }
    let total = (to - from).num_milliseconds() as f64;
    let up = total - downtime(outages, from, to).num_milliseconds() as f64;
    (up / total * 100.0).clamp(0.0, 100.0)
}

/// The outages of `[from, to)` as (offset, width) fractions of the period,
/// for a timeline.
pub fn timeline(outages: &[Outage], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(f64, f64)> {
    let total = (to - from).num_milliseconds() as f64;
    if total <= 0.0 {
        return Vec::new();
    }
    outages
        .iter()
        .map(|o| (o.start.max(from), o.end.unwrap_or(to).min(to)))
        .filter(|(s, e)| s < e)
        .map(|(s, e)| {
            let offset = (s - from).num_milliseconds() as f64 / total;
            let width = (e - s).num_milliseconds() as f64 / total;
            (offset, width.max(0.004))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 10, 12, 0, 0)
            .single()
            .expect("valid")
            + Duration::minutes(minute)
    }

    fn run(results: &[bool]) -> Vec<(i64, Transition)> {
        let mut state = ProbeState::default();
        let mut out = Vec::new();
        for (i, ok) in results.iter().enumerate() {
            let minute = i64::try_from(i).expect("small");
            let (next, change) = state.observe(*ok, t(minute), Thresholds::default());
            state = next;
            if let Some(change) = change {
                out.push((minute, change));
            }
        }
        out
    }

    #[test]
    fn a_first_success_is_up_at_once() {
        assert_eq!(
            run(&[true]),
            vec![(
                0,
                Transition {
                    up: true,
                    since: t(0)
                }
            )]
        );
    }

    #[test]
    fn going_down_needs_two_failures_in_a_row_and_dates_from_the_first() {
        let changes = run(&[true, false, true, false, false, false]);
        assert_eq!(changes.len(), 2);
        assert_eq!(
            changes[1],
            (
                4,
                Transition {
                    up: false,
                    since: t(3)
                }
            )
        );
    }

    #[test]
    fn flapping_every_probe_never_changes_state() {
        let changes = run(&[true, false, true, false, true, false, true, false]);
        assert_eq!(changes.len(), 1, "only the first up: {changes:?}");
    }

    #[test]
    fn recovery_needs_two_successes_in_a_row() {
        let changes = run(&[true, false, false, true, false, true, true]);
        let ups: Vec<i64> = changes
            .iter()
            .filter(|(_, c)| c.up)
            .map(|(m, _)| *m)
            .collect();
        assert_eq!(ups, vec![0, 6]);
    }

    #[test]
    fn uptime_counts_overlapping_outages_once_and_open_ones_until_the_end() {
        let outages = [
            Outage {
                start: t(10),
                end: Some(t(20)),
            },
            Outage {
                start: t(15),
                end: Some(t(25)),
            },
            Outage {
                start: t(90),
                end: None,
            },
        ];
        // 100 minutes; down 10..25 (15) and 90..100 (10).
        let pct = uptime_percent(&outages, t(0), t(100));
        assert!((pct - 75.0).abs() < 1e-9, "{pct}");
        assert_eq!(downtime(&outages, t(0), t(100)), Duration::minutes(25));
        assert_eq!(downtime(&outages, t(100), t(0)), Duration::zero());
    }

    #[test]
    fn uptime_clips_outages_to_the_period() {
        let outages = [Outage {
            start: t(-50),
            end: Some(t(5)),
        }];
        let pct = uptime_percent(&outages, t(0), t(100));
        assert!((pct - 95.0).abs() < 1e-9, "{pct}");
        assert!((uptime_percent(&[], t(0), t(100)) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn a_timeline_places_outages_as_fractions() {
        let outages = [Outage {
            start: t(25),
            end: Some(t(50)),
        }];
        let line = timeline(&outages, t(0), t(100));
        assert_eq!(line, vec![(0.25, 0.25)]);
    }
}

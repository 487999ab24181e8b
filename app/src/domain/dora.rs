//! The four DORA measures of delivery, from what Gatehouse records:
//! deployment frequency to Prod, lead time for changes (commit to Prod),
//! change failure rate (Prod deployments followed by an outage or a hotfix
//! of the same service within a window), and time to restore (how long
//! Prod outages lasted). Pure arithmetic over a time window; the callers
//! gather the records.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// One deployment to Prod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProdDeployment {
    pub service: String,
    pub at: DateTime<Utc>,
    /// When each commit this deployment brought to Prod was made; empty
    /// when unknown (or a redeploy of what Prod ran), and then it counts for
    /// frequency but not for lead time.
    pub commits: Vec<DateTime<Utc>>,
    /// The deployment shipped a hotfix branch.
    pub hotfix: bool,
}

/// One Prod outage of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub service: String,
    pub started: DateTime<Utc>,
    /// `None` while it lasts.
    pub ended: Option<DateTime<Utc>>,
}

/// A half-open span of time, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }

    pub fn days(&self) -> f64 {
        (self.to - self.from).num_seconds().max(0) as f64 / 86_400.0
    }
}

/// The DORA performance band, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub fn label(self) -> &'static str {
        match self {
            Band::Elite => "Elite",
            Band::High => "High",
            Band::Medium => "Medium",
            Band::Low => "Low",
        }
    }
}

/// The four measures over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measures {
    pub deployments: usize,
    /// Deployments per day.
    pub per_day: f64,
    /// Median commit-to-Prod time over every commit the window's
    /// deployments brought, in seconds; `None` with no commit time known.
    pub lead_time_secs: Option<i64>,
    /// Deployments followed by a failure, of all deployments; `None` with
    /// no deployment.
    pub failed: usize,
    pub change_failure_rate: Option<f64>,
    /// Median time to restore, in seconds, over outages that ended in the
    /// window (overlapping outages of one service counted as one).
    pub restore_secs: Option<i64>,
    /// Outages still open at the window's end.
    pub open_outages: usize,
    /// The worst band among the measures that could be computed; `None`
    /// with nothing to judge.
    pub band: Option<Band>,
}

/// The median of `values` (the lower middle for an even count).
fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

/// Overlapping or touching outages of one service merged into one span
/// (an open outage runs to `now`); spans sorted by service and start.
pub fn merged(
    outages: &[Outage],
    now: DateTime<Utc>,
) -> Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)> {
    let mut sorted: Vec<&Outage> = outages.iter().collect();
    sorted.sort_by(|a, b| (&a.service, a.started).cmp(&(&b.service, b.started)));
    let mut out: Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = Vec::new();
    for o in sorted {
        if let Some(last) = out.last_mut() {
            let last_end = last.2.unwrap_or(now);
            if last.0 == o.service && o.started <= last_end {
                last.2 = match (last.2, o.ended) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
                continue;
            }
        }
        out.push((o.service.clone(), o.started, o.ended));
    }
    out
}

/// Whether `deployment` failed: an outage of its service started, or a
/// hotfix of its service was deployed, within `after` of it (and before
/// the service's next deployment).
fn failed(
    deployment: &ProdDeployment,
    next: Option<DateTime<Utc>>,
    deployments: &[ProdDeployment],
    outages: &[Outage],
    after: Duration,
) -> bool {
    let until = next.map_or(deployment.at + after, |n| n.min(deployment.at + after));
    let outage = outages.iter().any(|o| {
        o.service == deployment.service && o.started >= deployment.at && o.started < until
    });
    let hotfix = deployments.iter().any(|d| {
        d.service == deployment.service
            && d.hotfix
            && d.at > deployment.at
            && d.at <= deployment.at + after
    });
    outage || hotfix
}

/// The measures over `window` (deployments and outage ends inside it);
/// `failure_after` is how long after a deployment an outage or a hotfix
/// counts against it; `now` ends open outages.
pub fn measure(
    deployments: &[ProdDeployment],
    outages: &[Outage],
    window: Window,
    failure_after: Duration,
    now: DateTime<Utc>,
) -> Measures {
    let mut by_time: Vec<&ProdDeployment> = deployments.iter().collect();
    by_time.sort_by_key(|d| d.at);
    let inside: Vec<&ProdDeployment> = by_time
        .iter()
        .copied()
        .filter(|d| window.contains(d.at))
        .collect();
    let next_of = |d: &ProdDeployment| {
        by_time
            .iter()
            .filter(|n| n.service == d.service && n.at > d.at)
            .map(|n| n.at)
            .next()
    };
    let failed_count = inside
        .iter()
        .filter(|d| failed(d, next_of(d), deployments, outages, failure_after))
        .count();
    let lead_time_secs = median(
        inside
            .iter()
            .flat_map(|d| d.commits.iter().map(|c| (d.at - *c).num_seconds().max(0)))
            .collect(),
    );
    let spans = merged(outages, now);
    let restore_secs = median(
        spans
            .iter()
            .filter_map(|(_, start, end)| {
                end.filter(|e| window.contains(*e))
                    .map(|e| (e - *start).num_seconds())
            })
            .collect(),
    );
    let open_outages = spans
        .iter()
        .filter(|(_, start, end)| *start < window.to && end.is_none_or(|e| e >= window.to))
        .count();
    let days = window.days();
    let per_day = if days > 0.0 {
        inside.len() as f64 / days
    } else {
        0.0
    };
    let change_failure_rate =
        (!inside.is_empty()).then(|| failed_count as f64 / inside.len() as f64);
    let mut bands = Vec::new();
    if days > 0.0 {
        bands.push(frequency_band(per_day));
    }
    if let Some(l) = lead_time_secs {
        bands.push(lead_time_band(l));
    }
    if let Some(r) = change_failure_rate {
        bands.push(failure_band(r));
    }
    if let Some(r) = restore_secs {
        bands.push(restore_band(r));
    }
    Measures {
        deployments: inside.len(),
        per_day,
        lead_time_secs,
        failed: failed_count,
        change_failure_rate,
        restore_secs,
        open_outages,
        band: if inside.is_empty() && restore_secs.is_none() {
            None
        } else {
            bands.into_iter().max()
        },
    }
}

const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
const MONTH: i64 = 30 * DAY;

/// Deployment frequency: on demand (daily or more) is elite, weekly high,
/// monthly medium, less low.
pub fn frequency_band(per_day: f64) -> Band {
    if per_day >= 1.0 {
        Band::Elite
    } else if per_day >= 1.0 / 7.0 {
        Band::High
    } else if per_day >= 1.0 / 30.0 {
        Band::Medium
    } else {
        Band::Low
    }
}

/// Lead time: under a day elite, a week high, a month medium, more low.
pub fn lead_time_band(secs: i64) -> Band {
    if secs < DAY {
        Band::Elite
    } else if secs < WEEK {
        Band::High
    } else if secs < MONTH {
        Band::Medium
    } else {
        Band::Low
    }
}

/// Change failure rate: up to 5 % elite, 10 % high, 15 % medium, more low.
pub fn failure_band(rate: f64) -> Band {
    if rate <= 0.05 {
        Band::Elite
    } else if rate <= 0.10 {
        Band::High
    } else if rate <= 0.15 {
        Band::Medium
    } else {
        Band::Low
    }
}

/// Time to restore: under an hour elite, a day high, a week medium, more
/// low.
pub fn restore_band(secs: i64) -> Band {
    if secs < HOUR {
        Band::Elite
    } else if secs < DAY {
        Band::High
    } else if secs < WEEK {
        Band::Medium
    } else {
        Band::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
            .single()
            .expect("time")
    }

    fn deploy(
        service: &str,
        day: u32,
        hour: u32,
        lead_hours: Option<i64>,
        hotfix: bool,
    ) -> ProdDeployment {
        ProdDeployment {
            service: service.into(),
            at: at(day, hour),
            commits: lead_hours
                .map(|h| at(day, hour) - Duration::hours(h))
                .into_iter()
                .collect(),
            hotfix,
        }
    }

    #[test]
    fn lead_time_is_the_median_over_every_commit_a_deployment_brought() {
        // One deployment of three commits (2, 30 and 50 h old) and one of a
        // commit 4 h old: the median of 2, 4, 30 and 50 h is the lower
        // middle, 4 h; a redeploy with no new commit adds nothing.
        let mut big = deploy("orders", 10, 12, None, false);
        big.commits = [50, 30, 2]
            .into_iter()
            .map(|h| at(10, 12) - Duration::hours(h))
            .collect();
        let deployments = vec![
            big,
            deploy("orders", 12, 12, Some(4), false),
            deploy("orders", 13, 12, None, false),
        ];
        let m = measure(
            &deployments,
            &[],
            november(),
            Duration::hours(24),
            at(30, 23),
        );
        assert_eq!(m.deployments, 3);
        assert_eq!(m.lead_time_secs, Some(4 * 3600));
    }

    fn outage(service: &str, start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Outage {
        Outage {
            service: service.into(),
            started: start,
            ended: end,
        }
    }

    fn november() -> Window {
        Window {
            from: at(1, 0),
            to: at(30, 0) + Duration::days(1),
        }
    }

    #[test]
    fn an_empty_period_has_no_measures_and_no_band() {
        let m = measure(&[], &[], november(), Duration::hours(24), at(30, 12));
        assert_eq!(m.deployments, 0);
        assert_eq!(m.per_day, 0.0);
        assert_eq!(m.lead_time_secs, None);
        assert_eq!(m.change_failure_rate, None);
        assert_eq!(m.restore_secs, None);
        assert_eq!(m.band, None);
    }

    #[test]
    fn only_deployments_inside_the_window_count_and_frequency_is_per_day() {
        let deployments = vec![
            deploy("orders", 1, 0, Some(10), false),
            deploy("orders", 15, 12, Some(20), false),
            deploy("orders", 30, 23, Some(30), false),
            // October and December: outside.
            ProdDeployment {
                at: at(1, 0) - Duration::seconds(1),
                ..deploy("orders", 1, 0, Some(1), false)
            },
            ProdDeployment {
                at: at(30, 0) + Duration::days(1),
                ..deploy("orders", 1, 0, Some(1), false)
            },
        ];
        let m = measure(
            &deployments,
            &[],
            november(),
            Duration::hours(24),
            at(30, 23),
        );
        assert_eq!(m.deployments, 3);
        assert!((m.per_day - 0.1).abs() < 1e-9, "{}", m.per_day);
        assert_eq!(
            m.lead_time_secs,
            Some(20 * 3600),
            "the median of 10, 20 and 30 h"
        );
        assert_eq!(m.change_failure_rate, Some(0.0));
        assert_eq!(
            m.band,
            Some(Band::Medium),
            "3 a month is medium, the worst measure"
        );
    }

    #[test]
    fn a_deployment_followed_by_an_outage_or_a_hotfix_within_the_window_failed() {
        let deployments = vec![
            deploy("orders", 2, 10, None, false), // outage 3 h later: failed
            deploy("orders", 5, 10, None, false), // hotfix 6 h later: failed
            deploy("orders", 5, 16, None, true),  // the hotfix itself
            deploy("payments", 5, 10, None, false), // another service's outage: not failed
            deploy("orders", 9, 10, None, false), // outage 30 h later: outside 24 h
            deploy("orders", 20, 10, None, false), // next deploy before the outage: not it
            deploy("orders", 20, 11, None, false), // ... this one failed
        ];
        let outages = vec![
            outage("orders", at(2, 13), Some(at(2, 14))),
            outage("orders", at(10, 16), Some(at(10, 17))),
            outage("orders", at(20, 12), Some(at(20, 13))),
        ];
        let m = measure(
            &deployments,
            &outages,
            november(),
            Duration::hours(24),
            at(30, 0),
        );
        assert_eq!(m.deployments, 7);
        assert_eq!(m.failed, 3);
        assert!((m.change_failure_rate.expect("rate") - 3.0 / 7.0).abs() < 1e-9);
        assert_eq!(failure_band(3.0 / 7.0), Band::Low);
    }

    #[test]
    fn overlapping_outages_of_one_service_restore_once_and_open_ones_wait() {
        let outages = vec![
            // Two probes' outages of one service overlap: 10:00 to 13:00.
            outage("orders", at(3, 10), Some(at(3, 12))),
            outage("orders", at(3, 11), Some(at(3, 13))),
            // Another service at the same time is its own outage: 30 min.
            Outage {
                ended: Some(at(3, 10) + Duration::minutes(30)),
                ..outage("payments", at(3, 10), None)
            },
            // Ended after the window: not in this window's median.
            outage("orders", at(30, 23), Some(at(30, 23) + Duration::hours(3))),
            // Still open.
            outage("identity", at(29, 0), None),
        ];
        let spans = merged(&outages, at(30, 12));
        assert_eq!(spans.len(), 4);
        let m = measure(&[], &outages, november(), Duration::hours(24), at(30, 12));
        assert_eq!(
            m.restore_secs,
            Some(30 * 60),
            "median of 30 min and 3 h, lower middle"
        );
        assert_eq!(
            m.open_outages, 2,
            "identity's, and orders' that ends after November"
        );
        assert_eq!(restore_band(m.restore_secs.expect("restore")), Band::Elite);
        assert_eq!(
            m.band,
            Some(Band::Low),
            "no Prod deployment in a month is low frequency"
        );
    }

    #[test]
    fn the_band_is_the_worst_of_the_four() {
        assert_eq!(frequency_band(3.0), Band::Elite);
        assert_eq!(frequency_band(0.2), Band::High);
        assert_eq!(frequency_band(0.05), Band::Medium);
        assert_eq!(frequency_band(0.01), Band::Low);
        assert_eq!(lead_time_band(3 * HOUR), Band::Elite);
        assert_eq!(lead_time_band(3 * DAY), Band::High);
        assert_eq!(lead_time_band(2 * WEEK), Band::Medium);
        assert_eq!(lead_time_band(2 * MONTH), Band::Low);
        assert_eq!(restore_band(20 * 60), Band::Elite);
        assert_eq!(restore_band(5 * HOUR), Band::High);
        assert_eq!(restore_band(3 * DAY), Band::Medium);
        assert_eq!(restore_band(2 * WEEK), Band::Low);
        // Daily deployments, lead time 3 days: high.
        let deployments: Vec<ProdDeployment> = (1..=30)
            .map(|d| deploy("orders", d, 9, Some(72), false))
            .collect();
        let m = measure(
            &deployments,
            &[],
            november(),
            Duration::hours(24),
            at(30, 12),
        );
        assert_eq!(frequency_band(m.per_day), Band::Elite);
        assert_eq!(m.band, Some(Band::High));
    }
}

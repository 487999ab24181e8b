//! The Metrics page: the four DORA measures of delivery to Prod, per team
//! and per service, over the last 30 or 90 days and per release, from the
//! deployment history and outages Gatehouse records.

use crate::domain::dora::{Band, Measures};
use crate::domain::Team;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The windows the page offers, in days.
pub const WINDOWS: [u32; 2] = [30, 90];

/// Releases the trend shows, newest last.
pub const TREND_RELEASES: usize = 6;

/// How long after a Prod deployment an outage or a hotfix of the same
/// service counts against it, in days.
pub const FAILURE_WINDOW_DAYS: i64 = 7;

/// What a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Org,
    Team,
    Service,
}

/// One row of the table: the org, a team or a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureRow {
    pub scope: Scope,
    pub id: String,
    pub name: String,
    /// The team's name (for a service, its team's).
    pub team: String,
    pub measures: Measures,
}

/// One release cycle of a team's trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub release: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub measures: Measures,
}

/// A team's (or the org's) measures release by release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendSeries {
    pub id: String,
    pub name: String,
    pub points: Vec<TrendPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub now: DateTime<Utc>,
    /// The window of the table, in days (one of [`WINDOWS`]).
    pub days: u32,
    pub teams: Vec<Team>,
    /// The team the view is narrowed to (`?team=`).
    pub team: Option<String>,
    /// The environment measured (the last in promotion order).
    pub environment: String,
    /// The org (without a team filter), each team shown, then each of their
    /// services.
    pub rows: Vec<MeasureRow>,
    /// Per team shown, release by release (oldest first).
    pub trend: Vec<TrendSeries>,
    /// The oldest deployment in the history.
    pub history_from: Option<DateTime<Utc>>,
    /// Deployments in the window whose commit times are not read yet.
    pub unread: usize,
}

/// "2.1 a week", "1 a day"...: a frequency in words.
pub fn frequency_words(per_day: f64) -> String {
    if per_day <= 0.0 {
        "none".to_owned()
    } else if per_day >= 1.0 {
        format!("{} a day", one_decimal(per_day))
    } else if per_day * 7.0 >= 1.0 {
        format!("{} a week", one_decimal(per_day * 7.0))
    } else {
        format!("{} a month", one_decimal(per_day * 30.0))
    }
}

fn one_decimal(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// "3 h 20 min", "2.5 days": a duration in words; "no data" without one.
pub fn duration_words(secs: Option<i64>) -> String {
    let Some(secs) = secs else {
        return "no data".to_owned();
    };
    let mins = secs / 60;
    if mins < 60 {
        format!("{mins} min")
    } else if mins < 48 * 60 {
        match mins % 60 {
            0 => format!("{} h", mins / 60),
            m => format!("{} h {m} min", mins / 60),
        }
    } else {
        format!("{} days", one_decimal(secs as f64 / 86_400.0))
    }
}

/// "12 % (3 of 25)"; "no data" without deployments.
pub fn rate_words(m: &Measures) -> String {
    match m.change_failure_rate {
        Some(r) => format!(
            "{} % ({} of {})",
            one_decimal(r * 100.0),
            m.failed,
            m.deployments
        ),
        None => "no data".to_owned(),
    }
}

/// "Elite", …, or "Not enough data".
pub fn band_words(band: Option<Band>) -> &'static str {
    band.map_or("Not enough data", Band::label)
}

impl DeliveryView {
    /// The team's name, or its id.
    pub fn team_name(&self, id: &str) -> String {
        crate::views::prod_plan::team_name(&self.teams, id)
    }

    /// The CSV export's address, keeping the filters.
    pub fn export_href(&self) -> String {
        let mut href = format!("/delivery/export.csv?days={}", self.days);
        if let Some(team) = &self.team {
            href.push_str("&team=");
            href.push_str(team);
        }
        href
    }

    /// The table as CSV (RFC 4180), one line per row; a cell that a
    /// spreadsheet would run as a formula starts with `'`
    /// ([`crate::encode::csv_text`]).
    pub fn csv(&self) -> String {
        fn field(out: &mut String, value: &str) {
            let value = crate::encode::csv_text(value);
            if value.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&value.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(&value);
            }
        }
        let mut out = String::from(
            "scope,id,name,team,window_days,deployments,deployments_per_day,lead_time_hours,failed_deployments,change_failure_rate,time_to_restore_hours,open_outages,band\r\n",
        );
        let hours =
            |s: Option<i64>| s.map_or_else(String::new, |s| format!("{:.2}", s as f64 / 3600.0));
        for row in &self.rows {
            let m = &row.measures;
            let scope = match row.scope {
                Scope::Org => "org",
                Scope::Team => "team",
                Scope::Service => "service",
            };
            for (i, value) in [
                scope.to_owned(),
                row.id.clone(),
                row.name.clone(),
                row.team.clone(),
                self.days.to_string(),
                m.deployments.to_string(),
                format!("{:.3}", m.per_day),
                hours(m.lead_time_secs),
                m.failed.to_string(),
                m.change_failure_rate
                    .map_or_else(String::new, |r| format!("{r:.3}")),
                hours(m.restore_secs),
                m.open_outages.to_string(),
                m.band.map_or("", Band::label).to_owned(),
            ]
            .iter()
            .enumerate()
            {
                if i > 0 {
                    out.push(',');
                }
                field(&mut out, value);
            }
            out.push_str("\r\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_words() {
        assert_eq!(frequency_words(0.0), "none");
        assert_eq!(frequency_words(2.0), "2 a day");
        assert_eq!(frequency_words(0.3), "2.1 a week");
        assert_eq!(frequency_words(0.05), "1.5 a month");
        assert_eq!(duration_words(None), "no data");
        assert_eq!(duration_words(Some(1_500)), "25 min");
        assert_eq!(duration_words(Some(3 * 3_600 + 20 * 60)), "3 h 20 min");
        assert_eq!(duration_words(Some(5 * 86_400)), "5 days");
        assert_eq!(band_words(None), "Not enough data");
        assert_eq!(band_words(Some(Band::High)), "High");
    }

    #[test]
    fn a_name_that_a_spreadsheet_would_run_is_written_as_text() {
        let measures = crate::domain::dora::Measures {
            deployments: 2,
            per_day: 0.5,
            lead_time_secs: None,
            failed: 0,
            change_failure_rate: None,
            restore_secs: None,
            open_outages: 0,
            band: None,
        };
        let view = DeliveryView {
            now: chrono::Utc::now(),
            days: 30,
            teams: Vec::new(),
            team: None,
            environment: "Prod".into(),
            rows: vec![MeasureRow {
                scope: Scope::Service,
                id: "orders-api".into(),
                name: r#"=HYPERLINK("http://evil.example/","Open")"#.into(),
                team: "@Mobile, \"the app\"".into(),
                measures,
            }],
            trend: Vec::new(),
            history_from: None,
            unread: 0,
        };
        let csv = view.csv();
        let line = csv.lines().nth(1).expect("a row");
        assert!(
            line.starts_with(
                r#"service,orders-api,"'=HYPERLINK(""http://evil.example/"",""Open"")","'@Mobile, ""the app""",30,2,"#
            ),
            "{line}"
        );
    }
}

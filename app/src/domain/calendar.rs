//! The release calendar: the bimonthly cycle, each release's milestones per
//! team, blackouts and hotfix windows, and what each environment allows at a
//! given moment. Pure rules; the time zone is a parameter so the rules stay
//! wasm-safe and testable with any zone.

use super::keywords::keyword_enum;
use super::{DeployTrigger, Environment, EnvironmentId, ParseError, TeamId};
use chrono::{DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

keyword_enum!(
    /// A milestone of one release, in the order they happen.
    MilestoneKind, "milestone" {
        DevelopmentStart => "development-start", "Development start";
        CodeFreeze => "code-freeze", "Code freeze";
        ReleaseDemo => "release-demo", "Release demo";
        QaSignOff => "qa-sign-off", "QA sign-off due";
        PreProd => "pre-prod", "Pre-Prod";
        ProdRelease => "prod-release", "Prod release";
    }
);

/// When a milestone falls, counted from the release's development start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneOffset {
    pub kind: MilestoneKind,
    /// Days after development start (0 is development start itself).
    pub day: u16,
    /// Local time of day in the org's zone; `None` is an all-day milestone.
    pub time: Option<NaiveTime>,
}

/// A team's track departing from the org's: its milestone moves by `days`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamShift {
    pub team: TeamId,
    pub kind: MilestoneKind,
    pub days: i16,
}

/// Days (inclusive, in the org's zone) on which some environments take no
/// deployments: holidays, company events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blackout {
    /// Stable id: from configuration, or the change that added it.
    pub id: String,
    pub name: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: String,
    /// The environments it closes (Prod, unless configured otherwise).
    pub environments: Vec<EnvironmentId>,
}

impl Blackout {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.first_day <= day && day <= self.last_day
    }
}

/// The release cycle as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarConfig {
    /// IANA zone name, e.g. "Europe/London".
    pub time_zone: String,
    /// Development start of release 1.
    pub anchor: NaiveDate,
    /// Length of one cycle (2: bimonthly).
    pub cycle_months: u8,
    /// One offset per milestone kind, in order.
    pub milestones: Vec<MilestoneOffset>,
    pub team_shifts: Vec<TeamShift>,
    pub blackouts: Vec<Blackout>,
}

impl CalendarConfig {
    /// Checks that every milestone is present once, in order, and inside
    /// the cycle.
    pub fn check(&self) -> Result<(), ParseError> {
        if !(1..=12).contains(&self.cycle_months) {
            return Err(ParseError::new(
                "cycle length",
                &self.cycle_months.to_string(),
                "must be between 1 and 12 months",
            ));
        }
        let kinds: Vec<MilestoneKind> = self.milestones.iter().map(|m| m.kind).collect();
        if kinds != MilestoneKind::ALL {
            let names: Vec<&str> = MilestoneKind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(ParseError::new(
                "milestones",
                &kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                format!("must name each of {} once, in that order", names.join(", ")),
            ));
        }
        for pair in self.milestones.windows(2) {
            if pair[1].day < pair[0].day {
                return Err(ParseError::new(
                    "milestones",
                    pair[1].kind.as_str(),
                    format!("falls before {}", pair[0].kind.as_str()),
                ));
            }
        }
        if self.milestones.first().is_some_and(|m| m.day != 0) {
            return Err(ParseError::new(
                "milestones",
                "development-start",
                "must be day 0",
            ));
        }
        for b in &self.blackouts {
            if b.last_day < b.first_day {
                return Err(ParseError::new(
                    "blackout",
                    &b.name,
                    "ends before it starts",
                ));
            }
        }
        Ok(())
    }
}

/// A manager's move of one milestone of one release, for one team or all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneMove {
    pub release: u32,
    pub kind: MilestoneKind,
    /// `None` moves the milestone for every team.
    pub team: Option<TeamId>,
    /// The new local date and time in the org's zone.
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub reason: String,
}

/// One milestone of one release on one team's track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub release: u32,
    pub kind: MilestoneKind,
    pub team: TeamId,
    pub at: DateTime<Utc>,
    /// The local date in the org's zone.
    pub date: NaiveDate,
    /// Local time of day; `None` is all day.
    pub time: Option<NaiveTime>,
    /// How many times it was moved (the ICS SEQUENCE).
    pub sequence: u32,
    /// Why it was last moved.
    pub moved_because: Option<String>,
    /// The blackout it falls in, if any.
    pub in_blackout: Option<String>,
}

/// Where a release is, for one team or the whole org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReleaseState {
    Planning,
    InDevelopment,
    Frozen,
    InQa,
    Released,
}

impl ReleaseState {
    pub fn label(self) -> &'static str {
        match self {
            ReleaseState::Planning => "Planning",
            ReleaseState::InDevelopment => "In development",
            ReleaseState::Frozen => "Frozen",
            ReleaseState::InQa => "In QA",
            ReleaseState::Released => "Released",
        }
    }
}

/// One numbered release with every team's milestones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub number: u32,
    /// "2027.01": the year and month its development starts.
    pub name: String,
    /// Development start of this cycle and of the next one (org-wide).
    pub starts: DateTime<Utc>,
    pub next_starts: DateTime<Utc>,
    /// Every team's milestones, team by team in the order teams were given.
    pub milestones: Vec<Milestone>,
}

impl Release {
    pub fn milestone(&self, kind: MilestoneKind, team: &TeamId) -> Option<&Milestone> {
        self.milestones
            .iter()
            .find(|m| m.kind == kind && &m.team == team)
    }

    /// Where the release is for `team`.
    pub fn state_for(&self, team: &TeamId, now: DateTime<Utc>) -> ReleaseState {
        let passed = |kind| self.milestone(kind, team).is_some_and(|m| m.at <= now);
        if passed(MilestoneKind::ProdRelease) {
            ReleaseState::Released
        } else if passed(MilestoneKind::ReleaseDemo) {
            ReleaseState::InQa
        } else if passed(MilestoneKind::CodeFreeze) {
            ReleaseState::Frozen
        } else if passed(MilestoneKind::DevelopmentStart) {
            ReleaseState::InDevelopment
        } else {
            ReleaseState::Planning
        }
    }

    /// Where the release is for the org: as far as its slowest team.
    pub fn state(&self, teams: &[TeamId], now: DateTime<Utc>) -> ReleaseState {
        teams
            .iter()
            .map(|t| self.state_for(t, now))
            .min()
            .unwrap_or(ReleaseState::Planning)
    }

    /// The code freeze to Prod release span of `team`, when the release
    /// branch is what Release and QA take.
    fn frozen_span(&self, team: &TeamId) -> Option<(&Milestone, &Milestone)> {
        Some((
            self.milestone(MilestoneKind::CodeFreeze, team)?,
            self.milestone(MilestoneKind::ProdRelease, team)?,
        ))
    }
}

/// Whether an environment takes deployments now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gate {
    Open,
    /// Only hotfix branches (Release outside a freeze).
    HotfixOnly,
    Closed,
}

/// What one environment allows at a moment, in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowance {
    pub environment: EnvironmentId,
    pub gate: Gate,
    pub sentence: String,
}

/// The calendar of one org: configuration, moves and added blackouts, read
/// in `tz`.
#[derive(Debug, Clone)]
pub struct Calendar<Tz: TimeZone> {
    pub config: CalendarConfig,
    pub tz: Tz,
    pub teams: Vec<TeamId>,
    /// In the order they were made; the latest applicable one wins.
    pub moves: Vec<MilestoneMove>,
    /// Configured blackouts and the ones managers added.
    pub blackouts: Vec<Blackout>,
}

/// The instant a local date and time mean in `tz`. An all-day milestone
/// starts at local midnight; a time skipped by a DST change moves forward to
/// the first valid minute; an ambiguous one takes its earlier meaning.
pub fn local_instant<Tz: TimeZone>(
    tz: &Tz,
    date: NaiveDate,
    time: Option<NaiveTime>,
) -> DateTime<Utc> {
    let mut local = date.and_time(time.unwrap_or(NaiveTime::MIN));
    for _ in 0..=180 {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => local += chrono::Duration::minutes(1),
        }
    }
    // No zone skips more than three hours; treat the input as UTC.
    Utc.from_utc_datetime(&date.and_time(time.unwrap_or(NaiveTime::MIN)))
}

impl<Tz: TimeZone> Calendar<Tz> {
    pub fn new(config: CalendarConfig, tz: Tz, teams: Vec<TeamId>) -> Self {
        let blackouts = config.blackouts.clone();
        Self {
            config,
            tz,
            teams,
            moves: Vec::new(),
            blackouts,
        }
    }

    /// The local date of an instant in the org's zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// Development start of release `number` (1-based), counted from the
    /// anchor so that month-end anchors do not drift (Jan 31, Mar 31, ...).
    pub fn start_date(&self, number: u32) -> NaiveDate {
        let months = u32::from(self.config.cycle_months) * number.saturating_sub(1);
        self.config
            .anchor
            .checked_add_months(Months::new(months))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The release whose cycle holds `day`, or `None` before the anchor.
    pub fn release_number_on(&self, day: NaiveDate) -> Option<u32> {
        if day < self.config.anchor {
            return None;
        }
        let months = (day.year() - self.config.anchor.year()) * 12 + day.month() as i32
            - self.config.anchor.month() as i32;
        let mut n = (months.max(0) as u32) / u32::from(self.config.cycle_months) + 1;
        while n > 1 && self.start_date(n) > day {
            n -= 1;
        }
        while self.start_date(n + 1) <= day {
            n += 1;
        }
        Some(n)
    }

    fn blackout_on(&self, day: NaiveDate) -> Option<&Blackout> {
        self.blackouts.iter().find(|b| b.covers(day))
    }

    /// Release `number` with every team's milestones, shifts and moves applied.
    pub fn release(&self, number: u32) -> Release {
        let number = number.max(1);
        let start = self.start_date(number);
        let mut milestones = Vec::with_capacity(self.teams.len() * self.config.milestones.len());
        for team in &self.teams {
            for offset in &self.config.milestones {
                let shift: i64 = self
                    .config
                    .team_shifts
                    .iter()
                    .filter(|s| &s.team == team && s.kind == offset.kind)
                    .map(|s| i64::from(s.days))
                    .sum();
                let day = i64::from(offset.day) + shift;
                let mut date = if day >= 0 {
                    start.checked_add_days(Days::new(day as u64))
                } else {
                    start.checked_sub_days(Days::new(day.unsigned_abs()))
                }
                .unwrap_or(start);
                let mut time = offset.time;
                let applicable: Vec<&MilestoneMove> = self
                    .moves
                    .iter()
                    .filter(|m| {
                        m.release == number
                            && m.kind == offset.kind
                            && m.team.as_ref().is_none_or(|t| t == team)
                    })
                    .collect();
                let mut moved_because = None;
                if let Some(last) = applicable.last() {
                    date = last.date;
                    time = last.time;
                    moved_because = Some(last.reason.clone());
                }
                milestones.push(Milestone {
                    release: number,
                    kind: offset.kind,
                    team: team.clone(),
                    at: local_instant(&self.tz, date, time),
                    date,
                    time,
                    sequence: applicable.len() as u32,
                    moved_because,
                    in_blackout: self.blackout_on(date).map(|b| b.name.clone()),
                });
            }
        }
        Release {
            number,
            name: format!("{}.{:02}", start.year(), start.month()),
            starts: local_instant(&self.tz, start, None),
            next_starts: local_instant(&self.tz, self.start_date(number + 1), None),
            milestones,
        }
    }

    /// The releases whose cycles overlap the local days `first..=last`,
    /// with one more on each side, since moved milestones may spill over.
    pub fn releases_around(&self, first: NaiveDate, last: NaiveDate) -> Vec<Release> {
        let Some(to) = self.release_number_on(last) else {
            return Vec::new();
        };
        let from = self
            .release_number_on(first)
            .unwrap_or(1)
            .saturating_sub(1)
            .max(1);
        (from..=to + 1).map(|n| self.release(n)).collect()
    }

    /// Release `n` and `n + 1` around `now`, where `n` holds today.
    fn nearby(&self, now: DateTime<Utc>) -> Vec<Release> {
        let today = self.local_date(now);
        match self.release_number_on(today) {
            Some(n) => (n.saturating_sub(1).max(1)..=n + 1)
                .map(|k| self.release(k))
                .collect(),
            None => vec![self.release(1)],
        }
    }

    /// "12 Jan 2027" in the org's zone.
    pub fn day_words(&self, at: DateTime<Utc>) -> String {
        self.local_date(at).format("%-d %b %Y").to_string()
    }

    /// What `env` allows for `team` at `now`.
    pub fn allowance(&self, env: &Environment, team: &TeamId, now: DateTime<Utc>) -> Allowance {
        let today = self.local_date(now);
        let make = |gate, sentence: String| Allowance {
            environment: env.id.clone(),
            gate,
            sentence,
        };
        if let Some(b) = self
            .blackouts
            .iter()
            .find(|b| b.covers(today) && b.environments.contains(&env.id))
        {
            let until = b.last_day.format("%-d %b %Y");
            return make(
                Gate::Closed,
                format!("No deployments during {} (through {until}).", b.name),
            );
        }
        if !env.trigger.after_freeze() {
            return make(Gate::Open, format!("{}, any time.", env.trigger.label()));
        }
        let releases = self.nearby(now);
        let frozen = releases.iter().find_map(|r| {
            let (freeze, prod) = r.frozen_span(team)?;
            (freeze.at <= now && now < prod.at).then_some((r, freeze))
        });
        let approvals = env.trigger == DeployTrigger::ManualApprovalAfterFreeze;
        if let Some((release, freeze)) = frozen {
            let what = if approvals {
                "Approvals open"
            } else {
                "Deploys on commit"
            };
            return make(
                Gate::Open,
                format!(
                    "{what} since code freeze on {} (release {}).",
                    self.day_words(freeze.at),
                    release.name
                ),
            );
        }
        let next = releases.iter().find_map(|r| {
            let freeze = r.milestone(MilestoneKind::CodeFreeze, team)?;
            (freeze.at > now).then_some((r, freeze))
        });
        let when = match next {
            Some((release, freeze)) => format!(
                "code freeze on {} (release {})",
                self.day_words(freeze.at),
                release.name
            ),
            None => "the next code freeze".to_owned(),
        };
        if approvals {
            make(Gate::Closed, format!("Approvals open at {when}."))
        } else {
            make(Gate::HotfixOnly, format!("Hotfixes only until {when}."))
        }
    }

    /// Why approving into `env` for `team` is not allowed at `now`, if it
    /// is not: the calendar's part of the approval policy.
    pub fn approval_refusal(
        &self,
        env: &Environment,
        team: &TeamId,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let allowance = self.allowance(env, team, now);
        (allowance.gate == Gate::Closed).then(|| format!("{}: {}", env.name, allowance.sentence))
    }

    /// Hotfix windows: from one release's Prod release to the next code
    /// freeze, when Release takes hotfix branches only. Local days.
    pub fn hotfix_window(
        &self,
        release: &Release,
        next: &Release,
        team: &TeamId,
    ) -> Option<(NaiveDate, NaiveDate)> {
        let from = release.milestone(MilestoneKind::ProdRelease, team)?.date;
        let to = next.milestone(MilestoneKind::CodeFreeze, team)?.date;
        (from < to).then(|| (from, to.pred_opt().unwrap_or(to)))
    }
}

impl fmt::Display for ReleaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BranchPattern, DisplayName, DownPolicy, RoleKind};
    use chrono::Timelike;
    use chrono_tz::Europe::London;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn at(h: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(h, 0, 0)
    }

    fn team(id: &str) -> TeamId {
        TeamId::parse(id).expect("team")
    }

    fn config(anchor: &str) -> CalendarConfig {
        let offsets = [
            (0, None),
            (35, at(18)),
            (38, at(15)),
            (49, None),
            (52, None),
            (56, at(10)),
        ];
        CalendarConfig {
            time_zone: "Europe/London".into(),
            anchor: day(anchor),
            cycle_months: 2,
            milestones: MilestoneKind::ALL
                .iter()
                .zip(offsets)
                .map(|(&kind, (day, time))| MilestoneOffset { kind, day, time })
                .collect(),
            team_shifts: vec![],
            blackouts: vec![],
        }
    }

    fn calendar(anchor: &str) -> Calendar<chrono_tz::Tz> {
        Calendar::new(
            config(anchor),
            London,
            vec![team("frontend"), team("mobile")],
        )
    }

    fn env(id: &str, trigger: DeployTrigger) -> Environment {
        Environment {
            id: EnvironmentId::parse(id).expect("id"),
            name: DisplayName::parse(&id.to_uppercase()).expect("name"),
            position: 1,
            usage: String::new(),
            test_types: vec![],
            branches: vec![BranchPattern::parse("release/*").expect("branch")],
            trigger,
            stakeholders: vec![RoleKind::Qa],
            down_policy: DownPolicy::RaiseCritical,
            approval: None,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn cycles_count_from_the_anchor_so_month_ends_do_not_drift() {
        let cal = calendar("2027-01-31");
        let starts: Vec<NaiveDate> = (1..=4).map(|n| cal.start_date(n)).collect();
        assert_eq!(
            starts,
            [
                day("2027-01-31"),
                day("2027-03-31"),
                day("2027-05-31"),
                day("2027-07-31")
            ]
        );
        let cal = calendar("2026-12-31");
        // February has no 31st: the cycle starts on its last day, and the
        // next one is back on the 31st.
        assert_eq!(cal.start_date(2), day("2027-02-28"));
        assert_eq!(cal.start_date(3), day("2027-04-30"));
        assert_eq!(cal.start_date(4), day("2027-06-30"));
        assert_eq!(cal.release_number_on(day("2027-02-27")), Some(1));
        assert_eq!(cal.release_number_on(day("2027-02-28")), Some(2));
        assert_eq!(cal.release_number_on(day("2026-12-30")), None);
    }

    #[test]
    fn leap_years_and_year_boundaries_are_counted_in_days() {
        let cal = calendar("2027-12-30");
        let r1 = cal.release(1);
        assert_eq!(r1.name, "2027.12");
        let freeze = r1
            .milestone(MilestoneKind::CodeFreeze, &team("mobile"))
            .expect("freeze");
        // 35 days after 30 Dec 2027 is 3 Feb 2028, across the year boundary.
        assert_eq!(freeze.date, day("2028-02-03"));
        let prod = r1
            .milestone(MilestoneKind::ProdRelease, &team("mobile"))
            .expect("prod");
        // 2028 is a leap year: 56 days after 30 Dec is 24 Feb; ...
        assert_eq!(prod.date, day("2028-02-24"));
        // ... and the next cycle starts on 29 Feb 2028.
        assert_eq!(cal.start_date(2), day("2028-02-29"));
        assert_eq!(cal.release(2).name, "2028.02");
        assert_eq!(cal.release(3).name, "2028.04");
        assert_eq!(cal.start_date(3), day("2028-04-30"));
    }

    #[test]
    fn times_are_local_to_the_org_and_stored_in_utc_across_dst() {
        // Release 1 starts 1 Feb 2027: code freeze on 8 Mar (GMT) at 18:00,
        // Prod release on 29 Mar (BST, after the 28 Mar change) at 10:00.
        let cal = calendar("2027-02-01");
        let r = cal.release(1);
        let freeze = r
            .milestone(MilestoneKind::CodeFreeze, &team("frontend"))
            .expect("freeze");
        assert_eq!(freeze.at, utc("2027-03-08T18:00:00Z"));
        let prod = r
            .milestone(MilestoneKind::ProdRelease, &team("frontend"))
            .expect("prod");
        assert_eq!(prod.at, utc("2027-03-29T09:00:00Z"));
        // An all-day milestone starts at local midnight: 23:00 UTC in summer.
        let r3 = cal.release(3);
        assert_eq!(r3.starts, utc("2027-05-31T23:00:00Z"));
    }

    #[test]
    fn a_time_skipped_by_the_clock_change_moves_to_the_first_valid_minute() {
        // 01:30 on 28 Mar 2027 does not exist in London.
        let t = local_instant(
            &London,
            day("2027-03-28"),
            NaiveTime::from_hms_opt(1, 30, 0),
        );
        assert_eq!(t, utc("2027-03-28T01:00:00Z"));
        assert_eq!(t.with_timezone(&London).hour(), 2);
        // 01:30 on 31 Oct 2027 happens twice; the first (BST) is taken.
        let t = local_instant(
            &London,
            day("2027-10-31"),
            NaiveTime::from_hms_opt(1, 30, 0),
        );
        assert_eq!(t, utc("2027-10-31T00:30:00Z"));
    }

    #[test]
    fn team_shifts_move_only_their_team() {
        let mut cfg = config("2027-01-04");
        cfg.team_shifts.push(TeamShift {
            team: team("mobile"),
            kind: MilestoneKind::CodeFreeze,
            days: -3,
        });
        let cal = Calendar::new(cfg, London, vec![team("frontend"), team("mobile")]);
        let r = cal.release(1);
        assert_eq!(
            r.milestone(MilestoneKind::CodeFreeze, &team("frontend"))
                .expect("f")
                .date,
            day("2027-02-08")
        );
        assert_eq!(
            r.milestone(MilestoneKind::CodeFreeze, &team("mobile"))
                .expect("m")
                .date,
            day("2027-02-05")
        );
    }

    #[test]
    fn the_latest_applicable_move_wins_and_each_move_counts_in_the_sequence() {
        let mut cal = calendar("2027-01-04");
        let mv = |team: Option<&str>, date: &str, reason: &str| MilestoneMove {
            release: 1,
            kind: MilestoneKind::CodeFreeze,
            team: team.map(self::team),
            date: day(date),
            time: at(17),
            reason: reason.into(),
        };
        cal.moves.push(mv(None, "2027-02-10", "Payments migration"));
        cal.moves
            .push(mv(Some("mobile"), "2027-02-12", "App store review"));
        let r = cal.release(1);
        let fe = r
            .milestone(MilestoneKind::CodeFreeze, &team("frontend"))
            .expect("fe");
        let mo = r
            .milestone(MilestoneKind::CodeFreeze, &team("mobile"))
            .expect("mo");
        assert_eq!((fe.date, fe.sequence), (day("2027-02-10"), 1));
        assert_eq!((mo.date, mo.sequence), (day("2027-02-12"), 2));
        assert_eq!(mo.moved_because.as_deref(), Some("App store review"));
        assert_eq!(fe.at, utc("2027-02-10T17:00:00Z"));
        // Another release is untouched.
        let r2 = cal.release(2);
        assert_eq!(
            r2.milestone(MilestoneKind::CodeFreeze, &team("frontend"))
                .expect("r2")
                .sequence,
            0
        );
        // An org-wide move after a team's move overrides it too.
        cal.moves.push(mv(None, "2027-02-15", "Everyone waits"));
        let mo = cal
            .release(1)
            .milestone(MilestoneKind::CodeFreeze, &team("mobile"))
            .cloned()
            .expect("mo");
        assert_eq!((mo.date, mo.sequence), (day("2027-02-15"), 3));
    }

    #[test]
    fn release_states_follow_the_milestones_and_the_slowest_team() {
        let mut cal = calendar("2027-01-04");
        cal.config.team_shifts.push(TeamShift {
            team: team("mobile"),
            kind: MilestoneKind::CodeFreeze,
            days: 2,
        });
        let r = cal.release(1);
        let teams = cal.teams.clone();
        assert_eq!(
            r.state(&teams, utc("2027-01-01T00:00:00Z")),
            ReleaseState::Planning
        );
        assert_eq!(
            r.state(&teams, utc("2027-01-20T00:00:00Z")),
            ReleaseState::InDevelopment
        );
        // FrontEnd froze on 8 Feb at 18:00; Mobile freezes two days later.
        let t = utc("2027-02-09T12:00:00Z");
        assert_eq!(r.state_for(&team("frontend"), t), ReleaseState::Frozen);
        assert_eq!(r.state(&teams, t), ReleaseState::InDevelopment);
        assert_eq!(
            r.state(&teams, utc("2027-02-20T00:00:00Z")),
            ReleaseState::InQa
        );
        assert_eq!(
            r.state(&teams, utc("2027-03-02T00:00:00Z")),
            ReleaseState::Released
        );
    }

    #[test]
    fn qa_approvals_open_only_between_code_freeze_and_prod_release() {
        let cal = calendar("2027-01-04");
        let qa = env("qa", DeployTrigger::ManualApprovalAfterFreeze);
        let fe = team("frontend");
        let before = cal.allowance(&qa, &fe, utc("2027-02-08T17:59:00Z"));
        assert_eq!(before.gate, Gate::Closed);
        assert_eq!(
            before.sentence,
            "Approvals open at code freeze on 8 Feb 2027 (release 2027.01)."
        );
        assert_eq!(
            cal.approval_refusal(&qa, &fe, utc("2027-02-08T17:59:00Z"))
                .as_deref(),
            Some("QA: Approvals open at code freeze on 8 Feb 2027 (release 2027.01).")
        );
        let during = cal.allowance(&qa, &fe, utc("2027-02-08T18:00:00Z"));
        assert_eq!(during.gate, Gate::Open);
        assert_eq!(
            during.sentence,
            "Approvals open since code freeze on 8 Feb 2027 (release 2027.01)."
        );
        assert_eq!(
            cal.approval_refusal(&qa, &fe, utc("2027-02-20T00:00:00Z")),
            None
        );
        // After the Prod release, QA waits for the next release's freeze.
        let after = cal.allowance(&qa, &fe, utc("2027-03-01T10:00:00Z"));
        assert_eq!(
            after.sentence,
            "Approvals open at code freeze on 8 Apr 2027 (release 2027.03)."
        );
    }

    #[test]
    fn release_takes_hotfixes_only_outside_a_freeze() {
        let cal = calendar("2027-01-04");
        let release = env("release", DeployTrigger::OnCommitAfterFreeze);
        let fe = team("frontend");
        let outside = cal.allowance(&release, &fe, utc("2027-01-20T00:00:00Z"));
        assert_eq!(outside.gate, Gate::HotfixOnly);
        assert_eq!(
            outside.sentence,
            "Hotfixes only until code freeze on 8 Feb 2027 (release 2027.01)."
        );
        let inside = cal.allowance(&release, &fe, utc("2027-02-10T00:00:00Z"));
        assert_eq!(inside.gate, Gate::Open);
        assert_eq!(
            inside.sentence,
            "Deploys on commit since code freeze on 8 Feb 2027 (release 2027.01)."
        );
        // Hotfix window: Prod release of 2027.01 to the day before 2027.03's freeze.
        let (r1, r2) = (cal.release(1), cal.release(2));
        assert_eq!(
            cal.hotfix_window(&r1, &r2, &fe),
            Some((day("2027-03-01"), day("2027-04-07")))
        );
    }

    #[test]
    fn other_environments_follow_their_trigger_and_blackouts_close_prod() {
        let mut cal = calendar("2027-01-04");
        let stage = env("stage", DeployTrigger::ManualApproval);
        let prod = env("prod", DeployTrigger::Manual);
        let fe = team("frontend");
        let t = utc("2027-02-26T12:00:00Z");
        assert_eq!(
            cal.allowance(&stage, &fe, t).sentence,
            "Manual approval, any time."
        );
        let dev = env("dev", DeployTrigger::OnCommit);
        assert_eq!(cal.allowance(&dev, &fe, t).sentence, "On commit, any time.");
        assert_eq!(cal.allowance(&prod, &fe, t).gate, Gate::Open);
        cal.blackouts.push(Blackout {
            id: "offsite".into(),
            name: "Company offsite".into(),
            first_day: day("2027-02-25"),
            last_day: day("2027-03-01"),
            reason: "Everyone travels".into(),
            environments: vec![prod.id.clone()],
        });
        let closed = cal.allowance(&prod, &fe, t);
        assert_eq!(closed.gate, Gate::Closed);
        assert_eq!(
            closed.sentence,
            "No deployments during Company offsite (through 1 Mar 2027)."
        );
        assert_eq!(cal.allowance(&stage, &fe, t).gate, Gate::Open);
        // The Prod release on 1 Mar falls in the blackout and says so.
        let r = cal.release(1);
        let m = r.milestone(MilestoneKind::ProdRelease, &fe).expect("prod");
        assert_eq!(m.in_blackout.as_deref(), Some("Company offsite"));
        assert_eq!(
            r.milestone(MilestoneKind::CodeFreeze, &fe)
                .expect("f")
                .in_blackout,
            None
        );
    }

    #[test]
    fn configuration_checks_name_the_problem() {
        let mut cfg = config("2027-01-04");
        assert_eq!(cfg.check(), Ok(()));
        cfg.milestones.swap(1, 2);
        assert!(cfg
            .check()
            .expect_err("order")
            .reason
            .contains("in that order"));
        let mut cfg = config("2027-01-04");
        cfg.milestones[2].day = 10;
        assert!(cfg
            .check()
            .expect_err("days")
            .reason
            .contains("falls before code-freeze"));
        let mut cfg = config("2027-01-04");
        cfg.cycle_months = 0;
        assert!(cfg.check().is_err());
    }

    #[test]
    fn releases_around_a_month_cover_its_days() {
        let cal = calendar("2027-01-04");
        let rs = cal.releases_around(day("2027-03-01"), day("2027-03-31"));
        let numbers: Vec<u32> = rs.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 2, 3]);
        assert!(cal
            .releases_around(day("2026-10-01"), day("2026-10-31"))
            .is_empty());
    }
}

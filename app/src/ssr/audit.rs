//! The audit log's service: who may read which rows, and the filters read
//! from the address within their bounds.

use super::AppState;
use crate::domain::audit::{AuditQuery, ALL_KINDS, KINDS};
use crate::domain::{RoleKind, User};
use crate::error::AppError;
use crate::views::audit::{AuditView, PAGE_ROWS};
use chrono::{Datelike, NaiveDate};

/// Longest filter value read from an address.
const FILTER_CHARS: usize = 100;

/// What a viewer may read of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Everything,
    /// A developer: rows of these teams.
    Teams(Vec<String>),
    Nothing,
}

/// Managers, SRE, QA and admins read everything; developers their teams'
/// rows; stakeholders nothing.
pub fn access(user: &User) -> Access {
    if [
        RoleKind::Manager,
        RoleKind::Sre,
        RoleKind::Qa,
        RoleKind::Admin,
    ]
    .iter()
    .any(|k| user.has(*k))
    {
        return Access::Everything;
    }
    let teams: Vec<String> = user
        .roles
        .iter()
        .filter_map(|r| r.team().map(ToString::to_string))
        .collect();
    if teams.is_empty() {
        Access::Nothing
    } else {
        Access::Teams(teams)
    }
}

fn bounded(name: &str, value: Option<String>) -> Result<Option<String>, AppError> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(v) = &value {
        if v.chars().count() > FILTER_CHARS {
            return Err(AppError::BadRequest(format!(
                "The {name} filter is longer than {FILTER_CHARS} characters."
            )));
        }
    }
    Ok(value)
}

/// The years a date filter may name: every audit row lies within them,
/// and Postgres can compare any of their days with a time (a year far
/// outside fails in the database).
const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

fn day(name: &str, value: Option<String>) -> Result<Option<NaiveDate>, AppError> {
    bounded(name, value)?
        .map(|v| {
            let date = NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|_| {
                AppError::BadRequest(format!(
                    "The {name} date \u{201c}{v}\u{201d} is not a date like 2026-12-01."
                ))
            })?;
            if !YEARS.contains(&date.year()) {
                return Err(AppError::BadRequest(format!(
                    "The {name} date \u{201c}{v}\u{201d} is outside the dates the audit log covers \
                     ({}-01-01 to {}-12-31).",
                    YEARS.start(),
                    YEARS.end()
                )));
            }
            Ok(date)
        })
        .transpose()
}

/// The filters of an address, each checked and bounded.
#[allow(clippy::too_many_arguments)]
pub fn parse_query(
    person: Option<String>,
    team: Option<String>,
    environment: Option<String>,
    service: Option<String>,
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
) -> Result<AuditQuery, AppError> {
    let person = bounded("person", person)?;
    if let Some(p) = &person {
        if uuid::Uuid::parse_str(p).is_err() {
            return Err(AppError::BadRequest(
                "The person filter takes a person's id, as the person list offers it.".into(),
            ));
        }
    }
    let kind = bounded("kind", kind)?;
    if let Some(k) = &kind {
        if k != ALL_KINDS && !KINDS.iter().any(|(known, _)| known == k) {
            return Err(AppError::BadRequest(format!(
                "\u{201c}{k}\u{201d} is not a kind of audit row."
            )));
        }
    }
    let before = bounded("page", before)?
        .map(|b| {
            b.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| AppError::BadRequest("The page cursor is not a row number.".into()))
        })
        .transpose()?;
    let from = day("from", from)?;
    let to = day("to", to)?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(AppError::BadRequest(format!(
                "The range starts ({f}) after it ends ({t})."
            )));
        }
    }
    Ok(AuditQuery {
        person,
        team: bounded("team", team)?,
        environment: bounded("environment", environment)?,
        service: bounded("service", service)?,
        kind,
        from,
        to,
        before,
        only_teams: None,
        limit: PAGE_ROWS,
        hide_routine: false,
    })
}

/// What `user` may read of the log; those who may read nothing are
/// refused in words (the page and the export alike).
pub fn readable(user: &User) -> Result<Access, AppError> {
    match access(user) {
        Access::Nothing => Err(AppError::Forbidden(
            "The audit log is for managers, SRE, QA, admins and developers (their own teams' rows); \
             stakeholders follow releases on the Release demo and the Board."
                .into(),
        )),
        access => Ok(access),
    }
}

/// The signed-in viewer and what they may read.
pub fn reader(caller: &super::Caller) -> Result<(User, Access), AppError> {
    let user = caller.required()?.clone();
    let access = readable(&user)?;
    Ok((user, access))
}

/// One page of the log for the signed-in viewer.
pub async fn view(
    state: &AppState,
    caller: &super::Caller,
    mut query: AuditQuery,
) -> Result<AuditView, AppError> {
    let (user, access) = reader(caller)?;
    let limited_to = match access {
        Access::Teams(teams) => Some(teams),
        _ => None,
    };
    query.only_teams.clone_from(&limited_to);
    query.limit = PAGE_ROWS + 1;
    // The page leads with decisions and changes; sign-ins behind the filter.
    query.hide_routine = query.kind.is_none();
    let mut rows = state.audit.page(&query).await?;
    let next = if rows.len() > PAGE_ROWS {
        rows.truncate(PAGE_ROWS);
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    let org = state.org.load_org().await?;
    let is_admin = user.has(RoleKind::Admin);
    Ok(AuditView {
        query,
        rows,
        next,
        people: state.audit.people().await?,
        teams: org
            .teams
            .iter()
            .map(|t| (t.id.to_string(), t.name.to_string()))
            .collect(),
        environments: org
            .environments
            .iter()
            .map(|e| (e.id.to_string(), e.name.to_string()))
            .collect(),
        services: org.services.iter().map(|s| s.id.to_string()).collect(),
        service_names: org
            .services
            .iter()
            .map(|s| (s.id.to_string(), s.name.to_string()))
            .collect(),
        verification: if is_admin {
            state.audit.last_verification().await?
        } else {
            None
        },
        is_admin,
        limited_to,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_query;

    fn dates(from: &str, to: &str) -> Result<(), String> {
        parse_query(
            None,
            None,
            None,
            None,
            None,
            Some(from.into()),
            Some(to.into()),
            None,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    #[test]
    fn dates_postgres_cannot_compare_are_refused_in_words() {
        assert_eq!(dates("1970-01-01", "9999-12-31"), Ok(()));
        for (from, to) in [
            ("-262143-01-01", ""),
            ("", "-4713-01-01"),
            ("1969-12-31", ""),
            ("0001-01-01", ""),
        ] {
            let said = dates(from, to).expect_err(from);
            assert!(
                said.contains(
                    "is outside the dates the audit log covers (1970-01-01 to 9999-12-31)"
                ),
                "{said}"
            );
        }
    }
}

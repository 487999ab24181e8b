//! The health prober: every service's health URL in every probed
//! environment, on an interval, with a timeout. Only changes of state are
//! recorded; what a change means follows the environment's down policy:
//! shown only, downtime counted, or a Critical GitHub issue opened (one per
//! outage, reopened when the service goes down again soon after), commented
//! on and closed when the service recovers. Runs on the leader only.

use crate::adapters::db::board as store;
use crate::org_config::HealthConfig;
use app::domain::DownPolicy;
use app::ssr::ports::{NewAudit, StoreError};
use app::ssr::AppState;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use sqlx::PgPool;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProbeReport {
    pub probed: usize,
    pub changes: usize,
    pub issues_opened: usize,
    pub issues_reopened: usize,
    pub issues_closed: usize,
    pub ticket_errors: usize,
}

/// Probes at once at most this many URLs.
const CONCURRENT_PROBES: usize = 16;

/// One probe: up when the URL answers 2xx within the timeout.
async fn probe(
    client: &reqwest::Client,
    url: &str,
    timeout: std::time::Duration,
) -> (bool, String) {
    match client.get(url).timeout(timeout).send().await {
        Ok(response) if response.status().is_success() => {
            (true, format!("HTTP {}", response.status().as_u16()))
        }
        Ok(response) => (false, format!("HTTP {}", response.status())),
        Err(err) if err.is_timeout() => (
            false,
            format!("no answer within {} s", timeout.as_secs_f32()),
        ),
        Err(err) if err.is_connect() => (false, "connection refused or unreachable".to_owned()),
        Err(err) => (false, format!("request failed: {err}")),
    }
}

/// Probes every URL once, records the results, and brings Critical tickets
/// in line with the outages.
pub async fn probe_once(
    state: &AppState,
    pool: &PgPool,
    config: &HealthConfig,
    client: &reqwest::Client,
) -> Result<ProbeReport, StoreError> {
    let _wrote = state.changes.writing(app::ssr::changes::Topic::Board);
    let org = state.org.load_org().await?;
    let mut targets = Vec::new();
    for service in &org.services {
        for env in org.environments_for(&service.team) {
            if config.environments.iter().any(|e| e == env.id.as_str()) {
                let url = config.url_for(service.id.as_str(), env.id.as_str());
                targets.push((
                    service.id.to_string(),
                    env.id.to_string(),
                    env.down_policy,
                    url,
                ));
            }
        }
    }
    let results: Vec<_> = futures::stream::iter(targets)
        .map(|(service, env, policy, url)| async move {
            let (ok, detail) = probe(client, &url, config.timeout).await;
            (service, env, policy, url, ok, detail, Utc::now())
        })
        .buffer_unordered(CONCURRENT_PROBES)
        .collect()
        .await;
    let mut report = ProbeReport {
        probed: results.len(),
        ..ProbeReport::default()
    };
    for (service, env, policy, url, ok, detail, at) in results {
        let before = store::probe_state(pool, &service, &env).await?;
        let (after, change) = before.observe(ok, at, config.thresholds);
        if change.is_some() {
            report.changes += 1;
            tracing::info!(%service, %env, up = ok, %detail, "health changed");
        }
        store::record_probe(
            pool,
            &service,
            &env,
            &url,
            &after,
            change,
            at,
            &detail,
            policy != DownPolicy::MayBeDown,
            policy == DownPolicy::RaiseCritical,
        )
        .await?;
    }
    tickets(state, pool, config, &mut report).await?;
    Ok(report)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Opens, reopens, comments on and closes Critical issues until every
/// outage's ticket is where it should be. A GitHub failure leaves the work
/// for the next pass.
async fn tickets(
    state: &AppState,
    pool: &PgPool,
    config: &HealthConfig,
    report: &mut ProbeReport,
) -> Result<(), StoreError> {
    let work = store::ticket_work(pool).await?;
    if work.is_empty() {
        return Ok(());
    }
    let org = state.org.load_org().await?;
    for item in work {
        let Some(service) = org
            .services
            .iter()
            .find(|s| s.id.as_str() == item.service_id)
        else {
            continue;
        };
        let env_name = org
            .environments
            .iter()
            .find(|e| e.id.as_str() == item.environment_id)
            .map_or(item.environment_id.clone(), |e| e.name.to_string());
        let repo = service.repository.to_string();
        let ticket = |kind: &'static str, url: &str, summary: String| NewAudit {
            kind,
            team: Some(service.team.to_string()),
            environment: Some(item.environment_id.clone()),
            service: Some(item.service_id.clone()),
            subject: Some(url.to_owned()),
            summary,
            details: serde_json::json!({
                "repository": repo,
                "issue": url,
                "down_since": item.started_at.to_rfc3339(),
                "outage": item.outage_id,
            }),
            ..NewAudit::default()
        };
        let result = match (item.ended_at, item.issue_number) {
            (None, None) => {
                let reopen_after = Utc::now()
                    - chrono::Duration::from_std(config.reopen_within)
                        .unwrap_or_else(|_| chrono::Duration::hours(1));
                let recent = store::recent_ticket(
                    pool,
                    &item.service_id,
                    &item.environment_id,
                    item.outage_id,
                    reopen_after,
                )
                .await?;
                match recent {
                    Some((number, url)) => {
                        let n = u64::try_from(number).unwrap_or_default();
                        let body = format!(
                            "{} is down again in {env_name} since {}. Reopened by Gatehouse rather than opening another issue, as it recovered less than {} minutes ago.",
                            service.name,
                            when(item.started_at),
                            config.reopen_within.as_secs() / 60
                        );
                        let done = async {
                            state.github.reopen_issue(&repo, n).await?;
                            state.github.comment_issue(&repo, n, &body).await
                        }
                        .await;
                        match done {
                            Ok(()) => {
                                let audit = ticket(
                                    "ticket_opened",
                                    &url,
                                    format!(
                                        "Critical ticket #{number} reopened: {} is down again in {env_name}",
                                        service.name
                                    ),
                                );
                                store::set_ticket(pool, item.outage_id, number, &url, &audit)
                                    .await?;
                                report.issues_reopened += 1;
                                Ok(())
                            }
                            Err(err) => Err(err),
                        }
                    }
                    None => {
                        let title = format!("{} is down in {env_name}", service.name);
                        // An issue opened on a pass that stopped before
                        // recording it is adopted, not opened twice.
                        let existing = state
                            .github
                            .find_open_issue(&repo, &title, "Critical")
                            .await
                            .ok()
                            .flatten();
                        let opened = if let Some(issue) = existing {
                            Ok((issue, false))
                        } else {
                            let deployed =
                                store::deployment(pool, &item.service_id, &item.environment_id)
                                    .await?
                                    .and_then(|d| {
                                        d.commit.map(|c| {
                                            format!(
                                                "`{}`{}{}",
                                                c.chars().take(7).collect::<String>(),
                                                d.message
                                                    .map(|m| format!(" ({m})"))
                                                    .unwrap_or_default(),
                                                d.deployed_at
                                                    .map(|t| format!(", deployed {}", when(t)))
                                                    .unwrap_or_default()
                                            )
                                        })
                                    })
                                    .unwrap_or_else(|| "not known".to_owned());
                            let body = format!(
                            "Gatehouse's health probe finds **{}** down in **{env_name}**.\n\n- Environment: {env_name}\n- Down since: {}\n- Health URL: {}\n- Last deploy: {deployed}\n\nGatehouse comments here and closes this issue when the service answers again.",
                            service.name,
                            when(item.started_at),
                            config.url_for(&item.service_id, &item.environment_id),
                        );
                            state
                                .github
                                .open_issue(&repo, &title, &body, &["Critical"])
                                .await
                                .map(|issue| (issue, true))
                        };
                        match opened {
                            Ok((issue, new)) => {
                                let audit = if new {
                                    ticket(
                                        "ticket_opened",
                                        &issue.url,
                                        format!(
                                            "Critical ticket #{} opened: {} is down in {env_name}",
                                            issue.number, service.name
                                        ),
                                    )
                                } else {
                                    ticket(
                                        "ticket_adopted",
                                        &issue.url,
                                        format!(
                                            "Critical ticket #{} adopted: it was already open for {} in {env_name}",
                                            issue.number, service.name
                                        ),
                                    )
                                };
                                store::set_ticket(
                                    pool,
                                    item.outage_id,
                                    i64::try_from(issue.number).unwrap_or(i64::MAX),
                                    &issue.url,
                                    &audit,
                                )
                                .await?;
                                if new {
                                    report.issues_opened += 1;
                                }
                                Ok(())
                            }
                            Err(err) => Err(err),
                        }
                    }
                }
            }
            (Some(ended), Some(number)) => {
                let n = u64::try_from(number).unwrap_or_default();
                let minutes = (ended - item.started_at).num_minutes();
                let body = format!(
                    "{} answers again in {env_name} since {} (down for {} min). Closed by Gatehouse.",
                    service.name,
                    when(ended),
                    minutes.max(0)
                );
                let done = async {
                    state.github.comment_issue(&repo, n, &body).await?;
                    state.github.close_issue(&repo, n).await
                }
                .await;
                match done {
                    Ok(()) => {
                        let url = item.issue_url.clone().unwrap_or_default();
                        let audit = ticket(
                            "ticket_closed",
                            &url,
                            format!(
                                "Critical ticket #{number} closed: {} answers again in {env_name} after {} min",
                                service.name,
                                minutes.max(0)
                            ),
                        );
                        store::ticket_closed(pool, item.outage_id, &audit).await?;
                        report.issues_closed += 1;
                        Ok(())
                    }
                    Err(err) => Err(err),
                }
            }
            _ => Ok(()),
        };
        if let Err(err) = result {
            report.ticket_errors += 1;
            // GitHub unreachable or out of requests is reported once, as
            // the integration's state, not per ticket and pass.
            if err.is_service_failure() {
                tracing::debug!(service = %item.service_id, env = %item.environment_id, error = %err, "Critical ticket not updated; trying again next pass");
            } else {
                tracing::warn!(service = %item.service_id, env = %item.environment_id, error = %err, "Critical ticket not updated; trying again next pass");
            }
        }
    }
    Ok(())
}

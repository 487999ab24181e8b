//! The Inventory page's service.

use super::{AppState, Mode};
use crate::domain::inventory::{aws_service, by_service, drift, StateSummary};
use crate::error::AppError;
use crate::views::inventory::{
    DriftView, EnvironmentState, InventoryView, ServiceRow, DRIFT_LISTED,
};
use std::collections::BTreeMap;

/// Every environment in the org's order, its state, the counts by service,
/// and the drift between each environment and the next (both read).
pub async fn view(state: &AppState, caller: &super::Caller) -> Result<InventoryView, AppError> {
    if state.mode != Mode::Demo {
        caller.required()?;
    }
    let org = state.org.load_org().await?;
    let stored = state.inventory.states().await?;
    let mut environments = Vec::new();
    let mut summaries: Vec<Option<StateSummary>> = Vec::new();
    let mut envs: Vec<_> = org.environments.iter().collect();
    envs.sort_by_key(|e| e.position);
    for env in &envs {
        let s = stored.iter().find(|s| s.environment_id == env.id.as_str());
        environments.push(EnvironmentState {
            id: env.id.to_string(),
            name: env.name.to_string(),
            source: s.map(|s| s.source.clone()),
            serial: s.and_then(|s| s.serial),
            lineage: s
                .and_then(|s| s.lineage.as_ref())
                .map(|l| l.chars().take(8).collect()),
            terraform_version: s.and_then(|s| s.terraform_version.clone()),
            resources: s.map_or(0, |s| s.resources.len()),
            applied_at: s.and_then(|s| s.applied_at),
            fetched_at: s.and_then(|s| s.fetched_at),
            error: s.and_then(|s| s.error.clone()),
        });
        summaries.push(s.filter(|s| s.serial.is_some()).map(|s| StateSummary {
            serial: u64::try_from(s.serial.unwrap_or_default()).unwrap_or_default(),
            lineage: s.lineage.clone().unwrap_or_default(),
            terraform_version: s.terraform_version.clone().unwrap_or_default(),
            resources: s.resources.clone(),
        }));
    }
    let counts: Vec<Option<BTreeMap<String, usize>>> = summaries
        .iter()
        .map(|s| s.as_ref().map(|s| by_service(&s.resources)))
        .collect();
    let mut names: Vec<String> = counts
        .iter()
        .flatten()
        .flat_map(|c| c.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    let services = names
        .into_iter()
        .map(|service| {
            let title = summaries
                .iter()
                .flatten()
                .flat_map(|s| s.resources.iter())
                .filter_map(|r| aws_service(&r.kind))
                .find(|(short, _)| *short == service)
                .map_or_else(|| service.clone(), |(_, long)| long.to_owned());
            ServiceRow {
                counts: counts
                    .iter()
                    .map(|c| c.as_ref().map(|c| c.get(&service).copied().unwrap_or(0)))
                    .collect(),
                title,
                service,
            }
        })
        .collect();
    let mut drifts = Vec::new();
    for i in 0..envs.len().saturating_sub(1) {
        let (Some(first), Some(second)) = (&summaries[i], &summaries[i + 1]) else {
            continue;
        };
        let d = drift(first, second);
        let list = |v: &[crate::domain::inventory::TfResource]| {
            v.iter()
                .take(DRIFT_LISTED)
                .map(|r| r.address.clone())
                .collect::<Vec<_>>()
        };
        drifts.push(DriftView {
            first: envs[i].name.to_string(),
            second: envs[i + 1].name.to_string(),
            only_in_first: list(&d.only_in_first),
            only_in_second: list(&d.only_in_second),
            more_in_first: d.only_in_first.len().saturating_sub(DRIFT_LISTED),
            more_in_second: d.only_in_second.len().saturating_sub(DRIFT_LISTED),
        });
    }
    Ok(InventoryView {
        environments,
        services,
        drifts,
    })
}

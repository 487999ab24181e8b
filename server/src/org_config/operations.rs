//! The operations sections: `[health]` and `[hotfixes]`, and the
//! [`OperationsConfig`] that gathers them with `[notifications]` and
//! `[terraform]`.

use super::checks::Checker;
use super::notifications::ChannelConfig;
use super::raw::RawHealth;
use super::{parse_file, ConfigError, ConfigErrors};
use app::domain::OrgModel;
use std::path::Path;

impl Checker<'_> {
    /// Checks the `[health]` section: a URL template that is an http(s) URL
    /// once its placeholders are filled in, known environments, counts of
    /// at least 1.
    pub(super) fn health(
        &self,
        org: &OrgModel,
        raw: Option<RawHealth>,
    ) -> Result<Option<HealthConfig>, ConfigError> {
        let checker = self;
        let Some(h) = raw else {
            return Ok(None);
        };
        let url = h.url.trim().to_owned();
        let filled = url
            .replace("{service}", "service")
            .replace("{environment}", "environment");
        let usable = (url.starts_with("http://") || url.starts_with("https://"))
            && reqwest::Url::parse(&filled)
                .is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()));
        if !usable {
            return Err(checker.err(
                "health.url",
                format!(
                    "{url:?} is not an http:// or https:// URL; give one such as \"https://{{service}}.{{environment}}.example.internal/healthz\" ({{service}} and {{environment}} are replaced)"
                ),
            ));
        }
        let env_ids: Vec<&str> = org.environments.iter().map(|e| e.id.as_str()).collect();
        let environments = match h.environments {
            None => env_ids.iter().map(|e| (*e).to_owned()).collect(),
            Some(list) => {
                for (i, e) in list.iter().enumerate() {
                    checker.reference(
                        format!("health.environments[{i}]"),
                        "environment",
                        e,
                        &env_ids,
                    )?;
                }
                list
            }
        };
        let positive = |key: &str, value: Option<u64>, default: u64| match value {
            Some(0) => Err(checker.err(format!("health.{key}"), "must be at least 1")),
            Some(v) => Ok(v),
            None => Ok(default),
        };
        Ok(Some(HealthConfig {
            url,
            environments,
            interval: std::time::Duration::from_secs(positive(
                "interval_secs",
                h.interval_secs,
                30,
            )?),
            timeout: std::time::Duration::from_secs(positive("timeout_secs", h.timeout_secs, 5)?),
            thresholds: app::domain::health::Thresholds {
                failures_to_down: u32::try_from(positive(
                    "failures_to_down",
                    h.failures_to_down.map(u64::from),
                    2,
                )?)
                .unwrap_or(2),
                successes_to_up: u32::try_from(positive(
                    "successes_to_up",
                    h.successes_to_up.map(u64::from),
                    2,
                )?)
                .unwrap_or(2),
            },
            reopen_within: std::time::Duration::from_secs(
                h.reopen_within_minutes.unwrap_or(60) * 60,
            ),
        }))
    }
}

/// Checks configuration text (the whole of it, as [`parse_file`]), giving
/// its `[health]`, `[hotfixes]`, `[notifications]` and `[terraform]`
/// sections.
pub fn parse_operations(path: &Path, text: &str) -> Result<OperationsConfig, ConfigError> {
    parse_file(path, text)
        .map(|f| f.operations)
        .map_err(ConfigErrors::first)
}

/// How Gatehouse watches the environments.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationsConfig {
    /// `None`: no health URLs, nothing is probed.
    pub health: Option<HealthConfig>,
    /// Refuse a Prod approval for a revision containing a hotfix that is not
    /// merged back into develop and the open release branch.
    pub refuse_unmerged_hotfix: bool,
    /// `[[notifications.channels]]`.
    pub notifications: Vec<ChannelConfig>,
    /// `[terraform]`: where each environment's state is read.
    pub terraform: Option<crate::adapters::terraform::TerraformConfig>,
}

/// The `[health]` section: which URLs are probed, how often, and how many
/// probes in a row change the state.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    /// A URL template with `{service}` and `{environment}`.
    pub url: String,
    /// The environments probed.
    pub environments: Vec<String>,
    pub interval: std::time::Duration,
    pub timeout: std::time::Duration,
    pub thresholds: app::domain::health::Thresholds,
    /// An outage starting this soon after the last one closed reopens its
    /// ticket instead of opening another.
    pub reopen_within: std::time::Duration,
}

impl HealthConfig {
    /// The health URL of one service in one environment.
    pub fn url_for(&self, service: &str, environment: &str) -> String {
        self.url
            .replace("{service}", service)
            .replace("{environment}", environment)
    }
}

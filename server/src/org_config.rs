//! The org configuration file: TOML in, a checked [`OrgModel`] out. Every
//! error names the file, the key and what is wrong with it.

use app::domain::approval::ApprovalRule;
use app::domain::calendar::{Blackout, CalendarConfig, MilestoneKind, MilestoneOffset, TeamShift};
use app::domain::deploy_dag::{Call, CallKind, DeployDag};
use app::domain::notification::{ChannelKind, NotificationEvent};
use app::domain::{
    BranchPattern, DeployTrigger, DisplayName, DownPolicy, Environment, EnvironmentId,
    EnvironmentOverride, OrgModel, ParseError, PipelineMapping, ProdPlanConfig, RepoName, Role,
    RoleKind, Service, ServiceId, Team, TeamId, TestType,
};
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// A configuration problem, precise enough to fix without reading code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// The key, e.g. `environments[3].branches[1]`; indexes count from 0.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(
                f,
                "invalid org configuration {}: {}",
                self.file.display(),
                self.message
            )
        } else {
            write!(
                f,
                "invalid org configuration {}: {}: {}",
                self.file.display(),
                self.key,
                self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrg {
    organisation: RawOrganisation,
    #[serde(default)]
    teams: Vec<RawTeam>,
    #[serde(default)]
    services: Vec<RawService>,
    #[serde(default)]
    environments: Vec<RawEnvironment>,
    #[serde(default)]
    overrides: Vec<RawOverride>,
    codepipeline: Option<RawCodePipeline>,
    calendar: Option<RawCalendar>,
    access: Option<RawAccess>,
    health: Option<RawHealth>,
    hotfixes: Option<RawHotfixes>,
    prod_plan: Option<RawProdPlan>,
    notifications: Option<RawNotifications>,
    terraform: Option<RawTerraform>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerraform {
    refresh_secs: Option<u64>,
    /// The region of the S3 sources' buckets (the AWS region setting's
    /// when unset).
    s3_region: Option<String>,
    /// An S3-compatible server for the S3 sources (MinIO, moto).
    s3_endpoint: Option<String>,
    #[serde(default)]
    states: Vec<RawTerraformState>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerraformState {
    environment: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotifications {
    #[serde(default)]
    channels: Vec<RawChannel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    id: String,
    kind: String,
    url_env: Option<String>,
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    to_roles: Vec<String>,
    events: Vec<String>,
    teams: Option<Vec<String>>,
    environments: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProdPlan {
    strict: Option<bool>,
}

/// One entry of a service's `calls`: a service id (HTTP), or the id with
/// how it is called.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawCall {
    Service(String),
    WithKind { service: String, kind: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    #[serde(default)]
    admins: Vec<String>,
    #[serde(default)]
    teams: Vec<RawTeamRole>,
    #[serde(default)]
    people: Vec<RawPerson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    identities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    url: String,
    environments: Option<Vec<String>>,
    interval_secs: Option<u64>,
    timeout_secs: Option<u64>,
    failures_to_down: Option<u32>,
    successes_to_up: Option<u32>,
    reopen_within_minutes: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHotfixes {
    refuse_prod_when_unmerged: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeamRole {
    team: String,
    role: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    time_zone: String,
    anchor: String,
    cycle_months: Option<u8>,
    milestones: Vec<RawMilestone>,
    #[serde(default)]
    team_shifts: Vec<RawTeamShift>,
    #[serde(default)]
    blackouts: Vec<RawBlackout>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMilestone {
    kind: String,
    day: u16,
    time: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeamShift {
    team: String,
    milestone: String,
    days: i16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlackout {
    name: String,
    first_day: String,
    last_day: String,
    reason: String,
    environments: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodePipeline {
    pipeline_name: Option<String>,
    approval_stage: Option<String>,
    approval_action: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: String,
    name: String,
    team: String,
    repository: String,
    #[serde(default)]
    calls: Vec<RawCall>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    id: String,
    name: String,
    usage: String,
    test_types: Vec<String>,
    branches: Vec<String>,
    trigger: String,
    stakeholders: Vec<String>,
    down_policy: String,
    approvers: Option<Vec<String>>,
    required_approvals: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    team: String,
    environment: String,
    branches: Option<Vec<String>>,
    trigger: Option<String>,
    stakeholders: Option<Vec<String>>,
}

/// The text of the configuration file at `path`.
fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_owned(),
        key: String::new(),
        message: format!("cannot read the file: {e}"),
    })
}

/// Everything the org configuration file says, checked: what `serve` runs
/// with and what `check-config` describes.
#[derive(Debug, Clone)]
pub struct OrgFile {
    /// Teams, services, environments, overrides, pipelines, calendar and the
    /// Prod plan.
    pub org: OrgModel,
    /// `[access]`: who gets which role.
    pub access: AccessConfig,
    /// `[health]`, `[hotfixes]`, `[notifications]` and `[terraform]`.
    pub operations: OperationsConfig,
}

/// Every problem found in a configuration file: the first of each section
/// (a section stops at its first problem; the teams, services and
/// environments are checked before the sections that refer to them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The first problem (there is always one).
    pub fn first(self) -> ConfigError {
        self.0.into_iter().next().unwrap_or_else(|| ConfigError {
            file: PathBuf::new(),
            key: String::new(),
            message: "invalid".into(),
        })
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        Self(vec![e])
    }
}

/// Reads and checks the whole org configuration file at `path`, once: the
/// one checker `serve` starts with and `check-config` runs.
pub fn load_file(path: &Path) -> Result<OrgFile, ConfigErrors> {
    parse_file(path, &read(path)?)
}

/// Checks the whole text of an org configuration file; `path` is only used
/// in error messages.
pub fn parse_file(path: &Path, text: &str) -> Result<OrgFile, ConfigErrors> {
    let mut raw: RawOrg = toml::from_str(text).map_err(|e| {
        let location = e.span().map(|span| line_col(text, span.start));
        ConfigError {
            file: path.to_owned(),
            key: location
                .map(|(l, c)| format!("line {l}, column {c}"))
                .unwrap_or_default(),
            message: e.message().trim().to_owned(),
        }
    })?;
    let checker = Checker { file: path };
    // The sections that refer to teams and environments are taken out
    // first, and checked once those are known.
    let access = raw.access.take();
    let health = raw.health.take();
    let hotfixes = raw.hotfixes.take();
    let notifications = raw.notifications.take();
    let raw_terraform = raw.terraform.take();
    let org = checker.check(raw)?;
    fn keep<T>(errors: &mut Vec<ConfigError>, result: Result<T, ConfigError>) -> Option<T> {
        result.map_err(|e| errors.push(e)).ok()
    }
    let mut errors = Vec::new();
    let access = keep(&mut errors, checker.access(&org, access));
    let health = keep(&mut errors, checker.health(&org, health));
    let notifications = keep(
        &mut errors,
        match notifications {
            None => Ok(Vec::new()),
            Some(n) => channels(&checker, &org, n.channels),
        },
    );
    let terraform = keep(
        &mut errors,
        match raw_terraform {
            None => Ok(None),
            Some(t) => terraform(&checker, &org, t).map(Some),
        },
    );
    match (access, health, notifications, terraform) {
        (Some(access), Some(health), Some(notifications), Some(terraform)) => Ok(OrgFile {
            org,
            access,
            operations: OperationsConfig {
                health,
                refuse_unmerged_hotfix: hotfixes
                    .and_then(|h| h.refuse_prod_when_unmerged)
                    .unwrap_or(true),
                notifications,
                terraform,
            },
        }),
        _ => Err(ConfigErrors(errors)),
    }
}

/// Reads and checks the org configuration at `path` (the whole file, as
/// [`load_file`]), giving its org model.
pub fn load(path: &Path) -> Result<OrgModel, ConfigError> {
    load_file(path).map(|f| f.org).map_err(ConfigErrors::first)
}

/// Reads and checks the file at `path` (the whole file, as [`load_file`]),
/// giving who gets which role from its `[access]` section.
pub fn load_access(path: &Path) -> Result<AccessConfig, ConfigError> {
    load_file(path)
        .map(|f| f.access)
        .map_err(ConfigErrors::first)
}

impl Checker<'_> {
    /// Checks the `[access]` section.
    fn access(&self, org: &OrgModel, raw: Option<RawAccess>) -> Result<AccessConfig, ConfigError> {
        let checker = self;
        let Some(access) = raw else {
            return Ok(AccessConfig::default());
        };
        let team_ids: Vec<&str> = org.teams.iter().map(|t| t.id.as_str()).collect();
        let mut teams = Vec::with_capacity(access.teams.len());
        for (i, t) in access.teams.iter().enumerate() {
            let key = |f: &str| format!("access.teams[{i}].{f}");
            let group = t.team.trim();
            if group.is_empty() {
                return Err(checker.err(
                    key("team"),
                    "name a GitHub team as \"org/team-slug\" or an OIDC group",
                ));
            }
            let role = checker.value(&key("role"), Role::parse, &t.role)?;
            if let Some(team) = role.team() {
                checker.reference(key("role"), "team", team.as_str(), &team_ids)?;
            }
            teams.push(TeamRole {
                group: group.to_owned(),
                role,
            });
        }
        let mut admins = Vec::with_capacity(access.admins.len());
        for (i, a) in access.admins.iter().enumerate() {
            admins.push(identity_key(checker, format!("access.admins[{i}]"), a)?);
        }
        let mut people: Vec<Vec<String>> = Vec::with_capacity(access.people.len());
        for (i, p) in access.people.iter().enumerate() {
            let mut keys = Vec::with_capacity(p.identities.len());
            for (j, id) in p.identities.iter().enumerate() {
                let key = identity_key(checker, format!("access.people[{i}].identities[{j}]"), id)?;
                if people
                    .iter()
                    .flatten()
                    .chain(keys.iter())
                    .any(|k| *k == key)
                {
                    return Err(checker.err(
                        format!("access.people[{i}].identities[{j}]"),
                        format!("{key} is already linked; an identity belongs to one person"),
                    ));
                }
                keys.push(key);
            }
            if keys.len() < 2 {
                return Err(checker.err(
                    format!("access.people[{i}].identities"),
                    "link two or more identities of one person, e.g. [\"github:583231\", \"oidc:00u1ab2c3\"]",
                ));
            }
            if keys.iter().filter(|k| k.starts_with("github:")).count() > 1 {
                return Err(checker.err(
                    format!("access.people[{i}].identities"),
                    "one person has at most one GitHub account here",
                ));
            }
            people.push(keys);
        }
        Ok(AccessConfig {
            admins,
            teams,
            people,
        })
    }

    /// Checks the `[health]` section: a URL template that is an http(s) URL
    /// once its placeholders are filled in, known environments, counts of
    /// at least 1.
    fn health(
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

/// Checks an identity as configuration names it: `github:<account id>` or
/// `oidc:<subject>`, exact and immutable. A username or e-mail is refused:
/// those change and repeat.
fn identity_key(checker: &Checker<'_>, key: String, raw: &str) -> Result<String, ConfigError> {
    let raw = raw.trim();
    let ok = match raw.split_once(':') {
        Some(("github", id)) => !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        Some(("oidc", sub)) => !sub.is_empty() && !sub.chars().any(char::is_whitespace),
        _ => false,
    };
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(checker.err(
            key,
            format!(
                "\"{raw}\" is not an identity: write github:<numeric account id> (GET /users/<login> shows it) or oidc:<subject> (the sub claim); names are not accepted because they can change hands"
            ),
        ))
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

/// Checks `[terraform]`: one source per known environment, each a file path
/// or an http(s) URL.
fn terraform(
    checker: &Checker<'_>,
    org: &OrgModel,
    raw: RawTerraform,
) -> Result<crate::terraform::TerraformConfig, ConfigError> {
    use crate::terraform::StateSource;
    let env_ids: Vec<&str> = org.environments.iter().map(|e| e.id.as_str()).collect();
    let refresh = match raw.refresh_secs {
        Some(0) => return Err(checker.err("terraform.refresh_secs", "must be at least 1")),
        Some(s) => s,
        None => 300,
    };
    let mut states: Vec<(String, StateSource)> = Vec::new();
    for (i, s) in raw.states.into_iter().enumerate() {
        checker.reference(
            format!("terraform.states[{i}].environment"),
            "environment",
            &s.environment,
            &env_ids,
        )?;
        if states.iter().any(|(e, _)| *e == s.environment) {
            return Err(checker.err(
                format!("terraform.states[{i}].environment"),
                format!("{} has another state source above", s.environment),
            ));
        }
        let source = s.source.trim();
        let parsed = if source.starts_with("https://") || source.starts_with("http://") {
            StateSource::Http(source.to_owned())
        } else if let Some(rest) = source.strip_prefix("s3://") {
            match rest.split_once('/') {
                Some((bucket, key))
                    if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') =>
                {
                    StateSource::S3 {
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                    }
                }
                _ => {
                    return Err(checker.err(
                        format!("terraform.states[{i}].source"),
                        "give an S3 object as s3://bucket/path/to/terraform.tfstate",
                    ))
                }
            }
        } else if source.is_empty() || source.contains("://") {
            return Err(checker.err(
                format!("terraform.states[{i}].source"),
                "give an http(s):// URL (Terraform's HTTP backend) or a file path",
            ));
        } else {
            StateSource::File(std::path::PathBuf::from(source))
        };
        states.push((s.environment, parsed));
    }
    Ok(crate::terraform::TerraformConfig {
        refresh: std::time::Duration::from_secs(refresh),
        states,
        s3: crate::terraform::S3Settings {
            region: raw.s3_region.filter(|r| !r.trim().is_empty()),
            endpoint: match raw.s3_endpoint.map(|e| e.trim().to_owned()) {
                Some(e) if e.starts_with("http://") || e.starts_with("https://") => Some(e),
                Some(e) if e.is_empty() => None,
                Some(_) => {
                    return Err(checker.err(
                        "terraform.s3_endpoint",
                        "give the S3-compatible server's http(s):// address",
                    ))
                }
                None => None,
            },
            credentials: None,
        },
    })
}

/// Checks `[[notifications.channels]]`: unique ids, a sink for each kind,
/// known events, teams, environments and roles.
fn channels(
    checker: &Checker<'_>,
    org: &OrgModel,
    raw: Vec<RawChannel>,
) -> Result<Vec<ChannelConfig>, ConfigError> {
    let team_ids: Vec<&str> = org.teams.iter().map(|t| t.id.as_str()).collect();
    let env_ids: Vec<&str> = org.environments.iter().map(|e| e.id.as_str()).collect();
    let mut out: Vec<ChannelConfig> = Vec::new();
    for (i, c) in raw.into_iter().enumerate() {
        let key = |k: &str| format!("notifications.channels[{i}].{k}");
        let id = c.id.trim().to_owned();
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(checker.err(
                key("id"),
                "use 1 to 64 lowercase letters, digits and dashes, e.g. \"release-train\"",
            ));
        }
        if out.iter().any(|o| o.id == id) {
            return Err(checker.err(key("id"), format!("\"{id}\" names another channel too")));
        }
        let kind = match c.kind.as_str() {
            "webhook" => ChannelKind::Webhook,
            "email" => ChannelKind::Email,
            other => {
                return Err(checker.err(
                    key("kind"),
                    format!("\"{other}\" is not one of: webhook, email"),
                ))
            }
        };
        let sink = match kind {
            ChannelKind::Webhook => {
                let Some(url_env) = c.url_env.map(|v| v.trim().to_owned()) else {
                    return Err(checker.err(
                        key("url_env"),
                        "name the environment variable holding the webhook's URL (the URL is a secret and stays out of this file), e.g. \"GATEHOUSE_WEBHOOK_RELEASE_TRAIN\"",
                    ));
                };
                if url_env.is_empty()
                    || !url_env
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                {
                    return Err(checker.err(
                        key("url_env"),
                        "an environment variable name: uppercase letters, digits and underscores",
                    ));
                }
                if !c.to.is_empty() || !c.to_roles.is_empty() {
                    return Err(checker.err(
                        key("to"),
                        "a webhook posts to its URL; only e-mail channels take to and to_roles",
                    ));
                }
                ChannelSink::Webhook { url_env }
            }
            ChannelKind::Email => {
                if c.url_env.is_some() {
                    return Err(checker.err(
                        key("url_env"),
                        "e-mail goes through GATEHOUSE_SMTP_URL; url_env is for webhooks",
                    ));
                }
                if c.to.is_empty() && c.to_roles.is_empty() {
                    return Err(checker.err(
                        key("to"),
                        "give addresses (to = [\"release-train@acme.example\"]) or roles (to_roles = [\"approvers\", \"sre\"])",
                    ));
                }
                for (j, address) in c.to.iter().enumerate() {
                    let ok = address.len() <= 254
                        && address.split_once('@').is_some_and(|(local, domain)| {
                            !local.is_empty()
                                && domain.contains('.')
                                && !address.contains(char::is_whitespace)
                        });
                    if !ok {
                        return Err(checker.err(
                            format!("notifications.channels[{i}].to[{j}]"),
                            format!("\"{address}\" is not an e-mail address"),
                        ));
                    }
                }
                let mut to_roles = Vec::new();
                for (j, role) in c.to_roles.iter().enumerate() {
                    to_roles.push(if role == "approvers" {
                        RoleTarget::Approvers
                    } else {
                        RoleTarget::Role(RoleKind::parse(role).map_err(|e| {
                            checker.err(
                                format!("notifications.channels[{i}].to_roles[{j}]"),
                                format!(
                                    "{}, or approvers (who can approve the waiting request)",
                                    e.reason
                                ),
                            )
                        })?)
                    });
                }
                ChannelSink::Email {
                    to: c.to.clone(),
                    to_roles,
                }
            }
        };
        if c.events.is_empty() {
            return Err(checker.err(key("events"), "list at least one event"));
        }
        let mut events = Vec::new();
        for (j, e) in c.events.iter().enumerate() {
            let event = NotificationEvent::parse(e).map_err(|err| {
                checker.err(
                    format!("notifications.channels[{i}].events[{j}]"),
                    err.to_string(),
                )
            })?;
            if !events.contains(&event) {
                events.push(event);
            }
        }
        let teams = c.teams.unwrap_or_default();
        for (j, t) in teams.iter().enumerate() {
            checker.reference(
                format!("notifications.channels[{i}].teams[{j}]"),
                "team",
                t,
                &team_ids,
            )?;
        }
        let environments = c.environments.unwrap_or_default();
        for (j, e) in environments.iter().enumerate() {
            checker.reference(
                format!("notifications.channels[{i}].environments[{j}]"),
                "environment",
                e,
                &env_ids,
            )?;
        }
        out.push(ChannelConfig {
            id,
            kind,
            sink,
            events,
            teams,
            environments,
        });
    }
    Ok(out)
}

/// Who an e-mail channel writes to by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleTarget {
    /// The people who can approve the waiting request (its environment's
    /// approver roles; developers of the service's team).
    Approvers,
    /// Everyone holding the role (developers: of the event's team).
    Role(RoleKind),
}

/// Where a channel's messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelSink {
    /// The URL is read from this environment variable at start.
    Webhook { url_env: String },
    Email {
        to: Vec<String>,
        to_roles: Vec<RoleTarget>,
    },
}

/// One `[[notifications.channels]]` entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    pub id: String,
    pub kind: ChannelKind,
    pub sink: ChannelSink,
    pub events: Vec<NotificationEvent>,
    /// Empty: every team.
    pub teams: Vec<String>,
    /// Empty: every environment.
    pub environments: Vec<String>,
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
    pub terraform: Option<crate::terraform::TerraformConfig>,
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

/// Who gets which Gatehouse role: GitHub teams (`org/team-slug`) or OIDC
/// groups mapped to roles, and the people who are admins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessConfig {
    /// Identities (`github:<id>`, `oidc:<sub>`) that are admins.
    pub admins: Vec<String>,
    pub teams: Vec<TeamRole>,
    /// Identities linked as one person: each list is one person, known by
    /// its first identity.
    pub people: Vec<Vec<String>>,
}

impl AccessConfig {
    /// The person an identity belongs to: the first identity of its link,
    /// or the identity itself.
    pub fn person_of(&self, identity: &str) -> String {
        self.people
            .iter()
            .find(|p| p.iter().any(|k| k == identity))
            .and_then(|p| p.first())
            .cloned()
            .unwrap_or_else(|| identity.to_owned())
    }

    /// The GitHub account id of the person an identity belongs to: its own,
    /// or that of a GitHub identity linked to it.
    pub fn github_id_of(&self, identity: &str) -> Option<u64> {
        let own = identity
            .strip_prefix("github:")
            .and_then(|id| id.parse().ok());
        own.or_else(|| {
            self.people
                .iter()
                .find(|p| p.iter().any(|k| k == identity))?
                .iter()
                .find_map(|k| k.strip_prefix("github:")?.parse().ok())
        })
    }
}

/// One team or group and the role its members get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRole {
    pub group: String,
    pub role: Role,
}

/// Checks configuration text (the whole of it, as [`parse_file`]), giving
/// its org model; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<OrgModel, ConfigError> {
    parse_file(path, text)
        .map(|f| f.org)
        .map_err(ConfigErrors::first)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

struct Checker<'a> {
    file: &'a Path,
}

impl Checker<'_> {
    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Parses one value, turning a domain parse error into one at `key`.
    fn value<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
        input: &str,
    ) -> Result<T, ConfigError> {
        parse(input).map_err(|e| self.err(key, e.to_string()))
    }

    /// Parses a list, rejecting duplicates; `min` is the fewest items allowed.
    fn list<T: Eq + std::hash::Hash + Clone>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, ParseError>,
        inputs: &[String],
        min: usize,
    ) -> Result<Vec<T>, ConfigError> {
        if inputs.len() < min {
            return Err(self.err(key, format!("needs at least {min} item(s)")));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let item = self.value(&format!("{key}[{i}]"), &parse, input)?;
            if !seen.insert(item.clone()) {
                return Err(self.err(format!("{key}[{i}]"), format!("{input:?} is listed twice")));
            }
            out.push(item);
        }
        Ok(out)
    }

    fn unique<'v>(
        &self,
        seen: &mut HashSet<&'v str>,
        key: String,
        what: &str,
        value: &'v str,
    ) -> Result<(), ConfigError> {
        if seen.insert(value) {
            Ok(())
        } else {
            Err(self.err(key, format!("{what} {value:?} is used twice")))
        }
    }

    fn check(&self, raw: RawOrg) -> Result<OrgModel, ConfigError> {
        let name = self.value(
            "organisation.name",
            DisplayName::parse,
            &raw.organisation.name,
        )?;
        let teams = self.teams(&raw.teams)?;
        let team_ids: Vec<&str> = teams.iter().map(|t| t.id.as_str()).collect();
        let services = self.services(&raw.services, &team_ids)?;
        let environments = self.environments(&raw.environments)?;
        let env_ids: Vec<&str> = environments.iter().map(|e| e.id.as_str()).collect();
        let overrides = self.overrides(&raw.overrides, &team_ids, &env_ids)?;
        let pipelines = self.pipelines(raw.codepipeline)?;
        let calendar = self.calendar(raw.calendar, &team_ids, &env_ids)?;
        self.calls_form_a_dag(&services)?;
        let prod_plan = ProdPlanConfig {
            strict: raw.prod_plan.and_then(|p| p.strict).unwrap_or(false),
        };
        Ok(OrgModel {
            name,
            teams,
            services,
            environments,
            overrides,
            pipelines,
            calendar,
            prod_plan,
        })
    }

    /// The services' calls have no cycle: a Prod plan needs an order. The
    /// error names the cycle at the `calls` of its first service.
    fn calls_form_a_dag(&self, services: &[Service]) -> Result<(), ConfigError> {
        let pairs: Vec<(&str, &[Call])> = services
            .iter()
            .map(|s| (s.id.as_str(), s.calls.as_slice()))
            .collect();
        match DeployDag::of_calls(&pairs) {
            Ok(_) => Ok(()),
            Err(cycle) => {
                let first = cycle
                    .0
                    .first()
                    .and_then(|f| services.iter().position(|s| s.id.as_str() == f))
                    .unwrap_or(0);
                Err(self.err(
                    format!("services[{first}].calls"),
                    format!(
                        "these services call each other in a cycle: {cycle}; the Prod plan needs an order, so one of these calls must go"
                    ),
                ))
            }
        }
    }

    fn pipelines(&self, raw: Option<RawCodePipeline>) -> Result<PipelineMapping, ConfigError> {
        let default = PipelineMapping::default();
        let Some(raw) = raw else {
            return Ok(default);
        };
        let template = raw.pipeline_name.as_deref().unwrap_or(default.template());
        let stage = raw
            .approval_stage
            .as_deref()
            .unwrap_or(default.approval_stage());
        let action = raw
            .approval_action
            .as_deref()
            .unwrap_or(default.approval_action());
        PipelineMapping::parse(template, stage, action).map_err(|e| {
            let key = match e.what {
                "approval stage" => "codepipeline.approval_stage",
                "approval action" => "codepipeline.approval_action",
                _ => "codepipeline.pipeline_name",
            };
            self.err(key, e.to_string())
        })
    }

    fn calendar(
        &self,
        raw: Option<RawCalendar>,
        team_ids: &[&str],
        env_ids: &[&str],
    ) -> Result<CalendarConfig, ConfigError> {
        let Some(raw) = raw else {
            return Err(self.err(
                "calendar",
                "a [calendar] section is needed: time_zone, anchor and the milestones",
            ));
        };
        if raw.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(self.err(
                "calendar.time_zone",
                format!(
                    "{:?} is not an IANA time zone such as \"Europe/London\"",
                    raw.time_zone
                ),
            ));
        }
        let date = |key: String, text: &str| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| self.err(key, format!("{text:?} is not a date written YYYY-MM-DD")))
        };
        let anchor = date("calendar.anchor".into(), &raw.anchor)?;
        let milestones = raw
            .milestones
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let key = |f: &str| format!("calendar.milestones[{i}].{f}");
                let kind = self.value(&key("kind"), MilestoneKind::parse, &m.kind)?;
                let time = match &m.time {
                    None => None,
                    Some(t) => Some(NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| {
                        self.err(key("time"), format!("{t:?} is not a time written HH:MM"))
                    })?),
                };
                Ok(MilestoneOffset {
                    kind,
                    day: m.day,
                    time,
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let team_shifts = raw
            .team_shifts
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let key = |f: &str| format!("calendar.team_shifts[{i}].{f}");
                self.reference(key("team"), "team", &s.team, team_ids)?;
                Ok(TeamShift {
                    team: self.value(&key("team"), TeamId::parse, &s.team)?,
                    kind: self.value(&key("milestone"), MilestoneKind::parse, &s.milestone)?,
                    days: s.days,
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let blackouts = raw
            .blackouts
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let key = |f: &str| format!("calendar.blackouts[{i}].{f}");
                let environments = match &b.environments {
                    None => vec![self.default_blackout_environment(env_ids)?],
                    Some(list) => {
                        for (j, e) in list.iter().enumerate() {
                            self.reference(
                                format!("{}[{j}]", key("environments")),
                                "environment",
                                e,
                                env_ids,
                            )?;
                        }
                        self.list(&key("environments"), EnvironmentId::parse, list, 1)?
                    }
                };
                Ok(Blackout {
                    id: format!("config-{}", i + 1),
                    name: b.name.trim().to_owned(),
                    first_day: date(key("first_day"), &b.first_day)?,
                    last_day: date(key("last_day"), &b.last_day)?,
                    reason: b.reason.trim().to_owned(),
                    environments,
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let config = CalendarConfig {
            time_zone: raw.time_zone,
            anchor,
            cycle_months: raw.cycle_months.unwrap_or(2),
            milestones,
            team_shifts,
            blackouts,
        };
        config.check().map_err(|e| {
            let key = match e.what {
                "cycle length" => "calendar.cycle_months",
                "blackout" => "calendar.blackouts",
                _ => "calendar.milestones",
            };
            self.err(key, e.to_string())
        })?;
        Ok(config)
    }

    /// Blackouts close Prod unless they say otherwise: the last environment
    /// in promotion order.
    fn default_blackout_environment(&self, env_ids: &[&str]) -> Result<EnvironmentId, ConfigError> {
        let last = env_ids.last().copied().unwrap_or("prod");
        self.value("calendar.blackouts", EnvironmentId::parse, last)
    }

    fn teams(&self, raw: &[RawTeam]) -> Result<Vec<Team>, ConfigError> {
        if raw.is_empty() {
            return Err(self.err("teams", "at least one [[teams]] entry is needed"));
        }
        let (mut ids, mut names) = (HashSet::new(), HashSet::new());
        raw.iter()
            .enumerate()
            .map(|(i, t)| {
                let id = self.value(&format!("teams[{i}].id"), TeamId::parse, &t.id)?;
                let name = self.value(&format!("teams[{i}].name"), DisplayName::parse, &t.name)?;
                self.unique(&mut ids, format!("teams[{i}].id"), "team id", &t.id)?;
                self.unique(&mut names, format!("teams[{i}].name"), "team name", &t.name)?;
                Ok(Team { id, name })
            })
            .collect()
    }

    fn reference(
        &self,
        key: String,
        what: &str,
        value: &str,
        known: &[&str],
    ) -> Result<(), ConfigError> {
        if known.contains(&value) {
            Ok(())
        } else {
            Err(self.err(
                key,
                format!("there is no {what} {value:?}; known: {}", known.join(", ")),
            ))
        }
    }

    fn services(&self, raw: &[RawService], team_ids: &[&str]) -> Result<Vec<Service>, ConfigError> {
        let mut ids = HashSet::new();
        let service_ids: Vec<&str> = raw.iter().map(|s| s.id.as_str()).collect();
        raw.iter()
            .enumerate()
            .map(|(i, s)| {
                let key = |field: &str| format!("services[{i}].{field}");
                let id = self.value(&key("id"), ServiceId::parse, &s.id)?;
                self.unique(&mut ids, key("id"), "service id", &s.id)?;
                self.reference(key("team"), "team", &s.team, team_ids)?;
                Ok(Service {
                    id,
                    name: self.value(&key("name"), DisplayName::parse, &s.name)?,
                    team: self.value(&key("team"), TeamId::parse, &s.team)?,
                    repository: self.value(&key("repository"), RepoName::parse, &s.repository)?,
                    calls: self.calls(i, &s.calls, &service_ids)?,
                })
            })
            .collect()
    }

    /// The calls of the `i`-th service: known services, each once, never
    /// itself.
    fn calls(
        &self,
        i: usize,
        raw: &[RawCall],
        service_ids: &[&str],
    ) -> Result<Vec<Call>, ConfigError> {
        let mut seen = HashSet::new();
        raw.iter()
            .enumerate()
            .map(|(j, call)| {
                let key = format!("services[{i}].calls[{j}]");
                let (service, kind) = match call {
                    RawCall::Service(service) => (service.as_str(), CallKind::Http),
                    RawCall::WithKind { service, kind } => (
                        service.as_str(),
                        self.value(&format!("{key}.kind"), CallKind::parse, kind)?,
                    ),
                };
                self.reference(key.clone(), "service", service, service_ids)?;
                if service_ids.get(i) == Some(&service) {
                    return Err(self.err(key, format!("{service:?} cannot call itself")));
                }
                if !seen.insert(service) {
                    return Err(self.err(key, format!("{service:?} is listed twice")));
                }
                Ok(Call {
                    service: self.value(&key, ServiceId::parse, service)?,
                    kind,
                })
            })
            .collect()
    }

    fn environments(&self, raw: &[RawEnvironment]) -> Result<Vec<Environment>, ConfigError> {
        if raw.is_empty() {
            return Err(self.err(
                "environments",
                "at least one [[environments]] entry is needed",
            ));
        }
        let (mut ids, mut names) = (HashSet::new(), HashSet::new());
        raw.iter()
            .enumerate()
            .map(|(i, e)| {
                let key = |field: &str| format!("environments[{i}].{field}");
                let id = self.value(&key("id"), EnvironmentId::parse, &e.id)?;
                self.unique(&mut ids, key("id"), "environment id", &e.id)?;
                let name = self.value(&key("name"), DisplayName::parse, &e.name)?;
                self.unique(&mut names, key("name"), "environment name", &e.name)?;
                let usage = e.usage.trim();
                if usage.is_empty() {
                    return Err(self.err(key("usage"), "is empty; say what the environment is for"));
                }
                let trigger = self.value(&key("trigger"), DeployTrigger::parse, &e.trigger)?;
                let stakeholders =
                    self.list(&key("stakeholders"), RoleKind::parse, &e.stakeholders, 1)?;
                let approval = self.approval_rule(&key, trigger, &stakeholders, e)?;
                Ok(Environment {
                    id,
                    name,
                    position: u16::try_from(i + 1)
                        .map_err(|_| self.err("environments", "has too many entries"))?,
                    usage: usage.to_owned(),
                    test_types: self.list(&key("test_types"), TestType::parse, &e.test_types, 0)?,
                    branches: self.list(&key("branches"), BranchPattern::parse, &e.branches, 1)?,
                    trigger,
                    stakeholders,
                    down_policy: self.value(
                        &key("down_policy"),
                        DownPolicy::parse,
                        &e.down_policy,
                    )?,
                    approval,
                })
            })
            .collect()
    }

    /// The approval rule of an environment whose trigger needs approval:
    /// `approvers` default to its stakeholders who can approve (developers,
    /// QA, SRE); `required_approvals` to 1.
    fn approval_rule(
        &self,
        key: &dyn Fn(&str) -> String,
        trigger: DeployTrigger,
        stakeholders: &[RoleKind],
        raw: &RawEnvironment,
    ) -> Result<Option<ApprovalRule>, ConfigError> {
        if !trigger.needs_approval() {
            if raw.approvers.is_some() || raw.required_approvals.is_some() {
                return Err(self.err(
                    key("approvers"),
                    format!(
                        "trigger {:?} needs no approval, so approvers and required_approvals do not apply",
                        trigger.as_str()
                    ),
                ));
            }
            return Ok(None);
        }
        let approvers = match &raw.approvers {
            Some(list) => self.list(&key("approvers"), RoleKind::parse, list, 1)?,
            None => stakeholders
                .iter()
                .copied()
                .filter(|k| matches!(k, RoleKind::Developer | RoleKind::Qa | RoleKind::Sre))
                .collect(),
        };
        if let Some(bad) = approvers.iter().find(|k| {
            matches!(
                k,
                RoleKind::Manager | RoleKind::Stakeholder | RoleKind::Admin
            )
        }) {
            return Err(self.err(
                key("approvers"),
                format!("{:?} is read-only and cannot approve", bad.as_str()),
            ));
        }
        if approvers.is_empty() {
            return Err(self.err(key("approvers"), "nobody could approve; list approvers"));
        }
        let required = raw.required_approvals.unwrap_or(1);
        if required == 0 || required > 5 {
            return Err(self.err(key("required_approvals"), "must be between 1 and 5"));
        }
        Ok(Some(ApprovalRule {
            approvers,
            required,
        }))
    }

    fn overrides(
        &self,
        raw: &[RawOverride],
        team_ids: &[&str],
        env_ids: &[&str],
    ) -> Result<Vec<EnvironmentOverride>, ConfigError> {
        let mut pairs = HashSet::new();
        raw.iter()
            .enumerate()
            .map(|(i, o)| {
                let key = |field: &str| format!("overrides[{i}].{field}");
                self.reference(key("team"), "team", &o.team, team_ids)?;
                self.reference(key("environment"), "environment", &o.environment, env_ids)?;
                if !pairs.insert((o.team.as_str(), o.environment.as_str())) {
                    return Err(self.err(
                        format!("overrides[{i}]"),
                        format!(
                            "team {:?} already overrides environment {:?}",
                            o.team, o.environment
                        ),
                    ));
                }
                if o.branches.is_none() && o.trigger.is_none() && o.stakeholders.is_none() {
                    return Err(self.err(
                        format!("overrides[{i}]"),
                        "changes nothing; set branches, trigger or stakeholders",
                    ));
                }
                Ok(EnvironmentOverride {
                    team: self.value(&key("team"), TeamId::parse, &o.team)?,
                    environment: self.value(
                        &key("environment"),
                        EnvironmentId::parse,
                        &o.environment,
                    )?,
                    branches: o
                        .branches
                        .as_deref()
                        .map(|b| self.list(&key("branches"), BranchPattern::parse, b, 1))
                        .transpose()?,
                    trigger: o
                        .trigger
                        .as_deref()
                        .map(|t| self.value(&key("trigger"), DeployTrigger::parse, t))
                        .transpose()?,
                    stakeholders: o
                        .stakeholders
                        .as_deref()
                        .map(|s| self.list(&key("stakeholders"), RoleKind::parse, s, 1))
                        .transpose()?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::GitRef;

    const SHIPPED: &str = include_str!("../../config/org.toml");

    fn shipped() -> OrgModel {
        parse(Path::new("config/org.toml"), SHIPPED).expect("the shipped configuration is valid")
    }

    /// Replaces the first occurrence of `from` in the shipped file, parses it,
    /// and returns the error.
    fn broken(from: &str, to: &str) -> ConfigError {
        assert!(
            SHIPPED.contains(from),
            "test fixture: {from:?} not in config"
        );
        let text = SHIPPED.replacen(from, to, 1);
        parse(Path::new("org.toml"), &text).expect_err("configuration should be rejected")
    }

    #[test]
    fn the_shipped_configuration_is_the_deployment_process_seed() {
        let org = shipped();
        let names: Vec<String> = org
            .environments
            .iter()
            .map(|e| e.name.to_string())
            .collect();
        assert_eq!(names, ["Dev", "Stage", "Release", "QA", "Pre-Prod", "Prod"]);
        let positions: Vec<u16> = org.environments.iter().map(|e| e.position).collect();
        assert_eq!(positions, [1, 2, 3, 4, 5, 6]);
        let teams: Vec<String> = org.teams.iter().map(|t| t.name.to_string()).collect();
        assert_eq!(teams, ["FrontEnd", "BackEnd", "Mobile"]);
        for team in &org.teams {
            assert!(
                org.services_of(&team.id).count() >= 3,
                "{} has a few services",
                team.name
            );
        }

        let env = |id: &str| {
            org.environments
                .iter()
                .find(|e| e.id.as_str() == id)
                .expect(id)
        };
        assert_eq!(env("dev").trigger, DeployTrigger::OnCommit);
        assert_eq!(env("dev").down_policy, DownPolicy::MayBeDown);
        assert!(env("dev").accepts(&GitRef::Branch("feature/cart".into())));
        assert_eq!(env("stage").trigger, DeployTrigger::ManualApproval);
        assert_eq!(env("stage").down_policy, DownPolicy::CalculateDowntime);
        assert_eq!(env("release").trigger, DeployTrigger::OnCommitAfterFreeze);
        assert!(env("release").accepts(&GitRef::Branch("hotfix/login".into())));
        assert_eq!(env("qa").trigger, DeployTrigger::ManualApprovalAfterFreeze);
        assert_eq!(env("qa").test_types, [TestType::Qa]);
        assert_eq!(
            env("qa").stakeholders,
            [RoleKind::Sre, RoleKind::Qa, RoleKind::Developer]
        );
        assert!(env("prod").accepts(&GitRef::Tag("v2027.1.0".into())));
        for id in ["release", "qa", "pre-prod", "prod"] {
            assert_eq!(env(id).down_policy, DownPolicy::RaiseCritical, "{id}");
        }
        let rule = |id: &str| env(id).approval.clone();
        assert_eq!(rule("dev"), None);
        assert_eq!(rule("release"), None, "deploys on commit after the freeze");
        let stage = rule("stage").expect("stage needs approval");
        assert_eq!(
            (stage.approvers, stage.required),
            (vec![RoleKind::Developer, RoleKind::Sre], 1)
        );
        assert_eq!(rule("qa").expect("qa").approvers, [RoleKind::Qa]);
        let prod = rule("prod").expect("prod");
        assert_eq!(
            (prod.approvers, prod.required),
            (vec![RoleKind::Sre, RoleKind::Qa], 2)
        );
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let err = load(Path::new("/nonexistent/org.toml")).expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/org.toml"));
        assert!(err.message.contains("cannot read the file"));
    }

    #[test]
    fn toml_syntax_errors_give_line_and_column() {
        let err = broken("name = \"Acme Retail\"", "name = \"Acme Retail");
        assert_eq!(err.file, PathBuf::from("org.toml"));
        let line = SHIPPED
            .lines()
            .position(|l| l == "name = \"Acme Retail\"")
            .expect("fixture")
            + 1;
        assert!(
            err.key.starts_with(&format!("line {line}, column")),
            "{}",
            err.key
        );
    }

    #[test]
    fn unknown_and_missing_fields_are_rejected() {
        let err = broken(
            "down_policy = \"may-be-down\"",
            "down_policy = \"may-be-down\"\nowner = \"x\"",
        );
        assert!(err.message.contains("unknown field `owner`"), "{err}");
        let err = broken("trigger = \"on-commit\"\n", "");
        assert!(err.message.contains("missing field `trigger`"), "{err}");
    }

    #[test]
    fn each_invalid_value_is_reported_at_its_key() {
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "id = \"frontend\"",
                "id = \"Front End\"",
                "teams[0].id",
                "must start with a lowercase letter",
            ),
            (
                "name = \"BackEnd\"",
                "name = \"FrontEnd\"",
                "teams[1].name",
                "used twice",
            ),
            (
                "id = \"checkout-ui\"",
                "id = \"storefront-web\"",
                "services[1].id",
                "used twice",
            ),
            (
                "team = \"frontend\"",
                "team = \"web\"",
                "services[0].team",
                "there is no team \"web\"; known: frontend, backend, mobile",
            ),
            (
                "repository = \"acme-retail/storefront-web\"",
                "repository = \"storefront\"",
                "services[0].repository",
                "owner/name",
            ),
            (
                "id = \"stage\"",
                "id = \"dev\"",
                "environments[1].id",
                "used twice",
            ),
            (
                "name = \"Stage\"",
                "name = \"Dev\"",
                "environments[1].name",
                "used twice",
            ),
            (
                "branches = [\"develop\"]",
                "branches = []",
                "environments[1].branches",
                "at least 1",
            ),
            (
                "branches = [\"feature/*\", \"develop\"]",
                "branches = [\"feature/*\", \"dev elop\"]",
                "environments[0].branches[1]",
                "character git does not allow",
            ),
            (
                "branches = [\"feature/*\", \"develop\"]",
                "branches = [\"develop\", \"develop\"]",
                "environments[0].branches[1]",
                "listed twice",
            ),
            (
                "trigger = \"on-commit\"",
                "trigger = \"on-push\"",
                "environments[0].trigger",
                "is not one of: on-commit, manual-approval",
            ),
            (
                "down_policy = \"may-be-down\"",
                "down_policy = \"ignore\"",
                "environments[0].down_policy",
                "is not one of",
            ),
            (
                "test_types = [\"qa\"]",
                "test_types = [\"manual\"]",
                "environments[3].test_types[0]",
                "test type \"manual\"",
            ),
            (
                "stakeholders = [\"developer\"]",
                "stakeholders = [\"devs\"]",
                "environments[0].stakeholders[0]",
                "role \"devs\"",
            ),
            (
                "stakeholders = [\"developer\"]",
                "stakeholders = []",
                "environments[0].stakeholders",
                "at least 1",
            ),
            (
                "usage = \"QA tests the release branch and signs it off.\"",
                "usage = \"  \"",
                "environments[3].usage",
                "is empty",
            ),
            (
                "name = \"Acme Retail\"",
                "name = \"\"",
                "organisation.name",
                "is empty",
            ),
        ];
        for (from, to, key, message) in cases {
            let err = broken(from, to);
            assert_eq!(err.key, *key, "{from} -> {to}: {err}");
            assert!(
                err.message.contains(message),
                "{key}: expected {message:?} in {:?}",
                err.message
            );
        }
    }

    #[test]
    fn the_codepipeline_section_names_pipelines_and_is_checked() {
        assert_eq!(shipped().pipelines, PipelineMapping::default());
        let text = SHIPPED
            .replace(
                "pipeline_name = \"{service}-{environment}\"",
                "pipeline_name = \"acme-{service}-{environment}\"",
            )
            .replace("approval_action = \"ManualApproval\"\n", "");
        let org = parse(Path::new("org.toml"), &text).expect("valid");
        assert_eq!(org.pipelines.template(), "acme-{service}-{environment}");
        assert_eq!(
            org.pipelines.approval_action(),
            "ManualApproval",
            "defaults fill the rest"
        );

        let err = broken(
            "pipeline_name = \"{service}-{environment}\"",
            "pipeline_name = \"{service}\"",
        );
        assert_eq!(err.key, "codepipeline.pipeline_name");
        assert!(
            err.message.contains("both {service} and {environment}"),
            "{err}"
        );
        let err = broken(
            "approval_stage = \"Approval\"",
            "approval_stage = \"QA sign-off\"",
        );
        assert_eq!(err.key, "codepipeline.approval_stage");
    }

    #[test]
    fn empty_teams_or_environments_are_rejected() {
        let path = Path::new("org.toml");
        let err = parse(path, "[organisation]\nname = \"A\"\n").expect_err("no teams");
        assert_eq!(err.key, "teams");
        let err = parse(
            path,
            "[organisation]\nname = \"A\"\n[[teams]]\nid = \"a\"\nname = \"A\"\n",
        )
        .expect_err("no envs");
        assert_eq!(err.key, "environments");
    }

    #[test]
    fn the_shipped_health_and_hotfix_settings_are_read() {
        let ops = parse_operations(Path::new("org.toml"), SHIPPED).expect("valid");
        assert!(ops.refuse_unmerged_hotfix);
        let health = ops.health.expect("health");
        assert_eq!(health.environments.len(), 6);
        assert_eq!(health.interval, std::time::Duration::from_secs(30));
        assert_eq!(
            health.url_for("orders-api", "qa"),
            "https://orders-api.qa.acme-retail.internal/healthz"
        );
    }

    #[test]
    fn health_settings_that_cannot_work_are_refused_with_their_key() {
        let bad = |from: &str, to: &str| {
            let text = SHIPPED.replacen(from, to, 1);
            parse_operations(Path::new("org.toml"), &text).expect_err("rejected")
        };
        let err = bad(
            "url = \"https://{service}.{environment}.acme-retail.internal/healthz\"",
            "url = \"ftp://health\"",
        );
        assert_eq!(err.key, "health.url");
        let err = bad("interval_secs = 30", "interval_secs = 0");
        assert_eq!(err.key, "health.interval_secs");
        let err = bad(
            "reopen_within_minutes = 60",
            "reopen_within_minutes = 60\nenvironments = [\"qa\", \"moon\"]",
        );
        assert_eq!(err.key, "health.environments[1]");
        let off = parse_operations(
            Path::new("org.toml"),
            &SHIPPED.replacen(
                "refuse_prod_when_unmerged = true",
                "refuse_prod_when_unmerged = false",
                1,
            ),
        )
        .expect("valid");
        assert!(!off.refuse_unmerged_hotfix);
    }

    #[test]
    fn one_check_reports_a_problem_in_every_section_that_has_one() {
        let text = SHIPPED
            .replacen(
                "url = \"https://{service}.{environment}.acme-retail.internal/healthz\"",
                "url = \"not a url\"",
                1,
            )
            .replacen(
                "events = [\"approval-waiting\"]",
                "events = [\"approval-wating\"]",
                1,
            )
            .replacen(
                "environment = \"prod\"\nsource",
                "environment = \"prood\"\nsource",
                1,
            );
        let errors = parse_file(Path::new("org.toml"), &text).expect_err("three problems");
        let keys: Vec<&str> = errors.0.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "health.url",
                "notifications.channels[1].events[0]",
                "terraform.states[5].environment"
            ]
        );
        let said = errors.to_string();
        assert!(
            said.contains("\"not a url\" is not an http:// or https:// URL"),
            "{said}"
        );
        assert!(said.contains("there is no environment \"prood\""), "{said}");
        // The readers of one section see the same first problem.
        assert_eq!(
            parse_operations(Path::new("org.toml"), &text)
                .expect_err("refused")
                .key,
            "health.url"
        );
        // A template whose host is a placeholder is a URL once filled in.
        let fine = SHIPPED.replacen(
            "url = \"https://{service}.{environment}.acme-retail.internal/healthz\"",
            "url = \"http://{service}:8080/{environment}/health\"",
            1,
        );
        assert!(parse_file(Path::new("org.toml"), &fine).is_ok());
        let hostless = SHIPPED.replacen(
            "url = \"https://{service}.{environment}.acme-retail.internal/healthz\"",
            "url = \"http://:8080/healthz\"",
            1,
        );
        assert_eq!(
            parse_file(Path::new("org.toml"), &hostless)
                .expect_err("no host")
                .0[0]
                .key,
            "health.url"
        );
    }

    #[test]
    fn the_shipped_notification_channels_are_read() {
        let ops = parse_operations(Path::new("org.toml"), SHIPPED).expect("valid");
        let ids: Vec<&str> = ops.notifications.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["release-train", "approvers", "sre-on-call"]);
        let train = &ops.notifications[0];
        assert_eq!(train.events.len(), NotificationEvent::ALL.len());
        assert_eq!(
            train.sink,
            ChannelSink::Webhook {
                url_env: "GATEHOUSE_WEBHOOK_RELEASE_TRAIN".into()
            }
        );
        assert_eq!(
            ops.notifications[1].sink,
            ChannelSink::Email {
                to: Vec::new(),
                to_roles: vec![RoleTarget::Approvers]
            }
        );
        assert_eq!(ops.notifications[2].environments, ["pre-prod", "prod"]);
    }

    #[test]
    fn notification_channels_that_cannot_work_are_refused_with_their_key() {
        let bad = |from: &str, to: &str| {
            let text = SHIPPED.replacen(from, to, 1);
            assert_ne!(text, SHIPPED, "{from}");
            parse_operations(Path::new("org.toml"), &text).expect_err("rejected")
        };
        let err = bad("id = \"approvers\"", "id = \"release-train\"");
        assert_eq!(err.key, "notifications.channels[1].id");
        assert!(err.message.contains("another channel"), "{}", err.message);
        let err = bad(
            "url_env = \"GATEHOUSE_WEBHOOK_RELEASE_TRAIN\"",
            "url_env = \"https://hooks.slack.com/services/T0/B0/secret\"",
        );
        assert_eq!(err.key, "notifications.channels[0].url_env");
        let err = bad("to_roles = [\"approvers\"]", "to_roles = [\"approver\"]");
        assert_eq!(err.key, "notifications.channels[1].to_roles[0]");
        let err = bad(
            "to = [\"sre-on-call@acme-retail.example\"]",
            "to = [\"sre on call\"]",
        );
        assert_eq!(err.key, "notifications.channels[2].to[0]");
        let err = bad(
            "events = [\"approval-waiting\"]",
            "events = [\"approval_waiting\"]",
        );
        assert_eq!(err.key, "notifications.channels[1].events[0]");
        let err = bad(
            "environments = [\"release\", \"qa\", \"pre-prod\", \"prod\"]",
            "environments = [\"release\", \"moon\"]",
        );
        assert_eq!(err.key, "notifications.channels[1].environments[1]");
        let err = bad("kind = \"webhook\"", "kind = \"pager\"");
        assert_eq!(err.key, "notifications.channels[0].kind");
    }

    #[test]
    fn terraform_sources_are_urls_or_files_one_per_environment() {
        let ops = parse_operations(Path::new("org.toml"), SHIPPED).expect("valid");
        let terraform = ops.terraform.expect("terraform");
        assert_eq!(terraform.states.len(), 6);
        assert_eq!(terraform.refresh, std::time::Duration::from_secs(300));
        let bad = |from: &str, to: &str| {
            let text = SHIPPED.replacen(from, to, 1);
            assert_ne!(text, SHIPPED, "{from}");
            parse_operations(Path::new("org.toml"), &text).expect_err("rejected")
        };
        let err = bad(
            "source = \"https://terraform.acme-retail.internal/state/dev\"",
            "source = \"s3://acme-tf\"",
        );
        assert_eq!(err.key, "terraform.states[0].source");
        assert!(err.message.contains("s3://bucket/"), "{}", err.message);
        let s3 = parse_operations(
            Path::new("org.toml"),
            &SHIPPED.replacen(
                "source = \"https://terraform.acme-retail.internal/state/dev\"",
                "source = \"s3://acme-tf/env/dev/terraform.tfstate\"",
                1,
            ),
        )
        .expect("an S3 source")
        .terraform
        .expect("terraform");
        assert_eq!(
            s3.states[0].1,
            crate::terraform::StateSource::S3 {
                bucket: "acme-tf".into(),
                key: "env/dev/terraform.tfstate".into()
            }
        );
        let err = bad(
            "environment = \"stage\"\nsource",
            "environment = \"dev\"\nsource",
        );
        assert_eq!(err.key, "terraform.states[1].environment");
        let file = parse_operations(
            Path::new("org.toml"),
            &SHIPPED.replacen(
                "source = \"https://terraform.acme-retail.internal/state/dev\"",
                "source = \"/srv/terraform/dev.tfstate\"",
                1,
            ),
        )
        .expect("a file source");
        assert_eq!(
            file.terraform.expect("terraform").states[0].1,
            crate::terraform::StateSource::File("/srv/terraform/dev.tfstate".into())
        );
    }

    fn with_overrides(overrides: &str) -> Result<OrgModel, ConfigError> {
        parse(Path::new("org.toml"), &format!("{SHIPPED}\n{overrides}"))
    }

    #[test]
    fn overrides_apply_to_their_team_only() {
        let org = with_overrides(
            "[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\nbranches = [\"tags/v*\"]\n",
        )
        .expect("valid override");
        let mobile = TeamId::parse("mobile").expect("valid");
        let backend = TeamId::parse("backend").expect("valid");
        let prod = |team: &TeamId| {
            org.environments_for(team)
                .into_iter()
                .find(|e| e.id.as_str() == "prod")
                .expect("prod")
        };
        assert!(!prod(&mobile).accepts(&GitRef::Branch("master".into())));
        assert!(prod(&backend).accepts(&GitRef::Branch("master".into())));
    }

    #[test]
    fn invalid_overrides_are_rejected() {
        let cases = [
            ("[[overrides]]\nteam = \"web\"\nenvironment = \"prod\"\ntrigger = \"manual\"\n", "overrides[0].team", "no team"),
            ("[[overrides]]\nteam = \"mobile\"\nenvironment = \"uat\"\ntrigger = \"manual\"\n", "overrides[0].environment", "no environment"),
            ("[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\n", "overrides[0]", "changes nothing"),
            ("[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\ntrigger = \"sometimes\"\n", "overrides[0].trigger", "is not one of"),
            (
                "[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\ntrigger = \"manual\"\n[[overrides]]\nteam = \"mobile\"\nenvironment = \"prod\"\nbranches = [\"master\"]\n",
                "overrides[1]",
                "already overrides",
            ),
        ];
        for (text, key, message) in cases {
            let err = with_overrides(text).expect_err(key);
            assert_eq!(err.key, key, "{err}");
            assert!(err.message.contains(message), "{err}");
            assert!(
                err.to_string()
                    .starts_with("invalid org configuration org.toml: "),
                "{err}"
            );
        }
    }

    /// The shipped file with `from` replaced by `to` (once, must exist).
    fn replaced(from: &str, to: &str) -> Result<OrgModel, ConfigError> {
        assert!(SHIPPED.contains(from), "{from}");
        parse(Path::new("org.toml"), &SHIPPED.replacen(from, to, 1))
    }

    #[test]
    fn the_shipped_services_call_each_other_as_a_dag_with_kinds() {
        let org = shipped();
        let orders = org.service("orders-api").expect("orders-api");
        let called: Vec<(&str, CallKind)> = orders
            .calls
            .iter()
            .map(|c| (c.service.as_str(), c.kind))
            .collect();
        assert_eq!(
            called,
            [
                ("payments-service", CallKind::Grpc),
                ("inventory-service", CallKind::Queue),
                ("identity-service", CallKind::Grpc)
            ]
        );
        assert!(org
            .service("identity-service")
            .expect("identity")
            .calls
            .is_empty());
        assert_eq!(
            org.service("ios-app").expect("ios").calls[0].kind,
            CallKind::Http
        );
        assert!(!org.prod_plan.strict);
        let strict =
            replaced("[prod_plan]\nstrict = false", "[prod_plan]\nstrict = true").expect("valid");
        assert!(strict.prod_plan.strict);
    }

    #[test]
    fn unknown_calls_and_cycles_are_refused_with_their_key() {
        let unknown = replaced(
            "calls = [\"mobile-bff\"]",
            "calls = [\"mobile-bff\", \"ledger\"]",
        )
        .expect_err("unknown service");
        assert_eq!(unknown.key, "services[7].calls[1]");
        assert!(
            unknown.message.contains("there is no service \"ledger\""),
            "{unknown}"
        );

        let kind = replaced("kind = \"queue\"", "kind = \"smoke-signal\"").expect_err("kind");
        assert_eq!(kind.key, "services[3].calls[1].kind");
        assert!(kind.message.contains("http, grpc, queue"), "{kind}");

        let itself =
            replaced("calls = [\"mobile-bff\"]", "calls = [\"ios-app\"]").expect_err("self call");
        assert_eq!(itself.key, "services[7].calls[0]");
        assert!(itself.message.contains("cannot call itself"), "{itself}");

        // Identity service calls Checkout UI, which calls Orders API, which
        // calls Identity service: a cycle, spelled out.
        let cycle = replaced(
            "repository = \"acme-retail/identity-service\"\n",
            "repository = \"acme-retail/identity-service\"\ncalls = [\"checkout-ui\"]\n",
        )
        .expect_err("cycle");
        assert_eq!(cycle.key, "services[1].calls");
        assert!(
            cycle
                .message
                .contains("checkout-ui -> identity-service -> checkout-ui")
                || cycle.message.contains("checkout-ui -> "),
            "{cycle}"
        );
        assert!(cycle.to_string().starts_with("invalid org configuration org.toml: services[1].calls: these services call each other in a cycle: checkout-ui -> "), "{cycle}");
        assert!(
            cycle.message.ends_with("one of these calls must go"),
            "{cycle}"
        );
    }
}

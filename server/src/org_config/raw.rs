//! The file as written: the TOML schema, before any check.

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrg {
    pub(super) organisation: RawOrganisation,
    #[serde(default)]
    pub(super) teams: Vec<RawTeam>,
    #[serde(default)]
    pub(super) services: Vec<RawService>,
    #[serde(default)]
    pub(super) environments: Vec<RawEnvironment>,
    #[serde(default)]
    pub(super) overrides: Vec<RawOverride>,
    pub(super) codepipeline: Option<RawCodePipeline>,
    pub(super) calendar: Option<RawCalendar>,
    pub(super) access: Option<RawAccess>,
    pub(super) health: Option<RawHealth>,
    pub(super) hotfixes: Option<RawHotfixes>,
    pub(super) prod_plan: Option<RawProdPlan>,
    pub(super) notifications: Option<RawNotifications>,
    pub(super) terraform: Option<RawTerraform>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTerraform {
    pub(super) refresh_secs: Option<u64>,
    /// The region of the S3 sources' buckets (the AWS region setting's
    /// when unset).
    pub(super) s3_region: Option<String>,
    /// An S3-compatible server for the S3 sources (MinIO, moto).
    pub(super) s3_endpoint: Option<String>,
    #[serde(default)]
    pub(super) states: Vec<RawTerraformState>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTerraformState {
    pub(super) environment: String,
    pub(super) source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotifications {
    #[serde(default)]
    pub(super) channels: Vec<RawChannel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChannel {
    pub(super) id: String,
    pub(super) kind: String,
    pub(super) url_env: Option<String>,
    #[serde(default)]
    pub(super) to: Vec<String>,
    #[serde(default)]
    pub(super) to_roles: Vec<String>,
    pub(super) events: Vec<String>,
    pub(super) teams: Option<Vec<String>>,
    pub(super) environments: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProdPlan {
    pub(super) strict: Option<bool>,
}

/// One entry of a service's `calls`: a service id (HTTP), or the id with
/// how it is called.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawCall {
    Service(String),
    WithKind { service: String, kind: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccess {
    #[serde(default)]
    pub(super) admins: Vec<String>,
    #[serde(default)]
    pub(super) teams: Vec<RawTeamRole>,
    #[serde(default)]
    pub(super) people: Vec<RawPerson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerson {
    pub(super) identities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHealth {
    pub(super) url: String,
    pub(super) environments: Option<Vec<String>>,
    pub(super) interval_secs: Option<u64>,
    pub(super) timeout_secs: Option<u64>,
    pub(super) failures_to_down: Option<u32>,
    pub(super) successes_to_up: Option<u32>,
    pub(super) reopen_within_minutes: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHotfixes {
    pub(super) refuse_prod_when_unmerged: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTeamRole {
    pub(super) team: String,
    pub(super) role: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCalendar {
    pub(super) time_zone: String,
    pub(super) anchor: String,
    pub(super) cycle_months: Option<u8>,
    pub(super) milestones: Vec<RawMilestone>,
    #[serde(default)]
    pub(super) team_shifts: Vec<RawTeamShift>,
    #[serde(default)]
    pub(super) blackouts: Vec<RawBlackout>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMilestone {
    pub(super) kind: String,
    pub(super) day: u16,
    pub(super) time: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTeamShift {
    pub(super) team: String,
    pub(super) milestone: String,
    pub(super) days: i16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBlackout {
    pub(super) name: String,
    pub(super) first_day: String,
    pub(super) last_day: String,
    pub(super) reason: String,
    pub(super) environments: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCodePipeline {
    pub(super) pipeline_name: Option<String>,
    pub(super) approval_stage: Option<String>,
    pub(super) approval_action: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrganisation {
    pub(super) name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTeam {
    pub(super) id: String,
    pub(super) name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) team: String,
    pub(super) repository: String,
    #[serde(default)]
    pub(super) calls: Vec<RawCall>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvironment {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) usage: String,
    pub(super) test_types: Vec<String>,
    pub(super) branches: Vec<String>,
    pub(super) trigger: String,
    pub(super) stakeholders: Vec<String>,
    pub(super) down_policy: String,
    pub(super) approvers: Option<Vec<String>>,
    pub(super) required_approvals: Option<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOverride {
    pub(super) team: String,
    pub(super) environment: String,
    pub(super) branches: Option<Vec<String>>,
    pub(super) trigger: Option<String>,
    pub(super) stakeholders: Option<Vec<String>>,
}

//! The org model: organisation, teams, services and their calls,
//! environments, overrides, pipelines, calendar and the Prod plan.

use super::checks::Checker;
use super::raw::{
    RawCalendar, RawCall, RawCodePipeline, RawEnvironment, RawOrg, RawOverride, RawService, RawTeam,
};
use super::ConfigError;
use app::domain::approval::ApprovalRule;
use app::domain::calendar::{Blackout, CalendarConfig, MilestoneKind, MilestoneOffset, TeamShift};
use app::domain::deploy_dag::{Call, CallKind, DeployDag};
use app::domain::{
    BranchPattern, DeployTrigger, DisplayName, DownPolicy, Environment, EnvironmentId,
    EnvironmentOverride, OrgModel, PipelineMapping, ProdPlanConfig, RepoName, RoleKind, Service,
    ServiceId, Team, TeamId, TestType,
};
use chrono::{NaiveDate, NaiveTime};
use std::collections::HashSet;

impl Checker<'_> {
    pub(super) fn check(&self, raw: RawOrg) -> Result<OrgModel, ConfigError> {
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

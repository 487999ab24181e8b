//! The `[notifications]` section: the channels and what they are sent.

use super::checks::Checker;
use super::raw::RawChannel;
use super::ConfigError;
use app::domain::notification::{ChannelKind, NotificationEvent};
use app::domain::{OrgModel, RoleKind};

/// Checks `[[notifications.channels]]`: unique ids, a sink for each kind,
/// known events, teams, environments and roles.
pub(super) fn channels(
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

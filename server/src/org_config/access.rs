//! The `[access]` section: who gets which Gatehouse role.

use super::checks::Checker;
use super::raw::RawAccess;
use super::ConfigError;
use app::domain::{OrgModel, Role};

impl Checker<'_> {
    /// Checks the `[access]` section.
    pub(super) fn access(
        &self,
        org: &OrgModel,
        raw: Option<RawAccess>,
    ) -> Result<AccessConfig, ConfigError> {
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

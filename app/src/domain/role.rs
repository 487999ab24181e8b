//! Who people are to Gatehouse: roles, users and the demo personas.

use super::keywords::keyword_enum;
use super::{DisplayName, ParseError, TeamId};
use serde::{Deserialize, Serialize};
use std::fmt;

keyword_enum!(
    /// A role without its team: what environments name as their stakeholders.
    RoleKind, "role" {
        Developer => "developer", "Developers";
        Qa => "qa", "QA";
        Sre => "sre", "SRE";
        Manager => "manager", "Managers";
        Stakeholder => "stakeholder", "Stakeholders";
        Admin => "admin", "Admins";
    }
);

/// A role a person holds. Developers belong to a team; the others are org-wide.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Role {
    Developer(TeamId),
    Qa,
    Sre,
    Manager,
    Stakeholder,
    Admin,
}

impl Role {
    /// Parses `developer:<team>`, `qa`, `sre`, `manager`, `stakeholder` or `admin`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let (kind, team) = match input.split_once(':') {
            Some((kind, team)) => (kind, Some(team)),
            None => (input, None),
        };
        let kind = RoleKind::parse(kind).map_err(|e| ParseError::new("role", input, e.reason))?;
        match (kind, team) {
            (RoleKind::Developer, Some(team)) => {
                TeamId::parse(team).map(Role::Developer).map_err(|e| {
                    ParseError::new(
                        "role",
                        input,
                        format!("names an invalid team: {}", e.reason),
                    )
                })
            }
            (RoleKind::Developer, None) => Err(ParseError::new(
                "role",
                input,
                "needs a team, as developer:<team>",
            )),
            (_, Some(_)) => Err(ParseError::new(
                "role",
                input,
                "takes no team; only developer:<team> does",
            )),
            (RoleKind::Qa, None) => Ok(Role::Qa),
            (RoleKind::Sre, None) => Ok(Role::Sre),
            (RoleKind::Manager, None) => Ok(Role::Manager),
            (RoleKind::Stakeholder, None) => Ok(Role::Stakeholder),
            (RoleKind::Admin, None) => Ok(Role::Admin),
        }
    }

    pub fn kind(&self) -> RoleKind {
        match self {
            Role::Developer(_) => RoleKind::Developer,
            Role::Qa => RoleKind::Qa,
            Role::Sre => RoleKind::Sre,
            Role::Manager => RoleKind::Manager,
            Role::Stakeholder => RoleKind::Stakeholder,
            Role::Admin => RoleKind::Admin,
        }
    }

    /// The team a developer role belongs to.
    pub fn team(&self) -> Option<&TeamId> {
        match self {
            Role::Developer(team) => Some(team),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Developer(team) => write!(f, "developer:{team}"),
            other => f.write_str(other.kind().as_str()),
        }
    }
}

impl TryFrom<String> for Role {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Role> for String {
    fn from(value: Role) -> String {
        value.to_string()
    }
}

/// A signed-in identity: one account at one provider, keyed by that
/// provider's immutable subject (OIDC `sub`, GitHub account id), never by a
/// name. Identities linked by an admin are one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable id of this identity (a UUID as text).
    pub id: String,
    /// The provider's username, for display only: names change and repeat.
    pub login: String,
    pub display_name: DisplayName,
    pub roles: Vec<Role>,
    /// The person this identity belongs to (`github:<id>`, `oidc:<sub>`,
    /// `demo:<login>`, or the first identity of a configured link): votes
    /// are counted per person.
    #[serde(default)]
    pub person: String,
    /// The person's GitHub account id, own or linked: what the four-eyes
    /// rule compares commit authors with.
    #[serde(default)]
    pub github_id: Option<u64>,
    /// E-mail addresses the provider verified for this person.
    #[serde(default)]
    pub emails: Vec<String>,
}

impl User {
    pub fn has(&self, kind: RoleKind) -> bool {
        self.roles.iter().any(|r| r.kind() == kind)
    }
}

/// A demo-mode identity offered on the persona picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persona {
    pub login: String,
    pub display_name: DisplayName,
    /// What the persona does, e.g. "QA engineer".
    pub title: String,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn developer_roles_carry_their_team() {
        let role = Role::parse("developer:mobile").expect("valid");
        assert_eq!(role.team().map(TeamId::as_str), Some("mobile"));
        assert_eq!(role.kind(), RoleKind::Developer);
        assert_eq!(role.to_string(), "developer:mobile");
    }

    #[test]
    fn org_wide_roles_parse_without_a_team() {
        for (input, kind) in [
            ("qa", RoleKind::Qa),
            ("sre", RoleKind::Sre),
            ("manager", RoleKind::Manager),
        ] {
            let role = Role::parse(input).expect(input);
            assert_eq!(role.kind(), kind);
            assert_eq!(role.to_string(), input);
        }
    }

    #[test]
    fn malformed_roles_say_what_is_wrong() {
        let reason = |input: &str| Role::parse(input).expect_err(input).reason;
        assert!(reason("developer").contains("needs a team"));
        assert!(reason("qa:frontend").contains("takes no team"));
        assert!(reason("developer:Front End").contains("invalid team"));
        assert!(reason("tester").contains("is not one of"));
    }

    #[test]
    fn a_user_has_the_kinds_of_its_roles() {
        let user = User {
            id: "1".into(),
            login: "sam".into(),
            display_name: DisplayName::parse("Sam").expect("valid"),
            roles: vec![Role::Sre],
            person: "github:1".into(),
            github_id: Some(1),
            emails: vec![],
        };
        assert!(user.has(RoleKind::Sre));
        assert!(!user.has(RoleKind::Qa));
    }
}

/// A way to sign in, as the sign-in page offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInProvider {
    /// Path segment: `github` or `oidc`.
    pub id: String,
    pub label: String,
}

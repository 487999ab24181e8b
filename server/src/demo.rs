//! Demo mode: the personas a visitor can sign in as.

use app::domain::{OrgModel, Role};

/// A persona to seed as a demo user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonaSeed {
    pub login: String,
    pub display_name: String,
    pub title: String,
    pub roles: Vec<Role>,
}

fn seed(login: &str, name: &str, title: String, role: Role) -> PersonaSeed {
    PersonaSeed {
        login: login.to_owned(),
        display_name: name.to_owned(),
        title,
        roles: vec![role],
    }
}

const DEVELOPERS: &[(&str, &str)] = &[
    ("lena.fischer", "Lena Fischer"),
    ("diego.alvarez", "Diego Alvarez"),
    ("mei.tanaka", "Mei Tanaka"),
    ("tom.becker", "Tom Becker"),
    ("aisha.khan", "Aisha Khan"),
    ("jonas.berg", "Jonas Berg"),
];

/// A QA engineer, an SRE, a developer of each team, a manager and a stakeholder.
pub fn personas(org: &OrgModel) -> Vec<PersonaSeed> {
    let mut out = vec![
        seed("priya.raman", "Priya Raman", "QA engineer".into(), Role::Qa),
        seed(
            "sam.okafor",
            "Sam Okafor",
            "Site reliability engineer".into(),
            Role::Sre,
        ),
    ];
    for (i, team) in org.teams.iter().enumerate() {
        let (login, name) = DEVELOPERS[i % DEVELOPERS.len()];
        let login = if i < DEVELOPERS.len() {
            login.to_owned()
        } else {
            format!("{login}.{}", team.id)
        };
        out.push(seed(
            &login,
            name,
            format!("{} developer", team.name),
            Role::Developer(team.id.clone()),
        ));
    }
    out.push(seed(
        "morgan.lee",
        "Morgan Lee",
        "Engineering manager".into(),
        Role::Manager,
    ));
    out.push(seed(
        "alex.kim",
        "Alex Kim",
        "Product stakeholder".into(),
        Role::Stakeholder,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::RoleKind;
    use std::collections::HashSet;
    use std::path::Path;

    #[test]
    fn there_is_a_persona_for_every_role_and_a_developer_for_every_team() {
        let org =
            crate::org_config::parse(Path::new("org.toml"), include_str!("../../config/org.toml"))
                .expect("valid");
        let personas = personas(&org);
        let kinds: HashSet<RoleKind> = personas
            .iter()
            .flat_map(|p| p.roles.iter().map(Role::kind))
            .collect();
        for kind in [
            RoleKind::Qa,
            RoleKind::Sre,
            RoleKind::Developer,
            RoleKind::Manager,
            RoleKind::Stakeholder,
        ] {
            assert!(kinds.contains(&kind), "{kind}");
        }
        for team in &org.teams {
            assert!(
                personas
                    .iter()
                    .any(|p| p.roles == [Role::Developer(team.id.clone())]),
                "{}",
                team.id
            );
        }
        let logins: HashSet<&str> = personas.iter().map(|p| p.login.as_str()).collect();
        assert_eq!(logins.len(), personas.len(), "logins are unique");
    }
}

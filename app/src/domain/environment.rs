//! The environments of the deployment process and how teams may vary them.

use super::approval::ApprovalRule;
use super::{
    BranchPattern, DeployTrigger, DisplayName, DownPolicy, EnvironmentId, GitRef, RoleKind, TeamId,
    TestType,
};
use serde::{Deserialize, Serialize};

/// One environment of the promotion chain (Dev, Stage, Release, QA, Pre-Prod, Prod).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub id: EnvironmentId,
    pub name: DisplayName,
    /// 1-based place in the promotion order.
    pub position: u16,
    /// What the environment is for, in a sentence.
    pub usage: String,
    pub test_types: Vec<TestType>,
    pub branches: Vec<BranchPattern>,
    pub trigger: DeployTrigger,
    pub stakeholders: Vec<RoleKind>,
    pub down_policy: DownPolicy,
    /// Who approves deployments here; present when the trigger needs approval.
    pub approval: Option<ApprovalRule>,
}

impl Environment {
    /// Whether a deployment of `git_ref` belongs in this environment.
    pub fn accepts(&self, git_ref: &GitRef) -> bool {
        self.branches.iter().any(|p| p.matches(git_ref))
    }

    /// This environment as `team` sees it, with the team's override applied.
    pub fn for_team(&self, over: Option<&EnvironmentOverride>) -> Environment {
        let mut env = self.clone();
        if let Some(over) = over {
            if let Some(branches) = &over.branches {
                env.branches.clone_from(branches);
            }
            if let Some(trigger) = over.trigger {
                env.trigger = trigger;
            }
            if let Some(stakeholders) = &over.stakeholders {
                env.stakeholders.clone_from(stakeholders);
            }
        }
        env
    }
}

/// A team's departure from the org-wide definition of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentOverride {
    pub team: TeamId,
    pub environment: EnvironmentId,
    pub branches: Option<Vec<BranchPattern>>,
    pub trigger: Option<DeployTrigger>,
    pub stakeholders: Option<Vec<RoleKind>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> Environment {
        Environment {
            id: EnvironmentId::parse("release").expect("valid"),
            name: DisplayName::parse("Release").expect("valid"),
            position: 3,
            usage: "Internal stakeholder demo".into(),
            test_types: vec![TestType::Integration],
            branches: vec![
                BranchPattern::parse("hotfix/*").expect("valid"),
                BranchPattern::parse("release/*").expect("valid"),
            ],
            trigger: DeployTrigger::OnCommitAfterFreeze,
            stakeholders: vec![RoleKind::Sre, RoleKind::Developer],
            down_policy: DownPolicy::RaiseCritical,
            approval: None,
        }
    }

    #[test]
    fn an_environment_accepts_refs_matching_any_of_its_branches() {
        let env = release();
        assert!(env.accepts(&GitRef::Branch("hotfix/payment-timeout".into())));
        assert!(env.accepts(&GitRef::Branch("release/2027.01".into())));
        assert!(!env.accepts(&GitRef::Branch("develop".into())));
    }

    #[test]
    fn a_team_override_replaces_only_the_fields_it_names() {
        let over = EnvironmentOverride {
            team: TeamId::parse("mobile").expect("valid"),
            environment: EnvironmentId::parse("release").expect("valid"),
            branches: Some(vec![BranchPattern::parse("release/*").expect("valid")]),
            trigger: None,
            stakeholders: Some(vec![RoleKind::Qa]),
        };
        let env = release().for_team(Some(&over));
        assert_eq!(env.branches.len(), 1);
        assert!(!env.accepts(&GitRef::Branch("hotfix/x".into())));
        assert_eq!(env.trigger, DeployTrigger::OnCommitAfterFreeze);
        assert_eq!(env.stakeholders, vec![RoleKind::Qa]);
        assert_eq!(release().for_team(None), release());
    }
}

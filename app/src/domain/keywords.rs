//! Closed vocabularies from the deployment process: how an environment is
//! deployed, what it is tested with, and what happens when it is down.

/// Declares an enum whose values are written in configuration as kebab-case
/// keywords, with a human label for the UI.
macro_rules! keyword_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $keyword:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Parses the configuration keyword.
            pub fn parse(input: &str) -> Result<Self, $crate::domain::ParseError> {
                match input {
                    $($keyword => Ok($name::$variant),)+
                    _ => Err($crate::domain::ParseError::new(
                        $what,
                        input,
                        format!("is not one of: {}", [$($keyword),+].join(", ")),
                    )),
                }
            }

            /// The configuration keyword.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $keyword),+ }
            }

            /// How the UI names it.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::ParseError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_owned()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use keyword_enum;

keyword_enum!(
    /// What starts a deployment into an environment.
    DeployTrigger, "deployment trigger" {
        OnCommit => "on-commit", "On commit";
        ManualApproval => "manual-approval", "Manual approval";
        OnCommitAfterFreeze => "on-commit-after-freeze", "On commit, after code freeze";
        ManualApprovalAfterFreeze => "manual-approval-after-freeze", "Manual approval, after code freeze";
        Manual => "manual", "Manual";
    }
);

impl DeployTrigger {
    /// Whether the release calendar's code freeze gates it.
    pub fn after_freeze(self) -> bool {
        matches!(
            self,
            DeployTrigger::OnCommitAfterFreeze | DeployTrigger::ManualApprovalAfterFreeze
        )
    }

    /// Whether a person must approve before the pipeline deploys.
    pub fn needs_approval(self) -> bool {
        matches!(
            self,
            Self::ManualApproval | Self::ManualApprovalAfterFreeze | Self::Manual
        )
    }

    /// Whether deployments are only allowed once the release's code freeze began.
    pub fn after_code_freeze(self) -> bool {
        matches!(
            self,
            Self::OnCommitAfterFreeze | Self::ManualApprovalAfterFreeze
        )
    }
}

keyword_enum!(
    /// What Gatehouse does when an environment is down.
    DownPolicy, "down policy" {
        MayBeDown => "may-be-down", "May be down";
        CalculateDowntime => "calculate-downtime", "Calculate downtime";
        RaiseCritical => "raise-critical-ticket", "Raise a Critical ticket";
    }
);

keyword_enum!(
    /// The kinds of testing the deployment process names.
    TestType, "test type" {
        Unit => "unit", "Unit";
        Component => "component", "Component";
        Smoke => "smoke", "Smoke";
        Sanity => "sanity", "Sanity";
        Regression => "regression", "Regression";
        Integration => "integration", "Integration";
        Api => "api", "API";
        Ui => "ui", "UI";
        System => "system", "System";
        Qa => "qa", "QA";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_parses_back_to_its_value() {
        for trigger in DeployTrigger::ALL {
            assert_eq!(DeployTrigger::parse(trigger.as_str()), Ok(*trigger));
        }
        for policy in DownPolicy::ALL {
            assert_eq!(DownPolicy::parse(policy.as_str()), Ok(*policy));
        }
        for test in TestType::ALL {
            assert_eq!(TestType::parse(test.as_str()), Ok(*test));
        }
    }

    #[test]
    fn an_unknown_keyword_lists_the_valid_ones() {
        let err = DownPolicy::parse("ignore").expect_err("unknown");
        assert_eq!(err.what, "down policy");
        assert_eq!(
            err.reason,
            "is not one of: may-be-down, calculate-downtime, raise-critical-ticket"
        );
        assert!(
            TestType::parse("Unit").is_err(),
            "keywords are case-sensitive"
        );
    }

    #[test]
    fn triggers_know_whether_they_need_approval_and_a_code_freeze() {
        use DeployTrigger::*;
        assert!(!OnCommit.needs_approval() && !OnCommit.after_code_freeze());
        assert!(ManualApproval.needs_approval() && !ManualApproval.after_code_freeze());
        assert!(!OnCommitAfterFreeze.needs_approval() && OnCommitAfterFreeze.after_code_freeze());
        assert!(
            ManualApprovalAfterFreeze.needs_approval()
                && ManualApprovalAfterFreeze.after_code_freeze()
        );
        assert!(Manual.needs_approval());
    }
}

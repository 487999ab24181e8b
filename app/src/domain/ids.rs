//! Identifier and name newtypes.

use super::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Checks the rules shared by every slug: 1 to 40 characters of `a-z`, `0-9`
/// and `-`, starting with a letter, with no trailing or doubled `-`.
fn check_slug(what: &'static str, input: &str) -> Result<(), ParseError> {
    let fail = |reason: &str| Err(ParseError::new(what, input, reason));
    if input.is_empty() {
        return fail("is empty");
    }
    if input.len() > 40 {
        return fail("is longer than 40 characters");
    }
    if !input.starts_with(|c: char| c.is_ascii_lowercase()) {
        return fail("must start with a lowercase letter");
    }
    if !input
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return fail("may only contain lowercase letters, digits and '-'");
    }
    if input.ends_with('-') || input.contains("--") {
        return fail("must not end with '-' or contain '--'");
    }
    Ok(())
}

macro_rules! slug_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a slug, e.g. `frontend` or `pre-prod`.
            pub fn parse(input: &str) -> Result<Self, ParseError> {
                check_slug($what, input)?;
                Ok(Self(input.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_type!(
    /// A team's identifier: `frontend`, `backend`, `mobile`.
    TeamId,
    "team id"
);
slug_type!(
    /// An environment's identifier: `dev`, `stage`, `release`, `qa`, `pre-prod`, `prod`.
    EnvironmentId,
    "environment id"
);
slug_type!(
    /// A service's identifier, unique across the organisation: `web-app`.
    ServiceId,
    "service id"
);

/// A human name shown in the UI: trimmed, 1 to 80 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ParseError::new("name", input, "is empty"));
        }
        if trimmed.chars().count() > 80 {
            return Err(ParseError::new(
                "name",
                input,
                "is longer than 80 characters",
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ParseError::new(
                "name",
                input,
                "must be a single line of text",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> String {
        value.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A GitHub repository as `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoName {
    owner: String,
    name: String,
}

impl RepoName {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let fail = |reason: &str| Err(ParseError::new("repository", input, reason));
        let Some((owner, name)) = input.split_once('/') else {
            return fail("must be written as owner/name");
        };
        let valid_part = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !valid_part(owner) || owner.len() > 39 || owner.contains('.') {
            return fail("has an invalid owner (letters, digits, '-' and '_', at most 39)");
        }
        if !valid_part(name) || name.len() > 100 {
            return fail("has an invalid name (letters, digits, '-', '_' and '.', at most 100)");
        }
        Ok(Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl TryFrom<String> for RepoName {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RepoName> for String {
    fn from(value: RepoName) -> String {
        value.to_string()
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_lowercase_words_joined_by_dashes() {
        for ok in ["dev", "pre-prod", "frontend", "qa2", "a"] {
            assert_eq!(
                EnvironmentId::parse(ok).map(|e| e.to_string()),
                Ok(ok.to_owned())
            );
        }
    }

    #[test]
    fn slugs_reject_each_kind_of_bad_input_with_a_reason() {
        let cases = [
            ("", "is empty"),
            ("Dev", "must start with a lowercase letter"),
            ("1dev", "must start with a lowercase letter"),
            ("pre prod", "may only contain"),
            ("pre_prod", "may only contain"),
            ("dev-", "must not end with '-'"),
            ("pre--prod", "must not end with '-'"),
        ];
        for (input, reason) in cases {
            let err = TeamId::parse(input).expect_err(input);
            assert!(err.reason.contains(reason), "{input}: {}", err.reason);
            assert_eq!(err.what, "team id");
        }
        assert!(TeamId::parse(&"a".repeat(41)).is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_single_line() {
        assert_eq!(
            DisplayName::parse("  Pre-Prod ").map(String::from),
            Ok("Pre-Prod".to_owned())
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("two\nlines").is_err());
        assert!(DisplayName::parse(&"x".repeat(81)).is_err());
    }

    #[test]
    fn repository_names_follow_github_rules() {
        let repo = RepoName::parse("acme/web-app").expect("valid");
        assert_eq!((repo.owner(), repo.name()), ("acme", "web-app"));
        assert_eq!(repo.to_string(), "acme/web-app");
        for bad in [
            "acme",
            "/web",
            "acme/",
            "acme/..",
            "ac me/web",
            "a.b/web",
            "acme/web/x",
        ] {
            assert!(RepoName::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn ids_round_trip_through_serde_and_reject_invalid_json() {
        let id: TeamId = serde_json::from_str("\"mobile\"").expect("valid");
        assert_eq!(serde_json::to_string(&id).expect("serialize"), "\"mobile\"");
        assert!(serde_json::from_str::<TeamId>("\"Mobile\"").is_err());
    }
}

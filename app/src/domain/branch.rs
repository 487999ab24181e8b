//! Git Flow branch patterns: which refs deploy to an environment.

use super::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A git ref as CodePipeline or GitHub reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GitRef {
    Branch(String),
    Tag(String),
}

/// A pattern over branches (`develop`, `feature/*`) or tags (`tags/*`, `tags/v*`).
///
/// At most one `*`, and only at the end: Git Flow names are prefixes, and a
/// narrower language keeps what a pattern means obvious on the board.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BranchPattern {
    tag: bool,
    prefix: String,
    wildcard: bool,
}

const FORBIDDEN: &[char] = &[' ', '~', '^', ':', '?', '[', '\\', '\t'];

impl BranchPattern {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let fail = |reason: &str| Err(ParseError::new("branch pattern", input, reason));
        let (tag, rest) = match input.strip_prefix("tags/") {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let (prefix, wildcard) = match rest.strip_suffix('*') {
            Some(prefix) => (prefix, true),
            None => (rest, false),
        };
        if rest.is_empty() {
            return fail("is empty");
        }
        if prefix.contains('*') {
            return fail("may use '*' only once, at the end");
        }
        if prefix.contains(FORBIDDEN) || prefix.chars().any(char::is_control) {
            return fail("contains a character git does not allow in ref names");
        }
        if prefix.starts_with('/') || prefix.contains("//") || prefix.contains("..") {
            return fail("is not a valid git ref name ('/' at the start, '//' or '..')");
        }
        if !wildcard
            && (prefix.ends_with('/') || prefix.ends_with('.') || prefix.ends_with(".lock"))
        {
            return fail("is not a valid git ref name (ends with '/', '.' or '.lock')");
        }
        Ok(Self {
            tag,
            prefix: prefix.to_owned(),
            wildcard,
        })
    }

    /// Whether this pattern names tags rather than branches.
    pub fn is_tag(&self) -> bool {
        self.tag
    }

    /// Whether `git_ref` is one this pattern selects.
    pub fn matches(&self, git_ref: &GitRef) -> bool {
        let name = match (git_ref, self.tag) {
            (GitRef::Branch(name), false) | (GitRef::Tag(name), true) => name,
            _ => return false,
        };
        if self.wildcard {
            name.starts_with(&self.prefix) && name.len() > self.prefix.len()
        } else {
            *name == self.prefix
        }
    }
}

impl fmt::Display for BranchPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = if self.tag { "tags/" } else { "" };
        let star = if self.wildcard { "*" } else { "" };
        write!(f, "{tag}{}{star}", self.prefix)
    }
}

impl TryFrom<String> for BranchPattern {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<BranchPattern> for String {
    fn from(value: BranchPattern) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(name: &str) -> GitRef {
        GitRef::Branch(name.to_owned())
    }

    fn pattern(input: &str) -> BranchPattern {
        BranchPattern::parse(input).expect(input)
    }

    #[test]
    fn git_flow_patterns_parse_and_print_back_unchanged() {
        for input in [
            "develop",
            "feature/*",
            "hotfix/*",
            "release/*",
            "master",
            "tags/*",
            "tags/v*",
            "*",
        ] {
            assert_eq!(pattern(input).to_string(), input);
        }
    }

    #[test]
    fn an_exact_pattern_matches_only_that_branch() {
        let develop = pattern("develop");
        assert!(develop.matches(&branch("develop")));
        assert!(!develop.matches(&branch("develop2")));
        assert!(!develop.matches(&GitRef::Tag("develop".into())));
    }

    #[test]
    fn a_prefix_pattern_matches_branches_under_it_but_not_the_prefix_itself() {
        let feature = pattern("feature/*");
        assert!(feature.matches(&branch("feature/login-form")));
        assert!(!feature.matches(&branch("feature/")));
        assert!(!feature.matches(&branch("features/x")));
    }

    #[test]
    fn tag_patterns_match_tags_and_never_branches() {
        let tags = pattern("tags/v*");
        assert!(tags.is_tag());
        assert!(tags.matches(&GitRef::Tag("v2027.01.0".into())));
        assert!(!tags.matches(&GitRef::Tag("build-7".into())));
        assert!(!tags.matches(&branch("v1")));
    }

    #[test]
    fn invalid_patterns_are_rejected_with_a_reason() {
        let cases = [
            ("", "is empty"),
            ("tags/", "is empty"),
            ("feature/*/x", "only once"),
            ("*feature", "only once"),
            ("feature branch", "character git does not allow"),
            ("/develop", "not a valid git ref"),
            ("release//1", "not a valid git ref"),
            ("develop/", "ends with"),
            ("main.lock", "ends with"),
        ];
        for (input, reason) in cases {
            let err = BranchPattern::parse(input).expect_err(input);
            assert!(err.reason.contains(reason), "{input}: {}", err.reason);
        }
    }
}

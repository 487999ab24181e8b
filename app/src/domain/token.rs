//! Personal access tokens: what a token may do (its scopes, a closed set),
//! how long it lives, and how it is written so that a leaked one is found
//! by secret scanners. A token acts as its person: it adds no right of its
//! own, and its scopes only take rights away.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Every token starts with this, so a scanner (or a person) recognises a
/// leaked one: `gatehouse_pat_` and 40 letters and digits.
pub const TOKEN_PREFIX: &str = "gatehouse_pat_";

/// The random part of a token, in characters (base 62: about 238 bits).
pub const SECRET_CHARS: usize = 40;

/// How much of a token lists show, so its owner tells tokens apart
/// (`gatehouse_pat_Ab3x…`); never enough to use it.
pub const SHOWN_CHARS: usize = TOKEN_PREFIX.len() + 4;

/// The longest a token's name may be, in characters.
pub const NAME_MAX: usize = 80;

/// A token's life when its maker does not say, and the longest allowed.
pub const DEFAULT_DAYS: i64 = 90;
pub const MAX_DAYS: i64 = 365;

/// The most live tokens one person may keep.
pub const TOKENS_PER_PERSON: usize = 20;

/// The most tokens a list shows: live ones first, newest first.
pub const TOKENS_LISTED: usize = 100;

/// What a token may be used for. Reading approvals, the board, the
/// calendar and the Prod plan is `read`; deciding is `approve`; changing
/// the calendar is `calendar`; reading the audit log is `audit`. Each is
/// also bounded by the person's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Approve,
    Calendar,
    Audit,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Approve, Scope::Calendar, Scope::Audit];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Approve => "approve",
            Scope::Calendar => "calendar",
            Scope::Audit => "audit",
        }
    }

    /// What the scope allows, in words (the Tokens page's choices).
    pub fn words(self) -> &'static str {
        match self {
            Scope::Read => "Read approvals, the board, the calendar and the Prod plan",
            Scope::Approve => "Approve and reject, as you may in the browser",
            Scope::Calendar => "Move milestones and add blackouts, as you may in the browser",
            Scope::Audit => "Read the audit log, as you may in the browser",
        }
    }

    pub fn parse(raw: &str) -> Result<Scope, String> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| {
                format!(
                    "\u{201c}{}\u{201d} is not a token scope; the scopes are read, approve, calendar and audit.",
                    raw.trim().chars().take(40).collect::<String>()
                )
            })
    }

    /// Scopes from a list (`read,approve` or several values): each once,
    /// in a fixed order; at least one.
    pub fn parse_all<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for part in raw.into_iter().flat_map(|r| r.split(',')) {
            if part.trim().is_empty() {
                continue;
            }
            let scope = Scope::parse(part)?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        scopes.sort();
        if scopes.is_empty() {
            return Err("Choose at least one scope: what the token may do.".into());
        }
        Ok(scopes)
    }
}

/// A token's name, as its owner gave it: trimmed, 1 to [`NAME_MAX`]
/// characters, no control characters.
pub fn parse_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Give the token a name, so you know later what uses it (\u{201c}release laptop\u{201d}, \u{201c}nightly script\u{201d}).".into());
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!(
            "A token's name holds at most {NAME_MAX} characters."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("A token's name is one line of text, without control characters.".into());
    }
    Ok(name.to_owned())
}

/// When a token made `now` for `days` days expires: [`DEFAULT_DAYS`] when
/// not said, refused beyond [`MAX_DAYS`] or below one day.
pub fn expiry(now: DateTime<Utc>, days: Option<i64>) -> Result<DateTime<Utc>, String> {
    let days = days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(format!(
            "A token lives 1 to {MAX_DAYS} days ({DEFAULT_DAYS} unless you say)."
        ));
    }
    Ok(now + Duration::days(days))
}

/// Whether `raw` is written as a token is (the prefix and 40 letters and
/// digits): anything else is refused before a lookup.
pub fn well_formed(raw: &str) -> bool {
    raw.strip_prefix(TOKEN_PREFIX).is_some_and(|secret| {
        secret.len() == SECRET_CHARS && secret.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Where a token's person signed in when the token was made (GitHub or
/// OpenID Connect), so their roles are read again from there as a
/// session's are; `None` for a demo persona, whose roles are the seed's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderLink {
    pub provider: String,
    pub subject: String,
    /// The provider's token, sealed (encrypted) as a session keeps it.
    pub sealed: String,
}

/// A token found by its secret, with what its person's roles rest on.
#[derive(Debug, Clone)]
pub struct TokenHolder {
    pub user: crate::domain::User,
    pub token: ApiToken,
    pub link: Option<ProviderLink>,
    /// When the person's roles were last read from the provider for it.
    pub roles_checked_at: DateTime<Utc>,
}

/// A token as lists show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// Its first characters (`gatehouse_pat_Ab3x`), to tell it apart.
    pub shown: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Usable at `now`: not revoked, not expired.
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_a_closed_set_each_once_in_order() {
        assert_eq!(
            Scope::parse_all(["approve, read", "read"]),
            Ok(vec![Scope::Read, Scope::Approve])
        );
        assert!(matches!(
            Scope::parse_all(["read,admin"]),
            Err(e) if e.contains("not a token scope")
        ));
        assert!(Scope::parse_all([" , "]).is_err());
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Ok(scope));
        }
    }

    #[test]
    fn names_and_lifetimes_are_bounded() {
        assert_eq!(parse_name("  laptop "), Ok("laptop".into()));
        assert!(parse_name(" ").is_err());
        assert!(parse_name(&"x".repeat(NAME_MAX + 1)).is_err());
        assert!(parse_name(&"é".repeat(NAME_MAX)).is_ok());
        assert!(parse_name("a\nb").is_err());
        let now = Utc::now();
        assert_eq!(expiry(now, None), Ok(now + Duration::days(DEFAULT_DAYS)));
        assert_eq!(
            expiry(now, Some(MAX_DAYS)),
            Ok(now + Duration::days(MAX_DAYS))
        );
        assert!(expiry(now, Some(MAX_DAYS + 1)).is_err());
        assert!(expiry(now, Some(0)).is_err());
    }

    #[test]
    fn only_a_token_shaped_string_is_looked_up() {
        let good = format!(
            "{TOKEN_PREFIX}{}",
            "aZ9".repeat(14).get(..SECRET_CHARS).unwrap_or("")
        );
        assert!(well_formed(&good));
        assert!(!well_formed(&good[..good.len() - 1]));
        assert!(!well_formed(&format!("{good}x")));
        assert!(!well_formed(&good.replace('a', "-")));
        assert!(!well_formed("ghp_abcdefabcdefabcdefabcdefabcdefabcdefab"));
    }

    #[test]
    fn a_token_is_live_until_revoked_or_expired() {
        let now = Utc::now();
        let mut token = ApiToken {
            id: "t".into(),
            user_id: "u".into(),
            name: "n".into(),
            shown: "gatehouse_pat_abcd".into(),
            scopes: vec![Scope::Read],
            created_at: now,
            expires_at: now + Duration::days(1),
            last_used_at: None,
            revoked_at: None,
        };
        assert!(token.live(now) && token.allows(Scope::Read) && !token.allows(Scope::Approve));
        assert!(!token.live(now + Duration::days(2)));
        token.revoked_at = Some(now);
        assert!(!token.live(now));
    }
}

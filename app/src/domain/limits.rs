//! Bounds on what people may type: every free-text field has one, checked
//! where the request is parsed and answered with a sentence.

/// A vote's comment (sent to CodePipeline, shown in the history).
pub const COMMENT_MAX: usize = 2_000;
/// A "not applicable" reason for one test type.
pub const REASON_MAX: usize = 500;
/// One evidence link.
pub const LINK_MAX: usize = 500;
/// Evidence links on one sign-off.
pub const LINKS_MAX: usize = 10;
/// Everything a form may post, in bytes: a body over this is answered 413.
pub const BODY_MAX: usize = 64 * 1024;

/// `text` trimmed, or a sentence naming `what` and its bound.
pub fn bounded<'a>(what: &str, text: &'a str, max: usize) -> Result<&'a str, String> {
    let text = text.trim();
    let length = text.chars().count();
    if length > max {
        return Err(format!(
            "The {what} is {} characters long; Gatehouse keeps at most {}.",
            thousands(length),
            thousands(max)
        ));
    }
    Ok(text)
}

/// A count written with thousands separators: 12,345.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_within_its_bound_is_trimmed_and_longer_text_is_refused_in_words() {
        assert_eq!(bounded("comment", "  ok  ", 5), Ok("ok"));
        assert_eq!(
            bounded("comment", &"x".repeat(2_001), COMMENT_MAX),
            Err("The comment is 2,001 characters long; Gatehouse keeps at most 2,000.".into())
        );
        // Characters, not bytes: 2,000 accented letters fit.
        assert!(bounded("comment", &"é".repeat(2_000), COMMENT_MAX).is_ok());
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_900_000), "1,900,000");
    }
}

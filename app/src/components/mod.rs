//! Reusable pieces, one per file.

pub mod app_shell;
pub mod badges;
pub mod error_notice;
pub mod icon;
pub mod note;
pub mod team_filter;
pub mod time;
pub mod verification;

/// A person's initials, for their avatar: "Priya Raman" is "PR".
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect()
}

//! Reusable pieces, one per file.

pub mod app_shell;
pub mod badges;
pub mod error_notice;
pub mod icon;
pub mod note;
pub mod team_filter;
pub mod time;

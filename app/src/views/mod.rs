//! What the pages show: the view types the server functions return, their
//! presentation helpers (CSV, Markdown, query strings, words) and paging
//! constants. Views depend only on the domain; the server side builds them
//! and the pages render them (docs/architecture.md#layers).

pub mod approvals;
pub mod audit;
pub mod board;
pub mod calendar;
pub mod delivery;
pub mod home;
pub mod inventory;
pub mod notifications;
pub mod org;
pub mod prod_plan;
pub mod release_demo;
pub mod session;

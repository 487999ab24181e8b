//! One route component per file.

pub mod approvals_page;
pub mod audit_page;
pub mod board_page;
pub mod calendar_page;
pub mod cell_page;
pub mod delivery_page;
pub mod demo_sign_in_page;
pub mod environments_page;
pub mod home_page;
pub mod inventory_page;
pub mod not_found_page;
pub mod notifications_page;
pub mod prod_plan_page;
pub mod release_demo_page;
pub mod sign_in_page;

//! Server functions, grouped by feature. Each is thin: find the caller, call
//! a service, return a DTO.

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

//! Gatehouse's integration tests that run in this process: each module is
//! one concern (docs/testing.md maps them), against real PostgreSQL (one
//! database per test, by `sqlx::test`), real HTTP and the simulators.
//! `cargo test --test integration approvals::` runs one concern.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod approval_flow;
mod approvals;
mod audit;
mod auth;
mod authorization;
mod board;
mod bundle;
mod calendar;
mod codepipeline;
mod delivery;
mod demo_links;
mod environments;
mod github;
mod health;
mod home;
mod integrity;
mod inventory;
mod kept_pages;
mod limits;
mod metrics;
mod notifications;
mod prod_plan;
mod queries;
mod roles;
mod sessions;
mod simulator_model;
mod trust;

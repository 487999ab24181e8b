//! The Gatehouse server: configuration, Postgres adapters, demo mode and the
//! axum application that serves the Leptos app.

pub mod adapters;
pub mod audit;
pub mod cache;
pub mod config;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod org_config;
pub mod router;
pub mod simulators;
pub mod startup;
pub mod telemetry;

//! The Gatehouse server: configuration, Postgres adapters, demo mode and the
//! axum application that serves the Leptos app.

pub mod assets;
pub mod audit;
pub mod audit_export;
pub mod auth;
pub mod cache;
pub mod codepipeline;
pub mod config;
pub mod db;
pub mod delivery_export;
pub mod demo;
pub mod events;
pub mod github;
pub mod health_simulator;
pub mod ics;
pub mod integrations;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod notify;
pub mod org_config;
pub mod pages;
pub mod prod_plan_export;
pub mod query;
pub mod router;
pub mod startup;
pub mod telemetry;
pub mod terraform;

//! The integration tests that start Gatehouse as processes of its own (the
//! `gatehouse` binary): several replicas, PostgreSQL restarts, monitoring
//! and the command line. `cargo test --test processes replicas::` runs one.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod database_restart;
mod monitoring;
mod replicas;

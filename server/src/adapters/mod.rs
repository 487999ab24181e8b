//! Adapters: the app's ports implemented against the outside world.
//! `db` (PostgreSQL, sqlx), `codepipeline` (aws-sdk-codepipeline),
//! `github` (octocrab), `notify` (webhooks and SMTP), `terraform` (state
//! files over HTTP, on disk and in S3), and `integrations` (what each
//! outside service last answered, for `/readyz` and `check-config`).

pub mod codepipeline;
pub mod db;
pub mod github;
pub mod integrations;
pub mod notify;
pub mod terraform;

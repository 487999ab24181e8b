//! The Release demo view: what is in Release now that is not in Prod.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One commit waiting in Release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCommit {
    pub sha: String,
    pub title: String,
    pub author: Option<String>,
    /// The pull request its squash-merge title names.
    pub pull_request: Option<u64>,
}

/// One service's Release-only changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDemo {
    pub name: String,
    pub repository: String,
    /// What Release and Prod run: short sha, and tag or branch.
    pub release_revision: Option<String>,
    pub prod_revision: Option<String>,
    /// Release's health for this service: `None` when not probed (yet).
    pub up: Option<bool>,
    pub commits: Vec<DemoCommit>,
    /// Why the comparison could not be made, in words.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamDemo {
    pub team: String,
    pub services: Vec<ServiceDemo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseDemoView {
    pub release: String,
    pub prod: String,
    pub teams: Vec<TeamDemo>,
    /// Release's health across services: up, down, not known.
    pub up: usize,
    pub down: usize,
    pub unknown: usize,
    /// GitHub could not be read for some service (a passing failure: the
    /// next view asks again).
    pub github_failed: bool,
}

/// For each team and service: the commits the revision deployed in Release
/// has that the one deployed in Prod lacks, and Release's health.
#[server(endpoint = "release-demo")]
pub async fn release_demo() -> Result<ReleaseDemoView, AppError> {
    AppError::respond(crate::ssr::release_demo::view().await)
}

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
}

/// One service's Release-only changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDemo {
    pub name: String,
    pub repository: String,
    /// The release branch compared with Prod's branch, if there is one.
    pub release_branch: Option<String>,
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
    /// Prod's branch, the base of every comparison.
    pub base: String,
    pub teams: Vec<TeamDemo>,
}

/// For each team and service: the commits on the newest release branch
/// that Prod's branch does not have.
#[server(endpoint = "release-demo")]
pub async fn release_demo() -> Result<ReleaseDemoView, AppError> {
    AppError::respond(crate::ssr::release_demo::view().await)
}

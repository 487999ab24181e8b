//! Wasm-safe domain values and pure rules. Every value is parsed once, at the
//! edge (configuration, database rows, requests), and trusted afterwards.

pub mod approval;
pub mod audit;
mod branch;
pub mod calendar;
pub mod deploy_dag;
pub mod dora;
mod environment;
pub mod health;
mod ids;
pub mod inventory;
mod keywords;
pub mod limits;
pub mod notification;
mod org;
mod pipeline;
pub mod plan_drawing;
pub mod request;
mod role;
pub mod token;
pub mod trend_chart;

pub use branch::{BranchPattern, GitRef};
pub use environment::{Environment, EnvironmentOverride};
pub use ids::{DisplayName, EnvironmentId, RepoName, ServiceId, TeamId};
pub use keywords::{DeployTrigger, DownPolicy, TestType};
pub use org::{OrgModel, ProdPlanConfig, Service, Team};
pub use pipeline::PipelineMapping;
pub use role::{Persona, Role, RoleKind, SignInProvider, User};

use std::fmt;

/// Why a value could not be parsed; the message is written for the person
/// who typed the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What kind of value it was, e.g. "team id".
    pub what: &'static str,
    /// The rejected input.
    pub value: String,
    /// What is wrong with it, as a sentence fragment.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, value: &str, reason: impl Into<String>) -> Self {
        Self {
            what,
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?} {}", self.what, self.value, self.reason)
    }
}

impl std::error::Error for ParseError {}

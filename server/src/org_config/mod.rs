//! The org configuration file: TOML in, a checked [`OrgModel`] out. Every
//! error names the file, the key and what is wrong with it.

mod access;
mod checks;
mod notifications;
mod operations;
mod org;
mod raw;
mod terraform;
#[cfg(test)]
mod tests;

pub use access::{AccessConfig, TeamRole};
pub use notifications::{ChannelConfig, ChannelSink, RoleTarget};
pub use operations::{parse_operations, HealthConfig, OperationsConfig};

use app::domain::OrgModel;
use checks::Checker;
use notifications::channels;
use raw::RawOrg;
use std::fmt;
use std::path::{Path, PathBuf};
use terraform::terraform;

/// A configuration problem, precise enough to fix without reading code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// The key, e.g. `environments[3].branches[1]`; indexes count from 0.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(
                f,
                "invalid org configuration {}: {}",
                self.file.display(),
                self.message
            )
        } else {
            write!(
                f,
                "invalid org configuration {}: {}: {}",
                self.file.display(),
                self.key,
                self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

/// The text of the configuration file at `path`.
fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_owned(),
        key: String::new(),
        message: format!("cannot read the file: {e}"),
    })
}

/// Everything the org configuration file says, checked: what `serve` runs
/// with and what `check-config` describes.
#[derive(Debug, Clone)]
pub struct OrgFile {
    /// Teams, services, environments, overrides, pipelines, calendar and the
    /// Prod plan.
    pub org: OrgModel,
    /// `[access]`: who gets which role.
    pub access: AccessConfig,
    /// `[health]`, `[hotfixes]`, `[notifications]` and `[terraform]`.
    pub operations: OperationsConfig,
}

/// Every problem found in a configuration file: the first of each section
/// (a section stops at its first problem; the teams, services and
/// environments are checked before the sections that refer to them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The first problem (there is always one).
    pub fn first(self) -> ConfigError {
        self.0.into_iter().next().unwrap_or_else(|| ConfigError {
            file: PathBuf::new(),
            key: String::new(),
            message: "invalid".into(),
        })
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        Self(vec![e])
    }
}

/// Reads and checks the whole org configuration file at `path`, once: the
/// one checker `serve` starts with and `check-config` runs.
pub fn load_file(path: &Path) -> Result<OrgFile, ConfigErrors> {
    parse_file(path, &read(path)?)
}

/// Checks the whole text of an org configuration file; `path` is only used
/// in error messages.
pub fn parse_file(path: &Path, text: &str) -> Result<OrgFile, ConfigErrors> {
    let mut raw: RawOrg = toml::from_str(text).map_err(|e| {
        let location = e.span().map(|span| line_col(text, span.start));
        ConfigError {
            file: path.to_owned(),
            key: location
                .map(|(l, c)| format!("line {l}, column {c}"))
                .unwrap_or_default(),
            message: e.message().trim().to_owned(),
        }
    })?;
    let checker = Checker { file: path };
    // The sections that refer to teams and environments are taken out
    // first, and checked once those are known.
    let access = raw.access.take();
    let health = raw.health.take();
    let hotfixes = raw.hotfixes.take();
    let notifications = raw.notifications.take();
    let raw_terraform = raw.terraform.take();
    let org = checker.check(raw)?;
    fn keep<T>(errors: &mut Vec<ConfigError>, result: Result<T, ConfigError>) -> Option<T> {
        result.map_err(|e| errors.push(e)).ok()
    }
    let mut errors = Vec::new();
    let access = keep(&mut errors, checker.access(&org, access));
    let health = keep(&mut errors, checker.health(&org, health));
    let notifications = keep(
        &mut errors,
        match notifications {
            None => Ok(Vec::new()),
            Some(n) => channels(&checker, &org, n.channels),
        },
    );
    let terraform = keep(
        &mut errors,
        match raw_terraform {
            None => Ok(None),
            Some(t) => terraform(&checker, &org, t).map(Some),
        },
    );
    match (access, health, notifications, terraform) {
        (Some(access), Some(health), Some(notifications), Some(terraform)) => Ok(OrgFile {
            org,
            access,
            operations: OperationsConfig {
                health,
                refuse_unmerged_hotfix: hotfixes
                    .and_then(|h| h.refuse_prod_when_unmerged)
                    .unwrap_or(true),
                notifications,
                terraform,
            },
        }),
        _ => Err(ConfigErrors(errors)),
    }
}

/// Reads and checks the org configuration at `path` (the whole file, as
/// [`load_file`]), giving its org model.
pub fn load(path: &Path) -> Result<OrgModel, ConfigError> {
    load_file(path).map(|f| f.org).map_err(ConfigErrors::first)
}

/// Reads and checks the file at `path` (the whole file, as [`load_file`]),
/// giving who gets which role from its `[access]` section.
pub fn load_access(path: &Path) -> Result<AccessConfig, ConfigError> {
    load_file(path)
        .map(|f| f.access)
        .map_err(ConfigErrors::first)
}

/// Checks configuration text (the whole of it, as [`parse_file`]), giving
/// its org model; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<OrgModel, ConfigError> {
    parse_file(path, text)
        .map(|f| f.org)
        .map_err(ConfigErrors::first)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

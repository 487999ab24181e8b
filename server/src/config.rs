//! Typed configuration, from the command line or the environment.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Gatehouse: release governance for a Git Flow release train on AWS
/// CodePipeline: release calendar, environment board and approval queue.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations, then exit.
    Migrate,
    /// Check the org configuration file and print what it describes.
    CheckConfig,
    /// Run a simulator of an external service on its own port.
    Simulate {
        #[command(subcommand)]
        service: Simulated,
    },
}

/// The services Gatehouse can simulate.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Simulated {
    /// AWS CodePipeline (awsJson1_1), seeded with a pipeline per service and
    /// environment of the org configuration. Point a client at it with its
    /// endpoint URL; the control surface is under /_sim/.
    Codepipeline {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4599")]
        listen: SocketAddr,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Seeded teams, demo personas and the built-in simulators.
    Demo,
    /// Real AWS and GitHub; no personas.
    Real,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Settings; each may come from its environment variable.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Postgres connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// Address and port to listen on.
    #[arg(
        long,
        env = "GATEHOUSE_BIND",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub bind: SocketAddr,
    /// Demo (default) or real.
    #[arg(long, env = "GATEHOUSE_MODE", value_enum, default_value_t = ModeArg::Demo, global = true)]
    pub mode: ModeArg,
    /// Log line format.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
    /// The org configuration file (teams, services, environments).
    #[arg(
        long,
        env = "GATEHOUSE_ORG_CONFIG",
        default_value = "config/org.toml",
        global = true
    )]
    pub org_config: PathBuf,
    /// Folder with the compiled browser assets (pkg/).
    #[arg(
        long,
        env = "GATEHOUSE_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,
    /// Most Postgres connections this process opens.
    #[arg(
        long,
        env = "GATEHOUSE_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,
    /// AWS region of the CodePipeline pipelines.
    #[arg(
        long,
        env = "GATEHOUSE_AWS_REGION",
        default_value = "us-east-1",
        global = true
    )]
    pub aws_region: String,
    /// CodePipeline endpoint URL; unset means AWS's (demo mode: the built-in simulator).
    #[arg(long, env = "GATEHOUSE_CODEPIPELINE_ENDPOINT", global = true)]
    pub codepipeline_endpoint: Option<String>,
    /// Attempts per AWS call, for throttling and server errors.
    #[arg(
        long,
        env = "GATEHOUSE_AWS_MAX_ATTEMPTS",
        default_value_t = 4,
        global = true
    )]
    pub aws_max_attempts: u32,
    /// Seconds one AWS call may take, retries included.
    #[arg(
        long,
        env = "GATEHOUSE_AWS_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub aws_timeout_secs: u64,
    /// Seconds between polls of CodePipeline for waiting approvals (0: off).
    #[arg(
        long,
        env = "GATEHOUSE_POLL_INTERVAL_SECS",
        default_value_t = 15,
        global = true
    )]
    pub poll_interval_secs: u64,
    /// Seconds to wait for open requests on shutdown.
    #[arg(
        long,
        env = "GATEHOUSE_SHUTDOWN_GRACE_SECS",
        default_value_t = 10,
        global = true
    )]
    pub shutdown_grace_secs: u64,
}

/// A secret that never appears in logs or debug output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// What the server runs with, checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    pub bind: SocketAddr,
    pub mode: app::ssr::Mode,
    pub log_format: LogFormat,
    pub org_config: PathBuf,
    pub site_root: PathBuf,
    pub db_max_connections: u32,
    pub shutdown_grace: Duration,
    pub aws: crate::codepipeline::AwsSettings,
    /// Zero turns the poller off (tests drive it themselves).
    pub poll_interval: Duration,
}

impl Config {
    /// Reads the configuration from the environment alone.
    pub fn from_env() -> Result<Self, clap::Error> {
        let cli = Cli::try_parse_from(["gatehouse"])?;
        cli.settings
            .into_config()
            .map_err(|msg| clap::Error::raw(clap::error::ErrorKind::MissingRequiredArgument, msg))
    }
}

impl Settings {
    pub fn into_config(self) -> Result<Config, String> {
        let database_url = self
            .database_url
            .filter(|url| !url.trim().is_empty())
            .ok_or("DATABASE_URL is not set: give a Postgres URL, e.g. postgres://postgres@127.0.0.1:5432/gatehouse")?;
        Ok(Config {
            database_url: Secret::new(database_url),
            bind: self.bind,
            mode: match self.mode {
                ModeArg::Demo => app::ssr::Mode::Demo,
                ModeArg::Real => app::ssr::Mode::Real,
            },
            log_format: self.log_format,
            org_config: self.org_config,
            site_root: self.site_root,
            db_max_connections: self.db_max_connections.max(1),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            aws: crate::codepipeline::AwsSettings {
                region: self.aws_region,
                endpoint_url: self.codepipeline_endpoint.filter(|u| !u.trim().is_empty()),
                max_attempts: self.aws_max_attempts,
                initial_backoff: Duration::from_millis(200),
                operation_timeout: Duration::from_secs(self.aws_timeout_secs.max(1)),
                placeholder_credentials: false,
            },
            poll_interval: Duration::from_secs(self.poll_interval_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_url_is_never_printed() {
        let config = Settings {
            database_url: Some("postgres://user:hunter2@db/gatehouse".into()),
            bind: "127.0.0.1:0".parse().expect("addr"),
            mode: ModeArg::Real,
            log_format: LogFormat::Json,
            org_config: "org.toml".into(),
            site_root: "site".into(),
            db_max_connections: 0,
            shutdown_grace_secs: 1,
            aws_region: "eu-west-1".into(),
            codepipeline_endpoint: None,
            aws_max_attempts: 3,
            aws_timeout_secs: 5,
            poll_interval_secs: 15,
        }
        .into_config()
        .expect("valid");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(config.db_max_connections, 1, "at least one connection");
        assert_eq!(config.mode, app::ssr::Mode::Real);
    }

    #[test]
    fn a_missing_database_url_is_explained() {
        let cli =
            Cli::try_parse_from(["gatehouse", "--database-url", " ", "migrate"]).expect("parses");
        assert_eq!(cli.command, Some(Command::Migrate));
        let err = cli.settings.into_config().expect_err("blank url");
        assert!(err.contains("DATABASE_URL is not set"));
    }

    #[test]
    fn modes_and_formats_parse_from_their_names() {
        let cli = Cli::try_parse_from([
            "gatehouse",
            "--mode",
            "real",
            "--log-format",
            "json",
            "--bind",
            "0.0.0.0:8080",
        ])
        .expect("parses");
        assert_eq!(cli.settings.mode, ModeArg::Real);
        assert_eq!(cli.settings.log_format, LogFormat::Json);
        assert!(Cli::try_parse_from(["gatehouse", "--mode", "staging"]).is_err());
    }
}

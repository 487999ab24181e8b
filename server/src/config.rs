//! Typed configuration, from the command line or the environment.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// GitHub's own web address, the default of `GATEHOUSE_GITHUB_URL`.
pub const GITHUB_WEB: &str = "https://github.com";

/// GitHub's API, read when no `GATEHOUSE_GITHUB_API_URL` is given (outside
/// demo mode).
pub const GITHUB_API: &str = "https://api.github.com";

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
    /// Work with the audit log's hash chain.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
}

/// What to do with the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole chain (streaming) and check every row's number, hash
    /// and link to the row before; exits non-zero naming the first row that
    /// does not match. With --export, checks an exported file offline
    /// instead of the database.
    Verify {
        /// A CSV or JSON Lines export from the Audit page.
        #[arg(long)]
        export: Option<PathBuf>,
        /// The export was filtered: rows may be left out between rows.
        /// Each row's own hash is still checked, and every link between
        /// consecutive rows.
        #[arg(long, requires = "export")]
        filtered: bool,
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
    /// GitHub's REST API (the routes Gatehouse reads), seeded with the demo
    /// repositories' commits. Point GATEHOUSE_GITHUB_API_URL at it; the
    /// control surface is under /_sim/.
    Github {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4598")]
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
    /// Postgres connection URL Gatehouse serves with: best a role that may
    /// read and write rows, and no more.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// Postgres connection URL of the role that owns the schema: migrations
    /// run with it, and it grants DATABASE_URL's role what serving needs
    /// (the audit log: insert and read only). Unset: DATABASE_URL migrates.
    #[arg(
        long,
        env = "GATEHOUSE_MIGRATION_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub migration_database_url: Option<String>,
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
    /// An OpenTelemetry collector's OTLP/HTTP address (e.g.
    /// http://127.0.0.1:4318): the request, server function, CodePipeline
    /// and GitHub spans are sent to `<address>/v1/traces`. Unset: none.
    #[arg(long, env = "GATEHOUSE_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
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
    /// Votes (approve, reject, new run) one session may send per minute;
    /// more are answered 429 (0: no limit).
    #[arg(
        long,
        env = "GATEHOUSE_VOTES_PER_MINUTE",
        default_value_t = 120,
        global = true
    )]
    pub votes_per_minute: u32,
    /// Sign-in attempts per minute from one session, and ten times as many
    /// from one client address; more are answered 429 (0: no limit).
    #[arg(
        long,
        env = "GATEHOUSE_SIGN_INS_PER_MINUTE",
        default_value_t = 30,
        global = true
    )]
    pub sign_ins_per_minute: u32,
    /// Live-update streams (`/events`) one process keeps open; more are
    /// answered 503 with a sentence.
    #[arg(
        long,
        env = "GATEHOUSE_MAX_EVENT_STREAMS",
        default_value_t = 2000,
        global = true
    )]
    pub max_event_streams: usize,
    /// Live-update streams one client keeps open (in real mode a signed-in
    /// person, in demo mode a client address); more are answered 503 with a
    /// sentence.
    #[arg(
        long,
        env = "GATEHOUSE_MAX_EVENT_STREAMS_PER_CLIENT",
        default_value_t = 20,
        global = true
    )]
    pub max_event_streams_per_client: usize,
    /// Proxies and load balancers (addresses or networks, comma-separated,
    /// e.g. `10.0.0.0/8`) whose `X-Forwarded-For` names the client the
    /// limits count; without them, the connection's peer is the client.
    #[arg(long, env = "GATEHOUSE_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    /// A bearer token that opens `/metrics` on the main address (demo mode
    /// serves it open).
    #[arg(
        long,
        env = "GATEHOUSE_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<String>,
    /// The SMTP server notifications are e-mailed through:
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://user:pass@host`
    /// (TLS), or `smtp://localhost:25` (plain, a local relay).
    #[arg(
        long,
        env = "GATEHOUSE_SMTP_URL",
        hide_env_values = true,
        global = true
    )]
    pub smtp_url: Option<String>,
    /// The From of notification e-mails, e.g. "Gatehouse <gatehouse@acme.example>".
    #[arg(long, env = "GATEHOUSE_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// Their Reply-To (a team list, say).
    #[arg(long, env = "GATEHOUSE_MAIL_REPLY_TO", global = true)]
    pub mail_reply_to: Option<String>,
    /// A second address serving only `/metrics`, open (keep it off the load
    /// balancer), e.g. 127.0.0.1:9464.
    #[arg(long, env = "GATEHOUSE_METRICS_BIND", global = true)]
    pub metrics_bind: Option<SocketAddr>,
    /// Health URL template ({service}, {environment}) instead of the org
    /// configuration's `[health] url`; demo mode otherwise probes its own
    /// simulated services.
    #[arg(long, env = "GATEHOUSE_HEALTH_URL", global = true)]
    pub health_url: Option<String>,
    /// Seconds between health probes instead of `[health] interval_secs`.
    #[arg(long, env = "GATEHOUSE_HEALTH_INTERVAL_SECS", global = true)]
    pub health_interval_secs: Option<u64>,
    /// Seconds to wait for open requests on shutdown.
    #[arg(
        long,
        env = "GATEHOUSE_SHUTDOWN_GRACE_SECS",
        default_value_t = 10,
        global = true
    )]
    pub shutdown_grace_secs: u64,
    /// Seconds to keep serving after SIGTERM while `/readyz` answers 503
    /// ("draining"), so a load balancer stops sending requests here before
    /// the listener closes: set it to the balancer's health-check interval
    /// or more. 0: stop accepting at once.
    #[arg(
        long,
        env = "GATEHOUSE_SHUTDOWN_DRAIN_SECS",
        default_value_t = 0,
        global = true
    )]
    pub shutdown_drain_secs: u64,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// Sign-in settings. Every provider URL can be overridden, for GitHub
/// Enterprise Server and for tests.
#[derive(Debug, Clone, Default, Args)]
pub struct AuthArgs {
    /// The URL people reach Gatehouse at; sign-in redirects come back to
    /// <url>/auth/<provider>/callback (default: http://<bind address>).
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// GitHub OAuth app client id; set it (and the secret) to offer GitHub sign-in.
    #[arg(long, env = "GATEHOUSE_GITHUB_CLIENT_ID", global = true)]
    pub github_client_id: Option<String>,
    /// GitHub OAuth app client secret.
    #[arg(
        long,
        env = "GATEHOUSE_GITHUB_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub github_client_secret: Option<String>,
    /// GitHub's web address (sign-in pages and token endpoint).
    #[arg(
        long,
        env = "GATEHOUSE_GITHUB_URL",
        default_value = GITHUB_WEB,
        global = true
    )]
    pub github_url: String,
    /// GitHub's REST API address (sign-in, team memberships, repositories);
    /// default https://api.github.com (demo mode: the built-in simulator).
    #[arg(long, env = "GATEHOUSE_GITHUB_API_URL", global = true)]
    pub github_api_url: Option<String>,
    /// A GitHub token for reading repositories (commits and their authors).
    #[arg(
        long,
        env = "GATEHOUSE_GITHUB_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub github_token: Option<String>,
    /// Read GitHub as a GitHub App instead of with a token: its app id,
    /// with GATEHOUSE_GITHUB_APP_KEY_FILE and GATEHOUSE_GITHUB_APP_INSTALLATION_ID.
    #[arg(long, env = "GATEHOUSE_GITHUB_APP_ID", global = true)]
    pub github_app_id: Option<u64>,
    /// The GitHub App's private key (PEM file).
    #[arg(long, env = "GATEHOUSE_GITHUB_APP_KEY_FILE", global = true)]
    pub github_app_key_file: Option<PathBuf>,
    /// The installation of the GitHub App on the organisation.
    #[arg(long, env = "GATEHOUSE_GITHUB_APP_INSTALLATION_ID", global = true)]
    pub github_app_installation_id: Option<u64>,
    /// OpenID Connect issuer; its discovery document gives the endpoints.
    #[arg(long, env = "GATEHOUSE_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,
    /// OAuth2 authorization endpoint (instead of discovery).
    #[arg(long, env = "GATEHOUSE_OIDC_AUTH_URL", global = true)]
    pub oidc_auth_url: Option<String>,
    /// OAuth2 token endpoint (instead of discovery).
    #[arg(long, env = "GATEHOUSE_OIDC_TOKEN_URL", global = true)]
    pub oidc_token_url: Option<String>,
    /// Userinfo endpoint (instead of discovery).
    #[arg(long, env = "GATEHOUSE_OIDC_USERINFO_URL", global = true)]
    pub oidc_userinfo_url: Option<String>,
    /// OIDC client id; set it to offer single sign-on.
    #[arg(long, env = "GATEHOUSE_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,
    /// OIDC client secret (none for a public client).
    #[arg(
        long,
        env = "GATEHOUSE_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub oidc_client_secret: Option<String>,
    /// What the sign-in button calls the provider.
    #[arg(
        long,
        env = "GATEHOUSE_OIDC_LABEL",
        default_value = "single sign-on",
        global = true
    )]
    pub oidc_label: String,
    /// Scopes asked of the provider, space separated.
    #[arg(
        long,
        env = "GATEHOUSE_OIDC_SCOPES",
        default_value = "openid profile email",
        global = true
    )]
    pub oidc_scopes: String,
    /// The userinfo claim listing the person's groups.
    #[arg(
        long,
        env = "GATEHOUSE_OIDC_GROUPS_CLAIM",
        default_value = "groups",
        global = true
    )]
    pub oidc_groups_claim: String,
    /// Seconds a person's roles are trusted before they are read again.
    #[arg(
        long,
        env = "GATEHOUSE_ROLE_REFRESH_SECS",
        default_value_t = 900,
        global = true
    )]
    pub role_refresh_secs: u64,
    /// Hours a session lasts without activity.
    #[arg(
        long,
        env = "GATEHOUSE_SESSION_IDLE_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub session_idle_hours: u64,
    /// Hours a sign-in lasts, however active.
    #[arg(
        long,
        env = "GATEHOUSE_SESSION_MAX_HOURS",
        default_value_t = 168,
        global = true
    )]
    pub session_max_hours: u64,
    /// 64 hex digits (32 bytes): the key that encrypts the provider tokens
    /// kept in sessions for role refresh (AES-256-GCM). Every replica needs
    /// the same key; without one, each process makes its own and sessions
    /// end at its restart.
    #[arg(
        long,
        env = "GATEHOUSE_TOKEN_KEY",
        hide_env_values = true,
        global = true
    )]
    pub token_key: Option<String>,
}

/// GitHub OAuth app sign-in.
#[derive(Debug, Clone)]
pub struct GitHubAuth {
    pub client_id: String,
    pub client_secret: Secret,
    pub web_url: String,
    pub api_url: String,
}

/// Where an OIDC provider's endpoints come from.
#[derive(Debug, Clone)]
pub enum OidcEndpoints {
    Discover {
        issuer: String,
    },
    Explicit {
        auth: String,
        token: String,
        userinfo: String,
    },
}

/// Generic OpenID Connect / OAuth2 sign-in.
#[derive(Debug, Clone)]
pub struct OidcAuth {
    pub label: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub endpoints: OidcEndpoints,
    pub scopes: Vec<String>,
    pub groups_claim: String,
}

/// Sign-in and session settings, checked.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub public_url: Option<String>,
    /// GitHub's API for repository reads; `None`: api.github.com, or the
    /// simulator in demo mode.
    pub github_api_url: Option<String>,
    pub github_token: Option<Secret>,
    /// Read GitHub as this GitHub App installation (instead of the token).
    pub github_app: Option<GitHubApp>,
    pub github: Option<GitHubAuth>,
    pub oidc: Option<OidcAuth>,
    pub role_refresh: Duration,
    pub session_idle: Duration,
    pub session_max_age: Duration,
    /// GitHub's web address, for links to commits, pull requests and
    /// repositories (GATEHOUSE_GITHUB_URL).
    pub github_web_url: String,
    /// The key sealing provider tokens in sessions; `None`: one per process.
    pub token_key: Option<[u8; 32]>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            public_url: None,
            github_api_url: None,
            github_token: None,
            github_app: None,
            github: None,
            oidc: None,
            role_refresh: Duration::from_secs(900),
            session_idle: Duration::from_secs(12 * 3600),
            session_max_age: Duration::from_secs(168 * 3600),
            github_web_url: GITHUB_WEB.into(),
            token_key: None,
        }
    }
}

fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn trimmed_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

impl AuthArgs {
    /// The GitHub App settings: all three, or none.
    fn github_app(&self) -> Result<Option<GitHubApp>, String> {
        match (
            self.github_app_id,
            &self.github_app_key_file,
            self.github_app_installation_id,
        ) {
            (None, None, None) => Ok(None),
            (Some(app_id), Some(file), Some(installation_id)) => {
                let pem = std::fs::read_to_string(file).map_err(|e| {
                    format!(
                        "GATEHOUSE_GITHUB_APP_KEY_FILE {}: cannot read the private key: {e}",
                        file.display()
                    )
                })?;
                if !pem.contains("PRIVATE KEY-----") {
                    return Err(format!(
                        "GATEHOUSE_GITHUB_APP_KEY_FILE {} is not a PEM private key",
                        file.display()
                    ));
                }
                Ok(Some(GitHubApp {
                    app_id,
                    private_key_pem: Secret::new(pem),
                    installation_id,
                }))
            }
            _ => Err("a GitHub App needs GATEHOUSE_GITHUB_APP_ID, GATEHOUSE_GITHUB_APP_KEY_FILE and GATEHOUSE_GITHUB_APP_INSTALLATION_ID together".into()),
        }
    }

    pub fn into_settings(self) -> Result<AuthSettings, String> {
        let github_app = self.github_app()?;
        let github = match (
            given(self.github_client_id),
            given(self.github_client_secret),
        ) {
            (None, None) => None,
            (Some(client_id), Some(secret)) => Some(GitHubAuth {
                client_id,
                client_secret: Secret::new(secret),
                web_url: trimmed_url(&self.github_url),
                api_url: trimmed_url(
                    self.github_api_url
                        .as_deref()
                        .unwrap_or(GITHUB_API),
                ),
            }),
            _ => {
                return Err(
                    "GitHub sign-in needs both GATEHOUSE_GITHUB_CLIENT_ID and GATEHOUSE_GITHUB_CLIENT_SECRET"
                        .into(),
                )
            }
        };
        let explicit = (
            given(self.oidc_auth_url),
            given(self.oidc_token_url),
            given(self.oidc_userinfo_url),
        );
        let oidc = match given(self.oidc_client_id) {
            None => None,
            Some(client_id) => {
                let endpoints = match (given(self.oidc_issuer), explicit) {
                    (Some(issuer), (None, None, None)) => OidcEndpoints::Discover {
                        issuer: trimmed_url(&issuer),
                    },
                    (None, (Some(auth), Some(token), Some(userinfo))) => OidcEndpoints::Explicit {
                        auth,
                        token,
                        userinfo,
                    },
                    _ => return Err(
                        "single sign-on needs either GATEHOUSE_OIDC_ISSUER or all of GATEHOUSE_OIDC_AUTH_URL, GATEHOUSE_OIDC_TOKEN_URL and GATEHOUSE_OIDC_USERINFO_URL"
                            .into(),
                    ),
                };
                Some(OidcAuth {
                    label: self.oidc_label.trim().to_owned(),
                    client_id,
                    client_secret: given(self.oidc_client_secret).map(Secret::new),
                    endpoints,
                    scopes: self
                        .oidc_scopes
                        .split_whitespace()
                        .map(ToOwned::to_owned)
                        .collect(),
                    groups_claim: self.oidc_groups_claim,
                })
            }
        };
        Ok(AuthSettings {
            public_url: given(self.public_url).map(|u| trimmed_url(&u)),
            github_api_url: given(self.github_api_url.clone()).map(|u| trimmed_url(&u)),
            github_token: given(self.github_token.clone()).map(Secret::new),
            github_app,
            github,
            oidc,
            role_refresh: Duration::from_secs(self.role_refresh_secs),
            session_idle: Duration::from_secs(self.session_idle_hours.max(1) * 3600),
            session_max_age: Duration::from_secs(self.session_max_hours.max(1) * 3600),
            github_web_url: trimmed_url(&self.github_url),
            token_key: match given(self.token_key) {
                None => None,
                Some(hexed) => {
                    let bytes = hex::decode(&hexed).ok().filter(|b| b.len() == 32).ok_or(
                        "GATEHOUSE_TOKEN_KEY must be 64 hex digits (32 random bytes, e.g. from `openssl rand -hex 32`)",
                    )?;
                    let mut key = [0_u8; 32];
                    key.copy_from_slice(&bytes);
                    Some(key)
                }
            },
        })
    }
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

/// A GitHub App installation to read GitHub as; octocrab signs a JWT with
/// the key and trades it for installation tokens, renewed before they expire.
#[derive(Debug, Clone)]
pub struct GitHubApp {
    pub app_id: u64,
    pub private_key_pem: Secret,
    pub installation_id: u64,
}

/// What the server runs with, checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    /// The schema owner's URL, when migrations run as another role.
    pub migration_database_url: Option<Secret>,
    pub bind: SocketAddr,
    pub mode: app::ssr::Mode,
    pub log_format: LogFormat,
    pub org_config: PathBuf,
    pub site_root: PathBuf,
    pub db_max_connections: u32,
    pub shutdown_grace: Duration,
    /// How long to keep serving, unready, after SIGTERM.
    pub shutdown_drain: Duration,
    pub aws: crate::adapters::codepipeline::AwsSettings,
    /// Zero turns the poller and the prober off (tests drive them).
    pub poll_interval: Duration,
    /// Overrides of the org configuration's `[health]` URL and interval.
    pub health_url: Option<String>,
    pub health_interval: Option<Duration>,
    pub auth: AuthSettings,
    pub limits: LimitSettings,
    pub metrics: MetricsSettings,
    /// SMTP for e-mail notifications; webhook URLs come from the channels'
    /// `url_env` variables unless given here.
    pub notifications: crate::adapters::notify::NotificationSettings,
}

/// Where `/metrics` is served.
#[derive(Debug, Clone, Default)]
pub struct MetricsSettings {
    /// Opens `/metrics` on the main address to `Authorization: Bearer`.
    pub token: Option<Secret>,
    /// A second address serving `/metrics` alone, open.
    pub bind: Option<SocketAddr>,
}

/// How much one session, one client and all clients may ask of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    /// Votes per minute per session (0: unlimited).
    pub votes_per_minute: u32,
    /// Sign-in attempts per minute per session, once it exists on the
    /// server (ten times as many per client address; 0: unlimited).
    pub sign_ins_per_minute: u32,
    /// Open `/events` streams per process.
    pub max_event_streams: usize,
    /// Open `/events` streams per signed-in person (real mode) or client
    /// address (demo mode).
    pub max_event_streams_per_client: usize,
    /// Whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::http::limits::TrustedProxies,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            votes_per_minute: 120,
            sign_ins_per_minute: 30,
            max_event_streams: 2000,
            max_event_streams_per_client: 20,
            trusted_proxies: crate::http::limits::TrustedProxies::default(),
        }
    }
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
    /// How CodePipeline is reached (AWS's credential chain).
    pub fn aws_settings(&self) -> crate::adapters::codepipeline::AwsSettings {
        crate::adapters::codepipeline::AwsSettings {
            region: self.aws_region.clone(),
            endpoint_url: self
                .codepipeline_endpoint
                .clone()
                .filter(|u| !u.trim().is_empty()),
            max_attempts: self.aws_max_attempts,
            initial_backoff: Duration::from_millis(200),
            operation_timeout: Duration::from_secs(self.aws_timeout_secs.max(1)),
            placeholder_credentials: false,
        }
    }

    /// SMTP for e-mail notifications (webhook URLs come from the channels'
    /// `url_env` variables).
    pub fn notification_settings(&self) -> crate::adapters::notify::NotificationSettings {
        crate::adapters::notify::NotificationSettings {
            smtp_url: given(self.smtp_url.clone()).map(Secret::new),
            mail_from: given(self.mail_from.clone()),
            reply_to: given(self.mail_reply_to.clone()),
            webhook_urls: Default::default(),
        }
    }

    pub fn into_config(self) -> Result<Config, String> {
        let aws = self.aws_settings();
        let notifications = self.notification_settings();
        let database_url = self
            .database_url
            .filter(|url| !url.trim().is_empty())
            .ok_or("DATABASE_URL is not set: give a Postgres URL, e.g. postgres://postgres@127.0.0.1:5432/gatehouse")?;
        Ok(Config {
            database_url: Secret::new(database_url),
            migration_database_url: given(self.migration_database_url).map(Secret::new),
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
            shutdown_drain: Duration::from_secs(self.shutdown_drain_secs),
            aws,
            poll_interval: Duration::from_secs(self.poll_interval_secs),
            health_url: self.health_url.filter(|u| !u.trim().is_empty()),
            health_interval: self
                .health_interval_secs
                .map(|s| Duration::from_secs(s.max(1))),
            auth: self.auth.into_settings()?,
            limits: LimitSettings {
                votes_per_minute: self.votes_per_minute,
                sign_ins_per_minute: self.sign_ins_per_minute,
                max_event_streams: self.max_event_streams.max(1),
                max_event_streams_per_client: self.max_event_streams_per_client.max(1),
                trusted_proxies: crate::http::limits::TrustedProxies::parse(
                    self.trusted_proxies.as_deref().unwrap_or_default(),
                )?,
            },
            metrics: MetricsSettings {
                token: given(self.metrics_token).map(Secret::new),
                bind: self.metrics_bind,
            },
            notifications,
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
            migration_database_url: Some("postgres://owner:swordfish@db/gatehouse".into()),
            bind: "127.0.0.1:0".parse().expect("addr"),
            mode: ModeArg::Real,
            log_format: LogFormat::Json,
            otlp_endpoint: None,
            org_config: "org.toml".into(),
            site_root: "site".into(),
            db_max_connections: 0,
            shutdown_grace_secs: 1,
            shutdown_drain_secs: 0,
            aws_region: "eu-west-1".into(),
            codepipeline_endpoint: None,
            aws_max_attempts: 3,
            aws_timeout_secs: 5,
            poll_interval_secs: 15,
            votes_per_minute: 120,
            sign_ins_per_minute: 30,
            max_event_streams: 2000,
            max_event_streams_per_client: 20,
            trusted_proxies: None,
            metrics_token: None,
            metrics_bind: None,
            smtp_url: None,
            mail_from: None,
            mail_reply_to: None,
            health_url: None,
            health_interval_secs: None,
            auth: AuthArgs::default(),
        }
        .into_config()
        .expect("valid");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!format!("{config:?}").contains("swordfish"));
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

    fn auth_args(pairs: &[&str]) -> Result<AuthSettings, String> {
        let mut argv = vec!["gatehouse"];
        argv.extend_from_slice(pairs);
        Cli::try_parse_from(argv)
            .expect("parses")
            .settings
            .auth
            .into_settings()
    }

    #[test]
    fn sign_in_providers_need_complete_settings_and_urls_are_overridable() {
        let none = auth_args(&[]).expect("no providers is fine");
        assert!(none.github.is_none() && none.oidc.is_none());
        assert_eq!(none.role_refresh, Duration::from_secs(900));

        let err = auth_args(&["--github-client-id", "abc"]).expect_err("no secret");
        assert!(err.contains("GATEHOUSE_GITHUB_CLIENT_SECRET"), "{err}");
        let gh = auth_args(&[
            "--github-client-id",
            "abc",
            "--github-client-secret",
            "shh",
            "--github-url",
            "https://ghe.example.com/",
            "--github-api-url",
            "https://ghe.example.com/api/v3",
        ])
        .expect("github")
        .github
        .expect("configured");
        assert_eq!(gh.web_url, "https://ghe.example.com");
        assert_eq!(gh.api_url, "https://ghe.example.com/api/v3");
        assert!(
            !format!("{gh:?}").contains("shh"),
            "secrets stay out of logs"
        );

        let explicit = auth_args(&[
            "--oidc-client-id",
            "gatehouse",
            "--oidc-auth-url",
            "https://idp/authorize",
            "--oidc-token-url",
            "https://idp/token",
            "--oidc-userinfo-url",
            "https://idp/userinfo",
        ])
        .expect("explicit")
        .oidc
        .expect("configured");
        assert!(matches!(explicit.endpoints, OidcEndpoints::Explicit { .. }));
        assert_eq!(explicit.scopes, ["openid", "profile", "email"]);
        let err = auth_args(&[
            "--oidc-client-id",
            "gatehouse",
            "--oidc-issuer",
            "https://idp",
            "--oidc-token-url",
            "https://idp/token",
        ])
        .expect_err("both ways at once");
        assert!(err.contains("either GATEHOUSE_OIDC_ISSUER"), "{err}");
    }
}

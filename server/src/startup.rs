//! Building and running the application.

use crate::adapters::codepipeline::CodePipelineAdapter;
use crate::adapters::db::{self, PgStore};
use crate::config::Config;
use crate::org_config::HealthConfig;
use crate::simulators::codepipeline::{Simulator, SimulatorSettings};
use crate::simulators::github::GitHubSimulator;
use crate::simulators::health::HealthSimulator;
use crate::{org_config, simulators::demo};
use anyhow::Context;
use app::ssr::{AppState, Mode};
use axum::routing::get;
use axum::Router;
use leptos::prelude::LeptosOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A bound, ready-to-run Gatehouse.
pub struct Application {
    listener: TcpListener,
    router: Router,
    pool: PgPool,
    shutdown_grace: Duration,
    shutdown_drain: Duration,
    /// Set on SIGTERM: `/readyz` answers 503 while the process drains.
    draining: Arc<std::sync::atomic::AtomicBool>,
    changes: crate::http::events::Changes,
    state: AppState,
    simulator: Option<Simulator>,
    github_simulator: Option<GitHubSimulator>,
    health_simulator: Option<HealthSimulator>,
    health: Option<HealthConfig>,
    notifier: Arc<crate::adapters::notify::Notifier>,
    terraform: Option<crate::adapters::terraform::TerraformConfig>,
    terraform_backend: Option<crate::adapters::terraform::TerraformBackend>,
}

impl Application {
    /// Connects to Postgres, then builds as [`Application::build_with_pool`].
    /// With a migration URL, the schema's owner migrates and grants the
    /// serving role (DATABASE_URL's) what it needs first.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(config.db_max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(config.database_url.expose())
            .await
            .context("cannot connect to Postgres at DATABASE_URL")?;
        if let Some(owner_url) = &config.migration_database_url {
            let owner = PgPoolOptions::new()
                .max_connections(1)
                .connect(owner_url.expose())
                .await
                .context("cannot connect to Postgres at GATEHOUSE_MIGRATION_DATABASE_URL")?;
            let serving_role: String = sqlx::query_scalar("SELECT current_user::text")
                .fetch_one(&pool)
                .await?;
            db::migrate_and_grant(&owner, &serving_role).await?;
            owner.close().await;
        }
        Self::build_with_pool(config, pool).await
    }

    /// Checks the org configuration, migrates and syncs the database, seeds
    /// demo personas in demo mode, and binds the listener.
    pub async fn build_with_pool(config: Config, pool: PgPool) -> anyhow::Result<Self> {
        // The whole file, read and checked once, as `check-config` does.
        let org_config::OrgFile {
            mut org,
            access,
            operations,
        } = org_config::load_file(&config.org_config)?;
        if config.mode == Mode::Demo {
            org.calendar = demo::calendar_around(&org.calendar, chrono::Utc::now().date_naive());
        }
        if config.migration_database_url.is_none() {
            db::MIGRATOR
                .run(&pool)
                .await
                .context("cannot apply database migrations")?;
        }
        db::sync_org(&pool, &org, &config.org_config)
            .await
            .context("cannot store the org configuration")?;
        if config.mode == Mode::Demo {
            db::upsert_personas(&pool, &demo::personas(&org))
                .await
                .context("cannot seed the demo personas")?;
            demo::seed_past_outages(&pool, &org)
                .await
                .context("cannot seed the demo's past outages")?;
        }

        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let addr = listener.local_addr()?;
        let assets = crate::http::assets::Assets::load(&config.site_root, "pkg", "gatehouse");
        let hash_file = assets.write_hash_file();
        let leptos_options = LeptosOptions::builder()
            .output_name("gatehouse")
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .hash_files(hash_file.is_some())
            .hash_file(
                hash_file
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "hash.txt".to_owned())
                    .into(),
            )
            .build();
        let mut aws = config.aws.clone();
        // Demo mode never talks to AWS: its own simulator, or one given by
        // GATEHOUSE_CODEPIPELINE_ENDPOINT, with placeholder credentials.
        let simulator = if config.mode == Mode::Demo && aws.endpoint_url.is_none() {
            let (simulator, url) = start_codepipeline_simulator(&org).await?;
            aws.endpoint_url = Some(url);
            Some(simulator)
        } else {
            None
        };
        if config.mode == Mode::Demo {
            aws.placeholder_credentials = true;
        }
        // Likewise GitHub: demo mode reads the built-in GitHub simulator
        // unless an API URL is given.
        let (github_simulator, github_api) = match &config.auth.github_api_url {
            Some(url) => (None, url.clone()),
            None if config.mode == Mode::Demo => {
                let (sim, url) = start_github_simulator(&org).await?;
                sim.set_web_base(DEMO_GITHUB_PAGES);
                (Some(sim), url)
            }
            None => (None, crate::config::GITHUB_API.to_owned()),
        };
        // Every CodePipeline and GitHub call reports whether the service
        // answered; what is missing or failing is said once per change.
        let integrations = crate::adapters::integrations::Integrations::new();
        let github = Arc::new(crate::adapters::integrations::ReportingGitHub::new(
            Arc::new(
                crate::adapters::github::GitHubAdapter::new(
                    &crate::adapters::github::GitHubSettings {
                        api_url: github_api.clone(),
                        token: config.auth.github_token.clone(),
                        app: config.auth.github_app.clone(),
                    },
                )
                .map_err(|why| anyhow::anyhow!("invalid GitHub settings: {why}"))?,
            ),
            integrations.clone(),
            &github_api,
            config.auth.github_token.is_some() || config.auth.github_app.is_some(),
        ));
        let codepipeline = CodePipelineAdapter::new(&aws).await;
        let pipelines = Arc::new(crate::adapters::integrations::ReportingPipelines::new(
            Arc::new(codepipeline.clone()),
            integrations.clone(),
            &aws,
        ));
        if config.mode == Mode::Real {
            integrations.found(&crate::adapters::integrations::sign_in_finding(
                &config.auth,
            ));
            integrations.found(&crate::adapters::integrations::github_token_finding(
                &config.auth,
            ));
            let status = integrations.clone();
            tokio::spawn(async move {
                status.found(
                    &crate::adapters::integrations::aws_credentials_finding(&codepipeline).await,
                );
            });
        }
        let store = Arc::new(PgStore::new(pool.clone()));
        // The org, the calendar and the board are read from memory, kept
        // current by the change listener.
        let generations = Arc::new(crate::cache::Generations::default());
        let changes =
            crate::http::events::Changes::start(pool.clone(), generations.clone(), &config.limits);
        let changes_for_metrics = changes.clone();
        let changes_for_shutdown = changes.clone();
        let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let cached = Arc::new(crate::cache::Cached::new(
            store.clone(),
            generations.clone(),
        ));
        // Health URLs: as given, else demo mode's simulated services, else
        // the org configuration's.
        let mut health = operations.health.clone();
        let mut health_simulator = None;
        if let Some(url) = &config.health_url {
            let h = health.get_or_insert_with(|| default_health(&org));
            h.url = url.clone();
        } else if config.mode == Mode::Demo {
            let (sim, base) = start_health_simulator().await?;
            let h = health.get_or_insert_with(|| default_health(&org));
            h.url = HealthSimulator::url_template(&base);
            // A demo shows a shorter cycle than production's default.
            h.interval = h.interval.min(Duration::from_secs(10));
            health_simulator = Some(sim);
        }
        if let (Some(h), Some(interval)) = (&mut health, config.health_interval) {
            h.interval = interval;
        }
        let public_url = config
            .auth
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let directory = Arc::new(
            crate::http::auth::Directory::new(&config.auth, access, &public_url)
                .map_err(|why| anyhow::anyhow!("invalid sign-in settings: {why}"))?,
        );
        // Terraform states: as configured, or demo mode's simulated backend.
        let mut terraform = operations.terraform.clone();
        if let Some(t) = terraform.as_mut() {
            t.s3.region.get_or_insert_with(|| config.aws.region.clone());
        }
        let mut terraform_backend = None;
        if config.mode == Mode::Demo {
            let (backend, base) = start_terraform_backend(&org).await?;
            terraform = Some(crate::adapters::terraform::TerraformConfig {
                refresh: Duration::from_secs(30),
                states: org
                    .environments
                    .iter()
                    .map(|e| {
                        (
                            e.id.to_string(),
                            crate::adapters::terraform::StateSource::Http(format!(
                                "{base}/state/{}",
                                e.id
                            )),
                        )
                    })
                    .collect(),
                s3: crate::adapters::terraform::S3Settings::default(),
            });
            terraform_backend = Some(backend);
        }
        let notifier = Arc::new(crate::adapters::notify::Notifier::new(
            pool.clone(),
            &operations.notifications,
            &config.notifications,
            &public_url,
            config.mode == Mode::Demo,
        )?);
        if config.mode == Mode::Real {
            // The notifier logged these already.
            for finding in crate::adapters::integrations::channel_findings(&notifier.summaries()) {
                integrations.set_quietly(&finding.integration, finding.state, finding.detail);
            }
        }
        let state = AppState {
            leptos_options,
            mode: config.mode,
            org: cached.clone(),
            users: store.clone(),
            approvals: cached.clone(),
            audit: store.clone(),
            pipelines,
            calendar: cached.clone(),
            board: cached,
            notifications: store.clone(),
            inventory: store.clone(),
            notification_channels: Arc::new(notifier.summaries()),
            changes: generations,
            rendered: Arc::default(),
            identity: directory.clone(),
            github,
            refuse_unmerged_hotfix: operations.refuse_unmerged_hotfix,
            // Demo mode's links open the simulator's own pages, unless
            // another GitHub address is configured.
            github_web: if github_simulator.is_some()
                && config.auth.github_web_url == crate::config::GITHUB_WEB
            {
                DEMO_GITHUB_PAGES.to_owned()
            } else {
                config.auth.github_web_url.clone()
            },
        };
        // Behind a TLS proxy Gatehouse itself listens on plain HTTP, often on
        // loopback: what the browser uses is the public URL's scheme.
        let https = public_url.starts_with("https://");
        let router = crate::router::router(
            state.clone(),
            directory,
            pool.clone(),
            https,
            config.auth.session_idle,
            assets,
            changes,
            github_simulator.as_ref().map(GitHubSimulator::web_router),
            crate::http::limits::RateLimits::new(&config.limits),
            crate::metrics::MetricsState {
                pool: pool.clone(),
                changes: changes_for_metrics.clone(),
                token: config.metrics.token.as_ref().map(|t| t.expose().to_owned()),
                enabled: config.metrics.token.is_some() || config.mode == Mode::Demo,
            },
            draining.clone(),
            integrations.clone(),
        );
        crate::metrics::handle();
        if let Some(bind) = config.metrics.bind {
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("binding the metrics address {bind}"))?;
            let metrics_router = Router::new()
                .route("/metrics", get(crate::metrics::serve))
                .with_state(crate::metrics::MetricsState {
                    pool: pool.clone(),
                    changes: changes_for_metrics,
                    token: None,
                    enabled: true,
                });
            tracing::info!(%bind, "serving /metrics");
            tokio::spawn(async move {
                if let Err(err) = axum::serve(listener, metrics_router).await {
                    tracing::warn!(error = %err, "the metrics address stopped");
                }
            });
        }
        tokio::spawn(crate::jobs::sweep_expired_sessions(pool.clone()));
        tokio::spawn(crate::jobs::chain_audit_rows(pool.clone()));
        tokio::spawn(crate::jobs::verify_audit_chain(
            pool.clone(),
            Duration::from_secs(60),
        ));
        if !config.poll_interval.is_zero() {
            tokio::spawn(crate::jobs::poll_approvals(
                state.clone(),
                pool.clone(),
                config.poll_interval,
                integrations.clone(),
            ));
            if let Some(terraform) = &terraform {
                tokio::spawn(crate::jobs::read_terraform(pool.clone(), terraform.clone()));
            }
            tokio::spawn(crate::jobs::notify(
                state.clone(),
                pool.clone(),
                notifier.clone(),
            ));
            if let Some(health) = &health {
                tokio::spawn(crate::jobs::probe_health(
                    state.clone(),
                    pool.clone(),
                    health.clone(),
                ));
            }
        }
        tracing::info!(%addr, mode = ?config.mode, org = %org.name, "gatehouse is listening");
        Ok(Self {
            listener,
            router,
            pool,
            shutdown_grace: config.shutdown_grace,
            shutdown_drain: config.shutdown_drain,
            draining,
            changes: changes_for_shutdown,
            state,
            simulator,
            github_simulator,
            health_simulator,
            health,
            notifier,
            terraform,
            terraform_backend,
        })
    }

    /// The in-process simulated services' health endpoints, in demo mode.
    pub fn health_simulator(&self) -> Option<HealthSimulator> {
        self.health_simulator.clone()
    }

    /// What the prober probes, when anything.
    pub fn health(&self) -> Option<HealthConfig> {
        self.health.clone()
    }

    /// Where Terraform states are read (tests refresh them themselves).
    pub fn terraform(&self) -> Option<crate::adapters::terraform::TerraformConfig> {
        self.terraform.clone()
    }

    /// Demo mode's simulated Terraform backend.
    pub fn terraform_backend(&self) -> Option<crate::adapters::terraform::TerraformBackend> {
        self.terraform_backend.clone()
    }

    /// The notifier (tests run its passes themselves).
    pub fn notifier(&self) -> Arc<crate::adapters::notify::Notifier> {
        self.notifier.clone()
    }

    /// The state every request sees (for tests and jobs).
    /// The process's connection pool.
    pub fn pool(&self) -> PgPool {
        self.pool.clone()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// The in-process GitHub simulator, in demo mode.
    pub fn github_simulator(&self) -> Option<GitHubSimulator> {
        self.github_simulator.clone()
    }

    /// The in-process CodePipeline simulator, in demo mode.
    pub fn codepipeline_simulator(&self) -> Option<Simulator> {
        self.simulator.clone()
    }

    /// The port actually bound (useful when configured as 0).
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// Serves until SIGTERM or Ctrl-C, then lets open requests finish within
    /// the shutdown grace period.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let draining = self.draining.clone();
        let changes = self.changes.clone();
        let drain = self.shutdown_drain;
        tokio::spawn(async move {
            shutdown_signal().await;
            // Unready first, live-update streams ended (browsers reconnect
            // to another replica), then keep serving for the drain period
            // while the load balancer notices.
            draining.store(true, std::sync::atomic::Ordering::SeqCst);
            changes.stop_streams();
            if !drain.is_zero() {
                tracing::info!(?drain, "shutdown requested; draining");
                tokio::time::sleep(drain).await;
            }
            tracing::info!("shutdown: no new connections; finishing open requests");
            let _ = stop_tx.send(true);
        });
        let mut graceful_rx = stop_rx.clone();
        let server = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = graceful_rx.wait_for(|stop| *stop).await;
        })
        .into_future();
        let grace = self.shutdown_grace;
        let result = tokio::select! {
            result = server => result,
            _ = async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(?grace, "requests still open after the grace period; stopping anyway");
                Ok(())
            }
        };
        self.pool.close().await;
        tracing::info!("stopped");
        result
    }
}

/// Where demo mode serves the simulated GitHub's web pages.
pub(crate) const DEMO_GITHUB_PAGES: &str = "/demo/github";

/// Starts the GitHub simulator on a loopback port, with the commits the demo
/// pipelines run; the octocrab adapter reaches it over HTTP like GitHub.
async fn start_github_simulator(
    org: &app::domain::OrgModel,
) -> anyhow::Result<(GitHubSimulator, String)> {
    let simulator = GitHubSimulator::new();
    crate::simulators::demo::seed_github(&simulator, org);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot start the GitHub simulator")?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = simulator.router();
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "GitHub simulator stopped");
        }
    });
    tracing::info!(%url, "demo mode: GitHub simulator started");
    Ok((simulator, url))
}

/// Health settings when the org configuration has none but a URL is given
/// or demo mode simulates the services: every environment, defaults.
fn default_health(org: &app::domain::OrgModel) -> HealthConfig {
    HealthConfig {
        url: String::new(),
        environments: org.environments.iter().map(|e| e.id.to_string()).collect(),
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        thresholds: app::domain::health::Thresholds::default(),
        reopen_within: Duration::from_secs(3600),
    }
}

/// Starts demo mode's simulated services (their health endpoints) on a
/// loopback port, with the ones the demo shows down taken down.
async fn start_health_simulator() -> anyhow::Result<(HealthSimulator, String)> {
    let simulator = HealthSimulator::new();
    crate::simulators::demo::seed_health(&simulator);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot start the simulated services")?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = simulator.router();
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "simulated services stopped");
        }
    });
    tracing::info!(%url, "demo mode: simulated services' health endpoints started");
    Ok((simulator, url))
}

/// Starts demo mode's Terraform HTTP backend on a loopback port, with a
/// state per environment.
async fn start_terraform_backend(
    org: &app::domain::OrgModel,
) -> anyhow::Result<(crate::adapters::terraform::TerraformBackend, String)> {
    let backend = crate::adapters::terraform::TerraformBackend::new();
    for (i, env) in org.environments.iter().enumerate() {
        let serial = 40 + 7 * i as u64;
        backend.put(
            env.id.as_str(),
            crate::adapters::terraform::demo_state(org, env.id.as_str(), serial),
        );
    }
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot start the simulated Terraform backend")?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = backend.router();
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "simulated Terraform backend stopped");
        }
    });
    Ok((backend, url))
}

/// Starts the CodePipeline simulator on a loopback port, seeded from the
/// org configuration; the adapter reaches it over HTTP like AWS.
async fn start_codepipeline_simulator(
    org: &app::domain::OrgModel,
) -> anyhow::Result<(Simulator, String)> {
    let simulator = Simulator::new(SimulatorSettings::default());
    crate::simulators::demo::seed_codepipeline(&simulator, org);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot start the CodePipeline simulator")?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = simulator.router();
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "CodePipeline simulator stopped");
        }
    });
    tracing::info!(%url, "demo mode: CodePipeline simulator started");
    Ok((simulator, url))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

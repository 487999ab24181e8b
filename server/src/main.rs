use clap::Parser;
use server::config::{AuditCommand, Cli, Command, Simulated};
use server::{adapters::db, org_config, startup::Application, telemetry};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before the runtime: the span exporter's client blocks. check-config
    // says everything in its own words, without log lines.
    let telemetry = if cli.command == Some(Command::CheckConfig) {
        None
    } else {
        match telemetry::init(
            cli.settings.log_format,
            cli.settings.otlp_endpoint.as_deref(),
        ) {
            Ok(telemetry) => Some(telemetry),
            Err(err) => {
                eprintln!("gatehouse: GATEHOUSE_OTLP_ENDPOINT: {err:#}");
                return ExitCode::FAILURE;
            }
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("gatehouse: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(
                error = format!("{err:#}"),
                "gatehouse stopped with an error"
            );
            eprintln!("gatehouse: {err:#}");
            ExitCode::FAILURE
        }
    };
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    // Sends the spans still waiting.
    drop(telemetry);
    code
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => {
            server::adapters::integrations::check_config(&cli.settings, &mut std::io::stdout())
                .await
        }
        Command::Migrate => {
            let config = cli.settings.into_config().map_err(anyhow::Error::msg)?;
            match &config.migration_database_url {
                Some(owner_url) => {
                    let app = sqlx::PgPool::connect(config.database_url.expose()).await?;
                    let serving_role: String = sqlx::query_scalar("SELECT current_user::text")
                        .fetch_one(&app)
                        .await?;
                    let owner = sqlx::PgPool::connect(owner_url.expose()).await?;
                    db::migrate_and_grant(&owner, &serving_role).await?;
                    println!("migrations applied; {serving_role} may read and write rows, and only append to the audit log");
                }
                None => {
                    let pool = sqlx::PgPool::connect(config.database_url.expose()).await?;
                    db::MIGRATOR.run(&pool).await?;
                    println!("migrations applied");
                }
            }
            Ok(())
        }
        Command::Simulate {
            service: Simulated::Codepipeline { listen },
        } => {
            let org = org_config::load(&cli.settings.org_config)?;
            let sim = server::simulators::codepipeline::Simulator::new(Default::default());
            server::simulators::demo::seed_codepipeline(&sim, &org);
            let listener = tokio::net::TcpListener::bind(listen).await?;
            println!(
                "CodePipeline simulator on http://{}",
                listener.local_addr()?
            );
            axum::serve(listener, sim.router()).await?;
            Ok(())
        }
        Command::Simulate {
            service: Simulated::Github { listen },
        } => {
            let org = org_config::load(&cli.settings.org_config)?;
            let sim = server::simulators::github::GitHubSimulator::new();
            server::simulators::demo::seed_github(&sim, &org);
            let listener = tokio::net::TcpListener::bind(listen).await?;
            println!("GitHub simulator on http://{}", listener.local_addr()?);
            axum::serve(listener, sim.router()).await?;
            Ok(())
        }
        Command::Audit {
            action:
                AuditCommand::Verify {
                    export: Some(path),
                    filtered,
                },
        } => {
            let file = std::fs::File::open(&path)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
            let checked =
                server::http::audit_export::verify_export(std::io::BufReader::new(file), filtered)?;
            server::http::audit_export::report_export(&checked, &mut std::io::stdout())
        }
        Command::Audit {
            action: AuditCommand::Verify { export: None, .. },
        } => {
            let config = cli.settings.into_config().map_err(anyhow::Error::msg)?;
            let pool = sqlx::PgPool::connect(config.database_url.expose()).await?;
            // The serving role's URL (DATABASE_URL) is enough: the chain's
            // head is read through a function the owner grants it.
            let verified = server::audit::verify_database(&pool, 0)
                .await
                .map_err(|err| {
                    anyhow::anyhow!(
                        "cannot verify the audit chain: {}",
                        server::audit::could_not_run_words(&err)
                    )
                })?;
            // The result is shown on the Audit page; a read-only role
            // cannot record it, which does not change the answer.
            if let Err(err) = server::audit::record(&pool, &verified).await {
                eprintln!("gatehouse: the result could not be recorded: {err:#}");
            }
            server::audit::report(&verified, &mut std::io::stdout())
        }
        Command::Serve => {
            let config = cli.settings.into_config().map_err(anyhow::Error::msg)?;
            Application::build(config)
                .await?
                .run_until_stopped()
                .await?;
            Ok(())
        }
    }
}

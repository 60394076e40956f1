//! `parcelport-scheduler`: the business clock as a service (distributed mode). Fires what
//! falls due through the engine on the PostgreSQL store, reading the `schedule` and
//! `storage_status` views that `parcelport-projector --view schedule|storage_status` keep in
//! the same database, on the system clock. Run several replicas with the same `--name`: one
//! leads by lease, the others stand by and take over when it dies. Serves `/v1/clock`,
//! `/v1/schedule` and `/healthz` on `--listen`. SIGINT or SIGTERM stop it after the tick
//! under way.

use anyhow::Context;
use clap::Parser;
use scheduler::{BusinessClock, Scheduler, SchedulerOptions};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The business clock: time-driven rules fired through the engine.
#[derive(Debug, Parser)]
#[command(name = "parcelport-scheduler", version)]
struct Args {
    /// The event store database (the views live there too).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// A policy TOML file, or a shipped profile: jp-forwarding, cn-agency.
    #[arg(long, env = "PARCELPORT_POLICY", default_value = "jp-forwarding")]
    policy: String,
    /// The warehouse's suite code prefix (the engine's configuration).
    #[arg(long, env = "PARCELPORT_SUITE_PREFIX", default_value = "TYO")]
    suite_prefix: String,
    /// The token file (for `/v1/schedule`).
    #[arg(long, env = "PARCELPORT_TOKENS")]
    tokens: std::path::PathBuf,
    /// Address of the HTTP endpoints.
    #[arg(
        long,
        env = "PARCELPORT_SCHEDULER_LISTEN",
        default_value = "127.0.0.1:8085"
    )]
    listen: String,
    /// The scheduler's name, shared by its replicas: one leads per name.
    #[arg(long, env = "PARCELPORT_SCHEDULER_NAME", default_value = "scheduler")]
    name: String,
    /// The writer's Ed25519 key file (64 hex digits; `parcelport serve` creates one as
    /// `<data-dir>/writer.key`): every event the scheduler causes is signed with it.
    #[arg(long, env = "PARCELPORT_SIGN_KEY")]
    sign_key: Option<std::path::PathBuf>,
    /// How often the leader looks for work that fell due, in seconds.
    #[arg(long, env = "PARCELPORT_SCHEDULE_EVERY", default_value_t = 30)]
    every: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init_logs("parcelport-scheduler", telemetry::LogFormat::Json);
    let args = Args::parse();
    let policy = web::policy::PolicySource::parse(&args.policy)
        .load()
        .context("cannot read the policy")?;
    let tokens = std::fs::read_to_string(&args.tokens)
        .with_context(|| format!("cannot read {}", args.tokens.display()))?;
    let tokens = web::auth::TokenBook::from_toml(&tokens).context("the token file")?;
    let store = event_store::EventStore::connect(&args.database_url, 4)
        .await
        .context("cannot connect to the event store")?;
    let mut engine_config =
        engine::EngineConfig::new(&args.suite_prefix).context("the suite prefix")?;
    match &args.sign_key {
        Some(path) => {
            let key = audit::checkpoint::read_signing_key(path)
                .context("cannot read the writer's key")?;
            engine_config = engine_config
                .signing_with(Arc::new(event_store::authorship::EventSigner::new(key)));
        }
        None => tracing::warn!("no --sign-key: the events the scheduler causes are not signed"),
    }
    let keys = personal_data::KeyStore::postgres(store.pool().clone())
        .await
        .context("cannot open the members' key store")?;
    engine_config =
        engine_config.protecting_personal_data(Arc::new(personal_data::PersonalData::new(keys)));
    let engine =
        engine::PgEngine::postgres(&store, domain::Services::new(policy.clone()), engine_config);
    engine
        .migrate()
        .await
        .context("cannot migrate the engine")?;
    let scheduler = Arc::new(
        Scheduler::new(
            Arc::new(engine),
            store.clone(),
            projection_runtime::ViewDb::from(store.pool()),
            BusinessClock::Real,
            Arc::new(policy),
            SchedulerOptions {
                interval: Duration::from_secs(args.every.max(1)),
                ..SchedulerOptions::default()
            },
        )
        .await
        .context("cannot prepare the scheduler")?,
    );

    let (stop, stopping) = watch::channel(false);
    tokio::spawn(async move {
        telemetry::shutdown_requested("parcelport-scheduler").await;
        let _ = stop.send(true);
    });
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let routes = scheduler::routes(Arc::clone(&scheduler), Arc::new(tokens))
        .route("/healthz", axum::routing::get(|| async { "ok" }));
    let http_stopping = stopping.clone();
    let http = tokio::spawn(async move {
        axum::serve(listener, routes)
            .with_graceful_shutdown(stopped(http_stopping))
            .await
    });

    scheduler::while_leading(&args.database_url, &args.name, stopping, |stop| {
        scheduler.run(stop)
    })
    .await;
    let _ = http.await;
    tracing::info!("parcelport-scheduler stopped");
    telemetry::flush_traces();
    Ok(())
}

/// Completes once a stop is requested.
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

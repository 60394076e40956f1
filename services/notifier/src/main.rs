//! `parcelport-notifier`: notices to members as a service (distributed mode). Delivers the
//! `notices` view that `parcelport-projector --view notices` keeps in the PostgreSQL database
//! (fed from JetStream or the store, like any projector) by e-mail and signed webhooks, and
//! records every delivery in `notifier_deliveries` beside the view. Run several replicas with
//! the same `--name`: one leads by lease, the others stand by and take over when it dies.
//! Serves `/healthz` and `/metrics` on `--listen`. SIGINT or SIGTERM stop it after the round under way.

use anyhow::Context;
use clap::Parser;
use notifier::{ChannelConfig, Notifier, NotifierFlags};
use std::sync::Arc;
use tokio::sync::watch;

/// Notices to members, delivered once per channel.
#[derive(Debug, Parser)]
#[command(name = "parcelport-notifier", version)]
struct Args {
    /// The database holding the views (the notices view and the deliveries' record) and the
    /// members' keys (`personal_data_keys`, beside the events), which open the sealed names
    /// and addresses of the notices view.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[command(flatten)]
    notices: NotifierFlags,
    /// The notifier's name, shared by its replicas: one leads per name.
    #[arg(long, env = "PARCELPORT_NOTIFIER_NAME", default_value = "notifier")]
    name: String,
    /// Address of `/healthz` and `/metrics`.
    #[arg(
        long,
        env = "PARCELPORT_NOTIFIER_LISTEN",
        default_value = "127.0.0.1:8086"
    )]
    listen: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init_logs("parcelport-notifier", telemetry::LogFormat::Json);
    let metrics = telemetry::metrics_recorder();
    let args = Args::parse();
    let channels = args
        .notices
        .channels()
        .iter()
        .map(ChannelConfig::open)
        .collect::<Result<Vec<_>, _>>()
        .context("a notice channel")?;
    anyhow::ensure!(
        !channels.is_empty(),
        "no channel: give --smtp-url and --mail-from, or --webhook and --webhook-secret"
    );
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&args.database_url)
        .await
        .context("cannot connect to the views' database")?;
    // The members' keys (issue #10): names and addresses are sealed in the views.
    let keys = personal_data::KeyStore::postgres(pool.clone())
        .await
        .context("cannot open the members' key store")?;
    let notifier = Notifier::new(
        projection_runtime::ViewDb::from(pool),
        channels,
        Arc::new(engine::SystemClock),
        args.notices.options(),
    )
    .await
    .context("cannot prepare the deliveries' record")?
    .opening_personal_data_with(Arc::new(personal_data::PersonalData::new(keys)));

    let (stop, stopping) = watch::channel(false);
    tokio::spawn(async move {
        telemetry::shutdown_requested("parcelport-notifier").await;
        let _ = stop.send(true);
    });
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let routes = axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/metrics",
            axum::routing::get(move || std::future::ready(metrics.render())),
        );
    let http_stopping = stopping.clone();
    let http = tokio::spawn(async move {
        axum::serve(listener, routes)
            .with_graceful_shutdown(stopped(http_stopping))
            .await
    });

    scheduler::while_leading(&args.database_url, &args.name, stopping, |stop| {
        notifier.run(stop)
    })
    .await;
    let _ = http.await;
    tracing::info!("parcelport-notifier stopped");
    telemetry::flush_traces();
    Ok(())
}

/// Completes once a stop is requested.
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

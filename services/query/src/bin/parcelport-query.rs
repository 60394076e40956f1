//! `parcelport-query`: the query API and the ops dashboard as a process. Reads flags or the
//! environment, sets up logs and metrics, and calls `query::run` until Ctrl-C or SIGTERM.

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The parcelport query API and ops dashboard.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Flags {
    /// The PostgreSQL database holding the events and the views.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Address to listen on.
    #[arg(long, env = "QUERY_LISTEN", default_value = "127.0.0.1:8081")]
    listen: String,
    /// The token file (the command API's).
    #[arg(long, env = "PARCELPORT_TOKENS")]
    tokens: PathBuf,
    /// A policy TOML file, or a shipped profile: jp-forwarding, cn-agency.
    #[arg(long, env = "PARCELPORT_POLICY", default_value = "jp-forwarding")]
    policy: String,
    /// Seconds a view may wait with events behind it before it is reported stuck.
    #[arg(long, env = "QUERY_STUCK_AFTER_SECONDS", default_value_t = 60)]
    stuck_after_seconds: u64,
    /// PostgreSQL connections.
    #[arg(long, env = "QUERY_DB_CONNECTIONS", default_value_t = 8)]
    max_connections: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    telemetry::init_logs("parcelport-query", telemetry::LogFormat::Json);
    telemetry::metrics_recorder();
    let config = query::Config {
        database_url: flags.database_url,
        max_connections: flags.max_connections,
        tokens: flags.tokens,
        policy: query::PolicySource::parse(&flags.policy),
        stuck_after: Duration::from_secs(flags.stuck_after_seconds),
    };
    let listener = tokio::net::TcpListener::bind(&flags.listen)
        .await
        .with_context(|| format!("cannot listen on {}", flags.listen))?;
    let stopped = query::run(
        config,
        listener,
        telemetry::shutdown_requested("parcelport-query"),
    )
    .await;
    telemetry::flush_traces();
    stopped.context("the query API stopped")
}

//! `parcelport-api`: the command API as a process. Reads its flags (or environment), sets up
//! logs and metrics, and calls `api::run` until Ctrl-C or SIGTERM.

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;

/// parcelport's command API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Flags {
    /// The event store's database.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Address to listen on.
    #[arg(long, env = "PARCELPORT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// The token file (TOML with SHA-256 hashes of the secrets).
    #[arg(long, env = "PARCELPORT_TOKENS")]
    tokens: PathBuf,
    /// A policy TOML file, or a shipped profile: jp-forwarding, cn-agency.
    #[arg(long, env = "PARCELPORT_POLICY", default_value = "jp-forwarding")]
    policy: String,
    /// The warehouse's suite code prefix, 2 to 4 capital letters.
    #[arg(long, env = "PARCELPORT_SUITE_PREFIX", default_value = "TYO")]
    suite_prefix: String,
    /// Database connections.
    #[arg(long, env = "PARCELPORT_DB_CONNECTIONS", default_value_t = 16)]
    max_connections: u32,
    /// The writer's Ed25519 key file (64 hex digits; `parcelport serve` creates one as
    /// `<data-dir>/writer.key`): every event appended is signed with it, so that `parcelport
    /// audit verify --public-key` can tell parcelport's events from any other row.
    #[arg(long, env = "PARCELPORT_SIGN_KEY")]
    sign_key: Option<PathBuf>,
    /// NATS (`nats://host:4222`, or a cluster's servers comma-separated): after each commit, a commit hint on
    /// `hints.parcelport.committed` wakes the relay and the other readers of the store at once.
    /// Without it they find new events at their next poll.
    #[arg(long, env = "NATS_URL")]
    nats_url: Option<String>,
    /// Human-readable logs instead of JSON lines.
    #[arg(long)]
    pretty_logs: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let format = if flags.pretty_logs {
        telemetry::LogFormat::Pretty
    } else {
        telemetry::LogFormat::Json
    };
    telemetry::init_logs("parcelport-api", format);
    telemetry::metrics_recorder();
    let config = api::Config {
        database_url: flags.database_url,
        max_connections: flags.max_connections,
        tokens: flags.tokens,
        policy: api::PolicySource::parse(&flags.policy),
        suite_prefix: flags.suite_prefix,
        signer: flags
            .sign_key
            .map(|path| audit::checkpoint::read_signing_key(&path))
            .transpose()
            .context("cannot read the writer's key")?
            .map(|key| std::sync::Arc::new(event_store::authorship::EventSigner::new(key))),
        nats_url: flags.nats_url,
    };
    if config.signer.is_none() {
        tracing::warn!("no --sign-key: the events this API appends are not signed");
    }
    let listener = tokio::net::TcpListener::bind(&flags.listen)
        .await
        .with_context(|| format!("cannot listen on {}", flags.listen))?;
    api::run(
        config,
        listener,
        telemetry::shutdown_requested("parcelport-api"),
    )
    .await
    .context("the command API stopped")?;
    tracing::info!("command API stopped");
    telemetry::flush_traces();
    Ok(())
}

//! `parcelport-relay`: the outbox relay as a service. Reads its configuration from flags or the
//! environment, logs JSON to stdout, and runs [`relay::run`] until SIGINT or SIGTERM, which
//! stop it gracefully (publishes in flight acked, checkpoint saved, lease released).
//!
//! Run several replicas with the same `--name`: one publishes, the others wait for its lease.
//! `parcelport-relay rewind --from-position N` fills a new or purged stream with history
//! (ADR 0003): with every replica stopped, it moves the checkpoint back so that the next start
//! publishes from event N on into a stream that holds none of the relay's events.

use anyhow::Context;
use clap::Parser;
use relay::RelayConfig;
use tracing_subscriber::EnvFilter;

/// The outbox relay: event store to NATS JetStream.
#[derive(Debug, Parser)]
#[command(name = "parcelport-relay", version)]
struct Args {
    /// What to do instead of running the relay.
    #[command(subcommand)]
    command: Option<Command>,
    /// The event store database.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The NATS server, or a cluster's servers comma-separated.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// The JetStream stream to publish to (created or updated at start).
    #[arg(long, env = "PARCELPORT_RELAY_STREAM", default_value = "PARCELPORT")]
    stream: String,
    /// The relay's name, shared by its replicas: the lease and the checkpoint are per name.
    #[arg(long, env = "PARCELPORT_RELAY_NAME", default_value = "relay")]
    name: String,
    /// This replica's id in logs and connection names (random when absent).
    #[arg(long, env = "PARCELPORT_RELAY_INSTANCE")]
    instance: Option<String>,
    /// The CloudEvents `source` prefix.
    #[arg(long, env = "PARCELPORT_RELAY_SOURCE", default_value = "parcelport")]
    source: String,
    /// Publishes in flight at most.
    #[arg(long, env = "PARCELPORT_RELAY_WINDOW", default_value_t = 256)]
    window: usize,
    /// The stream's replicas (3 in production).
    #[arg(long, env = "PARCELPORT_RELAY_STREAM_REPLICAS", default_value_t = 1)]
    replicas: usize,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Moves the checkpoint of the stopped relay `--name` back to just before the event at
    /// `--from-position`, so that its next start fills a stream that holds none of the relay's
    /// events (new or purged) from that event on. Refuses while a replica runs.
    Rewind {
        /// The global position of the first event to publish.
        #[arg(long)]
        from_position: i64,
    },
}

impl Args {
    fn into_config(self) -> RelayConfig {
        let mut config = RelayConfig::new(self.database_url, self.nats_url);
        config.stream = self.stream;
        config.name = self.name;
        if let Some(instance) = self.instance {
            config.instance = instance;
        }
        config.source_prefix = self.source;
        config.window = self.window;
        config.replicas = self.replicas;
        config
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // async-nats logs every reconnect attempt at info; the relay logs outages once itself.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,async_nats=warn"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .init();
    let mut args = Args::parse();
    if let Some(Command::Rewind { from_position }) = args.command.take() {
        let rewound = relay::rewind(&args.database_url, &args.name, from_position)
            .await
            .context("cannot rewind the relay")?;
        println!(
            "relay {:?}: checkpoint moved from position {} to {}; a stream holding none of its events gets the {} events from there on",
            args.name, rewound.from.position, rewound.to.position, rewound.events_after
        );
        return Ok(());
    }
    let config = args.into_config();
    let stopped = relay::run(config, telemetry::shutdown_requested("parcelport-relay")).await;
    telemetry::flush_traces();
    stopped.context("the relay stopped")
}

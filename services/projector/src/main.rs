//! `parcelport-projector`: one view's projector as a service. Reads flags or the environment,
//! logs JSON to stderr, and runs [`projector_service::run`] until SIGINT or SIGTERM, which stop
//! it between two batches.

use clap::Parser;
use projection_runtime::JetStreamOptions;
use projector_service::{Config, Source, View};
use std::net::SocketAddr;
use std::time::Duration;

/// Feeds one view (storage_status, billing or audit) from JetStream or the event store.
#[derive(Debug, Parser)]
#[command(name = "parcelport-projector", version)]
struct Args {
    /// The view fed.
    #[arg(long, env = "PARCELPORT_PROJECTOR_VIEW", value_enum)]
    view: View,
    /// The database holding the views (and the events, with `--from-store`).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Feed from the relay's JetStream stream on this NATS server, or a cluster's servers
    /// comma-separated (any that answers).
    #[arg(
        long,
        env = "NATS_URL",
        conflicts_with = "from_store",
        required_unless_present = "from_store"
    )]
    nats_url: Option<String>,
    /// Feed from the event store instead of JetStream.
    #[arg(long)]
    from_store: bool,
    /// The JetStream stream the relay publishes to.
    #[arg(
        long,
        env = "PARCELPORT_PROJECTOR_STREAM",
        default_value = "PARCELPORT"
    )]
    stream: String,
    /// The durable consumer's name (default: the view's name).
    #[arg(long, env = "PARCELPORT_PROJECTOR_CONSUMER")]
    consumer: Option<String>,
    /// Seconds the server waits for an acknowledgement before redelivering.
    #[arg(long, env = "PARCELPORT_PROJECTOR_ACK_WAIT", default_value_t = 60)]
    ack_wait: u64,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    #[arg(
        long,
        env = "PARCELPORT_PROJECTOR_LISTEN",
        default_value = "0.0.0.0:9464"
    )]
    listen: SocketAddr,
    /// Events per transaction.
    #[arg(long, env = "PARCELPORT_PROJECTOR_BATCH", default_value_t = 500)]
    batch_size: usize,
    /// Seconds without a commit, while events wait, after which `/readyz` fails.
    #[arg(long, env = "PARCELPORT_PROJECTOR_STALL_AFTER", default_value_t = 60)]
    stall_after: u64,
    /// This process in logs and in the lease connection's `application_name` (the process id
    /// when absent). Run several processes per view: one applies, the others stand by.
    #[arg(long, env = "PARCELPORT_PROJECTOR_INSTANCE")]
    instance: Option<String>,
}

impl Args {
    fn into_config(self) -> Config {
        let source = match self.nats_url {
            Some(nats_url) if !self.from_store => {
                let consumer = self.consumer.unwrap_or_else(|| self.view.name().to_owned());
                let mut options = JetStreamOptions::new(nats_url, consumer);
                options.stream = self.stream;
                options.ack_wait = Duration::from_secs(self.ack_wait);
                Source::JetStream(options)
            }
            _ => Source::Store,
        };
        let mut config = Config::new(self.view, self.database_url, source);
        config.listen = self.listen;
        config.batch_size = self.batch_size.max(1);
        config.stall_after = Duration::from_secs(self.stall_after);
        if let Some(instance) = self.instance {
            config.instance = instance;
        }
        config
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Args::parse().into_config();
    telemetry::init_logs("parcelport-projector", telemetry::LogFormat::Json);
    telemetry::metrics_recorder();
    let stopped = projector_service::run(
        config,
        telemetry::shutdown_requested("parcelport-projector"),
    )
    .await;
    telemetry::flush_traces();
    stopped
}

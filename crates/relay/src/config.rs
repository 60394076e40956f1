//! [`RelayConfig`]: everything a relay needs, read once at start-up.

use event_store::TailOptions;
use std::time::Duration;

/// How a relay connects, what it publishes to, and how it paces itself.
///
/// [`RelayConfig::new`] gives the production defaults; tests and the benchmark change fields.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The event store database, `postgres://user@host:port/database`.
    pub database_url: String,
    /// The NATS server, `nats://host:port`, or the servers of a cluster, comma-separated (any
    /// one that answers will do; the others are tried when it is down).
    pub nats_url: String,
    /// The JetStream stream, created or updated at start (`PARCELPORT`).
    pub stream: String,
    /// The relay's name: replicas of one relay share it, and with it the lease and the
    /// checkpoint (`relay`).
    pub name: String,
    /// This replica, for logs, the lease connection's `application_name` and the NATS
    /// connection name (a random id by default).
    pub instance: String,
    /// The CloudEvents `source` prefix: `source` is `<source_prefix>/<aggregate type>`
    /// (`parcelport`).
    pub source_prefix: String,
    /// Publishes in flight at most (256).
    pub window: usize,
    /// How often the leader saves the checkpoint and checks its lease (100 ms).
    pub checkpoint_interval: Duration,
    /// How long the lease connection may take to answer before the leader gives up (2 s).
    pub lease_timeout: Duration,
    /// How often a follower tries to take the lease (1 s).
    pub lease_retry: Duration,
    /// How long a publish may wait for its ack before the relay drains and retries (5 s).
    pub publish_timeout: Duration,
    /// The longest pause between retries when NATS fails (5 s).
    pub max_backoff: Duration,
    /// The stream's replicas: 1 here, 3 in production (LIMITS.md).
    pub replicas: usize,
    /// The stream's Msg-Id deduplication window (10 minutes, see [`crate::stream_config`]).
    pub duplicate_window: Duration,
    /// How the store is tailed (pages of 1000, 25 ms idle poll).
    pub tail: TailOptions,
}

impl RelayConfig {
    /// The production defaults for a relay between these two servers.
    pub fn new(database_url: impl Into<String>, nats_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            nats_url: nats_url.into(),
            stream: "PARCELPORT".to_owned(),
            name: "relay".to_owned(),
            instance: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            source_prefix: "parcelport".to_owned(),
            window: 256,
            checkpoint_interval: Duration::from_millis(100),
            lease_timeout: Duration::from_secs(2),
            lease_retry: Duration::from_secs(1),
            publish_timeout: Duration::from_secs(5),
            max_backoff: Duration::from_secs(5),
            replicas: 1,
            duplicate_window: Duration::from_secs(10 * 60),
            tail: TailOptions::default(),
        }
    }
}

//! [`RelayError`]: what stops a relay for good. Everything else (NATS or PostgreSQL down, a
//! lost lease) is retried inside [`crate::run`] and only logged.

/// Why [`crate::run`] returned early.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The database URL does not parse.
    #[error("invalid database url")]
    DatabaseUrl(#[source] sqlx::Error),
    /// The NATS URL does not parse.
    #[error("invalid NATS url")]
    NatsUrl(#[source] async_nats::ConnectError),
    /// The NATS server list does not parse.
    #[error(transparent)]
    NatsServers(#[from] nats_servers::ServersError),
    /// A stored event could not be turned into JSON (which a stored JSON value cannot cause).
    #[error("could not encode the event at position {position}")]
    Encode {
        /// The event's global position.
        position: i64,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
}

//! [`EventStoreError`], the one error type of the event store crate.

/// What can go wrong talking to the event store database.
#[derive(Debug, thiserror::Error)]
pub enum EventStoreError {
    /// The database could not be reached.
    #[error("could not connect to the event store database")]
    Connect(#[source] sqlx::Error),
    /// The schema migrations could not be applied.
    #[error("could not apply the event store migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("event store query failed")]
    Query(#[from] sqlx::Error),
    /// A stored row does not have the shape this crate wrote.
    #[error("malformed stored event at position {position}: {reason}")]
    Malformed {
        /// The event's global position.
        position: i64,
        /// What was wrong with it.
        reason: String,
    },
}

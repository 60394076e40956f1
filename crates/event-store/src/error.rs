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
    /// The database file or its directory could not be created or opened.
    #[error("could not open the event store at {path}")]
    Open {
        /// The directory or file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store's events predate the hash chain: it is chained once, on purpose, before use.
    #[error(
        "the events in {path} predate the hash chain: chain them once with \
         `parcelport audit chain-legacy --data-dir <dir>` before serving from it"
    )]
    Unchained {
        /// The database file.
        path: std::path::PathBuf,
    },
    /// `chain-legacy` on a store that already has chained events: chaining again would launder
    /// whatever was changed in them.
    #[error(
        "{chained} events are already chained: refusing to re-chain (that would launder any \
         change made to them); run `parcelport audit verify` instead"
    )]
    AlreadyChained {
        /// How many events carry a hash.
        chained: u64,
    },
    /// A cursor that another store produced: its position means nothing here.
    #[error("cursor {cursor:?} was not produced by this event store")]
    ForeignCursor {
        /// The cursor given.
        cursor: crate::GlobalCursor,
    },
    /// A reseal named an event the store does not have.
    #[error("no event {aggregate_type} {aggregate_id} sequence {sequence} to reseal")]
    NoSuchEvent {
        /// The aggregate type.
        aggregate_type: String,
        /// The aggregate id.
        aggregate_id: String,
        /// The sequence.
        sequence: i64,
    },
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

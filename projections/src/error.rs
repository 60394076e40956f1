//! [`QueryError`], what a view's query function can fail with.

use projection_runtime::RuntimeError;

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The view has no serving instance, or the catalog could not be read.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The query failed.
    #[error("view query failed")]
    Database(#[from] sqlx::Error),
    /// The event store could not say where it stands (its head, a view's lag).
    #[error("event store query failed")]
    Store(#[from] event_store::EventStoreError),
    /// A stored value does not parse (a view written by a different version).
    #[error("malformed view row: {0}")]
    Malformed(String),
}

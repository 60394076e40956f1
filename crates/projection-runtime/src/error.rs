//! [`RuntimeError`], the error type of the projection runtime.

use crate::FeedError;

/// What can stop a projector, a replay or a rebuild.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A statement failed.
    #[error("projection database query failed")]
    Database(#[from] sqlx::Error),
    /// The feed failed.
    #[error("projection feed failed")]
    Feed(#[from] FeedError),
    /// A value the backend cannot hold (a PostgreSQL txid in a SQLite views file).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The view has no serving instance yet (nothing was built).
    #[error("view {0} has no serving instance; run the projector or a rebuild first")]
    NoView(String),
}

impl RuntimeError {
    /// True when the failure is about the data of the batch (a constraint, a value out of range)
    /// rather than the connection or the server: retrying the same statements fails again.
    pub fn is_data_error(&self) -> bool {
        match self {
            // PostgreSQL: classes 22 (data exception) and 23 (integrity constraint); SQLite (and
            // PostgreSQL): the constraint kinds sqlx recognizes.
            RuntimeError::Database(sqlx::Error::Database(db)) => {
                !matches!(db.kind(), sqlx::error::ErrorKind::Other)
                    || db
                        .code()
                        .is_some_and(|code| code.starts_with("22") || code.starts_with("23"))
            }
            _ => false,
        }
    }
}

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
    /// The view has no serving instance yet (nothing was built).
    #[error("view {0} has no serving instance; run the projector or a rebuild first")]
    NoView(String),
}

impl RuntimeError {
    /// True when the failure is about the data of the batch (a constraint, a value out of range)
    /// rather than the connection or the server: retrying the same statements fails again.
    pub fn is_data_error(&self) -> bool {
        match self {
            RuntimeError::Database(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|code| code.starts_with("22") || code.starts_with("23")),
            _ => false,
        }
    }
}

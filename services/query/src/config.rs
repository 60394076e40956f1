//! [`Config`]: everything the standalone query API reads at start-up, and the state it builds.

use crate::{QueryState, Views};
use personal_data::{KeyStore, PersonalData};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use web::auth::{TokenBook, TokenFileError};
use web::policy::PolicyError;
pub use web::policy::PolicySource;

/// The query API's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `postgres://…` of the database holding the events and the views.
    pub database_url: String,
    /// Connections in the pool.
    pub max_connections: u32,
    /// The token file (the command API's format; see `web::auth`).
    pub tokens: PathBuf,
    /// The operator policy, for the day-dependent answers.
    pub policy: PolicySource,
    /// A view waiting this long with events behind it is reported stuck.
    pub stuck_after: Duration,
}

/// Why the query API did not start (or stopped serving).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The token file is wrong.
    #[error(transparent)]
    Tokens(#[from] TokenFileError),
    /// The policy could not be loaded.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The members' keys could not be read.
    #[error(transparent)]
    Keys(#[from] personal_data::PersonalDataError),
    /// The database could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

impl Config {
    /// Reads the tokens and the policy, connects, and builds the state the router serves.
    pub async fn state(&self) -> Result<QueryState, StartError> {
        let text = std::fs::read_to_string(&self.tokens).map_err(|source| StartError::Read {
            path: self.tokens.clone(),
            source,
        })?;
        let tokens = TokenBook::from_toml(&text)?;
        let policy = self.policy.load()?;
        let pool = event_store::pool_options()
            .max_connections(self.max_connections)
            .connect(&self.database_url)
            .await?;
        let keys = KeyStore::postgres(pool.clone()).await?;
        Ok(QueryState::new(
            Views::postgres(pool),
            Arc::new(tokens),
            policy,
            PersonalData::new(keys),
        )
        .with_stuck_after(self.stuck_after))
    }
}

//! [`Config`]: everything the API reads at start-up, parsed once, and the state it builds.

use crate::AppState;
use domain::Services;
use engine::{EngineConfig, EngineError, PgEngine};
use event_store::authorship::EventSigner;
use event_store::EventStore;
use personal_data::{KeyStore, PersonalData};
use std::path::PathBuf;
use std::sync::Arc;
use web::auth::{TokenBook, TokenFileError};
use web::policy::PolicyError;
pub use web::policy::PolicySource;

/// The API's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `postgres://…` of the event store's database.
    pub database_url: String,
    /// Connections in the pool.
    pub max_connections: u32,
    /// The token file (TOML, SHA-256 hashes only; see `web::auth`).
    pub tokens: PathBuf,
    /// The operator policy.
    pub policy: PolicySource,
    /// The warehouse's suite code prefix, 2 to 4 capital letters (MEM-1).
    pub suite_prefix: String,
    /// The writer's key: every event appended is signed with it (issue #10); without one,
    /// `audit verify --public-key` names the events this API appends as unsigned.
    pub signer: Option<Arc<EventSigner>>,
    /// NATS, for commit hints (`relay::hints`): after each commit a core message wakes the
    /// relay and the other readers of the store at once, instead of at their next poll.
    pub nats_url: Option<String>,
}

/// Why the API did not start (or stopped serving).
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
    /// The database could not be reached or migrated, or the engine's settings are wrong.
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// The database could not be reached.
    #[error("event store: {0}")]
    Store(#[from] event_store::EventStoreError),
    /// The members' key store could not be opened.
    #[error("personal data: {0}")]
    PersonalData(#[from] personal_data::PersonalDataError),
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

impl Config {
    /// Connects, migrates, and builds the state the router serves.
    pub async fn state(&self) -> Result<AppState, StartError> {
        Ok(self.open().await?.0)
    }

    /// [`Config::state`], and the event store its engine appends to.
    pub(crate) async fn open(&self) -> Result<(AppState, EventStore), StartError> {
        let text = std::fs::read_to_string(&self.tokens).map_err(|source| StartError::Read {
            path: self.tokens.clone(),
            source,
        })?;
        let tokens = TokenBook::from_toml(&text)?;
        let policy = self.policy.load()?;
        let mut engine_config = EngineConfig::new(&self.suite_prefix)?;
        if let Some(signer) = &self.signer {
            engine_config = engine_config.signing_with(Arc::clone(signer));
        }
        let store = EventStore::connect(&self.database_url, self.max_connections).await?;
        // The members' keys, in their own table of the same database (issue #10).
        let keys = KeyStore::postgres(store.pool().clone()).await?;
        engine_config = engine_config.protecting_personal_data(Arc::new(PersonalData::new(keys)));
        let engine = PgEngine::postgres(&store, Services::new(policy), engine_config);
        engine.migrate().await?;
        let state = AppState::new(Arc::new(engine), tokens, store.pool().clone());
        Ok((state, store))
    }
}

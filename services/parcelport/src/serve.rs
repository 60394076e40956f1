//! `parcelport serve`: the command API and what runs beside it, in one process.
//!
//! [`Server::open`] does everything that can fail before serving: the token file (created on
//! first start), the policy, the store and the engine, migrated. [`Server::run`] then serves
//! the API and runs the background tasks of the backend until `shutdown`:
//! - embedded ([`StoreChoice::Embedded`]): the engine on `<data-dir>/parcelport.db`, and the
//!   storage-status, billing and audit projectors fed in-process from it (`StoreFeed` over the
//!   SQLite `EventLog`) into the views file `<data-dir>/views.db` (ADR 0005);
//! - PostgreSQL ([`StoreChoice::Postgres`]): the same projectors fed from the store into the
//!   same database, and with a NATS URL the outbox relay.
//!
//! Both serve the query API and the ops dashboard (`services/query`) on the command API's
//! listener.
//!
//! [`Server::views`] is the handle the view queries take (`projections::ViewDb`), on either
//! backend. On shutdown the API finishes the requests under way, every task is told to stop and
//! is waited for, and the embedded store and views file are closed.

use crate::tokens::{self, IssuedToken};
use api::{AppState, Backend, PolicySource, StartError};
use domain::Services;
use engine::{Clock, EngineConfig, EngineError, PgEngine, SqliteEngine, TestClock};
use event_store::{EventLog, EventStore};
use projection_runtime::{Projection, Projector, ProjectorOptions, RuntimeError, StoreFeed};
use projections::audit::Audit;
use projections::billing::Billing;
use projections::storage_status::StorageStatus;
use projections::ViewDb;
use query::{QueryState, Views};
use relay::RelayConfig;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use web::auth::TokenBook;

/// Where the events live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The embedded SQLite store in the data directory.
    Embedded,
    /// PostgreSQL at this URL, and NATS for the relay when given.
    Postgres {
        /// `postgres://…`.
        database_url: String,
        /// `nats://…`: the relay runs in-process when set.
        nats_url: Option<String>,
    },
}

/// Everything `serve` reads at start-up.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The data directory: the embedded store, its views file and the generated token file.
    pub data_dir: PathBuf,
    /// The token file; `<data-dir>/tokens.toml`, created on first start, when absent.
    pub tokens: Option<PathBuf>,
    /// The store.
    pub store: StoreChoice,
    /// The operator policy.
    pub policy: PolicySource,
    /// The suite code prefix (MEM-1).
    pub suite_prefix: String,
    /// PostgreSQL connections.
    pub max_connections: u32,
    /// A clock standing still (tests and demos pin a day): commands are stamped with it and the
    /// views' "today" is read from it. The system clock when `None`.
    pub clock: Option<TestClock>,
}

impl ServeConfig {
    /// The embedded defaults on `data_dir`.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            tokens: None,
            store: StoreChoice::Embedded,
            policy: PolicySource::JpForwarding,
            suite_prefix: "TYO".to_owned(),
            max_connections: 16,
            clock: None,
        }
    }
}

/// Why `serve` did not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The token file could not be created.
    #[error("cannot create the token file {path}: {source}")]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The API's configuration (token file, policy) is wrong.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The engine could not open or migrate its store.
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// PostgreSQL could not be reached.
    #[error("event store: {0}")]
    Store(#[from] event_store::EventStoreError),
    /// The embedded views file could not be opened.
    #[error("views: {0}")]
    Views(#[from] RuntimeError),
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(std::io::Error),
    /// The relay stopped on an error retrying cannot fix.
    #[error("relay: {0}")]
    Relay(#[from] relay::RelayError),
}

/// The views file of the embedded mode, beside `parcelport.db` in the data directory.
pub const VIEWS_FILE: &str = "views.db";

/// What runs beside the API.
enum Beside {
    /// The embedded engine, whose store the projectors read; closed at the end.
    Embedded(Arc<SqliteEngine>),
    /// The PostgreSQL store the projectors read, and the relay's settings.
    Postgres {
        store: EventStore,
        relay: Option<Box<RelayConfig>>,
    },
}

/// A prepared `serve`: store open and migrated, views reachable, tokens read.
pub struct Server {
    state: AppState,
    /// The query API and the dashboard.
    query: QueryState,
    beside: Beside,
    views: ViewDb,
    issued: Vec<IssuedToken>,
}

impl Server {
    /// Prepares the tokens (creating the file on first start), the policy and the store.
    pub async fn open(config: ServeConfig) -> Result<Self, ServeError> {
        let (tokens_path, issued) = match &config.tokens {
            Some(path) => (path.clone(), Vec::new()),
            None => {
                let path = config.data_dir.join("tokens.toml");
                let issued =
                    tokens::ensure_file(&path).map_err(|source| ServeError::TokenFile {
                        path: path.clone(),
                        source,
                    })?;
                (path, issued)
            }
        };
        let text = std::fs::read_to_string(&tokens_path).map_err(|source| StartError::Read {
            path: tokens_path.clone(),
            source,
        })?;
        let tokens = TokenBook::from_toml(&text).map_err(StartError::from)?;
        let policy = config.policy.load().map_err(StartError::from)?;
        let services = Services::new(policy.clone());
        let engine_config = EngineConfig::new(&config.suite_prefix)?;
        let (backend, beside, views) = match &config.store {
            StoreChoice::Embedded => {
                let mut engine =
                    SqliteEngine::open(&config.data_dir, services, engine_config).await?;
                if let Some(clock) = &config.clock {
                    engine = engine.with_clock(clock.clone());
                }
                let engine = Arc::new(engine);
                let views = ViewDb::open_sqlite(config.data_dir.join(VIEWS_FILE)).await?;
                tracing::info!(data_dir = %config.data_dir.display(), "embedded store open");
                (
                    Backend::Sqlite(Arc::clone(&engine)),
                    Beside::Embedded(engine),
                    views,
                )
            }
            StoreChoice::Postgres {
                database_url,
                nats_url,
            } => {
                let store = EventStore::connect(database_url, config.max_connections).await?;
                let mut engine = PgEngine::postgres(&store, services, engine_config);
                if let Some(clock) = &config.clock {
                    engine = engine.with_clock(clock.clone());
                }
                engine.migrate().await?;
                let relay = nats_url
                    .as_ref()
                    .map(|nats| Box::new(RelayConfig::new(database_url.clone(), nats.clone())));
                let views = ViewDb::from(store.pool());
                (
                    Backend::Postgres(Arc::new(engine), store.pool().clone()),
                    Beside::Postgres { store, relay },
                    views,
                )
            }
        };
        let query_views = match &beside {
            Beside::Embedded(engine) => Views::embedded(views.clone(), engine.event_log()),
            Beside::Postgres { store, .. } => Views::postgres(store.pool().clone()),
        };
        let query = QueryState::new(query_views, Arc::new(tokens.clone()), policy);
        let query = match config.clock.clone() {
            Some(clock) => query.with_clock(move || clock.now()),
            None => query,
        };
        Ok(Self {
            state: AppState::on(backend, tokens),
            query,
            beside,
            views,
            issued,
        })
    }

    /// Where the views live, for the view queries (`projections::storage_status::parcel(
    /// server.views(), ...)`): the views file in the data directory, or the PostgreSQL
    /// database. Valid while the server runs (a clone shares its pools).
    pub fn views(&self) -> &ViewDb {
        &self.views
    }

    /// The tokens made by this start (first start only), with their secrets.
    pub fn issued(&self) -> &[IssuedToken] {
        &self.issued
    }

    /// Serves the API on `listener` and runs the background tasks until `shutdown`; then
    /// stops everything and waits for it.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let (stop, stopping) = watch::channel(false);
        let mut tasks = JoinSet::new();
        match &self.beside {
            Beside::Embedded(engine) => {
                spawn_projectors(&mut tasks, engine.event_log(), &self.views, &stopping);
            }
            Beside::Postgres { store, .. } => {
                spawn_projectors(&mut tasks, store, &self.views, &stopping);
            }
        }
        if let Beside::Postgres { relay, .. } = &self.beside {
            if let Some(config) = relay.clone() {
                let stopping = stopping.clone();
                tasks.spawn(async move {
                    relay::run(*config, stopped(stopping))
                        .await
                        .map_err(ServeError::from)
                });
            }
        }
        tracing::info!(address = ?listener.local_addr().ok(), "parcelport serving");
        let beside_api = query::routes(self.query);
        let served = api::serve_with(self.state, beside_api, listener, async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await
        .map_err(ServeError::Serve);
        // The API may also stop on its own (an I/O error): stop the others then too.
        let mut outcome = served;
        drop(stopping);
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::error!(%error, "a background task failed");
                    outcome = outcome.and(Err(error));
                }
                Err(error) => tracing::error!(%error, "a background task panicked"),
            }
        }
        if let Beside::Embedded(engine) = &self.beside {
            self.views.close().await;
            engine.event_log().close().await;
        }
        tracing::info!("parcelport stopped");
        outcome
    }
}

/// Runs the storage-status, billing and audit projectors, fed from `store` into `views`, until
/// stopped.
fn spawn_projectors<L: EventLog + Clone + 'static>(
    tasks: &mut JoinSet<Result<(), ServeError>>,
    store: &L,
    views: &ViewDb,
    stopping: &watch::Receiver<bool>,
) {
    spawn_projector(tasks, store, views, StorageStatus, stopping);
    spawn_projector(tasks, store, views, Billing, stopping);
    spawn_projector(tasks, store, views, Audit, stopping);
}

/// Runs `projection`'s projector over the store until stopped.
fn spawn_projector<P: Projection + Send + 'static, L: EventLog + Clone + 'static>(
    tasks: &mut JoinSet<Result<(), ServeError>>,
    store: &L,
    views: &ViewDb,
    projection: P,
    stopping: &watch::Receiver<bool>,
) {
    let projector = Projector::new(
        views.clone(),
        projection,
        StoreFeed::new(store.clone()),
        ProjectorOptions::default(),
    );
    let stopping = stopping.clone();
    tasks.spawn(async move {
        projector.run(stopped(stopping)).await;
        Ok(())
    });
}

/// Completes once a stop is requested (or whoever could request it is gone).
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

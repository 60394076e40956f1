//! `parcelport serve`: the command API and what runs beside it, in one process.
//!
//! [`Server::open`] does everything that can fail before serving: the token file (created on
//! first start), the policy, the store and the engine, migrated. [`Server::run`] then serves
//! the API and runs the background tasks of the backend until `shutdown`:
//! - embedded ([`StoreChoice::Embedded`]): the engine on `<data-dir>/parcelport.db`, and the
//!   storage-status, billing, audit and schedule projectors fed in-process from it
//!   (`StoreFeed` over the SQLite `EventLog`) into the views file `<data-dir>/views.db`
//!   (ADR 0005);
//! - PostgreSQL ([`StoreChoice::Postgres`]): the same projectors fed from the store into the
//!   same database, and with a NATS URL the outbox relay.
//!
//! Both run the business clock's scheduler (`crates/scheduler`) on the server's one clock,
//! real or simulated (`ServeConfig::clock`), and serve the query API and the ops dashboard
//! (`services/query`) and the clock's routes (`/v1/clock`, `/v1/schedule`) on the command
//! API's listener.
//!
//! [`Server::views`] is the handle the view queries take (`projections::ViewDb`), on either
//! backend. On shutdown the API finishes the requests under way, every task is told to stop and
//! is waited for, and the embedded store and views file are closed.

use crate::tokens::{self, IssuedToken};
use api::{AppState, Backend, PolicySource, StartError};
use audit::anchor::{AnchorFile, Checkpointer, HashSource};
use audit::jetstream_anchor::JetStreamAnchor;
use domain::Services;
use engine::{Clock, EngineConfig, EngineError, PgEngine, SqliteEngine, TestClock};
use event_store::authorship::EventSigner;
use event_store::sqlite::SqliteEventStore;
use event_store::{EventLog, EventStore};
use notifier::{ChannelConfig, Notifier};
use personal_data::{KeyStore, PersonalData};
use projection_runtime::{
    Progress, Projection, Projector, ProjectorOptions, RebuildOptions, RebuildSource, RuntimeError,
    StoreFeed,
};
use projections::audit::Audit;
use projections::billing::Billing;
use projections::notices::Notices;
use projections::schedule::Schedule;
use projections::storage_status::StorageStatus;
use projections::ViewDb;
use query::{QueryState, Views};
use relay::RelayConfig;
use scheduler::{BusinessClock, Scheduler, SchedulerOptions};
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
    /// A simulated clock (`--simulated-clock`; tests and demos pin a day): it stands still
    /// until an admin advances it (`POST /v1/clock/advance`); commands are stamped with it,
    /// the views' "today" and the scheduler read it. The system clock when `None`.
    pub clock: Option<TestClock>,
    /// How the scheduler runs.
    pub scheduler: SchedulerOptions,
    /// The writer key that signs every checkpoint; `<data-dir>/writer.key`, created on first
    /// start, when absent.
    pub sign_key: Option<PathBuf>,
    /// Where checkpoints are anchored; `<data-dir>/anchors.jsonl` when absent.
    pub anchors: Option<PathBuf>,
    /// On PostgreSQL with NATS, the JetStream stream every checkpoint is anchored to as well
    /// (created with deletes and purges denied).
    pub anchor_stream: String,
    /// When a checkpoint is recorded and anchored.
    pub checkpoints: CheckpointEvery,
    /// Where members are told what the rules promise (the notices view is kept either way).
    pub notifier: Option<NotifierConfig>,
}

/// Where and how the notifier delivers.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// The channels, each told every notice.
    pub channels: Vec<ChannelConfig>,
    /// Language, retries, pace.
    pub options: notifier::NotifierOptions,
}

/// A checkpoint is recorded and anchored once this many events are waiting, or once the
/// oldest waits this long, and when `serve` stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointEvery {
    /// Events waiting.
    pub events: u64,
    /// Time waited.
    pub interval: std::time::Duration,
}

impl Default for CheckpointEvery {
    fn default() -> Self {
        Self {
            events: 1_000,
            interval: std::time::Duration::from_secs(60),
        }
    }
}

/// The writer key a server signs checkpoints with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterKey {
    /// The key file.
    pub path: PathBuf,
    /// Its public key, 64 hex digits: what auditors verify with.
    pub public_key: String,
    /// Whether this start created it.
    pub created: bool,
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
            scheduler: SchedulerOptions::default(),
            sign_key: None,
            anchors: None,
            anchor_stream: audit::jetstream_anchor::DEFAULT_STREAM.to_owned(),
            checkpoints: CheckpointEvery::default(),
            notifier: None,
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
    /// The scheduler could not start (its journal).
    #[error("scheduler: {0}")]
    Scheduler(#[from] scheduler::SchedulerError),
    /// A notifier channel is misconfigured.
    #[error("notifier: {0}")]
    Channel(#[from] notifier::ChannelError),
    /// The notifier could not start.
    #[error(transparent)]
    Notifier(#[from] notifier::NotifierError),
    /// The members' key store could not be opened.
    #[error("personal data: {0}")]
    PersonalData(#[from] personal_data::PersonalDataError),
    /// The writer key or the anchors file could not be read or written.
    #[error("checkpoints: {0}")]
    Checkpoints(#[from] audit::AuditError),
}

/// The views file of the embedded mode, beside `parcelport.db` in the data directory.
pub const VIEWS_FILE: &str = "views.db";

/// The members' keys of the embedded mode (issue #10), beside `parcelport.db`: deleting a key
/// erases a member's personal data everywhere.
pub const KEYS_FILE: &str = "keys.sqlite";

/// What runs beside the API.
enum Beside {
    /// The embedded engine, whose store the projectors read (closed at the end), and the
    /// scheduler over it.
    Embedded {
        engine: Arc<SqliteEngine>,
        scheduler: Arc<Scheduler<SqliteEngine, SqliteEventStore>>,
    },
    /// The PostgreSQL store the projectors read, the relay's settings, and the scheduler.
    Postgres {
        store: EventStore,
        relay: Option<Box<RelayConfig>>,
        scheduler: Arc<Scheduler<PgEngine, EventStore>>,
    },
}

/// A prepared `serve`: store open and migrated, views reachable, tokens read.
pub struct Server {
    state: AppState,
    /// The tokens, for the routes served beside the API.
    tokens: Arc<TokenBook>,
    /// The query API and the dashboard.
    query: QueryState,
    beside: Beside,
    views: ViewDb,
    issued: Vec<IssuedToken>,
    checkpointer: Checkpointer,
    checkpoints: CheckpointEvery,
    writer_key: WriterKey,
    notifier: Option<Notifier>,
    /// The members' keys (closed when the server stops).
    personal_data: Arc<PersonalData>,
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
        let clock = match &config.clock {
            Some(simulated) => BusinessClock::Simulated(simulated.clone()),
            None => BusinessClock::Real,
        };
        let key_path = config
            .sign_key
            .clone()
            .unwrap_or_else(|| config.data_dir.join("writer.key"));
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::TokenFile {
            path: config.data_dir.clone(),
            source,
        })?;
        let (key, created) = audit::anchor::ensure_signing_key(&key_path)?;
        // Every event appended is signed with the writer's key, and so is every checkpoint.
        let engine_config = EngineConfig::new(&config.suite_prefix)?
            .signing_with(Arc::new(EventSigner::new(key.clone())));
        let writer_key = WriterKey {
            path: key_path,
            public_key: audit::checkpoint::public_key_hex(&key),
            created,
        };
        let anchors = AnchorFile::new(
            config
                .anchors
                .clone()
                .unwrap_or_else(|| config.data_dir.join("anchors.jsonl")),
        );
        let (backend, beside, views, personal_data) = match &config.store {
            StoreChoice::Embedded => {
                // The members' keys in a file of their own, never in the event store (#10).
                let keys = KeyStore::sqlite(&config.data_dir.join(KEYS_FILE)).await?;
                let personal_data = Arc::new(PersonalData::new(keys));
                let engine_config =
                    engine_config.protecting_personal_data(Arc::clone(&personal_data));
                let engine = SqliteEngine::open(&config.data_dir, services, engine_config)
                    .await?
                    .with_clock(clock.clone());
                let engine = Arc::new(engine);
                let views = ViewDb::open_sqlite(config.data_dir.join(VIEWS_FILE)).await?;
                let scheduler = Scheduler::new(
                    Arc::clone(&engine),
                    engine.event_log().clone(),
                    views.clone(),
                    clock.clone(),
                    Arc::new(policy.clone()),
                    config.scheduler,
                )
                .await?;
                tracing::info!(data_dir = %config.data_dir.display(), "embedded store open");
                (
                    Backend::Sqlite(Arc::clone(&engine)),
                    Beside::Embedded {
                        engine,
                        scheduler: Arc::new(scheduler),
                    },
                    views,
                    personal_data,
                )
            }
            StoreChoice::Postgres {
                database_url,
                nats_url,
            } => {
                let store = EventStore::connect(database_url, config.max_connections).await?;
                let keys = KeyStore::postgres(store.pool().clone()).await?;
                let personal_data = Arc::new(PersonalData::new(keys));
                let engine_config =
                    engine_config.protecting_personal_data(Arc::clone(&personal_data));
                let engine =
                    PgEngine::postgres(&store, services, engine_config).with_clock(clock.clone());
                engine.migrate().await?;
                let engine = Arc::new(engine);
                let relay = nats_url
                    .as_ref()
                    .map(|nats| Box::new(RelayConfig::new(database_url.clone(), nats.clone())));
                let views = ViewDb::from(store.pool());
                let scheduler = Scheduler::new(
                    Arc::clone(&engine),
                    store.clone(),
                    views.clone(),
                    clock.clone(),
                    Arc::new(policy.clone()),
                    config.scheduler,
                )
                .await?;
                (
                    Backend::Postgres(engine, store.pool().clone()),
                    Beside::Postgres {
                        store,
                        relay,
                        scheduler: Arc::new(scheduler),
                    },
                    views,
                    personal_data,
                )
            }
        };
        let hashes = match &beside {
            Beside::Embedded { engine, .. } => HashSource::Sqlite(engine.event_log().clone()),
            Beside::Postgres { store, .. } => HashSource::Postgres(store.pool().clone()),
        };
        let mut checkpointer = Checkpointer::new(hashes, key, anchors)?;
        if let StoreChoice::Postgres {
            nats_url: Some(nats),
            ..
        } = &config.store
        {
            let server = nats.strip_prefix("nats://").unwrap_or(nats);
            let stream = JetStreamAnchor::open(
                &format!("nats://{server}/{}", config.anchor_stream),
                true,
                1,
            )
            .await?;
            checkpointer = checkpointer.also_anchoring_to(stream);
        }
        let notifier = match &config.notifier {
            Some(settings) if !settings.channels.is_empty() => {
                let channels = settings
                    .channels
                    .iter()
                    .map(ChannelConfig::open)
                    .collect::<Result<Vec<_>, _>>()?;
                Some(
                    Notifier::new(
                        views.clone(),
                        channels,
                        Arc::new(clock.clone()),
                        settings.options,
                    )
                    .await?
                    .opening_personal_data_with(Arc::clone(&personal_data)),
                )
            }
            _ => None,
        };
        let query_views = match &beside {
            Beside::Embedded { engine, .. } => Views::embedded(views.clone(), engine.event_log()),
            Beside::Postgres { store, .. } => Views::postgres(store.pool().clone()),
        };
        let shared_tokens = Arc::new(tokens.clone());
        let query = QueryState::new(
            query_views,
            Arc::clone(&shared_tokens),
            policy,
            PersonalData::clone(&personal_data),
        )
        .with_clock(move || clock.now());
        Ok(Self {
            state: AppState::on(backend, tokens),
            tokens: shared_tokens,
            query,
            beside,
            views,
            issued,
            checkpointer,
            checkpoints: config.checkpoints,
            writer_key,
            notifier,
            personal_data,
        })
    }

    /// The key this server signs checkpoints with.
    pub fn writer_key(&self) -> &WriterKey {
        &self.writer_key
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
        let clock_routes = match &self.beside {
            Beside::Embedded { engine, scheduler } => {
                spawn_projectors(&mut tasks, engine.event_log(), &self.views, &stopping);
                spawn_scheduler(&mut tasks, scheduler, &stopping);
                scheduler::routes(Arc::clone(scheduler), Arc::clone(&self.tokens))
            }
            Beside::Postgres {
                store, scheduler, ..
            } => {
                spawn_projectors(&mut tasks, store, &self.views, &stopping);
                spawn_scheduler(&mut tasks, scheduler, &stopping);
                scheduler::routes(Arc::clone(scheduler), Arc::clone(&self.tokens))
            }
        };
        spawn_checkpointer(&mut tasks, self.checkpointer, self.checkpoints, &stopping);
        if let Some(notifier) = self.notifier {
            let stopping = stopping.clone();
            tasks.spawn(async move {
                notifier.run(stopped(stopping)).await;
                Ok(())
            });
        }
        if let Beside::Postgres { relay, store, .. } = &self.beside {
            if let Some(config) = relay.clone() {
                // Commit hints, which wake the relay (and any reader in another process) at
                // once: NATS away, they poll.
                let (store, nats_url) = (store.clone(), config.nats_url.clone());
                let stopping_hints = stopping.clone();
                tasks.spawn(async move {
                    tokio::select! {
                        () = relay::hints::publish_commits_to(&store, &nats_url) => {}
                        () = stopped(stopping_hints) => {}
                    }
                    Ok(())
                });
                let stopping = stopping.clone();
                tasks.spawn(async move {
                    relay::run(*config, stopped(stopping))
                        .await
                        .map_err(ServeError::from)
                });
            }
        }
        tracing::info!(address = ?listener.local_addr().ok(), "parcelport serving");
        let beside_api = query::routes(self.query).merge(clock_routes);
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
        if let Beside::Embedded { engine, .. } = &self.beside {
            self.views.close().await;
            engine.event_log().close().await;
            self.personal_data.keys().close().await;
        }
        tracing::info!("parcelport stopped");
        outcome
    }
}

/// Runs the storage-status, billing, audit, schedule and notices projectors, fed from `store` into `views`, until
/// stopped.
fn spawn_projectors<L: RebuildSource>(
    tasks: &mut JoinSet<Result<(), ServeError>>,
    store: &L,
    views: &ViewDb,
    stopping: &watch::Receiver<bool>,
) {
    spawn_projector(tasks, store, views, StorageStatus, stopping);
    spawn_projector(tasks, store, views, Billing, stopping);
    spawn_projector(tasks, store, views, Audit, stopping);
    spawn_projector(tasks, store, views, Schedule, stopping);
    spawn_projector(tasks, store, views, Notices, stopping);
}

/// Records and anchors a checkpoint whenever `every` says, and once more when stopping, so the
/// anchors reach (nearly) the last event: commands the API finishes after the stop signal are
/// covered by the next start's first checkpoint.
fn spawn_checkpointer(
    tasks: &mut JoinSet<Result<(), ServeError>>,
    mut checkpointer: Checkpointer,
    every: CheckpointEvery,
    stopping: &watch::Receiver<bool>,
) {
    let stopping = stopping.clone();
    tasks.spawn(async move {
        let look = every.interval.min(std::time::Duration::from_secs(5));
        let mut since = tokio::time::Instant::now();
        let mut stop = std::pin::pin!(stopped(stopping));
        loop {
            tokio::select! {
                () = &mut stop => break,
                () = tokio::time::sleep(look) => {}
            }
            let due = match checkpointer.pending().await {
                Ok(waiting) => {
                    waiting >= every.events || (waiting > 0 && since.elapsed() >= every.interval)
                }
                Err(error) => {
                    tracing::warn!(%error, "reading the store for a checkpoint failed");
                    false
                }
            };
            if due {
                anchor(&mut checkpointer).await;
                since = tokio::time::Instant::now();
            }
        }
        anchor(&mut checkpointer).await;
        Ok(())
    });
}

async fn anchor(checkpointer: &mut Checkpointer) {
    match checkpointer.checkpoint().await {
        Ok(Some(checkpoint)) => tracing::info!(
            id = checkpoint.id,
            events = checkpoint.event_count,
            "checkpoint recorded and anchored"
        ),
        Ok(None) => {}
        Err(error) => tracing::error!(%error, "recording a checkpoint failed; retried later"),
    }
}

/// Runs the scheduler's loop until stopped.
fn spawn_scheduler<F: scheduler::Fire, L: EventLog + 'static>(
    tasks: &mut JoinSet<Result<(), ServeError>>,
    scheduler: &Arc<Scheduler<F, L>>,
    stopping: &watch::Receiver<bool>,
) {
    let scheduler = Arc::clone(scheduler);
    let stopping = stopping.clone();
    tasks.spawn(async move {
        scheduler.run(stopped(stopping)).await;
        Ok(())
    });
}

/// Runs `projection`'s projector over the store until stopped; first rebuilds its view from
/// the store when an upgrade changed the view's shape (`projection_runtime::upgrade`).
fn spawn_projector<P: Projection + Clone + Send + 'static, L: RebuildSource>(
    tasks: &mut JoinSet<Result<(), ServeError>>,
    store: &L,
    views: &ViewDb,
    projection: P,
    stopping: &watch::Receiver<bool>,
) {
    let projector = Projector::new(
        views.clone(),
        projection.clone(),
        StoreFeed::new(store.clone()),
        ProjectorOptions::default(),
    );
    let (store, views, stopping) = (store.clone(), views.clone(), stopping.clone());
    tasks.spawn(async move {
        let options = RebuildOptions {
            progress: Progress::Hidden,
            ..RebuildOptions::default()
        };
        projection_runtime::upgrade(&views, &store, projection, options).await?;
        projector.run(stopped(stopping)).await;
        Ok(())
    });
}

/// Completes once a stop is requested (or whoever could request it is gone).
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

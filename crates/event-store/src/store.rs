//! [`EventStore`]: the pool, the migrations, and the `postgres-es` command side over them.

use crate::log::Backlog;
use crate::repository::PostgresRepository;
use crate::tail::{self, TailOptions, Wake};
use crate::{global_order, EventLog, EventStoreError, GlobalCursor, StoredEvent};
use chrono::{DateTime, Utc};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, CqrsFramework, Query};
use futures::Stream;
use postgres_es::PostgresEventRepository;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool, Row};
use std::sync::Arc;
use tokio::sync::watch;

/// Options for every PostgreSQL pool of parcelport: a connection that comes back inside a
/// transaction is closed, never handed out again.
///
/// sqlx 0.8 counts transactions by depth, raised when the reply to `BEGIN` arrives: a
/// `begin()` dropped after sending `BEGIN` (a client that hung up mid-command, a projector
/// stopped mid-batch) leaves the server inside a transaction at depth 0, and the pool would
/// give that connection to the next caller. There an autocommit write would not commit (and a
/// later `ROLLBACK` would undo it), and its transaction id would hold back every reader of the
/// global order (ADR 0002). Checking costs one round trip per release.
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new().after_release(|connection, _| {
        Box::pin(async move {
            // In a block opened by an earlier statement, now() is that statement's start. A
            // connection in an aborted block fails the query and is closed too.
            // The simple query protocol: one message, so in an implicit transaction now()
            // and statement_timestamp() are the same instant (the extended protocol starts the
            // transaction at Parse and the statement again at Execute).
            // (A plain `&str` has no arguments, so sqlx sends it as a simple query.)
            let row = connection
                .fetch_one("SELECT now() = statement_timestamp()")
                .await?;
            row.try_get::<bool, _>(0)
        })
    })
}

/// The command side for aggregate `A`: `postgres-es` over the store's tables.
pub type PostgresCqrs<A> = CqrsFramework<A, PersistedEventStore<PostgresRepository, A>>;

/// The event store: a PostgreSQL pool over the `events` and `snapshots` tables.
///
/// Cheap to clone; clones share the pool and the commit signal: the repositories of a store
/// (and its clones) wake its tailing readers in this process when they commit.
#[derive(Debug, Clone)]
pub struct EventStore {
    pool: PgPool,
    commits: Arc<watch::Sender<u64>>,
}

impl EventStore {
    /// Connects to the database at `url` (`postgres://user@host:port/database`) with a pool of
    /// up to `max_connections`. A tailing reader takes a connection only while it reads.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, EventStoreError> {
        let pool = pool_options()
            .max_connections(max_connections)
            .connect(url)
            .await
            .map_err(EventStoreError::Connect)?;
        Ok(Self::from_pool(pool))
    }

    /// Connects read-only, for auditors: every transaction of the pool is read-only
    /// (`default_transaction_read_only`), so a verify or an export cannot change the evidence
    /// it reads, whatever code path it takes.
    pub async fn connect_read_only(
        url: &str,
        max_connections: u32,
    ) -> Result<Self, EventStoreError> {
        let options: PgConnectOptions = url.parse().map_err(EventStoreError::Connect)?;
        let pool = pool_options()
            .max_connections(max_connections)
            .connect_with(options.options([("default_transaction_read_only", "on")]))
            .await
            .map_err(EventStoreError::Connect)?;
        Ok(Self::from_pool(pool))
    }

    /// An event store over an existing pool.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            commits: Arc::new(watch::Sender::new(0)),
        }
    }

    /// The store's commit count, raised by [`EventStore::committed`]: for forwarding commits
    /// to other processes as hints.
    pub fn commits(&self) -> watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// Tells this store's tailing readers that a transaction appended events and committed:
    /// its repositories call it on every commit; a commit hint from another process
    /// (`hints.parcelport.committed`) calls it too. Only wakes them: they read as always.
    pub fn committed(&self) {
        self.commits
            .send_modify(|commits| *commits = commits.wrapping_add(1));
    }

    /// The pool, for what this crate does not wrap (view repositories, ad-hoc queries).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the embedded migrations that are not applied yet. Called at service start;
    /// safe to call from several services at once (sqlx serializes them with an advisory lock).
    pub async fn migrate(&self) -> Result<(), EventStoreError> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        Ok(())
    }

    /// A `postgres-es` event repository on the store's tables, waking this store's tailing
    /// readers when it commits.
    pub fn repository(&self) -> PostgresRepository {
        PostgresRepository::new(
            PostgresEventRepository::new(self.pool.clone()),
            Arc::clone(&self.commits),
        )
    }

    /// The command side for aggregate `A`, loading each aggregate from all its events.
    /// Execute commands with `execute_with_metadata(id, command, CommandMetadata::into())`.
    ///
    /// No snapshot variant on purpose: in cqrs-es 0.5.0 `EventSink::write` already applies each
    /// new event to the aggregate, and the snapshot (and aggregate) stores apply them again
    /// before saving, so the saved state counts the last command twice. The test
    /// `cqrs_es_snapshots_are_still_double_applied` fails once that is fixed upstream.
    pub fn cqrs<A: Aggregate>(
        &self,
        queries: Vec<Box<dyn Query<A>>>,
        services: A::Services,
    ) -> PostgresCqrs<A> {
        let store = PersistedEventStore::new_event_store(self.repository());
        CqrsFramework::new(store, queries, services)
    }

    /// Up to `limit` events after `cursor` in the commit-safe global order. Returns only events
    /// of finished transactions; a short (or empty) page means "nothing more yet", not "the end".
    pub async fn read_after(
        &self,
        cursor: GlobalCursor,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, EventStoreError> {
        global_order::read_after(&self.pool, cursor, limit).await
    }

    /// Which of the aggregates `ids` of `aggregate_type` hold an event of `event_type` (for
    /// example the members whose personal data was erased).
    pub async fn holding_event(
        &self,
        aggregate_type: &str,
        ids: &[String],
        event_type: &str,
    ) -> Result<Vec<String>, EventStoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT aggregate_id FROM events \
              WHERE aggregate_type = $1 AND aggregate_id = ANY($2) AND event_type = $3",
        )
        .bind(aggregate_type)
        .bind(ids)
        .bind(event_type)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every event after `cursor`, in the global order, forever: see [`EventStore::tail_with`].
    pub fn tail(
        &self,
        cursor: GlobalCursor,
    ) -> impl Stream<Item = Result<StoredEvent, EventStoreError>> + Send + 'static {
        self.tail_with(cursor, TailOptions::default())
    }

    /// Every event after `cursor`, in the global order, forever. Reads pages with
    /// [`EventStore::read_after`]: at once again after a full page; after a short one, when
    /// this store commits ([`EventStore::committed`]) or after the poll interval, whichever
    /// comes first. An error is yielded and the stream goes on after the poll interval; drop
    /// the stream to stop.
    pub fn tail_with(
        &self,
        cursor: GlobalCursor,
        options: TailOptions,
    ) -> impl Stream<Item = Result<StoredEvent, EventStoreError>> + Send + 'static {
        let wake = Wake::Appended(self.commits.subscribe());
        tail::tail(self.clone(), wake, cursor, options)
    }
}

/// The commit-safe global order of ADR 0002, for readers generic over the backend.
impl EventLog for EventStore {
    async fn read_after(
        &self,
        cursor: GlobalCursor,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, EventStoreError> {
        global_order::read_after(&self.pool, cursor, limit).await
    }

    fn tail_with(
        &self,
        cursor: GlobalCursor,
        options: TailOptions,
    ) -> impl Stream<Item = Result<StoredEvent, EventStoreError>> + Send + 'static {
        EventStore::tail_with(self, cursor, options)
    }

    async fn head(&self) -> Result<Option<GlobalCursor>, EventStoreError> {
        sqlx::query(
            "SELECT txid::text AS txid_text, position FROM events \
              ORDER BY txid DESC, position DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .map(|row| GlobalCursor::from_pg_row(&row))
        .transpose()
    }

    async fn cursor_of(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: i64,
    ) -> Result<Option<GlobalCursor>, EventStoreError> {
        sqlx::query(
            "SELECT txid::text AS txid_text, position FROM events \
              WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(sequence)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| GlobalCursor::from_pg_row(&row))
        .transpose()
    }

    async fn backlog(&self, cursor: GlobalCursor) -> Result<Backlog, EventStoreError> {
        let (events, oldest_recorded_at): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT count(*), min(recorded_at) FROM events \
              WHERE (txid, position) > ($1::text::xid8, $2)",
        )
        .bind(cursor.txid.to_string())
        .bind(cursor.position)
        .fetch_one(&self.pool)
        .await?;
        Ok(Backlog {
            events: u64::try_from(events).unwrap_or_default(),
            more: false,
            oldest_recorded_at,
        })
    }

    async fn backlog_at_most(
        &self,
        cursor: GlobalCursor,
        bound: u64,
    ) -> Result<Backlog, EventStoreError> {
        let (counted, oldest_recorded_at): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM events \
                      WHERE (txid, position) > ($1::text::xid8, $2) \
                      ORDER BY txid, position LIMIT $3) AS waiting), \
                    (SELECT recorded_at FROM events \
                      WHERE (txid, position) > ($1::text::xid8, $2) \
                      ORDER BY txid, position LIMIT 1)",
        )
        .bind(cursor.txid.to_string())
        .bind(cursor.position)
        .bind(i64::try_from(bound.saturating_add(1)).unwrap_or(i64::MAX))
        .fetch_one(&self.pool)
        .await?;
        Ok(Backlog::counted(counted, bound, oldest_recorded_at))
    }
}

impl Backlog {
    /// `counted` events of a count limited to `bound` + 1 (one more says there are more).
    pub(crate) fn counted(
        counted: i64,
        bound: u64,
        oldest_recorded_at: Option<DateTime<Utc>>,
    ) -> Backlog {
        let counted = u64::try_from(counted).unwrap_or_default();
        Backlog {
            events: counted.min(bound),
            more: counted > bound,
            oldest_recorded_at,
        }
    }
}

impl EventStore {
    /// The cursor of the event at `position` (`None` when there is none).
    pub async fn cursor_at(&self, position: i64) -> Result<Option<GlobalCursor>, EventStoreError> {
        sqlx::query("SELECT txid::text AS txid_text, position FROM events WHERE position = $1")
            .bind(position)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| GlobalCursor::from_pg_row(&row))
            .transpose()
    }

    /// The events one step of a keyed request appended (their metadata carries
    /// [`crate::metadata::IDEMPOTENCY_KEY`] and [`crate::metadata::IDEMPOTENCY_STEP`]), in
    /// sequence order: what a retry after a crash replays.
    pub async fn appended_by_request(
        &self,
        key: &str,
        step: u32,
    ) -> Result<Vec<AppendedByRequest>, EventStoreError> {
        // The literal names match the expression index on them.
        let rows = sqlx::query(
            "SELECT aggregate_type, aggregate_id, sequence, payload FROM events \
              WHERE metadata ->> 'idempotency_key' = $1 \
                AND metadata ->> 'idempotency_step' = $2 \
              ORDER BY sequence",
        )
        .bind(key)
        .bind(step.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AppendedByRequest::from_row).collect()
    }
}

/// An event a keyed request appended (see [`EventStore::appended_by_request`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AppendedByRequest {
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// Its sequence in the aggregate.
    pub sequence: i64,
    /// The payload as stored.
    pub payload: serde_json::Value,
}

impl AppendedByRequest {
    pub(crate) fn from_row<R: Row>(row: &R) -> Result<Self, EventStoreError>
    where
        for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> serde_json::Value: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> &'r str: sqlx::ColumnIndex<R>,
    {
        Ok(Self {
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            payload: row.try_get("payload")?,
        })
    }
}

//! The embedded backend: the same events in one SQLite file, for the single-process mode.
//!
//! [`SqliteEventStore`] opens (and creates) `<dir>/parcelport.db` in WAL mode with two pools:
//! one *writer* connection, through which every write of the process goes, and several
//! read-only *reader* connections. [`SqliteEventRepository`] (`repository.rs`) is cqrs-es's
//! `PersistedEventRepository` over it; [`SqliteEventStore`] is also an [`EventLog`], read
//! by position.
//!
//! *Architecture Invariant*: on SQLite the position is the commit order, so the global reader
//! reads `position > last` with no watermark. SQLite runs one write transaction at a time and
//! a position is taken inside it, so a transaction's positions all exceed those of every
//! transaction committed before it; a WAL reader sees a prefix of the commits, hence every
//! position below the highest it sees. See `docs/adr/0002-commit-safe-global-order.md`.
//!
//! *Architecture Invariant*: writes go through the writer pool only (the readers are opened
//! read-only). One writer connection means the process never competes with itself for
//! SQLite's write lock; the busy timeout is for other processes (a backup, the `sqlite3` shell).

mod repository;

pub use repository::SqliteEventRepository;

use crate::tail::{self, TailOptions, Wake};
use crate::{chain, EventLog, EventStoreError, GlobalCursor, StoredEvent};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, CqrsFramework, Query};
use futures::{Stream, TryStreamExt};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::watch;

/// The command side for aggregate `A` over the SQLite store.
pub type SqliteCqrs<A> = CqrsFramework<A, PersistedEventStore<SqliteEventRepository, A>>;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "parcelport.db";

/// How the SQLite store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Read-only connections, for loading aggregates and global reads.
    pub readers: u32,
    /// How long a statement waits for a lock another process holds before it fails.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// The embedded event store: one SQLite file, a writer pool of one connection, reader pools.
///
/// Cheap to clone; clones share the pools and the commit signal.
#[derive(Debug, Clone)]
pub struct SqliteEventStore {
    path: PathBuf,
    writer: SqlitePool,
    reader: SqlitePool,
    /// Counts the commits of this process's repositories; wakes tailing readers.
    commits: Arc<watch::Sender<u64>>,
}

static READ_AFTER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {columns} FROM events WHERE position > ?1 ORDER BY position LIMIT ?2",
        columns = StoredEvent::SQLITE_COLUMNS
    )
});

impl SqliteEventStore {
    /// Opens the store in data directory `dir` (created if missing) with default options,
    /// creating `dir/parcelport.db` and its tables the first time.
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self, EventStoreError> {
        Self::open_with(dir, SqliteOptions::default()).await
    }

    /// [`SqliteEventStore::open`] with `options`.
    pub async fn open_with(
        dir: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<Self, EventStoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| EventStoreError::Open {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(DATABASE_FILE);
        let connect = SqliteConnectOptions::new()
            .filename(&path)
            .journal_mode(SqliteJournalMode::Wal)
            // Every commit reaches the disk before it is acknowledged: an event a reader (or
            // NATS) has seen must survive a power cut.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect.clone().create_if_missing(true))
            .await
            .map_err(EventStoreError::Connect)?;
        migrate(&writer).await?;
        refuse_unchained(&writer, &path).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.readers.max(1))
            .connect_with(connect.read_only(true))
            .await
            .map_err(EventStoreError::Connect)?;
        Ok(Self {
            path,
            writer,
            reader,
            commits: Arc::new(watch::Sender::new(0)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The one writer connection, for the engine's own tables; hold it briefly, it serializes
    /// every write of the process.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The read-only connections.
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// A cqrs-es event repository on the store's `events` table.
    pub fn repository(&self) -> SqliteEventRepository {
        SqliteEventRepository::new(self.clone())
    }

    /// The command side for aggregate `A`, loading each aggregate from all its events
    /// (no snapshots: see `EventStore::cqrs`).
    pub fn cqrs<A: Aggregate>(
        &self,
        queries: Vec<Box<dyn Query<A>>>,
        services: A::Services,
    ) -> SqliteCqrs<A> {
        let store = PersistedEventStore::new_event_store(self.repository());
        CqrsFramework::new(store, queries, services)
    }

    /// Closes the pools, checkpointing the WAL into the database file.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Up to `limit` events after `cursor`, in position (= commit) order.
    pub async fn read_after(
        &self,
        cursor: GlobalCursor,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, EventStoreError> {
        if cursor.txid != 0 {
            return Err(EventStoreError::ForeignCursor { cursor });
        }
        let mut rows = sqlx::query(&READ_AFTER)
            .bind(cursor.position)
            .bind(i64::from(limit))
            .fetch(&self.reader);
        let mut events = Vec::new();
        while let Some(row) = rows.try_next().await? {
            events.push(StoredEvent::from_sqlite_row(&row)?);
        }
        Ok(events)
    }

    /// Every event after `cursor`, in the global order, forever: see [`EventLog::tail_with`].
    /// Woken by the commits of this process's repositories, and by the poll interval for
    /// anything else that writes the file.
    pub fn tail_with(
        &self,
        cursor: GlobalCursor,
        options: TailOptions,
    ) -> impl Stream<Item = Result<StoredEvent, EventStoreError>> + Send + 'static {
        let wake = Wake::Appended(self.commits.subscribe());
        tail::tail(self.clone(), wake, cursor, options)
    }

    /// Tells tailing readers that a transaction appended events and committed.
    pub(crate) fn committed(&self) {
        self.commits
            .send_modify(|commits| *commits = commits.wrapping_add(1));
    }
}

/// The embedded migrations (`sqlite-migrations/`). They share the database's one migration
/// history with the engine's, whose versions start at 1000: each migrator ignores the other's.
async fn migrate(writer: &SqlitePool) -> Result<(), EventStoreError> {
    let mut migrator = sqlx::migrate!("./sqlite-migrations");
    migrator.set_ignore_missing(true);
    migrator.run(writer).await?;
    Ok(())
}

/// Refuses a store whose events predate the hash chain (its first and last events are both
/// unchained): appending to it would chain new events to history nobody has vouched for. Such a
/// store is chained once, on purpose, by [`SqliteEventStore::chain_legacy`]. Existing hashes
/// are never recomputed here: a NULL hash among chained events is evidence for `verify`.
async fn refuse_unchained(writer: &SqlitePool, path: &Path) -> Result<(), EventStoreError> {
    let ends: (Option<bool>, Option<bool>) = sqlx::query_as(
        "SELECT (SELECT hash IS NULL FROM events ORDER BY position LIMIT 1), \
                (SELECT hash IS NULL FROM events ORDER BY position DESC LIMIT 1)",
    )
    .fetch_one(writer)
    .await?;
    if ends == (Some(true), Some(true)) {
        return Err(EventStoreError::Unchained {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// What [`SqliteEventStore::chain_legacy`] did, as recorded in the store's `chain_upgrades`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainUpgrade {
    /// When the events were chained.
    pub upgraded_at: chrono::DateTime<chrono::Utc>,
    /// How many events were chained.
    pub events: u64,
    /// The last position chained: events up to it were chained after the fact, so their
    /// hashes prove nothing changed since `upgraded_at`, not since they were written.
    pub last_position: i64,
}

impl SqliteEventStore {
    /// Opens an existing store in `dir` read-only, for auditors: no migration, no chaining,
    /// no write of any kind (every connection is opened read-only, so a write fails). The file
    /// must exist. A store no process has open is read as immutable: start no server on it
    /// while an auditor reads it.
    pub async fn open_read_only(dir: impl AsRef<Path>) -> Result<Self, EventStoreError> {
        let path = dir.as_ref().join(DATABASE_FILE);
        if !path.is_file() {
            return Err(EventStoreError::Open {
                path,
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        // A store nobody has open (no write-ahead log beside it) is opened immutable: SQLite
        // then creates no `-wal` or `-shm` file either, so the directory is left byte for byte
        // as it was. A store in use is read through its log like any reader.
        let in_use = path.with_file_name(format!("{DATABASE_FILE}-wal")).exists();
        let connect = SqliteConnectOptions::new()
            .filename(&path)
            .busy_timeout(SqliteOptions::default().busy_timeout)
            .read_only(true)
            .immutable(!in_use);
        let reader = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(connect)
            .await
            .map_err(EventStoreError::Connect)?;
        Ok(Self {
            path,
            writer: reader.clone(),
            reader,
            commits: Arc::new(watch::Sender::new(0)),
        })
    }

    /// Chains a store written before the hash chain existed, once, and records that it did so
    /// (`chain_upgrades`, reported by `verify`). Refuses when any event is already chained:
    /// re-chaining chained events would launder whatever was changed in them.
    pub async fn chain_legacy(dir: impl AsRef<Path>) -> Result<ChainUpgrade, EventStoreError> {
        let dir = dir.as_ref();
        let path = dir.join(DATABASE_FILE);
        if !path.is_file() {
            return Err(EventStoreError::Open {
                path,
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(&path)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(SqliteOptions::default().busy_timeout),
            )
            .await
            .map_err(EventStoreError::Connect)?;
        migrate(&writer).await?;
        let upgrade = chain_all(&writer).await;
        writer.close().await;
        upgrade
    }

    /// The recorded [`SqliteEventStore::chain_legacy`] upgrades, oldest first (none on a store
    /// that never needed one, or one older than the record).
    pub async fn chain_upgrades(&self) -> Result<Vec<ChainUpgrade>, EventStoreError> {
        let recorded: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master \
              WHERE type = 'table' AND name = 'chain_upgrades')",
        )
        .fetch_one(&self.reader)
        .await?;
        if !recorded {
            return Ok(Vec::new());
        }
        let rows: Vec<(chrono::DateTime<chrono::Utc>, i64, i64)> = sqlx::query_as(
            "SELECT upgraded_at, events, last_position FROM chain_upgrades ORDER BY id",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(upgraded_at, events, last_position)| ChainUpgrade {
                upgraded_at,
                events: u64::try_from(events).unwrap_or_default(),
                last_position,
            })
            .collect())
    }
}

/// Chains every event, in sequence order per aggregate, in one transaction, and records the
/// upgrade; refuses when any event already has a hash.
async fn chain_all(writer: &SqlitePool) -> Result<ChainUpgrade, EventStoreError> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let chained: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE hash IS NOT NULL")
        .fetch_one(&mut *tx)
        .await?;
    if chained > 0 {
        return Err(EventStoreError::AlreadyChained {
            chained: u64::try_from(chained).unwrap_or_default(),
        });
    }
    let rows = sqlx::query(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
         metadata, event_id, recorded_at, position FROM events \
         ORDER BY aggregate_type, aggregate_id, sequence",
    )
    .fetch_all(&mut *tx)
    .await?;
    // The last event chained: aggregate type, id, sequence and hash.
    let mut previous = (String::new(), String::new(), 0_i64, chain::GENESIS);
    let mut last_position = 0_i64;
    for row in &rows {
        use sqlx::Row;
        let position: i64 = row.try_get("position")?;
        let aggregate_type: String = row.try_get("aggregate_type")?;
        let aggregate_id: String = row.try_get("aggregate_id")?;
        let event_id: String = row.try_get("event_id")?;
        let event_id =
            uuid::Uuid::parse_str(&event_id).map_err(|_| EventStoreError::Malformed {
                position,
                reason: format!("event_id {event_id:?} is not a UUID"),
            })?;
        let sequence: i64 = row.try_get("sequence")?;
        // As the repository does: chained to sequence - 1, from the genesis after a gap.
        if previous.0 != aggregate_type || previous.1 != aggregate_id || previous.2 + 1 != sequence
        {
            previous = (
                aggregate_type.clone(),
                aggregate_id.clone(),
                0,
                chain::GENESIS,
            );
        }
        let payload: String = row.try_get("payload")?;
        let metadata: String = row.try_get("metadata")?;
        let event_type: String = row.try_get("event_type")?;
        let event_version: String = row.try_get("event_version")?;
        let hash = chain::ChainedFields {
            aggregate_type: &aggregate_type,
            aggregate_id: &aggregate_id,
            sequence,
            event_type: &event_type,
            event_version: &event_version,
            payload: &payload,
            metadata: &metadata,
            event_id,
            recorded_at: row.try_get("recorded_at")?,
            position,
        }
        .hash(&previous.3);
        sqlx::query("UPDATE events SET hash = ?1 WHERE position = ?2")
            .bind(&hash[..])
            .bind(position)
            .execute(&mut *tx)
            .await?;
        previous.2 = sequence;
        previous.3 = hash;
        last_position = last_position.max(position);
    }
    let upgrade = ChainUpgrade {
        upgraded_at: chrono::Utc::now(),
        events: u64::try_from(rows.len()).unwrap_or_default(),
        last_position,
    };
    sqlx::query(
        "INSERT INTO chain_upgrades (upgraded_at, events, last_position) VALUES (?1, ?2, ?3)",
    )
    .bind(upgrade.upgraded_at)
    .bind(i64::try_from(upgrade.events).unwrap_or(i64::MAX))
    .bind(upgrade.last_position)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(upgrade)
}

impl EventLog for SqliteEventStore {
    async fn read_after(
        &self,
        cursor: GlobalCursor,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, EventStoreError> {
        SqliteEventStore::read_after(self, cursor, limit).await
    }

    fn tail_with(
        &self,
        cursor: GlobalCursor,
        options: TailOptions,
    ) -> impl Stream<Item = Result<StoredEvent, EventStoreError>> + Send + 'static {
        SqliteEventStore::tail_with(self, cursor, options)
    }

    async fn head(&self) -> Result<Option<GlobalCursor>, EventStoreError> {
        let position: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
            .fetch_one(&self.reader)
            .await?;
        Ok(position.map(GlobalCursor::at_position))
    }

    async fn cursor_of(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: i64,
    ) -> Result<Option<GlobalCursor>, EventStoreError> {
        let position: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM events \
              WHERE aggregate_type = ?1 AND aggregate_id = ?2 AND sequence = ?3",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(sequence)
        .fetch_optional(&self.reader)
        .await?;
        Ok(position.map(GlobalCursor::at_position))
    }

    async fn backlog(&self, cursor: GlobalCursor) -> Result<crate::Backlog, EventStoreError> {
        let (events, oldest_recorded_at): (i64, Option<chrono::DateTime<chrono::Utc>>) =
            sqlx::query_as("SELECT count(*), min(recorded_at) FROM events WHERE position > ?1")
                .bind(cursor.position)
                .fetch_one(&self.reader)
                .await?;
        Ok(crate::Backlog {
            events: u64::try_from(events).unwrap_or_default(),
            more: false,
            oldest_recorded_at,
        })
    }

    async fn backlog_at_most(
        &self,
        cursor: GlobalCursor,
        bound: u64,
    ) -> Result<crate::Backlog, EventStoreError> {
        let (counted, oldest_recorded_at): (i64, Option<chrono::DateTime<chrono::Utc>>) =
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM events WHERE position > ?1 \
                          ORDER BY position LIMIT ?2)), \
                        (SELECT recorded_at FROM events WHERE position > ?1 \
                          ORDER BY position LIMIT 1)",
            )
            .bind(cursor.position)
            .bind(i64::try_from(bound.saturating_add(1)).unwrap_or(i64::MAX))
            .fetch_one(&self.reader)
            .await?;
        Ok(crate::Backlog::counted(counted, bound, oldest_recorded_at))
    }
}

impl SqliteEventStore {
    /// The events one step of a keyed request appended, in sequence order (see
    /// `EventStore::appended_by_request`).
    pub async fn appended_by_request(
        &self,
        key: &str,
        step: u32,
    ) -> Result<Vec<crate::AppendedByRequest>, EventStoreError> {
        // The literal paths match the expression index on them.
        let rows = sqlx::query(
            "SELECT aggregate_type, aggregate_id, sequence, payload FROM events
              WHERE json_extract(metadata, '$.idempotency_key') = ?1
                AND json_extract(metadata, '$.idempotency_step') = ?2
              ORDER BY sequence",
        )
        .bind(key)
        .bind(step.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(crate::AppendedByRequest::from_row)
            .collect()
    }
}

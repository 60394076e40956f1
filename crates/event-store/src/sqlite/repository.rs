//! [`SqliteEventRepository`]: cqrs-es's `PersistedEventRepository` on the SQLite `events`
//! table, with postgres-es's semantics: events in sequence order, a commit's events in one
//! transaction, a taken sequence refused as an optimistic-lock conflict.

use super::SqliteEventStore;
use crate::chain::{self, ChainedFields, Hash32};
use chrono::Utc;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use futures::TryStreamExt;
use serde_json::Value;
use sqlx::error::ErrorKind;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

const SELECT_EVENTS: &str = "SELECT aggregate_type, aggregate_id, sequence, event_type, \
    event_version, payload, metadata FROM events \
    WHERE aggregate_type = ?1 AND aggregate_id = ?2 AND sequence > ?3 ORDER BY sequence";

const SELECT_ALL_EVENTS: &str = "SELECT aggregate_type, aggregate_id, sequence, event_type, \
    event_version, payload, metadata FROM events WHERE aggregate_type = ?1 ORDER BY position";

const INSERT_EVENT: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence, \
    event_type, event_version, payload, metadata, event_id, recorded_at, position, hash) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// The position the next insert would get from AUTOINCREMENT: one above both the highest ever
/// handed out and the highest present. Read under the write lock, so it is still free at insert.
const NEXT_POSITION: &str = "SELECT max(coalesce((SELECT seq FROM sqlite_sequence \
    WHERE name = 'events'), 0), coalesce((SELECT max(position) FROM events), 0)) + 1";

const PREVIOUS_HASH: &str = "SELECT hash FROM events \
    WHERE aggregate_type = ?1 AND aggregate_id = ?2 AND sequence = ?3";

/// Events stream through a channel of this many.
const STREAM_CHANNEL_SIZE: usize = 200;

/// The event repository of the embedded store. Loads on the reader pool, appends on the
/// writer; snapshots are not kept (see `event_store::EventStore::cqrs` for why).
#[derive(Debug, Clone)]
pub struct SqliteEventRepository {
    store: SqliteEventStore,
}

impl SqliteEventRepository {
    /// The repository over `store`'s tables.
    pub fn new(store: SqliteEventStore) -> Self {
        Self { store }
    }

    async fn select<A: Aggregate>(
        &self,
        aggregate_id: &str,
        after: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let after = i64::try_from(after).map_err(|e| PersistenceError::UnknownError(e.into()))?;
        let mut rows = sqlx::query(SELECT_EVENTS)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(after)
            .fetch(self.store.reader());
        let mut events = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(persistence_error)? {
            events.push(serialized_event(&row)?);
        }
        Ok(events)
    }

    /// Appends `events` in one transaction, all stamped with one `recorded_at`, each with its
    /// chain hash (`crate::chain`): the position is taken explicitly, as AUTOINCREMENT would,
    /// because the hash covers it.
    async fn append<A: Aggregate>(&self, events: &[SerializedEvent]) -> Result<(), sqlx::Error> {
        let recorded_at = chain::to_micros(Utc::now());
        // IMMEDIATE takes the write lock at BEGIN: the positions are allocated under it.
        let mut tx = self.store.writer().begin_with("BEGIN IMMEDIATE").await?;
        let mut position: i64 = sqlx::query_scalar(NEXT_POSITION)
            .fetch_one(&mut *tx)
            .await?;
        // The hash of the last event appended here, by aggregate and sequence.
        let mut last: Option<(&str, i64, Hash32)> = None;
        for event in events {
            let sequence =
                i64::try_from(event.sequence).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            let previous = match last {
                Some((id, last_sequence, hash))
                    if id == event.aggregate_id && last_sequence + 1 == sequence =>
                {
                    hash
                }
                _ => previous_hash(&mut tx, A::TYPE, &event.aggregate_id, sequence).await?,
            };
            let payload = event.payload.to_string();
            let metadata = event.metadata.to_string();
            let event_id = Uuid::new_v4();
            let hash = ChainedFields {
                aggregate_type: A::TYPE,
                aggregate_id: &event.aggregate_id,
                sequence,
                event_type: &event.event_type,
                event_version: &event.event_version,
                payload: &payload,
                metadata: &metadata,
                event_id,
                recorded_at,
                position,
            }
            .hash(&previous);
            sqlx::query(INSERT_EVENT)
                .bind(A::TYPE)
                .bind(&event.aggregate_id)
                .bind(sequence)
                .bind(&event.event_type)
                .bind(&event.event_version)
                .bind(&payload)
                .bind(&metadata)
                .bind(event_id.hyphenated())
                .bind(recorded_at)
                .bind(position)
                .bind(&hash[..])
                .execute(&mut *tx)
                .await?;
            last = Some((&event.aggregate_id, sequence, hash));
            position += 1;
        }
        tx.commit().await
    }
}

/// The chain hash of the aggregate's event at `sequence - 1`, or [`chain::GENESIS`] when there
/// is none (the first event; a gap is the verifier's to report).
async fn previous_hash(
    tx: &mut sqlx::SqliteConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
) -> Result<Hash32, sqlx::Error> {
    let previous: Option<Option<Vec<u8>>> = sqlx::query_scalar(PREVIOUS_HASH)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(sequence - 1)
        .fetch_optional(tx)
        .await?;
    match previous.flatten() {
        None => Ok(chain::GENESIS),
        Some(bytes) => Hash32::try_from(bytes.as_slice())
            .map_err(|e| sqlx::Error::Decode(format!("stored chain hash: {e}").into())),
    }
}

impl PersistedEventRepository for SqliteEventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.select::<A>(aggregate_id, 0).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.select::<A>(aggregate_id, last_sequence).await
    }

    /// Always none: this store keeps no snapshots.
    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    /// Appends `events` (one command's) atomically. A sequence another commit already took
    /// fails the whole commit with `OptimisticLockError`: the caller reloads and decides again.
    /// A snapshot is refused rather than dropped, so a snapshot-configured framework fails
    /// loudly instead of silently loading from events.
    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(PersistenceError::UnknownError(
                "the SQLite event store keeps no snapshots: use an event-sourced framework".into(),
            ));
        }
        if events.is_empty() {
            return Ok(());
        }
        self.append::<A>(events).await.map_err(persistence_error)?;
        self.store.committed();
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let query = sqlx::query(SELECT_EVENTS)
            .bind(A::TYPE)
            .bind(aggregate_id.to_owned())
            .bind(0_i64);
        Ok(stream(self.store.clone(), query))
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let query = sqlx::query(SELECT_ALL_EVENTS).bind(A::TYPE);
        Ok(stream(self.store.clone(), query))
    }
}

/// Feeds the rows of `query` into a replay stream from a task of its own; a failure is the
/// stream's last item.
fn stream(
    store: SqliteEventStore,
    query: sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'static>>,
) -> ReplayStream {
    let (mut feed, stream) = ReplayStream::new(STREAM_CHANNEL_SIZE);
    tokio::spawn(async move {
        let mut rows = query.fetch(store.reader());
        loop {
            let event = match rows.try_next().await {
                Ok(Some(row)) => serialized_event(&row),
                Ok(None) => return,
                Err(error) => Err(persistence_error(error)),
            };
            let failed = event.is_err();
            // A closed channel means the reader went away: stop reading.
            if feed.push(event).await.is_err() || failed {
                return;
            }
        }
    });
    stream
}

fn serialized_event(row: &SqliteRow) -> Result<SerializedEvent, PersistenceError> {
    let sequence: i64 = row.try_get("sequence").map_err(persistence_error)?;
    let sequence = usize::try_from(sequence)
        .map_err(|e| PersistenceError::DeserializationError(Box::new(e)))?;
    let column = |name: &str| row.try_get::<String, _>(name).map_err(persistence_error);
    let json = |name: &str| row.try_get::<Value, _>(name).map_err(persistence_error);
    Ok(SerializedEvent::new(
        column("aggregate_id")?,
        sequence,
        column("aggregate_type")?,
        column("event_type")?,
        column("event_version")?,
        json("payload")?,
        json("metadata")?,
    ))
}

/// sqlx's errors as cqrs-es reads them: the `(aggregate_type, aggregate_id, sequence)` key
/// taken is the lost race, a lost connection is a connection error.
fn persistence_error(error: sqlx::Error) -> PersistenceError {
    match &error {
        sqlx::Error::Database(database)
            if matches!(database.kind(), ErrorKind::UniqueViolation)
                && database.message().contains("events.sequence") =>
        {
            PersistenceError::OptimisticLockError
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => PersistenceError::ConnectionError(Box::new(error)),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            PersistenceError::DeserializationError(Box::new(error))
        }
        _ => PersistenceError::UnknownError(Box::new(error)),
    }
}

//! [`SqliteEventRepository`]: cqrs-es's `PersistedEventRepository` on the SQLite `events`
//! table, with postgres-es's semantics: events in sequence order, a commit's events in one
//! transaction, a taken sequence refused as an optimistic-lock conflict.

use super::SqliteEventStore;
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
    event_type, event_version, payload, metadata, event_id, recorded_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

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

    /// Appends `events` in one transaction, all stamped with one `recorded_at`.
    async fn append<A: Aggregate>(&self, events: &[SerializedEvent]) -> Result<(), sqlx::Error> {
        let recorded_at = Utc::now();
        // IMMEDIATE takes the write lock at BEGIN: the positions are allocated under it.
        let mut tx = self.store.writer().begin_with("BEGIN IMMEDIATE").await?;
        for event in events {
            let sequence =
                i64::try_from(event.sequence).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            sqlx::query(INSERT_EVENT)
                .bind(A::TYPE)
                .bind(&event.aggregate_id)
                .bind(sequence)
                .bind(&event.event_type)
                .bind(&event.event_version)
                .bind(&event.payload)
                .bind(&event.metadata)
                .bind(Uuid::new_v4().hyphenated())
                .bind(recorded_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
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

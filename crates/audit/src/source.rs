//! [`ChainedEvent`]: a stored event with exactly what its chain hash covers, read in the global
//! order from PostgreSQL (below the watermark of ADR 0002) or from the embedded SQLite store.

use crate::verify::EventAt;
use crate::AuditError;
use chrono::{DateTime, Utc};
use event_store::chain::{ChainedFields, Hash32};
use event_store::sqlite::SqliteEventStore;
use event_store::GlobalCursor;
use futures::{Stream, TryStreamExt};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use std::sync::LazyLock;
use uuid::Uuid;

/// The columns of [`ChainedEvent`], payload and metadata as the stored text.
const COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, event_version, \
    payload::text AS payload, metadata::text AS metadata, event_id, recorded_at, position, \
    txid::text AS txid_text, hash";

/// A stored event with its chain hash, as the verifier and exports see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedEvent {
    /// The aggregate type.
    pub aggregate_type: String,
    /// The aggregate id.
    pub aggregate_id: String,
    /// The sequence within the aggregate.
    pub sequence: i64,
    /// The event type.
    pub event_type: String,
    /// The event version.
    pub event_version: String,
    /// The payload's JSON text, exactly as stored (the hash covers these bytes).
    pub payload: String,
    /// The metadata's JSON text, exactly as stored.
    pub metadata: String,
    /// The event id.
    pub event_id: Uuid,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The global position.
    pub position: i64,
    /// The appending transaction's id (0 on SQLite).
    pub txid: u64,
    /// The stored chain hash.
    #[serde(with = "crate::hex32")]
    pub hash: Hash32,
}

impl ChainedEvent {
    /// What the chain hash covers.
    pub fn fields(&self) -> ChainedFields<'_> {
        ChainedFields {
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: &self.payload,
            metadata: &self.metadata,
            event_id: self.event_id,
            recorded_at: self.recorded_at,
            position: self.position,
        }
    }

    /// Where the event is in the global order.
    pub fn cursor(&self) -> GlobalCursor {
        GlobalCursor {
            txid: self.txid,
            position: self.position,
        }
    }

    /// The event's place, for a report.
    pub fn at(&self) -> EventAt {
        EventAt {
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            sequence: self.sequence,
            position: self.position,
        }
    }

    fn from_pg_row(row: &sqlx::postgres::PgRow) -> Result<Self, AuditError> {
        let GlobalCursor { txid, position } = GlobalCursor::from_pg_row(row)?;
        Ok(Self {
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            event_id: row.try_get("event_id")?,
            recorded_at: row.try_get("recorded_at")?,
            position,
            txid,
            hash: stored_hash(row.try_get("hash")?),
        })
    }

    fn from_sqlite_row(row: &sqlx::sqlite::SqliteRow) -> Result<Self, AuditError> {
        let position: i64 = row.try_get("position")?;
        let event_id: String = row.try_get("event_id")?;
        let event_id =
            Uuid::parse_str(&event_id).map_err(|_| event_store::EventStoreError::Malformed {
                position,
                reason: format!("event_id {event_id:?} is not a UUID"),
            })?;
        Ok(Self {
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            event_id,
            recorded_at: row.try_get("recorded_at")?,
            position,
            txid: 0,
            hash: stored_hash(row.try_get("hash")?),
        })
    }
}

/// A stored hash of the wrong length (or none) cannot be any event's hash: it reads as zeros,
/// which the verifier reports as an altered event.
pub(crate) fn stored_hash(bytes: Option<Vec<u8>>) -> Hash32 {
    bytes
        .and_then(|bytes| Hash32::try_from(bytes.as_slice()).ok())
        .unwrap_or_default()
}

static ALL_EVENTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM events \
          WHERE txid < pg_snapshot_xmin(pg_current_snapshot()) \
          ORDER BY txid, position"
    )
});

static SELECTED_EVENTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM events \
          WHERE (txid, position) <= ($1::text::xid8, $2) \
            AND ($3::text IS NULL OR aggregate_type = $3) \
            AND ($4::text IS NULL OR aggregate_id = $4) \
            AND ($5::timestamptz IS NULL OR recorded_at >= $5) \
            AND ($6::timestamptz IS NULL OR recorded_at < $6) \
          ORDER BY txid, position"
    )
});

/// Every event of finished transactions, in the global order `(txid, position)`, in one
/// statement (one snapshot). Call [`await_earlier_writers`] first to include every event
/// committed so far.
pub fn postgres_events(
    pool: &PgPool,
) -> impl Stream<Item = Result<ChainedEvent, AuditError>> + Send + '_ {
    sqlx::query(&ALL_EVENTS)
        .fetch(pool)
        .map_err(AuditError::from)
        .and_then(|row| async move { ChainedEvent::from_pg_row(&row) })
}

/// Which events an export or a history takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this aggregate type.
    pub aggregate_type: Option<String>,
    /// Only this aggregate id.
    pub aggregate_id: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
}

/// The events of `selection` up to `bound` in the global order (a checkpoint's bound: all of
/// them finished), in that order.
pub fn postgres_selection<'a>(
    pool: &'a PgPool,
    selection: &Selection,
    bound: GlobalCursor,
) -> impl Stream<Item = Result<ChainedEvent, AuditError>> + Send + 'a {
    sqlx::query(&SELECTED_EVENTS)
        .bind(bound.txid.to_string())
        .bind(bound.position)
        .bind(selection.aggregate_type.clone())
        .bind(selection.aggregate_id.clone())
        .bind(selection.from)
        .bind(selection.to)
        .fetch(pool)
        .map_err(AuditError::from)
        .and_then(|row| async move { ChainedEvent::from_pg_row(&row) })
}

/// Waits until every transaction that had started when it was called has finished, anywhere
/// in the cluster (the watermark of ADR 0002 is cluster-wide), so that a following read below
/// the watermark sees every event committed before the call. Polls every 20 ms; a transaction
/// left open elsewhere delays it, as it delays every reader.
pub async fn await_earlier_writers(pool: &PgPool) -> Result<(), AuditError> {
    let target: String = sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
        .fetch_one(pool)
        .await?;
    loop {
        let passed: bool =
            sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::text::xid8")
                .bind(&target)
                .fetch_one(pool)
                .await?;
        if passed {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// How many events [`postgres_events`] would read now, for a progress bar.
pub async fn postgres_event_count(pool: &PgPool) -> Result<u64, AuditError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE txid < pg_snapshot_xmin(pg_current_snapshot())",
    )
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Every event of the embedded store, in position (= commit) order.
pub fn sqlite_events(
    store: &SqliteEventStore,
) -> impl Stream<Item = Result<ChainedEvent, AuditError>> + Send + '_ {
    sqlx::query(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
         metadata, event_id, recorded_at, position, hash FROM events ORDER BY position",
    )
    .fetch(store.reader())
    .map_err(AuditError::from)
    .and_then(|row| async move { ChainedEvent::from_sqlite_row(&row) })
}

/// How many events the embedded store holds.
pub async fn sqlite_event_count(store: &SqliteEventStore) -> Result<u64, AuditError> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(store.reader())
        .await?;
    Ok(u64::try_from(count).unwrap_or_default())
}

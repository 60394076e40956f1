//! The rows as the hash chain covers them (ADR 0006), for the auditor's tools: every event
//! with its stored hash in the global order, selections of them, the hashes alone for Merkle
//! checkpoints, and one aggregate's events as of a moment. Read below the transaction-id
//! watermark on PostgreSQL (ADR 0002), by position on SQLite.
//!
//! *Architecture Invariant*: this crate is the only reader of `events`; `crates/audit` reads
//! the chain through here.

use crate::chain::{ChainedFields, Hash32};
use crate::{EventStoreError, GlobalCursor};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;
use sqlx::Row;
use std::sync::LazyLock;
use uuid::Uuid;

/// The columns of [`ChainedEvent`] on PostgreSQL, payload and metadata as the stored text.
pub(crate) const COLUMNS: &str =
    "aggregate_type, aggregate_id, sequence, event_type, event_version, \
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
    /// The stored chain hash (zeros when missing or malformed: no SHA-256 output is).
    #[serde(with = "hex_hash")]
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

    pub(crate) fn from_pg_row(row: &sqlx::postgres::PgRow) -> Result<Self, EventStoreError> {
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

    #[cfg(feature = "sqlite")]
    pub(crate) fn from_sqlite_row(row: &sqlx::sqlite::SqliteRow) -> Result<Self, EventStoreError> {
        let position: i64 = row.try_get("position")?;
        let event_id: String = row.try_get("event_id")?;
        let event_id = Uuid::parse_str(&event_id).map_err(|_| EventStoreError::Malformed {
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

/// The columns of [`ChainedEvent`] on SQLite (the text is stored as is; no transaction id).
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, \
    event_version, payload, metadata, event_id, recorded_at, position, hash";

#[cfg(feature = "sqlite")]
static SQLITE_ALL_EVENTS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {SQLITE_COLUMNS} FROM events ORDER BY position"));

/// Hashes as lowercase hex in JSON.
mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(serde::de::Error::custom)?;
        Ok(bytes)
    }
}

/// A stored hash of the wrong length (or none) cannot be any event's hash: it reads as zeros,
/// which the verifier reports.
pub fn stored_hash(bytes: Option<Vec<u8>>) -> Hash32 {
    bytes
        .and_then(|bytes| Hash32::try_from(bytes.as_slice()).ok())
        .unwrap_or_default()
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

/// One event of an aggregate's history (see [`postgres_aggregate_history`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// The sequence.
    pub sequence: i64,
    /// The global position.
    pub position: i64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The event type.
    pub event_type: String,
    /// The version stored.
    pub event_version: String,
    /// The payload as stored.
    pub payload: Value,
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

/// Every event of finished transactions with its stored hash, in the global order
/// `(txid, position)`, in one statement (one snapshot). Call
/// [`await_earlier_writers`] first to include every event committed so far.
pub fn postgres_events(
    pool: &PgPool,
) -> impl Stream<Item = Result<ChainedEvent, EventStoreError>> + Send + '_ {
    sqlx::query(&ALL_EVENTS)
        .fetch(pool)
        .map_err(EventStoreError::from)
        .and_then(|row| async move { ChainedEvent::from_pg_row(&row) })
}

/// How many events [`postgres_events`] would read now.
pub async fn postgres_event_count(pool: &PgPool) -> Result<u64, EventStoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE txid < pg_snapshot_xmin(pg_current_snapshot())",
    )
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// The events of `selection` up to `bound` in the global order (a checkpoint's bound: all
/// of them finished), in that order.
pub fn postgres_selection<'a>(
    pool: &'a PgPool,
    selection: &Selection,
    bound: GlobalCursor,
) -> impl Stream<Item = Result<ChainedEvent, EventStoreError>> + Send + 'a {
    sqlx::query(&SELECTED_EVENTS)
        .bind(bound.txid.to_string())
        .bind(bound.position)
        .bind(selection.aggregate_type.clone())
        .bind(selection.aggregate_id.clone())
        .bind(selection.from)
        .bind(selection.to)
        .fetch(pool)
        .map_err(EventStoreError::from)
        .and_then(|row| async move { ChainedEvent::from_pg_row(&row) })
}

/// The stored hash of every event of finished transactions after `after`, with its
/// cursor, in the global order: what a Merkle checkpoint covers.
pub fn postgres_hashes_after(
    pool: &PgPool,
    after: GlobalCursor,
) -> impl Stream<Item = Result<(GlobalCursor, Hash32), EventStoreError>> + Send + '_ {
    sqlx::query(
        "SELECT hash, txid::text AS txid_text, position FROM events \
          WHERE (txid, position) > ($1::text::xid8, $2) \
            AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
          ORDER BY txid, position",
    )
    .bind(after.txid.to_string())
    .bind(after.position)
    .fetch(pool)
    .map(|row| {
        let row = row?;
        Ok((
            GlobalCursor::from_pg_row(&row)?,
            stored_hash(row.try_get("hash")?),
        ))
    })
}

/// The stored hash of every event up to `bound` in the global order, with its cursor.
pub fn postgres_hashes_through(
    pool: &PgPool,
    bound: GlobalCursor,
) -> impl Stream<Item = Result<(GlobalCursor, Hash32), EventStoreError>> + Send + '_ {
    sqlx::query(
        "SELECT hash, txid::text AS txid_text, position FROM events \
          WHERE (txid, position) <= ($1::text::xid8, $2) \
          ORDER BY txid, position",
    )
    .bind(bound.txid.to_string())
    .bind(bound.position)
    .fetch(pool)
    .map(|row| {
        let row = row?;
        Ok((
            GlobalCursor::from_pg_row(&row)?,
            stored_hash(row.try_get("hash")?),
        ))
    })
}

/// The stored hash of an aggregate's event at `sequence` (zeros when there is none).
pub async fn postgres_hash_at(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
) -> Result<Hash32, EventStoreError> {
    let hash: Option<Option<Vec<u8>>> = sqlx::query_scalar(
        "SELECT hash FROM events \
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence)
    .fetch_optional(pool)
    .await?;
    Ok(stored_hash(hash.flatten()))
}

/// One aggregate's events recorded at or before `time` and at or before `position` (each
/// when given), in sequence order.
pub async fn postgres_aggregate_history(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    time: Option<DateTime<Utc>>,
    position: Option<i64>,
) -> Result<Vec<HistoryRow>, EventStoreError> {
    let rows = sqlx::query(
        "SELECT sequence, position, recorded_at, event_type, event_version, payload \
           FROM events \
          WHERE aggregate_type = $1 AND aggregate_id = $2 \
            AND ($3::timestamptz IS NULL OR recorded_at <= $3) \
            AND ($4::bigint IS NULL OR position <= $4) \
          ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(time)
    .bind(position)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(HistoryRow {
                sequence: row.try_get("sequence")?,
                position: row.try_get("position")?,
                recorded_at: row.try_get("recorded_at")?,
                event_type: row.try_get("event_type")?,
                event_version: row.try_get("event_version")?,
                payload: row.try_get("payload")?,
            })
        })
        .collect()
}

/// Waits until every transaction that had started when it was called has finished,
/// anywhere in the cluster (the watermark of ADR 0002 is cluster-wide), so that a
/// following read below the watermark sees every event committed before the call. Polls
/// every 20 ms; a transaction left open elsewhere delays it, as it delays every reader.
pub async fn await_earlier_writers(pool: &PgPool) -> Result<(), EventStoreError> {
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

#[cfg(feature = "sqlite")]
impl crate::sqlite::SqliteEventStore {
    /// Every event of the embedded store with its stored hash, in position (= commit) order.
    pub fn chained_events(
        &self,
    ) -> impl Stream<Item = Result<ChainedEvent, EventStoreError>> + Send + '_ {
        sqlx::query(&SQLITE_ALL_EVENTS)
            .fetch(self.reader())
            .map_err(EventStoreError::from)
            .and_then(|row| async move { ChainedEvent::from_sqlite_row(&row) })
    }

    /// The stored hash of every event after `after`, with its cursor, in position order.
    pub fn hashes_after(
        &self,
        after: GlobalCursor,
    ) -> impl Stream<Item = Result<(GlobalCursor, Hash32), EventStoreError>> + Send + '_ {
        sqlx::query("SELECT hash, position FROM events WHERE position > ?1 ORDER BY position")
            .bind(after.position)
            .fetch(self.reader())
            .map(|row| {
                let row = row?;
                Ok((
                    GlobalCursor::at_position(row.try_get("position")?),
                    stored_hash(row.try_get("hash")?),
                ))
            })
    }
}

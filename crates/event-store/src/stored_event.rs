//! [`StoredEvent`]: one event as the global reader returns it, with everything the store added.

use crate::{EventStoreError, GlobalCursor};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

/// An event read from the store in global order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The event's own id, assigned by the database; stable across re-reads.
    pub event_id: Uuid,
    /// The aggregate's `cqrs_es::Aggregate::TYPE`.
    pub aggregate_type: String,
    /// The aggregate instance.
    pub aggregate_id: String,
    /// The event's number within its aggregate, from 1, without gaps.
    pub sequence: i64,
    /// The event's `DomainEvent::event_type`.
    pub event_type: String,
    /// The event's `DomainEvent::event_version`.
    pub event_version: String,
    /// The serialized event.
    pub payload: serde_json::Value,
    /// The command's metadata (see [`crate::CommandMetadata`]).
    pub metadata: serde_json::Value,
    /// The `correlation_id` of the metadata, if any.
    pub correlation_id: Option<String>,
    /// The `causation_id` of the metadata, if any.
    pub causation_id: Option<String>,
    /// When the appending transaction started (PostgreSQL) or the commit was prepared (SQLite).
    pub recorded_at: DateTime<Utc>,
    /// The event's position: unique, with gaps; allocation order on PostgreSQL, commit order
    /// on SQLite.
    pub position: i64,
    /// Where this event sits in the global order; the checkpoint after handling it.
    pub cursor: GlobalCursor,
}

impl StoredEvent {
    /// The columns [`StoredEvent::from_row`] reads, for a `SELECT` on `events`. The text form
    /// of the transaction id is `txid_text`, never `AS txid`: PostgreSQL resolves a bare name in
    /// `ORDER BY` to an output column first, and `ORDER BY txid` would then sort the ids as text
    /// ("100000" before "99999"), which breaks the global order where the ids gain a digit.
    pub(crate) const COLUMNS: &'static str = "event_id, aggregate_type, aggregate_id, sequence, \
        event_type, event_version, payload, metadata, correlation_id, causation_id, recorded_at, \
        position, txid::text AS txid_text";

    pub(crate) fn from_row(row: &PgRow) -> Result<Self, EventStoreError> {
        let cursor = GlobalCursor::from_pg_row(row)?;
        Ok(Self {
            event_id: row.try_get("event_id")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            correlation_id: row.try_get("correlation_id")?,
            causation_id: row.try_get("causation_id")?,
            recorded_at: row.try_get("recorded_at")?,
            position: cursor.position,
            cursor,
        })
    }
}

#[cfg(feature = "sqlite")]
impl StoredEvent {
    /// The columns [`StoredEvent::from_sqlite_row`] reads, for a `SELECT` on SQLite's `events`.
    pub(crate) const SQLITE_COLUMNS: &'static str = "event_id, aggregate_type, aggregate_id, \
        sequence, event_type, event_version, payload, metadata, correlation_id, causation_id, \
        recorded_at, position";

    /// An event of the SQLite store, whose cursor has no transaction id (`txid` 0): there the
    /// position alone is the global order.
    pub(crate) fn from_sqlite_row(row: &sqlx::sqlite::SqliteRow) -> Result<Self, EventStoreError> {
        let position: i64 = row.try_get("position")?;
        let event_id: String = row.try_get("event_id")?;
        let event_id = Uuid::parse_str(&event_id).map_err(|_| EventStoreError::Malformed {
            position,
            reason: format!("event_id {event_id:?} is not a UUID"),
        })?;
        Ok(Self {
            event_id,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            correlation_id: row.try_get("correlation_id")?,
            causation_id: row.try_get("causation_id")?,
            recorded_at: row.try_get("recorded_at")?,
            position,
            cursor: GlobalCursor::at_position(position),
        })
    }
}

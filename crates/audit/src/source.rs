//! [`ChainedEvent`]s, the rows as the chain covers them, read in the global order through the
//! event store (`event_store::chained`, the only reader of `events`): from PostgreSQL below the
//! watermark of ADR 0002, or from the embedded SQLite store. This module adapts its errors.

use crate::verify::EventAt;
use crate::AuditError;
use event_store::chained;
use event_store::sqlite::SqliteEventStore;
use event_store::{EventLog, GlobalCursor};
use futures::{Stream, TryStreamExt};
use sqlx::PgPool;

pub use event_store::chained::{ChainedEvent, Selection};

impl EventAt {
    /// Where `event` is, for a report.
    pub fn of(event: &ChainedEvent) -> EventAt {
        EventAt {
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            position: event.position,
        }
    }
}

/// Every event of finished transactions, in the global order `(txid, position)`, in one
/// statement (one snapshot). Call [`await_earlier_writers`] first to include every event
/// committed so far.
pub fn postgres_events(
    pool: &PgPool,
) -> impl Stream<Item = Result<ChainedEvent, AuditError>> + Send + '_ {
    chained::postgres_events(pool).map_err(AuditError::from)
}

/// The events of `selection` up to `bound` in the global order (a checkpoint's bound: all of
/// them finished), in that order.
pub fn postgres_selection<'a>(
    pool: &'a PgPool,
    selection: &Selection,
    bound: GlobalCursor,
) -> impl Stream<Item = Result<ChainedEvent, AuditError>> + Send + 'a {
    chained::postgres_selection(pool, selection, bound).map_err(AuditError::from)
}

/// Waits until every transaction that had started when it was called has finished (see
/// `event_store::chained::await_earlier_writers`).
pub async fn await_earlier_writers(pool: &PgPool) -> Result<(), AuditError> {
    Ok(chained::await_earlier_writers(pool).await?)
}

/// How many events [`postgres_events`] would read now, for a progress bar.
pub async fn postgres_event_count(pool: &PgPool) -> Result<u64, AuditError> {
    Ok(chained::postgres_event_count(pool).await?)
}

/// Every event of the embedded store, in position (= commit) order.
pub fn sqlite_events(
    store: &SqliteEventStore,
) -> impl Stream<Item = Result<ChainedEvent, AuditError>> + Send + '_ {
    store.chained_events().map_err(AuditError::from)
}

/// How many events the embedded store holds.
pub async fn sqlite_event_count(store: &SqliteEventStore) -> Result<u64, AuditError> {
    Ok(store.backlog(GlobalCursor::START).await?.events)
}

//! The commit-safe global read: one keyset page of events in `(txid, position)` order, below
//! the transaction-id watermark.
//!
//! Why not `position > last`: positions are allocated at insert and become visible at commit,
//! so a transaction holding a lower position can commit after one holding a higher position,
//! and a reader that already moved past the higher one never sees the lower one. Instead:
//! - `txid < pg_snapshot_xmin(pg_current_snapshot())` keeps only rows of transactions that had
//!   finished when the statement's snapshot was taken. Any transaction still running, or yet to
//!   get an id, has an id at or above that watermark, so the set below it can no longer grow.
//! - Within that closed set, `(txid, position)` is a total order that never gains a member
//!   behind a cursor, so keyset pagination on the pair reads every event exactly once.
//!   (Ordering by position alone would not do: a transaction can get its id before another yet
//!   insert after it, so the watermark can pass a higher position before a lower one.)
//!
//! The watermark is cluster-wide: any long transaction on the server, in any database, holds
//! readers back until it ends. That delays them; it never makes them skip.

use crate::{EventStoreError, GlobalCursor, StoredEvent};
use futures::TryStreamExt;
use sqlx::PgPool;
use std::sync::LazyLock;

static READ_AFTER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {columns}
           FROM events
          WHERE (txid, position) > ($1::text::xid8, $2)
            AND txid < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY txid, position
          LIMIT $3",
        columns = StoredEvent::COLUMNS
    )
});

/// Up to `limit` events after `cursor` in the global order, from finished transactions only.
/// Fewer than `limit` (even none) does not mean the end: later events, or events of still
/// open transactions, come on a later call.
pub(crate) async fn read_after(
    pool: &PgPool,
    cursor: GlobalCursor,
    limit: u32,
) -> Result<Vec<StoredEvent>, EventStoreError> {
    // Run on the pool, outside any transaction: the statement's own snapshot defines the
    // watermark, and a read-only statement gets no transaction id, so it holds back no one.
    let mut rows = sqlx::query(&READ_AFTER)
        .bind(cursor.txid.to_string())
        .bind(cursor.position)
        .bind(i64::from(limit))
        .fetch(pool);
    let mut events = Vec::new();
    while let Some(row) = rows.try_next().await? {
        events.push(StoredEvent::from_row(&row)?);
    }
    Ok(events)
}

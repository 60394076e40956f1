//! [`GlobalCursor`]: a reader's checkpoint in the global order of events.

use crate::EventStoreError;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::Row;

/// A point in the global order of events: the `(txid, position)` pair of the last event read.
///
/// Ordered as the global order is: by the appending transaction's id, then by position. The
/// derived `Ord` relies on the field order. On PostgreSQL `txid` is the 64-bit `xid8`, which
/// never wraps around. On SQLite, where positions are already in commit order, `txid` is
/// always 0 and the position alone orders ([`GlobalCursor::at_position`]). Persist it as the
/// checkpoint of a projection or relay; resume with [`crate::EventLog::read_after`] or
/// [`crate::EventLog::tail`] on the store that produced it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct GlobalCursor {
    /// The id of the transaction that appended the event; 0 on SQLite.
    pub txid: u64,
    /// The event's position, unique, in allocation (not commit) order.
    pub position: i64,
}

impl GlobalCursor {
    /// The cursor of an `events` row selected with `position` and `txid::text AS txid_text`
    /// (never `AS txid`: see `StoredEvent::COLUMNS`).
    pub fn from_pg_row(row: &PgRow) -> Result<GlobalCursor, EventStoreError> {
        let position: i64 = row.try_get("position")?;
        let txid: String = row.try_get("txid_text")?;
        let txid = txid.parse().map_err(|_| EventStoreError::Malformed {
            position,
            reason: format!("txid {txid:?} is not a 64-bit transaction id"),
        })?;
        Ok(GlobalCursor { txid, position })
    }

    /// Before the first event.
    pub const START: GlobalCursor = GlobalCursor {
        txid: 0,
        position: 0,
    };

    /// The cursor of a store whose positions are in commit order (SQLite): no transaction id.
    pub const fn at_position(position: i64) -> GlobalCursor {
        GlobalCursor { txid: 0, position }
    }
}

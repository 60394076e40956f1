//! [`GlobalCursor`]: a reader's checkpoint in the global order of events.

use serde::{Deserialize, Serialize};

/// A point in the global order of events: the `(txid, position)` pair of the last event read.
///
/// Ordered as the global order is: by the appending transaction's id, then by position. The
/// derived `Ord` relies on the field order. `txid` is PostgreSQL's 64-bit `xid8`, which never
/// wraps around. Persist it as the checkpoint of a projection or relay; resume with
/// [`crate::EventStore::read_after`] or [`crate::EventStore::tail`].
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct GlobalCursor {
    /// The id of the transaction that appended the event.
    pub txid: u64,
    /// The event's position, unique, in allocation (not commit) order.
    pub position: i64,
}

impl GlobalCursor {
    /// Before the first event.
    pub const START: GlobalCursor = GlobalCursor {
        txid: 0,
        position: 0,
    };
}

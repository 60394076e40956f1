//! [`rewind`]: moves a stopped relay's checkpoint back, so that its next start fills a new or
//! purged stream from a given event on.
//!
//! A relay resumes after the stream's last event; only when the stream holds none of its
//! events (a stream created anew, or purged) does it start from its checkpoint (ADR 0003). So
//! the rewind is how an operator fills a new stream with history: stop the replicas, rewind to
//! the first event the stream should hold, start them. A stream that lost its tail (a machine
//! crash of NATS) needs no rewind: the relay publishes the missing events by itself.
//!
//! The rewind takes the relay's lease first: it refuses while a replica of that relay runs,
//! because a running leader's saves would race with it.

use crate::lease::Lease;
use event_store::{EventLog, EventStore, GlobalCursor};
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;

/// Why a rewind was refused.
#[derive(Debug, thiserror::Error)]
pub enum RewindError {
    /// The database URL does not parse.
    #[error("invalid database url")]
    DatabaseUrl(#[source] sqlx::Error),
    /// A replica of the relay holds its lease.
    #[error("relay {0:?} is running: stop every replica before rewinding its checkpoint")]
    Running(String),
    /// No event has that position.
    #[error("no event has position {0}")]
    NoSuchPosition(i64),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The event store failed.
    #[error(transparent)]
    Store(#[from] event_store::EventStoreError),
}

/// What [`rewind`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewound {
    /// The checkpoint before the rewind (the start of the store if none was saved).
    pub from: GlobalCursor,
    /// The checkpoint now: the relay's next start reads from the event after it.
    pub to: GlobalCursor,
    /// Events after the new checkpoint: what the next start publishes into a stream that holds
    /// none of the relay's events.
    pub events_after: i64,
}

/// Moves the checkpoint of the relay `name` to just before the event at `from_position`, in
/// the global order, so that its next start publishes whatever the stream lacks from that event
/// on. Refuses while any replica of the relay runs.
pub async fn rewind(
    database_url: &str,
    name: &str,
    from_position: i64,
) -> Result<Rewound, RewindError> {
    let options = PgConnectOptions::from_str(database_url).map_err(RewindError::DatabaseUrl)?;
    let store = EventStore::connect(database_url, 1).await?;
    let Some(mut lease) = Lease::try_acquire(&options, name, "rewind").await? else {
        return Err(RewindError::Running(name.to_owned()));
    };
    let result = rewind_under_lease(&mut lease, &store, from_position).await;
    lease.release().await;
    result
}

async fn rewind_under_lease(
    lease: &mut Lease,
    store: &EventStore,
    from_position: i64,
) -> Result<Rewound, RewindError> {
    let from = lease.checkpoint().await?.cursor;
    // Just before the event: its own transaction id with the position before it, so that the
    // event and everything after it in the global order (its own transaction's later events,
    // and every later transaction) follow.
    let event = store
        .cursor_at(from_position)
        .await?
        .ok_or(RewindError::NoSuchPosition(from_position))?;
    let to = GlobalCursor {
        txid: event.txid,
        position: from_position - 1,
    };
    let events_after = i64::try_from(store.backlog(to).await?.events).unwrap_or(i64::MAX);
    lease.overwrite(to).await?;
    tracing::info!(
        from.txid,
        from.position,
        to.txid,
        to.position,
        events_after,
        "relay: checkpoint rewound"
    );
    Ok(Rewound {
        from,
        to,
        events_after,
    })
}

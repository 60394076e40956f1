//! [`EventLog`]: the global read both backends offer, so projections and the relay read either.

use crate::{EventStoreError, GlobalCursor, StoredEvent, TailOptions};
use chrono::{DateTime, Utc};
use futures::Stream;
use std::future::Future;

/// The events after a reader's cursor: how far behind it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// How many (at most the bound asked for, see [`EventLog::backlog_at_most`]).
    pub events: u64,
    /// More events wait than were counted: `events` is the bound.
    pub more: bool,
    /// When the oldest of them was recorded (by the clock that stamped it: the database's on
    /// PostgreSQL, the writing process's on SQLite); `None` when there is none.
    pub oldest_recorded_at: Option<DateTime<Utc>>,
}

/// Every event of every aggregate, in one global order, read from a [`GlobalCursor`].
///
/// Implemented by the PostgreSQL [`crate::EventStore`] and, with the `sqlite` feature, by
/// `sqlite::SqliteEventStore`. Both guarantee what a checkpointing reader needs: an event
/// delivered after a cursor is never followed by one that sorts before it, so a reader that
/// resumes from its last cursor reads every committed event exactly once, in order. A cursor
/// belongs to the store that produced it.
pub trait EventLog: Send + Sync {
    /// Up to `limit` events after `cursor`, in the global order. A short (or empty) page means
    /// "nothing more yet", not "the end".
    fn read_after(
        &self,
        cursor: GlobalCursor,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, EventStoreError>> + Send;

    /// Every event after `cursor`, in the global order, forever: pages of
    /// [`EventLog::read_after`], and when caught up a wait for the next append (or the poll
    /// interval). An error is yielded and the stream goes on after the poll interval; drop the
    /// stream to stop.
    fn tail_with(
        &self,
        cursor: GlobalCursor,
        options: TailOptions,
    ) -> impl Stream<Item = Result<StoredEvent, EventStoreError>> + Send + 'static;

    /// The cursor of the newest committed event (`None` while the store is empty).
    fn head(&self) -> impl Future<Output = Result<Option<GlobalCursor>, EventStoreError>> + Send;

    /// Where the event `sequence` of aggregate `aggregate_type`/`aggregate_id` sits in the
    /// global order (`None` when there is no such event): what a command answers, so that a
    /// reader can wait until a view has applied it (read your writes).
    fn cursor_of(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: i64,
    ) -> impl Future<Output = Result<Option<GlobalCursor>, EventStoreError>> + Send;

    /// The committed events after `cursor`: how many, and since when the oldest waits. From
    /// [`GlobalCursor::START`], every event of the store.
    fn backlog(
        &self,
        cursor: GlobalCursor,
    ) -> impl Future<Output = Result<Backlog, EventStoreError>> + Send;

    /// [`EventLog::backlog`] counted up to `bound` events, in time that does not grow with
    /// the backlog (an index range of at most `bound` entries): for health pages, which must
    /// answer at once however far a reader is behind. `oldest_recorded_at` is that of the first
    /// waiting event in the global order.
    fn backlog_at_most(
        &self,
        cursor: GlobalCursor,
        bound: u64,
    ) -> impl Future<Output = Result<Backlog, EventStoreError>> + Send;

    /// [`EventLog::tail_with`] with the default [`TailOptions`].
    fn tail(
        &self,
        cursor: GlobalCursor,
    ) -> impl Stream<Item = Result<StoredEvent, EventStoreError>> + Send + 'static {
        self.tail_with(cursor, TailOptions::default())
    }
}

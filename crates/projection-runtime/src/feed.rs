//! [`Feed`]: where a projector's events come from. The event store is the first feed
//! ([`crate::StoreFeed`]); a JetStream durable consumer is the second (`JetStreamFeed`, feature
//! `jetstream`).

use crate::EventEnvelope;
use event_store::{EventStoreError, GlobalCursor};
use std::future::Future;

/// A source of events for one projector.
///
/// A feed must keep each aggregate's events in sequence order; it need not keep a global
/// order, and it may deliver an event more than once (the runtime skips what it applied). It
/// must not lose an event: a hole in an aggregate's sequence parks the aggregate until the
/// missing event is replayed.
pub trait Feed: Send {
    /// Positions the feed after `cursor`, the checkpoint of the view being fed. A feed that keeps
    /// its own position (a durable consumer) may ignore it.
    fn seek(&mut self, cursor: GlobalCursor) -> impl Future<Output = Result<(), FeedError>> + Send;

    /// Up to `max` next events. Empty means "nothing right now", not "the end".
    fn next_batch(
        &mut self,
        max: usize,
    ) -> impl Future<Output = Result<Vec<EventEnvelope>, FeedError>> + Send;

    /// Waits until more events may be available (a notification or a poll interval).
    fn wait(&mut self) -> impl Future<Output = ()> + Send;

    /// Everything handed out so far is committed to the view: a bus feed acknowledges it.
    fn committed(&mut self) -> impl Future<Output = Result<(), FeedError>> + Send;

    /// Events known to be waiting beyond those handed out (a consumer's `num_pending`), as of
    /// the last look; `None` when the feed cannot tell. Health checks and the lag metric read it.
    fn backlog(&self) -> Option<u64> {
        None
    }
}

/// What can go wrong reading a feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The event store failed.
    #[error("reading the event store failed")]
    Store(#[from] EventStoreError),
    /// Another source failed.
    #[error("feed failed: {0}")]
    Other(String),
}

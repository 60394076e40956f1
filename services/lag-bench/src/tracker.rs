//! Which events each command is waiting for, when the command was accepted and when each event
//! was committed to the view; and [`Observed`], the feed wrapper that records those commits.
//!
//! [`Observed`] wraps any [`Feed`] through its public trait only: it remembers the events it
//! handed out and, in [`Feed::committed`] (which the projector calls right after the batch's
//! transaction committed), stamps them all with the same instant. The runtime's semantics are
//! untouched: every call goes to the wrapped feed.

use event_store::GlobalCursor;
use projection_runtime::{EventEnvelope, Feed, FeedError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An event: its aggregate and its sequence there.
pub type EventKey = (String, i64);

/// One command: when it was sent, when it was accepted, and the events it appended.
#[derive(Debug)]
struct Command {
    sent: Instant,
    accepted: Instant,
    events: Vec<EventKey>,
}

#[derive(Debug, Default)]
struct Books {
    commands: Vec<Command>,
    committed: HashMap<EventKey, Instant>,
}

/// Commands accepted and events committed, shared by the command driver and the view's side.
#[derive(Debug, Clone, Default)]
pub struct Tracker(Arc<Mutex<Books>>);

/// The lags of the commands tracked.
#[derive(Debug, Default)]
pub struct Lags {
    /// Accepted to the commit of its last event, per command whose events were all committed.
    pub lags: Vec<Duration>,
    /// Sent to the commit of its last event, for the same commands.
    pub from_sent: Vec<Duration>,
    /// Commands whose view was updated before their acceptance reached the client.
    pub before_accepted: usize,
    /// Commands with an event never committed.
    pub missing: usize,
}

impl Tracker {
    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A command `sent`, then `accepted`, whose view is up to date once `events` are committed.
    pub fn accepted(&self, sent: Instant, accepted: Instant, events: Vec<EventKey>) {
        self.books().commands.push(Command {
            sent,
            accepted,
            events,
        });
    }

    /// `events` committed to the view `at`.
    pub fn committed(&self, at: Instant, events: impl IntoIterator<Item = EventKey>) {
        let mut books = self.books();
        for event in events {
            books.committed.entry(event).or_insert(at);
        }
    }

    /// Commands accepted whose events are not all committed yet.
    pub fn waiting(&self) -> usize {
        let books = self.books();
        books
            .commands
            .iter()
            .filter(|c| !c.events.iter().all(|e| books.committed.contains_key(e)))
            .count()
    }

    /// Waits until every command accepted so far has all its events committed, or `timeout`.
    pub async fn settle(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.waiting() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Each command's lag: from its acceptance (and from its sending) to the commit of the last
    /// of its events. A commit before the acceptance reached the client (the view won the race
    /// against the answer) counts as zero, and is counted.
    pub fn lags(&self) -> Lags {
        let books = self.books();
        let mut lags = Lags::default();
        for command in &books.commands {
            let last = command
                .events
                .iter()
                .map(|e| books.committed.get(e).copied())
                .try_fold(command.sent, |latest, at| at.map(|at| latest.max(at)));
            match last {
                Some(last) => {
                    lags.lags
                        .push(last.saturating_duration_since(command.accepted));
                    lags.from_sent.push(last - command.sent);
                    if last < command.accepted {
                        lags.before_accepted += 1;
                    }
                }
                None => lags.missing += 1,
            }
        }
        lags
    }
}

/// A feed that records, in a [`Tracker`], when each event it handed out was committed.
#[derive(Debug)]
pub struct Observed<F> {
    inner: F,
    handed: Vec<EventKey>,
    tracker: Tracker,
}

impl<F> Observed<F> {
    /// `inner`, observed by `tracker`.
    pub fn new(inner: F, tracker: Tracker) -> Self {
        Self {
            inner,
            handed: Vec::new(),
            tracker,
        }
    }
}

impl<F: Feed> Feed for Observed<F> {
    async fn seek(&mut self, cursor: GlobalCursor) -> Result<(), FeedError> {
        // The projector forgets what it was handed and did not commit; so does the record.
        self.handed.clear();
        self.inner.seek(cursor).await
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<EventEnvelope>, FeedError> {
        let batch = self.inner.next_batch(max).await?;
        self.handed.extend(
            batch
                .iter()
                .map(|event| (event.aggregate_id.clone(), event.sequence)),
        );
        Ok(batch)
    }

    async fn wait(&mut self) {
        self.inner.wait().await;
    }

    async fn committed(&mut self) -> Result<(), FeedError> {
        self.inner.committed().await?;
        self.tracker
            .committed(Instant::now(), self.handed.drain(..));
        Ok(())
    }

    fn backlog(&self) -> Option<u64> {
        self.inner.backlog()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, sequence: i64) -> EventKey {
        (id.to_owned(), sequence)
    }

    #[test]
    fn a_command_lags_until_its_last_event_is_committed() {
        let tracker = Tracker::default();
        let start = Instant::now();
        tracker.accepted(start, start, vec![key("p-1", 1), key("p-1", 2)]);
        tracker.accepted(start, start, vec![key("p-2", 1)]);
        tracker.committed(start + Duration::from_millis(5), [key("p-1", 1)]);
        assert_eq!(tracker.waiting(), 2);
        tracker.committed(start + Duration::from_millis(9), [key("p-1", 2)]);
        assert_eq!(tracker.waiting(), 1);
        let lags = tracker.lags();
        assert_eq!(lags.lags, vec![Duration::from_millis(9)]);
        assert_eq!(lags.from_sent, vec![Duration::from_millis(9)]);
        assert_eq!((lags.missing, lags.before_accepted), (1, 0));
    }

    #[test]
    fn a_commit_before_the_answer_is_a_zero_lag_and_the_first_commit_counts() {
        let tracker = Tracker::default();
        let start = Instant::now();
        tracker.committed(start, [key("p-1", 1)]);
        tracker.committed(start + Duration::from_secs(1), [key("p-1", 1)]);
        let sent = start.checked_sub(Duration::from_millis(3)).unwrap();
        tracker.accepted(sent, start + Duration::from_millis(2), vec![key("p-1", 1)]);
        let lags = tracker.lags();
        assert_eq!(lags.lags, vec![Duration::ZERO]);
        assert_eq!(lags.from_sent, vec![Duration::from_millis(3)]);
        assert_eq!(lags.before_accepted, 1);
    }
}

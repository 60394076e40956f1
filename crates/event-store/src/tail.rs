//! The tailing reader: [`EventLog::read_after`] in a loop. While pages come back full it reads
//! again at once; after a short page it waits for the store's commit signal (its repositories
//! in this process, or a commit hint from another) or the poll interval, whichever comes first.
//! A read a commit woke that finds nothing is retried every few milliseconds for about a
//! second: the commit is there, held below the watermark by an older open transaction.
//!
//! A wake-up only says "a transaction appended and committed"; it is never trusted for order
//! or content. The poll interval is not a gap timeout: it only decides when to look again, so
//! an open transaction (or one that rolled back) can delay the reader by at most the interval
//! after it ends, never make it skip.
//!
//! *Architecture Invariant*: no LISTEN/NOTIFY on PostgreSQL (see [`Wake`]).

use crate::{EventLog, EventStoreError, GlobalCursor, StoredEvent};
use futures::Stream;
use std::collections::VecDeque;
use std::time::Duration;

/// How a tailing reader pages and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailOptions {
    /// Events per read.
    pub batch_size: u32,
    /// How long to wait after a short page (or an error) before reading again. A full page is
    /// followed by the next read at once.
    pub poll_interval: Duration,
}

impl Default for TailOptions {
    fn default() -> Self {
        Self {
            batch_size: 1_000,
            poll_interval: Duration::from_millis(25),
        }
    }
}

/// What wakes a caught-up reader before the poll interval: the store's commit count, which
/// its repositories in this process raise on every commit (and, on PostgreSQL, a commit hint
/// from another process). No LISTEN/NOTIFY on PostgreSQL: it serializes the commits of
/// notifying transactions cluster-wide, so a wake-up trigger on `events` cut write throughput
/// 2.7x at 16 clients (ADR 0002); the signal here costs the writer nothing.
pub(crate) enum Wake {
    /// The store's commit count.
    Appended(tokio::sync::watch::Receiver<u64>),
}

impl Wake {
    /// Called right before each read: every commit signalled before it is covered by the read,
    /// and any commit after it wakes the next wait, however long the reader's consumer takes
    /// with the events in between.
    async fn arm(&mut self) {
        let Self::Appended(commits) = self;
        commits.borrow_and_update();
    }

    /// Until a wake-up arrives or `interval` passes: true when a commit woke it.
    async fn wait(&mut self, interval: Duration) -> bool {
        let interval = tokio::time::sleep(interval);
        tokio::pin!(interval);
        let Self::Appended(commits) = self;
        tokio::select! {
            // Closed when the store is gone: then only the interval is left.
            changed = commits.changed() => match changed {
                Ok(()) => true,
                Err(_) => {
                    interval.await;
                    false
                }
            },
            () = &mut interval => false,
        }
    }
}

/// How soon a reader woken by a commit reads again when that read found nothing: the commit
/// may be held below the watermark by an older transaction still open (ADR 0002), which ends
/// with no signal of its own when it wrote no event.
const HELD_BACK_RETRY: Duration = Duration::from_millis(10);
/// How many such quick retries before the reader waits for a signal or its poll again.
const HELD_BACK_RETRIES: u32 = 100;

struct Tail<L> {
    log: L,
    cursor: GlobalCursor,
    options: TailOptions,
    buffer: VecDeque<StoredEvent>,
    wake: Wake,
    caught_up: bool,
    /// Quick retries left for a commit that woke the reader and was not read yet.
    owed: u32,
}

pub(crate) fn tail<L: EventLog + 'static>(
    log: L,
    wake: Wake,
    cursor: GlobalCursor,
    options: TailOptions,
) -> impl Stream<Item = Result<StoredEvent, EventStoreError>> + Send + 'static {
    let tail = Tail {
        log,
        cursor,
        options,
        buffer: VecDeque::new(),
        wake,
        caught_up: false,
        owed: 0,
    };
    futures::stream::unfold(tail, |mut tail| async move {
        let item = tail.next().await;
        Some((item, tail))
    })
}

impl<L: EventLog> Tail<L> {
    async fn next(&mut self) -> Result<StoredEvent, EventStoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                return Ok(event);
            }
            if self.caught_up {
                if self.owed > 0 {
                    self.owed -= 1;
                    self.wake
                        .wait(HELD_BACK_RETRY.min(self.options.poll_interval))
                        .await;
                } else if self.wake.wait(self.options.poll_interval).await {
                    self.owed = HELD_BACK_RETRIES;
                }
            }
            self.wake.arm().await;
            match self
                .log
                .read_after(self.cursor, self.options.batch_size)
                .await
            {
                Ok(events) => {
                    if !events.is_empty() {
                        self.owed = 0;
                    }
                    self.caught_up = events.len() < self.options.batch_size as usize;
                    if let Some(last) = events.last() {
                        self.cursor = last.cursor;
                    }
                    self.buffer.extend(events);
                }
                Err(error) => {
                    self.caught_up = true;
                    return Err(error);
                }
            }
        }
    }
}

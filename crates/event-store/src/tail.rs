//! The tailing reader: [`crate::EventStore::read_after`] in a loop, woken early by
//! LISTEN/NOTIFY and otherwise by a poll interval.
//!
//! A notification only says "a transaction appended and committed"; it is never trusted for
//! order or content. The poll interval is not a gap timeout: it only decides when to look
//! again, so an open transaction (or one that rolled back, which notifies no one) can delay the
//! reader by at most the interval after it ends, never make it skip.

use crate::global_order::read_after;
use crate::{EventStoreError, GlobalCursor, StoredEvent, NOTIFY_CHANNEL};
use futures::Stream;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::collections::VecDeque;
use std::time::Duration;

/// How a tailing reader pages and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailOptions {
    /// Events per read.
    pub batch_size: u32,
    /// The longest wait between reads when no notification arrives.
    pub poll_interval: Duration,
}

impl Default for TailOptions {
    fn default() -> Self {
        Self {
            batch_size: 1_000,
            poll_interval: Duration::from_millis(500),
        }
    }
}

struct Tail {
    pool: PgPool,
    cursor: GlobalCursor,
    options: TailOptions,
    buffer: VecDeque<StoredEvent>,
    listener: Option<PgListener>,
    caught_up: bool,
}

pub(crate) fn tail(
    pool: PgPool,
    cursor: GlobalCursor,
    options: TailOptions,
) -> impl Stream<Item = Result<StoredEvent, EventStoreError>> + Send + 'static {
    let tail = Tail {
        pool,
        cursor,
        options,
        buffer: VecDeque::new(),
        listener: None,
        caught_up: false,
    };
    futures::stream::unfold(tail, |mut tail| async move {
        let item = tail.next().await;
        Some((item, tail))
    })
}

impl Tail {
    async fn next(&mut self) -> Result<StoredEvent, EventStoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                return Ok(event);
            }
            // Listen before reading, so a commit between the read and the wait still wakes us.
            self.ensure_listening().await;
            if self.caught_up {
                self.wait().await;
            }
            match read_after(&self.pool, self.cursor, self.options.batch_size).await {
                Ok(events) => {
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

    async fn ensure_listening(&mut self) {
        if self.listener.is_some() {
            return;
        }
        let listener = async {
            let mut listener = PgListener::connect_with(&self.pool).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listener.await {
            Ok(listener) => self.listener = Some(listener),
            // Polling alone is still correct, only slower; try again before the next read.
            Err(error) => tracing::warn!(%error, "event tail: LISTEN failed, polling only"),
        }
    }

    /// Until a notification arrives or the poll interval passes.
    async fn wait(&mut self) {
        let interval = tokio::time::sleep(self.options.poll_interval);
        let Some(listener) = self.listener.as_mut() else {
            interval.await;
            return;
        };
        tokio::select! {
            received = listener.try_recv() => match received {
                // A burst of commits needs one read, not one per notification.
                Ok(Some(_)) => while listener.next_buffered().is_some() {},
                // The connection was lost and re-established; notifications may have been lost
                // with it, which only costs latency.
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "event tail: LISTEN connection failed, polling only");
                    self.listener = None;
                }
            },
            () = interval => {}
        }
    }
}

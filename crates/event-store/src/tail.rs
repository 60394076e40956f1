//! The tailing reader: [`EventLog::read_after`] in a loop, woken early when an append commits
//! (LISTEN/NOTIFY on PostgreSQL, an in-process signal on SQLite) and otherwise by a poll interval.
//!
//! A wake-up only says "a transaction appended and committed"; it is never trusted for order
//! or content. The poll interval is not a gap timeout: it only decides when to look again, so
//! an open transaction (or one that rolled back, which wakes no one) can delay the reader by at
//! most the interval after it ends, never make it skip.

use crate::{EventLog, EventStoreError, GlobalCursor, StoredEvent, NOTIFY_CHANNEL};
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

/// What wakes a caught-up reader before the poll interval.
pub(crate) enum Wake {
    /// PostgreSQL: LISTEN on the channel the `events` trigger notifies, on a connection of its
    /// own, opened lazily and again after it fails.
    Listen {
        pool: PgPool,
        listener: Option<PgListener>,
    },
    /// SQLite: the repository of this process counts its commits.
    #[cfg(feature = "sqlite")]
    Appended(tokio::sync::watch::Receiver<u64>),
}

impl Wake {
    pub(crate) fn listen(pool: PgPool) -> Self {
        Self::Listen {
            pool,
            listener: None,
        }
    }

    /// Called before each read, so that a commit between the read and the wait still wakes.
    async fn arm(&mut self) {
        match self {
            Self::Listen { pool, listener } => {
                if listener.is_some() {
                    return;
                }
                let listening = async {
                    let mut listening = PgListener::connect_with(pool).await?;
                    listening.listen(NOTIFY_CHANNEL).await?;
                    Ok::<_, sqlx::Error>(listening)
                };
                match listening.await {
                    Ok(listening) => *listener = Some(listening),
                    // Polling alone is still correct, only slower; try again before the next read.
                    Err(error) => tracing::warn!(%error, "event tail: LISTEN failed, polling only"),
                }
            }
            #[cfg(feature = "sqlite")]
            Self::Appended(commits) => {
                commits.borrow_and_update();
            }
        }
    }

    /// Until a wake-up arrives or `interval` passes.
    async fn wait(&mut self, interval: Duration) {
        let interval = tokio::time::sleep(interval);
        tokio::pin!(interval);
        match self {
            Self::Listen { listener, .. } => {
                let Some(listening) = listener.as_mut() else {
                    interval.await;
                    return;
                };
                tokio::select! {
                    received = listening.try_recv() => match received {
                        // A burst of commits needs one read, not one per notification.
                        Ok(Some(_)) => while listening.next_buffered().is_some() {},
                        // The connection was lost and re-established; notifications may have
                        // been lost with it, which only costs latency.
                        Ok(None) => {}
                        Err(error) => {
                            tracing::warn!(%error, "event tail: LISTEN connection failed, polling only");
                            *listener = None;
                        }
                    },
                    () = &mut interval => {}
                }
            }
            #[cfg(feature = "sqlite")]
            Self::Appended(commits) => {
                tokio::select! {
                    // Closed when the store is gone: then only the interval is left.
                    changed = commits.changed() => if changed.is_err() { interval.await },
                    () = &mut interval => {}
                }
            }
        }
    }
}

struct Tail<L> {
    log: L,
    cursor: GlobalCursor,
    options: TailOptions,
    buffer: VecDeque<StoredEvent>,
    wake: Wake,
    caught_up: bool,
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
            self.wake.arm().await;
            if self.caught_up {
                self.wake.wait(self.options.poll_interval).await;
            }
            match self
                .log
                .read_after(self.cursor, self.options.batch_size)
                .await
            {
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
}

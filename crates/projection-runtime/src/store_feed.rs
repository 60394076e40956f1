//! [`StoreFeed`]: the event store as a feed, for the embedded mode and for rebuilds, over
//! any [`EventLog`] (PostgreSQL's `EventStore`, the embedded `SqliteEventStore`).
//!
//! A reader task runs one page ahead of the projector (reading the next page while the current
//! batch commits), over `EventLog::read_after`, so it inherits the store's commit-safe global
//! order (ADR 0002). The task tells the feed when it has reached the head, so an empty batch
//! means "caught up", which is what rebuilds wait for.

use crate::{EventEnvelope, Feed, FeedError};
use event_store::{EventLog, EventStore, GlobalCursor};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Pages of events, read ahead; an empty page says the reader reached the head.
type Page = Result<Vec<EventEnvelope>, FeedError>;

/// An event log (the PostgreSQL store by default), read in global order from a cursor.
#[derive(Debug)]
pub struct StoreFeed<L = EventStore> {
    store: L,
    page_size: u32,
    poll_interval: Duration,
    buffer: VecDeque<EventEnvelope>,
    reader: Option<Reader>,
}

#[derive(Debug)]
struct Reader {
    pages: mpsc::Receiver<Page>,
    task: JoinHandle<()>,
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<L: EventLog + Clone + 'static> StoreFeed<L> {
    /// A feed over `store`, reading pages of 1,000 events and looking again every 50 ms once
    /// caught up. It starts where [`Feed::seek`] puts it.
    pub fn new(store: L) -> Self {
        Self {
            store,
            page_size: 1_000,
            poll_interval: Duration::from_millis(50),
            buffer: VecDeque::new(),
            reader: None,
        }
    }

    /// The same feed with another page size and poll interval.
    pub fn with(mut self, page_size: u32, poll_interval: Duration) -> Self {
        self.page_size = page_size.max(1);
        self.poll_interval = poll_interval;
        self
    }

    fn start(&mut self, cursor: GlobalCursor) {
        let (sender, pages) = mpsc::channel(2);
        let task = tokio::spawn(read_ahead(
            self.store.clone(),
            cursor,
            self.page_size,
            self.poll_interval,
            sender,
        ));
        self.buffer.clear();
        self.reader = Some(Reader { pages, task });
    }
}

async fn read_ahead<L: EventLog>(
    store: L,
    mut cursor: GlobalCursor,
    page_size: u32,
    poll_interval: Duration,
    sender: mpsc::Sender<Page>,
) {
    loop {
        let page = match store.read_after(cursor, page_size).await {
            Ok(events) => events,
            Err(error) => {
                if sender.send(Err(error.into())).await.is_err() {
                    return;
                }
                tokio::time::sleep(poll_interval).await;
                continue;
            }
        };
        let at_head = page.len() < page_size as usize;
        if let Some(last) = page.last() {
            cursor = last.cursor;
            let page = page.into_iter().map(EventEnvelope::from).collect();
            if sender.send(Ok(page)).await.is_err() {
                return;
            }
        }
        if at_head {
            if sender.send(Ok(Vec::new())).await.is_err() {
                return;
            }
            tokio::time::sleep(poll_interval).await;
        }
    }
}

impl<L: EventLog + Clone + 'static> Feed for StoreFeed<L> {
    async fn seek(&mut self, cursor: GlobalCursor) -> Result<(), FeedError> {
        self.start(cursor);
        Ok(())
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<EventEnvelope>, FeedError> {
        if self.reader.is_none() {
            self.start(GlobalCursor::START);
        }
        let reader = self.reader.as_mut().expect("started above");
        if self.buffer.is_empty() {
            match reader.pages.recv().await {
                Some(page) => self.buffer.extend(page?),
                None => return Err(FeedError::Other("the store reader stopped".into())),
            }
        }
        // Top up from pages already read, without waiting for more.
        while self.buffer.len() < max {
            match reader.pages.try_recv() {
                Ok(Ok(page)) if !page.is_empty() => self.buffer.extend(page),
                Ok(Ok(_)) | Err(_) => break,
                Ok(Err(error)) => return Err(error),
            }
        }
        let take = max.min(self.buffer.len());
        Ok(self.buffer.drain(..take).collect())
    }

    async fn wait(&mut self) {
        // `next_batch` itself waits for the reader's next look at the head.
    }

    async fn committed(&mut self) -> Result<(), FeedError> {
        Ok(())
    }
}

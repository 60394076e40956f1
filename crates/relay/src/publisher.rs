//! The leader's publishing loop: the store's tail, through the [`Window`], into JetStream.
//!
//! One *attempt* first reconciles with the stream (`reconcile.rs`): it reads which events past
//! the checkpoint the stream holds already. Then it tails the store from the checkpoint, skips
//! those events (they count as acked) and keeps up to `window` publishes in flight. At the
//! first publish error or ack timeout it stops taking events and stops sending parked ones,
//! waits for what is in flight (acks still move the checkpoint), and ends; the next attempt
//! starts, after a backoff, from the checkpoint, with an empty window and a new reconciliation
//! (ADR 0003).
//!
//! Reading and encoding run in a task of their own, ahead of publishing by up to two pages, so
//! that the next page is read while the current one is published.

use crate::cloud_event::{Message, INSTANCE_HEADER, MESSAGE_CONTENT_TYPE};
use crate::health::{Backoff, Health};
use crate::reconcile::{reconcile, Reconciled};
use crate::window::{AggregateKey, Checkpoint, Slot, Window};
use crate::{metrics as names, RelayConfig, RelayError, Stop};
use async_nats::jetstream::context::PublishError;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::Context;
use event_store::{EventStore, GlobalCursor};
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Publishes from `start` until `stop`, publishing the checkpoint on `checkpoint` as it moves.
pub(crate) struct Publisher<'a> {
    pub jetstream: Arc<Context>,
    pub store: &'a EventStore,
    pub config: &'a RelayConfig,
    pub checkpoint: watch::Sender<Checkpoint>,
    /// This replica, sent with every message in [`INSTANCE_HEADER`].
    pub instance: Arc<str>,
}

/// How an attempt ended.
enum End {
    Stopped,
    Failed(async_nats::Error),
}

/// A publish that came back.
struct Sent {
    slot: Slot,
    message_id: String,
    result: Result<PublishAck, PublishError>,
    elapsed: Duration,
}

impl Publisher<'_> {
    /// Runs attempts until `stop`; returns after the last one drained.
    pub async fn run(self, stop: &mut Stop) -> Result<(), RelayError> {
        let mut nats = Health::new("NATS JetStream");
        let mut backoff = Backoff::new(Duration::from_millis(100), self.config.max_backoff);
        // Events whose publish failed: the server may still store a copy, after the next scan.
        let mut doubtful = HashSet::new();
        loop {
            let from = *self.checkpoint.borrow();
            let end = match self.reconcile(from, stop).await {
                None => return Ok(()),
                Some(Err(error)) => End::Failed(error),
                Some(Ok(reconciled)) => {
                    let attempt = Attempt {
                        stop,
                        nats: &mut nats,
                        backoff: &mut backoff,
                        doubtful: &mut doubtful,
                    };
                    self.attempt(from, reconciled, attempt).await?
                }
            };
            match end {
                End::Stopped => return Ok(()),
                End::Failed(error) => {
                    nats.failed(&error);
                    tokio::select! {
                        () = tokio::time::sleep(backoff.next()) => {}
                        () = stop.stopped() => return Ok(()),
                    }
                }
            }
        }
    }

    /// Reads what the stream holds past `from`; `None` when stopped meanwhile.
    async fn reconcile(
        &self,
        from: Checkpoint,
        stop: &mut Stop,
    ) -> Option<Result<Reconciled, async_nats::Error>> {
        let started = Instant::now();
        let margin = 4 * self.config.max_pending.max(self.config.window).max(1) as u64;
        let scan = reconcile(&self.jetstream, &self.config.stream, from, margin);
        let reconciled = tokio::select! {
            reconciled = scan => reconciled,
            () = stop.stopped() => return None,
        };
        if let Ok(reconciled) = &reconciled {
            metrics::histogram!(names::RECONCILE_SECONDS).record(started.elapsed());
            tracing::info!(
                txid = from.cursor.txid,
                position = from.cursor.position,
                from_sequence = from.stream_sequence,
                last_sequence = reconciled.last,
                scanned = reconciled.scanned,
                stored_past_checkpoint = reconciled.stored.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "relay: reconciled with the stream"
            );
        }
        Some(reconciled)
    }

    async fn attempt(
        &self,
        from: Checkpoint,
        reconciled: Reconciled,
        attempt: Attempt<'_>,
    ) -> Result<End, RelayError> {
        let Attempt {
            stop,
            nats,
            backoff,
            doubtful,
        } = attempt;
        let window_size = self.config.window.max(1);
        let max_pending = self.config.max_pending.max(window_size);
        let (ahead, mut events) = mpsc::channel(2 * self.config.tail.batch_size.max(1) as usize);
        let _reader = AbortOnDrop(tokio::spawn(read(
            self.store.clone(),
            from.cursor,
            self.config.clone(),
            ahead,
        )));
        let cap = reconciled.first_stored().map_or(reconciled.last, |first| {
            first.saturating_sub(1).min(reconciled.last)
        });
        let Reconciled {
            mut stored,
            last_stored,
            last,
            ..
        } = reconciled;
        let capped = !stored.is_empty() || !doubtful.is_empty();
        let mut window: Window<Message> = Window::new(from.cursor, last, capped.then_some(cap));
        self.publish_checkpoint(&window);
        let mut in_flight = FuturesUnordered::new();
        let mut failure: Option<PublishError> = None;
        let mut stopping = false;
        loop {
            let draining = stopping || failure.is_some();
            if draining && in_flight.is_empty() {
                break;
            }
            let taking =
                !draining && window.in_flight() < window_size && window.len() < max_pending;
            tokio::select! {
                biased;
                () = stop.stopped(), if !stopping => stopping = true,
                Some(sent) = in_flight.next(), if !in_flight.is_empty() => {
                    let Sent { slot, message_id, result, elapsed } = sent;
                    match result {
                        Ok(ack) => {
                            if !doubtful.is_empty()
                                && doubtful.remove(&message_id)
                                && doubtful.is_empty()
                                && stored.is_empty()
                            {
                                window.uncap();
                            }
                            metrics::histogram!(names::PUBLISH_SECONDS).record(elapsed);
                            if ack.duplicate {
                                metrics::counter!(names::DUPLICATES).increment(1);
                            } else {
                                metrics::counter!(names::EVENTS_PUBLISHED).increment(1);
                            }
                            nats.ok();
                            backoff.reset();
                            if let Some((next, message)) = window.ack(slot, ack.sequence) {
                                if stopping || failure.is_some() {
                                    window.fail(next);
                                } else {
                                    in_flight.push(self.send(next, message));
                                }
                            }
                            self.publish_checkpoint(&window);
                        }
                        Err(error) => {
                            metrics::counter!(names::PUBLISH_FAILURES).increment(1);
                            window.fail(slot);
                            doubtful.insert(message_id);
                            failure.get_or_insert(error);
                        }
                    }
                }
                event = events.recv(), if taking => match event {
                    Some(Ok((cursor, aggregate, message))) => {
                        if !stored.is_empty() && last_stored.is_some_and(|last| cursor > last) {
                            // Ids the store's tail never gave: not this store's events.
                            stored.clear();
                            if doubtful.is_empty() {
                                window.uncap();
                            }
                        }
                        if let Some(at) = stored.remove(&message.message_id) {
                            metrics::counter!(names::RECONCILED).increment(1);
                            doubtful.remove(&message.message_id);
                            if stored.is_empty() && doubtful.is_empty() {
                                window.uncap();
                            }
                            window.skip(cursor, aggregate, at);
                            self.publish_checkpoint(&window);
                        } else if let Some((slot, message)) = window.enter(cursor, aggregate, message) {
                            in_flight.push(self.send(slot, message));
                        }
                    }
                    Some(Err(error)) => return Err(error),
                    None => unreachable!("the reader ends only when aborted"),
                },
            }
        }
        Ok(failure.map_or(End::Stopped, |error| End::Failed(error.into())))
    }

    /// Hands the window's checkpoint to the lease keeper, which saves it.
    fn publish_checkpoint(&self, window: &Window<Message>) {
        let checkpoint = window.checkpoint();
        self.checkpoint.send_if_modified(|saved| {
            let moved = *saved != checkpoint;
            *saved = checkpoint;
            moved
        });
    }

    fn send(&self, slot: Slot, message: Message) -> impl Future<Output = Sent> + Send + 'static {
        let jetstream = self.jetstream.clone();
        let instance = self.instance.clone();
        async move {
            let started = Instant::now();
            let publish = PublishMessage::build()
                .payload(message.body)
                .message_id(&message.message_id)
                .header("Content-Type", MESSAGE_CONTENT_TYPE)
                .header(INSTANCE_HEADER, instance.as_ref());
            let result = match jetstream.send_publish(message.subject, publish).await {
                Ok(ack) => ack.await,
                Err(error) => Err(error),
            };
            Sent {
                slot,
                message_id: message.message_id,
                result,
                elapsed: started.elapsed(),
            }
        }
    }
}

/// Tails the store from `from` and encodes each event, until the receiver is dropped. Store
/// errors are logged once per outage; the tail retries after its poll interval.
async fn read(
    store: EventStore,
    from: GlobalCursor,
    config: RelayConfig,
    ahead: mpsc::Sender<Result<Encoded, RelayError>>,
) {
    let mut health = Health::new("the event store");
    let mut events = store.tail_with(from, config.tail).boxed();
    while let Some(event) = events.next().await {
        let encoded = match event {
            Ok(event) => {
                health.ok();
                let position = event.position;
                Message::encode(event, &config.source_prefix)
                    .map_err(|source| RelayError::Encode { position, source })
            }
            Err(error) => {
                health.failed(&error);
                continue;
            }
        };
        if ahead.send(encoded).await.is_err() {
            return;
        }
    }
}

/// What an attempt borrows from the attempts' loop.
struct Attempt<'a> {
    stop: &'a mut Stop,
    nats: &'a mut Health,
    backoff: &'a mut Backoff,
    doubtful: &'a mut HashSet<String>,
}

/// An event ready for the window.
type Encoded = (GlobalCursor, AggregateKey, Message);

/// Aborts the task when the attempt that spawned it ends, however it ends.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

//! The leader's publishing loop: the store's tail, through the [`Pipeline`], into JetStream,
//! in the store's exact global order.
//!
//! One *attempt* first reads where the stream ends (`stream_end.rs`): the event after the
//! stream's last one is the next to publish (with no event of the relay in the stream, the one
//! after the saved checkpoint). Then it tails the store from there and keeps up to `window`
//! publishes in flight, each expecting the stream to end where the one before it was planned.
//! At the first publish error, ack timeout or misplaced ack it stops taking events, waits for
//! what is in flight (acks still move the checkpoint), and ends; the next attempt starts, after
//! a backoff, from the stream's end again (ADR 0003).
//!
//! Publishes are handed to the client one after the other, in the order they were planned,
//! and only their acks are awaited concurrently: the server must receive them in that order.
//! Reading and encoding run in a task of their own, ahead of publishing by up to two pages, so
//! that the next page is read while the current one is published.

use crate::cloud_event::{Message, INSTANCE_HEADER, MESSAGE_CONTENT_TYPE};
use crate::health::{Backoff, Health};
use crate::pipeline::{Acked, Checkpoint, Pipeline, Slot};
use crate::stream_end::{holds, stream_end, StreamEnd};
use crate::{metrics as names, RelayConfig, RelayError, Stop};
use async_nats::jetstream::context::PublishError;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::Context;
use event_store::{EventStore, GlobalCursor};
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Publishes until `stop`, publishing the checkpoint on `checkpoint` as it moves.
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

/// Why an attempt cannot start from the stream's end.
#[derive(Debug, thiserror::Error)]
#[error(
    "the stream's last event ({id}, position {position}) is not in this event store: is the \
     stream another store's, or the store restored from an older backup?"
)]
struct ForeignStream {
    id: String,
    position: i64,
}

impl Publisher<'_> {
    /// Runs attempts until `stop`; returns after the last one drained.
    pub async fn run(self, stop: &mut Stop) -> Result<(), RelayError> {
        let mut nats = Health::new("NATS JetStream");
        let mut backoff = Backoff::new(Duration::from_millis(100), self.config.max_backoff);
        // Events the stream holds out of place (acked elsewhere): the next attempts skip them.
        let mut elsewhere = HashSet::new();
        loop {
            let end = match self.resume(stop).await {
                None => return Ok(()),
                Some(Err(error)) => End::Failed(error),
                Some(Ok((from, last_sequence))) => {
                    let attempt = Attempt {
                        stop,
                        nats: &mut nats,
                        backoff: &mut backoff,
                        elsewhere: &mut elsewhere,
                    };
                    self.attempt(from, last_sequence, attempt).await?
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

    /// Where the next attempt starts: after the stream's last event (checked against the
    /// store), or after the saved checkpoint when the stream holds none; and the stream's last
    /// sequence. `None` when stopped meanwhile.
    async fn resume(
        &self,
        stop: &mut Stop,
    ) -> Option<Result<(Checkpoint, u64), async_nats::Error>> {
        let started = Instant::now();
        let read = async {
            let StreamEnd {
                last_sequence,
                last_event,
            } = stream_end(&self.jetstream, &self.config.stream).await?;
            let Some((id, cursor, sequence)) = last_event else {
                return Ok((*self.checkpoint.borrow(), last_sequence));
            };
            if self.store.cursor_at(cursor.position).await? != Some(cursor) {
                let position = cursor.position;
                return Err(ForeignStream { id, position }.into());
            }
            let from = Checkpoint {
                cursor,
                stream_sequence: Some(sequence),
            };
            Ok((from, last_sequence))
        };
        let resumed = tokio::select! {
            resumed = read => resumed,
            () = stop.stopped() => return None,
        };
        if let Ok((from, last_sequence)) = &resumed {
            metrics::histogram!(names::RECONCILE_SECONDS).record(started.elapsed());
            let saved = self.checkpoint.borrow().cursor;
            tracing::info!(
                txid = from.cursor.txid,
                position = from.cursor.position,
                last_sequence,
                saved_position = saved.position,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "relay: resuming after the stream's last event"
            );
            if from.cursor < saved {
                tracing::warn!(
                    position = from.cursor.position,
                    saved_position = saved.position,
                    "relay: the stream ends before the saved checkpoint (NATS lost its tail, or \
                     messages were deleted); publishing the missing events again"
                );
            }
        }
        Some(resumed)
    }

    async fn attempt(
        &self,
        from: Checkpoint,
        last_sequence: u64,
        attempt: Attempt<'_>,
    ) -> Result<End, RelayError> {
        let Attempt {
            stop,
            nats,
            backoff,
            elsewhere,
        } = attempt;
        let window_size = self.config.window.max(1);
        let (ahead, mut events) = mpsc::channel(2 * self.config.tail.batch_size.max(1) as usize);
        let _reader = AbortOnDrop(tokio::spawn(read(
            self.store.clone(),
            from.cursor,
            self.config.clone(),
            ahead,
        )));
        let mut pipeline = Pipeline::new(from, last_sequence);
        self.publish_checkpoint(&pipeline);
        let mut in_flight = FuturesUnordered::new();
        let mut failure: Option<async_nats::Error> = None;
        let mut stopping = false;
        loop {
            let draining = stopping || failure.is_some();
            if draining && in_flight.is_empty() {
                break;
            }
            let taking = !draining && pipeline.in_flight() < window_size;
            tokio::select! {
                biased;
                () = stop.stopped(), if !stopping => stopping = true,
                Some(sent) = in_flight.next(), if !in_flight.is_empty() => {
                    let Sent { slot, message_id, result, elapsed } = sent;
                    match result {
                        Ok(ack) => {
                            metrics::histogram!(names::PUBLISH_SECONDS).record(elapsed);
                            nats.ok();
                            backoff.reset();
                            match pipeline.ack(slot, ack.sequence) {
                                Acked::InPlace if ack.duplicate => {
                                    metrics::counter!(names::DUPLICATES).increment(1);
                                }
                                Acked::InPlace => {
                                    metrics::counter!(names::EVENTS_PUBLISHED).increment(1);
                                }
                                Acked::Elsewhere => {
                                    let error = self.elsewhere(message_id, ack.sequence, elsewhere).await;
                                    failure.get_or_insert(error);
                                }
                            }
                            self.publish_checkpoint(&pipeline);
                        }
                        Err(error) => {
                            metrics::counter!(names::PUBLISH_FAILURES).increment(1);
                            if pipeline.fail(slot) {
                                failure.get_or_insert(error.into());
                            }
                        }
                    }
                }
                event = events.recv(), if taking => match event {
                    Some(Ok((cursor, message))) => {
                        if elsewhere.remove(&message.message_id) {
                            metrics::counter!(names::RECONCILED).increment(1);
                            pipeline.skip(cursor);
                            self.publish_checkpoint(&pipeline);
                            continue;
                        }
                        let (slot, expected) = pipeline.plan(cursor);
                        match self.send(message, expected).await {
                            Ok(ack) => in_flight.push(ack.completed(slot)),
                            Err((message_id, error)) => {
                                metrics::counter!(names::PUBLISH_FAILURES).increment(1);
                                pipeline.fail(slot);
                                tracing::debug!(%message_id, %error, "relay: publish not sent");
                                failure.get_or_insert(error.into());
                            }
                        }
                    }
                    Some(Err(error)) => return Err(error),
                    None => unreachable!("the reader ends only when aborted"),
                },
            }
        }
        Ok(failure.map_or(End::Stopped, End::Failed))
    }

    /// An event acked as a copy of the one at `sequence`, not where it was planned: the next
    /// attempts skip it if the stream holds it there (out of its place, written before exact
    /// order); if that copy was deleted or purged, the server still drops the event as a
    /// copy until its duplicate window forgets the id, and the attempts retry until then.
    /// Returns why the attempt ends.
    async fn elsewhere(
        &self,
        message_id: String,
        sequence: u64,
        elsewhere: &mut HashSet<String>,
    ) -> async_nats::Error {
        match holds(&self.jetstream, &self.config.stream, sequence, &message_id).await {
            Ok(true) => {
                tracing::warn!(
                    event_id = %message_id,
                    stream_sequence = sequence,
                    "relay: the stream holds this event out of its place (written before \
                     exact order); skipping it"
                );
                elsewhere.insert(message_id);
                "an event is in the stream out of its place".into()
            }
            Ok(false) => format!(
                "the stream dropped event {message_id} as a copy of message {sequence}, which \
                 it no longer holds (deleted or purged): retrying until its duplicate window \
                 forgets the id"
            )
            .into(),
            Err(error) => error,
        }
    }

    /// Hands the pipeline's checkpoint to the lease keeper, which saves it.
    fn publish_checkpoint(&self, pipeline: &Pipeline) {
        let checkpoint = pipeline.checkpoint();
        self.checkpoint.send_if_modified(|saved| {
            let moved = *saved != checkpoint;
            *saved = checkpoint;
            moved
        });
    }

    /// Hands `message` to the client, to be stored only if the stream ends at `expected`.
    async fn send(
        &self,
        message: Message,
        expected: u64,
    ) -> Result<Pending, (String, PublishError)> {
        let publish = PublishMessage::build()
            .payload(message.body)
            .message_id(&message.message_id)
            .expected_last_sequence(expected)
            .header("Content-Type", MESSAGE_CONTENT_TYPE)
            .header(INSTANCE_HEADER, self.instance.as_ref());
        // A sampled command's trace gets the publish as a span, from hand-over to ack.
        let span = message.sampled_trace.as_deref().map(|traceparent| {
            let span = tracing::info_span!(
                "relay.publish",
                otel.kind = "producer",
                messaging.system = "nats",
                messaging.destination.name = %message.subject,
                messaging.message.id = %message.message_id,
                trace_id = tracing::field::Empty,
            );
            telemetry::trace::continue_trace(&span, Some(traceparent));
            span
        });
        match self.jetstream.send_publish(message.subject, publish).await {
            Ok(ack) => Ok(Pending {
                ack,
                message_id: message.message_id,
                started: Instant::now(),
                _span: span,
            }),
            Err(error) => Err((message.message_id, error)),
        }
    }
}

/// A publish handed to the client, its ack not yet in.
struct Pending {
    ack: async_nats::jetstream::context::PublishAckFuture,
    message_id: String,
    started: Instant,
    /// The publish's span in its command's trace, ended when the ack is in.
    _span: Option<tracing::Span>,
}

impl Pending {
    async fn completed(self, slot: Slot) -> Sent {
        let result = self.ack.await;
        Sent {
            slot,
            message_id: self.message_id,
            result,
            elapsed: self.started.elapsed(),
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
    elsewhere: &'a mut HashSet<String>,
}

/// An event ready for the pipeline.
type Encoded = (GlobalCursor, Message);

/// Aborts the task when the attempt that spawned it ends, however it ends.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

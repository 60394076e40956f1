//! [`JetStreamFeed`]: the relay's JetStream stream as a feed, through a durable pull consumer
//! per projector (distributed mode).
//!
//! The wire contract is the relay's (`crates/relay/README.md`, `contracts/cloudevent.schema.json`):
//! each message is one CloudEvent whose extensions carry the aggregate sequence, the global
//! position and transaction id (decimal strings) and the command metadata. Decisions:
//! - **Acknowledged after commit.** Messages handed out stay unacknowledged until the runtime's
//!   [`Feed::committed`] hook, which runs after the batch's transaction committed. A crash
//!   anywhere before leaves them pending, and they come again; a lost ack brings back events
//!   the view applied, which its per-aggregate applied sequences skip.
//! - **Per-aggregate order survives restarts.** JetStream redelivers an unacknowledged message
//!   only after `ack_wait`, and meanwhile delivers newer messages: after a crash, an aggregate's
//!   next event could arrive before its redelivered predecessor, which the runtime would park as
//!   a hole. So [`Feed::seek`] (every attach: start, restart, after a feed failure) looks at the
//!   consumer first: if messages are pending acknowledgement (handed to a run that died), it
//!   recreates the consumer from the first unacknowledged stream sequence (`ack_floor + 1`), so
//!   everything after the floor comes again, in stream order. Acknowledged messages above the
//!   floor come again too and are skipped.
//! - **One batch outstanding.** The runtime fetches the next batch only after acknowledging the
//!   last, so `max_ack_pending` only needs to exceed the batch size (default: twice). A batch that
//!   takes longer than `ack_wait` (a database outage while it is retried) is redelivered later as
//!   duplicates, which are skipped: `ack_wait` bounds nothing but wasted work.
//! - **One live instance per view.** Two processes on one durable consumer would split an
//!   aggregate's events between them: `parcelport-projector` holds the view's lease while it
//!   reads, so standbys wait.
//! - **Any node of a cluster.** `nats_url` may list a cluster's servers, comma-separated: the
//!   feed connects to any that answers and follows the stream when its server goes.
//! - **A fetch is bounded** (`fetch_timeout`, 5 s). A fetch sent to a node that dies before
//!   answering gets no answer at all; unbounded, the projector would wait forever without an
//!   error (seen with a 3-node cluster losing the stream's leader). Timed out, the feed fails,
//!   and the runtime attaches again through the nodes left.

use crate::{EventEnvelope, Feed, FeedError};
use async_nats::jetstream::consumer::{pull, AckPolicy, Consumer, DeliverPolicy};
use async_nats::jetstream::{self, Message};
use chrono::{DateTime, Utc};
use event_store::GlobalCursor;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::Duration;
use uuid::Uuid;

/// Where a [`JetStreamFeed`] reads and how its consumer is configured.
#[derive(Debug, Clone)]
pub struct JetStreamOptions {
    /// The NATS servers: one address, or a cluster's, comma-separated.
    pub nats_url: String,
    /// The relay's stream (`PARCELPORT`).
    pub stream: String,
    /// The durable consumer's name: by default the view's name.
    pub consumer: String,
    /// The subjects consumed (`parcelport.>`: every event).
    pub filter_subject: String,
    /// How long the server waits for an acknowledgement before redelivering.
    pub ack_wait: Duration,
    /// Messages delivered and not yet acknowledged, at most; at least the batch size.
    pub max_ack_pending: i64,
    /// How long to wait before looking again when the consumer had nothing.
    pub poll_interval: Duration,
    /// How long one fetch may take before the feed gives up on it and attaches again: a
    /// fetch whose server died before answering would otherwise wait forever.
    pub fetch_timeout: Duration,
}

impl JetStreamOptions {
    /// The relay's default stream, every subject, a consumer named `consumer`, a 60 s ack wait
    /// and room for two batches of 500.
    pub fn new(nats_url: impl Into<String>, consumer: impl Into<String>) -> Self {
        Self {
            nats_url: nats_url.into(),
            stream: "PARCELPORT".to_owned(),
            consumer: consumer.into(),
            filter_subject: "parcelport.>".to_owned(),
            ack_wait: Duration::from_secs(60),
            max_ack_pending: 1_000,
            poll_interval: Duration::from_millis(100),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// A durable pull consumer over the relay's stream. Connects at the first [`Feed::seek`].
pub struct JetStreamFeed {
    options: JetStreamOptions,
    context: Option<jetstream::Context>,
    consumer: Option<Consumer<pull::Config>>,
    /// Handed out, not yet committed: acknowledged by [`Feed::committed`].
    unacked: Vec<Message>,
    backlog: Option<u64>,
}

impl std::fmt::Debug for JetStreamFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamFeed")
            .field("options", &self.options)
            .field("attached", &self.consumer.is_some())
            .field("unacked", &self.unacked.len())
            .field("backlog", &self.backlog)
            .finish()
    }
}

fn nats_error(what: &str, error: impl std::fmt::Display) -> FeedError {
    FeedError::Other(format!("{what}: {error}"))
}

impl JetStreamFeed {
    /// A feed that will read with `options`.
    pub fn new(options: JetStreamOptions) -> Self {
        Self {
            options,
            context: None,
            consumer: None,
            unacked: Vec::new(),
            backlog: None,
        }
    }

    /// The options it reads with.
    pub fn options(&self) -> &JetStreamOptions {
        &self.options
    }

    async fn context(&mut self) -> Result<jetstream::Context, FeedError> {
        if let Some(context) = &self.context {
            return Ok(context.clone());
        }
        let servers = nats_servers::parse(&self.options.nats_url)
            .map_err(|error| nats_error("the NATS servers", error))?;
        let client = async_nats::ConnectOptions::new()
            .name(format!("projector-{}", self.options.consumer))
            .connection_timeout(Duration::from_secs(5))
            .connect(servers)
            .await
            .map_err(|error| nats_error("connecting to NATS", error))?;
        let context = jetstream::new(client);
        self.context = Some(context.clone());
        Ok(context)
    }

    fn consumer_config(&self, deliver_policy: DeliverPolicy) -> pull::Config {
        pull::Config {
            durable_name: Some(self.options.consumer.clone()),
            filter_subject: self.options.filter_subject.clone(),
            deliver_policy,
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.options.ack_wait,
            max_ack_pending: self.options.max_ack_pending,
            ..pull::Config::default()
        }
    }

    /// One fetch of up to `max` messages, handed out (kept unacknowledged), with the consumer's
    /// backlog after the last of them.
    async fn fetch(
        &mut self,
        consumer: &Consumer<pull::Config>,
        max: usize,
    ) -> Result<(Vec<EventEnvelope>, Option<u64>), FeedError> {
        let mut messages = consumer
            .fetch()
            .max_messages(max.max(1))
            .messages()
            .await
            .map_err(|error| nats_error("fetching", error))?;
        let mut events = Vec::new();
        let mut backlog = None;
        while let Some(message) = futures::StreamExt::next(&mut messages).await {
            let message = message.map_err(|error| nats_error("fetching", error))?;
            let info = message
                .info()
                .map_err(|error| nats_error("reading a message's metadata", error))?;
            backlog = Some(info.pending);
            let event = decode(&message.payload).map_err(|error| {
                FeedError::Other(format!(
                    "stream sequence {} ({}) is not a parcelport CloudEvent: {error}",
                    info.stream_sequence, message.subject
                ))
            })?;
            events.push(event);
            self.unacked.push(message);
        }
        Ok((events, backlog))
    }

    /// The durable consumer, created at the stream's start if absent, recreated from its first
    /// unacknowledged message if an earlier run left messages pending.
    async fn attach(&mut self) -> Result<Consumer<pull::Config>, FeedError> {
        let context = self.context().await?;
        let stream = context
            .get_stream(&self.options.stream)
            .await
            .map_err(|error| nats_error("looking up the stream", error))?;
        let name = self.options.consumer.clone();
        let deliver_policy = match stream.consumer_info(&name).await {
            Ok(info) if info.num_ack_pending == 0 => {
                self.backlog = Some(info.num_pending);
                return stream
                    .get_consumer(&name)
                    .await
                    .map_err(|error| nats_error("binding the consumer", error));
            }
            Ok(info) => {
                let start_sequence = info.ack_floor.stream_sequence + 1;
                tracing::info!(consumer = %name, start_sequence, unacked = info.num_ack_pending,
                    "messages of an earlier run are unacknowledged: redelivering from the ack floor");
                stream
                    .delete_consumer(&name)
                    .await
                    .map_err(|error| nats_error("deleting the consumer", error))?;
                DeliverPolicy::ByStartSequence { start_sequence }
            }
            Err(_) => DeliverPolicy::All,
        };
        stream
            .create_consumer(self.consumer_config(deliver_policy))
            .await
            .map_err(|error| nats_error("creating the consumer", error))
    }
}

impl Feed for JetStreamFeed {
    /// Ignores `cursor`: the durable consumer keeps the position. Forgets what was handed out
    /// and not committed (the consumer redelivers it).
    async fn seek(&mut self, _cursor: GlobalCursor) -> Result<(), FeedError> {
        self.unacked.clear();
        self.consumer = None;
        self.consumer = Some(self.attach().await?);
        Ok(())
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<EventEnvelope>, FeedError> {
        if self.consumer.is_none() {
            self.consumer = Some(self.attach().await?);
        }
        let consumer = self.consumer.clone().expect("attached above");
        // Without waiting: what the consumer has now, up to `max`. Bounded: when the server a
        // fetch went to dies before answering (a cluster losing a node), no answer comes, and
        // the feed fails instead, so that the runtime attaches again through the nodes left;
        // what this fetch handed out then comes again (`seek` forgets it, `attach` redelivers).
        let (events, backlog) = match tokio::time::timeout(
            self.options.fetch_timeout,
            self.fetch(&consumer, max),
        )
        .await
        {
            Ok(fetched) => fetched?,
            Err(_) => {
                self.consumer = None;
                return Err(FeedError::Other(format!(
                    "a fetch got no answer within {:?}",
                    self.options.fetch_timeout
                )));
            }
        };
        self.backlog = match backlog {
            Some(pending) => Some(pending),
            None => Some(
                consumer
                    .get_info()
                    .await
                    .map_err(|error| nats_error("reading the consumer", error))?
                    .num_pending,
            ),
        };
        Ok(events)
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.options.poll_interval).await;
    }

    async fn committed(&mut self) -> Result<(), FeedError> {
        for message in self.unacked.drain(..) {
            message
                .ack()
                .await
                .map_err(|error| nats_error("acknowledging", error))?;
        }
        Ok(())
    }

    fn backlog(&self) -> Option<u64> {
        self.backlog
    }
}

/// The CloudEvent as published (`relay::CloudEvent`), owned.
#[derive(Debug, Deserialize)]
struct WireEvent {
    id: Uuid,
    source: String,
    #[serde(rename = "type")]
    event_type: String,
    subject: String,
    time: DateTime<Utc>,
    data: Value,
    sequence: String,
    position: String,
    txid: String,
    eventversion: String,
    correlationid: Option<String>,
    causationid: Option<String>,
    actor: Option<String>,
    command: Option<String>,
    traceparent: Option<String>,
}

/// A message body as the envelope the store feed would give for the same event. The metadata
/// is rebuilt from the five keys `event_store::CommandMetadata` writes.
pub(crate) fn decode(body: &[u8]) -> Result<EventEnvelope, String> {
    let wire: WireEvent = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    fn number<N: std::str::FromStr>(name: &str, text: &str) -> Result<N, String> {
        text.parse::<N>()
            .map_err(|_| format!("`{name}` is not a decimal integer: {text:?}"))
    }
    let aggregate_type = wire
        .source
        .rsplit('/')
        .next()
        .filter(|kind| !kind.is_empty())
        .ok_or_else(|| format!("`source` names no aggregate type: {:?}", wire.source))?
        .to_owned();
    let event_type = wire
        .event_type
        .split_once('.')
        .map(|(_, event_type)| event_type.to_owned())
        .ok_or_else(|| format!("`type` has no prefix: {:?}", wire.event_type))?;
    let mut metadata = Map::new();
    for (key, value) in [
        ("actor", wire.actor),
        ("command", wire.command),
        ("correlation_id", wire.correlationid),
        ("causation_id", wire.causationid),
        ("traceparent", wire.traceparent),
    ] {
        if let Some(value) = value {
            metadata.insert(key.to_owned(), Value::String(value));
        }
    }
    Ok(EventEnvelope {
        event_id: wire.id,
        aggregate_type,
        aggregate_id: wire.subject,
        sequence: number("sequence", &wire.sequence)?,
        event_type,
        event_version: wire.eventversion,
        payload: wire.data,
        metadata: Value::Object(metadata),
        recorded_at: wire.time,
        cursor: GlobalCursor {
            txid: number("txid", &wire.txid)?,
            position: number("position", &wire.position)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cloud_event_becomes_the_envelope_the_store_gives() {
        let body = json!({
            "specversion": "1.0",
            "id": "0194f0b0-7c1e-7a00-8000-000000000001",
            "source": "parcelport/parcel",
            "type": "parcelport.parcel.arrived",
            "subject": "p.2026.0001",
            "time": "2026-11-21T05:43:00.000123Z",
            "datacontenttype": "application/json",
            "data": { "arrived": { "parcel_id": "p.2026.0001" } },
            "sequence": "3",
            "position": "17",
            "txid": "5000000123",
            "policyversion": "jp-forwarding@2026.11",
            "correlationid": "request-42",
            "actor": "operator:7",
            "command": "ReceiveParcel",
            "eventversion": "1"
        });
        let event = decode(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(event.aggregate_type, "parcel");
        assert_eq!(event.aggregate_id, "p.2026.0001");
        assert_eq!(event.event_type, "parcel.arrived");
        assert_eq!(event.sequence, 3);
        assert_eq!(
            event.cursor,
            GlobalCursor {
                txid: 5_000_000_123,
                position: 17
            }
        );
        assert_eq!(
            event.metadata,
            json!({ "actor": "operator:7", "command": "ReceiveParcel",
                    "correlation_id": "request-42" })
        );
        assert_eq!(event.recorded_at.timestamp_subsec_micros(), 123);
        assert_eq!(event.payload["arrived"]["parcel_id"], "p.2026.0001");
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert!(decode(b"not json").is_err());
        let mut body = json!({
            "id": "0194f0b0-7c1e-7a00-8000-000000000001", "source": "parcelport/parcel",
            "type": "parcelport.parcel.arrived", "subject": "p-1",
            "time": "2026-11-21T05:43:00Z", "data": {}, "sequence": "x", "position": "1",
            "txid": "1", "eventversion": "1"
        });
        assert!(decode(&serde_json::to_vec(&body).unwrap()).is_err());
        body["sequence"] = json!("1");
        assert!(decode(&serde_json::to_vec(&body).unwrap()).is_ok());
    }
}

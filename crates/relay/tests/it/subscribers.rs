//! (f) Subscribers resume by each way the README documents ("Subscribing to events"): a
//! durable consumer, a recorded stream sequence, a recorded global position. Each subscriber
//! reads while concurrent writers commit and the relay publishes, stops at random points (as
//! a crash would: an applied event left unacknowledged, the rest of its batch dropped) and
//! resumes; in the end each has applied every committed event once, in the global order.

use crate::support::{
    assert_stream_holds_every_event_once_in_global_order, config, Load, Replica, TestDb, PATIENCE,
};
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, Context};
use event_store::GlobalCursor;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use testkit::NatsServer;
use tokio::time::Instant;

/// What a subscriber keeps of each event it applies, and the event's place.
#[derive(Debug, Clone)]
struct Applied {
    id: String,
    aggregate: (String, String),
    sequence: u64,
    cursor: GlobalCursor,
    time: time::OffsetDateTime,
    stream_sequence: u64,
}

fn applied(message: &jetstream::Message) -> Applied {
    let body: serde_json::Value = serde_json::from_slice(&message.payload).expect("JSON");
    let text = |field: &str| body[field].as_str().expect(field).to_owned();
    let number = |field: &str| text(field).parse::<u64>().expect(field);
    let time = time::OffsetDateTime::parse(
        &text("time"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("an RFC 3339 time");
    Applied {
        id: text("id"),
        aggregate: (text("source"), text("subject")),
        sequence: number("sequence"),
        cursor: GlobalCursor {
            txid: number("txid"),
            position: number("position") as i64,
        },
        time,
        stream_sequence: message.info().expect("a JetStream message").stream_sequence,
    }
}

/// How a subscriber resumes after a stop.
#[derive(Debug, Clone, Copy)]
enum Method {
    /// A durable consumer; on restart, if messages are pending acknowledgement, recreated from
    /// its ack floor (so that they come again before anything newer); events already applied
    /// are skipped by their (aggregate, sequence).
    Durable,
    /// An ephemeral consumer from the stream sequence after the last one applied.
    StreamSequence,
    /// An ephemeral consumer from the last applied event's `time`, skipping every event whose
    /// (`txid`, `position`) is not after the last applied one.
    GlobalPosition,
}

/// The subscriber's own state, which survives its stops (its database, in real life).
#[derive(Default)]
struct Subscriber {
    applied: Vec<Applied>,
    last_sequence: HashMap<(String, String), u64>,
    stops: u32,
}

impl Subscriber {
    fn last(&self) -> Option<&Applied> {
        self.applied.last()
    }

    /// Applies `event` unless the method says to skip it; `true` when applied.
    fn offer(&mut self, method: Method, event: Applied) -> bool {
        let skip = match method {
            Method::Durable => self
                .last_sequence
                .get(&event.aggregate)
                .is_some_and(|&last| event.sequence <= last),
            Method::StreamSequence => false,
            Method::GlobalPosition => self.last().is_some_and(|last| event.cursor <= last.cursor),
        };
        if skip {
            return false;
        }
        self.last_sequence
            .insert(event.aggregate.clone(), event.sequence);
        self.applied.push(event);
        true
    }
}

const DURABLE: &str = "subscriber";

/// One run of the subscriber, from its resume point until a random stop (`Ok(false)`) or
/// until `done` is set and it has read everything (`Ok(true)`).
async fn run(
    js: &Context,
    method: Method,
    subscriber: &mut Subscriber,
    random: &mut impl FnMut(usize) -> usize,
    done: &AtomicBool,
) -> bool {
    let stream = js.get_stream("PARCELPORT").await.expect("the stream");
    let consumer = match method {
        Method::Durable => {
            let config = |deliver_policy| pull::Config {
                durable_name: Some(DURABLE.to_owned()),
                deliver_policy,
                ack_policy: AckPolicy::Explicit,
                ..Default::default()
            };
            match stream.consumer_info(DURABLE).await {
                Ok(info) if info.num_ack_pending > 0 => {
                    stream.delete_consumer(DURABLE).await.expect("delete");
                    let start_sequence = info.ack_floor.stream_sequence + 1;
                    stream
                        .create_consumer(config(DeliverPolicy::ByStartSequence { start_sequence }))
                        .await
                }
                _ => {
                    stream
                        .get_or_create_consumer(DURABLE, config(DeliverPolicy::All))
                        .await
                }
            }
        }
        Method::StreamSequence | Method::GlobalPosition => {
            let deliver_policy = match (method, subscriber.last()) {
                (_, None) => DeliverPolicy::All,
                (Method::StreamSequence, Some(last)) => DeliverPolicy::ByStartSequence {
                    start_sequence: last.stream_sequence + 1,
                },
                (_, Some(last)) => DeliverPolicy::ByStartTime {
                    start_time: last.time,
                },
            };
            stream
                .create_consumer(pull::Config {
                    deliver_policy,
                    ack_policy: AckPolicy::None,
                    inactive_threshold: Duration::from_secs(30),
                    ..Default::default()
                })
                .await
        }
    }
    .expect("a consumer");
    loop {
        let finished = done.load(Ordering::SeqCst);
        let mut batch = consumer
            .fetch()
            .max_messages(50)
            .expires(Duration::from_millis(200))
            .messages()
            .await
            .expect("fetch");
        let mut received = 0;
        while let Some(message) = batch.next().await {
            let message = message.expect("a message");
            received += 1;
            if subscriber.offer(method, applied(&message)) && random(120) == 0 {
                // A crash between applying and acknowledging: the rest of the batch is lost.
                subscriber.stops += 1;
                return false;
            }
            if matches!(method, Method::Durable) {
                message.ack().await.expect("ack");
            }
        }
        if finished && received == 0 {
            return true;
        }
    }
}

async fn subscribe(
    nats_url: String,
    method: Method,
    seed: u64,
    done: Arc<AtomicBool>,
) -> Subscriber {
    let js = jetstream::new(async_nats::connect(nats_url).await.expect("connect"));
    let mut state = seed;
    let mut random = move |below: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % below
    };
    let mut subscriber = Subscriber::default();
    let deadline = Instant::now() + PATIENCE;
    while !run(&js, method, &mut subscriber, &mut random, &done).await {
        assert!(Instant::now() < deadline, "{method:?} never finished");
    }
    subscriber
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_resuming_each_documented_way_apply_every_event_once_in_order() {
    let db = TestDb::create().await;
    let nats = NatsServer::start();
    let replica = Replica::spawn(config(&db, &nats, "only"));
    let load = Load::start(db.store.pool(), 6, Some(120), Duration::from_millis(1));
    // The stream exists before the subscribers look for it.
    crate::support::wait_for_messages(&nats, 1).await;

    let done = Arc::new(AtomicBool::new(false));
    let subscribers: Vec<_> = [
        (Method::Durable, 1),
        (Method::StreamSequence, 2),
        (Method::GlobalPosition, 3),
    ]
    .into_iter()
    .map(|(method, seed)| {
        let done = done.clone();
        (
            method,
            tokio::spawn(subscribe(nats.url(), method, seed, done)),
        )
    })
    .collect();

    let committed = load.wait().await;
    crate::support::wait_for_messages(&nats, committed).await;
    done.store(true, Ordering::SeqCst);
    let events = db.events().await;
    let ids: Vec<String> = events
        .iter()
        .map(|event| event.event_id.to_string())
        .collect();
    for (method, subscriber) in subscribers {
        let subscriber = subscriber.await.expect("a subscriber");
        assert!(
            subscriber.stops >= 3,
            "{method:?} stopped only {} times",
            subscriber.stops
        );
        let applied: Vec<String> = subscriber.applied.iter().map(|a| a.id.clone()).collect();
        assert_eq!(
            applied.len(),
            ids.len(),
            "{method:?} applied {} of {} events",
            applied.len(),
            ids.len()
        );
        assert!(
            applied == ids,
            "{method:?} applied the events, but not once each in the global order"
        );
        eprintln!(
            "{method:?}: {} events, {} stops",
            applied.len(),
            subscriber.stops
        );
    }
    replica.shut_down().await;
    assert_stream_holds_every_event_once_in_global_order(&db, &nats).await;
}

//! The relay's test harness: a fresh database per test, concurrent writers appending raw events
//! the way postgres-es does, relays running as tasks that a test can stop or crash, and the one
//! check every test ends with: the stream holds every committed event exactly once, in the
//! store's global order, as the CloudEvent the store's row gives.

use async_nats::header::{HeaderValue, NATS_MESSAGE_ID};
use async_nats::jetstream::{self, consumer};
use event_store::{EventStore, GlobalCursor, StoredEvent};
use futures::StreamExt;
use relay::{CloudEvent, RelayConfig, RelayError, INSTANCE_HEADER};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use testkit::{NatsCluster, NatsServer, ScratchDb};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long any wait in these tests may take before it fails the test.
pub const PATIENCE: Duration = Duration::from_secs(300);

/// A database of its own for one test, migrated; dropped (best-effort) when the test ends.
pub struct TestDb {
    pub url: String,
    pub store: EventStore,
    // Declared after the store: the database goes after the store's pool.
    _db: ScratchDb,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let db = ScratchDb::create("relay_test").await;
        let url = db.url().to_owned();
        let store = EventStore::connect(&url, 16)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate the test database");
        TestDb {
            url,
            store,
            _db: db,
        }
    }

    /// The backend holding the relay's lease, if any replica holds it.
    pub async fn lease_holder(&self) -> Option<(i32, String)> {
        sqlx::query_as(
            "SELECT a.pid, a.application_name
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.locktype = 'advisory' AND l.granted AND l.database =
                    (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_optional(self.store.pool())
        .await
        .expect("query pg_locks")
    }

    /// The saved checkpoint of the relay named `relay`.
    pub async fn checkpoint(&self) -> Option<GlobalCursor> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT txid::text, position FROM relay_checkpoints WHERE name = 'relay'",
        )
        .fetch_optional(self.store.pool())
        .await
        .expect("read the checkpoint");
        row.map(|(txid, position)| GlobalCursor {
            txid: txid.parse().unwrap(),
            position,
        })
    }

    /// Every stored event, in the global order.
    pub async fn events(&self) -> Vec<StoredEvent> {
        let mut events: Vec<StoredEvent> = Vec::new();
        loop {
            let after = events
                .last()
                .map_or(GlobalCursor::START, |event| event.cursor);
            let page = self.store.read_after(after, 10_000).await.expect("read");
            if page.is_empty() {
                return events;
            }
            events.extend(page);
        }
    }
}

/// A nats-server child or a cluster of them.
pub trait Nats {
    /// Its address, or its nodes' comma-separated.
    fn url(&self) -> String;

    /// A client of any node that answers.
    async fn connect(&self) -> Result<async_nats::Client, async_nats::ConnectError> {
        let servers = nats_servers::parse(&self.url()).expect("server addresses");
        async_nats::connect(servers).await
    }
}

impl Nats for NatsServer {
    fn url(&self) -> String {
        NatsServer::url(self)
    }
}

impl Nats for NatsCluster {
    fn url(&self) -> String {
        NatsCluster::url(self)
    }
}

/// A relay configuration for tests: the defaults, paced faster.
pub fn config(db: &TestDb, nats: &impl Nats, instance: &str) -> RelayConfig {
    let mut config = RelayConfig::new(db.url.clone(), nats.url());
    config.instance = instance.to_owned();
    config.window = 64;
    config.checkpoint_interval = Duration::from_millis(50);
    config.lease_timeout = Duration::from_secs(1);
    config.lease_retry = Duration::from_millis(200);
    config.publish_timeout = Duration::from_secs(2);
    config.max_backoff = Duration::from_millis(500);
    config.tail.batch_size = 200;
    config.tail.poll_interval = Duration::from_millis(20);
    config
}

/// A relay replica running as a task.
pub struct Replica {
    pub instance: String,
    task: Option<JoinHandle<Result<(), RelayError>>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Replica {
    pub fn spawn(config: RelayConfig) -> Replica {
        let (shutdown, requested) = oneshot::channel::<()>();
        let instance = config.instance.clone();
        let task = tokio::spawn(relay::run(config, async {
            let _ = requested.await;
        }));
        Replica {
            instance,
            task: Some(task),
            shutdown: Some(shutdown),
        }
    }

    /// Stops it like a crash: the task is dropped where it stands, and its connections with it.
    pub async fn crash(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Stops it gracefully and expects a clean end.
    pub async fn shut_down(mut self) {
        let _ = self.shutdown.take().expect("running").send(());
        let task = self.task.take().expect("running");
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("the relay stops")
            .expect("the relay task")
            .expect("the relay ends cleanly");
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Writers appending events to the store concurrently, each to aggregates of its own, one to
/// three events per transaction in one statement (as postgres-es does for one command).
pub struct Load {
    stop: Arc<AtomicBool>,
    committed: Arc<AtomicU64>,
    writers: Vec<JoinHandle<()>>,
}

impl Load {
    /// `writers` writers, each committing `transactions` transactions (or until
    /// [`Load::finish`] when `None`), pausing `pause` between them.
    pub fn start(
        pool: &PgPool,
        writers: usize,
        transactions: Option<usize>,
        pause: Duration,
    ) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(AtomicU64::new(0));
        // Writers of every load in this process own distinct aggregates.
        static NEXT_WRITER: AtomicUsize = AtomicUsize::new(0);
        let first = NEXT_WRITER.fetch_add(writers, Ordering::Relaxed);
        let writers = (first..first + writers)
            .map(|writer| {
                let (pool, stop, committed) = (pool.clone(), stop.clone(), committed.clone());
                tokio::spawn(async move {
                    let mut sequences = [0_i64; AGGREGATES_PER_WRITER];
                    let mut transaction = 0;
                    while !stop.load(Ordering::Relaxed)
                        && transactions.is_none_or(|limit| transaction < limit)
                    {
                        let events = append(&pool, writer, transaction, &mut sequences).await;
                        committed.fetch_add(events, Ordering::Relaxed);
                        transaction += 1;
                        tokio::time::sleep(pause).await;
                    }
                })
            })
            .collect();
        Load {
            stop,
            committed,
            writers,
        }
    }

    /// Events committed so far.
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::Relaxed)
    }

    /// Stops the writers and waits for them; returns the events committed.
    pub async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.wait().await
    }

    /// Waits for bounded writers to commit all their transactions; returns the events committed.
    pub async fn wait(self) -> u64 {
        for writer in self.writers {
            writer.await.expect("a writer");
        }
        self.committed.load(Ordering::Relaxed)
    }
}

const AGGREGATES_PER_WRITER: usize = 5;

/// One transaction of writer `writer`: 1 to 3 events of one of its aggregates.
async fn append(
    pool: &PgPool,
    writer: usize,
    transaction: usize,
    sequences: &mut [i64; AGGREGATES_PER_WRITER],
) -> u64 {
    let aggregate = transaction % AGGREGATES_PER_WRITER;
    // Parcels have dotted ids, which the subject must escape; shipments have plain ones.
    let (aggregate_type, aggregate_id, names) = if aggregate % 2 == 0 {
        (
            "parcel",
            format!("p.{writer}.{aggregate}"),
            ["arrived", "stored", "inspected"],
        )
    } else {
        (
            "shipment",
            format!("s-{writer}-{aggregate}"),
            ["packed", "paid", "shipped"],
        )
    };
    let count = 1 + (transaction * 7 + writer) % 3;
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) ",
    );
    let first = sequences[aggregate] + 1;
    insert.push_values(0..count as i64, |mut row, offset| {
        let sequence = first + offset;
        let name = names[sequence as usize % names.len()];
        let mut body = json!({ "id": aggregate_id, "n": sequence });
        if sequence % 4 != 0 {
            body["policy"] = json!("jp-forwarding@2026.11");
        }
        let mut metadata = json!({
            "actor": "test",
            "command": "Write",
            "correlation_id": format!("request-{writer}-{transaction}"),
        });
        if sequence % 3 == 0 {
            metadata["causation_id"] = json!(format!("event-{writer}-{sequence}"));
        }
        row.push_bind(aggregate_type)
            .push_bind(aggregate_id.clone())
            .push_bind(sequence)
            .push_bind(format!("{aggregate_type}.{name}"))
            .push_bind("1")
            .push_bind(json!({ name: body }))
            .push_bind(metadata);
    });
    insert.build().execute(pool).await.expect("append events");
    sequences[aggregate] += count as i64;
    count as u64
}

/// One message of the stream.
#[derive(Debug)]
pub struct Stored {
    pub subject: String,
    pub message_id: String,
    pub instance: String,
    pub body: Value,
}

/// Waits until the stream holds at least `count` messages.
pub async fn wait_for_messages(nats: &impl Nats, count: u64) {
    let deadline = Instant::now() + PATIENCE;
    let mut held = 0;
    loop {
        if let Some(messages) = stream_size(nats).await {
            held = messages;
            if messages >= count {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the stream held {held} of {count} messages after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The stream's message count, or `None` while it cannot be asked.
pub async fn stream_size(nats: &impl Nats) -> Option<u64> {
    let client = nats.connect().await.ok()?;
    let mut stream = jetstream::new(client).get_stream("PARCELPORT").await.ok()?;
    Some(stream.info().await.ok()?.state.messages)
}

/// Every message of the stream, in stream order, read with a pull consumer.
pub async fn stream_messages(nats: &impl Nats) -> Vec<Stored> {
    let client = nats.connect().await.expect("connect");
    let mut stream = jetstream::new(client)
        .get_stream("PARCELPORT")
        .await
        .expect("the stream");
    let expected = stream.info().await.expect("stream info").state.messages as usize;
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            ack_policy: consumer::AckPolicy::None,
            deliver_policy: consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .expect("a pull consumer");
    let mut messages = Vec::with_capacity(expected);
    let deadline = Instant::now() + PATIENCE;
    while messages.len() < expected {
        assert!(Instant::now() < deadline, "could not read the whole stream");
        let mut batch = consumer
            .fetch()
            .max_messages(1_000)
            .expires(Duration::from_secs(1))
            .messages()
            .await
            .expect("fetch");
        while let Some(message) = batch.next().await {
            let message = message.expect("a message");
            let headers = message.headers.as_ref().expect("headers");
            // A parsed standard header only matches the library's constant for it.
            let header = |value: Option<&HeaderValue>| value.expect("header").as_str().to_owned();
            messages.push(Stored {
                subject: message.subject.to_string(),
                message_id: header(headers.get(NATS_MESSAGE_ID)),
                instance: header(headers.get(INSTANCE_HEADER)),
                body: serde_json::from_slice(&message.payload).expect("JSON"),
            });
        }
    }
    messages
}

/// The claim of the relay, checked from the stream itself: it holds every committed event
/// exactly once, in the store's global order (its n-th message is the n-th event), each as
/// the CloudEvent its row gives on the subject its row gives (so every aggregate's events are
/// its sequence 1, 2, 3, ... without a gap). Returns the messages.
pub async fn assert_stream_holds_every_event_once_in_global_order(
    db: &TestDb,
    nats: &impl Nats,
) -> Vec<Stored> {
    let events = db.events().await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(
        events.len() as i64,
        count,
        "the reader returned every event"
    );
    assert!(!events.is_empty());
    let held = stream_size(nats).await.expect("the stream");
    assert_eq!(
        held,
        events.len() as u64,
        "stream messages = committed events"
    );

    let messages = stream_messages(nats).await;
    assert_eq!(messages.len(), events.len());
    let by_id: HashMap<String, &StoredEvent> = events
        .iter()
        .map(|event| (event.event_id.to_string(), event))
        .collect();
    let mut seen = HashSet::new();
    let mut last_sequence: HashMap<(String, String), i64> = HashMap::new();
    for (index, (message, event)) in messages.iter().zip(&events).enumerate() {
        assert_eq!(
            message.message_id,
            event.event_id.to_string(),
            "message {index} of the stream is not event {index} of the global order"
        );
    }
    for message in &messages {
        let event = by_id
            .get(&message.message_id)
            .unwrap_or_else(|| panic!("a message for no stored event: {message:?}"));
        assert!(
            seen.insert(message.message_id.clone()),
            "twice: {message:?}"
        );
        let expected = serde_json::to_value(CloudEvent::from_stored(event, "parcelport")).unwrap();
        assert_eq!(message.body, expected);
        assert_eq!(
            message.subject,
            relay::subject_for(
                &event.aggregate_type,
                &event.aggregate_id,
                &event.event_type
            )
        );
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let last = last_sequence.insert(key, event.sequence).unwrap_or(0);
        assert_eq!(
            event.sequence,
            last + 1,
            "{}/{} out of order in the stream",
            event.aggregate_type,
            event.aggregate_id
        );
    }
    assert_eq!(seen.len(), events.len());
    messages
}

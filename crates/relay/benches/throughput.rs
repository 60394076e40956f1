//! Relay throughput against a plain async-nats JetStream publish loop, side by side in one run,
//! on one nats-server: how much of the raw publish rate the relay keeps.
//!
//! ```sh
//! cargo bench -p relay --bench throughput -- --events 300000 --rounds 6
//! ```
//!
//! Options: `--events K` (100000), `--rounds N` (4: the K events in N rounds, each timing
//! the relay then the plain loop on the round's events, medians reported), `--window W` (256,
//! both sides), `--run R` (events of one
//! aggregate in a row, as a command appends them: 2), `--nats-url URL` (default: a nats-server
//! of its own on a free port with a temporary store; never the shared one, whose streams others
//! use). PostgreSQL comes from `PARCELPORT_TEST_POSTGRES` as in the tests; a database is created
//! and dropped.
//!
//! Both sides publish the same messages (subject, CloudEvent body, `Nats-Msg-Id`) with the same
//! window, each to a stream of its own on the same server. The plain loop publishes messages
//! built in advance, in no particular order, with no precondition; the relay reads the store,
//! encodes, publishes in the store's exact order with `Nats-Expected-Last-Sequence` on each
//! message, and saves checkpoints. The relay is timed
//! from the commit of a round's events (one transaction; the relay is already leading, its
//! stream created) until its stream holds them all.

#[allow(dead_code)]
use async_nats::jetstream;
use cqrs_es::persist::SerializedEvent;
use event_store::{EventStore, GlobalCursor, StoredEvent};
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use relay::{CloudEvent, RelayConfig};
use sqlx::{Connection, PgConnection};
use std::future::IntoFuture;
use std::time::{Duration, Instant};

struct Options {
    events: u64,
    rounds: u64,
    window: usize,
    run: u64,
    nats_url: Option<String>,
}

impl Options {
    fn parse() -> Options {
        let mut options = Options {
            events: 100_000,
            rounds: 4,
            window: 256,
            run: 2,
            nats_url: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
            match arg.as_str() {
                "--events" => options.events = value().parse().expect("--events K"),
                "--rounds" => options.rounds = value().parse().expect("--rounds N"),
                "--window" => options.window = value().parse().expect("--window W"),
                "--run" => options.run = value().parse().expect("--run R"),
                "--nats-url" => options.nats_url = Some(value()),
                // `cargo bench` passes `--bench`.
                _ => {}
            }
        }
        options.rounds = options.rounds.max(1);
        options.events = options.events.max(options.rounds);
        options.run = options.run.max(1);
        options
    }
}

fn server_url() -> String {
    std::env::var("PARCELPORT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// Appends events `first..first + events` in one `COPY`: `run` events of one aggregate in a
/// row, over 5000 aggregates, with ~500-byte payloads shaped like domain events.
async fn fill(store: &EventStore, first: u64, events: u64, run: u64) {
    let aggregates = 5_000;
    let batch: Vec<SerializedEvent> = (first..first + events)
        .map(|i| {
            let aggregate = format!("p-{}", (i / run) % aggregates);
            let sequence = (i / (run * aggregates)) * run + i % run + 1;
            SerializedEvent::new(
                aggregate.clone(),
                usize::try_from(sequence).expect("a sequence"),
                "parcel".to_owned(),
                "parcel.arrived".to_owned(),
                "1".to_owned(),
                serde_json::json!({"arrived": {
                    "parcel_id": aggregate, "suite_code": "TYO-004217", "member_id": "m-0001",
                    "delivered_on": "2026-11-21", "weight": 1200,
                    "dimensions": {"length_mm": 300, "width_mm": 200, "height_mm": 100},
                    "shop": "shop-approved-1", "note": "x".repeat(180),
                    "policy": "jp-forwarding@2026.11"
                }}),
                serde_json::json!({"actor": "bench", "command": "ReceiveParcel",
                                   "correlation_id": format!("request-{i}")}),
            )
        })
        .collect();
    store.bulk_append(&batch).await.expect("fill the store");
}

/// `count` events after `cursor`, read as the relay's tail reads them (pages of 1000).
async fn events_after(store: &EventStore, cursor: GlobalCursor, count: u64) -> Vec<StoredEvent> {
    let mut events: Vec<StoredEvent> = Vec::new();
    while (events.len() as u64) < count {
        let after = events.last().map_or(cursor, |event| event.cursor);
        events.extend(store.read_after(after, 1_000).await.expect("read"));
    }
    events
}

#[derive(Debug)]
struct Round {
    relay: f64,
    plain: f64,
    read: f64,
    encode: f64,
    bytes: usize,
}

/// The plain loop: the same messages, `window` acks in flight, no store, no ordering.
async fn plain(context: &jetstream::Context, events: &[StoredEvent], window: usize) -> f64 {
    let messages: Vec<(String, String, bytes::Bytes)> = events
        .iter()
        .map(|event| {
            let body = serde_json::to_vec(&CloudEvent::from_stored(event, "parcelport")).unwrap();
            let subject = relay::subject_for(
                &event.aggregate_type,
                &event.aggregate_id,
                &event.event_type,
            )
            .replacen("parcelport.", "plain.", 1);
            (subject, event.event_id.to_string(), body.into())
        })
        .collect();
    let started = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    for (subject, id, body) in messages {
        if in_flight.len() >= window {
            let ack: Result<_, async_nats::jetstream::context::PublishError> =
                in_flight.next().await.expect("an ack");
            ack.expect("plain publish");
        }
        let publish = jetstream::message::PublishMessage::build()
            .payload(body)
            .message_id(id)
            .header("Content-Type", relay::MESSAGE_CONTENT_TYPE);
        let ack = context
            .send_publish(subject, publish)
            .await
            .expect("plain send");
        in_flight.push(ack.into_future());
    }
    while let Some(ack) = in_flight.next().await {
        ack.expect("plain publish");
    }
    events.len() as f64 / started.elapsed().as_secs_f64()
}

async fn stream_size(context: &jetstream::Context, name: &str) -> u64 {
    match context.get_stream(name).await {
        Ok(mut stream) => stream.info().await.map_or(0, |info| info.state.messages),
        Err(_) => 0,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = Options::parse();
    let own_server = options.nats_url.is_none().then(testkit::NatsServer::start);
    let nats_url = options
        .nats_url
        .clone()
        .unwrap_or_else(|| own_server.as_ref().unwrap().url());

    let database = format!("pp_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&format!("{}/postgres", server_url()))
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!(
        r#"CREATE DATABASE "{database}" TEMPLATE template0"#
    ))
    .execute(&mut admin)
    .await
    .expect("create the bench database");
    let database_url = format!("{}/{database}", server_url());
    let store = EventStore::connect(&database_url, 4)
        .await
        .expect("connect to the bench database");
    store.migrate().await.expect("migrate");

    let client = async_nats::connect(&nats_url)
        .await
        .expect("connect to NATS");
    let context = jetstream::new(client);
    let relay_stream = format!("BENCH_RELAY_{}", &database[9..17]);
    let plain_stream = relay_stream.replace("RELAY", "PLAIN");
    let mut plain_config = relay::stream_config(&plain_stream, 1, Duration::from_secs(600));
    plain_config.subjects = vec!["plain.>".to_owned()];
    context
        .create_stream(plain_config)
        .await
        .expect("the plain stream");

    // The relay leads over an empty store first, so the timing starts at a running relay.
    let mut config = RelayConfig::new(database_url, nats_url.clone());
    config.stream = relay_stream.clone();
    config.name = "bench".to_owned();
    config.window = options.window;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let relay = tokio::spawn(relay::run(config, async {
        let _ = stopped.await;
    }));
    while context.get_stream(&relay_stream).await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Rounds alternate the two sides, so that load from elsewhere on the machine falls on both.
    let per_round = (options.events / options.rounds).max(1);
    let mut rounds = Vec::new();
    let mut cursor = GlobalCursor::START;
    let mut published = 0;
    for round in 0..options.rounds {
        fill(&store, round * per_round, per_round, options.run).await;
        let committed = Instant::now();
        published += per_round;
        while stream_size(&context, &relay_stream).await < published {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let relay_rate = per_round as f64 / committed.elapsed().as_secs_f64();

        // The relay's own work per event, each measured alone, to read its figure against.
        let reading = Instant::now();
        let events = events_after(&store, cursor, per_round).await;
        let read_rate = events.len() as f64 / reading.elapsed().as_secs_f64();
        cursor = events.last().expect("events").cursor;
        let encoding = Instant::now();
        let bytes: usize = events
            .iter()
            .map(|event| {
                serde_json::to_vec(&CloudEvent::from_stored(event, "parcelport"))
                    .unwrap()
                    .len()
            })
            .sum();
        let encode_rate = events.len() as f64 / encoding.elapsed().as_secs_f64();

        let plain_rate = plain(&context, &events, options.window).await;
        assert_eq!(stream_size(&context, &plain_stream).await, published);
        let round = Round {
            relay: relay_rate,
            plain: plain_rate,
            read: read_rate,
            encode: encode_rate,
            bytes: bytes / events.len(),
        };
        eprintln!("round {round:?}");
        rounds.push(round);
    }
    let _ = stop.send(());
    relay.await.expect("the relay task").expect("the relay");

    let profile = if cfg!(debug_assertions) {
        "dev (unoptimized)"
    } else {
        "optimized"
    };
    let median = |rate: fn(&Round) -> f64| {
        let mut rates: Vec<f64> = rounds.iter().map(rate).collect();
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    };
    println!(
        "{} events in {} rounds, {} bytes per message body, window {}, {} events per aggregate in a row, {profile} build; medians:",
        per_round * options.rounds,
        options.rounds,
        rounds[0].bytes,
        options.window,
        options.run
    );
    println!(
        "plain async-nats publish loop: {:>9.0} events/s",
        median(|round| round.plain)
    );
    println!(
        "relay (store to stream):       {:>9.0} events/s",
        median(|round| round.relay)
    );
    println!(
        "relay / plain:                 {:>9.2}",
        median(|round| round.relay / round.plain)
    );
    println!(
        "alone: store read (read_after) {:>9.0} events/s",
        median(|round| round.read)
    );
    println!(
        "alone: CloudEvent encoding     {:>9.0} events/s",
        median(|round| round.encode)
    );

    drop(store);
    let _ = context.delete_stream(&relay_stream).await;
    let _ = context.delete_stream(&plain_stream).await;
    let _ = sqlx::query(&format!(
        r#"DROP DATABASE IF EXISTS "{database}" WITH (FORCE)"#
    ))
    .execute(&mut admin)
    .await;
}

//! (e) Exactly once beyond the duplicate window. The stream's Msg-Id deduplication is set to
//! 1 s, so it cannot drop a re-published event once the failure outlasted it: only the relay's
//! resuming after the stream's last event, each publish expecting its predecessor's sequence,
//! keeps events it already stored from being stored again.

use crate::support::{
    assert_stream_holds_every_event_once_in_global_order, config, stream_messages, stream_size,
    wait_for_messages, Load, Replica, TestDb, PATIENCE,
};
use async_nats::jetstream;
use relay::RelayConfig;
use std::collections::HashSet;
use std::time::Duration;
use testkit::NatsServer;

/// The duplicate window of these tests, and how long they wait to be past it (the server
/// forgets Msg-Ids between one and two windows after storing them).
const WINDOW: Duration = Duration::from_secs(1);
const PAST_THE_WINDOW: Duration = Duration::from_secs(3);

fn short_window(config: &mut RelayConfig) {
    config.duplicate_window = WINDOW;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_before_saving_its_checkpoint_restarted_past_the_window_stores_nothing_twice(
) {
    let db = TestDb::create().await;
    let nats = NatsServer::start();
    let load = Load::start(db.store.pool(), 4, None, Duration::from_millis(2));

    // Saves every 2 s: when it dies, up to 2 s of acked events lie past the saved checkpoint.
    let mut first = config(&db, &nats, "first");
    short_window(&mut first);
    first.checkpoint_interval = Duration::from_secs(2);
    let first = Replica::spawn(first);
    // Crash it once it saved a checkpoint and stored 300 events past it.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(behind) = events_behind_the_checkpoint(&db).await {
            if stream_size(&nats).await.unwrap_or(0) >= behind + 300 {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no checkpoint saved"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.crash().await;
    let stored = stream_size(&nats).await.expect("the stream");
    let behind = events_behind_the_checkpoint(&db).await.unwrap();
    assert!(
        stored >= behind + 200,
        "the crash left stored events past the saved checkpoint ({stored} stored, {behind} behind it)"
    );

    tokio::time::sleep(PAST_THE_WINDOW).await;
    let mut second = config(&db, &nats, "second");
    short_window(&mut second);
    let second = Replica::spawn(second);
    let committed = load.finish().await;
    wait_for_messages(&nats, committed).await;
    second.shut_down().await;

    let messages = assert_stream_holds_every_event_once_in_global_order(&db, &nats).await;
    let by_first = messages.iter().filter(|m| m.instance == "first").count();
    assert_eq!(by_first as u64, stored, "the first relay's messages stay");
    eprintln!(
        "{committed} events; {} stored past the saved checkpoint were not stored again",
        stored - behind
    );
}

/// Committed events at or before the saved checkpoint; `None` before the first save.
async fn events_behind_the_checkpoint(db: &TestDb) -> Option<u64> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('relay_checkpoints')::text")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    table?;
    let saved = db.checkpoint().await?;
    let behind: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE (txid, position) <= ($1::text::xid8, $2)",
    )
    .bind(saved.txid.to_string())
    .bind(saved.position)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    Some(behind as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_killed_under_load_restarted_past_the_window_stores_nothing_twice() {
    let db = TestDb::create().await;
    let mut nats = NatsServer::start();
    let mut only = config(&db, &nats, "only");
    short_window(&mut only);
    // Retries back off up to 2 s: publishes of a failed attempt that the client still held
    // reach the server when it is back, and the next attempt comes later than the window.
    only.max_backoff = Duration::from_secs(2);
    let replica = Replica::spawn(only);
    let load = Load::start(db.store.pool(), 4, None, Duration::from_millis(2));

    for round in 1..=2 {
        wait_for_messages(&nats, 400 * round).await;
        nats.kill();
        tokio::time::sleep(PAST_THE_WINDOW).await;
        nats.restart();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let committed = load.finish().await;
    wait_for_messages(&nats, committed).await;
    replica.shut_down().await;
    assert_stream_holds_every_event_once_in_global_order(&db, &nats).await;
}

/// Without a saved stream sequence, from where the relay never saved a checkpoint: the second
/// relay reads the whole stream backwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_restarted_while_nats_is_down_past_the_window_stores_nothing_twice() {
    let db = TestDb::create().await;
    let mut nats = NatsServer::start();
    let load = Load::start(db.store.pool(), 4, None, Duration::from_millis(2));
    let mut first = config(&db, &nats, "first");
    short_window(&mut first);
    first.checkpoint_interval = Duration::from_secs(2);
    let first = Replica::spawn(first);
    wait_for_messages(&nats, 500).await;

    // NATS dies, then the relay, whose saved checkpoint lags what NATS stored; a new relay
    // takes over while NATS is still down and must wait for it before it can reconcile.
    nats.kill();
    first.crash().await;
    let mut second = config(&db, &nats, "second");
    short_window(&mut second);
    let second = Replica::spawn(second);
    tokio::time::sleep(PAST_THE_WINDOW).await;
    nats.restart();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let committed = load.finish().await;
    wait_for_messages(&nats, committed).await;
    second.shut_down().await;
    assert_stream_holds_every_event_once_in_global_order(&db, &nats).await;
}

/// Four writers commit `transactions` each; a relay named `first` (1 s duplicate window)
/// publishes them all and stops. Returns the events committed and the stream.
async fn published_by_a_first_relay(
    db: &TestDb,
    nats: &NatsServer,
    transactions: usize,
) -> (u64, jetstream::stream::Stream) {
    let committed = Load::start(db.store.pool(), 4, Some(transactions), Duration::ZERO)
        .wait()
        .await;
    let mut first = config(db, nats, "first");
    short_window(&mut first);
    let first = Replica::spawn(first);
    wait_for_messages(nats, committed).await;
    first.shut_down().await;
    let stream = jetstream::new(async_nats::connect(nats.url()).await.unwrap())
        .get_stream("PARCELPORT")
        .await
        .unwrap();
    (committed, stream)
}

/// A stream that lost its tail (a machine crash of NATS loses acked messages, LIMITS.md;
/// here the last messages are deleted): the relay resumes after the stream's last event, so it
/// publishes exactly the lost events again, in their place, with no rewind. The server drops
/// them as copies until its duplicate window forgets their ids (deleting a message does not
/// make it forget, unlike a crash): the relay retries until then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_lost_its_tail_gets_exactly_the_lost_events_again() {
    let db = TestDb::create().await;
    let nats = NatsServer::start();
    let (committed, stream) = published_by_a_first_relay(&db, &nats, 60).await;
    let saved = db.checkpoint().await.expect("a saved checkpoint");
    let mut lost = HashSet::new();
    for sequence in committed - 6..=committed {
        let message = stream.get_raw_message(sequence).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        lost.insert(body["id"].as_str().unwrap().to_owned());
        assert!(stream.delete_message(sequence).await.unwrap());
    }
    assert_eq!(
        db.checkpoint().await,
        Some(saved),
        "the saved checkpoint is past the lost events"
    );

    let mut second = config(&db, &nats, "second");
    short_window(&mut second);
    let second = Replica::spawn(second);
    wait_for_messages(&nats, committed).await;
    second.shut_down().await;

    let messages = assert_stream_holds_every_event_once_in_global_order(&db, &nats).await;
    let republished: HashSet<String> = messages
        .iter()
        .filter(|m| m.instance == "second")
        .map(|m| m.message_id.clone())
        .collect();
    assert_eq!(republished, lost, "exactly the lost events, again");
}

/// A stream purged (or created anew) holds none of the relay's events: a rewind, with every
/// replica stopped, makes the next start fill it from the event it names on, in order (once
/// the duplicate window forgets the purged ids).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewound_relay_fills_a_purged_stream_from_the_event_it_names() {
    let db = TestDb::create().await;
    let nats = NatsServer::start();
    let (committed, mut stream) = published_by_a_first_relay(&db, &nats, 30).await;
    stream.purge().await.unwrap();

    let events = db.events().await;
    let from = committed as usize / 3;
    let rewound = relay::rewind(&db.url, "relay", events[from].cursor.position)
        .await
        .unwrap();
    assert_eq!(rewound.to.txid, events[from].cursor.txid);
    assert_eq!(rewound.to.position, events[from].cursor.position - 1);
    assert_eq!(rewound.events_after, committed as i64 - from as i64);

    let mut second = config(&db, &nats, "second");
    short_window(&mut second);
    let second = Replica::spawn(second);
    let expected = committed - from as u64;
    wait_for_messages(&nats, expected).await;
    second.shut_down().await;
    assert_eq!(stream.info().await.unwrap().state.messages, expected);
    let ids: Vec<String> = stream_messages(&nats)
        .await
        .into_iter()
        .map(|message| message.message_id)
        .collect();
    let wanted: Vec<String> = events[from..]
        .iter()
        .map(|event| event.event_id.to_string())
        .collect();
    assert_eq!(ids, wanted, "from that event on, in the global order");
}

/// A rewind while a replica runs would race with the leader's saves: it is refused, and so is
/// a position no event has; the checkpoint stays where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewind_is_refused_while_the_relay_runs_or_for_an_unknown_position() {
    let db = TestDb::create().await;
    let nats = NatsServer::start();
    let committed = Load::start(db.store.pool(), 2, Some(10), Duration::ZERO)
        .wait()
        .await;
    let replica = Replica::spawn(config(&db, &nats, "running"));
    wait_for_messages(&nats, committed).await;
    let running = relay::rewind(&db.url, "relay", 1).await;
    assert!(
        matches!(running, Err(relay::RewindError::Running(ref name)) if name == "relay"),
        "{running:?}"
    );
    replica.shut_down().await;
    let saved = db.checkpoint().await;

    let unknown = relay::rewind(&db.url, "relay", i64::MAX).await;
    assert!(
        matches!(unknown, Err(relay::RewindError::NoSuchPosition(i64::MAX))),
        "{unknown:?}"
    );
    assert_eq!(
        db.checkpoint().await,
        saved,
        "a refused rewind moves nothing"
    );
}

//! (c) NATS killed (SIGKILL) under continuous write load: commands keep committing, the relay
//! retries without moving its checkpoint, and once the server is back (same port, same store)
//! it catches up: the stream holds every committed event once, in the global order.

use crate::support::{
    assert_stream_holds_every_event_once_in_global_order, config, wait_for_messages, Load, Replica,
    TestDb,
};
use std::time::Duration;
use testkit::NatsServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_killed_under_load_then_restarted_loses_and_duplicates_nothing() {
    let db = TestDb::create().await;
    let mut nats = NatsServer::start();
    let replica = Replica::spawn(config(&db, &nats, "only"));
    let load = Load::start(db.store.pool(), 4, None, Duration::from_millis(2));
    wait_for_messages(&nats, 300).await;

    nats.kill();
    let at_kill = load.committed();
    // Acks received just before the kill may still be saved; after that, nothing moves it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let checkpoint = db.checkpoint().await.expect("a checkpoint");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during_outage = load.committed() - at_kill;
    assert!(during_outage > 0, "commands commit while NATS is down");
    assert_eq!(
        db.checkpoint().await,
        Some(checkpoint),
        "the checkpoint stays put while NATS is down"
    );
    nats.restart();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let committed = load.finish().await;
    wait_for_messages(&nats, committed).await;
    replica.shut_down().await;
    assert_stream_holds_every_event_once_in_global_order(&db, &nats).await;
    eprintln!("{committed} events, {during_outage} of them committed during a 3 s NATS outage");
}

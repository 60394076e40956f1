//! Commit hints (#13): a commit in another process wakes the relay at once. Its tail polls
//! once an hour here, so only the hint can bring the second event to the stream in time.

use crate::support::{config, stream_size, Replica, TestDb};
use cqrs_es::persist::SerializedEvent;
use event_store::EventStore;
use std::time::Duration;
use testkit::NatsServer;

fn arrived(sequence: usize) -> SerializedEvent {
    SerializedEvent::new(
        "p-hinted".to_owned(),
        sequence,
        "parcel".to_owned(),
        "parcel.arrived".to_owned(),
        "1".to_owned(),
        serde_json::json!({ "arrived": { "n": sequence } }),
        serde_json::json!({ "actor": "test", "command": "Write", "correlation_id": "hints" }),
    )
}

/// Until the stream holds `count` messages; fails after a minute (the tail's poll is an hour).
async fn stream_reaches(nats: &NatsServer, count: u64) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while stream_size(nats).await.unwrap_or(0) < count {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!("the stream did not reach {count} messages: no hint woke the relay")
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_another_process_wakes_the_relay_at_once() {
    let db = TestDb::create().await;
    let nats = NatsServer::start();
    let mut relay = config(&db, &nats, "hinted");
    relay.tail.poll_interval = Duration::from_secs(3600);
    let replica = Replica::spawn(relay);
    // The writer: a store of its own (another process's pool), publishing its commits.
    let writer = EventStore::connect(&db.url, 2).await.unwrap();
    let hints = {
        let (writer, url) = (writer.clone(), nats.url());
        tokio::spawn(async move { relay::hints::publish_commits_to(&writer, &url).await })
    };
    // The first event may be found by the relay's first read; the second comes after the
    // relay caught up and waits.
    writer.bulk_append(&[arrived(1)]).await.unwrap();
    stream_reaches(&nats, 1).await;
    writer.bulk_append(&[arrived(2)]).await.unwrap();
    stream_reaches(&nats, 2).await;
    hints.abort();
    replica.shut_down().await;
    // The hints are not events: the stream holds the two events only.
    let messages = crate::support::stream_messages(&nats).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
}

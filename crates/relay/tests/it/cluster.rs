//! (g) A replicated stream: three nats-server nodes clustered on loopback, the stream with
//! three replicas, two relay replicas given every node. Under a steady load the stream's leader
//! is killed, then (once it is back and caught up) another node, then the relay that leads: afterwards the
//! stream holds every committed event once, in the global order.

use crate::restart::wait_for_lease_holder;
use crate::support::{
    assert_stream_holds_every_event_once_in_global_order, config, stream_size, wait_for_messages,
    Load, Replica, TestDb, PATIENCE,
};
use relay::RelayConfig;
use std::time::Duration;
use testkit::NatsCluster;
use tokio::time::Instant;

fn replicated(db: &TestDb, cluster: &NatsCluster, instance: &str) -> RelayConfig {
    let mut config = config(db, cluster, instance);
    config.replicas = 3;
    config
}

/// Waits until the stream holds `more` messages more than now.
async fn progress(cluster: &NatsCluster, more: u64) {
    let deadline = Instant::now() + PATIENCE;
    let now = loop {
        if let Some(size) = stream_size(cluster).await {
            break size;
        }
        assert!(Instant::now() < deadline, "the stream cannot be asked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    wait_for_messages(cluster, now + more).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_r3_stream_loses_its_leader_another_node_and_the_leading_relay_and_misses_nothing() {
    // The relay's log, shown if the test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("relay=info")
        .with_test_writer()
        .try_init();
    let db = TestDb::create().await;
    let mut cluster = NatsCluster::start();
    let mut replicas = vec![
        Replica::spawn(replicated(&db, &cluster, "a")),
        Replica::spawn(replicated(&db, &cluster, "b")),
    ];
    let load = Load::start(db.store.pool(), 4, None, Duration::from_millis(3));
    wait_for_messages(&cluster, 300).await;

    // The stream's leader dies; another node is elected and the relay goes on.
    let leader = cluster.index_of(&cluster.whole("PARCELPORT", PATIENCE).await);
    cluster.kill(leader);
    progress(&cluster, 300).await;
    cluster.restart(leader);
    progress(&cluster, 300).await;

    // Then another node, once the first caught up.
    cluster.whole("PARCELPORT", PATIENCE).await;
    let other = (leader + 1) % 3;
    cluster.kill(other);
    progress(&cluster, 300).await;
    cluster.restart(other);
    progress(&cluster, 300).await;
    cluster.whole("PARCELPORT", PATIENCE).await;

    // Then the relay that leads: the other replica takes over.
    let (_, holder) = wait_for_lease_holder(&db).await;
    let leading = replicas
        .iter()
        .position(|replica| holder.ends_with(&format!(" {}", replica.instance)))
        .expect("the holder is one of the replicas");
    replicas.remove(leading).crash().await;
    progress(&cluster, 300).await;

    let committed = load.finish().await;
    wait_for_messages(&cluster, committed).await;
    for replica in replicas {
        replica.shut_down().await;
    }
    let messages = assert_stream_holds_every_event_once_in_global_order(&db, &cluster).await;
    eprintln!(
        "{} events through a leader, a node and a relay lost",
        messages.len()
    );
}

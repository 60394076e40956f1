//! The JetStream feed on a replicated stream (#14): three nats-server nodes clustered on
//! loopback, the relay creating the stream with three replicas, and the storage-status
//! projector given every node. The stream's leader dies, then (once the cluster is whole again)
//! another node, and after each loss more history is published: the same projector reads it
//! through the nodes left, acknowledges the whole stream, and its view equals a rebuild.

use crate::jetstream::{acknowledged, fed_from, published, Service, TestDb, PATIENCE};
use async_nats::jetstream;
use domain::{Policy, Services};
use projector_service::View;
use relay::RelayConfig;
use simulation::Simulation;
use std::time::Duration;
use testkit::NatsCluster;
use tokio::sync::oneshot;

/// Goes on with the simulated warehouse for 150 more commands and appends what they did to
/// the store: the number of events the store holds then.
async fn append(db: &TestDb, sim: &mut Simulation) -> u64 {
    sim.run(150);
    simulation::play(
        &db.store,
        &Services::new(sim.policy().clone()),
        &sim.drain_commands(),
    )
    .await
    .expect("the store accepts every simulated command");
    db.event_count().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_given_every_node_reads_on_when_the_streams_leader_and_a_node_die() {
    // The projector's and the relay's logs, shown if the test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("projection_runtime=debug,projector_service=info,relay=info")
        .with_test_writer()
        .try_init();
    let db = TestDb::create().await;
    let mut cluster = NatsCluster::start();
    let mut relay_config = RelayConfig::new(db.url.clone(), cluster.url());
    relay_config.replicas = 3;
    relay_config.tail.poll_interval = Duration::from_millis(20);
    relay_config.checkpoint_interval = Duration::from_millis(50);
    let (stop_relay, relay_stopped) = oneshot::channel::<()>();
    let relay = tokio::spawn(relay::run(relay_config, async {
        let _ = relay_stopped.await;
    }));
    let servers = nats_servers::parse(&cluster.url()).expect("the cluster's addresses");
    let js = jetstream::new(async_nats::connect(servers).await.expect("connect"));

    // A first part of the history, read whole by the projector.
    let view = View::StorageStatus;
    let mut sim = Simulation::new(29, Policy::jp_forwarding());
    let events = append(&db, &mut sim).await;
    let last = published(&js, events).await;
    let service = Service::start(fed_from(view, &db, cluster.url()));
    acknowledged(&js, view, last, &service).await;

    // The stream's leader dies; the next part is published to the new leader and read by the
    // same projector after the loss.
    let leader = cluster.index_of(&cluster.whole("PARCELPORT", PATIENCE).await);
    cluster.kill(leader);
    let events = append(&db, &mut sim).await;
    let last = published(&js, events).await;
    acknowledged(&js, view, last, &service).await;
    cluster.restart(leader);

    // Then another node, once the cluster is whole again, and a third part.
    cluster.whole("PARCELPORT", PATIENCE).await;
    let other = (leader + 1) % 3;
    cluster.kill(other);
    let events = append(&db, &mut sim).await;
    let last = published(&js, events).await;
    acknowledged(&js, view, last, &service).await;
    cluster.restart(other);
    service.stop().await;

    let live = db.hash(view).await;
    assert_eq!(
        db.rebuilt(view).await,
        live,
        "the view read through a leader and a node lost differs from a rebuild"
    );
    let _ = stop_relay.send(());
    relay
        .await
        .expect("the relay task")
        .expect("the relay stops cleanly");
}

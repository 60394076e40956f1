//! (d) Two replicas: one holds the lease and publishes, the other waits; killing the leader
//! hands over to the other, which resumes from the checkpoint. The stream shows who stored
//! what: one replica's messages, then the other's, never interleaved.

use crate::restart::{wait_for_lease_holder, wait_for_lease_holder_other_than};
use crate::support::{
    assert_stream_holds_every_event_once_in_global_order, config, wait_for_messages, Load, Replica,
    TestDb,
};
use std::time::Duration;
use testkit::NatsServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_publishes_at_a_time_and_a_dead_leader_hands_over() {
    let db = TestDb::create().await;
    let nats = NatsServer::start();
    let load = Load::start(db.store.pool(), 4, None, Duration::from_millis(2));
    let mut replicas = vec![
        Replica::spawn(config(&db, &nats, "a")),
        Replica::spawn(config(&db, &nats, "b")),
    ];

    // Hand over twice: the leader crashes, then the new leader's lease connection is cut.
    wait_for_messages(&nats, 300).await;
    let (backend, holder) = wait_for_lease_holder(&db).await;
    let leader = replicas
        .iter()
        .position(|replica| holder.ends_with(&format!(" {}", replica.instance)))
        .expect("the holder is one of the replicas");
    let first_leader = replicas.remove(leader);
    let first_instance = first_leader.instance.clone();
    first_leader.crash().await;
    let (backend_after, holder_after) = wait_for_lease_holder_other_than(&db, backend).await;
    assert!(!holder_after.ends_with(&format!(" {first_instance}")));

    let at_handover = load.committed();
    wait_for_messages(&nats, at_handover + 300).await;
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(backend_after)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(terminated);
    // A crashed replica comes back as a follower.
    replicas.push(Replica::spawn(config(&db, &nats, &first_instance)));
    wait_for_lease_holder_other_than(&db, backend_after).await;

    let committed = load.finish().await;
    wait_for_messages(&nats, committed).await;
    for replica in replicas {
        replica.shut_down().await;
    }

    let messages = assert_stream_holds_every_event_once_in_global_order(&db, &nats).await;
    let mut terms: Vec<&str> = Vec::new();
    for message in &messages {
        if terms.last() != Some(&message.instance.as_str()) {
            terms.push(&message.instance);
        }
    }
    eprintln!("leadership terms in stream order: {terms:?}");
    assert_eq!(terms.first(), Some(&first_instance.as_str()));
    assert!(
        terms.len() <= 3,
        "two hand-overs make at most three terms; more means replicas interleaved: {terms:?}"
    );
}

//! (b) A relay that crashes mid-stream (its task dropped where it stands, its connections with
//! it), or whose lease connection is cut under it, resumes after the stream's last event: the
//! stream still holds every event once, in the global order.

use crate::support::{
    assert_stream_holds_every_event_once_in_global_order, config, wait_for_messages, Load, Replica,
    TestDb, PATIENCE,
};
use std::time::Duration;
use testkit::NatsServer;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_mid_stream_resumes_without_loss_duplicates_or_reordering() {
    let db = TestDb::create().await;
    let nats = NatsServer::start();
    let load = Load::start(db.store.pool(), 4, Some(400), Duration::from_millis(2));

    // Its lease connection terminated by the server: it stops publishing, takes the lease
    // again (it is alone) and goes on from its checkpoint.
    let first = Replica::spawn(config(&db, &nats, "first"));
    wait_for_messages(&nats, 200).await;
    let (backend, _) = wait_for_lease_holder(&db).await;
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(backend)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(terminated);
    wait_for_lease_holder_other_than(&db, backend).await;

    // Then the process dies mid-stream, with publishes in flight, once it saved a checkpoint.
    wait_for_messages(&nats, 600).await;
    assert!(load.committed() > 600);
    let deadline = Instant::now() + PATIENCE;
    while db.checkpoint().await.is_none() {
        assert!(Instant::now() < deadline, "no checkpoint saved");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.crash().await;
    wait_for_no_lease_holder(&db).await;

    let second = Replica::spawn(config(&db, &nats, "second"));
    let committed = load.finish().await;
    wait_for_messages(&nats, committed).await;
    second.shut_down().await;

    let messages = assert_stream_holds_every_event_once_in_global_order(&db, &nats).await;
    // Whatever the first relay stored comes before anything the second one stored.
    let first_of_second = messages
        .iter()
        .position(|message| message.instance == "second")
        .expect("the second relay published");
    assert!(first_of_second >= 600);
    assert!(messages[first_of_second..]
        .iter()
        .all(|message| message.instance == "second"));
}

/// The lease-holding backend, once some replica holds the lease.
pub async fn wait_for_lease_holder(db: &TestDb) -> (i32, String) {
    wait_for_lease_holder_other_than(db, 0).await
}

/// The lease-holding backend, once a backend other than `backend` holds the lease.
pub async fn wait_for_lease_holder_other_than(db: &TestDb, backend: i32) -> (i32, String) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match db.lease_holder().await {
            Some(holder) if holder.0 != backend => return holder,
            _ => {}
        }
        assert!(Instant::now() < deadline, "no replica took the lease");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Returns once no backend holds the lease.
pub async fn wait_for_no_lease_holder(db: &TestDb) {
    let deadline = Instant::now() + PATIENCE;
    while db.lease_holder().await.is_some() {
        assert!(Instant::now() < deadline, "the lease was never released");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

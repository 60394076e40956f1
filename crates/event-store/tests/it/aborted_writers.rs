//! A writer that rolls back, or dies mid-transaction, leaves a hole in the positions that the
//! reader passes as soon as the transaction is over: an open transaction delays the reader, a
//! finished one never blocks it.

use crate::support::{append, keys, TestDb};
use event_store::{EventStore, GlobalCursor, StoredEvent, TailOptions};
use futures::{Stream, StreamExt};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

fn tail(store: &EventStore) -> impl Stream<Item = StoredEvent> + Unpin {
    let options = TailOptions {
        batch_size: 100,
        poll_interval: Duration::from_millis(100),
    };
    store
        .tail_with(GlobalCursor::START, options)
        .map(|event| event.expect("tail"))
        .boxed()
}

async fn committed_append(store: &EventStore, aggregate_id: &str) -> i64 {
    let mut tx = store.pool().begin().await.unwrap();
    let position = append(&mut tx, aggregate_id, 1).await;
    tx.commit().await.unwrap();
    position
}

#[tokio::test]
async fn a_rolled_back_transaction_delays_the_reader_but_never_blocks_it() {
    let db = TestDb::create(6).await;
    let mut events = tail(&db.store);

    let mut aborted = db.store.pool().begin().await.unwrap();
    let hole = append(&mut aborted, "aborted", 1).await;
    let after_hole = committed_append(&db.store, "after-hole").await;
    assert!(hole < after_hole);

    // While the aborted writer's transaction is open, the reader must wait.
    let early = tokio::time::timeout(Duration::from_millis(500), events.next()).await;
    assert!(early.is_err(), "read past an open transaction: {early:?}");

    // The next poll after the rollback passes the hole.
    aborted.rollback().await.unwrap();
    let event = tokio::time::timeout(PATIENCE, events.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(keys(&[event]), [("after-hole".to_owned(), 1)]);

    // And it goes on with what comes next.
    committed_append(&db.store, "later").await;
    let event = tokio::time::timeout(PATIENCE, events.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(keys(&[event]), [("later".to_owned(), 1)]);
}

#[tokio::test]
async fn a_writer_that_dies_mid_transaction_does_not_block_the_reader() {
    let db = TestDb::create(6).await;
    let mut events = tail(&db.store);

    let mut doomed = db.store.pool().begin().await.unwrap();
    let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *doomed)
        .await
        .unwrap();
    append(&mut doomed, "doomed", 1).await;
    committed_append(&db.store, "survivor").await;
    let early = tokio::time::timeout(Duration::from_millis(300), events.next()).await;
    assert!(early.is_err(), "read past an open transaction: {early:?}");

    // The writer's process is gone without a word: the server aborts its transaction.
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(backend)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(terminated);
    let event = tokio::time::timeout(PATIENCE, events.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(keys(&[event]), [("survivor".to_owned(), 1)]);
    drop(doomed);
}

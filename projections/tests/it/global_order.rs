//! Transaction ids that gain a digit (a real cluster's go from 99,999 to 100,000, and on to
//! 1,000,000): every view still reads every event once, and the audit view pages through them
//! in the global order.

use crate::support::{Backend, TestDb};
use domain::Policy;
use projection_runtime::Projection;
use projections::audit::Audit;
use projections::billing::Billing;
use projections::storage_status::StorageStatus;

async fn caught_up<P: Projection + Copy>(db: &TestDb, projection: P, events: usize) {
    db.catch_up(projection).await;
    let schema = db.serving(&projection).await;
    let name = projection.name();
    assert_eq!(db.events_applied(&schema, name).await, events, "{name}");
}

async fn views_read_every_event_when_transaction_ids_gain_digits(backend: Backend) {
    let db = TestDb::create_on(backend).await;
    db.play(55, 1_100, Policy::jp_forwarding()).await;
    db.renumber_transactions().await;
    let events = db.all_events().await;
    let count = db.event_count().await;
    assert_eq!(events.len(), count, "the store reads every event");
    assert!(count > 1_000, "the ids reach four digits: {count}");
    let order: Vec<_> = events.iter().map(|e| e.cursor).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in the global order");

    caught_up(&db, StorageStatus, count).await;
    caught_up(&db, Billing, count).await;
    caught_up(&db, Audit, count).await;

    // The audit view's pages follow the same order, whatever their size.
    let found: Vec<_> = db.audit_pages(7).await.iter().map(|r| r.event_id).collect();
    let stored: Vec<_> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(found, stored);
}

on_each_backend!(views_read_every_event_when_transaction_ids_gain_digits);

//! The test harness: a fresh, migrated database per test, and raw appends that hold a
//! transaction open the way a slow writer would.

use event_store::{EventStore, GlobalCursor, StoredEvent};
use sqlx::{Postgres, Transaction};
use std::time::Duration;
use testkit::ScratchDb;

/// A database of its own for one test, migrated; dropped (best-effort) when the test ends,
/// even when it fails.
pub struct TestDb {
    pub store: EventStore,
    // Declared after the store: the database goes after the store's pool.
    _db: ScratchDb,
}

impl TestDb {
    pub async fn create(max_connections: u32) -> TestDb {
        let db = ScratchDb::create("test").await;
        let store = EventStore::connect(db.url(), max_connections)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate the test database");
        TestDb { store, _db: db }
    }
}

/// Appends one event the way postgres-es does (its seven columns only) and returns the
/// position it took.
pub async fn append(tx: &mut Transaction<'_, Postgres>, aggregate_id: &str, sequence: i64) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Raw', $1, $2, 'Appended', '1.0', $3, '{}')
         RETURNING position",
    )
    .bind(aggregate_id)
    .bind(sequence)
    .bind(serde_json::json!({ "aggregate_id": aggregate_id, "sequence": sequence }))
    .fetch_one(&mut **tx)
    .await
    .expect("append an event")
}

/// Reads from `cursor` with the store's reader until `count` events have come, waiting out
/// transactions elsewhere on the server that hold the watermark back.
pub async fn read_until(
    store: &EventStore,
    cursor: GlobalCursor,
    count: usize,
) -> Vec<StoredEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut events: Vec<StoredEvent> = Vec::new();
    let mut cursor = cursor;
    while events.len() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {count} events arrived within 30 s",
            events.len()
        );
        let page = store.read_after(cursor, 100).await.expect("read_after");
        match page.last() {
            Some(last) => cursor = last.cursor,
            None => tokio::time::sleep(Duration::from_millis(10)).await,
        }
        events.extend(page);
    }
    events
}

/// A background task that ends with the test, even a failing one, before its database goes.
pub struct Background(pub tokio::task::JoinHandle<()>);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The `(aggregate_id, sequence)` pairs of `events`, in order.
pub fn keys(events: &[StoredEvent]) -> Vec<(String, i64)> {
    events
        .iter()
        .map(|event| (event.aggregate_id.clone(), event.sequence))
        .collect()
}

//! The test harness: a fresh, migrated database per test, and raw appends that hold a
//! transaction open the way a slow writer would.

use event_store::{EventStore, GlobalCursor, StoredEvent};
use sqlx::{Connection, PgConnection, Postgres, Transaction};
use std::time::Duration;

/// The server the tests run against, without a database name.
fn server_url() -> String {
    std::env::var("PARCELPORT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database of its own for one test, migrated; dropped (best-effort) when the test ends,
/// even when it fails.
pub struct TestDb {
    name: String,
    pub store: EventStore,
}

impl TestDb {
    pub async fn create(max_connections: u32) -> TestDb {
        let name = format!("pp_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&format!("{}/postgres", server_url()))
            .await
            .expect("connect to the postgres database");
        // template0 accepts no connections, so concurrent creations never find it in use.
        sqlx::query(&format!(r#"CREATE DATABASE "{name}" TEMPLATE template0"#))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let store = EventStore::connect(&format!("{}/{name}", server_url()), max_connections)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate the test database");
        TestDb { name, store }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop is synchronous and may run inside the test's runtime: drop the database from a
        // thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async {
                let mut admin =
                    PgConnection::connect(&format!("{}/postgres", server_url())).await?;
                sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                    .execute(&mut admin)
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop test database {}", self.name);
        }
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

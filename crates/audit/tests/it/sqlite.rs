//! The embedded store carries the same chain, computed in Rust: it verifies clean, an edited
//! row is named, and nothing re-chains existing events: not opening, not verifying (read-only);
//! a store from before the chain is chained only by the explicit, recorded `chain_legacy`.

use audit::verify::verify_sqlite;
use audit::{Break, EventAt};
use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use domain::parcel::Parcel;
use event_store::sqlite::SqliteEventStore;
use serde_json::json;

fn event(id: &str, sequence: usize) -> SerializedEvent {
    SerializedEvent::new(
        id.to_owned(),
        sequence,
        "parcel".to_owned(),
        "parcel.test".to_owned(),
        "1".to_owned(),
        json!({ "n": sequence, "text": "ü, \"quoted\"" }),
        json!({ "actor": "test" }),
    )
}

async fn appended(store: &SqliteEventStore) {
    let repository = store.repository();
    for id in ["p-1", "p-2"] {
        repository
            .persist::<Parcel>(&[event(id, 1), event(id, 2)], None)
            .await
            .expect("append");
        repository
            .persist::<Parcel>(&[event(id, 3)], None)
            .await
            .expect("append");
    }
}

#[tokio::test]
async fn the_embedded_chain_verifies_clean_and_names_an_edited_row() {
    let dir = tempfile::tempdir().expect("a directory");
    let store = SqliteEventStore::open(dir.path()).await.expect("open");
    appended(&store).await;
    let report = verify_sqlite(&store, |_| {}).await.expect("verify");
    assert!(report.is_clean(), "{:?}", report.breaks);
    assert_eq!((report.events, report.aggregates), (6, 2));

    sqlx::query("UPDATE events SET payload = replace(payload, '2', '7') WHERE position = 5")
        .execute(store.writer())
        .await
        .expect("tamper");
    let report = verify_sqlite(&store, |_| {}).await.expect("verify");
    assert_eq!(
        report.breaks,
        vec![Break::Altered {
            at: EventAt {
                aggregate_type: "parcel".to_owned(),
                aggregate_id: "p-2".to_owned(),
                sequence: 2,
                position: 5,
            }
        }]
    );
}

/// Every row of `events` as text, hash included: what "unchanged" means for the table.
async fn rows(store: &SqliteEventStore) -> Vec<(i64, String, String, Option<Vec<u8>>)> {
    sqlx::query_as("SELECT position, payload, metadata, hash FROM events ORDER BY position")
        .fetch_all(store.reader())
        .await
        .expect("read the rows")
}

fn parcel_at(id: &str, sequence: i64, position: i64) -> EventAt {
    EventAt {
        aggregate_type: "parcel".to_owned(),
        aggregate_id: id.to_owned(),
        sequence,
        position,
    }
}

#[tokio::test]
async fn an_edit_hidden_behind_null_hashes_is_not_laundered_by_opening_or_verifying() {
    let dir = tempfile::tempdir().expect("a directory");
    let store = SqliteEventStore::open(dir.path()).await.expect("open");
    appended(&store).await;
    // The attack of issue #10: raise a number, NULL that event's hash and another one's.
    for statement in [
        "UPDATE events SET payload = replace(payload, '2', '9'), hash = NULL WHERE position = 2",
        "UPDATE events SET hash = NULL WHERE position = 6",
    ] {
        sqlx::query(statement)
            .execute(store.writer())
            .await
            .expect("tamper");
    }
    let tampered = rows(&store).await;
    store.close().await;

    // The server opens it (no re-chaining), then an auditor verifies it read-only.
    let served = SqliteEventStore::open(dir.path()).await.expect("reopen");
    assert_eq!(rows(&served).await, tampered, "opening changed the events");
    served.close().await;
    let audited = SqliteEventStore::open_read_only(dir.path())
        .await
        .expect("open read-only");
    let report = verify_sqlite(&audited, |_| {}).await.expect("verify");
    assert_eq!(
        report.breaks,
        vec![
            // The raised number, its hash gone...
            Break::Unhashed {
                at: parcel_at("p-1", 2, 2)
            },
            // ...is caught by the next link, chained to the genuine content...
            Break::Altered {
                at: parcel_at("p-1", 3, 3)
            },
            // ...and a hash merely removed is named too.
            Break::Unhashed {
                at: parcel_at("p-2", 3, 6)
            },
        ]
    );
    assert_eq!(
        rows(&audited).await,
        tampered,
        "verifying changed the events"
    );
}

#[tokio::test]
async fn a_read_only_store_refuses_every_write() {
    let dir = tempfile::tempdir().expect("a directory");
    let store = SqliteEventStore::open(dir.path()).await.expect("open");
    appended(&store).await;
    store.close().await;
    let audited = SqliteEventStore::open_read_only(dir.path())
        .await
        .expect("open read-only");
    let written = sqlx::query("UPDATE events SET hash = NULL")
        .execute(audited.writer())
        .await;
    assert!(written.is_err(), "a read-only store took a write");
    let missing = tempfile::tempdir().expect("a directory");
    assert!(SqliteEventStore::open_read_only(missing.path())
        .await
        .is_err());
    assert!(
        !missing
            .path()
            .join(event_store::sqlite::DATABASE_FILE)
            .exists(),
        "opening read-only created a store"
    );
}

#[tokio::test]
async fn a_store_from_before_the_chain_is_chained_once_by_the_explicit_upgrade() {
    let dir = tempfile::tempdir().expect("a directory");
    let store = SqliteEventStore::open(dir.path()).await.expect("open");
    appended(&store).await;
    sqlx::query("UPDATE events SET hash = NULL")
        .execute(store.writer())
        .await
        .expect("as before the migration");
    store.close().await;

    let refused = SqliteEventStore::open(dir.path()).await.unwrap_err();
    assert!(
        matches!(refused, event_store::EventStoreError::Unchained { .. }),
        "{refused}"
    );
    let upgrade = SqliteEventStore::chain_legacy(dir.path())
        .await
        .expect("chain the legacy store");
    assert_eq!((upgrade.events, upgrade.last_position), (6, 6));

    let store = SqliteEventStore::open_read_only(dir.path())
        .await
        .expect("open read-only");
    let report = verify_sqlite(&store, |_| {}).await.expect("verify");
    assert!(report.is_clean(), "{:?}", report.breaks);
    assert_eq!(report.events, 6);
    assert_eq!(report.chained_after_the_fact, vec![upgrade]);
    store.close().await;

    let again = SqliteEventStore::chain_legacy(dir.path())
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            event_store::EventStoreError::AlreadyChained { chained: 6 }
        ),
        "{again}"
    );
    SqliteEventStore::open(dir.path())
        .await
        .expect("the upgraded store serves");
}

#[tokio::test]
async fn the_upgrade_refuses_a_store_with_any_chained_event() {
    let dir = tempfile::tempdir().expect("a directory");
    let store = SqliteEventStore::open(dir.path()).await.expect("open");
    appended(&store).await;
    sqlx::query(
        "UPDATE events SET payload = replace(payload, '1', '8'), hash = NULL WHERE position < 6",
    )
    .execute(store.writer())
    .await
    .expect("tamper, leaving one event chained");
    let before = rows(&store).await;
    store.close().await;
    let refused = SqliteEventStore::chain_legacy(dir.path())
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            event_store::EventStoreError::AlreadyChained { chained: 1 }
        ),
        "{refused}"
    );
    let store = SqliteEventStore::open_read_only(dir.path())
        .await
        .expect("open read-only");
    assert_eq!(rows(&store).await, before, "the refused upgrade wrote");
}

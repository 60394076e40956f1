//! The embedded store carries the same chain, computed in Rust: it verifies clean, an edited
//! row is named, and events stored before the chain existed are chained when it opens.

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

#[tokio::test]
async fn events_stored_before_the_chain_are_chained_on_open() {
    let dir = tempfile::tempdir().expect("a directory");
    let store = SqliteEventStore::open(dir.path()).await.expect("open");
    appended(&store).await;
    sqlx::query("UPDATE events SET hash = NULL")
        .execute(store.writer())
        .await
        .expect("as before the migration");
    store.close().await;
    let store = SqliteEventStore::open(dir.path()).await.expect("reopen");
    let report = verify_sqlite(&store, |_| {}).await.expect("verify");
    assert!(report.is_clean(), "{:?}", report.breaks);
    assert_eq!(report.events, 6);
}

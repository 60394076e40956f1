//! The global order where transaction ids gain a digit (a real cluster's go from 99,999 to
//! 100,000): checkpoints, verification and exports compare them as numbers, never as text.

use crate::support::TestDb;
use audit::checkpoint;
use audit::export::{export, verify_file};
use audit::source::Selection;
use audit::verify::verify_postgres;
use event_store::GlobalCursor;

#[tokio::test]
async fn transaction_ids_that_gain_a_digit_keep_checkpoints_verify_and_exports_whole() {
    let db = TestDb::with_history(120).await;
    db.renumber_transactions().await;
    let (last, count): (i64, i64) = sqlx::query_as("SELECT max(position), count(*) FROM events")
        .fetch_one(db.pool())
        .await
        .expect("count the events");
    let count = u64::try_from(count).expect("a count");
    assert!(last >= 100, "the ids cross two digit boundaries: {last}");

    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let first = checkpoint::record(db.pool(), Some(&key))
        .await
        .expect("record");
    let at = |txid: i64, position: i64| GlobalCursor {
        txid: u64::try_from(txid).expect("an id"),
        position,
    };
    assert_eq!(
        first.bound,
        at(last, last),
        "it covers up to the last event"
    );
    assert_eq!(first.event_count, count);

    // One more event, from transaction 1,000 ("1000" sorts before "124" as text).
    let position: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, txid)
         VALUES ('Raw', 'late', 1, 'Appended', '1.0', '{}', '{}', '1000'::xid8)
         RETURNING position",
    )
    .fetch_one(db.pool())
    .await
    .expect("append");
    let second = checkpoint::record(db.pool(), Some(&key))
        .await
        .expect("record");
    assert_eq!(second.bound, at(1_000, position));
    assert_eq!(second.event_count, count + 1);
    assert_eq!(
        checkpoint::list(db.pool()).await.expect("list"),
        [first, second.clone()]
    );

    let report = verify_postgres(db.pool(), |_| {})
        .await
        .expect("verification runs");
    assert!(report.is_clean(), "{:?}", report.breaks);
    assert_eq!((report.events, report.checkpoints), (count + 1, 2));

    let dir = tempfile::tempdir().expect("a directory");
    let jsonl = dir.path().join("all.jsonl");
    export(db.pool(), &Selection::default(), &jsonl, None)
        .await
        .expect("export");
    let report = verify_file(&jsonl, Some(key.verifying_key().to_bytes())).expect("readable");
    assert!(report.is_clean(), "{:?}", report.breaks);
    assert_eq!(report.events, count + 1);
    assert_eq!(report.checkpoint, second);
}

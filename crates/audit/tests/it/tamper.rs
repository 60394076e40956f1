//! Tampering directly in PostgreSQL, each way the issue names: `verify` finds the exact spot
//! (aggregate, sequence, position) every time, and an untouched store verifies clean.

use crate::support::TestDb;
use audit::verify::verify_postgres;
use audit::{checkpoint, Break, EventAt, VerifyReport};

async fn verify(db: &TestDb) -> VerifyReport {
    verify_postgres(db.pool(), |_| {})
        .await
        .expect("verification runs")
}

fn at(aggregate: &(String, String, Vec<i64>), sequence: i64, position: i64) -> EventAt {
    EventAt {
        aggregate_type: aggregate.0.clone(),
        aggregate_id: aggregate.1.clone(),
        sequence,
        position,
    }
}

#[tokio::test]
async fn an_untouched_store_verifies_clean_and_the_trigger_and_rust_hash_alike() {
    let db = TestDb::with_history(150).await;
    let checkpoint = checkpoint::record(db.pool(), None).await.expect("record");
    let report = verify(&db).await;
    assert!(report.is_clean(), "{:?}", report.breaks);
    assert!(report.events > 100, "{} events", report.events);
    assert_eq!(report.events, checkpoint.event_count);
    assert_eq!(report.checkpoints, 1);
}

#[tokio::test]
async fn one_edited_payload_byte_is_named() {
    let db = TestDb::with_history(120).await;
    let (aggregate_type, aggregate_id, sequence, position): (String, String, i64, i64) =
        sqlx::query_as(
            "SELECT aggregate_type, aggregate_id, sequence, position FROM events \
              WHERE sequence >= 2 AND payload::text LIKE '%jp-forwarding%' \
              ORDER BY position LIMIT 1",
        )
        .fetch_one(db.pool())
        .await
        .expect("an event that records the policy");
    // One byte: "jp-forwarding" becomes "jq-forwarding".
    db.tamper(&format!(
        "UPDATE events SET payload = overlay(payload::text placing 'q' \
             from strpos(payload::text, 'jp-forwarding') + 1 for 1)::json \
          WHERE position = {position}"
    ))
    .await;
    let report = verify(&db).await;
    assert_eq!(
        report.breaks,
        vec![Break::Altered {
            at: EventAt {
                aggregate_type,
                aggregate_id,
                sequence,
                position
            }
        }]
    );
}

#[tokio::test]
async fn a_deleted_event_is_named_by_the_next_one_and_breaks_the_checkpoint() {
    let db = TestDb::with_history(120).await;
    let checkpoint = checkpoint::record(db.pool(), None).await.expect("record");
    let aggregate = db.aggregate_with(3).await;
    db.tamper(&format!(
        "DELETE FROM events WHERE position = {}",
        aggregate.2[1]
    ))
    .await;
    let report = verify(&db).await;
    assert!(
        report.breaks.contains(&Break::OutOfSequence {
            at: at(&aggregate, 3, aggregate.2[2]),
            expected: 2,
        }),
        "{:?}",
        report.breaks
    );
    assert!(report.breaks.contains(&Break::CheckpointMismatch {
        checkpoint: checkpoint.id,
        recorded_count: checkpoint.event_count,
        found_count: checkpoint.event_count - 1,
    }));
    assert_eq!(report.breaks.len(), 2, "{:?}", report.breaks);
}

#[tokio::test]
async fn two_swapped_sequences_are_named() {
    let db = TestDb::with_history(120).await;
    let aggregate = db.aggregate_with(3).await;
    let (second, third) = (aggregate.2[1], aggregate.2[2]);
    db.tamper(&format!(
        "UPDATE events SET sequence = 1000000 WHERE position = {second}; \
         UPDATE events SET sequence = 2 WHERE position = {third}; \
         UPDATE events SET sequence = 3 WHERE position = {second};"
    ))
    .await;
    let report = verify(&db).await;
    assert_eq!(
        report.first_break(),
        Some(&Break::OutOfSequence {
            at: at(&aggregate, 3, second),
            expected: 2,
        }),
        "{:?}",
        report.breaks
    );
}

#[tokio::test]
async fn two_swapped_positions_are_named() {
    let db = TestDb::with_history(120).await;
    let aggregate = db.aggregate_with(3).await;
    let (second, third) = (aggregate.2[1], aggregate.2[2]);
    let same_transaction: bool = sqlx::query_scalar(&format!(
        "SELECT count(DISTINCT txid) = 1 FROM events WHERE position IN ({second}, {third})"
    ))
    .fetch_one(db.pool())
    .await
    .expect("their transactions");
    db.tamper(&format!(
        "UPDATE events SET position = -1 WHERE position = {second}; \
         UPDATE events SET position = {second} WHERE position = {third}; \
         UPDATE events SET position = {third} WHERE position = -1;"
    ))
    .await;
    let report = verify(&db).await;
    let expected = if same_transaction {
        // Ordered by position: sequence 3 now comes first.
        vec![
            Break::OutOfSequence {
                at: at(&aggregate, 3, second),
                expected: 2,
            },
            Break::OutOfSequence {
                at: at(&aggregate, 2, third),
                expected: 4,
            },
        ]
    } else {
        // Ordered by transaction: the sequences still follow, the hashes cover the positions.
        vec![
            Break::Altered {
                at: at(&aggregate, 2, third),
            },
            Break::Altered {
                at: at(&aggregate, 3, second),
            },
        ]
    };
    assert_eq!(report.breaks, expected);
}

#[tokio::test]
async fn a_forged_event_with_a_made_up_hash_is_named() {
    let db = TestDb::with_history(120).await;
    let aggregate = db.aggregate_with(2).await;
    let last = i64::try_from(aggregate.2.len()).expect("a count");
    // The attacker appends a credit at the next sequence, trigger off, with a copied hash.
    db.tamper(&format!(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload, metadata, hash) \
         SELECT aggregate_type, aggregate_id, sequence + 1, event_type, event_version, payload, \
                metadata, hash FROM events WHERE position = {}",
        aggregate.2[aggregate.2.len() - 1]
    ))
    .await;
    let forged: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(db.pool())
        .await
        .expect("the forged position");
    let report = verify(&db).await;
    assert_eq!(
        report.breaks,
        vec![Break::Altered {
            at: at(&aggregate, last + 1, forged)
        }]
    );
}

#[tokio::test]
async fn a_forged_event_hashed_by_the_trigger_but_slipped_behind_a_checkpoint_is_caught() {
    let db = TestDb::with_history(120).await;
    let checkpoint = checkpoint::record(db.pool(), None).await.expect("record");
    let aggregate = db.aggregate_with(2).await;
    // Trigger on (a valid chain hash), but back-dated below the checkpoint's bound.
    sqlx::raw_sql(&format!(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload, metadata, txid) \
         SELECT aggregate_type, aggregate_id, {}, event_type, event_version, payload, \
                metadata, txid FROM events WHERE position = {}",
        aggregate.2.len() + 1,
        aggregate.2[0]
    ))
    .execute(db.pool())
    .await
    .expect("forge");
    let report = verify(&db).await;
    assert!(
        report.breaks.contains(&Break::CheckpointMismatch {
            checkpoint: checkpoint.id,
            recorded_count: checkpoint.event_count,
            found_count: checkpoint.event_count + 1,
        }),
        "{:?}",
        report.breaks
    );
}

#[tokio::test]
async fn a_signed_checkpoint_with_an_altered_root_fails_its_signature() {
    let db = TestDb::with_history(40).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let checkpoint = checkpoint::record(db.pool(), Some(&key))
        .await
        .expect("record");
    assert_eq!(checkpoint.signature_is_valid(), Some(true));
    assert!(verify(&db).await.is_clean());
    db.tamper(&format!(
        "UPDATE audit_checkpoints SET event_count = event_count - 1 WHERE id = {}",
        checkpoint.id
    ))
    .await;
    let report = verify(&db).await;
    assert!(report.breaks.contains(&Break::BadSignature {
        checkpoint: checkpoint.id
    }));
}

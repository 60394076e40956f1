//! Exports: a parcel's history with a signed checkpoint verifies offline; one altered byte, a
//! forged proof or another key does not.

use crate::support::TestDb;
use audit::export::{export, verify_file};
use audit::source::Selection;
use audit::{checkpoint, AuditError, Break};

fn key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[42; 32])
}

async fn exported_parcel(db: &TestDb, dir: &std::path::Path) -> (String, std::path::PathBuf) {
    let id: String = sqlx::query_scalar(
        "SELECT aggregate_id FROM events WHERE aggregate_type = 'parcel' GROUP BY 1 \
          HAVING count(*) >= 3 ORDER BY min(position) LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .expect("a parcel");
    let jsonl = dir.join("parcel.jsonl");
    let selection = Selection {
        aggregate_type: Some("parcel".to_owned()),
        aggregate_id: Some(id.clone()),
        ..Selection::default()
    };
    export(db.pool(), &selection, &jsonl, Some(&dir.join("parcel.csv")))
        .await
        .expect("export");
    (id, jsonl)
}

#[tokio::test]
async fn a_signed_export_verifies_offline_with_the_trusted_key() {
    let db = TestDb::with_history(120).await;
    let recorded = checkpoint::record(db.pool(), Some(&key()))
        .await
        .expect("record");
    let dir = tempfile::tempdir().expect("a directory");
    let (id, jsonl) = exported_parcel(&db, dir.path()).await;
    drop(db); // offline from here on

    let trusted = key().verifying_key().to_bytes();
    let report = verify_file(&jsonl, Some(trusted)).expect("readable");
    assert!(report.is_clean(), "{:?}", report.breaks);
    assert_eq!(report.checkpoint, recorded);
    assert!(report.events >= 3);
    let csv = std::fs::read_to_string(dir.path().join("parcel.csv")).expect("the CSV");
    assert!(csv.starts_with("position,txid,aggregate_type,aggregate_id,sequence,"));
    assert_eq!(csv.lines().count() as u64, report.events + 1);
    assert!(csv.contains(&id));

    let other = ed25519_dalek::SigningKey::from_bytes(&[43; 32]);
    let report = verify_file(&jsonl, Some(other.verifying_key().to_bytes())).expect("readable");
    assert_eq!(
        report.breaks,
        vec![Break::UntrustedKey {
            checkpoint: recorded.id
        }]
    );
}

#[tokio::test]
async fn a_tampered_export_fails_offline() {
    let db = TestDb::with_history(120).await;
    checkpoint::record(db.pool(), Some(&key()))
        .await
        .expect("record");
    let dir = tempfile::tempdir().expect("a directory");
    let (_, jsonl) = exported_parcel(&db, dir.path()).await;
    let text = std::fs::read_to_string(&jsonl).expect("the export");
    let lines: Vec<&str> = text.lines().collect();

    // One byte of the second event's payload.
    let mut event: serde_json::Value = serde_json::from_str(lines[2]).expect("json");
    let payload = event["event"]["payload"].as_str().expect("text").to_owned();
    let altered = payload.replacen("\"", "'", 1).replacen("'", "\"", 1);
    let altered = if altered == payload {
        payload.replacen('1', "2", 1)
    } else {
        altered
    };
    let altered = if altered == payload {
        format!("{payload} ")
    } else {
        altered
    };
    event["event"]["payload"] = serde_json::Value::String(altered);
    let sequence = event["event"]["sequence"].as_i64().expect("a sequence");
    let mut tampered = lines.clone();
    let edited = event.to_string();
    tampered[2] = &edited;
    std::fs::write(&jsonl, tampered.join("\n")).expect("write");
    let report = verify_file(&jsonl, None).expect("readable");
    assert!(
        matches!(report.breaks.as_slice(), [Break::Altered { at }] if at.sequence == sequence),
        "{:?}",
        report.breaks
    );

    // A checkpoint root changed in the header: the signature no longer verifies and the
    // proofs no longer lead to it.
    let mut header: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
    header["checkpoint"]["root"] = serde_json::Value::String("00".repeat(32));
    let edited = header.to_string();
    let mut tampered = lines.clone();
    tampered[0] = &edited;
    std::fs::write(&jsonl, tampered.join("\n")).expect("write");
    let report = verify_file(&jsonl, None).expect("readable");
    assert!(matches!(report.breaks[0], Break::BadSignature { .. }));
    assert!(report.breaks[1..]
        .iter()
        .all(|b| matches!(b, Break::NotInCheckpoint { .. })));
    assert_eq!(report.breaks.len() as u64, report.events + 1);
}

#[tokio::test]
async fn an_export_needs_a_checkpoint() {
    let db = TestDb::with_history(20).await;
    let dir = tempfile::tempdir().expect("a directory");
    let result = export(
        db.pool(),
        &Selection::default(),
        &dir.path().join("all.jsonl"),
        None,
    )
    .await;
    assert!(matches!(result, Err(AuditError::NoCheckpoint)));
}

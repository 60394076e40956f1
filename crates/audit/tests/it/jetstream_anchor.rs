//! Checkpoints anchored to JetStream (issue #10, distributed mode): read back as they were
//! recorded, they catch an attacker who deletes the newest event and every checkpoint row in
//! PostgreSQL; and the stream refuses to delete or purge an anchor.

use crate::support::TestDb;
use audit::anchor::{AnchorFile, Checkpointer, HashSource};
use audit::jetstream_anchor::JetStreamAnchor;
use audit::verify::{verify_postgres_anchored, Anchors};
use audit::Break;
use ed25519_dalek::SigningKey;

fn nats_server() -> String {
    std::env::var("PARCELPORT_TEST_NATS").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

#[tokio::test]
async fn jetstream_anchors_catch_a_truncated_tail_and_deleted_checkpoints_and_stay() {
    let db = TestDb::with_history(120).await;
    let stream = format!("PP_TEST_ANCHORS_{}", uuid::Uuid::new_v4().simple());
    let url = format!("nats://{}/{stream}", nats_server());
    let key = SigningKey::from_bytes(&[7; 32]);
    let dir = tempfile::tempdir().expect("a directory");
    let mut checkpointer = Checkpointer::new(
        HashSource::Postgres(db.pool().clone()),
        key.clone(),
        AnchorFile::new(dir.path().join("anchors.jsonl")),
    )
    .expect("a checkpointer")
    .also_anchoring_to(
        JetStreamAnchor::open(&url, true, 1)
            .await
            .expect("the stream"),
    );
    let recorded = checkpointer
        .checkpoint()
        .await
        .expect("anchor")
        .expect("a checkpoint");

    // An auditor reads the anchors back without creating anything.
    let anchored = JetStreamAnchor::open(&url, false, 1)
        .await
        .expect("the existing stream")
        .read()
        .await
        .expect("the anchors");
    assert_eq!(anchored, vec![recorded.clone()]);
    // The same through a cluster's list whose first server is down.
    let listed = format!("nats://127.0.0.1:1,nats://{}/{stream}", nats_server());
    let through_list = JetStreamAnchor::open(&listed, false, 1)
        .await
        .expect("the stream through the list")
        .read()
        .await
        .expect("the anchors");
    assert_eq!(through_list, anchored);
    let anchors = Anchors {
        checkpoints: anchored,
        trusted: vec![key.verifying_key().to_bytes()],
    };
    let clean = verify_postgres_anchored(db.pool(), &anchors, |_| {})
        .await
        .expect("verify");
    assert!(clean.is_clean(), "{:?}", clean.breaks);

    // With write access to PostgreSQL: the newest event and every checkpoint row deleted.
    db.tamper(
        "DELETE FROM events WHERE position = (SELECT max(position) FROM events); \
         DELETE FROM audit_checkpoints",
    )
    .await;
    let caught = verify_postgres_anchored(db.pool(), &anchors, |_| {})
        .await
        .expect("verify");
    assert!(
        caught.breaks.contains(&Break::CheckpointDeleted {
            checkpoint: recorded.id
        }),
        "{:?}",
        caught.breaks
    );
    assert!(
        caught.breaks.iter().any(|b| matches!(
            b,
            Break::CheckpointMismatch { checkpoint, .. } if *checkpoint == recorded.id
        )),
        "{:?}",
        caught.breaks
    );

    // With access to NATS: the anchor can be neither deleted nor purged.
    let context =
        async_nats::jetstream::new(async_nats::connect(nats_server()).await.expect("NATS"));
    let handle = context.get_stream(&stream).await.expect("the stream");
    assert!(
        handle.delete_message(1).await.is_err(),
        "an anchor was deleted"
    );
    assert!(handle.purge().await.is_err(), "the anchors were purged");
    assert_eq!(
        JetStreamAnchor::open(&url, false, 1)
            .await
            .expect("the stream")
            .read()
            .await
            .expect("the anchors")
            .len(),
        1
    );
    // The test's own stream goes (a stream can be deleted whole, by whoever administers NATS).
    context
        .delete_stream(&stream)
        .await
        .expect("drop the test stream");
}

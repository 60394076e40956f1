//! `parcelport audit` as an auditor runs it, the binary against a database of its own: a
//! clean store verifies (exit 0), a signed export verifies offline, one altered byte makes
//! `verify` exit 1 naming the aggregate, sequence and position, and leaves every row as it was
//! (it connects read-only).

use std::path::Path;
use std::process::{Command, Output};

fn parcelport(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parcelport"))
        .args(["audit"])
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run parcelport")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A digest of every row of `events` and `audit_checkpoints`, every column: what "verify
/// changed nothing" is checked against.
async fn fingerprint(pool: &sqlx::PgPool) -> (String, String) {
    sqlx::query_as(
        "SELECT (SELECT md5(coalesce(string_agg(e::text, '|' ORDER BY position), '')) \
                   FROM events e), \
                (SELECT md5(coalesce(string_agg(c::text, '|' ORDER BY id), '')) \
                   FROM audit_checkpoints c)",
    )
    .fetch_one(pool)
    .await
    .expect("fingerprint the tables")
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write a key file");
}

#[tokio::test]
async fn verify_checkpoint_export_and_a_tampered_byte() {
    let db = testkit::ScratchDb::create("audit_cli").await;
    let url = db.url().to_owned();
    let store = event_store::EventStore::connect(&url, 2)
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    for sequence in 1..=3 {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) VALUES ('parcel', 'p-1', $1, 'parcel.noted', \
             '1', $2, '{}')",
        )
        .bind(sequence)
        .bind(serde_json::json!({ "note": format!("note {sequence}") }))
        .execute(store.pool())
        .await
        .expect("append");
    }
    let dir = tempfile::tempdir().expect("a directory");
    let key = dir.path().join("audit.key");
    write(&key, &"ab".repeat(32));

    let public = parcelport(&["public-key", "--sign-key", key.to_str().expect("utf-8")]);
    assert!(public.status.success());
    let public_key = dir.path().join("audit.pub");
    write(&public_key, stdout(&public).trim());

    let recorded = parcelport(&[
        "checkpoint",
        "--database-url",
        &url,
        "--sign-key",
        key.to_str().expect("utf-8"),
    ]);
    assert!(recorded.status.success(), "{recorded:?}");

    let clean = parcelport(&["verify", "--database-url", &url]);
    assert!(clean.status.success(), "{clean:?}");
    assert!(stdout(&clean).contains("verified 3 events of 1 aggregates and 1 checkpoints"));

    let out = dir.path().join("p-1.jsonl");
    let exported = parcelport(&[
        "export",
        "--aggregate",
        "parcel",
        "--id",
        "p-1",
        "--out",
        out.to_str().expect("utf-8"),
        "--database-url",
        &url,
    ]);
    assert!(exported.status.success(), "{exported:?}");
    let offline = parcelport(&[
        "verify",
        "--export",
        out.to_str().expect("utf-8"),
        "--public-key",
        public_key.to_str().expect("utf-8"),
    ]);
    assert!(offline.status.success(), "{offline:?}");

    let position: i64 = sqlx::query_scalar("SELECT position FROM events WHERE sequence = 2")
        .fetch_one(store.pool())
        .await
        .expect("the position");
    sqlx::query(
        "UPDATE events SET payload = replace(payload::text, 'note 2', 'note 3')::json \
          WHERE position = $1",
    )
    .bind(position)
    .execute(store.pool())
    .await
    .expect("tamper");
    let before = fingerprint(store.pool()).await;
    let broken = parcelport(&["verify", "--database-url", &url]);
    assert_eq!(
        fingerprint(store.pool()).await,
        before,
        "verify changed the store"
    );
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    assert!(
        stdout(&broken).contains(&format!(
            "FIRST BROKEN LINK: altered: parcel p-1 sequence 2 (position {position})"
        )),
        "{}",
        stdout(&broken)
    );
    store.pool().close().await;
}

//! The tamper trials of issue #10 on the default setup: `parcelport serve` embedded, the demo
//! loaded, the server stopped (it anchored its checkpoints to `anchors.jsonl`, signed with the
//! writer key it created); then, on a fresh copy of the store per trial, an attacker with write
//! access to the store (not to the anchors) edits it, and `parcelport audit verify --data-dir
//! --anchors --public-key` must exit non-zero naming the spot, leaving every file of the data
//! directory byte for byte as it found it. An untouched copy verifies clean, also byte for byte.
//!
//! A forged event appended after the last anchor with a correct hash has a valid chain and no
//! anchor covering it: the writer's signature on every append names it (unsigned, or signed
//! for other content).

use parcelport::{ServeConfig, Server};
use sha2::{Digest, Sha256};
use sqlx::{Connection, SqliteConnection};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The demo's store, made once for every trial of this binary: a stopped server's data dir.
static DEMO: OnceCell<Arc<tempfile::TempDir>> = OnceCell::const_new();

async fn demo_store() -> Arc<tempfile::TempDir> {
    DEMO.get_or_init(|| async {
        let dir = tempfile::tempdir().expect("a data directory");
        let server = Server::open(ServeConfig::embedded(dir.path()))
            .await
            .expect("serve embedded");
        let admin = server
            .issued()
            .iter()
            .find(|token| token.name == "admin")
            .map(|token| token.secret.clone())
            .expect("an admin token");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(server.run(listener, async {
            let _ = stopped.await;
        }));
        demo::run(
            demo::DemoOptions::new(format!("http://{address}"), admin, 1),
            demo::Silent,
        )
        .await
        .unwrap_or_else(|e| panic!("the demo loads: {e}"));
        stop.send(()).unwrap();
        running.await.unwrap().expect("a clean stop");
        let key = std::fs::read_to_string(dir.path().join("writer.key")).expect("a writer key");
        let key = audit::checkpoint::read_signing_key(&dir.path().join("writer.key"))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        std::fs::write(
            dir.path().join("writer.pub"),
            audit::checkpoint::public_key_hex(&key),
        )
        .expect("write the public key");
        Arc::new(dir)
    })
    .await
    .clone()
}

/// A private copy of the demo's event store for one trial.
async fn copy_of_demo() -> tempfile::TempDir {
    let demo = demo_store().await;
    let copy = tempfile::tempdir().expect("a directory");
    for entry in std::fs::read_dir(demo.path()).expect("the data directory") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(event_store::sqlite::DATABASE_FILE) {
            std::fs::copy(&path, copy.path().join(name)).expect("copy the store");
        }
    }
    copy
}

/// The SHA-256 of every file in `dir`, by name. A file listed and gone before it is read (a
/// `-shm` a closing connection removes) is not there.
fn checksums(dir: &Path) -> BTreeMap<PathBuf, String> {
    std::fs::read_dir(dir)
        .expect("the directory")
        .filter_map(|entry| {
            let path = entry.expect("an entry").path();
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
                Err(e) => panic!("read {}: {e}", path.display()),
            };
            Some((path, format!("{:x}", Sha256::digest(bytes))))
        })
        .collect()
}

async fn tamper(dir: &Path, statements: &[&str]) {
    let url = format!(
        "sqlite://{}",
        dir.join(event_store::sqlite::DATABASE_FILE).display()
    );
    let mut connection = SqliteConnection::connect(&url)
        .await
        .expect("open the copy");
    for statement in statements {
        let done = sqlx::query(statement)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
        assert!(done.rows_affected() > 0, "{statement} changed nothing");
    }
    connection.close().await.expect("close");
}

/// Gives the events at positions `a` and `b` each other's payload.
async fn swap_payloads(dir: &Path, a: i64, b: i64) {
    let url = format!(
        "sqlite://{}",
        dir.join(event_store::sqlite::DATABASE_FILE).display()
    );
    let mut connection = SqliteConnection::connect(&url)
        .await
        .expect("open the copy");
    let payload = |position| {
        sqlx::query_scalar::<_, String>("SELECT payload FROM events WHERE position = ?1")
            .bind(position)
    };
    let (of_a, of_b) = (
        payload(a).fetch_one(&mut connection).await.expect("a"),
        payload(b).fetch_one(&mut connection).await.expect("b"),
    );
    assert_ne!(of_a, of_b, "the payloads differ");
    for (position, payload) in [(a, of_b), (b, of_a)] {
        sqlx::query("UPDATE events SET payload = ?1 WHERE position = ?2")
            .bind(payload)
            .bind(position)
            .execute(&mut connection)
            .await
            .expect("swap");
    }
    connection.close().await.expect("close");
}

/// Serves `dir` and stops cleanly, as an operator restarting on a tampered store would.
async fn serve_and_stop(dir: &Path) {
    let server = Server::open(ServeConfig::embedded(dir))
        .await
        .expect("serve the store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));
    stop.send(()).unwrap();
    running.await.unwrap().expect("a clean stop");
}

/// One `(aggregate_type, aggregate_id, sequence, position)` chosen by `select` in the copy.
async fn spot(dir: &Path, select: &str) -> Spot {
    let url = format!(
        "sqlite://{}?mode=ro",
        dir.join(event_store::sqlite::DATABASE_FILE).display()
    );
    let mut connection = SqliteConnection::connect(&url)
        .await
        .expect("open the copy");
    let found = sqlx::query_as(select)
        .fetch_one(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("{select}: {e}"));
    connection.close().await.expect("close");
    found
}

/// `parcelport audit verify` of the store in `dir` against the demo server's anchors.
async fn verify(dir: &Path) -> Output {
    let demo = demo_store().await;
    verify_against(dir, &demo.path().join("anchors.jsonl"))
}

fn verify_against(dir: &Path, anchors: &Path) -> Output {
    let demo_key = anchors.with_file_name("writer.pub");
    std::process::Command::new(env!("CARGO_BIN_EXE_parcelport"))
        .args(["audit", "verify", "--data-dir"])
        .arg(dir)
        .arg("--anchors")
        .arg(anchors)
        .arg("--public-key")
        .arg(demo_key)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run parcelport audit verify")
}

/// Verifies `dir`, which must fail naming every one of `expected`, and change nothing.
async fn assert_caught(dir: &Path, expected: &[String]) {
    let before = checksums(dir);
    let output = verify(dir).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "verify passed a tampered store:\n{stdout}"
    );
    for line in expected {
        assert!(
            stdout.contains(line),
            "verify did not name {line:?}:\n{stdout}"
        );
    }
    assert_eq!(checksums(dir), before, "verify changed the store");
}

fn named(kind: &str, spot: &Spot) -> String {
    let (aggregate_type, aggregate_id, sequence, position) = spot;
    format!("{kind}: {aggregate_type} {aggregate_id} sequence {sequence} (position {position})")
}

/// An event's `(aggregate_type, aggregate_id, sequence, position)`.
type Spot = (String, String, i64, i64);

/// The second and third events of the aggregate [`MIDDLE`] picks.
async fn second_and_third(dir: &Path) -> (Spot, Spot) {
    let second = spot(dir, MIDDLE).await;
    let third = spot(
        dir,
        &format!(
            "SELECT aggregate_type, aggregate_id, sequence, position FROM events \
              WHERE aggregate_type = '{}' AND aggregate_id = '{}' AND sequence = 3",
            second.0, second.1
        ),
    )
    .await;
    (second, third)
}

/// A middle event of an aggregate with at least three events.
const MIDDLE: &str = "SELECT aggregate_type, aggregate_id, sequence, position FROM events e \
    WHERE sequence = 2 AND EXISTS (SELECT 1 FROM events n WHERE n.aggregate_type = \
    e.aggregate_type AND n.aggregate_id = e.aggregate_id AND n.sequence = 3) \
    ORDER BY position LIMIT 1";

#[tokio::test]
async fn the_untouched_demo_store_verifies_clean_and_unchanged() {
    let copy = copy_of_demo().await;
    let before = checksums(copy.path());
    let output = verify(copy.path()).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("OK: nothing altered"), "{stdout}");
    assert_eq!(checksums(copy.path()), before, "verify changed the store");
}

#[tokio::test]
async fn one_edited_payload_byte_is_named() {
    let copy = copy_of_demo().await;
    let at = spot(copy.path(), MIDDLE).await;
    tamper(
        copy.path(),
        &[&format!(
            "UPDATE events SET payload = replace(payload, '\"', ' \"') WHERE position = {}",
            at.3
        )],
    )
    .await;
    assert_caught(copy.path(), &[named("altered", &at)]).await;
}

#[tokio::test]
async fn edited_metadata_is_named() {
    let copy = copy_of_demo().await;
    let at = spot(copy.path(), MIDDLE).await;
    tamper(
        copy.path(),
        &[&format!(
            "UPDATE events SET metadata = json_set(metadata, '$.actor', 'someone-else') \
              WHERE position = {}",
            at.3
        )],
    )
    .await;
    assert_caught(copy.path(), &[named("altered", &at)]).await;
}

#[tokio::test]
async fn two_payloads_of_one_aggregate_swapped_are_named() {
    let copy = copy_of_demo().await;
    let (second, third) = second_and_third(copy.path()).await;
    swap_payloads(copy.path(), second.3, third.3).await;
    assert_caught(
        copy.path(),
        &[named("altered", &second), named("altered", &third)],
    )
    .await;
}

#[tokio::test]
async fn a_raised_amount_with_its_hash_removed_is_not_laundered() {
    let copy = copy_of_demo().await;
    let at = spot(
        copy.path(),
        "SELECT aggregate_type, aggregate_id, sequence, position FROM events \
          WHERE event_type = 'account.top_up_approved' ORDER BY position LIMIT 1",
    )
    .await;
    let other = spot(
        copy.path(),
        &format!(
            "SELECT aggregate_type, aggregate_id, sequence, position FROM events \
              WHERE aggregate_type <> '{}' ORDER BY position DESC LIMIT 1",
            at.0
        ),
    )
    .await;
    tamper(
        copy.path(),
        &[
            &format!(
                "UPDATE events SET payload = json_set(payload, \
                   '$.top_up_approved.deposit.amount.amount', '9300000'), hash = NULL \
                  WHERE position = {}",
                at.3
            ),
            &format!("UPDATE events SET hash = NULL WHERE position = {}", other.3),
        ],
    )
    .await;
    assert_caught(
        copy.path(),
        &[named("unhashed", &at), named("unhashed", &other)],
    )
    .await;
    // Serving from it does not launder it either: the server opens, and verify still fails.
    serve_and_stop(copy.path()).await;
    assert_caught(
        copy.path(),
        &[named("unhashed", &at), named("unhashed", &other)],
    )
    .await;
}

#[tokio::test]
async fn an_event_with_its_hash_removed_is_named() {
    let copy = copy_of_demo().await;
    let at = spot(copy.path(), MIDDLE).await;
    tamper(
        copy.path(),
        &[&format!(
            "UPDATE events SET hash = NULL WHERE position = {}",
            at.3
        )],
    )
    .await;
    assert_caught(copy.path(), &[named("unhashed", &at)]).await;
}

#[tokio::test]
async fn a_deleted_middle_event_is_named_by_the_next_one() {
    let copy = copy_of_demo().await;
    let (second, third) = second_and_third(copy.path()).await;
    tamper(
        copy.path(),
        &[&format!("DELETE FROM events WHERE position = {}", second.3)],
    )
    .await;
    assert_caught(copy.path(), &[named("out of sequence", &third)]).await;
}

/// A spot's `(aggregate_type, aggregate_id, sequence, position)` by aggregate.
const LAST_OF_AN_AGGREGATE: &str = "SELECT aggregate_type, aggregate_id, sequence, position \
    FROM events e WHERE sequence >= 3 AND NOT EXISTS (SELECT 1 FROM events n \
    WHERE n.aggregate_type = e.aggregate_type AND n.aggregate_id = e.aggregate_id \
    AND n.sequence > e.sequence) AND position < (SELECT max(position) FROM events) \
    ORDER BY position LIMIT 1";

#[tokio::test]
async fn an_aggregates_deleted_last_event_breaks_the_anchored_checkpoint() {
    let copy = copy_of_demo().await;
    let at = spot(copy.path(), LAST_OF_AN_AGGREGATE).await;
    tamper(
        copy.path(),
        &[&format!("DELETE FROM events WHERE position = {}", at.3)],
    )
    .await;
    assert_caught(copy.path(), &["the Merkle root differs".to_owned()]).await;
}

#[tokio::test]
async fn the_stores_deleted_newest_event_breaks_the_anchored_checkpoint() {
    let copy = copy_of_demo().await;
    tamper(
        copy.path(),
        &["DELETE FROM events WHERE position = (SELECT max(position) FROM events)"],
    )
    .await;
    assert_caught(copy.path(), &["the Merkle root differs".to_owned()]).await;
}

#[tokio::test]
async fn a_chain_recomputed_by_hand_after_an_edit_breaks_the_anchored_checkpoint() {
    let copy = copy_of_demo().await;
    let at = spot(copy.path(), MIDDLE).await;
    let url = format!(
        "sqlite://{}",
        copy.path()
            .join(event_store::sqlite::DATABASE_FILE)
            .display()
    );
    let mut connection = SqliteConnection::connect(&url)
        .await
        .expect("open the copy");
    // The attacker edits the event, then rechains the aggregate from there, correctly.
    sqlx::query("UPDATE events SET payload = replace(payload, '\"', ' \"') WHERE position = ?1")
        .bind(at.3)
        .execute(&mut connection)
        .await
        .expect("edit");
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        Vec<u8>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT sequence, event_type, event_version, payload, metadata, event_id, recorded_at, \
                position, hash FROM events \
          WHERE aggregate_type = ?1 AND aggregate_id = ?2 ORDER BY sequence",
    )
    .bind(&at.0)
    .bind(&at.1)
    .fetch_all(&mut connection)
    .await
    .expect("the aggregate");
    let mut previous = event_store::chain::GENESIS;
    for (sequence, event_type, version, payload, metadata, event_id, recorded_at, position, hash) in
        rows
    {
        let recorded_at = chrono::DateTime::parse_from_rfc3339(&recorded_at)
            .map(|at| at.to_utc())
            .or_else(|_| {
                chrono::NaiveDateTime::parse_from_str(&recorded_at, "%Y-%m-%d %H:%M:%S%.f")
                    .map(|at| at.and_utc())
            })
            .expect("a recorded time");
        let fresh = event_store::chain::ChainedFields {
            aggregate_type: &at.0,
            aggregate_id: &at.1,
            sequence,
            event_type: &event_type,
            event_version: &version,
            payload: &payload,
            metadata: &metadata,
            event_id: uuid::Uuid::parse_str(&event_id).expect("an event id"),
            recorded_at,
            position,
        }
        .hash(&previous);
        if sequence < at.2 {
            assert_eq!(fresh[..], hash[..], "the test hashes as the store does");
        }
        sqlx::query("UPDATE events SET hash = ?1 WHERE position = ?2")
            .bind(&fresh[..])
            .bind(position)
            .execute(&mut connection)
            .await
            .expect("rechain");
        previous = fresh;
    }
    connection.close().await.expect("close");
    // The chains alone are whole again...
    let chains_only = std::process::Command::new(env!("CARGO_BIN_EXE_parcelport"))
        .args(["audit", "verify", "--data-dir"])
        .arg(copy.path())
        .output()
        .expect("verify");
    assert!(chains_only.status.success(), "{chains_only:?}");
    // ...but the anchored checkpoint is not.
    assert_caught(copy.path(), &["the Merkle root differs".to_owned()]).await;
}

#[tokio::test]
async fn anchors_signed_by_another_key_are_not_trusted() {
    let copy = copy_of_demo().await;
    let demo = demo_store().await;
    let forged_dir = tempfile::tempdir().expect("a directory");
    let forged = forged_dir.path().join("anchors.jsonl");
    // The attacker's own key signs anchors that match the store exactly.
    let (key, _) =
        audit::anchor::ensure_signing_key(&forged_dir.path().join("attacker.key")).expect("a key");
    let store = event_store::sqlite::SqliteEventStore::open_read_only(copy.path())
        .await
        .expect("open");
    let mut checkpointer = audit::anchor::Checkpointer::new(
        audit::anchor::HashSource::Sqlite(store),
        key,
        audit::anchor::AnchorFile::new(&forged),
    )
    .expect("a checkpointer");
    checkpointer.checkpoint().await.expect("anchor");
    std::fs::copy(
        demo.path().join("writer.pub"),
        forged_dir.path().join("writer.pub"),
    )
    .expect("the trusted key");
    let output = verify_against(copy.path(), &forged);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("not signed by the trusted public key"),
        "{stdout}"
    );
}

/// The demo on PostgreSQL, served once and stopped: the database's name and the data
/// directory holding the anchors and the writer key.
static PG_DEMO: OnceCell<(String, Arc<tempfile::TempDir>)> = OnceCell::const_new();

fn postgres_server() -> String {
    std::env::var("PARCELPORT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

async fn admin_connection() -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&format!("{}/postgres", postgres_server()))
        .await
        .expect("connect")
}

async fn pg_demo() -> (String, Arc<tempfile::TempDir>) {
    PG_DEMO
        .get_or_init(|| async {
            let name = format!("pp_tamper_demo_{}", uuid::Uuid::new_v4().simple());
            let mut admin = admin_connection().await;
            sqlx::query(&format!(r#"CREATE DATABASE "{name}" TEMPLATE template0"#))
                .execute(&mut admin)
                .await
                .expect("create the database");
            let dir = tempfile::tempdir().expect("a data directory");
            let config = ServeConfig {
                store: parcelport::StoreChoice::Postgres {
                    database_url: format!("{}/{name}", postgres_server()),
                    nats_url: None,
                },
                max_connections: 8,
                ..ServeConfig::embedded(dir.path())
            };
            let server = Server::open(config).await.expect("serve on PostgreSQL");
            let admin_token = server
                .issued()
                .iter()
                .find(|token| token.name == "admin")
                .map(|token| token.secret.clone())
                .expect("an admin token");
            std::fs::write(
                dir.path().join("writer.pub"),
                &server.writer_key().public_key,
            )
            .expect("write the public key");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let running = tokio::spawn(server.run(listener, async {
                let _ = stopped.await;
            }));
            demo::run(
                demo::DemoOptions::new(format!("http://{address}"), admin_token, 1),
                demo::Silent,
            )
            .await
            .unwrap_or_else(|e| panic!("the demo loads: {e}"));
            stop.send(()).unwrap();
            running.await.unwrap().expect("a clean stop");
            (name, Arc::new(dir))
        })
        .await
        .clone()
}

/// A private copy of the PostgreSQL demo database; dropped by [`drop_pg`].
async fn pg_copy() -> (String, Arc<tempfile::TempDir>) {
    let (demo, dir) = pg_demo().await;
    let name = format!("pp_tamper_{}", uuid::Uuid::new_v4().simple());
    let mut admin = admin_connection().await;
    // A template must have no other connection; copies are made one at a time.
    sqlx::query("SELECT pg_advisory_lock(7710)")
        .execute(&mut admin)
        .await
        .expect("lock");
    sqlx::query(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
          WHERE datname = '{demo}' AND pid <> pg_backend_pid()"
    ))
    .execute(&mut admin)
    .await
    .expect("close the demo's connections");
    sqlx::query(&format!(r#"CREATE DATABASE "{name}" TEMPLATE "{demo}""#))
        .execute(&mut admin)
        .await
        .expect("copy the demo database");
    sqlx::query("SELECT pg_advisory_unlock(7710)")
        .execute(&mut admin)
        .await
        .expect("unlock");
    (name, dir)
}

async fn drop_pg(name: &str) {
    let mut admin = admin_connection().await;
    let _ = sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        .execute(&mut admin)
        .await;
}

async fn pg_tamper(name: &str, statement: &str) {
    let mut db = sqlx::PgConnection::connect(&format!("{}/{name}", postgres_server()))
        .await
        .expect("connect");
    let done = sqlx::query(statement)
        .execute(&mut db)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    assert!(done.rows_affected() > 0, "{statement} changed nothing");
}

fn pg_verify(name: &str, dir: &Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_parcelport"))
        .args(["audit", "verify", "--database-url"])
        .arg(format!("{}/{name}", postgres_server()))
        .arg("--anchors")
        .arg(dir.join("anchors.jsonl"))
        .arg("--public-key")
        .arg(dir.join("writer.pub"))
        .output()
        .expect("run parcelport audit verify")
}

#[tokio::test]
async fn on_postgres_deleted_checkpoint_rows_the_newest_event_and_a_forged_insert_are_caught() {
    let (clean, dir) = pg_copy().await;
    let output = pg_verify(&clean, dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("OK: nothing altered"), "{stdout}");
    assert!(
        stdout.contains("against 1 anchored checkpoints"),
        "{stdout}"
    );
    drop_pg(&clean).await;

    let (rows_deleted, dir) = pg_copy().await;
    pg_tamper(&rows_deleted, "DELETE FROM audit_checkpoints").await;
    let output = pg_verify(&rows_deleted, dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("anchored outside the database, but no longer recorded in it"),
        "{stdout}"
    );
    drop_pg(&rows_deleted).await;

    let (newest_deleted, dir) = pg_copy().await;
    pg_tamper(
        &newest_deleted,
        "DELETE FROM events WHERE (txid, position) = \
           (SELECT txid, position FROM events ORDER BY txid DESC, position DESC LIMIT 1)",
    )
    .await;
    let output = pg_verify(&newest_deleted, dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("the Merkle root differs"), "{stdout}");
    drop_pg(&newest_deleted).await;

    // A forged event through the ordinary INSERT path: the trigger chains it correctly and no
    // anchor covers it yet, but parcelport did not sign it.
    let (forged, dir) = pg_copy().await;
    pg_tamper(
        &forged,
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                             payload, metadata) \
         SELECT e.aggregate_type, e.aggregate_id, e.sequence + 1, e.event_type, e.event_version, \
                e.payload, (e.metadata::jsonb - 'signature')::json \
           FROM events e \
          WHERE e.aggregate_type = 'account' AND NOT EXISTS ( \
                SELECT 1 FROM events n WHERE n.aggregate_type = e.aggregate_type \
                   AND n.aggregate_id = e.aggregate_id AND n.sequence = e.sequence + 1) \
          ORDER BY e.position DESC LIMIT 1",
    )
    .await;
    let output = pg_verify(&forged, dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("was not appended by parcelport (no writer's signature)"),
        "{stdout}"
    );
    assert!(!stdout.contains("the Merkle root differs"), "{stdout}");
    drop_pg(&forged).await;
    // The only PostgreSQL trial of this binary: its demo database goes with it.
    drop_pg(&pg_demo().await.0).await;
}

/// Appends, after the last anchor, a forged event that continues the chain of the newest
/// account top-up's aggregate correctly (the attacker hashes it as the store does), raising the
/// amount, with `metadata` rewritten by `forge`: its position is new, so no anchor covers it.
async fn append_forged(dir: &Path, forge: impl Fn(&mut serde_json::Value)) -> Spot {
    let url = format!(
        "sqlite://{}",
        dir.join(event_store::sqlite::DATABASE_FILE).display()
    );
    let mut connection = SqliteConnection::connect(&url)
        .await
        .expect("open the copy");
    type Row = (String, String, i64, String, String, String, String, Vec<u8>);
    let (kind, id, sequence, event_type, version, payload, metadata, hash): Row = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
                metadata, hash FROM events WHERE event_type = 'account.top_up_approved' \
          ORDER BY position DESC LIMIT 1",
    )
    .fetch_one(&mut connection)
    .await
    .expect("a top-up");
    let last: i64 = sqlx::query_scalar(
        "SELECT max(sequence) FROM events WHERE aggregate_type = ?1 AND aggregate_id = ?2",
    )
    .bind(&kind)
    .bind(&id)
    .fetch_one(&mut connection)
    .await
    .expect("the aggregate's head");
    let previous: Vec<u8> = sqlx::query_scalar(
        "SELECT hash FROM events WHERE aggregate_type = ?1 AND aggregate_id = ?2 AND sequence = ?3",
    )
    .bind(&kind)
    .bind(&id)
    .bind(last)
    .fetch_one(&mut connection)
    .await
    .expect("the head's hash");
    assert!(sequence <= last && hash.len() == 32);
    let payload = payload.replacen("\"amount\":\"", "\"amount\":\"9", 1);
    let mut metadata: serde_json::Value = serde_json::from_str(&metadata).expect("metadata");
    forge(&mut metadata);
    let metadata = metadata.to_string();
    let position: i64 = sqlx::query_scalar("SELECT max(position) + 1 FROM events")
        .fetch_one(&mut connection)
        .await
        .expect("the next position");
    let (event_id, recorded_at) = (uuid::Uuid::new_v4(), chrono::Utc::now());
    let hash = event_store::chain::ChainedFields {
        aggregate_type: &kind,
        aggregate_id: &id,
        sequence: last + 1,
        event_type: &event_type,
        event_version: &version,
        payload: &payload,
        metadata: &metadata,
        event_id,
        recorded_at,
        position,
    }
    .hash(&previous.try_into().expect("32 bytes"));
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                             payload, metadata, event_id, recorded_at, position, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .bind(&kind)
    .bind(&id)
    .bind(last + 1)
    .bind(&event_type)
    .bind(&version)
    .bind(&payload)
    .bind(&metadata)
    .bind(event_id.to_string())
    .bind(recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    .bind(position)
    .bind(&hash[..])
    .execute(&mut connection)
    .await
    .expect("insert the forged event");
    connection.close().await.expect("close");
    (kind, id, last + 1, position)
}

#[tokio::test]
async fn a_forged_event_appended_after_the_last_anchor_without_a_signature_is_named() {
    let copy = copy_of_demo().await;
    let at = append_forged(copy.path(), |metadata| {
        metadata
            .as_object_mut()
            .expect("an object")
            .remove("signature");
    })
    .await;
    // The chain is whole: only the writer's signature tells.
    let chains_only = std::process::Command::new(env!("CARGO_BIN_EXE_parcelport"))
        .args(["audit", "verify", "--data-dir"])
        .arg(copy.path())
        .output()
        .expect("verify");
    assert!(chains_only.status.success(), "{chains_only:?}");
    assert_caught(
        copy.path(),
        &[format!(
            "unsigned: {} {} sequence {} (position {}) was not appended by parcelport",
            at.0, at.1, at.2, at.3
        )],
    )
    .await;
}

#[tokio::test]
async fn a_forged_event_with_a_signature_copied_from_a_genuine_one_is_named() {
    let copy = copy_of_demo().await;
    let at = append_forged(copy.path(), |_| {}).await;
    assert_caught(
        copy.path(),
        &[format!(
            "forged: {} {} sequence {} (position {}) does not match its signature",
            at.0, at.1, at.2, at.3
        )],
    )
    .await;
}

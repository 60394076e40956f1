//! Sealing a store written before personal data was sealed (issue #10): `parcelport audit
//! seal-personal-data` on the embedded store and on PostgreSQL.
//!
//! The store is written as the engine wrote it before sealing existed (signed events, plain
//! names), with a checkpoint anchored before and more events after it. The command verifies
//! first, seals, re-chains and records the signed reseal; afterwards no plain name, e-mail or
//! payer name is left in the store's rows (nor, embedded, in any byte of its files), `audit
//! verify` with the anchors is clean (the checkpoint from before is checked against the hashes
//! the reseal replaced), the aggregates still load with their data, and erasure then reaches
//! it. Deleting the reseal's record is found; a second run finds nothing to seal; a store with
//! an edit nobody noticed is refused, not laundered.

use audit::anchor::{AnchorFile, Checkpointer, HashSource};
use domain::account::{BankDeposit, DeclaredDeposit};
use domain::ids::{CauseId, MemberId};
use domain::member::{EmailAddress, IdentityDocument, Member, MemberCommand, PersonName};
use domain::money::Money;
use domain::{Policy, Services};
use engine::use_cases::register::Registration;
use engine::use_cases::top_up::TopUpApplication;
use engine::{CommandContext, Engine, EngineConfig, EngineStore, SqliteEngine};
use event_store::authorship::EventSigner;
use std::path::Path;
use std::sync::Arc;

const NAME: &str = "Jiro Legacysealtest";
const EMAIL: &str = "jiro.legacysealtest@example.jp";
const PAYER: &str = "LEGACYSEALTEST JIRO";

fn ctx() -> CommandContext {
    CommandContext::new("operator:test", uuid::Uuid::new_v4().to_string())
}

/// Runs `parcelport` with `args`: its exit status and what it printed.
fn parcelport(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_parcelport"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run parcelport {args:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The engine of before: it signs what it appends, and seals nothing.
fn legacy_config(dir: &Path) -> EngineConfig {
    let (key, _) = audit::anchor::ensure_signing_key(&dir.join("writer.key")).expect("a key");
    EngineConfig::new("TYO")
        .unwrap()
        .signing_with(Arc::new(EventSigner::new(key)))
}

/// A member registered with [`NAME`] and [`EMAIL`], verified, topped up by [`PAYER`].
async fn member_history<R, S>(engine: &Engine<R, S>) -> MemberId
where
    R: cqrs_es::persist::PersistedEventRepository,
    S: EngineStore,
{
    let registered = engine
        .register_member(
            Registration {
                name: PersonName::parse(NAME).unwrap(),
                birth_date: chrono::NaiveDate::from_ymd_opt(1985, 2, 3).unwrap(),
                email: EmailAddress::parse(EMAIL).unwrap(),
                guardian_consent: None,
                forwarding_only_accepted: true,
            },
            &ctx(),
        )
        .await
        .expect("register");
    let member = registered.member_id;
    engine
        .execute::<Member>(
            member.as_str(),
            MemberCommand::VerifyIdentity {
                document: IdentityDocument::Passport {
                    photo_page_checked: true,
                    address_page_checked: true,
                },
                expires_on: chrono::NaiveDate::from_ymd_opt(2035, 1, 1).unwrap(),
            },
            &ctx(),
        )
        .await
        .expect("verify the identity");
    let deposited_on = engine.today();
    let declared = DeclaredDeposit {
        deposited_on,
        bank: "Rakuten Bank".into(),
        amount: Money::jpy(30_000),
        payer_name: PAYER.into(),
    };
    let deposit = BankDeposit {
        deposit_id: CauseId::parse(&format!("dep-{}", uuid::Uuid::new_v4().simple())).unwrap(),
        deposited_on,
        bank: declared.bank.clone(),
        amount: declared.amount,
        payer_name: declared.payer_name.clone(),
    };
    engine
        .apply_for_top_up(
            &member,
            TopUpApplication {
                declared,
                deposit: Some(deposit),
                rate: None,
            },
            &ctx(),
        )
        .await
        .expect("top up");
    member
}

/// One more event of the member after the checkpoint: the reseal re-chains past it.
async fn later_event<R, S>(engine: &Engine<R, S>, member: &MemberId)
where
    R: cqrs_es::persist::PersistedEventRepository,
    S: EngineStore,
{
    engine
        .execute::<Member>(member.as_str(), MemberCommand::RecordFailedLogin, &ctx())
        .await
        .expect("a later event");
}

/// Every file under `dir` whose bytes contain one of the secrets, with the secret.
fn files_holding(dir: &Path) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the data directory") {
        let path = entry.expect("an entry").path();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for secret in [NAME, EMAIL, PAYER] {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                found.push((path.display().to_string(), secret));
            }
        }
    }
    found
}

#[tokio::test]
async fn a_store_written_before_sealing_is_sealed_once_and_still_verifies_embedded() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let engine = SqliteEngine::open(
        dir,
        Services::new(Policy::jp_forwarding()),
        legacy_config(dir),
    )
    .await
    .expect("open");
    let member = member_history(&engine).await;
    // As serve did: a signed checkpoint anchored beside the store.
    let key = audit::checkpoint::read_signing_key(&dir.join("writer.key")).unwrap();
    let anchors = AnchorFile::new(dir.join("anchors.jsonl"));
    Checkpointer::new(
        HashSource::Sqlite(engine.event_log().clone()),
        key.clone(),
        anchors.clone(),
    )
    .unwrap()
    .checkpoint()
    .await
    .unwrap()
    .expect("a checkpoint");
    later_event(&engine, &member).await;
    engine.event_log().close().await;
    drop(engine);
    assert!(
        !files_holding(dir).is_empty(),
        "the legacy store holds the plain text"
    );

    // An edit nobody noticed is refused, and the store is left as it was.
    let db = dir.join("parcelport.db");
    let pristine = std::fs::read(&db).unwrap();
    {
        let store = event_store::sqlite::SqliteEventStore::open(dir)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE events SET payload = replace(payload, '30000', '90000') \
              WHERE event_type = 'account.top_up_approved'",
        )
        .execute(store.writer())
        .await
        .unwrap();
        store.close().await;
    }
    let dir_arg = dir.to_str().unwrap();
    let (ok, out) = parcelport(&["audit", "seal-personal-data", "--data-dir", dir_arg]);
    assert!(!ok, "a tampered store must be refused: {out}");
    assert!(out.contains("refusing to rewrite"), "{out}");
    assert!(!files_holding(dir).is_empty(), "nothing was sealed: {out}");
    // Put the original back (the file as it was before the edit).
    std::fs::write(&db, &pristine).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("parcelport.db{suffix}")));
    }

    let (ok, out) = parcelport(&["audit", "seal-personal-data", "--data-dir", dir_arg]);
    assert!(ok, "{out}");
    assert!(
        out.contains("sealed the personal data of 2 events"),
        "{out}"
    );
    assert_eq!(files_holding(dir), Vec::new(), "{out}");

    let public_key = dir.join("writer.pub");
    std::fs::write(&public_key, audit::checkpoint::public_key_hex(&key)).unwrap();
    let verify = [
        "audit",
        "verify",
        "--data-dir",
        dir_arg,
        "--anchors",
        anchors.path().to_str().unwrap(),
        "--public-key",
        public_key.to_str().unwrap(),
    ];
    let (ok, out) = parcelport(&verify);
    assert!(ok, "{out}");
    assert!(out.contains("2 checkpoints"), "before and after: {out}");
    assert!(out.contains("reseal 1"), "{out}");

    // A second run has nothing to do.
    let (ok, out) = parcelport(&["audit", "seal-personal-data", "--data-dir", dir_arg]);
    assert!(ok, "{out}");
    assert!(out.contains("nothing to seal"), "{out}");

    // The member loads with their data; erased, with the stand-ins; verify stays clean.
    let keys = personal_data::KeyStore::sqlite(&dir.join("keys.sqlite"))
        .await
        .unwrap();
    let personal = Arc::new(personal_data::PersonalData::new(keys));
    let engine = SqliteEngine::open(
        dir,
        Services::new(Policy::jp_forwarding()),
        legacy_config(dir).protecting_personal_data(Arc::clone(&personal)),
    )
    .await
    .unwrap();
    let loaded = engine.load::<Member>(member.as_str()).await.unwrap();
    assert!(
        serde_json::to_string(&loaded.state).unwrap().contains(NAME),
        "the sealed name opens"
    );
    personal
        .keys()
        .erase(member.as_str(), chrono::Utc::now())
        .await
        .unwrap();
    let loaded = engine.load::<Member>(member.as_str()).await.unwrap();
    assert!(!serde_json::to_string(&loaded.state).unwrap().contains(NAME));
    engine.event_log().close().await;
    personal.keys().close().await;
    let (ok, out) = parcelport(&verify);
    assert!(ok, "{out}");

    // Without the reseal's record, the checkpoint from before no longer verifies.
    let store = event_store::sqlite::SqliteEventStore::open(dir)
        .await
        .unwrap();
    sqlx::raw_sql("DELETE FROM event_reseal_entries; DELETE FROM event_reseals")
        .execute(store.writer())
        .await
        .unwrap();
    store.close().await;
    let (ok, out) = parcelport(&verify);
    assert!(!ok, "{out}");
    assert!(
        out.contains("checkpoint 1: the Merkle root differs"),
        "{out}"
    );
}

/// Every row of every table of the database as text, with the secrets found in it.
async fn rows_holding(pool: &sqlx::PgPool) -> Vec<(String, &'static str)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables \
          WHERE table_schema NOT IN ('pg_catalog', 'information_schema') \
            AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut found = Vec::new();
    for table in tables {
        let text: Option<String> =
            sqlx::query_scalar(&format!("SELECT string_agg(t::text, ' ') FROM {table} t"))
                .fetch_one(pool)
                .await
                .unwrap();
        for secret in [NAME, EMAIL, PAYER] {
            if text.as_deref().is_some_and(|text| text.contains(secret)) {
                found.push((table.clone(), secret));
            }
        }
    }
    found
}

#[tokio::test]
async fn a_store_written_before_sealing_is_sealed_once_and_still_verifies_on_postgres() {
    let db = testkit::ScratchDb::create("seal").await;
    let url = db.url().to_owned();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let store = event_store::EventStore::connect(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let engine = Engine::new(
        store.repository(),
        engine::PgEngineStore::new(store.pool().clone()),
        Services::new(Policy::jp_forwarding()),
        legacy_config(dir),
    );
    engine.migrate().await.unwrap();
    let member = member_history(&engine).await;
    let key_path = dir.join("writer.key");
    let key = audit::checkpoint::read_signing_key(&key_path).unwrap();
    let anchors = AnchorFile::new(dir.join("anchors.jsonl"));
    Checkpointer::new(
        HashSource::Postgres(store.pool().clone()),
        key.clone(),
        anchors.clone(),
    )
    .unwrap()
    .checkpoint()
    .await
    .unwrap()
    .expect("a checkpoint");
    later_event(&engine, &member).await;
    assert!(!rows_holding(store.pool()).await.is_empty());

    let seal = [
        "audit",
        "seal-personal-data",
        "--database-url",
        &url,
        "--sign-key",
        key_path.to_str().unwrap(),
        "--anchors",
        anchors.path().to_str().unwrap(),
    ];
    let (ok, out) = parcelport(&seal);
    assert!(ok, "{out}");
    assert!(
        out.contains("sealed the personal data of 2 events"),
        "{out}"
    );
    assert_eq!(rows_holding(store.pool()).await, Vec::new(), "{out}");

    let public_key = dir.join("writer.pub");
    std::fs::write(&public_key, audit::checkpoint::public_key_hex(&key)).unwrap();
    let verify = [
        "audit",
        "verify",
        "--database-url",
        &url,
        "--anchors",
        anchors.path().to_str().unwrap(),
        "--public-key",
        public_key.to_str().unwrap(),
    ];
    let (ok, out) = parcelport(&verify);
    assert!(ok, "{out}");
    assert!(out.contains("reseal 1"), "{out}");
    let (ok, out) = parcelport(&seal);
    assert!(ok && out.contains("nothing to seal"), "{out}");

    sqlx::raw_sql("DELETE FROM event_reseal_entries; DELETE FROM event_reseals")
        .execute(store.pool())
        .await
        .unwrap();
    let (ok, out) = parcelport(&verify);
    assert!(!ok, "{out}");
    assert!(out.contains("the Merkle root differs"), "{out}");
    store.pool().close().await;
}

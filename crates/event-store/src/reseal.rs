//! Resealing (issue #10): the one sanctioned rewrite of stored events, for members' personal
//! data written in plain text before the writer sealed it.
//!
//! Crypto-shredding only reaches data sealed with a member's key, so a store written before
//! sealing existed keeps its plain names and e-mails for good unless they are sealed once, on
//! purpose, by `parcelport audit seal-personal-data`. That rewrites payloads, which changes
//! their chain hashes and every later hash of the same aggregate, and checkpoints recorded (and
//! anchored) before it cover the old hashes. So the rewrite is recorded as a [`Reseal`]: every
//! event whose hash changed, with its old and new hash, signed by the writer's key. The
//! verifier checks checkpoints from before a reseal against the old hashes the record vouches
//! for, and every other link against the rows as they are now; deleting the record makes those
//! checkpoints fail, and a record not signed by a trusted writer is not believed.
//!
//! What is signed, integers big-endian, strings as a u32 byte length then UTF-8:
//!
//! ```text
//! "parcelport/reseal/v1"  resealed_at (i64 microseconds)  event count (u64)
//! per event: str(aggregate_type) str(aggregate_id) sequence (i64) position (i64)
//!            old hash (32) new hash (32) rewritten (1 byte: 1 when its payload was sealed)
//! ```
//!
//! *Architecture Invariant*: nothing else updates a stored event. A rewritten event whose
//! metadata was signed is signed again (the signature covers the payload); one written before
//! the store signed stays unsigned, so the verifier's "unsigned before signing" stays true.

use crate::authorship::{AuthoredFields, EventSigner, SIGNATURE_FIELD};
use crate::chain::ChainedFields;
use crate::chain::{Hash32, GENESIS};
#[cfg(feature = "sqlite")]
use crate::chained::SQLITE_COLUMNS;
use crate::chained::{stored_hash, ChainedEvent, COLUMNS};
use crate::{EventStore, EventStoreError};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::Value;
use sqlx::Row;
use std::collections::BTreeMap;

/// The signed message's version tag.
pub const RESEAL_TAG: &[u8] = b"parcelport/reseal/v1";

/// A new payload for one stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewrite {
    /// The aggregate type.
    pub aggregate_type: String,
    /// The aggregate id.
    pub aggregate_id: String,
    /// The event's sequence.
    pub sequence: i64,
    /// The payload to store instead.
    pub payload: Value,
}

/// One event whose chain hash a reseal changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rehashed {
    /// The aggregate type.
    pub aggregate_type: String,
    /// The aggregate id.
    pub aggregate_id: String,
    /// The sequence.
    pub sequence: i64,
    /// The global position.
    pub position: i64,
    /// The hash before.
    pub old_hash: Hash32,
    /// The hash after.
    pub new_hash: Hash32,
    /// Whether its payload was rewritten (else only its link to a rewritten event changed).
    pub rewritten: bool,
}

/// A recorded reseal: what changed, signed by the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reseal {
    /// Its row id (the order reseals happened in).
    pub id: i64,
    /// When it ran.
    pub resealed_at: DateTime<Utc>,
    /// Every event whose hash changed, in global position order.
    pub events: Vec<Rehashed>,
    /// The writer's public key.
    pub public_key: [u8; 32],
    /// The Ed25519 signature of [`Reseal::signed_message`].
    pub signature: [u8; 64],
}

impl Reseal {
    /// The bytes the signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut message = RESEAL_TAG.to_vec();
        message.extend_from_slice(&self.resealed_at.timestamp_micros().to_be_bytes());
        message.extend_from_slice(&(self.events.len() as u64).to_be_bytes());
        for event in &self.events {
            for text in [&event.aggregate_type, &event.aggregate_id] {
                message.extend_from_slice(&(text.len() as u32).to_be_bytes());
                message.extend_from_slice(text.as_bytes());
            }
            message.extend_from_slice(&event.sequence.to_be_bytes());
            message.extend_from_slice(&event.position.to_be_bytes());
            message.extend_from_slice(&event.old_hash);
            message.extend_from_slice(&event.new_hash);
            message.push(u8::from(event.rewritten));
        }
        message
    }

    /// Whether the signature is valid for the record and its own public key (whether that key
    /// is a trusted writer's is the caller's question).
    pub fn signature_is_valid(&self) -> bool {
        VerifyingKey::from_bytes(&self.public_key).is_ok_and(|key| {
            key.verify(
                &self.signed_message(),
                &Signature::from_bytes(&self.signature),
            )
            .is_ok()
        })
    }

    fn signed(resealed_at: DateTime<Utc>, events: Vec<Rehashed>, key: &SigningKey) -> Reseal {
        let mut reseal = Reseal {
            id: 0,
            resealed_at: DateTime::from_timestamp_micros(resealed_at.timestamp_micros())
                .unwrap_or(resealed_at),
            events,
            public_key: key.verifying_key().to_bytes(),
            signature: [0; 64],
        };
        reseal.signature = key.sign(&reseal.signed_message()).to_bytes();
        reseal
    }
}

/// The rewrites grouped by aggregate, each aggregate's by sequence.
type ByAggregate = BTreeMap<(String, String), BTreeMap<i64, Value>>;

fn by_aggregate(rewrites: Vec<Rewrite>) -> ByAggregate {
    let mut grouped = ByAggregate::new();
    for rewrite in rewrites {
        grouped
            .entry((rewrite.aggregate_type, rewrite.aggregate_id))
            .or_default()
            .insert(rewrite.sequence, rewrite.payload);
    }
    grouped
}

/// What a reseal writes to one stored event: its new payload and metadata text (when
/// rewritten) and its new chain hash.
struct Update {
    position: i64,
    payload: Option<String>,
    metadata: Option<String>,
    hash: Hash32,
}

/// The new metadata of a rewritten event: signed again if it was signed.
fn resigned(
    signer: &EventSigner,
    aggregate: &(String, String),
    row: &ChainedEvent,
    payload: &Value,
) -> Result<Value, EventStoreError> {
    let metadata: Value =
        serde_json::from_str(&row.metadata).map_err(|e| EventStoreError::Malformed {
            position: row.position,
            reason: format!("metadata is not JSON: {e}"),
        })?;
    if metadata.get(SIGNATURE_FIELD).is_none() {
        return Ok(metadata);
    }
    Ok(signer.signed(AuthoredFields {
        aggregate_type: &aggregate.0,
        aggregate_id: &aggregate.1,
        sequence: row.sequence,
        event_type: &row.event_type,
        event_version: &row.event_version,
        payload,
        metadata: &metadata,
    }))
}

/// The updates of one aggregate's `rows` (its events from the first rewritten one on, in
/// sequence order) chained from `previous`, and what each changed. Pure: both backends store
/// the text hashed here (PostgreSQL's `json` keeps the text as given, and its insert trigger
/// computes the same hash, `chain.rs`).
fn rechain(
    signer: &EventSigner,
    aggregate: &(String, String),
    payloads: &BTreeMap<i64, Value>,
    mut previous: Hash32,
    rows: &[ChainedEvent],
) -> Result<Vec<(Update, Rehashed)>, EventStoreError> {
    let found: std::collections::BTreeSet<i64> = rows.iter().map(|row| row.sequence).collect();
    if let Some(sequence) = payloads.keys().find(|sequence| !found.contains(sequence)) {
        return Err(EventStoreError::NoSuchEvent {
            aggregate_type: aggregate.0.clone(),
            aggregate_id: aggregate.1.clone(),
            sequence: *sequence,
        });
    }
    let mut updates = Vec::with_capacity(rows.len());
    for row in rows {
        let rewritten = match payloads.get(&row.sequence) {
            Some(payload) => Some((
                payload.to_string(),
                resigned(signer, aggregate, row, payload)?.to_string(),
            )),
            None => None,
        };
        let (payload, metadata) = rewritten
            .as_ref()
            .map_or((&row.payload, &row.metadata), |(p, m)| (p, m));
        let hash = ChainedFields {
            payload,
            metadata,
            ..row.fields()
        }
        .hash(&previous);
        previous = hash;
        let rehashed = Rehashed {
            aggregate_type: aggregate.0.clone(),
            aggregate_id: aggregate.1.clone(),
            sequence: row.sequence,
            position: row.position,
            old_hash: row.hash,
            new_hash: hash,
            rewritten: rewritten.is_some(),
        };
        let (payload, metadata) = rewritten.unzip();
        updates.push((
            Update {
                position: row.position,
                payload,
                metadata,
                hash,
            },
            rehashed,
        ));
    }
    Ok(updates)
}

/// The statements of a reseal, written once with PostgreSQL's `$N` parameters; SQLite takes
/// the same text with `?N`.
mod statements {
    pub const PREVIOUS_HASH: &str = "SELECT hash FROM events \
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3";
    /// PostgreSQL's `json` columns take text cast to `json`, which keeps it as given.
    pub const UPDATE: &str = "UPDATE events SET payload = COALESCE($1::text::json, payload), \
          metadata = COALESCE($2::text::json, metadata), hash = $3 WHERE position = $4";
    pub const RECORD: &str = "INSERT INTO event_reseals (resealed_at, public_key, signature) \
          VALUES ($1, $2, $3) RETURNING id";
    pub const RECORD_EVENT: &str = "INSERT INTO event_reseal_entries (reseal_id, \
          aggregate_type, aggregate_id, sequence, position, old_hash, new_hash, rewritten) \
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    pub const HEADS: &str =
        "SELECT id, resealed_at, public_key, signature FROM event_reseals ORDER BY id";
    pub const ENTRIES: &str = "SELECT reseal_id, aggregate_type, aggregate_id, sequence, \
          position, old_hash, new_hash, rewritten FROM event_reseal_entries \
          ORDER BY reseal_id, position";

    /// `statement` with SQLite's numbered parameters.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(statement: &str) -> String {
        statement.replace("::text::json", "").replace('$', "?")
    }
}

/// Rows read back as a reseal record's events, keyed by record.
fn entries_by_reseal<R: Row>(rows: &[R]) -> Result<BTreeMap<i64, Vec<Rehashed>>, sqlx::Error>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    let mut events: BTreeMap<i64, Vec<Rehashed>> = BTreeMap::new();
    for row in rows {
        events
            .entry(row.try_get("reseal_id")?)
            .or_default()
            .push(Rehashed {
                aggregate_type: row.try_get("aggregate_type")?,
                aggregate_id: row.try_get("aggregate_id")?,
                sequence: row.try_get("sequence")?,
                position: row.try_get("position")?,
                old_hash: stored_hash(row.try_get("old_hash")?),
                new_hash: stored_hash(row.try_get("new_hash")?),
                rewritten: row.try_get("rewritten")?,
            });
    }
    Ok(events)
}

/// A record's row: id, time, public key, signature.
type Head = (i64, DateTime<Utc>, Vec<u8>, Vec<u8>);

/// The records from their rows (a malformed key or signature reads as zeros: not valid).
fn assemble(heads: Vec<Head>, mut events: BTreeMap<i64, Vec<Rehashed>>) -> Vec<Reseal> {
    heads
        .into_iter()
        .map(|(id, resealed_at, public_key, signature)| Reseal {
            id,
            resealed_at,
            events: events.remove(&id).unwrap_or_default(),
            public_key: public_key.try_into().unwrap_or([0; 32]),
            signature: signature.try_into().unwrap_or([0; 64]),
        })
        .collect()
}

/// A backend's reseal, written once: `$tx` a transaction that holds off appends, `$sql` how
/// a statement of [`statements`] reads there, `$rows` the aggregate's events from a sequence
/// on, `$row` how one becomes a [`ChainedEvent`].
macro_rules! reseal_in {
    ($tx:ident, $rewrites:expr, $key:expr, $sql:expr, $rows:expr, $row:expr) => {{
        let signer = EventSigner::new($key.clone());
        let mut rehashed = Vec::new();
        for (aggregate, payloads) in by_aggregate($rewrites) {
            let first = *payloads
                .keys()
                .next()
                .expect("grouped from one rewrite at least");
            let previous =
                sqlx::query_scalar::<_, Option<Vec<u8>>>(&$sql(statements::PREVIOUS_HASH))
                    .bind(&aggregate.0)
                    .bind(&aggregate.1)
                    .bind(first - 1)
                    .fetch_optional(&mut *$tx)
                    .await?
                    .map_or(GENESIS, stored_hash);
            let rows = sqlx::query($rows)
                .bind(&aggregate.0)
                .bind(&aggregate.1)
                .bind(first)
                .fetch_all(&mut *$tx)
                .await?
                .iter()
                .map($row)
                .collect::<Result<Vec<ChainedEvent>, EventStoreError>>()?;
            for (update, event) in rechain(&signer, &aggregate, &payloads, previous, &rows)? {
                sqlx::query(&$sql(statements::UPDATE))
                    .bind(update.payload)
                    .bind(update.metadata)
                    .bind(&update.hash[..])
                    .bind(update.position)
                    .execute(&mut *$tx)
                    .await?;
                rehashed.push(event);
            }
        }
        rehashed.sort_by_key(|event| event.position);
        let mut reseal = Reseal::signed(Utc::now(), rehashed, $key);
        reseal.id = sqlx::query_scalar(&$sql(statements::RECORD))
            .bind(reseal.resealed_at)
            .bind(&reseal.public_key[..])
            .bind(&reseal.signature[..])
            .fetch_one(&mut *$tx)
            .await?;
        for event in &reseal.events {
            sqlx::query(&$sql(statements::RECORD_EVENT))
                .bind(reseal.id)
                .bind(&event.aggregate_type)
                .bind(&event.aggregate_id)
                .bind(event.sequence)
                .bind(event.position)
                .bind(&event.old_hash[..])
                .bind(&event.new_hash[..])
                .bind(event.rewritten)
                .execute(&mut *$tx)
                .await?;
        }
        reseal
    }};
}

impl EventStore {
    /// Stores each rewrite's payload in place, re-signs what was signed, re-chains every
    /// later event of the aggregates concerned, and records the signed [`Reseal`], in one
    /// transaction that holds off appends, then rewrites the table (`VACUUM FULL`) so the old
    /// text leaves its files. Rewrites of events that do not exist are refused.
    pub async fn reseal(
        &self,
        rewrites: Vec<Rewrite>,
        key: &SigningKey,
    ) -> Result<Reseal, EventStoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let reseal = reseal_in!(
            tx,
            rewrites,
            key,
            |statement: &str| statement.to_owned(),
            &format!(
                "SELECT {COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
                  AND sequence >= $3 ORDER BY sequence"
            ),
            ChainedEvent::from_pg_row
        );
        tx.commit().await?;
        // The old rows stay in the table's files until their space is reused: rewrite the
        // table so that the plain text leaves the disk (the server is stopped meanwhile).
        sqlx::query("VACUUM (FULL) events")
            .execute(self.pool())
            .await?;
        Ok(reseal)
    }

    /// Every recorded [`Reseal`], oldest first (none on a store older than the record).
    pub async fn reseals(&self) -> Result<Vec<Reseal>, EventStoreError> {
        let recorded: bool = sqlx::query_scalar("SELECT to_regclass('event_reseals') IS NOT NULL")
            .fetch_one(self.pool())
            .await?;
        if !recorded {
            return Ok(Vec::new());
        }
        let heads: Vec<Head> = sqlx::query_as(statements::HEADS)
            .fetch_all(self.pool())
            .await?;
        let entries = sqlx::query(statements::ENTRIES)
            .fetch_all(self.pool())
            .await?;
        Ok(assemble(heads, entries_by_reseal(&entries)?))
    }
}

#[cfg(feature = "sqlite")]
impl crate::sqlite::SqliteEventStore {
    /// [`EventStore::reseal`] on the embedded store, in one write transaction, with freed
    /// space zeroed and the write-ahead log checkpointed, so the old text leaves the files.
    pub async fn reseal(
        &self,
        rewrites: Vec<Rewrite>,
        key: &SigningKey,
    ) -> Result<Reseal, EventStoreError> {
        // Freed space is zeroed, so the plain text does not stay in free pages of the file.
        sqlx::query("PRAGMA secure_delete = ON")
            .execute(self.writer())
            .await?;
        let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
        let reseal = reseal_in!(
            tx,
            rewrites,
            key,
            statements::sqlite,
            &format!(
                "SELECT {SQLITE_COLUMNS} FROM events WHERE aggregate_type = ?1 \
                  AND aggregate_id = ?2 AND sequence >= ?3 ORDER BY sequence"
            ),
            ChainedEvent::from_sqlite_row
        );
        tx.commit().await?;
        self.committed();
        // The new pages into the file, over the old ones, and an empty write-ahead log.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(self.writer())
            .await?;
        Ok(reseal)
    }

    /// Every recorded reseal, oldest first (none on a store older than the record).
    pub async fn reseals(&self) -> Result<Vec<Reseal>, EventStoreError> {
        let recorded: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master \
              WHERE type = 'table' AND name = 'event_reseals')",
        )
        .fetch_one(self.reader())
        .await?;
        if !recorded {
            return Ok(Vec::new());
        }
        let heads: Vec<Head> = sqlx::query_as(statements::HEADS)
            .fetch_all(self.reader())
            .await?;
        let entries = sqlx::query(statements::ENTRIES)
            .fetch_all(self.reader())
            .await?;
        Ok(assemble(heads, entries_by_reseal(&entries)?))
    }
}

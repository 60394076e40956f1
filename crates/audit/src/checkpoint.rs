//! [`Checkpoint`]s: Merkle roots over the global order, recorded in `audit_checkpoints`,
//! optionally signed with Ed25519 so a copy kept outside the database proves what it held.
//!
//! A checkpoint covers every event up to its bound `(txid, position)` in the global order of
//! ADR 0002. It is recorded below the transaction-id watermark, where nothing can appear
//! behind the bound any more, so the set it covers is fixed for good: any later difference
//! is tampering. The signed message (`Checkpoint::signed_message`) is
//! `"parcelport/checkpoint/v1" || txid u64 || position i64 || event count u64 || root`,
//! integers big-endian.

use crate::merkle::Peaks;
use crate::AuditError;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use event_store::chain::Hash32;
use event_store::GlobalCursor;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use std::path::Path;

/// The signed message's version tag.
pub const CHECKPOINT_TAG: &[u8] = b"parcelport/checkpoint/v1";

/// A Merkle root over the first `event_count` events of the global order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Its row id.
    pub id: i64,
    /// The last event covered (the start when none).
    pub bound: GlobalCursor,
    /// Events covered.
    pub event_count: u64,
    /// The Merkle root of their chain hashes, in the global order.
    #[serde(with = "crate::hex32")]
    pub root: Hash32,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// The Ed25519 signature, when recorded with a key.
    pub signature: Option<CheckpointSignature>,
}

/// An Ed25519 signature of a checkpoint and the key that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointSignature {
    /// The public key, hex.
    #[serde(with = "crate::hex32")]
    pub public_key: [u8; 32],
    /// The signature, hex.
    #[serde(with = "crate::hex32")]
    pub signature: [u8; 64],
}

impl Checkpoint {
    /// The bytes the signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut message = Vec::with_capacity(CHECKPOINT_TAG.len() + 56);
        message.extend_from_slice(CHECKPOINT_TAG);
        message.extend_from_slice(&self.bound.txid.to_be_bytes());
        message.extend_from_slice(&self.bound.position.to_be_bytes());
        message.extend_from_slice(&self.event_count.to_be_bytes());
        message.extend_from_slice(&self.root);
        message
    }

    /// Whether the signature is valid for the checkpoint and its own public key; `None` when
    /// unsigned. Whether that key is one to trust is the caller's question.
    pub fn signature_is_valid(&self) -> Option<bool> {
        let signed = self.signature.as_ref()?;
        let Ok(key) = VerifyingKey::from_bytes(&signed.public_key) else {
            return Some(false);
        };
        let signature = Signature::from_bytes(&signed.signature);
        Some(key.verify(&self.signed_message(), &signature).is_ok())
    }

    pub(crate) fn sign(&mut self, key: &SigningKey) {
        let signature = key.sign(&self.signed_message());
        self.signature = Some(CheckpointSignature {
            public_key: key.verifying_key().to_bytes(),
            signature: signature.to_bytes(),
        });
    }
}

/// Reads an Ed25519 secret key: a file holding the 32-byte seed as 64 hex digits (make one
/// with `openssl rand -hex 32`).
pub fn read_signing_key(path: &Path) -> Result<SigningKey, AuditError> {
    let seed = read_hex_key(path)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads an Ed25519 public key: a file holding 32 bytes as 64 hex digits.
pub fn read_public_key(path: &Path) -> Result<[u8; 32], AuditError> {
    let key = read_hex_key(path)?;
    VerifyingKey::from_bytes(&key).map_err(|e| AuditError::Key {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(key)
}

fn read_hex_key(path: &Path) -> Result<[u8; 32], AuditError> {
    let text = std::fs::read_to_string(path).map_err(|source| AuditError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut key = [0; 32];
    hex::decode_to_slice(text.trim(), &mut key).map_err(|e| AuditError::Key {
        path: path.to_owned(),
        reason: format!("expected 64 hex digits: {e}"),
    })?;
    Ok(key)
}

/// The public key of `key`, as 64 hex digits.
pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

/// Records a checkpoint over every event committed before the call (it waits for
/// transactions still open, see `source::await_earlier_writers`), signed with `key` if
/// given. Streams every chain hash once (32 bytes an event); run it on demand or periodically
/// (`parcelport serve --checkpoint-every`).
pub async fn record(pool: &PgPool, key: Option<&SigningKey>) -> Result<Checkpoint, AuditError> {
    crate::source::await_earlier_writers(pool).await?;
    let mut hashes = event_store::chained::postgres_hashes_after(pool, GlobalCursor::START);
    let mut peaks = Peaks::default();
    let mut bound = GlobalCursor::START;
    while let Some((cursor, hash)) = hashes.try_next().await? {
        peaks.push(&hash);
        bound = cursor;
    }
    drop(hashes);
    let mut checkpoint = Checkpoint {
        id: 0,
        bound,
        event_count: peaks.len(),
        root: peaks.root(),
        created_at: Utc::now(),
        signature: None,
    };
    if let Some(key) = key {
        checkpoint.sign(key);
    }
    insert(pool, checkpoint).await
}

/// Records `checkpoint` in `audit_checkpoints`: the same with its row id and time.
pub(crate) async fn insert(
    pool: &PgPool,
    mut checkpoint: Checkpoint,
) -> Result<Checkpoint, AuditError> {
    let row = sqlx::query(
        "INSERT INTO audit_checkpoints \
             (bound_txid, bound_position, event_count, root, public_key, signature) \
         VALUES ($1::text::xid8, $2, $3, $4, $5, $6) RETURNING id, created_at",
    )
    .bind(checkpoint.bound.txid.to_string())
    .bind(checkpoint.bound.position)
    .bind(i64::try_from(checkpoint.event_count).unwrap_or(i64::MAX))
    .bind(&checkpoint.root[..])
    .bind(checkpoint.signature.as_ref().map(|s| s.public_key.to_vec()))
    .bind(checkpoint.signature.as_ref().map(|s| s.signature.to_vec()))
    .fetch_one(pool)
    .await?;
    checkpoint.id = row.try_get("id")?;
    checkpoint.created_at = row.try_get("created_at")?;
    Ok(checkpoint)
}

/// Every recorded checkpoint, in the global order of their bounds.
pub async fn list(pool: &PgPool) -> Result<Vec<Checkpoint>, AuditError> {
    let rows = sqlx::query(
        "SELECT id, bound_txid::text AS bound_txid_text, bound_position, event_count, root, \
                created_at, public_key, signature \
           FROM audit_checkpoints ORDER BY bound_txid, bound_position, id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The latest checkpoint, if any.
pub async fn latest(pool: &PgPool) -> Result<Option<Checkpoint>, AuditError> {
    Ok(list(pool).await?.pop())
}

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Checkpoint, AuditError> {
    let id: i64 = row.try_get("id")?;
    let malformed = |reason: String| AuditError::MalformedCheckpoint { id, reason };
    let txid: String = row.try_get("bound_txid_text")?;
    let txid = txid
        .parse()
        .map_err(|_| malformed(format!("bound txid {txid:?}")))?;
    let root: Vec<u8> = row.try_get("root")?;
    let public_key: Option<Vec<u8>> = row.try_get("public_key")?;
    let signature: Option<Vec<u8>> = row.try_get("signature")?;
    let signature = match (public_key, signature) {
        (Some(public_key), Some(signature)) => Some(CheckpointSignature {
            public_key: public_key.try_into().unwrap_or([0; 32]),
            signature: signature.try_into().unwrap_or([0; 64]),
        }),
        _ => None,
    };
    let event_count: i64 = row.try_get("event_count")?;
    Ok(Checkpoint {
        id,
        bound: GlobalCursor {
            txid,
            position: row.try_get("bound_position")?,
        },
        event_count: u64::try_from(event_count).unwrap_or_default(),
        root: Hash32::try_from(root.as_slice()).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        signature,
    })
}

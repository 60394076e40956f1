//! # parcelport audit
//!
//! What an auditor runs (`parcelport audit ...`) to trust the event store: every event is a link
//! of its aggregate's hash chain (`event_store::chain`), and checkpoints commit to the global
//! order with a Merkle root that can be signed and kept outside the database (ADR 0006).
//!
//! Map of the crate:
//! - [`merkle`]: the checkpoint's Merkle tree (RFC 6962 shape), streamed roots and proofs;
//! - [`checkpoint`]: [`Checkpoint`], recording one (optionally signed with Ed25519), listing them;
//! - [`anchor`]: checkpoints by default: [`anchor::Checkpointer`] (incremental, signed with the
//!   writer key) and [`anchor::AnchorFile`], the append-only copy outside the event store;
//! - [`source`]: [`ChainedEvent`], the rows as the chain covers them, from PostgreSQL or SQLite;
//! - [`verify`]: [`Verifier`], every chain and checkpoint re-checked in one pass, and the
//!   typed [`VerifyReport`] naming each [`Break`] (aggregate, sequence, position);
//! - [`export`]: a history as JSON lines (and CSV) with the covering checkpoint and a proof per
//!   event, and [`export::verify_file`], which checks such a file without the database;
//! - [`history`]: an aggregate's events and folded state as of a time or position;
//! - [`personal`]: whether an event's personal data is sealed or erased, as history and
//!   exports show it;
//! - [`replay`]: a view built as of a moment into a scratch instance ([`replay::AsOfFeed`]);
//! - [`seal_legacy`]: the explicit migration sealing personal data a store holds in plain
//!   text, refused unless the store verifies clean first;
//! - [`AuditError`] (`error.rs`): the crate's one error type.

pub mod anchor;
pub mod checkpoint;
mod error;
pub mod export;
pub mod history;
pub mod jetstream_anchor;
pub mod merkle;
pub mod personal;
pub mod replay;
pub mod seal_legacy;
pub mod source;
pub mod verify;

pub use checkpoint::{Checkpoint, CheckpointSignature};
pub use error::AuditError;
pub use source::ChainedEvent;
pub use verify::{Break, EventAt, Verifier, VerifyReport};

/// Fixed-size byte arrays as lowercase hex strings in JSON.
pub(crate) mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0; N];
        hex::decode_to_slice(text, &mut bytes).map_err(serde::de::Error::custom)?;
        Ok(bytes)
    }
}

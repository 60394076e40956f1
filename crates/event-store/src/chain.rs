//! The per-aggregate hash chain (ADR 0006): the canonical encoding of an event and its SHA-256.
//!
//! Defined twice, identically: here, and in SQL (`migrations/0003_event_hash_chain.sql`), where
//! a trigger computes the PostgreSQL column at insert. The SQLite repository and the verifier
//! (`crates/audit`) use this one. The encoding, all integers big-endian:
//!
//! ```text
//! "parcelport/event/v1"            19 ASCII bytes, the encoding's version
//! previous hash                    32 bytes: the aggregate's event at sequence - 1, or zeros
//! str(aggregate_type) str(aggregate_id)
//! sequence                         i64
//! str(event_type) str(event_version)
//! str(payload) str(metadata)       the JSON text exactly as stored
//! event_id                         16 bytes (RFC 4122 order)
//! recorded_at                      i64 microseconds since the Unix epoch
//! position                         i64
//! str(s) = u32 byte length, then the UTF-8 bytes
//! ```
//!
//! The transaction id is left out on purpose: a logical restore renumbers it (ADR 0002).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A SHA-256 digest: an event's chain hash, a Merkle node or root.
pub type Hash32 = [u8; 32];

/// The previous hash of an aggregate's first event.
pub const GENESIS: Hash32 = [0; 32];

/// The encoding's version tag, the first bytes hashed.
pub const EVENT_TAG: &[u8] = b"parcelport/event/v1";

/// What the chain hash of one event covers, borrowed from wherever the event is.
#[derive(Debug, Clone, Copy)]
pub struct ChainedFields<'a> {
    /// `cqrs_es::Aggregate::TYPE`.
    pub aggregate_type: &'a str,
    /// The aggregate instance.
    pub aggregate_id: &'a str,
    /// The event's sequence within its aggregate.
    pub sequence: i64,
    /// `DomainEvent::event_type`.
    pub event_type: &'a str,
    /// `DomainEvent::event_version`.
    pub event_version: &'a str,
    /// The payload's JSON text, byte for byte as stored.
    pub payload: &'a str,
    /// The metadata's JSON text, byte for byte as stored.
    pub metadata: &'a str,
    /// The event id.
    pub event_id: Uuid,
    /// The recorded time; only its microseconds count (both stores keep microseconds).
    pub recorded_at: DateTime<Utc>,
    /// The global position.
    pub position: i64,
}

impl ChainedFields<'_> {
    /// The event's chain hash given the previous event's (or [`GENESIS`]).
    pub fn hash(&self, previous: &Hash32) -> Hash32 {
        let mut hasher = Sha256::new();
        hasher.update(EVENT_TAG);
        hasher.update(previous);
        field(&mut hasher, self.aggregate_type);
        field(&mut hasher, self.aggregate_id);
        hasher.update(self.sequence.to_be_bytes());
        field(&mut hasher, self.event_type);
        field(&mut hasher, self.event_version);
        field(&mut hasher, self.payload);
        field(&mut hasher, self.metadata);
        hasher.update(self.event_id.as_bytes());
        hasher.update(self.recorded_at.timestamp_micros().to_be_bytes());
        hasher.update(self.position.to_be_bytes());
        hasher.finalize().into()
    }
}

fn field(hasher: &mut Sha256, value: &str) {
    // A length above u32::MAX cannot be stored in either database (1 GB field limit).
    let length = u32::try_from(value.len()).unwrap_or(u32::MAX);
    hasher.update(length.to_be_bytes());
    hasher.update(value.as_bytes());
}

/// `time` cut to whole microseconds, the precision the hash covers and both stores keep.
pub fn to_micros(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(time.timestamp_micros()).unwrap_or(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(payload: &str) -> ChainedFields<'_> {
        ChainedFields {
            aggregate_type: "parcel",
            aggregate_id: "p-1",
            sequence: 1,
            event_type: "parcel.arrived",
            event_version: "1",
            payload,
            metadata: "{}",
            event_id: Uuid::nil(),
            recorded_at: DateTime::UNIX_EPOCH,
            position: 1,
        }
    }

    #[test]
    fn every_byte_of_the_payload_and_the_previous_hash_counts() {
        let base = fields(r#"{"a":1}"#).hash(&GENESIS);
        assert_ne!(base, fields(r#"{"a":2}"#).hash(&GENESIS));
        assert_ne!(base, fields(r#"{"a":1}"#).hash(&[1; 32]));
    }

    #[test]
    fn length_prefixes_keep_fields_apart() {
        let mut moved = fields("{}");
        moved.aggregate_type = "parcelp";
        moved.aggregate_id = "-1";
        assert_ne!(fields("{}").hash(&GENESIS), moved.hash(&GENESIS));
    }
}

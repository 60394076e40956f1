//! Authorship (issue #10): the writer signs every event it appends, so that an event written
//! into the store by any other path (an `INSERT` through the ordinary path, whose hash the
//! trigger computes; a row added to the embedded file by hand) is named by `audit verify`.
//!
//! The hash chain (ADR 0006) proves order and integrity; the signature proves who wrote. The
//! writer puts `ed25519:<key id>:<signature in base64>` under [`SIGNATURE_FIELD`] in the
//! event's metadata before it is stored (a string: cqrs-es metadata maps strings to strings), so the chain, and every checkpoint, covers the signature too. What is
//! signed, all integers big-endian, strings as a u32 byte length then UTF-8:
//!
//! ```text
//! "parcelport/authored/v1"   22 ASCII bytes, the encoding's version
//! str(aggregate_type) str(aggregate_id) sequence (i64) str(event_type) str(event_version)
//! str(payload) str(metadata without the signature field)   canonical JSON (keys sorted)
//! ```
//!
//! Canonical JSON is `serde_json`'s serialization of the parsed value (maps keep keys sorted),
//! so the message is the same whether the store keeps the text (SQLite) or `jsonb`
//! (PostgreSQL). The key id is the first 8 bytes of the SHA-256 of the public key, in hex:
//! keys rotate without rewriting history, since each event names the key that signed it and
//! `verify` takes every public key the store was ever written with.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The metadata field that carries an event's signature.
pub const SIGNATURE_FIELD: &str = "signature";

/// The signature scheme named first in the metadata field.
const SCHEME: &str = "ed25519";

/// The encoding's version tag, the first bytes signed.
pub const AUTHORED_TAG: &[u8] = b"parcelport/authored/v1";

/// What an event's signature covers, borrowed from wherever the event is.
#[derive(Debug, Clone, Copy)]
pub struct AuthoredFields<'a> {
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
    /// The payload.
    pub payload: &'a Value,
    /// The metadata (its signature field, if any, is left out of the message).
    pub metadata: &'a Value,
}

impl AuthoredFields<'_> {
    /// The bytes signed.
    pub fn message(&self) -> Vec<u8> {
        let mut message = AUTHORED_TAG.to_vec();
        field(&mut message, self.aggregate_type);
        field(&mut message, self.aggregate_id);
        message.extend_from_slice(&self.sequence.to_be_bytes());
        field(&mut message, self.event_type);
        field(&mut message, self.event_version);
        field(&mut message, &self.payload.to_string());
        let metadata = match self.metadata {
            Value::Object(map) if map.contains_key(SIGNATURE_FIELD) => {
                let mut unsigned = map.clone();
                unsigned.remove(SIGNATURE_FIELD);
                Value::Object(unsigned).to_string()
            }
            other => other.to_string(),
        };
        field(&mut message, &metadata);
        message
    }
}

fn field(message: &mut Vec<u8>, value: &str) {
    let length = u32::try_from(value.len()).unwrap_or(u32::MAX);
    message.extend_from_slice(&length.to_be_bytes());
    message.extend_from_slice(value.as_bytes());
}

/// The id of a public key: the first 8 bytes of its SHA-256, in hex.
pub fn key_id(key: &VerifyingKey) -> String {
    Sha256::digest(key.as_bytes())[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The writer's key, signing what it appends.
pub struct EventSigner {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for EventSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl EventSigner {
    /// A signer with `key`.
    pub fn new(key: SigningKey) -> Self {
        let key_id = key_id(&key.verifying_key());
        Self { key, key_id }
    }

    /// The id of its key, recorded with every signature.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// `metadata` with the signature of the event added under [`SIGNATURE_FIELD`]. Metadata
    /// that is not an object (never written by parcelport) is returned unchanged.
    pub fn signed(&self, fields: AuthoredFields<'_>) -> Value {
        let signature = self.key.sign(&fields.message());
        let mut metadata = fields.metadata.clone();
        if let Value::Object(map) = &mut metadata {
            map.insert(
                SIGNATURE_FIELD.to_owned(),
                Value::String(format!(
                    "{SCHEME}:{}:{}",
                    self.key_id,
                    BASE64.encode(signature.to_bytes())
                )),
            );
        }
        metadata
    }
}

/// Who wrote an event, as far as its signature tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorship {
    /// Signed by a trusted key.
    Signed {
        /// The key's id.
        key_id: String,
    },
    /// No signature.
    Unsigned,
    /// Signed by a key that is not trusted (or not given to the verifier).
    UnknownKey {
        /// The key id the event names.
        key_id: String,
    },
    /// The signature does not match the event: the event was changed, or forged.
    Invalid {
        /// The key id the event names.
        key_id: String,
    },
}

/// What an event's signature claims, before the signature itself is checked.
#[derive(Debug, Clone)]
pub enum Claim {
    /// Decided without checking a signature: none, another key's, or unreadable.
    Decided(Authorship),
    /// Signed by a trusted key: valid if the signature verifies.
    Check(Box<SignatureCheck>),
}

/// A signature to check against the trusted key it names.
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    /// The key's id.
    pub key_id: String,
    /// The trusted key it names.
    pub key: VerifyingKey,
    /// The bytes signed.
    pub message: Vec<u8>,
    /// The signature.
    pub signature: Signature,
}

/// What the event `fields` claims about its writer, against the `trusted` public keys.
pub fn claim(fields: AuthoredFields<'_>, trusted: &[VerifyingKey]) -> Claim {
    let Some(signature) = fields.metadata.get(SIGNATURE_FIELD) else {
        return Claim::Decided(Authorship::Unsigned);
    };
    let mut parts = signature.as_str().unwrap_or_default().splitn(3, ':');
    let (scheme, key_id, encoded) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default(),
    );
    let Some(key) = trusted.iter().find(|key| self::key_id(key) == key_id) else {
        return Claim::Decided(Authorship::UnknownKey { key_id });
    };
    let bytes = Some(encoded)
        .filter(|_| scheme == SCHEME)
        .and_then(|text| BASE64.decode(text).ok())
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok());
    match bytes {
        Some(bytes) => Claim::Check(Box::new(SignatureCheck {
            key_id,
            key: *key,
            message: fields.message(),
            signature: Signature::from_bytes(&bytes),
        })),
        None => Claim::Decided(Authorship::Invalid { key_id }),
    }
}

/// Who wrote the event `fields`, checked against the `trusted` public keys.
pub fn authorship(fields: AuthoredFields<'_>, trusted: &[VerifyingKey]) -> Authorship {
    settle(vec![claim(fields, trusted)])
        .pop()
        .unwrap_or(Authorship::Unsigned)
}

/// The authorship of each claim, in order. The signatures are verified together as one
/// Ed25519 batch (about half the cost of checking each); when the batch fails, each is checked
/// on its own, so the forged ones are named.
pub fn settle(claims: Vec<Claim>) -> Vec<Authorship> {
    let checks: Vec<(&[u8], Signature, VerifyingKey)> = claims
        .iter()
        .filter_map(|claim| match claim {
            Claim::Check(check) => Some((check.message.as_slice(), check.signature, check.key)),
            Claim::Decided(_) => None,
        })
        .collect();
    let all_valid = checks.len() > 1 && {
        let messages: Vec<&[u8]> = checks.iter().map(|(m, _, _)| *m).collect();
        let signatures: Vec<Signature> = checks.iter().map(|(_, s, _)| *s).collect();
        let keys: Vec<VerifyingKey> = checks.iter().map(|(_, _, k)| *k).collect();
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    };
    claims
        .into_iter()
        .map(|claim| match claim {
            Claim::Decided(authorship) => authorship,
            Claim::Check(check) => {
                let SignatureCheck {
                    key_id,
                    key,
                    message,
                    signature,
                } = *check;
                if all_valid || key.verify(&message, &signature).is_ok() {
                    Authorship::Signed { key_id }
                } else {
                    Authorship::Invalid { key_id }
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event<'a>(payload: &'a Value, metadata: &'a Value) -> AuthoredFields<'a> {
        AuthoredFields {
            aggregate_type: "account",
            aggregate_id: "acct-1",
            sequence: 2,
            event_type: "account.top_up_approved",
            event_version: "1",
            payload,
            metadata,
        }
    }

    #[test]
    fn a_signed_event_verifies_and_any_change_or_other_key_does_not() {
        let signer = EventSigner::new(SigningKey::from_bytes(&[7; 32]));
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        let trusted = [SigningKey::from_bytes(&[7; 32]).verifying_key()];
        let payload = json!({ "top_up_approved": { "amount": "300000" } });
        let metadata = json!({ "actor": "ops", "rule": "ACC-2" });
        let signed = signer.signed(event(&payload, &metadata));
        assert_eq!(
            authorship(event(&payload, &signed), &trusted),
            Authorship::Signed {
                key_id: signer.key_id().to_owned()
            }
        );
        // The same JSON re-read with its keys in another order verifies (jsonb reorders).
        let reordered: Value = serde_json::from_str(&signed.to_string()).unwrap();
        assert!(matches!(
            authorship(event(&payload, &reordered), &trusted),
            Authorship::Signed { .. }
        ));
        let raised = json!({ "top_up_approved": { "amount": "9300000" } });
        assert!(matches!(
            authorship(event(&raised, &signed), &trusted),
            Authorship::Invalid { .. }
        ));
        assert!(matches!(
            authorship(event(&payload, &signed), &[other]),
            Authorship::UnknownKey { .. }
        ));
        assert_eq!(
            authorship(event(&payload, &metadata), &trusted),
            Authorship::Unsigned
        );
    }

    #[test]
    fn a_batch_with_one_forged_signature_names_it_and_only_it() {
        let signer = EventSigner::new(SigningKey::from_bytes(&[7; 32]));
        let trusted = [SigningKey::from_bytes(&[7; 32]).verifying_key()];
        let metadata = json!({ "actor": "ops" });
        let payloads: Vec<Value> = (0..5)
            .map(|n| json!({ "top_up_approved": { "amount": n.to_string() } }))
            .collect();
        let signed: Vec<Value> = payloads
            .iter()
            .map(|payload| signer.signed(event(payload, &metadata)))
            .collect();
        let claims = |payloads: &[Value]| -> Vec<Claim> {
            payloads
                .iter()
                .zip(&signed)
                .map(|(payload, metadata)| claim(event(payload, metadata), &trusted))
                .collect()
        };
        assert!(settle(claims(&payloads))
            .iter()
            .all(|a| matches!(a, Authorship::Signed { .. })));
        let mut forged = payloads.clone();
        forged[3] = json!({ "top_up_approved": { "amount": "9300000" } });
        let settled = settle(claims(&forged));
        for (index, authorship) in settled.iter().enumerate() {
            assert_eq!(
                matches!(authorship, Authorship::Invalid { .. }),
                index == 3,
                "{index}: {authorship:?}"
            );
        }
    }
}

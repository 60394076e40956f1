//! Sealing members' personal data written in plain text before the writer sealed it (issue
//! #10): the explicit migration `parcelport audit seal-personal-data` runs, once, on a stopped
//! store.
//!
//! Crypto-shredding reaches only what is sealed with a member's key, so such a store keeps
//! plain names and e-mails for good unless they are sealed. [`seal_personal_data`]:
//! 1. verifies the whole store first (chains, signatures, checkpoints, anchors) and refuses on
//!    any break: rewriting after an edit nobody noticed would chain the edit as genuine;
//! 2. seals every plain personal field (`domain::personal::FIELDS`) with its member's key; a
//!    member whose key is already erased gets the stand-ins, as erasure promised;
//! 3. has the event store rewrite and re-chain those events and record the signed reseal
//!    (`event_store::reseal`), which lets checkpoints from before it still verify;
//! 4. records a signed checkpoint of the result and anchors it, so the new hashes are covered
//!    from the start.
//!
//! Copies made before it (views, subscribers' copies of the stream) still hold the plain text:
//! the views are rebuilt (`parcelport rebuild`), the rest is outside the store's reach.

use crate::anchor::{AnchorFile, Checkpointer, HashSource};
use crate::source::{self, ChainedEvent};
use crate::verify::{self, Anchors, VerifyReport};
use crate::{checkpoint, AuditError, Checkpoint};
use domain::personal::{fields_of, holds_personal_data, is_sealed};
use ed25519_dalek::SigningKey;
use event_store::reseal::{Reseal, Rewrite};
use event_store::sqlite::SqliteEventStore;
use event_store::EventStore;
use futures::{Stream, TryStreamExt};
use personal_data::{PersonalData, PersonalDataError};
use serde_json::Value;

/// The store a reseal runs on.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// PostgreSQL: checkpoints are recorded in the store too.
    Postgres(&'a EventStore),
    /// The embedded store: the anchor file is the only record of checkpoints.
    Sqlite(&'a SqliteEventStore),
}

/// What [`seal_personal_data`] did.
#[derive(Debug)]
pub struct Sealed {
    /// The verification it ran first (clean, or it would have refused).
    pub verified: VerifyReport,
    /// The recorded reseal; `None` when nothing was plain.
    pub reseal: Option<Reseal>,
    /// Members whose data was erased before the reseal: their plain fields got stand-ins.
    pub erased_members: u64,
    /// The checkpoint recorded after it.
    pub checkpoint: Option<Checkpoint>,
}

/// Seals every plain personal field of the store; see the module documentation. `anchors`
/// are the checkpoints anchored so far and the trusted writers' keys (include `key`'s);
/// `anchor_file` receives the checkpoint recorded after (required on the embedded store,
/// which records checkpoints nowhere else).
pub async fn seal_personal_data(
    target: Target<'_>,
    personal: &PersonalData,
    key: &SigningKey,
    anchors: &Anchors,
    anchor_file: Option<&AnchorFile>,
    progress: impl FnMut(u64),
) -> Result<Sealed, AuditError> {
    let verified = match target {
        Target::Postgres(store) => {
            verify::verify_postgres_anchored(store.pool(), anchors, progress).await?
        }
        Target::Sqlite(store) => verify::verify_sqlite_anchored(store, anchors, progress).await?,
    };
    if let Some(first) = verified.first_break() {
        return Err(AuditError::NotClean {
            breaks: verified.breaks.len(),
            first: first.to_string(),
        });
    }
    let (rewrites, erased_members) = match target {
        Target::Postgres(store) => {
            plain_fields(source::postgres_events(store.pool()), personal).await?
        }
        Target::Sqlite(store) => plain_fields(source::sqlite_events(store), personal).await?,
    };
    if rewrites.is_empty() {
        return Ok(Sealed {
            verified,
            reseal: None,
            erased_members,
            checkpoint: None,
        });
    }
    let reseal = match target {
        Target::Postgres(store) => store.reseal(rewrites, key).await?,
        Target::Sqlite(store) => store.reseal(rewrites, key).await?,
    };
    let checkpoint = match (target, anchor_file) {
        (Target::Postgres(store), None) => Some(checkpoint::record(store.pool(), Some(key)).await?),
        (Target::Sqlite(_), None) => None,
        (target, Some(file)) => {
            let source = match target {
                Target::Postgres(store) => HashSource::Postgres(store.pool().clone()),
                Target::Sqlite(store) => HashSource::Sqlite(store.clone()),
            };
            Checkpointer::new(source, key.clone(), file.clone())?
                .checkpoint()
                .await?
        }
    };
    Ok(Sealed {
        verified,
        reseal: Some(reseal),
        erased_members,
        checkpoint,
    })
}

/// The rewrites sealing every plain personal field of `events`, and how many members' data
/// was already erased (their fields get the stand-ins).
async fn plain_fields<S>(
    events: S,
    personal: &PersonalData,
) -> Result<(Vec<Rewrite>, u64), AuditError>
where
    S: Stream<Item = Result<ChainedEvent, AuditError>>,
{
    let mut events = std::pin::pin!(events);
    let mut rewrites = Vec::new();
    let mut erased = std::collections::BTreeSet::new();
    while let Some(event) = events.try_next().await? {
        if !holds_personal_data(&event.event_type) {
            continue;
        }
        let payload: Value =
            serde_json::from_str(&event.payload).map_err(|e| AuditError::Decode {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                sequence: event.sequence,
                reason: e.to_string(),
            })?;
        let plain = |value: &Value| !value.is_null() && !is_sealed(value);
        if !fields_of(&event.event_type).any(|f| payload.pointer(f.pointer).is_some_and(plain)) {
            continue;
        }
        let sealed = match personal
            .seal(
                &event.aggregate_type,
                &event.aggregate_id,
                &event.event_type,
                &payload,
            )
            .await
        {
            Ok(sealed) => sealed,
            Err(PersonalDataError::Erased(member)) => {
                erased.insert(member);
                let mut stood_in = payload;
                for field in fields_of(&event.event_type) {
                    if let Some(value) = stood_in.pointer_mut(field.pointer) {
                        if plain(value) {
                            *value = field.stand_in.value();
                        }
                    }
                }
                stood_in
            }
            Err(other) => return Err(other.into()),
        };
        rewrites.push(Rewrite {
            aggregate_type: event.aggregate_type,
            aggregate_id: event.aggregate_id,
            sequence: event.sequence,
            payload: sealed,
        });
    }
    Ok((rewrites, erased.len() as u64))
}

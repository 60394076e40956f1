//! [`AuditError`], the one error type of the audit crate.

use std::path::PathBuf;

/// What can stop an audit operation. A broken chain is not an error: it is a finding, reported
/// in a [`crate::VerifyReport`].
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A query on the event store failed.
    #[error("event store query failed")]
    Query(#[from] sqlx::Error),
    /// The event store itself failed.
    #[error(transparent)]
    Store(#[from] event_store::EventStoreError),
    /// The projection runtime failed while replaying a view.
    #[error("the replay failed")]
    Replay(#[from] projection_runtime::RuntimeError),
    /// A file could not be read or written.
    #[error("could not read or write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The JetStream anchor stream could not be reached, created, written or read.
    #[error("JetStream anchors at {url}: {reason}")]
    Anchors {
        /// The anchors' `nats://` address.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A key file does not hold a 32-byte key as 64 hex digits.
    #[error("key file {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An export file is not in the format `export` writes.
    #[error("export line {line}: {reason}")]
    ExportFormat {
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An export needs a checkpoint that covers it, and none is recorded.
    #[error("no checkpoint is recorded yet: record one with `parcelport audit checkpoint`")]
    NoCheckpoint,
    /// The store no longer matches the checkpoint an export would rest on.
    #[error("the store no longer matches checkpoint {checkpoint}: run `parcelport audit verify`")]
    StoreDiffersFromCheckpoint {
        /// The checkpoint's id.
        checkpoint: i64,
    },
    /// A recorded checkpoint row is malformed.
    #[error("checkpoint {id} is malformed: {reason}")]
    MalformedCheckpoint {
        /// Its id.
        id: i64,
        /// What is wrong.
        reason: String,
    },
    /// A member's key could not be read or used.
    #[error(transparent)]
    PersonalData(#[from] personal_data::PersonalDataError),
    /// The store did not verify clean, so it is not rewritten (that would launder the break).
    #[error(
        "the store does not verify ({breaks} broken link(s), the first: {first}): refusing to \
         rewrite it, which would chain the break as genuine"
    )]
    NotClean {
        /// How many breaks.
        breaks: usize,
        /// The first one.
        first: String,
    },
    /// An aggregate type this tool does not know.
    #[error("unknown aggregate type {0:?}: one of member, account, parcel, shipment")]
    UnknownAggregate(String),
    /// A stored event does not decode as its aggregate's event, even after upcasting.
    #[error("event {aggregate_type} {aggregate_id} #{sequence} does not decode: {reason}")]
    Decode {
        /// The aggregate type.
        aggregate_type: String,
        /// The aggregate id.
        aggregate_id: String,
        /// The event's sequence.
        sequence: i64,
        /// The decoder's message.
        reason: String,
    },
}

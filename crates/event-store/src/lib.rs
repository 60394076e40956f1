//! # parcelport event store
//!
//! The PostgreSQL event store every parcelport service writes through and every projection and
//! relay reads from. It owns the `events` and `snapshots` tables and their migrations; the
//! domain crate knows nothing of it.
//!
//! Map of the crate:
//! - [`EventStore`] (`store.rs`): the connection pool, [`EventStore::migrate`], and the
//!   `postgres-es` command side ([`EventStore::cqrs`]) for any `cqrs_es::Aggregate`;
//! - [`CommandMetadata`] (`metadata.rs`): who issued a command and why, stored with each event;
//! - the global reader: [`GlobalCursor`] (`cursor.rs`), [`StoredEvent`] (`stored_event.rs`),
//!   [`EventStore::read_after`] (`global_order.rs`) and [`EventStore::tail`] (`tail.rs`);
//! - [`EventStoreError`] (`error.rs`): the one error type of the crate.
//!
//! *Architecture Invariant*: the global order is `(txid, position)`, read only below the
//! transaction-id watermark `pg_snapshot_xmin(pg_current_snapshot())`. A reader never moves
//! its cursor past an event that could still appear behind it, and never skips a gap on a timer:
//! an open transaction delays readers, it cannot make them lose events. See
//! `docs/adr/0002-commit-safe-global-order.md`.
//!
//! *Architecture Invariant*: `postgres-es` writes the tables unchanged. It inserts only its own
//! seven columns; everything this crate adds has a default or is generated.

mod cursor;
mod error;
mod global_order;
mod metadata;
mod store;
mod stored_event;
mod tail;

pub use cursor::GlobalCursor;
pub use error::EventStoreError;
pub use metadata::CommandMetadata;
pub use store::{EventStore, PostgresCqrs};
pub use stored_event::StoredEvent;
pub use tail::TailOptions;

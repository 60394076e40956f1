//! # parcelport event store
//!
//! The PostgreSQL event store every parcelport service writes through and every projection and
//! relay reads from. It owns the `events` and `snapshots` tables and their migrations; the
//! domain crate knows nothing of it. With the `sqlite` feature it also holds the embedded
//! backend (`sqlite`): the same events in one SQLite file, read through the same types.
//!
//! Map of the crate:
//! - [`EventStore`] (`store.rs`): the connection pool, [`EventStore::migrate`], and the
//!   `postgres-es` command side ([`EventStore::cqrs`]) for any `cqrs_es::Aggregate`;
//! - [`CommandMetadata`] (`metadata.rs`): who issued a command and why, stored with each event;
//! - the global reader: [`GlobalCursor`] (`cursor.rs`), [`StoredEvent`] (`stored_event.rs`),
//!   [`EventStore::read_after`] (`global_order.rs`) and [`EventStore::tail`] (`tail.rs`);
//! - [`EventLog`] (`log.rs`): the global read (`read_after`, `tail`, `head`, `backlog`) both
//!   backends implement, so projections, the relay and the query API are written once;
//! - `sqlite` (feature `sqlite`): `SqliteEventStore` (a data directory, WAL, one writer
//!   connection) and `SqliteEventRepository`, cqrs-es's repository on it;
//! - [`chain`]: the canonical encoding and SHA-256 of the per-aggregate hash chain
//!   (ADR 0006); PostgreSQL computes it in a trigger, the SQLite repository here;
//! - [`chained`]: the rows as the chain covers them, for the auditor's tools (every event with
//!   its hash, selections, hashes alone, an aggregate's history), and the watermark wait;
//! - [`reseal`]: the one sanctioned rewrite of stored events, sealing members' personal data
//!   written in plain text before the writer sealed it, recorded and signed (issue #10);
//! - [`EventStoreError`] (`error.rs`): the one error type of the crate.
//!
//! *Architecture Invariant*: the global order is `(txid, position)`, read only below the
//! transaction-id watermark `pg_snapshot_xmin(pg_current_snapshot())`. A reader never moves
//! its cursor past an event that could still appear behind it, and never skips a gap on a timer:
//! an open transaction delays readers, it cannot make them lose events. See
//! `docs/adr/0002-commit-safe-global-order.md`. On SQLite, which runs one write transaction at
//! a time, the position is already the commit order and the cursor's `txid` is 0 (same ADR).
//!
//! *Architecture Invariant*: this crate is the only one that reads or writes `events` (with
//! SQL): the global order (`global_order`, `tail`), a reader's head and backlog
//! ([`EventLog::head`], [`EventLog::backlog`]), the chain as the auditor's tools read it
//! ([`chained`]), a keyed request's events ([`EventStore::appended_by_request`]), the one
//! sanctioned rewrite ([`reseal`]) and bulk loading for benchmarks (`bulk.rs`) are all here, so a
//! rule about reading the store (ADR 0002's watermark) is kept in one place. Tests that play
//! an attacker write to the table directly; nothing else does.
//!
//! *Architecture Invariant*: `postgres-es` writes the tables unchanged. It inserts only its own
//! seven columns; everything this crate adds has a default, is generated, or (the chain
//! `hash`) is computed by a trigger at insert.

pub mod authorship;
mod bulk;
pub mod chain;
pub mod chained;
mod cursor;
mod error;
mod global_order;
mod log;
pub mod metadata;
mod repository;
pub mod reseal;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod store;
mod stored_event;
mod tail;

pub use cursor::GlobalCursor;
pub use error::EventStoreError;
pub use log::{Backlog, EventLog};
pub use metadata::CommandMetadata;
pub use repository::PostgresRepository;
pub use store::{pool_options, AppendedByRequest, EventStore, PostgresCqrs};
pub use stored_event::StoredEvent;
pub use tail::TailOptions;

//! # parcelport projection runtime
//!
//! Turns a stream of stored events into read models, exactly once, whatever the feed. A
//! projection is a pure reducer from an event to view changes plus the code that writes those
//! changes; this crate feeds it, batches it, and commits the changes with its bookkeeping in one
//! transaction, on PostgreSQL or on SQLite. It knows nothing of the domain: `projections/` holds the views.
//!
//! Map of the crate:
//! - [`EventEnvelope`] (`envelope.rs`): one event as every projection sees it;
//! - [`ViewDb`], [`ViewConn`], [`Dialect`] (`db.rs`): where views live, PostgreSQL or (feature
//!   `sqlite`) an embedded SQLite file, and one connection of it inside a batch;
//! - [`Projection`] and [`ReduceError`] (`projection.rs`): the pure reducer and its storage side;
//! - [`TableSpec`] and [`rows`] (`rows.rs`): view tables, loaded and written as JSON rows in bulk,
//!   on either backend;
//! - [`Feed`] (`feed.rs`) and [`StoreFeed`] (`store_feed.rs`): where events come from;
//!   `JetStreamFeed` (`jetstream_feed.rs`, feature `jetstream`): the relay's stream through a
//!   durable pull consumer, acknowledged after each batch commits;
//! - [`Schema`] and [`catalog`] (`catalog.rs`): one schema (SQLite: table prefix) per view
//!   instance, and the pointer `projections.views` (SQLite: `projections_views`) that says which
//!   instance serves;
//! - `batch.rs`: one batch in one transaction: sequence guard, reduce, park, apply;
//! - [`Projector`] (`projector.rs`): the loop over a feed, with retries and metrics;
//! - [`parked`] (`parked.rs`): parked events, listed and replayed;
//! - [`rebuild()`] (`rebuild.rs`): blue/green rebuilds from the event store;
//! - [`view_hash`] (`hash.rs`): a canonical hash of a view's tables;
//! - [`metrics`](crate::metric) (`metric.rs`): metric names.
//!
//! *Architecture Invariant*: a view instance's changes, its per-aggregate applied sequences, its
//! parked events and its checkpoint live in its own schema (on SQLite: its own table prefix, in
//! one views file) and change only together, in one transaction. An event at or below its aggregate's applied sequence changes nothing, so any
//! redelivery, replay or restart is harmless. See `docs/adr/0004-exactly-once-projections.md`
//! and, for SQLite, `docs/adr/0005-views-on-the-embedded-store.md`.
//!
//! *Architecture Invariant*: a view's storage code is written once, against [`ViewConn`] and
//! [`rows`]; only SQL text differs per [`Dialect`], and SQLite never sums money in SQL.
//!
//! *Architecture Invariant*: reducers are pure. Everything that depends on "now" is computed
//! at query time, never stored, so a rebuild yields the same tables as the live view.

mod batch;
pub mod catalog;
mod db;
mod envelope;
mod error;
mod feed;
mod hash;
#[cfg(feature = "jetstream")]
mod jetstream_feed;
pub mod metric;
pub mod parked;
mod projection;
mod projector;
mod rebuild;
pub mod rows;
mod store_feed;

pub use catalog::Schema;
#[cfg(feature = "sqlite")]
pub use db::SqliteViews;
pub use db::{sqlite_timestamp, Dialect, ViewConn, ViewDb, ViewTx};
pub use envelope::{AggregateKey, EventEnvelope};
pub use error::RuntimeError;
pub use feed::{Feed, FeedError};
pub use hash::{view_hash, ViewHash};
#[cfg(feature = "jetstream")]
pub use jetstream_feed::{JetStreamFeed, JetStreamOptions};
pub use projection::{Projection, ReduceError};
pub use projector::{
    BatchOutcome, Projector, ProjectorOptions, ProjectorStatus, StatusHandle, Step, Target,
};
pub use rebuild::{rebuild, upgrade, Progress, RebuildOptions, RebuildReport, RebuildSource};
pub use rows::TableSpec;
pub use store_feed::StoreFeed;

#[cfg(test)]
mod send_bounds;

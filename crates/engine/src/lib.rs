//! # parcelport engine
//!
//! The write side's application layer: the one place that turns a user's intention into
//! domain commands, across aggregates, over the event store. The HTTP API and the embedded
//! all-in-one mode call it; it knows nothing of HTTP.
//!
//! Map of the crate:
//! - [`Engine`] (`engine.rs`): one cqrs-es `PersistedEventStore` per aggregate over a shared
//!   `PersistedEventRepository` (generic: PostgreSQL in [`PgEngine`], the embedded SQLite in
//!   `SqliteEngine` with the `sqlite` feature), the policy, a [`Clock`]
//!   and an [`IdGenerator`]; [`Engine::execute`] issues one command with bounded conflict
//!   retries and returns what it appended ([`Executed`]);
//! - [`EngineAggregate`] (`aggregate.rs`): the four aggregates as the engine drives them, and
//!   which of their commands carry facts only a use case may supply;
//! - `facts.rs`: the facts looked up for commands (`Member::standing`, `Parcel::facts`, STO-1's
//!   earliest waiting arrival, PAY-2's held shipment);
//! - [`use_cases`]: one file per use case spanning aggregates, with compensation;
//! - `request.rs`: one request's steps and its idempotency key; [`EngineStore`] (`store.rs`)
//!   the engine's own tables, [`PgEngineStore`] (`postgres.rs`) in PostgreSQL,
//!   `SqliteEngineStore` (`sqlite.rs`, feature `sqlite`) in the embedded file;
//! - [`EngineError`] (`error.rs`), [`CommandContext`] (`context.rs`), [`EngineConfig`]
//!   (`config.rs`), [`Clock`] (`clock.rs`), ids (`ids.rs`).
//!
//! *Architecture Invariant*: a fact about another aggregate in a command (a member's
//! standing, a parcel's measurements, a held shipment) is read by the engine from the owning
//! aggregate, never taken from the caller: `Engine::execute` refuses the commands that carry
//! one, and their use cases look the fact up.
//!
//! *Architecture Invariant*: no two racing requests both pass a check only one can satisfy.
//! The engine takes no lock for it: every such check belongs to one aggregate (CON-3 the
//! parcel, PAY-1 the shipment and the account, ACC-4 the account), whose optimistic
//! concurrency makes the loser decide again on the winner's state.
//!
//! *Architecture Invariant*: compensation appends, it never deletes: a released reservation
//! is `parcel.released`, a payment the shipment refused is credited back as `payment_reversal`.

mod aggregate;
mod clock;
mod config;
mod context;
mod engine;
mod error;
mod facts;
pub mod ids;
mod postgres;
mod request;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
pub mod use_cases;

pub use aggregate::{EngineAggregate, SharedRepository, Stores};
pub use clock::{Clock, SystemClock, TestClock};
pub use config::{EngineConfig, IdempotencyConfig, RetryPolicy};
pub use context::{CommandContext, IdempotencyKey};
pub use engine::{Appended, Engine, Executed, Loaded, PgEngine};
pub use error::EngineError;
pub use ids::{IdGenerator, UuidV7Ids};
pub use postgres::PgEngineStore;
pub(crate) use request::Request;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteEngine, SqliteEngineStore};
pub use store::{EngineStore, KeyClaim, RecordedEvent};

//! # parcelport all-in-one
//!
//! The `parcelport` command: the whole system in one process. By default it is embedded: the
//! command API over the engine on a SQLite file in a data directory, and the projectors
//! (storage status, billing, audit) fed in-process from it into a SQLite views file beside it;
//! nothing to install. With a PostgreSQL URL it runs the same API and projectors on PostgreSQL,
//! and with a NATS URL the outbox relay too.
//!
//! Map of the crate:
//! - [`serve`]: [`Server::open`] prepares the store, the engine, the views and the tokens from a
//!   [`ServeConfig`]; [`Server::views`] is the view queries' handle; [`Server::run`] serves the
//!   API on a listener and runs the projectors (and the relay) until `shutdown`, then stops them
//!   all and waits for them.
//! - [`tokens`]: the token file: generated on first start with random secrets (only their
//!   SHA-256 stored), and the `token hash` / `token new` helpers.
//! - `main.rs`: flags, logs, signals; nothing else.
//!
//! *Architecture Invariant*: no code here decides anything about parcels: this crate only
//! wires the API, the engine, the projections and the relay that exist in their own crates.

pub mod serve;
pub mod tokens;

pub use serve::{
    CheckpointEvery, NotifierConfig, ServeConfig, ServeError, Server, StoreChoice, WriterKey,
    KEYS_FILE, VIEWS_FILE,
};
pub use tokens::IssuedToken;

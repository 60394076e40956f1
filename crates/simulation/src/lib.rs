//! # parcelport simulation
//!
//! Realistic event histories for tests and benchmarks, without a line of hand-written event
//! JSON: a seeded random warehouse issues commands to the domain aggregates, decides them with
//! their pure `decide`, evolves them with `evolve`, and keeps each command that was accepted.
//! The commands are then played through the event store's `postgres-es` command side
//! ([`play`]), which decides them again against the stored events and appends the same events;
//! benchmarks that need a million events append the decided events in bulk instead
//! ([`append`]), or take them serialized in issue order ([`serialized_events`]) to load them
//! their own way.
//!
//! Map of the crate:
//! - [`Simulation`] (`world.rs`): the warehouse's state, the random choice of the next flow, and
//!   the record of accepted commands ([`SimCommand`]);
//! - `flows.rs`: the flows, one business story each (a member registers, a parcel arrives, a
//!   shipment is paid, a parcel is disposed of, a member withdraws, ...);
//! - `play.rs`: [`play`], [`append`] and [`serialized_events`].
//!
//! The same seed and the same policy give the same commands, in the same order.

mod flows;
mod play;
mod world;

pub use play::{append, play, serialized_events, PlayError};
pub use world::{AnyCommand, AnyEvents, SimCommand, Simulation};

//! # parcelport domain
//!
//! The business rules of a package-forwarding warehouse as event-sourced aggregates.
//! Everything else in parcelport depends on this crate; it depends on no other crate of
//! the workspace, and does no I/O: no clock, no randomness, no database, no network.
//! Time, ids and facts looked up elsewhere (a parcel's weight, an exchange rate) arrive
//! inside the command; operator policy arrives as [`Services`].
//!
//! Map of the crate:
//! - values: [`money`] (decimal money with a currency, explicit rounding), [`exchange`]
//!   (recorded exchange rates, MON-3 rates), [`calendar`] (month arithmetic, business days),
//!   [`measure`] (grams and millimetres), [`ids`] (parsed ids and suite codes);
//! - [`policy`]: the operator profiles `jp-forwarding` and `cn-agency`, versioned;
//! - [`rules`]: the rule catalog ids and the [`rules::Refusal`] trait every command error implements;
//! - [`upcast`]: event versions, and the upcasters that read older versions as the current one;
//! - [`personal`]: which event fields hold a member's personal data (sealed by the writer);
//! - the aggregates: [`member`], [`account`] (the prepaid charge account), [`parcel`]
//!   (a box in the warehouse) and [`shipment`] (what is packed from parcels, paid, shipped
//!   and claimed against).
//!
//! Each aggregate decides with one pure function, `decide(&self, command, policy) ->
//! Result<Vec<Event>, Error>`, and evolves with `evolve(&mut self, event)`, which cannot fail.
//! The `cqrs_es::Aggregate` implementation is a thin adapter over those two.

pub mod account;
pub mod calendar;
pub mod exchange;
pub mod facts;
pub mod ids;
pub mod measure;
pub mod member;
pub mod money;
pub mod parcel;
pub mod personal;
pub mod policy;
pub mod rules;
pub mod shipment;
pub mod upcast;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use policy::{Policy, PolicyVersion};
pub use rules::{Refusal, Rule};

/// A command with the instant it was issued. The domain never reads a clock (TIM-1): the
/// caller stamps each command, and every deadline is computed from that stamp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issued<C> {
    /// When the command was issued.
    pub at: DateTime<Utc>,
    /// The command.
    pub command: C,
}

impl<C> Issued<C> {
    /// `command`, issued at `at`.
    pub fn at(at: DateTime<Utc>, command: C) -> Self {
        Self { at, command }
    }
}

/// What every aggregate's decisions may consult besides its own state: the operator policy
/// in force. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Services {
    /// The policy in force when the command is handled.
    pub policy: Arc<Policy>,
}

impl Services {
    /// Services over `policy`.
    pub fn new(policy: Policy) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }
}

/// Implements `cqrs_es::Aggregate` for a type with `decide` and `evolve` methods.
macro_rules! event_sourced {
    ($aggregate:ty, $type:literal, $command:ty, $event:ty, $error:ty) => {
        impl cqrs_es::Aggregate for $aggregate {
            const TYPE: &'static str = $type;
            type Command = $crate::Issued<$command>;
            type Event = $event;
            type Error = $error;
            type Services = $crate::Services;

            async fn handle(
                &mut self,
                command: Self::Command,
                services: &Self::Services,
                sink: &cqrs_es::event_sink::EventSink<Self>,
            ) -> Result<(), Self::Error> {
                for event in self.decide(command, &services.policy)? {
                    sink.write(event, self).await;
                }
                Ok(())
            }

            fn apply(&mut self, event: Self::Event) {
                self.evolve(event);
            }
        }
    };
}
pub(crate) use event_sourced;

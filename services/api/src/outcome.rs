//! What a command answers: [`Accepted`], the events it appended (type, aggregate, sequence),
//! the id it created, if any, and the engine's whole result under `result`.
//!
//! [`Outcome`] walks an engine result for its appended events; it is implemented once per
//! result type of the engine's use cases.

use cqrs_es::DomainEvent;
use engine::use_cases::auto_closure::AutoClosureEvaluated;
use engine::use_cases::claims::ClaimPaid;
use engine::use_cases::consolidate::Consolidated;
use engine::use_cases::disposal::Disposed;
use engine::use_cases::erasure::PersonalDataErased;
use engine::use_cases::follow::{Advanced, Shipped};
use engine::use_cases::intake::{DeclarationConfirmed, ParcelInspected, ParcelReceived};
use engine::use_cases::packing::{Packed, PackingRequested};
use engine::use_cases::payment::{Paid, Quoted};
use engine::use_cases::register::Registered;
use engine::use_cases::return_to_origin::{RedeliveryCharged, ReturnAbandoned, ReturnReceived};
use engine::use_cases::shipment_flow::ShipmentClosed;
use engine::use_cases::storage::StorageFeesAccrued;
use engine::use_cases::top_up::TopUpDecided;
use engine::use_cases::withdrawal::{RefundedAndClosed, WithdrawalRequested};
use engine::Executed;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// One event a command appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub(crate) struct EventRef {
    /// The event type, `aggregate.past_tense` (`parcel.stored`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The aggregate it was appended to.
    pub aggregate_id: String,
    /// Its sequence in that aggregate, from 1.
    pub sequence: usize,
}

/// The answer to a command that was carried out (or, under a reused idempotency key, the
/// answer it had the first time).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Accepted {
    /// The id of what the command created (a member, a parcel, a shipment, a claim).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Every event appended, in order; empty when the command changed nothing.
    pub events: Vec<EventRef>,
    /// Where the command's last event sits in the store's global order, `<txid>:<position>`
    /// (`null` when it appended nothing): pass it as `after` to the query API to read views
    /// that have applied it (read your writes).
    pub position: Option<String>,
    /// The engine's result: the events in full and what the use case decided (a quote's
    /// total, a refused follow-up step). Its shape depends on the endpoint.
    pub result: Value,
}

impl Accepted {
    /// The answer for `outcome`.
    pub(crate) fn of(outcome: &impl Outcome) -> Result<Self, serde_json::Error> {
        let mut events = Vec::new();
        outcome.collect(&mut events);
        Ok(Self {
            id: outcome.id(),
            events,
            position: None,
            result: serde_json::to_value(outcome)?,
        })
    }

    /// The last event of each aggregate the command appended to, as `(aggregate type,
    /// aggregate id, sequence)`: the latest of their global positions is the command's.
    pub(crate) fn last_of_each_aggregate(&self) -> Vec<(&str, &str, i64)> {
        let mut last: Vec<(&str, &str, i64)> = Vec::new();
        for event in &self.events {
            let aggregate_type = event.event_type.split('.').next().unwrap_or_default();
            let sequence = i64::try_from(event.sequence).unwrap_or(i64::MAX);
            match last.iter_mut().find(|(_, id, _)| *id == event.aggregate_id) {
                Some(entry) => entry.2 = entry.2.max(sequence),
                None => last.push((aggregate_type, &event.aggregate_id, sequence)),
            }
        }
        last
    }
}

/// A global position as the API shows it: `<txid>:<position>`.
pub(crate) fn position_text(cursor: event_store::GlobalCursor) -> String {
    format!("{}:{}", cursor.txid, cursor.position)
}

/// An engine result, as the appended events it holds.
pub(crate) trait Outcome: Serialize + Send + 'static {
    /// Pushes the events appended, in order.
    fn collect(&self, out: &mut Vec<EventRef>);

    /// The id created, for creation commands.
    fn id(&self) -> Option<String> {
        None
    }
}

impl<E: DomainEvent + 'static> Outcome for Executed<E> {
    fn collect(&self, out: &mut Vec<EventRef>) {
        out.extend(self.events.iter().map(|appended| EventRef {
            event_type: appended.event.event_type(),
            aggregate_id: self.aggregate_id.clone(),
            sequence: appended.sequence,
        }));
    }
}

impl<T: Outcome> Outcome for Option<T> {
    fn collect(&self, out: &mut Vec<EventRef>) {
        if let Some(inner) = self {
            inner.collect(out);
        }
    }
}

impl<T: Outcome> Outcome for Vec<T> {
    fn collect(&self, out: &mut Vec<EventRef>) {
        for inner in self {
            inner.collect(out);
        }
    }
}

/// A result with the id the command created, when the result itself does not name it.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct Created<T> {
    #[serde(skip)]
    pub id: String,
    pub result: T,
}

impl<T: Outcome> Outcome for Created<T> {
    fn collect(&self, out: &mut Vec<EventRef>) {
        self.result.collect(out);
    }

    fn id(&self) -> Option<String> {
        Some(self.id.clone())
    }
}

/// `Outcome` for a result struct: its fields holding events, in the order they were
/// appended, and optionally the field holding the id it created.
macro_rules! outcome {
    ($type:ty => [$($field:ident),+] $(, id = $id:ident)?) => {
        impl Outcome for $type {
            fn collect(&self, out: &mut Vec<EventRef>) {
                $(self.$field.collect(out);)+
            }
            $(fn id(&self) -> Option<String> {
                Some(self.$id.to_string())
            })?
        }
    };
}

outcome!(Registered => [member, account], id = member_id);
outcome!(ParcelReceived => [parcel, proxy_payment, disposed], id = parcel_id);
outcome!(ParcelInspected => [parcel, fees]);
outcome!(DeclarationConfirmed => [parcel, auto_pack_shipment]);
outcome!(StorageFeesAccrued => [parcel, debits]);
outcome!(Disposed => [parcel, fee]);
outcome!(PackingRequested => [parcel, shipment], id = shipment_id);
outcome!(Packed => [shipment, parcels]);
outcome!(Consolidated => [reservations, shipment], id = shipment_id);
outcome!(Quoted => [quote, auto_ship, auto_ship_use]);
outcome!(Paid => [debit, shipment, released, parcels]);
outcome!(ShipmentClosed => [shipment, parcels]);
outcome!(ClaimPaid => [shipment, payout, parcels]);
outcome!(Advanced => [shipment, parcels]);
outcome!(Shipped => [shipped, duty_advance]);
outcome!(ReturnReceived => [shipment, charge, parcels]);
outcome!(ReturnAbandoned => [shipment, disposed]);
outcome!(RedeliveryCharged => [shipment, charge]);
outcome!(TopUpDecided => [account, suspension]);
outcome!(WithdrawalRequested => [member, disposed, refund]);
outcome!(RefundedAndClosed => [refund, member]);
outcome!(AutoClosureEvaluated => [member, refund]);
outcome!(PersonalDataErased => [member]);

/// A reference rate recorded (MON-3): reference data, no event.
#[derive(Debug, Serialize)]
pub(crate) struct ReferenceRateRecorded {
    /// The rate as recorded.
    pub rate: domain::exchange::ExchangeRate,
}

impl Outcome for ReferenceRateRecorded {
    fn collect(&self, _: &mut Vec<EventRef>) {}
}

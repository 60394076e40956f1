//! Payloads decoded with the domain's event enums, for every view: the aggregate type says
//! which enum, the version must be the current one after the domain's upcasters, and the decoded event must carry the
//! type the store recorded. Anything else is a poison event for the view that reads it.
//! Personal data sealed by the writer (`domain::personal`) is read as its stand-ins.

use cqrs_es::DomainEvent;
use domain::account::AccountEvent;
use domain::member::MemberEvent;
use domain::parcel::ParcelEvent;
use domain::shipment::ShipmentEvent;
use projection_runtime::{EventEnvelope, ReduceError};

/// A stored event as a domain event.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEventOf {
    /// Of a `member`.
    Member(MemberEvent),
    /// Of an `account`.
    Account(AccountEvent),
    /// Of a `parcel`.
    Parcel(ParcelEvent),
    /// Of a `shipment`.
    Shipment(ShipmentEvent),
}

/// `event`'s payload as the domain event its aggregate type names.
///
/// Older versions are first read as the current one by the domain's upcasters
/// (`domain::upcast`); a version they do not reach is unknown.
pub fn decode(event: &EventEnvelope) -> Result<DomainEventOf, ReduceError> {
    let (version, mut payload) = domain::upcast::upcast(
        &event.event_type,
        &event.event_version,
        event.payload.clone(),
    );
    // No view needs a member's personal data: sealed fields are read as their stand-ins.
    domain::personal::redact(&event.event_type, &mut payload);
    if version != domain::upcast::current_version(&event.event_type) {
        return Err(unknown(event));
    }
    let upcast = EventEnvelope {
        event_version: version,
        payload,
        ..event.clone()
    };
    let event = &upcast;
    let (decoded, event_type) = match event.aggregate_type.as_str() {
        "member" => {
            let e: MemberEvent = event.decode()?;
            let t = e.event_type();
            (DomainEventOf::Member(e), t)
        }
        "account" => {
            let e: AccountEvent = event.decode()?;
            let t = e.event_type();
            (DomainEventOf::Account(e), t)
        }
        "parcel" => {
            let e: ParcelEvent = event.decode()?;
            let t = e.event_type();
            (DomainEventOf::Parcel(e), t)
        }
        "shipment" => {
            let e: ShipmentEvent = event.decode()?;
            let t = e.event_type();
            (DomainEventOf::Shipment(e), t)
        }
        _ => return Err(unknown(event)),
    };
    if event_type != event.event_type {
        return Err(ReduceError::Invalid(format!(
            "the payload is a {event_type}, the store recorded a {}",
            event.event_type
        )));
    }
    Ok(decoded)
}

fn unknown(event: &EventEnvelope) -> ReduceError {
    ReduceError::Unknown {
        event_type: event.event_type.clone(),
        event_version: event.event_version.clone(),
    }
}

/// The business instant `event` was decided at: the engine's `issued_at` metadata, or the
/// time it was recorded for events appended without one (before the engine stamped it).
pub fn issued_at(event: &EventEnvelope) -> chrono::DateTime<chrono::Utc> {
    event
        .metadata
        .get(event_store::metadata::ISSUED_AT)
        .and_then(serde_json::Value::as_str)
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map_or(event.recorded_at, |at| at.to_utc())
}

//! [`history()`]: one aggregate's events and its state as they were at a moment (a time or a
//! global position), folded with the domain's own `evolve` after the upcasters, with the
//! policy versions its events applied.

use crate::AuditError;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::account::ChargeAccount;
use domain::member::Member;
use domain::parcel::Parcel;
use domain::shipment::Shipment;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;
use std::collections::BTreeSet;
use std::str::FromStr;

/// The aggregates an auditor can ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateKind {
    /// `member`.
    Member,
    /// `account`, the charge account.
    Account,
    /// `parcel`.
    Parcel,
    /// `shipment`.
    Shipment,
}

impl AggregateKind {
    /// The stored `aggregate_type`.
    pub fn type_name(self) -> &'static str {
        match self {
            AggregateKind::Member => Member::TYPE,
            AggregateKind::Account => ChargeAccount::TYPE,
            AggregateKind::Parcel => Parcel::TYPE,
            AggregateKind::Shipment => Shipment::TYPE,
        }
    }
}

impl FromStr for AggregateKind {
    type Err = AuditError;

    fn from_str(name: &str) -> Result<Self, AuditError> {
        match name {
            "member" => Ok(AggregateKind::Member),
            "account" => Ok(AggregateKind::Account),
            "parcel" => Ok(AggregateKind::Parcel),
            "shipment" => Ok(AggregateKind::Shipment),
            other => Err(AuditError::UnknownAggregate(other.to_owned())),
        }
    }
}

/// A moment in the past: a recorded time or a global position (both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AsOf {
    /// Events recorded at or before this time.
    Time(DateTime<Utc>),
    /// Events at or before this global position.
    Position(i64),
}

impl FromStr for AsOf {
    type Err = String;

    /// An integer is a position; anything else must be an RFC 3339 time.
    fn from_str(text: &str) -> Result<Self, String> {
        if let Ok(position) = text.parse::<i64>() {
            return Ok(AsOf::Position(position));
        }
        DateTime::parse_from_rfc3339(text)
            .map(|time| AsOf::Time(time.with_timezone(&Utc)))
            .map_err(|e| format!("{text:?} is neither a position nor an RFC 3339 time: {e}"))
    }
}

/// One event of a history, as the domain reads it now (after upcasting).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// The sequence in the aggregate.
    pub sequence: i64,
    /// The global position.
    pub position: i64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The event type.
    pub event_type: String,
    /// The version stored (before upcasting).
    pub stored_version: String,
    /// The event as the current code reads it.
    pub event: Value,
}

/// An aggregate as it was at a moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The aggregate type.
    pub aggregate_type: String,
    /// The aggregate id.
    pub aggregate_id: String,
    /// The bound, if any (none: now).
    pub as_of: Option<AsOf>,
    /// The events up to the bound, in sequence order.
    pub events: Vec<HistoryEvent>,
    /// The policy versions (`profile@version`) these events applied, sorted.
    pub policy_versions: BTreeSet<String>,
    /// The aggregate's state after them, as the domain serializes it.
    pub state: Value,
}

/// The history of aggregate `kind` `id` up to `as_of` (everything when `None`).
pub async fn history(
    pool: &PgPool,
    kind: AggregateKind,
    id: &str,
    as_of: Option<AsOf>,
) -> Result<History, AuditError> {
    let (time, position) = match as_of {
        None => (None, None),
        Some(AsOf::Time(time)) => (Some(time), None),
        Some(AsOf::Position(position)) => (None, Some(position)),
    };
    let rows = event_store::chained::postgres_aggregate_history(
        pool,
        kind.type_name(),
        id,
        time,
        position,
    )
    .await?;
    let mut events: Vec<HistoryEvent> = rows
        .into_iter()
        .map(|row| HistoryEvent {
            sequence: row.sequence,
            position: row.position,
            recorded_at: row.recorded_at,
            event: domain::upcast::upcast(&row.event_type, &row.event_version, row.payload).1,
            event_type: row.event_type,
            stored_version: row.event_version,
        })
        .collect();
    let state = match kind {
        AggregateKind::Member => fold::<Member>(id, &events)?,
        AggregateKind::Account => fold::<ChargeAccount>(id, &events)?,
        AggregateKind::Parcel => fold::<Parcel>(id, &events)?,
        AggregateKind::Shipment => fold::<Shipment>(id, &events)?,
    };
    let mut policy_versions = BTreeSet::new();
    for event in &events {
        collect_policies(&event.event, &mut policy_versions);
    }
    // Sealed personal data is shown in words, erased or sealed (the state above holds the
    // stand-ins); `audit export` keeps the exact stored text.
    if let Some(member) = domain::personal::subject(kind.type_name(), id) {
        let erased = crate::personal::erased_members(pool, [member]).await?;
        for event in &mut events {
            domain::personal::show(&event.event_type, &mut event.event, !erased.is_empty());
        }
    }
    Ok(History {
        aggregate_type: kind.type_name().to_owned(),
        aggregate_id: id.to_owned(),
        as_of,
        events,
        policy_versions,
        state,
    })
}

/// The state of `A` after `events`, with the aggregate's own `apply` (the domain's `evolve`).
fn fold<A: Aggregate>(id: &str, events: &[HistoryEvent]) -> Result<Value, AuditError> {
    let mut aggregate = A::default();
    for event in events {
        // A member's personal data is sealed in the store (`domain::personal`): the state
        // holds its stand-ins; the events are shown as stored.
        let mut payload = event.event.clone();
        domain::personal::redact(&event.event_type, &mut payload);
        let decoded: A::Event =
            serde_json::from_value(payload).map_err(|e| AuditError::Decode {
                aggregate_type: A::TYPE.to_owned(),
                aggregate_id: id.to_owned(),
                sequence: event.sequence,
                reason: e.to_string(),
            })?;
        aggregate.apply(decoded);
    }
    serde_json::to_value(&aggregate).map_err(|e| AuditError::Decode {
        aggregate_type: A::TYPE.to_owned(),
        aggregate_id: id.to_owned(),
        sequence: events.last().map_or(0, |event| event.sequence),
        reason: format!("the state does not serialize: {e}"),
    })
}

/// Every `"policy": "profile@version"` inside an event (POL-1: each event applying a policy
/// records its version).
fn collect_policies(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("policy", Value::String(version)) => {
                        into.insert(version.clone());
                    }
                    _ => collect_policies(value, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_policies(item, into)),
        _ => {}
    }
}

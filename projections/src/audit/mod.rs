//! # The audit view
//!
//! Every event, once, with when it was recorded, who did it (actor), which command, the
//! correlation and causation ids, the policy version and the rule it applied, and the ids it
//! concerns (its member, parcel, shipment, cause): searchable by aggregate, event type, actor,
//! related id and time range; the history of any aggregate as of any past moment, and the
//! aggregate itself as it was then ([`query::state_as_of`]).
//!
//! Table (schema `view_audit_v<N>`): `events`, insert-only, one row per event keyed by
//! (aggregate type, aggregate id, sequence), with the payload and metadata as recorded.
//!
//! Payloads are decoded with the domain's enums before they are recorded: an event the domain
//! cannot read is parked for an operator rather than recorded unread.

pub mod query;
mod rows;

pub use query::{history, search, state_as_of, AuditEntry, AuditFilter};
pub use rows::{AuditRow, EVENTS};

use crate::decode::decode;
use projection_runtime::{
    rows as table, Dialect, EventEnvelope, Projection, ReduceError, Schema, TableSpec, ViewConn,
};
use serde_json::Value;
use std::collections::BTreeSet;

/// The audit projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Audit;

/// The view's name: its instances are `view_audit_v<N>`.
pub const NAME: &str = "audit";

impl Projection for Audit {
    type Change = AuditRow;

    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [TableSpec] {
        &[EVENTS]
    }

    fn create_tables(&self, schema: &Schema, dialect: Dialect) -> String {
        rows::ddl(schema, dialect)
    }

    fn reduce(&self, event: &EventEnvelope) -> Result<Vec<AuditRow>, ReduceError> {
        decode(event)?;
        let variant = variant(&event.payload);
        let mut related = BTreeSet::new();
        if let Some(variant) = variant {
            collect_ids(variant, 0, &mut related);
        }
        related.remove(&event.aggregate_id);
        Ok(vec![AuditRow {
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            event_version: event.event_version.clone(),
            txid: event.cursor.txid.to_string(),
            position: event.cursor.position,
            recorded_at: event.recorded_at,
            actor: event.metadata_str("actor").map(str::to_owned),
            command: event.metadata_str("command").map(str::to_owned),
            correlation_id: event.metadata_str("correlation_id").map(str::to_owned),
            causation_id: event.metadata_str("causation_id").map(str::to_owned),
            policy_version: field(variant, "policy"),
            rule_id: field(variant, "rule")
                .or_else(|| event.metadata_str("rule").map(str::to_owned)),
            related_ids: related.into_iter().collect(),
            payload: event.payload.clone(),
            metadata: event.metadata.clone(),
        }])
    }

    async fn apply(
        &self,
        conn: &mut ViewConn<'_>,
        schema: &Schema,
        changes: &[AuditRow],
    ) -> Result<(), sqlx::Error> {
        table::insert(conn, schema, &EVENTS, changes).await
    }
}

/// The variant's fields of an externally tagged payload (`{"arrived": {...}}`), or the
/// payload itself when it is a struct.
fn variant(payload: &Value) -> Option<&Value> {
    let object = payload.as_object()?;
    match object.iter().next() {
        Some((_, inner)) if object.len() == 1 && inner.is_object() => Some(inner),
        _ => Some(payload),
    }
}

fn field(variant: Option<&Value>, name: &str) -> Option<String> {
    variant?.get(name)?.as_str().map(str::to_owned)
}

/// Fields naming another aggregate or what caused a movement.
const ID_FIELDS: &[&str] = &[
    "member_id",
    "account_id",
    "parcel_id",
    "shipment_id",
    "claim_id",
    "cause",
    "shipment",
    "parcel",
    "parcels",
    "request",
    "application_id",
];

/// The ids `value` names in [`ID_FIELDS`], a few levels deep (a movement's cause, a
/// consolidation's parcels).
fn collect_ids(value: &Value, depth: u8, ids: &mut BTreeSet<String>) {
    if depth > 3 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if ID_FIELDS.contains(&key.as_str()) {
                    match inner {
                        Value::String(id) => {
                            ids.insert(id.clone());
                        }
                        Value::Array(items) => {
                            for item in items {
                                if let Value::String(id) = item {
                                    ids.insert(id.clone());
                                } else {
                                    collect_ids(item, depth + 1, ids);
                                }
                            }
                        }
                        other => collect_ids(other, depth + 1, ids),
                    }
                } else if inner.is_object() || inner.is_array() {
                    collect_ids(inner, depth + 1, ids);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_ids(item, depth + 1, ids);
            }
        }
        _ => {}
    }
}

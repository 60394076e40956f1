//! The wire contract: a stored event as a CloudEvents 1.0 event in structured JSON mode, and
//! the NATS message that carries it.
//!
//! Published JSON is a permanent contract like stored JSON: `src/snapshots` pins its shape.
//! Decisions (see the crate README):
//! - `type` is `parcelport.<event type>` (`parcelport.parcel.arrived`): the CloudEvents spec
//!   asks for a type that is unique across producers, and the prefix matches the subject's.
//! - `source` is `<source prefix>/<aggregate type>` (`parcelport/parcel`), the prefix
//!   configurable per deployment; `subject` is the raw aggregate id (unescaped).
//! - Extensions are lower-case alphanumeric names as the spec requires. The integer ones
//!   (`sequence`, `position`, `txid`) are decimal strings: the spec's Integer type is 32-bit,
//!   positions and transaction ids are 64-bit, and the spec's own `sequence` extension is a
//!   String.

use crate::subject::{subject_for, SUBJECT_PREFIX};
use bytes::Bytes;
use chrono::SecondsFormat;
use event_store::{GlobalCursor, StoredEvent};
use serde::Serialize;
use serde_json::Value;

/// The CloudEvents `datacontenttype` of every event: the stored payload is JSON.
pub const DATA_CONTENT_TYPE: &str = "application/json";
/// The `Content-Type` header of every message: a CloudEvent in structured JSON mode.
pub const MESSAGE_CONTENT_TYPE: &str = "application/cloudevents+json; charset=utf-8";

/// The header naming the replica that published a message (`RelayConfig::instance`): which
/// replica stored what, for operators and for the hand-over tests. Not part of the CloudEvent.
pub const INSTANCE_HEADER: &str = "Parcelport-Relay-Instance";

/// One stored event as a CloudEvents 1.0 structured JSON event. Borrowed from the stored event;
/// serialize it with `serde_json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloudEvent<'a> {
    /// Always `"1.0"`.
    pub specversion: &'static str,
    /// The event id: stable across re-publishing, and the message's `Nats-Msg-Id`.
    pub id: String,
    /// `<source prefix>/<aggregate type>`.
    pub source: String,
    /// `parcelport.<event type>`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The aggregate id, unescaped.
    pub subject: &'a str,
    /// When the appending transaction started, RFC 3339 in UTC with microseconds.
    pub time: String,
    /// Always [`DATA_CONTENT_TYPE`].
    pub datacontenttype: &'static str,
    /// The stored payload, as stored (externally tagged: `{"arrived": {...}}`).
    pub data: &'a Value,
    /// The event's number within its aggregate, from 1, without gaps: subscribers detect a
    /// missing or repeated event from it.
    pub sequence: String,
    /// The event's global position in the store.
    pub position: String,
    /// The id of the transaction that appended it; with `position`, the store's global order.
    pub txid: String,
    /// The policy version the event applied (`jp-forwarding@2026.11`), when it applied one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policyversion: Option<&'a str>,
    /// The correlation id of the command that produced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlationid: Option<&'a str>,
    /// What caused that command, if anything did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causationid: Option<&'a str>,
    /// Who issued the command (the metadata's `actor`): what the audit view records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<&'a str>,
    /// The command's name (the metadata's `command`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<&'a str>,
    /// The event's schema version (`DomainEvent::event_version`).
    pub eventversion: &'a str,
    /// The W3C trace context of the command that recorded the event (the metadata's
    /// `traceparent`): the CloudEvents distributed-tracing extension, which consumers continue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<&'a str>,
}

impl<'a> CloudEvent<'a> {
    /// The CloudEvent for `event`, with `source` `<source_prefix>/<aggregate type>`.
    pub fn from_stored(event: &'a StoredEvent, source_prefix: &str) -> Self {
        Self {
            specversion: "1.0",
            id: event.event_id.to_string(),
            source: format!("{source_prefix}/{}", event.aggregate_type),
            event_type: format!("{SUBJECT_PREFIX}.{}", event.event_type),
            subject: &event.aggregate_id,
            time: event
                .recorded_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            datacontenttype: DATA_CONTENT_TYPE,
            data: &event.payload,
            sequence: event.sequence.to_string(),
            position: event.position.to_string(),
            txid: event.cursor.txid.to_string(),
            policyversion: policy_version(&event.payload),
            correlationid: event.correlation_id.as_deref(),
            causationid: event.causation_id.as_deref(),
            actor: metadata_str(&event.metadata, "actor"),
            command: metadata_str(&event.metadata, "command"),
            eventversion: &event.event_version,
            traceparent: metadata_str(&event.metadata, "traceparent"),
        }
    }
}

/// A non-empty string entry of the command metadata (`event_store::CommandMetadata` writes
/// `actor`, `command`, `correlation_id`, `causation_id` and `traceparent`).
fn metadata_str<'a>(metadata: &'a Value, key: &str) -> Option<&'a str> {
    metadata
        .get(key)?
        .as_str()
        .filter(|value| !value.is_empty())
}

/// The `policy` field of a payload: inside the variant of an externally tagged event
/// (`{"arrived": {"policy": "..."}}`), or at the top level of an untagged one.
fn policy_version(payload: &Value) -> Option<&str> {
    let object = payload.as_object()?;
    if let Some(policy) = object.get("policy") {
        return policy.as_str();
    }
    match object.iter().next() {
        Some((_, variant)) if object.len() == 1 => variant.get("policy")?.as_str(),
        _ => None,
    }
}

/// An event ready to publish: its subject, Msg-Id and CloudEvent body, and the trace context
/// of its command when that trace is sampled (the relay's publish joins it as a span).
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub subject: String,
    pub message_id: String,
    pub body: Bytes,
    pub sampled_trace: Option<String>,
}

impl Message {
    /// The message for `event`, with the event's place in the global order.
    pub fn encode(
        event: StoredEvent,
        source_prefix: &str,
    ) -> Result<(GlobalCursor, Self), serde_json::Error> {
        let cloud_event = CloudEvent::from_stored(&event, source_prefix);
        let sampled_trace = cloud_event
            .traceparent
            .filter(|traceparent| telemetry::trace::is_sampled(traceparent))
            .map(str::to_owned);
        let body = serde_json::to_vec(&cloud_event)?;
        let message = Self {
            subject: subject_for(
                &event.aggregate_type,
                &event.aggregate_id,
                &event.event_type,
            ),
            message_id: event.event_id.to_string(),
            body: Bytes::from(body),
            sampled_trace,
        };
        Ok((event.cursor, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn arrived() -> StoredEvent {
        StoredEvent {
            event_id: "0194f0b0-7c1e-7a00-8000-000000000001".parse().unwrap(),
            aggregate_type: "parcel".to_owned(),
            aggregate_id: "p.2026.0001".to_owned(),
            sequence: 1,
            event_type: "parcel.arrived".to_owned(),
            event_version: "1".to_owned(),
            payload: json!({ "arrived": {
                "parcel_id": "p.2026.0001",
                "weight": 1200,
                "policy": "jp-forwarding@2026.11"
            }}),
            metadata: json!({
                "actor": "operator:7",
                "command": "ReceiveParcel",
                "correlation_id": "request-42",
                "causation_id": "command-7"
            }),
            correlation_id: Some("request-42".to_owned()),
            causation_id: Some("command-7".to_owned()),
            recorded_at: Utc.with_ymd_and_hms(2026, 11, 21, 5, 43, 0).unwrap(),
            position: 17,
            cursor: GlobalCursor {
                txid: 5_000_000_123,
                position: 17,
            },
        }
    }

    #[test]
    fn a_stored_event_as_a_cloud_event() {
        let event = arrived();
        insta::assert_json_snapshot!(CloudEvent::from_stored(&event, "parcelport"));
    }

    /// The published envelope honours the contract subscribers validate against.
    #[test]
    fn a_cloud_event_validates_against_the_published_envelope_schema() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../contracts/cloudevent.schema.json"
        );
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let event = arrived();
        let published =
            serde_json::to_value(CloudEvent::from_stored(&event, "parcelport")).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&published)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        let mut without_policy = event.clone();
        without_policy.payload = json!({ "arrived": { "parcel_id": "p.2026.0001" } });
        without_policy.correlation_id = None;
        without_policy.causation_id = None;
        without_policy.metadata = json!({});
        let minimal =
            serde_json::to_value(CloudEvent::from_stored(&without_policy, "parcelport")).unwrap();
        assert!(validator.is_valid(&minimal));
    }

    #[test]
    fn the_message_is_addressed_and_deduplicated_by_event() {
        let (cursor, message) = Message::encode(arrived(), "parcelport").unwrap();
        assert_eq!(message.subject, "parcelport.parcel.p%2E2026%2E0001.arrived");
        assert_eq!(message.message_id, "0194f0b0-7c1e-7a00-8000-000000000001");
        assert_eq!(cursor.position, 17);
        let body: Value = serde_json::from_slice(&message.body).unwrap();
        assert_eq!(body["subject"], "p.2026.0001");
        assert_eq!(body["data"]["arrived"]["weight"], 1200);
    }

    #[test]
    fn optional_extensions_are_absent_rather_than_null() {
        let mut event = arrived();
        event.payload = json!({ "withdrawn": { "parcel_id": "p-1" } });
        event.correlation_id = None;
        event.causation_id = None;
        event.metadata = json!({ "actor": "" });
        let value = serde_json::to_value(CloudEvent::from_stored(&event, "wh-tokyo")).unwrap();
        let object = value.as_object().unwrap();
        for absent in [
            "policyversion",
            "correlationid",
            "causationid",
            "actor",
            "command",
        ] {
            assert!(!object.contains_key(absent), "{absent} is present");
        }
        assert_eq!(value["source"], "wh-tokyo/parcel");
    }

    #[test]
    fn the_policy_version_is_found_inside_the_variant_or_at_the_top() {
        assert_eq!(
            policy_version(&json!({ "arrived": { "policy": "cn-agency@1" } })),
            Some("cn-agency@1")
        );
        assert_eq!(
            policy_version(&json!({ "policy": "cn-agency@2" })),
            Some("cn-agency@2")
        );
        assert_eq!(policy_version(&json!("withdrawn")), None);
        assert_eq!(
            policy_version(&json!({ "a": {}, "b": { "policy": "x" } })),
            None
        );
    }
}

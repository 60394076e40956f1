//! [`EventEnvelope`]: one stored event as a projection sees it, whichever feed brought it.

use crate::ReduceError;
use chrono::{DateTime, Utc};
use event_store::{GlobalCursor, StoredEvent};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event with everything the store recorded about it. Feeds build it (the store feed from a
/// [`StoredEvent`], a bus feed from a message); reducers only read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// The event's own id, stable across re-reads and re-deliveries.
    pub event_id: Uuid,
    /// The aggregate's type (`parcel`, `account`, ...).
    pub aggregate_type: String,
    /// The aggregate instance.
    pub aggregate_id: String,
    /// The event's number within its aggregate, from 1, without gaps.
    pub sequence: i64,
    /// `parcel.arrived`, ...
    pub event_type: String,
    /// The payload's schema version.
    pub event_version: String,
    /// The serialized domain event (externally tagged: `{"arrived": {...}}`).
    pub payload: serde_json::Value,
    /// The command's metadata: actor, command, correlation and causation ids.
    pub metadata: serde_json::Value,
    /// When the appending transaction started.
    pub recorded_at: DateTime<Utc>,
    /// Where the event sits in the store's global order.
    pub cursor: GlobalCursor,
}

/// An aggregate instance: what per-aggregate order and applied sequences are kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AggregateKey {
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The instance.
    pub aggregate_id: String,
}

impl EventEnvelope {
    /// The payload as the domain event `E`, decoded in place.
    pub fn decode<E: DeserializeOwned>(&self) -> Result<E, ReduceError> {
        E::deserialize(&self.payload).map_err(|source| ReduceError::Decode {
            event_type: self.event_type.clone(),
            source,
        })
    }

    /// A string entry of the metadata (`actor`, `command`, `correlation_id`, ...).
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key)?.as_str()
    }

    /// The aggregate instance this event belongs to.
    pub fn aggregate_key(&self) -> AggregateKey {
        AggregateKey {
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
        }
    }
}

impl From<StoredEvent> for EventEnvelope {
    fn from(event: StoredEvent) -> Self {
        Self {
            event_id: event.event_id,
            aggregate_type: event.aggregate_type,
            aggregate_id: event.aggregate_id,
            sequence: event.sequence,
            event_type: event.event_type,
            event_version: event.event_version,
            payload: event.payload,
            metadata: event.metadata,
            recorded_at: event.recorded_at,
            cursor: event.cursor,
        }
    }
}

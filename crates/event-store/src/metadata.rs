//! [`CommandMetadata`]: who issued a command and why, stored as each resulting event's metadata.

use std::collections::HashMap;

const ACTOR: &str = "actor";
const COMMAND: &str = "command";
// The migration's generated columns `correlation_id` and `causation_id` read these two keys.
const CORRELATION_ID: &str = "correlation_id";
const CAUSATION_ID: &str = "causation_id";
const RULE: &str = "rule";
/// The metadata key of the W3C trace context the command ran in: consumers continue its trace.
pub const TRACEPARENT: &str = "traceparent";

/// The metadata key under which a keyed request marks the events it appends (its
/// idempotency key), so a retry after a crash finds them (`EventStore::appended_by_request`).
pub const IDEMPOTENCY_KEY: &str = "idempotency_key";
/// The metadata key under which a keyed request numbers the step that appended an event.
pub const IDEMPOTENCY_STEP: &str = "idempotency_step";
/// The metadata key of the business clock's instant (RFC 3339, UTC) at which the engine
/// decided the command: the time every view dates an event by. It differs from the stored
/// `recorded_at` on a simulated clock, and for events that carry no date of their own (a
/// debit) it is the only business time there is.
pub const ISSUED_AT: &str = "issued_at";

/// The context of one command: the actor who issued it, the command's name, the correlation id
/// shared by everything one request or flow caused, and the id of what caused it (an event or
/// a command), if anything did.
///
/// Stored as the `metadata` JSON of every event the command produces. Pass it to
/// `CqrsFramework::execute_with_metadata`, which takes the map form:
/// `cqrs.execute_with_metadata(&parcel_id, command, metadata.into())`.
///
/// ```
/// use event_store::CommandMetadata;
/// use std::collections::HashMap;
///
/// let metadata: HashMap<String, String> =
///     CommandMetadata::new("operator:7", "ReceiveParcel", "request-42")
///         .caused_by("event-17")
///         .into();
/// assert_eq!(metadata["correlation_id"], "request-42");
/// assert_eq!(metadata["causation_id"], "event-17");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMetadata {
    actor: String,
    command: String,
    correlation_id: String,
    causation_id: Option<String>,
    rule: Option<String>,
    traceparent: Option<String>,
}

impl CommandMetadata {
    /// Metadata for `command`, issued by `actor`, correlated with `correlation_id`.
    pub fn new(
        actor: impl Into<String>,
        command: impl Into<String>,
        correlation_id: impl Into<String>,
    ) -> Self {
        Self {
            actor: actor.into(),
            command: command.into(),
            correlation_id: correlation_id.into(),
            causation_id: None,
            rule: None,
            traceparent: None,
        }
    }

    /// The same metadata, recording the W3C `traceparent` of the span the command ran in.
    pub fn traced(self, traceparent: impl Into<String>) -> Self {
        Self {
            traceparent: Some(traceparent.into()),
            ..self
        }
    }

    /// The W3C trace context the command ran in, if it was traced.
    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    /// The same metadata, recording that `causation_id` (an event or command id) caused it.
    pub fn caused_by(self, causation_id: impl Into<String>) -> Self {
        Self {
            causation_id: Some(causation_id.into()),
            ..self
        }
    }

    /// The same metadata, recording that a job issued the command because rule `rule` fell
    /// due (the scheduler: actor `scheduler`, rule `PAY-2`).
    pub fn for_rule(self, rule: impl Into<String>) -> Self {
        Self {
            rule: Some(rule.into()),
            ..self
        }
    }

    /// The rule a job applied, if a job issued the command.
    pub fn rule(&self) -> Option<&str> {
        self.rule.as_deref()
    }

    /// Who issued the command.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The command's name.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The id shared by everything one request or flow caused.
    pub fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    /// What caused the command, if anything did.
    pub fn causation_id(&self) -> Option<&str> {
        self.causation_id.as_deref()
    }
}

/// The form `cqrs_es::CqrsFramework::execute_with_metadata` takes.
impl From<CommandMetadata> for HashMap<String, String> {
    fn from(metadata: CommandMetadata) -> Self {
        let mut map = HashMap::from([
            (ACTOR.to_owned(), metadata.actor),
            (COMMAND.to_owned(), metadata.command),
            (CORRELATION_ID.to_owned(), metadata.correlation_id),
        ]);
        if let Some(causation_id) = metadata.causation_id {
            map.insert(CAUSATION_ID.to_owned(), causation_id);
        }
        if let Some(rule) = metadata.rule {
            map.insert(RULE.to_owned(), rule);
        }
        if let Some(traceparent) = metadata.traceparent {
            map.insert(TRACEPARENT.to_owned(), traceparent);
        }
        map
    }
}

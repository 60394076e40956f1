//! [`CommandContext`]: who asks, in which flow, and under which idempotency key.

use crate::EngineError;
use serde::{Deserialize, Serialize};

/// The context of one request: every event it appends records the actor, the correlation id
/// and the cause (as `event_store::CommandMetadata`), and the idempotency key when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandContext {
    /// Who asks: `member:<id>`, `operator:<id>`, `job:<name>`.
    pub actor: String,
    /// Shared by everything one request or flow caused.
    pub correlation_id: String,
    /// The event or command that caused this request, if any.
    pub causation_id: Option<String>,
    /// Makes a retried request return the first result and append nothing.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The rule that made a job issue the request (`PAY-2`), recorded as `rule` in every
    /// event's metadata; `None` for requests people make.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The W3C trace context the request runs in, recorded as `traceparent` in every event's
    /// metadata so that consumers continue the trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl CommandContext {
    /// A context for `actor` in the flow `correlation_id`, without a key.
    pub fn new(actor: impl Into<String>, correlation_id: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            correlation_id: correlation_id.into(),
            causation_id: None,
            idempotency_key: None,
            rule: None,
            traceparent: None,
        }
    }

    /// The same context, in the trace `traceparent` (none: untraced).
    pub fn traced(self, traceparent: Option<String>) -> Self {
        Self {
            traceparent,
            ..self
        }
    }

    /// The same context, issued because rule `rule` fell due (a job, such as the scheduler).
    pub fn for_rule(self, rule: impl Into<String>) -> Self {
        Self {
            rule: Some(rule.into()),
            ..self
        }
    }

    /// The same context, caused by `causation_id`.
    pub fn caused_by(self, causation_id: impl Into<String>) -> Self {
        Self {
            causation_id: Some(causation_id.into()),
            ..self
        }
    }

    /// The same context under an idempotency key.
    pub fn with_key(self, key: IdempotencyKey) -> Self {
        Self {
            idempotency_key: Some(key),
            ..self
        }
    }
}

/// An idempotency key as a client sends it: 1 to 200 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a key.
    pub fn parse(key: &str) -> Result<Self, EngineError> {
        let visible = key.chars().all(|c| c.is_ascii_graphic());
        if key.is_empty() || key.len() > 200 || !visible {
            return Err(EngineError::invalid(
                "an idempotency key is 1 to 200 visible ASCII characters",
            ));
        }
        Ok(Self(key.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = EngineError;
    fn try_from(key: String) -> Result<Self, EngineError> {
        Self::parse(&key)
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> String {
        key.0
    }
}

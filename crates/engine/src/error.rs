//! [`EngineError`]: the one error type of the engine, with a stable code per variant.
//!
//! Business refusals keep the domain's code and rule id (`consolidation.parcel_taken`, CON-3);
//! the engine's own failures have `engine.*` codes. The HTTP layer maps each variant to a
//! status once; nothing here knows HTTP.

use cqrs_es::AggregateError;
use domain::{Refusal, Rule};
use serde::{Deserialize, Serialize};

/// Why a command or use case did not happen.
///
/// Serializable because the result of a keyed request, refusals included, is stored and
/// returned again to a retry of the same request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineError {
    /// An aggregate refused: a business rule (or the lifecycle) does not allow it.
    #[error("{message}")]
    Refused {
        /// The domain's stable code, for example `consolidation.parcel_taken`.
        code: String,
        /// The rule enforced, when one applies.
        rule: Option<Rule>,
        /// The domain's message.
        message: String,
    },
    /// Something the request names does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for: `member`, `parcel`, `shipment`, `account`, `claim`.
        what: String,
        /// Its id.
        id: String,
    },
    /// The aggregate kept changing under the command: every retry lost the race.
    #[error("{aggregate_type} {aggregate_id} kept changing: gave up after {attempts} attempts")]
    Conflict {
        /// The aggregate's type.
        aggregate_type: String,
        /// The aggregate's id.
        aggregate_id: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The input cannot be used as it is.
    #[error("invalid request: {message}")]
    Invalid {
        /// What is wrong.
        message: String,
    },
    /// A request with the same idempotency key is still running.
    #[error("a request with idempotency key {key:?} is still in progress")]
    InProgress {
        /// The key.
        key: String,
    },
    /// The idempotency key was first used for a different request.
    #[error("idempotency key {key:?} was already used for a different request")]
    KeyReused {
        /// The key.
        key: String,
    },
    /// The store failed (database, serialization): nothing the caller did wrong.
    #[error("store failure: {message}")]
    Store {
        /// What failed, for the logs; never shown to members.
        message: String,
    },
}

impl EngineError {
    /// A refusal, keeping the domain's code and rule.
    pub fn refused(refusal: &impl Refusal) -> Self {
        Self::Refused {
            code: refusal.code().to_owned(),
            rule: refusal.rule(),
            message: refusal.to_string(),
        }
    }

    /// Bad input.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
        }
    }

    /// A missing `what` with id `id`.
    pub fn not_found(what: &str, id: impl ToString) -> Self {
        Self::NotFound {
            what: what.to_owned(),
            id: id.to_string(),
        }
    }

    /// A store failure, with its chain of causes.
    pub fn store(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Store { message }
    }

    /// The stable code: the domain's for refusals, `engine.*` for the rest.
    pub fn code(&self) -> &str {
        match self {
            Self::Refused { code, .. } => code,
            Self::NotFound { .. } => "engine.not_found",
            Self::Conflict { .. } => "engine.conflict",
            Self::Invalid { .. } => "engine.invalid",
            Self::InProgress { .. } => "engine.in_progress",
            Self::KeyReused { .. } => "engine.idempotency_key_reused",
            Self::Store { .. } => "engine.store",
        }
    }

    /// The rule a refusal enforces.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            Self::Refused { rule, .. } => *rule,
            _ => None,
        }
    }

    /// True for outcomes that are the answer to the request (refusals, missing things, bad
    /// input): stored under an idempotency key and returned again. The others (conflicts,
    /// store failures) leave the key to be retried.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Refused { .. } | Self::NotFound { .. } | Self::Invalid { .. }
        )
    }

    pub(crate) fn from_aggregate<E: Refusal + 'static>(error: AggregateError<E>) -> Self {
        match error {
            AggregateError::UserError(refusal) => Self::refused(&refusal),
            AggregateError::AggregateConflict => Self::Store {
                message: "unexpected optimistic-concurrency conflict".into(),
            },
            AggregateError::DatabaseConnectionError(e)
            | AggregateError::DeserializationError(e)
            | AggregateError::UnexpectedError(e) => Self::store(e.as_ref()),
        }
    }
}

impl From<sqlx::Error> for EngineError {
    fn from(error: sqlx::Error) -> Self {
        Self::store(&error)
    }
}

impl From<serde_json::Error> for EngineError {
    fn from(error: serde_json::Error) -> Self {
        Self::store(&error)
    }
}

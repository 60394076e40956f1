//! [`EngineConfig`]: the engine's settings, parsed once at start-up.

use crate::EngineError;
use domain::ids::SuiteCode;
use event_store::authorship::EventSigner;
use personal_data::PersonalData;
use std::sync::Arc;
use std::time::Duration;

/// How the engine allocates suite codes, retries conflicts and handles idempotency keys.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    suite_code_prefix: String,
    /// Retries on optimistic-concurrency conflicts.
    pub retry: RetryPolicy,
    /// Idempotency-key handling.
    pub idempotency: IdempotencyConfig,
    /// The writer's key: every event appended is signed with it (issue #10), or none.
    pub signer: Option<Arc<EventSigner>>,
    /// The members' keys: personal data is sealed with them before it is stored, and opened
    /// when an aggregate is loaded (issue #10). Without them, personal data is stored as
    /// given and sealed values are read as their stand-ins (`domain::personal`).
    pub personal_data: Option<Arc<PersonalData>>,
}

impl EngineConfig {
    /// Settings allocating suite codes `<prefix>-000001`, ... (MEM-1); the prefix is the
    /// warehouse's 2 to 4 capital letters, for example `TYO`.
    pub fn new(suite_code_prefix: &str) -> Result<Self, EngineError> {
        SuiteCode::parse(&format!("{suite_code_prefix}-000001"))
            .ok()
            .filter(|code| code.as_str().starts_with(suite_code_prefix))
            .ok_or_else(|| {
                EngineError::invalid(format!(
                    "suite code prefix {suite_code_prefix:?} is not 2 to 4 capital letters"
                ))
            })?;
        Ok(Self {
            suite_code_prefix: suite_code_prefix.to_owned(),
            retry: RetryPolicy::default(),
            idempotency: IdempotencyConfig::default(),
            signer: None,
            personal_data: None,
        })
    }

    /// The same settings signing every appended event with `signer`.
    pub fn signing_with(self, signer: Arc<EventSigner>) -> Self {
        Self {
            signer: Some(signer),
            ..self
        }
    }

    /// The same settings sealing members' personal data with `keys`.
    pub fn protecting_personal_data(self, keys: Arc<PersonalData>) -> Self {
        Self {
            personal_data: Some(keys),
            ..self
        }
    }

    /// The suite code prefix.
    pub fn suite_code_prefix(&self) -> &str {
        &self.suite_code_prefix
    }
}

/// Bounded retries of a command that lost an optimistic-concurrency race: each retry reloads
/// the aggregate and decides again, after `base_delay * 2^n` plus up to as much jitter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt; then the command fails with `EngineError::Conflict`.
    pub max_retries: u32,
    /// The first backoff.
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(5),
        }
    }
}

/// How long a duplicate request waits for the first to finish, and when a claim whose holder
/// went away may be taken over.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyConfig {
    /// A request finding its key claimed by a running request waits this long for its result,
    /// then gets `EngineError::InProgress`.
    pub wait: Duration,
    /// A claim older than this is presumed abandoned (its holder crashed) and is taken over.
    pub lease: Duration,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            wait: Duration::from_secs(5),
            lease: Duration::from_secs(60),
        }
    }
}

//! One request through the engine, and its idempotency key.
//!
//! A request (a generic `execute` or a use case) runs as numbered *steps*, one per command it
//! appends. Under an idempotency key:
//! 1. the key is claimed first ([`EngineStore::claim_key`]); a duplicate finds the claim and
//!    waits for the first result, or gets `InProgress`; the same key with another request's
//!    fingerprint gets `KeyReused`; a finished request's stored result is returned as it was,
//!    appending nothing;
//! 2. every event a step appends carries the key and the step number in its metadata;
//! 3. the result, refusals included, is stored with the key.
//!
//! A request that crashed between appending and recording its result leaves a claim that is
//! taken over after the lease. The new attempt is *resumed*: before each step it looks for
//! events of that step under the key and, when found, returns them instead of deciding again,
//! so nothing is appended twice. Ids the first attempt allocated are replayed in order, so the
//! resumed request names the same shipment. Use cases skip their dry-run pre-checks when
//! resumed (the state already shows their own earlier steps); the aggregates still decide.

use crate::store::{EngineStore, KeyClaim};
use crate::{CommandContext, EngineError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

/// The scope of one request: its context, its claim, its step counter.
pub(crate) struct Request<'a> {
    pub(crate) ctx: &'a CommandContext,
    claim: Option<Claim>,
    steps: AtomicU32,
}

struct Claim {
    key: String,
    attempt: i32,
    resumed: bool,
    allocated_ids: Vec<String>,
    next_allocated: AtomicUsize,
}

/// What starting a request found.
pub(crate) enum Begin<'a, T> {
    /// Run it.
    Run(Request<'a>),
    /// It ran already: its result.
    Done(Result<T, EngineError>),
}

/// The fingerprint of a request: SHA-256 of its name and input as JSON.
fn fingerprint(name: &str, input: &impl Serialize) -> Result<String, EngineError> {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(input)?);
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

impl<'a> Request<'a> {
    /// Starts request `name` with `input` under `ctx`, claiming its idempotency key if any.
    pub(crate) async fn begin<T: DeserializeOwned>(
        store: &impl EngineStore,
        config: &crate::IdempotencyConfig,
        ctx: &'a CommandContext,
        name: &str,
        input: &impl Serialize,
    ) -> Result<Begin<'a, T>, EngineError> {
        let Some(key) = &ctx.idempotency_key else {
            return Ok(Begin::Run(Request {
                ctx,
                claim: None,
                steps: AtomicU32::new(0),
            }));
        };
        let key = key.as_str();
        let fingerprint = fingerprint(name, input)?;
        let deadline = tokio::time::Instant::now() + config.wait;
        loop {
            match store.claim_key(key, &fingerprint, config.lease).await? {
                KeyClaim::Claimed {
                    attempt,
                    resumed,
                    allocated_ids,
                } => {
                    if resumed {
                        tracing::info!(key, attempt, "resuming an interrupted request");
                    }
                    return Ok(Begin::Run(Request {
                        ctx,
                        claim: Some(Claim {
                            key: key.to_owned(),
                            attempt,
                            resumed,
                            allocated_ids,
                            next_allocated: AtomicUsize::new(0),
                        }),
                        steps: AtomicU32::new(0),
                    }));
                }
                KeyClaim::Done(response) => {
                    let stored: Result<T, EngineError> = serde_json::from_value(response)?;
                    return Ok(Begin::Done(stored));
                }
                KeyClaim::Mismatch => {
                    return Err(EngineError::KeyReused {
                        key: key.to_owned(),
                    })
                }
                KeyClaim::Pending if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                KeyClaim::Pending => {
                    return Err(EngineError::InProgress {
                        key: key.to_owned(),
                    })
                }
            }
        }
    }

    /// Records the result under the key (an answer) or gives the claim up (a failure that a
    /// retry may overcome), and returns the result.
    pub(crate) async fn finish<T: Serialize>(
        self,
        store: &impl EngineStore,
        result: Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let Some(claim) = &self.claim else {
            return result;
        };
        let answer = match &result {
            Ok(_) => true,
            Err(error) => error.is_final(),
        };
        let recorded = if answer {
            let mut response = serde_json::to_value(&result)?;
            // The answer kept for retries holds no personal data: only the events do, sealed.
            domain::personal::scrub(&mut response);
            store
                .complete_key(&claim.key, claim.attempt, &response)
                .await
                .map(|completed| {
                    if !completed {
                        tracing::warn!(
                            key = claim.key,
                            "the claim was taken over before the result was recorded"
                        );
                    }
                })
        } else {
            store.abandon_key(&claim.key, claim.attempt).await
        };
        if let Err(error) = recorded {
            // The events are appended: a retry resumes and replays them.
            tracing::warn!(key = claim.key, %error, "could not record the request's outcome");
        }
        result
    }

    /// The next step's number and, under a key, the metadata entries that mark its events.
    pub(crate) fn next_step(&self) -> (u32, Vec<(&'static str, String)>) {
        let step = self.steps.fetch_add(1, Ordering::SeqCst) + 1;
        let marks = match &self.claim {
            Some(claim) => vec![
                (event_store::metadata::IDEMPOTENCY_KEY, claim.key.clone()),
                (event_store::metadata::IDEMPOTENCY_STEP, step.to_string()),
            ],
            None => Vec::new(),
        };
        (step, marks)
    }

    /// The key and step under which a resumed request looks for the step's events.
    pub(crate) fn replay_key(&self, step: u32) -> Option<(&str, u32)> {
        self.claim
            .as_ref()
            .filter(|claim| claim.resumed)
            .map(|claim| (claim.key.as_str(), step))
    }

    /// True under an idempotency key. A keyed request that fails for a reason a retry may
    /// overcome (a conflict, a store failure) does not compensate: its retry resumes it and
    /// carries it forward. An unkeyed one cannot be resumed, so it compensates at once.
    pub(crate) fn keyed(&self) -> bool {
        self.claim.is_some()
    }

    /// True when an earlier attempt of this request may have appended events.
    pub(crate) fn resumed(&self) -> bool {
        self.claim.as_ref().is_some_and(|claim| claim.resumed)
    }

    /// An id for something this request creates: the one an earlier attempt allocated at the
    /// same point, or a new one (recorded under the key).
    pub(crate) async fn allocate_id(
        &self,
        store: &impl EngineStore,
        new_id: impl FnOnce() -> String,
    ) -> Result<String, EngineError> {
        let Some(claim) = &self.claim else {
            return Ok(new_id());
        };
        let index = claim.next_allocated.fetch_add(1, Ordering::SeqCst);
        if let Some(id) = claim.allocated_ids.get(index) {
            return Ok(id.clone());
        }
        let id = new_id();
        store
            .record_allocated_id(&claim.key, claim.attempt, &id)
            .await?;
        Ok(id)
    }
}

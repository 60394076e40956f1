//! [`Engine`]: the aggregates' event stores, the policy, the clock and the id generator, and
//! the one way a command reaches an aggregate: [`Engine::execute`] (for callers) and
//! `Engine::step` (for use cases), which stamp the time, attach the metadata, and retry a lost
//! optimistic-concurrency race a bounded number of times, deciding again on the fresh state.

use crate::aggregate::{command_name, EngineAggregate, Stores};
use crate::request::{Begin, Request};
use crate::store::{EngineStore, RecordedEvent};
use crate::{
    Clock, CommandContext, EngineConfig, EngineError, IdGenerator, PgEngineStore, SystemClock,
    UuidV7Ids,
};
use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventRepository;
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore as _};
use domain::{Issued, Policy, Services};
use event_store::PostgresRepository;
use event_store::{CommandMetadata, EventStore};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The write side: turns a user's intention into domain commands across aggregates.
///
/// Generic over the event repository `R` (PostgreSQL, or the embedded SQLite) and the
/// engine's own storage `S`. Share it behind an `Arc`; every method takes `&self`.
pub struct Engine<R: PersistedEventRepository, S: EngineStore> {
    pub(crate) stores: Stores<R>,
    pub(crate) services: Services,
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) config: EngineConfig,
}

/// The engine over PostgreSQL: postgres-es for the aggregates, [`PgEngineStore`] for the rest.
pub type PgEngine = Engine<PostgresRepository, PgEngineStore>;

impl PgEngine {
    /// The engine on `event_store`'s database, with the system clock and UUID v7 ids.
    pub fn postgres(event_store: &EventStore, services: Services, config: EngineConfig) -> Self {
        Engine::new(
            event_store.repository(),
            PgEngineStore::new(event_store.pool().clone()),
            services,
            config,
        )
    }
}

/// The events one command appended, with their sequences in the aggregate (empty when the
/// command changed nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Executed<E> {
    /// The aggregate.
    pub aggregate_id: String,
    /// What was appended, in order.
    pub events: Vec<Appended<E>>,
}

/// One appended event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appended<E> {
    /// Its sequence in the aggregate, from 1.
    pub sequence: usize,
    /// The event.
    pub event: E,
}

impl<E> Executed<E> {
    /// The events, without their sequences.
    pub fn events(&self) -> impl Iterator<Item = &E> {
        self.events.iter().map(|appended| &appended.event)
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

impl<A: Aggregate> From<(&str, Vec<EventEnvelope<A>>)> for Executed<A::Event> {
    fn from((aggregate_id, envelopes): (&str, Vec<EventEnvelope<A>>)) -> Self {
        Self {
            aggregate_id: aggregate_id.to_owned(),
            events: envelopes
                .into_iter()
                .map(|envelope| Appended {
                    sequence: envelope.sequence,
                    event: envelope.payload,
                })
                .collect(),
        }
    }
}

/// An aggregate as loaded from its events.
#[derive(Debug, Clone)]
pub struct Loaded<A> {
    /// Its state.
    pub state: A,
    /// The sequence of its last event; 0 before the first.
    pub version: usize,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// An engine over `repository` and `store`, deciding with `services`' policy, with the
    /// system clock and UUID v7 ids.
    pub fn new(repository: R, store: S, services: Services, config: EngineConfig) -> Self {
        Self {
            stores: Stores::new(
                repository,
                config.signer.clone(),
                config.personal_data.clone(),
            ),
            services,
            store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV7Ids),
            config,
        }
    }

    /// The same engine reading time from `clock`.
    pub fn with_clock(self, clock: impl Clock) -> Self {
        Self {
            clock: Arc::new(clock),
            ..self
        }
    }

    /// The same engine allocating ids with `ids`.
    pub fn with_ids(self, ids: impl IdGenerator) -> Self {
        Self {
            ids: Arc::new(ids),
            ..self
        }
    }

    /// Creates or updates the engine's tables (and, for PostgreSQL, the event store's first;
    /// SQLite's are created when its store is opened).
    pub async fn migrate(&self) -> Result<(), EngineError> {
        self.store.migrate().await
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.services.policy
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The warehouse's local date now.
    pub fn today(&self) -> NaiveDate {
        self.policy().local_date(self.clock.now())
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Aggregate `A` with id `aggregate_id`, from all its events.
    pub async fn load<A: EngineAggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Loaded<A>, EngineError> {
        let context = A::store(&self.stores)
            .load_aggregate(aggregate_id)
            .await
            .map_err(EngineError::from_aggregate)?;
        Ok(Loaded {
            state: context.aggregate,
            version: context.current_sequence,
        })
    }

    /// Every event of aggregate `A` with id `aggregate_id`, in order.
    pub async fn history<A: EngineAggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<A::Event>, EngineError> {
        let envelopes = A::store(&self.stores)
            .load_events(aggregate_id)
            .await
            .map_err(EngineError::from_aggregate)?;
        Ok(envelopes.into_iter().map(|e| e.payload).collect())
    }

    /// Issues `command` to aggregate `A` with id `aggregate_id`, as given, and returns what it
    /// appended. Commands that carry facts about other aggregates are refused here
    /// (`Invalid`): their use case looks the facts up (see [`EngineAggregate::use_case_for`]).
    ///
    /// Under an idempotency key, a retry returns the first result and appends nothing.
    pub async fn execute<A: EngineAggregate>(
        &self,
        aggregate_id: &str,
        command: A::Cmd,
        ctx: &CommandContext,
    ) -> Result<Executed<A::Event>, EngineError> {
        if let Some(use_case) = A::use_case_for(&command) {
            return Err(EngineError::invalid(format!(
                "{} is issued through the {use_case} use case, which looks up its facts",
                command_name(&command)
            )));
        }
        let input = (A::TYPE, aggregate_id, &command);
        match Request::begin(
            &self.store,
            &self.config.idempotency,
            ctx,
            "execute",
            &input,
        )
        .await?
        {
            Begin::Done(result) => result,
            Begin::Run(req) => {
                let result = self.step::<A>(&req, aggregate_id, command).await;
                req.finish(&self.store, result).await
            }
        }
    }

    /// What `command` would decide on `state` now, appending nothing: the pre-checks use
    /// cases make with the aggregates' own pure rules before touching other aggregates.
    pub(crate) async fn dry_run<A: EngineAggregate>(
        &self,
        state: &A,
        command: A::Cmd,
    ) -> Result<Vec<A::Event>, EngineError> {
        let mut copy = state.clone();
        let sink = EventSink::default();
        copy.handle(Issued::at(self.now(), command), &self.services, &sink)
            .await
            .map_err(|refusal| EngineError::refused(&refusal))?;
        Ok(sink.collect().await)
    }

    /// One step of a request: `command` to aggregate `A`, stamped now, with the request's
    /// metadata; on a lost race, reloaded and decided again, at most `retry.max_retries` times.
    /// A resumed request returns the events the step appended before instead.
    pub(crate) async fn step<A: EngineAggregate>(
        &self,
        req: &Request<'_>,
        aggregate_id: &str,
        command: A::Cmd,
    ) -> Result<Executed<A::Event>, EngineError> {
        let (step, marks) = req.next_step();
        if let Some((key, step)) = req.replay_key(step) {
            let recorded = self.store.recorded_step(key, step).await?;
            if !recorded.is_empty() {
                return replayed::<A>(aggregate_id, recorded);
            }
        }
        let ctx = req.ctx;
        let name = command_name(&command);
        let mut metadata = CommandMetadata::new(&ctx.actor, &name, &ctx.correlation_id);
        if let Some(causation_id) = &ctx.causation_id {
            metadata = metadata.caused_by(causation_id);
        }
        if let Some(rule) = &ctx.rule {
            metadata = metadata.for_rule(rule);
        }
        if let Some(traceparent) = &ctx.traceparent {
            metadata = metadata.traced(traceparent);
        }
        let mut metadata: HashMap<String, String> = metadata.into();
        metadata.extend(marks.into_iter().map(|(k, v)| (k.to_owned(), v)));

        let store = A::store(&self.stores);
        let attempts = self.config.retry.max_retries + 1;
        for attempt in 1..=attempts {
            let mut context = store
                .load_aggregate(aggregate_id)
                .await
                .map_err(EngineError::from_aggregate)?;
            let sink = EventSink::default();
            let now = self.now();
            metadata.insert(
                event_store::metadata::ISSUED_AT.to_owned(),
                now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            );
            context
                .aggregate
                .handle(Issued::at(now, command.clone()), &self.services, &sink)
                .await
                .map_err(|refusal| EngineError::refused(&refusal))?;
            let events = sink.collect().await;
            if events.is_empty() {
                return Ok(Executed {
                    aggregate_id: aggregate_id.to_owned(),
                    events: Vec::new(),
                });
            }
            match store.commit(events, context, metadata.clone()).await {
                Ok(envelopes) => return Ok(Executed::from((aggregate_id, envelopes))),
                Err(AggregateError::AggregateConflict) => {
                    tracing::debug!(
                        aggregate_type = A::TYPE,
                        aggregate_id,
                        attempt,
                        "lost an append race; deciding again"
                    );
                    if attempt < attempts {
                        tokio::time::sleep(self.backoff(attempt)).await;
                    }
                }
                Err(error) => return Err(EngineError::from_aggregate(error)),
            }
        }
        Err(EngineError::Conflict {
            aggregate_type: A::TYPE.to_owned(),
            aggregate_id: aggregate_id.to_owned(),
            attempts,
        })
    }

    /// `base * 2^(attempt-1)`, plus up to as much jitter so that racers spread out.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.retry.base_delay * 2u32.saturating_pow(attempt - 1);
        let base_micros = u64::try_from(base.as_micros()).unwrap_or(u64::MAX).max(1);
        // Any well-mixed bits do for jitter; a v4 UUID is 122 of them.
        let random = u64::try_from(uuid::Uuid::new_v4().as_u128() >> 64).unwrap_or_default();
        base + Duration::from_micros(random % base_micros)
    }

    /// A new id for something a request creates (replayed when the request resumes).
    pub(crate) async fn allocate_id(&self, req: &Request<'_>) -> Result<String, EngineError> {
        req.allocate_id(&self.store, || self.ids.next_id()).await
    }
}

/// The events an earlier attempt appended for this step, as the step's result.
fn replayed<A: EngineAggregate>(
    aggregate_id: &str,
    recorded: Vec<RecordedEvent>,
) -> Result<Executed<A::Event>, EngineError> {
    let events = recorded
        .into_iter()
        .map(|event| {
            if event.aggregate_type != A::TYPE || event.aggregate_id != aggregate_id {
                return Err(EngineError::Store {
                    message: format!(
                        "the resumed request diverged: step recorded on {} {}, now on {} {aggregate_id}",
                        event.aggregate_type,
                        event.aggregate_id,
                        A::TYPE
                    ),
                });
            }
            Ok(Appended {
                sequence: event.sequence,
                event: serde_json::from_value(event.payload)?,
            })
        })
        .collect::<Result<_, EngineError>>()?;
    Ok(Executed {
        aggregate_id: aggregate_id.to_owned(),
        events,
    })
}

//! Simulated commands into the event store: [`play`] through the `postgres-es` command side,
//! one command at a time as the write side would; [`append`] of the decided events in bulk,
//! for test backlogs; [`serialized_events`], the decided events in issue order, for loaders of
//! their own (the benchmark's COPY).

use crate::world::{AnyCommand, AnyEvents, SimCommand};
use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use domain::account::ChargeAccount;
use domain::member::Member;
use domain::parcel::Parcel;
use domain::shipment::Shipment;
use domain::{Issued, Services};
use event_store::EventStore;
use serde::Serialize;
use std::collections::HashMap;

/// A simulated command the store's command side did not take.
#[derive(Debug, thiserror::Error)]
#[error("{aggregate_id}: {message}")]
pub struct PlayError {
    /// The aggregate.
    pub aggregate_id: String,
    /// What went wrong.
    pub message: String,
}

/// Executes `commands`, in order, through `store`'s `postgres-es` command side with their
/// metadata. Each is decided again against the stored events, so the store holds exactly the
/// events the simulation decided.
pub async fn play(
    store: &EventStore,
    services: &Services,
    commands: &[SimCommand],
) -> Result<(), PlayError> {
    let members = store.cqrs::<Member>(vec![], services.clone());
    let accounts = store.cqrs::<ChargeAccount>(vec![], services.clone());
    let parcels = store.cqrs::<Parcel>(vec![], services.clone());
    let shipments = store.cqrs::<Shipment>(vec![], services.clone());
    for c in commands {
        let id = c.aggregate_id.as_str();
        let metadata: HashMap<String, String> = c.metadata.clone().into();
        let result = match &c.command {
            AnyCommand::Member(cmd) => members
                .execute_with_metadata(id, Issued::at(c.at, cmd.clone()), metadata)
                .await
                .map_err(|e| e.to_string()),
            AnyCommand::Account(cmd) => accounts
                .execute_with_metadata(id, Issued::at(c.at, cmd.clone()), metadata)
                .await
                .map_err(|e| e.to_string()),
            AnyCommand::Parcel(cmd) => parcels
                .execute_with_metadata(id, Issued::at(c.at, cmd.clone()), metadata)
                .await
                .map_err(|e| e.to_string()),
            AnyCommand::Shipment(cmd) => shipments
                .execute_with_metadata(id, Issued::at(c.at, cmd.clone()), metadata)
                .await
                .map_err(|e| e.to_string()),
        };
        result.map_err(|message| PlayError {
            aggregate_id: c.aggregate_id.clone(),
            message,
        })?;
    }
    Ok(())
}

/// The events `commands` decided, serialized as `postgres-es` stores them, in the order the
/// commands were issued (each command's events in their order). `sequences` carries each
/// aggregate's last sequence across calls (start with an empty map).
pub fn serialized_events(
    commands: &[SimCommand],
    sequences: &mut HashMap<String, usize>,
) -> Result<Vec<SerializedEvent>, PlayError> {
    let mut out = Vec::new();
    for c in commands {
        let metadata = serde_json::to_value(HashMap::<String, String>::from(c.metadata.clone()))
            .map_err(|e| play_error(&c.aggregate_id, &e))?;
        out.extend(match &c.events {
            AnyEvents::Member(events) => serialize::<Member>(c, events, &metadata, sequences),
            AnyEvents::Account(events) => {
                serialize::<ChargeAccount>(c, events, &metadata, sequences)
            }
            AnyEvents::Parcel(events) => serialize::<Parcel>(c, events, &metadata, sequences),
            AnyEvents::Shipment(events) => serialize::<Shipment>(c, events, &metadata, sequences),
        });
    }
    Ok(out)
}

/// Appends the events `commands` decided straight through `postgres-es`'s event repository,
/// `chunk` events of one aggregate type per transaction, the four types concurrently. Each
/// aggregate's events keep their order; the global order interleaves the types by chunks.
/// `sequences` carries each aggregate's last sequence across calls (start with an empty map).
pub async fn append(
    store: &EventStore,
    commands: &[SimCommand],
    chunk: usize,
    sequences: &mut HashMap<String, usize>,
) -> Result<usize, PlayError> {
    let mut by_type: [Vec<SerializedEvent>; 4] = Default::default();
    let mut total = 0;
    for event in serialized_events(commands, sequences)? {
        let slot = match event.aggregate_type.as_str() {
            t if t == Member::TYPE => 0,
            t if t == ChargeAccount::TYPE => 1,
            t if t == Parcel::TYPE => 2,
            _ => 3,
        };
        total += 1;
        by_type[slot].push(event);
    }
    let repository = store.repository();
    let [members, accounts, parcels, shipments] = by_type;
    let (a, b, c, d) = futures::join!(
        persist::<Member>(&repository, members, chunk),
        persist::<ChargeAccount>(&repository, accounts, chunk),
        persist::<Parcel>(&repository, parcels, chunk),
        persist::<Shipment>(&repository, shipments, chunk),
    );
    a.and(b).and(c).and(d)?;
    Ok(total)
}

fn serialize<A: Aggregate>(
    command: &SimCommand,
    events: &[A::Event],
    metadata: &serde_json::Value,
    sequences: &mut HashMap<String, usize>,
) -> Vec<SerializedEvent>
where
    A::Event: Serialize,
{
    let sequence = sequences.entry(command.aggregate_id.clone()).or_insert(0);
    events
        .iter()
        .map(|event| {
            *sequence += 1;
            SerializedEvent::new(
                command.aggregate_id.clone(),
                *sequence,
                A::TYPE.to_owned(),
                event.event_type(),
                event.event_version(),
                serde_json::to_value(event).expect("domain events serialize"),
                metadata.clone(),
            )
        })
        .collect()
}

async fn persist<A: Aggregate>(
    repository: &event_store::PostgresRepository,
    events: Vec<SerializedEvent>,
    chunk: usize,
) -> Result<(), PlayError> {
    for part in events.chunks(chunk.max(1)) {
        repository
            .persist::<A>(part, None)
            .await
            .map_err(|e| play_error(&part[0].aggregate_id, &e))?;
    }
    Ok(())
}

fn play_error(aggregate_id: &str, error: &dyn std::error::Error) -> PlayError {
    PlayError {
        aggregate_id: aggregate_id.to_owned(),
        message: error.to_string(),
    }
}

//! The stock cqrs-es way: a `GenericQuery` per aggregate type over a `PostgresViewRepository`,
//! dispatched one event at a time. Each dispatch loads the view document, folds the event into
//! it, and saves it in a transaction of its own. The documents fold the same changes as the
//! runtime's rows, so both do the same work but for the database round trips.

use crate::BenchError;
use cqrs_es::persist::GenericQuery;
use cqrs_es::{Aggregate, DomainEvent, EventEnvelope, Query, View};
use domain::account::ChargeAccount;
use domain::member::Member;
use domain::parcel::Parcel;
use domain::shipment::Shipment;
use event_store::{EventStore, GlobalCursor, StoredEvent};
use postgres_es::PostgresViewRepository;
use projection_runtime::Projection;
use projections::audit::{Audit, AuditRow};
use projections::billing::{
    account_changes, quote_changes, AccountRow, Change as BillingChange, MovementRow, Origin,
    QuoteRow,
};
use projections::storage_status::{ParcelChange, ParcelRow, ShipmentChange, ShipmentRow};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::{Executor, PgPool};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Generic<V, A> = GenericQuery<PostgresViewRepository<V, A>, V, A>;

/// A `GenericQuery` over table `name`, created (the postgres-es view shape), failing loudly.
async fn query<V: View<A>, A: Aggregate>(
    pool: &PgPool,
    name: &str,
) -> Result<Generic<V, A>, BenchError> {
    pool.execute(
        format!(
            "CREATE TABLE {name} (view_id text PRIMARY KEY, version bigint NOT NULL, payload json NOT NULL)"
        )
        .as_str(),
    )
    .await?;
    let mut query = GenericQuery::new(Arc::new(PostgresViewRepository::new(name, pool.clone())));
    query.use_error_handler(Box::new(|error| panic!("baseline view failed: {error}")));
    Ok(query)
}

/// Dispatches one stored event to `query` as the cqrs-es framework would after a commit.
async fn dispatch<A: Aggregate, Q: Query<A>>(query: &Q, event: &StoredEvent)
where
    A::Event: DeserializeOwned,
{
    let payload: A::Event =
        serde_json::from_value(event.payload.clone()).expect("stored events decode");
    let metadata: HashMap<String, String> =
        serde_json::from_value(event.metadata.clone()).unwrap_or_default();
    let envelope = EventEnvelope::<A> {
        aggregate_id: event.aggregate_id.clone(),
        sequence: usize::try_from(event.sequence).unwrap_or(0),
        payload,
        metadata,
    };
    query.dispatch(&event.aggregate_id, &[envelope]).await;
}

/// Reads up to `limit` events in the global order and hands each to `handle`; returns how
/// many were read and the time from the first read to the last dispatch.
async fn drive<F, Fut>(
    store: &EventStore,
    limit: usize,
    mut handle: F,
) -> Result<(usize, Duration), BenchError>
where
    F: FnMut(StoredEvent) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    let mut cursor = GlobalCursor::START;
    let mut read = 0;
    while read < limit {
        let want = u32::try_from((limit - read).min(2_000)).unwrap_or(2_000);
        let page = store.read_after(cursor, want).await?;
        let Some(last) = page.last() else { break };
        cursor = last.cursor;
        read += page.len();
        for event in page {
            handle(event).await;
        }
    }
    Ok((read, started.elapsed()))
}

// ------------------------------------------------------------------ storage status

#[derive(Debug, Default, Serialize, Deserialize)]
struct ParcelDoc(Option<ParcelRow>);

impl View<Parcel> for ParcelDoc {
    fn update(&mut self, event: &EventEnvelope<Parcel>) {
        if let Some(change) = ParcelChange::of(&event.payload) {
            self.0
                .get_or_insert_with(|| ParcelRow::new(&event.aggregate_id))
                .apply(&change);
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ShipmentDoc(Option<ShipmentRow>);

impl View<Shipment> for ShipmentDoc {
    fn update(&mut self, event: &EventEnvelope<Shipment>) {
        if let Some(change) = ShipmentChange::of(&event.payload) {
            self.0
                .get_or_insert_with(|| ShipmentRow::new(&event.aggregate_id))
                .apply(&change);
        }
    }
}

/// The storage-status view the stock way.
pub(crate) async fn storage_status(
    store: EventStore,
    limit: usize,
) -> Result<(usize, Duration), BenchError> {
    let pool = store.pool().clone();
    let parcels: Generic<ParcelDoc, Parcel> = query(&pool, "bench_storage_parcels").await?;
    let shipments: Generic<ShipmentDoc, Shipment> = query(&pool, "bench_storage_shipments").await?;
    drive(&store, limit, |event| {
        let (parcels, shipments) = (&parcels, &shipments);
        async move {
            match event.aggregate_type.as_str() {
                "parcel" => dispatch::<Parcel, _>(parcels, &event).await,
                "shipment" => dispatch::<Shipment, _>(shipments, &event).await,
                _ => {}
            }
        }
    })
    .await
}

// ------------------------------------------------------------------ billing

#[derive(Debug, Default, Serialize, Deserialize)]
struct AccountDoc {
    account: Option<AccountRow>,
    movements: Vec<MovementRow>,
}

impl View<ChargeAccount> for AccountDoc {
    fn update(&mut self, event: &EventEnvelope<ChargeAccount>) {
        let event_type = event.payload.event_type();
        let origin = Origin {
            aggregate_id: &event.aggregate_id,
            sequence: i64::try_from(event.sequence).unwrap_or(0),
            event_type: &event_type,
            recorded_at: chrono::DateTime::UNIX_EPOCH,
        };
        let changes = account_changes(origin, &event.payload).expect("account events reduce");
        let account = self
            .account
            .get_or_insert_with(|| AccountRow::new(&event.aggregate_id));
        for change in changes {
            match change {
                BillingChange::Movement(movement) => {
                    account.moved(&movement);
                    self.movements.push(movement);
                }
                BillingChange::Account { change, .. } => account.apply(&change),
                BillingChange::Quote { .. } => {}
            }
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct QuoteDoc(Option<QuoteRow>);

impl View<Shipment> for QuoteDoc {
    fn update(&mut self, event: &EventEnvelope<Shipment>) {
        let event_type = event.payload.event_type();
        let origin = Origin {
            aggregate_id: &event.aggregate_id,
            sequence: i64::try_from(event.sequence).unwrap_or(0),
            event_type: &event_type,
            recorded_at: chrono::DateTime::UNIX_EPOCH,
        };
        for change in quote_changes(origin, &event.payload) {
            if let BillingChange::Quote { change, .. } = change {
                self.0
                    .get_or_insert_with(|| QuoteRow::new(&event.aggregate_id))
                    .apply(&change);
            }
        }
    }
}

/// The billing view the stock way.
pub(crate) async fn billing(
    store: EventStore,
    limit: usize,
) -> Result<(usize, Duration), BenchError> {
    let pool = store.pool().clone();
    let accounts: Generic<AccountDoc, ChargeAccount> =
        query(&pool, "bench_billing_accounts").await?;
    let quotes: Generic<QuoteDoc, Shipment> = query(&pool, "bench_billing_quotes").await?;
    drive(&store, limit, |event| {
        let (accounts, quotes) = (&accounts, &quotes);
        async move {
            match event.aggregate_type.as_str() {
                "account" => dispatch::<ChargeAccount, _>(accounts, &event).await,
                "shipment" => dispatch::<Shipment, _>(quotes, &event).await,
                _ => {}
            }
        }
    })
    .await
}

// ------------------------------------------------------------------ audit

/// An aggregate's audit trail as one document: every event's audit row.
#[derive(Debug, Default, Serialize, Deserialize)]
struct AuditDoc(Vec<AuditRow>);

impl<A: Aggregate> View<A> for AuditDoc {
    fn update(&mut self, event: &EventEnvelope<A>) {
        let envelope = projection_runtime::EventEnvelope {
            event_id: uuid::Uuid::nil(),
            aggregate_type: A::TYPE.to_owned(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: i64::try_from(event.sequence).unwrap_or(0),
            event_type: event.payload.event_type(),
            event_version: event.payload.event_version(),
            payload: serde_json::to_value(&event.payload).expect("events serialize"),
            metadata: serde_json::to_value(&event.metadata).expect("metadata serializes"),
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            cursor: GlobalCursor::START,
        };
        self.0
            .extend(Audit.reduce(&envelope).expect("stored events reduce"));
    }
}

/// The audit view the stock way.
pub(crate) async fn audit(
    store: EventStore,
    limit: usize,
) -> Result<(usize, Duration), BenchError> {
    let pool = store.pool().clone();
    let members: Generic<AuditDoc, Member> = query(&pool, "bench_audit_members").await?;
    let accounts: Generic<AuditDoc, ChargeAccount> = query(&pool, "bench_audit_accounts").await?;
    let parcels: Generic<AuditDoc, Parcel> = query(&pool, "bench_audit_parcels").await?;
    let shipments: Generic<AuditDoc, Shipment> = query(&pool, "bench_audit_shipments").await?;
    drive(&store, limit, |event| {
        let (members, accounts, parcels, shipments) = (&members, &accounts, &parcels, &shipments);
        async move {
            match event.aggregate_type.as_str() {
                "member" => dispatch::<Member, _>(members, &event).await,
                "account" => dispatch::<ChargeAccount, _>(accounts, &event).await,
                "parcel" => dispatch::<Parcel, _>(parcels, &event).await,
                "shipment" => dispatch::<Shipment, _>(shipments, &event).await,
                _ => {}
            }
        }
    })
    .await
}

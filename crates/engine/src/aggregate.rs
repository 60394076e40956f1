//! The four aggregates as the engine drives them: [`EngineAggregate`] names each one's command
//! type and says which commands carry facts the engine must look up itself, and [`Stores`]
//! holds one cqrs-es `PersistedEventStore` per aggregate over one shared repository.

use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, ReplayStream, SerializedEvent,
    SerializedSnapshot,
};
use cqrs_es::Aggregate;
use domain::account::{AccountCommand, ChargeAccount};
use domain::member::{Member, MemberCommand};
use domain::parcel::{Parcel, ParcelCommand};
use domain::shipment::{Shipment, ShipmentCommand};
use domain::{Issued, Refusal, Services};
use event_store::authorship::{AuthoredFields, EventSigner};
use personal_data::{PersonalData, PersonalDataError};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Debug;
use std::sync::Arc;

/// An aggregate of the domain as the engine executes it: its command is the domain command
/// stamped with the time (`Issued<Cmd>`), its services the policy, its errors refusals.
pub trait EngineAggregate:
    Aggregate<
        Command = Issued<Self::Cmd>,
        Services = Services,
        Error: Refusal + Send + Sync + 'static,
    > + Clone
    + Debug
    + 'static
{
    /// The domain command.
    type Cmd: Clone + Debug + Serialize + Send + Sync + 'static;

    /// The use case that must issue `command` because it carries facts about other
    /// aggregates, which the engine looks up itself and never takes from a caller; `None`
    /// when the generic `Engine::execute` may issue it as given.
    fn use_case_for(command: &Self::Cmd) -> Option<&'static str>;

    /// This aggregate's event store.
    fn store<R: PersistedEventRepository>(
        stores: &Stores<R>,
    ) -> &PersistedEventStore<SharedRepository<R>, Self>;
}

/// The command's name as stored in event metadata: its serialized tag (`reserve_for_consolidation`).
pub(crate) fn command_name<C: Serialize>(command: &C) -> String {
    match serde_json::to_value(command) {
        Ok(Value::String(name)) => name,
        Ok(Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

impl EngineAggregate for Member {
    type Cmd = MemberCommand;

    fn use_case_for(command: &MemberCommand) -> Option<&'static str> {
        match command {
            MemberCommand::Register { .. } => Some("register_member"),
            MemberCommand::SuspendForRejectedTopUps { .. } => Some("apply_for_top_up"),
            MemberCommand::RecordAutoShipUse { .. } => Some("quote"),
            MemberCommand::RequestWithdrawal => Some("request_withdrawal"),
            MemberCommand::Close { .. } => Some("refund_and_close"),
            MemberCommand::EvaluateAutoClosure { .. } => Some("evaluate_auto_closure"),
            MemberCommand::ErasePersonalData => Some("erase_personal_data"),
            _ => None,
        }
    }

    fn store<R: PersistedEventRepository>(
        stores: &Stores<R>,
    ) -> &PersistedEventStore<SharedRepository<R>, Self> {
        &stores.members
    }
}

impl EngineAggregate for ChargeAccount {
    type Cmd = AccountCommand;

    fn use_case_for(command: &AccountCommand) -> Option<&'static str> {
        use domain::account::{CreditReason, DebitReason};
        match command {
            AccountCommand::Open { .. } => Some("register_member"),
            AccountCommand::Debit {
                reason: DebitReason::ShipmentPayment,
                ..
            } => Some("pay"),
            AccountCommand::Credit {
                reason: CreditReason::PaymentReversal,
                ..
            } => Some("pay"),
            AccountCommand::Credit {
                reason: CreditReason::ClaimPayout,
                ..
            } => Some("approve_claim"),
            AccountCommand::ChargeDisposalFee { .. } => Some("dispose_parcel"),
            AccountCommand::ScheduleRefund { .. } => Some("request_withdrawal"),
            _ => None,
        }
    }

    fn store<R: PersistedEventRepository>(
        stores: &Stores<R>,
    ) -> &PersistedEventStore<SharedRepository<R>, Self> {
        &stores.accounts
    }
}

impl EngineAggregate for Parcel {
    type Cmd = ParcelCommand;

    fn use_case_for(command: &ParcelCommand) -> Option<&'static str> {
        match command {
            ParcelCommand::Arrive(_) => Some("receive_parcel"),
            ParcelCommand::AttachToMember { .. } => Some("attach_parcel"),
            ParcelCommand::Inspect(_) => Some("inspect_parcel"),
            ParcelCommand::Store { .. } => Some("store_parcel"),
            ParcelCommand::SendStorageNotice { .. }
            | ParcelCommand::MarkDisposable { .. }
            | ParcelCommand::ExtendStorage { .. } => Some("storage_clock"),
            ParcelCommand::AccrueStorageFee => Some("accrue_storage_fee"),
            ParcelCommand::RequestPacking { .. } => Some("request_packing"),
            ParcelCommand::ReserveForConsolidation { .. } => Some("consolidate"),
            ParcelCommand::Pack { .. } => Some("record_packing"),
            ParcelCommand::Release { .. } => Some("cancel_shipment"),
            ParcelCommand::ReleaseHold { .. } => Some("pay"),
            ParcelCommand::HoldForNonPayment { .. } => Some("hold_unpaid"),
            ParcelCommand::Dispose { .. } => Some("dispose_parcel"),
            ParcelCommand::ConfirmDeclaration => Some("confirm_declaration"),
            ParcelCommand::FollowShipment { .. } => Some("advance_shipment"),
            ParcelCommand::Expect { .. }
            | ParcelCommand::CancelExpected
            | ParcelCommand::Declare { .. }
            | ParcelCommand::Return { .. } => None,
        }
    }

    fn store<R: PersistedEventRepository>(
        stores: &Stores<R>,
    ) -> &PersistedEventStore<SharedRepository<R>, Self> {
        &stores.parcels
    }
}

impl EngineAggregate for Shipment {
    type Cmd = ShipmentCommand;

    fn use_case_for(command: &ShipmentCommand) -> Option<&'static str> {
        match command {
            ShipmentCommand::RequestConsolidation { .. } => Some("consolidate"),
            ShipmentCommand::RequestPacking { .. } => Some("request_packing"),
            ShipmentCommand::RecordPacking { .. } => Some("record_packing"),
            ShipmentCommand::Quote { .. } => Some("quote"),
            ShipmentCommand::Pay { .. } => Some("pay"),
            ShipmentCommand::HoldUnpaid => Some("hold_unpaid"),
            ShipmentCommand::Cancel { .. } => Some("cancel_shipment"),
            ShipmentCommand::ApproveClaim { .. } => Some("approve_claim"),
            ShipmentCommand::Ship { .. } => Some("ship"),
            ShipmentCommand::RecordTracking { .. }
            | ShipmentCommand::FileClaim { .. }
            | ShipmentCommand::WithdrawClaim { .. }
            | ShipmentCommand::RejectClaim { .. }
            | ShipmentCommand::RecordExchangeItemReceived { .. }
            | ShipmentCommand::LapseExchange { .. } => Some("advance_shipment"),
            ShipmentCommand::ReceiveReturn { .. } => Some("receive_return"),
            ShipmentCommand::AbandonReturn => Some("abandon_return"),
            ShipmentCommand::ChargeRedelivery { .. } => Some("charge_redelivery"),
            _ => None,
        }
    }

    fn store<R: PersistedEventRepository>(
        stores: &Stores<R>,
    ) -> &PersistedEventStore<SharedRepository<R>, Self> {
        &stores.shipments
    }
}

/// One `PersistedEventStore` per aggregate, loading from events only: cqrs-es 0.5.0
/// snapshots apply the last command twice (see `event_store::EventStore::cqrs`).
pub struct Stores<R: PersistedEventRepository> {
    members: PersistedEventStore<SharedRepository<R>, Member>,
    accounts: PersistedEventStore<SharedRepository<R>, ChargeAccount>,
    parcels: PersistedEventStore<SharedRepository<R>, Parcel>,
    shipments: PersistedEventStore<SharedRepository<R>, Shipment>,
}

impl<R: PersistedEventRepository> Stores<R> {
    pub(crate) fn new(
        repository: R,
        signer: Option<Arc<EventSigner>>,
        personal_data: Option<Arc<PersonalData>>,
    ) -> Self {
        let shared = SharedRepository {
            repository: Arc::new(repository),
            signer,
            personal_data,
        };
        Self {
            // Older event versions are read as the current ones (domain::upcast).
            members: PersistedEventStore::new_event_store(shared.clone())
                .with_upcasters(domain::upcast::upcasters()),
            accounts: PersistedEventStore::new_event_store(shared.clone())
                .with_upcasters(domain::upcast::upcasters()),
            parcels: PersistedEventStore::new_event_store(shared.clone())
                .with_upcasters(domain::upcast::upcasters()),
            shipments: PersistedEventStore::new_event_store(shared)
                .with_upcasters(domain::upcast::upcasters()),
        }
    }
}

/// One repository shared by the four stores (a cqrs-es store owns its repository). With the
/// members' keys it seals the personal data of every event it persists and opens it in every
/// event it loads; then it signs each event with the writer's key when it has one (issue #10),
/// so the signature and the chain cover the sealed text.
pub struct SharedRepository<R> {
    repository: Arc<R>,
    signer: Option<Arc<EventSigner>>,
    personal_data: Option<Arc<PersonalData>>,
}

impl<R> Clone for SharedRepository<R> {
    fn clone(&self) -> Self {
        Self {
            repository: Arc::clone(&self.repository),
            signer: self.signer.clone(),
            personal_data: self.personal_data.clone(),
        }
    }
}

fn persistence_error(error: PersonalDataError) -> PersistenceError {
    PersistenceError::UnknownError(Box::new(error))
}

impl<R> SharedRepository<R> {
    /// `events` with their personal data sealed.
    async fn sealed(
        &self,
        events: &[SerializedEvent],
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let Some(keys) = &self.personal_data else {
            return Ok(events.to_vec());
        };
        let mut sealed = Vec::with_capacity(events.len());
        for event in events {
            let payload = keys
                .seal(
                    &event.aggregate_type,
                    &event.aggregate_id,
                    &event.event_type,
                    &event.payload,
                )
                .await
                .map_err(persistence_error)?;
            sealed.push(SerializedEvent {
                payload,
                ..event.clone()
            });
        }
        Ok(sealed)
    }

    /// `events` with their personal data opened, or stand-ins where it cannot be.
    async fn opened(
        &self,
        mut events: Vec<SerializedEvent>,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        for event in &mut events {
            if !domain::personal::holds_personal_data(&event.event_type) {
                continue;
            }
            match &self.personal_data {
                Some(keys) => {
                    keys.open(
                        &event.aggregate_type,
                        &event.aggregate_id,
                        &event.event_type,
                        &mut event.payload,
                    )
                    .await
                    .map_err(persistence_error)?;
                }
                None => {
                    domain::personal::redact(&event.event_type, &mut event.payload);
                }
            }
        }
        Ok(events)
    }
}

/// `event` with its signature in its metadata.
fn signed(signer: &EventSigner, event: &SerializedEvent) -> SerializedEvent {
    let metadata = signer.signed(AuthoredFields {
        aggregate_type: &event.aggregate_type,
        aggregate_id: &event.aggregate_id,
        sequence: i64::try_from(event.sequence).unwrap_or(i64::MAX),
        event_type: &event.event_type,
        event_version: &event.event_version,
        payload: &event.payload,
        metadata: &event.metadata,
    });
    SerializedEvent {
        metadata,
        ..event.clone()
    }
}

impl<R: PersistedEventRepository> PersistedEventRepository for SharedRepository<R> {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self.repository.get_events::<A>(aggregate_id).await?;
        self.opened(events).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self
            .repository
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await?;
        self.opened(events).await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.repository.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let mut events = self.sealed(events).await?;
        if let Some(signer) = &self.signer {
            events = events.iter().map(|event| signed(signer, event)).collect();
        }
        self.repository.persist::<A>(&events, snapshot_update).await
    }

    // The replay streams (cqrs-es' `QueryReplay`, which parcelport does not use) pass the
    // stored events through as they are: personal data sealed.
    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.repository.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.repository.stream_all_events::<A>().await
    }
}

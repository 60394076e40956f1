//! The facts the engine looks up for a command about another aggregate (`domain::facts`):
//! read from the owning aggregate just before the command, never taken from the caller. A
//! fact may be stale by the time the command lands; the aggregate that owns the invariant
//! re-checks it (ARCHITECTURE.md, "Why the boundaries are where they are").

use crate::store::EngineStore;
use crate::{Engine, EngineError, Loaded};
use chrono::NaiveDate;
use cqrs_es::persist::PersistedEventRepository;
use domain::facts::{MemberStanding, ParcelFacts};
use domain::ids::{MemberId, ParcelId, ShipmentId};
use domain::member::Member;
use domain::parcel::{Parcel, ParcelError, ShipmentHeld};
use domain::policy::StorageAnchor;
use domain::shipment::{Shipment, ShipmentEvent};

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Where `member` stands today (MEM-2, MEM-4, MEM-6, MEM-7).
    pub async fn standing(&self, member: &MemberId) -> Result<MemberStanding, EngineError> {
        let loaded = self.load::<Member>(member.as_str()).await?;
        loaded
            .state
            .standing(self.today())
            .ok_or_else(|| EngineError::not_found("member", member))
    }

    /// A parcel that exists.
    pub(crate) async fn existing_parcel(
        &self,
        parcel: &ParcelId,
    ) -> Result<Loaded<Parcel>, EngineError> {
        let loaded = self.load::<Parcel>(parcel.as_str()).await?;
        if loaded.version == 0 {
            return Err(EngineError::not_found("parcel", parcel));
        }
        Ok(loaded)
    }

    /// A shipment that exists.
    pub(crate) async fn existing_shipment(
        &self,
        shipment: &ShipmentId,
    ) -> Result<Loaded<Shipment>, EngineError> {
        let loaded = self.load::<Shipment>(shipment.as_str()).await?;
        if loaded.version == 0 {
            return Err(EngineError::not_found("shipment", shipment));
        }
        Ok(loaded)
    }

    /// The owner of a parcel that has one.
    pub(crate) fn owner_of(parcel_id: &ParcelId, parcel: &Parcel) -> Result<MemberId, EngineError> {
        parcel.member_id().cloned().ok_or_else(|| {
            EngineError::invalid(format!("parcel {parcel_id} belongs to no member yet"))
        })
    }

    /// The parcel as a shipment needs it (PAR-4: only with a confirmed declaration).
    pub(crate) fn facts_of(parcel: &Parcel) -> Result<ParcelFacts, EngineError> {
        parcel
            .facts()
            .ok_or_else(|| EngineError::refused(&ParcelError::DeclarationNotConfirmed))
    }

    /// STO-1 `first-waiting-arrival`: the arrival of the earliest parcel `member` still has
    /// waiting in storage (in a shipment not paid for too: [`Self::on_storage_clock`]), from
    /// the engine's member-to-parcels index; `None` under the `per-parcel` anchor, where the
    /// fact is not used.
    pub(crate) async fn earliest_waiting_arrival(
        &self,
        member: Option<&MemberId>,
    ) -> Result<Option<NaiveDate>, EngineError> {
        let Some(member) = member else {
            return Ok(None);
        };
        if self.policy().storage.anchor != StorageAnchor::FirstWaitingArrival {
            return Ok(None);
        }
        let mut earliest: Option<NaiveDate> = None;
        for parcel in self.store.parcels_of(member).await? {
            let loaded = self.load::<Parcel>(parcel.as_str()).await?;
            if !self.on_storage_clock(&loaded.state).await? {
                continue;
            }
            if let Some(receipt) = loaded.state.receipt() {
                earliest =
                    Some(earliest.map_or(receipt.received_on, |e| e.min(receipt.received_on)));
            }
        }
        Ok(earliest)
    }

    /// STO-1: whether `parcel`'s storage clock runs: waiting in storage, or in a shipment
    /// that is not paid for (requested, packed, quoted, held). The parcel alone cannot tell
    /// a packed parcel whose shipment is unpaid from one whose shipment left, so the shipment
    /// says.
    pub(crate) async fn on_storage_clock(&self, parcel: &Parcel) -> Result<bool, EngineError> {
        let status = parcel.status();
        Ok(match status.shipment_id() {
            None => status.in_storage(),
            Some(shipment) => self
                .load::<Shipment>(shipment.as_str())
                .await?
                .state
                .status()
                .keeps_storage_clock(),
        })
    }

    /// STO-1: the earliest arrival `parcel`'s storage clock counts from besides its own: the
    /// member's earliest waiting arrival ([`Self::earliest_waiting_arrival`]) and, for a
    /// parcel in a shipment, the earliest arrival of the shipment's parcels, under either
    /// anchor (a packed shipment keeps it).
    pub(crate) async fn storage_clock_earliest(
        &self,
        parcel: &Parcel,
    ) -> Result<Option<NaiveDate>, EngineError> {
        let waiting = self.earliest_waiting_arrival(parcel.member_id()).await?;
        let shipment = match parcel.status().shipment_id() {
            Some(shipment) => self
                .load::<Shipment>(shipment.as_str())
                .await?
                .state
                .earliest_received_on(),
            None => None,
        };
        Ok(match (waiting, shipment) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// PAY-2: the fact that `shipment` is held for an unpaid quote, from its `Held` event;
    /// none once it was paid after all (paying a held shipment releases it).
    pub(crate) async fn shipment_held(
        &self,
        shipment: &ShipmentId,
    ) -> Result<Option<ShipmentHeld>, EngineError> {
        let held = self
            .history::<Shipment>(shipment.as_str())
            .await?
            .into_iter()
            .rev()
            .find_map(|event| match event {
                ShipmentEvent::Held { due_on, .. } => Some(Some(due_on)),
                ShipmentEvent::Paid { .. } => Some(None),
                _ => None,
            })
            .flatten();
        Ok(held.map(|quote_due_on| ShipmentHeld {
            shipment_id: shipment.clone(),
            quote_due_on,
        }))
    }
}

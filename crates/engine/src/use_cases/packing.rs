//! Packing one parcel on its own (a shipment of one, PAR-4, MEM-2, MEM-4, MEM-6), and
//! recording a shipment as packed, which hands its parcels over to it.

use super::request;
use crate::store::EngineStore;
use crate::{ids, CommandContext, Engine, EngineError, Executed};
use cqrs_es::persist::PersistedEventRepository;
use domain::ids::{MemberId, ParcelId, ShipmentId};
use domain::measure::{Dimensions, Weight};
use domain::parcel::{Parcel, ParcelCommand, ParcelEvent};
use domain::shipment::{Shipment, ShipmentCommand, ShipmentEvent};
use serde::{Deserialize, Serialize};

/// A packing request made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackingRequested {
    /// The new shipment of one.
    pub shipment_id: ShipmentId,
    /// `parcel.packing_requested` (absent when Auto Pack had requested it on arrival).
    pub parcel: Option<Executed<ParcelEvent>>,
    /// `shipment.packing_requested`.
    pub shipment: Executed<ShipmentEvent>,
}

/// The packed shipment as measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Packing {
    /// Carrier code it was packed for (CON-4).
    pub carrier: String,
    /// Measured weight.
    pub weight: Weight,
    /// Measured outer dimensions.
    pub dimensions: Dimensions,
}

/// A shipment recorded as packed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Packed {
    /// `shipment.packed`.
    pub shipment: Executed<ShipmentEvent>,
    /// `parcel.packed`, one per parcel.
    pub parcels: Vec<Executed<ParcelEvent>>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// `member` asks for one stored parcel to be packed on its own. The shipment's rules
    /// (MEM-2, MEM-4) are checked first on a dry run, so a refused request leaves the parcel
    /// stored; an Auto Pack parcel (already `packing_requested`) gets its `pack-<parcel>` shipment.
    pub async fn request_packing(
        &self,
        member_id: &MemberId,
        parcel_id: &ParcelId,
        ctx: &CommandContext,
    ) -> Result<PackingRequested, EngineError> {
        let input = (member_id, parcel_id);
        request!(self, ctx, "request_packing", &input, |req| async {
            let member = self.standing(member_id).await?;
            let parcel = self.existing_parcel(parcel_id).await?.state;
            if parcel.auto_pack() {
                let shipment = self
                    .request_auto_pack_shipment(&req, parcel_id, &parcel)
                    .await?;
                return Ok(PackingRequested {
                    shipment_id: ids::auto_pack_shipment_of(parcel_id)?,
                    parcel: None,
                    shipment,
                });
            }
            let facts = Self::facts_of(&parcel)?;
            let shipment_id = parse_shipment(&self.allocate_id(&req).await?)?;
            let request = ShipmentCommand::RequestPacking {
                shipment_id: shipment_id.clone(),
                member: member.clone(),
                parcel: facts,
            };
            if !req.resumed() {
                self.dry_run(&Shipment::default(), request.clone()).await?;
            }
            let parcel_step = self
                .step::<Parcel>(
                    &req,
                    parcel_id.as_str(),
                    ParcelCommand::RequestPacking {
                        member,
                        shipment_id: shipment_id.clone(),
                    },
                )
                .await?;
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), request)
                .await?;
            Ok(PackingRequested {
                shipment_id,
                parcel: Some(parcel_step),
                shipment,
            })
        })
    }

    /// Records the shipment as packed and measured (CON-4) and each of its parcels as packed
    /// into it: the shipment carries them on.
    pub async fn record_packing(
        &self,
        shipment_id: &ShipmentId,
        packing: Packing,
        ctx: &CommandContext,
    ) -> Result<Packed, EngineError> {
        let input = (shipment_id, &packing);
        request!(self, ctx, "record_packing", &input, |req| async {
            let parcel_ids = self
                .existing_shipment(shipment_id)
                .await?
                .state
                .parcel_ids();
            let command = ShipmentCommand::RecordPacking {
                carrier: packing.carrier,
                weight: packing.weight,
                dimensions: packing.dimensions,
            };
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), command)
                .await?;
            let mut parcels = Vec::new();
            for parcel_id in parcel_ids {
                let pack = ParcelCommand::Pack {
                    shipment_id: shipment_id.clone(),
                };
                parcels.push(self.step::<Parcel>(&req, parcel_id.as_str(), pack).await?);
            }
            Ok(Packed { shipment, parcels })
        })
    }
}

pub(crate) fn parse_shipment(id: &str) -> Result<ShipmentId, EngineError> {
    ShipmentId::parse(id).map_err(|e| EngineError::invalid(e.to_string()))
}

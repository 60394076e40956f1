//! Each parcel's own stream tells its whole life: a shipment that is paid, shipped, tracked,
//! claimed against or whose claim is settled has each parcel it concerns record the same
//! (`parcel.paid`, `parcel.shipped`, `parcel.delivered`, `parcel.claimed`, ...), so a
//! subscriber following one parcel (`parcelport.parcel.<id>.>`) reads it all there. The
//! shipment's own events stay as they are.
//!
//! As in the other cross-aggregate use cases, the shipment decides first; each parcel then
//! takes one step per fact, in the shipment's parcel order, under the request's key, so a
//! resumed request replays the same steps and appends nothing twice. A parcel records a fact
//! it already holds as nothing, and a parcel that refuses (its state no longer follows the
//! shipment: disposed of meanwhile) is reported with its refusal; the shipment's event stands.

use super::{note_refused, request};
use crate::aggregate::{command_name, EngineAggregate};
use crate::store::EngineStore;
use crate::{CommandContext, Engine, EngineError, Executed, Request};
use cqrs_es::persist::PersistedEventRepository;
use domain::ids::{ParcelId, ShipmentId};
use domain::parcel::{Parcel, ParcelCommand, ParcelEvent};
use domain::shipment::{Shipment, ShipmentCommand, ShipmentEvent};
use serde::{Deserialize, Serialize};

/// A shipment command carried out, and what its parcels recorded of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advanced {
    /// The shipment's events.
    pub shipment: Executed<ShipmentEvent>,
    /// The parcels' events (`parcel.shipped`, `parcel.delivered`, `parcel.claimed`, ...).
    #[serde(default)]
    pub parcels: Vec<Executed<ParcelEvent>>,
    /// Parcels that refused to follow, with the refusal.
    #[serde(default)]
    pub refused: Vec<(ParcelId, EngineError)>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Issues `command` to the shipment (shipping, tracking, claims: SHP-1, SHP-2, CLM-1 to
    /// CLM-6), then has each parcel it concerns record what happened on its own stream.
    /// Commands that belong to another use case (quote, pay, approve a claim, ...) are refused.
    pub async fn advance_shipment(
        &self,
        shipment_id: &ShipmentId,
        command: ShipmentCommand,
        ctx: &CommandContext,
    ) -> Result<Advanced, EngineError> {
        match Shipment::use_case_for(&command) {
            Some("advance_shipment") => {}
            Some(use_case) => {
                return Err(EngineError::invalid(format!(
                    "{} is issued through the {use_case} use case",
                    command_name(&command)
                )))
            }
            None => {
                return Err(EngineError::invalid(format!(
                    "{} concerns the shipment alone: execute it",
                    command_name(&command)
                )))
            }
        }
        let input = (shipment_id, &command);
        request!(self, ctx, "advance_shipment", &input, |req| async {
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), command)
                .await?;
            let mut advanced = Advanced {
                shipment,
                parcels: Vec::new(),
                refused: Vec::new(),
            };
            let (parcels, refused) = self
                .parcels_follow(&req, shipment_id, &advanced.shipment)
                .await?;
            advanced.parcels = parcels;
            advanced.refused = refused;
            Ok(advanced)
        })
    }

    /// Has each parcel concerned by the shipment events in `executed` record them
    /// (`Shipment::parcel_facts`, read on the shipment as it is now): the parcels' events, and
    /// the parcels that refused.
    pub(crate) async fn parcels_follow(
        &self,
        req: &Request<'_>,
        shipment_id: &ShipmentId,
        executed: &Executed<ShipmentEvent>,
    ) -> Result<(Vec<Executed<ParcelEvent>>, Vec<(ParcelId, EngineError)>), EngineError> {
        let mut parcels = Vec::new();
        let mut refused = Vec::new();
        if executed.is_empty() {
            return Ok((parcels, refused));
        }
        let shipment = self.existing_shipment(shipment_id).await?.state;
        for event in executed.events() {
            for (parcel_id, fact) in shipment.parcel_facts(event) {
                let follow = ParcelCommand::FollowShipment {
                    shipment_id: shipment_id.clone(),
                    fact,
                };
                match self.step::<Parcel>(req, parcel_id.as_str(), follow).await {
                    Ok(followed) if followed.is_empty() => {}
                    Ok(followed) => parcels.push(followed),
                    Err(error) if error.is_final() => {
                        note_refused("parcel following its shipment", &error);
                        refused.push((parcel_id, error));
                    }
                    Err(error) => return Err(error),
                }
            }
        }
        Ok((parcels, refused))
    }
}

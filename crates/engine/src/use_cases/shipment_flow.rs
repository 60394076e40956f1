//! A shipment's exits before payment: cancelled, its parcels back to storage (CON-5); or
//! held for an unpaid quote, its parcels held with it (PAY-2).

use super::{note_refused, request};
use crate::store::EngineStore;
use crate::{CommandContext, Engine, EngineError, Executed};
use cqrs_es::persist::PersistedEventRepository;
use domain::ids::{ParcelId, ShipmentId};
use domain::parcel::{Parcel, ParcelCommand, ParcelEvent, ShipmentHeld};
use domain::shipment::{Shipment, ShipmentCommand, ShipmentEvent};
use serde::{Deserialize, Serialize};

/// A shipment cancelled or held, and what happened to its parcels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentClosed {
    /// `shipment.cancelled` or `shipment.held`.
    pub shipment: Executed<ShipmentEvent>,
    /// `parcel.released` or `parcel.held`, one per parcel that took it.
    pub parcels: Vec<Executed<ParcelEvent>>,
    /// Parcels that refused, with the refusal (an Auto Pack parcel, requested before its
    /// inspection, has no stored state to go back to; CON-5, MEM-6).
    pub refused: Vec<(ParcelId, EngineError)>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Cancels a shipment until it is paid and releases its parcels to storage (CON-5).
    pub async fn cancel_shipment(
        &self,
        shipment_id: &ShipmentId,
        reason: &str,
        ctx: &CommandContext,
    ) -> Result<ShipmentClosed, EngineError> {
        let input = (shipment_id, reason);
        request!(self, ctx, "cancel_shipment", &input, |req| async {
            let command = ShipmentCommand::Cancel {
                reason: reason.to_owned(),
            };
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), command)
                .await?;
            let parcels = shipment
                .events()
                .find_map(|event| match event {
                    ShipmentEvent::Cancelled { parcels, .. } => Some(parcels.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let mut closed = ShipmentClosed {
                shipment,
                parcels: Vec::new(),
                refused: Vec::new(),
            };
            for parcel_id in parcels {
                let release = ParcelCommand::Release {
                    shipment_id: shipment_id.clone(),
                };
                match self.step::<Parcel>(&req, parcel_id.as_str(), release).await {
                    Ok(released) => closed.parcels.push(released),
                    Err(refused) if refused.is_final() => {
                        note_refused("release after cancellation", &refused);
                        closed.refused.push((parcel_id, refused));
                    }
                    Err(error) => return Err(error),
                }
            }
            Ok(closed)
        })
    }

    /// Holds a shipment whose quote is unpaid past its due date, and its parcels with it
    /// (PAY-2); they may then be disposed of (DSP-1).
    pub async fn hold_unpaid(
        &self,
        shipment_id: &ShipmentId,
        ctx: &CommandContext,
    ) -> Result<ShipmentClosed, EngineError> {
        request!(self, ctx, "hold_unpaid", shipment_id, |req| async {
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), ShipmentCommand::HoldUnpaid)
                .await?;
            let held = shipment.events().find_map(|event| match event {
                ShipmentEvent::Held {
                    parcels, due_on, ..
                } => Some((parcels.clone(), *due_on)),
                _ => None,
            });
            let mut closed = ShipmentClosed {
                shipment,
                parcels: Vec::new(),
                refused: Vec::new(),
            };
            let Some((parcels, quote_due_on)) = held else {
                return Ok(closed);
            };
            for parcel_id in parcels {
                let hold = ParcelCommand::HoldForNonPayment {
                    shipment: ShipmentHeld {
                        shipment_id: shipment_id.clone(),
                        quote_due_on,
                    },
                };
                match self.step::<Parcel>(&req, parcel_id.as_str(), hold).await {
                    Ok(parcel) => closed.parcels.push(parcel),
                    Err(refused) if refused.is_final() => {
                        note_refused("hold after an unpaid quote", &refused);
                        closed.refused.push((parcel_id, refused));
                    }
                    Err(error) => return Err(error),
                }
            }
            Ok(closed)
        })
    }
}

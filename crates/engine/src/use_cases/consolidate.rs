//! Consolidation (CON-1..CON-3, CON-5): stored parcels of one member packed as one shipment.
//!
//! A parcel belongs to at most one open shipment (CON-3), and the Parcel aggregate decides it:
//! the engine reserves each parcel into the new shipment (`reserve_for_consolidation`), and a
//! parcel already reserved by a racing consolidation refuses, or the racer loses the append
//! and, deciding again on the fresh state, refuses. Only then is the shipment requested. When
//! a reservation or the shipment refuses, the reservations made are released (compensation,
//! recorded as `parcel.released` events) and the refusal is returned.
//!
//! Before reserving anything, the same pure rules run on a dry run (each parcel's reservation,
//! then the shipment's CON-1/CON-2 limits), so a request that cannot succeed reserves nothing.

use super::request;
use crate::store::EngineStore;
use crate::use_cases::packing::parse_shipment;
use crate::{CommandContext, Engine, EngineError, Executed, Request};
use cqrs_es::persist::PersistedEventRepository;
use domain::ids::{MemberId, ParcelId, ShipmentId};
use domain::parcel::{Parcel, ParcelCommand, ParcelEvent};
use domain::shipment::{Shipment, ShipmentCommand, ShipmentEvent};
use serde::{Deserialize, Serialize};

/// A consolidation made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consolidated {
    /// The new shipment.
    pub shipment_id: ShipmentId,
    /// `parcel.consolidated`, one per parcel, in the order asked.
    pub reservations: Vec<Executed<ParcelEvent>>,
    /// `shipment.consolidated`.
    pub shipment: Executed<ShipmentEvent>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// `member` asks for `parcels` to be packed as one shipment (CON-1, CON-2, CON-3, MEM-2,
    /// MEM-4, MEM-6). Exactly one of two consolidations racing for a parcel succeeds; the
    /// loser's other reservations are released.
    pub async fn consolidate(
        &self,
        member_id: &MemberId,
        parcels: &[ParcelId],
        ctx: &CommandContext,
    ) -> Result<Consolidated, EngineError> {
        let input = (member_id, parcels);
        request!(self, ctx, "consolidate", &input, |req| async {
            let member = self.standing(member_id).await?;
            let shipment_id = parse_shipment(&self.allocate_id(&req).await?)?;
            let reserve = ParcelCommand::ReserveForConsolidation {
                shipment_id: shipment_id.clone(),
                member: member.clone(),
            };
            let mut facts = Vec::with_capacity(parcels.len());
            for parcel_id in parcels {
                let parcel = self.load::<Parcel>(parcel_id.as_str()).await?.state;
                if !req.resumed() {
                    self.dry_run(&parcel, reserve.clone()).await?;
                }
                facts.push(Self::facts_of(&parcel)?);
            }
            let request = ShipmentCommand::RequestConsolidation {
                shipment_id: shipment_id.clone(),
                member: member.clone(),
                parcels: facts,
            };
            if !req.resumed() {
                self.dry_run(&Shipment::default(), request.clone()).await?;
            }

            let mut reservations: Vec<Executed<ParcelEvent>> = Vec::new();
            for parcel_id in parcels {
                match self
                    .step::<Parcel>(&req, parcel_id.as_str(), reserve.clone())
                    .await
                {
                    Ok(reserved) => reservations.push(reserved),
                    Err(error) if !compensates(&req, &error) => return Err(error),
                    Err(refused) => {
                        let reserved = &parcels[..reservations.len()];
                        return Err(self
                            .release_all(&req, &shipment_id, reserved, refused)
                            .await);
                    }
                }
            }
            match self
                .step::<Shipment>(&req, shipment_id.as_str(), request)
                .await
            {
                Ok(shipment) => Ok(Consolidated {
                    shipment_id,
                    reservations,
                    shipment,
                }),
                Err(error) if !compensates(&req, &error) => Err(error),
                Err(refused) => Err(self.release_all(&req, &shipment_id, parcels, refused).await),
            }
        })
    }

    /// Compensation: releases `parcels` from `shipment_id` and returns `cause`, the refusal
    /// that made it necessary; or, when a release itself failed for a reason a retry may
    /// overcome, that failure (a keyed retry resumes and finishes the releases).
    async fn release_all(
        &self,
        req: &Request<'_>,
        shipment_id: &ShipmentId,
        parcels: &[ParcelId],
        cause: EngineError,
    ) -> EngineError {
        for parcel_id in parcels {
            let release = ParcelCommand::Release {
                shipment_id: shipment_id.clone(),
            };
            if let Err(error) = self.step::<Parcel>(req, parcel_id.as_str(), release).await {
                tracing::error!(
                    %shipment_id, %parcel_id, %error,
                    "could not release a reservation after a refused consolidation"
                );
                if !error.is_final() {
                    return error;
                }
            }
        }
        cause
    }
}

/// Whether a failed step is compensated now: always after a refusal; after a failure a retry
/// may overcome, only when the request has no key (a keyed retry resumes and goes forward).
pub(crate) fn compensates(req: &Request<'_>, error: &EngineError) -> bool {
    error.is_final() || !req.keyed()
}

//! Return to origin (SHP-2): a shipment the carrier sent back re-enters storage at the
//! warehouse, its return costs are charged to the member, and the member has it re-shipped
//! (a new quote through [`super::payment`], paid as a payment of its own) or disposed of.
//!
//! Receiving the return: the shipment records it first (`shipment.return_received`), then the
//! return costs are debited as a debt owed for work done (ACC-4), cause `<shipment>-r<n>`
//! for the `n`-th return, and each parcel re-enters storage with its clock running from that
//! day (`parcel.returned_to_warehouse`). Abandoning it: the shipment records the member's
//! choice, then each parcel is disposed of with its fee (DSP-1), as [`super::disposal`] does.

use super::disposal::{DisposalReason, Disposed};
use super::{note_refused, request};
use crate::store::EngineStore;
use crate::{CommandContext, Engine, EngineError, Executed};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountEvent, DebitReason};
use domain::ids::{ParcelId, ShipmentId};
use domain::money::Money;
use domain::parcel::ParcelEvent;
use domain::shipment::{Shipment, ShipmentCommand, ShipmentEvent};
use serde::{Deserialize, Serialize};

/// A returned shipment received back at the warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnReceived {
    /// `shipment.return_received`.
    pub shipment: Executed<ShipmentEvent>,
    /// `account.debited`, reason `return_cost`; none when the return cost nothing.
    pub charge: Option<Executed<AccountEvent>>,
    /// `parcel.returned_to_warehouse`, one per parcel.
    pub parcels: Vec<Executed<ParcelEvent>>,
    /// Parcels that refused to re-enter storage, with the refusal.
    pub refused: Vec<(ParcelId, EngineError)>,
}

/// A returned shipment the member had disposed of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnAbandoned {
    /// `shipment.return_abandoned`.
    pub shipment: Executed<ShipmentEvent>,
    /// Each parcel disposed of, with its fee.
    pub disposed: Vec<Disposed>,
    /// Parcels that refused the disposal, with the refusal.
    pub refused: Vec<(ParcelId, EngineError)>,
}

/// A redelivery abroad charged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedeliveryCharged {
    /// `shipment.redelivery_charged`.
    pub shipment: Executed<ShipmentEvent>,
    /// `account.debited`, reason `redelivery_fee`.
    pub charge: Option<Executed<AccountEvent>>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// The recipient did not receive the shipment and it is redelivered abroad (SHP-2): what
    /// the carrier or broker billed, at least the policy's minimum, is charged to the member
    /// as a debt (cause `<shipment>-d<n>` for the `n`-th redelivery).
    pub async fn charge_redelivery(
        &self,
        shipment_id: &ShipmentId,
        cost: Money,
        ctx: &CommandContext,
    ) -> Result<RedeliveryCharged, EngineError> {
        let input = (shipment_id, cost);
        request!(self, ctx, "charge_redelivery", &input, |req| async {
            let command = ShipmentCommand::ChargeRedelivery { cost };
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), command)
                .await?;
            let charged = shipment.events().find_map(|event| match event {
                ShipmentEvent::RedeliveryCharged {
                    member_id,
                    fee,
                    redelivery_number,
                    ..
                } => Some((member_id.clone(), *fee, *redelivery_number)),
                _ => None,
            });
            let charge = match charged {
                Some((member_id, fee, n)) if fee.is_positive() => {
                    let cause = format!("{shipment_id}-d{n}");
                    Some(
                        self.debit(&req, &member_id, DebitReason::RedeliveryFee, &cause, fee)
                            .await?,
                    )
                }
                _ => None,
            };
            Ok(RedeliveryCharged { shipment, charge })
        })
    }

    /// The shipment the carrier sent back reached the warehouse (SHP-2): it re-enters storage
    /// and `return_cost`, as the carrier billed it, is charged to the member.
    pub async fn receive_return(
        &self,
        shipment_id: &ShipmentId,
        return_cost: Money,
        ctx: &CommandContext,
    ) -> Result<ReturnReceived, EngineError> {
        let input = (shipment_id, return_cost);
        request!(self, ctx, "receive_return", &input, |req| async {
            let command = ShipmentCommand::ReceiveReturn { return_cost };
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), command)
                .await?;
            let received = shipment.events().find_map(|event| match event {
                ShipmentEvent::ReturnReceived {
                    member_id,
                    return_cost,
                    return_number,
                    ..
                } => Some((member_id.clone(), *return_cost, *return_number)),
                _ => None,
            });
            let Some((member_id, return_cost, return_number)) = received else {
                return Err(EngineError::Store {
                    message: format!("receiving {shipment_id}'s return recorded nothing"),
                });
            };
            let charge = if return_cost.is_positive() {
                let cause = format!("{shipment_id}-r{return_number}");
                let debit = self
                    .debit(
                        &req,
                        &member_id,
                        DebitReason::ReturnCost,
                        &cause,
                        return_cost,
                    )
                    .await?;
                Some(debit)
            } else {
                None
            };
            let (parcels, refused) = self.parcels_follow(&req, shipment_id, &shipment).await?;
            Ok(ReturnReceived {
                shipment,
                charge,
                parcels,
                refused,
            })
        })
    }

    /// The member has the shipment that came back disposed of rather than re-shipped (SHP-2):
    /// each of its parcels is disposed of, its fee charged (DSP-1).
    pub async fn abandon_return(
        &self,
        shipment_id: &ShipmentId,
        ctx: &CommandContext,
    ) -> Result<ReturnAbandoned, EngineError> {
        request!(self, ctx, "abandon_return", shipment_id, |req| async {
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), ShipmentCommand::AbandonReturn)
                .await?;
            let parcels: Vec<ParcelId> = shipment
                .events()
                .find_map(|event| match event {
                    ShipmentEvent::ReturnAbandoned { parcels, .. } => Some(parcels.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let mut abandoned = ReturnAbandoned {
                shipment,
                disposed: Vec::new(),
                refused: Vec::new(),
            };
            for parcel_id in parcels {
                match self
                    .dispose_in(&req, &parcel_id, DisposalReason::ReturnAbandoned)
                    .await
                {
                    Ok(disposed) => abandoned.disposed.push(disposed),
                    Err(refused) if refused.is_final() => {
                        note_refused("disposal of an abandoned return", &refused);
                        abandoned.refused.push((parcel_id, refused));
                    }
                    Err(error) => return Err(error),
                }
            }
            Ok(abandoned)
        })
    }
}

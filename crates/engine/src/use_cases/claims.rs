//! An approved claim is paid out to the member's balance (CLM-5, ACC-1), and the parcels it
//! concerns record its settlement.

use super::request;
use crate::store::EngineStore;
use crate::{ids, CommandContext, Engine, EngineError, Executed};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount, CreditReason};
use domain::ids::{ClaimId, ParcelId, ShipmentId};
use domain::money::Money;
use domain::parcel::ParcelEvent;
use domain::shipment::{Shipment, ShipmentCommand, ShipmentEvent};
use serde::{Deserialize, Serialize};

/// A claim approved and paid out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimPaid {
    /// `shipment.claim_approved`.
    pub shipment: Executed<ShipmentEvent>,
    /// `account.credited`, reason `claim_payout`, cause the claim.
    pub payout: Executed<AccountEvent>,
    /// `parcel.claim_settled` on each parcel the claim concerns.
    #[serde(default)]
    pub parcels: Vec<Executed<ParcelEvent>>,
    /// Parcels that refused to record the settlement, with the refusal.
    #[serde(default)]
    pub refused: Vec<(ParcelId, EngineError)>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Approves a claim with a payout within its cap (CLM-5) and credits the payout to the
    /// member's balance, once per claim (ACC-1).
    pub async fn approve_claim(
        &self,
        shipment_id: &ShipmentId,
        claim_id: &ClaimId,
        payout: Money,
        ctx: &CommandContext,
    ) -> Result<ClaimPaid, EngineError> {
        let input = (shipment_id, claim_id, payout);
        request!(self, ctx, "approve_claim", &input, |req| async {
            let command = ShipmentCommand::ApproveClaim {
                claim_id: claim_id.clone(),
                payout,
            };
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), command)
                .await?;
            let (member_id, payout) = shipment
                .events()
                .find_map(|event| match event {
                    ShipmentEvent::ClaimApproved {
                        member_id, payout, ..
                    } => Some((member_id.clone(), *payout)),
                    _ => None,
                })
                .ok_or_else(|| EngineError::Store {
                    message: format!("approving claim {claim_id} recorded no approval"),
                })?;
            let account = ids::account_of(&member_id)?;
            let credit = AccountCommand::Credit {
                reason: CreditReason::ClaimPayout,
                cause: ids::cause(claim_id.as_str())?,
                amount: payout,
                rate: None,
            };
            let payout = self
                .step::<ChargeAccount>(&req, account.as_str(), credit)
                .await?;
            let (parcels, refused) = self.parcels_follow(&req, shipment_id, &shipment).await?;
            Ok(ClaimPaid {
                shipment,
                payout,
                parcels,
                refused,
            })
        })
    }
}

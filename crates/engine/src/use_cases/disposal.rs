//! Disposal (DSP-1): a parcel is disposed of only for a recorded cause, with the fact the
//! cause needs looked up by the engine (the member withdrawing, MEM-8; the shipment held,
//! PAY-2), and its fee is charged to the member's balance as an owed debt (ACC-4).

use super::request;
use crate::store::EngineStore;
use crate::{ids, CommandContext, Engine, EngineError, Executed, Request};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{self, AccountCommand, AccountEvent, ChargeAccount};
use domain::ids::ParcelId;
use domain::parcel::{
    DisposalCause, DisposedBecause, Parcel, ParcelCommand, ParcelError, ParcelEvent,
};
use serde::{Deserialize, Serialize};

/// Why an operator (or the withdrawal) disposes of a parcel (DSP-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisposalReason {
    /// Past maximum storage, marked disposable (STO-2).
    PastMaxStorage,
    /// Prohibited, quarantined (INS-4).
    Prohibited,
    /// Left behind at the member's withdrawal (MEM-8).
    LeftAtWithdrawal,
    /// Its shipment is held for an unpaid quote (PAY-2).
    Unpaid,
    /// Its shipment came back and the member had it disposed of (SHP-2).
    ReturnAbandoned,
}

/// A parcel disposed of, and its fee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disposed {
    /// `parcel.disposed`.
    pub parcel: Executed<ParcelEvent>,
    /// `account.disposal_fee_charged`; none for a parcel of no member.
    pub fee: Option<Executed<AccountEvent>>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Disposes of a parcel for `reason` (DSP-1) and charges its member the fee.
    pub async fn dispose_parcel(
        &self,
        parcel_id: &ParcelId,
        reason: DisposalReason,
        ctx: &CommandContext,
    ) -> Result<Disposed, EngineError> {
        let input = (parcel_id, reason);
        request!(self, ctx, "dispose_parcel", &input, |req| async {
            self.dispose_in(&req, parcel_id, reason).await
        })
    }

    pub(crate) async fn dispose_in(
        &self,
        req: &Request<'_>,
        parcel_id: &ParcelId,
        reason: DisposalReason,
    ) -> Result<Disposed, EngineError> {
        let parcel = self.existing_parcel(parcel_id).await?.state;
        let cause = match reason {
            DisposalReason::PastMaxStorage => DisposalCause::PastMaxStorage,
            DisposalReason::Prohibited => DisposalCause::Prohibited,
            DisposalReason::LeftAtWithdrawal => DisposalCause::LeftAtWithdrawal {
                member: self.standing(&Self::owner_of(parcel_id, &parcel)?).await?,
            },
            DisposalReason::Unpaid => {
                let held = match parcel.status().shipment_id() {
                    Some(shipment) => self.shipment_held(shipment).await?,
                    None => None,
                };
                DisposalCause::Unpaid {
                    shipment: held
                        .ok_or_else(|| EngineError::refused(&ParcelError::ShipmentNotHeld))?,
                }
            }
            DisposalReason::ReturnAbandoned => DisposalCause::ReturnAbandoned {
                shipment_id: parcel
                    .status()
                    .shipment_id()
                    .cloned()
                    .ok_or_else(|| EngineError::refused(&ParcelError::NotReturned))?,
            },
        };
        let disposed = self
            .step::<Parcel>(req, parcel_id.as_str(), ParcelCommand::Dispose { cause })
            .await?;
        let charge = disposed.events().find_map(|event| match event {
            ParcelEvent::Disposed {
                member_id: Some(member_id),
                cause,
                fee,
                ..
            } => Some((member_id.clone(), account_cause(cause), *fee)),
            _ => None,
        });
        let fee = match charge {
            Some((member_id, disposal, fee)) => {
                let account = ids::account_of(&member_id)?;
                // The fee the parcel recorded, charged as it is (DSP-1).
                let command = AccountCommand::ChargeDisposalFee {
                    parcel: ids::cause(parcel_id.as_str())?,
                    disposal,
                    fee,
                };
                Some(
                    self.step::<ChargeAccount>(req, account.as_str(), command)
                        .await?,
                )
            }
            None => None,
        };
        Ok(Disposed {
            parcel: disposed,
            fee,
        })
    }
}

/// The account's reading of a parcel's disposal cause: it prices the fee.
fn account_cause(cause: &DisposedBecause) -> account::DisposalCause {
    match cause {
        DisposedBecause::PastMaxStorage { .. } => account::DisposalCause::PastMaxStorage,
        DisposedBecause::Prohibited { .. } => account::DisposalCause::Prohibited,
        DisposedBecause::Unpaid { .. } => account::DisposalCause::Unpaid,
        DisposedBecause::ReturnAbandoned { .. } => account::DisposalCause::ReturnAbandoned,
        DisposedBecause::LeftAtWithdrawal { items, .. } => {
            account::DisposalCause::LeftAtWithdrawal { items: *items }
        }
    }
}

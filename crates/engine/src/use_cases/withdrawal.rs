//! Withdrawal (MEM-8, ACC-7): the member asks; the parcels still stored are destroyed at the
//! per-item fee; the refund of the balance is scheduled; once it is paid the member is closed.

use super::{note_refused, request};
use crate::store::EngineStore;
use crate::use_cases::disposal::{DisposalReason, Disposed};
use crate::{ids, CommandContext, Engine, EngineError, Executed};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount, RefundRates};
use domain::facts::StandingStatus;
use domain::ids::{MemberId, ParcelId};
use domain::member::{Member, MemberCommand, MemberEvent, RefundReference};
use domain::money::Currency;
use domain::parcel::Parcel;
use serde::{Deserialize, Serialize};

/// A withdrawal requested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithdrawalRequested {
    /// `member.withdrawal_requested`.
    pub member: Executed<MemberEvent>,
    /// The parcels destroyed, with their fees (MEM-8).
    pub disposed: Vec<Disposed>,
    /// Parcels that could not be disposed of now (in a shipment under way), with why.
    pub not_disposed: Vec<(ParcelId, EngineError)>,
    /// `account.refund_scheduled` (ACC-7).
    pub refund: Executed<AccountEvent>,
}

/// The refund paid and the member closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundedAndClosed {
    /// `account.refunded`.
    pub refund: Executed<AccountEvent>,
    /// `member.closed`.
    pub member: Executed<MemberEvent>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// The member asks to withdraw (MEM-8): every parcel still waiting in storage is
    /// destroyed and its fee charged (`LeftAtWithdrawal`), and the refund of the remaining
    /// balance is scheduled (ACC-7). Parcels arriving later are destroyed on arrival.
    pub async fn request_withdrawal(
        &self,
        member_id: &MemberId,
        ctx: &CommandContext,
    ) -> Result<WithdrawalRequested, EngineError> {
        request!(self, ctx, "request_withdrawal", member_id, |req| async {
            let member = self
                .step::<Member>(&req, member_id.as_str(), MemberCommand::RequestWithdrawal)
                .await?;
            let requested_on = member
                .events()
                .find_map(|event| match event {
                    MemberEvent::WithdrawalRequested { requested_on, .. } => Some(*requested_on),
                    _ => None,
                })
                .ok_or_else(|| EngineError::Store {
                    message: format!("member {member_id}'s withdrawal recorded no request"),
                })?;
            let mut disposed = Vec::new();
            let mut not_disposed = Vec::new();
            for parcel_id in self.store.parcels_of(member_id).await? {
                let parcel = self.load::<Parcel>(parcel_id.as_str()).await?.state;
                if !parcel.status().in_storage() {
                    continue;
                }
                match self
                    .dispose_in(&req, &parcel_id, DisposalReason::LeftAtWithdrawal)
                    .await
                {
                    Ok(done) => disposed.push(done),
                    Err(refused) if refused.is_final() => {
                        note_refused("disposal at withdrawal", &refused);
                        not_disposed.push((parcel_id, refused));
                    }
                    Err(error) => return Err(error),
                }
            }
            let account = ids::account_of(member_id)?;
            let schedule = AccountCommand::ScheduleRefund {
                request: ids::withdrawal_request_of(member_id)?,
                requested_on,
            };
            let refund = self
                .step::<ChargeAccount>(&req, account.as_str(), schedule)
                .await?;
            Ok(WithdrawalRequested {
                member,
                disposed,
                not_disposed,
                refund,
            })
        })
    }

    /// Pays the withdrawing member's whole balance back on or after its due date (ACC-7,
    /// MON-3) and closes the member with the refund as reference (MEM-8); a member closed
    /// automatically with money left (MEM-9) is only refunded.
    pub async fn refund_and_close(
        &self,
        member_id: &MemberId,
        payout_currency: Currency,
        rates: Option<RefundRates>,
        ctx: &CommandContext,
    ) -> Result<RefundedAndClosed, EngineError> {
        let input = (member_id, payout_currency, &rates);
        request!(self, ctx, "refund_and_close", &input, |req| async {
            let account = ids::account_of(member_id)?;
            let pay = AccountCommand::PayRefund {
                payout_currency,
                rates,
            };
            let refund = self
                .step::<ChargeAccount>(&req, account.as_str(), pay)
                .await?;
            let reference = refund
                .events()
                .find_map(|event| match event {
                    AccountEvent::Refunded { movement, .. } => Some(movement.cause.to_string()),
                    _ => None,
                })
                .ok_or_else(|| EngineError::Store {
                    message: format!("refunding {account} recorded no refund"),
                })?;
            // A member closed automatically with money left (MEM-9) is closed already.
            let standing = self.load::<Member>(member_id.as_str()).await?.state;
            if standing
                .standing(self.today())
                .is_some_and(|s| s.status == StandingStatus::Closed)
            {
                let member = Executed {
                    aggregate_id: member_id.to_string(),
                    events: Vec::new(),
                };
                return Ok(RefundedAndClosed { refund, member });
            }
            let close = MemberCommand::Close {
                refund_reference: RefundReference::parse(&reference)
                    .map_err(|e| EngineError::invalid(e.to_string()))?,
            };
            let member = self.step::<Member>(&req, member_id.as_str(), close).await?;
            Ok(RefundedAndClosed { refund, member })
        })
    }
}

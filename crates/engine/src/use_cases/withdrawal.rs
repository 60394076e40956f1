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

/// The reference rates a refund needs (MON-3), as the rate book holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RatesForRefund {
    /// The balance is in the payout currency: no conversion.
    NotNeeded,
    /// The latest rates of the charge month and of the refund month.
    Found(RefundRates),
    /// The rate book has no rate of `base` in `quote` for `month`'s month yet.
    Missing {
        /// The account's currency.
        base: Currency,
        /// The payout currency.
        quote: Currency,
        /// A day of the month lacking a rate.
        month: chrono::NaiveDate,
    },
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Records a reference bank rate finance read (MON-3): a positive rate between two
    /// different currencies, replacing the pair's rate of the same day.
    pub async fn record_reference_rate(
        &self,
        rate: &domain::exchange::ExchangeRate,
    ) -> Result<(), EngineError> {
        if rate.base == rate.quote {
            return Err(EngineError::invalid(
                "a reference rate is between two currencies",
            ));
        }
        if rate.rate.is_zero() || rate.rate.is_sign_negative() {
            return Err(EngineError::invalid("a reference rate is positive"));
        }
        if rate.source.trim().is_empty() {
            return Err(EngineError::invalid("a reference rate names its source"));
        }
        self.store.record_reference_rate(rate).await
    }

    /// The rates a refund of `member_id`'s balance in `payout_currency` needs today (MON-3):
    /// the charge month's (the last approved top-up's month, this month when there was none)
    /// and this month's, the latest recorded in each.
    pub async fn rates_for_refund(
        &self,
        member_id: &MemberId,
        payout_currency: Currency,
    ) -> Result<RatesForRefund, EngineError> {
        let account_id = ids::account_of(member_id)?;
        let account = self.load::<ChargeAccount>(account_id.as_str()).await?.state;
        let currency = account
            .currency()
            .ok_or_else(|| EngineError::not_found("account", &account_id))?;
        if currency == payout_currency {
            return Ok(RatesForRefund::NotNeeded);
        }
        let today = self.today();
        let charged_in = account.last_top_up_on().unwrap_or(today);
        let rate = |month| {
            self.store
                .reference_rate_in_month(currency, payout_currency, month)
        };
        let missing = |month| RatesForRefund::Missing {
            base: currency,
            quote: payout_currency,
            month,
        };
        let Some(charge_month) = rate(charged_in).await? else {
            return Ok(missing(charged_in));
        };
        let Some(refund_month) = rate(today).await? else {
            return Ok(missing(today));
        };
        Ok(RatesForRefund::Found(RefundRates {
            charge_month,
            refund_month,
        }))
    }

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

//! # ChargeAccount: a member's prepaid balance
//!
//! Owns the balance of one member's account and every movement of it. Rules:
//! - **ACC-1** every movement is an event carrying a [`Movement`] (signed amount in the account
//!   currency, [`Reason`] code, [`CauseId`]); the balance is the sum of movements
//!   ([`sum_of_movements`], [`ChargeAccount::balance_matches`]).
//! - **ACC-2** top-up applications are approved only when date, bank, amount and payer name
//!   match the bank's deposit record exactly ([`top_up_rejections`]); one filed after the
//!   window is rejected or not as the policy's `late_top_up` says; **ACC-3** consecutive
//!   rejections are counted (one for lateness alone only if the policy says so) and reaching
//!   the policy's limit emits [`AccountEvent::TopUpRejectionLimitReached`] for the member's
//!   suspension (MEM-5); an approval resets the count.
//! - **ACC-4** regular debits never take the balance below zero; owed debts may
//!   ([`DebitKind`]); the same charge is never debited twice (PAY-1 at the account level).
//!   A shipment payment the shipment then refused is credited back as a
//!   [`CreditReason::PaymentReversal`], once, and only after such a debit; the shipment may
//!   then be paid from the balance again (PAY-1).
//! - **ACC-6** late interest ([`late_interest`]) accrues as events, never twice for a day, at
//!   full precision: only what is charged is rounded (down), the rest carries over
//!   ([`AccruedInterest`]).
//! - **ACC-7** the whole balance is refunded only on withdrawal, on or after
//!   [`refund_due_on`], at the refund rate of MON-3; the account then closes.
//! - **ACC-8** duty is advanced only on a balance of at least the policy minimum; its fee is
//!   debited at once, the duty when billed, as an owed debt.
//! - **MEM-8 / DSP-1** (account side) disposal fees, per item when left behind at
//!   withdrawal, are owed debts; sale proceeds are credited less costs.
//! - **MON-1** amounts are whole units of their currency, every computed amount names its
//!   rounding; **MON-2** every conversion is recorded in the event that moved the money;
//!   **MON-3** top-ups convert at the charging rate, refunds at the refund rate.
//!
//! - **ACC-5** a top-up received through PayPal (the policy's `paypal_institution`) is credited
//!   less the PayPal fee ([`paypal_fee`]), recorded on the approval; the shipment aggregate
//!   charges it on the payments PayPal processes.

mod command;
mod error;
mod event;
mod interest;
mod movement;
mod paypal;
mod refund;
mod top_up;

pub use command::{AccountCommand, BankDeposit, DeclaredDeposit, DisposalCause, RefundRates};
pub use error::{AccountError, RefundRateRole};
pub use event::AccountEvent;
pub use interest::{
    late_interest, late_interest_until, overdue_days, AccruedInterest, LATE_INTEREST_ROUNDING,
};
pub use movement::{
    sum_of_movements, CreditReason, DebitKind, DebitReason, Movement, Period, Reason,
};
pub use paypal::{paypal_fee, PaypalFee, PaypalFeeError};
pub use refund::{refund_due_on, same_month};
pub use top_up::{top_up_deposit_date, top_up_filing_deadline, top_up_rejections, TopUpRejection};

use crate::exchange::{convert_for_charge, convert_for_refund, Conversion, ExchangeRate};
use crate::ids::{AccountId, CauseId, MemberId};
use crate::money::{Currency, Money, Rounding};
use crate::policy::Policy;
use crate::rules::Rule;
use crate::Issued;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A member's prepaid charge account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeAccount {
    /// Before the account is opened.
    #[default]
    NotOpened,
    /// Open: money moves (also while a withdrawal refund waits for its due date).
    Open(Box<Ledger>),
    /// The balance was refunded; nothing moves any more.
    Closed(Box<Ledger>),
}

/// The books of an opened account: its balance and what the rules must remember.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    account_id: AccountId,
    member_id: MemberId,
    /// Invariant: the sum of every movement so far (ACC-1).
    balance: Money,
    /// Rejected top-up applications since the last approval or suspension (ACC-3).
    rejected_in_a_row: u32,
    /// Top-up applications filed after their window, in a row (ACC-2's late-top-up policy).
    late_in_a_row: u32,
    decided_applications: BTreeSet<CauseId>,
    applied_deposits: BTreeSet<CauseId>,
    /// Charges and credits made, so none is made twice (ACC-4, PAY-1).
    moved: BTreeSet<MovementKey>,
    /// Last day of late interest accrued, per overdue item (ACC-6).
    interest_accrued_through: BTreeMap<CauseId, NaiveDate>,
    /// Interest accrued and not charged yet, per overdue item, exact (ACC-6).
    #[serde(default)]
    interest_carry: BTreeMap<CauseId, AccruedInterest>,
    /// Shipments whose duty the warehouse advanced (ACC-8).
    duty_advances: BTreeSet<CauseId>,
    /// Local date of the last approved top-up: its month is the charge month of MON-3.
    last_top_up_on: Option<NaiveDate>,
    /// Local date the first top-up application was decided, approved or not (MEM-9).
    #[serde(default)]
    first_application_on: Option<NaiveDate>,
    withdrawal: Option<Withdrawal>,
}

/// What identifies a charge or credit that must happen once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct MovementKey {
    reason: Reason,
    cause: CauseId,
    period: Option<Period>,
}

/// A scheduled withdrawal refund (ACC-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Withdrawal {
    request: CauseId,
    requested_on: NaiveDate,
    due_on: NaiveDate,
}

/// Late top-up applications in a row after one decided on `decided_on` against
/// `filing_deadline`: one more when it was late, else none (ACC-2).
fn late_streak(before: u32, decided_on: NaiveDate, filing_deadline: NaiveDate) -> u32 {
    if decided_on > filing_deadline {
        before.saturating_add(1)
    } else {
        0
    }
}

/// What every decision needs besides the state.
struct Ctx<'a> {
    today: NaiveDate,
    policy: &'a Policy,
}

impl ChargeAccount {
    /// Decides what a command does to the account: the events to record, or a refusal.
    ///
    /// ACC-4: the balance check of a regular debit is made against this state's balance.
    /// Concurrent debits are serialized by optimistic concurrency on the aggregate version:
    /// two commands decided against the same version may both pass the check, but only the
    /// first commit succeeds; the other is re-decided against the new balance (the write side
    /// proves the race).
    pub fn decide(
        &self,
        cmd: Issued<AccountCommand>,
        policy: &Policy,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        use AccountCommand as C;
        let ctx = Ctx {
            today: policy.local_date(cmd.at),
            policy,
        };
        match (self, cmd.command) {
            (
                Self::NotOpened,
                C::Open {
                    account_id,
                    member_id,
                },
            ) => Ok(vec![AccountEvent::Opened {
                account_id,
                member_id,
                currency: policy.billing_currency,
                opened_on: ctx.today,
                policy: policy.version(),
            }]),
            (Self::NotOpened, _) => Err(AccountError::NotOpened),
            (Self::Closed(_), _) => Err(AccountError::Closed),
            (Self::Open(_), C::Open { .. }) => Err(AccountError::AlreadyOpened),
            (
                Self::Open(books),
                C::ApplyForTopUp {
                    application_id,
                    declared,
                    deposit,
                    rate,
                },
            ) => books.apply_for_top_up(&ctx, application_id, declared, deposit, rate.as_ref()),
            (
                Self::Open(books),
                C::Debit {
                    reason,
                    cause,
                    amount,
                    period,
                    rate,
                },
            ) => books.debit(&ctx, reason, cause, amount, period, rate.as_ref()),
            (
                Self::Open(books),
                C::Credit {
                    reason,
                    cause,
                    amount,
                    rate,
                },
            ) => books.credit(&ctx, reason, cause, amount, rate.as_ref()),
            (
                Self::Open(books),
                C::ChargeDisposalFee {
                    parcel,
                    disposal,
                    fee,
                },
            ) => books.charge_disposal_fee(&ctx, parcel, disposal, fee),
            (
                Self::Open(books),
                C::CreditSaleProceeds {
                    parcel,
                    gross,
                    costs,
                },
            ) => books.credit_sale_proceeds(&ctx, parcel, gross, costs),
            (
                Self::Open(books),
                C::AccrueLateInterest {
                    cause,
                    overdue,
                    due_on,
                    through,
                },
            ) => books.accrue_late_interest(&ctx, cause, overdue, due_on, through),
            (
                Self::Open(books),
                C::AdvanceDuty {
                    shipment,
                    duty,
                    rate,
                    sea_taxable_value,
                },
            ) => books.advance_duty(&ctx, shipment, duty, rate.as_ref(), sea_taxable_value),
            (
                Self::Open(books),
                C::BillAdvancedDuty {
                    shipment,
                    duty,
                    rate,
                },
            ) => books.bill_advanced_duty(&ctx, shipment, duty, rate.as_ref()),
            (
                Self::Open(books),
                C::ScheduleRefund {
                    request,
                    requested_on,
                },
            ) => books.schedule_refund(&ctx, request, requested_on),
            (
                Self::Open(books),
                C::PayRefund {
                    payout_currency,
                    rates,
                },
            ) => books.pay_refund(&ctx, payout_currency, rates),
        }
    }

    /// Applies a recorded event. Cannot fail; an event that does not fit the state is ignored.
    pub fn evolve(&mut self, event: AccountEvent) {
        match self {
            Self::NotOpened => {
                if let AccountEvent::Opened {
                    account_id,
                    member_id,
                    currency,
                    ..
                } = event
                {
                    *self = Self::Open(Box::new(Ledger::new(account_id, member_id, currency)));
                }
            }
            Self::Open(books) => {
                let closes = matches!(event, AccountEvent::Refunded { .. });
                books.evolve(event);
                if closes {
                    if let Self::Open(books) = std::mem::take(self) {
                        *self = Self::Closed(books);
                    }
                }
            }
            Self::Closed(_) => {}
        }
    }

    /// The balance: the sum of every movement (ACC-1). `None` before the account is opened.
    pub fn balance(&self) -> Option<Money> {
        self.books().map(|b| b.balance)
    }

    /// The account currency, once opened.
    pub fn currency(&self) -> Option<Currency> {
        self.books().map(|b| b.balance.currency)
    }

    /// The member, once opened.
    pub fn member_id(&self) -> Option<&MemberId> {
        self.books().map(|b| &b.member_id)
    }

    /// True once the balance was refunded (ACC-7).
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }

    /// Rejected top-up applications in a row since the last approval or suspension (ACC-3).
    pub fn consecutive_rejected_top_ups(&self) -> u32 {
        self.books().map_or(0, |b| b.rejected_in_a_row)
    }

    /// The due date of the scheduled withdrawal refund, if any (ACC-7).
    pub fn refund_due_on(&self) -> Option<NaiveDate> {
        self.books()
            .and_then(|b| b.withdrawal.as_ref())
            .map(|w| w.due_on)
    }

    /// The local date of the last approved top-up: the charge month of a refund's
    /// conversion (MON-3). `None` when the account was never topped up.
    pub fn last_top_up_on(&self) -> Option<NaiveDate> {
        self.books().and_then(|b| b.last_top_up_on)
    }

    /// The local date the member's first top-up application was decided, approved or
    /// rejected, if there was one: the no-top-up fact of automatic closure (MEM-9).
    pub fn first_top_up_application_on(&self) -> Option<NaiveDate> {
        self.books().and_then(|b| b.first_application_on)
    }

    /// Late interest accrued on `cause` and not charged yet, exact (ACC-6).
    pub fn interest_carried(&self, cause: &CauseId) -> AccruedInterest {
        self.books()
            .and_then(|b| b.interest_carry.get(cause).copied())
            .unwrap_or_default()
    }

    /// The last day of late interest accrued on `cause`, if any (ACC-6).
    pub fn interest_accrued_through(&self, cause: &CauseId) -> Option<NaiveDate> {
        self.books()
            .and_then(|b| b.interest_accrued_through.get(cause).copied())
    }

    /// The ACC-1 check: true when the balance equals the sum of the movements in `events`
    /// (the account's whole history).
    pub fn balance_matches<'a>(&self, events: impl IntoIterator<Item = &'a AccountEvent>) -> bool {
        match self.balance() {
            Some(balance) => sum_of_movements(balance.currency, events) == Ok(balance),
            None => events.into_iter().all(|e| e.movement().is_none()),
        }
    }

    fn books(&self) -> Option<&Ledger> {
        match self {
            Self::NotOpened => None,
            Self::Open(books) | Self::Closed(books) => Some(books),
        }
    }
}

impl Ledger {
    fn new(account_id: AccountId, member_id: MemberId, currency: Currency) -> Self {
        Self {
            account_id,
            member_id,
            balance: Money::zero(currency),
            rejected_in_a_row: 0,
            late_in_a_row: 0,
            decided_applications: BTreeSet::new(),
            applied_deposits: BTreeSet::new(),
            moved: BTreeSet::new(),
            interest_accrued_through: BTreeMap::new(),
            interest_carry: BTreeMap::new(),
            duty_advances: BTreeSet::new(),
            last_top_up_on: None,
            first_application_on: None,
            withdrawal: None,
        }
    }

    fn currency(&self) -> Currency {
        self.balance.currency
    }

    // ---------------------------------------------------------------- decisions

    /// ACC-2, ACC-3, MON-2, MON-3.
    fn apply_for_top_up(
        &self,
        ctx: &Ctx<'_>,
        application_id: CauseId,
        declared: DeclaredDeposit,
        deposit: Option<BankDeposit>,
        rate: Option<&ExchangeRate>,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        if self.decided_applications.contains(&application_id) {
            return Err(AccountError::ApplicationAlreadyDecided {
                application: application_id,
            });
        }
        let window = ctx.policy.account.top_up_filing_window_months;
        let late = &ctx.policy.account.late_top_up;
        let mut reasons = top_up_rejections(&declared, deposit.as_ref(), ctx.today, window);
        // ACC-2: whether lateness rejects is the operator's policy.
        if !late.decision.rejects(self.late_in_a_row) {
            reasons.retain(|r| *r != TopUpRejection::FiledTooLate);
        }
        if deposit
            .as_ref()
            .is_some_and(|d| self.applied_deposits.contains(&d.deposit_id))
        {
            reasons.push(TopUpRejection::DepositAlreadyApplied);
        }
        let filing_deadline =
            top_up_filing_deadline(top_up_deposit_date(&declared, deposit.as_ref()), window);
        match deposit {
            Some(deposit) if reasons.is_empty() => {
                // ACC-5: a deposit received through PayPal is credited less PayPal's fee.
                let paypal_fee = (deposit.bank == ctx.policy.account.paypal_institution)
                    .then(|| paypal_fee(deposit.amount, &ctx.policy.account, rate, ctx.today))
                    .transpose()?
                    .map(Box::new);
                // The fee is in the deposit's currency (`PaypalFee::fee`).
                let received = paypal_fee.as_ref().map_or(deposit.amount, |paypal| {
                    Money::new(
                        deposit.amount.amount - paypal.fee.amount,
                        deposit.amount.currency,
                    )
                });
                // The credit is owed to the member: fractions are dropped (MON-1).
                let (credit, conversion) =
                    self.in_account_currency(ctx, received, rate, Rounding::Down)?;
                Ok(vec![AccountEvent::TopUpApproved {
                    application_id,
                    movement: Movement {
                        amount: credit,
                        reason: Reason::TopUp,
                        cause: deposit.deposit_id.clone(),
                    },
                    deposit,
                    paypal_fee,
                    conversion,
                    filing_deadline,
                    approved_on: ctx.today,
                    policy: ctx.policy.version(),
                }])
            }
            deposit => {
                // ACC-3: a rejection for lateness alone counts only when the policy says so.
                let counts = late.counts_toward_suspension
                    || reasons.iter().any(|r| *r != TopUpRejection::FiledTooLate);
                let consecutive_rejections = self.rejected_in_a_row + u32::from(counts);
                let mut events = vec![AccountEvent::TopUpRejected {
                    application_id,
                    declared,
                    deposit,
                    reasons,
                    filing_deadline,
                    consecutive_rejections,
                    rejected_on: ctx.today,
                    policy: ctx.policy.version(),
                }];
                let limit = ctx.policy.member.rejected_top_ups_before_suspension;
                if counts && limit > 0 && consecutive_rejections >= limit {
                    events.push(AccountEvent::TopUpRejectionLimitReached {
                        member_id: self.member_id.clone(),
                        consecutive_rejections,
                        limit,
                        policy: ctx.policy.version(),
                    });
                }
                Ok(events)
            }
        }
    }

    /// ACC-4 (PAY-1, STO-3, INS-1, INS-3, PAR-2 charges).
    fn debit(
        &self,
        ctx: &Ctx<'_>,
        reason: DebitReason,
        cause: CauseId,
        amount: Money,
        period: Option<Period>,
        rate: Option<&ExchangeRate>,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        // A charge is owed to the warehouse: fractions round half up (MON-1).
        let (amount, conversion) = self.in_account_currency(ctx, amount, rate, Rounding::HalfUp)?;
        let movement =
            self.debit_movement(reason.reason(), reason.kind(), cause, amount, period)?;
        Ok(vec![AccountEvent::Debited {
            movement,
            kind: reason.kind(),
            period,
            conversion,
            rule: reason.rule(),
            policy: ctx.policy.version(),
        }])
    }

    /// ACC-1 credits (CLM-5 payouts).
    fn credit(
        &self,
        ctx: &Ctx<'_>,
        reason: CreditReason,
        cause: CauseId,
        amount: Money,
        rate: Option<&ExchangeRate>,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        // Owed to the member: fractions are dropped (MON-1).
        let (amount, conversion) = self.in_account_currency(ctx, amount, rate, Rounding::Down)?;
        let reason = reason.reason();
        self.not_moved_yet(
            reason,
            &cause,
            None,
            AccountError::DuplicateCredit {
                reason,
                cause: cause.clone(),
            },
        )?;
        let payment = MovementKey {
            reason: Reason::ShipmentPayment,
            cause: cause.clone(),
            period: None,
        };
        if reason == Reason::PaymentReversal && !self.moved.contains(&payment) {
            return Err(AccountError::NoPaymentToReverse { cause });
        }
        Ok(vec![AccountEvent::Credited {
            movement: Movement {
                amount,
                reason,
                cause,
            },
            conversion,
            policy: ctx.policy.version(),
        }])
    }

    /// DSP-1, MEM-8.
    fn charge_disposal_fee(
        &self,
        ctx: &Ctx<'_>,
        parcel: CauseId,
        disposal: DisposalCause,
        fee: Money,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        // The parcel priced the disposal (parcel.disposed); the account charges that fee and
        // records it per unit, the units being the parcel's, or its items left at withdrawal.
        let (reason, units, rule) = match disposal {
            DisposalCause::LeftAtWithdrawal { items } => {
                (Reason::WithdrawalDisposalFee, items.max(1), Rule::Mem8)
            }
            DisposalCause::PastMaxStorage
            | DisposalCause::Prohibited
            | DisposalCause::Unpaid
            | DisposalCause::ReturnAbandoned => (Reason::DisposalFee, 1, Rule::Dsp1),
        };
        self.in_currency(fee)?;
        let fee = positive_whole(fee)?;
        let unit_fee = Money::new(fee.amount / Decimal::from(units), fee.currency);
        let movement = self.debit_movement(reason, DebitKind::Owed, parcel, fee, None)?;
        Ok(vec![AccountEvent::DisposalFeeCharged {
            movement,
            disposal,
            unit_fee,
            units,
            rule,
            policy: ctx.policy.version(),
        }])
    }

    /// DSP-1: proceeds less costs; a shortfall is an owed debt.
    fn credit_sale_proceeds(
        &self,
        ctx: &Ctx<'_>,
        parcel: CauseId,
        gross: Money,
        costs: Money,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        self.in_currency(gross)?;
        self.in_currency(costs)?;
        let gross = positive_whole(gross)?;
        if costs.is_negative() {
            return Err(AccountError::NonPositiveAmount { amount: costs });
        }
        whole(costs)?;
        let reason = Reason::SaleProceeds;
        self.not_moved_yet(
            reason,
            &parcel,
            None,
            AccountError::DuplicateCredit {
                reason,
                cause: parcel.clone(),
            },
        )?;
        let net = Money::new(gross.amount - costs.amount, gross.currency);
        Ok(vec![AccountEvent::SaleProceedsCredited {
            movement: Movement {
                amount: net,
                reason,
                cause: parcel,
            },
            gross,
            costs,
            policy: ctx.policy.version(),
        }])
    }

    /// ACC-6.
    fn accrue_late_interest(
        &self,
        ctx: &Ctx<'_>,
        cause: CauseId,
        overdue: Money,
        due_on: NaiveDate,
        through: NaiveDate,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        self.in_currency(overdue)?;
        let overdue = positive_whole(overdue)?;
        if through > ctx.today {
            return Err(AccountError::InterestInFuture {
                through,
                today: ctx.today,
            });
        }
        if through <= due_on {
            return Err(AccountError::NotOverdue { due_on, through });
        }
        let accrued_through = self
            .interest_accrued_through
            .get(&cause)
            .map_or(due_on, |&d| d.max(due_on));
        if through <= accrued_through {
            return Err(AccountError::InterestAlreadyAccrued {
                cause,
                accrued_through,
            });
        }
        let first_day = accrued_through
            .succ_opt()
            .expect("dates stay inside chrono's range");
        let period = Period::new(first_day, through).expect("first_day <= through");
        let terms = &ctx.policy.account;
        let accrued = AccruedInterest::on(
            overdue,
            period.days(),
            terms.late_interest_annual_percent,
            terms.late_interest_day_count_basis,
        );
        let carried = self.interest_carry.get(&cause).copied().unwrap_or_default();
        let (interest, _) = carried.accrue(accrued, self.currency());
        Ok(vec![AccountEvent::LateInterestAccrued {
            movement: Movement {
                amount: debit_of(interest),
                reason: Reason::LateInterest,
                cause,
            },
            overdue,
            due_on,
            period,
            days: period.days(),
            annual_percent: terms.late_interest_annual_percent,
            day_count_basis: terms.late_interest_day_count_basis,
            rounding: LATE_INTEREST_ROUNDING,
            policy: ctx.policy.version(),
        }])
    }

    /// ACC-8: the balance compared with the minimum the policy states in the account's
    /// currency (only where it states none, converted at the charging rate of MON-3 into the
    /// first stated one, rounded down so a fraction never lifts it over the line), the fee debited as a regular debit, the duty, when known, as an owed one.
    fn advance_duty(
        &self,
        ctx: &Ctx<'_>,
        shipment: CauseId,
        duty: Option<Money>,
        rate: Option<&ExchangeRate>,
        sea_taxable_value: Option<Money>,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        let terms = &ctx.policy.account;
        self.not_moved_yet(
            Reason::DutyAdvanceFee,
            &shipment,
            None,
            AccountError::DuplicateDebit {
                reason: Reason::DutyAdvanceFee,
                cause: shipment.clone(),
            },
        )?;
        // ACC-8: the amount the policy states in the account's currency (about 500 CNY for
        // 10,000 JPY), not a conversion; a currency it does not state falls back to converting
        // the balance into the first amount's.
        let stated = &terms.duty_advance_min_balance;
        let own = stated.iter().find(|m| m.currency == self.currency());
        let Some(&minimum) = own.or(stated.first()) else {
            // Policy::validate requires one; a policy built by hand without any refuses.
            return Err(AccountError::DutyAdvanceBalanceTooLow {
                compared_balance: self.balance,
                minimum: Money::new(Decimal::MAX, self.currency()),
            });
        };
        let (compared_balance, comparison) = if minimum.currency == self.currency() {
            (self.balance, None)
        } else {
            let rate = rate.ok_or(AccountError::ExchangeRateMissing {
                from: self.currency(),
                to: minimum.currency,
            })?;
            let c = convert_for_charge(
                self.balance,
                minimum.currency,
                rate,
                terms.charge_rate_markup,
                Rounding::Down,
                ctx.today,
            )?;
            (c.to, Some(c))
        };
        if compared_balance.amount < minimum.amount {
            return Err(AccountError::DutyAdvanceBalanceTooLow {
                compared_balance,
                minimum,
            });
        }
        // ACC-8: sea freight's advance is priced by its taxable value where the policy says so.
        let stated_fee = match (sea_taxable_value, &terms.sea_duty_advance) {
            (Some(value), Some(sea)) => sea.fee(value).ok_or(AccountError::CurrencyMismatch {
                expected: sea.flat_below.currency,
                amount: value,
            })?,
            _ => terms.duty_advance_fee,
        };
        let (fee, fee_conversion) =
            self.in_account_currency(ctx, stated_fee, rate, Rounding::HalfUp)?;
        let fee_movement = self.debit_movement(
            Reason::DutyAdvanceFee,
            DebitKind::Regular,
            shipment.clone(),
            fee,
            None,
        )?;
        let mut events = vec![
            AccountEvent::DutyAdvanced {
                shipment: shipment.clone(),
                balance: self.balance,
                compared_balance,
                minimum,
                comparison,
                policy: ctx.policy.version(),
            },
            AccountEvent::Debited {
                movement: fee_movement,
                kind: DebitKind::Regular,
                period: None,
                conversion: fee_conversion,
                rule: Rule::Acc8,
                policy: ctx.policy.version(),
            },
        ];
        if let Some(duty) = duty {
            events.push(self.duty_debit(ctx, shipment, duty, rate)?);
        }
        Ok(events)
    }

    /// ACC-8: duty billed after shipping.
    fn bill_advanced_duty(
        &self,
        ctx: &Ctx<'_>,
        shipment: CauseId,
        duty: Money,
        rate: Option<&ExchangeRate>,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        if !self.duty_advances.contains(&shipment) {
            return Err(AccountError::NoDutyAdvance { shipment });
        }
        Ok(vec![self.duty_debit(ctx, shipment, duty, rate)?])
    }

    fn duty_debit(
        &self,
        ctx: &Ctx<'_>,
        shipment: CauseId,
        duty: Money,
        rate: Option<&ExchangeRate>,
    ) -> Result<AccountEvent, AccountError> {
        let (duty, conversion) = self.in_account_currency(ctx, duty, rate, Rounding::HalfUp)?;
        let movement = self.debit_movement(Reason::Duty, DebitKind::Owed, shipment, duty, None)?;
        Ok(AccountEvent::Debited {
            movement,
            kind: DebitKind::Owed,
            period: None,
            conversion,
            rule: Rule::Acc8,
            policy: ctx.policy.version(),
        })
    }

    /// ACC-7: the refund's due date.
    fn schedule_refund(
        &self,
        ctx: &Ctx<'_>,
        request: CauseId,
        requested_on: NaiveDate,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        if let Some(w) = &self.withdrawal {
            return Err(AccountError::WithdrawalAlreadyRequested { due_on: w.due_on });
        }
        let wait_months = ctx.policy.account.refund_wait_months;
        Ok(vec![AccountEvent::RefundScheduled {
            request,
            requested_on,
            wait_months,
            due_on: refund_due_on(requested_on, wait_months),
            policy: ctx.policy.version(),
        }])
    }

    /// ACC-7, MON-3: the whole balance, on or after the due date. A zero balance is "refunded"
    /// as zero, which closes the account; a negative balance is a debt and is refused.
    fn pay_refund(
        &self,
        ctx: &Ctx<'_>,
        payout_currency: Currency,
        rates: Option<RefundRates>,
    ) -> Result<Vec<AccountEvent>, AccountError> {
        let withdrawal = self
            .withdrawal
            .as_ref()
            .ok_or(AccountError::RefundWithoutWithdrawal)?;
        if ctx.today < withdrawal.due_on {
            return Err(AccountError::RefundNotDue {
                due_on: withdrawal.due_on,
                today: ctx.today,
            });
        }
        if self.balance.is_negative() {
            return Err(AccountError::RefundOfDebt {
                balance: self.balance,
            });
        }
        let (paid, conversion) = if payout_currency == self.currency() {
            (self.balance, None)
        } else {
            let rates = rates.ok_or(AccountError::ExchangeRateMissing {
                from: self.currency(),
                to: payout_currency,
            })?;
            self.check_refund_rates(ctx, &rates)?;
            let c = convert_for_refund(
                self.balance,
                payout_currency,
                &rates.charge_month,
                &rates.refund_month,
                ctx.policy.account.refund_rate_markdown,
            )?;
            (c.to, Some(c))
        };
        Ok(vec![AccountEvent::Refunded {
            movement: Movement {
                amount: debit_of(self.balance),
                reason: Reason::Refund,
                cause: withdrawal.request.clone(),
            },
            paid,
            conversion,
            due_on: withdrawal.due_on,
            paid_on: ctx.today,
            policy: ctx.policy.version(),
        }])
    }

    /// MON-3: the refund-month rate is of the month of payment; the charge-month rate of the
    /// month of the last approved top-up (any month when the account was never topped up).
    fn check_refund_rates(&self, ctx: &Ctx<'_>, rates: &RefundRates) -> Result<(), AccountError> {
        if !same_month(rates.refund_month.valid_on, ctx.today) {
            return Err(AccountError::RefundRateMonth {
                role: RefundRateRole::RefundMonth,
                valid_on: rates.refund_month.valid_on,
                expected_month: ctx.today,
            });
        }
        match self.last_top_up_on {
            Some(charged_on) if !same_month(rates.charge_month.valid_on, charged_on) => {
                Err(AccountError::RefundRateMonth {
                    role: RefundRateRole::ChargeMonth,
                    valid_on: rates.charge_month.valid_on,
                    expected_month: charged_on,
                })
            }
            _ => Ok(()),
        }
    }

    // ---------------------------------------------------------------- helpers

    /// A positive whole amount, converted into the account currency at the charging rate
    /// (MON-3) with `rounding` when it is in another currency; the conversion is returned to
    /// be recorded (MON-2).
    fn in_account_currency(
        &self,
        ctx: &Ctx<'_>,
        amount: Money,
        rate: Option<&ExchangeRate>,
        rounding: Rounding,
    ) -> Result<(Money, Option<Conversion>), AccountError> {
        let amount = positive_whole(amount)?;
        if amount.currency == self.currency() {
            return Ok((amount, None));
        }
        let rate = rate.ok_or(AccountError::ExchangeRateMissing {
            from: amount.currency,
            to: self.currency(),
        })?;
        let conversion = convert_for_charge(
            amount,
            self.currency(),
            rate,
            ctx.policy.account.charge_rate_markup,
            rounding,
            ctx.today,
        )?;
        Ok((conversion.to, Some(conversion)))
    }

    fn in_currency(&self, amount: Money) -> Result<(), AccountError> {
        if amount.currency == self.currency() {
            Ok(())
        } else {
            Err(AccountError::CurrencyMismatch {
                expected: self.currency(),
                amount,
            })
        }
    }

    fn not_moved_yet(
        &self,
        reason: Reason,
        cause: &CauseId,
        period: Option<Period>,
        refusal: AccountError,
    ) -> Result<(), AccountError> {
        let key = MovementKey {
            reason,
            cause: cause.clone(),
            period,
        };
        if self.moved.contains(&key) {
            Err(refusal)
        } else {
            Ok(())
        }
    }

    /// ACC-4: a debit of a positive amount in the account currency, once per reason, cause
    /// and period; a regular one only within the balance.
    fn debit_movement(
        &self,
        reason: Reason,
        kind: DebitKind,
        cause: CauseId,
        amount: Money,
        period: Option<Period>,
    ) -> Result<Movement, AccountError> {
        self.not_moved_yet(
            reason,
            &cause,
            period,
            AccountError::DuplicateDebit {
                reason,
                cause: cause.clone(),
            },
        )?;
        if kind == DebitKind::Regular && self.balance.amount < amount.amount {
            return Err(AccountError::InsufficientBalance {
                balance: self.balance,
                debit: amount,
            });
        }
        Ok(Movement {
            amount: debit_of(amount),
            reason,
            cause,
        })
    }

    // ---------------------------------------------------------------- evolution

    fn evolve(&mut self, event: AccountEvent) {
        if let Some(movement) = event.movement() {
            self.balance.amount += movement.amount.amount;
        }
        match event {
            AccountEvent::TopUpApproved {
                application_id,
                deposit,
                filing_deadline,
                approved_on,
                ..
            } => {
                self.decided_applications.insert(application_id);
                self.applied_deposits.insert(deposit.deposit_id);
                self.rejected_in_a_row = 0;
                self.late_in_a_row = late_streak(self.late_in_a_row, approved_on, filing_deadline);
                self.last_top_up_on = Some(approved_on);
                self.first_application_on.get_or_insert(approved_on);
            }
            AccountEvent::TopUpRejected {
                application_id,
                consecutive_rejections,
                filing_deadline,
                rejected_on,
                ..
            } => {
                self.decided_applications.insert(application_id);
                self.rejected_in_a_row = consecutive_rejections;
                self.late_in_a_row = late_streak(self.late_in_a_row, rejected_on, filing_deadline);
                self.first_application_on.get_or_insert(rejected_on);
            }
            AccountEvent::TopUpRejectionLimitReached { .. } => self.rejected_in_a_row = 0,
            AccountEvent::Debited {
                movement, period, ..
            } => self.remember(movement, period),
            // A reversed shipment payment is undone: the shipment may be paid from the
            // balance again, and that payment reversed in its turn (PAY-1).
            AccountEvent::Credited { movement, .. }
                if movement.reason == Reason::PaymentReversal =>
            {
                self.moved.remove(&MovementKey {
                    reason: Reason::ShipmentPayment,
                    cause: movement.cause,
                    period: None,
                });
            }
            AccountEvent::Credited { movement, .. }
            | AccountEvent::DisposalFeeCharged { movement, .. }
            | AccountEvent::SaleProceedsCredited { movement, .. } => self.remember(movement, None),
            AccountEvent::LateInterestAccrued {
                movement,
                overdue,
                period,
                days,
                annual_percent,
                day_count_basis,
                ..
            } => {
                // The event records everything the exact accrual is made of (ACC-6).
                let accrued = AccruedInterest::on(overdue, days, annual_percent, day_count_basis);
                let carry = self
                    .interest_carry
                    .entry(movement.cause.clone())
                    .or_default();
                *carry = carry.after_accrual(accrued, -movement.amount.amount);
                self.interest_accrued_through
                    .insert(movement.cause, period.through());
            }
            AccountEvent::DutyAdvanced { shipment, .. } => {
                self.duty_advances.insert(shipment);
            }
            AccountEvent::RefundScheduled {
                request,
                requested_on,
                due_on,
                ..
            } => {
                self.withdrawal = Some(Withdrawal {
                    request,
                    requested_on,
                    due_on,
                });
            }
            AccountEvent::Opened { .. } | AccountEvent::Refunded { .. } => {}
        }
    }

    fn remember(&mut self, movement: Movement, period: Option<Period>) {
        self.moved.insert(MovementKey {
            reason: movement.reason,
            cause: movement.cause,
            period,
        });
    }
}

/// The amount if it is a whole number of its currency's unit (MON-1).
fn whole(amount: Money) -> Result<Money, AccountError> {
    if amount.rounded(Rounding::Down) == amount {
        Ok(amount)
    } else {
        Err(AccountError::AmountPrecision { amount })
    }
}

/// The amount if it is whole and above zero.
fn positive_whole(amount: Money) -> Result<Money, AccountError> {
    let amount = whole(amount)?;
    if amount.is_positive() {
        Ok(amount)
    } else {
        Err(AccountError::NonPositiveAmount { amount })
    }
}

/// The signed movement of debiting `amount` (zero stays a plain zero).
fn debit_of(amount: Money) -> Money {
    if amount.is_zero() {
        Money::zero(amount.currency)
    } else {
        amount.negated()
    }
}

crate::event_sourced!(
    ChargeAccount,
    "account",
    AccountCommand,
    AccountEvent,
    AccountError
);

//! # Shipment
//!
//! What is packed from one or more of a member's parcels, quoted, paid, shipped, delivered
//! and claimed against. The box in the warehouse and its reservation into a shipment (CON-3)
//! belong to the Parcel aggregate; a shipment starts when the member asks for packing and
//! receives the parcels as [`crate::facts::ParcelFacts`].
//!
//! Lifecycle: `NotRequested → PackingRequested → Packed → Quoted → Paid → Shipped →
//! Delivered`, with `CustomsHold`, `ReturnedToOrigin` and `Lost` from tracking, `Held` for a
//! quote unpaid past its due date and `Cancelled` until paid. Claims live inside the shipment,
//! one per claim id.
//!
//! Rules decided here:
//! - request: MEM-2 and MEM-4 (only a verified member requests or pays), CON-1 (a
//!   consolidation is at least `min_parcels` of one member's parcels, none under Auto Pack,
//!   MEM-6), CON-2 (jp-forwarding weight and value limits, inclusive);
//! - packing and quote: CON-4 (pieces; forwarding fee and options per piece), FEE-1 (lines,
//!   tariff, volumetric weight), FEE-2 (warranty add-on), FEE-3 (insurance cap), MEM-7 (a
//!   quote within the Auto Ship limit is paid in the same decision);
//! - payment: PAY-1 (once, in full), ACC-5 (PayPal fee line), PAY-2 (held past due, released
//!   by paying), CON-5 (cancel until paid);
//! - shipping: SHP-1 (only paid shipments ship), SHP-2 (tracking updates);
//! - claims: CLM-1 to CLM-6 (see [`claim`] for the windows and the loss-claim decision).

pub mod claim;
pub mod command;
pub mod error;
pub mod event;
pub mod pricing;
pub mod tracking;

pub use claim::{
    Claim, ClaimStatus, ClaimType, ClaimedItem, ClaimedValue, Evidence, EvidenceKind, PayoutBasis,
    ResponseClock,
};
pub use command::{DutyPayment, PaymentMethod, ShipmentCommand};
pub use error::ShipmentError;
pub use event::ShipmentEvent;
pub use pricing::{LineItem, Piece, QuoteLine};
pub use tracking::{TrackingNumber, TrackingStatus};

use crate::exchange::ExchangeRate;
use crate::facts::{MemberStanding, ParcelFacts, StandingStatus};
use crate::ids::{ClaimId, MemberId, ParcelId, ShipmentId};
use crate::measure::{Dimensions, Weight};
use crate::money::{Currency, Money, Rounding};
use crate::parcel::{ClaimSettlement, ShipmentFact as ParcelFact};
use crate::{Issued, Policy};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a shipment stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Nothing requested yet: the state before the first event.
    #[default]
    NotRequested,
    /// Packing (or consolidation) requested.
    PackingRequested,
    /// Packed and measured.
    Packed,
    /// Quoted, waiting for payment.
    Quoted,
    /// Paid, waiting to ship.
    Paid,
    /// Quote unpaid past its due date (PAY-2).
    Held,
    /// Cancelled before payment (CON-5).
    Cancelled,
    /// With the carrier.
    Shipped,
    /// Held by customs at destination (SHP-2).
    CustomsHold,
    /// Delivered at destination (SHP-2).
    Delivered,
    /// Sent back by the carrier (SHP-2).
    ReturnedToOrigin,
    /// Declared lost by the carrier (SHP-2).
    Lost,
    /// Back at the warehouse after a return to origin, in storage: a new quote re-ships it,
    /// or the member has it disposed of (SHP-2).
    Returned,
    /// The member had it disposed of after it came back (SHP-2). Final.
    Abandoned,
}

impl ShipmentStatus {
    /// True while its parcels stay on the storage clock (STO-1): requested, packed, quoted,
    /// held or back from a return (SHP-2), in the warehouse and not paid for, so a shipment
    /// stuck unpaid reaches the limit.
    pub fn keeps_storage_clock(self) -> bool {
        matches!(
            self,
            ShipmentStatus::PackingRequested
                | ShipmentStatus::Packed
                | ShipmentStatus::Quoted
                | ShipmentStatus::Held
                | ShipmentStatus::Returned
        )
    }

    /// True once paid: paid, shipped and everything after.
    pub fn is_paid(self) -> bool {
        matches!(
            self,
            ShipmentStatus::Paid
                | ShipmentStatus::Shipped
                | ShipmentStatus::CustomsHold
                | ShipmentStatus::Delivered
                | ShipmentStatus::ReturnedToOrigin
                | ShipmentStatus::Lost
        )
    }

    /// True while it may still be cancelled: requested, packed, quoted or held (CON-5).
    pub fn is_cancellable(self) -> bool {
        matches!(
            self,
            ShipmentStatus::PackingRequested
                | ShipmentStatus::Packed
                | ShipmentStatus::Quoted
                | ShipmentStatus::Held
        )
    }
}

/// The packed shipment as measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Packing {
    weight: Weight,
    dimensions: Dimensions,
}

/// The terms of the quote the shipment was paid (or is to be paid) against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct QuoteTerms {
    carrier: String,
    pieces: u32,
    total: Money,
    due_on: NaiveDate,
    insured: Option<Money>,
    warranty: bool,
    /// The options quoted (FEE-1): the packing carrier damage needs is among them (CLM-5).
    #[serde(default)]
    options: Vec<String>,
}

/// The Shipment aggregate. `Default` is the state before the first event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    status: ShipmentStatus,
    shipment_id: Option<ShipmentId>,
    member_id: Option<MemberId>,
    parcels: Vec<ParcelFacts>,
    packing: Option<Packing>,
    quote: Option<QuoteTerms>,
    /// The day it was paid: the day a warranty add-on on its quote was taken (FEE-2).
    paid_on: Option<NaiveDate>,
    shipped_on: Option<NaiveDate>,
    /// Delivery or lost status date: where the claim window counts from (CLM-2).
    claim_window_basis: Option<NaiveDate>,
    claim_window_last_day: Option<NaiveDate>,
    delivered_on: Option<NaiveDate>,
    warranty_claim_last_day: Option<NaiveDate>,
    claims: BTreeMap<ClaimId, Claim>,
    /// How far dunning of an unpaid quote has gone (ACC-6).
    #[serde(default)]
    dunning: Dunning,
    /// The day it was held for non-payment, if ever: paying releases its parcels' hold (PAY-2).
    #[serde(default)]
    held_on: Option<NaiveDate>,
    /// How many times it came back to the warehouse (SHP-2): each return's re-shipment is a
    /// payment of its own.
    #[serde(default)]
    returns: u32,
    /// How its import duty is paid, as the member chose before dispatch (ACC-8).
    #[serde(default)]
    duty_payment: DutyPayment,
    /// How many redeliveries abroad were charged (SHP-2).
    #[serde(default)]
    redeliveries: u32,
}

/// The steps of dunning an unpaid quote (ACC-6): a reminder, then a notice with a deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Dunning {
    /// Nothing sent.
    #[default]
    None,
    /// Reminded; the notice follows from `dunning_from`.
    Reminded {
        reminded_on: NaiveDate,
        dunning_from: NaiveDate,
    },
    /// The notice was sent; interest runs from the day after `pay_by`.
    Noticed {
        sent_on: NaiveDate,
        pay_by: NaiveDate,
    },
}

/// What late interest on a dunned quote runs on (ACC-6): the account command's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueQuote {
    /// The member whose account is charged.
    pub member_id: MemberId,
    /// The amount overdue: the quote total.
    pub amount: Money,
    /// The dunning notice's deadline: interest runs from the next day.
    pub pay_by: NaiveDate,
    /// The last day interest may run through: the day asked, or the day paid if earlier.
    pub through: NaiveDate,
}

crate::event_sourced!(
    Shipment,
    "shipment",
    ShipmentCommand,
    ShipmentEvent,
    ShipmentError
);

/// Refuses a member who may not request or pay (MEM-2, MEM-4).
fn ensure_may_act(member: &MemberStanding) -> Result<(), ShipmentError> {
    match member.status {
        StandingStatus::Verified => Ok(()),
        StandingStatus::Unverified => Err(ShipmentError::MemberUnverified),
        StandingStatus::Suspended => Err(ShipmentError::MemberSuspended),
        status @ (StandingStatus::Withdrawing | StandingStatus::Closed) => {
            Err(ShipmentError::MemberInactive { status })
        }
    }
}

/// True when Auto Ship pays `total` by itself: the member may pay and the total is at or
/// under their Auto Ship limit (MEM-7). A limit in another currency never applies.
pub fn auto_ship_applies(member: &MemberStanding, total: Money) -> bool {
    member.may_request_shipments()
        && member
            .auto_ship_limit
            .is_some_and(|limit| limit.currency == total.currency && total.amount <= limit.amount)
}

impl Shipment {
    /// Where the shipment stands.
    pub fn status(&self) -> ShipmentStatus {
        self.status
    }

    /// The shipment's id, once requested.
    pub fn shipment_id(&self) -> Option<&ShipmentId> {
        self.shipment_id.as_ref()
    }

    /// The shipment's member, once requested.
    pub fn member_id(&self) -> Option<&MemberId> {
        self.member_id.as_ref()
    }

    /// The earliest arrival of its parcels: its parcels' storage clock runs from it (STO-1).
    pub fn earliest_received_on(&self) -> Option<NaiveDate> {
        self.parcels.iter().map(|p| p.received_on).min()
    }

    /// The day it was held for non-payment (PAY-2), if it ever was, paid since or not.
    pub fn held_on(&self) -> Option<NaiveDate> {
        self.held_on
    }

    /// How its import duty is paid (ACC-8): by the recipient on delivery unless the member
    /// chose the warehouse's advance.
    pub fn duty_payment(&self) -> DutyPayment {
        self.duty_payment
    }

    /// The carrier it is quoted for, once quoted.
    pub fn quoted_carrier(&self) -> Option<&str> {
        self.quote.as_ref().map(|q| q.carrier.as_str())
    }

    /// What its payments and charges are for, as the account records their cause: the
    /// shipment, or after its `n`-th return `<shipment>-r<n>`, so re-shipping it is a payment
    /// of its own (SHP-2) while each remains once only (PAY-1).
    pub fn payment_cause(&self) -> Option<String> {
        let id = self.shipment_id.as_ref()?;
        Some(match self.returns {
            0 => id.to_string(),
            n => format!("{id}-r{n}"),
        })
    }

    /// The parcels packed into it.
    pub fn parcel_ids(&self) -> Vec<ParcelId> {
        self.parcels.iter().map(|p| p.parcel_id.clone()).collect()
    }

    /// ACC-6: what late interest through `through` runs on, once the dunning notice's
    /// deadline has passed: interest stops the day the quote is paid, and a cancelled quote
    /// owes none.
    pub fn overdue_quote(&self, through: NaiveDate) -> Result<OverdueQuote, ShipmentError> {
        let Dunning::Noticed { pay_by, .. } = self.dunning else {
            return Err(ShipmentError::NoDunningNotice);
        };
        if self.status == ShipmentStatus::Cancelled {
            return Err(ShipmentError::InvalidState {
                command: "accrue_late_interest",
                status: self.status,
            });
        }
        let through = self.paid_on.map_or(through, |paid_on| through.min(paid_on));
        Ok(OverdueQuote {
            member_id: self.owner("accrue_late_interest")?.clone(),
            amount: self.terms("accrue_late_interest")?.total,
            pay_by,
            through,
        })
    }

    /// A claim by id.
    pub fn claim(&self, claim_id: &ClaimId) -> Option<&Claim> {
        self.claims.get(claim_id)
    }

    /// What `event`, one of this shipment's, tells each parcel it concerns, for the parcel's
    /// own stream (`ParcelCommand::FollowShipment`): payment, shipping and tracking concern
    /// every parcel; a claim concerns the parcel of the item it names, or every parcel when
    /// it names none (a loss). Read on the state after the event; empty for the events that
    /// stay the shipment's alone (quotes, dunning, claim evidence and responses).
    pub fn parcel_facts(&self, event: &ShipmentEvent) -> Vec<(ParcelId, ParcelFact)> {
        use ShipmentEvent as E;
        let settled = |claim_id: &ClaimId, outcome| {
            Some((
                claim_id.clone(),
                ParcelFact::ClaimSettled {
                    claim_id: claim_id.clone(),
                    outcome,
                },
            ))
        };
        let (claim_id, fact) = match event {
            E::Paid { paid_on, .. } => {
                return self.to_every_parcel(ParcelFact::Paid { paid_on: *paid_on })
            }
            E::Shipped {
                carrier,
                service,
                tracking_number,
                shipped_on,
                ..
            } => {
                return self.to_every_parcel(ParcelFact::Shipped {
                    carrier: carrier.clone(),
                    service: service.clone(),
                    tracking_number: tracking_number.clone(),
                    shipped_on: *shipped_on,
                })
            }
            E::CustomsHeld { held_on, .. } => {
                return self.to_every_parcel(ParcelFact::CustomsHeld { held_on: *held_on })
            }
            E::Delivered { delivered_on, .. } => {
                return self.to_every_parcel(ParcelFact::Delivered {
                    delivered_on: *delivered_on,
                })
            }
            E::Lost { lost_on, .. } => {
                return self.to_every_parcel(ParcelFact::Lost { lost_on: *lost_on })
            }
            E::ReturnReceived { received_on, .. } => {
                return self.to_every_parcel(ParcelFact::ReturnReceived {
                    received_on: *received_on,
                })
            }
            E::Claimed {
                claim_id,
                claim_type,
                ..
            } => Some((
                claim_id.clone(),
                ParcelFact::Claimed {
                    claim_id: claim_id.clone(),
                    claim_type: *claim_type,
                },
            )),
            E::ClaimApproved {
                claim_id, payout, ..
            } => settled(claim_id, ClaimSettlement::Approved { payout: *payout }),
            E::ClaimRejected { claim_id, .. } => settled(claim_id, ClaimSettlement::Rejected),
            E::ClaimWithdrawn { claim_id, .. } => settled(claim_id, ClaimSettlement::Withdrawn),
            E::ClaimExchangeItemReceived { claim_id, .. } => {
                settled(claim_id, ClaimSettlement::Exchanged)
            }
            E::ClaimExchangeLapsed { claim_id, .. } => {
                settled(claim_id, ClaimSettlement::ExchangeLapsed)
            }
            _ => None,
        }
        .unzip();
        let (Some(claim_id), Some(fact)) = (claim_id, fact) else {
            return Vec::new();
        };
        match self.claims.get(&claim_id).and_then(|c| c.item.as_ref()) {
            Some(item) => vec![(item.parcel_id.clone(), fact)],
            None => self.to_every_parcel(fact),
        }
    }

    fn to_every_parcel(&self, fact: ParcelFact) -> Vec<(ParcelId, ParcelFact)> {
        self.parcels
            .iter()
            .map(|p| (p.parcel_id.clone(), fact.clone()))
            .collect()
    }

    /// Decides what a command makes happen, or why it is refused.
    pub fn decide(
        &self,
        cmd: Issued<ShipmentCommand>,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        use ShipmentCommand as C;
        use ShipmentStatus as S;
        let Issued { at, command } = cmd;
        let today = policy.local_date(at);
        let name = command.name();
        match (self.status, command) {
            // ---------------------------------------------------------- request and packing
            (
                S::NotRequested,
                C::RequestConsolidation {
                    shipment_id,
                    member,
                    parcels,
                },
            ) => consolidate(shipment_id, &member, parcels, today, policy),
            (
                S::NotRequested,
                C::RequestPacking {
                    shipment_id,
                    member,
                    parcel,
                },
            ) => request_packing(shipment_id, &member, parcel, today),
            (
                S::PackingRequested,
                C::RecordPacking {
                    carrier,
                    weight,
                    dimensions,
                },
            ) => pack(&carrier, weight, dimensions, today, policy),

            // ---------------------------------------------------------- quote and payment
            // SHP-2: a shipment back from a return is re-shipped with a new quote.
            (
                S::Packed | S::Returned,
                C::Quote {
                    member,
                    carrier,
                    destination,
                    options,
                    insurance,
                    warranty,
                },
            ) => {
                let request = pricing::QuoteRequest {
                    carrier: &carrier,
                    destination: &destination,
                    options: &options,
                    insurance,
                    warranty,
                };
                self.quote(&member, request, today, policy)
            }
            // PAY-2: a shipment held for non-payment is released by paying it.
            (
                S::Quoted | S::Held,
                C::Pay {
                    member,
                    method,
                    amount,
                    exchange_rate,
                },
            ) => self.pay(
                &member,
                method,
                amount,
                exchange_rate.as_ref(),
                today,
                policy,
            ),
            (status, C::Pay { .. }) if status.is_paid() => Err(ShipmentError::AlreadyPaid),
            (S::Quoted, C::HoldUnpaid) => self.hold(today, policy),
            (S::Quoted | S::Held, C::RemindPayment) => self.remind(today, policy),
            (S::Quoted | S::Held, C::SendDunningNotice) => self.send_dunning_notice(today, policy),
            (status, C::RemindPayment | C::SendDunningNotice) if status.is_paid() => {
                Err(ShipmentError::AlreadyPaid)
            }
            (status, C::Cancel { reason }) if status.is_cancellable() => self.cancel(reason, today),
            (status, C::Cancel { .. }) if status.is_paid() => {
                Err(ShipmentError::CancelAfterPayment)
            }

            // ---------------------------------------------------------- shipping and tracking
            (
                S::Paid,
                C::Ship {
                    carrier,
                    service,
                    tracking_number,
                    declared_value,
                },
            ) => self.ship(
                carrier,
                service,
                tracking_number,
                declared_value,
                today,
                policy,
            ),
            (status, C::Ship { .. }) if status.is_cancellable() => Err(ShipmentError::NotPaid),
            (S::Shipped | S::CustomsHold, C::RecordTracking { status, on, note }) => {
                self.track(status, on, note, today, policy)
            }
            (status, C::RecordTracking { .. }) if status.is_paid() => {
                Err(ShipmentError::NotInTransit { status })
            }
            (S::Shipped | S::CustomsHold, C::ChargeRedelivery { cost }) => {
                self.charge_redelivery(cost, today, policy)
            }
            (S::ReturnedToOrigin, C::ReceiveReturn { return_cost }) => {
                self.receive_return(return_cost, today, policy)
            }
            (
                S::PackingRequested | S::Packed | S::Quoted | S::Paid | S::Held | S::Returned,
                C::ChooseDutyPayment { payment },
            ) => self.choose_duty_payment(payment, today, policy),
            (status, C::ChooseDutyPayment { .. }) => {
                Err(ShipmentError::DutyChoiceAfterDispatch { status })
            }
            (S::Returned, C::AbandonReturn) => Ok(vec![ShipmentEvent::ReturnAbandoned {
                member_id: self.owner(name)?.clone(),
                parcels: self.parcel_ids(),
                abandoned_on: today,
            }]),

            // ---------------------------------------------------------- claims
            (
                _,
                C::FileClaim {
                    claim_id,
                    claim_type,
                    evidence,
                    item,
                    under_warranty,
                },
            ) => self.file_claim(
                claim_id,
                claim_type,
                evidence,
                item,
                under_warranty,
                at,
                policy,
            ),
            (_, C::AddClaimEvidence { claim_id, evidence }) => {
                self.add_claim_evidence(claim_id, evidence, policy)
            }
            (_, C::RespondToClaim { claim_id, message }) => {
                let claim = self.open_claim(&claim_id)?;
                Ok(vec![ShipmentEvent::ClaimResponded {
                    in_time: at < claim.response_due,
                    claim_id,
                    message,
                    responded_at: at,
                }])
            }
            (_, C::EscalateClaim { claim_id }) => self.escalate_claim(claim_id, at),
            (_, C::WithdrawClaim { claim_id, reason }) => {
                self.open_claim(&claim_id)?;
                Ok(vec![ShipmentEvent::ClaimWithdrawn {
                    claim_id,
                    reason,
                    withdrawn_at: at,
                }])
            }
            (_, C::RejectClaim { claim_id, reason }) => self.reject_claim(claim_id, reason, at),
            (_, C::ApproveClaim { claim_id, payout }) => {
                self.approve_claim(claim_id, payout, at, policy)
            }
            (_, C::AcceptExchange { claim_id }) => self.accept_exchange(claim_id, today, policy),
            (_, C::RecordExchangeItemReceived { claim_id }) => {
                let return_by = self.exchange_return_by(&claim_id, name)?;
                if today > return_by {
                    return Err(ShipmentError::ExchangeLapsed { return_by });
                }
                Ok(vec![ShipmentEvent::ClaimExchangeItemReceived {
                    claim_id,
                    received_on: today,
                }])
            }
            (_, C::LapseExchange { claim_id }) => {
                let return_by = self.exchange_return_by(&claim_id, name)?;
                if today <= return_by {
                    return Err(ShipmentError::ExchangeNotLapsed { return_by });
                }
                Ok(vec![ShipmentEvent::ClaimExchangeLapsed {
                    claim_id,
                    return_by,
                    lapsed_on: today,
                }])
            }

            (status, _) => Err(ShipmentError::InvalidState {
                command: name,
                status,
            }),
        }
    }

    /// Applies an event. Cannot fail; holds no business logic.
    pub fn evolve(&mut self, event: ShipmentEvent) {
        use ShipmentEvent as E;
        match event {
            E::Consolidated {
                shipment_id,
                member_id,
                parcels,
                ..
            } => {
                self.status = ShipmentStatus::PackingRequested;
                self.shipment_id = Some(shipment_id);
                self.member_id = Some(member_id);
                self.parcels = parcels;
            }
            E::PackingRequested {
                shipment_id,
                member_id,
                parcel,
                ..
            } => {
                self.status = ShipmentStatus::PackingRequested;
                self.shipment_id = Some(shipment_id);
                self.member_id = Some(member_id);
                self.parcels = vec![parcel];
            }
            E::Packed {
                weight, dimensions, ..
            } => {
                self.status = ShipmentStatus::Packed;
                self.packing = Some(Packing { weight, dimensions });
            }
            E::Quoted {
                carrier,
                pieces,
                options,
                insured,
                warranty,
                total,
                due_on,
                ..
            } => {
                self.status = ShipmentStatus::Quoted;
                self.quote = Some(QuoteTerms {
                    carrier,
                    pieces: u32::try_from(pieces.len()).unwrap_or(u32::MAX),
                    total,
                    due_on,
                    insured,
                    warranty,
                    options,
                });
            }
            E::Paid { paid_on, .. } => {
                self.status = ShipmentStatus::Paid;
                self.paid_on = Some(paid_on);
            }
            E::Held { held_on, .. } => {
                self.status = ShipmentStatus::Held;
                self.held_on = Some(held_on);
            }
            E::PaymentReminded {
                reminded_on,
                dunning_from,
                ..
            } => {
                self.dunning = Dunning::Reminded {
                    reminded_on,
                    dunning_from,
                }
            }
            E::DunningNoticeSent {
                sent_on, pay_by, ..
            } => self.dunning = Dunning::Noticed { sent_on, pay_by },
            E::Cancelled { .. } => self.status = ShipmentStatus::Cancelled,
            E::Shipped { shipped_on, .. } => {
                self.status = ShipmentStatus::Shipped;
                self.shipped_on = Some(shipped_on);
            }
            E::Delivered {
                delivered_on,
                claim_window_last_day,
                warranty_claim_last_day,
                ..
            } => {
                self.status = ShipmentStatus::Delivered;
                self.delivered_on = Some(delivered_on);
                self.claim_window_basis = Some(delivered_on);
                self.claim_window_last_day = Some(claim_window_last_day);
                self.warranty_claim_last_day = warranty_claim_last_day;
            }
            E::CustomsHeld { .. } => self.status = ShipmentStatus::CustomsHold,
            E::ReturnedToOrigin { .. } => self.status = ShipmentStatus::ReturnedToOrigin,
            E::Lost {
                lost_on,
                claim_window_last_day,
                ..
            } => {
                self.status = ShipmentStatus::Lost;
                self.claim_window_basis = Some(lost_on);
                self.claim_window_last_day = Some(claim_window_last_day);
            }
            E::Claimed {
                claim_id,
                claim_type,
                item,
                evidence,
                under_warranty,
                status,
                filed_at,
                response_due,
                ..
            } => {
                let claim = Claim {
                    claim_type,
                    under_warranty,
                    item,
                    evidence,
                    status,
                    filed_at,
                    response_due,
                    responded: false,
                    escalated: false,
                    exchange_return_by: None,
                };
                self.claims.insert(claim_id, claim);
            }
            E::ClaimEvidenceAdded {
                claim_id,
                evidence,
                status,
                ..
            } => self.update_claim(&claim_id, |c| {
                c.evidence = c.evidence.merged(&evidence);
                c.status = status;
            }),
            E::ClaimResponded { claim_id, .. } => {
                self.update_claim(&claim_id, |c| c.responded = true)
            }
            E::ClaimEscalated { claim_id, .. } => {
                self.update_claim(&claim_id, |c| c.escalated = true)
            }
            E::ClaimWithdrawn { claim_id, .. } => {
                self.update_claim(&claim_id, |c| c.status = ClaimStatus::Withdrawn)
            }
            E::ClaimRejected { claim_id, .. } => {
                self.update_claim(&claim_id, |c| c.status = ClaimStatus::Rejected)
            }
            E::ClaimApproved { claim_id, .. } => {
                self.update_claim(&claim_id, |c| c.status = ClaimStatus::Approved)
            }
            E::ClaimExchangeAccepted {
                claim_id,
                return_by,
                ..
            } => self.update_claim(&claim_id, |c| {
                c.status = ClaimStatus::ExchangeAccepted;
                c.responded = true;
                c.exchange_return_by = Some(return_by);
            }),
            E::ClaimExchangeItemReceived { claim_id, .. } => {
                self.update_claim(&claim_id, |c| c.status = ClaimStatus::Exchanged)
            }
            E::ClaimExchangeLapsed { claim_id, .. } => {
                self.update_claim(&claim_id, |c| c.status = ClaimStatus::Lapsed)
            }
            E::ReturnReceived {
                received_on,
                return_number,
                ..
            } => {
                self.status = ShipmentStatus::Returned;
                self.returns = return_number;
                // STO-1: its parcels' clock runs again, from the day it came back.
                for parcel in &mut self.parcels {
                    parcel.received_on = received_on;
                }
                self.dunning = Dunning::None;
            }
            E::ReturnAbandoned { .. } => self.status = ShipmentStatus::Abandoned,
            E::DutyPaymentChosen { payment, .. } => self.duty_payment = payment,
            E::RedeliveryCharged {
                redelivery_number, ..
            } => self.redeliveries = redelivery_number,
        }
    }

    /// SHP-2: a redelivery abroad costs what was billed, at least the policy's minimum.
    fn charge_redelivery(
        &self,
        cost: Money,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let terms = policy
            .redelivery
            .as_ref()
            .ok_or(ShipmentError::RedeliveryNotOffered)?;
        if cost.is_negative() || cost.currency != terms.min_fee.currency {
            return Err(ShipmentError::InvalidRedeliveryCost {
                cost,
                currency: terms.min_fee.currency,
            });
        }
        let fee = if cost.amount < terms.min_fee.amount {
            terms.min_fee
        } else {
            cost
        };
        Ok(vec![ShipmentEvent::RedeliveryCharged {
            member_id: self.owner("charge_redelivery")?.clone(),
            cost,
            min_fee: terms.min_fee,
            fee,
            redelivery_number: self.redeliveries + 1,
            charged_on: today,
            policy: policy.version(),
        }])
    }

    /// ACC-8: sea freight's duty is only advanced where the policy says so.
    fn sea_freight_refusal(
        &self,
        carrier: Option<&str>,
        payment: DutyPayment,
        policy: &Policy,
    ) -> Option<ShipmentError> {
        let carrier = carrier?;
        let sea = policy.carrier(carrier).is_some_and(|c| c.sea);
        (sea && policy.account.sea_duty_advance.is_some() && payment != DutyPayment::Advance).then(
            || ShipmentError::SeaFreightDutyAdvanceOnly {
                carrier: carrier.to_owned(),
            },
        )
    }

    /// ACC-8: the member's choice of how duty is paid, before dispatch.
    fn choose_duty_payment(
        &self,
        payment: DutyPayment,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        if let Some(refusal) = self.sea_freight_refusal(self.quoted_carrier(), payment, policy) {
            return Err(refusal);
        }
        Ok(vec![ShipmentEvent::DutyPaymentChosen {
            member_id: self.owner("choose_duty_payment")?.clone(),
            payment,
            chosen_on: today,
        }])
    }

    /// SHP-2: the shipment the carrier sent back is in the warehouse again.
    fn receive_return(
        &self,
        return_cost: Money,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        if return_cost.is_negative() || return_cost.currency != policy.billing_currency {
            return Err(ShipmentError::InvalidReturnCost {
                return_cost,
                currency: policy.billing_currency,
            });
        }
        Ok(vec![ShipmentEvent::ReturnReceived {
            member_id: self.owner("receive_return")?.clone(),
            parcels: self.parcel_ids(),
            received_on: today,
            return_cost,
            return_number: self.returns + 1,
            policy: policy.version(),
        }])
    }

    fn update_claim(&mut self, claim_id: &ClaimId, change: impl FnOnce(&mut Claim)) {
        if let Some(claim) = self.claims.get_mut(claim_id) {
            change(claim);
        }
    }

    // ------------------------------------------------------------------ decisions

    fn invalid(&self, command: &'static str) -> ShipmentError {
        ShipmentError::InvalidState {
            command,
            status: self.status,
        }
    }

    fn owner(&self, command: &'static str) -> Result<&MemberId, ShipmentError> {
        self.member_id.as_ref().ok_or_else(|| self.invalid(command))
    }

    fn ensure_owner(
        &self,
        member: &MemberStanding,
        command: &'static str,
    ) -> Result<(), ShipmentError> {
        let owner = self.owner(command)?;
        if *owner == member.member_id {
            Ok(())
        } else {
            Err(ShipmentError::NotMembersShipment {
                owner: owner.clone(),
                given: member.member_id.clone(),
            })
        }
    }

    fn terms(&self, command: &'static str) -> Result<&QuoteTerms, ShipmentError> {
        self.quote.as_ref().ok_or_else(|| self.invalid(command))
    }

    fn quote(
        &self,
        member: &MemberStanding,
        request: pricing::QuoteRequest<'_>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        self.ensure_owner(member, "quote")?;
        let packing = self.packing.as_ref().ok_or_else(|| self.invalid("quote"))?;
        let parcel_values = pricing::parcel_values(&self.parcels, policy.billing_currency)?;
        let priced = pricing::price_quote(
            policy,
            packing.weight,
            packing.dimensions,
            &parcel_values,
            request,
        )?;
        let total = priced.total;
        let mut events = vec![ShipmentEvent::Quoted {
            member_id: member.member_id.clone(),
            carrier: request.carrier.to_owned(),
            destination: request.destination.to_owned(),
            zone: priced.zone,
            pieces: priced.pieces,
            options: request.options.to_vec(),
            insured: priced.insured,
            warranty: request.warranty,
            lines: priced.lines,
            total,
            quoted_on: today,
            due_on: pricing::quote_due_on(today, &policy.payment),
            tariff_version: policy.tariff.version.clone(),
            policy: policy.version(),
        }];
        // MEM-7: within the Auto Ship limit the quote is paid in the same decision.
        if auto_ship_applies(member, total) {
            events.push(ShipmentEvent::Paid {
                member_id: member.member_id.clone(),
                method: PaymentMethod::AutoShip,
                quote_total: total,
                fee_lines: Vec::new(),
                amount: total,
                auto_ship_limit: member.auto_ship_limit,
                paid_on: today,
                policy: policy.version(),
            });
        }
        Ok(events)
    }

    fn pay(
        &self,
        member: &MemberStanding,
        method: PaymentMethod,
        amount: Money,
        exchange_rate: Option<&ExchangeRate>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        self.ensure_owner(member, "pay")?;
        ensure_may_act(member)?;
        let total = self.terms("pay")?.total;
        let fee_lines = match method {
            PaymentMethod::AutoShip if !auto_ship_applies(member, total) => {
                return Err(ShipmentError::AutoShipOverLimit {
                    total,
                    limit: member.auto_ship_limit,
                })
            }
            // ACC-5: every payment PayPal processes carries its fee, cards through PayPal too.
            method if policy.account.paypal_processed_methods.contains(&method) => {
                vec![pricing::paypal_fee_line(
                    total,
                    &policy.account,
                    exchange_rate,
                    today,
                )?]
            }
            PaymentMethod::Balance
            | PaymentMethod::Card
            | PaymentMethod::Paypal
            | PaymentMethod::AutoShip => Vec::new(),
        };
        let due = Money::sum(
            total.currency,
            std::iter::once(&total).chain(fee_lines.iter().map(|l| &l.amount)),
        )?;
        if amount != due {
            return Err(ShipmentError::AmountMismatch {
                expected: due,
                offered: amount,
            });
        }
        Ok(vec![ShipmentEvent::Paid {
            member_id: member.member_id.clone(),
            method,
            quote_total: total,
            fee_lines,
            amount: due,
            auto_ship_limit: (method == PaymentMethod::AutoShip)
                .then_some(member.auto_ship_limit)
                .flatten(),
            paid_on: today,
            policy: policy.version(),
        }])
    }

    fn hold(&self, today: NaiveDate, policy: &Policy) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let due_on = self.terms("hold_unpaid")?.due_on;
        if today <= due_on {
            return Err(ShipmentError::NotYetDue { due_on });
        }
        Ok(vec![ShipmentEvent::Held {
            member_id: self.owner("hold_unpaid")?.clone(),
            parcels: self.parcel_ids(),
            due_on,
            held_on: today,
            policy: policy.version(),
        }])
    }

    /// ACC-6: the reminder of a quote unpaid on its due date, once, from the day after it.
    fn remind(
        &self,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let terms = self.terms("remind_payment")?;
        if today <= terms.due_on {
            return Err(ShipmentError::ReminderNotYetDue {
                due_on: terms.due_on,
            });
        }
        match self.dunning {
            Dunning::None => {}
            Dunning::Reminded { reminded_on, .. } => {
                return Err(ShipmentError::AlreadyReminded { reminded_on })
            }
            Dunning::Noticed { sent_on, .. } => {
                return Err(ShipmentError::DunningAlreadySent { sent_on })
            }
        }
        Ok(vec![ShipmentEvent::PaymentReminded {
            member_id: self.owner("remind_payment")?.clone(),
            amount: terms.total,
            due_on: terms.due_on,
            reminded_on: today,
            dunning_from: crate::calendar::add_days(
                today,
                policy.payment.dunning_after_reminder_days,
            ),
            policy: policy.version(),
        }])
    }

    /// ACC-6: the dunning notice, once, from a week after the reminder; its deadline, and the
    /// day interest runs from.
    fn send_dunning_notice(
        &self,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let terms = self.terms("send_dunning_notice")?;
        match self.dunning {
            Dunning::None => return Err(ShipmentError::NotReminded),
            Dunning::Reminded { dunning_from, .. } if today < dunning_from => {
                return Err(ShipmentError::DunningNotYetDue { from: dunning_from })
            }
            Dunning::Reminded { .. } => {}
            Dunning::Noticed { sent_on, .. } => {
                return Err(ShipmentError::DunningAlreadySent { sent_on })
            }
        }
        let pay_by = crate::calendar::add_days(today, policy.payment.dunning_deadline_days);
        Ok(vec![ShipmentEvent::DunningNoticeSent {
            member_id: self.owner("send_dunning_notice")?.clone(),
            amount: terms.total,
            due_on: terms.due_on,
            sent_on: today,
            pay_by,
            interest_from: crate::calendar::add_days(pay_by, 1),
            annual_interest_percent: policy.account.late_interest_annual_percent,
            policy: policy.version(),
        }])
    }

    fn cancel(
        &self,
        reason: String,
        today: NaiveDate,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        Ok(vec![ShipmentEvent::Cancelled {
            member_id: self.owner("cancel")?.clone(),
            parcels: self.parcel_ids(),
            reason,
            cancelled_on: today,
        }])
    }

    fn ship(
        &self,
        carrier: String,
        service: String,
        tracking_number: TrackingNumber,
        declared_value: Money,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let terms = self.terms("ship")?;
        if policy.carrier(&carrier).is_none() {
            return Err(ShipmentError::ShippingUnknownCarrier { carrier });
        }
        if carrier != terms.carrier {
            return Err(ShipmentError::CarrierNotQuoted {
                quoted: terms.carrier.clone(),
                given: carrier,
            });
        }
        if service.trim().is_empty() {
            return Err(ShipmentError::ServiceRequired);
        }
        if let Some(refusal) = self.sea_freight_refusal(Some(&carrier), self.duty_payment, policy) {
            return Err(refusal);
        }
        if declared_value.is_negative() {
            return Err(ShipmentError::InvalidDeclaredValue { declared_value });
        }
        Ok(vec![ShipmentEvent::Shipped {
            carrier,
            service,
            tracking_number,
            declared_value,
            pieces: terms.pieces,
            shipped_on: today,
            policy: policy.version(),
        }])
    }

    fn track(
        &self,
        status: TrackingStatus,
        on: NaiveDate,
        note: Option<String>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let shipped_on = self
            .shipped_on
            .ok_or_else(|| self.invalid("record_tracking"))?;
        if on < shipped_on || on > today {
            return Err(ShipmentError::TrackingDateOutOfRange {
                on,
                shipped_on,
                today,
            });
        }
        let window = policy.claims.window_days;
        let event = match status {
            TrackingStatus::Delivered => {
                let warranty = self.terms("record_tracking")?.warranty;
                let taken_on = self
                    .paid_on
                    .ok_or_else(|| self.invalid("record_tracking"))?;
                ShipmentEvent::Delivered {
                    delivered_on: on,
                    claim_window_last_day: claim::claim_window_last_day(on, window),
                    warranty_claim_last_day: policy
                        .fees
                        .warranty
                        .as_ref()
                        .filter(|_| warranty)
                        .map(|w| claim::warranty_claim_last_day(taken_on, on, w.claim_days)),
                    policy: policy.version(),
                }
            }
            TrackingStatus::CustomsHold => ShipmentEvent::CustomsHeld { held_on: on, note },
            TrackingStatus::ReturnedToOrigin => ShipmentEvent::ReturnedToOrigin {
                returned_on: on,
                note,
            },
            TrackingStatus::Lost => ShipmentEvent::Lost {
                lost_on: on,
                claim_window_last_day: claim::claim_window_last_day(on, window),
                note,
                policy: policy.version(),
            },
        };
        Ok(vec![event])
    }

    // ------------------------------------------------------------------ claims

    fn claim_of(&self, claim_id: &ClaimId) -> Result<&Claim, ShipmentError> {
        self.claims
            .get(claim_id)
            .ok_or_else(|| ShipmentError::ClaimNotFound {
                claim_id: claim_id.clone(),
            })
    }

    /// The claim, refused when it is no longer open (CLM-4: only open claims change).
    fn open_claim(&self, claim_id: &ClaimId) -> Result<&Claim, ShipmentError> {
        let claim = self.claim_of(claim_id)?;
        if claim.status.is_open() {
            Ok(claim)
        } else {
            Err(ShipmentError::ClaimClosed {
                claim_id: claim_id.clone(),
                status: claim.status,
            })
        }
    }

    /// The claim, which must be open with its evidence complete and no exchange under way.
    fn claim_under_review(
        &self,
        claim_id: &ClaimId,
        command: &'static str,
    ) -> Result<&Claim, ShipmentError> {
        let claim = self.open_claim(claim_id)?;
        match claim.status {
            ClaimStatus::Open => Ok(claim),
            ClaimStatus::AwaitingEvidence => Err(ShipmentError::AwaitingEvidence {
                claim_id: claim_id.clone(),
            }),
            status => Err(ShipmentError::ClaimInvalidState {
                command,
                claim_id: claim_id.clone(),
                status,
            }),
        }
    }

    /// The price, domestic shipping share, category and plan of the units a claim names.
    fn item_price(&self, item: &ClaimedItem) -> Result<ClaimedValue, ShipmentError> {
        let invalid = |reason: String| ShipmentError::InvalidItem { reason };
        let parcel = self
            .parcels
            .iter()
            .find(|p| p.parcel_id == item.parcel_id)
            .ok_or_else(|| invalid(format!("parcel {} is not in it", item.parcel_id)))?;
        let declared = usize::try_from(item.line)
            .ok()
            .and_then(|line| parcel.items.get(line))
            .ok_or_else(|| {
                invalid(format!(
                    "parcel {} has no line {}",
                    item.parcel_id, item.line
                ))
            })?;
        if item.quantity == 0 || item.quantity > declared.quantity {
            return Err(invalid(format!(
                "quantity {} is not within 1..={}",
                item.quantity, declared.quantity
            )));
        }
        // The line's domestic shipping, shared by the units claimed (never rounded up).
        let domestic_shipping = declared.domestic_shipping.map(|shipping| {
            shipping
                .times(Decimal::from(item.quantity) / Decimal::from(declared.quantity))
                .rounded(Rounding::Down)
        });
        Ok(ClaimedValue {
            item_price: declared.unit_price.times(Decimal::from(item.quantity)),
            domestic_shipping,
            category: declared.category,
            order_service: declared.order_service.clone(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn file_claim(
        &self,
        claim_id: ClaimId,
        claim_type: ClaimType,
        evidence: Evidence,
        item: Option<ClaimedItem>,
        under_warranty: bool,
        at: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        use ShipmentStatus as S;
        let today = policy.local_date(at);
        if self.claims.contains_key(&claim_id) {
            return Err(ShipmentError::DuplicateClaim { claim_id });
        }
        match self.status {
            S::Delivered => {}
            S::Shipped | S::CustomsHold | S::Lost if claim_type == ClaimType::Loss => {}
            S::Shipped | S::CustomsHold | S::Lost => {
                return Err(ShipmentError::ClaimNeedsDelivery { claim_type })
            }
            status => return Err(ShipmentError::ClaimNotShipped { status }),
        }
        // CLM-2: the window runs from delivery or the lost status date, as recorded then.
        if let (Some(basis_date), Some(last_day)) =
            (self.claim_window_basis, self.claim_window_last_day)
        {
            if today > last_day {
                return Err(ShipmentError::ClaimWindowClosed {
                    basis_date,
                    last_day,
                });
            }
        }
        if under_warranty {
            if !self.terms("file_claim")?.warranty {
                return Err(ShipmentError::NoWarranty);
            }
            let (Some(taken_on), Some(last_day)) = (self.paid_on, self.warranty_claim_last_day)
            else {
                return Err(ShipmentError::ClaimNeedsDelivery { claim_type });
            };
            if today > last_day {
                return Err(ShipmentError::WarrantyWindowClosed { taken_on, last_day });
            }
        }
        match &item {
            Some(item) => {
                self.item_price(item)?;
            }
            None if claim_type.names_an_item() => {
                return Err(ShipmentError::ItemRequired { claim_type })
            }
            None => {}
        }
        let missing = claim::missing_evidence(claim_type, &evidence, &policy.claims);
        let status = if missing.is_empty() {
            ClaimStatus::Open
        } else {
            ClaimStatus::AwaitingEvidence
        };
        let clock = claim::response_clock(claim_type, &policy.claims);
        Ok(vec![ShipmentEvent::Claimed {
            claim_id,
            member_id: self.owner("file_claim")?.clone(),
            claim_type,
            item,
            evidence,
            under_warranty,
            status,
            missing_evidence: missing,
            filed_at: at,
            response_clock: clock,
            response_due: claim::claim_response_due(policy, clock, at)?,
            policy: policy.version(),
        }])
    }

    fn add_claim_evidence(
        &self,
        claim_id: ClaimId,
        evidence: Evidence,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let claim = self.open_claim(&claim_id)?;
        if evidence.is_empty() {
            return Err(ShipmentError::EmptyEvidence);
        }
        let missing = claim::missing_evidence(
            claim.claim_type,
            &claim.evidence.merged(&evidence),
            &policy.claims,
        );
        let status = match claim.status {
            ClaimStatus::AwaitingEvidence if missing.is_empty() => ClaimStatus::Open,
            status => status,
        };
        Ok(vec![ShipmentEvent::ClaimEvidenceAdded {
            claim_id,
            evidence,
            missing_evidence: missing,
            status,
        }])
    }

    fn escalate_claim(
        &self,
        claim_id: ClaimId,
        at: DateTime<Utc>,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let claim = self.open_claim(&claim_id)?;
        if claim.responded {
            return Err(ShipmentError::AlreadyResponded { claim_id });
        }
        if claim.escalated {
            return Err(ShipmentError::AlreadyEscalated { claim_id });
        }
        if at < claim.response_due {
            return Err(ShipmentError::ResponseNotOverdue {
                claim_id,
                response_due: claim.response_due,
            });
        }
        Ok(vec![ShipmentEvent::ClaimEscalated {
            claim_id,
            response_due: claim.response_due,
            escalated_at: at,
        }])
    }

    fn reject_claim(
        &self,
        claim_id: ClaimId,
        reason: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let claim = self.open_claim(&claim_id)?;
        if claim.status == ClaimStatus::ExchangeAccepted {
            return Err(ShipmentError::ClaimInvalidState {
                command: "reject_claim",
                claim_id,
                status: claim.status,
            });
        }
        if reason.trim().is_empty() {
            return Err(ShipmentError::ReasonRequired);
        }
        Ok(vec![ShipmentEvent::ClaimRejected {
            claim_id,
            reason,
            rejected_at: at,
        }])
    }

    fn approve_claim(
        &self,
        claim_id: ClaimId,
        payout: Money,
        at: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        let claim = self.claim_under_review(&claim_id, "approve_claim")?;
        if !payout.is_positive() {
            return Err(ShipmentError::InvalidPayout { payout });
        }
        if payout.currency != policy.billing_currency {
            return Err(ShipmentError::CurrencyMismatch {
                expected: policy.billing_currency,
                found: payout.currency,
            });
        }
        if claim.claim_type == ClaimType::Damage {
            let longest_side_mm = self
                .packing
                .as_ref()
                .map_or(0, |p| p.dimensions.longest_side_mm());
            let limit_mm = policy.claims.no_damage_compensation_side_mm;
            if longest_side_mm > limit_mm {
                return Err(ShipmentError::NoDamageCompensation {
                    longest_side_mm,
                    limit_mm,
                });
            }
        }
        let terms = self.terms("approve_claim")?;
        // CLM-5 (seed 001): carrier damage is compensated only with the packing it names.
        if claim.claim_type == ClaimType::Damage {
            let missing = claim::missing_packing(&policy.claims, &terms.options);
            if !missing.is_empty() {
                return Err(ShipmentError::PackingNotCompensated {
                    missing,
                    chosen: terms.options.clone(),
                });
            }
        }
        let item = claim
            .item
            .as_ref()
            .map(|i| self.item_price(i))
            .transpose()?;
        // CLM-5 (seed 001): a defect the inspection missed is compensated only on some plans;
        // the warranty add-on (FEE-2, CLM-6) covers its own claims.
        if let (ClaimType::Defect, false, Some(value), Some(plans)) = (
            claim.claim_type,
            claim.under_warranty,
            item.as_ref(),
            policy.claims.missed_defect_plans.as_ref(),
        ) {
            if !claim::plan_compensated(&policy.claims, value.order_service.as_deref()) {
                return Err(ShipmentError::PlanNotCompensated {
                    order_service: value.order_service.clone(),
                    plans: plans.clone(),
                });
            }
        }
        let insured = terms.insured;
        let (cap, basis) = claim::payout_cap(
            claim.claim_type,
            item.as_ref(),
            insured,
            &policy.claims,
            policy.billing_currency,
        )?
        .ok_or(ShipmentError::ItemRequired {
            claim_type: claim.claim_type,
        })?;
        if payout.checked_sub(cap)?.is_positive() {
            return Err(ShipmentError::PayoutOverCap { payout, cap });
        }
        Ok(vec![ShipmentEvent::ClaimApproved {
            claim_id,
            member_id: self.owner("approve_claim")?.clone(),
            payout,
            cap,
            basis,
            approved_at: at,
            policy: policy.version(),
        }])
    }

    fn accept_exchange(
        &self,
        claim_id: ClaimId,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        if !self.claim_of(&claim_id)?.under_warranty {
            return Err(ShipmentError::NotUnderWarranty { claim_id });
        }
        self.claim_under_review(&claim_id, "accept_exchange")?;
        let warranty = policy
            .fees
            .warranty
            .as_ref()
            .ok_or(ShipmentError::NoWarranty)?;
        let used = self
            .claims
            .values()
            .filter(|c| {
                matches!(
                    c.status,
                    ClaimStatus::ExchangeAccepted | ClaimStatus::Exchanged
                )
            })
            .count();
        let used = u32::try_from(used).unwrap_or(u32::MAX);
        if used >= warranty.max_exchanges {
            return Err(ShipmentError::ExchangeLimit {
                max: warranty.max_exchanges,
            });
        }
        Ok(vec![ShipmentEvent::ClaimExchangeAccepted {
            claim_id,
            accepted_on: today,
            return_by: crate::calendar::add_days(today, warranty.exchange_return_days),
            exchange_number: used + 1,
            policy: policy.version(),
        }])
    }

    /// The return deadline of a claim whose exchange is under way (CLM-6).
    fn exchange_return_by(
        &self,
        claim_id: &ClaimId,
        command: &'static str,
    ) -> Result<NaiveDate, ShipmentError> {
        let claim = self.open_claim(claim_id)?;
        match (claim.status, claim.exchange_return_by) {
            (ClaimStatus::ExchangeAccepted, Some(return_by)) => Ok(return_by),
            (status, _) => Err(ShipmentError::ClaimInvalidState {
                command,
                claim_id: claim_id.clone(),
                status,
            }),
        }
    }
}

/// CON-1, CON-2, MEM-2, MEM-4: a consolidation request.
fn consolidate(
    shipment_id: ShipmentId,
    member: &MemberStanding,
    parcels: Vec<ParcelFacts>,
    today: NaiveDate,
    policy: &Policy,
) -> Result<Vec<ShipmentEvent>, ShipmentError> {
    ensure_may_act(member)?;
    let rules = &policy.consolidation;
    if parcels.len() < usize::try_from(rules.min_parcels).unwrap_or(usize::MAX) {
        return Err(ShipmentError::TooFewParcels {
            min: rules.min_parcels,
            given: parcels.len(),
        });
    }
    for (i, parcel) in parcels.iter().enumerate() {
        let parcel_id = parcel.parcel_id.clone();
        if parcels[..i].iter().any(|p| p.parcel_id == parcel.parcel_id) {
            return Err(ShipmentError::DuplicateParcel { parcel_id });
        }
        if parcel.member_id != member.member_id {
            return Err(ShipmentError::ForeignParcel { parcel_id });
        }
        if parcel.auto_pack {
            return Err(ShipmentError::AutoPackParcel { parcel_id });
        }
    }
    let total_weight_g: u64 = parcels.iter().map(|p| u64::from(p.weight.grams())).sum();
    if let Some(limit_g) = rules.max_total_weight_g {
        if total_weight_g >= u64::from(limit_g) {
            return Err(ShipmentError::WeightLimit {
                total_g: total_weight_g,
                limit_g,
            });
        }
    }
    let declared_value = pricing::declared_value(&parcels, declared_currency(policy))?;
    if let Some(limit) = rules.max_declared_value {
        if !declared_value.checked_sub(limit)?.is_negative() {
            return Err(ShipmentError::ValueLimit {
                total: declared_value,
                limit,
            });
        }
    }
    let earliest_received_on = parcels.iter().map(|p| p.received_on).min().unwrap_or(today);
    Ok(vec![ShipmentEvent::Consolidated {
        shipment_id,
        member_id: member.member_id.clone(),
        parcels,
        total_weight_g,
        declared_value,
        earliest_received_on,
        requested_on: today,
        policy: policy.version(),
    }])
}

/// Declared values are summed in the currency of the CON-2 limit where there is one, else in
/// the billing currency.
fn declared_currency(policy: &Policy) -> Currency {
    policy
        .consolidation
        .max_declared_value
        .map_or(policy.billing_currency, |m| m.currency)
}

/// MEM-2, MEM-4: a single-parcel packing request.
fn request_packing(
    shipment_id: ShipmentId,
    member: &MemberStanding,
    parcel: ParcelFacts,
    today: NaiveDate,
) -> Result<Vec<ShipmentEvent>, ShipmentError> {
    ensure_may_act(member)?;
    if parcel.member_id != member.member_id {
        return Err(ShipmentError::ForeignParcel {
            parcel_id: parcel.parcel_id,
        });
    }
    Ok(vec![ShipmentEvent::PackingRequested {
        shipment_id,
        member_id: member.member_id.clone(),
        parcel,
        requested_on: today,
    }])
}

/// CON-4: the packed shipment, split into pieces for the carrier it was packed for, under
/// its general limit: the destination is known at the quote, which splits it again for it.
fn pack(
    carrier: &str,
    weight: Weight,
    dimensions: Dimensions,
    today: NaiveDate,
    policy: &Policy,
) -> Result<Vec<ShipmentEvent>, ShipmentError> {
    let found = policy
        .carrier(carrier)
        .ok_or_else(|| ShipmentError::UnknownCarrier {
            carrier: carrier.to_owned(),
        })?;
    Ok(vec![ShipmentEvent::Packed {
        carrier: found.code.clone(),
        weight,
        dimensions,
        pieces: pricing::plan_pieces(
            weight,
            dimensions,
            found,
            None,
            policy.tariff.volumetric_divisor,
        ),
        max_piece_weight_g: found.max_piece_weight_g,
        packed_on: today,
        policy: policy.version(),
    }])
}

//! # Parcel: one box received at the warehouse
//!
//! Owns a box from the moment it is expected or at the door until it leaves the box
//! lifecycle: packed into a shipment (the Shipment aggregate takes over and decides), disposed
//! of, returned, refused or cancelled. Once packed, the parcel follows its shipment: it records
//! what the shipment's events tell it (paid, shipped, tracked, claimed, a claim settled), so its
//! own stream tells its whole life (`ParcelCommand::FollowShipment`).
//!
//! ```text
//! Expected ──> Received ──> Inspected ──> Stored ──> PackingRequested ──> Packed(S)
//!    │  (or Unidentified ─attach─┘)           └──> Reserved(S) ─────────────┘  │
//!    └> Cancelled             Released back to Stored  <── shipment cancelled ─┘
//! exits: Refused (door), Quarantined → Disposed | Returned,
//!        Held(S) → Disposed (past STO-2) | back to Reserved(S)/Packed(S) when S is paid
//! then, following its shipment S: Packed(S) ──> Paid(S) ──> Shipped(S) ──> Delivered(S) | Lost(S)
//!        (claims on S concerning the parcel are recorded too: claimed, claim_settled)
//! ```
//!
//! Rules enforced here: intake PAR-1 (unidentified parcels are queued, never dropped),
//! PAR-2 (payment on delivery refused, except proxy payment at approved shops: amount + 10 %,
//! cancelled after 45 days), PAR-3 (measurements, same-business-day notice), PAR-4 (confirmed
//! declaration before packing), TIM-2 (receiving business day); inspection INS-1 to INS-4;
//! storage STO-1 to STO-4 (see [`storage`]); the parcel side of CON-3 (one open shipment per
//! parcel), CON-5 (released to storage), MEM-6 (Auto Pack), PAY-2 (held for non-payment, released
//! by payment, disposed of only past the STO-2 limit) and DSP-1 (disposal only for a recorded cause, with its fee).

mod command;
mod error;
mod event;
pub mod inspection;
pub mod intake;
pub mod storage;

pub use command::{
    Arrival, CollectKind, CollectOnDelivery, DeclarationSource, DisposalCause, Finding,
    FindingKind, InspectionReport, ParcelCommand, ShipmentFact, ShipmentHeld, VariationCount,
};
pub use error::ParcelError;
pub use event::{
    ClaimSettlement, DisposedBecause, DoorRefusal, HeldFrom, InspectedVariation, InspectionRecord,
    LargeItem, OversizeDefect, ParcelEvent, ReturnedFrom,
};
pub use storage::{storage_status, StorageStatus, StoredBox};

use crate::facts::{DeclaredItem, MemberStanding, ParcelFacts, StandingStatus};
use crate::ids::{ClaimId, MemberId, ParcelId, ShipmentId};
use crate::measure::{Dimensions, Weight};
use crate::money::{Money, Rounding};
use crate::policy::{InspectionLevel, Policy, PolicyVersion, StorageLimit};
use crate::rules::Rule;
use crate::Issued;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Where a parcel is in its lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParcelStatus {
    /// No event yet: the warehouse knows nothing of this box.
    #[default]
    Unknown,
    /// A proxy-paid purchase is on its way (PAR-2).
    Expected,
    /// The proxy-paid purchase did not arrive in time (PAR-2). Final, unless it arrives after all.
    Cancelled,
    /// Refused at the door (PAR-2). Final.
    Refused,
    /// Received without a known member, waiting in the queue (PAR-1).
    Unidentified,
    /// Received, weighed and measured (PAR-3).
    Received,
    /// Inspected (INS-1).
    Inspected,
    /// On a shelf (STO-*).
    Stored,
    /// To be packed on its own (PAR-4, MEM-6).
    PackingRequested,
    /// Taken into shipment S's consolidation (CON-3).
    Reserved {
        /// The shipment.
        shipment_id: ShipmentId,
    },
    /// Packed into shipment S: the shipment carries it on.
    Packed {
        /// The shipment.
        shipment_id: ShipmentId,
    },
    /// Its shipment S is held for non-payment (PAY-2).
    Held {
        /// The shipment.
        shipment_id: ShipmentId,
    },
    /// A prohibited item was found: only disposal or return remain (INS-4).
    Quarantined,
    /// Disposed of (DSP-1). Final.
    Disposed,
    /// Returned to the sender. Final.
    Returned,
    /// Its shipment S is paid: waiting to leave, off the storage clock (PAY-1, STO-1).
    Paid {
        /// The shipment.
        shipment_id: ShipmentId,
    },
    /// Its shipment S was handed to the carrier (SHP-1); held by customs too (SHP-2).
    Shipped {
        /// The shipment.
        shipment_id: ShipmentId,
    },
    /// Its shipment S was delivered at destination (SHP-2).
    Delivered {
        /// The shipment.
        shipment_id: ShipmentId,
    },
    /// Its shipment S was declared lost (SHP-2).
    Lost {
        /// The shipment.
        shipment_id: ShipmentId,
    },
}

impl ParcelStatus {
    /// The state's name, as in refusals and views.
    pub fn name(&self) -> &'static str {
        match self {
            ParcelStatus::Unknown => "unknown",
            ParcelStatus::Expected => "expected",
            ParcelStatus::Cancelled => "cancelled",
            ParcelStatus::Refused => "refused",
            ParcelStatus::Unidentified => "unidentified",
            ParcelStatus::Received => "received",
            ParcelStatus::Inspected => "inspected",
            ParcelStatus::Stored => "stored",
            ParcelStatus::PackingRequested => "packing_requested",
            ParcelStatus::Reserved { .. } => "reserved",
            ParcelStatus::Packed { .. } => "packed",
            ParcelStatus::Held { .. } => "held",
            ParcelStatus::Quarantined => "quarantined",
            ParcelStatus::Disposed => "disposed",
            ParcelStatus::Returned => "returned",
            ParcelStatus::Paid { .. } => "paid",
            ParcelStatus::Shipped { .. } => "shipped",
            ParcelStatus::Delivered { .. } => "delivered",
            ParcelStatus::Lost { .. } => "lost",
        }
    }

    /// The shipment the parcel belongs to while it is in the warehouse, if any (CON-3).
    pub fn shipment_id(&self) -> Option<&ShipmentId> {
        match self {
            ParcelStatus::Reserved { shipment_id }
            | ParcelStatus::Packed { shipment_id }
            | ParcelStatus::Held { shipment_id }
            | ParcelStatus::Paid { shipment_id } => Some(shipment_id),
            _ => None,
        }
    }

    /// The shipment the parcel travels or travelled in, in the warehouse or after it left.
    pub fn travels_in(&self) -> Option<&ShipmentId> {
        match self {
            ParcelStatus::Shipped { shipment_id }
            | ParcelStatus::Delivered { shipment_id }
            | ParcelStatus::Lost { shipment_id } => Some(shipment_id),
            status => status.shipment_id(),
        }
    }

    /// Waiting in storage, not yet in a shipment: the storage clock's rules apply (STO-*).
    pub fn in_storage(&self) -> bool {
        matches!(
            self,
            ParcelStatus::Unidentified
                | ParcelStatus::Received
                | ParcelStatus::Inspected
                | ParcelStatus::Stored
                | ParcelStatus::PackingRequested
        )
    }

    /// On the storage clock (STO-1, STO-2): waiting in storage, or taken into a shipment not
    /// paid for (reserved, packed, held), so a shipment stuck unpaid still reaches its limit.
    pub fn on_storage_clock(&self) -> bool {
        self.in_storage()
            || matches!(
                self,
                ParcelStatus::Reserved { .. }
                    | ParcelStatus::Packed { .. }
                    | ParcelStatus::Held { .. }
            )
    }

    /// Physically in the warehouse, whatever its state (DSP-1).
    pub fn on_premises(&self) -> bool {
        self.in_storage()
            || self.shipment_id().is_some()
            || matches!(self, ParcelStatus::Quarantined)
    }
}

/// The box as measured at receipt (PAR-3, TIM-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The receiving business day: the storage clock starts here.
    pub received_on: NaiveDate,
    /// Measured weight.
    pub weight: Weight,
    /// Measured dimensions.
    pub dimensions: Dimensions,
}

/// A request to pack the parcel on its own (PAR-4, MEM-6, CON-5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PackingRequest {
    /// Its shipment, when recorded (version 2 of `parcel.packing_requested`, not Auto Pack).
    shipment_id: Option<ShipmentId>,
    /// Made by Auto Pack on arrival (MEM-6).
    auto_pack: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Expectation {
    member_id: MemberId,
    shop: String,
    purchased_on: NaiveDate,
    cancellable_from: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Declaration {
    items: Vec<DeclaredItem>,
    confirmed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Disposable {
    last_free_day: NaiveDate,
    disposable_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Extension {
    anchor: NaiveDate,
    max_storage: StorageLimit,
    units: u64,
    fee_per_unit_month: Money,
    policy: PolicyVersion,
}

/// The Parcel aggregate: a box in the warehouse. `Default` is the state before any event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Parcel {
    status: ParcelStatus,
    parcel_id: Option<ParcelId>,
    member_id: Option<MemberId>,
    expectation: Option<Expectation>,
    receipt: Option<Receipt>,
    /// The shop it came from, if known: told in the arrival notice (PAR-3).
    #[serde(default)]
    shop: Option<String>,
    /// The last request to pack it on its own (CON-5: what its cancellation releases).
    #[serde(default)]
    packing_request: Option<PackingRequest>,
    auto_pack: bool,
    /// The state its shipment's hold took it from, while held (PAY-2: where paying returns it).
    #[serde(default)]
    held_from: Option<HeldFrom>,
    /// Claims on its shipment concerning it, and whether each is settled.
    #[serde(default)]
    claims: Vec<(ClaimId, bool)>,
    /// The shipment it came back to the warehouse in, while back (SHP-2).
    #[serde(default)]
    returned_in: Option<ShipmentId>,
    declaration: Option<Declaration>,
    inspected_units: Option<u32>,
    prohibited: Vec<String>,
    disposable: Option<Disposable>,
    extension: Option<Extension>,
    fee_months_accrued: u32,
    notices_sent: Vec<(NaiveDate, u32)>,
}

impl Parcel {
    /// Where the parcel is in its lifecycle.
    pub fn status(&self) -> &ParcelStatus {
        &self.status
    }

    /// Its owner, once known (PAR-1).
    pub fn member_id(&self) -> Option<&MemberId> {
        self.member_id.as_ref()
    }

    /// Its receipt, once received (PAR-3).
    pub fn receipt(&self) -> Option<&Receipt> {
        self.receipt.as_ref()
    }

    /// True when it arrived under Auto Pack and is never consolidated (MEM-6).
    pub fn auto_pack(&self) -> bool {
        self.auto_pack
    }

    /// What the storage clock needs (STO-4), once received.
    pub fn stored_box(&self) -> Option<StoredBox> {
        self.receipt.map(|r| StoredBox {
            received_on: r.received_on,
            dimensions: r.dimensions,
            extended_storage: self.extension.is_some(),
            in_shipment: self.status.shipment_id().is_some(),
        })
    }

    /// The facts a shipment needs when packed from this parcel (CON-1, CON-2, FEE-2): only
    /// once received, owned and with a confirmed declaration (PAR-4).
    pub fn facts(&self) -> Option<ParcelFacts> {
        let receipt = self.receipt?;
        let declaration = self.declaration.as_ref().filter(|d| d.confirmed)?;
        Some(ParcelFacts {
            parcel_id: self.parcel_id.clone()?,
            member_id: self.member_id.clone()?,
            weight: receipt.weight,
            dimensions: receipt.dimensions,
            items: declaration.items.clone(),
            received_on: receipt.received_on,
            auto_pack: self.auto_pack,
        })
    }

    /// Decides what a command does: the events to record, or why it is refused.
    pub fn decide(
        &self,
        cmd: Issued<ParcelCommand>,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        use ParcelCommand as C;
        use ParcelStatus as S;
        let today = policy.local_date(cmd.at);
        match (&self.status, cmd.command) {
            (
                S::Unknown,
                C::Expect {
                    parcel_id,
                    member_id,
                    shop,
                    purchased_on,
                },
            ) => expect(parcel_id, member_id, shop, purchased_on, policy),
            (S::Expected, C::CancelExpected) => self.cancel_expected(today, policy),
            (S::Unknown | S::Expected | S::Cancelled, C::Arrive(arrival)) => {
                self.arrive(arrival, today, policy)
            }
            (S::Unidentified, C::AttachToMember { member }) => self.attach(member, today, policy),
            (s, C::Dispose { cause }) if s.on_premises() => self.dispose(cause, policy),
            (S::Unidentified | S::Quarantined, C::Return { note }) => {
                self.return_to_sender(note, today)
            }
            (S::Quarantined, _) => Err(ParcelError::Quarantined),
            (
                S::Received | S::Inspected | S::Stored | S::PackingRequested,
                C::Declare {
                    items,
                    sender,
                    source,
                },
            ) => declare(items, sender, source),
            (
                S::Received | S::Inspected | S::Stored | S::PackingRequested,
                C::ConfirmDeclaration,
            ) => self.confirm_declaration(today),
            (S::Received | S::PackingRequested, C::Inspect(report))
                if self.inspected_units.is_none() =>
            {
                self.inspect(report, today, policy)
            }
            (
                S::Inspected,
                C::Store {
                    location,
                    earliest_waiting_arrival,
                },
            ) => self.store(location, earliest_waiting_arrival, today, policy),
            (
                S::Stored,
                C::RequestPacking {
                    member,
                    shipment_id,
                },
            ) => self.request_packing(member, shipment_id),
            (S::PackingRequested, C::Release { shipment_id }) => {
                self.release_packing_request(shipment_id, today)
            }
            (
                _,
                C::ReserveForConsolidation {
                    shipment_id,
                    member,
                },
            ) => self.reserve(shipment_id, member),
            (S::PackingRequested | S::Reserved { .. }, C::Pack { shipment_id }) => {
                self.pack(shipment_id, today)
            }
            (
                S::Reserved { .. } | S::Packed { .. } | S::Held { .. },
                C::Release { shipment_id },
            ) => self.release(shipment_id, today),
            (S::Held { .. }, C::ReleaseHold { shipment_id }) => {
                self.release_hold(shipment_id, today)
            }
            (S::Reserved { .. } | S::Packed { .. }, C::HoldForNonPayment { shipment }) => {
                self.hold(shipment, today)
            }
            (
                s,
                C::SendStorageNotice {
                    earliest_waiting_arrival,
                },
            ) if s.on_storage_clock() => {
                self.send_storage_notice(earliest_waiting_arrival, today, policy)
            }
            (
                s,
                C::MarkDisposable {
                    earliest_waiting_arrival,
                },
            ) if s.on_storage_clock() => {
                self.mark_disposable(earliest_waiting_arrival, today, policy)
            }
            (
                s,
                C::ExtendStorage {
                    earliest_waiting_arrival,
                },
            ) if s.in_storage() => self.extend_storage(earliest_waiting_arrival, today, policy),
            (s, C::AccrueStorageFee) if s.in_storage() || matches!(s, S::Reserved { .. }) => {
                self.accrue_storage_fee(today)
            }
            (s, C::FollowShipment { shipment_id, fact }) if s.travels_in().is_some() => {
                self.follow_shipment(shipment_id, fact, today)
            }
            (S::Unknown, _) => Err(ParcelError::NotFound),
            (status, command) => Err(ParcelError::InvalidState {
                command: command.name(),
                status: status.name(),
            }),
        }
    }

    /// Applies an event. Cannot fail and decides nothing.
    pub fn evolve(&mut self, event: ParcelEvent) {
        use ParcelEvent as E;
        match event {
            E::Expected {
                parcel_id,
                member_id,
                shop,
                purchased_on,
                cancellable_from,
                ..
            } => {
                self.status = ParcelStatus::Expected;
                self.parcel_id = Some(parcel_id);
                self.member_id = Some(member_id.clone());
                self.expectation = Some(Expectation {
                    member_id,
                    shop,
                    purchased_on,
                    cancellable_from,
                });
            }
            E::Cancelled { .. } => self.status = ParcelStatus::Cancelled,
            E::Refused {
                parcel_id,
                member_id,
                ..
            } => {
                self.status = ParcelStatus::Refused;
                self.parcel_id = Some(parcel_id);
                self.member_id = member_id;
            }
            E::Arrived {
                parcel_id,
                member_id,
                received_on,
                weight,
                dimensions,
                shop,
                auto_pack,
                ..
            } => {
                self.shop = shop;
                self.status = match member_id {
                    Some(_) => ParcelStatus::Received,
                    None => ParcelStatus::Unidentified,
                };
                self.parcel_id = Some(parcel_id);
                self.member_id = member_id;
                self.receipt = Some(Receipt {
                    received_on,
                    weight,
                    dimensions,
                });
                self.auto_pack = auto_pack;
            }
            E::ProxyPaymentCharged { .. } => {}
            E::ArrivalNoticeSent { .. } => {}
            E::AttachedToMember {
                member_id,
                auto_pack,
                ..
            } => {
                self.status = ParcelStatus::Received;
                self.member_id = Some(member_id);
                self.auto_pack = auto_pack;
            }
            E::ContentsDeclared { items, .. } => {
                self.declaration = Some(Declaration {
                    items,
                    confirmed: false,
                });
            }
            E::DeclarationConfirmed { .. } => {
                if let Some(declaration) = &mut self.declaration {
                    declaration.confirmed = true;
                }
            }
            E::Inspected(record) => {
                self.inspected_units = Some(record.variations.iter().map(|v| v.units).sum());
                if self.status == ParcelStatus::Received {
                    self.status = ParcelStatus::Inspected;
                }
            }
            E::Quarantined { categories, .. } => {
                self.status = ParcelStatus::Quarantined;
                self.prohibited = categories;
            }
            E::Stored { .. } | E::Released { .. } => self.status = ParcelStatus::Stored,
            E::PackingRequested {
                auto_pack,
                shipment_id,
                ..
            } => {
                self.status = ParcelStatus::PackingRequested;
                self.packing_request = Some(PackingRequest {
                    shipment_id,
                    auto_pack,
                });
            }
            E::Consolidated { shipment_id, .. } => {
                self.status = ParcelStatus::Reserved { shipment_id };
            }
            E::Packed { shipment_id, .. } => self.status = ParcelStatus::Packed { shipment_id },
            E::Held { shipment_id, .. } => {
                self.held_from = match self.status {
                    ParcelStatus::Reserved { .. } => Some(HeldFrom::Reserved),
                    _ => Some(HeldFrom::Packed),
                };
                self.status = ParcelStatus::Held { shipment_id };
            }
            E::HoldReleased {
                shipment_id,
                restored,
                ..
            } => {
                self.held_from = None;
                self.status = match restored {
                    HeldFrom::Reserved => ParcelStatus::Reserved { shipment_id },
                    HeldFrom::Packed => ParcelStatus::Packed { shipment_id },
                };
            }
            E::StorageNoticeSent {
                last_free_day,
                days_before,
                ..
            } => {
                self.notices_sent.push((last_free_day, days_before));
            }
            E::MarkedDisposable {
                last_free_day,
                disposable_on,
                ..
            } => {
                self.disposable = Some(Disposable {
                    last_free_day,
                    disposable_on,
                });
            }
            E::StorageExtended {
                anchor,
                max_storage,
                units,
                fee_per_unit_month,
                policy,
                ..
            } => {
                self.extension = Some(Extension {
                    anchor,
                    max_storage,
                    units,
                    fee_per_unit_month,
                    policy,
                });
            }
            E::StorageFeeAccrued { month, .. } => self.fee_months_accrued = month,
            E::Disposed { .. } => self.status = ParcelStatus::Disposed,
            E::Returned { .. } => self.status = ParcelStatus::Returned,
            E::Paid { shipment_id, .. } => {
                self.returned_in = None;
                self.status = ParcelStatus::Paid { shipment_id }
            }
            E::Shipped { shipment_id, .. } | E::CustomsHeld { shipment_id, .. } => {
                self.status = ParcelStatus::Shipped { shipment_id }
            }
            E::Delivered { shipment_id, .. } => {
                self.status = ParcelStatus::Delivered { shipment_id }
            }
            E::Lost { shipment_id, .. } => self.status = ParcelStatus::Lost { shipment_id },
            E::ReturnedToWarehouse {
                shipment_id,
                received_on,
            } => {
                // STO-1: back in storage, its clock runs again from the day it came back.
                if let Some(receipt) = &mut self.receipt {
                    receipt.received_on = received_on;
                }
                self.disposable = None;
                self.returned_in = Some(shipment_id.clone());
                self.status = ParcelStatus::Packed { shipment_id };
            }
            E::Claimed { claim_id, .. } => self.claims.push((claim_id, false)),
            E::ClaimSettled { claim_id, .. } => {
                if let Some(claim) = self.claims.iter_mut().find(|(id, _)| *id == claim_id) {
                    claim.1 = true;
                }
            }
        }
    }

    // ---- intake (PAR-1, PAR-2, PAR-3, TIM-2, MEM-6)

    fn cancel_expected(
        &self,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        let expectation = self.expectation.as_ref().ok_or(ParcelError::NotFound)?;
        if today < expectation.cancellable_from {
            return Err(ParcelError::TooEarlyToCancel {
                cancellable_from: expectation.cancellable_from,
            });
        }
        Ok(vec![ParcelEvent::Cancelled {
            member_id: expectation.member_id.clone(),
            purchased_on: expectation.purchased_on,
            cancelled_on: today,
            rule: Rule::Par2,
            policy: policy.version(),
        }])
    }

    fn arrive(
        &self,
        arrival: Arrival,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        let expectation = self.expectation.as_ref();
        let member_id = arrival
            .member
            .as_ref()
            .map(|m| m.member_id.clone())
            .or_else(|| expectation.map(|e| e.member_id.clone()));
        let shop = arrival.shop.or_else(|| expectation.map(|e| e.shop.clone()));
        let mut events = Vec::new();
        let mut proxy_charge = None;
        if let Some(collect) = arrival.collect_on_delivery {
            let proxy = policy.intake.proxy_payment.as_ref();
            let approved = |p: &crate::policy::ProxyPaymentPolicy| {
                shop.as_ref().is_some_and(|s| p.approved_shops.contains(s))
            };
            let refusal = match (proxy, &member_id) {
                _ if self.status == ParcelStatus::Cancelled => {
                    Some(DoorRefusal::ProxyPaymentCancelled)
                }
                (None, _) => Some(DoorRefusal::NoProxyPayment),
                (Some(p), _) if !p.collect_kinds.contains(&collect.kind) => {
                    Some(DoorRefusal::KindNotProxyPaid)
                }
                (Some(p), _) if !approved(p) => Some(DoorRefusal::ShopNotApproved),
                (Some(_), None) => Some(DoorRefusal::MemberUnknown),
                (Some(_), Some(_)) => None,
            };
            if let Some(reason) = refusal {
                return Ok(vec![ParcelEvent::Refused {
                    parcel_id: arrival.parcel_id,
                    suite_code: arrival.suite_code,
                    member_id,
                    shop,
                    collect_on_delivery: collect,
                    delivered_on: today,
                    reason,
                    rule: Rule::Par2,
                    policy: policy.version(),
                }]);
            }
            if let (Some(p), Some(m), Some(s)) = (proxy, &member_id, &shop) {
                let charge = intake::proxy_payment_charge(collect.amount, p);
                proxy_charge = Some(ParcelEvent::ProxyPaymentCharged {
                    member_id: m.clone(),
                    shop: s.clone(),
                    courier_amount: charge.courier_amount,
                    collected: Some(collect.kind),
                    surcharge_percent: p.surcharge_percent,
                    surcharge: charge.surcharge,
                    charge: charge.charge,
                    rule: Rule::Par2,
                    policy: policy.version(),
                });
            }
        }
        let received_on = intake::receiving_day(today, &policy.calendar)?;
        let auto_pack = arrival.member.as_ref().is_some_and(|m| m.auto_pack);
        events.push(ParcelEvent::Arrived {
            parcel_id: arrival.parcel_id,
            suite_code: arrival.suite_code,
            member_id: member_id.clone(),
            delivered_on: today,
            received_on,
            notify_by: member_id.as_ref().map(|_| received_on),
            weight: arrival.weight,
            dimensions: arrival.dimensions,
            shop: shop.clone(),
            auto_pack,
            policy: policy.version(),
        });
        // PAR-3: an identified parcel's member is told the same business day; an unidentified
        // one's when it is attached.
        if let Some(member_id) = member_id {
            let receipt = Receipt {
                received_on,
                weight: arrival.weight,
                dimensions: arrival.dimensions,
            };
            events.push(arrival_notice(
                member_id,
                receipt,
                received_on,
                shop,
                policy,
            ));
        }
        events.extend(proxy_charge);
        events.extend(arrival.member.as_ref().and_then(auto_packing_request));
        Ok(events)
    }

    fn attach(
        &self,
        member: MemberStanding,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        let receipt = self.receipt.ok_or(ParcelError::NotFound)?;
        let notify_by = intake::receiving_day(today, &policy.calendar)?;
        let mut events = vec![
            ParcelEvent::AttachedToMember {
                member_id: member.member_id.clone(),
                attached_on: today,
                notify_by,
                auto_pack: member.auto_pack,
                policy: policy.version(),
            },
            arrival_notice(
                member.member_id.clone(),
                receipt,
                notify_by,
                self.shop.clone(),
                policy,
            ),
        ];
        events.extend(auto_packing_request(&member));
        Ok(events)
    }

    // ---- declaration (PAR-4)

    fn confirm_declaration(&self, today: NaiveDate) -> Result<Vec<ParcelEvent>, ParcelError> {
        match &self.declaration {
            None => Err(ParcelError::NoDeclaration),
            Some(d) if d.confirmed => Ok(vec![]),
            Some(_) => Ok(vec![ParcelEvent::DeclarationConfirmed {
                confirmed_on: today,
            }]),
        }
    }

    fn declaration_confirmed(&self) -> bool {
        self.declaration.as_ref().is_some_and(|d| d.confirmed)
    }

    // ---- inspection (INS-1 to INS-4)

    fn inspect(
        &self,
        report: InspectionReport,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        let rules = &policy.inspection;
        if let Some(index) = report
            .findings
            .iter()
            .position(|f| f.items == 0 || f.evidence.is_empty())
        {
            return Err(ParcelError::FindingIncomplete { index: index + 1 });
        }
        let receipt = self.receipt.ok_or(ParcelError::NotFound)?;
        let level_planned = report.level.unwrap_or(rules.default_level);
        let (level_applied, large_item) =
            inspection::applied_level(level_planned, receipt.weight, receipt.dimensions, rules);
        let variations: Vec<InspectedVariation> = report
            .variations
            .into_iter()
            .map(|v| {
                let (inspected, uninspected) =
                    inspection::split_units(v.units, level_applied, rules.max_units_per_variation);
                InspectedVariation {
                    variation: v.variation,
                    units: v.units,
                    inspected,
                    uninspected,
                }
            })
            .collect();
        // INS-3: only defects are charged; a discrepancy or a short quantity is a finding,
        // not a defective item.
        let defect_items: u32 = report
            .findings
            .iter()
            .filter(|f| rules.defect_kinds.contains(&f.kind))
            .map(|f| f.items)
            .sum();
        let oversize = match &rules.oversize_defect {
            Some(large) if defect_items > 0 => {
                inspection::oversize_defect(receipt.dimensions, report.oversize_cost, large)?
            }
            _ => None,
        };
        let defect_fee = match oversize {
            Some(large) => Some(inspection::oversize_fee(large)),
            None => rules
                .defect_fee_per_item
                .filter(|_| defect_items > 0)
                .map(|fee| {
                    fee.times(Decimal::from(defect_items))
                        .rounded(Rounding::HalfUp)
                }),
        };
        let inspected_units: u32 = variations.iter().map(|v| v.inspected).sum();
        let detailed_inspection_fee = (level_applied == InspectionLevel::Detailed).then(|| {
            rules
                .detailed_fee_per_item
                .times(Decimal::from(inspected_units))
                .rounded(Rounding::HalfUp)
        });
        let mut events = vec![ParcelEvent::Inspected(InspectionRecord {
            inspected_on: today,
            level_planned,
            level_applied,
            large_item,
            variations,
            max_units_per_variation: rules.max_units_per_variation,
            findings: report.findings,
            defect_items,
            defect_fee,
            oversize,
            detailed_inspection_fee,
            policy: policy.version(),
        })];
        let mut categories: Vec<String> = report
            .observed_categories
            .into_iter()
            .filter(|c| rules.prohibited_categories.contains(c))
            .collect();
        categories.sort();
        categories.dedup();
        if !categories.is_empty() {
            events.push(ParcelEvent::Quarantined {
                member_id: self.member_id.clone(),
                categories,
                member_may_be_suspended: self.member_id.is_some(),
                rule: Rule::Ins4,
                policy: policy.version(),
            });
        }
        Ok(events)
    }

    // ---- packing and consolidation (PAR-4, CON-3, CON-5, MEM-6, PAY-2)

    fn request_packing(
        &self,
        member: MemberStanding,
        shipment_id: ShipmentId,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        self.check_requester(&member)?;
        Ok(vec![ParcelEvent::PackingRequested {
            member_id: member.member_id,
            auto_pack: false,
            shipment_id: Some(shipment_id),
        }])
    }

    /// CON-5: the single-parcel shipment requested for this parcel was cancelled before it
    /// was packed: the parcel goes back to storage. A request recorded without its shipment
    /// (version 1) is released by the shipment that lists it; an Auto Pack request was made
    /// before inspection and has no stored state to go back to.
    fn release_packing_request(
        &self,
        shipment_id: ShipmentId,
        today: NaiveDate,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        match &self.packing_request {
            Some(request) if request.auto_pack => Err(ParcelError::InvalidState {
                command: "release",
                status: self.status.name(),
            }),
            Some(PackingRequest {
                shipment_id: Some(actual),
                ..
            }) if *actual != shipment_id => Err(ParcelError::OtherShipment {
                actual: actual.clone(),
                named: shipment_id,
            }),
            _ => Ok(vec![ParcelEvent::Released {
                shipment_id,
                released_on: today,
            }]),
        }
    }

    fn reserve(
        &self,
        shipment_id: ShipmentId,
        member: MemberStanding,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        if let Some(taken) = self.status.shipment_id() {
            return Err(ParcelError::AlreadyInShipment {
                shipment_id: taken.clone(),
            });
        }
        match self.status {
            ParcelStatus::Unknown => return Err(ParcelError::NotFound),
            _ if self.auto_pack => return Err(ParcelError::AutoPack),
            ParcelStatus::Stored => {}
            ref other => {
                return Err(ParcelError::NotStored {
                    status: other.name(),
                })
            }
        }
        if self.member_id.as_ref() != Some(&member.member_id) {
            return Err(ParcelError::OtherMembersParcel);
        }
        self.check_requester(&member)?;
        Ok(vec![ParcelEvent::Consolidated {
            shipment_id,
            member_id: member.member_id,
        }])
    }

    /// The member may ask for this parcel to be packed (MEM-2, MEM-4, PAR-4).
    fn check_requester(&self, member: &MemberStanding) -> Result<(), ParcelError> {
        if self.member_id.as_ref() != Some(&member.member_id) {
            return Err(ParcelError::OtherMember {
                member_id: member.member_id.clone(),
            });
        }
        if !member.may_request_shipments() {
            return Err(ParcelError::MayNotRequest {
                status: member.status,
            });
        }
        if !self.declaration_confirmed() {
            return Err(ParcelError::DeclarationNotConfirmed);
        }
        Ok(())
    }

    fn pack(
        &self,
        shipment_id: ShipmentId,
        today: NaiveDate,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        self.check_shipment(&shipment_id)?;
        if self.inspected_units.is_none() {
            return Err(ParcelError::NotInspected);
        }
        if !self.declaration_confirmed() {
            return Err(ParcelError::DeclarationNotConfirmed);
        }
        Ok(vec![ParcelEvent::Packed {
            shipment_id,
            packed_on: today,
        }])
    }

    fn release(
        &self,
        shipment_id: ShipmentId,
        today: NaiveDate,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        self.check_shipment(&shipment_id)?;
        Ok(vec![ParcelEvent::Released {
            shipment_id,
            released_on: today,
        }])
    }

    fn hold(
        &self,
        shipment: ShipmentHeld,
        today: NaiveDate,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        self.check_shipment(&shipment.shipment_id)?;
        Ok(vec![ParcelEvent::Held {
            shipment_id: shipment.shipment_id,
            quote_due_on: shipment.quote_due_on,
            held_on: today,
            rule: Rule::Pay2,
        }])
    }

    /// Paying the held shipment releases the hold: the parcel goes back to the state it was
    /// held from (PAY-2). A state stored before `held_from` existed has none: a hold is taken
    /// from a quoted shipment, whose parcels are packed.
    fn release_hold(
        &self,
        shipment_id: ShipmentId,
        today: NaiveDate,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        self.check_shipment(&shipment_id)?;
        Ok(vec![ParcelEvent::HoldReleased {
            shipment_id,
            restored: self.held_from.unwrap_or(HeldFrom::Packed),
            released_on: today,
            rule: Rule::Pay2,
        }])
    }

    /// Its shipment moved on: the parcel records the same fact on its own stream, once. The
    /// fact must follow from where the parcel stands: paid from packed, shipped once paid,
    /// tracked once shipped, claims once shipped; a parcel whose history predates these events
    /// (packed, its shipment paid and shipped without it) catches up from packed.
    fn follow_shipment(
        &self,
        shipment_id: ShipmentId,
        fact: ShipmentFact,
        today: NaiveDate,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        use ParcelStatus as S;
        if self.status.travels_in() != Some(&shipment_id) {
            return Err(ParcelError::OtherShipment {
                actual: self
                    .status
                    .travels_in()
                    .cloned()
                    .unwrap_or(shipment_id.clone()),
                named: shipment_id,
            });
        }
        let left = matches!(
            self.status,
            S::Shipped { .. } | S::Delivered { .. } | S::Lost { .. }
        );
        let invalid = || ParcelError::InvalidState {
            command: "follow_shipment",
            status: self.status.name(),
        };
        let event = match fact {
            ShipmentFact::Paid { .. } if matches!(self.status, S::Paid { .. }) || left => {
                return Ok(vec![])
            }
            ShipmentFact::Paid { paid_on } => match self.status {
                S::Packed { .. } => ParcelEvent::Paid {
                    shipment_id,
                    paid_on,
                },
                _ => return Err(invalid()),
            },
            ShipmentFact::Shipped { .. } if left => return Ok(vec![]),
            ShipmentFact::Shipped {
                carrier,
                service,
                tracking_number,
                shipped_on,
            } => match self.status {
                S::Packed { .. } | S::Paid { .. } => ParcelEvent::Shipped {
                    shipment_id,
                    carrier,
                    service,
                    tracking_number,
                    shipped_on,
                },
                _ => return Err(invalid()),
            },
            ShipmentFact::CustomsHeld { held_on } => match self.status {
                S::Packed { .. } | S::Paid { .. } | S::Shipped { .. } => ParcelEvent::CustomsHeld {
                    shipment_id,
                    held_on,
                },
                _ => return Ok(vec![]),
            },
            ShipmentFact::Delivered { delivered_on } => match self.status {
                S::Delivered { .. } => return Ok(vec![]),
                S::Packed { .. } | S::Paid { .. } | S::Shipped { .. } => ParcelEvent::Delivered {
                    shipment_id,
                    delivered_on,
                },
                _ => return Err(invalid()),
            },
            ShipmentFact::Lost { lost_on } => match self.status {
                S::Lost { .. } => return Ok(vec![]),
                S::Packed { .. } | S::Paid { .. } | S::Shipped { .. } => ParcelEvent::Lost {
                    shipment_id,
                    lost_on,
                },
                _ => return Err(invalid()),
            },
            ShipmentFact::ReturnReceived { received_on } => match self.status {
                S::Packed { .. } if self.returned_in.is_some() => return Ok(vec![]),
                S::Packed { .. } | S::Paid { .. } | S::Shipped { .. } => {
                    ParcelEvent::ReturnedToWarehouse {
                        shipment_id,
                        received_on,
                    }
                }
                _ => return Err(invalid()),
            },
            ShipmentFact::Claimed { .. } if self.status.shipment_id().is_some() => {
                return Err(invalid())
            }
            ShipmentFact::Claimed { claim_id, .. }
                if self.claims.iter().any(|(id, _)| *id == claim_id) =>
            {
                return Ok(vec![])
            }
            ShipmentFact::Claimed {
                claim_id,
                claim_type,
            } => ParcelEvent::Claimed {
                shipment_id,
                claim_id,
                claim_type,
                filed_on: today,
            },
            ShipmentFact::ClaimSettled { claim_id, outcome } => {
                match self.claims.iter().find(|(id, _)| *id == claim_id) {
                    None | Some((_, true)) => return Ok(vec![]),
                    Some((_, false)) => ParcelEvent::ClaimSettled {
                        shipment_id,
                        claim_id,
                        outcome,
                        settled_on: today,
                    },
                }
            }
        };
        Ok(vec![event])
    }

    /// A command naming a shipment must name the parcel's own, if it has one (CON-3).
    fn check_shipment(&self, named: &ShipmentId) -> Result<(), ParcelError> {
        match self.status.shipment_id() {
            Some(actual) if actual != named => Err(ParcelError::OtherShipment {
                actual: actual.clone(),
                named: named.clone(),
            }),
            _ => Ok(()),
        }
    }

    // ---- storage (STO-1 to STO-3)

    /// The storage clock's anchor and last free day (STO-1, STO-2).
    fn storage_clock(
        &self,
        earliest_waiting_arrival: Option<NaiveDate>,
        policy: &Policy,
    ) -> (NaiveDate, NaiveDate) {
        let anchor = match self.stored_box() {
            Some(parcel) => {
                storage::clock_anchor(&parcel, earliest_waiting_arrival, policy.storage.anchor)
            }
            None => NaiveDate::MIN,
        };
        (anchor, policy.storage.max_storage.last_day(anchor))
    }

    fn store(
        &self,
        location: String,
        earliest_waiting_arrival: Option<NaiveDate>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        let (anchor, last_free_day) = self.storage_clock(earliest_waiting_arrival, policy);
        Ok(vec![ParcelEvent::Stored {
            location,
            stored_on: today,
            anchor,
            last_free_day,
            policy: policy.version(),
        }])
    }

    fn send_storage_notice(
        &self,
        earliest_waiting_arrival: Option<NaiveDate>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        let member_id = self.member_id.clone().ok_or(ParcelError::InvalidState {
            command: "send_storage_notice",
            status: self.status.name(),
        })?;
        let (_, last_free_day) = self.storage_clock(earliest_waiting_arrival, policy);
        let days = &policy.storage.notice_days_before;
        let due = storage::notice_due(last_free_day, today, days)
            .filter(|d| !self.notices_sent.contains(&(last_free_day, *d)))
            .filter(|_| self.extension.is_none());
        let Some(days_before) = due else {
            let next =
                storage::next_notice_on(last_free_day, today.succ_opt().unwrap_or(today), days);
            return Err(ParcelError::NoticeNotDue {
                next_notice_on: next.filter(|_| self.extension.is_none()),
            });
        };
        Ok(vec![ParcelEvent::StorageNoticeSent {
            member_id,
            days_before,
            last_free_day,
            sent_on: today,
            policy: policy.version(),
        }])
    }

    fn mark_disposable(
        &self,
        earliest_waiting_arrival: Option<NaiveDate>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        if self.disposable.is_some() {
            return Err(ParcelError::AlreadyDisposable);
        }
        if self.extension.is_some() {
            return Err(ParcelError::OnPaidStorage);
        }
        let (anchor, last_free_day) = self.storage_clock(earliest_waiting_arrival, policy);
        if today <= last_free_day {
            return Err(ParcelError::LimitNotReached { last_free_day });
        }
        Ok(vec![ParcelEvent::MarkedDisposable {
            anchor_rule: policy.storage.anchor,
            anchor,
            last_free_day,
            disposable_on: today,
            rule: Rule::Sto2,
            policy: policy.version(),
        }])
    }

    fn extend_storage(
        &self,
        earliest_waiting_arrival: Option<NaiveDate>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        let extended = policy
            .storage
            .extended
            .as_ref()
            .ok_or(ParcelError::ExtensionUnavailable)?;
        if self.extension.is_some() {
            return Err(ParcelError::AlreadyExtended);
        }
        let (anchor, last_free_day) = self.storage_clock(earliest_waiting_arrival, policy);
        if today > last_free_day || self.disposable.is_some() {
            return Err(ParcelError::ExtensionTooLate { last_free_day });
        }
        let dimensions = self.receipt.ok_or(ParcelError::NotFound)?.dimensions;
        Ok(vec![ParcelEvent::StorageExtended {
            anchor,
            max_storage: policy.storage.max_storage,
            last_free_day,
            units: storage::storage_units(dimensions, extended.unit_mm),
            fee_per_unit_month: extended.fee_per_unit_month,
            policy: policy.version(),
        }])
    }

    fn accrue_storage_fee(&self, today: NaiveDate) -> Result<Vec<ParcelEvent>, ParcelError> {
        let ext = self.extension.as_ref().ok_or(ParcelError::NotExtended)?;
        let started = storage::extended_months_started(ext.anchor, ext.max_storage, today);
        Ok((self.fee_months_accrued + 1..=started)
            .map(|month| {
                let (period_start, period_end) =
                    storage::extended_month_period(ext.anchor, ext.max_storage, month);
                ParcelEvent::StorageFeeAccrued {
                    month,
                    period_start,
                    period_end,
                    units: ext.units,
                    fee: ext
                        .fee_per_unit_month
                        .times(Decimal::from(ext.units))
                        .rounded(Rounding::HalfUp),
                    rule: Rule::Sto3,
                    policy: ext.policy.clone(),
                }
            })
            .collect())
    }

    // ---- disposal and return (DSP-1, MEM-8, PAY-2, PAR-1, INS-4)

    fn dispose(
        &self,
        cause: DisposalCause,
        policy: &Policy,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        let per_parcel = policy.disposal.fee_per_parcel;
        let quarantined = self.status == ParcelStatus::Quarantined;
        let (cause, fee, rule) = match cause {
            DisposalCause::Prohibited if quarantined => {
                let categories = self.prohibited.clone();
                (
                    DisposedBecause::Prohibited { categories },
                    per_parcel,
                    Rule::Ins4,
                )
            }
            DisposalCause::Prohibited => return Err(ParcelError::NotQuarantined),
            _ if quarantined => return Err(ParcelError::Quarantined),
            DisposalCause::PastMaxStorage => match self.disposable {
                Some(d) if self.status.in_storage() => (
                    DisposedBecause::PastMaxStorage {
                        last_free_day: d.last_free_day,
                        disposable_on: d.disposable_on,
                    },
                    per_parcel,
                    Rule::Sto2,
                ),
                _ => return Err(ParcelError::NotDisposable),
            },
            DisposalCause::LeftAtWithdrawal { member } => {
                if self.member_id.as_ref() != Some(&member.member_id) {
                    return Err(ParcelError::OtherMember {
                        member_id: member.member_id,
                    });
                }
                if member.status != StandingStatus::Withdrawing {
                    return Err(ParcelError::MemberNotWithdrawing);
                }
                if !self.status.in_storage() {
                    return Err(ParcelError::InvalidState {
                        command: "dispose",
                        status: self.status.name(),
                    });
                }
                let items = self.item_count();
                let fee_per_item = policy.member.withdrawal_disposal_fee_per_item;
                let fee = fee_per_item
                    .times(Decimal::from(items))
                    .rounded(Rounding::HalfUp);
                (
                    DisposedBecause::LeftAtWithdrawal {
                        items,
                        fee_per_item,
                    },
                    fee,
                    Rule::Mem8,
                )
            }
            DisposalCause::Unpaid { shipment } => {
                let held = ParcelStatus::Held {
                    shipment_id: shipment.shipment_id.clone(),
                };
                if self.status != held {
                    return Err(ParcelError::ShipmentNotHeld);
                }
                // PAY-2: "the parcels may then be disposed of under STO-2": past the maximum
                // storage, which the disposable mark records.
                if self.disposable.is_none() {
                    return Err(ParcelError::UnpaidBeforeStorageLimit);
                }
                let cause = DisposedBecause::Unpaid {
                    shipment_id: shipment.shipment_id,
                    quote_due_on: shipment.quote_due_on,
                };
                (cause, per_parcel, Rule::Pay2)
            }
            // SHP-2: back from a return, the member chose disposal over re-shipping.
            DisposalCause::ReturnAbandoned { shipment_id } => {
                if self.returned_in.as_ref() != Some(&shipment_id)
                    || self.status.shipment_id() != Some(&shipment_id)
                {
                    return Err(ParcelError::NotReturned);
                }
                let cause = DisposedBecause::ReturnAbandoned { shipment_id };
                (cause, per_parcel, Rule::Shp2)
            }
        };
        Ok(vec![ParcelEvent::Disposed {
            member_id: self.member_id.clone(),
            cause,
            fee: fee.rounded(Rounding::HalfUp),
            rule,
            policy: policy.version(),
        }])
    }

    /// Items in the box for a per-item fee (MEM-8): the units the inspection counted, else
    /// the declared quantities, else the box itself as one item.
    pub fn item_count(&self) -> u32 {
        let declared = self
            .declaration
            .as_ref()
            .map_or(0, |d| d.items.iter().map(|i| i.quantity).sum());
        match self.inspected_units {
            Some(units) if units > 0 => units,
            _ if declared > 0 => declared,
            _ => 1,
        }
    }

    fn return_to_sender(
        &self,
        note: String,
        today: NaiveDate,
    ) -> Result<Vec<ParcelEvent>, ParcelError> {
        let from = match self.status {
            ParcelStatus::Quarantined => ReturnedFrom::Quarantined,
            _ => ReturnedFrom::Unidentified,
        };
        Ok(vec![ParcelEvent::Returned {
            from,
            returned_on: today,
            note,
        }])
    }
}

fn expect(
    parcel_id: ParcelId,
    member_id: MemberId,
    shop: String,
    purchased_on: NaiveDate,
    policy: &Policy,
) -> Result<Vec<ParcelEvent>, ParcelError> {
    let proxy = policy
        .intake
        .proxy_payment
        .as_ref()
        .ok_or(ParcelError::ProxyPaymentUnavailable)?;
    if !proxy.approved_shops.contains(&shop) {
        return Err(ParcelError::ShopNotApproved { shop });
    }
    Ok(vec![ParcelEvent::Expected {
        parcel_id,
        member_id,
        shop,
        purchased_on,
        cancellable_from: intake::proxy_cancellable_from(purchased_on, proxy),
        policy: policy.version(),
    }])
}

fn declare(
    items: Vec<DeclaredItem>,
    sender: String,
    source: DeclarationSource,
) -> Result<Vec<ParcelEvent>, ParcelError> {
    if items.is_empty() {
        return Err(ParcelError::EmptyDeclaration);
    }
    if sender.trim().is_empty() {
        return Err(ParcelError::SenderMissing);
    }
    if let Some(line) = items.iter().position(|i| i.quantity == 0) {
        return Err(ParcelError::ZeroQuantity { line: line + 1 });
    }
    Ok(vec![ParcelEvent::ContentsDeclared {
        items,
        sender,
        source,
    }])
}

/// The arrival notice of a parcel `receipt` describes, sent to `member_id` on `sent_on`
/// (PAR-3): the measurements billing uses and the forwarding fee of the parcel as one piece.
fn arrival_notice(
    member_id: MemberId,
    receipt: Receipt,
    sent_on: NaiveDate,
    shop: Option<String>,
    policy: &Policy,
) -> ParcelEvent {
    ParcelEvent::ArrivalNoticeSent {
        member_id,
        received_on: receipt.received_on,
        sent_on,
        shop,
        weight: receipt.weight,
        dimensions: receipt.dimensions,
        forwarding_fee: policy.fees.forwarding_fee_per_piece,
        rule: Rule::Par3,
        policy: policy.version(),
    }
}

/// The automatic packing request of Auto Pack (MEM-6), made on arrival (or attachment) when
/// the member has it set and may request shipments (MEM-2, MEM-4).
fn auto_packing_request(member: &MemberStanding) -> Option<ParcelEvent> {
    (member.auto_pack && member.may_request_shipments()).then(|| ParcelEvent::PackingRequested {
        member_id: member.member_id.clone(),
        auto_pack: true,
        shipment_id: None,
    })
}

crate::event_sourced!(Parcel, "parcel", ParcelCommand, ParcelEvent, ParcelError);

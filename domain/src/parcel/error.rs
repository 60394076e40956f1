//! Why a parcel command is refused: one variant per refusal, each with a stable code and
//! the rule it enforces.

use crate::calendar::OutsideCalendar;
use crate::facts::StandingStatus;
use crate::ids::{MemberId, ShipmentId};
use crate::money::Currency;
use crate::rules::{Refusal, Rule};
use chrono::NaiveDate;

/// A refused parcel command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParcelError {
    /// No event yet: the warehouse knows nothing of this parcel.
    #[error("parcel not found")]
    NotFound,
    /// The command makes no sense in the parcel's state.
    #[error("{command} is not possible while the parcel is {status}")]
    InvalidState {
        /// The command.
        command: &'static str,
        /// The parcel's state.
        status: &'static str,
    },
    /// A proxy-paid purchase was announced under a policy without proxy payment (PAR-2).
    #[error("this warehouse does not pay couriers on the member's behalf")]
    ProxyPaymentUnavailable,
    /// A proxy-paid purchase from a shop that is not approved (PAR-2).
    #[error("shop {shop:?} is not approved for proxy payment")]
    ShopNotApproved {
        /// The shop.
        shop: String,
    },
    /// The expected parcel may still arrive (PAR-2).
    #[error("the parcel may still arrive: cancellable from {cancellable_from}")]
    TooEarlyToCancel {
        /// First day the expectation may be cancelled.
        cancellable_from: NaiveDate,
    },
    /// The parcel belongs to another member.
    #[error("the parcel belongs to another member")]
    OtherMember {
        /// The member who asked.
        member_id: MemberId,
    },
    /// A declaration needs at least one item (PAR-4).
    #[error("a declaration needs at least one item")]
    EmptyDeclaration,
    /// A declaration names its sender (PAR-4).
    #[error("a declaration names the sender")]
    SenderMissing,
    /// Every declared line needs a quantity (PAR-4).
    #[error("declared line {line} has no quantity")]
    ZeroQuantity {
        /// The line, from 1.
        line: usize,
    },
    /// Nothing declared to confirm (PAR-4).
    #[error("the contents have not been declared")]
    NoDeclaration,
    /// Packing needs a confirmed declaration (PAR-4).
    #[error("the declaration of contents must be confirmed before packing")]
    DeclarationNotConfirmed,
    /// A finding needs an item count and evidence (INS-3).
    #[error("finding {index} needs at least one item and one piece of evidence")]
    FindingIncomplete {
        /// The finding, from 1.
        index: usize,
    },
    /// A large parcel's defects are charged at cost: the inspector states it (INS-3).
    #[error("the parcel's sides total {sides_total_mm} mm, over size {over_size_cm}: its defects are charged at cost, which the inspection must state")]
    OversizeCostMissing {
        /// Length + width + height measured, mm.
        sides_total_mm: u32,
        /// The policy's size bound, cm.
        over_size_cm: u32,
    },
    /// The stated cost of a large parcel's defects is negative or in another currency (INS-3).
    #[error("the cost of a large parcel's defects must be a non-negative amount in {currency:?}")]
    OversizeCostInvalid {
        /// The currency expected.
        currency: Currency,
    },
    /// Packing needs an inspection record, even a level-none one (INS-1).
    #[error("the parcel has not been inspected yet")]
    NotInspected,
    /// A quarantined parcel is only disposed of or returned (INS-4).
    #[error("the parcel is quarantined: it may only be disposed of or returned")]
    Quarantined,
    /// The member's standing does not allow requests (MEM-2, MEM-4).
    #[error("the member may not request packing or shipping while {status:?}")]
    MayNotRequest {
        /// The member's standing.
        status: StandingStatus,
    },
    /// The parcel is already in an open shipment (CON-3).
    #[error("the parcel already belongs to shipment {shipment_id}")]
    AlreadyInShipment {
        /// The shipment holding it.
        shipment_id: ShipmentId,
    },
    /// Only stored parcels are consolidated (CON-3).
    #[error("only a stored parcel can be consolidated; this one is {status}")]
    NotStored {
        /// The parcel's state.
        status: &'static str,
    },
    /// An Auto Pack parcel is never consolidated (MEM-6).
    #[error("the parcel is under Auto Pack and cannot be consolidated")]
    AutoPack,
    /// A consolidation is of one member's parcels (CON-1).
    #[error("the parcel belongs to another member than the consolidation's")]
    OtherMembersParcel,
    /// The command names another shipment than the parcel's (CON-3).
    #[error("the parcel belongs to shipment {actual}, not {named}")]
    OtherShipment {
        /// The parcel's shipment.
        actual: ShipmentId,
        /// The shipment named.
        named: ShipmentId,
    },
    /// The free storage has not run out (STO-2).
    #[error("free storage runs until {last_free_day}")]
    LimitNotReached {
        /// The last free day.
        last_free_day: NaiveDate,
    },
    /// Already marked disposable (STO-2).
    #[error("the parcel is already disposable")]
    AlreadyDisposable,
    /// No storage notice is due today (STO-2).
    #[error("no storage notice is due today (next: {next_notice_on:?})")]
    NoticeNotDue {
        /// The next notice day, if any.
        next_notice_on: Option<NaiveDate>,
    },
    /// The policy offers no paid extended storage (STO-3).
    #[error("this warehouse offers no paid extended storage")]
    ExtensionUnavailable,
    /// Extended storage is agreed before the free storage ends (STO-3).
    #[error("extended storage must be agreed by {last_free_day}")]
    ExtensionTooLate {
        /// The last free day.
        last_free_day: NaiveDate,
    },
    /// Extended storage already agreed (STO-3).
    #[error("extended storage is already agreed")]
    AlreadyExtended,
    /// No extended storage to accrue (STO-3).
    #[error("the parcel is not on paid extended storage")]
    NotExtended,
    /// A parcel on paid extended storage is not disposable (STO-3).
    #[error("the parcel is on paid extended storage")]
    OnPaidStorage,
    /// Disposal past maximum storage needs the parcel marked disposable first (DSP-1, STO-2).
    #[error("the parcel has not been marked disposable")]
    NotDisposable,
    /// Disposal as prohibited needs the parcel quarantined (DSP-1, INS-4).
    #[error("the parcel is not quarantined")]
    NotQuarantined,
    /// Disposal at withdrawal needs the owner withdrawing (DSP-1, MEM-8).
    #[error("the parcel's owner is not withdrawing")]
    MemberNotWithdrawing,
    /// Disposal of a return the member gave up needs the parcel back in that shipment (SHP-2).
    #[error("the parcel is not back at the warehouse in that returned shipment (SHP-2)")]
    NotReturned,
    /// Disposal for non-payment needs the parcel's shipment held (DSP-1, PAY-2).
    #[error("the parcel is not in a shipment held for non-payment")]
    ShipmentNotHeld,
    /// A held parcel is disposed of for non-payment only past its maximum storage, once marked
    /// disposable (PAY-2 under STO-2).
    #[error("the parcel's shipment is held, but its maximum storage has not passed: it is not marked disposable (PAY-2, STO-2)")]
    UnpaidBeforeStorageLimit,
    /// The business day falls outside the warehouse calendar's known dates (TIM-2).
    #[error(transparent)]
    OutsideCalendar(#[from] OutsideCalendar),
}

impl Refusal for ParcelError {
    fn code(&self) -> &'static str {
        match self {
            ParcelError::NotFound => "parcel.not_found",
            ParcelError::InvalidState { .. } => "parcel.invalid_state",
            ParcelError::ProxyPaymentUnavailable => "intake.proxy_payment_unavailable",
            ParcelError::ShopNotApproved { .. } => "intake.shop_not_approved",
            ParcelError::TooEarlyToCancel { .. } => "intake.too_early_to_cancel",
            ParcelError::OtherMember { .. } => "parcel.other_member",
            ParcelError::EmptyDeclaration => "declaration.empty",
            ParcelError::SenderMissing => "declaration.sender_missing",
            ParcelError::ZeroQuantity { .. } => "declaration.zero_quantity",
            ParcelError::NoDeclaration => "declaration.missing",
            ParcelError::DeclarationNotConfirmed => "declaration.not_confirmed",
            ParcelError::FindingIncomplete { .. } => "inspection.finding_incomplete",
            ParcelError::OversizeCostMissing { .. } => "inspection.oversize_cost_missing",
            ParcelError::OversizeCostInvalid { .. } => "inspection.oversize_cost_invalid",
            ParcelError::NotInspected => "inspection.pending",
            ParcelError::Quarantined => "quarantine.dispose_or_return_only",
            ParcelError::MayNotRequest { .. } => "member.may_not_request",
            ParcelError::AlreadyInShipment { .. } => "consolidation.parcel_taken",
            ParcelError::NotStored { .. } => "consolidation.parcel_not_stored",
            ParcelError::AutoPack => "consolidation.auto_pack",
            ParcelError::OtherMembersParcel => "consolidation.other_member",
            ParcelError::OtherShipment { .. } => "consolidation.other_shipment",
            ParcelError::LimitNotReached { .. } => "storage.limit_not_reached",
            ParcelError::AlreadyDisposable => "storage.already_disposable",
            ParcelError::NoticeNotDue { .. } => "storage.notice_not_due",
            ParcelError::ExtensionUnavailable => "storage.extension_unavailable",
            ParcelError::ExtensionTooLate { .. } => "storage.extension_too_late",
            ParcelError::AlreadyExtended => "storage.already_extended",
            ParcelError::NotExtended => "storage.not_extended",
            ParcelError::OnPaidStorage => "storage.on_paid_extension",
            ParcelError::NotDisposable => "disposal.not_disposable",
            ParcelError::NotQuarantined => "disposal.not_quarantined",
            ParcelError::MemberNotWithdrawing => "disposal.member_not_withdrawing",
            ParcelError::ShipmentNotHeld => "disposal.shipment_not_held",
            ParcelError::NotReturned => "disposal.not_returned",
            ParcelError::UnpaidBeforeStorageLimit => "disposal.unpaid_before_storage_limit",
            ParcelError::OutsideCalendar(_) => "calendar.not_covered",
        }
    }

    fn rule(&self) -> Option<Rule> {
        Some(match self {
            ParcelError::NotFound | ParcelError::InvalidState { .. } => return None,
            ParcelError::OtherMember { .. } => return None,
            ParcelError::ProxyPaymentUnavailable
            | ParcelError::ShopNotApproved { .. }
            | ParcelError::TooEarlyToCancel { .. } => Rule::Par2,
            ParcelError::EmptyDeclaration
            | ParcelError::SenderMissing
            | ParcelError::ZeroQuantity { .. }
            | ParcelError::NoDeclaration
            | ParcelError::DeclarationNotConfirmed => Rule::Par4,
            ParcelError::FindingIncomplete { .. }
            | ParcelError::OversizeCostMissing { .. }
            | ParcelError::OversizeCostInvalid { .. } => Rule::Ins3,
            ParcelError::NotInspected => Rule::Ins1,
            ParcelError::Quarantined => Rule::Ins4,
            ParcelError::MayNotRequest { status } => match status {
                StandingStatus::Unverified => Rule::Mem2,
                _ => Rule::Mem4,
            },
            ParcelError::AlreadyInShipment { .. }
            | ParcelError::NotStored { .. }
            | ParcelError::OtherShipment { .. } => Rule::Con3,
            ParcelError::AutoPack => Rule::Mem6,
            ParcelError::OtherMembersParcel => Rule::Con1,
            ParcelError::LimitNotReached { .. }
            | ParcelError::AlreadyDisposable
            | ParcelError::NoticeNotDue { .. } => Rule::Sto2,
            ParcelError::ExtensionUnavailable
            | ParcelError::ExtensionTooLate { .. }
            | ParcelError::AlreadyExtended
            | ParcelError::NotExtended
            | ParcelError::OnPaidStorage => Rule::Sto3,
            ParcelError::NotDisposable
            | ParcelError::NotQuarantined
            | ParcelError::MemberNotWithdrawing => Rule::Dsp1,
            ParcelError::ShipmentNotHeld | ParcelError::UnpaidBeforeStorageLimit => Rule::Pay2,
            ParcelError::NotReturned => Rule::Shp2,
            ParcelError::OutsideCalendar(_) => Rule::Tim2,
        })
    }
}

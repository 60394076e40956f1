//! The changes the storage-status view takes from parcel and shipment events: what each event
//! means for the parcel's (or shipment's) row, without the rest of the payload.

use chrono::NaiveDate;
use domain::member::MemberEvent;
use domain::money::Money;
use domain::parcel::{HeldFrom, ParcelEvent};
use domain::shipment::ShipmentEvent;

/// One change to the storage-status tables.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// To the row of parcel `parcel_id`.
    Parcel {
        /// The parcel (its aggregate id).
        parcel_id: String,
        /// What changes.
        change: ParcelChange,
    },
    /// To the row of shipment `shipment_id`.
    Shipment {
        /// The shipment (its aggregate id).
        shipment_id: String,
        /// What changes.
        change: ShipmentChange,
    },
    /// To the row of member `member_id`.
    Member {
        /// The member (its aggregate id).
        member_id: String,
        /// What changes.
        change: MemberChange,
    },
}

/// What a member event changes in the member's row.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// Registered with a suite code (MEM-1) and a name, as the writer sealed it.
    Registered {
        /// The suite code.
        suite_code: String,
        /// The name as stored: sealed (`crates/personal-data`).
        name: Option<String>,
        /// The warehouse's day of the registration.
        registered_on: NaiveDate,
    },
    /// `suspended`, `active` again or `closed`.
    State(&'static str),
    /// Their personal data was erased: the sealed name goes too.
    Erased,
}

impl MemberChange {
    /// What `event` changes in its member's row; `sealed_name` is the name as the stored
    /// payload holds it (the decoded event carries its stand-in). `None` for the events this
    /// view ignores.
    pub fn of(event: &MemberEvent, sealed_name: Option<&str>) -> Option<MemberChange> {
        use MemberEvent as E;
        Some(match event {
            E::Registered {
                suite_code,
                registered_on,
                ..
            } => MemberChange::Registered {
                suite_code: suite_code.to_string(),
                name: sealed_name.map(str::to_owned),
                registered_on: *registered_on,
            },
            E::Suspended { .. } => MemberChange::State("suspended"),
            E::Reinstated { .. } => MemberChange::State("active"),
            E::Closed { .. } | E::AutoClosed { .. } => MemberChange::State("closed"),
            E::PersonalDataErased { .. } => MemberChange::Erased,
            _ => return None,
        })
    }
}

/// What a parcel event changes in the parcel's row.
#[derive(Debug, Clone, PartialEq)]
pub enum ParcelChange {
    /// Announced (PAR-2).
    Expected {
        /// The buyer.
        member_id: String,
        /// The shop.
        shop: String,
        /// Policy applied.
        policy: String,
    },
    /// Left without entering: `refused` or `cancelled` (PAR-2), on that day.
    NeverEntered {
        /// `refused` or `cancelled`.
        state: &'static str,
        /// The member, if known.
        member_id: Option<String>,
        /// The day.
        on: NaiveDate,
    },
    /// Received, weighed and measured; unidentified without a member (PAR-1, PAR-3).
    Arrived(Box<Arrival>),
    /// Attached to its member (PAR-1).
    Attached {
        /// The owner.
        member_id: String,
        /// Notify by.
        notify_by: NaiveDate,
        /// Auto Pack (MEM-6).
        auto_pack: bool,
    },
    /// Declared: not confirmed yet (PAR-4).
    Declared,
    /// The declaration was confirmed (PAR-4).
    DeclarationConfirmed,
    /// Inspected at `level`: `received` becomes `inspected`, other states stay (INS-1).
    Inspected {
        /// The level applied.
        level: String,
    },
    /// Quarantined (INS-4).
    Quarantined {
        /// The prohibited categories.
        categories: Vec<String>,
    },
    /// On a shelf, with the clock the event recorded (STO-1, STO-2).
    Stored {
        /// Shelf.
        location: String,
        /// The day.
        stored_on: NaiveDate,
        /// Anchor then.
        anchor: NaiveDate,
        /// Last free day then.
        last_free_day: NaiveDate,
        /// Policy applied.
        policy: String,
    },
    /// A state change alone: `packing_requested`.
    State(&'static str),
    /// Into shipment `shipment_id`, or following it: `reserved`, `packed`, `held`, `paid`,
    /// `shipped`, `delivered` or `lost`.
    InShipment {
        /// The state.
        state: &'static str,
        /// The shipment.
        shipment_id: String,
    },
    /// Back on the shelf after its shipment was cancelled (CON-5).
    Released,
    /// Back at the warehouse, packed in shipment `shipment_id` the carrier sent back (SHP-2):
    /// its storage clock runs again from `received_on`.
    ReturnedToWarehouse {
        /// The shipment.
        shipment_id: String,
        /// The day it came back.
        received_on: NaiveDate,
    },
    /// A storage notice went out (STO-2).
    NoticeSent {
        /// `last_free_day/days_before`, as the parcel remembers notices.
        notice: String,
        /// The day.
        sent_on: NaiveDate,
    },
    /// Past the limit, may be disposed of (STO-2).
    MarkedDisposable {
        /// Anchor.
        anchor: NaiveDate,
        /// Last free day.
        last_free_day: NaiveDate,
        /// The day marked.
        disposable_on: NaiveDate,
    },
    /// On paid extended storage (STO-3).
    Extended {
        /// Anchor.
        anchor: NaiveDate,
        /// Last free day.
        last_free_day: NaiveDate,
        /// Volume units.
        units: u64,
        /// Fee per unit and started month.
        fee_per_unit_month: Money,
    },
    /// A month of extended storage was charged (STO-3).
    FeeAccrued {
        /// Which month.
        month: u32,
        /// The fee.
        fee: Money,
    },
    /// Disposed of, with its fee and the rule of its cause (DSP-1).
    Disposed {
        /// The fee.
        fee: Money,
        /// The rule.
        rule: String,
    },
    /// Returned to its sender.
    Returned {
        /// The day.
        returned_on: NaiveDate,
    },
}

/// The arrival facts of a parcel.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    /// The owner; `None`: unidentified (PAR-1).
    pub member_id: Option<String>,
    /// The suite code on the label.
    pub suite_code: Option<String>,
    /// The shop.
    pub shop: Option<String>,
    /// The courier's day.
    pub delivered_on: NaiveDate,
    /// The receiving business day: the storage clock starts here (TIM-2).
    pub received_on: NaiveDate,
    /// Notify the member by.
    pub notify_by: Option<NaiveDate>,
    /// Grams.
    pub weight_g: u32,
    /// Millimetres.
    pub dimensions_mm: [u32; 3],
    /// Auto Pack (MEM-6).
    pub auto_pack: bool,
    /// Policy applied.
    pub policy: String,
}

/// What a shipment event changes in the shipment's row.
#[derive(Debug, Clone, PartialEq)]
pub enum ShipmentChange {
    /// Requested for `parcels` of `member_id`.
    Requested {
        /// The member.
        member_id: String,
        /// Its parcels.
        parcel_ids: Vec<String>,
        /// The day.
        requested_on: NaiveDate,
    },
    /// A new state (`packed`, `quoted`, `paid`, `held`, `cancelled`, `delivered`, ...).
    State(&'static str),
    /// Handed to the carrier: its parcels left the warehouse.
    Shipped {
        /// The day.
        shipped_on: NaiveDate,
        /// The carrier's tracking number.
        tracking_number: String,
    },
}

impl ParcelChange {
    /// What `event` changes in its parcel's row; `None` for events this view ignores.
    pub fn of(event: &ParcelEvent) -> Option<ParcelChange> {
        use ParcelEvent as E;
        Some(match event {
            E::Expected {
                member_id,
                shop,
                policy,
                ..
            } => ParcelChange::Expected {
                member_id: member_id.to_string(),
                shop: shop.clone(),
                policy: policy.to_string(),
            },
            E::Cancelled {
                member_id,
                cancelled_on,
                ..
            } => ParcelChange::NeverEntered {
                state: "cancelled",
                member_id: Some(member_id.to_string()),
                on: *cancelled_on,
            },
            E::Refused {
                member_id,
                delivered_on,
                ..
            } => ParcelChange::NeverEntered {
                state: "refused",
                member_id: member_id.as_ref().map(ToString::to_string),
                on: *delivered_on,
            },
            E::Arrived {
                member_id,
                suite_code,
                delivered_on,
                received_on,
                notify_by,
                weight,
                dimensions,
                shop,
                auto_pack,
                policy,
                ..
            } => ParcelChange::Arrived(Box::new(Arrival {
                member_id: member_id.as_ref().map(ToString::to_string),
                suite_code: suite_code.as_ref().map(ToString::to_string),
                shop: shop.clone(),
                delivered_on: *delivered_on,
                received_on: *received_on,
                notify_by: *notify_by,
                weight_g: weight.grams(),
                dimensions_mm: [
                    dimensions.length_mm,
                    dimensions.width_mm,
                    dimensions.height_mm,
                ],
                auto_pack: *auto_pack,
                policy: policy.to_string(),
            })),
            E::AttachedToMember {
                member_id,
                notify_by,
                auto_pack,
                ..
            } => ParcelChange::Attached {
                member_id: member_id.to_string(),
                notify_by: *notify_by,
                auto_pack: *auto_pack,
            },
            E::ContentsDeclared { .. } => ParcelChange::Declared,
            E::DeclarationConfirmed { .. } => ParcelChange::DeclarationConfirmed,
            E::Inspected(record) => ParcelChange::Inspected {
                level: level_name(&record.level_applied),
            },
            E::Quarantined { categories, .. } => ParcelChange::Quarantined {
                categories: categories.clone(),
            },
            E::Stored {
                location,
                stored_on,
                anchor,
                last_free_day,
                policy,
            } => ParcelChange::Stored {
                location: location.clone(),
                stored_on: *stored_on,
                anchor: *anchor,
                last_free_day: *last_free_day,
                policy: policy.to_string(),
            },
            E::PackingRequested { .. } => ParcelChange::State("packing_requested"),
            E::Consolidated { shipment_id, .. } => ParcelChange::InShipment {
                state: "reserved",
                shipment_id: shipment_id.to_string(),
            },
            E::Packed { shipment_id, .. } => ParcelChange::InShipment {
                state: "packed",
                shipment_id: shipment_id.to_string(),
            },
            E::Held { shipment_id, .. } => ParcelChange::InShipment {
                state: "held",
                shipment_id: shipment_id.to_string(),
            },
            E::HoldReleased {
                shipment_id,
                restored,
                ..
            } => ParcelChange::InShipment {
                state: match restored {
                    HeldFrom::Reserved => "reserved",
                    HeldFrom::Packed => "packed",
                },
                shipment_id: shipment_id.to_string(),
            },
            E::Released { .. } => ParcelChange::Released,
            E::StorageNoticeSent {
                days_before,
                last_free_day,
                sent_on,
                ..
            } => ParcelChange::NoticeSent {
                notice: notice_key(*last_free_day, *days_before),
                sent_on: *sent_on,
            },
            E::MarkedDisposable {
                anchor,
                last_free_day,
                disposable_on,
                ..
            } => ParcelChange::MarkedDisposable {
                anchor: *anchor,
                last_free_day: *last_free_day,
                disposable_on: *disposable_on,
            },
            E::StorageExtended {
                anchor,
                last_free_day,
                units,
                fee_per_unit_month,
                ..
            } => ParcelChange::Extended {
                anchor: *anchor,
                last_free_day: *last_free_day,
                units: *units,
                fee_per_unit_month: *fee_per_unit_month,
            },
            E::StorageFeeAccrued { month, fee, .. } => ParcelChange::FeeAccrued {
                month: *month,
                fee: *fee,
            },
            E::Disposed { fee, rule, .. } => ParcelChange::Disposed {
                fee: *fee,
                rule: rule_id(rule),
            },
            E::Returned { returned_on, .. } => ParcelChange::Returned {
                returned_on: *returned_on,
            },
            // Following its shipment: paid (still here), then gone with it.
            E::Paid { shipment_id, .. } => ParcelChange::InShipment {
                state: "paid",
                shipment_id: shipment_id.to_string(),
            },
            E::Shipped { shipment_id, .. } | E::CustomsHeld { shipment_id, .. } => {
                ParcelChange::InShipment {
                    state: "shipped",
                    shipment_id: shipment_id.to_string(),
                }
            }
            E::Delivered { shipment_id, .. } => ParcelChange::InShipment {
                state: "delivered",
                shipment_id: shipment_id.to_string(),
            },
            E::Lost { shipment_id, .. } => ParcelChange::InShipment {
                state: "lost",
                shipment_id: shipment_id.to_string(),
            },
            E::ReturnedToWarehouse {
                shipment_id,
                received_on,
            } => ParcelChange::ReturnedToWarehouse {
                shipment_id: shipment_id.to_string(),
                received_on: *received_on,
            },
            E::ProxyPaymentCharged { .. }
            | E::ArrivalNoticeSent { .. }
            | E::Claimed { .. }
            | E::ClaimSettled { .. } => return None,
        })
    }
}

impl ShipmentChange {
    /// What `event` changes in its shipment's row; `None` for claims, which this view ignores.
    pub fn of(event: &ShipmentEvent) -> Option<ShipmentChange> {
        use ShipmentEvent as E;
        Some(match event {
            E::Consolidated {
                member_id,
                parcels,
                requested_on,
                ..
            } => ShipmentChange::Requested {
                member_id: member_id.to_string(),
                parcel_ids: parcels.iter().map(|p| p.parcel_id.to_string()).collect(),
                requested_on: *requested_on,
            },
            E::PackingRequested {
                member_id,
                parcel,
                requested_on,
                ..
            } => ShipmentChange::Requested {
                member_id: member_id.to_string(),
                parcel_ids: vec![parcel.parcel_id.to_string()],
                requested_on: *requested_on,
            },
            E::Packed { .. } => ShipmentChange::State("packed"),
            E::Quoted { .. } => ShipmentChange::State("quoted"),
            E::Paid { .. } => ShipmentChange::State("paid"),
            E::Held { .. } => ShipmentChange::State("held"),
            E::Cancelled { .. } => ShipmentChange::State("cancelled"),
            E::Shipped {
                shipped_on,
                tracking_number,
                ..
            } => ShipmentChange::Shipped {
                shipped_on: *shipped_on,
                tracking_number: tracking_number.to_string(),
            },
            E::Delivered { .. } => ShipmentChange::State("delivered"),
            E::CustomsHeld { .. } => ShipmentChange::State("customs_hold"),
            E::ReturnedToOrigin { .. } => ShipmentChange::State("returned_to_origin"),
            E::Lost { .. } => ShipmentChange::State("lost"),
            E::ReturnReceived { .. } => ShipmentChange::State("returned"),
            E::ReturnAbandoned { .. } => ShipmentChange::State("abandoned"),
            _ => return None,
        })
    }
}

/// How the parcel remembers a notice: the last free day announced and the days before it.
pub(crate) fn notice_key(last_free_day: NaiveDate, days_before: u32) -> String {
    format!("{last_free_day}/{days_before}")
}

/// A value's JSON string form (`"STO-2"`, `"quantity"`), as the events serialize it.
fn json_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn level_name(level: &domain::policy::InspectionLevel) -> String {
    json_name(level)
}

fn rule_id(rule: &domain::Rule) -> String {
    rule.id().to_owned()
}

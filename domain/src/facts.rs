//! Facts one aggregate needs about another, looked up by the caller and passed inside the
//! command. Aggregates never read each other; the write side reads these from the owning
//! aggregate (or its view) just before issuing the command, and optimistic concurrency on the
//! target aggregate guards its own invariants.

use crate::ids::{MemberId, ParcelId};
use crate::measure::{Dimensions, Weight};
use crate::money::Money;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a member may do right now, as the Member aggregate reports it
/// (`Member::standing`), passed into parcel, shipment and account commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberStanding {
    /// The member.
    pub member_id: MemberId,
    /// Where the member stands (MEM-4).
    pub status: StandingStatus,
    /// Auto Pack set (MEM-6).
    pub auto_pack: bool,
    /// Auto Ship limit per shipment while Auto Ship is set and has not lapsed (MEM-7).
    pub auto_ship_limit: Option<Money>,
}

/// The member states other aggregates care about (MEM-2, MEM-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StandingStatus {
    /// Registered, identity not (or no longer) verified: may receive and store only (MEM-2).
    Unverified,
    /// Verified and in good standing: may request shipments and pay.
    Verified,
    /// Suspended: arrivals are recorded, nothing is requested, only debts are paid (MEM-4).
    Suspended,
    /// Withdrawal requested (MEM-8).
    Withdrawing,
    /// Closed.
    Closed,
}

impl MemberStanding {
    /// True when the member may request packing, consolidation or a shipment (MEM-2, MEM-4).
    pub fn may_request_shipments(&self) -> bool {
        self.status == StandingStatus::Verified
    }
}

/// What kind of goods an item is; claims compensate apparel differently (CLM-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemCategory {
    /// Clothing, shoes and accessories.
    Apparel,
    /// Anything else.
    Other,
}

/// One line of a contents declaration (PAR-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeclaredItem {
    /// What it is.
    pub description: String,
    /// How many.
    pub quantity: u32,
    /// Tax-inclusive price of one unit.
    pub unit_price: Money,
    /// Apparel or other.
    pub category: ItemCategory,
    /// The domestic shipping the member paid to have this line (all its units) delivered to
    /// the warehouse (seed 001: 中国国内送料), part of the goods' value a missed defect is
    /// compensated on (CLM-5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domestic_shipping: Option<Money>,
    /// The order service (plan) this line was bought under, as the policy names it (seed 001:
    /// `purchase-agency`, `oem-odm`, ...); whether a missed defect is compensated (CLM-5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_service: Option<String>,
}

/// A parcel as a shipment needs to know it when it is packed from it (CON-1, CON-2, FEE-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ParcelFacts {
    /// The parcel.
    pub parcel_id: ParcelId,
    /// Its owner.
    pub member_id: MemberId,
    /// Measured weight (PAR-3).
    pub weight: Weight,
    /// Measured dimensions (PAR-3).
    pub dimensions: Dimensions,
    /// Its confirmed declaration (PAR-4).
    pub items: Vec<DeclaredItem>,
    /// The day it was received (STO-1: a packed shipment keeps the earliest).
    pub received_on: NaiveDate,
    /// Packed on its own under Auto Pack: never consolidated (MEM-6).
    pub auto_pack: bool,
}

//! The storage-status tables: their rows, how a change folds into a row, and their DDL.

use super::changes::{MemberChange, ParcelChange, ShipmentChange};
use chrono::NaiveDate;
use projection_runtime::{Dialect, Schema, TableSpec};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Every state a parcel row can be in, in lifecycle order: what the query API lets a caller
/// filter by.
pub const STATES: &[&str] = &[
    "expected",
    "unidentified",
    "received",
    "inspected",
    "stored",
    "packing_requested",
    "reserved",
    "packed",
    "held",
    "quarantined",
    "refused",
    "cancelled",
    "disposed",
    "returned",
    "paid",
    "shipped",
    "delivered",
    "lost",
];

/// The `parcels` table.
pub const PARCELS: TableSpec = TableSpec {
    name: "parcels",
    key: &["parcel_id"],
    columns: &[
        "parcel_id",
        "member_id",
        "suite_code",
        "state",
        "shipment_id",
        "location",
        "shop",
        "delivered_on",
        "received_on",
        "notify_by",
        "weight_g",
        "length_mm",
        "width_mm",
        "height_mm",
        "auto_pack",
        "declaration_confirmed",
        "inspection_level",
        "stored_on",
        "anchor",
        "last_free_day",
        "notices_sent",
        "last_notice_on",
        "disposable_on",
        "extended",
        "extension_units",
        "fee_per_unit_month",
        "fee_months_accrued",
        "fees_accrued",
        "fee_currency",
        "quarantined_categories",
        "disposal_fee",
        "disposal_rule",
        "left_on",
        "policy",
    ],
    numeric: &["fee_per_unit_month", "fees_accrued", "disposal_fee"],
    json: &["notices_sent", "quarantined_categories"],
    boolean: &["auto_pack", "declaration_confirmed", "extended"],
    timestamp: &[],
};

/// The `shipments` table.
pub const SHIPMENTS: TableSpec = TableSpec {
    name: "shipments",
    key: &["shipment_id"],
    columns: &[
        "shipment_id",
        "member_id",
        "state",
        "parcel_ids",
        "requested_on",
        "shipped_on",
        "tracking_number",
    ],
    numeric: &[],
    json: &["parcel_ids"],
    boolean: &[],
    timestamp: &[],
};

/// The `members` table.
pub const MEMBERS: TableSpec = TableSpec {
    name: "members",
    key: &["member_id"],
    columns: &["member_id", "suite_code", "name", "state", "registered_on"],
    numeric: &[],
    json: &[],
    boolean: &[],
    timestamp: &[],
};

/// The tables' DDL in `schema`.
pub(super) fn ddl(schema: &Schema, dialect: Dialect) -> String {
    if dialect == Dialect::Sqlite {
        return sqlite_ddl(schema);
    }
    format!(
        "CREATE TABLE {schema}.parcels (
             parcel_id              text PRIMARY KEY,
             member_id              text,
             suite_code             text,
             state                  text NOT NULL,
             shipment_id            text,
             location               text,
             shop                   text,
             delivered_on           date,
             received_on            date,
             notify_by              date,
             weight_g               bigint,
             length_mm              bigint,
             width_mm               bigint,
             height_mm              bigint,
             auto_pack              boolean NOT NULL,
             declaration_confirmed  boolean NOT NULL,
             inspection_level       text,
             stored_on              date,
             anchor                 date,
             last_free_day          date,
             notices_sent           text[] NOT NULL,
             last_notice_on         date,
             disposable_on          date,
             extended               boolean NOT NULL,
             extension_units        bigint,
             fee_per_unit_month     numeric,
             fee_months_accrued     integer NOT NULL,
             fees_accrued           numeric NOT NULL,
             fee_currency           text,
             quarantined_categories text[] NOT NULL,
             disposal_fee           numeric,
             disposal_rule          text,
             left_on                date,
             policy                 text
         );
         CREATE INDEX ON {schema}.parcels (member_id, state);
         CREATE INDEX ON {schema}.parcels (state);
         CREATE INDEX ON {schema}.parcels (shipment_id);
         CREATE TABLE {schema}.shipments (
             shipment_id  text PRIMARY KEY,
             member_id    text,
             state        text NOT NULL,
             parcel_ids   text[] NOT NULL,
             requested_on date,
             shipped_on   date,
             tracking_number text
         );
         CREATE INDEX ON {schema}.shipments (member_id);
         CREATE INDEX ON {schema}.shipments (tracking_number);
         CREATE TABLE {schema}.members (
             member_id     text PRIMARY KEY,
             suite_code    text NOT NULL,
             name          text,
             state         text NOT NULL,
             registered_on date
         );
         CREATE INDEX ON {schema}.members (suite_code);"
    )
}

/// The tables' DDL in `schema` on SQLite: decimals and dates as TEXT, arrays as JSON TEXT.
fn sqlite_ddl(schema: &Schema) -> String {
    format!(
        "CREATE TABLE {schema}_parcels (
             parcel_id              TEXT PRIMARY KEY,
             member_id              TEXT,
             suite_code             TEXT,
             state                  TEXT NOT NULL,
             shipment_id            TEXT,
             location               TEXT,
             shop                   TEXT,
             delivered_on           TEXT,
             received_on            TEXT,
             notify_by              TEXT,
             weight_g               INTEGER,
             length_mm              INTEGER,
             width_mm               INTEGER,
             height_mm              INTEGER,
             auto_pack              INTEGER NOT NULL,
             declaration_confirmed  INTEGER NOT NULL,
             inspection_level       TEXT,
             stored_on              TEXT,
             anchor                 TEXT,
             last_free_day          TEXT,
             notices_sent           TEXT NOT NULL,
             last_notice_on         TEXT,
             disposable_on          TEXT,
             extended               INTEGER NOT NULL,
             extension_units        INTEGER,
             fee_per_unit_month     TEXT,
             fee_months_accrued     INTEGER NOT NULL,
             fees_accrued           TEXT NOT NULL,
             fee_currency           TEXT,
             quarantined_categories TEXT NOT NULL,
             disposal_fee           TEXT,
             disposal_rule          TEXT,
             left_on                TEXT,
             policy                 TEXT
         );
         CREATE INDEX {schema}_parcels_member_state ON {schema}_parcels (member_id, state);
         CREATE INDEX {schema}_parcels_state ON {schema}_parcels (state);
         CREATE INDEX {schema}_parcels_shipment ON {schema}_parcels (shipment_id);
         CREATE TABLE {schema}_shipments (
             shipment_id  TEXT PRIMARY KEY,
             member_id    TEXT,
             state        TEXT NOT NULL,
             parcel_ids   TEXT NOT NULL,
             requested_on TEXT,
             shipped_on   TEXT,
             tracking_number TEXT
         );
         CREATE INDEX {schema}_shipments_member ON {schema}_shipments (member_id);
         CREATE INDEX {schema}_shipments_tracking ON {schema}_shipments (tracking_number);
         CREATE TABLE {schema}_members (
             member_id     TEXT PRIMARY KEY,
             suite_code    TEXT NOT NULL,
             name          TEXT,
             state         TEXT NOT NULL,
             registered_on TEXT
         );
         CREATE INDEX {schema}_members_suite ON {schema}_members (suite_code);"
    )
}

/// A parcel as the storage-status view keeps it. Its `state` follows the Parcel aggregate's
/// `ParcelStatus::name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParcelRow {
    /// The parcel.
    pub parcel_id: String,
    /// Its owner, once known.
    pub member_id: Option<String>,
    /// The suite code on the label.
    pub suite_code: Option<String>,
    /// Its state.
    pub state: String,
    /// The shipment it was last taken into.
    pub shipment_id: Option<String>,
    /// Its shelf.
    pub location: Option<String>,
    /// The shop.
    pub shop: Option<String>,
    /// The courier's day.
    pub delivered_on: Option<NaiveDate>,
    /// The receiving business day (TIM-2): the storage clock starts here.
    pub received_on: Option<NaiveDate>,
    /// Notify the member by (PAR-3).
    pub notify_by: Option<NaiveDate>,
    /// Measured weight, grams.
    pub weight_g: Option<i64>,
    /// Measured length, mm.
    pub length_mm: Option<i64>,
    /// Measured width, mm.
    pub width_mm: Option<i64>,
    /// Measured height, mm.
    pub height_mm: Option<i64>,
    /// Arrived under Auto Pack (MEM-6).
    pub auto_pack: bool,
    /// The declaration is confirmed (PAR-4).
    pub declaration_confirmed: bool,
    /// The inspection level applied.
    pub inspection_level: Option<String>,
    /// The day it was shelved.
    pub stored_on: Option<NaiveDate>,
    /// The storage anchor the last clock event recorded (STO-1).
    pub anchor: Option<NaiveDate>,
    /// The last free day the last clock event recorded (STO-2).
    pub last_free_day: Option<NaiveDate>,
    /// Notices sent, as `last_free_day/days_before` (STO-2).
    pub notices_sent: Vec<String>,
    /// The day of the last notice.
    pub last_notice_on: Option<NaiveDate>,
    /// The day it was marked disposable (STO-2).
    pub disposable_on: Option<NaiveDate>,
    /// On paid extended storage (STO-3).
    pub extended: bool,
    /// Volume units charged per month (STO-3).
    pub extension_units: Option<i64>,
    /// Fee per unit and started month (STO-3).
    pub fee_per_unit_month: Option<Decimal>,
    /// Extended months charged by events.
    pub fee_months_accrued: i32,
    /// Storage fees charged by events (STO-3).
    pub fees_accrued: Decimal,
    /// Their currency.
    pub fee_currency: Option<String>,
    /// Prohibited categories found (INS-4).
    pub quarantined_categories: Vec<String>,
    /// The disposal fee (DSP-1).
    pub disposal_fee: Option<Decimal>,
    /// The rule of the disposal's cause.
    pub disposal_rule: Option<String>,
    /// The day it left without a shipment (returned, refused, cancelled).
    pub left_on: Option<NaiveDate>,
    /// The last policy version recorded.
    pub policy: Option<String>,
}

impl ParcelRow {
    /// The row of a parcel no event has touched yet.
    pub fn new(parcel_id: &str) -> Self {
        Self {
            parcel_id: parcel_id.to_owned(),
            member_id: None,
            suite_code: None,
            state: "unknown".to_owned(),
            shipment_id: None,
            location: None,
            shop: None,
            delivered_on: None,
            received_on: None,
            notify_by: None,
            weight_g: None,
            length_mm: None,
            width_mm: None,
            height_mm: None,
            auto_pack: false,
            declaration_confirmed: false,
            inspection_level: None,
            stored_on: None,
            anchor: None,
            last_free_day: None,
            notices_sent: Vec::new(),
            last_notice_on: None,
            disposable_on: None,
            extended: false,
            extension_units: None,
            fee_per_unit_month: None,
            fee_months_accrued: 0,
            fees_accrued: Decimal::ZERO,
            fee_currency: None,
            quarantined_categories: Vec::new(),
            disposal_fee: None,
            disposal_rule: None,
            left_on: None,
            policy: None,
        }
    }

    /// Folds `change` into the row. Mirrors `Parcel::evolve` for the state.
    pub fn apply(&mut self, change: &ParcelChange) {
        match change {
            ParcelChange::Expected {
                member_id,
                shop,
                policy,
            } => {
                self.state = "expected".into();
                self.member_id = Some(member_id.clone());
                self.shop = Some(shop.clone());
                self.policy = Some(policy.clone());
            }
            ParcelChange::NeverEntered {
                state,
                member_id,
                on,
            } => {
                self.state = (*state).into();
                self.member_id.clone_from(member_id);
                self.left_on = Some(*on);
            }
            ParcelChange::Arrived(a) => {
                self.state = if a.member_id.is_some() {
                    "received"
                } else {
                    "unidentified"
                }
                .into();
                self.member_id.clone_from(&a.member_id);
                self.suite_code.clone_from(&a.suite_code);
                self.shop.clone_from(&a.shop);
                self.delivered_on = Some(a.delivered_on);
                self.received_on = Some(a.received_on);
                self.notify_by = a.notify_by;
                self.weight_g = Some(a.weight_g.into());
                let [l, w, h] = a.dimensions_mm;
                (self.length_mm, self.width_mm, self.height_mm) =
                    (Some(l.into()), Some(w.into()), Some(h.into()));
                self.auto_pack = a.auto_pack;
                self.left_on = None;
                self.policy = Some(a.policy.clone());
            }
            ParcelChange::Attached {
                member_id,
                notify_by,
                auto_pack,
            } => {
                self.state = "received".into();
                self.member_id = Some(member_id.clone());
                self.notify_by = Some(*notify_by);
                self.auto_pack = *auto_pack;
            }
            ParcelChange::Declared => self.declaration_confirmed = false,
            ParcelChange::DeclarationConfirmed => self.declaration_confirmed = true,
            ParcelChange::Inspected { level } => {
                self.inspection_level = Some(level.clone());
                if self.state == "received" {
                    self.state = "inspected".into();
                }
            }
            ParcelChange::Quarantined { categories } => {
                self.state = "quarantined".into();
                self.quarantined_categories.clone_from(categories);
            }
            ParcelChange::Stored {
                location,
                stored_on,
                anchor,
                last_free_day,
                policy,
            } => {
                self.state = "stored".into();
                self.location = Some(location.clone());
                self.stored_on = Some(*stored_on);
                self.anchor = Some(*anchor);
                self.last_free_day = Some(*last_free_day);
                self.policy = Some(policy.clone());
            }
            ParcelChange::State(state) => self.state = (*state).into(),
            ParcelChange::InShipment { state, shipment_id } => {
                self.state = (*state).into();
                self.shipment_id = Some(shipment_id.clone());
            }
            ParcelChange::Released => self.state = "stored".into(),
            ParcelChange::ReturnedToWarehouse {
                shipment_id,
                received_on,
            } => {
                // Mirrors `Parcel::evolve`: packed in it again, the clock from the return.
                self.state = "packed".into();
                self.shipment_id = Some(shipment_id.clone());
                self.received_on = Some(*received_on);
                self.disposable_on = None;
            }
            ParcelChange::NoticeSent { notice, sent_on } => {
                self.notices_sent.push(notice.clone());
                self.last_notice_on = Some(*sent_on);
            }
            ParcelChange::MarkedDisposable {
                anchor,
                last_free_day,
                disposable_on,
            } => {
                self.anchor = Some(*anchor);
                self.last_free_day = Some(*last_free_day);
                self.disposable_on = Some(*disposable_on);
            }
            ParcelChange::Extended {
                anchor,
                last_free_day,
                units,
                fee_per_unit_month,
            } => {
                self.extended = true;
                self.anchor = Some(*anchor);
                self.last_free_day = Some(*last_free_day);
                self.extension_units = i64::try_from(*units).ok();
                self.fee_per_unit_month = Some(fee_per_unit_month.amount);
                self.fee_currency = Some(fee_per_unit_month.currency.code().to_owned());
            }
            ParcelChange::FeeAccrued { month, fee } => {
                self.fee_months_accrued = i32::try_from(*month).unwrap_or(i32::MAX);
                self.fees_accrued += fee.amount;
                self.fee_currency = Some(fee.currency.code().to_owned());
            }
            ParcelChange::Disposed { fee, rule } => {
                // The disposal records no day: it is taken as the last day the parcel's
                // events dated, the day it was marked disposable (or its last notice, or its
                // arrival, for a parcel disposed of on inspection).
                self.left_on = self
                    .disposable_on
                    .or(self.last_notice_on)
                    .or(self.received_on);
                self.state = "disposed".into();
                self.disposal_fee = Some(fee.amount);
                self.disposal_rule = Some(rule.clone());
            }
            ParcelChange::Returned { returned_on } => {
                self.state = "returned".into();
                self.left_on = Some(*returned_on);
            }
        }
    }
}

/// A shipment as the storage-status view keeps it: enough to know when its parcels left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentRow {
    /// The shipment.
    pub shipment_id: String,
    /// Its member.
    pub member_id: Option<String>,
    /// Its state, as `ShipmentStatus` serializes.
    pub state: String,
    /// Its parcels.
    pub parcel_ids: Vec<String>,
    /// The day it was requested.
    pub requested_on: Option<NaiveDate>,
    /// The day it was handed to the carrier.
    pub shipped_on: Option<NaiveDate>,
    /// The carrier's tracking number, once shipped (SHP-1).
    pub tracking_number: Option<String>,
}

impl ShipmentRow {
    /// The row of a shipment no event has touched yet.
    pub fn new(shipment_id: &str) -> Self {
        Self {
            shipment_id: shipment_id.to_owned(),
            member_id: None,
            state: "not_requested".to_owned(),
            parcel_ids: Vec::new(),
            requested_on: None,
            shipped_on: None,
            tracking_number: None,
        }
    }

    /// Folds `change` into the row.
    pub fn apply(&mut self, change: &ShipmentChange) {
        match change {
            ShipmentChange::Requested {
                member_id,
                parcel_ids,
                requested_on,
            } => {
                self.state = "packing_requested".into();
                self.member_id = Some(member_id.clone());
                self.parcel_ids.clone_from(parcel_ids);
                self.requested_on = Some(*requested_on);
            }
            ShipmentChange::State(state) => self.state = (*state).into(),
            ShipmentChange::Shipped {
                shipped_on,
                tracking_number,
            } => {
                self.state = "shipped".into();
                self.shipped_on = Some(*shipped_on);
                self.tracking_number = Some(tracking_number.clone());
            }
        }
    }
}

/// A member as the storage-status view keeps it: who the suite code is, for the people who
/// read parcels by suite code and name. The name is kept as the writer sealed it
/// (`crates/personal-data`): the query API opens it for those who may read it, and it opens
/// no more once the member's data is erased.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    /// The member.
    pub member_id: String,
    /// Their suite code (MEM-1).
    pub suite_code: String,
    /// Their name, sealed; `None` once erased.
    pub name: Option<String>,
    /// `active`, `suspended`, `closed` or `erased`.
    pub state: String,
    /// The warehouse's day of the registration.
    pub registered_on: Option<NaiveDate>,
}

impl MemberRow {
    /// The row of a member no event has touched yet.
    pub fn new(member_id: &str) -> Self {
        Self {
            member_id: member_id.to_owned(),
            suite_code: String::new(),
            name: None,
            state: "unknown".to_owned(),
            registered_on: None,
        }
    }

    /// Folds `change` into the row.
    pub fn apply(&mut self, change: &MemberChange) {
        match change {
            MemberChange::Registered {
                suite_code,
                name,
                registered_on,
            } => {
                self.suite_code.clone_from(suite_code);
                self.name.clone_from(name);
                self.registered_on = Some(*registered_on);
                self.state = "active".into();
            }
            MemberChange::State(state) => self.state = (*state).into(),
            MemberChange::Erased => {
                self.name = None;
                self.state = "erased".into();
            }
        }
    }
}

#[cfg(test)]
mod states {
    use super::STATES;

    /// Every state a row can take is listed, so that the query API accepts it as a filter:
    /// the parcel's states as the domain names them (`ParcelStatus::name`, but `unknown`, the
    /// state of a parcel before its first event) and those the view writes itself.
    #[test]
    fn every_state_a_row_takes_is_listed() {
        let domain = include_str!("../../../domain/src/parcel/mod.rs");
        let names = &domain[domain
            .find("pub fn name(&self)")
            .expect("ParcelStatus::name")..];
        let names = &names[..names.find("\n    }\n").expect("its end")];
        let mut taken: Vec<&str> = names
            .match_indices("=> \"")
            .filter_map(|(at, _)| names[at + 4..].split('"').next())
            .collect();
        let rows = include_str!("rows.rs");
        let parcel_rows = &rows[rows.find("impl ParcelRow").expect("ParcelRow")..];
        let parcel_rows = &parcel_rows[..parcel_rows.find("pub struct ShipmentRow").expect("end")];
        for source in [parcel_rows, include_str!("changes.rs")] {
            for marker in ["state: \"", "state = \""] {
                for (at, _) in source.match_indices(marker) {
                    taken.extend(source[at + marker.len()..].split('"').next());
                }
            }
        }
        assert!(taken.len() > 15, "{taken:?}");
        for state in taken.iter().filter(|s| **s != "unknown" && !s.is_empty()) {
            assert!(STATES.contains(state), "state {state:?} is not in STATES");
        }
    }
}

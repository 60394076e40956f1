//! # The storage-status view
//!
//! "What is in the warehouse right now" and "what must be dealt with today" (STO-4): every
//! parcel by member and state with its location, arrival and storage clock, unidentified
//! parcels (PAR-1), parcels past their limit (STO-2), counts per state.
//!
//! Tables (schema `view_storage_status_v<N>`):
//! - `parcels`: one row per parcel, owned by the parcel's events: its state as the Parcel
//!   aggregate would say (`ParcelStatus::name`), member, shipment, location, measurements, the
//!   storage anchor and last free day the events recorded, notices sent, extended storage and
//!   the fees accrued by events;
//! - `shipments`: one row per shipment, owned by the shipment's events: its state, so that a
//!   packed parcel whose shipment left is no longer "in the warehouse" (joined at query time),
//!   and its tracking number once shipped;
//! - `members`: one row per member, owned by the member's events: suite code, state, and the
//!   name as the writer sealed it, so that people read parcels by suite code and name (the
//!   query API opens the name; erasure makes it unreadable, and the erasure event removes it).
//!
//! Days stored, days left, the next notice, the fee accrued so far and whether a parcel is
//! past its limit depend on the day: [`query`] computes them with
//! `domain::parcel::storage::storage_status`, from the stored facts and the member's earliest
//! waiting arrival (STO-1), for the `today` and policy the caller passes.

mod changes;
mod directory;
mod query;
mod rows;

pub use changes::{Change, MemberChange, ParcelChange, ShipmentChange};
pub use directory::{members, shipments, MemberFilter, ShipmentFilter};
pub use query::{
    counts_per_state, daily, due, due_today, in_warehouse, parcel, parcels_of_member, past_limit,
    Day, DueTask, DueToday, InWarehouse, ParcelStorage,
};
pub use rows::{MemberRow, ParcelRow, ShipmentRow, MEMBERS, PARCELS, SHIPMENTS, STATES};

use crate::decode::{decode, DomainEventOf};
use projection_runtime::{
    rows as table, Dialect, EventEnvelope, Projection, ReduceError, Schema, TableSpec, ViewConn,
};
use std::collections::BTreeMap;

/// The storage-status projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct StorageStatus;

/// The view's name: its instances are `view_storage_status_v<N>`.
pub const NAME: &str = "storage_status";

impl Projection for StorageStatus {
    type Change = Change;

    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [TableSpec] {
        &[PARCELS, SHIPMENTS, MEMBERS]
    }

    fn create_tables(&self, schema: &Schema, dialect: Dialect) -> String {
        rows::ddl(schema, dialect)
    }

    fn reduce(&self, event: &EventEnvelope) -> Result<Vec<Change>, ReduceError> {
        if !matches!(
            event.aggregate_type.as_str(),
            "parcel" | "shipment" | "member"
        ) {
            return Ok(Vec::new());
        }
        Ok(match decode(event)? {
            DomainEventOf::Parcel(e) => ParcelChange::of(&e)
                .map(|change| Change::Parcel {
                    parcel_id: event.aggregate_id.clone(),
                    change,
                })
                .into_iter()
                .collect(),
            DomainEventOf::Shipment(e) => ShipmentChange::of(&e)
                .map(|change| Change::Shipment {
                    shipment_id: event.aggregate_id.clone(),
                    change,
                })
                .into_iter()
                .collect(),
            DomainEventOf::Member(e) => {
                let sealed_name = event
                    .payload
                    .pointer("/registered/name")
                    .and_then(|name| name.as_str());
                MemberChange::of(&e, sealed_name)
                    .map(|change| Change::Member {
                        member_id: event.aggregate_id.clone(),
                        change,
                    })
                    .into_iter()
                    .collect()
            }
            DomainEventOf::Account(_) => Vec::new(),
        })
    }

    async fn apply(
        &self,
        conn: &mut ViewConn<'_>,
        schema: &Schema,
        changes: &[Change],
    ) -> Result<(), sqlx::Error> {
        let mut parcel_keys = Vec::new();
        let mut shipment_keys = Vec::new();
        let mut member_keys = Vec::new();
        for change in changes {
            match change {
                Change::Parcel { parcel_id, .. } => parcel_keys.push(parcel_id.clone()),
                Change::Shipment { shipment_id, .. } => shipment_keys.push(shipment_id.clone()),
                Change::Member { member_id, .. } => member_keys.push(member_id.clone()),
            }
        }
        let mut parcels: BTreeMap<String, ParcelRow> =
            table::load::<ParcelRow>(conn, schema, &PARCELS, &parcel_keys)
                .await?
                .into_iter()
                .map(|row| (row.parcel_id.clone(), row))
                .collect();
        let mut shipments: BTreeMap<String, ShipmentRow> =
            table::load::<ShipmentRow>(conn, schema, &SHIPMENTS, &shipment_keys)
                .await?
                .into_iter()
                .map(|row| (row.shipment_id.clone(), row))
                .collect();
        let mut members: BTreeMap<String, MemberRow> =
            table::load::<MemberRow>(conn, schema, &MEMBERS, &member_keys)
                .await?
                .into_iter()
                .map(|row| (row.member_id.clone(), row))
                .collect();
        for change in changes {
            match change {
                Change::Parcel { parcel_id, change } => parcels
                    .entry(parcel_id.clone())
                    .or_insert_with(|| ParcelRow::new(parcel_id))
                    .apply(change),
                Change::Shipment {
                    shipment_id,
                    change,
                } => shipments
                    .entry(shipment_id.clone())
                    .or_insert_with(|| ShipmentRow::new(shipment_id))
                    .apply(change),
                Change::Member { member_id, change } => members
                    .entry(member_id.clone())
                    .or_insert_with(|| MemberRow::new(member_id))
                    .apply(change),
            }
        }
        let parcels: Vec<ParcelRow> = parcels.into_values().collect();
        let shipments: Vec<ShipmentRow> = shipments.into_values().collect();
        table::upsert(conn, schema, &PARCELS, &parcels).await?;
        table::upsert(conn, schema, &SHIPMENTS, &shipments).await?;
        let members: Vec<MemberRow> = members.into_values().collect();
        table::upsert(conn, schema, &MEMBERS, &members).await?;
        Ok(())
    }
}

//! The storage-status queries. Each reads the serving instance and computes the day-dependent
//! part (days stored, days left, notices, fees so far) for the `today` and policy passed in,
//! with the domain's `storage_status` (STO-1 to STO-4).

use super::changes::notice_key;
use super::NAME;
use crate::{Page, QueryError};
use chrono::NaiveDate;
use domain::measure::Dimensions;
use domain::parcel::storage::{notice_due, storage_status, StorageStatus, StoredBox};
use domain::policy::StorageAnchor;
use domain::Policy;
use projection_runtime::{catalog, ViewDb};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use std::collections::BTreeMap;

/// Waiting in storage, not yet in a shipment (`ParcelStatus::in_storage`).
const IN_STORAGE: &str = "'unidentified', 'received', 'inspected', 'stored', 'packing_requested'";
/// Physically in the warehouse (`ParcelStatus::on_premises`), unless its shipment left.
const ON_PREMISES: &str = "'unidentified', 'received', 'inspected', 'stored', \
    'packing_requested', 'reserved', 'packed', 'held', 'paid', 'quarantined'";
/// Shipment states after the hand-over to the carrier.
const LEFT: &str = "'shipped', 'customs_hold', 'delivered', 'lost'";
/// Shipment states whose parcels stay on the storage clock: not paid for
/// (`ShipmentStatus::keeps_storage_clock`, STO-1).
const CLOCK_SHIPMENT: &str = "'packing_requested', 'packed', 'quoted', 'held', 'returned'";
/// Parcel states in a shipment (`ParcelStatus::shipment_id`).
const IN_SHIPMENT: &str = "'reserved', 'packed', 'held'";

/// Which parcels [`in_warehouse`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InWarehouse {
    /// One member's parcels only.
    pub member_id: Option<String>,
    /// These states only (`stored`, `unidentified`, ...); empty for all.
    pub states: Vec<String>,
}

/// A parcel's storage at a glance, on the day asked (STO-4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParcelStorage {
    /// The parcel.
    pub parcel_id: String,
    /// Its owner; `None` while unidentified (PAR-1).
    pub member_id: Option<String>,
    /// The suite code on its label (PAR-1): how the warehouse names its owner.
    pub suite_code: Option<String>,
    /// The shop it came from.
    pub shop: Option<String>,
    /// Its measured weight, grams.
    pub weight_g: Option<i64>,
    /// Its state (`ParcelStatus::name`), or `shipped` once its shipment left.
    pub state: String,
    /// The shipment it is in or was last in.
    pub shipment_id: Option<String>,
    /// Its shelf.
    pub location: Option<String>,
    /// The receiving business day.
    pub received_on: Option<NaiveDate>,
    /// Notify the member by (PAR-3).
    pub notify_by: Option<NaiveDate>,
    /// The storage clock on the day asked, for a parcel in the warehouse: anchor, days
    /// stored, last free day, days left, past the limit, next notice, extended months and the
    /// extended-storage fee so far.
    pub storage: Option<StorageStatus>,
    /// The storage notice due on the day asked and not sent yet, as days before the limit.
    pub notice_due: Option<u32>,
    /// The day it was marked disposable, if it was.
    pub marked_disposable_on: Option<NaiveDate>,
    /// Extended months charged by events (STO-3).
    pub fee_months_charged: i32,
    /// Storage fees charged by events (STO-3).
    pub fees_charged: Decimal,
}

/// What must be dealt with on a day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DueToday {
    /// Storage notices due and not sent (STO-2).
    pub notices: Vec<ParcelStorage>,
    /// Past the limit and not marked disposable yet (STO-2).
    pub to_mark_disposable: Vec<ParcelStorage>,
    /// Marked disposable, still in storage: a disposal decision is due (STO-2, DSP-1).
    pub to_dispose: Vec<ParcelStorage>,
    /// Extended storage with a started month not charged yet (STO-3).
    pub fees_to_accrue: Vec<ParcelStorage>,
    /// Received today or earlier with the member's notice due by today (PAR-3).
    pub arrivals_to_notify: Vec<ParcelStorage>,
    /// Waiting in the unidentified queue (PAR-1).
    pub unidentified: Vec<ParcelStorage>,
}

#[derive(Debug, Deserialize)]
struct Row {
    parcel_id: String,
    member_id: Option<String>,
    suite_code: Option<String>,
    shop: Option<String>,
    weight_g: Option<i64>,
    state: String,
    effective_state: String,
    shipment_id: Option<String>,
    location: Option<String>,
    received_on: Option<NaiveDate>,
    notify_by: Option<NaiveDate>,
    length_mm: Option<u32>,
    width_mm: Option<u32>,
    height_mm: Option<u32>,
    extended: bool,
    notices_sent: Vec<String>,
    disposable_on: Option<NaiveDate>,
    fee_months_accrued: i32,
    fees_accrued: Decimal,
    earliest_waiting: Option<NaiveDate>,
    shipment_state: Option<String>,
    shipment_earliest: Option<NaiveDate>,
    left_on: Option<NaiveDate>,
    shipped_on: Option<NaiveDate>,
}

/// The filter of [`select`].
#[derive(Default)]
struct Select<'a> {
    parcel_id: Option<&'a str>,
    member_id: Option<&'a str>,
    states: &'a [String],
    after: Option<&'a str>,
    limit: Option<u32>,
    in_warehouse: bool,
    /// Only parcels received by then that had not left before `.0`, and received by `.1`.
    present_between: Option<(NaiveDate, NaiveDate)>,
}

async fn select(db: &ViewDb, filter: Select<'_>) -> Result<Vec<Row>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let limit = filter.limit.map_or(i64::MAX, i64::from);
    let rows: Vec<Json<Row>> = match db {
        ViewDb::Postgres(pool) => {
            let sql = format!(
                "SELECT to_jsonb(r) FROM (
                   SELECT p.parcel_id, p.member_id, p.suite_code, p.shop, p.weight_g, p.state,
                          CASE WHEN p.state IN ('reserved', 'packed', 'held', 'paid') AND sh.state IN ({LEFT})
                               THEN 'shipped' ELSE p.state END AS effective_state,
                          p.shipment_id, p.location, p.received_on, p.notify_by,
                          p.length_mm, p.width_mm, p.height_mm, p.extended, p.notices_sent,
                          p.left_on, sh.shipped_on,
                          p.disposable_on, p.fee_months_accrued, p.fees_accrued::text AS fees_accrued,
                          (SELECT min(w.received_on) FROM {schema}.parcels w
                             LEFT JOIN {schema}.shipments ws ON ws.shipment_id = w.shipment_id
                            WHERE w.member_id = p.member_id
                              AND (w.state IN ({IN_STORAGE})
                                   OR (w.state IN ({IN_SHIPMENT}) AND ws.state IN ({CLOCK_SHIPMENT}))))
                            AS earliest_waiting,
                          sh.state AS shipment_state,
                          (SELECT min(s.received_on) FROM {schema}.parcels s
                            WHERE s.shipment_id = p.shipment_id AND s.state IN ({IN_SHIPMENT}))
                            AS shipment_earliest
                     FROM {schema}.parcels p
                     LEFT JOIN {schema}.shipments sh ON sh.shipment_id = p.shipment_id
                    WHERE ($1::text IS NULL OR p.parcel_id = $1)
                      AND ($2::text IS NULL OR p.member_id = $2)
                      AND (cardinality($3::text[]) = 0 OR p.state = ANY($3))
                      AND ($4::text IS NULL OR p.parcel_id > $4)
                      AND ($7::date IS NULL OR (p.received_on <= $8::date
                           AND coalesce(p.left_on, sh.shipped_on, $7::date) >= $7::date))
                 ) r
                 WHERE NOT $5 OR r.effective_state IN ({ON_PREMISES})
                 ORDER BY r.parcel_id
                 LIMIT $6"
            );
            sqlx::query_scalar(&sql)
                .bind(filter.parcel_id)
                .bind(filter.member_id)
                .bind(filter.states)
                .bind(filter.after)
                .bind(filter.in_warehouse)
                .bind(limit)
                .bind(filter.present_between.map(|(from, _)| from))
                .bind(filter.present_between.map(|(_, to)| to))
                .fetch_all(pool)
                .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            // The same query; dates are ISO text, so `min` and `>` compare them as dates.
            let sql = format!(
                "SELECT json_object(
                          'parcel_id', r.parcel_id, 'member_id', r.member_id, 'state', r.state,
                          'suite_code', r.suite_code, 'shop', r.shop, 'weight_g', r.weight_g,
                          'left_on', r.left_on, 'shipped_on', r.shipped_on,
                          'effective_state', r.effective_state, 'shipment_id', r.shipment_id,
                          'location', r.location, 'received_on', r.received_on,
                          'notify_by', r.notify_by, 'length_mm', r.length_mm,
                          'width_mm', r.width_mm, 'height_mm', r.height_mm,
                          'extended', json(CASE WHEN r.extended THEN 'true' ELSE 'false' END),
                          'notices_sent', json(r.notices_sent), 'disposable_on', r.disposable_on,
                          'fee_months_accrued', r.fee_months_accrued,
                          'fees_accrued', r.fees_accrued, 'earliest_waiting', r.earliest_waiting,
                          'shipment_state', r.shipment_state,
                          'shipment_earliest', r.shipment_earliest)
                   FROM (
                   SELECT p.parcel_id, p.member_id, p.suite_code, p.shop, p.weight_g, p.state,
                          CASE WHEN p.state IN ('reserved', 'packed', 'held', 'paid') AND sh.state IN ({LEFT})
                               THEN 'shipped' ELSE p.state END AS effective_state,
                          p.shipment_id, p.location, p.received_on, p.notify_by,
                          p.length_mm, p.width_mm, p.height_mm, p.extended, p.notices_sent,
                          p.left_on, sh.shipped_on,
                          p.disposable_on, p.fee_months_accrued, p.fees_accrued,
                          (SELECT min(w.received_on) FROM {schema}_parcels w
                             LEFT JOIN {schema}_shipments ws ON ws.shipment_id = w.shipment_id
                            WHERE w.member_id = p.member_id
                              AND (w.state IN ({IN_STORAGE})
                                   OR (w.state IN ({IN_SHIPMENT}) AND ws.state IN ({CLOCK_SHIPMENT}))))
                            AS earliest_waiting,
                          sh.state AS shipment_state,
                          (SELECT min(s.received_on) FROM {schema}_parcels s
                            WHERE s.shipment_id = p.shipment_id AND s.state IN ({IN_SHIPMENT}))
                            AS shipment_earliest
                     FROM {schema}_parcels p
                     LEFT JOIN {schema}_shipments sh ON sh.shipment_id = p.shipment_id
                    WHERE (?1 IS NULL OR p.parcel_id = ?1)
                      AND (?2 IS NULL OR p.member_id = ?2)
                      AND (json_array_length(?3) = 0 OR p.state IN (SELECT value FROM json_each(?3)))
                      AND (?4 IS NULL OR p.parcel_id > ?4)
                      AND (?7 IS NULL OR (p.received_on <= ?8
                           AND coalesce(p.left_on, sh.shipped_on, ?7) >= ?7))
                 ) r
                 WHERE NOT ?5 OR r.effective_state IN ({ON_PREMISES})
                 ORDER BY r.parcel_id
                 LIMIT ?6"
            );
            sqlx::query_scalar(&sql)
                .bind(filter.parcel_id)
                .bind(filter.member_id)
                .bind(Json(filter.states))
                .bind(filter.after)
                .bind(filter.in_warehouse)
                .bind(limit)
                .bind(filter.present_between.map(|(from, _)| from))
                .bind(filter.present_between.map(|(_, to)| to))
                .fetch_all(views.reader())
                .await?
        }
    };
    Ok(rows.into_iter().map(|Json(row)| row).collect())
}

fn in_storage(state: &str) -> bool {
    matches!(
        state,
        "unidentified" | "received" | "inspected" | "stored" | "packing_requested"
    )
}

fn on_premises(state: &str) -> bool {
    in_storage(state)
        || matches!(
            state,
            "reserved" | "packed" | "held" | "paid" | "quarantined"
        )
}

impl Row {
    /// In a shipment not paid for (`ShipmentStatus::keeps_storage_clock`, STO-1).
    fn in_unpaid_shipment(&self) -> bool {
        self.shipment_id.is_some()
            && matches!(self.state.as_str(), "reserved" | "packed" | "held")
            && self.shipment_state.as_deref().is_some_and(|s| {
                matches!(
                    s,
                    "packing_requested" | "packed" | "quoted" | "held" | "returned"
                )
            })
    }

    /// On the storage clock: waiting, or in a shipment not paid for (STO-1).
    fn on_clock(&self) -> bool {
        in_storage(&self.state) || self.in_unpaid_shipment()
    }

    /// The storage clock on `today`, for a parcel on the premises; `None` elsewhere.
    fn clock_on(&self, today: NaiveDate, policy: &Policy) -> Option<StorageStatus> {
        let dimensions = match (self.length_mm, self.width_mm, self.height_mm) {
            (Some(l), Some(w), Some(h)) => Dimensions::from_mm(l, w, h).ok(),
            _ => None,
        };
        // STO-1: a parcel in a shipment not paid for stays on the clock, which runs from the
        // shipment's earliest arrival (and, under `first-waiting-arrival`, the member's
        // earliest waiting one, as for a waiting parcel).
        let in_shipment = self.in_unpaid_shipment();
        let waiting = self.on_clock();
        let earliest = if in_shipment {
            let members = self
                .earliest_waiting
                .filter(|_| policy.storage.anchor == StorageAnchor::FirstWaitingArrival);
            match (members, self.shipment_earliest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        } else {
            self.earliest_waiting.filter(|_| waiting)
        };
        match (self.received_on, dimensions) {
            (Some(received_on), Some(dimensions)) if on_premises(&self.effective_state) => {
                let parcel = StoredBox {
                    received_on,
                    dimensions,
                    extended_storage: self.extended,
                    in_shipment,
                };
                Some(storage_status(&parcel, today, earliest, policy))
            }
            _ => None,
        }
    }

    fn storage(self, today: NaiveDate, policy: &Policy) -> ParcelStorage {
        let storage = self.clock_on(today, policy);
        let waiting = self.on_clock();
        let notice = storage
            .as_ref()
            .filter(|_| waiting && !self.extended && self.member_id.is_some())
            .and_then(|s| {
                notice_due(s.last_free_day, today, &policy.storage.notice_days_before)
                    .filter(|&d| !self.notices_sent.contains(&notice_key(s.last_free_day, d)))
            });
        ParcelStorage {
            parcel_id: self.parcel_id,
            member_id: self.member_id,
            suite_code: self.suite_code,
            shop: self.shop,
            weight_g: self.weight_g,
            state: self.effective_state,
            shipment_id: self.shipment_id,
            location: self.location,
            received_on: self.received_on,
            notify_by: self.notify_by,
            storage,
            notice_due: notice,
            marked_disposable_on: self.disposable_on,
            fee_months_charged: self.fee_months_accrued,
            fees_charged: self.fees_accrued,
        }
    }
}

/// The parcels in the warehouse now (on the premises, not in a shipment that left), by member
/// and state, a page at a time in parcel id order, with their storage clock on `today`.
pub async fn in_warehouse(
    db: &ViewDb,
    filter: &InWarehouse,
    page: &Page<String>,
    today: NaiveDate,
    policy: &Policy,
) -> Result<Vec<ParcelStorage>, QueryError> {
    let rows = select(
        db,
        Select {
            member_id: filter.member_id.as_deref(),
            states: &filter.states,
            after: page.after.as_deref(),
            limit: Some(page.limit),
            in_warehouse: true,
            ..Select::default()
        },
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.storage(today, policy)).collect())
}

/// One parcel, wherever it is, with its storage clock on `today` while in the warehouse.
pub async fn parcel(
    db: &ViewDb,
    parcel_id: &str,
    today: NaiveDate,
    policy: &Policy,
) -> Result<Option<ParcelStorage>, QueryError> {
    let rows = select(
        db,
        Select {
            parcel_id: Some(parcel_id),
            ..Select::default()
        },
    )
    .await?;
    Ok(rows.into_iter().next().map(|r| r.storage(today, policy)))
}

/// The states of the parcels on the storage clock: waiting, or in a shipment (STO-1).
fn clock_states() -> Vec<String> {
    [IN_STORAGE, IN_SHIPMENT]
        .join(", ")
        .split(", ")
        .map(|s| s.trim_matches('\'').to_owned())
        .collect()
}

/// The parcels on the storage clock (STO-1) that `keep` keeps on `today`, a page in parcel id
/// order. The view is read a chunk at a time from the page's start, so a page costs the rows
/// up to its last one, never the whole warehouse.
async fn on_clock_page(
    db: &ViewDb,
    page: &Page<String>,
    today: NaiveDate,
    policy: &Policy,
    keep: impl Fn(&ParcelStorage) -> bool,
) -> Result<Vec<ParcelStorage>, QueryError> {
    const CHUNK: u32 = 500;
    let states = clock_states();
    let wanted = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let mut after = page.after.clone();
    let mut kept = Vec::new();
    loop {
        let rows = select(
            db,
            Select {
                states: &states,
                after: after.as_deref(),
                limit: Some(CHUNK),
                in_warehouse: true,
                ..Select::default()
            },
        )
        .await?;
        let exhausted = rows.len() < CHUNK as usize;
        after = rows.last().map(|row| row.parcel_id.clone());
        for row in rows.into_iter().filter(Row::on_clock) {
            let parcel = row.storage(today, policy);
            if keep(&parcel) {
                kept.push(parcel);
                if kept.len() >= wanted {
                    return Ok(kept);
                }
            }
        }
        if exhausted {
            return Ok(kept);
        }
    }
}

/// The waiting parcels past their free storage on `today` and not on paid extended storage:
/// they may be disposed of (STO-2). A page in parcel id order.
pub async fn past_limit(
    db: &ViewDb,
    page: &Page<String>,
    today: NaiveDate,
    policy: &Policy,
) -> Result<Vec<ParcelStorage>, QueryError> {
    on_clock_page(db, page, today, policy, past).await
}

fn past(parcel: &ParcelStorage) -> bool {
    parcel.storage.as_ref().is_some_and(|s| s.disposable)
}

/// One list of [`DueToday`]: a kind of work due on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueTask {
    /// Storage notices due and not sent (STO-2).
    Notices,
    /// Past the limit and not marked disposable yet (STO-2).
    ToMarkDisposable,
    /// Marked disposable, still in storage: a disposal decision is due (STO-2, DSP-1).
    ToDispose,
    /// Extended storage with a started month not charged yet (STO-3).
    FeesToAccrue,
    /// Received with the member's notice due by the day (PAR-3).
    ArrivalsToNotify,
    /// Waiting in the unidentified queue (PAR-1).
    Unidentified,
}

impl DueTask {
    /// Every task, in the order [`DueToday`] lists them.
    pub const ALL: [DueTask; 6] = [
        DueTask::Notices,
        DueTask::ToMarkDisposable,
        DueTask::ToDispose,
        DueTask::FeesToAccrue,
        DueTask::ArrivalsToNotify,
        DueTask::Unidentified,
    ];

    /// The names, as [`DueToday`]'s fields and the query API spell them.
    pub const NAMES: [&'static str; 6] = [
        "notices",
        "to_mark_disposable",
        "to_dispose",
        "fees_to_accrue",
        "arrivals_to_notify",
        "unidentified",
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The task named `name`.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|task| task.name() == name)
    }

    /// Whether `parcel`, on the clock, is this work on `today`.
    fn applies(self, parcel: &ParcelStorage, today: NaiveDate) -> bool {
        match self {
            DueTask::Notices => parcel.notice_due.is_some(),
            DueTask::ToMarkDisposable => past(parcel) && parcel.marked_disposable_on.is_none(),
            // Disposal past the limit is of a waiting parcel (DSP-1); a marked parcel of a
            // held shipment is disposed of for non-payment (PAY-2), a decision of its own.
            DueTask::ToDispose => {
                parcel.marked_disposable_on.is_some() && in_storage(&parcel.state)
            }
            // Extended storage accrues while waiting, as before STO-1 brought shipments'
            // parcels in.
            DueTask::FeesToAccrue => {
                in_storage(&parcel.state)
                    && parcel.storage.as_ref().is_some_and(|s| {
                        i64::from(s.extended_months) > i64::from(parcel.fee_months_charged)
                    })
            }
            DueTask::ArrivalsToNotify => {
                parcel.state == "received" && parcel.notify_by.is_some_and(|d| d <= today)
            }
            DueTask::Unidentified => parcel.state == "unidentified",
        }
    }
}

/// The parcels that are `task` on `today`, a page in parcel id order.
pub async fn due(
    db: &ViewDb,
    task: DueTask,
    page: &Page<String>,
    today: NaiveDate,
    policy: &Policy,
) -> Result<Vec<ParcelStorage>, QueryError> {
    on_clock_page(db, page, today, policy, |parcel| {
        task.applies(parcel, today)
    })
    .await
}

/// What must be dealt with on `today`, every task whole: notices, disposals, fees to accrue,
/// arrivals to notify, the unidentified queue.
pub async fn due_today(
    db: &ViewDb,
    today: NaiveDate,
    policy: &Policy,
) -> Result<DueToday, QueryError> {
    let mut due = DueToday::default();
    for parcel in on_clock_page(db, &Page::all(), today, policy, |_| true).await? {
        for task in DueTask::ALL {
            if task.applies(&parcel, today) {
                due.list_mut(task).push(parcel.clone());
            }
        }
    }
    Ok(due)
}

impl DueToday {
    fn list_mut(&mut self, task: DueTask) -> &mut Vec<ParcelStorage> {
        match task {
            DueTask::Notices => &mut self.notices,
            DueTask::ToMarkDisposable => &mut self.to_mark_disposable,
            DueTask::ToDispose => &mut self.to_dispose,
            DueTask::FeesToAccrue => &mut self.fees_to_accrue,
            DueTask::ArrivalsToNotify => &mut self.arrivals_to_notify,
            DueTask::Unidentified => &mut self.unidentified,
        }
    }
}

/// How many parcels are in each state, every parcel the view knows; a packed parcel whose
/// shipment left counts as `shipped`.
pub async fn counts_per_state(db: &ViewDb) -> Result<BTreeMap<String, i64>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let effective = format!(
        "CASE WHEN p.state IN ('reserved', 'packed', 'held', 'paid') AND sh.state IN ({LEFT})
              THEN 'shipped' ELSE p.state END"
    );
    let rows: Vec<(String, i64)> = match db {
        ViewDb::Postgres(pool) => {
            sqlx::query_as(&format!(
                "SELECT {effective} AS effective_state, count(*)
                   FROM {schema}.parcels p
                   LEFT JOIN {schema}.shipments sh ON sh.shipment_id = p.shipment_id
                  GROUP BY 1"
            ))
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_as(&format!(
                "SELECT {effective} AS effective_state, count(*)
                   FROM {schema}_parcels p
                   LEFT JOIN {schema}_shipments sh ON sh.shipment_id = p.shipment_id
                  GROUP BY 1"
            ))
            .fetch_all(views.reader())
            .await?
        }
    };
    Ok(rows.into_iter().collect())
}

/// Every parcel of `member_id`, wherever it is, a page in parcel id order, with its storage
/// clock on `today` while in the warehouse.
pub async fn parcels_of_member(
    db: &ViewDb,
    member_id: &str,
    page: &Page<String>,
    today: NaiveDate,
    policy: &Policy,
) -> Result<Vec<ParcelStorage>, QueryError> {
    let rows = select(
        db,
        Select {
            member_id: Some(member_id),
            after: page.after.as_deref(),
            limit: Some(page.limit),
            ..Select::default()
        },
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.storage(today, policy)).collect())
}

/// One day of the warehouse, as [`daily`] counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    /// The day.
    pub date: NaiveDate,
    /// Parcels on the premises at the end of the day.
    pub in_warehouse: u64,
    /// Of those, the ones past their free storage that day (STO-2).
    pub past_limit: u64,
    /// Parcels received that day (TIM-2).
    pub arrivals: u64,
    /// Shipments handed to the carrier that day (SHP-1); one sent again after a return counts
    /// on its last hand-over.
    pub shipments: u64,
}

/// Each day from `from` to `to`: parcels in the warehouse, past their limit, arrived, and
/// shipments sent. Counted from each parcel's row as it is now: in the warehouse from its
/// receiving day until the day it left (its shipment handed over, or returned, refused,
/// cancelled; a disposed parcel until the day before it was marked disposable, or arrived if
/// it never was, as the disposal records no day of its own), and past its limit on the days its storage clock, with today's facts, says
/// so: exact for the parcels still waiting, which are the ones the past-limit list names. The
/// view is read 500 rows at a time, only the parcels present in the period.
pub async fn daily(
    db: &ViewDb,
    from: NaiveDate,
    to: NaiveDate,
    policy: &Policy,
) -> Result<Vec<Day>, QueryError> {
    const CHUNK: u32 = 500;
    let span = usize::try_from((to - from).num_days() + 1).unwrap_or(0);
    let mut days: Vec<Day> = from
        .iter_days()
        .take(span)
        .map(|date| Day {
            date,
            in_warehouse: 0,
            past_limit: 0,
            arrivals: 0,
            shipments: 0,
        })
        .collect();
    let index = |day: NaiveDate| usize::try_from((day - from).num_days()).ok();
    let mut after: Option<String> = None;
    loop {
        let rows = select(
            db,
            Select {
                after: after.as_deref(),
                limit: Some(CHUNK),
                present_between: Some((from, to)),
                ..Select::default()
            },
        )
        .await?;
        let exhausted = rows.len() < CHUNK as usize;
        after = rows.last().map(|row| row.parcel_id.clone());
        for row in &rows {
            let Some(received_on) = row.received_on else {
                continue;
            };
            if let Some(day) = index(received_on).and_then(|i| days.get_mut(i)) {
                day.arrivals += 1;
            }
            let here = on_premises(&row.effective_state);
            let left = if here {
                None
            } else {
                Some(
                    row.left_on
                        .or(row.shipped_on)
                        .unwrap_or_else(|| received_on.succ_opt().unwrap_or(received_on)),
                )
            };
            let waiting = here && row.on_clock();
            for day in days.iter_mut().filter(|d| d.date >= received_on) {
                if left.is_some_and(|left| day.date >= left) {
                    break;
                }
                day.in_warehouse += 1;
                if waiting && row.clock_on(day.date, policy).is_some_and(|s| s.disposable) {
                    day.past_limit += 1;
                }
            }
        }
        if exhausted {
            break;
        }
    }
    for (shipped_on, count) in shipped_per_day(db, from, to).await? {
        if let Some(day) = index(shipped_on).and_then(|i| days.get_mut(i)) {
            day.shipments = u64::try_from(count).unwrap_or(0);
        }
    }
    Ok(days)
}

/// Shipments handed to the carrier on each day from `from` to `to`.
async fn shipped_per_day(
    db: &ViewDb,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, i64)>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    Ok(match db {
        ViewDb::Postgres(pool) => {
            sqlx::query_as(&format!(
                "SELECT shipped_on, count(*) FROM {schema}.shipments
                  WHERE shipped_on BETWEEN $1 AND $2 GROUP BY 1"
            ))
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_as(&format!(
                "SELECT shipped_on, count(*) FROM {schema}_shipments
                  WHERE shipped_on BETWEEN ?1 AND ?2 GROUP BY 1"
            ))
            .bind(from)
            .bind(to)
            .fetch_all(views.reader())
            .await?
        }
    })
}

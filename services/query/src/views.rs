//! [`Views`]: the handle on the read models, and the one module of the service that calls the
//! `projections` query functions and the projection runtime. Every other module asks [`Views`],
//! so moving the service to another backend changes this file only.

use chrono::{DateTime, NaiveDate, Utc};
use domain::Policy;
use event_store::sqlite::SqliteEventStore;
use event_store::{EventLog, EventStore, GlobalCursor};
use projection_runtime::parked::ParkedKey;
use projection_runtime::{catalog, parked, RuntimeError};
use projections::audit::query::AuditKey;
use projections::audit::{self, AuditEntry, AuditFilter};
use projections::billing::{
    self, AccountStatement, DueKey, FeeKey, FeeTotal, OpenQuote, Overdue, RefundDue,
};
use projections::storage_status::{
    self, Day, DueTask, InWarehouse, MemberFilter, MemberRow, ParcelStorage, ShipmentFilter,
    ShipmentRow,
};
use projections::ViewDb;
use projections::{Page, QueryError};
use serde::Serialize;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::time::Duration;

/// The views the service reads, in the order the dashboard shows them.
pub const VIEW_NAMES: [&str; 3] = [storage_status::NAME, billing::NAME, audit::NAME];

/// Fees grouped by type or by month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeGrouping {
    /// By reason code and currency.
    Type,
    /// By month, reason code and currency.
    Month,
}

/// A position in the store's global order, as JSON shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Position {
    /// The appending transaction (0 on SQLite).
    pub txid: String,
    /// The event's position.
    pub position: i64,
}

impl From<GlobalCursor> for Position {
    fn from(cursor: GlobalCursor) -> Self {
        Self {
            txid: cursor.txid.to_string(),
            position: cursor.position,
        }
    }
}

/// How one view is doing: which instance serves, how far it has read, how far behind the
/// event store it is, and what is parked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ViewHealth {
    /// The view (`storage_status`, `billing`, `audit`).
    pub view: &'static str,
    /// The serving instance's schema; `None` before a projector made one.
    pub serving: Option<String>,
    /// The last event applied: the instance's checkpoint.
    pub last_applied: Option<Position>,
    /// The newest event in the store.
    pub head: Option<Position>,
    /// Events in the store after the checkpoint, counted up to [`LAG_COUNTED_UP_TO`].
    pub lag_events: i64,
    /// More events wait than `lag_events` says: the count stopped at its bound, so that the
    /// health page answers at once however long the backlog.
    pub lag_events_more: bool,
    /// Seconds since the oldest event not applied yet was recorded (by the database's clock);
    /// 0 when caught up.
    pub lag_seconds: f64,
    /// Parked events waiting for a replay, counted up to [`LAG_COUNTED_UP_TO`].
    pub parked: u64,
    /// More events are parked than `parked` says: the count stopped at its bound.
    pub parked_more: bool,
    /// Events wait, and the oldest has waited longer than the service's `stuck_after`.
    pub stuck: bool,
    /// `ok`, `catching_up`, `stuck`, `parked` (caught up but events parked) or `missing`.
    pub status: &'static str,
}

/// A parked event as the health endpoint lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parked {
    /// The event's aggregate type.
    pub aggregate_type: String,
    /// The event's aggregate.
    pub aggregate_id: String,
    /// Its sequence.
    pub sequence: i64,
    /// Its type.
    pub event_type: String,
    /// Its position in the global order.
    pub position: Position,
    /// `poison`, `gap`, `blocked` or `apply_failed`.
    pub reason: String,
    /// Why, in words.
    pub error: String,
    /// Times it was tried.
    pub attempts: i32,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
}

/// How far the health page counts a view's backlog and its parked events (a bounded index
/// range per view).
pub const LAG_COUNTED_UP_TO: u64 = 10_000;

/// The read models, and the event store they follow (for the health's lag): cheap to clone.
#[derive(Debug, Clone)]
pub struct Views {
    views: ViewDb,
    events: Events,
}

/// Where the events are, for the store's head and a view's lag.
#[derive(Debug, Clone)]
enum Events {
    /// The views are in the same database.
    Postgres(EventStore),
    /// The embedded store's file.
    Sqlite(SqliteEventStore),
}

impl Views {
    /// The views in the database `pool` reads (the event store's database).
    pub fn postgres(pool: PgPool) -> Self {
        Self {
            views: ViewDb::from(&pool),
            events: Events::Postgres(EventStore::from_pool(pool)),
        }
    }

    /// The embedded mode's views file, following the embedded store `events`.
    pub fn embedded(views: ViewDb, events: &SqliteEventStore) -> Self {
        Self {
            views,
            events: Events::Sqlite(events.clone()),
        }
    }

    /// Ok when the database answers within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), QueryError> {
        let answer = async {
            match &self.events {
                Events::Postgres(store) => sqlx::query_scalar::<_, i32>("SELECT 1")
                    .fetch_one(store.pool())
                    .await
                    .map(drop),
                Events::Sqlite(store) => sqlx::query_scalar::<_, i32>("SELECT 1")
                    .fetch_one(store.reader())
                    .await
                    .map(drop),
            }
        };
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(error.into()),
            Err(_) => Err(QueryError::Database(sqlx::Error::PoolTimedOut)),
        }
    }

    /// The parcels in the warehouse matching `filter`, a page in parcel id order.
    pub async fn parcels(
        &self,
        filter: &InWarehouse,
        page: &Page<String>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelStorage>, QueryError> {
        storage_status::in_warehouse(&self.views, filter, page, today, policy).await
    }

    /// One parcel, wherever it is.
    pub async fn parcel(
        &self,
        parcel_id: &str,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Option<ParcelStorage>, QueryError> {
        storage_status::parcel(&self.views, parcel_id, today, policy).await
    }

    /// The parcels that are `task` on `today`, a page in parcel id order.
    pub async fn due(
        &self,
        task: DueTask,
        page: &Page<String>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelStorage>, QueryError> {
        storage_status::due(&self.views, task, page, today, policy).await
    }

    /// The waiting parcels past their free storage on `today`, a page in parcel id order.
    pub async fn past_limit(
        &self,
        page: &Page<String>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelStorage>, QueryError> {
        storage_status::past_limit(&self.views, page, today, policy).await
    }

    /// Parcels per state.
    pub async fn counts(&self) -> Result<BTreeMap<String, i64>, QueryError> {
        storage_status::counts_per_state(&self.views).await
    }

    /// Every parcel of a member, wherever it is, a page in parcel id order.
    pub async fn member_parcels(
        &self,
        member_id: &str,
        page: &Page<String>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<ParcelStorage>, QueryError> {
        storage_status::parcels_of_member(&self.views, member_id, page, today, policy).await
    }

    /// Members, with their names sealed, a page in member id order.
    pub async fn members(
        &self,
        filter: MemberFilter<'_>,
        page: &Page<String>,
    ) -> Result<Vec<MemberRow>, QueryError> {
        storage_status::members(&self.views, filter, page).await
    }

    /// Shipments, newest request first.
    pub async fn shipments(
        &self,
        filter: ShipmentFilter<'_>,
        limit: u32,
    ) -> Result<Vec<ShipmentRow>, QueryError> {
        storage_status::shipments(&self.views, filter, limit).await
    }

    /// The warehouse day by day, from `from` to `to`.
    pub async fn daily(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<Day>, QueryError> {
        storage_status::daily(&self.views, from, to, policy).await
    }

    /// A charge account with its movements.
    pub async fn account(&self, account_id: &str) -> Result<Option<AccountStatement>, QueryError> {
        billing::account(&self.views, account_id).await
    }

    /// Quotes waiting for payment, one member's or all, a page by due date.
    pub async fn open_quotes(
        &self,
        member_id: Option<&str>,
        page: &Page<DueKey>,
    ) -> Result<Vec<OpenQuote>, QueryError> {
        billing::open_quotes(&self.views, member_id, page).await
    }

    /// Quotes unpaid past due on `today`, with interest, a page by due date.
    pub async fn overdue(
        &self,
        page: &Page<DueKey>,
        today: NaiveDate,
        policy: &Policy,
    ) -> Result<Vec<Overdue>, QueryError> {
        billing::overdue(&self.views, page, today, policy).await
    }

    /// Fees charged, grouped, a page in the grouping's order.
    pub async fn fees(
        &self,
        grouping: FeeGrouping,
        page: &Page<FeeKey>,
        policy: &Policy,
    ) -> Result<Vec<FeeTotal>, QueryError> {
        match grouping {
            FeeGrouping::Type => billing::fees_by_type(&self.views, page, policy).await,
            FeeGrouping::Month => billing::fees_by_month(&self.views, page, policy).await,
        }
    }

    /// Withdrawal refunds scheduled and not paid, a page by due date.
    pub async fn refunds_due(&self, page: &Page<DueKey>) -> Result<Vec<RefundDue>, QueryError> {
        billing::refunds_due(&self.views, page).await
    }

    /// Audit entries matching `filter`, a page in the global order.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        page: &Page<AuditKey>,
    ) -> Result<Vec<AuditEntry>, QueryError> {
        audit::search(&self.views, filter, page).await
    }

    /// One aggregate's events in sequence order.
    pub async fn history(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<AuditEntry>, QueryError> {
        audit::history(&self.views, aggregate_type, aggregate_id, None).await
    }

    /// Whether `view` has applied every event up to `cursor` in the global order (its
    /// checkpoint is at or past it); `false` while it has no instance.
    pub async fn has_applied(&self, view: &str, cursor: GlobalCursor) -> Result<bool, QueryError> {
        let Some(schema) = current(&self.views, view).await? else {
            return Ok(false);
        };
        Ok(catalog::checkpoint(&self.views, &schema, view).await? >= cursor)
    }

    /// The health of every view; a view waiting longer than `stuck_after` is stuck.
    pub async fn health(&self, stuck_after: Duration) -> Result<Vec<ViewHealth>, QueryError> {
        let head = self.head().await?;
        let mut health = Vec::with_capacity(VIEW_NAMES.len());
        for view in VIEW_NAMES {
            health.push(self.view_health(view, head.clone(), stuck_after).await?);
        }
        Ok(health)
    }

    /// Whether the store has given `cursor`: its newest committed event is at or after it. A
    /// command answers the position of an event it committed, so a later one is none it gave.
    pub async fn has_given(&self, cursor: GlobalCursor) -> Result<bool, QueryError> {
        let head = match &self.events {
            Events::Postgres(store) => store.head().await?,
            Events::Sqlite(store) => store.head().await?,
        };
        Ok(cursor <= GlobalCursor::START || head.is_some_and(|head| head >= cursor))
    }

    /// The newest event in the store's global order.
    async fn head(&self) -> Result<Option<Position>, QueryError> {
        let head = match &self.events {
            Events::Postgres(store) => store.head().await?,
            Events::Sqlite(store) => store.head().await?,
        };
        Ok(head.map(|cursor| Position {
            txid: cursor.txid.to_string(),
            position: cursor.position,
        }))
    }

    /// The events after `cursor` in the global order: how many (up to
    /// [`LAG_COUNTED_UP_TO`], and whether more wait), and how many seconds the first of them
    /// has waited (by the clock that stamped `recorded_at`: the database's, or on SQLite the
    /// process's, against this process's).
    async fn backlog(&self, cursor: GlobalCursor) -> Result<(i64, bool, f64), QueryError> {
        let backlog = match &self.events {
            Events::Postgres(store) => store.backlog_at_most(cursor, LAG_COUNTED_UP_TO).await?,
            Events::Sqlite(store) => store.backlog_at_most(cursor, LAG_COUNTED_UP_TO).await?,
        };
        let waited = backlog.oldest_recorded_at.map_or(0.0, |oldest| {
            ((Utc::now() - oldest).num_milliseconds() as f64 / 1000.0).max(0.0)
        });
        let events = i64::try_from(backlog.events).unwrap_or(i64::MAX);
        Ok((events, backlog.more, waited))
    }

    async fn view_health(
        &self,
        view: &'static str,
        head: Option<Position>,
        stuck_after: Duration,
    ) -> Result<ViewHealth, QueryError> {
        let Some(schema) = current(&self.views, view).await? else {
            let (waiting, more, _) = self.backlog(GlobalCursor::START).await?;
            return Ok(ViewHealth {
                view,
                serving: None,
                last_applied: None,
                head,
                lag_events: waiting,
                lag_events_more: more,
                lag_seconds: 0.0,
                parked: 0,
                parked_more: false,
                stuck: false,
                status: "missing",
            });
        };
        let checkpoint = catalog::checkpoint(&self.views, &schema, view).await?;
        let (lag_events, lag_events_more, lag_seconds) = self.backlog(checkpoint).await?;
        let (parked, parked_more) =
            parked::waiting_count_in(&self.views, &schema, view, LAG_COUNTED_UP_TO).await?;
        let lag_seconds = lag_seconds.max(0.0);
        let stuck = lag_events > 0 && lag_seconds > stuck_after.as_secs_f64();
        let status = match (stuck, lag_events > 0, parked > 0) {
            (true, _, _) => "stuck",
            (false, true, _) => "catching_up",
            (false, false, true) => "parked",
            (false, false, false) => "ok",
        };
        Ok(ViewHealth {
            view,
            serving: Some(schema.to_string()),
            last_applied: Some(checkpoint.into()),
            head,
            lag_events,
            lag_events_more,
            lag_seconds,
            parked,
            parked_more,
            stuck,
            status,
        })
    }

    /// The parked events of `view`'s serving instance, waiting ones only, a page in aggregate
    /// and sequence order; `None` when the view has no serving instance.
    pub async fn parked(
        &self,
        view: &str,
        page: &Page<ParkedKey>,
    ) -> Result<Option<Vec<Parked>>, QueryError> {
        let Some(schema) = current(&self.views, view).await? else {
            return Ok(None);
        };
        let events =
            parked::page_in(&self.views, &schema, view, page.after.as_ref(), page.limit).await?;
        Ok(Some(
            events
                .into_iter()
                .map(|parked| Parked {
                    aggregate_type: parked.event.aggregate_type,
                    aggregate_id: parked.event.aggregate_id,
                    sequence: parked.event.sequence,
                    event_type: parked.event.event_type,
                    position: parked.event.cursor.into(),
                    reason: parked.reason,
                    error: parked.error,
                    attempts: parked.attempts,
                    parked_at: parked.parked_at,
                })
                .collect(),
        ))
    }
}

/// The serving instance of `view`; `None` also before any projector created the catalog.
async fn current(
    views: &ViewDb,
    view: &str,
) -> Result<Option<projection_runtime::Schema>, QueryError> {
    match catalog::current(views, view).await {
        Ok(schema) => Ok(schema),
        Err(RuntimeError::Database(sqlx::Error::Database(error)))
            if catalog_missing(error.as_ref()) =>
        {
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

/// The catalog table does not exist yet: PostgreSQL's `undefined_table`, SQLite's
/// "no such table".
fn catalog_missing(error: &dyn sqlx::error::DatabaseError) -> bool {
    error.code().as_deref() == Some("42P01") || error.message().starts_with("no such table")
}

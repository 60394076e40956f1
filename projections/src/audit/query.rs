//! The audit queries: search, history as of a moment, and an aggregate's state as of a moment.

use super::rows::{AuditRow, EVENTS};
use super::NAME;
use crate::{Page, QueryError};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use projection_runtime::{catalog, ViewDb};
use sqlx::types::Json;
use std::collections::BTreeSet;

/// An audit entry: the recorded event with its context.
pub type AuditEntry = AuditRow;

/// What [`search`] looks for; every field set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The aggregate type (`parcel`, ...).
    pub aggregate_type: Option<String>,
    /// The aggregate's id.
    pub aggregate_id: Option<String>,
    /// Events naming this id (a parcel's movements, a member's parcels, ...).
    pub related_id: Option<String>,
    /// The event type.
    pub event_type: Option<String>,
    /// The actor.
    pub actor: Option<String>,
    /// The correlation id.
    pub correlation_id: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub until: Option<DateTime<Utc>>,
}

/// The position of an entry in the global order, for paging: `(txid, position)`.
pub type AuditKey = (String, i64);

/// The events matching `filter`, in the store's global order, a page at a time.
pub async fn search(
    db: &ViewDb,
    filter: &AuditFilter,
    page: &Page<AuditKey>,
) -> Result<Vec<AuditEntry>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let (after_txid, after_position) = page.after.clone().unzip();
    let rows: Vec<Json<AuditRow>> = match db {
        ViewDb::Postgres(pool) => {
            sqlx::query_scalar(&format!(
                "SELECT to_jsonb(r) FROM (
                   SELECT {list} FROM {schema}.events e
                    WHERE ($1::text IS NULL OR aggregate_type = $1)
                      AND ($2::text IS NULL OR aggregate_id = $2)
                      AND ($3::text IS NULL OR related_ids @> ARRAY[$3::text]
                           OR (aggregate_id = $3 AND $2::text IS NULL))
                      AND ($4::text IS NULL OR event_type = $4)
                      AND ($5::text IS NULL OR actor = $5)
                      AND ($6::text IS NULL OR correlation_id = $6)
                      AND ($7::timestamptz IS NULL OR recorded_at >= $7)
                      AND ($8::timestamptz IS NULL OR recorded_at < $8)
                      AND ($9::text IS NULL OR (e.txid, e.position) > ($9::numeric, $10::bigint))
                    ORDER BY e.txid, e.position
                    LIMIT $11
                 ) r",
                list = EVENTS.select_list(),
            ))
            .bind(filter.aggregate_type.as_deref())
            .bind(filter.aggregate_id.as_deref())
            .bind(filter.related_id.as_deref())
            .bind(filter.event_type.as_deref())
            .bind(filter.actor.as_deref())
            .bind(filter.correlation_id.as_deref())
            .bind(filter.from)
            .bind(filter.until)
            .bind(after_txid)
            .bind(after_position)
            .bind(i64::from(page.limit))
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            // Timestamps are fixed-width text (`sqlite_timestamp`), so text order is time order.
            sqlx::query_scalar(&format!(
                "SELECT {object} FROM {schema}_events e
                  WHERE (?1 IS NULL OR e.aggregate_type = ?1)
                    AND (?2 IS NULL OR e.aggregate_id = ?2)
                    AND (?3 IS NULL
                         OR EXISTS (SELECT 1 FROM json_each(e.related_ids) WHERE value = ?3)
                         OR (e.aggregate_id = ?3 AND ?2 IS NULL))
                    AND (?4 IS NULL OR e.event_type = ?4)
                    AND (?5 IS NULL OR e.actor = ?5)
                    AND (?6 IS NULL OR e.correlation_id = ?6)
                    AND (?7 IS NULL OR e.recorded_at >= ?7)
                    AND (?8 IS NULL OR e.recorded_at < ?8)
                    AND (?9 IS NULL
                         OR (CAST(e.txid AS INTEGER), e.position) > (CAST(?9 AS INTEGER), ?10))
                  ORDER BY CAST(e.txid AS INTEGER), e.position
                  LIMIT ?11",
                object = EVENTS.sqlite_object("e"),
            ))
            .bind(filter.aggregate_type.as_deref())
            .bind(filter.aggregate_id.as_deref())
            .bind(filter.related_id.as_deref())
            .bind(filter.event_type.as_deref())
            .bind(filter.actor.as_deref())
            .bind(filter.correlation_id.as_deref())
            .bind(filter.from.map(projection_runtime::sqlite_timestamp))
            .bind(filter.until.map(projection_runtime::sqlite_timestamp))
            .bind(after_txid)
            .bind(after_position)
            .bind(i64::from(page.limit))
            .fetch_all(views.reader())
            .await?
        }
    };
    let mut rows: Vec<AuditEntry> = rows.into_iter().map(|Json(r)| r).collect();
    show_personal_data(db, &mut rows).await?;
    Ok(rows)
}

/// Shows each sealed personal field of `rows` (`domain::personal`) in words: erased when the
/// view holds the member's `member.personal_data_erased`, sealed otherwise. The view keeps the
/// sealed text as recorded; nobody reading a page can do anything with it.
async fn show_personal_data(db: &ViewDb, rows: &mut [AuditEntry]) -> Result<(), QueryError> {
    let members: BTreeSet<&str> = rows
        .iter()
        .filter(|row| domain::personal::holds_personal_data(&row.event_type))
        .filter_map(|row| domain::personal::subject(&row.aggregate_type, &row.aggregate_id))
        .collect();
    if members.is_empty() {
        return Ok(());
    }
    let members: Vec<String> = members.into_iter().map(str::to_owned).collect();
    let schema = catalog::serving(db, NAME).await?;
    let erased: Vec<String> = match db {
        ViewDb::Postgres(pool) => {
            sqlx::query_scalar(&format!(
                "SELECT aggregate_id FROM {schema}.events
                  WHERE aggregate_type = 'member' AND aggregate_id = ANY($1)
                    AND event_type = 'member.personal_data_erased'"
            ))
            .bind(&members)
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_scalar(&format!(
                "SELECT e.aggregate_id FROM {schema}_events e
                  WHERE e.aggregate_type = 'member'
                    AND e.aggregate_id IN (SELECT value FROM json_each(?1))
                    AND e.event_type = 'member.personal_data_erased'"
            ))
            .bind(serde_json::Value::from(members.clone()).to_string())
            .fetch_all(views.reader())
            .await?
        }
    };
    for row in rows {
        let erased = domain::personal::subject(&row.aggregate_type, &row.aggregate_id)
            .is_some_and(|member| erased.iter().any(|e| e == member));
        domain::personal::show(&row.event_type, &mut row.payload, erased);
    }
    Ok(())
}

/// The events of one aggregate recorded up to `as_of` (all when `None`), in sequence order:
/// its history as it was known at that moment, with each sealed personal field shown as
/// sealed or erased (see [`show_personal_data`]).
pub async fn history(
    db: &ViewDb,
    aggregate_type: &str,
    aggregate_id: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<AuditEntry>, QueryError> {
    let mut rows = recorded(db, aggregate_type, aggregate_id, as_of).await?;
    show_personal_data(db, &mut rows).await?;
    Ok(rows)
}

/// [`history`] as recorded: sealed fields hold the sealed text.
async fn recorded(
    db: &ViewDb,
    aggregate_type: &str,
    aggregate_id: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<AuditEntry>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let rows: Vec<Json<AuditRow>> = match db {
        ViewDb::Postgres(pool) => {
            sqlx::query_scalar(&format!(
                "SELECT to_jsonb(r) FROM (
                   SELECT {list} FROM {schema}.events
                    WHERE aggregate_type = $1 AND aggregate_id = $2
                      AND ($3::timestamptz IS NULL OR recorded_at <= $3)
                    ORDER BY sequence
                 ) r",
                list = EVENTS.select_list(),
            ))
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(as_of)
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_scalar(&format!(
                "SELECT {object} FROM {schema}_events e
                  WHERE e.aggregate_type = ?1 AND e.aggregate_id = ?2
                    AND (?3 IS NULL OR e.recorded_at <= ?3)
                  ORDER BY e.sequence",
                object = EVENTS.sqlite_object("e"),
            ))
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(as_of.map(projection_runtime::sqlite_timestamp))
            .fetch_all(views.reader())
            .await?
        }
    };
    Ok(rows.into_iter().map(|Json(r)| r).collect())
}

/// Aggregate `A` (a `Parcel`, a `Member`, a `ChargeAccount`, a `Shipment`) as it was at
/// `as_of`: its recorded events up to then, upcast to their current versions and evolved by
/// the domain. `None` when it had no event yet.
pub async fn state_as_of<A: Aggregate>(
    db: &ViewDb,
    aggregate_id: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<Option<A>, QueryError> {
    let events = recorded(db, A::TYPE, aggregate_id, as_of).await?;
    if events.is_empty() {
        return Ok(None);
    }
    let mut aggregate = A::default();
    for entry in events {
        // Stored in an older version: read it as the current one first (`domain::upcast`).
        let (_, mut payload) =
            domain::upcast::upcast(&entry.event_type, &entry.event_version, entry.payload);
        // A member's personal data is sealed: the state holds the stand-ins.
        domain::personal::redact(&entry.event_type, &mut payload);
        let event: A::Event = serde_json::from_value(payload).map_err(|e| {
            QueryError::Malformed(format!(
                "{} {} #{}: {e}",
                entry.aggregate_type, entry.aggregate_id, entry.sequence
            ))
        })?;
        aggregate.apply(event);
    }
    Ok(Some(aggregate))
}

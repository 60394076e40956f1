//! Parked events: events a view could not apply, kept with their error in the instance's
//! `parked_events` table, where operators see them, until a replay applies them.
//!
//! An aggregate with a parked event is blocked: its later events are parked behind it, so a
//! replay can apply them in order once the cause is fixed (a corrected reducer, the missing
//! event of a gap delivered again).

use crate::batch::{self, ParkReason};
use crate::projector::error_chain;
use crate::{
    catalog, metric, AggregateKey, EventEnvelope, Projection, RuntimeError, Schema, ViewConn,
    ViewDb,
};
use chrono::{DateTime, Utc};
use event_store::GlobalCursor;
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::collections::BTreeMap;

/// A parked event as operators see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkedEvent {
    /// The event, whole, as it was delivered.
    pub event: EventEnvelope,
    /// `poison`, `gap`, `blocked` or `apply_failed`.
    pub reason: String,
    /// Why, in words.
    pub error: String,
    /// Times it was tried.
    pub attempts: i32,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
    /// When a replay applied it; `None` while it waits.
    pub replayed_at: Option<DateTime<Utc>>,
}

/// What a replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Parked events now applied.
    pub applied: usize,
    /// Parked events that had been applied meanwhile (delivered again), now closed.
    pub skipped: usize,
    /// Parked events still waiting.
    pub still_parked: usize,
}

const COLUMNS: &str = "event_id, aggregate_type, aggregate_id, sequence, event_type, \
    event_version, txid::text AS txid, position, payload, metadata, recorded_at, reason, error, \
    attempts, parked_at, replayed_at";

fn from_row(row: &PgRow) -> Result<ParkedEvent, sqlx::Error> {
    let txid: String = row.try_get("txid")?;
    Ok(ParkedEvent {
        event: EventEnvelope {
            event_id: row.try_get("event_id")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            recorded_at: row.try_get("recorded_at")?,
            cursor: GlobalCursor {
                txid: txid.parse().unwrap_or(0),
                position: row.try_get("position")?,
            },
        },
        reason: row.try_get("reason")?,
        error: row.try_get("error")?,
        attempts: row.try_get("attempts")?,
        parked_at: row.try_get("parked_at")?,
        replayed_at: row.try_get("replayed_at")?,
    })
}

/// The same columns on SQLite, where everything but the integers is TEXT.
#[cfg(feature = "sqlite")]
const SQLITE_COLUMNS: &str = "event_id, aggregate_type, aggregate_id, sequence, event_type, \
    event_version, CAST(txid AS TEXT) AS txid, position, payload, metadata, recorded_at, reason, \
    error, attempts, parked_at, replayed_at";

#[cfg(feature = "sqlite")]
fn from_sqlite_row(row: &sqlx::sqlite::SqliteRow) -> Result<ParkedEvent, sqlx::Error> {
    fn decode<T, E: std::error::Error + Send + Sync + 'static>(
        parsed: Result<T, E>,
    ) -> Result<T, sqlx::Error> {
        parsed.map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }
    fn at(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
        decode(DateTime::parse_from_rfc3339(text)).map(|at| at.to_utc())
    }
    let txid: String = row.try_get("txid")?;
    let payload: String = row.try_get("payload")?;
    let metadata: String = row.try_get("metadata")?;
    let event_id: String = row.try_get("event_id")?;
    let recorded_at: String = row.try_get("recorded_at")?;
    let parked_at: String = row.try_get("parked_at")?;
    let replayed_at: Option<String> = row.try_get("replayed_at")?;
    Ok(ParkedEvent {
        event: EventEnvelope {
            event_id: decode(event_id.parse())?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: decode(serde_json::from_str(&payload))?,
            metadata: decode(serde_json::from_str(&metadata))?,
            recorded_at: at(&recorded_at)?,
            cursor: GlobalCursor {
                txid: txid.parse().unwrap_or(0),
                position: row.try_get("position")?,
            },
        },
        reason: row.try_get("reason")?,
        error: row.try_get("error")?,
        attempts: row.try_get("attempts")?,
        parked_at: at(&parked_at)?,
        replayed_at: replayed_at.as_deref().map(at).transpose()?,
    })
}

/// The parked events of `projection`'s serving instance, waiting ones only unless
/// `with_replayed`, in aggregate and sequence order.
pub async fn list<P: Projection>(
    db: impl Into<ViewDb>,
    projection: &P,
    with_replayed: bool,
) -> Result<Vec<ParkedEvent>, RuntimeError> {
    let db = db.into();
    let schema = catalog::serving(&db, projection.name()).await?;
    list_in(&db, &schema, projection.name(), with_replayed).await
}

/// The parked events of instance `schema`; see [`list`].
pub async fn list_in(
    db: impl Into<ViewDb>,
    schema: &Schema,
    projection: &str,
    with_replayed: bool,
) -> Result<Vec<ParkedEvent>, RuntimeError> {
    let selection = Selection {
        with_replayed,
        after: None,
        limit: i64::MAX,
    };
    selected(db.into(), schema, projection, selection).await
}

/// Where a parked event sits in the waiting list: aggregate type, aggregate id, sequence.
pub type ParkedKey = (String, String, i64);

/// The waiting parked events of instance `schema` after `after`, at most `limit`, in
/// aggregate and sequence order: a keyset page on the waiting events' index.
pub async fn page_in(
    db: impl Into<ViewDb>,
    schema: &Schema,
    projection: &str,
    after: Option<&ParkedKey>,
    limit: u32,
) -> Result<Vec<ParkedEvent>, RuntimeError> {
    let selection = Selection {
        with_replayed: false,
        after,
        limit: i64::from(limit),
    };
    selected(db.into(), schema, projection, selection).await
}

/// Which parked events [`select`] reads: the replayed ones too or not, after which key, how
/// many at most.
struct Selection<'a> {
    with_replayed: bool,
    after: Option<&'a ParkedKey>,
    limit: i64,
}

/// [`select`] in a transaction of its own.
async fn selected(
    db: ViewDb,
    schema: &Schema,
    projection: &str,
    selection: Selection<'_>,
) -> Result<Vec<ParkedEvent>, RuntimeError> {
    let mut tx = db.begin().await?;
    let parked = select(&mut tx.conn(), schema, projection, selection).await?;
    tx.commit().await?;
    Ok(parked)
}

/// How many parked events of instance `schema` wait, counted up to `up_to`, and whether more
/// wait: a bounded walk of the waiting events' index, so it answers at once however many.
pub async fn waiting_count_in(
    db: impl Into<ViewDb>,
    schema: &Schema,
    projection: &str,
    up_to: u64,
) -> Result<(u64, bool), RuntimeError> {
    let db = db.into();
    let probe = i64::try_from(up_to.saturating_add(1)).unwrap_or(i64::MAX);
    let counted: i64 = match &db {
        ViewDb::Postgres(pool) => {
            sqlx::query_scalar(&format!(
                "SELECT count(*) FROM (SELECT 1 FROM {schema}.parked_events
                  WHERE projection = $1 AND replayed_at IS NULL LIMIT $2) waiting"
            ))
            .bind(projection)
            .bind(probe)
            .fetch_one(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_scalar(&format!(
                "SELECT count(*) FROM (SELECT 1 FROM {schema}_parked_events
                  WHERE projection = ?1 AND replayed_at IS NULL LIMIT ?2)"
            ))
            .bind(projection)
            .bind(probe)
            .fetch_one(views.reader())
            .await?
        }
    };
    let counted = u64::try_from(counted).unwrap_or(0);
    Ok((counted.min(up_to), counted > up_to))
}

/// The parked events of instance `schema`, in aggregate and sequence order.
async fn select(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    projection: &str,
    selection: Selection<'_>,
) -> Result<Vec<ParkedEvent>, RuntimeError> {
    let Selection {
        with_replayed,
        after,
        limit,
    } = selection;
    let (after_type, after_id, after_sequence) = match after {
        Some((t, id, sequence)) => (Some(t.as_str()), Some(id.as_str()), Some(*sequence)),
        None => (None, None, None),
    };
    Ok(match conn {
        ViewConn::Postgres(conn) => {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM {schema}.parked_events
                  WHERE projection = $1 AND ($2 OR replayed_at IS NULL)
                    AND ($3::text IS NULL
                         OR (aggregate_type, aggregate_id, sequence) > ($3, $4::text, $5::bigint))
                  ORDER BY aggregate_type, aggregate_id, sequence
                  LIMIT $6"
            ))
            .bind(projection)
            .bind(with_replayed)
            .bind(after_type)
            .bind(after_id)
            .bind(after_sequence)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?;
            rows.iter().map(from_row).collect::<Result<_, _>>()?
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let rows = sqlx::query(&format!(
                "SELECT {SQLITE_COLUMNS} FROM {schema}_parked_events
                  WHERE projection = ?1 AND (?2 OR replayed_at IS NULL)
                    AND (?3 IS NULL OR (aggregate_type, aggregate_id, sequence) > (?3, ?4, ?5))
                  ORDER BY aggregate_type, aggregate_id, sequence
                  LIMIT ?6"
            ))
            .bind(projection)
            .bind(with_replayed)
            .bind(after_type)
            .bind(after_id)
            .bind(after_sequence)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?;
            rows.iter().map(from_sqlite_row).collect::<Result<_, _>>()?
        }
    })
}

/// Replays the waiting parked events of `projection`'s serving instance through `projection`
/// (typically a corrected reducer), each aggregate's in sequence order, in one transaction.
/// An event that still fails stays parked with its new error, and so do the later events of
/// its aggregate. Safe to run beside the live projector: both lock the instance's checkpoint.
pub async fn replay<P: Projection>(
    db: impl Into<ViewDb>,
    projection: &P,
) -> Result<ReplayReport, RuntimeError> {
    let db = db.into();
    let name = projection.name();
    let mut tx = db.begin().await?;
    let schema = catalog::lock_serving_shared(&mut tx.conn(), name)
        .await?
        .ok_or_else(|| RuntimeError::NoView(name.to_owned()))?;
    let report = replay_locked(&mut tx.conn(), &schema, projection).await?;
    tx.commit().await?;
    metric::refresh_parked(&db, &schema, name).await?;
    tracing::info!(projection = name, %schema, applied = report.applied,
        skipped = report.skipped, still_parked = report.still_parked, "replayed parked events");
    Ok(report)
}

async fn replay_locked<P: Projection>(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    projection: &P,
) -> Result<ReplayReport, RuntimeError> {
    let name = projection.name();
    batch::lock_checkpoint(conn, schema, name).await?;
    let waiting = Selection {
        with_replayed: false,
        after: None,
        limit: i64::MAX,
    };
    let parked = select(conn, schema, name, waiting).await?;
    let mut by_aggregate: BTreeMap<AggregateKey, Vec<&ParkedEvent>> = BTreeMap::new();
    for p in &parked {
        by_aggregate
            .entry(p.event.aggregate_key())
            .or_default()
            .push(p);
    }
    let keys: Vec<AggregateKey> = by_aggregate.keys().cloned().collect();
    let places = batch::places(conn, schema, name, &keys).await?;

    let mut report = ReplayReport::default();
    let mut changes = Vec::new();
    let mut closed = Vec::new();
    let mut failures: Vec<(uuid::Uuid, ParkReason, String)> = Vec::new();
    let mut applied = Vec::new();
    for (key, events) in &by_aggregate {
        let start = places.get(key).map_or(0, |p| p.last);
        let mut last = start;
        let mut stuck = false;
        for p in events {
            let event = &p.event;
            if event.sequence <= last {
                report.skipped += 1;
                closed.push(event.event_id);
                continue;
            }
            if stuck {
                report.still_parked += 1;
                continue;
            }
            if event.sequence != last + 1 {
                let error = format!(
                    "sequence gap: expected {} of {} {}, got {}",
                    last + 1,
                    key.aggregate_type,
                    key.aggregate_id,
                    event.sequence
                );
                failures.push((event.event_id, ParkReason::Gap, error));
                report.still_parked += 1;
                stuck = true;
                continue;
            }
            match projection.reduce(event) {
                Ok(event_changes) => {
                    changes.extend(event_changes);
                    last = event.sequence;
                    report.applied += 1;
                    closed.push(event.event_id);
                }
                Err(error) => {
                    failures.push((event.event_id, ParkReason::Poison, error_chain(&error)));
                    report.still_parked += 1;
                    stuck = true;
                }
            }
        }
        if last > start {
            applied.push((key, last));
        }
    }
    projection.apply(conn, schema, &changes).await?;
    batch::write_applied(conn, schema, name, &applied).await?;
    close_and_note(conn, schema, name, &closed, &failures).await?;
    Ok(report)
}

/// Marks the `closed` parked events replayed and records the new error of the `failures`.
async fn close_and_note(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    name: &str,
    closed: &[uuid::Uuid],
    failures: &[(uuid::Uuid, ParkReason, String)],
) -> Result<(), RuntimeError> {
    match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query(&format!(
                "UPDATE {schema}.parked_events SET replayed_at = now()
                  WHERE projection = $1 AND event_id = ANY($2)"
            ))
            .bind(name)
            .bind(closed)
            .execute(&mut **conn)
            .await?;
            let ids: Vec<uuid::Uuid> = failures.iter().map(|f| f.0).collect();
            let reasons: Vec<&str> = failures.iter().map(|f| f.1.as_str()).collect();
            let errors: Vec<&str> = failures.iter().map(|f| f.2.as_str()).collect();
            sqlx::query(&format!(
                "UPDATE {schema}.parked_events p
                    SET reason = u.reason, error = u.error, attempts = p.attempts + 1
                   FROM unnest($2::uuid[], $3::text[], $4::text[]) AS u(event_id, reason, error)
                  WHERE p.projection = $1 AND p.event_id = u.event_id"
            ))
            .bind(name)
            .bind(&ids)
            .bind(&reasons)
            .bind(&errors)
            .execute(&mut **conn)
            .await?;
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let closed: Vec<String> = closed.iter().map(uuid::Uuid::to_string).collect();
            sqlx::query(&format!(
                "UPDATE {schema}_parked_events
                    SET replayed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                  WHERE projection = ?1 AND event_id IN (SELECT value FROM json_each(?2))"
            ))
            .bind(name)
            .bind(sqlx::types::Json(&closed))
            .execute(&mut **conn)
            .await?;
            // Parked events are few: one statement each.
            for (event_id, reason, error) in failures {
                sqlx::query(&format!(
                    "UPDATE {schema}_parked_events
                        SET reason = ?3, error = ?4, attempts = attempts + 1
                      WHERE projection = ?1 AND event_id = ?2"
                ))
                .bind(name)
                .bind(event_id.to_string())
                .bind(reason.as_str())
                .bind(error.as_str())
                .execute(&mut **conn)
                .await?;
            }
        }
    }
    Ok(())
}

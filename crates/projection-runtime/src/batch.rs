//! One batch of events in one transaction: the per-aggregate sequence guard, the reducer,
//! parking, the view's changes, the applied sequences and the checkpoint.
//!
//! For each event, in feed order:
//! - at or below its aggregate's applied sequence: already applied, skipped (redelivery, replay,
//!   restart after a crash);
//! - its aggregate has a parked event not yet replayed: parked behind it (`blocked`), so an
//!   aggregate's events are never applied out of order;
//! - a sequence above the next one expected: a hole, the event is parked (`gap`) and the
//!   aggregate blocked until the missing event arrives and the parked ones are replayed;
//! - otherwise reduced: its changes join the batch, or, if the reducer refuses it, it is parked
//!   (`poison`) with the error.
//!
//! Reducing comes before writing, so a poison event never rolls the batch back.

use crate::{AggregateKey, EventEnvelope, Projection, RuntimeError, Schema, ViewConn};
use event_store::GlobalCursor;
use serde::Serialize;
use sqlx::types::Json;
use std::collections::{HashMap, HashSet};

/// What a committed batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Events whose changes were applied.
    pub applied: usize,
    /// Events already applied before (redelivered or replayed), which changed nothing.
    pub skipped: usize,
    /// Events newly parked.
    pub parked: usize,
    /// The highest cursor of the batch.
    pub cursor: Option<GlobalCursor>,
}

impl BatchOutcome {
    pub(crate) fn add(&mut self, other: BatchOutcome) {
        self.applied += other.applied;
        self.skipped += other.skipped;
        self.parked += other.parked;
        self.cursor = self.cursor.max(other.cursor);
    }
}

/// Why an event was parked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParkReason {
    /// The reducer refused it.
    Poison,
    /// Its sequence is past the next one expected.
    Gap,
    /// An earlier event of its aggregate is parked.
    Blocked,
    /// Writing its changes failed on its own.
    ApplyFailed,
}

impl ParkReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ParkReason::Poison => "poison",
            ParkReason::Gap => "gap",
            ParkReason::Blocked => "blocked",
            ParkReason::ApplyFailed => "apply_failed",
        }
    }
}

/// An aggregate's place: the last sequence applied, and whether a parked event holds it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Place {
    pub last: i64,
    pub blocked: bool,
}

/// Applies `events` to the view in `schema` inside the caller's transaction, and moves the
/// checkpoint. The caller holds the checkpoint row's lock.
pub(crate) async fn process<P: Projection>(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    projection: &P,
    events: &[EventEnvelope],
) -> Result<BatchOutcome, RuntimeError> {
    let keys: Vec<AggregateKey> = {
        let mut seen = HashSet::new();
        events
            .iter()
            .map(EventEnvelope::aggregate_key)
            .filter(|k| seen.insert(k.clone()))
            .collect()
    };
    let mut places = places(conn, schema, projection.name(), &keys).await?;
    let mut outcome = BatchOutcome {
        cursor: events.iter().map(|e| e.cursor).max(),
        ..BatchOutcome::default()
    };
    let mut changes = Vec::new();
    let mut parked = Vec::new();
    let mut touched = HashSet::new();
    for event in events {
        let key = event.aggregate_key();
        let place = places.entry(key.clone()).or_default();
        if event.sequence <= place.last {
            outcome.skipped += 1;
            continue;
        }
        if place.blocked {
            let error = format!(
                "waits behind an earlier parked event of {} {}",
                key.aggregate_type, key.aggregate_id
            );
            parked.push((event, ParkReason::Blocked, error));
            continue;
        }
        if event.sequence != place.last + 1 {
            let error = format!(
                "sequence gap: expected {} of {} {}, got {}",
                place.last + 1,
                key.aggregate_type,
                key.aggregate_id,
                event.sequence
            );
            place.blocked = true;
            parked.push((event, ParkReason::Gap, error));
            continue;
        }
        match projection.reduce(event) {
            Ok(event_changes) => {
                changes.extend(event_changes);
                place.last = event.sequence;
                touched.insert(key);
                outcome.applied += 1;
            }
            Err(error) => {
                tracing::warn!(
                    projection = projection.name(),
                    event_id = %event.event_id,
                    event_type = %event.event_type,
                    aggregate_id = %event.aggregate_id,
                    sequence = event.sequence,
                    %error,
                    "parking an event the reducer refused"
                );
                place.blocked = true;
                parked.push((event, ParkReason::Poison, error.to_string()));
            }
        }
    }
    projection.apply(conn, schema, &changes).await?;
    let applied: Vec<(&AggregateKey, i64)> = touched
        .iter()
        .map(|k| (k, places.get(k).map_or(0, |p| p.last)))
        .collect();
    write_applied(conn, schema, projection.name(), &applied).await?;
    outcome.parked = park(conn, schema, projection.name(), &parked).await?;
    advance_checkpoint(conn, schema, projection.name(), &outcome).await?;
    Ok(outcome)
}

/// The place of each aggregate in `keys`; aggregates never seen are at sequence 0, unblocked.
pub(crate) async fn places(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    projection: &str,
    keys: &[AggregateKey],
) -> Result<HashMap<AggregateKey, Place>, RuntimeError> {
    let types: Vec<&str> = keys.iter().map(|k| k.aggregate_type.as_str()).collect();
    let ids: Vec<&str> = keys.iter().map(|k| k.aggregate_id.as_str()).collect();
    let rows: Vec<(String, String, Option<i64>, bool)> = match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query_as(&format!(
                "SELECT k.t, k.i, a.last_sequence,
                        EXISTS (SELECT 1 FROM {schema}.parked_events p
                                 WHERE p.projection = $1 AND p.aggregate_type = k.t
                                   AND p.aggregate_id = k.i AND p.replayed_at IS NULL)
                   FROM unnest($2::text[], $3::text[]) AS k(t, i)
                   LEFT JOIN {schema}.applied a
                     ON a.projection = $1 AND a.aggregate_type = k.t AND a.aggregate_id = k.i"
            ))
            .bind(projection)
            .bind(&types)
            .bind(&ids)
            .fetch_all(&mut **conn)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let pairs: Vec<[&str; 2]> = types.iter().zip(&ids).map(|(t, i)| [*t, *i]).collect();
            sqlx::query_as(&format!(
                "SELECT k.t, k.i, a.last_sequence,
                        EXISTS (SELECT 1 FROM {schema}_parked_events p
                                 WHERE p.projection = ?1 AND p.aggregate_type = k.t
                                   AND p.aggregate_id = k.i AND p.replayed_at IS NULL)
                   FROM (SELECT json_extract(value, '$[0]') AS t, json_extract(value, '$[1]') AS i
                           FROM json_each(?2)) AS k
                   LEFT JOIN {schema}_applied a
                     ON a.projection = ?1 AND a.aggregate_type = k.t AND a.aggregate_id = k.i"
            ))
            .bind(projection)
            .bind(Json(&pairs))
            .fetch_all(&mut **conn)
            .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(aggregate_type, aggregate_id, last, blocked)| {
            let key = AggregateKey {
                aggregate_type,
                aggregate_id,
            };
            let place = Place {
                last: last.unwrap_or(0),
                blocked,
            };
            (key, place)
        })
        .collect())
}

pub(crate) async fn write_applied(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    projection: &str,
    applied: &[(&AggregateKey, i64)],
) -> Result<(), RuntimeError> {
    if applied.is_empty() {
        return Ok(());
    }
    match conn {
        ViewConn::Postgres(conn) => {
            let types: Vec<&str> = applied
                .iter()
                .map(|(k, _)| k.aggregate_type.as_str())
                .collect();
            let ids: Vec<&str> = applied
                .iter()
                .map(|(k, _)| k.aggregate_id.as_str())
                .collect();
            let sequences: Vec<i64> = applied.iter().map(|(_, s)| *s).collect();
            sqlx::query(&format!(
                "INSERT INTO {schema}.applied (projection, aggregate_type, aggregate_id, last_sequence)
                 SELECT $1, t, i, s FROM unnest($2::text[], $3::text[], $4::bigint[]) AS k(t, i, s)
                 ON CONFLICT (projection, aggregate_type, aggregate_id)
                 DO UPDATE SET last_sequence = EXCLUDED.last_sequence"
            ))
            .bind(projection)
            .bind(&types)
            .bind(&ids)
            .bind(&sequences)
            .execute(&mut **conn)
            .await?;
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let rows: Vec<(&str, &str, i64)> = applied
                .iter()
                .map(|(k, s)| (k.aggregate_type.as_str(), k.aggregate_id.as_str(), *s))
                .collect();
            sqlx::query(&format!(
                "INSERT INTO {schema}_applied (projection, aggregate_type, aggregate_id, last_sequence)
                 SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'),
                        json_extract(value, '$[2]')
                   FROM json_each(?2) WHERE true
                 ON CONFLICT (projection, aggregate_type, aggregate_id)
                 DO UPDATE SET last_sequence = excluded.last_sequence"
            ))
            .bind(projection)
            .bind(Json(&rows))
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

/// A parked event as stored; `parked_at`, `attempts` and `replayed_at` take their defaults.
#[derive(Serialize)]
struct ParkedRow<'a> {
    projection: &'a str,
    event_id: uuid::Uuid,
    aggregate_type: &'a str,
    aggregate_id: &'a str,
    sequence: i64,
    event_type: &'a str,
    event_version: &'a str,
    txid: String,
    position: i64,
    payload: &'a serde_json::Value,
    metadata: &'a serde_json::Value,
    recorded_at: String,
    reason: &'static str,
    error: &'a str,
}

const PARKED_COLUMNS: &str = "projection, event_id, aggregate_type, aggregate_id, sequence, \
    event_type, event_version, txid, position, payload, metadata, recorded_at, reason, error";

/// Parks `events`; an event parked before (a redelivery) stays as it was. Returns how many
/// were newly parked.
pub(crate) async fn park(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    projection: &str,
    events: &[(&EventEnvelope, ParkReason, String)],
) -> Result<usize, RuntimeError> {
    if events.is_empty() {
        return Ok(0);
    }
    let sqlite = matches!(conn.dialect(), crate::Dialect::Sqlite);
    let rows: Vec<ParkedRow<'_>> = events
        .iter()
        .map(|(e, reason, error)| ParkedRow {
            projection,
            event_id: e.event_id,
            aggregate_type: &e.aggregate_type,
            aggregate_id: &e.aggregate_id,
            sequence: e.sequence,
            event_type: &e.event_type,
            event_version: &e.event_version,
            txid: e.cursor.txid.to_string(),
            position: e.cursor.position,
            payload: &e.payload,
            metadata: &e.metadata,
            recorded_at: if sqlite {
                crate::sqlite_timestamp(e.recorded_at)
            } else {
                e.recorded_at.to_rfc3339()
            },
            reason: reason.as_str(),
            error,
        })
        .collect();
    let done = match conn {
        ViewConn::Postgres(conn) => sqlx::query(&format!(
            "INSERT INTO {schema}.parked_events ({PARKED_COLUMNS})
                 SELECT {PARKED_COLUMNS}
                   FROM jsonb_populate_recordset(NULL::{schema}.parked_events, $1)
                 ON CONFLICT (projection, event_id) DO NOTHING"
        ))
        .bind(Json(&rows))
        .execute(&mut **conn)
        .await?
        .rows_affected(),
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let extract: Vec<String> = PARKED_COLUMNS
                .split(", ")
                .map(|c| match c {
                    "payload" | "metadata" => format!("value -> '$.{c}'"),
                    "txid" => "CAST(json_extract(value, '$.txid') AS INTEGER)".to_owned(),
                    _ => format!("json_extract(value, '$.{c}')"),
                })
                .collect();
            sqlx::query(&format!(
                "INSERT INTO {schema}_parked_events ({PARKED_COLUMNS})
                 SELECT {extract} FROM json_each(?1) WHERE true
                 ON CONFLICT (projection, event_id) DO NOTHING",
                extract = extract.join(", ")
            ))
            .bind(Json(&rows))
            .execute(&mut **conn)
            .await?
            .rows_affected()
        }
    };
    Ok(usize::try_from(done).unwrap_or(usize::MAX))
}

/// Locks the checkpoint row of `schema` (serializing every writer of the instance; SQLite
/// serializes its writers already) and returns the cursor it holds.
pub(crate) async fn lock_checkpoint(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    projection: &str,
) -> Result<GlobalCursor, RuntimeError> {
    let (txid, position): (String, i64) = match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query_as(&format!(
                "SELECT txid::text, position FROM {schema}.checkpoint
                  WHERE projection = $1 FOR UPDATE"
            ))
            .bind(projection)
            .fetch_one(&mut **conn)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            sqlx::query_as(&format!(
                "SELECT CAST(txid AS TEXT), position FROM {schema}_checkpoint
                  WHERE projection = ?1"
            ))
            .bind(projection)
            .fetch_one(&mut **conn)
            .await?
        }
    };
    Ok(GlobalCursor {
        txid: txid.parse().unwrap_or(0),
        position,
    })
}

/// Moves the checkpoint forward to the batch's highest cursor (never back: another instance
/// may have gone further) and counts the applied events.
async fn advance_checkpoint(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    projection: &str,
    outcome: &BatchOutcome,
) -> Result<(), RuntimeError> {
    let Some(cursor) = outcome.cursor else {
        return Ok(());
    };
    let applied = i64::try_from(outcome.applied).unwrap_or(i64::MAX);
    match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query(&format!(
                "UPDATE {schema}.checkpoint c SET
                     txid = CASE WHEN (c.txid, c.position) < ($2::text::numeric, $3) THEN $2::text::numeric ELSE c.txid END,
                     position = CASE WHEN (c.txid, c.position) < ($2::text::numeric, $3) THEN $3 ELSE c.position END,
                     events_applied = c.events_applied + $4,
                     updated_at = now()
                  WHERE c.projection = $1"
            ))
            .bind(projection)
            .bind(cursor.txid.to_string())
            .bind(cursor.position)
            .bind(applied)
            .execute(&mut **conn)
            .await?;
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let txid = i64::try_from(cursor.txid).map_err(|_| {
                RuntimeError::Unsupported(format!(
                    "txid {} does not fit a SQLite INTEGER",
                    cursor.txid
                ))
            })?;
            // SQLite compares row values too: (a, b) < (c, d).
            sqlx::query(&format!(
                "UPDATE {schema}_checkpoint SET
                     txid = CASE WHEN (txid, position) < (?2, ?3) THEN ?2 ELSE txid END,
                     position = CASE WHEN (txid, position) < (?2, ?3) THEN ?3 ELSE position END,
                     events_applied = events_applied + ?4,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                  WHERE projection = ?1"
            ))
            .bind(projection)
            .bind(txid)
            .bind(cursor.position)
            .bind(applied)
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

//! [`Journal`]: what the scheduler did, one row per action key, beside the views (the same
//! PostgreSQL database, or the embedded views file). It is the scheduler's own table and its
//! memory of what is done: an action with a row is never fired again.
//!
//! Beside it, `scheduler_started` holds each action between the moment it is fired and the
//! moment its outcome is journaled. A tick fires these again whatever the views say: a
//! request killed after its first step (a shipment held, its parcels not yet) may already have
//! taken the action off the views' due lists, and only its idempotency key, resumed, finishes
//! the other steps.
//!
//! Losing the journal (a deleted views file) loses no guarantee that the views still give:
//! the engine stored every result under the action's idempotency key, so firing again returns
//! that result and appends nothing; the row is then written again.

use crate::due::DueAction;
use chrono::{DateTime, NaiveDate, Utc};
use projection_runtime::ViewDb;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The aggregate recorded what the rule does.
    Done,
    /// The aggregate found nothing to do (already done by hand, or no longer due).
    NothingDue,
    /// The aggregate refused (the parcel left, the claim was answered): recorded with the
    /// reason, never retried.
    Skipped,
}

/// One journal row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The action's idempotency key.
    pub key: String,
    /// The rule id.
    pub rule: String,
    /// The action's name.
    pub action: String,
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The aggregate.
    pub aggregate_id: String,
    /// The claim concerned, or empty.
    pub subject: String,
    /// Due from.
    pub due_on: NaiveDate,
    /// When it was done, by the business clock.
    pub done_at: DateTime<Utc>,
    /// How it ended.
    pub outcome: Outcome,
    /// Events appended.
    pub events: u32,
    /// The refusal's code and message, when skipped.
    pub reason: Option<String>,
}

impl Entry {
    /// The entry for `action`, done at `done_at`.
    pub fn of(
        action: &DueAction,
        done_at: DateTime<Utc>,
        outcome: Outcome,
        events: u32,
        reason: Option<String>,
    ) -> Self {
        Self {
            key: action.key(),
            rule: action.rule().to_owned(),
            action: action.kind.name().to_owned(),
            aggregate_type: action.aggregate_type.clone(),
            aggregate_id: action.aggregate_id.clone(),
            subject: action.subject.clone(),
            due_on: action.due_on,
            done_at,
            outcome,
            events,
            reason,
        }
    }
}

/// The journal table over a [`ViewDb`].
#[derive(Debug, Clone)]
pub struct Journal {
    db: ViewDb,
}

const COLUMNS: &str =
    "key, rule, action, aggregate_type, aggregate_id, subject, due_on, done_at, outcome, events, reason";

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
);

impl Journal {
    /// The journal in `db`, its table created when missing.
    pub async fn open(db: ViewDb) -> Result<Self, sqlx::Error> {
        let ddl = "CREATE TABLE IF NOT EXISTS scheduler_journal (
                       key            TEXT PRIMARY KEY,
                       rule           TEXT NOT NULL,
                       action         TEXT NOT NULL,
                       aggregate_type TEXT NOT NULL,
                       aggregate_id   TEXT NOT NULL,
                       subject        TEXT NOT NULL,
                       due_on         TEXT NOT NULL,
                       done_at        TEXT NOT NULL,
                       outcome        TEXT NOT NULL,
                       events         BIGINT NOT NULL,
                       reason         TEXT
                   )";
        let index = "CREATE INDEX IF NOT EXISTS scheduler_journal_done \
                     ON scheduler_journal (done_at)";
        let started = "CREATE TABLE IF NOT EXISTS scheduler_started (
                           key        TEXT PRIMARY KEY,
                           action     TEXT NOT NULL,
                           started_at TEXT NOT NULL
                       )";
        for statement in [ddl, index, started] {
            match &db {
                ViewDb::Postgres(pool) => {
                    sqlx::query(statement).execute(pool).await?;
                }
                #[cfg(feature = "sqlite")]
                ViewDb::Sqlite(views) => {
                    sqlx::query(statement).execute(views.writer()).await?;
                }
            }
        }
        Ok(Self { db })
    }

    /// Which of `keys` have a row.
    pub async fn done(&self, keys: &[String]) -> Result<HashSet<String>, sqlx::Error> {
        if keys.is_empty() {
            return Ok(HashSet::new());
        }
        let found: Vec<String> = match &self.db {
            ViewDb::Postgres(pool) => {
                sqlx::query_scalar("SELECT key FROM scheduler_journal WHERE key = ANY($1)")
                    .bind(keys)
                    .fetch_all(pool)
                    .await?
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                let keys =
                    serde_json::to_string(keys).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                sqlx::query_scalar(
                    "SELECT key FROM scheduler_journal \
                      WHERE key IN (SELECT value FROM json_each(?1))",
                )
                .bind(keys)
                .fetch_all(views.reader())
                .await?
            }
        };
        Ok(found.into_iter().collect())
    }

    /// Notes that `action` is being fired at `now`, before it reaches the engine: until its
    /// outcome is journaled, [`Journal::unfinished`] returns it.
    pub async fn start(&self, action: &DueAction, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        self.start_all(std::slice::from_ref(action), now).await
    }

    /// [`Journal::start`] for every one of `actions`, in one transaction: what a tick does
    /// before it fires its actions one by one, so that noting them costs one commit a tick.
    pub async fn start_all(
        &self,
        actions: &[DueAction],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        if actions.is_empty() {
            return Ok(());
        }
        let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let rows = actions
            .iter()
            .map(|action| {
                serde_json::to_string(action)
                    .map(|json| (action.key(), json))
                    .map_err(|e| sqlx::Error::Encode(Box::new(e)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        macro_rules! insert_all {
            ($pool:expr, $sql:expr) => {{
                let mut tx = $pool.begin().await?;
                for (key, json) in &rows {
                    sqlx::query($sql)
                        .bind(key)
                        .bind(json)
                        .bind(&at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }};
        }
        match &self.db {
            ViewDb::Postgres(pool) => insert_all!(
                pool,
                "INSERT INTO scheduler_started (key, action, started_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING"
            ),
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => insert_all!(
                views.writer(),
                "INSERT INTO scheduler_started (key, action, started_at) \
                 VALUES (?1, ?2, ?3) ON CONFLICT (key) DO NOTHING"
            ),
        }
        Ok(())
    }

    /// Forgets that `key`'s action was started: it was not issued after all (it waits).
    pub async fn forget(&self, key: &str) -> Result<(), sqlx::Error> {
        match &self.db {
            ViewDb::Postgres(pool) => {
                sqlx::query("DELETE FROM scheduler_started WHERE key = $1")
                    .bind(key)
                    .execute(pool)
                    .await?;
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                sqlx::query("DELETE FROM scheduler_started WHERE key = ?1")
                    .bind(key)
                    .execute(views.writer())
                    .await?;
            }
        }
        Ok(())
    }

    /// The actions fired whose outcome is not journaled: a process stopped while firing them,
    /// or the engine asked for a retry. Oldest first.
    pub async fn unfinished(&self) -> Result<Vec<DueAction>, sqlx::Error> {
        let sql = "SELECT s.action FROM scheduler_started s \
                    WHERE NOT EXISTS (SELECT 1 FROM scheduler_journal j WHERE j.key = s.key) \
                    ORDER BY s.started_at, s.key";
        let rows: Vec<String> = match &self.db {
            ViewDb::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => sqlx::query_scalar(sql).fetch_all(views.reader()).await?,
        };
        rows.iter()
            .map(|json| {
                serde_json::from_str(json).map_err(|e| {
                    sqlx::Error::Decode(format!("scheduler_started.action {json:?}: {e}").into())
                })
            })
            .collect()
    }

    /// Records `entry` and forgets that its action was started; a second record of the same
    /// key (another replica got there first) keeps the first.
    pub async fn record(&self, entry: &Entry) -> Result<(), sqlx::Error> {
        let outcome = serde_json::to_value(entry.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let done_at = entry
            .done_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let (due_on, events) = (entry.due_on.to_string(), i64::from(entry.events));
        macro_rules! insert {
            ($sql:expr, $forget:expr, $pool:expr) => {{
                let mut tx = $pool.begin().await?;
                sqlx::query($sql)
                    .bind(&entry.key)
                    .bind(&entry.rule)
                    .bind(&entry.action)
                    .bind(&entry.aggregate_type)
                    .bind(&entry.aggregate_id)
                    .bind(&entry.subject)
                    .bind(&due_on)
                    .bind(&done_at)
                    .bind(&outcome)
                    .bind(events)
                    .bind(&entry.reason)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query($forget)
                    .bind(&entry.key)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }};
        }
        match &self.db {
            ViewDb::Postgres(pool) => {
                insert!(
                    &format!(
                        "INSERT INTO scheduler_journal ({COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                         ON CONFLICT (key) DO NOTHING"
                    ),
                    "DELETE FROM scheduler_started WHERE key = $1",
                    pool
                );
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                insert!(
                    &format!(
                        "INSERT INTO scheduler_journal ({COLUMNS}) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                         ON CONFLICT (key) DO NOTHING"
                    ),
                    "DELETE FROM scheduler_started WHERE key = ?1",
                    views.writer()
                );
            }
        }
        Ok(())
    }

    /// The latest entries, newest first (ties by key), at most `limit`, after the entry
    /// `after` names (`(done_at, key)` of the previous page's last entry).
    pub async fn latest(
        &self,
        after: Option<(DateTime<Utc>, String)>,
        limit: u32,
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let (done_at, key) = after
            .map(|(at, key)| (at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), key))
            .unzip();
        let rows: Vec<Row> = match &self.db {
            ViewDb::Postgres(pool) => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM scheduler_journal \
                      WHERE $1::text IS NULL OR done_at < $1 OR (done_at = $1 AND key > $2) \
                      ORDER BY done_at DESC, key LIMIT $3"
                ))
                .bind(done_at)
                .bind(key)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM scheduler_journal \
                      WHERE ?1 IS NULL OR done_at < ?1 OR (done_at = ?1 AND key > ?2) \
                      ORDER BY done_at DESC, key LIMIT ?3"
                ))
                .bind(done_at)
                .bind(key)
                .bind(i64::from(limit))
                .fetch_all(views.reader())
                .await?
            }
        };
        rows.into_iter().map(entry).collect()
    }

    /// Every entry, in key order: what tests compare between runs.
    pub async fn all(&self) -> Result<Vec<Entry>, sqlx::Error> {
        let mut entries = self.latest(None, u32::MAX).await?;
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(entries)
    }
}

fn entry(row: Row) -> Result<Entry, sqlx::Error> {
    let malformed = |what: &str, value: &str| {
        sqlx::Error::Decode(format!("scheduler_journal.{what}: {value:?}").into())
    };
    let (key, rule, action, aggregate_type, aggregate_id, subject, due_on, done_at, outcome) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
    );
    Ok(Entry {
        due_on: due_on.parse().map_err(|_| malformed("due_on", &due_on))?,
        done_at: DateTime::parse_from_rfc3339(&done_at)
            .map_err(|_| malformed("done_at", &done_at))?
            .to_utc(),
        outcome: serde_json::from_value(serde_json::Value::String(outcome.clone()))
            .map_err(|_| malformed("outcome", &outcome))?,
        events: u32::try_from(row.9).unwrap_or(u32::MAX),
        reason: row.10,
        key,
        rule,
        action,
        aggregate_type,
        aggregate_id,
        subject,
    })
}

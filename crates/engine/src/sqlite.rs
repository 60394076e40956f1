//! [`SqliteEngineStore`]: the engine's tables in the embedded SQLite file, beside the events;
//! and [`SqliteEngine`], the whole write side on one data directory.
//!
//! Every write goes through the event store's one writer connection, so each method that reads
//! and then writes (claiming a key, allocating a suite code) runs as one `BEGIN IMMEDIATE`
//! transaction: nothing can slip in between, where PostgreSQL needs `ON CONFLICT` and
//! compare-and-set updates.

use crate::store::{EngineStore, KeyClaim, RecordedEvent};
use crate::{Engine, EngineConfig, EngineError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::exchange::ExchangeRate;
use domain::ids::{MemberId, ParcelId, SuiteCode};
use domain::money::Currency;
use domain::Services;
use event_store::sqlite::{SqliteEventRepository, SqliteEventStore};
use serde_json::Value;
use sqlx::Row;
use std::path::Path;
use std::time::Duration;

/// The engine's SQLite storage, on the event store's connections.
#[derive(Debug, Clone)]
pub struct SqliteEngineStore {
    events: SqliteEventStore,
}

/// The engine on the embedded store: cqrs-es on SQLite for the aggregates,
/// [`SqliteEngineStore`] for the rest.
pub type SqliteEngine = Engine<SqliteEventRepository, SqliteEngineStore>;

impl SqliteEngine {
    /// The engine on data directory `dir` (created if missing, `dir/parcelport.db`), migrated,
    /// with the system clock and UUID v7 ids. Read its events with [`SqliteEngine::event_log`].
    pub async fn open(
        dir: impl AsRef<Path>,
        services: Services,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let events = SqliteEventStore::open(dir)
            .await
            .map_err(|e| EngineError::store(&e))?;
        let engine = Self::sqlite(&events, services, config);
        engine.migrate().await?;
        engine.store.release_abandoned_claims().await?;
        Ok(engine)
    }

    /// The engine on an open store; call [`Engine::migrate`] before use.
    pub fn sqlite(events: &SqliteEventStore, services: Services, config: EngineConfig) -> Self {
        Engine::new(
            events.repository(),
            SqliteEngineStore::new(events.clone()),
            services,
            config,
        )
    }

    /// The event store under the engine: the global log the embedded projections and relay read.
    pub fn event_log(&self) -> &SqliteEventStore {
        &self.store.events
    }
}

impl SqliteEngineStore {
    /// The engine's storage in `events`' database file.
    pub fn new(events: SqliteEventStore) -> Self {
        Self { events }
    }

    /// The event store it shares the file with.
    pub fn event_store(&self) -> &SqliteEventStore {
        &self.events
    }

    /// Puts the stand-ins in the personal data of every recorded answer (issue #10), with
    /// freed space zeroed: answers recorded before they were scrubbed at the source hold it in
    /// plain text. Run by `parcelport audit seal-personal-data`; returns how many it changed.
    pub async fn scrub_recorded_answers(&self) -> Result<u64, EngineError> {
        sqlx::query("PRAGMA secure_delete = ON")
            .execute(self.events.writer())
            .await?;
        let answers: Vec<(String, Value)> =
            sqlx::query_as("SELECT key, response FROM idempotency_keys WHERE response IS NOT NULL")
                .fetch_all(self.events.writer())
                .await?;
        let scrubbed = crate::store::scrubbed(answers);
        for (key, response) in &scrubbed {
            sqlx::query("UPDATE idempotency_keys SET response = ?2 WHERE key = ?1")
                .bind(key)
                .bind(response)
                .execute(self.events.writer())
                .await?;
        }
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(self.events.writer())
            .await?;
        Ok(scrubbed.len() as u64)
    }

    /// Makes every request left pending by an earlier process resumable at once. The embedded
    /// store belongs to one process (the file is opened by one `serve`), so a claim pending
    /// when it opens was left by a process that died mid-request: waiting out its lease would
    /// only delay the retry (on a simulated clock, past the request's day). The claims keep
    /// their attempt numbers and allocated ids, so the retry resumes the request.
    pub async fn release_abandoned_claims(&self) -> Result<u64, EngineError> {
        let released =
            sqlx::query("UPDATE idempotency_keys SET claimed_at = ?1 WHERE status = 'pending'")
                .bind(DateTime::<Utc>::UNIX_EPOCH)
                .execute(self.events.writer())
                .await?
                .rows_affected();
        if released > 0 {
            tracing::info!(
                released,
                "requests left pending by an earlier process are resumable"
            );
        }
        Ok(released)
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, EngineError> {
        Ok(self.events.writer().begin_with("BEGIN IMMEDIATE").await?)
    }
}

impl EngineStore for SqliteEngineStore {
    /// Applies the engine's migrations; the event store applied its own when it was opened.
    async fn migrate(&self) -> Result<(), EngineError> {
        let mut migrator = sqlx::migrate!("./sqlite-migrations");
        migrator.set_ignore_missing(true);
        migrator
            .run(self.events.writer())
            .await
            .map_err(|e| EngineError::store(&e))
    }

    async fn allocate_suite_code(
        &self,
        prefix: &str,
        member: &MemberId,
    ) -> Result<SuiteCode, EngineError> {
        let mut tx = self.begin().await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT code FROM suite_codes WHERE member_id = ?1")
                .bind(member.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let code = match existing {
            Some(code) => code,
            None => {
                let number: i64 = sqlx::query_scalar(
                    "UPDATE suite_code_numbers SET last = last + 1 WHERE id = 1 RETURNING last",
                )
                .fetch_one(&mut *tx)
                .await?;
                let code = format!("{prefix}-{number:06}");
                sqlx::query(
                    "INSERT INTO suite_codes (code, member_id, allocated_at) VALUES (?1, ?2, ?3)",
                )
                .bind(&code)
                .bind(member.as_str())
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
                code
            }
        };
        tx.commit().await?;
        SuiteCode::parse(&code).map_err(|e| EngineError::Store {
            message: format!("suite code {code:?} allocated out of range: {e}"),
        })
    }

    async fn release_suite_code(&self, member: &MemberId) -> Result<(), EngineError> {
        sqlx::query("DELETE FROM suite_codes WHERE member_id = ?1")
            .bind(member.as_str())
            .execute(self.events.writer())
            .await?;
        Ok(())
    }

    async fn member_of_suite(&self, code: &SuiteCode) -> Result<Option<MemberId>, EngineError> {
        let member: Option<String> =
            sqlx::query_scalar("SELECT member_id FROM suite_codes WHERE code = ?1")
                .bind(code.as_str())
                .fetch_optional(self.events.reader())
                .await?;
        member
            .map(|m| MemberId::parse(&m).map_err(|e| EngineError::store(&e)))
            .transpose()
    }

    async fn index_parcel(&self, member: &MemberId, parcel: &ParcelId) -> Result<(), EngineError> {
        sqlx::query(
            "INSERT INTO member_parcels (member_id, parcel_id, indexed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        )
        .bind(member.as_str())
        .bind(parcel.as_str())
        .bind(Utc::now())
        .execute(self.events.writer())
        .await?;
        Ok(())
    }

    async fn parcels_of(&self, member: &MemberId) -> Result<Vec<ParcelId>, EngineError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT parcel_id FROM member_parcels WHERE member_id = ?1 ORDER BY parcel_id",
        )
        .bind(member.as_str())
        .fetch_all(self.events.reader())
        .await?;
        ids.iter()
            .map(|id| ParcelId::parse(id).map_err(|e| EngineError::store(&e)))
            .collect()
    }

    async fn record_reference_rate(&self, rate: &ExchangeRate) -> Result<(), EngineError> {
        sqlx::query(
            "INSERT INTO reference_rates (base, quote, valid_on, rate, source, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (base, quote, valid_on)
             DO UPDATE SET rate = excluded.rate, source = excluded.source,
                           recorded_at = excluded.recorded_at",
        )
        .bind(rate.base.code())
        .bind(rate.quote.code())
        .bind(rate.valid_on.to_string())
        .bind(rate.rate.to_string())
        .bind(&rate.source)
        .bind(Utc::now())
        .execute(self.events.writer())
        .await?;
        Ok(())
    }

    async fn reference_rate_in_month(
        &self,
        base: Currency,
        quote: Currency,
        month: NaiveDate,
    ) -> Result<Option<ExchangeRate>, EngineError> {
        let (first, last) = crate::store::month_of(month);
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT valid_on, rate, source FROM reference_rates
              WHERE base = ?1 AND quote = ?2 AND valid_on BETWEEN ?3 AND ?4
              ORDER BY valid_on DESC LIMIT 1",
        )
        .bind(base.code())
        .bind(quote.code())
        .bind(first.to_string())
        .bind(last.to_string())
        .fetch_optional(self.events.reader())
        .await?;
        row.map(|(valid_on, rate, source)| {
            let valid_on = valid_on.parse().map_err(|_| EngineError::Store {
                message: format!("reference rate day {valid_on:?} is not a date"),
            })?;
            crate::store::rate_of_row(base, quote, valid_on, &rate, source)
        })
        .transpose()
    }

    async fn claim_key(
        &self,
        key: &str,
        fingerprint: &str,
        lease: Duration,
    ) -> Result<KeyClaim, EngineError> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (key, request_fingerprint, status, created_at, claimed_at)
             VALUES (?1, ?2, 'pending', ?3, ?3) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(KeyClaim::Claimed {
                attempt: 1,
                resumed: false,
                allocated_ids: Vec::new(),
            });
        }
        let row = sqlx::query(
            "SELECT request_fingerprint, status, response, attempt, claimed_at
               FROM idempotency_keys WHERE key = ?1",
        )
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        if row.try_get::<String, _>("request_fingerprint")? != fingerprint {
            return Ok(KeyClaim::Mismatch);
        }
        if row.try_get::<String, _>("status")? == "done" {
            return Ok(KeyClaim::Done(row.try_get::<Value, _>("response")?));
        }
        let claimed_at: DateTime<Utc> = row.try_get("claimed_at")?;
        let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let stale = now.signed_duration_since(claimed_at) > lease;
        if !stale {
            return Ok(KeyClaim::Pending);
        }
        // Take the abandoned claim over; the attempt number fences the old holder out.
        let taken = sqlx::query(
            "UPDATE idempotency_keys SET attempt = attempt + 1, claimed_at = ?2
              WHERE key = ?1 AND status = 'pending'
          RETURNING attempt, allocated_ids",
        )
        .bind(key)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let attempt: i32 = taken.try_get("attempt")?;
        let allocated_ids: String = taken.try_get("allocated_ids")?;
        let allocated_ids: Vec<String> = serde_json::from_str(&allocated_ids)?;
        tx.commit().await?;
        Ok(KeyClaim::Claimed {
            attempt,
            resumed: true,
            allocated_ids,
        })
    }

    async fn record_allocated_id(
        &self,
        key: &str,
        attempt: i32,
        id: &str,
    ) -> Result<(), EngineError> {
        let updated = sqlx::query(
            "UPDATE idempotency_keys SET allocated_ids = json_insert(allocated_ids, '$[#]', ?3)
              WHERE key = ?1 AND attempt = ?2 AND status = 'pending'",
        )
        .bind(key)
        .bind(attempt)
        .bind(id)
        .execute(self.events.writer())
        .await?;
        if updated.rows_affected() == 1 {
            Ok(())
        } else {
            Err(EngineError::InProgress {
                key: key.to_owned(),
            })
        }
    }

    async fn complete_key(
        &self,
        key: &str,
        attempt: i32,
        response: &Value,
    ) -> Result<bool, EngineError> {
        let updated = sqlx::query(
            "UPDATE idempotency_keys SET status = 'done', response = ?3, completed_at = ?4
              WHERE key = ?1 AND attempt = ?2 AND status = 'pending'",
        )
        .bind(key)
        .bind(attempt)
        .bind(response)
        .bind(Utc::now())
        .execute(self.events.writer())
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn abandon_key(&self, key: &str, attempt: i32) -> Result<(), EngineError> {
        sqlx::query(
            "UPDATE idempotency_keys SET claimed_at = ?3
              WHERE key = ?1 AND attempt = ?2 AND status = 'pending'",
        )
        .bind(key)
        .bind(attempt)
        .bind(DateTime::<Utc>::UNIX_EPOCH)
        .execute(self.events.writer())
        .await?;
        Ok(())
    }

    async fn recorded_step(&self, key: &str, step: u32) -> Result<Vec<RecordedEvent>, EngineError> {
        let appended = self
            .events
            .appended_by_request(key, step)
            .await
            .map_err(|e| EngineError::store(&e))?;
        Ok(appended.into_iter().map(RecordedEvent::from).collect())
    }
}

//! [`PgEngineStore`]: the engine's tables in PostgreSQL, in the schema `engine`, with their
//! own migration history, beside the event store's tables.

use crate::store::{EngineStore, KeyClaim, RecordedEvent};
use crate::EngineError;
use chrono::NaiveDate;
use domain::exchange::ExchangeRate;
use domain::ids::{MemberId, ParcelId, SuiteCode};
use domain::money::Currency;
use event_store::EventStore;
use serde_json::Value;
use sqlx::{Connection, PgPool, Row};
use std::time::Duration;

/// The engine's PostgreSQL storage, sharing the event store's pool.
#[derive(Debug, Clone)]
pub struct PgEngineStore {
    pool: PgPool,
}

impl PgEngineStore {
    /// The engine's storage on `pool`, the event store's database.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Puts the stand-ins in the personal data of every recorded answer (issue #10): answers
    /// recorded before they were scrubbed at the source hold it in plain text. Run by
    /// `parcelport audit seal-personal-data`; returns how many answers it changed.
    pub async fn scrub_recorded_answers(&self) -> Result<u64, EngineError> {
        let answers: Vec<(String, Value)> = sqlx::query_as(
            "SELECT key, response FROM engine.idempotency_keys WHERE response IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let scrubbed = crate::store::scrubbed(answers);
        for (key, response) in &scrubbed {
            sqlx::query("UPDATE engine.idempotency_keys SET response = $2 WHERE key = $1")
                .bind(key)
                .bind(response)
                .execute(&self.pool)
                .await?;
        }
        if !scrubbed.is_empty() {
            // The old rows leave the table's files (the server is stopped meanwhile).
            sqlx::query("VACUUM (FULL) engine.idempotency_keys")
                .execute(&self.pool)
                .await?;
        }
        Ok(scrubbed.len() as u64)
    }
}

/// sqlx keeps one migration history per `_sqlx_migrations` table, found through the
/// `search_path`. The event store's history is `public._sqlx_migrations`; the engine's
/// migrations run on a connection whose `search_path` starts with `engine`, so their history
/// is `engine._sqlx_migrations` and neither migrator ever sees the other's versions (which
/// would fail it with `VersionMissing`). `public` stays on the path for the index on `events`.
async fn run_engine_migrations(pool: &PgPool) -> Result<(), EngineError> {
    let mut conn = pool.acquire().await?.detach();
    sqlx::query("CREATE SCHEMA IF NOT EXISTS engine")
        .execute(&mut conn)
        .await?;
    sqlx::query("SET search_path TO engine, public")
        .execute(&mut conn)
        .await?;
    let migrated = sqlx::migrate!("./migrations").run_direct(&mut conn).await;
    let closed = conn.close().await;
    migrated.map_err(|e| EngineError::store(&e))?;
    closed?;
    Ok(())
}

impl EngineStore for PgEngineStore {
    /// Applies the event store's migrations, then the engine's (its index is on `events`).
    async fn migrate(&self) -> Result<(), EngineError> {
        EventStore::from_pool(self.pool.clone())
            .migrate()
            .await
            .map_err(|e| EngineError::store(&e))?;
        run_engine_migrations(&self.pool).await
    }

    async fn allocate_suite_code(
        &self,
        prefix: &str,
        member: &MemberId,
    ) -> Result<SuiteCode, EngineError> {
        let existing: Option<String> =
            sqlx::query_scalar("SELECT code FROM engine.suite_codes WHERE member_id = $1")
                .bind(member.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let code = match existing {
            Some(code) => code,
            None => {
                let number: i64 = sqlx::query_scalar("SELECT nextval('engine.suite_code_numbers')")
                    .fetch_one(&self.pool)
                    .await?;
                let code = format!("{prefix}-{number:06}");
                sqlx::query(
                    "INSERT INTO engine.suite_codes (code, member_id) VALUES ($1, $2)
                     ON CONFLICT (member_id) DO NOTHING",
                )
                .bind(&code)
                .bind(member.as_str())
                .execute(&self.pool)
                .await?;
                // A concurrent allocation for the same member may have won: read the winner.
                sqlx::query_scalar("SELECT code FROM engine.suite_codes WHERE member_id = $1")
                    .bind(member.as_str())
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        SuiteCode::parse(&code).map_err(|e| EngineError::Store {
            message: format!("suite code {code:?} allocated out of range: {e}"),
        })
    }

    async fn release_suite_code(&self, member: &MemberId) -> Result<(), EngineError> {
        sqlx::query("DELETE FROM engine.suite_codes WHERE member_id = $1")
            .bind(member.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn member_of_suite(&self, code: &SuiteCode) -> Result<Option<MemberId>, EngineError> {
        let member: Option<String> =
            sqlx::query_scalar("SELECT member_id FROM engine.suite_codes WHERE code = $1")
                .bind(code.as_str())
                .fetch_optional(&self.pool)
                .await?;
        member
            .map(|m| MemberId::parse(&m).map_err(|e| EngineError::store(&e)))
            .transpose()
    }

    async fn index_parcel(&self, member: &MemberId, parcel: &ParcelId) -> Result<(), EngineError> {
        sqlx::query(
            "INSERT INTO engine.member_parcels (member_id, parcel_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(member.as_str())
        .bind(parcel.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn parcels_of(&self, member: &MemberId) -> Result<Vec<ParcelId>, EngineError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT parcel_id FROM engine.member_parcels WHERE member_id = $1 ORDER BY parcel_id",
        )
        .bind(member.as_str())
        .fetch_all(&self.pool)
        .await?;
        ids.iter()
            .map(|id| ParcelId::parse(id).map_err(|e| EngineError::store(&e)))
            .collect()
    }

    async fn record_reference_rate(&self, rate: &ExchangeRate) -> Result<(), EngineError> {
        sqlx::query(
            "INSERT INTO engine.reference_rates (base, quote, valid_on, rate, source)
             VALUES ($1, $2, $3, $4::numeric, $5)
             ON CONFLICT (base, quote, valid_on)
             DO UPDATE SET rate = EXCLUDED.rate, source = EXCLUDED.source, recorded_at = now()",
        )
        .bind(rate.base.code())
        .bind(rate.quote.code())
        .bind(rate.valid_on)
        .bind(rate.rate.to_string())
        .bind(&rate.source)
        .execute(&self.pool)
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
        let row: Option<(NaiveDate, String, String)> = sqlx::query_as(
            "SELECT valid_on, rate::text, source FROM engine.reference_rates
              WHERE base = $1 AND quote = $2 AND valid_on BETWEEN $3 AND $4
              ORDER BY valid_on DESC LIMIT 1",
        )
        .bind(base.code())
        .bind(quote.code())
        .bind(first)
        .bind(last)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(valid_on, rate, source)| {
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
        let inserted = sqlx::query(
            "INSERT INTO engine.idempotency_keys (key, request_fingerprint, status)
             VALUES ($1, $2, 'pending') ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(fingerprint)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(KeyClaim::Claimed {
                attempt: 1,
                resumed: false,
                allocated_ids: Vec::new(),
            });
        }
        let row = sqlx::query(
            "SELECT request_fingerprint, status, response, attempt,
                    claimed_at < now() - make_interval(secs => $2) AS stale
               FROM engine.idempotency_keys WHERE key = $1",
        )
        .bind(key)
        .bind(lease.as_secs_f64())
        .fetch_one(&self.pool)
        .await?;
        if row.try_get::<String, _>("request_fingerprint")? != fingerprint {
            return Ok(KeyClaim::Mismatch);
        }
        if row.try_get::<String, _>("status")? == "done" {
            return Ok(KeyClaim::Done(row.try_get::<Value, _>("response")?));
        }
        if !row.try_get::<bool, _>("stale")? {
            return Ok(KeyClaim::Pending);
        }
        // Take the abandoned claim over; the attempt number fences the old holder out.
        let attempt: i32 = row.try_get("attempt")?;
        let taken = sqlx::query(
            "UPDATE engine.idempotency_keys SET attempt = attempt + 1, claimed_at = now()
              WHERE key = $1 AND status = 'pending' AND attempt = $2
          RETURNING attempt, allocated_ids",
        )
        .bind(key)
        .bind(attempt)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match taken {
            Some(row) => KeyClaim::Claimed {
                attempt: row.try_get("attempt")?,
                resumed: true,
                allocated_ids: row.try_get("allocated_ids")?,
            },
            None => KeyClaim::Pending,
        })
    }

    async fn record_allocated_id(
        &self,
        key: &str,
        attempt: i32,
        id: &str,
    ) -> Result<(), EngineError> {
        let updated = sqlx::query(
            "UPDATE engine.idempotency_keys SET allocated_ids = array_append(allocated_ids, $3)
              WHERE key = $1 AND attempt = $2 AND status = 'pending'",
        )
        .bind(key)
        .bind(attempt)
        .bind(id)
        .execute(&self.pool)
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
            "UPDATE engine.idempotency_keys
                SET status = 'done', response = $3, completed_at = now()
              WHERE key = $1 AND attempt = $2 AND status = 'pending'",
        )
        .bind(key)
        .bind(attempt)
        .bind(response)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn abandon_key(&self, key: &str, attempt: i32) -> Result<(), EngineError> {
        sqlx::query(
            "UPDATE engine.idempotency_keys SET claimed_at = '-infinity'
              WHERE key = $1 AND attempt = $2 AND status = 'pending'",
        )
        .bind(key)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn recorded_step(&self, key: &str, step: u32) -> Result<Vec<RecordedEvent>, EngineError> {
        let appended = event_store::EventStore::from_pool(self.pool.clone())
            .appended_by_request(key, step)
            .await
            .map_err(|e| EngineError::store(&e))?;
        Ok(appended.into_iter().map(RecordedEvent::from).collect())
    }
}

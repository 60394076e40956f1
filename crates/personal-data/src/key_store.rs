//! [`KeyStore`]: one AES-256 key per member, in a table of its own (`personal_data_keys`),
//! never in the event store: a PostgreSQL table beside `events` when distributed (this crate
//! is its only reader and writer), a SQLite file of its own (`keys.sqlite`) beside the
//! embedded store. Erasure overwrites the key with NULL and records when; the row stays, so
//! an erased member is told apart from an unknown one.

use crate::PersonalDataError;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::collections::BTreeMap;
use std::path::Path;

/// A member's key, or that it was erased.
#[derive(Clone, PartialEq, Eq)]
pub enum MemberKey {
    /// The key and its id.
    Live {
        /// Recorded in every value sealed with it.
        key_id: String,
        /// The AES-256 key.
        key: [u8; 32],
    },
    /// Erased at this instant: nothing sealed for this member can be read any more.
    Erased {
        /// When.
        erased_at: DateTime<Utc>,
    },
}

impl std::fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberKey::Live { key_id, .. } => write!(f, "Live({key_id})"),
            MemberKey::Erased { erased_at } => write!(f, "Erased({erased_at})"),
        }
    }
}

/// Where the members' keys are kept.
#[derive(Debug, Clone)]
pub enum KeyStore {
    /// The `personal_data_keys` table of a PostgreSQL database.
    Postgres(PgPool),
    /// A SQLite file of its own.
    Sqlite(SqlitePool),
}

const POSTGRES_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS personal_data_keys (
    member_id  TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL,
    key        BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    erased_at  TIMESTAMPTZ,
    CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS personal_data_keys_key_id ON personal_data_keys (key_id)";

const SQLITE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS personal_data_keys (
    member_id  TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL,
    key        BLOB,
    created_at TEXT NOT NULL,
    erased_at  TEXT,
    CHECK ((key IS NULL) = (erased_at IS NOT NULL))
) STRICT;
CREATE INDEX IF NOT EXISTS personal_data_keys_key_id ON personal_data_keys (key_id)";

type Row = (String, Option<Vec<u8>>, Option<DateTime<Utc>>);

/// Runs `$query` (an expression of `$pool`) on whichever pool the store has: the statements
/// are the same on both (`$n` parameters, `ON CONFLICT`), only the pool's type differs.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $query:expr) => {
        match $store {
            KeyStore::Postgres($pool) => $query,
            KeyStore::Sqlite($pool) => $query,
        }
        .map_err(PersonalDataError::KeyStore)
    };
}

impl KeyStore {
    /// The key store in `pool`'s database, its table created if missing.
    pub async fn postgres(pool: PgPool) -> Result<Self, PersonalDataError> {
        // Two processes starting at once may both try to create the table; the loser's
        // unique violation on the catalog means the table exists.
        if let Err(error) = sqlx::raw_sql(POSTGRES_SCHEMA).execute(&pool).await {
            let exists = error
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "23505" || code == "42P07");
            if !exists {
                return Err(PersonalDataError::KeyStore(error));
            }
        }
        Ok(Self::Postgres(pool))
    }

    /// The key store in the SQLite file `path`, created if missing.
    pub async fn sqlite(path: &Path) -> Result<Self, PersonalDataError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(PersonalDataError::KeyStore)?;
        sqlx::raw_sql(SQLITE_SCHEMA)
            .execute(&pool)
            .await
            .map_err(PersonalDataError::KeyStore)?;
        Ok(Self::Sqlite(pool))
    }

    /// Closes the store's connections (the SQLite file is left checkpointed, without `-wal`).
    pub async fn close(&self) {
        match self {
            KeyStore::Postgres(pool) => pool.close().await,
            KeyStore::Sqlite(pool) => pool.close().await,
        }
    }

    /// `member`'s key, `None` if they have none.
    pub async fn get(&self, member: &str) -> Result<Option<MemberKey>, PersonalDataError> {
        const SELECT: &str =
            "SELECT key_id, key, erased_at FROM personal_data_keys WHERE member_id = $1";
        let row: Option<Row> = on_pool!(self, |pool| {
            sqlx::query_as(SELECT)
                .bind(member)
                .fetch_optional(pool)
                .await
        })?;
        row.map(|row| member_key(member, row)).transpose()
    }

    /// The keys of those of `members` who have one, read in one query.
    pub async fn get_many(
        &self,
        members: &[String],
    ) -> Result<BTreeMap<String, MemberKey>, PersonalDataError> {
        const POSTGRES: &str = "SELECT member_id, key_id, key, erased_at FROM personal_data_keys \
                                WHERE member_id = ANY($1)";
        const SQLITE: &str = "SELECT member_id, key_id, key, erased_at FROM personal_data_keys \
                              WHERE member_id IN (SELECT value FROM json_each($1))";
        type Keyed = (String, String, Option<Vec<u8>>, Option<DateTime<Utc>>);
        if members.is_empty() {
            return Ok(BTreeMap::new());
        }
        let rows: Vec<Keyed> = match self {
            KeyStore::Postgres(pool) => {
                sqlx::query_as(POSTGRES).bind(members).fetch_all(pool).await
            }
            KeyStore::Sqlite(pool) => {
                let members = serde_json::to_string(members)
                    .map_err(|e| PersonalDataError::Corrupt(e.to_string()))?;
                sqlx::query_as(SQLITE).bind(members).fetch_all(pool).await
            }
        }
        .map_err(PersonalDataError::KeyStore)?;
        rows.into_iter()
            .map(|(member, key_id, key, erased_at)| {
                let key = member_key(&member, (key_id, key, erased_at))?;
                Ok((member, key))
            })
            .collect()
    }

    /// The member whose key has id `key_id`, if any.
    pub async fn member_of_key(&self, key_id: &str) -> Result<Option<String>, PersonalDataError> {
        const SELECT: &str = "SELECT member_id FROM personal_data_keys WHERE key_id = $1";
        on_pool!(self, |pool| {
            sqlx::query_scalar(SELECT)
                .bind(key_id)
                .fetch_optional(pool)
                .await
        })
    }

    /// `member`'s key, made now if they have none. Two writers racing get the same key.
    pub async fn get_or_create(&self, member: &str) -> Result<MemberKey, PersonalDataError> {
        if let Some(key) = self.get(member).await? {
            return Ok(key);
        }
        let mut key = [0u8; 32];
        let mut id = [0u8; 8];
        getrandom::fill(&mut key).map_err(|e| PersonalDataError::Random(e.to_string()))?;
        getrandom::fill(&mut id).map_err(|e| PersonalDataError::Random(e.to_string()))?;
        const INSERT: &str = "INSERT INTO personal_data_keys (member_id, key_id, key, created_at) \
                              VALUES ($1, $2, $3, $4) ON CONFLICT (member_id) DO NOTHING";
        let now = Utc::now();
        let key_id = hex::encode(id);
        on_pool!(self, |pool| {
            sqlx::query(INSERT)
                .bind(member)
                .bind(&key_id)
                .bind(key.as_slice())
                .bind(now)
                .execute(pool)
                .await
                .map(drop)
        })?;
        self.get(member)
            .await?
            .ok_or_else(|| PersonalDataError::Corrupt(format!("{member}'s new key was not kept")))
    }

    /// Deletes `member`'s key (keeping the row, with the time). Idempotent: an erased key
    /// stays erased at its first time; a member without a key gets an erased row, so that
    /// nothing is ever sealed for them again.
    pub async fn erase(
        &self,
        member: &str,
        at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, PersonalDataError> {
        const ERASE: &str = "UPDATE personal_data_keys SET key = NULL, erased_at = $2 \
                             WHERE member_id = $1 AND erased_at IS NULL";
        const TOMBSTONE: &str =
            "INSERT INTO personal_data_keys (member_id, key_id, key, created_at, erased_at) \
                                 VALUES ($1, '-', NULL, $2, $2) ON CONFLICT (member_id) DO NOTHING";
        for statement in [ERASE, TOMBSTONE] {
            on_pool!(self, |pool| {
                sqlx::query(statement)
                    .bind(member)
                    .bind(at)
                    .execute(pool)
                    .await
                    .map(drop)
            })?;
        }
        match self.get(member).await? {
            Some(MemberKey::Erased { erased_at }) => Ok(erased_at),
            _ => Err(PersonalDataError::Corrupt(format!(
                "{member}'s key is still there after erasure"
            ))),
        }
    }
}

fn member_key(member: &str, (key_id, key, erased_at): Row) -> Result<MemberKey, PersonalDataError> {
    match (key, erased_at) {
        (None, Some(erased_at)) => Ok(MemberKey::Erased { erased_at }),
        (Some(key), None) => Ok(MemberKey::Live {
            key_id,
            key: key.try_into().map_err(|_| {
                PersonalDataError::Corrupt(format!("{member}'s key is not 32 bytes"))
            })?,
        }),
        _ => Err(PersonalDataError::Corrupt(format!(
            "{member}'s key row is neither live nor erased"
        ))),
    }
}

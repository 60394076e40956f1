//! Where views live: one PostgreSQL schema per view instance (`view_storage_status_v3`; on
//! SQLite a table prefix, `view_storage_status_v3_parcels`), and the pointer table
//! `projections.views` (SQLite: `projections_views`) that says which instance of each view
//! serves queries.
//!
//! An instance holds the view's tables and its bookkeeping: `checkpoint` (how far the
//! instance has read), `applied` (the last sequence applied per aggregate) and `parked_events`.
//! A blue/green rebuild builds a new instance beside the serving one and moves the pointer in
//! one transaction; queries and live projectors follow the pointer.

use crate::{Dialect, Projection, RuntimeError, ViewConn, ViewDb};
use sqlx::PgConnection;
use std::fmt;

/// A validated schema name: lower-case ASCII letters, digits and `_`, starting with a letter,
/// at most 63 bytes. Safe to splice into SQL unquoted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Schema(String);

impl Schema {
    /// `name` if it is a valid schema name.
    pub fn parse(name: &str) -> Option<Schema> {
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        (first_ok && rest_ok && name.len() <= 63).then(|| Schema(name.to_owned()))
    }

    /// The schema of instance `version` of view `view`: `view_<view>_v<version>`.
    ///
    /// # Panics
    /// When `view` is not a valid name part (a programming error: view names are constants).
    pub fn instance(view: &str, version: i32) -> Schema {
        Schema::parse(&format!("view_{view}_v{version}"))
            .unwrap_or_else(|| panic!("view name {view:?} makes an invalid schema name"))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instance's version: the `N` of `view_<view>_v<N>`.
    pub fn version(&self) -> Option<i32> {
        self.0.rsplit_once("_v").and_then(|(_, v)| v.parse().ok())
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Creates the runtime's own schema and pointer table when missing. Idempotent; safe to run
/// from several processes at once.
pub async fn migrate(db: impl Into<ViewDb>) -> Result<(), RuntimeError> {
    let db = db.into();
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    lock_catalog(&mut conn).await?;
    // Several statements: sent as a simple query (a `&str` with no arguments). Not
    // `sqlx::raw_sql`, whose future is not `Send` for every lifetime, which spawned projectors
    // need.
    let ddl = match conn.dialect() {
        Dialect::Postgres => {
            "CREATE SCHEMA IF NOT EXISTS projections;
         CREATE TABLE IF NOT EXISTS projections.views (
             name        text PRIMARY KEY,
             schema      text NOT NULL,
             version     integer NOT NULL,
             switched_at timestamptz NOT NULL DEFAULT now()
         );"
        }
        Dialect::Sqlite => {
            "CREATE TABLE IF NOT EXISTS projections_views (
             name        TEXT PRIMARY KEY,
             schema      TEXT NOT NULL,
             version     INTEGER NOT NULL,
             switched_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         );"
        }
    };
    conn.execute(ddl).await?;
    tx.commit().await?;
    Ok(())
}

/// The instance of `view` serving now, if any.
pub async fn current(db: impl Into<ViewDb>, view: &str) -> Result<Option<Schema>, RuntimeError> {
    let db = db.into();
    let schema: Option<String> = match &db {
        ViewDb::Postgres(pool) => {
            sqlx::query_scalar("SELECT schema FROM projections.views WHERE name = $1")
                .bind(view)
                .fetch_optional(pool)
                .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_scalar("SELECT schema FROM projections_views WHERE name = ?1")
                .bind(view)
                .fetch_optional(views.reader())
                .await?
        }
    };
    Ok(schema.as_deref().and_then(Schema::parse))
}

/// The tables of `projection` that instance `schema` lacks, or lacks a column of: an instance
/// made by an older version of the projection, before it gained them.
pub async fn missing_tables<P: Projection>(
    db: impl Into<ViewDb>,
    projection: &P,
    schema: &Schema,
) -> Result<Vec<&'static str>, RuntimeError> {
    let db = db.into();
    let mut missing = Vec::new();
    for table in projection.tables() {
        // How many of the table's columns the instance has: none when the table is missing.
        let present: i64 = match &db {
            ViewDb::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT count(*) FROM information_schema.columns \
                  WHERE table_schema = $1 AND table_name = $2 AND column_name = ANY($3)",
                )
                .bind(schema.as_str())
                .bind(table.name)
                .bind(table.columns)
                .fetch_one(pool)
                .await?
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                sqlx::query_scalar(
                    "SELECT count(*) FROM pragma_table_info(?1) \
                  WHERE name IN (SELECT value FROM json_each(?2))",
                )
                .bind(schema.table(Dialect::Sqlite, table.name))
                .bind(sqlx::types::Json(table.columns))
                .fetch_one(views.reader())
                .await?
            }
        };
        if usize::try_from(present).unwrap_or(0) < table.columns.len() {
            missing.push(table.name);
        }
    }
    Ok(missing)
}

/// The instance of `view` serving now, or [`RuntimeError::NoView`]: what query functions call.
pub async fn serving(db: impl Into<ViewDb>, view: &str) -> Result<Schema, RuntimeError> {
    current(db, view)
        .await?
        .ok_or_else(|| RuntimeError::NoView(view.to_owned()))
}

/// The serving instance of `projection`, creating an empty first instance (and the pointer)
/// when the view has none: what a live projector calls at start.
pub async fn ensure<P: Projection>(
    db: impl Into<ViewDb>,
    projection: &P,
) -> Result<Schema, RuntimeError> {
    let db = db.into();
    // The common case, one read; the catalog may not exist yet on a fresh database.
    if let Ok(Some(schema)) = current(&db, projection.name()).await {
        return Ok(schema);
    }
    migrate(&db).await?;
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    lock_catalog(&mut conn).await?;
    if let Some(schema) = current_in(&mut conn, projection.name()).await? {
        return Ok(schema);
    }
    let version = next_version(&mut conn, projection.name()).await?;
    let schema = Schema::instance(projection.name(), version);
    create_instance(&mut conn, projection, &schema).await?;
    point(&mut conn, projection.name(), &schema).await?;
    tx.commit().await?;
    tracing::info!(view = projection.name(), %schema, "created the first view instance");
    Ok(schema)
}

/// Points `view` at instance `schema` (inserting or moving the pointer).
pub(crate) async fn point(
    conn: &mut ViewConn<'_>,
    view: &str,
    schema: &Schema,
) -> Result<(), RuntimeError> {
    let version = schema.version().unwrap_or(0);
    match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query(
                "INSERT INTO projections.views (name, schema, version) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE
                    SET schema = EXCLUDED.schema, version = EXCLUDED.version,
                        switched_at = now()",
            )
            .bind(view)
            .bind(schema.as_str())
            .bind(version)
            .execute(&mut **conn)
            .await?;
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            sqlx::query(
                "INSERT INTO projections_views (name, schema, version) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE
                    SET schema = excluded.schema, version = excluded.version,
                        switched_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            )
            .bind(view)
            .bind(schema.as_str())
            .bind(version)
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

/// A new, empty instance of `projection` that no pointer names and nothing serves: what a
/// rebuild fills before it switches, or a scratch copy for a pinned projector
/// (`Target::Instance`), such as the auditor's replay of a view as of a past moment. Dropping
/// it is the caller's business.
pub async fn create_unserved_instance<P: Projection>(
    db: impl Into<ViewDb>,
    projection: &P,
) -> Result<Schema, RuntimeError> {
    let db = db.into();
    migrate(&db).await?;
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    lock_catalog(&mut conn).await?;
    let version = next_version(&mut conn, projection.name()).await?;
    let schema = Schema::instance(projection.name(), version);
    create_instance(&mut conn, projection, &schema).await?;
    tx.commit().await?;
    Ok(schema)
}

/// How far instance `schema` of `view` has read: its checkpoint.
pub async fn checkpoint(
    db: impl Into<ViewDb>,
    schema: &Schema,
    view: &str,
) -> Result<event_store::GlobalCursor, RuntimeError> {
    Ok(progress(db, schema, view).await?.0)
}

/// How far instance `schema` of `view` has read, and how many events it applied on the way.
pub async fn progress(
    db: impl Into<ViewDb>,
    schema: &Schema,
    view: &str,
) -> Result<(event_store::GlobalCursor, u64), RuntimeError> {
    // One read, outside any transaction: projectors call this at every attach.
    let (txid, position, applied): (String, i64, i64) = match db.into() {
        ViewDb::Postgres(pool) => {
            sqlx::query_as(&format!(
                "SELECT txid::text, position, events_applied FROM {schema}.checkpoint
                  WHERE projection = $1"
            ))
            .bind(view)
            .fetch_one(&pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            sqlx::query_as(&format!(
                "SELECT CAST(txid AS TEXT), position, events_applied FROM {schema}_checkpoint
                  WHERE projection = ?1"
            ))
            .bind(view)
            .fetch_one(views.reader())
            .await?
        }
    };
    let cursor = event_store::GlobalCursor {
        txid: txid.parse().unwrap_or(0),
        position,
    };
    Ok((cursor, u64::try_from(applied).unwrap_or(0)))
}

/// Every instance of `view` that exists, serving or not, oldest first.
pub async fn instances(db: impl Into<ViewDb>, view: &str) -> Result<Vec<Schema>, RuntimeError> {
    let db = db.into();
    let mut names: Vec<String> = match &db {
        ViewDb::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT nspname::text FROM pg_namespace
                  WHERE nspname ~ ('^view_' || $1 || '_v[0-9]+$')",
            )
            .bind(view)
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => sqlite_instances(views.writer(), view).await?,
    };
    names.retain(|name| {
        name.strip_prefix(&format!("view_{view}_v"))
            .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    });
    let mut schemas: Vec<Schema> = names.iter().filter_map(|n| Schema::parse(n)).collect();
    schemas.sort_by_key(Schema::version);
    Ok(schemas)
}

/// The instance names of `view` in a SQLite views file: the prefixes of their checkpoint tables.
#[cfg(feature = "sqlite")]
async fn sqlite_instances<'e, E: sqlx::SqliteExecutor<'e>>(
    executor: E,
    view: &str,
) -> Result<Vec<String>, RuntimeError> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB ?1")
            .bind(format!("view_{view}_v[0-9]*_checkpoint"))
            .fetch_all(executor)
            .await?;
    Ok(tables
        .into_iter()
        .filter_map(|t| t.strip_suffix("_checkpoint").map(str::to_owned))
        .collect())
}

/// Drops instance `schema` of a view: its tables and bookkeeping.
pub async fn drop_instance(db: impl Into<ViewDb>, schema: &Schema) -> Result<(), RuntimeError> {
    let db = db.into();
    match &db {
        ViewDb::Postgres(_) => {
            db.execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?2) = ?1",
            )
            .bind(format!("{schema}_"))
            .bind(i64::try_from(schema.as_str().len() + 1).unwrap_or(i64::MAX))
            .fetch_all(views.writer())
            .await?;
            let drops: String = tables
                .iter()
                .map(|t| format!("DROP TABLE IF EXISTS \"{t}\";"))
                .collect();
            if drops.is_empty() {
                return Ok(());
            }
            db.execute(&drops).await
        }
    }
}

pub(crate) async fn current_in(
    conn: &mut ViewConn<'_>,
    view: &str,
) -> Result<Option<Schema>, RuntimeError> {
    let schema: Option<String> = match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query_scalar("SELECT schema FROM projections.views WHERE name = $1")
                .bind(view)
                .fetch_optional(&mut **conn)
                .await?
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            sqlx::query_scalar("SELECT schema FROM projections_views WHERE name = ?1")
                .bind(view)
                .fetch_optional(&mut **conn)
                .await?
        }
    };
    Ok(schema.as_deref().and_then(Schema::parse))
}

/// Serializes catalog changes (first instances, version numbers) across processes. On SQLite
/// the views file's single writer connection (and SQLite's write lock) already does.
pub(crate) async fn lock_catalog(conn: &mut ViewConn<'_>) -> Result<(), RuntimeError> {
    match conn {
        ViewConn::Postgres(conn) => lock_catalog_pg(conn).await,
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(_) => Ok(()),
    }
}

async fn lock_catalog_pg(conn: &mut PgConnection) -> Result<(), RuntimeError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('parcelport.projections.catalog'))")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One more than the highest instance version of `view` that exists or ever served.
pub(crate) async fn next_version(conn: &mut ViewConn<'_>, view: &str) -> Result<i32, RuntimeError> {
    let version: i32 = match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query_scalar(
                "SELECT greatest(
                     (SELECT max(substring(nspname from '_v([0-9]+)$')::int) FROM pg_namespace
                       WHERE nspname ~ ('^view_' || $1 || '_v[0-9]+$')),
                     (SELECT max(version) FROM projections.views WHERE name = $1),
                     0) + 1",
            )
            .bind(view)
            .fetch_one(&mut **conn)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let existing = sqlite_instances(&mut **conn, view).await?;
            let pointed: Option<i32> =
                sqlx::query_scalar("SELECT max(version) FROM projections_views WHERE name = ?1")
                    .bind(view)
                    .fetch_one(&mut **conn)
                    .await?;
            existing
                .iter()
                .filter_map(|n| Schema::parse(n).and_then(|s| s.version()))
                .chain(pointed)
                .max()
                .unwrap_or(0)
                + 1
        }
    };
    Ok(version)
}

/// Creates instance `schema` of `projection`: the schema, the view's tables, the bookkeeping
/// tables, and a checkpoint at the start of the feed.
pub(crate) async fn create_instance<P: Projection>(
    conn: &mut ViewConn<'_>,
    projection: &P,
    schema: &Schema,
) -> Result<(), RuntimeError> {
    let dialect = conn.dialect();
    let view_tables = projection.create_tables(schema, dialect);
    let ddl = match dialect {
        Dialect::Postgres => format!(
            "CREATE SCHEMA {schema};
         CREATE TABLE {schema}.checkpoint (
             projection     text PRIMARY KEY,
             txid           numeric(20) NOT NULL DEFAULT 0,
             position       bigint NOT NULL DEFAULT 0,
             events_applied bigint NOT NULL DEFAULT 0,
             updated_at     timestamptz NOT NULL DEFAULT now()
         );
         CREATE TABLE {schema}.applied (
             projection     text NOT NULL,
             aggregate_type text NOT NULL,
             aggregate_id   text NOT NULL,
             last_sequence  bigint NOT NULL,
             PRIMARY KEY (projection, aggregate_type, aggregate_id)
         );
         CREATE TABLE {schema}.parked_events (
             projection     text NOT NULL,
             event_id       uuid NOT NULL,
             aggregate_type text NOT NULL,
             aggregate_id   text NOT NULL,
             sequence       bigint NOT NULL,
             event_type     text NOT NULL,
             event_version  text NOT NULL,
             txid           numeric(20) NOT NULL,
             position       bigint NOT NULL,
             payload        jsonb NOT NULL,
             metadata       jsonb NOT NULL,
             recorded_at    timestamptz NOT NULL,
             reason         text NOT NULL,
             error          text NOT NULL,
             attempts       integer NOT NULL DEFAULT 1,
             parked_at      timestamptz NOT NULL DEFAULT now(),
             replayed_at    timestamptz,
             PRIMARY KEY (projection, event_id)
         );
         CREATE INDEX ON {schema}.parked_events (projection, aggregate_type, aggregate_id, sequence)
          WHERE replayed_at IS NULL;
         {view_tables}"
        ),
        // The cursor's txid is an INTEGER here: SQLite's own cursors carry 0, and a PostgreSQL
        // txid (xid8) stays far below 2^63.
        Dialect::Sqlite => format!(
            "CREATE TABLE {schema}_checkpoint (
             projection     TEXT PRIMARY KEY,
             txid           INTEGER NOT NULL DEFAULT 0,
             position       INTEGER NOT NULL DEFAULT 0,
             events_applied INTEGER NOT NULL DEFAULT 0,
             updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         );
         CREATE TABLE {schema}_applied (
             projection     TEXT NOT NULL,
             aggregate_type TEXT NOT NULL,
             aggregate_id   TEXT NOT NULL,
             last_sequence  INTEGER NOT NULL,
             PRIMARY KEY (projection, aggregate_type, aggregate_id)
         ) WITHOUT ROWID;
         CREATE TABLE {schema}_parked_events (
             projection     TEXT NOT NULL,
             event_id       TEXT NOT NULL,
             aggregate_type TEXT NOT NULL,
             aggregate_id   TEXT NOT NULL,
             sequence       INTEGER NOT NULL,
             event_type     TEXT NOT NULL,
             event_version  TEXT NOT NULL,
             txid           INTEGER NOT NULL,
             position       INTEGER NOT NULL,
             payload        TEXT NOT NULL,
             metadata       TEXT NOT NULL,
             recorded_at    TEXT NOT NULL,
             reason         TEXT NOT NULL,
             error          TEXT NOT NULL,
             attempts       INTEGER NOT NULL DEFAULT 1,
             parked_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
             replayed_at    TEXT,
             PRIMARY KEY (projection, event_id)
         );
         CREATE INDEX {schema}_parked_events_waiting
             ON {schema}_parked_events (projection, aggregate_type, aggregate_id, sequence)
          WHERE replayed_at IS NULL;
         {view_tables}"
        ),
    };
    conn.execute(&ddl).await?;
    let checkpoint = schema.table(dialect, "checkpoint");
    match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query(&format!(
                "INSERT INTO {checkpoint} (projection) VALUES ($1)"
            ))
            .bind(projection.name())
            .execute(&mut **conn)
            .await?;
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            sqlx::query(&format!(
                "INSERT INTO {checkpoint} (projection) VALUES (?1)"
            ))
            .bind(projection.name())
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

/// The serving instance of `view`, with the pointer row locked in share mode until the end of
/// the transaction: a switch waits for the batch, and the batch for a switch. (On SQLite every
/// write transaction of the views file is already serialized.)
pub(crate) async fn lock_serving_shared(
    conn: &mut ViewConn<'_>,
    view: &str,
) -> Result<Option<Schema>, RuntimeError> {
    match conn {
        ViewConn::Postgres(conn) => {
            let schema: Option<String> = sqlx::query_scalar(
                "SELECT schema FROM projections.views WHERE name = $1 FOR SHARE",
            )
            .bind(view)
            .fetch_optional(&mut **conn)
            .await?;
            Ok(schema.as_deref().and_then(Schema::parse))
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(_) => current_in(conn, view).await,
    }
}

/// The serving instance of `view`, the pointer row locked for an update until the end of the
/// transaction (a rebuild's switch).
pub(crate) async fn lock_serving_exclusive(
    conn: &mut ViewConn<'_>,
    view: &str,
) -> Result<Option<Schema>, RuntimeError> {
    match conn {
        ViewConn::Postgres(conn) => {
            let schema: Option<String> = sqlx::query_scalar(
                "SELECT schema FROM projections.views WHERE name = $1 FOR UPDATE",
            )
            .bind(view)
            .fetch_optional(&mut **conn)
            .await?;
            Ok(schema.as_deref().and_then(Schema::parse))
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(_) => current_in(conn, view).await,
    }
}

#[cfg(test)]
mod tests {
    use super::Schema;

    #[test]
    fn schema_names_are_plain_identifiers_safe_to_splice_into_sql() {
        assert_eq!(
            Schema::instance("storage_status", 3).as_str(),
            "view_storage_status_v3"
        );
        for bad in [
            "",
            "1view",
            "View",
            "view;drop",
            "view x",
            "vïew",
            &"v".repeat(64),
        ] {
            assert!(Schema::parse(bad).is_none(), "{bad:?} must be refused");
        }
    }
}

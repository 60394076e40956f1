//! Where views live: one PostgreSQL schema per view instance (`view_storage_status_v3`), and the
//! pointer table `projections.views` that says which instance of each view serves queries.
//!
//! An instance schema holds the view's tables and its bookkeeping: `checkpoint` (how far the
//! instance has read), `applied` (the last sequence applied per aggregate) and `parked_events`.
//! A blue/green rebuild builds a new instance beside the serving one and moves the pointer in
//! one transaction; queries and live projectors follow the pointer.

use crate::{Projection, RuntimeError};
use sqlx::{Executor, PgConnection, PgPool};
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
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Creates the runtime's own schema and pointer table when missing. Idempotent; safe to run
/// from several processes at once.
pub async fn migrate(pool: &PgPool) -> Result<(), RuntimeError> {
    let mut tx = pool.begin().await?;
    lock_catalog(&mut tx).await?;
    // Several statements: sent as a simple query (a `&str` with no arguments). Not
    // `sqlx::raw_sql`, whose future is not `Send` for every lifetime, which spawned projectors
    // need.
    (&mut *tx)
        .execute(
            "CREATE SCHEMA IF NOT EXISTS projections;
         CREATE TABLE IF NOT EXISTS projections.views (
             name        text PRIMARY KEY,
             schema      text NOT NULL,
             version     integer NOT NULL,
             switched_at timestamptz NOT NULL DEFAULT now()
         );",
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The instance of `view` serving now, if any.
pub async fn current(pool: &PgPool, view: &str) -> Result<Option<Schema>, RuntimeError> {
    let schema: Option<String> =
        sqlx::query_scalar("SELECT schema FROM projections.views WHERE name = $1")
            .bind(view)
            .fetch_optional(pool)
            .await?;
    Ok(schema.as_deref().and_then(Schema::parse))
}

/// The instance of `view` serving now, or [`RuntimeError::NoView`]: what query functions call.
pub async fn serving(pool: &PgPool, view: &str) -> Result<Schema, RuntimeError> {
    current(pool, view)
        .await?
        .ok_or_else(|| RuntimeError::NoView(view.to_owned()))
}

/// The serving instance of `projection`, creating an empty first instance (and the pointer)
/// when the view has none: what a live projector calls at start.
pub async fn ensure<P: Projection>(pool: &PgPool, projection: &P) -> Result<Schema, RuntimeError> {
    // The common case, one read; the catalog may not exist yet on a fresh database.
    if let Ok(Some(schema)) = current(pool, projection.name()).await {
        return Ok(schema);
    }
    migrate(pool).await?;
    let mut tx = pool.begin().await?;
    lock_catalog(&mut tx).await?;
    if let Some(schema) = current_in(&mut tx, projection.name()).await? {
        return Ok(schema);
    }
    let version = next_version(&mut tx, projection.name()).await?;
    let schema = Schema::instance(projection.name(), version);
    create_instance(&mut tx, projection, &schema).await?;
    sqlx::query("INSERT INTO projections.views (name, schema, version) VALUES ($1, $2, $3)")
        .bind(projection.name())
        .bind(schema.as_str())
        .bind(version)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(view = projection.name(), %schema, "created the first view instance");
    Ok(schema)
}

/// How far instance `schema` of `view` has read: its checkpoint.
pub async fn checkpoint(
    pool: &PgPool,
    schema: &Schema,
    view: &str,
) -> Result<event_store::GlobalCursor, RuntimeError> {
    let mut conn = pool.acquire().await?;
    crate::projector::checkpoint(&mut conn, schema, view).await
}

/// Every instance schema of `view` that exists, serving or not, oldest first.
pub async fn instances(pool: &PgPool, view: &str) -> Result<Vec<Schema>, RuntimeError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname ~ ('^view_' || $1 || '_v[0-9]+$')
          ORDER BY substring(nspname from '_v([0-9]+)$')::int",
    )
    .bind(view)
    .fetch_all(pool)
    .await?;
    Ok(names.iter().filter_map(|n| Schema::parse(n)).collect())
}

pub(crate) async fn current_in(
    conn: &mut PgConnection,
    view: &str,
) -> Result<Option<Schema>, RuntimeError> {
    let schema: Option<String> =
        sqlx::query_scalar("SELECT schema FROM projections.views WHERE name = $1")
            .bind(view)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(schema.as_deref().and_then(Schema::parse))
}

/// Serializes catalog changes (first instances, version numbers) across processes.
pub(crate) async fn lock_catalog(conn: &mut PgConnection) -> Result<(), RuntimeError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('parcelport.projections.catalog'))")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One more than the highest instance version of `view` that exists or ever served.
pub(crate) async fn next_version(conn: &mut PgConnection, view: &str) -> Result<i32, RuntimeError> {
    let version: i32 = sqlx::query_scalar(
        "SELECT greatest(
             (SELECT max(substring(nspname from '_v([0-9]+)$')::int) FROM pg_namespace
               WHERE nspname ~ ('^view_' || $1 || '_v[0-9]+$')),
             (SELECT max(version) FROM projections.views WHERE name = $1),
             0) + 1",
    )
    .bind(view)
    .fetch_one(&mut *conn)
    .await?;
    Ok(version)
}

/// Creates instance `schema` of `projection`: the schema, the view's tables, the bookkeeping
/// tables, and a checkpoint at the start of the feed.
pub(crate) async fn create_instance<P: Projection>(
    conn: &mut PgConnection,
    projection: &P,
    schema: &Schema,
) -> Result<(), RuntimeError> {
    let ddl = format!(
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
         {view_tables}",
        view_tables = projection.create_tables(schema),
    );
    conn.execute(ddl.as_str()).await?;
    sqlx::query(&format!(
        "INSERT INTO {schema}.checkpoint (projection) VALUES ($1)"
    ))
    .bind(projection.name())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The serving instance of `view`, with the pointer row locked in share mode until the end of
/// the transaction: a switch waits for the batch, and the batch for a switch.
pub(crate) async fn lock_serving_shared(
    conn: &mut PgConnection,
    view: &str,
) -> Result<Option<Schema>, RuntimeError> {
    let schema: Option<String> =
        sqlx::query_scalar("SELECT schema FROM projections.views WHERE name = $1 FOR SHARE")
            .bind(view)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(schema.as_deref().and_then(Schema::parse))
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

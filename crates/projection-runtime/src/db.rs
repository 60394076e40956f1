//! [`ViewDb`]: the database views live in, PostgreSQL or (feature `sqlite`) an embedded SQLite
//! file; [`ViewConn`], one connection of it inside a batch's transaction; [`Dialect`], which
//! SQL a view's DDL is written in.
//!
//! Everything backend-specific in the runtime matches on these two enums, so a projection's
//! `apply` (load rows, fold changes in memory, write rows back) is written once.
//!
//! On PostgreSQL an instance is a schema (`view_billing_v2.accounts`). SQLite has no schemas: an
//! instance is a table-name prefix (`view_billing_v2_accounts`, see [`Schema::table`]), in a
//! file of its own beside the event store (ADR 0005).

use crate::{RuntimeError, Schema};
use sqlx::{Executor, PgConnection, PgPool, Postgres, Transaction};
#[cfg(feature = "sqlite")]
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

/// Which SQL a view's tables are created in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL: a schema per instance, `numeric`, `jsonb`, arrays.
    Postgres,
    /// SQLite: a table prefix per instance; decimals, dates and timestamps as TEXT, arrays and
    /// JSON as JSON TEXT, booleans as INTEGER.
    Sqlite,
}

/// Where views live. Cheap to clone (pools are shared).
#[derive(Debug, Clone)]
pub enum ViewDb {
    /// A PostgreSQL database (usually the event store's).
    Postgres(PgPool),
    /// An embedded SQLite file.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteViews),
}

/// The SQLite views file: one writer connection (every view write of the process, so the
/// projectors never compete for SQLite's write lock) and read-only connections for queries.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone)]
pub struct SqliteViews {
    writer: SqlitePool,
    reader: SqlitePool,
}

#[cfg(feature = "sqlite")]
impl SqliteViews {
    /// The writer pool (one connection).
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The read-only pool.
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }
}

impl From<PgPool> for ViewDb {
    fn from(pool: PgPool) -> Self {
        ViewDb::Postgres(pool)
    }
}

impl From<&PgPool> for ViewDb {
    fn from(pool: &PgPool) -> Self {
        ViewDb::Postgres(pool.clone())
    }
}

impl From<&ViewDb> for ViewDb {
    fn from(db: &ViewDb) -> Self {
        db.clone()
    }
}

impl ViewDb {
    /// Opens (creating it the first time) the SQLite views file at `path`, in WAL mode.
    ///
    /// `synchronous = NORMAL`: a power cut may lose the last commits, never half of one, and
    /// a view's changes and its checkpoint are in the same commit, so the projector reads the
    /// lost events again. The event store itself keeps `FULL`.
    #[cfg(feature = "sqlite")]
    pub async fn open_sqlite(path: impl AsRef<std::path::Path>) -> Result<ViewDb, RuntimeError> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        let path = path.as_ref();
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(5));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect.clone().create_if_missing(true))
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(connect.read_only(true))
            .await?;
        Ok(ViewDb::Sqlite(SqliteViews { writer, reader }))
    }

    /// The dialect of the database.
    pub fn dialect(&self) -> Dialect {
        match self {
            ViewDb::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// The PostgreSQL pool, if the views are there.
    pub fn as_postgres(&self) -> Option<&PgPool> {
        match self {
            ViewDb::Postgres(pool) => Some(pool),
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(_) => None,
        }
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<ViewTx, RuntimeError> {
        Ok(match self {
            ViewDb::Postgres(pool) => ViewTx::Postgres(pool.begin().await?),
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => ViewTx::Sqlite(views.writer.begin().await?),
        })
    }

    /// Runs `sql` (no arguments, possibly several statements) on a writer connection.
    pub(crate) async fn execute(&self, sql: &str) -> Result<(), RuntimeError> {
        match self {
            ViewDb::Postgres(pool) => {
                pool.execute(sql).await?;
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                views.writer.execute(sql).await?;
            }
        }
        Ok(())
    }

    /// Closes the pools.
    pub async fn close(&self) {
        match self {
            ViewDb::Postgres(pool) => pool.close().await,
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                views.reader.close().await;
                views.writer.close().await;
            }
        }
    }
}

/// A write transaction on a [`ViewDb`].
#[derive(Debug)]
pub enum ViewTx {
    /// On PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
    /// On SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(Transaction<'static, Sqlite>),
}

impl ViewTx {
    /// The transaction's connection.
    pub fn conn(&mut self) -> ViewConn<'_> {
        match self {
            ViewTx::Postgres(tx) => ViewConn::Postgres(tx),
            #[cfg(feature = "sqlite")]
            ViewTx::Sqlite(tx) => ViewConn::Sqlite(tx),
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), RuntimeError> {
        match self {
            ViewTx::Postgres(tx) => tx.commit().await?,
            #[cfg(feature = "sqlite")]
            ViewTx::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// One connection of a [`ViewDb`], inside the caller's transaction: what
/// [`crate::Projection::apply`] and [`crate::rows`] write through.
#[derive(Debug)]
pub enum ViewConn<'c> {
    /// On PostgreSQL.
    Postgres(&'c mut PgConnection),
    /// On SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(&'c mut SqliteConnection),
}

impl ViewConn<'_> {
    /// The dialect of the connection.
    pub fn dialect(&self) -> Dialect {
        match self {
            ViewConn::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "sqlite")]
            ViewConn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs `sql` (no arguments, possibly several statements).
    pub(crate) async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            ViewConn::Postgres(conn) => {
                conn.execute(sql).await?;
            }
            #[cfg(feature = "sqlite")]
            ViewConn::Sqlite(conn) => {
                conn.execute(sql).await?;
            }
        }
        Ok(())
    }
}

impl Schema {
    /// Table `table` of this instance as SQL names it: `view_x_v1.parcels` on PostgreSQL,
    /// `view_x_v1_parcels` on SQLite.
    pub fn table(&self, dialect: Dialect, table: &str) -> String {
        match dialect {
            Dialect::Postgres => format!("{self}.{table}"),
            Dialect::Sqlite => format!("{self}_{table}"),
        }
    }
}

/// A timestamp as the SQLite views store it: RFC 3339 in UTC with exactly six fractional
/// digits (PostgreSQL's precision), so that text order is time order.
pub fn sqlite_timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

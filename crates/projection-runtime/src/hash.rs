//! [`view_hash`]: a canonical hash of a view instance's tables, to compare two instances (a live
//! view and a rebuild, a view before and after a redelivery) without comparing rows by hand.

use crate::{RuntimeError, Schema, TableSpec, ViewDb};
use std::collections::BTreeMap;
use std::fmt;

/// Per table: the row count and a digest of the rows' text, in primary-key order (PostgreSQL:
/// md5 of each row as it prints it; SQLite: SHA-256 of each row's JSON object). Equal hashes
/// mean equal tables; hashes compare instances on the same backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewHash(pub BTreeMap<&'static str, (i64, String)>);

impl fmt::Display for ViewHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (table, (rows, hash))) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{table}: {rows} rows {hash}")?;
        }
        Ok(())
    }
}

/// The canonical hash of `tables` in instance `schema`. Bookkeeping (checkpoint, applied
/// sequences, parked events) is not part of it: two instances that reached the same view by
/// different paths hash the same.
pub async fn view_hash(
    db: impl Into<ViewDb>,
    schema: &Schema,
    tables: &[TableSpec],
) -> Result<ViewHash, RuntimeError> {
    let db = db.into();
    let mut hashes = BTreeMap::new();
    for table in tables {
        let key = |alias: &str| {
            table
                .key
                .iter()
                .map(|k| format!("{alias}.{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let hashed = match &db {
            ViewDb::Postgres(pool) => {
                // One md5 per row keeps the aggregate small (32 bytes a row) for big tables.
                sqlx::query_as(&format!(
                    "SELECT count(*), md5(coalesce(string_agg(md5(r::text), '' ORDER BY {key}), ''))
                       FROM {schema}.{name} r",
                    key = key("r"),
                    name = table.name,
                ))
                .fetch_one(pool)
                .await?
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                use futures::TryStreamExt;
                use sha2::{Digest, Sha256};
                let sql = format!(
                    "SELECT {object} FROM {schema}_{name} r ORDER BY {key}",
                    object = table.sqlite_object("r"),
                    name = table.name,
                    key = key("r"),
                );
                let mut rows = sqlx::query_scalar::<_, String>(&sql).fetch(views.reader());
                let mut digest = Sha256::new();
                let mut count = 0_i64;
                while let Some(row) = rows.try_next().await? {
                    digest.update(Sha256::digest(row.as_bytes()));
                    count += 1;
                }
                let hex: String = digest
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                (count, hex)
            }
        };
        hashes.insert(table.name, hashed);
    }
    Ok(ViewHash(hashes))
}

//! [`view_hash`]: a canonical hash of a view instance's tables, to compare two instances (a live
//! view and a rebuild, a view before and after a redelivery) without comparing rows by hand.

use crate::{RuntimeError, Schema, TableSpec};
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::fmt;

/// Per table: the row count and the md5 of the rows' text, in primary-key order. Equal hashes
/// mean equal tables (column for column, as PostgreSQL prints them).
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
    pool: &PgPool,
    schema: &Schema,
    tables: &[TableSpec],
) -> Result<ViewHash, RuntimeError> {
    let mut hashes = BTreeMap::new();
    for table in tables {
        // One md5 per row keeps the aggregate small (32 bytes a row) for big tables.
        let (rows, hash): (i64, String) = sqlx::query_as(&format!(
            "SELECT count(*), md5(coalesce(string_agg(md5(r::text), '' ORDER BY {key}), ''))
               FROM {schema}.{name} r",
            key = table
                .key
                .iter()
                .map(|k| format!("r.{k}"))
                .collect::<Vec<_>>()
                .join(", "),
            name = table.name,
        ))
        .fetch_one(pool)
        .await?;
        hashes.insert(table.name, (rows, hash));
    }
    Ok(ViewHash(hashes))
}

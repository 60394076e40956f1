//! View tables as JSON rows, loaded and written a batch at a time.
//!
//! A view's `apply` loads the rows a batch touches in one statement, folds the batch's changes
//! into them in memory, and writes them back in one statement: two round trips per table per
//! batch, whatever the batch size. Rows travel as JSON (`to_jsonb` out,
//! `jsonb_populate_recordset` in), so a row is a plain serde struct whose field names are the
//! column names. Numeric columns are read as text, so money never passes through a float.

use crate::Schema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgConnection;

/// A view table: its name, primary key and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// The table's name inside the view's schema.
    pub name: &'static str,
    /// The primary key's columns, in order: the canonical hash orders rows by them.
    pub key: &'static [&'static str],
    /// Every column, key included, as the row struct names its fields.
    pub columns: &'static [&'static str],
    /// The `numeric` columns, read back as text so that decimals stay exact.
    pub numeric: &'static [&'static str],
}

impl TableSpec {
    /// The table's columns for a `SELECT`, numeric ones cast to text (`amount::text AS amount`),
    /// so that `to_jsonb` of the result deserializes into the row struct without a float.
    pub fn select_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| {
                if self.numeric.contains(c) {
                    format!("{c}::text AS {c}")
                } else {
                    (*c).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The rows of `table` whose single-column text key is among `keys`, in no particular order.
pub async fn load<R: DeserializeOwned + Send + Unpin + 'static>(
    conn: &mut PgConnection,
    schema: &Schema,
    table: &TableSpec,
    keys: &[String],
) -> Result<Vec<R>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let [key] = table.key else {
        panic!(
            "rows::load needs a single-column key; {} has {:?}",
            table.name, table.key
        );
    };
    let sql = format!(
        "SELECT to_jsonb(r) FROM (SELECT {list} FROM {schema}.{name} WHERE {key} = ANY($1)) r",
        list = table.select_list(),
        name = table.name,
    );
    let rows: Vec<Json<R>> = sqlx::query_scalar(&sql)
        .bind(keys)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(|Json(row)| row).collect())
}

/// Inserts `rows` into `table`, or overwrites every column of the rows whose key exists.
pub async fn upsert<R: Serialize + Sync>(
    conn: &mut PgConnection,
    schema: &Schema,
    table: &TableSpec,
    rows: &[R],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let updates: Vec<String> = table
        .columns
        .iter()
        .filter(|c| !table.key.contains(c))
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    let on_conflict = if updates.is_empty() {
        "DO NOTHING".to_owned()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    let sql = format!(
        "INSERT INTO {schema}.{name} ({columns})
         SELECT {columns} FROM jsonb_populate_recordset(NULL::{schema}.{name}, $1)
         ON CONFLICT ({key}) {on_conflict}",
        name = table.name,
        columns = table.columns.join(", "),
        key = table.key.join(", "),
    );
    sqlx::query(&sql)
        .bind(Json(rows))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Inserts `rows` into `table`; a row whose key exists is an error (insert-only tables, where a
/// second insert would mean an event applied twice).
pub async fn insert<R: Serialize + Sync>(
    conn: &mut PgConnection,
    schema: &Schema,
    table: &TableSpec,
    rows: &[R],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO {schema}.{name} ({columns})
         SELECT {columns} FROM jsonb_populate_recordset(NULL::{schema}.{name}, $1)",
        name = table.name,
        columns = table.columns.join(", "),
    );
    sqlx::query(&sql)
        .bind(Json(rows))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::TableSpec;

    #[test]
    fn numeric_columns_are_read_as_text_so_no_float_touches_money() {
        let table = TableSpec {
            name: "t",
            key: &["id"],
            columns: &["id", "amount", "note"],
            numeric: &["amount"],
        };
        assert_eq!(table.select_list(), "id, amount::text AS amount, note");
    }
}

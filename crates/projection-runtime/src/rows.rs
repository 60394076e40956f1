//! View tables as JSON rows, loaded and written a batch at a time, on either backend.
//!
//! A view's `apply` loads the rows a batch touches in one statement, folds the batch's changes
//! into them in memory, and writes them back in one statement: two round trips per table per
//! batch, whatever the batch size. Rows travel as JSON, so a row is a plain serde struct whose
//! field names are the column names: on PostgreSQL `to_jsonb` out and `jsonb_populate_recordset`
//! in; on SQLite `json_object` out and `json_each` in. Decimals never pass through a float:
//! PostgreSQL's `numeric` columns are read as text, SQLite stores them as text (and no view sums
//! money in SQLite's SQL: it would use floats).

use crate::db::ViewConn;
use crate::Schema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::types::Json;

/// A view table: its name, primary key and columns, and the columns that need care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// The table's name inside the view's schema.
    pub name: &'static str,
    /// The primary key's columns, in order: the canonical hash orders rows by them.
    pub key: &'static [&'static str],
    /// Every column, key included, as the row struct names its fields.
    pub columns: &'static [&'static str],
    /// The decimal columns (`numeric` on PostgreSQL, TEXT on SQLite), read back as text so that
    /// decimals stay exact.
    pub numeric: &'static [&'static str],
    /// Arrays and JSON documents (`text[]`, `jsonb`; JSON TEXT on SQLite).
    pub json: &'static [&'static str],
    /// Booleans (INTEGER 0/1 on SQLite).
    pub boolean: &'static [&'static str],
    /// Timestamps (`timestamptz`; on SQLite TEXT in [`crate::sqlite_timestamp`]'s fixed format).
    pub timestamp: &'static [&'static str],
}

impl TableSpec {
    /// The table's columns for a PostgreSQL `SELECT`, numeric ones cast to text
    /// (`amount::text AS amount`), so that `to_jsonb` of the result deserializes into the row
    /// struct without a float. Order such a result by qualified names (`ORDER BY t.amount`): a
    /// bare name in `ORDER BY` means the output column, here the text.
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

    /// The SQLite expression that makes one row a JSON object the row struct deserializes:
    /// `json_object('id', t.id, 'tags', json(t.tags), ...)` over the columns of alias `alias`.
    pub fn sqlite_object(&self, alias: &str) -> String {
        let fields: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let value = if self.json.contains(c) {
                    format!("json({alias}.{c})")
                } else if self.boolean.contains(c) {
                    format!(
                        "json(CASE WHEN {alias}.{c} IS NULL THEN 'null' \
                         WHEN {alias}.{c} THEN 'true' ELSE 'false' END)"
                    )
                } else {
                    format!("{alias}.{c}")
                };
                format!("'{c}', {value}")
            })
            .collect();
        format!("json_object({})", fields.join(", "))
    }

    /// The SQLite expressions that read each column from the JSON object `value` of a
    /// `json_each` row, in [`TableSpec::columns`] order.
    #[cfg(feature = "sqlite")]
    fn sqlite_extract_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| {
                if self.json.contains(c) {
                    format!("value -> '$.{c}'")
                } else {
                    format!("json_extract(value, '$.{c}')")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `rows` as one JSON array for SQLite, timestamps in the stored format.
    #[cfg(feature = "sqlite")]
    fn sqlite_rows<R: Serialize>(&self, rows: &[R]) -> Result<String, sqlx::Error> {
        let mut values =
            serde_json::to_value(rows).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        if let Some(rows) = values.as_array_mut() {
            for row in rows {
                for column in self.timestamp {
                    let Some(field) = row.get_mut(*column) else {
                        continue;
                    };
                    let parsed = field
                        .as_str()
                        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok());
                    if let Some(at) = parsed {
                        *field = serde_json::Value::String(crate::sqlite_timestamp(at.to_utc()));
                    }
                }
            }
        }
        Ok(values.to_string())
    }
}

/// The rows of `table` whose single-column text key is among `keys`, in no particular order.
pub async fn load<R: DeserializeOwned + Send + Unpin + 'static>(
    conn: &mut ViewConn<'_>,
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
    let name = schema.table(conn.dialect(), table.name);
    match conn {
        ViewConn::Postgres(conn) => {
            let sql = format!(
                "SELECT to_jsonb(r) FROM (SELECT {list} FROM {name} WHERE {key} = ANY($1)) r",
                list = table.select_list(),
            );
            let rows: Vec<Json<R>> = sqlx::query_scalar(&sql)
                .bind(keys)
                .fetch_all(&mut **conn)
                .await?;
            Ok(rows.into_iter().map(|Json(row)| row).collect())
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let sql = format!(
                "SELECT {object} FROM {name} r WHERE r.{key} IN (SELECT value FROM json_each(?1))",
                object = table.sqlite_object("r"),
            );
            let keys = serde_json::to_string(keys).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            let rows: Vec<Json<R>> = sqlx::query_scalar(&sql)
                .bind(keys)
                .fetch_all(&mut **conn)
                .await?;
            Ok(rows.into_iter().map(|Json(row)| row).collect())
        }
    }
}

/// Inserts `rows` into `table`, or overwrites every column of the rows whose key exists.
pub async fn upsert<R: Serialize + Sync>(
    conn: &mut ViewConn<'_>,
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
    write(
        conn,
        schema,
        table,
        rows,
        &format!("ON CONFLICT ({}) {on_conflict}", table.key.join(", ")),
    )
    .await
}

/// Inserts `rows` into `table`; a row whose key exists is an error (insert-only tables, where a
/// second insert would mean an event applied twice).
pub async fn insert<R: Serialize + Sync>(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    table: &TableSpec,
    rows: &[R],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    write(conn, schema, table, rows, "").await
}

/// Deletes the rows of `table` whose single-column text key is among `keys`.
pub async fn delete(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    table: &TableSpec,
    keys: &[String],
) -> Result<(), sqlx::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    let [key] = table.key else {
        panic!(
            "rows::delete needs a single-column key; {} has {:?}",
            table.name, table.key
        );
    };
    let name = schema.table(conn.dialect(), table.name);
    match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query(&format!("DELETE FROM {name} WHERE {key} = ANY($1)"))
                .bind(keys)
                .execute(&mut **conn)
                .await?;
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let keys = serde_json::to_string(keys).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            sqlx::query(&format!(
                "DELETE FROM {name} WHERE {key} IN (SELECT value FROM json_each(?1))"
            ))
            .bind(keys)
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

/// One `INSERT` of every row, with `conflict` (an `ON CONFLICT` clause, or nothing).
async fn write<R: Serialize + Sync>(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    table: &TableSpec,
    rows: &[R],
    conflict: &str,
) -> Result<(), sqlx::Error> {
    let name = schema.table(conn.dialect(), table.name);
    let columns = table.columns.join(", ");
    match conn {
        ViewConn::Postgres(conn) => {
            let sql = format!(
                "INSERT INTO {name} ({columns})
                 SELECT {columns} FROM jsonb_populate_recordset(NULL::{name}, $1) {conflict}"
            );
            sqlx::query(&sql)
                .bind(Json(rows))
                .execute(&mut **conn)
                .await?;
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            // `WHERE true` keeps SQLite from reading `ON` as a join constraint.
            let sql = format!(
                "INSERT INTO {name} ({columns})
                 SELECT {extract} FROM json_each(?1) WHERE true {conflict}",
                extract = table.sqlite_extract_list(),
            );
            sqlx::query(&sql)
                .bind(table.sqlite_rows(rows)?)
                .execute(&mut **conn)
                .await?;
        }
    }
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
            json: &[],
            boolean: &[],
            timestamp: &[],
        };
        assert_eq!(table.select_list(), "id, amount::text AS amount, note");
    }
}

//! The schedule view's query: the deadlines due by a moment, or every one, in due order.

use super::{Action, DEADLINES, NAME};
use crate::{QueryError, ViewDb};
use chrono::{DateTime, NaiveDate, Utc};
use projection_runtime::catalog;
use serde::{Deserialize, Serialize};

/// A deadline as the view holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// `shipment` or `member`.
    pub aggregate_type: String,
    /// The aggregate.
    pub aggregate_id: String,
    /// The rule id.
    pub rule: String,
    /// The claim concerned, or empty.
    pub subject: String,
    /// What to do.
    pub action: Action,
    /// Due from this local date.
    pub due_on: NaiveDate,
    /// Due from this instant, when the rule has one.
    pub due_at: Option<DateTime<Utc>>,
}

/// A `deadlines` row as read, dates decoded.
type Read = (
    String,
    String,
    String,
    String,
    String,
    NaiveDate,
    Option<DateTime<Utc>>,
);
/// A `deadlines` row as SQLite holds it, dates as text.
#[cfg(feature = "sqlite")]
type ReadText = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

/// The deadlines due on the local date `today` at the instant `now` (every one, with `None`),
/// in due order, at most `limit`. A deadline with an exact instant is due from that instant,
/// whatever the date (its `due_on` is the instant's UTC date: the view knows no time zone).
pub async fn due_by(
    db: &ViewDb,
    by: Option<(NaiveDate, DateTime<Utc>)>,
    limit: u32,
) -> Result<Vec<Deadline>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let (today, now) = by.unzip();
    let rows: Vec<Read> = match db {
        ViewDb::Postgres(pool) => {
            let name = schema.table(projection_runtime::Dialect::Postgres, DEADLINES.name);
            sqlx::query_as(&format!(
                "SELECT aggregate_type, aggregate_id, rule, subject, action, due_on, due_at \
                       FROM {name} \
                      WHERE $1::date IS NULL \
                         OR (due_at IS NULL AND due_on <= $1) OR due_at <= $2 \
                      ORDER BY due_on, due_at, aggregate_type, aggregate_id, rule, subject \
                      LIMIT $3"
            ))
            .bind(today)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            let name = schema.table(projection_runtime::Dialect::Sqlite, DEADLINES.name);
            let rows: Vec<ReadText> = sqlx::query_as(&format!(
                "SELECT aggregate_type, aggregate_id, rule, subject, action, due_on, \
                                due_at \
                           FROM {name} \
                          WHERE ?1 IS NULL \
                             OR (due_at IS NULL AND due_on <= ?1) OR due_at <= ?2 \
                          ORDER BY due_on, due_at, aggregate_type, aggregate_id, rule, subject \
                          LIMIT ?3"
            ))
            .bind(today.map(|d| d.to_string()))
            .bind(now.map(projection_runtime::sqlite_timestamp))
            .bind(i64::from(limit))
            .fetch_all(views.reader())
            .await?;
            rows.into_iter()
                .map(|(t, id, rule, subject, action, due_on, due_at)| {
                    let due_on = due_on
                        .parse()
                        .map_err(|_| QueryError::Malformed(format!("due_on {due_on:?}")))?;
                    let due_at = due_at
                        .map(|at| {
                            DateTime::parse_from_rfc3339(&at)
                                .map(|at| at.to_utc())
                                .map_err(|_| QueryError::Malformed(format!("due_at {at:?}")))
                        })
                        .transpose()?;
                    Ok((t, id, rule, subject, action, due_on, due_at))
                })
                .collect::<Result<_, QueryError>>()?
        }
    };
    rows.into_iter()
        .map(
            |(aggregate_type, aggregate_id, rule, subject, action, due_on, due_at)| {
                let action = serde_json::from_value(serde_json::Value::String(action.clone()))
                    .map_err(|_| QueryError::Malformed(format!("action {action:?}")))?;
                Ok(Deadline {
                    aggregate_type,
                    aggregate_id,
                    rule,
                    subject,
                    action,
                    due_on,
                    due_at,
                })
            },
        )
        .collect()
}

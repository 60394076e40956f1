//! Who and what the people at the warehouse look up by name: members by id or suite code, and
//! shipments by member, id or tracking number. The member's name comes back sealed, as the
//! view keeps it; opening it is the caller's business (`crates/personal-data`).

#[cfg(feature = "sqlite")]
use super::rows::{MEMBERS, SHIPMENTS};
use super::{MemberRow, ShipmentRow, NAME};
use crate::{Page, QueryError};
use projection_runtime::{catalog, ViewDb};
use sqlx::types::Json;

/// Which members [`members`] lists: all of them when every field is empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemberFilter<'a> {
    /// These members only.
    pub ids: &'a [String],
    /// The member with this suite code (compared without case).
    pub suite_code: Option<&'a str>,
}

/// The members `filter` keeps, a page in member id order.
pub async fn members(
    db: &ViewDb,
    filter: MemberFilter<'_>,
    page: &Page<String>,
) -> Result<Vec<MemberRow>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let limit = i64::from(page.limit);
    let rows: Vec<Json<MemberRow>> = match db {
        ViewDb::Postgres(pool) => {
            let sql = format!(
                "SELECT to_jsonb(m) FROM {schema}.members m
                  WHERE (cardinality($1::text[]) = 0 OR m.member_id = ANY($1))
                    AND ($2::text IS NULL OR upper(m.suite_code) = upper($2))
                    AND ($3::text IS NULL OR m.member_id > $3)
                  ORDER BY m.member_id
                  LIMIT $4"
            );
            sqlx::query_scalar(&sql)
                .bind(filter.ids)
                .bind(filter.suite_code)
                .bind(page.after.as_deref())
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            let sql = format!(
                "SELECT {object} FROM {schema}_members m
                  WHERE (json_array_length(?1) = 0 OR m.member_id IN (SELECT value FROM json_each(?1)))
                    AND (?2 IS NULL OR upper(m.suite_code) = upper(?2))
                    AND (?3 IS NULL OR m.member_id > ?3)
                  ORDER BY m.member_id
                  LIMIT ?4",
                object = MEMBERS.sqlite_object("m"),
            );
            sqlx::query_scalar(&sql)
                .bind(Json(filter.ids))
                .bind(filter.suite_code)
                .bind(page.after.as_deref())
                .bind(limit)
                .fetch_all(views.reader())
                .await?
        }
    };
    Ok(rows.into_iter().map(|Json(row)| row).collect())
}

/// Which shipments [`shipments`] lists: all of them when every field is `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShipmentFilter<'a> {
    /// One member's.
    pub member_id: Option<&'a str>,
    /// This one.
    pub shipment_id: Option<&'a str>,
    /// The one the carrier tracks under this number (compared without case).
    pub tracking_number: Option<&'a str>,
}

/// The shipments `filter` keeps, newest request first, `limit` at most.
pub async fn shipments(
    db: &ViewDb,
    filter: ShipmentFilter<'_>,
    limit: u32,
) -> Result<Vec<ShipmentRow>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let limit = i64::from(limit);
    let rows: Vec<Json<ShipmentRow>> = match db {
        ViewDb::Postgres(pool) => {
            let sql = format!(
                "SELECT to_jsonb(s) FROM {schema}.shipments s
                  WHERE ($1::text IS NULL OR s.member_id = $1)
                    AND ($2::text IS NULL OR s.shipment_id = $2)
                    AND ($3::text IS NULL OR upper(s.tracking_number) = upper($3))
                  ORDER BY s.requested_on DESC NULLS LAST, s.shipment_id
                  LIMIT $4"
            );
            sqlx::query_scalar(&sql)
                .bind(filter.member_id)
                .bind(filter.shipment_id)
                .bind(filter.tracking_number)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            let sql = format!(
                "SELECT {object} FROM {schema}_shipments s
                  WHERE (?1 IS NULL OR s.member_id = ?1)
                    AND (?2 IS NULL OR s.shipment_id = ?2)
                    AND (?3 IS NULL OR upper(s.tracking_number) = upper(?3))
                  ORDER BY s.requested_on DESC, s.shipment_id
                  LIMIT ?4",
                object = SHIPMENTS.sqlite_object("s"),
            );
            sqlx::query_scalar(&sql)
                .bind(filter.member_id)
                .bind(filter.shipment_id)
                .bind(filter.tracking_number)
                .bind(limit)
                .fetch_all(views.reader())
                .await?
        }
    };
    Ok(rows.into_iter().map(|Json(row)| row).collect())
}

//! Query strings and answers: [`Params`] turns every malformed query string into a 400 problem
//! (`query.invalid_parameter`), [`limit`] bounds page sizes, [`Cursor`] is the opaque keyset
//! cursor of paginated lists (`query.invalid_cursor` when it does not decode), [`page`] reads
//! both into the page a list query takes, [`PageOf`] answers a page with its next cursor, and
//! [`view_failed`] maps a view's error to a problem once.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::NaiveDate;
use projections::{Page, QueryError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use web::problem::Problem;

/// The page size when none is asked for.
pub(crate) const DEFAULT_LIMIT: u32 = 50;
/// The largest page.
pub(crate) const MAX_LIMIT: u32 = 500;

/// A query string parsed into `T`; unknown parameters and bad values are 400 problems.
#[derive(Debug)]
pub(crate) struct Params<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(invalid_parameter(rejection.body_text())),
        }
    }
}

/// 400 `query.invalid_parameter`.
pub(crate) fn invalid_parameter(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "query.invalid_parameter",
        "Invalid query parameter",
    )
    .with_detail(detail)
}

/// 422 `query.invalid_cursor`: a cursor is opaque, so one this list did not issue is
/// well formed (its schema says hexadecimal) but names no place in it.
pub(crate) fn invalid_cursor() -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "query.invalid_cursor",
        "Invalid cursor",
    )
    .with_detail("pass back the next_cursor of the previous page unchanged")
}

/// The page size asked for: [`DEFAULT_LIMIT`] when absent, 1 to [`MAX_LIMIT`].
pub(crate) fn limit(asked: Option<u32>) -> Result<u32, Problem> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        Some(limit) => Err(invalid_parameter(format!(
            "limit {limit} is outside 1 to {MAX_LIMIT}"
        ))),
    }
}

/// An opaque cursor: the hex of the last key of a page, tagged with what it pages, so a
/// cursor of one list is refused by another.
pub(crate) struct Cursor;

impl Cursor {
    /// The cursor after `key` in list `kind`.
    pub(crate) fn encode(kind: &str, key: &str) -> String {
        format!("{kind}:{key}")
            .bytes()
            .fold(String::new(), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }

    /// The key a cursor of list `kind` carries.
    pub(crate) fn decode(kind: &str, cursor: &str) -> Result<String, Problem> {
        let bytes = cursor.as_bytes();
        if bytes.len() % 2 != 0 {
            return Err(invalid_cursor());
        }
        let decoded: Option<Vec<u8>> = bytes
            .chunks(2)
            .map(|pair| {
                let text = std::str::from_utf8(pair).ok()?;
                u8::from_str_radix(text, 16).ok()
            })
            .collect();
        let text = decoded
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid_cursor)?;
        text.strip_prefix(kind)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::to_owned)
            .ok_or_else(invalid_cursor)
    }

    /// The cursor after the row whose key is `key` (a date, an id, a tuple of them) in list
    /// `kind`.
    pub(crate) fn encode_key(kind: &str, key: &impl Serialize) -> String {
        Self::encode(kind, &serde_json::to_string(key).unwrap_or_default())
    }

    /// The key a cursor of list `kind` carries; a cursor of another list, or one that does
    /// not hold a key of this list's shape, is `query.invalid_cursor`.
    pub(crate) fn decode_key<K: DeserializeOwned>(kind: &str, cursor: &str) -> Result<K, Problem> {
        serde_json::from_str(&Self::decode(kind, cursor)?).map_err(|_| invalid_cursor())
    }
}

/// The page a list query asked for: `limit` rows (see [`limit`]) after the key its `cursor`
/// carries, a cursor of list `kind` only.
pub(crate) fn page<K: DeserializeOwned>(
    kind: &str,
    limit_asked: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<K>, Problem> {
    let limit = limit(limit_asked)?;
    let after = cursor
        .filter(|c| !c.is_empty())
        .map(|c| Cursor::decode_key(kind, c))
        .transpose()?;
    Ok(Page { after, limit })
}

/// A page of a list and the cursor of the next one (`None` on the last page).
#[derive(Debug, Serialize)]
pub(crate) struct PageOf<T> {
    /// The rows.
    pub(crate) items: Vec<T>,
    /// Pass as `cursor` for the next page.
    pub(crate) next_cursor: Option<String>,
}

impl<T> PageOf<T> {
    /// `items`, a full page of `limit` or fewer; the next cursor from the last item's key
    /// when the page is full.
    pub(crate) fn new(items: Vec<T>, limit: u32, next: impl Fn(&T) -> String) -> Self {
        let full = u32::try_from(items.len()).is_ok_and(|len| len >= limit);
        let next_cursor = items.last().filter(|_| full).map(next);
        Self { items, next_cursor }
    }

    /// `items` of list `kind`, a page asked as `page`; the next cursor carries the last
    /// item's `key` when the page is full.
    pub(crate) fn keyed<K, Q: Serialize>(
        items: Vec<T>,
        kind: &str,
        page: &Page<K>,
        key: impl Fn(&T) -> Q,
    ) -> Self {
        Self::new(items, page.limit, |item| {
            Cursor::encode_key(kind, &key(item))
        })
    }
}

/// The query string of a list with no filter: a page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

impl PageQuery {
    /// The page asked for, of list `kind`.
    pub(crate) fn page<K: DeserializeOwned>(&self, kind: &str) -> Result<Page<K>, Problem> {
        page(kind, self.limit, self.cursor.as_deref())
    }
}

/// A page of a list that depends on the day (the service's today), with the day.
#[derive(Debug, Serialize)]
pub(crate) struct PageOn<T> {
    today: NaiveDate,
    #[serde(flatten)]
    page: PageOf<T>,
}

impl<T> PageOn<T> {
    pub(crate) fn new(today: NaiveDate, page: PageOf<T>) -> Self {
        Self { today, page }
    }
}

/// A list answered whole, with its length.
#[derive(Debug, Serialize)]
pub(crate) struct ListOf<T> {
    /// How many.
    pub(crate) count: usize,
    /// The rows.
    pub(crate) items: Vec<T>,
}

impl<T> From<Vec<T>> for ListOf<T> {
    fn from(items: Vec<T>) -> Self {
        Self {
            count: items.len(),
            items,
        }
    }
}

/// True for PostgreSQL's "undefined table": the catalog, a view instance or the event store
/// was not created yet (an empty database, a projector that never ran).
fn undefined_table(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("42P01"))
}

fn not_ready(detail: String) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "view.not_ready",
        "The view is not built yet",
    )
    .with_detail(detail)
}

/// A view's failure as a problem: 503 `view.not_ready` when the view (or the store it is
/// built from) does not exist yet, else an opaque 500 (the cause logged here, never sent).
pub(crate) fn view_failed(error: QueryError) -> Problem {
    use projection_runtime::RuntimeError;
    match error {
        QueryError::Runtime(RuntimeError::NoView(view)) => not_ready(format!(
            "view {view} has no serving instance; start its projector"
        )),
        QueryError::Runtime(RuntimeError::Database(error))
        | QueryError::Database(error)
        | QueryError::Store(event_store::EventStoreError::Query(error))
            if undefined_table(&error) =>
        {
            not_ready(
                "the views or the event store are not created yet; start the projectors".to_owned(),
            )
        }
        error => {
            tracing::error!(error = %error, source = ?std::error::Error::source(&error), "view query failed");
            Problem::internal()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_decodes_to_its_key_in_its_own_list_only() {
        let cursor = Cursor::encode("parcels", "p-01JX:ü");
        assert_eq!(
            Cursor::decode("parcels", &cursor).ok().as_deref(),
            Some("p-01JX:ü")
        );
        assert!(Cursor::decode("audit", &cursor).is_err());
        assert!(Cursor::decode("parcels", "zz").is_err());
        assert!(Cursor::decode("parcels", "abc").is_err());
    }

    #[test]
    fn a_keyed_cursor_carries_its_key_and_fits_its_list_only() {
        let key = ("2026-12-07".to_owned(), "s-1".to_owned());
        let cursor = Cursor::encode_key("overdue", &key);
        let back: Result<(String, String), _> = Cursor::decode_key("overdue", &cursor);
        assert_eq!(back.ok(), Some(key));
        let wrong_shape: Result<(String, i64), _> = Cursor::decode_key("overdue", &cursor);
        assert!(wrong_shape.is_err());
        let other_list: Result<(String, String), _> = Cursor::decode_key("refunds", &cursor);
        assert!(other_list.is_err());
    }

    #[test]
    fn limits_outside_the_range_are_refused() {
        assert_eq!(limit(None).ok(), Some(DEFAULT_LIMIT));
        assert_eq!(limit(Some(MAX_LIMIT)).ok(), Some(MAX_LIMIT));
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(MAX_LIMIT + 1)).is_err());
    }
}

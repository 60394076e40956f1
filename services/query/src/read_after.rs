//! Read your writes: `?after=<txid>:<position>` on any query endpoint (the `position` a
//! command answered) makes the request wait until the view it reads has applied that event,
//! at most [`WAIT`], then answers from it. A view still behind then is a 503
//! `view.behind`, so a client never reads a view without its own change and never hangs. A
//! position past the store's newest event, which no command answered, is refused at once:
//! 422 `query.position_not_given` (well formed, but not a position of this store).
//!
//! The parameter is taken off the query string here, before the endpoint parses its own.

use crate::params::invalid_parameter;
use crate::QueryState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use event_store::GlobalCursor;
use projections::{audit, billing, storage_status};
use std::time::Duration;
use web::auth::Caller;
use web::problem::Problem;

/// The code of a well-formed `after` past the store's newest event.
pub const POSITION_NOT_GIVEN: &str = "query.position_not_given";

/// How long a request waits for its view.
pub const WAIT: Duration = Duration::from_secs(5);

/// The view an endpoint reads, by its path.
fn view_of(path: &str) -> Option<&'static str> {
    [
        ("/v1/storage/", storage_status::NAME),
        ("/v1/billing/", billing::NAME),
        ("/v1/audit/", audit::NAME),
    ]
    .into_iter()
    .find_map(|(prefix, view)| path.starts_with(prefix).then_some(view))
}

/// Parses `<txid>:<position>`, two runs of digits; a number too large for its field is read
/// as the largest, a position past any the store gave.
fn parse(text: &str) -> Option<GlobalCursor> {
    let (txid, position) = text.split_once(':')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(txid) || !digits(position) {
        return None;
    }
    Some(GlobalCursor {
        txid: txid.parse().unwrap_or(u64::MAX),
        position: position.parse().unwrap_or(i64::MAX),
    })
}

/// `after`'s value and the query string without it.
fn split(query: &str) -> (Option<String>, String) {
    let mut after = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("after=") {
            Some(value) => {
                after = Some(value.replace("%3A", ":").replace("%3a", ":"));
                false
            }
            None => !pair.is_empty(),
        })
        .collect();
    (after, rest.join("&"))
}

/// The middleware.
pub(crate) async fn wait_for_position(
    State(state): State<QueryState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(query) = request.uri().query() else {
        return next.run(request).await;
    };
    let (Some(after), rest) = split(query) else {
        return next.run(request).await;
    };
    // Who asks comes first: a request without a valid token is a 401 whatever its `after`.
    let (mut parts, body) = request.into_parts();
    if let Err(unauthorized) = Caller::from_request_parts(&mut parts, &state).await {
        return unauthorized.into_response();
    }
    let mut request = Request::from_parts(parts, body);
    let Some(cursor) = parse(&after) else {
        return invalid_parameter(format!(
            "after {after:?} is not a position: pass the `position` a command answered, \
             <txid>:<position>"
        ))
        .into_response();
    };
    let path = request.uri().path().to_owned();
    let uri = if rest.is_empty() {
        path.clone()
    } else {
        format!("{path}?{rest}")
    };
    match uri.parse::<Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(error) => return invalid_parameter(error.to_string()).into_response(),
    }
    if let Some(view) = view_of(&path) {
        if let Err(problem) = applied(&state, view, cursor).await {
            return problem.into_response();
        }
    }
    next.run(request).await
}

/// Waits until `view` has applied `cursor`, checking often at first and less as it waits.
async fn applied(
    state: &QueryState,
    view: &'static str,
    cursor: GlobalCursor,
) -> Result<(), Problem> {
    // A position past the store's newest event is none a command answered: refused at once,
    // rather than waited for.
    match state.views.has_given(cursor).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                POSITION_NOT_GIVEN,
                "No command answered that position",
            )
            .with_detail(format!(
                "after {}:{} is past the newest event of the store: pass the `position` a \
                 command answered",
                cursor.txid, cursor.position
            )))
        }
        Err(error) => return Err(crate::params::view_failed(error)),
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut pause = Duration::from_millis(2);
    loop {
        match state.views.has_applied(view, cursor).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) => return Err(crate::params::view_failed(error)),
        }
        if tokio::time::Instant::now() >= deadline {
            metrics::counter!("query_read_after_timeouts_total", "view" => view).increment(1);
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "view.behind",
                "The view has not applied that position yet",
            )
            .with_detail(format!(
                "{view} did not reach {}:{} within {WAIT:?}; retry",
                cursor.txid, cursor.position
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_is_taken_off_the_query_string() {
        assert_eq!(
            split("limit=5&after=12%3A34&state=stored"),
            (Some("12:34".to_owned()), "limit=5&state=stored".to_owned())
        );
        assert_eq!(split("after=0:7"), (Some("0:7".to_owned()), String::new()));
        assert_eq!(split("limit=5"), (None, "limit=5".to_owned()));
        assert_eq!(
            parse("70117:35"),
            Some(GlobalCursor {
                txid: 70117,
                position: 35
            })
        );
        assert_eq!(parse("35"), None);
        assert_eq!(parse("x:1"), None);
        assert_eq!(parse("-1:1"), None);
        assert_eq!(parse("+1:1"), None);
        assert_eq!(
            parse("99358590031648330627:8564370942638040984"),
            Some(GlobalCursor {
                txid: u64::MAX,
                position: 8_564_370_942_638_040_984
            }),
            "well formed, past any position given"
        );
    }

    #[test]
    fn each_view_is_found_by_its_path() {
        assert_eq!(
            view_of("/v1/storage/parcels/p-1"),
            Some(storage_status::NAME)
        );
        assert_eq!(view_of("/v1/billing/fees"), Some(billing::NAME));
        assert_eq!(view_of("/v1/audit/parcel/p-1/history"), Some(audit::NAME));
        assert_eq!(view_of("/v1/projections"), None);
    }
}

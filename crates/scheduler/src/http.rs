//! The business clock over HTTP, merged into `parcelport serve`'s listener:
//! - `GET /v1/clock`: now, today in the warehouse, whether the clock is simulated;
//! - `POST /v1/clock/advance` (admin): `{"days": n}`, `{"hours": n}` or `{"to": "<RFC 3339>"}`
//!   moves a simulated clock forward, the scheduler doing each day's work on the way; a real
//!   clock answers 409 `clock.real`;
//! - `GET /v1/schedule` (ops, auditor): what is due and upcoming, and what was done (rule,
//!   aggregate, due, done at, outcome), newest first, a page at a time (`limit`, and `after`:
//!   the previous page's opaque `next`);
//! - `GET /scheduler/openapi.json`: their OpenAPI document ([`openapi`]).

use crate::clock::ClockError;
use crate::due::DueAction;
use crate::fire::Fire;
use crate::journal::Entry;
use crate::scheduler::{AdvanceReport, Scheduler, SchedulerError};
use axum::extract::{FromRef, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use engine::Clock;
use event_store::EventLog;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use web::auth::{Caller, Role, TokenBook};
use web::json::Body;
use web::problem::Problem;

/// The handlers' state.
pub struct ClockState<F, L> {
    scheduler: Arc<Scheduler<F, L>>,
    tokens: Arc<TokenBook>,
}

impl<F, L> Clone for ClockState<F, L> {
    fn clone(&self) -> Self {
        Self {
            scheduler: Arc::clone(&self.scheduler),
            tokens: Arc::clone(&self.tokens),
        }
    }
}

impl<F, L> FromRef<ClockState<F, L>> for Arc<TokenBook> {
    fn from_ref(state: &ClockState<F, L>) -> Self {
        Arc::clone(&state.tokens)
    }
}

/// The clock and schedule routes over `scheduler`, authenticated with `tokens`.
pub fn routes<F: Fire, L: EventLog + 'static>(
    scheduler: Arc<Scheduler<F, L>>,
    tokens: Arc<TokenBook>,
) -> Router {
    Router::new()
        .route("/v1/clock", get(clock::<F, L>))
        .route("/v1/clock/advance", post(advance::<F, L>))
        .route("/v1/schedule", get(schedule::<F, L>))
        .route("/scheduler/openapi.json", get(|| async { Json(openapi()) }))
        .with_state(ClockState { scheduler, tokens })
}

/// The clock as `GET /v1/clock` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockView {
    /// Now, by the server's clock.
    pub now: DateTime<Utc>,
    /// The warehouse's local date now.
    pub today: NaiveDate,
    /// Whether the clock is simulated (and may be advanced).
    pub simulated: bool,
}

fn clock_view<F: Fire, L: EventLog + 'static>(scheduler: &Scheduler<F, L>) -> ClockView {
    let now = scheduler.clock().now();
    ClockView {
        now,
        today: scheduler.policy().local_date(now),
        simulated: scheduler.clock().is_simulated(),
    }
}

async fn clock<F: Fire, L: EventLog + 'static>(
    State(state): State<ClockState<F, L>>,
    _caller: Caller,
) -> Json<ClockView> {
    Json(clock_view(&state.scheduler))
}

/// How far to move the clock: exactly one of the fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    /// Whole days, 1 to 3660.
    pub days: Option<u32>,
    /// Whole hours, 1 to 87840.
    pub hours: Option<u32>,
    /// An instant after now.
    pub to: Option<DateTime<Utc>>,
}

/// `POST /v1/clock/advance`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Advanced {
    /// The clock after.
    pub clock: ClockView,
    /// What the scheduler did on the way.
    pub report: AdvanceReport,
}

async fn advance<F: Fire, L: EventLog + 'static>(
    State(state): State<ClockState<F, L>>,
    caller: Caller,
    Body(advance): Body<Advance>,
) -> Result<Json<Advanced>, Problem> {
    caller.require(&[])?;
    let scheduler = &state.scheduler;
    if !scheduler.clock().is_simulated() {
        return Err(clock_problem(&ClockError::Real));
    }
    let now = scheduler.clock().now();
    let to = match (advance.days, advance.hours, advance.to) {
        (Some(days @ 1..=3660), None, None) => now + Duration::days(i64::from(days)),
        (None, Some(hours @ 1..=87_840), None) => now + Duration::hours(i64::from(hours)),
        (None, None, Some(to)) if to > now => to,
        (None, None, Some(to)) => {
            return Err(clock_problem(&ClockError::Backwards { now, to }));
        }
        (Some(_), None, None) | (None, Some(_), None) => {
            return Err(Problem::invalid(
                "days must be 1 to 3660 and hours 1 to 87840",
            ))
        }
        _ => return Err(Problem::invalid("give exactly one of days, hours or to")),
    };
    let report = scheduler.advance_to(to).await.map_err(|error| match error {
        SchedulerError::Clock(clock) => clock_problem(&clock),
        other => {
            tracing::error!(error = %other, "advancing the clock failed");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "clock.advance_failed",
                "The scheduler could not do the work due on the way; the clock stopped where it got to",
            )
            .with_detail(other.to_string())
        }
    })?;
    Ok(Json(Advanced {
        clock: clock_view(scheduler),
        report,
    }))
}

fn clock_problem(error: &ClockError) -> Problem {
    let code = match error {
        ClockError::Real => "clock.real",
        ClockError::Backwards { .. } => "clock.backwards",
    };
    Problem::new(StatusCode::CONFLICT, code, "The clock cannot be moved so")
        .with_detail(error.to_string())
}

/// `GET /v1/schedule`'s query.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleQuery {
    /// Journal entries per page, 1 to 500 (100).
    pub limit: Option<u32>,
    /// The next journal page: the previous page's `next`.
    pub after: Option<String>,
}

/// A page cursor: the last entry's `done_at` and key, as opaque hex.
fn cursor(entry: &Entry) -> String {
    let text = format!(
        "{}\n{}",
        entry
            .done_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        entry.key
    );
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn parse_cursor(hex: &str) -> Option<(DateTime<Utc>, String)> {
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    let text = String::from_utf8(bytes).ok()?;
    let (at, key) = text.split_once('\n')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.to_utc(),
        key.to_owned(),
    ))
}

/// One pending action.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    /// The action.
    #[serde(flatten)]
    pub action: DueAction,
    /// The rule id.
    pub rule: &'static str,
    /// The action's name.
    pub name: &'static str,
    /// Its idempotency key.
    pub key: String,
    /// Due now (true), or later.
    pub due_now: bool,
}

/// `GET /v1/schedule`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    /// The clock.
    pub clock: ClockView,
    /// What is due now or later and not done yet, in due order.
    pub pending: Vec<Pending>,
    /// What was done, newest first.
    pub done: Vec<Entry>,
    /// The `after` of the next page of `done`, when there may be one.
    pub next: Option<String>,
}

async fn schedule<F: Fire, L: EventLog + 'static>(
    State(state): State<ClockState<F, L>>,
    caller: Caller,
    query: Result<Query<ScheduleQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ScheduleView>, Problem> {
    caller.require(&[Role::Ops, Role::Auditor])?;
    let Query(query) = query.map_err(|rejection| Problem::invalid(rejection.body_text()))?;
    let limit = match query.limit {
        None => 100,
        Some(limit @ 1..=500) => limit,
        Some(_) => return Err(Problem::invalid("limit must be 1 to 500")),
    };
    let after = match &query.after {
        None => None,
        Some(text) => {
            Some(parse_cursor(text).ok_or_else(|| Problem::invalid("after is not a page cursor"))?)
        }
    };
    let scheduler = &state.scheduler;
    let clock = clock_view(scheduler);
    let internal = |error: SchedulerError| {
        tracing::error!(%error, "reading the schedule failed");
        Problem::internal()
    };
    let mut actions = scheduler.due(None).await.map_err(internal)?;
    actions.sort_by_key(|a| (a.due_on, a.due_at));
    let keys: Vec<String> = actions.iter().map(DueAction::key).collect();
    let done_keys = scheduler
        .journal()
        .done(&keys)
        .await
        .map_err(|e| internal(e.into()))?;
    let pending = actions
        .into_iter()
        .filter(|action| !done_keys.contains(&action.key()))
        .map(|action| Pending {
            rule: action.rule(),
            name: action.kind.name(),
            key: action.key(),
            due_now: action.is_due(clock.today, clock.now),
            action,
        })
        .collect();
    let done = scheduler
        .journal()
        .latest(after, limit)
        .await
        .map_err(|e| internal(e.into()))?;
    let next = (done.len() == limit as usize)
        .then(|| done.last().map(cursor))
        .flatten();
    Ok(Json(ScheduleView {
        clock,
        pending,
        done,
        next,
    }))
}

/// The OpenAPI 3.1 document of these routes, served at `/scheduler/openapi.json`: every
/// constraint the handlers enforce, and every problem code they answer with.
pub fn openapi() -> serde_json::Value {
    let problem = |description: &str| {
        serde_json::json!({
            "description": description,
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
        })
    };
    let clock = serde_json::json!({
        "type": "object",
        "required": ["now", "today", "simulated"],
        "properties": {
            "now": { "type": "string", "format": "date-time" },
            "today": { "type": "string", "format": "date" },
            "simulated": { "type": "boolean" }
        }
    });
    serde_json::json!({
        "openapi": "3.1.0",
        "info": {
            "title": "parcelport business clock",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The server's clock (real, or simulated and advanced by an admin) and the scheduler's work: what is due and what was done."
        },
        "security": [{ "bearer": [] }],
        "paths": {
            "/v1/clock": {
                "get": {
                    "operationId": "get_clock",
                    "summary": "The server's clock and the warehouse's date (any role)",
                    "responses": {
                        "200": { "description": "The clock", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Clock" } } } },
                        "401": problem("auth.missing_token, auth.invalid_token")
                    }
                }
            },
            "/v1/clock/advance": {
                "post": {
                    "operationId": "advance_clock",
                    "summary": "Moves a simulated clock forward, the scheduler doing each day's work on the way (admin)",
                    "requestBody": {
                        "required": true,
                        "content": { "application/json": { "schema": {
                            "type": "object",
                            "additionalProperties": false,
                            "minProperties": 1,
                            "maxProperties": 1,
                            "properties": {
                                "days": { "type": "integer", "minimum": 1, "maximum": 3660 },
                                "hours": { "type": "integer", "minimum": 1, "maximum": 87840 },
                                "to": { "type": "string", "format": "date-time", "description": "After the clock's now" }
                            }
                        } } }
                    },
                    "responses": {
                        "200": { "description": "The clock after, and what the scheduler did on the way", "content": { "application/json": { "schema": { "type": "object", "required": ["clock", "report"], "properties": { "clock": { "$ref": "#/components/schemas/Clock" }, "report": { "type": "object" } } } } } },
                        "400": problem("request.invalid: not exactly one of days, hours, to, or out of bounds; request.malformed_json, request.unreadable_body"),
                        "422": problem("request.invalid_body: an unknown field, or a value of the wrong type"),
                        "401": problem("auth.missing_token, auth.invalid_token"),
                        "403": problem("auth.forbidden: admins only"),
                        "409": problem("clock.real: the clock is the system's; clock.backwards: `to` is before now"),
                        "415": problem("request.unsupported_media_type"),
                        "503": problem("clock.advance_failed: the work due on the way could not be done; the clock stopped where it got to")
                    }
                }
            },
            "/v1/schedule": {
                "get": {
                    "operationId": "get_schedule",
                    "summary": "What is due and upcoming, and what the scheduler did, newest first (ops, auditor)",
                    "parameters": [
                        { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500, "default": 100 } },
                        { "name": "after", "in": "query", "description": "The previous page's `next`", "schema": { "type": "string", "pattern": "^([0-9a-f]{2})+$" } }
                    ],
                    "responses": {
                        "200": { "description": "The schedule", "content": { "application/json": { "schema": { "type": "object", "required": ["clock", "pending", "done"], "properties": { "clock": { "$ref": "#/components/schemas/Clock" }, "pending": { "type": "array", "items": { "type": "object" } }, "done": { "type": "array", "items": { "type": "object" } }, "next": { "type": ["string", "null"] } } } } } },
                        "400": problem("request.invalid: limit out of 1..500, or `after` is not a page cursor"),
                        "401": problem("auth.missing_token, auth.invalid_token"),
                        "403": problem("auth.forbidden")
                    }
                }
            }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Clock": clock,
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "code"],
                    "properties": {
                        "type": { "type": "string" },
                        "title": { "type": "string" },
                        "status": { "type": "integer" },
                        "code": { "type": "string" },
                        "detail": { "type": "string" }
                    }
                }
            }
        }
    })
}

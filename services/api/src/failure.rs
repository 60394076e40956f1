//! How a failed request becomes a problem: [`problem_of`] maps every [`EngineError`] to
//! problem+json once, and [`Failure`] lets an endpoint fail with either.
//!
//! | engine error | status | code |
//! |---|---|---|
//! | `Refused` | 422 (404 for a `*.not_found` refusal) | the domain's code, with its rule |
//! | `NotFound` | 404 | `<what>.not_found` |
//! | `Conflict` | 409 | `concurrency.conflict` (every bounded retry lost the race) |
//! | `InProgress` | 409 | `idempotency.in_progress` |
//! | `KeyReused` | 422 | `idempotency.key_reused` |
//! | `Invalid` | 422 | `request.unprocessable` |
//! | `Store` | 500 | `internal`, opaque; the cause is logged here and never sent |

use axum::http::StatusCode;
use engine::EngineError;
use web::problem::Problem;

/// Why an endpoint did not answer with a result.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The engine's answer.
    Engine(EngineError),
    /// A check of the HTTP layer (ownership, a missing aggregate).
    Problem(Problem),
}

impl From<EngineError> for Failure {
    fn from(error: EngineError) -> Self {
        Self::Engine(error)
    }
}

impl From<Problem> for Failure {
    fn from(problem: Problem) -> Self {
        Self::Problem(problem)
    }
}

impl From<Failure> for Problem {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Engine(error) => problem_of(error),
            Failure::Problem(problem) => problem,
        }
    }
}

/// The code of a missing `what` (`member`, `suite code`): `member.not_found`, `suite_code.not_found`.
pub(crate) fn not_found_code(what: &str) -> String {
    format!("{}.not_found", what.replace(' ', "_"))
}

/// 404 for a missing `what` with id `id`.
pub(crate) fn not_found(what: &str, id: &str) -> Problem {
    Problem::not_found(&not_found_code(what), format!("{what} {id} not found"))
}

/// 403 `auth.other_member` for a member's token on a `kind` that belongs to no member yet
/// (an unidentified parcel): it is not theirs.
pub(crate) fn ownerless(kind: &str) -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "auth.other_member",
        "A member may act only on their own parcels and account",
    )
    .with_detail(format!("this {kind} belongs to no member"))
}

/// The one mapping of engine errors to problems.
pub(crate) fn problem_of(error: EngineError) -> Problem {
    match error {
        EngineError::Refused {
            code,
            rule,
            message,
        } => {
            let status = if code.ends_with(".not_found") {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Problem::new(status, &code, "The command was refused by a business rule")
                .with_detail(message)
                .with_rule(rule)
        }
        EngineError::NotFound { what, id } => not_found(&what, &id),
        EngineError::Conflict { .. } => Problem::conflict(
            "concurrency.conflict",
            format!("{error}; the request may be retried with the same idempotency key"),
        ),
        EngineError::InProgress { .. } => Problem::conflict(
            "idempotency.in_progress",
            "a request with this idempotency key is still running; retry later",
        ),
        EngineError::KeyReused { .. } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency.key_reused",
            "The idempotency key was used for a different request",
        )
        .with_detail("use a new key for a new request"),
        EngineError::Invalid { message } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.unprocessable",
            "The request cannot be carried out as it is",
        )
        .with_detail(message),
        EngineError::Store { message } => {
            tracing::error!(code = "engine.store", error = %message, "command failed in the store");
            Problem::internal()
        }
    }
}

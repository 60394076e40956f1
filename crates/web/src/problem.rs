//! RFC 9457 problem details: the one error body parcelport's APIs send.
//!
//! `code` is the stable machine-readable reason (`consolidation.weight_limit`,
//! `request.malformed_json`); clients branch on it, never on `title` or `detail`. A 5xx never
//! carries internals: the cause is logged where the error is handled, the client gets an id-free
//! generic text.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{Refusal, Rule};
use serde::{Deserialize, Serialize};

/// The media type of a problem.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem response; boxed, so `Result<_, Problem>` stays small on the happy path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Problem(Box<ProblemDetails>);

/// The fields of a problem, as serialized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemDetails {
    /// A URI naming the problem type: `urn:parcelport:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The stable code.
    pub code: String,
    /// The `DOMAIN.md` rule a business refusal enforces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Problem {
    /// A problem with a status, a stable code and a title.
    pub fn new(status: StatusCode, code: &str, title: &str) -> Self {
        Self(Box::new(ProblemDetails {
            problem_type: format!("urn:parcelport:problem:{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            code: code.to_owned(),
            rule: None,
        }))
    }

    /// With a detail for a person.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    /// With the `DOMAIN.md` rule a business refusal enforces, when one applies: for refusals
    /// that reach the HTTP layer as data (a stored result replayed under an idempotency key)
    /// rather than as a live [`Refusal`].
    pub fn with_rule(mut self, rule: Option<Rule>) -> Self {
        self.0.rule = rule.map(|r| r.id().to_owned());
        self
    }

    /// A business refusal of the domain: 422, its code, its rule, its message.
    pub fn refused(refusal: &dyn Refusal) -> Self {
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            refusal.code(),
            "The command was refused by a business rule",
        )
        .with_detail(refusal.to_string());
        problem.0.rule = refusal.rule().map(|r| r.id().to_owned());
        problem
    }

    /// 400 with `request.invalid`: a value that does not parse.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "request.invalid",
            "Invalid request",
        )
        .with_detail(detail)
    }

    /// 404 with `<what>.not_found`.
    pub fn not_found(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, "Not found").with_detail(detail)
    }

    /// 409 with a conflict code.
    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict").with_detail(detail)
    }

    /// 500 with no internals: log the cause where it is handled, never send it.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error: the request was not completed; it is safe to retry",
        )
    }

    /// The status as a `StatusCode`.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::ops::Deref for Problem {
    type Target = ProblemDetails;
    fn deref(&self) -> &ProblemDetails {
        &self.0
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response()
    }
}

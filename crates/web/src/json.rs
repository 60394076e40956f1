//! Strict JSON request bodies. Every way a body can be wrong is a 4xx problem with a stable code:
//! not JSON (`request.unsupported_media_type`, 415), malformed (`request.malformed_json`, 400),
//! the wrong shape, type or an unknown field (`request.invalid_body`, 422), too large
//! (`request.body_too_large`, 413). Unknown fields are refused by the types themselves
//! (`#[serde(deny_unknown_fields)]`).

use crate::problem::Problem;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// A JSON body of type `T`, or a problem.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(problem_of(rejection)),
        }
    }
}

fn problem_of(rejection: JsonRejection) -> Problem {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            "The body must be application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => Problem::new(
            StatusCode::BAD_REQUEST,
            "request.malformed_json",
            "The body is not valid JSON",
        )
        .with_detail(e.body_text()),
        JsonRejection::JsonDataError(e) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.invalid_body",
            "The body does not match the expected shape",
        )
        .with_detail(e.body_text()),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            too_large()
        }
        other => Problem::new(
            StatusCode::BAD_REQUEST,
            "request.unreadable_body",
            "The body could not be read",
        )
        .with_detail(other.body_text()),
    }
}

/// 413 with `request.body_too_large`.
pub(crate) fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request.body_too_large",
        "The body is too large",
    )
    .with_detail(format!("at most {} bytes", crate::MAX_BODY_BYTES))
}

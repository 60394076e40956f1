//! The [`Command`] trait every command endpoint implements, and the one pipeline every
//! command request goes through, in this order, so that each failure has one answer:
//!
//! 1. the bearer token (401 `auth.missing_token`, `auth.invalid_token`);
//! 2. the role (403 `auth.forbidden`);
//! 3. the `Idempotency-Key` header (400 `request.idempotency_key_required`, `…_invalid`);
//! 4. the path id, parsed by the domain (400 `request.invalid`);
//! 5. the aggregate exists (404 `<aggregate>.not_found`) and, for a member's token, is that
//!    member's own (403 `auth.other_member`);
//! 6. the strict JSON body (400, 413, 415, 422 `request.*`, from `web::json`);
//! 7. the engine, under a [`CommandContext`]: the actor is the token's name, the correlation
//!    id the request's, the idempotency key the client's, scoped to the token.
//!
//! Authorization comes before the body is read, so a caller learns nothing about a body it
//! may not send.

use crate::failure::{not_found, ownerless, problem_of, Failure};
use crate::observe::CorrelationId;
use crate::outcome::{Accepted, Outcome};
use crate::AppState;
use crate::Backend;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequest, RawPathParams, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cqrs_es::Aggregate;
use domain::account::ChargeAccount;
use domain::ids::{AccountId, InvalidValue, MemberId, ParcelId, ShipmentId};
use domain::member::Member;
use domain::parcel::Parcel;
use domain::shipment::Shipment;
use engine::{CommandContext, EngineAggregate, EngineError, Executed, IdempotencyKey};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::future::Future;
use web::auth::{Caller, Role};
use web::json::Body;
use web::problem::Problem;

/// The header carrying the client's idempotency key.
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The longest idempotency key a client may send: the engine takes 200 characters, and the
/// key is stored behind a 17-character scope of the token.
pub(crate) const MAX_KEY_LEN: usize = 128;

/// What an endpoint is, for the router, the OpenAPI document and the tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// The OpenAPI `operationId`, snake case.
    pub operation: &'static str,
    /// The route, in axum's syntax (`/v1/parcels/{parcel_id}/store`).
    pub path: &'static str,
    /// One line for the document.
    pub summary: &'static str,
    /// The roles that may call it (admins may call everything).
    pub roles: &'static [Role],
    /// It creates something: 201 and an `id`, which the operations on what it created take
    /// as this path parameter (`member_id`); the document links them (OpenAPI links).
    pub creates: Option<&'static str>,
    /// The error codes specific to this endpoint, with their status (business refusals,
    /// lookups the use case makes). The codes every endpoint shares are added by the document.
    pub errors: &'static [(u16, &'static str)],
}

impl Spec {
    /// The defaults every spec starts from: a 200 command with no specific error.
    pub(crate) const DEFAULT: Spec = Spec {
        operation: "",
        path: "",
        summary: "",
        roles: &[],
        creates: None,
        errors: &[],
    };
}

/// A domain command as an endpoint: its request body is `Self`.
pub(crate) trait Command: DeserializeOwned + JsonSchema + Send + 'static {
    /// The endpoint.
    const SPEC: Spec;
    /// False for the commands that create the aggregate their path names (it must not exist).
    const EXISTING: bool = true;
    /// The aggregate the path names, or [`Collection`].
    type On: Target;
    /// The engine's result.
    type Output: Outcome;

    /// Carries the command out for `call.caller` on the aggregate `id`.
    fn run(
        self,
        call: &Call<'_>,
        id: <Self::On as Target>::Id,
    ) -> impl Future<Output = Result<Self::Output, Failure>> + Send;
}

/// What a command runs with.
pub(crate) struct Call<'a> {
    /// The engine.
    pub engine: &'a Backend,
    /// Who asks.
    pub caller: &'a Caller,
    /// The request's context for the engine.
    pub ctx: &'a CommandContext,
}

impl Call<'_> {
    /// Issues `command` to aggregate `A` `id` as given (`Engine::execute`).
    pub(crate) async fn execute<A: EngineAggregate>(
        &self,
        id: &str,
        command: A::Cmd,
    ) -> Result<Executed<A::Event>, Failure> {
        Ok(self.engine.execute::<A>(id, command, self.ctx).await?)
    }

    /// A member acts only for themselves; everybody else for anybody.
    pub(crate) fn may_act_for(&self, member: &MemberId) -> Result<(), Failure> {
        Ok(self.caller.may_act_for(member)?)
    }
}

/// What a path names: an aggregate of one type, or nothing ([`Collection`]).
pub(crate) trait Target: Send + Sync + 'static {
    /// `member`, `account`, `parcel`, `shipment`; `None` for a collection.
    const KIND: Option<&'static str>;
    /// The path parameter's name.
    const PARAM: &'static str;
    /// The parsed id.
    type Id: Send + Sync + std::fmt::Display + 'static;
    /// The JSON Schema of the id, for the document.
    fn id_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema;
    /// Parses the path's id.
    fn parse(raw: Option<&str>) -> Result<Self::Id, InvalidValue>;
    /// The aggregate as loaded, with its state serialized when `with_state`: `None` when it
    /// has no event yet.
    fn load(
        engine: &Backend,
        id: &Self::Id,
        with_state: bool,
    ) -> impl Future<Output = Result<Option<Found>, EngineError>> + Send;
}

/// An aggregate that exists, as the HTTP layer needs it.
pub(crate) struct Found {
    /// Its member, when it has one.
    pub owner: Option<MemberId>,
    /// The sequence of its last event.
    pub version: usize,
    /// Its state, for the views; computed only when asked.
    pub state: Option<serde_json::Value>,
}

/// No aggregate in the path: creations (`POST /v1/parcels`).
pub(crate) struct Collection;

/// The id of a path that names no aggregate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoId;

impl std::fmt::Display for NoId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("-")
    }
}

impl Target for Collection {
    const KIND: Option<&'static str> = None;
    const PARAM: &'static str = "";
    type Id = NoId;
    fn id_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::Schema::default()
    }
    fn parse(_: Option<&str>) -> Result<NoId, InvalidValue> {
        Ok(NoId)
    }
    async fn load(_: &Backend, _: &NoId, _: bool) -> Result<Option<Found>, EngineError> {
        Ok(None)
    }
}

/// A path naming an aggregate `$aggregate` by an id `$id`, whose member is `$owner`.
macro_rules! target {
    ($name:ident, $aggregate:ty, $id:ty, $param:literal, $owner:expr) => {
        /// A path naming one aggregate of this type.
        pub(crate) struct $name;

        impl Target for $name {
            const KIND: Option<&'static str> = Some(<$aggregate as Aggregate>::TYPE);
            const PARAM: &'static str = $param;
            type Id = $id;
            fn id_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                generator.subschema_for::<$id>()
            }
            fn parse(raw: Option<&str>) -> Result<$id, InvalidValue> {
                <$id>::parse(raw.unwrap_or_default())
            }
            async fn load(
                engine: &Backend,
                id: &$id,
                with_state: bool,
            ) -> Result<Option<Found>, EngineError> {
                let loaded = engine.load::<$aggregate>(id.as_str()).await?;
                if loaded.version == 0 {
                    return Ok(None);
                }
                let owner: fn(&$id, &$aggregate) -> Option<MemberId> = $owner;
                Ok(Some(Found {
                    owner: owner(id, &loaded.state),
                    version: loaded.version,
                    state: with_state
                        .then(|| serde_json::to_value(&loaded.state).ok())
                        .flatten(),
                }))
            }
        }
    };
}

target!(OnMember, Member, MemberId, "member_id", |id, _| Some(
    id.clone()
));
target!(
    OnAccount,
    ChargeAccount,
    AccountId,
    "account_id",
    |_, account| account.member_id().cloned()
);
target!(OnParcel, Parcel, ParcelId, "parcel_id", |_, parcel| parcel
    .member_id()
    .cloned());
target!(
    OnShipment,
    Shipment,
    ShipmentId,
    "shipment_id",
    |_, shipment| shipment.member_id().cloned()
);

/// The handler of every command endpoint.
pub(crate) async fn handle<C: Command>(
    State(app): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    caller: Caller,
    params: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
) -> Response {
    match pipeline::<C>(&app, correlation, caller, params, request).await {
        Ok(response) => response,
        Err(problem) => problem.into_response(),
    }
}

async fn pipeline<C: Command>(
    app: &AppState,
    correlation: CorrelationId,
    caller: Caller,
    params: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
) -> Result<Response, Problem> {
    caller.require(C::SPEC.roles)?;
    let key = idempotency_key(request.headers(), &caller)?;
    let id = path_id::<C::On>(params)?;
    if C::EXISTING && <C::On as Target>::KIND.is_some() {
        authorize_on::<C::On>(&app.engine, &caller, &id, false).await?;
    }
    let body: C = body(request, |body| app.bodies.check(C::SPEC.operation, body)).await?;
    let ctx = CommandContext::new(&caller.name, correlation.0)
        .with_key(key)
        .traced(telemetry::trace::traceparent(&tracing::Span::current()));
    let call = Call {
        engine: &app.engine,
        caller: &caller,
        ctx: &ctx,
    };
    let output = body.run(&call, id).await.map_err(Problem::from)?;
    let mut accepted = Accepted::of(&output).map_err(|error| {
        tracing::error!(%error, "could not serialize a command's result");
        Problem::internal()
    })?;
    let mut latest = None;
    for (aggregate_type, aggregate_id, sequence) in accepted.last_of_each_aggregate() {
        let cursor = app
            .engine
            .cursor_of(aggregate_type, aggregate_id, sequence)
            .await
            .map_err(problem_of)?;
        latest = latest.max(cursor);
    }
    accepted.position = latest.map(crate::outcome::position_text);
    let status = if C::SPEC.creates.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(accepted)).into_response())
}

/// The aggregate `id` exists (404), and a member's token acts only on their own (403).
pub(crate) async fn authorize_on<T: Target>(
    engine: &Backend,
    caller: &Caller,
    id: &T::Id,
    with_state: bool,
) -> Result<Found, Problem> {
    let found = T::load(engine, id, with_state).await.map_err(problem_of)?;
    let (Some(kind), Some(found)) = (T::KIND, found) else {
        return Err(not_found(T::KIND.unwrap_or("resource"), &id.to_string()));
    };
    if caller.role == Role::Member {
        match &found.owner {
            Some(owner) => caller.may_act_for(owner)?,
            None => return Err(ownerless(kind)),
        }
    }
    Ok(found)
}

/// The path's id, parsed (400 `request.invalid` when it does not parse).
pub(crate) fn path_id<T: Target>(
    params: Result<RawPathParams, RawPathParamsRejection>,
) -> Result<T::Id, Problem> {
    let params = params.map_err(|rejection| Problem::invalid(rejection.body_text()))?;
    let raw = params
        .iter()
        .find(|(name, _)| *name == T::PARAM)
        .map(|(_, value)| value);
    T::parse(raw).map_err(|e| Problem::invalid(e.to_string()))
}

/// The client's idempotency key, scoped to the token: two callers never share a key.
fn idempotency_key(headers: &HeaderMap, caller: &Caller) -> Result<IdempotencyKey, Problem> {
    let Some(value) = headers.get(&IDEMPOTENCY_KEY) else {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "request.idempotency_key_required",
            "Every command needs an Idempotency-Key header",
        )
        .with_detail("send a new unique key (a UUID) per command, and the same key on a retry"));
    };
    let invalid = || {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "request.idempotency_key_invalid",
            "The Idempotency-Key header is not valid",
        )
        .with_detail(format!(
            "an idempotency key is 1 to {MAX_KEY_LEN} visible ASCII characters"
        ))
    };
    let key = value.to_str().map_err(|_| invalid())?;
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid());
    }
    let scope = Sha256::digest(caller.name.as_bytes());
    let scope: String = scope[..8].iter().map(|b| format!("{b:02x}")).collect();
    IdempotencyKey::parse(&format!("{scope}:{key}")).map_err(|_| invalid())
}

/// The strict JSON body: an object, read whole by `web::json` (so a syntax error is 400 and a
/// non-object 422, whatever the type expects), checked against the request schema the
/// document publishes (`check`, 422 `request.invalid_body`), then deserialized into the
/// request type (422 `request.unprocessable` for a rule between fields). A request without any body (no `Content-Type`, no
/// length) reads as `{}`, so commands without fields need no body.
async fn body<T: DeserializeOwned>(
    request: Request,
    check: impl FnOnce(&serde_json::Value) -> Result<(), Problem>,
) -> Result<T, Problem> {
    let object = if has_no_body(request.headers()) {
        serde_json::Map::new()
    } else {
        let Body(object) =
            Body::<serde_json::Map<String, serde_json::Value>>::from_request(request, &()).await?;
        object
    };
    let mut body = serde_json::Value::Object(object);
    check(&body)?;
    whole_numbers_as_integers(&mut body);
    // What the schema admits and the types still refuse is a rule JSON Schema cannot state,
    // between fields (a period ending before it starts): the engine's kind of refusal.
    serde_json::from_value(body)
        .map_err(|error| problem_of(EngineError::invalid(error.to_string())))
}

/// 422 `request.invalid_body`.
pub(crate) fn invalid_body(detail: String) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "request.invalid_body",
        "The body does not match the expected shape",
    )
    .with_detail(detail)
}

/// Writes every number with a zero fraction (`3.0`) as the integer it is: JSON Schema's
/// `integer` admits it, serde's integer types do not.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) if !number.is_i64() && !number.is_u64() => {
            let whole = number.as_f64().filter(|f| f.fract() == 0.0);
            // Within ±2^53 a float holds the integer exactly, and both casts are lossless.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let integer = whole.and_then(|f| match f {
                f if (0.0..=9_007_199_254_740_992.0).contains(&f) => {
                    Some(serde_json::Number::from(f as u64))
                }
                f if (-9_007_199_254_740_992.0..0.0).contains(&f) => {
                    Some(serde_json::Number::from(f as i64))
                }
                _ => None,
            });
            if let Some(integer) = integer {
                *number = integer;
            }
        }
        serde_json::Value::Object(object) => {
            object.values_mut().for_each(whole_numbers_as_integers);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

fn has_no_body(headers: &HeaderMap) -> bool {
    let length_zero = headers
        .get(header::CONTENT_LENGTH)
        .is_none_or(|length| length == HeaderValue::from_static("0"));
    headers.get(header::CONTENT_TYPE).is_none()
        && !headers.contains_key(header::TRANSFER_ENCODING)
        && length_zero
}

//! `GET /v1/{aggregate}/{id}`: an aggregate's current state as its events built it, for the
//! caller allowed to see it (a member sees only their own). Handy for clients and tests; the
//! read models of the query API are the place for lists and searches.

use super::{view, Endpoint};
use crate::command::{
    authorize_on, path_id, OnAccount, OnMember, OnParcel, OnShipment, Spec, Target,
};
use crate::AppState;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use web::auth::{Caller, Role};
use web::problem::Problem;

/// Everybody who reads members and accounts: not the warehouse floor.
const PEOPLE: &[Role] = &[Role::Member, Role::Finance, Role::Auditor, Role::Ops];
/// Everybody who reads parcels and shipments.
const EVERYBODY: &[Role] = &[
    Role::WarehouseStaff,
    Role::Member,
    Role::Finance,
    Role::Auditor,
    Role::Ops,
];

pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![
        view::<OnMember>(Spec {
            operation: "get_member",
            path: "/v1/members/{member_id}",
            summary: "A member's current state",
            roles: PEOPLE,
            ..Spec::DEFAULT
        }),
        view::<OnAccount>(Spec {
            operation: "get_account",
            path: "/v1/accounts/{account_id}",
            summary: "A charge account's current state, with its ledger",
            roles: PEOPLE,
            ..Spec::DEFAULT
        }),
        view::<OnParcel>(Spec {
            operation: "get_parcel",
            path: "/v1/parcels/{parcel_id}",
            summary: "A parcel's current state",
            roles: EVERYBODY,
            ..Spec::DEFAULT
        }),
        view::<OnShipment>(Spec {
            operation: "get_shipment",
            path: "/v1/shipments/{shipment_id}",
            summary: "A shipment's current state, with its claims",
            roles: EVERYBODY,
            ..Spec::DEFAULT
        }),
    ]
}

/// An aggregate as its events built it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AggregateView {
    /// `member`, `account`, `parcel` or `shipment`.
    #[serde(rename = "type")]
    pub aggregate_type: String,
    /// Its id.
    pub id: String,
    /// The sequence of its last event.
    pub version: usize,
    /// Its member, when it has one.
    pub member_id: Option<String>,
    /// Its state as the domain serializes it; the shape depends on the type and the state.
    pub state: Value,
}

/// The handler of every view, for `roles`.
pub(crate) async fn show<T: Target>(
    roles: &'static [Role],
    State(app): State<AppState>,
    caller: Caller,
    params: Result<RawPathParams, RawPathParamsRejection>,
) -> Result<Json<AggregateView>, Problem> {
    caller.require(roles)?;
    let id = path_id::<T>(params)?;
    let found = authorize_on::<T>(&app.engine, &caller, &id, true).await?;
    Ok(Json(AggregateView {
        aggregate_type: T::KIND.unwrap_or_default().to_owned(),
        id: id.to_string(),
        version: found.version,
        member_id: found.owner.map(|owner| owner.to_string()),
        state: found.state.unwrap_or(Value::Null),
    }))
}

//! The route table: every endpoint of the API, from which the router and `/openapi.json` are
//! both built. One file per aggregate, one request type per domain command; `views` for the
//! `GET /v1/{aggregate}/{id}` reads.
//!
//! | path | commands |
//! |---|---|
//! | `/v1/members` | register; then per member: identity, suspension, logins, Auto Pack/Ship, withdrawal, top-ups, refund |
//! | `/v1/accounts/{account_id}` | the fees and credits finance records by hand |
//! | `/v1/parcels` | arrival; then per parcel: expectation, declaration, inspection, storage clock, packing request, disposal, return |
//! | `/v1/shipments` | consolidation; then per shipment: packing, quote, payment, hold, cancellation, shipping, tracking, claims |

mod accounts;
mod members;
mod parcels;
mod shipments;
pub(crate) mod views;

use crate::command::{handle, Command, Spec, Target};
use crate::AppState;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, State};
use axum::routing::{get, post, MethodRouter};
use schemars::{Schema, SchemaGenerator};
use web::auth::{Caller, Role};

/// The roles, grouped as the endpoints use them.
pub(crate) mod roles {
    use web::auth::Role;

    /// Receiving, inspection, storage, packing, shipping.
    pub const STAFF: &[Role] = &[Role::WarehouseStaff];
    /// A member, for themselves.
    pub const MEMBER: &[Role] = &[Role::Member];
    /// Money decisions: top-ups, refunds, fees, claim payouts.
    pub const FINANCE: &[Role] = &[Role::Finance];
    /// Operations: suspensions, identity checks, the daily jobs.
    pub const OPS: &[Role] = &[Role::Ops];
    /// A member for themselves, or operations for them.
    pub const MEMBER_OR_OPS: &[Role] = &[Role::Member, Role::Ops];
    /// A member for themselves, or the warehouse for them.
    pub const MEMBER_OR_STAFF: &[Role] = &[Role::Member, Role::WarehouseStaff];
    /// The warehouse or operations.
    pub const STAFF_OR_OPS: &[Role] = &[Role::WarehouseStaff, Role::Ops];
}

/// One endpoint: its spec, what its path names, its request schema and its handler.
pub(crate) struct Endpoint {
    /// `post` or `get`.
    pub method: &'static str,
    /// The route.
    pub path: &'static str,
    /// Operation, summary, roles, documented errors.
    pub spec: Spec,
    /// The aggregate type the path names, if any.
    pub kind: Option<&'static str>,
    /// The path parameter.
    pub param: &'static str,
    /// The aggregate must exist (404 otherwise).
    pub existing: bool,
    /// The path parameter's schema.
    pub id_schema: fn(&mut SchemaGenerator) -> Schema,
    /// The request body's schema; `None` for reads.
    pub request: Option<fn(&mut SchemaGenerator) -> Schema>,
    /// The handler.
    pub route: MethodRouter<AppState>,
}

/// The endpoint of command `C`.
pub(crate) fn command<C: Command>() -> Endpoint {
    Endpoint {
        method: "post",
        path: C::SPEC.path,
        spec: C::SPEC,
        kind: <C::On as Target>::KIND,
        param: <C::On as Target>::PARAM,
        existing: C::EXISTING && <C::On as Target>::KIND.is_some(),
        id_schema: <C::On as Target>::id_schema,
        request: Some(|generator| generator.subschema_for::<C>()),
        route: post(handle::<C>),
    }
}

/// The read of aggregate `T` at `spec.path`.
pub(crate) fn view<T: Target>(spec: Spec) -> Endpoint {
    let roles = spec.roles;
    Endpoint {
        method: "get",
        path: spec.path,
        spec,
        kind: T::KIND,
        param: T::PARAM,
        existing: true,
        id_schema: T::id_schema,
        request: None,
        route: get(
            move |state: State<AppState>,
                  caller: Caller,
                  params: Result<RawPathParams, RawPathParamsRejection>| {
                views::show::<T>(roles, state, caller, params)
            },
        ),
    }
}

/// Every endpoint, in the order of the document.
pub(crate) fn all() -> Vec<Endpoint> {
    let mut all = members::endpoints();
    all.extend(accounts::endpoints());
    all.extend(parcels::endpoints());
    all.extend(shipments::endpoints());
    all.extend(views::endpoints());
    all
}

/// An endpoint as the tests and tools see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `POST` or `GET`.
    pub method: &'static str,
    /// The route, with `{param}` placeholders.
    pub path: &'static str,
    /// The OpenAPI operation id.
    pub operation: &'static str,
    /// The roles that may call it besides admins.
    pub roles: &'static [Role],
    /// The aggregate type its path names.
    pub target: Option<&'static str>,
    /// It answers 201 with an id.
    pub creates: bool,
}

/// Every endpoint the router serves, besides `/openapi.json`, the probes and `/metrics`.
pub fn routes() -> Vec<RouteInfo> {
    all()
        .into_iter()
        .map(|endpoint| RouteInfo {
            method: if endpoint.method == "post" {
                "POST"
            } else {
                "GET"
            },
            path: endpoint.path,
            operation: endpoint.spec.operation,
            roles: endpoint.spec.roles,
            target: endpoint.kind,
            creates: endpoint.spec.creates.is_some(),
        })
        .collect()
}

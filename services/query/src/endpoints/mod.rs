//! The route table: every query endpoint with its roles, parameters and documented error codes.
//! The router and `/openapi.json` are both built from it, and the tests walk it to prove each
//! role outside an endpoint's list is refused.

mod audit;
mod billing;
mod directory;
mod projections;
mod storage;

pub(crate) use directory::QUERY_MAX_CHARS;
pub(crate) use storage::{DEFAULT_DAYS, MAX_DAYS};

use crate::QueryState;
use ::projections::storage_status::{self, DueTask};
use axum::routing::{get, MethodRouter};
use web::auth::Role;

/// The roles, grouped as the endpoints use them (admins pass everywhere).
pub(crate) mod roles {
    use web::auth::Role;

    /// The warehouse and operations.
    pub const STORAGE: &[Role] = &[Role::WarehouseStaff, Role::Ops];
    /// The warehouse, operations, or a member for their own parcels.
    pub const STORAGE_OR_MEMBER: &[Role] = &[Role::WarehouseStaff, Role::Ops, Role::Member];
    /// Finance.
    pub const BILLING: &[Role] = &[Role::Finance];
    /// Finance, or a member for their own account and quotes.
    pub const BILLING_OR_MEMBER: &[Role] = &[Role::Finance, Role::Member];
    /// Auditors.
    pub const AUDIT: &[Role] = &[Role::Auditor];
    /// Operations.
    pub const OPS: &[Role] = &[Role::Ops];
    /// Whoever looks up members, parcels and shipments: the warehouse, operations, finance.
    pub const SEARCH: &[Role] = &[Role::WarehouseStaff, Role::Ops, Role::Finance];
    /// Whoever reads members by name: those who search, or a member for themselves.
    pub const PEOPLE: &[Role] = &[Role::WarehouseStaff, Role::Ops, Role::Finance, Role::Member];
    /// Whoever reads one aggregate's timeline: auditors, the warehouse and operations.
    pub const TIMELINE: &[Role] = &[Role::Auditor, Role::WarehouseStaff, Role::Ops];
}

/// A documented parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// `path` or `query`.
    pub location: &'static str,
    /// Whether a request must give it (every path parameter must).
    pub required: bool,
    /// What it means.
    pub description: &'static str,
    /// The values the server accepts, as the OpenAPI document states them.
    pub shape: Shape,
}

/// The values a parameter takes: what the server enforces, stated in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Any text.
    Text,
    /// Rows per page: an integer from 1 to 500, 50 when absent.
    Limit,
    /// An RFC 3339 date-time.
    DateTime,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A page's `next_cursor`: hexadecimal, opaque.
    Cursor,
    /// One or more of these words, comma-separated.
    ListOf(&'static [&'static str]),
    /// Text of 1 to `QUERY_MAX_CHARS` characters (a search).
    Search,
    /// A number of days: 1 to 366, 90 when absent.
    Days,
}

/// A query-string parameter (a macro, so the tables are `'static` constants).
macro_rules! query {
    ($name:literal, $description:literal) => {
        query!($name, $description, Shape::Text)
    };
    ($name:literal, $description:literal, $shape:expr) => {
        Param {
            name: $name,
            location: "query",
            required: false,
            description: $description,
            shape: $shape,
        }
    };
}

/// A query-string parameter every request must give.
macro_rules! required {
    ($name:literal, $description:literal, $shape:expr) => {
        Param {
            required: true,
            ..query!($name, $description, $shape)
        }
    };
}

/// A path parameter.
macro_rules! path {
    ($name:literal, $description:literal) => {
        path!($name, $description, Shape::Text)
    };
    ($name:literal, $description:literal, $shape:expr) => {
        Param {
            name: $name,
            location: "path",
            required: true,
            description: $description,
            shape: $shape,
        }
    };
}

/// The aggregate types.
const AGGREGATE_TYPES: Shape = Shape::OneOf(&["member", "account", "parcel", "shipment"]);

const LIMIT: Param = query!(
    "limit",
    "rows per page, 1 to 500 (default 50)",
    Shape::Limit
);
const CURSOR: Param = query!(
    "cursor",
    "the next_cursor of the previous page; absent or empty for the first page",
    Shape::Cursor
);

/// An endpoint as documented: every one is a `GET`.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    /// The path template.
    pub path: &'static str,
    /// What it answers.
    pub summary: &'static str,
    /// Who may call it (admins always may).
    pub roles: &'static [Role],
    /// Whether a member's token sees only its own rows here.
    pub member_scoped: bool,
    /// Its parameters.
    pub params: &'static [Param],
    /// The problem codes it answers besides `auth.*`.
    pub codes: &'static [&'static str],
}

/// An endpoint: its documentation and its handler.
pub(crate) struct Endpoint {
    pub(crate) info: RouteInfo,
    pub(crate) path: &'static str,
    pub(crate) route: MethodRouter<QueryState>,
}

/// Every endpoint.
pub(crate) fn all() -> Vec<Endpoint> {
    let table: [(RouteInfo, MethodRouter<QueryState>); 19] = [
        (
            RouteInfo {
                path: "/v1/storage/parcels",
                summary: "Parcels in the warehouse with their storage clock today, by parcel id",
                roles: roles::STORAGE_OR_MEMBER,
                member_scoped: true,
                params: &[
                    query!("member_id", "one member's parcels"),
                    query!(
                        "state",
                        "comma-separated states (stored,received,...)",
                        Shape::ListOf(storage_status::STATES)
                    ),
                    LIMIT,
                    CURSOR,
                ],
                codes: &["query.invalid_parameter", "query.invalid_cursor"],
            },
            get(storage::parcels),
        ),
        (
            RouteInfo {
                path: "/v1/storage/parcels/{parcel_id}",
                summary: "One parcel wherever it is, with its storage clock today",
                roles: roles::STORAGE_OR_MEMBER,
                member_scoped: true,
                params: &[path!("parcel_id", "the parcel")],
                codes: &["parcel.not_found"],
            },
            get(storage::parcel),
        ),
        (
            RouteInfo {
                path: "/v1/storage/due-today",
                summary: "What must be dealt with today, one task at a time: notices, disposals, fees, arrivals, unidentified",
                roles: roles::STORAGE,
                member_scoped: false,
                params: &[
                    required!(
                        "task",
                        "the work: notices, to_mark_disposable, to_dispose, fees_to_accrue, arrivals_to_notify or unidentified",
                        Shape::OneOf(&DueTask::NAMES)
                    ),
                    LIMIT,
                    CURSOR,
                ],
                codes: &["query.invalid_parameter", "query.invalid_cursor"],
            },
            get(storage::due_today),
        ),
        (
            RouteInfo {
                path: "/v1/storage/past-limit",
                summary: "Waiting parcels past their free storage today (STO-2)",
                roles: roles::STORAGE,
                member_scoped: false,
                params: &[LIMIT, CURSOR],
                codes: &["query.invalid_parameter", "query.invalid_cursor"],
            },
            get(storage::past_limit),
        ),
        (
            RouteInfo {
                path: "/v1/storage/counts",
                summary: "Parcels per state",
                roles: roles::STORAGE,
                member_scoped: false,
                params: &[],
                codes: &[],
            },
            get(storage::counts),
        ),
        (
            RouteInfo {
                path: "/v1/storage/daily",
                summary: "The warehouse day by day up to today: parcels in it, past their limit, arrivals, shipments sent",
                roles: roles::STORAGE,
                member_scoped: false,
                params: &[query!("days", "how many days, 1 to 366 (default 90)", Shape::Days)],
                codes: &["query.invalid_parameter"],
            },
            get(storage::daily),
        ),
        (
            RouteInfo {
                path: "/v1/storage/members",
                summary: "Members by id, with their suite code and name (null once erased), by member id",
                roles: roles::PEOPLE,
                member_scoped: true,
                params: &[
                    query!("ids", "comma-separated member ids"),
                    query!("suite_code", "the member with this suite code (any case)"),
                    LIMIT,
                    CURSOR,
                ],
                codes: &["query.invalid_parameter", "query.invalid_cursor"],
            },
            get(directory::members),
        ),
        (
            RouteInfo {
                path: "/v1/storage/members/{member_id}",
                summary: "A member's page: suite code and name, every parcel wherever it is, shipments, account id",
                roles: roles::PEOPLE,
                member_scoped: true,
                params: &[path!("member_id", "the member")],
                codes: &["member.not_found"],
            },
            get(directory::member),
        ),
        (
            RouteInfo {
                path: "/v1/search",
                summary: "Members, parcels and shipments by suite code, name (or part of one), tracking number or id",
                roles: roles::SEARCH,
                member_scoped: false,
                params: &[
                    required!("q", "what to look for, 1 to 100 characters", Shape::Search),
                    LIMIT,
                ],
                codes: &["query.invalid_parameter"],
            },
            get(directory::search),
        ),
        (
            RouteInfo {
                path: "/v1/billing/accounts/{account_id}",
                summary: "A charge account, its balance and its movements",
                roles: roles::BILLING_OR_MEMBER,
                member_scoped: true,
                params: &[path!("account_id", "the account")],
                codes: &["account.not_found"],
            },
            get(billing::account),
        ),
        (
            RouteInfo {
                path: "/v1/billing/open-quotes",
                summary: "Quotes waiting for payment, by due date",
                roles: roles::BILLING_OR_MEMBER,
                member_scoped: true,
                params: &[query!("member_id", "one member's quotes"), LIMIT, CURSOR],
                codes: &["query.invalid_parameter", "query.invalid_cursor"],
            },
            get(billing::open_quotes),
        ),
        (
            RouteInfo {
                path: "/v1/billing/overdue",
                summary: "Quotes unpaid past due today, with interest (ACC-6, PAY-2)",
                roles: roles::BILLING,
                member_scoped: false,
                params: &[LIMIT, CURSOR],
                codes: &["query.invalid_parameter", "query.invalid_cursor"],
            },
            get(billing::overdue),
        ),
        (
            RouteInfo {
                path: "/v1/billing/fees",
                summary: "Fees charged by type, or by month and type",
                roles: roles::BILLING,
                member_scoped: false,
                params: &[
                    query!(
                        "by",
                        "type (default) or month",
                        Shape::OneOf(&["type", "month"])
                    ),
                    LIMIT,
                    CURSOR,
                ],
                codes: &["query.invalid_parameter", "query.invalid_cursor"],
            },
            get(billing::fees),
        ),
        (
            RouteInfo {
                path: "/v1/billing/refunds-due",
                summary: "Withdrawal refunds scheduled and not paid (ACC-7)",
                roles: roles::BILLING,
                member_scoped: false,
                params: &[LIMIT, CURSOR],
                codes: &["query.invalid_parameter", "query.invalid_cursor"],
            },
            get(billing::refunds_due),
        ),
        (
            RouteInfo {
                path: "/v1/audit/events",
                summary: "Recorded events in the global order, filtered",
                roles: roles::AUDIT,
                member_scoped: false,
                params: &[
                    query!(
                        "aggregate_type",
                        "member, account, parcel or shipment",
                        AGGREGATE_TYPES
                    ),
                    query!("aggregate_id", "one aggregate"),
                    query!("related_id", "events naming this id"),
                    query!("event_type", "parcel.arrived, ..."),
                    query!("actor", "who issued the command"),
                    query!("correlation_id", "one request or flow"),
                    query!("from", "recorded at or after (RFC 3339)", Shape::DateTime),
                    query!("to", "recorded before (RFC 3339)", Shape::DateTime),
                    LIMIT,
                    CURSOR,
                ],
                codes: &["query.invalid_parameter", "query.invalid_cursor", audit::RANGE_REVERSED],
            },
            get(audit::events),
        ),
        (
            RouteInfo {
                path: "/v1/audit/{aggregate_type}/{aggregate_id}/history",
                summary: "One aggregate's events in sequence order: its timeline",
                roles: roles::TIMELINE,
                member_scoped: false,
                params: &[
                    path!(
                        "aggregate_type",
                        "member, account, parcel or shipment",
                        AGGREGATE_TYPES
                    ),
                    path!("aggregate_id", "the aggregate"),
                ],
                codes: &["query.invalid_parameter", "history.not_found"],
            },
            get(audit::history),
        ),
        (
            RouteInfo {
                path: "/v1/projections",
                summary: "Each view's serving instance, checkpoint, lag, parked events, stuck or not",
                roles: roles::OPS,
                member_scoped: false,
                params: &[],
                codes: &[],
            },
            get(projections::health),
        ),
        (
            RouteInfo {
                path: "/v1/projections/lag-history",
                summary: "Each view's lag over the last hour, sampled every 15 s since the service started",
                roles: roles::OPS,
                member_scoped: false,
                params: &[],
                codes: &[],
            },
            get(projections::lag_history),
        ),
        (
            RouteInfo {
                path: "/v1/projections/{view}/parked",
                summary: "The parked events of a view, waiting for a replay",
                roles: roles::OPS,
                member_scoped: false,
                params: &[
                    path!(
                        "view",
                        "storage_status, billing or audit",
                        Shape::OneOf(&crate::VIEW_NAMES)
                    ),
                    LIMIT,
                    CURSOR,
                ],
                codes: &["view.not_found", "query.invalid_parameter", "query.invalid_cursor"],
            },
            get(projections::parked),
        ),
    ];
    table
        .into_iter()
        .map(|(info, route)| Endpoint {
            path: info.path,
            info,
            route,
        })
        .collect()
}

/// The documentation of every endpoint.
pub fn routes_table() -> Vec<RouteInfo> {
    all().into_iter().map(|endpoint| endpoint.info).collect()
}

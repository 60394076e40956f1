//! # parcelport query API and ops dashboard
//!
//! The read side over HTTP: the storage-status, billing and audit views as JSON, paginated and
//! filterable, the projections' health, and a dashboard page for operations staff. Same tokens
//! and roles as the command API (`crates/web`); every error is `application/problem+json`.
//! "Today" comes from the service's [`Clock`] in the warehouse's time zone, never from the
//! views, which store nothing that goes stale.
//!
//! Map of the crate:
//! - [`QueryState`] is what every handler shares: a [`Views`] handle, the tokens, the policy,
//!   the clock. [`routes`] are the query endpoints and the dashboard (what `parcelport serve`
//!   merges into the command API's listener); [`router`] adds `/openapi.json`, the probes and
//!   `/metrics` for the standalone `parcelport-query`; [`run`] does what that process does.
//! - `views.rs`: [`Views`], the one module that calls `projections` and the projection runtime.
//! - `endpoints/`: the route table (`mod.rs`) the router and `/openapi.json` are both built from,
//!   and one file per view (`storage`, `billing`, `audit`) plus `projections` (health, parked).
//! - `params.rs`: query-string parsing into 400 problems, limits and opaque cursors.
//! - `lag_history.rs`: [`LagHistory`], the views' lag sampled over the last hour.
//! - `read_after.rs`: `?after=<position>` on every endpoint, waiting (bounded) until the view
//!   read has applied a command's last event (read your writes).
//! - `openapi.rs`: the OpenAPI 3.1 document; `dashboard.rs`: the page, its script and styles,
//!   embedded at compile time (`src/dashboard/`); `probes.rs`: `/healthz`, `/readyz`.
//! - `config.rs`: [`Config`], what the process reads at start-up.
//!
//! *Architecture Invariant*: a member's token reads only that member's parcels, quotes and
//! account: another member's parcel or account by id is the same 404 as a missing one, and a
//! list filter naming another member is a 403 (`auth.other_member`).
//!
//! *Architecture Invariant*: only `views.rs` calls `projections` and the projection runtime;
//! every handler goes through [`Views`] (ADR 0007).

mod config;
mod dashboard;
mod endpoints;
mod lag_history;
mod openapi;
mod params;
mod probes;
mod read_after;
mod views;

pub use config::{Config, PolicySource, StartError};
pub use endpoints::{routes_table, Param, RouteInfo, Shape};
pub use lag_history::{LagHistory, LagSample, ViewLag};
pub use openapi::document as openapi_document;
pub use views::{FeeGrouping, Parked, Position, ViewHealth, Views, VIEW_NAMES};

use axum::extract::{FromRef, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Policy;
use personal_data::PersonalData;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use web::auth::TokenBook;

/// Where the service reads "now".
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl<F> Clock for F
where
    F: Fn() -> DateTime<Utc> + Send + Sync + 'static,
{
    fn now(&self) -> DateTime<Utc> {
        self()
    }
}

/// A view that waits this long with events behind it is reported stuck, by default.
pub const DEFAULT_STUCK_AFTER: Duration = Duration::from_secs(60);

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct QueryState {
    views: Views,
    personal: PersonalData,
    lag: Arc<LagHistory>,
    tokens: Arc<TokenBook>,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
    stuck_after: Duration,
    openapi: Arc<serde_json::Value>,
}

impl QueryState {
    /// The state over `views`, with the tokens, the policy, the members' keys (to open the
    /// names the people at the warehouse read) and the system clock.
    pub fn new(
        views: Views,
        tokens: Arc<TokenBook>,
        policy: Policy,
        personal: PersonalData,
    ) -> Self {
        Self {
            views,
            personal,
            lag: Arc::new(LagHistory::default()),
            tokens,
            policy: Arc::new(policy),
            clock: Arc::new(SystemClock),
            stuck_after: DEFAULT_STUCK_AFTER,
            openapi: Arc::new(openapi::document()),
        }
    }

    /// With another clock (tests pin a day).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// With another threshold for stuck views.
    pub fn with_stuck_after(mut self, stuck_after: Duration) -> Self {
        self.stuck_after = stuck_after;
        self
    }

    /// Now, by the service's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Today in the warehouse's time zone (the policy's UTC offset).
    pub(crate) fn today(&self) -> NaiveDate {
        self.policy.local_date(self.now())
    }
}

impl FromRef<QueryState> for Arc<TokenBook> {
    fn from_ref(state: &QueryState) -> Self {
        Arc::clone(&state.tokens)
    }
}

/// The query endpoints (`/v1/storage`, `/v1/billing`, `/v1/audit`, `/v1/projections`), the
/// dashboard (`/dashboard`, `/` redirects there) and `/query/openapi.json`, not hardened: what
/// a process serving another API on the same listener merges before hardening the whole.
pub fn routes(state: QueryState) -> Router {
    state.lag.start(state.views.clone(), state.stuck_after);
    endpoints::all()
        .into_iter()
        .fold(Router::new(), |router, endpoint| {
            router.route(endpoint.path, endpoint.route)
        })
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            read_after::wait_for_position,
        ))
        .route_layer(axum::middleware::from_fn(record_metrics))
        .merge(openapi::router("/query/openapi.json"))
        .merge(dashboard::router())
        .with_state(state)
}

/// The standalone query API: [`routes`], `/openapi.json`, `/healthz`, `/readyz` and `/metrics`,
/// hardened (problems for unknown routes and panics).
pub fn router(state: QueryState) -> Router {
    let own = openapi::router("/openapi.json")
        .merge(probes::router())
        .with_state(state.clone())
        .merge(telemetry::metrics_router());
    web::harden(routes(state).merge(own))
}

/// Serves [`router`] on `listener` until `shutdown` completes.
pub async fn serve(
    state: QueryState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs the query API as a process does: connects, reads the tokens and the policy, and serves
/// on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let state = config.state().await?;
    tracing::info!(address = ?listener.local_addr().ok(), "query API listening");
    serve(state, listener, shutdown)
        .await
        .map_err(StartError::Serve)
}

/// Counts and times each query request by route template and status: `query_requests_total`
/// and `query_request_duration_seconds`.
async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("query_requests_total", &labels).increment(1);
    metrics::histogram!("query_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

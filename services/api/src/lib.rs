//! # parcelport command API
//!
//! The write side over HTTP: one endpoint per domain command, JSON in and out, every error an
//! `application/problem+json` with a stable code. It knows no business rule: each endpoint
//! parses its request, checks who may ask, and calls the engine (`crates/engine`), which
//! looks facts up, retries lost races and keeps idempotency keys.
//!
//! Map of the crate:
//! - [`router`] builds the whole app from an [`AppState`]; [`serve`] runs it on a listener and
//!   [`run`] does everything a process does (database, migrations, tokens, policy) from a
//!   [`Config`]. The binary `parcelport-api` only parses flags and calls [`run`].
//! - `command.rs`: the [`Command`](command::Command) trait every endpoint implements and the one
//!   pipeline they all go through: token (401), role (403), `Idempotency-Key` (400), path id
//!   (400), the aggregate exists (404) and is the member's own (403), the strict body (4xx),
//!   then the engine.
//! - `endpoints/`: one file per aggregate (`members`, `accounts`, `parcels`, `shipments`), one
//!   request type per command, and `views` for `GET /v1/{aggregate}/{id}`; `endpoints/mod.rs`
//!   holds the route table the router and the OpenAPI document are both built from.
//! - `outcome.rs`: what a command answers (the appended events by type and sequence, and the
//!   engine's result); `failure.rs`: `EngineError` to problem+json, once.
//! - `openapi.rs`: the OpenAPI 3.1 document served at `/openapi.json`, generated from the
//!   route table and the request types' JSON Schemas.
//! - `observe.rs`: correlation ids and request metrics; `probes.rs`: `/healthz`, `/readyz`.
//!
//! *Architecture Invariant*: the route table is the single source of the routes, their roles
//! and their documented error codes. The router, `/openapi.json` and the tests all read it, so
//! an endpoint cannot exist undocumented, and the tests fail when a documented code is never
//! reached.
//!
//! *Architecture Invariant*: a request never supplies a fact about another aggregate. Commands
//! that carry one go through the engine's use case, whose request type omits the fact.

mod backend;
mod command;
mod config;
mod endpoints;
mod failure;
mod observe;
mod openapi;
mod outcome;
mod probes;

pub use backend::Backend;
pub use config::{Config, PolicySource, StartError};
pub use endpoints::{routes, RouteInfo};
pub use openapi::document as openapi_document;

use axum::extract::FromRef;
use axum::Router;
use engine::{PgEngine, SqliteEngine};
use sqlx::PgPool;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use web::auth::TokenBook;

/// What every handler shares: the engine on its backend, the tokens and the OpenAPI
/// document, built once. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    engine: Backend,
    tokens: Arc<TokenBook>,
    openapi: Arc<serde_json::Value>,
    bodies: Arc<openapi::Bodies>,
}

impl AppState {
    /// The state over a migrated PostgreSQL engine, its database pool (for readiness) and the
    /// configured tokens.
    pub fn new(engine: Arc<PgEngine>, tokens: TokenBook, pool: PgPool) -> Self {
        Self::on(Backend::Postgres(engine, pool), tokens)
    }

    /// The state over a migrated engine on the embedded SQLite store.
    pub fn sqlite(engine: Arc<SqliteEngine>, tokens: TokenBook) -> Self {
        Self::on(Backend::Sqlite(engine), tokens)
    }

    /// The state over an engine on either backend.
    pub fn on(engine: Backend, tokens: TokenBook) -> Self {
        let openapi = openapi::document();
        Self {
            engine,
            tokens: Arc::new(tokens),
            bodies: Arc::new(openapi::Bodies::of(&openapi)),
            openapi: Arc::new(openapi),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Backend {
        &self.engine
    }
}

impl FromRef<AppState> for Arc<TokenBook> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.tokens)
    }
}

/// The whole API: every command endpoint, the views, `/openapi.json`, the probes and
/// `/metrics`, hardened (body limit, panics and unknown routes as problems) and with
/// correlation ids on every response.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// [`router`] with `extra` routes served beside the API on the same listener (the query API
/// and the dashboard in `parcelport serve`), hardened and correlated alike. `extra` must not
/// repeat the API's routes nor have a fallback.
pub fn router_with(state: AppState, extra: Router) -> Router {
    let api = endpoints::all()
        .into_iter()
        .fold(Router::new(), |router, endpoint| {
            router.route(endpoint.path, endpoint.route)
        })
        .route_layer(axum::middleware::from_fn(observe::record_metrics))
        .route_layer(axum::middleware::from_fn(observe::trace));
    let app = api
        .merge(openapi::router())
        .merge(probes::router())
        .with_state(state)
        .merge(telemetry::metrics_router())
        .merge(extra);
    web::harden(app).layer(axum::middleware::from_fn(observe::correlate))
}

/// Serves `state`'s API on `listener` until `shutdown` completes, then finishes the requests
/// under way.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(state, Router::new(), listener, shutdown).await
}

/// Serves [`router_with`]`(state, extra)` on `listener` until `shutdown` completes.
pub async fn serve_with(
    state: AppState,
    extra: Router,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router_with(state, extra))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs the API as a process does: connects to the database and migrates it, reads the
/// tokens and the policy, and serves on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let (state, store) = config.open().await?;
    let hints = config.nats_url.as_ref().map(|nats_url| {
        let nats_url = nats_url.clone();
        tokio::spawn(async move { relay::hints::publish_commits_to(&store, &nats_url).await })
    });
    tracing::info!(address = ?listener.local_addr().ok(), "command API listening");
    let served = serve(state, listener, shutdown)
        .await
        .map_err(StartError::Serve);
    if let Some(hints) = hints {
        hints.abort();
    }
    served
}

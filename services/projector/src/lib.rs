//! # parcelport-projector
//!
//! One view's projector as a process of its own (distributed mode): the storage-status,
//! billing, audit, schedule or notices view, fed from the relay's JetStream stream through a durable consumer named after
//! the view, or from the event store. Each view runs, scales and restarts independently.
//!
//! Run as many processes per view as you like: one applies, the others stand by. The active
//! one holds the view's lease (a [`lease::Lease`] on the view's name in the views' database);
//! a standby tries to take it every `lease_retry` (1 s), and once it has it waits one check
//! interval plus its timeout (3 s, the longest a lost holder may take to notice) before it
//! touches the view. The holder checks its lease every second; when the check fails it stops
//! applying and exits with an error, so that its supervisor starts it again as a standby.
//! While standing by a process serves its probes and is not ready.
//!
//! It serves, on `--listen`:
//! - `/metrics`: Prometheus text: `projection_events_applied_total`, `projection_batch_seconds`,
//!   `projection_lag_events` (the consumer's `num_pending`), `projection_lag_seconds` (age of the
//!   newest applied event while events wait), `projection_parked_events`,
//!   `projection_batch_failures_total`, all labelled `projection`;
//! - `/healthz`: 200 while the process serves;
//! - `/readyz`: 200 when the projector works: active, attached, its last step did not fail,
//!   and it has not gone `stall_after` without committing while its feed reports waiting
//!   events; 503 with the reason otherwise (`standing by` for a standby).
//!
//! [`run`] is the whole service; `main.rs` only reads flags and sets up logs.

use anyhow::Context;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use event_store::EventStore;
use lease::Lease;
use projection_runtime::{
    catalog, metric, Feed, JetStreamFeed, JetStreamOptions, Projection, Projector,
    ProjectorOptions, ProjectorStatus, StatusHandle, StoreFeed,
};
use projections::audit::Audit;
use projections::billing::Billing;
use projections::notices::Notices;
use projections::schedule::Schedule;
use projections::storage_status::StorageStatus;
use sqlx::postgres::PgConnectOptions;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The first key of the projectors' leases (`pg_try_advisory_lock(int, int)`); the second is
/// `hashtext(view name)`.
const LEASE_CLASS: i32 = 0x7070_726f; // "ppro"
/// How often the active projector checks its lease, and how long a check may take.
const LEASE_CHECK: Duration = Duration::from_secs(1);
const LEASE_TIMEOUT: Duration = Duration::from_secs(2);

/// The views a projector can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum View {
    /// `storage_status`: parcels in the warehouse, their storage clocks and fees.
    #[value(name = "storage_status")]
    StorageStatus,
    /// `billing`: charge accounts, movements, quotes, refunds.
    #[value(name = "billing")]
    Billing,
    /// `audit`: every event with its actor and command.
    #[value(name = "audit")]
    Audit,
    /// `schedule`: the deadlines the business clock acts on.
    #[value(name = "schedule")]
    Schedule,
    /// `notices`: what to tell members, their contacts.
    #[value(name = "notices")]
    Notices,
}

impl View {
    /// The view's name, as its projection reports it (and the default consumer name).
    pub fn name(self) -> &'static str {
        match self {
            View::StorageStatus => StorageStatus.name(),
            View::Billing => Billing.name(),
            View::Audit => Audit.name(),
            View::Schedule => Schedule.name(),
            View::Notices => Notices.name(),
        }
    }
}

/// Where events come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The relay's stream, through a durable pull consumer.
    JetStream(JetStreamOptions),
    /// The event store, from the view's checkpoint.
    Store,
}

/// Everything [`run`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The view fed.
    pub view: View,
    /// The database holding the views (and the events, for [`Source::Store`]).
    pub database_url: String,
    /// Where events come from.
    pub source: Source,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub listen: SocketAddr,
    /// Events per transaction.
    pub batch_size: usize,
    /// Wait after a failed batch.
    pub retry_backoff: Duration,
    /// Not ready after this long without a commit while the feed reports waiting events.
    pub stall_after: Duration,
    /// This process, in logs and the lease connection's `application_name`
    /// (`parcelport-projector <view> <instance>`); the process id by default.
    pub instance: String,
    /// How often a standby tries to take the view's lease.
    pub lease_retry: Duration,
}

impl Config {
    /// Defaults: batches of 500, a 1 s backoff, not ready after 60 s stalled, served on
    /// `0.0.0.0:9464`.
    pub fn new(view: View, database_url: impl Into<String>, source: Source) -> Self {
        Self {
            view,
            database_url: database_url.into(),
            source,
            listen: SocketAddr::from(([0, 0, 0, 0], 9464)),
            batch_size: 500,
            retry_backoff: Duration::from_secs(1),
            stall_after: Duration::from_secs(60),
            instance: std::process::id().to_string(),
            lease_retry: Duration::from_secs(1),
        }
    }
}

/// Runs the projector and its HTTP endpoints until `shutdown` completes. Failures of the
/// database or NATS are retried (and fail readiness); only start-up errors are returned.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    metric::describe();
    let store = EventStore::connect(&config.database_url, 4)
        .await
        .context("connecting to the database")?;
    catalog::migrate(store.pool())
        .await
        .context("migrating the projection catalog")?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    tracing::info!(view = config.view.name(), listen = %listener.local_addr()?,
        "projector starting");
    match (config.view, config.source.clone()) {
        (View::StorageStatus, source) => {
            drive(&config, store, StorageStatus, source, listener, shutdown).await
        }
        (View::Billing, source) => drive(&config, store, Billing, source, listener, shutdown).await,
        (View::Audit, source) => drive(&config, store, Audit, source, listener, shutdown).await,
        (View::Schedule, source) => {
            drive(&config, store, Schedule, source, listener, shutdown).await
        }
        (View::Notices, source) => drive(&config, store, Notices, source, listener, shutdown).await,
    }
}

async fn drive<P: Projection + Clone + 'static>(
    config: &Config,
    store: EventStore,
    projection: P,
    source: Source,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let options = ProjectorOptions {
        batch_size: config.batch_size,
        retry_backoff: config.retry_backoff,
        ..ProjectorOptions::default()
    };
    match source {
        Source::JetStream(mut jetstream) => {
            jetstream.max_ack_pending = jetstream
                .max_ack_pending
                .max(i64::try_from(config.batch_size.saturating_mul(2)).unwrap_or(i64::MAX));
            let feed = JetStreamFeed::new(jetstream);
            let projector = Projector::new(store.pool().clone(), projection.clone(), feed, options);
            serve(config, &store, projection, projector, listener, shutdown).await
        }
        Source::Store => {
            let feed = StoreFeed::new(store.clone());
            let projector = Projector::new(store.pool().clone(), projection.clone(), feed, options);
            serve(config, &store, projection, projector, listener, shutdown).await
        }
    }
}

/// Serves the probes, stands by until the view's lease is this process's, then applies
/// (after rebuilding the view if its shape changed) until `shutdown` or until the lease is
/// lost, which ends the process with an error (the module documentation).
async fn serve<P: Projection + Clone + 'static, F: Feed + 'static>(
    config: &Config,
    store: &EventStore,
    projection: P,
    projector: Projector<P, F>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let name = config.view.name();
    let status = projector.status();
    let active = Arc::new(AtomicBool::new(false));
    let (stop_http, http_stopped) = oneshot::channel::<()>();
    let mut http = AbortOnDrop(tokio::spawn(
        axum::serve(
            listener,
            router(status.clone(), active.clone(), config.stall_after),
        )
        .with_graceful_shutdown(async {
            let _ = http_stopped.await;
        })
        .into_future(),
    ));
    let _sampler = AbortOnDrop(tokio::spawn(sample_lag(name, status)));
    let applied = lead(config, store, projection, projector, &active, shutdown).await;
    let _ = stop_http.send(());
    let served = match (&mut http.0).await {
        Ok(result) => result.context("serving the probes"),
        Err(error) => Err(error).context("the probe server task"),
    };
    applied.and(served)
}

/// Takes the view's lease (standing by until then), and applies while holding it.
async fn lead<P: Projection + Clone + 'static, F: Feed + 'static>(
    config: &Config,
    store: &EventStore,
    projection: P,
    projector: Projector<P, F>,
    active: &AtomicBool,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let name = config.view.name();
    let mut shutdown = pin!(shutdown);
    let database: PgConnectOptions = config
        .database_url
        .parse()
        .context("parsing the database url")?;
    let application_name = format!("parcelport-projector {name} {}", config.instance);
    let lease = Lease::acquire(
        &database,
        LEASE_CLASS,
        name,
        &application_name,
        config.lease_retry,
        &mut shutdown,
    );
    let Some(mut lease) = lease.await else {
        return Ok(());
    };
    // A holder that lost the lease stops within one check and its timeout: wait as long.
    tokio::select! {
        () = tokio::time::sleep(LEASE_CHECK + LEASE_TIMEOUT) => {}
        () = &mut shutdown => {
            lease.release().await;
            return Ok(());
        }
    }
    // A view whose shape changed in an upgrade is rebuilt from the store before it resumes.
    let upgraded = projection_runtime::upgrade(
        store.pool().clone(),
        store,
        projection,
        projection_runtime::RebuildOptions::default(),
    )
    .await?;
    if let Some(report) = upgraded {
        tracing::info!(
            view = name,
            events = report.outcome.applied,
            "rebuilt the view, whose shape changed"
        );
    }
    active.store(true, Ordering::SeqCst);
    let mut lost = None;
    projector
        .run(async {
            tokio::select! {
                () = &mut shutdown => {}
                error = lease.keep(LEASE_CHECK, LEASE_TIMEOUT) => lost = Some(error),
            }
        })
        .await;
    active.store(false, Ordering::SeqCst);
    match lost {
        None => {
            lease.release().await;
            Ok(())
        }
        Some(error) => Err(anyhow::Error::new(error).context(format!(
            "lost the lease of view {name}; stopped applying (start the process again: it \
             stands by until the lease is free)"
        ))),
    }
}

/// A task that dies with the future that spawned it (a dropped `run` takes its server along).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sets `projection_lag_seconds` every second from the projector's status.
async fn sample_lag(name: &'static str, status: StatusHandle) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let lag = lag_seconds(&status.snapshot(), chrono::Utc::now());
        metrics::gauge!(metric::LAG_SECONDS, "projection" => name).set(lag);
    }
}

/// Seconds from the newest applied event to `now` while the feed reports waiting events; 0
/// when it reports none (caught up: an old last event is not lag).
pub fn lag_seconds(status: &ProjectorStatus, now: chrono::DateTime<chrono::Utc>) -> f64 {
    match (status.backlog, status.last_event_at) {
        (Some(backlog), Some(last)) if backlog > 0 => {
            (now - last).to_std().unwrap_or_default().as_secs_f64()
        }
        _ => 0.0,
    }
}

/// Whether the projector is ready, or why not.
pub fn readiness(
    status: &ProjectorStatus,
    now: Instant,
    stall_after: Duration,
) -> Result<(), String> {
    let Some(progress) = status.last_progress else {
        return Err("not attached to its view yet".to_owned());
    };
    if status.consecutive_failures > 0 {
        return Err(format!(
            "{} failing steps in a row: {}",
            status.consecutive_failures,
            status.last_error.as_deref().unwrap_or("unknown")
        ));
    }
    let stalled = now.saturating_duration_since(progress);
    match status.backlog {
        Some(backlog) if backlog > 0 && stalled > stall_after => Err(format!(
            "no batch committed for {} s while {backlog} events wait",
            stalled.as_secs()
        )),
        _ => Ok(()),
    }
}

/// `/metrics`, `/healthz` and `/readyz`; `active` says whether this process holds the view's
/// lease (a standby is not ready).
pub fn router(status: StatusHandle, active: Arc<AtomicBool>, stall_after: Duration) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let status = status.clone();
                let active = active.load(Ordering::SeqCst);
                async move {
                    if !active {
                        return (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "standing by: another process holds the view's lease".to_owned(),
                        );
                    }
                    match readiness(&status.snapshot(), Instant::now(), stall_after) {
                        Ok(()) => (StatusCode::OK, "ready".to_owned()),
                        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
                    }
                }
            }),
        )
        .merge(telemetry::metrics_router())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attached(backlog: Option<u64>, progress_ago: Duration) -> (ProjectorStatus, Instant) {
        let start = Instant::now();
        let status = ProjectorStatus {
            last_progress: Some(start),
            backlog,
            ..ProjectorStatus::default()
        };
        (status, start + progress_ago)
    }

    #[test]
    fn ready_when_progressing_or_caught_up() {
        let stall = Duration::from_secs(30);
        let (status, now) = attached(Some(100), Duration::from_secs(5));
        assert_eq!(readiness(&status, now, stall), Ok(()));
        let (status, now) = attached(Some(0), Duration::from_secs(3_600));
        assert_eq!(readiness(&status, now, stall), Ok(()));
        let (status, now) = attached(None, Duration::from_secs(3_600));
        assert_eq!(readiness(&status, now, stall), Ok(()));
    }

    #[test]
    fn not_ready_when_stuck_failing_or_unattached() {
        let stall = Duration::from_secs(30);
        let (status, now) = attached(Some(100), Duration::from_secs(31));
        assert!(readiness(&status, now, stall)
            .unwrap_err()
            .contains("100 events wait"));
        let (mut status, now) = attached(Some(0), Duration::ZERO);
        status.consecutive_failures = 2;
        status.last_error = Some("connection refused".to_owned());
        assert!(readiness(&status, now, stall)
            .unwrap_err()
            .contains("connection refused"));
        assert!(readiness(&ProjectorStatus::default(), now, stall).is_err());
    }

    #[tokio::test]
    async fn the_probes_answer_from_the_status() {
        use axum::body::Body;
        use axum::http::Request;
        use http_body_util::BodyExt;
        use tower::ServiceExt;

        let status = StatusHandle::default();
        let active = Arc::new(AtomicBool::new(false));
        let get = |path: &'static str| {
            router(status.clone(), active.clone(), Duration::from_secs(30))
                .oneshot(Request::get(path).body(Body::empty()).expect("a request"))
        };
        assert_eq!(get("/healthz").await.unwrap().status(), StatusCode::OK);
        let body = |response: axum::response::Response| async move {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            response.into_body().collect().await.unwrap().to_bytes()
        };
        let standing_by = body(get("/readyz").await.unwrap()).await;
        assert_eq!(
            &standing_by[..],
            b"standing by: another process holds the view's lease"
        );
        active.store(true, Ordering::SeqCst);
        let attaching = body(get("/readyz").await.unwrap()).await;
        assert_eq!(&attaching[..], b"not attached to its view yet");
        let metrics = get("/metrics").await.unwrap();
        assert_eq!(metrics.status(), StatusCode::OK);
    }

    #[test]
    fn lag_is_the_age_of_the_last_event_only_while_events_wait() {
        let now = chrono::Utc::now();
        let mut status = ProjectorStatus {
            last_event_at: Some(now - chrono::Duration::seconds(90)),
            backlog: Some(12),
            ..ProjectorStatus::default()
        };
        assert!((lag_seconds(&status, now) - 90.0).abs() < 1e-6);
        status.backlog = Some(0);
        assert!(lag_seconds(&status, now).abs() < f64::EPSILON);
    }
}

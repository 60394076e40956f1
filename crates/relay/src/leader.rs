//! The replica's life: follow until the lease is free, lead (publish) while holding it, and
//! follow again when it is lost.

use crate::health::{Backoff, Health};
use crate::lease::Lease;
use crate::pipeline::Checkpoint;
use crate::publisher::Publisher;
use crate::{metrics as names, stream_config, RelayConfig, RelayError, Stop};
use async_nats::jetstream::{self, Context};
use async_nats::ServerAddr;
use event_store::{EventLog, EventStore};
use sqlx::postgres::PgConnectOptions;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Follows and leads until `stop`.
pub(crate) async fn relay(config: RelayConfig, mut stop: Stop) -> Result<(), RelayError> {
    let postgres: PgConnectOptions = config
        .database_url
        .parse()
        .map_err(RelayError::DatabaseUrl)?;
    // The tail's connections; the lease has its own.
    let pool = event_store::pool_options()
        .max_connections(2)
        .connect_lazy_with(postgres.clone());
    let store = EventStore::from_pool(pool);
    // Woken by other processes' commits (serve's engine, parcelport-api): read at once.
    let servers = nats_servers::parse(&config.nats_url)?;
    let hints = wake_on_hints(&store, servers.clone());
    let result = follow_and_lead(&store, &config, &servers, &mut stop).await;
    hints.abort();
    result
}

/// Wakes `store`'s tail on commit hints, connecting (and reconnecting) in the background: the
/// relay runs without them, on its poll interval, while NATS is away.
fn wake_on_hints(store: &EventStore, servers: Vec<ServerAddr>) -> tokio::task::JoinHandle<()> {
    let store = store.clone();
    tokio::spawn(async move {
        let client = async_nats::ConnectOptions::new()
            .name("parcelport-relay hints")
            .retry_on_initial_connect()
            .connect(servers)
            .await;
        let woken = match client {
            Ok(client) => crate::hints::wake_on_hints(&store, client).await,
            Err(error) => {
                tracing::warn!(%error, "relay: no commit hints; the tail polls");
                return;
            }
        };
        if let Err(error) = woken {
            tracing::warn!(%error, "relay: no commit hints; the tail polls");
        }
    })
}

async fn follow_and_lead(
    store: &EventStore,
    config: &RelayConfig,
    servers: &[ServerAddr],
    stop: &mut Stop,
) -> Result<(), RelayError> {
    let postgres: PgConnectOptions = config
        .database_url
        .parse()
        .map_err(RelayError::DatabaseUrl)?;
    let mut health = Health::new("PostgreSQL");
    let mut following = false;
    tracing::info!(name = %config.name, instance = %config.instance, "relay: starting");
    while !stop.is_stopped() {
        let attempt = Lease::try_acquire(&postgres, &config.name, &config.instance);
        let acquired = tokio::select! {
            acquired = tokio::time::timeout(config.lease_timeout, attempt) => acquired,
            () = stop.stopped() => break,
        };
        match acquired {
            Ok(Ok(Some(lease))) => {
                health.ok();
                following = false;
                lead(lease, store, config, servers, stop).await?;
            }
            Ok(Ok(None)) => {
                health.ok();
                if !following {
                    tracing::info!(instance = %config.instance, "relay: following; another replica holds the lease");
                    following = true;
                }
            }
            Ok(Err(error)) => health.failed(&error),
            Err(_) => health.failed(&"no answer within the lease timeout"),
        }
        tokio::select! {
            () = tokio::time::sleep(config.lease_retry) => {}
            () = stop.stopped() => break,
        }
    }
    tracing::info!(instance = %config.instance, "relay: stopped");
    Ok(())
}

/// One leadership term: publish from the saved checkpoint until `stop` (then save the last
/// checkpoint and release the lease) or until the lease is lost (then stop at once).
async fn lead(
    mut lease: Lease,
    store: &EventStore,
    config: &RelayConfig,
    servers: &[ServerAddr],
    stop: &mut Stop,
) -> Result<(), RelayError> {
    let start = match tokio::time::timeout(config.lease_timeout, lease.checkpoint()).await {
        Ok(Ok(start)) => start,
        Ok(Err(error)) => {
            tracing::warn!(%error, "relay: could not read the checkpoint; giving the lease up");
            return Ok(());
        }
        Err(_) => {
            tracing::warn!("relay: the checkpoint read timed out; giving the lease up");
            return Ok(());
        }
    };
    tracing::info!(
        instance = %config.instance,
        txid = start.cursor.txid,
        position = start.cursor.position,
        stream_sequence = start.stream_sequence,
        "relay: leading (resuming after the stream's last event, or after this checkpoint if it holds none)"
    );
    metrics::gauge!(names::LEADER).set(1.0);
    // A client per term: publishes a lost term left buffered die with it.
    let client = async_nats::ConnectOptions::new()
        .name(format!(
            "parcelport-relay {} {}",
            config.name, config.instance
        ))
        .retry_on_initial_connect()
        // Once per state change; async-nats itself logs every reconnect attempt.
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Disconnected => {
                    tracing::warn!("relay: NATS connection lost; reconnecting");
                }
                async_nats::Event::Connected => tracing::info!("relay: NATS connected"),
                _ => {}
            }
        })
        .connect(servers.to_vec())
        .await
        .map_err(RelayError::NatsUrl)?;
    let jetstream = Arc::new(
        jetstream::ContextBuilder::new()
            .timeout(config.publish_timeout)
            .build(client),
    );
    let (checkpoint, saved) = watch::channel(start);
    let lag = pin!(report_lag(store, saved.clone()));
    let publishing = pin!(async {
        // A leader that lost the lease stops at its next lease check, within the interval and
        // the timeout; wait that long so that two replicas never publish at once.
        tokio::select! {
            () = tokio::time::sleep(config.checkpoint_interval + config.lease_timeout) => {}
            () = stop.stopped() => return Ok(()),
        }
        if !ensure_stream(&jetstream, config, stop).await {
            return Ok(());
        }
        let publisher = Publisher {
            jetstream: jetstream.clone(),
            store,
            config,
            checkpoint,
            instance: config.instance.as_str().into(),
        };
        publisher.run(stop).await
    });
    let outcome = {
        let mut keeping = pin!(lease.keep(saved, config.checkpoint_interval, config.lease_timeout));
        tokio::select! {
            lost = &mut keeping => Err(lost.err()),
            published = publishing => {
                published?;
                // The publisher is gone: the keeper saves the last checkpoint and returns.
                Ok(keeping.await)
            }
            () = lag => unreachable!("lag reporting never ends"),
        }
    };
    metrics::gauge!(names::LEADER).set(0.0);
    match outcome {
        Ok(Ok(())) => {
            lease.release().await;
            tracing::info!(instance = %config.instance, "relay: checkpoint saved, lease released");
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "relay: the lease failed while saving the last checkpoint");
        }
        Err(error) => {
            let error = error.map_or_else(|| "ended".to_owned(), |error| error.to_string());
            tracing::warn!(%error, instance = %config.instance, "relay: lost the lease; stopped publishing");
        }
    }
    Ok(())
}

/// Creates or updates the stream, retrying while NATS is unavailable. `false` when stopped.
async fn ensure_stream(jetstream: &Context, config: &RelayConfig, stop: &mut Stop) -> bool {
    let mut health = Health::new("NATS JetStream");
    let mut backoff = Backoff::new(Duration::from_millis(100), config.max_backoff);
    let stream = stream_config(&config.stream, config.replicas, config.duplicate_window);
    loop {
        match jetstream.create_or_update_stream(stream.clone()).await {
            Ok(_) => {
                health.ok();
                return true;
            }
            Err(error) => health.failed(&error),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff.next()) => {}
            () = stop.stopped() => return false,
        }
    }
}

/// Sets the lag gauge every second: committed events after the checkpoint.
async fn report_lag(store: &EventStore, checkpoint: watch::Receiver<Checkpoint>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let cursor = checkpoint.borrow().cursor;
        let lag = store.backlog(cursor).await.map(|backlog| backlog.events);
        if let Ok(lag) = lag {
            metrics::gauge!(names::LAG_EVENTS).set(lag as f64);
        }
    }
}

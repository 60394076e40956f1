//! The write side under test: the command API (`services/api`) in-process on 127.0.0.1:0 over
//! a `PgEngine`, and the HTTP/1 client that drives it at a steady rate with parcel arrivals
//! (`POST /v1/parcels`). A command counts as accepted when its `201 Created` has arrived.

use crate::stats::Summary;
use crate::tracker::{EventKey, Tracker};
use anyhow::{bail, Context};
use bytes::Bytes;
use domain::{Policy, Services};
use engine::{EngineConfig, PgEngine};
use event_store::EventStore;
use http_body_util::{BodyExt, Full};
use hyper::{header, Request, StatusCode};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use web::auth::{Caller, Role, TokenBook};

const STAFF: &str = "lag-bench-staff-secret";
const OPS: &str = "lag-bench-ops-secret";

/// The API running in this process.
pub struct Api {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Api {
    /// Migrates `store`'s database for the engine and serves the API over it.
    pub async fn start(store: &EventStore) -> anyhow::Result<Api> {
        let engine = PgEngine::postgres(
            store,
            Services::new(Policy::jp_forwarding()),
            EngineConfig::new("TYO")?,
        );
        engine.migrate().await?;
        let tokens = TokenBook::default()
            .with(STAFF, operator("lag-dock", Role::WarehouseStaff))
            .with(OPS, operator("lag-ops", Role::Ops));
        let state = api::AppState::new(Arc::new(engine), tokens, store.pool().clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(api::serve(state, listener, async {
            let _ = stopped.await;
        }));
        Ok(Api {
            address,
            stop,
            server,
        })
    }

    /// Registers the member whose suite code the arrivals carry; returns the code.
    pub async fn register(&self) -> anyhow::Result<String> {
        let mut client = Client::connect(self.address).await?;
        let body = json!({
            "name": "Lag Bench", "birth_date": "1990-01-01",
            "email": "lag@example.com", "forwarding_only_accepted": true
        });
        let (status, reply) = client.post("/v1/members", OPS, body.to_string()).await?;
        if status != StatusCode::CREATED {
            bail!("registration answered {status}: {reply}");
        }
        reply["result"]["suite_code"]
            .as_str()
            .map(str::to_owned)
            .context("the registration named no suite code")
    }

    /// Finishes the requests under way and stops.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await??;
        Ok(())
    }

    /// Sends one arrival for `suite_code` every `1 / rate` seconds for `duration`, each as a
    /// task of its own (open loop: a slow answer does not delay the next command), on pooled
    /// keep-alive connections. Records every accepted command in `tracker`.
    pub async fn drive(
        &self,
        suite_code: &str,
        rate: f64,
        duration: Duration,
        tracker: &Tracker,
    ) -> anyhow::Result<Driven> {
        let body = json!({
            "label": suite_code,
            "weight": 1200,
            "dimensions": { "length_mm": 300, "width_mm": 200, "height_mm": 100 },
            "shop": "lag-shop"
        })
        .to_string();
        let idle: Arc<Mutex<Vec<Client>>> = Arc::default();
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        let started = Instant::now();
        let mut tasks = Vec::new();
        while started.elapsed() < duration {
            tick.tick().await;
            let (idle, body, tracker, address) = (
                Arc::clone(&idle),
                body.clone(),
                tracker.clone(),
                self.address,
            );
            tasks.push(tokio::spawn(async move {
                let pooled = idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let mut client = match pooled {
                    Some(client) => client,
                    None => Client::connect(address).await?,
                };
                let sent = Instant::now();
                let (status, reply) = client.post("/v1/parcels", STAFF, body).await?;
                let accepted = Instant::now();
                if status != StatusCode::CREATED {
                    bail!("an arrival answered {status}: {reply}");
                }
                tracker.accepted(sent, accepted, appended(&reply)?);
                idle.lock().unwrap_or_else(|e| e.into_inner()).push(client);
                anyhow::Ok(accepted - sent)
            }));
        }
        let sent = tasks.len();
        let mut latencies = Vec::with_capacity(sent);
        for task in tasks {
            latencies.push(task.await??);
        }
        let elapsed = started.elapsed();
        Ok(Driven {
            sent,
            elapsed,
            latency: Summary::of(&mut latencies),
        })
    }
}

/// What a [`Api::drive`] did.
#[derive(Debug, Clone, Copy)]
pub struct Driven {
    /// Commands sent (every one accepted, or the drive failed).
    pub sent: usize,
    /// From the first send to the last answer.
    pub elapsed: Duration,
    /// Request to `201`.
    pub latency: Summary,
}

/// The events a command's answer says it appended.
fn appended(reply: &Value) -> anyhow::Result<Vec<EventKey>> {
    let events = reply["events"]
        .as_array()
        .context("an answer without `events`")?;
    events
        .iter()
        .map(|event| {
            let id = event["aggregate_id"]
                .as_str()
                .context("an event without id")?;
            let sequence = event["sequence"]
                .as_i64()
                .context("an event without sequence")?;
            Ok((id.to_owned(), sequence))
        })
        .collect()
}

fn operator(name: &str, role: Role) -> Caller {
    Caller {
        name: name.to_owned(),
        role,
        member_id: None,
    }
}

/// One HTTP/1 keep-alive connection.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    address: SocketAddr,
}

impl Client {
    async fn connect(address: SocketAddr) -> anyhow::Result<Client> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Client { sender, address })
    }

    async fn post(
        &mut self,
        path: &str,
        token: &str,
        body: String,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.sender.ready().await?;
        let request = Request::post(path)
            .header(header::HOST, self.address.to_string())
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .body(Full::new(Bytes::from(body)))?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let reply = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_names_its_events_by_aggregate_and_sequence() {
        let reply = json!({ "id": "p-1", "events": [
            { "type": "parcel.arrived", "aggregate_id": "p-1", "sequence": 1 }
        ], "result": {} });
        assert_eq!(appended(&reply).unwrap(), vec![("p-1".to_owned(), 1)]);
        assert!(appended(&json!({ "result": {} })).is_err());
    }
}

//! `api-bench`: commands per second through the command API against a plain single-row
//! INSERT loop on the same PostgreSQL, at the same client concurrency, in one run.
//!
//! It creates a fresh database, registers one member, and for each concurrency level starts
//! the API in-process on 127.0.0.1:0 (its pool as large as the level) and drives it with that
//! many HTTP/1 clients, each on its own keep-alive connection, each request a parcel arrival
//! (`POST /v1/parcels`, the warehouse's most frequent command: a suite-code lookup, the
//! member's standing, one appended event, the member's parcel index, an idempotency key)
//! under a fresh `Idempotency-Key`. Then the same number of clients, each on its own
//! connection, INSERT one row at a time (autocommit) into a table shaped like `events`.
//!
//! Each level runs the API twice, side by side: plain, and as `parcelport serve` runs it, with
//! every event signed by the writer key and members' personal data sealed with their keys
//! (issue #10), so the cost of that protection is a ratio measured in the same run.
//!
//! Besides throughput and latency it reports what one command costs: the database
//! transactions it runs (reads included, from `pg_stat_database`) and this process's CPU time
//! (the API and its HTTP clients share the process), per command.
//!
//! ```sh
//! cargo run -p api --bin api-bench -- --requests 2000 --clients 1,16,64
//! ```

use anyhow::{bail, Context};
use axum::body::Bytes;
use axum::http::{header, Request, StatusCode};
use clap::Parser;
use domain::{Policy, Services};
use engine::{EngineConfig, PgEngine};
use event_store::EventStore;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use web::auth::{Caller, Role, TokenBook};

/// Measures the command API against a plain INSERT loop.
#[derive(Debug, Parser)]
#[command(about)]
struct Flags {
    /// The PostgreSQL server, without a database name.
    #[arg(
        long,
        env = "PARCELPORT_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    server: String,
    /// Measured requests (and inserts) per concurrency level.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Unmeasured requests first, per level.
    #[arg(long, default_value_t = 100)]
    warmup: usize,
    /// Concurrency levels.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Keep the database afterwards.
    #[arg(long)]
    keep: bool,
}

const STAFF: &str = "bench-staff-secret";
const OPS: &str = "bench-ops-secret";

/// Throughput and latency of one measured phase.
struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Where an API command's time goes: database transactions (reads included) and this
/// process's CPU (the API and its clients), per command.
struct Costs {
    transactions: f64,
    cpu_ms: f64,
    /// The plain INSERT loop at the same level, beside the unprotected run.
    inserts: Option<Figures>,
}

/// Transactions committed in the database so far (every backend's, once it has reported).
async fn transactions(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await?)
}

/// This process's CPU time so far (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name in parentheses: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    if flags.clients.is_empty() || flags.clients.iter().any(|&c| c == 0 || c > 64) {
        bail!("--clients takes levels from 1 to 64");
    }
    let name = format!("pp_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&format!("{}/postgres", flags.server))
        .await
        .context("connect to the server's postgres database")?;
    sqlx::query(&format!(r#"CREATE DATABASE "{name}" TEMPLATE template0"#))
        .execute(&mut admin)
        .await?;
    let url = format!("{}/{name}", flags.server);
    let result = bench(&flags, &url).await;
    if !flags.keep {
        sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
            .execute(&mut admin)
            .await?;
    }
    result
}

async fn bench(flags: &Flags, url: &str) -> anyhow::Result<()> {
    let setup = EventStore::connect(url, 2).await?;
    sqlx::query(TABLE)
        .execute(setup.pool())
        .await
        .context("create the INSERT table")?;
    let tokens = TokenBook::default()
        .with(STAFF, operator("bench-dock", Role::WarehouseStaff))
        .with(OPS, operator("bench-ops", Role::Ops));

    let mut rows = Vec::new();
    let mut protected_rows = Vec::new();
    let mut suite_code = None;
    for &clients in &flags.clients {
        for protection in [Protection::None, Protection::SignedAndSealed] {
            let (api, costs) = drive_level(
                flags,
                url,
                &setup,
                &tokens,
                clients,
                protection,
                &mut suite_code,
            )
            .await?;
            match protection {
                Protection::None => rows.push((clients, api, costs)),
                Protection::SignedAndSealed => protected_rows.push((api, costs)),
            }
        }
        let inserts = drive_inserts(url, clients, flags.requests).await?;
        eprintln!(
            "{clients:>3} clients: API {:.0}/s (signed and sealed {:.0}/s), INSERT {:.0}/s",
            rows[rows.len() - 1].1.per_second,
            protected_rows[protected_rows.len() - 1].0.per_second,
            inserts.per_second
        );
        let last = rows.len() - 1;
        rows[last].2.inserts = Some(inserts);
    }
    setup.pool().close().await;
    print_tables(flags, rows, protected_rows);
    Ok(())
}

/// What the engine does besides deciding and appending (issue #10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protection {
    /// Nothing: events stored as decided.
    None,
    /// As `parcelport serve` runs: every event signed with the writer key, members' personal
    /// data sealed with their keys (and opened whenever a member is loaded).
    SignedAndSealed,
}

/// One level's API run with `protection`.
async fn drive_level(
    flags: &Flags,
    url: &str,
    setup: &EventStore,
    tokens: &TokenBook,
    clients: usize,
    protection: Protection,
    suite_code: &mut Option<String>,
) -> anyhow::Result<(Figures, Costs)> {
    {
        let store = EventStore::connect(url, u32::try_from(clients)?).await?;
        let mut config = EngineConfig::new("TYO")?;
        if protection == Protection::SignedAndSealed {
            let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
            let keys = personal_data::KeyStore::postgres(store.pool().clone()).await?;
            config = config
                .signing_with(Arc::new(event_store::authorship::EventSigner::new(key)))
                .protecting_personal_data(Arc::new(personal_data::PersonalData::new(keys)));
        }
        let engine = PgEngine::postgres(&store, Services::new(Policy::jp_forwarding()), config);
        engine.migrate().await?;
        let state = api::AppState::new(Arc::new(engine), tokens.clone(), store.pool().clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(api::serve(state, listener, async {
            let _ = stopped.await;
        }));
        let code = match suite_code {
            Some(code) => String::clone(code),
            None => {
                let code = register(address).await?;
                *suite_code = Some(code.clone());
                code
            }
        };
        let body = Bytes::from(
            json!({
                "label": code,
                "weight": 1200,
                "dimensions": { "length_mm": 300, "width_mm": 200, "height_mm": 100 },
                "shop": "bench-shop"
            })
            .to_string(),
        );
        drive_api(address, clients, flags.warmup, &body).await?;
        let (before, cpu) = (transactions(setup.pool()).await?, cpu_time());
        let api = drive_api(address, clients, flags.requests, &body).await?;
        let cpu = cpu_time().saturating_sub(cpu);
        let _ = stop.send(());
        server.await??;
        store.pool().close().await;
        // Closed backends have reported their counts.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let costs = Costs {
            transactions: (transactions(setup.pool()).await? - before - 1) as f64
                / flags.requests as f64,
            cpu_ms: millis(cpu) / flags.requests as f64,
            inserts: None,
        };
        Ok((api, costs))
    }
}

fn print_tables(
    flags: &Flags,
    rows: Vec<(usize, Figures, Costs)>,
    protected: Vec<(Figures, Costs)>,
) {
    println!(
        "\n{} requests per level ({} warm-up), each client on its own connection; API pool = clients",
        flags.requests, flags.warmup
    );
    println!("| clients | API commands/s | p50 ms | p99 ms | DB tx/command | CPU ms/command | INSERTs/s | p50 ms | p99 ms | API / INSERT |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (clients, api, costs) in &rows {
        let Some(inserts) = &costs.inserts else {
            continue;
        };
        println!(
            "| {clients} | {:.0} | {:.2} | {:.2} | {:.1} | {:.1} | {:.0} | {:.2} | {:.2} | {:.2} |",
            api.per_second,
            millis(api.p50),
            millis(api.p99),
            costs.transactions,
            costs.cpu_ms,
            inserts.per_second,
            millis(inserts.p50),
            millis(inserts.p99),
            api.per_second / inserts.per_second
        );
    }
    println!(
        "\nThe cost of trust (issue #10): the same commands with every event signed (Ed25519) and \
         members' personal data sealed (AES-256-GCM; each member load opens it), against none"
    );
    println!("| clients | plain commands/s | p99 ms | CPU ms/command | signed+sealed commands/s | p99 ms | CPU ms/command | DB tx/command | signed+sealed / plain |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for ((clients, plain, plain_costs), (sealed, sealed_costs)) in rows.iter().zip(&protected) {
        println!(
            "| {clients} | {:.0} | {:.2} | {:.1} | {:.0} | {:.2} | {:.1} | {:.1} | {:.2} |",
            plain.per_second,
            millis(plain.p99),
            plain_costs.cpu_ms,
            sealed.per_second,
            millis(sealed.p99),
            sealed_costs.cpu_ms,
            sealed_costs.transactions,
            sealed.per_second / plain.per_second
        );
    }
}

/// A table shaped like the event store's `events`, without its indexes beyond the key.
const TABLE: &str = "CREATE TABLE bench_inserts (
    position bigserial PRIMARY KEY,
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    sequence bigint NOT NULL,
    payload jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
)";

fn operator(name: &str, role: Role) -> Caller {
    Caller {
        name: name.to_owned(),
        role,
        member_id: None,
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

/// One HTTP/1 connection.
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
        body: Bytes,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        self.sender.ready().await?;
        let request = Request::post(path)
            .header(header::HOST, self.address.to_string())
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .body(Full::new(body))?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }
}

/// Registers the member whose suite code every arrival carries.
async fn register(address: SocketAddr) -> anyhow::Result<String> {
    let mut client = Client::connect(address).await?;
    let body = json!({
        "name": "Bench Member", "birth_date": "1990-01-01",
        "email": "bench@example.com", "forwarding_only_accepted": true
    });
    let (status, bytes) = client
        .post("/v1/members", OPS, Bytes::from(body.to_string()))
        .await?;
    let reply: Value = serde_json::from_slice(&bytes)?;
    if status != StatusCode::CREATED {
        bail!("registration answered {status}: {reply}");
    }
    reply["result"]["suite_code"]
        .as_str()
        .map(str::to_owned)
        .context("no suite code")
}

/// `requests` arrivals from `clients` concurrent clients.
async fn drive_api(
    address: SocketAddr,
    clients: usize,
    requests: usize,
    body: &Bytes,
) -> anyhow::Result<Figures> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (next, body) = (Arc::clone(&next), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(address).await?;
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let sent = Instant::now();
                let (status, bytes) = client.post("/v1/parcels", STAFF, body.clone()).await?;
                if status != StatusCode::CREATED {
                    bail!(
                        "an arrival answered {status}: {}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    figures(started, tasks).await
}

/// `requests` single-row INSERTs from `clients` concurrent connections.
async fn drive_inserts(url: &str, clients: usize, requests: usize) -> anyhow::Result<Figures> {
    let payload = json!({ "arrived": {
        "parcel_id": "01a1fcc7-839a-710b-882d-f764af749bb2", "suite_code": "TYO-000001",
        "member_id": "01a1fcc7-839a-710b-882d-f764af749bb3", "weight": 1200,
        "dimensions": { "length_mm": 300, "width_mm": 200, "height_mm": 100 },
        "received_on": "2026-12-01", "shop": "bench-shop", "policy": "jp-forwarding@2026.11"
    }});
    let metadata = json!({ "actor": "bench-dock", "command": "arrive", "correlation_id": "bench" });
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(PgConnection::connect(url).await?);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for mut connection in connections {
        let (next, payload, metadata) = (Arc::clone(&next), payload.clone(), metadata.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let sent = Instant::now();
                sqlx::query(
                    "INSERT INTO bench_inserts (aggregate_type, aggregate_id, sequence, payload, metadata)
                     VALUES ('parcel', $1, 1, $2, $3)",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(&payload)
                .bind(&metadata)
                .execute(&mut connection)
                .await?;
                latencies.push(sent.elapsed());
            }
            connection.close().await?;
            anyhow::Ok(latencies)
        }));
    }
    figures(started, tasks).await
}

async fn figures(
    started: Instant,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<Vec<Duration>>>>,
) -> anyhow::Result<Figures> {
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64) * q).ceil() as usize;
        latencies
            .get(
                index
                    .saturating_sub(1)
                    .min(latencies.len().saturating_sub(1)),
            )
            .copied()
            .unwrap_or_default()
    };
    Ok(Figures {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    })
}

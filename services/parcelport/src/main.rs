//! `parcelport`: the all-in-one command. Parses the subcommand, sets up logs and metrics, and
//! calls the library: `serve` runs until Ctrl-C or SIGTERM; `token` helps write token files.

mod audit_cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use parcelport::tokens::{self, IssuedToken};
use parcelport::{ServeConfig, Server, StoreChoice};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

/// parcelport: an event-sourced parcel lifecycle engine.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the command API and the projectors (and, on PostgreSQL with --nats-url, the relay)
    /// in one process. Embedded on SQLite in --data-dir unless --database-url is given.
    Serve(Box<Serve>),
    /// Loads a realistic scenario (members, dozens of parcels through every state) through a
    /// running API. Idempotent: the same seed against the same server appends nothing new.
    Demo(Demo),
    /// Rebuilds a view from the event store into a fresh instance, with a progress bar, and
    /// switches to it when caught up; the old instance serves until then. Embedded (the store
    /// and views files in --data-dir) unless --database-url is given.
    Rebuild(Rebuild),
    /// Token file helpers.
    #[command(subcommand)]
    Token(Token),
    /// Member administration through a running API.
    #[command(subcommand)]
    Member(Member),
    /// Auditor tools: verify the hash chains and checkpoints, record a (signed) checkpoint,
    /// an aggregate's history as of a moment, verifiable exports.
    #[command(subcommand)]
    Audit(audit_cli::Audit),
}

#[derive(Debug, Subcommand)]
enum Member {
    /// Erases a closed member's personal data once the policy's retention period has passed:
    /// deletes the member's key, so their name, birth date, e-mail and payer names can no
    /// longer be read in the store, on JetStream, in views or exports. Every event stays and
    /// `audit verify` still passes.
    Erase {
        /// The member.
        member_id: String,
        /// The API, as printed by `parcelport serve`.
        #[arg(long, env = "PARCELPORT_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An ops or admin token's secret.
        #[arg(long, env = "PARCELPORT_TOKEN")]
        token: String,
    },
}

#[derive(Debug, clap::Args)]
struct Rebuild {
    /// The view: storage_status, billing, audit, schedule or notices.
    #[arg(long)]
    view: String,
    /// The PostgreSQL database holding the events and the views.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// The embedded data directory (without --database-url).
    #[arg(long, env = "PARCELPORT_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct Demo {
    /// The API to load, as printed by `parcelport serve`.
    #[arg(long, env = "PARCELPORT_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An admin token's secret (printed by the first `parcelport serve`).
    #[arg(long, env = "PARCELPORT_TOKEN")]
    token: String,
    /// The scenario's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Play this many more days after the first, on a server started with --simulated-clock:
    /// the clock is advanced a day at a time and the scheduler does each day's work.
    #[arg(long, default_value_t = 0)]
    days: u32,
}

#[derive(Debug, clap::Args)]
struct Serve {
    /// The data directory: the embedded store, its views and the generated token file.
    #[arg(long, env = "PARCELPORT_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "PARCELPORT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// The token file; by default <data-dir>/tokens.toml, created on first start.
    #[arg(long, env = "PARCELPORT_TOKENS")]
    tokens: Option<PathBuf>,
    /// Run on PostgreSQL (events and views) instead of the embedded store.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Also run the outbox relay to this NATS server, or a cluster's servers comma-separated
    /// (needs --database-url).
    #[arg(long, env = "NATS_URL", requires = "database_url")]
    nats_url: Option<String>,
    /// A policy TOML file, or a shipped profile: jp-forwarding, cn-agency.
    #[arg(long, env = "PARCELPORT_POLICY", default_value = "jp-forwarding")]
    policy: String,
    /// The warehouse's suite code prefix, 2 to 4 capital letters.
    #[arg(long, env = "PARCELPORT_SUITE_PREFIX", default_value = "TYO")]
    suite_prefix: String,
    /// PostgreSQL connections.
    #[arg(long, env = "PARCELPORT_DB_CONNECTIONS", default_value_t = 16)]
    max_connections: u32,
    /// Run on a simulated clock from this moment (an RFC 3339 instant, or a date: 09:00 in
    /// the warehouse's time zone) instead of the system's: it stands still until an admin
    /// advances it with `POST /v1/clock/advance`, the scheduler doing each day's work.
    #[arg(long, env = "PARCELPORT_SIMULATED_CLOCK", value_parser = parse_start)]
    simulated_clock: Option<Start>,
    /// The writer key (Ed25519 seed, 64 hex digits) that signs every checkpoint; created as
    /// <data-dir>/writer.key on first start when not given. Keep it outside the event store.
    #[arg(long, env = "PARCELPORT_SIGN_KEY")]
    sign_key: Option<PathBuf>,
    /// The append-only file checkpoints are anchored to; <data-dir>/anchors.jsonl by default.
    #[arg(long, env = "PARCELPORT_ANCHORS")]
    anchors: Option<PathBuf>,
    /// With --nats-url, the JetStream stream every checkpoint is anchored to as well (created
    /// with deletes and purges denied); verify with `--anchors nats://<server>/<stream>`
    /// (`nats://<server>,<server>/<stream>` for a cluster).
    #[arg(long, env = "PARCELPORT_ANCHOR_STREAM", default_value = audit::jetstream_anchor::DEFAULT_STREAM)]
    anchor_stream: String,
    /// Record and anchor a checkpoint once this many events wait...
    #[arg(long, env = "PARCELPORT_CHECKPOINT_EVENTS", default_value_t = 1_000)]
    checkpoint_every_events: u64,
    /// ...or once the oldest has waited this many seconds.
    #[arg(long, env = "PARCELPORT_CHECKPOINT_SECONDS", default_value_t = 60)]
    checkpoint_every_seconds: u64,
    #[command(flatten)]
    notices: notifier::NotifierFlags,
    /// How often the scheduler looks for work that fell due, in seconds.
    #[arg(long, env = "PARCELPORT_SCHEDULE_EVERY", default_value_t = 30)]
    schedule_every: u64,
}

/// Where a simulated clock starts.
#[derive(Debug, Clone, Copy)]
enum Start {
    At(chrono::DateTime<chrono::Utc>),
    Day(chrono::NaiveDate),
}

fn parse_start(value: &str) -> Result<Start, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(Start::At(at.to_utc()));
    }
    value
        .parse()
        .map(Start::Day)
        .map_err(|_| "expected a date (2026-04-01) or an RFC 3339 instant".to_owned())
}

#[derive(Debug, Subcommand)]
enum Token {
    /// Reads a secret from stdin and prints its SHA-256 (hex) for the token file.
    Hash,
    /// Makes a token: prints its secret and its token-file entry.
    New {
        /// admin, warehouse_staff, finance, ops, auditor or member.
        #[arg(long, value_parser = parse_role)]
        role: web::auth::Role,
        /// The member a member token acts for.
        #[arg(long)]
        member_id: Option<String>,
        /// The token's name, recorded as the actor of its commands.
        #[arg(long)]
        name: String,
    },
}

fn parse_role(name: &str) -> Result<web::auth::Role, String> {
    tokens::parse_role(name).ok_or_else(|| {
        "expected admin, warehouse_staff, finance, ops, auditor or member".to_owned()
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(flags) => serve(*flags).await,
        Command::Rebuild(flags) => rebuild(flags).await,
        Command::Audit(command) => audit_cli::run(command).await,
        Command::Member(Member::Erase {
            member_id,
            url,
            token,
        }) => erase_member(&url, &token, &member_id).await,
        Command::Demo(flags) => {
            let options = demo::DemoOptions {
                days: flags.days,
                ..demo::DemoOptions::new(flags.url, flags.token, flags.seed)
            };
            let report = demo::run(options, demo::Bar::new())
                .await
                .context("the demo stopped")?;
            println!(
                "demo loaded: {} requests, {} commands; members {:?}; parcels {:?}; shipments {:?}",
                report.requests, report.commands, report.members, report.parcels, report.shipments
            );
            Ok(())
        }
        Command::Token(Token::Hash) => {
            let mut secret = String::new();
            std::io::stdin()
                .read_to_string(&mut secret)
                .context("cannot read the secret from stdin")?;
            let secret = secret.trim_end_matches(['\n', '\r']);
            anyhow::ensure!(!secret.is_empty(), "no secret on stdin");
            println!("{}", web::auth::hash_token(secret));
            Ok(())
        }
        Command::Token(Token::New {
            role,
            member_id,
            name,
        }) => {
            let token = IssuedToken::new(&name, role, member_id);
            println!("secret: {}\n\n{}", token.secret, token.toml_entry());
            Ok(())
        }
    }
}

async fn rebuild(flags: Rebuild) -> anyhow::Result<()> {
    use projection_runtime::RebuildReport;
    telemetry::init_logs("parcelport", telemetry::LogFormat::Pretty);
    let report: RebuildReport = match &flags.database_url {
        Some(database_url) => {
            let store = event_store::EventStore::connect(database_url, 4)
                .await
                .context("cannot connect to the event store")?;
            let views = projections::ViewDb::from(store.pool());
            rebuild_view(&flags.view, &views, &store).await?
        }
        None => {
            let store = event_store::sqlite::SqliteEventStore::open(&flags.data_dir)
                .await
                .context("cannot open the embedded store")?;
            let path = flags.data_dir.join(parcelport::serve::VIEWS_FILE);
            let views = projections::ViewDb::open_sqlite(&path)
                .await
                .with_context(|| format!("cannot open the views file {}", path.display()))?;
            let report = rebuild_view(&flags.view, &views, &store).await;
            views.close().await;
            store.close().await;
            report?
        }
    };
    println!(
        "rebuilt {} into {}: {} events in {:.1} s ({:.0} events/s){}",
        flags.view,
        report.schema,
        report.outcome.applied,
        report.elapsed.as_secs_f64(),
        report.events_per_second(),
        report
            .replaced
            .map(|old| format!("; replaced {old}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// Rebuilds view `view` from `store` into `views`.
async fn rebuild_view<L: projection_runtime::RebuildSource>(
    view: &str,
    views: &projections::ViewDb,
    store: &L,
) -> anyhow::Result<projection_runtime::RebuildReport> {
    use projection_runtime::{rebuild, RebuildOptions};
    let options = RebuildOptions::default();
    match view {
        "storage_status" => {
            rebuild(
                views,
                store,
                projections::storage_status::StorageStatus,
                options,
            )
            .await
        }
        "billing" => rebuild(views, store, projections::billing::Billing, options).await,
        "audit" => rebuild(views, store, projections::audit::Audit, options).await,
        "schedule" => rebuild(views, store, projections::schedule::Schedule, options).await,
        "notices" => rebuild(views, store, projections::notices::Notices, options).await,
        other => anyhow::bail!(
            "unknown view {other:?}: storage_status, billing, audit, schedule or notices"
        ),
    }
    .context("the rebuild failed; the old instance still serves")
}

async fn serve(flags: Serve) -> anyhow::Result<()> {
    let format = if std::io::stderr().is_terminal() {
        telemetry::LogFormat::Pretty
    } else {
        telemetry::LogFormat::Json
    };
    telemetry::init_logs("parcelport", format);
    telemetry::metrics_recorder();
    let store = match flags.database_url {
        Some(database_url) => StoreChoice::Postgres {
            database_url,
            nats_url: flags.nats_url,
        },
        None => StoreChoice::Embedded,
    };
    let policy = api::PolicySource::parse(&flags.policy);
    let clock = match flags.simulated_clock {
        None => None,
        Some(Start::At(at)) => Some(engine::TestClock::at(at)),
        Some(Start::Day(day)) => {
            let offset = policy
                .load()
                .context("cannot read the policy")?
                .utc_offset_minutes;
            let morning = day.and_hms_opt(9, 0, 0).context("09:00")?.and_utc()
                - chrono::Duration::minutes(i64::from(offset));
            Some(engine::TestClock::at(morning))
        }
    };
    if let Some(clock) = &clock {
        use engine::Clock;
        println!(
            "simulated clock: {} (advance it with POST /v1/clock/advance)",
            clock.now()
        );
    }
    let config = ServeConfig {
        data_dir: flags.data_dir,
        tokens: flags.tokens,
        store,
        policy,
        suite_prefix: flags.suite_prefix,
        max_connections: flags.max_connections,
        clock,
        scheduler: scheduler::SchedulerOptions {
            interval: std::time::Duration::from_secs(flags.schedule_every.max(1)),
            ..scheduler::SchedulerOptions::default()
        },
        sign_key: flags.sign_key,
        anchors: flags.anchors,
        anchor_stream: flags.anchor_stream,
        checkpoints: parcelport::CheckpointEvery {
            events: flags.checkpoint_every_events.max(1),
            interval: std::time::Duration::from_secs(flags.checkpoint_every_seconds.max(1)),
        },
        notifier: {
            let channels = flags.notices.channels();
            (!channels.is_empty()).then(|| parcelport::NotifierConfig {
                channels,
                options: flags.notices.options(),
            })
        },
    };
    let server = Server::open(config).await.context("cannot start")?;
    let key = server.writer_key();
    if key.created {
        println!(
            "created the writer key {} (it signs every event appended and every checkpoint; keep it safe, outside the \
             event store); its public key, for auditors: {}",
            key.path.display(),
            key.public_key
        );
    }
    let listener = tokio::net::TcpListener::bind(&flags.listen)
        .await
        .with_context(|| format!("cannot listen on {}", flags.listen))?;
    print_first_tokens(server.issued(), &flags.listen);
    println!(
        "ops dashboard: http://{}/dashboard (paste a token)",
        flags.listen
    );
    let stopped = server
        .run(listener, telemetry::shutdown_requested("parcelport"))
        .await;
    telemetry::flush_traces();
    stopped.context("parcelport stopped")
}

/// On first start: the admin and staff secrets, once (only their hashes are stored).
fn print_first_tokens(issued: &[IssuedToken], listen: &str) {
    if issued.is_empty() {
        return;
    }
    println!("parcelport: created the token file; these secrets are shown once, keep them:");
    for token in issued {
        println!("  {:<8} {}", token.name, token.secret);
    }
    println!("send one as `Authorization: Bearer <secret>` to http://{listen}");
    println!("load a demo warehouse: parcelport demo --url http://{listen} --token <admin secret>");
}

/// `parcelport member erase`: the API's `erase-personal-data` under a fresh idempotency key.
async fn erase_member(url: &str, token: &str, member_id: &str) -> anyhow::Result<()> {
    let mut client = demo::Client::new(url, token).context("the API's address")?;
    let key = uuid::Uuid::new_v4().to_string();
    let answer = client
        .send(
            hyper::Method::POST,
            &format!("/v1/members/{member_id}/erase-personal-data"),
            Some(&key),
            Some(&serde_json::json!({})),
        )
        .await
        .context("the API did not answer")?;
    if answer.status >= 300 {
        anyhow::bail!(
            "not erased ({}): {}",
            answer.body["code"].as_str().unwrap_or("error"),
            answer.body["detail"]
                .as_str()
                .unwrap_or(&answer.body.to_string())
        );
    }
    println!(
        "erased: member {member_id}'s key was deleted at {}; their personal data can no longer \
         be read anywhere, and every event stays",
        answer.body["result"]["key_erased_at"]
            .as_str()
            .unwrap_or("?")
    );
    Ok(())
}

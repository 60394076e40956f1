//! `parcelport audit ...`: the auditor's commands over the `audit` crate. `verify` exits
//! non-zero when anything is broken; the rest print what they did.

use anyhow::Context;
use audit::history::{AggregateKind, AsOf};
use audit::source::Selection;
use audit::{checkpoint, export, verify, VerifyReport};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum Audit {
    /// Re-checks every hash chain and checkpoint (of the PostgreSQL store, the embedded store,
    /// or an export file offline) and names the first broken link; exits 1 when anything is.
    Verify {
        /// The PostgreSQL event store.
        #[arg(long, env = "DATABASE_URL", conflicts_with_all = ["data_dir", "export"])]
        database_url: Option<String>,
        /// The embedded store's data directory (chains only: it records no checkpoints).
        #[arg(long, conflicts_with = "export")]
        data_dir: Option<PathBuf>,
        /// An export file (JSON lines), checked without any database.
        #[arg(long)]
        export: Option<PathBuf>,
        /// Checkpoints anchored outside the store: a file (`serve` appends them to
        /// <data-dir>/anchors.jsonl) or a JetStream stream, `nats://<server>[,<server>...]/<stream>` (`serve`
        /// on PostgreSQL with NATS anchors to PARCELPORT_ANCHORS). The store must still hold
        /// what each one covers, and on PostgreSQL still record it.
        #[arg(long, conflicts_with = "export")]
        anchors: Option<String>,
        /// A writer's public key file (64 hex digits, `parcelport audit public-key`; repeat
        /// the flag for every key the store was written with, as keys rotate): every event
        /// must be signed by one of them (from the first signed event on), and the export's
        /// checkpoint, or every anchor, too.
        #[arg(long)]
        public_key: Vec<PathBuf>,
        /// Print the typed report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Chains an embedded store written before the hash chain existed, once, and records that
    /// it did so (verify reports it). Refuses when any event is already chained.
    ChainLegacy {
        /// The embedded store's data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Seals the members' personal data that a store written before sealing holds in plain
    /// text, once, so that erasure reaches it. Stop the server first. Refuses unless the store
    /// verifies clean; rewrites and re-chains the events concerned, records the signed reseal
    /// (verify checks the earlier checkpoints against it) and a fresh checkpoint. Rebuild the
    /// audit and notices views afterwards: they hold copies.
    SealPersonalData {
        /// The PostgreSQL event store (the members' keys are beside it).
        #[arg(long, env = "DATABASE_URL", conflicts_with = "data_dir")]
        database_url: Option<String>,
        /// The embedded store's data directory (the members' keys are in keys.sqlite there).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The writer's key file (`serve --sign-key`; by default <data-dir>/writer.key): it
        /// signs the rewritten events, the reseal and the checkpoint.
        #[arg(long)]
        sign_key: Option<PathBuf>,
        /// Anchored checkpoints to verify against first: a file or `nats://<server>/<stream>`
        /// (by default <data-dir>/anchors.jsonl). A file also receives the new checkpoint.
        #[arg(long)]
        anchors: Option<String>,
        /// Public key files of earlier writer keys, if the key was rotated.
        #[arg(long)]
        public_key: Vec<PathBuf>,
    },
    /// Records a checkpoint now: the Merkle root of every event committed so far, signed with
    /// --sign-key if given. Run it from cron for periodic checkpoints.
    Checkpoint {
        /// The PostgreSQL event store.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// An Ed25519 secret key file: the 32-byte seed as 64 hex digits.
        #[arg(long, env = "PARCELPORT_AUDIT_SIGN_KEY")]
        sign_key: Option<PathBuf>,
    },
    /// Prints the public key of a signing key file, to hand to auditors.
    PublicKey {
        /// The Ed25519 secret key file.
        #[arg(long, env = "PARCELPORT_AUDIT_SIGN_KEY")]
        sign_key: PathBuf,
    },
    /// The events and the state of one member, account, parcel or shipment, as of a moment.
    History {
        /// member, account, parcel or shipment.
        aggregate: String,
        /// Its id.
        id: String,
        /// A global position, or an RFC 3339 time; everything when absent.
        #[arg(long)]
        as_of: Option<AsOf>,
        /// The PostgreSQL event store.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
    /// Builds a view (storage_status, billing, audit) as it stood at a past moment into a
    /// scratch instance beside the serving one, and prints the instance's schema to query.
    Replay {
        /// A global position, or an RFC 3339 time.
        #[arg(long)]
        as_of: AsOf,
        /// The view: storage_status, billing or audit.
        #[arg(long)]
        view: String,
        /// The PostgreSQL database holding the events and the views.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
    /// Writes the events of an aggregate or a time range covered by the latest checkpoint as
    /// JSON lines (with the checkpoint and a proof per event) and, with --csv, as CSV.
    Export {
        /// Only this aggregate type (member, account, parcel, shipment).
        #[arg(long)]
        aggregate: Option<String>,
        /// Only this aggregate id.
        #[arg(long, requires = "aggregate")]
        id: Option<String>,
        /// Recorded at or after this RFC 3339 time.
        #[arg(long)]
        from: Option<DateTime<Utc>>,
        /// Recorded before this RFC 3339 time.
        #[arg(long)]
        to: Option<DateTime<Utc>>,
        /// The JSON-lines file to write.
        #[arg(long)]
        out: PathBuf,
        /// Also write the events as CSV here.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// The PostgreSQL event store.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
}

pub async fn run(command: Audit) -> anyhow::Result<()> {
    match command {
        Audit::Verify {
            database_url,
            data_dir,
            export,
            anchors,
            public_key,
            json,
        } => {
            if let Some(file) = export {
                let trusted = public_key
                    .first()
                    .map(|path| checkpoint::read_public_key(path))
                    .transpose()?;
                let report = export::verify_file(&file, trusted)
                    .with_context(|| format!("cannot check {}", file.display()))?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    println!(
                        "{}: {} events against checkpoint {} ({} events, root {}), {}",
                        file.display(),
                        report.events,
                        report.checkpoint.id,
                        report.checkpoint.event_count,
                        hex_root(&report.checkpoint.root),
                        report
                            .signed_by
                            .as_ref()
                            .map_or("unsigned".to_owned(), |key| format!("signed by {key}"))
                    );
                    report.breaks.iter().for_each(|b| println!("BROKEN {b}"));
                }
                return conclude(report.breaks.len());
            }
            let anchors = read_anchors(anchors.as_deref(), &public_key).await?;
            if !anchors.checkpoints.is_empty() {
                println!("against {} anchored checkpoints", anchors.checkpoints.len());
            }
            let report = match (database_url, data_dir) {
                (Some(url), _) => {
                    let store = event_store::EventStore::connect_read_only(&url, 2)
                        .await
                        .context("cannot connect to the event store")?;
                    let total = audit::source::postgres_event_count(store.pool()).await?;
                    let bar = progress_bar(total, "verify");
                    let report = verify::verify_postgres_anchored(store.pool(), &anchors, |done| {
                        bar.set_position(done)
                    })
                    .await?;
                    bar.finish_and_clear();
                    report
                }
                (None, Some(dir)) => {
                    let store = event_store::sqlite::SqliteEventStore::open_read_only(&dir)
                        .await
                        .with_context(|| format!("cannot open {}", dir.display()))?;
                    let total = audit::source::sqlite_event_count(&store).await?;
                    let bar = progress_bar(total, "verify");
                    let report = verify::verify_sqlite_anchored(&store, &anchors, |done| {
                        bar.set_position(done)
                    })
                    .await?;
                    bar.finish_and_clear();
                    report
                }
                (None, None) => anyhow::bail!("give --database-url, --data-dir or --export"),
            };
            print_report(&report, json)?;
            conclude(report.breaks.len())
        }
        Audit::ChainLegacy { data_dir } => {
            let upgrade = event_store::sqlite::SqliteEventStore::chain_legacy(&data_dir)
                .await
                .with_context(|| format!("cannot chain {}", data_dir.display()))?;
            println!(
                "chained {} events up to position {}; recorded in chain_upgrades ({})",
                upgrade.events, upgrade.last_position, upgrade.upgraded_at
            );
            Ok(())
        }
        Audit::SealPersonalData {
            database_url,
            data_dir,
            sign_key,
            anchors,
            public_key,
        } => seal_personal_data(database_url, data_dir, sign_key, anchors, public_key).await,
        Audit::Checkpoint {
            database_url,
            sign_key,
        } => {
            let key = sign_key
                .map(|path| checkpoint::read_signing_key(&path))
                .transpose()?;
            let store = event_store::EventStore::connect(&database_url, 2)
                .await
                .context("cannot connect to the event store")?;
            let recorded = checkpoint::record(store.pool(), key.as_ref()).await?;
            println!("{}", serde_json::to_string_pretty(&recorded)?);
            Ok(())
        }
        Audit::PublicKey { sign_key } => {
            let key = checkpoint::read_signing_key(&sign_key)?;
            println!("{}", checkpoint::public_key_hex(&key));
            Ok(())
        }
        Audit::History {
            aggregate,
            id,
            as_of,
            database_url,
        } => {
            let kind: AggregateKind = aggregate.parse()?;
            let store = event_store::EventStore::connect(&database_url, 2)
                .await
                .context("cannot connect to the event store")?;
            let history = audit::history::history(store.pool(), kind, &id, as_of).await?;
            println!("{}", serde_json::to_string_pretty(&history)?);
            Ok(())
        }
        Audit::Replay {
            as_of,
            view,
            database_url,
        } => {
            let store = event_store::EventStore::connect(&database_url, 4)
                .await
                .context("cannot connect to the event store")?;
            let pool = store.pool().clone();
            let total = audit::source::postgres_event_count(&pool).await?;
            let bar = progress_bar(total, "replay");
            let progress = |done| bar.set_position(done);
            use audit::replay::replay;
            let report = match view.as_str() {
                "storage_status" => {
                    let view = projections::storage_status::StorageStatus;
                    replay(&pool, &store, view, as_of, progress).await
                }
                "billing" => {
                    replay(
                        &pool,
                        &store,
                        projections::billing::Billing,
                        as_of,
                        progress,
                    )
                    .await
                }
                "audit" => replay(&pool, &store, projections::audit::Audit, as_of, progress).await,
                other => anyhow::bail!("unknown view {other:?}: storage_status, billing or audit"),
            }?;
            bar.finish_and_clear();
            println!(
                "replayed {view} as of {as_of:?} into schema {} ({} events applied, {} parked); \
                 query it there, drop it with DROP SCHEMA {} CASCADE",
                report.schema, report.applied, report.parked, report.schema
            );
            Ok(())
        }
        Audit::Export {
            aggregate,
            id,
            from,
            to,
            out,
            csv,
            database_url,
        } => {
            if let Some(aggregate) = &aggregate {
                aggregate.parse::<AggregateKind>()?;
            }
            let store = event_store::EventStore::connect(&database_url, 2)
                .await
                .context("cannot connect to the event store")?;
            let selection = Selection {
                aggregate_type: aggregate,
                aggregate_id: id,
                from,
                to,
            };
            let summary = export::export(store.pool(), &selection, &out, csv.as_deref()).await?;
            println!(
                "exported {} events to {} under checkpoint {} (up to position {})",
                summary.events,
                out.display(),
                summary.checkpoint.id,
                summary.checkpoint.bound.position
            );
            Ok(())
        }
    }
}

/// The anchored checkpoints at `anchors` (a file or `nats://<server>/<stream>`), trusting the
/// writers' `public_keys`.
async fn read_anchors(
    anchors: Option<&str>,
    public_keys: &[PathBuf],
) -> anyhow::Result<verify::Anchors> {
    Ok(verify::Anchors {
        checkpoints: match anchors {
            Some(url) if audit::jetstream_anchor::is_nats_address(url) => {
                audit::jetstream_anchor::JetStreamAnchor::open(url, false, 1)
                    .await?
                    .read()
                    .await?
            }
            Some(file) => audit::anchor::AnchorFile::new(file).read()?,
            None => Vec::new(),
        },
        trusted: public_keys
            .iter()
            .map(|path| checkpoint::read_public_key(path))
            .collect::<Result<_, _>>()?,
    })
}

/// `audit seal-personal-data`.
async fn seal_personal_data(
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    sign_key: Option<PathBuf>,
    anchors: Option<String>,
    public_key: Vec<PathBuf>,
) -> anyhow::Result<()> {
    use audit::seal_legacy::{seal_personal_data, Target};
    let sign_key = match (&sign_key, &data_dir) {
        (Some(path), _) => path.clone(),
        (None, Some(dir)) => dir.join("writer.key"),
        (None, None) => anyhow::bail!("give --sign-key: the writer's key file"),
    };
    let key = checkpoint::read_signing_key(&sign_key)?;
    let anchors = anchors.or_else(|| {
        data_dir
            .as_ref()
            .map(|dir| dir.join("anchors.jsonl").display().to_string())
    });
    let mut verify_against = read_anchors(anchors.as_deref(), &public_key).await?;
    verify_against.trusted.push(key.verifying_key().to_bytes());
    let anchor_file = anchors
        .filter(|anchors| !audit::jetstream_anchor::is_nats_address(anchors))
        .map(audit::anchor::AnchorFile::new);
    let bar = progress_bar(0, "verify first");
    let (sealed, answers) = match (database_url, data_dir) {
        (Some(url), _) => {
            let store = event_store::EventStore::connect(&url, 2)
                .await
                .context("cannot connect to the event store")?;
            store.migrate().await?;
            bar.set_length(audit::source::postgres_event_count(store.pool()).await?);
            let keys = personal_data::KeyStore::postgres(store.pool().clone()).await?;
            let personal = personal_data::PersonalData::new(keys);
            let sealed = seal_personal_data(
                Target::Postgres(&store),
                &personal,
                &key,
                &verify_against,
                anchor_file.as_ref(),
                |done| bar.set_position(done),
            )
            .await?;
            let answers = engine::PgEngineStore::new(store.pool().clone())
                .scrub_recorded_answers()
                .await?;
            (sealed, answers)
        }
        (None, Some(dir)) => {
            let store = event_store::sqlite::SqliteEventStore::open(&dir)
                .await
                .with_context(|| format!("cannot open {}", dir.display()))?;
            bar.set_length(audit::source::sqlite_event_count(&store).await?);
            let keys = personal_data::KeyStore::sqlite(&dir.join(parcelport::KEYS_FILE)).await?;
            let personal = personal_data::PersonalData::new(keys);
            let sealed = seal_personal_data(
                Target::Sqlite(&store),
                &personal,
                &key,
                &verify_against,
                anchor_file.as_ref(),
                |done| bar.set_position(done),
            )
            .await;
            let answers = match &sealed {
                Ok(_) => {
                    engine::SqliteEngineStore::new(store.clone())
                        .scrub_recorded_answers()
                        .await
                }
                Err(_) => Ok(0),
            };
            store.close().await;
            personal.keys().close().await;
            (sealed?, answers?)
        }
        (None, None) => anyhow::bail!("give --database-url or --data-dir"),
    };
    bar.finish_and_clear();
    println!(
        "verified {} events of {} aggregates and {} checkpoints first: nothing altered",
        sealed.verified.events, sealed.verified.aggregates, sealed.verified.checkpoints
    );
    if answers > 0 {
        println!("{answers} recorded answers held personal data: it is replaced by the stand-ins");
    }
    let Some(reseal) = sealed.reseal else {
        println!("no personal data in plain text in the events: nothing to seal");
        return Ok(());
    };
    let rewritten = reseal.events.iter().filter(|event| event.rewritten).count();
    println!(
        "sealed the personal data of {rewritten} events; {} events re-chained; recorded as \
         reseal {} (signed, {})",
        reseal.events.len(),
        reseal.id,
        reseal.resealed_at
    );
    if sealed.erased_members > 0 {
        println!(
            "{} members' data was already erased: their fields now hold the stand-ins",
            sealed.erased_members
        );
    }
    if let Some(checkpoint) = sealed.checkpoint {
        println!(
            "checkpoint {} over {} events, root {}",
            checkpoint.id,
            checkpoint.event_count,
            hex_root(&checkpoint.root)
        );
    }
    println!(
        "now rebuild the views that hold copies: parcelport rebuild --view audit, and \
         --view notices"
    );
    Ok(())
}

fn hex_root(root: &[u8; 32]) -> String {
    root.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn print_report(report: &VerifyReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    println!(
        "verified {} events of {} aggregates and {} checkpoints",
        report.events, report.aggregates, report.checkpoints
    );
    if report.signed > 0 {
        println!("{} events signed by a trusted writer's key", report.signed);
    }
    if report.unsigned_before_signing > 0 {
        println!(
            "NOTE: {} events were written before the writer signed events: their authorship \
             rests on the checkpoints alone",
            report.unsigned_before_signing
        );
    }
    for reseal in &report.resealed {
        println!(
            "NOTE: reseal {} at {} sealed the personal data of {} events written in plain \
             text ({} events re-chained); checkpoints from before it were checked against \
             the hashes it replaced",
            reseal.id, reseal.resealed_at, reseal.rewritten, reseal.rehashed
        );
    }
    for upgrade in &report.chained_after_the_fact {
        println!(
            "NOTE: {} events up to position {} were chained after the fact by chain-legacy at \
             {}: they are proven unchanged since then, not since they were written",
            upgrade.events, upgrade.last_position, upgrade.upgraded_at
        );
    }
    if let Some(first) = report.first_break() {
        println!("FIRST BROKEN LINK: {first}");
    }
    for other in report.breaks.iter().skip(1) {
        println!("BROKEN {other}");
    }
    Ok(())
}

/// Exit status 1, with a message, when anything is broken.
fn conclude(breaks: usize) -> anyhow::Result<()> {
    anyhow::ensure!(breaks == 0, "{breaks} broken link(s)");
    println!("OK: nothing altered");
    Ok(())
}

/// A bar on standard error when it is a terminal; hidden otherwise.
fn progress_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} events {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

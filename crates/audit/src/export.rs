//! Exports an auditor can check without the database: the events of a selection (an
//! aggregate, a time range) as JSON lines, with the checkpoint that covers them and, per event,
//! the previous hash of its chain and a Merkle proof up to the checkpoint's root; the same
//! events as CSV for spreadsheets. [`verify_file`] checks a JSON-lines export offline.
//!
//! Line 1 is an [`ExportHeader`]; every further line is an [`ExportedEvent`].

use crate::merkle::{self, ProofStep, Tree};
use crate::personal::PersonalData;
use crate::source::{self, ChainedEvent, Selection};
use crate::verify::{Break, EventAt};
use crate::{checkpoint, AuditError, Checkpoint};
use event_store::chain::{Hash32, GENESIS};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

/// The format tag of line 1.
pub const FORMAT: &str = "parcelport-audit-export/v1";

/// Line 1 of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHeader {
    /// [`FORMAT`].
    pub format: String,
    /// What was selected, for the reader.
    pub selection: SelectionDescription,
    /// The checkpoint whose root every event's proof leads to.
    pub checkpoint: Checkpoint,
}

/// The selection as written in the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionDescription {
    /// Aggregate type, if restricted.
    pub aggregate_type: Option<String>,
    /// Aggregate id, if restricted.
    pub aggregate_id: Option<String>,
    /// From (inclusive), if restricted.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// To (exclusive), if restricted.
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// One exported event with what proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedEvent {
    /// The event, payload and metadata as the exact stored text.
    pub event: ChainedEvent,
    /// The chain hash of the aggregate's previous event (zeros for the first).
    #[serde(with = "crate::hex32")]
    pub previous_hash: Hash32,
    /// The event's index in the checkpoint's global order.
    pub leaf_index: u64,
    /// The Merkle path from the event's leaf to the checkpoint's root.
    pub proof: Vec<ProofStep>,
    /// Whether the member's personal data in it is sealed or erased (absent when it holds
    /// none): the stored text is exported as is, sealed, so this says what became of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_data: Option<PersonalData>,
}

/// What an export held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Events written.
    pub events: u64,
    /// The covering checkpoint.
    pub checkpoint: Checkpoint,
}

/// Writes the events of `selection` covered by the latest checkpoint to `jsonl` (and `csv`).
/// Events recorded after that checkpoint are not included: record one first to include them.
/// Fails when the store no longer matches the checkpoint (run `verify`).
pub async fn export(
    pool: &PgPool,
    selection: &Selection,
    jsonl: &Path,
    csv: Option<&Path>,
) -> Result<ExportSummary, AuditError> {
    let checkpoint = checkpoint::latest(pool)
        .await?
        .ok_or(AuditError::NoCheckpoint)?;
    let events: Vec<ChainedEvent> = source::postgres_selection(pool, selection, checkpoint.bound)
        .try_collect()
        .await?;
    let selected: HashSet<i64> = events.iter().map(|event| event.position).collect();

    // Every hash up to the bound, for the tree; the leaf index of each selected event.
    let mut rows = event_store::chained::postgres_hashes_through(pool, checkpoint.bound);
    let mut hashes = Vec::new();
    let mut leaf_index = HashMap::new();
    while let Some((cursor, hash)) = rows.try_next().await? {
        if selected.contains(&cursor.position) {
            leaf_index.insert(cursor.position, hashes.len());
        }
        hashes.push(hash);
    }
    drop(rows);
    let tree = Tree::new(&hashes);
    if tree.root() != checkpoint.root || hashes.len() as u64 != checkpoint.event_count {
        return Err(AuditError::StoreDiffersFromCheckpoint {
            checkpoint: checkpoint.id,
        });
    }

    let by_link: HashMap<(&str, &str, i64), Hash32> = events
        .iter()
        .map(|event| {
            let key = (
                event.aggregate_type.as_str(),
                event.aggregate_id.as_str(),
                event.sequence,
            );
            (key, event.hash)
        })
        .collect();
    let erased = crate::personal::erased_members(
        pool,
        events
            .iter()
            .filter(|event| domain::personal::holds_personal_data(&event.event_type))
            .filter_map(|event| {
                domain::personal::subject(&event.aggregate_type, &event.aggregate_id)
            }),
    )
    .await?;
    let mut exported = Vec::with_capacity(events.len());
    for event in &events {
        let previous_hash = match by_link.get(&(
            event.aggregate_type.as_str(),
            event.aggregate_id.as_str(),
            event.sequence - 1,
        )) {
            Some(hash) => *hash,
            None => stored_previous_hash(pool, event).await?,
        };
        let index = leaf_index.get(&event.position).copied().unwrap_or_default();
        exported.push(ExportedEvent {
            event: event.clone(),
            previous_hash,
            leaf_index: index as u64,
            proof: tree.proof(index).unwrap_or_default(),
            personal_data: crate::personal::of_event(
                &event.event_type,
                &event.aggregate_type,
                &event.aggregate_id,
                &event.payload,
                &erased,
            ),
        });
    }

    let header = ExportHeader {
        format: FORMAT.to_owned(),
        selection: SelectionDescription {
            aggregate_type: selection.aggregate_type.clone(),
            aggregate_id: selection.aggregate_id.clone(),
            from: selection.from,
            to: selection.to,
        },
        checkpoint: checkpoint.clone(),
    };
    write_jsonl(jsonl, &header, &exported)?;
    if let Some(csv) = csv {
        write_csv(csv, &exported)?;
    }
    Ok(ExportSummary {
        events: exported.len() as u64,
        checkpoint,
    })
}

async fn stored_previous_hash(pool: &PgPool, event: &ChainedEvent) -> Result<Hash32, AuditError> {
    Ok(event_store::chained::postgres_hash_at(
        pool,
        &event.aggregate_type,
        &event.aggregate_id,
        event.sequence - 1,
    )
    .await?)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_owned(),
        source,
    }
}

fn write_jsonl(
    path: &Path,
    header: &ExportHeader,
    events: &[ExportedEvent],
) -> Result<(), AuditError> {
    let file = std::fs::File::create(path).map_err(io_error(path))?;
    let mut out = BufWriter::new(file);
    let line = |out: &mut BufWriter<std::fs::File>, value: &dyn erased::Line| {
        value.write_line(out).map_err(io_error(path))
    };
    line(&mut out, header)?;
    for event in events {
        line(&mut out, event)?;
    }
    out.flush().map_err(io_error(path))
}

/// One JSON value per line, for both line types.
mod erased {
    use std::io::Write;

    pub trait Line {
        fn write_line(&self, out: &mut dyn Write) -> std::io::Result<()>;
    }

    impl<T: serde::Serialize> Line for T {
        fn write_line(&self, out: &mut dyn Write) -> std::io::Result<()> {
            serde_json::to_writer(&mut *out, self)?;
            out.write_all(b"\n")
        }
    }
}

/// The CSV columns, one row per event; payload and metadata as their JSON text.
const CSV_COLUMNS: [&str; 15] = [
    "position",
    "txid",
    "aggregate_type",
    "aggregate_id",
    "sequence",
    "event_type",
    "event_version",
    "recorded_at",
    "event_id",
    "payload",
    "metadata",
    "previous_hash",
    "hash",
    "leaf_index",
    "personal_data",
];

fn write_csv(path: &Path, events: &[ExportedEvent]) -> Result<(), AuditError> {
    let file = std::fs::File::create(path).map_err(io_error(path))?;
    let mut out = BufWriter::new(file);
    let mut write = |fields: &[String]| -> std::io::Result<()> {
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        writeln!(out, "{}", line.join(","))
    };
    let header: Vec<String> = CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    write(&header).map_err(io_error(path))?;
    for exported in events {
        let event = &exported.event;
        write(&[
            event.position.to_string(),
            event.txid.to_string(),
            event.aggregate_type.clone(),
            event.aggregate_id.clone(),
            event.sequence.to_string(),
            event.event_type.clone(),
            event.event_version.clone(),
            event.recorded_at.to_rfc3339(),
            event.event_id.to_string(),
            event.payload.clone(),
            event.metadata.clone(),
            hex::encode(exported.previous_hash),
            hex::encode(event.hash),
            exported.leaf_index.to_string(),
            exported
                .personal_data
                .map_or("", PersonalData::as_str)
                .to_owned(),
        ])
        .map_err(io_error(path))?;
    }
    out.flush().map_err(io_error(path))
}

/// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// What an offline check of an export found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportReport {
    /// Events checked.
    pub events: u64,
    /// The checkpoint the export claims.
    pub checkpoint: Checkpoint,
    /// The key that signed the checkpoint, hex, if signed.
    pub signed_by: Option<String>,
    /// Every break found, in file order.
    pub breaks: Vec<Break>,
}

impl ExportReport {
    /// Nothing broken.
    pub fn is_clean(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// Checks a JSON-lines export without the database: each event's hash against its content and
/// previous hash, each link between consecutive exported events of an aggregate, each Merkle
/// proof against the checkpoint's root, and the checkpoint's signature; with `trusted_key`,
/// also that the checkpoint is signed by that key.
pub fn verify_file(path: &Path, trusted_key: Option<[u8; 32]>) -> Result<ExportReport, AuditError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let header_line = lines
        .next()
        .ok_or(AuditError::ExportFormat {
            line: 1,
            reason: "the file is empty".to_owned(),
        })?
        .map_err(io_error(path))?;
    let header: ExportHeader =
        serde_json::from_str(&header_line).map_err(|e| AuditError::ExportFormat {
            line: 1,
            reason: e.to_string(),
        })?;
    if header.format != FORMAT {
        return Err(AuditError::ExportFormat {
            line: 1,
            reason: format!("format {:?}, expected {FORMAT:?}", header.format),
        });
    }
    let checkpoint = header.checkpoint;
    let mut breaks = Vec::new();
    match (checkpoint.signature_is_valid(), &checkpoint.signature) {
        (Some(false), _) => breaks.push(Break::BadSignature {
            checkpoint: checkpoint.id,
        }),
        (_, signature) => {
            if let Some(trusted) = trusted_key {
                if signature.as_ref().map(|s| s.public_key) != Some(trusted) {
                    breaks.push(Break::UntrustedKey {
                        checkpoint: checkpoint.id,
                    });
                }
            }
        }
    }
    let mut heads: HashMap<(String, String), (i64, Hash32)> = HashMap::new();
    let mut events = 0;
    for (number, line) in lines.enumerate() {
        let line = line.map_err(io_error(path))?;
        let exported: ExportedEvent =
            serde_json::from_str(&line).map_err(|e| AuditError::ExportFormat {
                line: number + 2,
                reason: e.to_string(),
            })?;
        events += 1;
        let event = &exported.event;
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let linked = match heads.get(&key) {
            Some(&(sequence, hash)) if sequence + 1 == event.sequence => {
                hash == exported.previous_hash
            }
            _ => event.sequence != 1 || exported.previous_hash == GENESIS,
        };
        if !linked || event.fields().hash(&exported.previous_hash) != event.hash {
            breaks.push(Break::Altered {
                at: EventAt::of(event),
            });
        } else if merkle::root_from_proof(&event.hash, &exported.proof) != checkpoint.root {
            breaks.push(Break::NotInCheckpoint {
                at: EventAt::of(event),
                checkpoint: checkpoint.id,
            });
        }
        heads.insert(key, (event.sequence, event.hash));
    }
    Ok(ExportReport {
        events,
        signed_by: checkpoint
            .signature
            .as_ref()
            .map(|s| hex::encode(s.public_key)),
        checkpoint,
        breaks,
    })
}

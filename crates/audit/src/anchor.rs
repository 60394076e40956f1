//! Checkpoints by default, anchored outside the event store (issue #10, ADR 0006).
//!
//! [`Checkpointer`] records a signed checkpoint of everything committed since its last one,
//! incrementally (it keeps the Merkle peaks, so each checkpoint reads only the new events'
//! hashes), and appends it to an [`AnchorFile`]: JSON lines, opened for appending only and
//! synced to disk before the checkpoint counts as anchored. `parcelport serve` runs one every
//! few seconds once enough events or time have passed, and once more when it stops.
//! `parcelport audit verify --anchors FILE` then checks the store against every anchored
//! checkpoint, so deleting the newest events, an aggregate's last event, or the checkpoint rows
//! of PostgreSQL is found, as far as the last anchor reaches.
//!
//! On PostgreSQL with NATS, each checkpoint is also anchored to a JetStream stream that denies
//! deletes and purges ([`JetStreamAnchor`], `crate::jetstream_anchor`).
//!
//! The writer key ([`ensure_signing_key`]) signs every checkpoint; it lives outside the event
//! store (a key file, created in the data directory on first start unless one is given).

use crate::checkpoint::{self, Checkpoint};
use crate::jetstream_anchor::JetStreamAnchor;
use crate::merkle::Peaks;
use crate::AuditError;
use chrono::Utc;
use ed25519_dalek::SigningKey;
use event_store::sqlite::SqliteEventStore;
use event_store::GlobalCursor;
use futures::TryStreamExt;
use sqlx::PgPool;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// An append-only file of anchored checkpoints, one JSON object a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorFile {
    path: PathBuf,
}

impl AnchorFile {
    /// The anchors at `path` (created on the first append).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `checkpoint` and syncs the file to disk.
    pub fn append(&self, checkpoint: &Checkpoint) -> Result<(), AuditError> {
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(checkpoint).map_err(|e| AuditError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        file.write_all(&line).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Every anchored checkpoint, in the order appended; none when the file does not exist.
    pub fn read(&self) -> Result<Vec<Checkpoint>, AuditError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(AuditError::Io {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let mut anchors = Vec::new();
        for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|source| AuditError::Io {
                path: self.path.clone(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let checkpoint = serde_json::from_str(&line).map_err(|e| AuditError::ExportFormat {
                line: index + 1,
                reason: format!("{}: not an anchored checkpoint: {e}", self.path.display()),
            })?;
            anchors.push(checkpoint);
        }
        Ok(anchors)
    }
}

/// Reads the Ed25519 writer key at `path`, creating it (a random seed, readable by the owner
/// only) when missing; `true` when it was created.
pub fn ensure_signing_key(path: &Path) -> Result<(SigningKey, bool), AuditError> {
    if path.exists() {
        return Ok((checkpoint::read_signing_key(path)?, false));
    }
    let io = |source| AuditError::Io {
        path: path.to_owned(),
        source,
    };
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| io(std::io::Error::other(e.to_string())))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(format!("{}\n", hex::encode(seed)).as_bytes())
        .map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok((SigningKey::from_bytes(&seed), true))
}

/// Where a [`Checkpointer`] reads the chain hashes.
#[derive(Debug, Clone)]
pub enum HashSource {
    /// The PostgreSQL store: checkpoints are also recorded in `audit_checkpoints`.
    Postgres(PgPool),
    /// The embedded store: the anchor file is the only record.
    Sqlite(SqliteEventStore),
}

/// Records signed checkpoints incrementally and anchors them.
#[derive(Debug)]
pub struct Checkpointer {
    source: HashSource,
    key: SigningKey,
    anchors: AnchorFile,
    jetstream: Option<JetStreamAnchor>,
    peaks: Peaks,
    bound: GlobalCursor,
    anchored: u64,
    next_id: i64,
}

impl Checkpointer {
    /// A checkpointer over `source`, signing with `key`, anchoring to `anchors`. It starts from
    /// the beginning of the store (the first checkpoint reads every hash once).
    pub fn new(
        source: HashSource,
        key: SigningKey,
        anchors: AnchorFile,
    ) -> Result<Self, AuditError> {
        let next_id = anchors.read()?.iter().map(|a| a.id).max().unwrap_or(0) + 1;
        Ok(Self {
            source,
            key,
            anchors,
            jetstream: None,
            peaks: Peaks::default(),
            bound: GlobalCursor::START,
            anchored: 0,
            next_id,
        })
    }

    /// The same checkpointer anchoring every checkpoint to `stream` too, after the file.
    pub fn also_anchoring_to(self, stream: JetStreamAnchor) -> Self {
        Self {
            jetstream: Some(stream),
            ..self
        }
    }

    /// Events covered by the peaks and not anchored yet, after reading what is new.
    pub async fn pending(&mut self) -> Result<u64, AuditError> {
        self.read_new().await?;
        Ok(self.peaks.len() - self.anchored)
    }

    /// Records, signs and anchors a checkpoint of everything committed so far, unless nothing
    /// was committed since the last one; the checkpoint anchored, if any.
    pub async fn checkpoint(&mut self) -> Result<Option<Checkpoint>, AuditError> {
        self.read_new().await?;
        if self.anchored == self.peaks.len() && self.anchored > 0 {
            return Ok(None);
        }
        let mut recorded = Checkpoint {
            id: self.next_id,
            bound: self.bound,
            event_count: self.peaks.len(),
            root: self.peaks.root(),
            created_at: Utc::now(),
            signature: None,
        };
        recorded.sign(&self.key);
        if let HashSource::Postgres(pool) = &self.source {
            recorded = checkpoint::insert(pool, recorded).await?;
        }
        self.anchors.append(&recorded)?;
        if let Some(stream) = &self.jetstream {
            stream.append(&recorded).await?;
        }
        self.anchored = recorded.event_count;
        self.next_id = recorded.id + 1;
        Ok(Some(recorded))
    }

    /// Pushes the hashes of the events committed after the bound.
    async fn read_new(&mut self) -> Result<(), AuditError> {
        match &self.source {
            HashSource::Postgres(pool) => {
                crate::source::await_earlier_writers(pool).await?;
                let mut hashes = event_store::chained::postgres_hashes_after(pool, self.bound);
                while let Some((cursor, hash)) = hashes.try_next().await? {
                    self.peaks.push(&hash);
                    self.bound = cursor;
                }
            }
            HashSource::Sqlite(store) => {
                let mut hashes = store.hashes_after(self.bound);
                while let Some((cursor, hash)) = hashes.try_next().await? {
                    self.peaks.push(&hash);
                    self.bound = cursor;
                }
            }
        }
        Ok(())
    }
}

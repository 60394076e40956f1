//! [`JetStreamAnchor`]: checkpoints anchored to a JetStream stream that forbids deleting and
//! purging messages (issue #10, distributed mode). Whoever can write to PostgreSQL cannot
//! remove an anchor there; the stream can be replicated (R3) like the events' stream.
//!
//! Addressed as `nats://host:port/STREAM`, or a cluster's servers comma-separated with the stream
//! after the last (`nats://10.0.0.1:4222,nats://10.0.0.2:4222/STREAM`; the stream defaults to
//! [`DEFAULT_STREAM`]); each
//! checkpoint is one message on `anchors.<STREAM>`, published with its id as `Nats-Msg-Id`, so
//! a retried publish is stored once. `parcelport serve` on PostgreSQL with NATS appends every
//! checkpoint it records there as well as to its anchors file; `parcelport audit verify
//! --anchors nats://…` reads them back, without creating anything.

use crate::checkpoint::Checkpoint;
use crate::AuditError;
use async_nats::jetstream::{self, stream};

/// The stream's name unless the address names another.
pub const DEFAULT_STREAM: &str = "PARCELPORT_ANCHORS";

/// Checkpoints anchored to one JetStream stream.
#[derive(Debug, Clone)]
pub struct JetStreamAnchor {
    url: String,
    subject: String,
    context: jetstream::Context,
    stream: String,
}

/// True when `anchors` names a NATS server rather than a file.
pub fn is_nats_address(anchors: &str) -> bool {
    anchors.starts_with("nats://")
}

impl JetStreamAnchor {
    /// The stream at `url` (`nats://host:port[/STREAM]`), created if `create` and missing:
    /// file storage, no limits, deletes and purges denied, `replicas` copies.
    pub async fn open(url: &str, create: bool, replicas: usize) -> Result<Self, AuditError> {
        let fail = |reason: String| AuditError::Anchors {
            url: url.to_owned(),
            reason,
        };
        let rest = url
            .strip_prefix("nats://")
            .ok_or_else(|| fail("not a nats:// address".to_owned()))?;
        // The stream is the path of the last server named.
        let (others, last) = match rest.rsplit_once(',') {
            Some((others, last)) => (Some(others), last.trim()),
            None => (None, rest),
        };
        let last = last.strip_prefix("nats://").unwrap_or(last);
        let (last, stream) = match last.split_once('/') {
            Some((server, name)) if !name.is_empty() => (server, name),
            Some((server, _)) => (server, DEFAULT_STREAM),
            None => (last, DEFAULT_STREAM),
        };
        let list = others.map_or_else(|| last.to_owned(), |others| format!("{others},{last}"));
        let servers = nats_servers::parse(&list).map_err(|e| fail(e.to_string()))?;
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(std::time::Duration::from_secs(5))
            .connect(servers)
            .await
            .map_err(|e| fail(format!("cannot connect: {e}")))?;
        let context = jetstream::new(client);
        let subject = format!("anchors.{stream}");
        if create {
            context
                .get_or_create_stream(stream::Config {
                    name: stream.to_owned(),
                    description: Some(
                        "parcelport's signed checkpoints, anchored outside the event store"
                            .to_owned(),
                    ),
                    subjects: vec![subject.clone()],
                    storage: stream::StorageType::File,
                    num_replicas: replicas,
                    deny_delete: true,
                    deny_purge: true,
                    ..stream::Config::default()
                })
                .await
                .map_err(|e| fail(format!("cannot create the stream {stream}: {e}")))?;
        } else {
            context
                .get_stream(stream)
                .await
                .map_err(|e| fail(format!("no stream {stream}: {e}")))?;
        }
        Ok(Self {
            url: url.to_owned(),
            subject,
            context,
            stream: stream.to_owned(),
        })
    }

    /// Publishes `checkpoint` and waits until the stream has stored it.
    pub async fn append(&self, checkpoint: &Checkpoint) -> Result<(), AuditError> {
        let body = serde_json::to_vec(checkpoint).map_err(|e| self.fail(e.to_string()))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", checkpoint.id.to_string().as_str());
        self.context
            .publish_with_headers(self.subject.clone(), headers, body.into())
            .await
            .map_err(|e| self.fail(format!("cannot publish: {e}")))?
            .await
            .map_err(|e| self.fail(format!("not stored: {e}")))?;
        Ok(())
    }

    /// Every anchored checkpoint, in the order stored.
    pub async fn read(&self) -> Result<Vec<Checkpoint>, AuditError> {
        let mut stream = self
            .context
            .get_stream(&self.stream)
            .await
            .map_err(|e| self.fail(format!("no stream {}: {e}", self.stream)))?;
        let state = stream
            .info()
            .await
            .map_err(|e| self.fail(format!("cannot read the stream's state: {e}")))?
            .state
            .clone();
        let mut anchors = Vec::new();
        if state.messages == 0 {
            return Ok(anchors);
        }
        for sequence in state.first_sequence..=state.last_sequence {
            let message = stream
                .get_raw_message(sequence)
                .await
                .map_err(|e| self.fail(format!("message {sequence}: {e}")))?;
            let checkpoint = serde_json::from_slice(&message.payload)
                .map_err(|e| self.fail(format!("message {sequence} is not a checkpoint: {e}")))?;
            anchors.push(checkpoint);
        }
        Ok(anchors)
    }

    fn fail(&self, reason: String) -> AuditError {
        AuditError::Anchors {
            url: self.url.clone(),
            reason,
        }
    }
}

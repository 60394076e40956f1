//! The audit table: its row and DDL.

use chrono::{DateTime, Utc};
use projection_runtime::{Dialect, Schema, TableSpec};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `events` table.
pub const EVENTS: TableSpec = TableSpec {
    name: "events",
    key: &["aggregate_type", "aggregate_id", "sequence"],
    columns: &[
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "event_id",
        "event_type",
        "event_version",
        "txid",
        "position",
        "recorded_at",
        "actor",
        "command",
        "correlation_id",
        "causation_id",
        "policy_version",
        "rule_id",
        "related_ids",
        "payload",
        "metadata",
    ],
    numeric: &["txid"],
    json: &["related_ids", "payload", "metadata"],
    boolean: &[],
    timestamp: &["recorded_at"],
};

/// The table's DDL in `schema`.
pub(super) fn ddl(schema: &Schema, dialect: Dialect) -> String {
    if dialect == Dialect::Sqlite {
        return sqlite_ddl(schema);
    }
    format!(
        "CREATE TABLE {schema}.events (
             aggregate_type text NOT NULL,
             aggregate_id   text NOT NULL,
             sequence       bigint NOT NULL,
             event_id       uuid NOT NULL UNIQUE,
             event_type     text NOT NULL,
             event_version  text NOT NULL,
             txid           numeric(20) NOT NULL,
             position       bigint NOT NULL,
             recorded_at    timestamptz NOT NULL,
             actor          text,
             command        text,
             correlation_id text,
             causation_id   text,
             policy_version text,
             rule_id        text,
             related_ids    text[] NOT NULL,
             payload        jsonb NOT NULL,
             metadata       jsonb NOT NULL,
             PRIMARY KEY (aggregate_type, aggregate_id, sequence)
         );
         CREATE INDEX ON {schema}.events (txid, position);
         CREATE INDEX ON {schema}.events (event_type, recorded_at);
         CREATE INDEX ON {schema}.events (actor, recorded_at);
         CREATE INDEX ON {schema}.events (recorded_at);
         CREATE INDEX ON {schema}.events (correlation_id);
         CREATE INDEX ON {schema}.events USING gin (related_ids);"
    )
}

/// The table's DDL in `schema` on SQLite: the txid as decimal TEXT, timestamps as TEXT in
/// `projection_runtime::sqlite_timestamp`'s format, arrays and documents as JSON TEXT.
fn sqlite_ddl(schema: &Schema) -> String {
    format!(
        "CREATE TABLE {schema}_events (
             aggregate_type TEXT NOT NULL,
             aggregate_id   TEXT NOT NULL,
             sequence       INTEGER NOT NULL,
             event_id       TEXT NOT NULL UNIQUE,
             event_type     TEXT NOT NULL,
             event_version  TEXT NOT NULL,
             txid           TEXT NOT NULL,
             position       INTEGER NOT NULL,
             recorded_at    TEXT NOT NULL,
             actor          TEXT,
             command        TEXT,
             correlation_id TEXT,
             causation_id   TEXT,
             policy_version TEXT,
             rule_id        TEXT,
             related_ids    TEXT NOT NULL,
             payload        TEXT NOT NULL,
             metadata       TEXT NOT NULL,
             PRIMARY KEY (aggregate_type, aggregate_id, sequence)
         );
         CREATE INDEX {schema}_events_order ON {schema}_events (CAST(txid AS INTEGER), position);
         CREATE INDEX {schema}_events_type ON {schema}_events (event_type, recorded_at);
         CREATE INDEX {schema}_events_actor ON {schema}_events (actor, recorded_at);
         CREATE INDEX {schema}_events_recorded ON {schema}_events (recorded_at);
         CREATE INDEX {schema}_events_correlation ON {schema}_events (correlation_id);"
    )
}

/// One event as the audit view records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The aggregate.
    pub aggregate_id: String,
    /// The event's sequence in it.
    pub sequence: i64,
    /// The event's id.
    pub event_id: Uuid,
    /// `parcel.arrived`, ...
    pub event_type: String,
    /// The payload's version.
    pub event_version: String,
    /// The appending transaction (the global order is `(txid, position)`).
    pub txid: String,
    /// The event's position.
    pub position: i64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who issued the command (`member:m-1`, `operator:7`, `system:storage-clock`).
    pub actor: Option<String>,
    /// The command's name.
    pub command: Option<String>,
    /// The request or flow it belongs to.
    pub correlation_id: Option<String>,
    /// What caused the command.
    pub causation_id: Option<String>,
    /// The policy version applied (POL-1).
    pub policy_version: Option<String>,
    /// The rule the event cites.
    pub rule_id: Option<String>,
    /// Other aggregates and causes the event names.
    pub related_ids: Vec<String>,
    /// The payload as recorded.
    pub payload: serde_json::Value,
    /// The metadata as recorded.
    pub metadata: serde_json::Value,
}

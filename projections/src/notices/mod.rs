//! # The notices view
//!
//! What the sources promise to tell a member, one notice per event that calls for one: the
//! arrival of a parcel on its receiving day (PAR-3), inspection findings (INS-3), storage
//! notices and the disposable mark (STO-2), a quote (FEE-1) and its hold when unpaid (PAY-2),
//! shipping with the tracking number (SHP-1), answers to a claim (CLM-3, CLM-5), the refund
//! (ACC-7); with who owns each aggregate and how to reach each member.
//!
//! Tables (schema `view_notices_v<N>`): `notices` (one row per event, keyed by aggregate and
//! sequence, the notice id being the event id, with the event's own fields as the facts to
//! tell), `owners` (the member of a parcel, shipment or account), `contacts` (a member's
//! name and e-mail) and `languages` (the language a member chose for their notices; the
//! notifier's default for the others). The notifier (`crates/notifier`) joins them when it delivers, so a notice
//! whose owner or contact is recorded later is still delivered to the right address.
//!
//! *Architecture Invariant*: as in every view, an aggregate's events change only rows keyed by
//! that aggregate. What was delivered is not part of the view (`notifier_deliveries` keeps it,
//! by notice id), so a rebuild of the view never sends a notice again.

use crate::decode::decode;
use chrono::{DateTime, Utc};
use projection_runtime::{
    rows as table, Dialect, EventEnvelope, Projection, ReduceError, Schema, TableSpec, ViewConn,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The notices projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Notices;

/// The view's name: its instances are `view_notices_v<N>`.
pub const NAME: &str = "notices";

/// The `notices` table.
pub const NOTICES: TableSpec = TableSpec {
    name: "notices",
    key: &["aggregate_type", "aggregate_id", "sequence"],
    columns: &[
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "notice_id",
        "kind",
        "rule",
        "member_id",
        "facts",
        "occurred_at",
        "traceparent",
    ],
    numeric: &[],
    json: &["facts"],
    boolean: &[],
    timestamp: &["occurred_at"],
};

/// The `owners` table.
pub const OWNERS: TableSpec = TableSpec {
    name: "owners",
    key: &["aggregate_type", "aggregate_id"],
    columns: &["aggregate_type", "aggregate_id", "member_id"],
    numeric: &[],
    json: &[],
    boolean: &[],
    timestamp: &[],
};

/// The `contacts` table.
pub const CONTACTS: TableSpec = TableSpec {
    name: "contacts",
    key: &["member_id"],
    columns: &["member_id", "name", "email"],
    numeric: &[],
    json: &[],
    boolean: &[],
    timestamp: &[],
};

/// The `languages` table.
pub const LANGUAGES: TableSpec = TableSpec {
    name: "languages",
    key: &["member_id"],
    columns: &["member_id", "language"],
    numeric: &[],
    json: &[],
    boolean: &[],
    timestamp: &[],
};

/// What a notice tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A parcel arrived: its arrival notice, with the measurements and the fee (PAR-3).
    Arrival,
    /// A parcel was inspected, with its findings (INS-3).
    Inspection,
    /// The parcel's free storage ends soon (STO-2).
    StorageNotice,
    /// The parcel is past its limit and may be disposed of (STO-2).
    MarkedDisposable,
    /// A shipment was quoted (FEE-1, PAY-2).
    Quote,
    /// A quote went unpaid past its due date: the shipment is held (PAY-2).
    Held,
    /// A quote is unpaid on its due date: a payment reminder (ACC-6).
    PaymentReminder,
    /// Still unpaid a week later: the dunning notice with its deadline (ACC-6).
    DunningNotice,
    /// A shipment left, with its tracking number (SHP-1).
    Shipped,
    /// A claim was answered, approved or rejected (CLM-3, CLM-5).
    ClaimAnswer,
    /// The balance was refunded (ACC-7).
    Refund,
}

impl NoticeKind {
    /// The rule the notice is promised by.
    pub fn rule(self) -> &'static str {
        match self {
            NoticeKind::Arrival => "PAR-3",
            NoticeKind::Inspection => "INS-3",
            NoticeKind::StorageNotice | NoticeKind::MarkedDisposable => "STO-2",
            NoticeKind::Quote => "FEE-1",
            NoticeKind::Held => "PAY-2",
            NoticeKind::PaymentReminder | NoticeKind::DunningNotice => "ACC-6",
            NoticeKind::Shipped => "SHP-1",
            NoticeKind::ClaimAnswer => "CLM-3",
            NoticeKind::Refund => "ACC-7",
        }
    }

    /// The kind of a stored event, if it calls for a notice.
    pub fn of(event_type: &str) -> Option<NoticeKind> {
        Some(match event_type {
            "parcel.arrival_notice_sent" => NoticeKind::Arrival,
            "parcel.inspected" => NoticeKind::Inspection,
            "parcel.storage_notice_sent" => NoticeKind::StorageNotice,
            "parcel.marked_disposable" => NoticeKind::MarkedDisposable,
            "shipment.quoted" => NoticeKind::Quote,
            "shipment.held" => NoticeKind::Held,
            "shipment.payment_reminded" => NoticeKind::PaymentReminder,
            "shipment.dunning_notice_sent" => NoticeKind::DunningNotice,
            "shipment.shipped" => NoticeKind::Shipped,
            "shipment.claim_responded" | "shipment.claim_approved" | "shipment.claim_rejected" => {
                NoticeKind::ClaimAnswer
            }
            "account.refunded" => NoticeKind::Refund,
            _ => return None,
        })
    }
}

/// One notice row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeRow {
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The aggregate.
    pub aggregate_id: String,
    /// The event's sequence.
    pub sequence: i64,
    /// The notice's id: the event's.
    pub notice_id: Uuid,
    /// What it tells.
    pub kind: NoticeKind,
    /// The rule that promises it.
    pub rule: String,
    /// The member, when the event names them (else the aggregate's owner).
    pub member_id: Option<String>,
    /// The event's fields (the variant's payload), `event_type` added.
    pub facts: Value,
    /// When the event was recorded.
    pub occurred_at: DateTime<Utc>,
    /// The W3C trace context of the command that recorded the event: the delivery continues
    /// its trace.
    pub traceparent: Option<String>,
}

/// One owner row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRow {
    /// `parcel`, `shipment`, `account` or `member`.
    pub aggregate_type: String,
    /// The aggregate.
    pub aggregate_id: String,
    /// Its member.
    pub member_id: String,
}

/// One contact row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRow {
    /// The member.
    pub member_id: String,
    /// Their name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
}

/// One language row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageRow {
    /// The member.
    pub member_id: String,
    /// `ja` or `en`.
    pub language: String,
}

/// One change of the view.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A notice to send.
    Notice(NoticeRow),
    /// Who owns an aggregate.
    Owner(OwnerRow),
    /// How to reach a member.
    Contact(ContactRow),
    /// The language a member chose.
    Language(LanguageRow),
}

/// The variant's fields of an externally tagged payload (`{"arrived": {...}}`).
fn fields(payload: &Value) -> Value {
    match payload.as_object() {
        Some(object) if object.len() == 1 => object.values().next().cloned().unwrap_or_default(),
        _ => payload.clone(),
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().map(str::to_owned)
}

impl Projection for Notices {
    type Change = Change;

    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [TableSpec] {
        &[NOTICES, OWNERS, CONTACTS, LANGUAGES]
    }

    fn create_tables(&self, schema: &Schema, dialect: Dialect) -> String {
        let t = |name| schema.table(dialect, name);
        let (text, json, ts, int) = match dialect {
            Dialect::Postgres => ("text", "jsonb", "timestamptz", "bigint"),
            Dialect::Sqlite => ("TEXT", "TEXT", "TEXT", "INTEGER"),
        };
        format!(
            "CREATE TABLE {notices} (
                 aggregate_type {text} NOT NULL,
                 aggregate_id   {text} NOT NULL,
                 sequence       {int} NOT NULL,
                 notice_id      {text} NOT NULL UNIQUE,
                 kind           {text} NOT NULL,
                 rule           {text} NOT NULL,
                 member_id      {text},
                 facts          {json} NOT NULL,
                 occurred_at    {ts} NOT NULL,
                 traceparent    {text},
                 PRIMARY KEY (aggregate_type, aggregate_id, sequence)
             );
             CREATE TABLE {owners} (
                 aggregate_type {text} NOT NULL,
                 aggregate_id   {text} NOT NULL,
                 member_id      {text} NOT NULL,
                 PRIMARY KEY (aggregate_type, aggregate_id)
             );
             CREATE TABLE {contacts} (
                 member_id {text} PRIMARY KEY,
                 name      {text} NOT NULL,
                 email     {text} NOT NULL
             );
             CREATE TABLE {languages} (
                 member_id {text} PRIMARY KEY,
                 language  {text} NOT NULL
             );",
            notices = t("notices"),
            owners = t("owners"),
            contacts = t("contacts"),
            languages = t("languages"),
        )
    }

    fn reduce(&self, event: &EventEnvelope) -> Result<Vec<Change>, ReduceError> {
        // Decoded first, so an event the domain cannot read is parked, not told.
        decode(event)?;
        let facts = fields(&event.payload);
        let mut changes = Vec::new();
        let owner = match event.event_type.as_str() {
            "member.registered" => {
                if let (Some(name), Some(email)) = (text(&facts, "name"), text(&facts, "email")) {
                    changes.push(Change::Contact(ContactRow {
                        member_id: event.aggregate_id.clone(),
                        name,
                        email,
                    }));
                }
                Some(event.aggregate_id.clone())
            }
            "member.notice_language_chosen" => {
                if let Some(language) = text(&facts, "language") {
                    changes.push(Change::Language(LanguageRow {
                        member_id: event.aggregate_id.clone(),
                        language,
                    }));
                }
                Some(event.aggregate_id.clone())
            }
            "parcel.arrived"
            | "parcel.attached_to_member"
            | "shipment.consolidated"
            | "shipment.packing_requested"
            | "account.opened" => text(&facts, "member_id"),
            _ => None,
        };
        if let Some(member_id) = owner {
            changes.push(Change::Owner(OwnerRow {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                member_id,
            }));
        }
        if let Some(kind) = NoticeKind::of(&event.event_type) {
            let member_id = text(&facts, "member_id");
            let mut facts = facts;
            if let Some(object) = facts.as_object_mut() {
                object.insert("event_type".to_owned(), event.event_type.clone().into());
            }
            changes.push(Change::Notice(NoticeRow {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                sequence: event.sequence,
                notice_id: event.event_id,
                kind,
                rule: kind.rule().to_owned(),
                member_id,
                facts,
                occurred_at: event.recorded_at,
                traceparent: event.metadata_str("traceparent").map(str::to_owned),
            }));
        }
        Ok(changes)
    }

    async fn apply(
        &self,
        conn: &mut ViewConn<'_>,
        schema: &Schema,
        changes: &[Change],
    ) -> Result<(), sqlx::Error> {
        for change in changes {
            match change {
                Change::Notice(row) => {
                    table::upsert(conn, schema, &NOTICES, std::slice::from_ref(row)).await?
                }
                Change::Owner(row) => {
                    table::upsert(conn, schema, &OWNERS, std::slice::from_ref(row)).await?
                }
                Change::Contact(row) => {
                    table::upsert(conn, schema, &CONTACTS, std::slice::from_ref(row)).await?
                }
                Change::Language(row) => {
                    table::upsert(conn, schema, &LANGUAGES, std::slice::from_ref(row)).await?
                }
            }
        }
        Ok(())
    }
}

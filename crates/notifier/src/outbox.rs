//! The notices waiting for delivery and the record of every delivery, beside the views.
//!
//! `notifier_deliveries` holds one row per (notice, target): the words sent, each attempt's
//! count and last error, when it was sent and what the receiver answered, or that it finally
//! failed. It is the evidence a dispute asks for, and it is not part of the notices view, so a
//! rebuilt view sends nothing again.

use crate::templates::Worded;
use chrono::{DateTime, Utc};
use projection_runtime::{catalog, Dialect, ViewDb};
use projections::notices::{NoticeKind, NAME};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A notice waiting for delivery to a target, with its member's contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The notice (the event's id).
    pub notice_id: String,
    /// What it tells.
    pub kind: NoticeKind,
    /// The aggregate concerned.
    pub aggregate_id: String,
    /// The event's fields.
    pub facts: Value,
    /// The member.
    pub member_id: String,
    /// Their name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
    /// The language they chose for their notices (`ja`, `en`); `None`: the notifier's.
    pub language: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
    /// The W3C trace context of the command whose event this notice tells.
    pub traceparent: Option<String>,
}

/// How a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Delivered.
    Sent,
    /// Failed; tried again at `next_attempt_at`.
    Retrying,
    /// Failed too often; not tried again.
    Failed,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Sent => "sent",
            State::Retrying => "retrying",
            State::Failed => "failed",
        }
    }
}

/// One delivery as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The notice.
    pub notice_id: String,
    /// `email` or the webhook's URL.
    pub target: String,
    /// How it stands.
    pub state: State,
    /// Attempts made.
    pub attempts: u32,
    /// The words sent.
    pub subject: String,
    /// The body sent.
    pub body: String,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// What the receiver answered, or the last error.
    pub response: Option<String>,
}

/// The outbox over a [`ViewDb`].
#[derive(Debug, Clone)]
pub struct Outbox {
    db: ViewDb,
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Outbox {
    /// The outbox in `db`, its table created when missing.
    pub async fn open(db: ViewDb) -> Result<Self, sqlx::Error> {
        let ddl = "CREATE TABLE IF NOT EXISTS notifier_deliveries (
                       notice_id       TEXT NOT NULL,
                       target          TEXT NOT NULL,
                       state           TEXT NOT NULL,
                       attempts        BIGINT NOT NULL,
                       next_attempt_at TEXT,
                       subject         TEXT NOT NULL,
                       body            TEXT NOT NULL,
                       sent_at         TEXT,
                       response        TEXT,
                       PRIMARY KEY (notice_id, target)
                   )";
        match &db {
            ViewDb::Postgres(pool) => {
                sqlx::query(ddl).execute(pool).await?;
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                sqlx::query(ddl).execute(views.writer()).await?;
            }
        }
        Ok(Self { db })
    }

    /// Up to `limit` notices due for delivery to `target` at `now`: never tried, or retrying
    /// and due again; oldest first. None before the notices view exists.
    pub async fn pending(
        &self,
        target: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Pending>, sqlx::Error> {
        let Ok(Some(schema)) = catalog::current(&self.db, NAME).await else {
            return Ok(Vec::new());
        };
        let dialect = self.db.dialect();
        let (notices, owners, contacts, languages) = (
            schema.table(dialect, "notices"),
            schema.table(dialect, "owners"),
            schema.table(dialect, "contacts"),
            schema.table(dialect, "languages"),
        );
        let (p1, p2, p3) = match dialect {
            Dialect::Postgres => ("$1", "$2", "$3"),
            Dialect::Sqlite => ("?1", "?2", "?3"),
        };
        let facts = match dialect {
            Dialect::Postgres => "n.facts::text",
            Dialect::Sqlite => "n.facts",
        };
        let sql = format!(
            "SELECT n.notice_id, n.kind, n.aggregate_id, {facts}, c.member_id, c.name, c.email, \
                    l.language, coalesce(d.attempts, 0), n.traceparent \
               FROM {notices} n \
               LEFT JOIN {owners} o \
                      ON o.aggregate_type = n.aggregate_type AND o.aggregate_id = n.aggregate_id \
               JOIN {contacts} c ON c.member_id = coalesce(n.member_id, o.member_id) \
               LEFT JOIN {languages} l ON l.member_id = c.member_id \
               LEFT JOIN notifier_deliveries d ON d.notice_id = n.notice_id AND d.target = {p1} \
              WHERE d.notice_id IS NULL OR (d.state = 'retrying' AND d.next_attempt_at <= {p2}) \
              ORDER BY n.occurred_at, n.notice_id \
              LIMIT {p3}"
        );
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            i64,
            Option<String>,
        );
        let rows: Vec<Row> = match &self.db {
            ViewDb::Postgres(pool) => {
                sqlx::query_as(&sql)
                    .bind(target)
                    .bind(timestamp(now))
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await?
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                sqlx::query_as(&sql)
                    .bind(target)
                    .bind(timestamp(now))
                    .bind(i64::from(limit))
                    .fetch_all(views.reader())
                    .await?
            }
        };
        rows.into_iter()
            .map(
                |(
                    notice_id,
                    kind,
                    aggregate_id,
                    facts,
                    member_id,
                    name,
                    email,
                    language,
                    attempts,
                    traceparent,
                )| {
                    let decode = |what: &str, e: serde_json::Error| {
                        sqlx::Error::Decode(format!("notice {notice_id}: {what}: {e}").into())
                    };
                    Ok(Pending {
                        kind: serde_json::from_value(Value::String(kind))
                            .map_err(|e| decode("kind", e))?,
                        facts: serde_json::from_str(&facts).map_err(|e| decode("facts", e))?,
                        notice_id,
                        aggregate_id,
                        member_id,
                        name,
                        email,
                        language,
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        traceparent,
                    })
                },
            )
            .collect()
    }

    /// Records an attempt's outcome for `notice` to `target`.
    #[allow(clippy::too_many_arguments)]
    pub async fn record(
        &self,
        notice_id: &str,
        target: &str,
        state: State,
        attempts: u32,
        next_attempt_at: Option<DateTime<Utc>>,
        worded: &Worded,
        sent_at: Option<DateTime<Utc>>,
        response: &str,
    ) -> Result<(), sqlx::Error> {
        let (p, conflict) = match self.db.dialect() {
            Dialect::Postgres => (
                ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9"],
                "EXCLUDED",
            ),
            Dialect::Sqlite => (
                ["?1", "?2", "?3", "?4", "?5", "?6", "?7", "?8", "?9"],
                "excluded",
            ),
        };
        let sql = format!(
            "INSERT INTO notifier_deliveries (notice_id, target, state, attempts, \
                 next_attempt_at, subject, body, sent_at, response) \
             VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) \
             ON CONFLICT (notice_id, target) DO UPDATE SET state = {conflict}.state, \
                 attempts = {conflict}.attempts, next_attempt_at = {conflict}.next_attempt_at, \
                 subject = {conflict}.subject, body = {conflict}.body, \
                 sent_at = {conflict}.sent_at, response = {conflict}.response",
            p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]
        );
        macro_rules! bound {
            ($query:expr) => {
                $query
                    .bind(notice_id)
                    .bind(target)
                    .bind(state.as_str())
                    .bind(i64::from(attempts))
                    .bind(next_attempt_at.map(timestamp))
                    .bind(&worded.subject)
                    .bind(&worded.body)
                    .bind(sent_at.map(timestamp))
                    .bind(response)
            };
        }
        match &self.db {
            ViewDb::Postgres(pool) => {
                bound!(sqlx::query(&sql)).execute(pool).await?;
            }
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => {
                bound!(sqlx::query(&sql)).execute(views.writer()).await?;
            }
        }
        Ok(())
    }

    /// Every delivery recorded, in notice and target order.
    pub async fn deliveries(&self) -> Result<Vec<Delivery>, sqlx::Error> {
        let sql = "SELECT notice_id, target, state, attempts, subject, body, sent_at, response \
                     FROM notifier_deliveries ORDER BY notice_id, target";
        type Row = (
            String,
            String,
            String,
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = match &self.db {
            ViewDb::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await?,
            #[cfg(feature = "sqlite")]
            ViewDb::Sqlite(views) => sqlx::query_as(sql).fetch_all(views.reader()).await?,
        };
        rows.into_iter()
            .map(
                |(notice_id, target, state, attempts, subject, body, sent_at, response)| {
                    Ok(Delivery {
                        state: serde_json::from_value(Value::String(state.clone())).map_err(
                            |_| sqlx::Error::Decode(format!("delivery state {state:?}").into()),
                        )?,
                        sent_at: sent_at
                            .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
                            .map(|at| at.to_utc()),
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        notice_id,
                        target,
                        subject,
                        body,
                        response,
                    })
                },
            )
            .collect()
    }
}

//! # The schedule view
//!
//! Every deadline an aggregate's own events set and that the business clock must act on when
//! it passes, with the command that acts: an unpaid quote held the day after its due date
//! (PAY-2), a claim escalated when its response is overdue (CLM-3), an exchange lapsed the day
//! after its return-by date (CLM-6), a member's identity document checked the day after it
//! expires (MEM-2), Auto Ship lapsed on its lapse date (MEM-7), an expected proxy-paid parcel
//! cancelled when it has not arrived in time (PAR-2), and the dunning of an unpaid
//! quote (ACC-6): the reminder the day after its due date, the notice a week later, late
//! interest from the day after the notice's deadline until paid. A deadline is removed by the
//! event that settles it (paid, responded, received, used again, ...), and replaced when a
//! later event moves it.
//!
//! Table (schema `view_schedule_v<N>`): `deadlines`, keyed by aggregate, rule and subject (a
//! claim id, or empty), with the local due date and, for CLM-3, the exact instant.
//!
//! Automatic closure (MEM-9) has no date of its own: it holds from the day one of its
//! conditions is met, which depends on the policy. The view keeps the facts it reads per
//! member and per account ([`closure`]) and the scheduler computes the day.
//!
//! The storage clock's deadlines (STO-2 notices and the disposable mark, STO-3 fees) depend on
//! the member's earliest waiting parcel (STO-1), i.e. on several aggregates, so they are read
//! from the storage-status view at the time of asking instead (`storage_status::due_today`).
//!
//! *Architecture Invariant*: as in every view, an aggregate's events change only rows keyed by
//! that aggregate, and nothing here depends on "today": the view says when, the scheduler
//! (`crates/scheduler`) decides whether that is now.

mod closure;
mod query;

pub use closure::{
    closure_facts, AccountFact, ClosureChange, ClosureFacts, MemberFact, CLOSURE_ACCOUNTS,
    CLOSURE_MEMBERS,
};
pub use query::{due_by, Deadline};

use crate::decode::{decode, issued_at, DomainEventOf};
use chrono::{DateTime, Days, NaiveDate, Utc};
use domain::member::MemberEvent;
use domain::parcel::ParcelEvent;
use domain::shipment::ShipmentEvent;
use projection_runtime::{
    rows as table, Dialect, EventEnvelope, Projection, ReduceError, Schema, TableSpec, ViewConn,
};
use serde::{Deserialize, Serialize};

/// The schedule projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Schedule;

/// The view's name: its instances are `view_schedule_v<N>`.
pub const NAME: &str = "schedule";

/// The `deadlines` table.
pub const DEADLINES: TableSpec = TableSpec {
    name: "deadlines",
    key: &["aggregate_type", "aggregate_id", "rule", "subject"],
    columns: &[
        "aggregate_type",
        "aggregate_id",
        "rule",
        "subject",
        "action",
        "due_on",
        "due_at",
    ],
    numeric: &[],
    json: &[],
    boolean: &[],
    timestamp: &["due_at"],
};

/// What the scheduler does when a deadline passes: one command of the engine each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Hold a shipment whose quote is unpaid past its due date (PAY-2).
    HoldUnpaid,
    /// Escalate a claim not responded to in time (CLM-3).
    EscalateClaim,
    /// Lapse an exchange whose item did not come back in time (CLM-6).
    LapseExchange,
    /// Record that the member's identity document expired (MEM-2).
    CheckDocumentExpiry,
    /// Lapse Auto Ship after its period unused (MEM-7).
    LapseAutoShip,
    /// Remind the member of a quote unpaid on its due date (ACC-6).
    RemindPayment,
    /// Send the dunning notice a week after the reminder (ACC-6).
    SendDunningNotice,
    /// Accrue late interest on a dunned quote at every month's end, from the day after the
    /// notice's deadline (ACC-6): the row's date is the first day of interest, the scheduler
    /// derives each month's action from it.
    AccrueLateInterest,
    /// Accrue the last late interest of a dunned quote through the day it was paid (ACC-6).
    AccrueFinalInterest,
    /// Cancel an expected proxy-paid parcel that has not arrived in time (PAR-2).
    CancelExpectedParcel,
}

impl Action {
    /// The rule id the action enforces.
    pub fn rule(self) -> &'static str {
        match self {
            Action::HoldUnpaid => "PAY-2",
            Action::EscalateClaim => "CLM-3",
            Action::LapseExchange => "CLM-6",
            Action::CheckDocumentExpiry => "MEM-2",
            Action::LapseAutoShip => "MEM-7",
            Action::RemindPayment
            | Action::SendDunningNotice
            | Action::AccrueLateInterest
            | Action::AccrueFinalInterest => "ACC-6",
            Action::CancelExpectedParcel => "PAR-2",
        }
    }

    /// The action's name as stored (`hold_unpaid`).
    pub fn name(self) -> &'static str {
        match self {
            Action::HoldUnpaid => "hold_unpaid",
            Action::EscalateClaim => "escalate_claim",
            Action::LapseExchange => "lapse_exchange",
            Action::CheckDocumentExpiry => "check_document_expiry",
            Action::LapseAutoShip => "lapse_auto_ship",
            Action::RemindPayment => "remind_payment",
            Action::SendDunningNotice => "send_dunning_notice",
            Action::AccrueLateInterest => "accrue_late_interest",
            Action::AccrueFinalInterest => "accrue_final_interest",
            Action::CancelExpectedParcel => "cancel_expected_parcel",
        }
    }
}

/// One row of `deadlines`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRow {
    /// `shipment` or `member`.
    pub aggregate_type: String,
    /// The aggregate.
    pub aggregate_id: String,
    /// The rule id (`PAY-2`).
    pub rule: String,
    /// The claim concerned, or empty.
    pub subject: String,
    /// What to do.
    pub action: Action,
    /// The warehouse's local date from which it is due.
    pub due_on: NaiveDate,
    /// The exact instant from which it is due, when the rule has one (CLM-3).
    pub due_at: Option<DateTime<Utc>>,
}

/// One change of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A deadline is set or moved.
    Due(DeadlineRow),
    /// The deadline of (aggregate, rule, subject) is settled.
    Settled {
        /// The aggregate's type.
        aggregate_type: String,
        /// The aggregate.
        aggregate_id: String,
        /// The rule id.
        rule: &'static str,
        /// The claim, or empty.
        subject: String,
    },
    /// A quote was paid on `paid_on` (ACC-6): dunning stops, and interest already running
    /// gets its last accrual, through that day.
    QuotePaid {
        /// The shipment.
        aggregate_id: String,
        /// The local date paid.
        paid_on: NaiveDate,
    },
    /// A fact automatic closure reads changed (MEM-9).
    Closure(ClosureChange),
}

impl Projection for Schedule {
    type Change = Change;

    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [TableSpec] {
        &[DEADLINES, CLOSURE_MEMBERS, CLOSURE_ACCOUNTS]
    }

    fn create_tables(&self, schema: &Schema, dialect: Dialect) -> String {
        let table = schema.table(dialect, DEADLINES.name);
        let (text, date, timestamp) = match dialect {
            Dialect::Postgres => ("text", "date", "timestamptz"),
            Dialect::Sqlite => ("TEXT", "TEXT", "TEXT"),
        };
        let index = match dialect {
            Dialect::Postgres => format!("CREATE INDEX ON {table} (due_on);"),
            Dialect::Sqlite => format!("CREATE INDEX {table}_due ON {table} (due_on);"),
        };
        format!(
            "CREATE TABLE {table} (
                 aggregate_type {text} NOT NULL,
                 aggregate_id   {text} NOT NULL,
                 rule           {text} NOT NULL,
                 subject        {text} NOT NULL,
                 action         {text} NOT NULL,
                 due_on         {date} NOT NULL,
                 due_at         {timestamp},
                 PRIMARY KEY (aggregate_type, aggregate_id, rule, subject)
             );
             {index}
             {closure}",
            closure = closure::create_tables(schema, dialect)
        )
    }

    fn reduce(&self, event: &EventEnvelope) -> Result<Vec<Change>, ReduceError> {
        let (id, event_of) = (&event.aggregate_id, event);
        Ok(match decode(event)? {
            DomainEventOf::Shipment(event) => shipment(id, event),
            DomainEventOf::Member(event) => {
                let mut changes = member(id, &event);
                changes.extend(closure::member(id, &event).map(Change::Closure));
                changes
            }
            DomainEventOf::Parcel(event) => parcel(id, event),
            DomainEventOf::Account(event) => closure::account(id, &event, issued_at(event_of))
                .into_iter()
                .chain(closure::approval(id, &event))
                .map(Change::Closure)
                .collect(),
        })
    }

    async fn apply(
        &self,
        conn: &mut ViewConn<'_>,
        schema: &Schema,
        changes: &[Change],
    ) -> Result<(), sqlx::Error> {
        for change in changes {
            match change {
                Change::Due(row) => {
                    table::upsert(conn, schema, &DEADLINES, std::slice::from_ref(row)).await?
                }
                Change::Settled {
                    aggregate_type,
                    aggregate_id,
                    rule,
                    subject,
                } => {
                    let name = schema.table(conn.dialect(), DEADLINES.name);
                    match conn {
                        ViewConn::Postgres(conn) => {
                            sqlx::query(&format!(
                                "DELETE FROM {name} WHERE aggregate_type = $1 \
                                   AND aggregate_id = $2 AND rule = $3 AND subject = $4"
                            ))
                            .bind(aggregate_type)
                            .bind(aggregate_id)
                            .bind(rule)
                            .bind(subject)
                            .execute(&mut **conn)
                            .await?;
                        }
                        #[cfg(feature = "sqlite")]
                        ViewConn::Sqlite(conn) => {
                            sqlx::query(&format!(
                                "DELETE FROM {name} WHERE aggregate_type = ?1 \
                                   AND aggregate_id = ?2 AND rule = ?3 AND subject = ?4"
                            ))
                            .bind(aggregate_type)
                            .bind(aggregate_id)
                            .bind(rule)
                            .bind(subject)
                            .execute(&mut **conn)
                            .await?;
                        }
                    }
                }
                Change::QuotePaid {
                    aggregate_id,
                    paid_on,
                } => quote_paid(conn, schema, aggregate_id, *paid_on).await?,
                // Their own tables, written together below.
                Change::Closure(_) => {}
            }
        }
        let closure: Vec<&ClosureChange> = changes
            .iter()
            .filter_map(|change| match change {
                Change::Closure(change) => Some(change),
                _ => None,
            })
            .collect();
        closure::apply(conn, schema, &closure).await
    }
}

/// ACC-6 once a quote is paid: interest that runs by then turns into its final accrual,
/// through the day paid; any other dunning step is dropped.
async fn quote_paid(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    shipment: &str,
    paid_on: NaiveDate,
) -> Result<(), sqlx::Error> {
    let name = schema.table(conn.dialect(), DEADLINES.name);
    let (running, last, rule) = (
        Action::AccrueLateInterest.name(),
        Action::AccrueFinalInterest.name(),
        Action::AccrueLateInterest.rule(),
    );
    match conn {
        ViewConn::Postgres(conn) => {
            sqlx::query(&format!(
                "UPDATE {name} SET action = $1, due_on = $2 WHERE aggregate_type = 'shipment' \
                   AND aggregate_id = $3 AND rule = $4 AND action = $5 AND due_on <= $2"
            ))
            .bind(last)
            .bind(paid_on)
            .bind(shipment)
            .bind(rule)
            .bind(running)
            .execute(&mut **conn)
            .await?;
            sqlx::query(&format!(
                "DELETE FROM {name} WHERE aggregate_type = 'shipment' \
                   AND aggregate_id = $1 AND rule = $2 AND action <> $3"
            ))
            .bind(shipment)
            .bind(rule)
            .bind(last)
            .execute(&mut **conn)
            .await?;
        }
        #[cfg(feature = "sqlite")]
        ViewConn::Sqlite(conn) => {
            let paid_on = paid_on.to_string();
            sqlx::query(&format!(
                "UPDATE {name} SET action = ?1, due_on = ?2 WHERE aggregate_type = 'shipment' \
                   AND aggregate_id = ?3 AND rule = ?4 AND action = ?5 AND due_on <= ?2"
            ))
            .bind(last)
            .bind(&paid_on)
            .bind(shipment)
            .bind(rule)
            .bind(running)
            .execute(&mut **conn)
            .await?;
            sqlx::query(&format!(
                "DELETE FROM {name} WHERE aggregate_type = 'shipment' \
                   AND aggregate_id = ?1 AND rule = ?2 AND action <> ?3"
            ))
            .bind(shipment)
            .bind(rule)
            .bind(last)
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

fn due(
    aggregate_type: &str,
    aggregate_id: &str,
    action: Action,
    subject: &str,
    due_on: NaiveDate,
    due_at: Option<DateTime<Utc>>,
) -> Change {
    Change::Due(DeadlineRow {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        rule: action.rule().to_owned(),
        subject: subject.to_owned(),
        action,
        due_on,
        due_at,
    })
}

fn settled(aggregate_type: &str, aggregate_id: &str, action: Action, subject: &str) -> Change {
    Change::Settled {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        rule: action.rule(),
        subject: subject.to_owned(),
    }
}

/// The day after `day`: "past its date" is from the next day on.
fn day_after(day: NaiveDate) -> NaiveDate {
    day.checked_add_days(Days::new(1)).unwrap_or(day)
}

fn shipment(id: &str, event: ShipmentEvent) -> Vec<Change> {
    const S: &str = "shipment";
    match event {
        ShipmentEvent::Quoted { due_on, .. } => vec![
            due(S, id, Action::HoldUnpaid, "", day_after(due_on), None),
            due(S, id, Action::RemindPayment, "", day_after(due_on), None),
        ],
        ShipmentEvent::PaymentReminded { dunning_from, .. } => {
            vec![due(
                S,
                id,
                Action::SendDunningNotice,
                "",
                dunning_from,
                None,
            )]
        }
        ShipmentEvent::DunningNoticeSent { interest_from, .. } => {
            vec![due(
                S,
                id,
                Action::AccrueLateInterest,
                "",
                interest_from,
                None,
            )]
        }
        ShipmentEvent::Paid { paid_on, .. } => vec![
            settled(S, id, Action::HoldUnpaid, ""),
            Change::QuotePaid {
                aggregate_id: id.to_owned(),
                paid_on,
            },
        ],
        ShipmentEvent::Cancelled { .. } => vec![
            settled(S, id, Action::HoldUnpaid, ""),
            settled(S, id, Action::RemindPayment, ""),
        ],
        ShipmentEvent::Held { .. } | ShipmentEvent::Shipped { .. } => {
            vec![settled(S, id, Action::HoldUnpaid, "")]
        }
        ShipmentEvent::Claimed {
            claim_id,
            response_due,
            ..
        } => vec![due(
            S,
            id,
            Action::EscalateClaim,
            claim_id.as_str(),
            response_due.date_naive(),
            Some(response_due),
        )],
        ShipmentEvent::ClaimResponded { claim_id, .. }
        | ShipmentEvent::ClaimEscalated { claim_id, .. }
        | ShipmentEvent::ClaimWithdrawn { claim_id, .. }
        | ShipmentEvent::ClaimRejected { claim_id, .. }
        | ShipmentEvent::ClaimApproved { claim_id, .. } => {
            vec![settled(S, id, Action::EscalateClaim, claim_id.as_str())]
        }
        ShipmentEvent::ClaimExchangeAccepted {
            claim_id,
            return_by,
            ..
        } => vec![due(
            S,
            id,
            Action::LapseExchange,
            claim_id.as_str(),
            day_after(return_by),
            None,
        )],
        ShipmentEvent::ClaimExchangeItemReceived { claim_id, .. }
        | ShipmentEvent::ClaimExchangeLapsed { claim_id, .. } => {
            vec![settled(S, id, Action::LapseExchange, claim_id.as_str())]
        }
        _ => Vec::new(),
    }
}

fn member(id: &str, event: &MemberEvent) -> Vec<Change> {
    const M: &str = "member";
    match event {
        MemberEvent::IdentityVerified { expires_on, .. } => vec![due(
            M,
            id,
            Action::CheckDocumentExpiry,
            "",
            day_after(*expires_on),
            None,
        )],
        MemberEvent::VerificationLapsed { .. } => {
            vec![settled(M, id, Action::CheckDocumentExpiry, "")]
        }
        MemberEvent::AutoShipSet { lapses_on, .. }
        | MemberEvent::AutoShipUsed { lapses_on, .. } => {
            vec![due(M, id, Action::LapseAutoShip, "", *lapses_on, None)]
        }
        MemberEvent::AutoShipUnset { .. } | MemberEvent::AutoShipLapsed { .. } => {
            vec![settled(M, id, Action::LapseAutoShip, "")]
        }
        MemberEvent::Closed { .. } | MemberEvent::AutoClosed { .. } => vec![
            settled(M, id, Action::CheckDocumentExpiry, ""),
            settled(M, id, Action::LapseAutoShip, ""),
        ],
        _ => Vec::new(),
    }
}

fn parcel(id: &str, event: ParcelEvent) -> Vec<Change> {
    const P: &str = "parcel";
    match event {
        ParcelEvent::Expected {
            cancellable_from, ..
        } => vec![due(
            P,
            id,
            Action::CancelExpectedParcel,
            "",
            cancellable_from,
            None,
        )],
        ParcelEvent::Arrived { .. }
        | ParcelEvent::Refused { .. }
        | ParcelEvent::Cancelled { .. } => {
            vec![settled(P, id, Action::CancelExpectedParcel, "")]
        }
        _ => Vec::new(),
    }
}

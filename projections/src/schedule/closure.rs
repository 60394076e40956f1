//! The facts automatic closure reads (MEM-9, cn-agency), kept by the schedule view so the
//! business clock knows from which day a member may be closed:
//! - `closure_members`, keyed by member: the registration date and the last login, while the
//!   member is open (a withdrawal or a closure removes the row);
//! - `closure_accounts`, keyed by account: its member, the balance, since when it has been
//!   below zero (the business instant of the movement that took it there, from the event's
//!   `issued_at`), and the day of the first top-up application.
//!
//! Each aggregate's events touch only its own table's row; [`closure_facts`] joins the two at
//! query time. The view knows no policy: the scheduler decides, with the domain's
//! `auto_closure_conditions`, whether and since when a condition holds.

use super::NAME;
use crate::{QueryError, ViewDb};
use chrono::{DateTime, NaiveDate, Utc};
use domain::account::AccountEvent;
use domain::member::MemberEvent;
use projection_runtime::{catalog, rows as table, Dialect, Schema, TableSpec, ViewConn};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `closure_members` table.
pub const CLOSURE_MEMBERS: TableSpec = TableSpec {
    name: "closure_members",
    key: &["member_id"],
    columns: &["member_id", "registered_on", "last_login_at"],
    numeric: &[],
    json: &[],
    boolean: &[],
    timestamp: &["last_login_at"],
};

/// The `closure_accounts` table.
pub const CLOSURE_ACCOUNTS: TableSpec = TableSpec {
    name: "closure_accounts",
    key: &["account_id"],
    columns: &[
        "account_id",
        "member_id",
        "balance",
        "balance_sign",
        "negative_since",
        "first_top_up_on",
    ],
    numeric: &["balance"],
    json: &[],
    boolean: &[],
    timestamp: &["negative_since"],
};

/// The DDL of both tables in `schema`.
pub(super) fn create_tables(schema: &Schema, dialect: Dialect) -> String {
    let members = schema.table(dialect, CLOSURE_MEMBERS.name);
    let accounts = schema.table(dialect, CLOSURE_ACCOUNTS.name);
    let (text, date, timestamp, numeric, int) = match dialect {
        Dialect::Postgres => ("text", "date", "timestamptz", "numeric", "integer"),
        Dialect::Sqlite => ("TEXT", "TEXT", "TEXT", "TEXT", "INTEGER"),
    };
    let index = match dialect {
        Dialect::Postgres => format!("CREATE INDEX ON {accounts} (balance_sign, member_id);"),
        Dialect::Sqlite => {
            format!("CREATE INDEX {accounts}_sign ON {accounts} (balance_sign, member_id);")
        }
    };
    format!(
        "CREATE TABLE {members} (
             member_id     {text} PRIMARY KEY,
             registered_on {date} NOT NULL,
             last_login_at {timestamp}
         );
         CREATE TABLE {accounts} (
             account_id      {text} PRIMARY KEY,
             member_id       {text},
             balance         {numeric} NOT NULL,
             balance_sign    {int} NOT NULL,
             negative_since  {timestamp},
             first_top_up_on {date}
         );
         {index}"
    )
}

/// What one member or account event changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClosureChange {
    /// A member's fact.
    Member {
        /// The member.
        member_id: String,
        /// The fact.
        fact: MemberFact,
    },
    /// An account's fact.
    Account {
        /// The account.
        account_id: String,
        /// The fact.
        fact: AccountFact,
    },
}

/// A member fact automatic closure reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberFact {
    /// Registered on this local date.
    Registered(NaiveDate),
    /// Logged in at this instant.
    LoggedIn(DateTime<Utc>),
    /// Withdrawing or closed: never closed automatically again.
    Gone,
}

/// An account fact automatic closure reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountFact {
    /// Opened for this member.
    Opened(String),
    /// Money moved by this signed amount at this business instant.
    Moved(Decimal, DateTime<Utc>),
    /// A top-up application was decided on this local date.
    Applied(NaiveDate),
}

/// The changes of a member event.
pub(super) fn member(id: &str, event: &MemberEvent) -> Option<ClosureChange> {
    let fact = match event {
        MemberEvent::Registered { registered_on, .. } => MemberFact::Registered(*registered_on),
        MemberEvent::LoggedIn { at } => MemberFact::LoggedIn(*at),
        MemberEvent::WithdrawalRequested { .. }
        | MemberEvent::Closed { .. }
        | MemberEvent::AutoClosed { .. } => MemberFact::Gone,
        _ => return None,
    };
    Some(ClosureChange::Member {
        member_id: id.to_owned(),
        fact,
    })
}

/// The changes of an account event issued at `issued_at`.
pub(super) fn account(
    id: &str,
    event: &AccountEvent,
    issued_at: DateTime<Utc>,
) -> Option<ClosureChange> {
    let fact = match event {
        AccountEvent::Opened { member_id, .. } => {
            AccountFact::Opened(member_id.as_str().to_owned())
        }
        AccountEvent::TopUpRejected { rejected_on, .. } => AccountFact::Applied(*rejected_on),
        // An approval is an application and a movement: the movement is what changes the
        // balance, the application is dated below.
        _ => AccountFact::Moved(event.movement()?.amount.amount, issued_at),
    };
    Some(ClosureChange::Account {
        account_id: id.to_owned(),
        fact,
    })
}

/// The application date an approved top-up also records.
pub(super) fn approval(id: &str, event: &AccountEvent) -> Option<ClosureChange> {
    match event {
        AccountEvent::TopUpApproved { approved_on, .. } => Some(ClosureChange::Account {
            account_id: id.to_owned(),
            fact: AccountFact::Applied(*approved_on),
        }),
        _ => None,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MemberRow {
    member_id: String,
    registered_on: NaiveDate,
    last_login_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccountRow {
    account_id: String,
    member_id: Option<String>,
    balance: Decimal,
    balance_sign: i32,
    negative_since: Option<DateTime<Utc>>,
    first_top_up_on: Option<NaiveDate>,
}

impl AccountRow {
    fn new(account_id: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            member_id: None,
            balance: Decimal::ZERO,
            balance_sign: 0,
            negative_since: None,
            first_top_up_on: None,
        }
    }

    fn apply(&mut self, fact: &AccountFact) {
        match fact {
            AccountFact::Opened(member_id) => self.member_id = Some(member_id.clone()),
            AccountFact::Moved(amount, at) => {
                self.balance += amount;
                self.balance_sign = match self.balance.cmp(&Decimal::ZERO) {
                    std::cmp::Ordering::Less => -1,
                    std::cmp::Ordering::Equal => 0,
                    std::cmp::Ordering::Greater => 1,
                };
                // A run below zero starts with the movement that took the balance there.
                self.negative_since = match self.balance_sign {
                    -1 => self.negative_since.or(Some(*at)),
                    _ => None,
                };
            }
            AccountFact::Applied(on) => {
                self.first_top_up_on.get_or_insert(*on);
            }
        }
    }
}

/// Writes a batch's closure changes, in order.
pub(super) async fn apply(
    conn: &mut ViewConn<'_>,
    schema: &Schema,
    changes: &[&ClosureChange],
) -> Result<(), sqlx::Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let (mut member_keys, mut account_keys) = (Vec::new(), Vec::new());
    for change in changes {
        match change {
            ClosureChange::Member { member_id, .. } => member_keys.push(member_id.clone()),
            ClosureChange::Account { account_id, .. } => account_keys.push(account_id.clone()),
        }
    }
    let mut members: BTreeMap<String, Option<MemberRow>> =
        table::load::<MemberRow>(conn, schema, &CLOSURE_MEMBERS, &member_keys)
            .await?
            .into_iter()
            .map(|row| (row.member_id.clone(), Some(row)))
            .collect();
    let mut accounts: BTreeMap<String, AccountRow> =
        table::load::<AccountRow>(conn, schema, &CLOSURE_ACCOUNTS, &account_keys)
            .await?
            .into_iter()
            .map(|row| (row.account_id.clone(), row))
            .collect();
    for change in changes {
        match change {
            ClosureChange::Member { member_id, fact } => {
                let row = members.entry(member_id.clone()).or_default();
                match fact {
                    MemberFact::Registered(on) => {
                        *row = Some(MemberRow {
                            member_id: member_id.clone(),
                            registered_on: *on,
                            last_login_at: None,
                        });
                    }
                    MemberFact::LoggedIn(at) => {
                        if let Some(row) = row {
                            row.last_login_at = Some(*at);
                        }
                    }
                    MemberFact::Gone => *row = None,
                }
            }
            ClosureChange::Account { account_id, fact } => accounts
                .entry(account_id.clone())
                .or_insert_with(|| AccountRow::new(account_id))
                .apply(fact),
        }
    }
    let (open, gone): (Vec<_>, Vec<_>) = members.into_iter().partition(|(_, row)| row.is_some());
    let open: Vec<MemberRow> = open.into_iter().filter_map(|(_, row)| row).collect();
    let gone: Vec<String> = gone.into_iter().map(|(id, _)| id).collect();
    table::upsert(conn, schema, &CLOSURE_MEMBERS, &open).await?;
    table::delete(conn, schema, &CLOSURE_MEMBERS, &gone).await?;
    let accounts: Vec<AccountRow> = accounts.into_values().collect();
    table::upsert(conn, schema, &CLOSURE_ACCOUNTS, &accounts).await?;
    Ok(())
}

/// An open member whose balance is zero or below, with what automatic closure reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureFacts {
    /// The member.
    pub member_id: String,
    /// The local registration date.
    pub registered_on: NaiveDate,
    /// The last login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// The balance.
    pub balance: Decimal,
    /// The business instant the balance went below zero, while it is.
    pub negative_since: Option<DateTime<Utc>>,
    /// The local date of the first top-up application.
    pub first_top_up_on: Option<NaiveDate>,
}

/// The open members whose balance is zero or below (the only ones automatic closure can
/// close), by member id, after member `after`, at most `limit`: a keyset page.
pub async fn closure_facts(
    db: &ViewDb,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<ClosureFacts>, QueryError> {
    let schema = catalog::serving(db, NAME).await?;
    let rows: Vec<String> = match db {
        ViewDb::Postgres(pool) => {
            let (m, a) = (
                schema.table(Dialect::Postgres, CLOSURE_MEMBERS.name),
                schema.table(Dialect::Postgres, CLOSURE_ACCOUNTS.name),
            );
            sqlx::query_scalar(&format!(
                "SELECT jsonb_build_object('member_id', m.member_id,
                        'registered_on', m.registered_on, 'last_login_at', m.last_login_at,
                        'balance', a.balance::text, 'negative_since', a.negative_since,
                        'first_top_up_on', a.first_top_up_on)::text
                   FROM {a} a JOIN {m} m ON m.member_id = a.member_id
                  WHERE a.balance_sign <= 0 AND ($1::text IS NULL OR m.member_id > $1)
                  ORDER BY m.member_id LIMIT $2"
            ))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }
        #[cfg(feature = "sqlite")]
        ViewDb::Sqlite(views) => {
            let (m, a) = (
                schema.table(Dialect::Sqlite, CLOSURE_MEMBERS.name),
                schema.table(Dialect::Sqlite, CLOSURE_ACCOUNTS.name),
            );
            sqlx::query_scalar(&format!(
                "SELECT json_object('member_id', m.member_id,
                        'registered_on', m.registered_on, 'last_login_at', m.last_login_at,
                        'balance', a.balance, 'negative_since', a.negative_since,
                        'first_top_up_on', a.first_top_up_on)
                   FROM {a} a JOIN {m} m ON m.member_id = a.member_id
                  WHERE a.balance_sign <= 0 AND (?1 IS NULL OR m.member_id > ?1)
                  ORDER BY m.member_id LIMIT ?2"
            ))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(views.reader())
            .await?
        }
    };
    rows.iter()
        .map(|row| {
            serde_json::from_str(row)
                .map_err(|e| QueryError::Malformed(format!("closure facts {row}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn at(day: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, 4, day)
            .unwrap()
            .and_hms_opt(3, 0, 0)
            .unwrap()
            .and_utc()
    }

    // rule MEM-9: a run below zero is dated by the movement that started it, kept while the
    // balance stays below zero, and ends when it comes back to zero or above.
    #[test]
    fn mem_9_a_run_below_zero_starts_with_the_movement_that_took_the_balance_there() {
        let mut row = AccountRow::new("acct-1");
        row.apply(&AccountFact::Opened("m-1".into()));
        row.apply(&AccountFact::Moved(dec!(1000), at(1)));
        assert_eq!((row.balance_sign, row.negative_since), (1, None));
        row.apply(&AccountFact::Moved(dec!(-1500), at(3)));
        assert_eq!((row.balance_sign, row.negative_since), (-1, Some(at(3))));
        row.apply(&AccountFact::Moved(dec!(-200), at(5)));
        assert_eq!((row.balance_sign, row.negative_since), (-1, Some(at(3))));
        row.apply(&AccountFact::Moved(dec!(700), at(7)));
        assert_eq!((row.balance_sign, row.negative_since), (0, None));
        row.apply(&AccountFact::Moved(dec!(-0.5), at(9)));
        assert_eq!((row.balance_sign, row.negative_since), (-1, Some(at(9))));
        row.apply(&AccountFact::Applied(
            NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(),
        ));
        row.apply(&AccountFact::Applied(
            NaiveDate::from_ymd_opt(2026, 4, 8).unwrap(),
        ));
        assert_eq!(row.first_top_up_on, NaiveDate::from_ymd_opt(2026, 4, 2));
        assert_eq!(row.member_id.as_deref(), Some("m-1"));
    }
}

//! Shared helpers of the ChargeAccount tests, included by each `account_*.rs` test file with
//! `#[path = "account_support.rs"] mod support;`. Each file uses part of it.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use domain::account::{
    AccountCommand, AccountError, AccountEvent, BankDeposit, ChargeAccount, DeclaredDeposit,
    Movement, Reason,
};
use domain::exchange::ExchangeRate;
use domain::ids::{AccountId, CauseId, MemberId};
use domain::money::{Currency, Money};
use domain::{Issued, Policy, Refusal, Rule, Services};
use rust_decimal::Decimal;

/// The given/when/then harness over `policy`.
pub fn framework(policy: Policy) -> TestFramework<ChargeAccount> {
    TestFramework::with(Services::new(policy))
}

/// 03:00 UTC: the same calendar day in Tokyo (12:00) and in China (11:00).
pub fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 3, 0, 0).unwrap()
}

/// A date.
pub fn on(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// `cmd` issued at 03:00 UTC on the day.
pub fn issued(y: i32, m: u32, d: u32, cmd: AccountCommand) -> Issued<AccountCommand> {
    Issued::at(at(y, m, d), cmd)
}

/// A cause id.
pub fn cause(id: &str) -> CauseId {
    CauseId::parse(id).unwrap()
}

/// The member of every test account.
pub fn member() -> MemberId {
    MemberId::parse("mem-1").unwrap()
}

/// Yuan.
pub fn cny(amount: Decimal) -> Money {
    Money::cny(amount)
}

/// A CNY/JPY reference rate valid on a day.
pub fn cny_jpy(rate: Decimal, valid_on: NaiveDate) -> ExchangeRate {
    ExchangeRate {
        base: Currency::Cny,
        quote: Currency::Jpy,
        rate,
        source: "MUFG TTM".into(),
        valid_on,
    }
}

/// The account opened on 5 Jan 2026 under `policy`.
pub fn opened(policy: &Policy) -> AccountEvent {
    AccountEvent::Opened {
        account_id: AccountId::parse("acc-1").unwrap(),
        member_id: member(),
        currency: policy.billing_currency,
        opened_on: on(2026, 1, 5),
        policy: policy.version(),
    }
}

/// The deposit the bank recorded: `amount` at Rakuten Bank from YAMADA TARO.
pub fn deposit(id: &str, deposited_on: NaiveDate, amount: Money) -> BankDeposit {
    BankDeposit {
        deposit_id: cause(id),
        deposited_on,
        bank: "Rakuten Bank".into(),
        amount,
        payer_name: "YAMADA TARO".into(),
    }
}

/// What the member declares for `deposit`, exactly.
pub fn declared(deposit: &BankDeposit) -> DeclaredDeposit {
    DeclaredDeposit {
        deposited_on: deposit.deposited_on,
        bank: deposit.bank.clone(),
        amount: deposit.amount,
        payer_name: deposit.payer_name.clone(),
    }
}

/// An approved top-up of `amount` (already in the account currency) on `approved_on`.
pub fn topped_up(policy: &Policy, n: u32, amount: Money, approved_on: NaiveDate) -> AccountEvent {
    let deposit = deposit(&format!("dep-{n}"), approved_on, amount);
    AccountEvent::TopUpApproved {
        application_id: cause(&format!("app-{n}")),
        movement: Movement {
            amount,
            reason: Reason::TopUp,
            cause: deposit.deposit_id.clone(),
        },
        deposit,
        paypal_fee: None,
        conversion: None,
        filing_deadline: domain::calendar::add_months(approved_on, 1),
        approved_on,
        policy: policy.version(),
    }
}

/// The state after `events`.
pub fn replay(events: &[AccountEvent]) -> ChargeAccount {
    let mut account = ChargeAccount::default();
    for event in events {
        account.evolve(event.clone());
    }
    account
}

/// `given` then `cmd`: the events it records (appended to `given`) or its refusal.
pub fn run(
    policy: &Policy,
    given: &[AccountEvent],
    cmd: Issued<AccountCommand>,
) -> Result<Vec<AccountEvent>, AccountError> {
    let new = replay(given).decide(cmd, policy)?;
    Ok(given.iter().cloned().chain(new).collect())
}

/// The balance after `events`.
pub fn balance_after(events: &[AccountEvent]) -> Money {
    replay(events).balance().expect("opened")
}

/// Asserts a refusal's stable code and rule.
pub fn assert_refusal(err: &AccountError, code: &str, rule: Option<Rule>) {
    assert_eq!(err.code(), code, "code of {err:?}");
    assert_eq!(err.rule(), rule, "rule of {err:?}");
    assert!(!err.to_string().is_empty());
}

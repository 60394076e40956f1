//! The JSON of every ChargeAccount event is a permanent contract: one realistic example of
//! each variant, produced by a cn-agency account's life, is snapshot-tested.

#[path = "account_support.rs"]
mod support;

use cqrs_es::DomainEvent;
use domain::account::{
    AccountCommand, AccountEvent, CreditReason, DebitReason, DisposalCause, RefundRates,
};
use domain::ids::AccountId;
use domain::money::{Currency, Money};
use domain::Policy;
use rust_decimal_macros::dec;
use std::collections::BTreeSet;
use support::*;

/// A cn-agency member's account from opening to refund.
fn life() -> Vec<AccountEvent> {
    let cn = Policy::cn_agency();
    let rate = |d| Some(cny_jpy(dec!(20.85), d));
    let dep = deposit("dep-1", on(2026, 9, 3), Money::jpy(30_000));
    let mut wrong = declared(&dep);
    wrong.payer_name = "YAMADA HANAKO".into();
    let steps = vec![
        issued(
            2026,
            9,
            1,
            AccountCommand::Open {
                account_id: AccountId::parse("acc-1").unwrap(),
                member_id: member(),
            },
        ),
        issued(
            2026,
            9,
            4,
            AccountCommand::ApplyForTopUp {
                application_id: cause("app-1"),
                declared: declared(&dep),
                deposit: Some(dep.clone()),
                rate: rate(on(2026, 9, 4)),
            },
        ),
        issued(
            2026,
            9,
            5,
            AccountCommand::ApplyForTopUp {
                application_id: cause("app-2"),
                declared: wrong.clone(),
                deposit: None,
                rate: None,
            },
        ),
        issued(
            2026,
            9,
            6,
            AccountCommand::ApplyForTopUp {
                application_id: cause("app-3"),
                declared: wrong.clone(),
                deposit: None,
                rate: None,
            },
        ),
        issued(
            2026,
            9,
            7,
            AccountCommand::ApplyForTopUp {
                application_id: cause("app-4"),
                declared: wrong,
                deposit: None,
                rate: None,
            },
        ),
        issued(
            2026,
            9,
            8,
            AccountCommand::Debit {
                reason: DebitReason::ShipmentPayment,
                cause: cause("shp-1"),
                amount: cny(dec!(420)),
                period: None,
                rate: None,
            },
        ),
        issued(
            2026,
            9,
            9,
            AccountCommand::Credit {
                reason: CreditReason::ClaimPayout,
                cause: cause("clm-1"),
                amount: cny(dec!(100)),
                rate: None,
            },
        ),
        issued(
            2026,
            9,
            10,
            AccountCommand::ChargeDisposalFee {
                parcel: cause("par-7"),
                disposal: DisposalCause::PastMaxStorage,
                fee: cn.disposal.fee_per_parcel,
            },
        ),
        issued(
            2026,
            9,
            11,
            AccountCommand::CreditSaleProceeds {
                parcel: cause("par-7"),
                gross: cny(dec!(80)),
                costs: cny(dec!(12.50)),
            },
        ),
        issued(
            2026,
            9,
            30,
            AccountCommand::AccrueLateInterest {
                cause: cause("inv-3"),
                overdue: cny(dec!(250)),
                due_on: on(2026, 8, 31),
                through: on(2026, 9, 30),
            },
        ),
        issued(
            2026,
            10,
            1,
            AccountCommand::AdvanceDuty {
                shipment: cause("shp-2"),
                duty: None,
                rate: rate(on(2026, 10, 1)),
                sea_taxable_value: None,
            },
        ),
        issued(
            2026,
            10,
            1,
            AccountCommand::ScheduleRefund {
                request: cause("wd-1"),
                requested_on: on(2026, 10, 1),
            },
        ),
        issued(
            2026,
            10,
            30,
            AccountCommand::BillAdvancedDuty {
                shipment: cause("shp-2"),
                duty: Money::jpy(1_200),
                rate: rate(on(2026, 10, 30)),
            },
        ),
        issued(
            2026,
            10,
            31,
            AccountCommand::ChargeDisposalFee {
                parcel: cause("par-8"),
                disposal: DisposalCause::LeftAtWithdrawal { items: 2 },
                fee: cn
                    .member
                    .withdrawal_disposal_fee_per_item
                    .times(rust_decimal::Decimal::TWO),
            },
        ),
        issued(
            2026,
            12,
            31,
            AccountCommand::PayRefund {
                payout_currency: Currency::Jpy,
                rates: Some(RefundRates {
                    charge_month: cny_jpy(dec!(20.60), on(2026, 9, 1)),
                    refund_month: cny_jpy(dec!(20.95), on(2026, 12, 31)),
                }),
            },
        ),
    ];
    let mut events = Vec::new();
    for step in steps {
        events = run(&cn, &events, step).expect("every step of the life is accepted");
    }
    events
}

#[test]
fn every_event_variant_is_snapshot() {
    let events = life();
    let mut seen = BTreeSet::new();
    for event in &events {
        let event_type = event.event_type();
        // Version 2 since its upcaster (domain::upcast); every other account event is at 1.
        let version = if event_type == "account.top_up_approved" {
            "2"
        } else {
            "1"
        };
        assert_eq!(event.event_version(), version);
        if seen.insert(event_type.clone()) {
            insta::assert_json_snapshot!(format!("account__{event_type}"), event);
        }
    }
    let declared: BTreeSet<String> = AccountEvent::TYPES.iter().map(|t| t.to_string()).collect();
    assert_eq!(seen, declared);
    assert_eq!(AccountEvent::TYPES.len(), declared.len());
    // The life ends closed, with a zero balance equal to the sum of its movements.
    let account = replay(&events);
    assert!(account.is_closed());
    assert!(account.balance_matches(&events));
}

#[test]
fn events_round_trip_through_json() {
    for event in life() {
        let json = serde_json::to_string(&event).unwrap();
        let back: AccountEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }
}

#[test]
fn commands_refuse_unknown_fields() {
    let ok = r#"{"open":{"account_id":"acc-1","member_id":"mem-1"}}"#;
    assert!(serde_json::from_str::<AccountCommand>(ok).is_ok());
    let extra = r#"{"open":{"account_id":"acc-1","member_id":"mem-1","balance":"1000"}}"#;
    assert!(serde_json::from_str::<AccountCommand>(extra).is_err());
    let bad_period = r#"{"from":"2026-02-01","through":"2026-01-31"}"#;
    assert!(serde_json::from_str::<domain::account::Period>(bad_period).is_err());
}

//! The other cross-aggregate use cases, one story each: suite codes (MEM-1), unidentified
//! parcels (PAR-1), Auto Ship (MEM-7), rejected top-ups (ACC-3), withdrawal (MEM-8), automatic
//! closure (MEM-9), a held shipment paid late (PAY-2), and the commands whose facts only the engine may supply.

use crate::support::*;
use domain::account::{
    AccountCommand, AccountEvent, BankDeposit, ChargeAccount, DeclaredDeposit, Reason,
};
use domain::facts::StandingStatus;
use domain::ids::{CauseId, ShipmentId, SuiteCode};
use domain::member::{AutoClosureCondition, BalanceSign, Member, MemberCommand, MemberEvent};
use domain::money::Money;
use domain::parcel::{HeldFrom, Parcel, ParcelCommand, ParcelEvent, ParcelStatus};
use domain::shipment::{
    DutyPayment, PaymentMethod, Shipment, ShipmentCommand, ShipmentStatus, TrackingNumber,
    TrackingStatus,
};
use domain::Rule;
use engine::use_cases::disposal::DisposalReason;
use engine::use_cases::follow::Shipping;
use engine::use_cases::payment::Payment;
use engine::use_cases::storage::StorageAction;
use engine::use_cases::top_up::TopUpApplication;
use engine::{EngineError, IdempotencyKey};

on_each_backend!(
    mem_1_suite_codes_are_unique_per_member,
    par_1_unknown_suite_code_is_received_unidentified_then_attached,
    mem_7_quote_within_the_auto_ship_limit_is_paid_from_the_balance,
    acc_3_third_rejected_top_up_suspends_the_member,
    mem_8_withdrawal_destroys_stored_parcels_and_schedules_the_refund,
    execute_refuses_commands_whose_facts_the_engine_looks_up,
    mem_9_auto_closure_reads_the_account_and_spares_a_late_top_up_with_money_left,
    con_5_single_parcel_shipment_cancelled_before_packing_releases_its_parcel,
    pay_2_paying_a_held_shipment_releases_its_parcels,
    shp_1_each_parcel_records_its_shipment_paid_shipped_and_delivered_once,
    shp_2_returned_shipment_reenters_storage_is_charged_and_re_shipped_or_abandoned,
    acc_8_duty_advance_chosen_before_dispatch_is_charged_at_shipping_and_billed_later,
    pay_2_a_held_shipment_whose_parcels_were_disposed_of_is_not_payable,
);

// rule PAY-2: a held shipment whose parcel was disposed of for non-payment, past the STO-2
// limit, can no longer be paid: refused before anything is debited.
async fn pay_2_a_held_shipment_whose_parcels_were_disposed_of_is_not_payable<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    app.top_up(&member, 50_000).await;
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    app.clock.advance(days(8));
    app.engine.hold_unpaid(&shipment, &app.ctx()).await.unwrap();
    app.clock.advance(days(60));
    app.engine
        .storage_clock(&parcel, StorageAction::MarkDisposable, &app.ctx())
        .await
        .unwrap();
    app.engine
        .dispose_parcel(&parcel, DisposalReason::Unpaid, &app.ctx())
        .await
        .unwrap();
    let before = app.balance(&member).await;
    let payment = Payment {
        method: PaymentMethod::Balance,
        amount: total,
        exchange_rate: None,
    };
    let refused = app
        .engine
        .pay(&shipment, payment, &app.ctx())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "payment.parcels_disposed");
    assert_eq!(app.balance(&member).await, before);
    let state = app
        .engine
        .load::<Shipment>(shipment.as_str())
        .await
        .unwrap();
    assert_eq!(state.state.status(), ShipmentStatus::Held);
}

// rule ACC-8: the member chooses the warehouse's duty advance before dispatch; shipping checks
// the balance first (under the minimum, the shipment does not leave), debits the advance fee
// once shipped, and the duty customs bills a month later is charged to the balance then.
async fn acc_8_duty_advance_chosen_before_dispatch_is_charged_at_shipping_and_billed_later<
    B: Backend,
>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    let yen = i64::try_from(total.amount).expect("a whole yen total");
    app.top_up(&member, 3_000 + yen).await;
    let payment = Payment {
        method: PaymentMethod::Balance,
        amount: total,
        exchange_rate: None,
    };
    app.engine
        .pay(&shipment, payment, &app.ctx())
        .await
        .unwrap();
    app.engine
        .execute::<Shipment>(
            shipment.as_str(),
            ShipmentCommand::ChooseDutyPayment {
                payment: DutyPayment::Advance,
            },
            &app.ctx(),
        )
        .await
        .unwrap();
    // 3,000 JPY left: under the policy's minimum, the shipment does not leave.
    let refused = app
        .engine
        .ship(&shipment, ems_ship(), &app.ctx())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "account.duty_advance_min_balance");
    let state = app
        .engine
        .load::<Shipment>(shipment.as_str())
        .await
        .unwrap();
    assert_eq!(state.state.status(), ShipmentStatus::Paid);

    app.top_up(&member, 10_000).await;
    let before = app.balance(&member).await;
    let shipped = app
        .engine
        .ship(&shipment, ems_ship(), &app.ctx())
        .await
        .unwrap();
    let advance = shipped.duty_advance.expect("the advance");
    assert!(advance
        .events()
        .any(|e| matches!(e, AccountEvent::DutyAdvanced { .. })));
    let fee = app.engine.policy().account.duty_advance_fee;
    assert_eq!(app.balance(&member).await, before.checked_sub(fee).unwrap());

    // About a month later customs bills the duty: charged to the balance as owed.
    app.clock.advance(days(30));
    let account = engine::ids::account_of(&member).unwrap();
    app.engine
        .execute::<ChargeAccount>(
            account.as_str(),
            AccountCommand::BillAdvancedDuty {
                shipment: CauseId::parse(shipment.as_str()).unwrap(),
                duty: Money::jpy(1_200),
                rate: None,
            },
            &app.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(
        app.balance(&member).await,
        before
            .checked_sub(fee)
            .unwrap()
            .checked_sub(Money::jpy(1_200))
            .unwrap()
    );
}

/// Pays `shipment` from the balance, ships it by EMS and has tracking report it returned.
async fn paid_shipped_returned<B: Backend>(app: &TestApp<B>, shipment: &ShipmentId, total: Money) {
    let payment = Payment {
        method: PaymentMethod::Balance,
        amount: total,
        exchange_rate: None,
    };
    app.engine.pay(shipment, payment, &app.ctx()).await.unwrap();
    app.engine
        .ship(shipment, ems_ship(), &app.ctx())
        .await
        .unwrap();
    app.clock.advance(days(10));
    let returned = ShipmentCommand::RecordTracking {
        status: TrackingStatus::ReturnedToOrigin,
        on: app.today(),
        note: None,
    };
    app.engine
        .advance_shipment(shipment, returned, &app.ctx())
        .await
        .unwrap();
    app.clock.advance(days(4));
}

fn ems_ship() -> Shipping {
    Shipping {
        carrier: "EMS".into(),
        service: "EMS".into(),
        tracking_number: TrackingNumber::parse("EJ123456789JP").unwrap(),
        declared_value: Money::jpy(3_000),
        exchange_rate: None,
    }
}

// rule SHP-2: the shipment the carrier sent back re-enters storage: the return cost is charged
// to the balance, its parcel is packed in storage again, its clock running from the return;
// a new quote re-ships it, paid as a payment of its own (the first stays once only, PAY-1).
// Another returned shipment is abandoned: its parcel is disposed of with its fee (DSP-1).
async fn shp_2_returned_shipment_reenters_storage_is_charged_and_re_shipped_or_abandoned<
    B: Backend,
>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    app.top_up(&member, 100_000).await;
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    paid_shipped_returned(&app, &shipment, total).await;
    let before = app.balance(&member).await;
    let received = app
        .engine
        .receive_return(&shipment, Money::jpy(2_400), &app.ctx())
        .await
        .unwrap();
    assert!(received.refused.is_empty(), "{:?}", received.refused);
    assert_eq!(received.parcels.len(), 1);
    assert_eq!(
        app.balance(&member).await,
        before.checked_sub(Money::jpy(2_400)).unwrap()
    );
    let back = app
        .engine
        .load::<Parcel>(parcel.as_str())
        .await
        .unwrap()
        .state;
    assert_eq!(
        back.status(),
        &ParcelStatus::Packed {
            shipment_id: shipment.clone()
        }
    );
    assert_eq!(back.receipt().unwrap().received_on, app.today());
    // Received twice: refused, nothing charged twice.
    assert!(app
        .engine
        .receive_return(&shipment, Money::jpy(2_400), &app.ctx())
        .await
        .is_err());

    // Re-shipped: a new quote, paid again from the balance, shipped again.
    let quoted = app
        .engine
        .quote(&shipment, ems_to_us(), &app.ctx())
        .await
        .unwrap();
    let payment = Payment {
        method: PaymentMethod::Balance,
        amount: quoted.total,
        exchange_rate: None,
    };
    let repaid = app
        .engine
        .pay(&shipment, payment, &app.ctx())
        .await
        .unwrap();
    assert!(repaid.debit.is_some());
    app.engine
        .ship(&shipment, ems_ship(), &app.ctx())
        .await
        .unwrap();
    let state = app
        .engine
        .load::<Shipment>(shipment.as_str())
        .await
        .unwrap();
    assert_eq!(state.state.status(), ShipmentStatus::Shipped);
    let parcel_now = app.engine.load::<Parcel>(parcel.as_str()).await.unwrap();
    assert_eq!(parcel_now.state.status().name(), "shipped");

    // Another one comes back and the member has it disposed of.
    let other = app.stored_parcel(&suite, 900, 2_000).await;
    let (abandoned, total) = app.quoted_single(&member, &other).await;
    paid_shipped_returned(&app, &abandoned, total).await;
    app.engine
        .receive_return(&abandoned, Money::jpy(0), &app.ctx())
        .await
        .unwrap();
    let gone = app
        .engine
        .abandon_return(&abandoned, &app.ctx())
        .await
        .unwrap();
    assert!(gone.refused.is_empty(), "{:?}", gone.refused);
    assert_eq!(gone.disposed.len(), 1);
    assert!(gone.disposed[0].fee.is_some());
    let disposed = app.engine.load::<Parcel>(other.as_str()).await.unwrap();
    assert_eq!(disposed.state.status(), &ParcelStatus::Disposed);
}

// rule PAY-1, SHP-1, SHP-2: each parcel's own stream tells its whole life: paying, shipping and
// tracking the shipment are recorded by its parcel too, exactly once under a retried key; the
// shipment's commands that concern its parcels cannot bypass them through `execute`.
async fn shp_1_each_parcel_records_its_shipment_paid_shipped_and_delivered_once<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    app.top_up(&member, 50_000).await;
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    let payment = Payment {
        method: PaymentMethod::Balance,
        amount: total,
        exchange_rate: None,
    };
    let paid = app
        .engine
        .pay(&shipment, payment, &app.ctx())
        .await
        .unwrap();
    assert_eq!(paid.parcels.len(), 1, "{:?}", paid.refused);
    let ship = ShipmentCommand::Ship {
        carrier: "EMS".into(),
        service: "EMS".into(),
        tracking_number: TrackingNumber::parse("EJ123456789JP").unwrap(),
        declared_value: Money::jpy(3_000),
    };
    let bypass = app
        .engine
        .execute::<Shipment>(shipment.as_str(), ship, &app.ctx())
        .await
        .unwrap_err();
    assert!(bypass.to_string().contains("ship"), "{bypass}");
    let ship = ems_ship();
    let key = IdempotencyKey::parse("ship-1").unwrap();
    let keyed = app.ctx().with_key(key);
    let shipped = app
        .engine
        .ship(&shipment, ship.clone(), &keyed)
        .await
        .unwrap();
    assert_eq!(shipped.shipped.parcels.len(), 1);
    let count = app.event_count().await;
    let again = app.engine.ship(&shipment, ship, &keyed).await.unwrap();
    assert_eq!(again, shipped);
    assert_eq!(app.event_count().await, count);
    app.clock.advance(days(3));
    let delivered = ShipmentCommand::RecordTracking {
        status: TrackingStatus::Delivered,
        on: app.today(),
        note: None,
    };
    app.engine
        .advance_shipment(&shipment, delivered, &app.ctx())
        .await
        .unwrap();
    let types: Vec<String> = app
        .engine
        .history::<Parcel>(parcel.as_str())
        .await
        .unwrap()
        .iter()
        .map(cqrs_es::DomainEvent::event_type)
        .skip_while(|t| t != "parcel.packed")
        .collect();
    assert_eq!(
        types,
        [
            "parcel.packed",
            "parcel.paid",
            "parcel.shipped",
            "parcel.delivered"
        ]
    );
    let state = app.engine.load::<Parcel>(parcel.as_str()).await.unwrap();
    assert_eq!(
        state.state.status(),
        &ParcelStatus::Delivered {
            shipment_id: shipment.clone()
        }
    );
}

// rule PAY-2: a shipment held for an unpaid quote is paid late, and paying it releases the
// hold: its parcel is packed again, no longer held for disposal.
async fn pay_2_paying_a_held_shipment_releases_its_parcels<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    app.clock.advance(days(8));
    let held = app.engine.hold_unpaid(&shipment, &app.ctx()).await.unwrap();
    assert_eq!(held.parcels.len(), 1, "{:?}", held.refused);
    let parcel_status = || async {
        let parcel = app.engine.load::<Parcel>(parcel.as_str()).await.unwrap();
        parcel.state.status().clone()
    };
    assert_eq!(parcel_status().await.name(), "held");

    app.top_up(&member, 50_000).await;
    let payment = Payment {
        method: PaymentMethod::Balance,
        amount: total,
        exchange_rate: None,
    };
    let paid = app
        .engine
        .pay(&shipment, payment, &app.ctx())
        .await
        .unwrap();
    assert!(paid.refused.is_empty(), "{:?}", paid.refused);
    assert_eq!(paid.released.len(), 1);
    assert!(matches!(
        paid.released[0].events().next(),
        Some(ParcelEvent::HoldReleased {
            restored: HeldFrom::Packed,
            ..
        })
    ));
    // Back in the shipment, which is paid: the parcel's stream records the payment too.
    assert_eq!(paid.parcels.len(), 1);
    assert_eq!(
        parcel_status().await,
        ParcelStatus::Paid {
            shipment_id: shipment.clone()
        }
    );
    let state = app
        .engine
        .load::<Shipment>(shipment.as_str())
        .await
        .unwrap();
    assert_eq!(state.state.status(), ShipmentStatus::Paid);
}

// rule CON-5: a shipment requested for one parcel and cancelled before packing releases the
// parcel back to storage (the packing request records its shipment); it can be requested again.
async fn con_5_single_parcel_shipment_cancelled_before_packing_releases_its_parcel<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let shipment = app
        .engine
        .request_packing(&member, &parcel, &app.ctx())
        .await
        .unwrap()
        .shipment_id;
    let closed = app
        .engine
        .cancel_shipment(&shipment, "changed my mind", &app.ctx())
        .await
        .unwrap();
    assert!(closed.refused.is_empty(), "{:?}", closed.refused);
    assert_eq!(closed.parcels.len(), 1);
    let state = app
        .engine
        .load::<Parcel>(parcel.as_str())
        .await
        .unwrap()
        .state;
    assert_eq!(state.status(), &ParcelStatus::Stored);
    app.engine
        .request_packing(&member, &parcel, &app.ctx())
        .await
        .unwrap();
}

// rule MEM-1: every member gets a unique suite code from the configured prefix.
async fn mem_1_suite_codes_are_unique_per_member<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (first, first_code) = app.verified_member().await;
    let (second, second_code) = app.verified_member().await;
    assert_ne!(first, second);
    assert_eq!(first_code.as_str(), "TYO-000001");
    assert_eq!(second_code.as_str(), "TYO-000002");
    // A refused registration gives its code back: a minor without consent (MEM-3).
    let mut minor = registration();
    minor.birth_date = app.today();
    let refused = app
        .engine
        .register_member(minor, &app.ctx())
        .await
        .unwrap_err();
    assert_eq!(refused.rule(), Some(Rule::Mem3));
    assert_eq!(app.db.suite_code_count().await, 2);
}

// rule PAR-1: a parcel whose label names no member is received as unidentified, never
// dropped, and attached to its member later.
async fn par_1_unknown_suite_code_is_received_unidentified_then_attached<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let unknown = SuiteCode::parse("ZZZ-999999").unwrap();
    let received = app
        .engine
        .receive_parcel(arrival(&unknown, 800), &app.ctx())
        .await
        .unwrap();
    assert_eq!(received.member_id, None);
    let parcel = app
        .engine
        .load::<Parcel>(received.parcel_id.as_str())
        .await
        .unwrap();
    assert_eq!(parcel.state.status(), &ParcelStatus::Unidentified);

    app.engine
        .attach_parcel(&received.parcel_id, &suite, &app.ctx())
        .await
        .unwrap();
    let parcel = app
        .engine
        .load::<Parcel>(received.parcel_id.as_str())
        .await
        .unwrap();
    assert_eq!(parcel.state.status(), &ParcelStatus::Received);
    assert_eq!(parcel.state.member_id(), Some(&member));
}

// rule MEM-7: a quote at or under the Auto Ship limit is paid from the balance at once and
// the use recorded; without the balance to cover it, it falls back to manual payment.
async fn mem_7_quote_within_the_auto_ship_limit_is_paid_from_the_balance<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    app.engine
        .execute::<Member>(
            member.as_str(),
            MemberCommand::SetAutoShip {
                limit: Money::jpy(20_000),
            },
            &app.ctx(),
        )
        .await
        .unwrap();
    // No balance yet: the quote stands, unpaid (ACC-4).
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let shipment = app
        .engine
        .request_packing(&member, &parcel, &app.ctx())
        .await
        .unwrap()
        .shipment_id;
    app.engine
        .record_packing(&shipment, ems_packing(1_600), &app.ctx())
        .await
        .unwrap();
    let quoted = app
        .engine
        .quote(&shipment, ems_to_us(), &app.ctx())
        .await
        .unwrap();
    assert!(quoted.auto_ship.is_none());
    assert_eq!(
        quoted.auto_ship_refused.map(|e| e.code().to_owned()),
        Some("account.insufficient_balance".to_owned())
    );

    app.top_up(&member, 50_000).await;
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let (_, total) = app.quoted_single(&member, &parcel).await;
    assert_eq!(
        app.balance(&member).await,
        Money::jpy(50_000).checked_sub(total).unwrap()
    );
    let history = app.engine.history::<Member>(member.as_str()).await.unwrap();
    assert!(matches!(
        history.last(),
        Some(MemberEvent::AutoShipUsed { .. })
    ));
}

// rule ACC-3: the third rejected top-up application in a row suspends the member (MEM-5).
async fn acc_3_third_rejected_top_up_suspends_the_member<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, _) = app.verified_member().await;
    let application = || TopUpApplication {
        declared: DeclaredDeposit {
            deposited_on: app.today(),
            bank: "Rakuten Bank".into(),
            amount: Money::jpy(10_000),
            payer_name: "YAMADA TARO".into(),
        },
        deposit: None,
        rate: None,
    };
    for n in 1..=3 {
        let decided = app
            .engine
            .apply_for_top_up(&member, application(), &app.ctx())
            .await
            .unwrap();
        assert!(matches!(
            decided.account.events().next(),
            Some(AccountEvent::TopUpRejected { .. })
        ));
        assert_eq!(decided.suspension.is_some(), n == 3, "application {n}");
    }
    let standing = app.engine.standing(&member).await.unwrap();
    assert_eq!(standing.status, StandingStatus::Suspended);
}

// rule MEM-8: at withdrawal the parcels still stored are destroyed at the per-item fee, the
// refund is scheduled, and a parcel arriving afterwards is destroyed on arrival.
async fn mem_8_withdrawal_destroys_stored_parcels_and_schedules_the_refund<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    app.top_up(&member, 10_000).await;
    app.stored_parcel(&suite, 1_000, 2_000).await;
    app.stored_parcel(&suite, 1_000, 2_000).await;

    let withdrawn = app
        .engine
        .request_withdrawal(&member, &app.ctx())
        .await
        .unwrap();
    assert_eq!(withdrawn.disposed.len(), 2);
    assert!(withdrawn.not_disposed.is_empty());
    assert!(matches!(
        withdrawn.refund.events().next(),
        Some(AccountEvent::RefundScheduled { .. })
    ));
    // 100 JPY per item destroyed, one item each (jp-forwarding example fee).
    assert_eq!(app.balance(&member).await, Money::jpy(9_800));

    let late = app
        .engine
        .receive_parcel(arrival(&suite, 500), &app.ctx())
        .await
        .unwrap();
    let disposed = late.disposed.expect("destroyed on arrival");
    let fee = disposed.fee.expect("charged");
    assert!(matches!(
        fee.events().next().and_then(AccountEvent::movement),
        Some(m) if m.reason == Reason::WithdrawalDisposalFee
    ));
    assert_eq!(app.balance(&member).await, Money::jpy(9_700));
}

// rule MEM-9: the engine reads the account's facts itself. Two cn-agency members register on
// 1 December; on 2 January one files a first top-up (a day late) and holds 500 CNY, the other
// never tops up. Only the empty account is closed; the one with money stays open, with nothing
// to refund.
async fn mem_9_auto_closure_reads_the_account_and_spares_a_late_top_up_with_money_left<
    B: Backend,
>() {
    let app = TestApp::<B>::with_policy(domain::Policy::cn_agency()).await;
    let (late, _) = app.verified_member().await;
    let (never, _) = app.verified_member().await;
    app.clock.advance(days(32));
    let today = app.today();
    assert_eq!(today, chrono::NaiveDate::from_ymd_opt(2027, 1, 2).unwrap());
    let declared = DeclaredDeposit {
        deposited_on: today,
        bank: "Rakuten Bank".into(),
        amount: Money::cny(rust_decimal::Decimal::from(500)),
        payer_name: "YAMADA TARO".into(),
    };
    let deposit = BankDeposit {
        deposit_id: CauseId::parse("dep-late-first").unwrap(),
        deposited_on: today,
        bank: declared.bank.clone(),
        amount: declared.amount,
        payer_name: declared.payer_name.clone(),
    };
    let application = TopUpApplication {
        declared,
        deposit: Some(deposit),
        rate: None,
    };
    app.engine
        .apply_for_top_up(&late, application, &app.ctx())
        .await
        .unwrap();

    let spared = app
        .engine
        .evaluate_auto_closure(&late, None, &app.ctx())
        .await
        .unwrap();
    assert_eq!(spared.facts.balance, BalanceSign::Positive);
    assert_eq!(spared.facts.first_top_up_on, Some(today));
    assert!(spared.member.is_empty() && spared.refund.is_none());
    let standing = app.engine.standing(&late).await.unwrap();
    assert_ne!(standing.status, StandingStatus::Closed);

    let closed = app
        .engine
        .evaluate_auto_closure(&never, None, &app.ctx())
        .await
        .unwrap();
    assert_eq!(closed.facts.balance, BalanceSign::Zero);
    assert!(matches!(
        closed.member.events().next(),
        Some(MemberEvent::AutoClosed { conditions, .. })
            if matches!(conditions[..], [AutoClosureCondition::NoTopUp { .. }])
    ));
    assert!(closed.refund.is_none());
    let standing = app.engine.standing(&never).await.unwrap();
    assert_eq!(standing.status, StandingStatus::Closed);

    // The facts are the engine's to look up, never a caller's.
    let error = app
        .engine
        .execute::<Member>(
            late.as_str(),
            MemberCommand::EvaluateAutoClosure {
                facts: closed.facts,
            },
            &app.ctx(),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("evaluate_auto_closure"));
}

// The facts in these commands are looked up by their use cases, never taken from a caller.
async fn execute_refuses_commands_whose_facts_the_engine_looks_up<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let parcel = app.stored_parcel(&suite, 1_000, 2_000).await;
    let standing = app.engine.standing(&member).await.unwrap();
    let error = app
        .engine
        .execute::<Parcel>(
            parcel.as_str(),
            ParcelCommand::RequestPacking {
                member: standing,
                shipment_id: domain::ids::ShipmentId::parse("s-1").unwrap(),
            },
            &app.ctx(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Invalid { .. }), "{error:?}");
    assert!(error.to_string().contains("request_packing"));
    assert_eq!(error.code(), "engine.invalid");
}

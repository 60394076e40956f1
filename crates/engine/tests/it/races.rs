//! The races the business must win, through the engine: CON-3 (two consolidations, one
//! parcel), PAY-1 (two payments, one shipment), ACC-4 (two debits, one balance covering
//! either but not both).
//!
//! Each rule is proven twice. An `..._interleaved` test forces the dangerous interleaving:
//! the first request decides on the state it loaded and its append is held (see
//! `Faults::hold_next_append_of`) while the second runs to the end; released, the first
//! append loses the optimistic-concurrency race, is decided again on the fresh state, and is
//! refused. A `..._rounds` test then races two tasks freely, many rounds, and checks the same
//! outcome whatever the scheduler did.

use crate::support::*;
use domain::account::{AccountEvent, ChargeAccount, Reason};
use domain::ids::{MemberId, ParcelId, ShipmentId};
use domain::money::Money;
use domain::parcel::{Parcel, ParcelEvent, ParcelStatus};
use domain::shipment::{PaymentMethod, Shipment, ShipmentStatus};
use domain::Rule;
use engine::use_cases::consolidate::Consolidated;
use engine::use_cases::payment::{Paid, Payment};
use engine::EngineError;
use rust_decimal::prelude::ToPrimitive;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::task::JoinHandle;

on_each_backend!(
    multi_thread(2):
    con_3_consolidation_losing_the_parcel_race_releases_its_reservations_interleaved,
    pay_1_second_balance_payment_of_a_shipment_debits_nothing_interleaved,
    acc_4_debit_checked_on_a_stale_balance_is_checked_again_interleaved,
);
on_each_backend!(
    multi_thread(4):
    con_3_racing_consolidations_for_one_parcel_exactly_one_wins_rounds,
    pay_1_racing_payments_of_one_shipment_pay_and_debit_once_rounds,
    acc_4_racing_debits_only_one_balance_covers_exactly_one_passes_rounds,
);

const ROUNDS: usize = 12;

fn consolidate<B: Backend>(
    app: &TestApp<B>,
    member: &MemberId,
    parcels: &[&ParcelId],
) -> JoinHandle<Result<Consolidated, EngineError>> {
    let engine = Arc::clone(&app.engine);
    let member = member.clone();
    let parcels: Vec<ParcelId> = parcels.iter().map(|&p| p.clone()).collect();
    let ctx = app.ctx();
    tokio::spawn(async move { engine.consolidate(&member, &parcels, &ctx).await })
}

fn pay<B: Backend>(
    app: &TestApp<B>,
    shipment: &ShipmentId,
    method: PaymentMethod,
    amount: Money,
) -> JoinHandle<Result<Paid, EngineError>> {
    let engine = Arc::clone(&app.engine);
    let shipment = shipment.clone();
    let ctx = app.ctx();
    let payment = Payment {
        method,
        amount,
        exchange_rate: None,
    };
    tokio::spawn(async move { engine.pay(&shipment, payment, &ctx).await })
}

/// Exactly one of two results is a success: it and the other's error.
fn one_of<T: std::fmt::Debug>(
    a: Result<T, EngineError>,
    b: Result<T, EngineError>,
) -> (bool, T, EngineError) {
    match (a, b) {
        (Ok(won), Err(lost)) => (true, won, lost),
        (Err(lost), Ok(won)) => (false, won, lost),
        other => panic!("exactly one must succeed, got {other:?}"),
    }
}

/// How many `reason` movements caused by `cause` the member's account holds.
async fn movements<B: Backend>(
    app: &TestApp<B>,
    member: &MemberId,
    reason: Reason,
    cause: &str,
) -> usize {
    let account = engine::ids::account_of(member).unwrap();
    let history = app
        .engine
        .history::<ChargeAccount>(account.as_str())
        .await
        .unwrap();
    history
        .iter()
        .filter_map(AccountEvent::movement)
        .filter(|m| m.reason == reason && m.cause.as_str() == cause)
        .count()
}

/// CON-3 outcome: the shared parcel is the winner's, the winner's shipment holds its two
/// parcels, and the loser's own parcel is back in storage with each reservation released.
async fn assert_con_3<B: Backend>(
    app: &TestApp<B>,
    winner: &Consolidated,
    shared: &ParcelId,
    loser_own: &ParcelId,
    error: &EngineError,
) {
    assert_eq!(error.code(), "consolidation.parcel_taken", "{error:?}");
    assert_eq!(error.rule(), Some(Rule::Con3));
    let shared = app.engine.load::<Parcel>(shared.as_str()).await.unwrap();
    assert_eq!(
        shared.state.status(),
        &ParcelStatus::Reserved {
            shipment_id: winner.shipment_id.clone()
        }
    );
    let shipment = app
        .engine
        .load::<Shipment>(winner.shipment_id.as_str())
        .await
        .unwrap();
    assert_eq!(shipment.state.status(), ShipmentStatus::PackingRequested);
    assert_eq!(shipment.state.parcel_ids().len(), 2);
    let loser = app.engine.load::<Parcel>(loser_own.as_str()).await.unwrap();
    assert_eq!(loser.state.status(), &ParcelStatus::Stored);
    let history = app
        .engine
        .history::<Parcel>(loser_own.as_str())
        .await
        .unwrap();
    let count = |f: fn(&ParcelEvent) -> bool| history.iter().filter(|e| f(e)).count();
    assert_eq!(
        count(|e| matches!(e, ParcelEvent::Consolidated { .. })),
        count(|e| matches!(e, ParcelEvent::Released { .. }))
    );
}

// rule CON-3: the loser reserved its own parcel and decided to reserve the shared one on a
// stale state; its append loses, it decides again, is refused, and releases its own parcel.
async fn con_3_consolidation_losing_the_parcel_race_releases_its_reservations_interleaved<
    B: Backend,
>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let own_a = app.stored_parcel(&suite, 1_000, 2_000).await;
    let own_b = app.stored_parcel(&suite, 1_000, 2_000).await;
    let shared = app.stored_parcel(&suite, 1_000, 2_000).await;

    app.faults.hold_next_append_of(shared.as_str());
    let first = consolidate(&app, &member, &[&own_a, &shared]);
    app.faults.held.notified().await;
    let second = app
        .engine
        .consolidate(&member, &[own_b.clone(), shared.clone()], &app.ctx())
        .await
        .expect("the second consolidation takes the parcel");
    app.faults.release.notify_one();
    let error = first.await.unwrap().unwrap_err();

    assert_eq!(app.faults.lost_races.load(Ordering::SeqCst), 1);
    assert_con_3(&app, &second, &shared, &own_a, &error).await;
    let own_a_history = app.engine.history::<Parcel>(own_a.as_str()).await.unwrap();
    assert!(matches!(
        own_a_history.last(),
        Some(ParcelEvent::Released { .. })
    ));
}

// rule CON-3: two consolidations racing freely for one parcel, many rounds: exactly one wins.
async fn con_3_racing_consolidations_for_one_parcel_exactly_one_wins_rounds<B: Backend>() {
    let app = TestApp::<B>::new().await;
    for _ in 0..ROUNDS {
        let (member, suite) = app.verified_member().await;
        let own_a = app.stored_parcel(&suite, 1_000, 2_000).await;
        let own_b = app.stored_parcel(&suite, 1_000, 2_000).await;
        let shared = app.stored_parcel(&suite, 1_000, 2_000).await;
        // The shared parcel last in both: the loser usually holds its own parcel when it
        // loses, and must release it.
        let a = consolidate(&app, &member, &[&own_a, &shared]);
        let b = consolidate(&app, &member, &[&own_b, &shared]);
        let (a_won, winner, error) = one_of(a.await.unwrap(), b.await.unwrap());
        let loser_own = if a_won { &own_b } else { &own_a };
        assert_con_3(&app, &winner, &shared, loser_own, &error).await;
    }
}

// rule PAY-1: the second payment debited nothing yet when the first paid; its debit, decided
// on the balance before, loses the append, is decided again, and is refused as a duplicate.
async fn pay_1_second_balance_payment_of_a_shipment_debits_nothing_interleaved<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    app.top_up(&member, 100_000).await;
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    let account = engine::ids::account_of(&member).unwrap();

    app.faults.hold_next_append_of(account.as_str());
    let first = pay(&app, &shipment, PaymentMethod::Balance, total);
    app.faults.held.notified().await;
    pay(&app, &shipment, PaymentMethod::Balance, total)
        .await
        .unwrap()
        .expect("the second payment pays");
    app.faults.release.notify_one();
    let error = first.await.unwrap().unwrap_err();

    assert_eq!(app.faults.lost_races.load(Ordering::SeqCst), 1);
    assert_eq!(error.code(), "account.duplicate_debit");
    assert_eq!(error.rule(), Some(Rule::Pay1));
    assert_eq!(
        movements(&app, &member, Reason::ShipmentPayment, shipment.as_str()).await,
        1
    );
    assert_eq!(
        app.balance(&member).await,
        Money::jpy(100_000).checked_sub(total).unwrap()
    );
}

// rule PAY-1: racing payments of one shipment, many rounds: exactly one pays, the balance is
// debited once; a balance payment that debited and then lost to a card payment is credited
// back (`payment_reversal`).
async fn pay_1_racing_payments_of_one_shipment_pay_and_debit_once_rounds<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    app.top_up(&member, 1_000_000).await;
    let mut expected = Money::jpy(1_000_000);
    for round in 0..ROUNDS {
        let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
        let (shipment, total) = app.quoted_single(&member, &parcel).await;
        // Two balance payments in even rounds, a balance and a card payment in odd ones.
        let second = if round % 2 == 0 {
            PaymentMethod::Balance
        } else {
            PaymentMethod::Card
        };
        let a = pay(&app, &shipment, PaymentMethod::Balance, total);
        let b = pay(&app, &shipment, second, total);
        let (a_won, _, error) = one_of(a.await.unwrap(), b.await.unwrap());
        let balance_won = a_won || second == PaymentMethod::Balance;
        assert_eq!(error.rule(), Some(Rule::Pay1), "round {round}: {error:?}");
        assert!(
            ["account.duplicate_debit", "payment.already_paid"].contains(&error.code()),
            "round {round}: {error:?}"
        );
        let paid = app
            .engine
            .load::<Shipment>(shipment.as_str())
            .await
            .unwrap();
        assert_eq!(paid.state.status(), ShipmentStatus::Paid);
        let debits = movements(&app, &member, Reason::ShipmentPayment, shipment.as_str()).await;
        let reversals = movements(&app, &member, Reason::PaymentReversal, shipment.as_str()).await;
        if balance_won {
            expected = expected.checked_sub(total).unwrap();
            assert_eq!((debits, reversals), (1, 0), "round {round}");
        } else {
            assert!(debits <= 1 && debits == reversals, "round {round}");
        }
        assert_eq!(app.balance(&member).await, expected, "round {round}");
    }
}

/// A member with two quoted shipments and a balance covering the dearer but not both.
async fn two_quotes_one_balance<B: Backend>(
    app: &TestApp<B>,
) -> (MemberId, [(ShipmentId, Money); 2], Money) {
    let (member, suite) = app.verified_member().await;
    let p1 = app.stored_parcel(&suite, 1_500, 3_000).await;
    let p2 = app.stored_parcel(&suite, 1_500, 3_000).await;
    let first = app.quoted_single(&member, &p1).await;
    let second = app.quoted_single(&member, &p2).await;
    let funds = first
        .1
        .checked_add(second.1)
        .unwrap()
        .checked_sub(Money::jpy(1))
        .unwrap();
    app.top_up(&member, funds.amount.to_i64().unwrap()).await;
    (member, [first, second], funds)
}

// rule ACC-4: the first debit passed the balance check on the full balance and is held; the
// second debit lands; released, the first loses the append, is checked again on the balance
// left, and is refused.
async fn acc_4_debit_checked_on_a_stale_balance_is_checked_again_interleaved<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, [(s1, t1), (s2, t2)], funds) = two_quotes_one_balance(&app).await;
    let account = engine::ids::account_of(&member).unwrap();

    app.faults.hold_next_append_of(account.as_str());
    let first = pay(&app, &s1, PaymentMethod::Balance, t1);
    app.faults.held.notified().await;
    pay(&app, &s2, PaymentMethod::Balance, t2)
        .await
        .unwrap()
        .expect("the second debit passes");
    app.faults.release.notify_one();
    let error = first.await.unwrap().unwrap_err();

    assert_eq!(app.faults.lost_races.load(Ordering::SeqCst), 1);
    assert_eq!(error.code(), "account.insufficient_balance");
    assert_eq!(error.rule(), Some(Rule::Acc4));
    assert_eq!(app.balance(&member).await, funds.checked_sub(t2).unwrap());
}

// rule ACC-4: two debits racing freely for a balance that covers either but not both, many
// rounds: exactly one passes, and the balance never goes below zero.
async fn acc_4_racing_debits_only_one_balance_covers_exactly_one_passes_rounds<B: Backend>() {
    let app = TestApp::<B>::new().await;
    for round in 0..ROUNDS / 2 {
        let (member, [(s1, t1), (s2, t2)], funds) = two_quotes_one_balance(&app).await;
        let a = pay(&app, &s1, PaymentMethod::Balance, t1);
        let b = pay(&app, &s2, PaymentMethod::Balance, t2);
        let (a_won, _, error) = one_of(a.await.unwrap(), b.await.unwrap());
        let paid = if a_won { t1 } else { t2 };
        assert_eq!(
            error.code(),
            "account.insufficient_balance",
            "round {round}"
        );
        assert_eq!(error.rule(), Some(Rule::Acc4));
        let balance = app.balance(&member).await;
        assert_eq!(balance, funds.checked_sub(paid).unwrap());
        assert!(!balance.is_negative());
    }
}

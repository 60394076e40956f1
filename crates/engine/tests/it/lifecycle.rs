//! A member's whole story through the engine on the jp-forwarding profile: registration to a
//! claim paid out, through a return to origin and a re-shipment (SHP-2) with its duty advanced
//! and billed a month later (ACC-8), every cross-aggregate step taken by the engine, and the
//! balance equal to the sum of its movements at the end (ACC-1).

use crate::support::*;
use domain::account::{sum_of_movements, AccountCommand, AccountEvent, ChargeAccount, Reason};
use domain::ids::{CauseId, ClaimId};
use domain::money::{Currency, Money};
use domain::parcel::{Parcel, ParcelEvent};
use domain::shipment::{
    ClaimType, ClaimedItem, DutyPayment, Evidence, PaymentMethod, Shipment, ShipmentCommand,
    ShipmentStatus, TrackingNumber, TrackingStatus,
};
use engine::use_cases::follow::Shipping;
use engine::use_cases::payment::Payment;
use rust_decimal::Decimal;

on_each_backend!(acc_1_a_member_from_registration_to_a_claim_paid_out,);

fn ems() -> Shipping {
    Shipping {
        carrier: "EMS".into(),
        service: "EMS".into(),
        tracking_number: TrackingNumber::parse("EJ123456789JP").unwrap(),
        declared_value: Money::jpy(8_000),
        exchange_rate: None,
    }
}

// rule ACC-1: after a full lifecycle the balance is the sum of the account's movements.
async fn acc_1_a_member_from_registration_to_a_claim_paid_out<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let engine = &app.engine;
    let ctx = app.ctx();

    // Registration (MEM-1), verification (MEM-2), a top-up (ACC-2).
    let (member, suite_code) = app.verified_member().await;
    assert!(suite_code.as_str().starts_with("TYO-"));
    app.top_up(&member, 100_000).await;
    assert_eq!(app.balance(&member).await, Money::jpy(100_000));

    // Two parcels arrive a day apart; the second's storage clock counts from the first's
    // arrival (STO-1, first-waiting-arrival), a fact the engine looked up.
    let first = app.stored_parcel(&suite_code, 1_500, 3_000).await;
    app.clock.advance(days(1));
    let second = app.stored_parcel(&suite_code, 1_200, 5_000).await;
    let first_received = engine.load::<Parcel>(first.as_str()).await.unwrap();
    let received_on = first_received.state.receipt().unwrap().received_on;
    let anchor = engine
        .history::<Parcel>(second.as_str())
        .await
        .unwrap()
        .into_iter()
        .find_map(|event| match event {
            ParcelEvent::Stored { anchor, .. } => Some(anchor),
            _ => None,
        });
    assert_eq!(anchor, Some(received_on));

    // Consolidated, packed, quoted, paid from the balance.
    let consolidated = engine
        .consolidate(&member, &[first.clone(), second.clone()], &ctx)
        .await
        .unwrap();
    let shipment = consolidated.shipment_id;
    assert_eq!(consolidated.reservations.len(), 2);
    engine
        .record_packing(&shipment, ems_packing(3_100), &ctx)
        .await
        .unwrap();
    let quoted = engine.quote(&shipment, ems_to_us(), &ctx).await.unwrap();
    assert!(quoted.auto_ship.is_none());
    let total = quoted.total;
    let paid = engine
        .pay(
            &shipment,
            Payment {
                method: PaymentMethod::Balance,
                amount: total,
                exchange_rate: None,
            },
            &ctx,
        )
        .await
        .unwrap();
    assert!(paid.debit.is_some());
    let after_payment = Money::jpy(100_000).checked_sub(total).unwrap();
    assert_eq!(app.balance(&member).await, after_payment);

    // Before dispatch the member has the warehouse advance the duty (ACC-8).
    engine
        .execute::<Shipment>(
            shipment.as_str(),
            ShipmentCommand::ChooseDutyPayment {
                payment: DutyPayment::Advance,
            },
            &ctx,
        )
        .await
        .unwrap();
    let fee = engine.policy().account.duty_advance_fee;

    // Shipped; the carrier sends it back (SHP-2): back in storage, the return cost charged.
    let first_dispatch = engine.ship(&shipment, ems(), &ctx).await.unwrap();
    assert!(first_dispatch.duty_advance.is_some());
    app.clock.advance(days(6));
    engine
        .advance_shipment(
            &shipment,
            ShipmentCommand::RecordTracking {
                status: TrackingStatus::ReturnedToOrigin,
                on: app.today(),
                note: Some("addressee unknown".into()),
            },
            &ctx,
        )
        .await
        .unwrap();
    app.clock.advance(days(3));
    let return_cost = Money::jpy(2_400);
    engine
        .receive_return(&shipment, return_cost, &ctx)
        .await
        .unwrap();
    let returned_on = app.today();
    for parcel in [&first, &second] {
        let back = engine.load::<Parcel>(parcel.as_str()).await.unwrap().state;
        assert_eq!(back.status().name(), "packed");
        assert_eq!(back.receipt().unwrap().received_on, returned_on);
    }

    // Re-shipped on a new quote, paid as a payment of its own, its duty advanced again.
    let requoted = engine.quote(&shipment, ems_to_us(), &ctx).await.unwrap();
    engine
        .pay(
            &shipment,
            Payment {
                method: PaymentMethod::Balance,
                amount: requoted.total,
                exchange_rate: None,
            },
            &ctx,
        )
        .await
        .unwrap();
    let after_payment = after_payment
        .checked_sub(fee)
        .unwrap()
        .checked_sub(return_cost)
        .unwrap()
        .checked_sub(requoted.total)
        .unwrap()
        .checked_sub(fee)
        .unwrap();

    // Shipped again, delivered.
    engine.ship(&shipment, ems(), &ctx).await.unwrap();
    app.clock.advance(days(4));
    engine
        .advance_shipment(
            &shipment,
            ShipmentCommand::RecordTracking {
                status: TrackingStatus::Delivered,
                on: app.today(),
                note: None,
            },
            &ctx,
        )
        .await
        .unwrap();

    // A defect claim on the first parcel's T-shirt, approved, paid out to the balance.
    let claim = ClaimId::parse("clm-1").unwrap();
    engine
        .advance_shipment(
            &shipment,
            ShipmentCommand::FileClaim {
                claim_id: claim.clone(),
                claim_type: ClaimType::Defect,
                evidence: Evidence {
                    photos: vec!["stain.jpg".into()],
                    label_photo: None,
                    comment: Some("a stain on the front".into()),
                    damage_report: None,
                },
                item: Some(ClaimedItem {
                    parcel_id: first.clone(),
                    line: 0,
                    quantity: 1,
                }),
                under_warranty: false,
            },
            &ctx,
        )
        .await
        .unwrap();
    let approved = engine
        .approve_claim(&shipment, &claim, Money::jpy(3_000), &ctx)
        .await
        .unwrap();
    assert!(matches!(
        approved.payout.events().next(),
        Some(AccountEvent::Credited { movement, .. })
            if movement.reason == Reason::ClaimPayout && movement.amount == Money::jpy(3_000)
    ));

    let delivered = engine.load::<Shipment>(shipment.as_str()).await.unwrap();
    assert_eq!(delivered.state.status(), ShipmentStatus::Delivered);

    // About a month later customs bills the duty advanced: charged to the balance (ACC-8).
    app.clock.advance(days(30));
    let reshipment = delivered.state.payment_cause().unwrap();
    let duty = Money::jpy(1_800);
    engine
        .execute::<ChargeAccount>(
            engine::ids::account_of(&member).unwrap().as_str(),
            AccountCommand::BillAdvancedDuty {
                shipment: CauseId::parse(&reshipment).unwrap(),
                duty,
                rate: None,
            },
            &ctx,
        )
        .await
        .unwrap();
    let expected = Money::new(
        after_payment.amount + Decimal::from(3_000) - duty.amount,
        Currency::Jpy,
    );
    assert_eq!(app.balance(&member).await, expected);

    // ACC-1: the balance equals the sum of the movements of the account's whole history.
    let account = engine::ids::account_of(&member).unwrap();
    let history = engine
        .history::<ChargeAccount>(account.as_str())
        .await
        .unwrap();
    assert_eq!(sum_of_movements(Currency::Jpy, &history), Ok(expected));
    let loaded = engine
        .load::<ChargeAccount>(account.as_str())
        .await
        .unwrap();
    assert!(loaded.state.balance_matches(&history));

    // Each parcel's own stream tells its whole life: the shipment's payment, shipping and
    // delivery, and the claim on the first parcel's item with its settlement.
    for (parcel, claimed) in [(&first, true), (&second, false)] {
        let types: Vec<String> = engine
            .history::<Parcel>(parcel.as_str())
            .await
            .unwrap()
            .iter()
            .map(cqrs_es::DomainEvent::event_type)
            .skip_while(|t| t != "parcel.packed")
            .collect();
        let mut expected = vec![
            "parcel.packed",
            "parcel.paid",
            "parcel.shipped",
            "parcel.returned_to_warehouse",
            "parcel.paid",
            "parcel.shipped",
            "parcel.delivered",
        ];
        if claimed {
            expected.extend(["parcel.claimed", "parcel.claim_settled"]);
        }
        assert_eq!(types, expected, "{parcel}");
    }

    // Every event carries who asked and in which flow.
    let (actor, correlation) = app
        .db
        .actor_and_correlation(shipment.as_str(), "shipment.claim_approved")
        .await;
    assert_eq!(actor, "operator:test");
    assert_eq!(correlation, ctx.correlation_id);
}

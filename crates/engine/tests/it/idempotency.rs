//! Idempotency keys: a retried request with the same key returns the first result and
//! appends nothing; concurrent requests with one key execute once; a request interrupted
//! after appending is resumed on retry without appending twice.

use crate::support::*;
use domain::ids::ParcelId;
use domain::member::MemberEvent;
use domain::parcel::{Parcel, ParcelEvent, ParcelStatus};
use domain::shipment::PaymentMethod;
use engine::use_cases::payment::Payment;
use engine::{CommandContext, EngineError, IdempotencyKey};
use std::sync::atomic::Ordering;
use std::sync::Arc;

on_each_backend!(
    the_same_key_twice_returns_the_first_result_and_appends_nothing,
    a_refusal_is_the_first_result_too_and_another_request_may_not_reuse_the_key,
    a_request_that_crashed_before_recording_its_result_is_answered_from_its_events,
    a_request_that_failed_halfway_is_resumed_without_appending_twice,
);
on_each_backend!(
    multi_thread(4):
    concurrent_requests_with_one_key_execute_once,
);

fn keyed<B: Backend>(app: &TestApp<B>, key: &str) -> CommandContext {
    app.ctx().with_key(IdempotencyKey::parse(key).unwrap())
}

async fn the_same_key_twice_returns_the_first_result_and_appends_nothing<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let parcel = app.stored_parcel(&suite, 1_000, 2_000).await;

    // A command that is not idempotent by itself: each declaration replaces the last.
    let first = app
        .engine
        .execute::<Parcel>(
            parcel.as_str(),
            declaration(2_500),
            &keyed(&app, "declare-1"),
        )
        .await
        .unwrap();
    let events = app.event_count().await;
    let again = app
        .engine
        .execute::<Parcel>(
            parcel.as_str(),
            declaration(2_500),
            &keyed(&app, "declare-1"),
        )
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(app.event_count().await, events);

    // A use case that allocates an id: the retry names the same shipment.
    let other = app.stored_parcel(&suite, 1_000, 2_000).await;
    app.engine
        .confirm_declaration(&parcel, &app.ctx())
        .await
        .unwrap();
    let parcels = [parcel.clone(), other.clone()];
    let first = app
        .engine
        .consolidate(&member, &parcels, &keyed(&app, "consolidate-1"))
        .await
        .unwrap();
    let events = app.event_count().await;
    let again = app
        .engine
        .consolidate(&member, &parcels, &keyed(&app, "consolidate-1"))
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(app.event_count().await, events);
    // Without the key the same request is a new one, refused: the parcels are taken (CON-3).
    let error = app
        .engine
        .consolidate(&member, &parcels, &app.ctx())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "consolidation.parcel_taken");
    // The key is in each event's metadata, with the step that appended it.
    let marked = app.events_with_key("consolidate-1").await;
    assert_eq!(marked.len(), 3);
    let steps: Vec<String> = marked
        .iter()
        .map(|(_, _, _, metadata)| metadata["idempotency_step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(steps, ["1", "2", "3"]);
}

async fn a_refusal_is_the_first_result_too_and_another_request_may_not_reuse_the_key<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let parcel = app.stored_parcel(&suite, 1_500, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    let payment = || Payment {
        method: PaymentMethod::Balance,
        amount: total,
        exchange_rate: None,
    };
    let refused = app
        .engine
        .pay(&shipment, payment(), &keyed(&app, "pay-1"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "account.insufficient_balance");
    app.top_up(&member, 100_000).await;
    // Same key, same request: the first answer, although the balance now covers it.
    let again = app
        .engine
        .pay(&shipment, payment(), &keyed(&app, "pay-1"))
        .await
        .unwrap_err();
    assert_eq!(again, refused);
    // Same key, another request: refused as a reused key.
    let reused = app
        .engine
        .pay(
            &shipment,
            Payment {
                method: PaymentMethod::Card,
                ..payment()
            },
            &keyed(&app, "pay-1"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        reused,
        EngineError::KeyReused {
            key: "pay-1".into()
        }
    );
    // A new key pays.
    app.engine
        .pay(&shipment, payment(), &keyed(&app, "pay-2"))
        .await
        .unwrap();
}

async fn concurrent_requests_with_one_key_execute_once<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let ctx = keyed(&app, "register-1");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let engine = Arc::clone(&app.engine);
            let ctx = ctx.clone();
            tokio::spawn(async move { engine.register_member(registration(), &ctx).await })
        })
        .collect();
    let mut members = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(registered) => members.push(registered),
            Err(EngineError::InProgress { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(!members.is_empty());
    // One member for every answer; an answer replayed from the stored result reads the
    // stand-ins of its personal data, which the stored result never keeps (#10).
    assert!(members.iter().all(|m| m.member_id == members[0].member_id
        && m.suite_code == members[0].suite_code
        && m.account_id == members[0].account_id));
    assert_eq!(app.db.events_of_type("member.registered").await, 1);
    assert_eq!(app.db.suite_code_count().await, 1);
    assert!(matches!(
        members[0].member.events().next(),
        Some(MemberEvent::Registered { .. })
    ));
}

async fn a_request_that_crashed_before_recording_its_result_is_answered_from_its_events<
    B: Backend,
>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let parcels = [
        app.stored_parcel(&suite, 1_000, 2_000).await,
        app.stored_parcel(&suite, 1_000, 2_000).await,
    ];
    let first = app
        .engine
        .consolidate(&member, &parcels, &keyed(&app, "crash-1"))
        .await
        .unwrap();
    // As if the process died after the appends and before the result was stored.
    app.db.forget_result("crash-1").await;
    let events = app.event_count().await;
    let resumed = app
        .engine
        .consolidate(&member, &parcels, &keyed(&app, "crash-1"))
        .await
        .unwrap();
    assert_eq!(resumed, first);
    assert_eq!(app.event_count().await, events);
}

async fn a_request_that_failed_halfway_is_resumed_without_appending_twice<B: Backend>() {
    let app = TestApp::<B>::new().await;
    let (member, suite) = app.verified_member().await;
    let parcels = [
        app.stored_parcel(&suite, 1_000, 2_000).await,
        app.stored_parcel(&suite, 1_000, 2_000).await,
    ];
    // The parcels are reserved, then the shipment cannot be appended.
    app.faults.fail_shipments.store(true, Ordering::SeqCst);
    let failed = app
        .engine
        .consolidate(&member, &parcels, &keyed(&app, "halfway-1"))
        .await
        .unwrap_err();
    app.faults.fail_shipments.store(false, Ordering::SeqCst);
    assert_eq!(failed.code(), "engine.store");
    let reserved_for = |parcel: &ParcelId| {
        let engine = Arc::clone(&app.engine);
        let parcel = parcel.clone();
        async move {
            match engine
                .load::<Parcel>(parcel.as_str())
                .await
                .unwrap()
                .state
                .status()
            {
                ParcelStatus::Reserved { shipment_id } => Some(shipment_id.clone()),
                _ => None,
            }
        }
    };
    let shipment = reserved_for(&parcels[0])
        .await
        .expect("reserved, not released");

    // The retry resumes: it replays the reservations and appends the shipment.
    let resumed = app
        .engine
        .consolidate(&member, &parcels, &keyed(&app, "halfway-1"))
        .await
        .unwrap();
    assert_eq!(resumed.shipment_id, shipment);
    assert_eq!(reserved_for(&parcels[1]).await, Some(shipment));
    for parcel in &parcels {
        let history = app.engine.history::<Parcel>(parcel.as_str()).await.unwrap();
        let reserved = history
            .iter()
            .filter(|e| matches!(e, ParcelEvent::Consolidated { .. }))
            .count();
        assert_eq!(reserved, 1);
        assert!(!history
            .iter()
            .any(|e| matches!(e, ParcelEvent::Released { .. })));
    }
    assert_eq!(app.events_with_key("halfway-1").await.len(), 3);
}

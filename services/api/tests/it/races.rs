//! The races the business must win, through HTTP with real concurrency (a listener on
//! 127.0.0.1:0, one connection per request, a multi-threaded runtime), many rounds each:
//! two consolidations reaching for one parcel (CON-3) and two payments of one shipment
//! (PAY-1): exactly one 2xx, and the loser's answer is the refusal of the rule.

use crate::support::*;
use axum::http::Method;
use serde_json::json;

const ROUNDS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn con_3_two_consolidations_of_one_parcel_exactly_one_succeeds() {
    let app = spawn_app().await;
    let member = app.verified().await;
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let shared = app.stored_parcel(&member, 500, 1_000).await;
        let mine = app.stored_parcel(&member, 500, 1_000).await;
        let theirs = app.stored_parcel(&member, 500, 1_000).await;
        rounds.push((shared, mine, theirs));
    }
    let address = app.listen().await;
    for (shared, mine, theirs) in &rounds {
        let consolidate = |parcels: serde_json::Value| {
            let token = member.token.clone();
            tokio::spawn(async move {
                let body = json!({ "parcel_ids": parcels });
                http(
                    address,
                    Method::POST,
                    "/v1/shipments",
                    &token,
                    &key(),
                    Some(&body),
                )
                .await
            })
        };
        let one = consolidate(json!([shared, mine]));
        let two = consolidate(json!([theirs, shared]));
        let (one, two) = (one.await.unwrap(), two.await.unwrap());
        let (winner, loser, losers_own) = match (one.status.as_u16(), two.status.as_u16()) {
            (201, _) => (one, two, theirs),
            (_, 201) => (two, one, mine),
            _ => panic!("exactly one must succeed: {:#} {:#}", one.body, two.body),
        };
        loser.problem(422, "consolidation.parcel_taken");
        assert_eq!(loser.body["rule"], "CON-3");
        assert_eq!(winner.event_types().len(), 3, "{:#}", winner.body);
        // The loser's own parcel is back in storage, its reservation released.
        let parcel = app.get(&format!("/v1/parcels/{losers_own}"), ADMIN).await;
        assert_eq!(
            find_key(&parcel.body["state"], "status").cloned(),
            Some(json!("stored")),
            "{:#}",
            parcel.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pay_1_two_payments_of_one_shipment_exactly_one_succeeds() {
    let app = spawn_app().await;
    let member = app.verified().await;
    app.top_up(&member, 1_000_000).await;
    let mut shipments = Vec::new();
    for _ in 0..ROUNDS {
        let parcel = app.stored_parcel(&member, 500, 1_000).await;
        shipments.push(app.quoted_single(&member, &parcel).await);
    }
    let address = app.listen().await;
    let mut paid = 0_i64;
    for (round, (shipment, total)) in shipments.iter().enumerate() {
        let path = format!("/v1/shipments/{shipment}/pay");
        // Every other round, the balance races a card payment.
        let methods = if round % 2 == 0 {
            ["balance", "balance"]
        } else {
            ["balance", "card"]
        };
        let tasks: Vec<_> = methods
            .into_iter()
            .map(|method| {
                let (path, token) = (path.clone(), member.token.clone());
                let body = json!({ "method": method, "amount": total });
                tokio::spawn(async move {
                    (
                        method,
                        http(address, Method::POST, &path, &token, &key(), Some(&body)).await,
                    )
                })
            })
            .collect();
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.unwrap());
        }
        let winners: Vec<_> = replies
            .iter()
            .filter(|(_, r)| r.status.is_success())
            .collect();
        assert_eq!(winners.len(), 1, "{replies:#?}");
        let (method, _) = winners[0];
        if *method == "balance" {
            paid += total["amount"].as_str().unwrap().parse::<i64>().unwrap();
        }
        let (_, loser) = replies
            .iter()
            .find(|(_, r)| !r.status.is_success())
            .unwrap();
        assert_eq!(loser.status.as_u16(), 422, "{:#}", loser.body);
        assert!(
            ["payment.already_paid", "account.duplicate_debit"].contains(&loser.code()),
            "{:#}",
            loser.body
        );
        assert_eq!(loser.body["rule"], "PAY-1", "{:#}", loser.body);
    }
    // Each balance payment was debited once; every reversed debit was credited back.
    assert_eq!(app.balance(&member).await, (1_000_000 - paid).to_string());
}

//! ACC-1 through the whole pipeline: after a randomized run of thousands of commands, every
//! account's balance in the billing view is the sum of its movements there, and the balance
//! the domain aggregate holds.

use crate::support::{Backend, TestDb};
use domain::Policy;
use projections::billing::{self, Billing};
use rust_decimal::Decimal;

async fn balances_are_sums_of_movements(policy: Policy, seed: u64, backend: Backend) {
    let db = TestDb::create_on(backend).await;
    let sim = db.play(seed, 3_000, policy).await;
    let outcome = db.catch_up(Billing).await;
    if outcome.parked > 0 {
        let parked = projection_runtime::parked::list(&db.views, &Billing, true)
            .await
            .unwrap();
        panic!(
            "nothing parked: {outcome:?}; first parked: {:#?}",
            parked.iter().take(3).collect::<Vec<_>>()
        );
    }
    let schema = db.serving(&Billing).await;
    assert_eq!(
        db.events_applied(&schema, billing::NAME).await,
        db.event_count().await,
        "the view read every event: {outcome:?}"
    );
    let expected = sim.balances();
    assert!(expected.len() > 50, "many accounts: {}", expected.len());
    let mut moved = 0;
    for (account_id, balance) in &expected {
        let statement = billing::account(&db.views, account_id.as_str())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{account_id} is in the view"));
        let sum: Decimal = statement.movements.iter().map(|m| m.amount).sum();
        assert_eq!(
            statement.account.balance, sum,
            "{account_id}: balance = sum of movements"
        );
        assert_eq!(
            statement.account.balance, balance.amount,
            "{account_id}: = the aggregate's"
        );
        assert_eq!(
            statement.account.currency.as_deref(),
            Some(balance.currency.code())
        );
        assert_eq!(
            statement.account.movements,
            statement.movements.len() as i64
        );
        moved += statement.movements.len();
    }
    assert!(moved > 200, "many movements: {moved}");
    // And the same with one statement over the whole table, where SQL can sum money exactly
    // (PostgreSQL's numeric; SQLite would sum floats, so its views are checked above only).
    if let Some(pool) = db.views.as_postgres() {
        let mismatched: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {schema}.accounts a
              WHERE a.balance <> (SELECT coalesce(sum(m.amount), 0) FROM {schema}.movements m
                                   WHERE m.account_id = a.account_id)"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(mismatched, 0);
    }
}

// rule ACC-1: the billing view's balance is always the sum of the movements.
async fn acc_1_balance_is_the_sum_of_movements_after_thousands_of_commands_jp(backend: Backend) {
    balances_are_sums_of_movements(Policy::jp_forwarding(), 21, backend).await;
}

// rule ACC-1: the same under the cn-agency profile (CNY balances, extended storage fees).
async fn acc_1_balance_is_the_sum_of_movements_after_thousands_of_commands_cn(backend: Backend) {
    balances_are_sums_of_movements(Policy::cn_agency(), 22, backend).await;
}

on_each_backend!(
    acc_1_balance_is_the_sum_of_movements_after_thousands_of_commands_jp,
    acc_1_balance_is_the_sum_of_movements_after_thousands_of_commands_cn,
);

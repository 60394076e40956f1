//! Every query answers the same on both backends: one history, projected into views on
//! PostgreSQL and into a SQLite views file, asked every question of every view.

use crate::support::{sqlite_views, TestDb};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::Policy;
use projection_runtime::{Projection, Projector, ProjectorOptions, StoreFeed};
use projections::audit::{self, Audit, AuditEntry, AuditFilter};
use projections::billing::{self, Billing};
use projections::storage_status::{self, InWarehouse, StorageStatus};
use projections::{Page, ViewDb};
use std::collections::BTreeMap;

/// Everything the views answer about one history.
#[derive(Debug, PartialEq)]
struct Answers {
    parcels: Vec<Option<storage_status::ParcelStorage>>,
    in_warehouse_pages: Vec<Vec<storage_status::ParcelStorage>>,
    one_member_stored: Vec<storage_status::ParcelStorage>,
    due_today: Vec<storage_status::DueToday>,
    past_limit: Vec<Vec<storage_status::ParcelStorage>>,
    counts: BTreeMap<String, i64>,
    accounts: Vec<Option<billing::AccountStatement>>,
    open_quotes: Vec<billing::OpenQuote>,
    one_member_quotes: Vec<billing::OpenQuote>,
    overdue: Vec<Vec<billing::Overdue>>,
    fees_by_type: Vec<billing::FeeTotal>,
    fees_by_month: Vec<billing::FeeTotal>,
    refunds_due: Vec<billing::RefundDue>,
    audit_pages: Vec<Vec<AuditEntry>>,
    related: Vec<AuditEntry>,
    window: Vec<AuditEntry>,
    histories: Vec<Vec<AuditEntry>>,
}

async fn catch_up<P: Projection>(db: &TestDb, views: &ViewDb, projection: P) {
    Projector::new(
        views.clone(),
        projection,
        StoreFeed::new(db.store.clone()),
        ProjectorOptions::default(),
    )
    .catch_up()
    .await
    .expect("catch up");
}

async fn ask(
    views: &ViewDb,
    policy: &Policy,
    days: &[NaiveDate],
    parcel_ids: &[String],
    account_ids: &[String],
    member_id: &str,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> Answers {
    let mut answers = Answers {
        parcels: Vec::new(),
        in_warehouse_pages: Vec::new(),
        one_member_stored: Vec::new(),
        due_today: Vec::new(),
        past_limit: Vec::new(),
        counts: storage_status::counts_per_state(views).await.unwrap(),
        accounts: Vec::new(),
        open_quotes: billing::open_quotes(views, None, &Page::all())
            .await
            .unwrap(),
        one_member_quotes: billing::open_quotes(views, Some(member_id), &Page::all())
            .await
            .unwrap(),
        overdue: Vec::new(),
        fees_by_type: billing::fees_by_type(views, &Page::all(), policy)
            .await
            .unwrap(),
        fees_by_month: billing::fees_by_month(views, &Page::all(), policy)
            .await
            .unwrap(),
        refunds_due: billing::refunds_due(views, &Page::all()).await.unwrap(),
        audit_pages: Vec::new(),
        related: Vec::new(),
        window: Vec::new(),
        histories: Vec::new(),
    };
    let today = days[0];
    for id in parcel_ids {
        let parcel = storage_status::parcel(views, id, today, policy).await;
        answers.parcels.push(parcel.unwrap());
    }
    let mut page = Page::first(37);
    loop {
        let rows =
            storage_status::in_warehouse(views, &InWarehouse::default(), &page, today, policy)
                .await
                .unwrap();
        let Some(last) = rows.last() else { break };
        page.after = Some(last.parcel_id.clone());
        answers.in_warehouse_pages.push(rows);
    }
    let stored = InWarehouse {
        member_id: Some(member_id.to_owned()),
        states: vec!["stored".to_owned(), "received".to_owned()],
    };
    answers.one_member_stored =
        storage_status::in_warehouse(views, &stored, &Page::first(1_000), today, policy)
            .await
            .unwrap();
    for &day in days {
        let due = storage_status::due_today(views, day, policy).await;
        answers.due_today.push(due.unwrap());
        let past = storage_status::past_limit(views, &Page::all(), day, policy).await;
        answers.past_limit.push(past.unwrap());
        answers.overdue.push(
            billing::overdue(views, &Page::all(), day, policy)
                .await
                .unwrap(),
        );
    }
    for id in account_ids {
        answers
            .accounts
            .push(billing::account(views, id).await.unwrap());
    }
    let mut page = Page::first(250);
    loop {
        let rows = audit::search(views, &AuditFilter::default(), &page)
            .await
            .unwrap();
        let Some(last) = rows.last() else { break };
        page.after = Some((last.txid.clone(), last.position));
        answers.audit_pages.push(rows);
    }
    let related = AuditFilter {
        related_id: Some(member_id.to_owned()),
        ..AuditFilter::default()
    };
    answers.related = audit::search(views, &related, &Page::first(10_000))
        .await
        .unwrap();
    let window = AuditFilter {
        from: Some(window.0),
        until: Some(window.1),
        ..AuditFilter::default()
    };
    answers.window = audit::search(views, &window, &Page::first(10_000))
        .await
        .unwrap();
    for id in parcel_ids.iter().take(40) {
        let middle = Some(window.from.unwrap_or_default());
        let history = audit::history(views, "parcel", id, middle).await;
        answers.histories.push(history.unwrap());
    }
    answers
}

#[tokio::test]
async fn every_query_answers_the_same_on_postgresql_and_sqlite() {
    let db = TestDb::create().await;
    let policy = Policy::cn_agency();
    let sim = db.play(61, 2_000, policy.clone()).await;
    let (sqlite, _dir) = sqlite_views().await;
    for views in [&db.views, &sqlite] {
        catch_up(&db, views, StorageStatus).await;
        catch_up(&db, views, Billing).await;
        catch_up(&db, views, Audit).await;
    }
    let today = sim.today();
    let days = [
        today,
        today + Duration::days(20),
        today + Duration::days(90),
    ];
    let parcel_ids: Vec<String> = sim
        .parcels()
        .iter()
        .map(|(id, _, _)| id.to_string())
        .collect();
    let account_ids: Vec<String> = sim
        .balances()
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    // A member with a parcel on the shelf, so that the member filters find something.
    let member_id = sim
        .parcels()
        .iter()
        .filter(|(_, parcel, _)| parcel.status().name() == "stored")
        .find_map(|(_, parcel, _)| parcel.member_id().map(|m| m.to_string()))
        .expect("a stored parcel with a member");
    let events = db.all_events().await;
    let window = (
        events[events.len() / 3].recorded_at,
        events[2 * events.len() / 3].recorded_at,
    );

    let on_postgres = ask(
        &db.views,
        &policy,
        &days,
        &parcel_ids,
        &account_ids,
        &member_id,
        window,
    )
    .await;
    let on_sqlite = ask(
        &sqlite,
        &policy,
        &days,
        &parcel_ids,
        &account_ids,
        &member_id,
        window,
    )
    .await;
    // The answers are not trivially equal: every list has something in it.
    assert!(on_postgres.parcels.iter().flatten().count() > 100);
    assert!(on_postgres.in_warehouse_pages.len() > 2);
    assert!(!on_postgres.one_member_stored.is_empty());
    assert!(on_postgres.due_today.iter().any(|d| !d.notices.is_empty()));
    assert!(on_postgres.past_limit.iter().any(|p| !p.is_empty()));
    assert!(on_postgres
        .accounts
        .iter()
        .flatten()
        .any(|a| a.movements.len() > 3));
    assert!(!on_postgres.open_quotes.is_empty());
    assert!(on_postgres.overdue.iter().any(|o| !o.is_empty()));
    assert!(!on_postgres.fees_by_type.is_empty());
    assert!(on_postgres.fees_by_month.len() >= on_postgres.fees_by_type.len());
    assert!(!on_postgres.related.is_empty() && !on_postgres.window.is_empty());
    assert_eq!(
        on_postgres.audit_pages.iter().map(Vec::len).sum::<usize>(),
        events.len()
    );
    assert_eq!(on_postgres, on_sqlite);
}

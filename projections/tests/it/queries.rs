//! The views answer what DOMAIN.md asks of them, and agree with the domain: what the storage
//! view says is due today is exactly what the Parcel aggregate would accept today; billing's
//! open quotes, refunds and fees are the aggregates'; the audit view finds every event and
//! rebuilds any aggregate as it was.

use crate::support::{Backend, TestDb};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::parcel::{DisposalCause, Parcel, ParcelCommand, ParcelStatus};
use domain::shipment::ShipmentStatus;
use domain::{Issued, Policy};
use projection_runtime::EventEnvelope;
use projections::audit::{self, Audit, AuditFilter};
use projections::billing::{self, Billing};
use projections::storage_status::{self, InWarehouse, StorageStatus};
use projections::Page;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// Every row of a list read `limit` rows at a time, each page starting after the last key of
/// the one before, as a client follows `next_cursor`.
async fn walk<T, K, Fut>(
    limit: u32,
    key: impl Fn(&T) -> K,
    mut read: impl FnMut(Page<K>) -> Fut,
) -> Vec<T>
where
    Fut: std::future::Future<Output = Vec<T>>,
{
    let mut rows = Vec::new();
    let mut page = Page::first(limit);
    loop {
        let got = read(Page {
            after: page.after.take(),
            limit,
        })
        .await;
        assert!(
            got.len() <= limit as usize,
            "a page holds at most its limit"
        );
        let full = got.len() == limit as usize;
        page.after = got.last().map(&key);
        rows.extend(got);
        if !full {
            return rows;
        }
    }
}

fn noon(policy: &Policy, day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_hms_opt(12, 0, 0).unwrap();
    Utc.from_utc_datetime(&(local - Duration::minutes(i64::from(policy.utc_offset_minutes))))
}

async fn storage_status_agrees_with_the_domain(policy: Policy, seed: u64, backend: Backend) {
    let db = TestDb::create_on(backend).await;
    let sim = db.play(seed, 2_500, policy).await;
    // The simulation's copy: its calendar reaches past the shipped one's end.
    let policy = sim.policy().clone();
    db.catch_up(StorageStatus).await;
    let today = sim.today();
    let at = noon(&policy, today);
    let parcels = sim.parcels();
    let accepts = |parcel: &Parcel, command: ParcelCommand| {
        parcel.decide(Issued::at(at, command), &policy).is_ok()
    };

    // Every parcel's state is the aggregate's: the parcel follows its shipment (paid, shipped,
    // delivered, lost), and a packed one whose shipment left without it (a history from
    // before the parcel stream) reads shipped.
    for (id, parcel, _) in &parcels {
        let Some(view) = storage_status::parcel(&db.views, id.as_str(), today, &policy)
            .await
            .unwrap()
        else {
            let stored = db
                .explain("parcel", id.as_str(), storage_status::NAME)
                .await;
            panic!("{id} is not in the view; {stored}");
        };
        let domain_state = parcel.status().name();
        if view.state == "shipped" && domain_state != "shipped" {
            assert!(
                matches!(
                    parcel.status(),
                    ParcelStatus::Packed { .. } | ParcelStatus::Paid { .. }
                ),
                "{id}"
            );
        } else {
            assert_eq!(view.state, domain_state, "{id}");
        }
    }

    // STO-2: past the limit and not marked yet = the aggregate would accept MarkDisposable.
    let due = storage_status::due_today(&db.views, today, &policy)
        .await
        .unwrap();
    let ids = |list: &[storage_status::ParcelStorage]| -> BTreeSet<String> {
        list.iter().map(|p| p.parcel_id.clone()).collect()
    };
    let expected: BTreeSet<String> = parcels
        .iter()
        .filter(|(_, parcel, earliest)| {
            // STO-1: the engine runs the clock of a parcel in a shipment not paid for only.
            sim.on_storage_clock(parcel)
                && accepts(
                    parcel,
                    ParcelCommand::MarkDisposable {
                        earliest_waiting_arrival: *earliest,
                    },
                )
        })
        .map(|(id, _, _)| id.to_string())
        .collect();
    assert_eq!(ids(&due.to_mark_disposable), expected, "to mark disposable");
    let past = storage_status::past_limit(&db.views, &Page::all(), today, &policy)
        .await
        .unwrap();
    assert!(ids(&due.to_mark_disposable).is_subset(&ids(&past)));
    assert!(past
        .iter()
        .all(|p| p.storage.as_ref().unwrap().days_left == 0));

    // DSP-1 (STO-1): a disposal decision due = the aggregate would dispose of it past its
    // limit; a marked parcel of a held shipment is not one (it goes for non-payment, PAY-2).
    let expected: BTreeSet<String> = parcels
        .iter()
        .filter(|(_, parcel, _)| {
            accepts(
                parcel,
                ParcelCommand::Dispose {
                    cause: DisposalCause::PastMaxStorage,
                },
            )
        })
        .map(|(id, _, _)| id.to_string())
        .collect();
    assert_eq!(ids(&due.to_dispose), expected, "to dispose");

    // STO-2: a notice due today = the aggregate would send it today.
    let expected: BTreeSet<String> = parcels
        .iter()
        .filter(|(_, parcel, earliest)| {
            sim.on_storage_clock(parcel)
                && accepts(
                    parcel,
                    ParcelCommand::SendStorageNotice {
                        earliest_waiting_arrival: *earliest,
                    },
                )
        })
        .map(|(id, _, _)| id.to_string())
        .collect();
    assert_eq!(ids(&due.notices), expected, "notices due");

    // STO-3: an extended month not charged yet = the aggregate would accrue a fee.
    let expected: BTreeSet<String> = parcels
        .iter()
        .filter(|(_, parcel, _)| {
            parcel.status().in_storage()
                && parcel
                    .decide(Issued::at(at, ParcelCommand::AccrueStorageFee), &policy)
                    .is_ok_and(|events| !events.is_empty())
        })
        .map(|(id, _, _)| id.to_string())
        .collect();
    assert_eq!(ids(&due.fees_to_accrue), expected, "fees to accrue");

    // PAR-1: the unidentified queue.
    let expected: BTreeSet<String> = parcels
        .iter()
        .filter(|(_, parcel, _)| *parcel.status() == ParcelStatus::Unidentified)
        .map(|(id, _, _)| id.to_string())
        .collect();
    assert_eq!(ids(&due.unidentified), expected, "unidentified");

    // Each task, and the past-limit list, read a page at a time is the whole list in parcel id
    // order: no row missed or repeated at a page's edge.
    let views = &db.views;
    let rules = &policy;
    let whole = [
        &due.notices,
        &due.to_mark_disposable,
        &due.to_dispose,
        &due.fees_to_accrue,
        &due.arrivals_to_notify,
        &due.unidentified,
    ];
    let parcel_key = |p: &storage_status::ParcelStorage| p.parcel_id.clone();
    for (task, whole) in storage_status::DueTask::ALL.into_iter().zip(whole) {
        let paged = walk(3, parcel_key, |page| async move {
            storage_status::due(views, task, &page, today, rules)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(&paged, whole, "{task:?} in pages");
    }
    let paged = walk(4, parcel_key, |page| async move {
        storage_status::past_limit(views, &page, today, rules)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(paged, past, "past the limit in pages");
    assert!(!past.is_empty(), "some parcels are past their limit");

    // Paging through the warehouse finds each parcel on the premises once, in id order.
    let mut paged = Vec::new();
    let mut page = Page::first(37);
    loop {
        let rows =
            storage_status::in_warehouse(&db.views, &InWarehouse::default(), &page, today, &policy)
                .await
                .unwrap();
        let Some(last) = rows.last() else { break };
        page.after = Some(last.parcel_id.clone());
        paged.extend(rows);
    }
    let on_premises: BTreeSet<String> = parcels
        .iter()
        .filter(|(_, parcel, _)| parcel.status().on_premises())
        .map(|(id, _, _)| id.to_string())
        .collect();
    let listed = ids(&paged);
    assert_eq!(listed.len(), paged.len(), "each once");
    assert!(listed.is_subset(&on_premises));
    assert!(paged.iter().all(|p| p.state != "shipped"));
    assert!(paged.windows(2).all(|w| w[0].parcel_id < w[1].parcel_id));
    // STO-4: days stored and days left on every waiting parcel.
    for p in &paged {
        let storage = p
            .storage
            .as_ref()
            .expect("a parcel in the warehouse has a clock");
        let received_on = p.received_on.unwrap();
        // Received on the next business day when delivered on a closed day (TIM-2).
        assert_eq!(
            storage.days_stored >= 1,
            received_on <= today,
            "{}",
            p.parcel_id
        );
        assert!(
            !storage.disposable || storage.days_left == 0,
            "{}",
            p.parcel_id
        );
    }
    // By member and state.
    let member = paged.iter().find_map(|p| p.member_id.clone()).unwrap();
    let mine = storage_status::in_warehouse(
        &db.views,
        &InWarehouse {
            member_id: Some(member.clone()),
            states: vec!["stored".into()],
        },
        &Page::first(1_000),
        today,
        &policy,
    )
    .await
    .unwrap();
    assert!(mine
        .iter()
        .all(|p| p.member_id.as_deref() == Some(member.as_str()) && p.state == "stored"));

    // Counts per state cover every parcel.
    let counts = storage_status::counts_per_state(&db.views).await.unwrap();
    assert_eq!(counts.values().sum::<i64>(), parcels.len() as i64);
    assert!(
        counts.contains_key("stored") && counts.contains_key("disposed"),
        "{counts:?}"
    );
}

// rule STO-4: what is in the warehouse and what is due today, as the domain would decide it.
async fn sto_4_storage_status_agrees_with_the_parcel_aggregate_jp(backend: Backend) {
    storage_status_agrees_with_the_domain(Policy::jp_forwarding(), 51, backend).await;
}

// rule STO-4: the same with per-parcel anchors and paid extended storage (STO-1, STO-3).
async fn sto_4_storage_status_agrees_with_the_parcel_aggregate_cn(backend: Backend) {
    storage_status_agrees_with_the_domain(Policy::cn_agency(), 52, backend).await;
}

// rule STO-4: the dashboard's pictures and look-ups. Each day's counts agree with the day's
// lists (today's past-limit count is the past-limit list, today's occupancy the parcels on the
// premises), arrivals and shipments per day with the events, and the directory finds every
// member by id and suite code, and every shipment sent by its tracking number.
async fn sto_4_daily_counts_and_the_directory_agree_with_the_lists(backend: Backend) {
    let db = TestDb::create_on(backend).await;
    let sim = db.play(53, 2_500, Policy::jp_forwarding()).await;
    let policy = sim.policy().clone();
    db.catch_up(StorageStatus).await;
    let today = sim.today();
    let from = today - Duration::days(89);
    let days = storage_status::daily(&db.views, from, today, &policy)
        .await
        .unwrap();
    assert_eq!(days.len(), 90);
    assert!(days
        .windows(2)
        .all(|w| w[0].date.succ_opt() == Some(w[1].date)));
    let last = days.last().unwrap();
    assert_eq!(last.date, today);
    let past = storage_status::past_limit(&db.views, &Page::all(), today, &policy)
        .await
        .unwrap();
    assert_eq!(last.past_limit, past.len() as u64, "past the limit today");
    assert!(last.past_limit > 0, "some parcels are past their limit");
    let here = storage_status::in_warehouse(
        &db.views,
        &InWarehouse::default(),
        &Page::all(),
        today,
        &policy,
    )
    .await
    .unwrap();
    let here = here
        .iter()
        .filter(|p| p.received_on.is_some_and(|day| day <= today))
        .count();
    assert_eq!(last.in_warehouse, here as u64, "in the warehouse today");

    let events = db.all_events().await;
    let day_of = |e: &EventEnvelope, pointer: &str| -> NaiveDate {
        e.payload
            .pointer(pointer)
            .unwrap()
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut received: BTreeMap<String, NaiveDate> = BTreeMap::new();
    // A shipment the carrier sent back may be shipped again: its last hand-over counts.
    let mut shipped: BTreeMap<String, NaiveDate> = BTreeMap::new();
    for event in &events {
        match event.event_type.as_str() {
            "parcel.arrived" => {
                received.insert(
                    event.aggregate_id.clone(),
                    day_of(event, "/arrived/received_on"),
                );
            }
            "parcel.returned_to_warehouse" => {
                received.insert(
                    event.aggregate_id.clone(),
                    day_of(event, "/returned_to_warehouse/received_on"),
                );
            }
            "shipment.shipped" => {
                shipped.insert(
                    event.aggregate_id.clone(),
                    day_of(event, "/shipped/shipped_on"),
                );
            }
            _ => {}
        }
    }
    for day in &days {
        let arrivals = received.values().filter(|&&d| d == day.date).count() as u64;
        assert_eq!(day.arrivals, arrivals, "arrivals on {}", day.date);
        let sent = shipped.values().filter(|&&d| d == day.date).count() as u64;
        assert_eq!(day.shipments, sent, "shipments on {}", day.date);
        assert!(day.past_limit <= day.in_warehouse, "{}", day.date);
    }
    assert!(
        days.iter().any(|d| d.shipments > 0),
        "shipments in the period"
    );

    let mut members = 0;
    for event in events
        .iter()
        .filter(|e| e.event_type == "member.registered")
    {
        let suite_code = event.payload["registered"]["suite_code"].as_str().unwrap();
        let ids = [event.aggregate_id.clone()];
        let filter = storage_status::MemberFilter {
            ids: &ids,
            ..Default::default()
        };
        let found = storage_status::members(&db.views, filter, &Page::first(10))
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{}", event.aggregate_id);
        assert_eq!(found[0].suite_code, suite_code);
        assert_eq!(
            found[0].name.as_deref(),
            event.payload["registered"]["name"].as_str()
        );
        let lower = suite_code.to_lowercase();
        let filter = storage_status::MemberFilter {
            suite_code: Some(&lower),
            ..Default::default()
        };
        let by_code = storage_status::members(&db.views, filter, &Page::first(10))
            .await
            .unwrap();
        assert!(by_code.iter().any(|m| m.member_id == event.aggregate_id));
        members += 1;
    }
    assert!(members > 0);
    let every = storage_status::members(&db.views, Default::default(), &Page::first(10_000))
        .await
        .unwrap();
    assert_eq!(every.len(), members);
    for event in events.iter().filter(|e| e.event_type == "shipment.shipped") {
        let tracking = event.payload["shipped"]["tracking_number"]
            .as_str()
            .unwrap();
        let filter = storage_status::ShipmentFilter {
            tracking_number: Some(tracking),
            ..Default::default()
        };
        let found = storage_status::shipments(&db.views, filter, 10)
            .await
            .unwrap();
        assert!(
            found.iter().any(|s| s.shipment_id == event.aggregate_id),
            "{tracking}"
        );
        let member = found[0].member_id.clone().unwrap();
        let filter = storage_status::ShipmentFilter {
            member_id: Some(&member),
            ..Default::default()
        };
        let of_member = storage_status::shipments(&db.views, filter, 1_000)
            .await
            .unwrap();
        assert!(of_member
            .iter()
            .all(|s| s.member_id.as_deref() == Some(member.as_str())));
        assert!(of_member
            .windows(2)
            .all(|w| w[0].requested_on >= w[1].requested_on));
    }
}

async fn billing_answers_quotes_overdue_fees_and_refunds(backend: Backend) {
    let db = TestDb::create_on(backend).await;
    let policy = Policy::jp_forwarding();
    let sim = db.append(53, 3_000, policy.clone()).await;
    db.catch_up(Billing).await;
    let today = sim.today();

    // Open quotes: exactly the shipments quoted and not paid, held or cancelled.
    let open: BTreeSet<String> = billing::open_quotes(&db.views, None, &Page::all())
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.shipment_id)
        .collect();
    let quoted: BTreeSet<String> = sim
        .shipments()
        .iter()
        .filter(|(_, s)| s.status() == ShipmentStatus::Quoted)
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(open, quoted);

    // ACC-6: every overdue quote is past due and runs up interest from its due date.
    let overdue = billing::overdue(&db.views, &Page::all(), today, &policy)
        .await
        .unwrap();
    assert!(!overdue.is_empty(), "some quotes go unpaid");
    for o in &overdue {
        assert!(o.quote.due_on < today);
        assert!(matches!(o.quote.state.as_str(), "quoted" | "held"));
        assert_eq!(o.days_overdue, (today - o.quote.due_on).num_days() as u32);
        assert!(
            o.interest_to_date.amount >= o.interest_charged.amount,
            "{o:?}"
        );
        assert!(o.interest_to_date.is_positive() || o.quote.total < Decimal::from(100));
    }

    // ACC-7: refunds scheduled and not paid = accounts waiting for their refund.
    let due: BTreeSet<String> = billing::refunds_due(&db.views, &Page::all())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.account_id)
        .collect();
    let waiting: BTreeSet<String> = sim
        .accounts()
        .iter()
        .filter(|(_, a)| a.refund_due_on().is_some() && !a.is_closed())
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(due, waiting);

    // Fees by type and by month add up to every debit but refunds.
    let by_type = billing::fees_by_type(&db.views, &Page::all(), &policy)
        .await
        .unwrap();
    let by_month = billing::fees_by_month(&db.views, &Page::all(), &policy)
        .await
        .unwrap();
    let mut debits: BTreeMap<String, Decimal> = BTreeMap::new();
    for (account_id, _) in sim.accounts() {
        let statement = billing::account(&db.views, account_id.as_str())
            .await
            .unwrap();
        for m in statement.into_iter().flat_map(|s| s.movements) {
            if m.amount.is_sign_negative() && m.reason != "refund" {
                *debits.entry(m.reason).or_default() -= m.amount;
            }
        }
    }
    let typed: BTreeMap<String, Decimal> = by_type
        .iter()
        .map(|f| (f.reason.clone(), f.amount))
        .collect();
    assert_eq!(typed, debits);
    let mut monthly: BTreeMap<String, Decimal> = BTreeMap::new();
    for f in &by_month {
        assert!(f.month.is_some());
        *monthly.entry(f.reason.clone()).or_default() += f.amount;
    }
    assert_eq!(monthly, debits);
    assert!(debits.contains_key("shipment_payment") && debits.contains_key("disposal_fee"));

    // Every list read a page at a time is the whole list, in its order.
    let views = &db.views;
    let policy = &policy;
    let quote_key = |q: &billing::OpenQuote| (q.due_on, q.shipment_id.clone());
    let whole = billing::open_quotes(views, None, &Page::all())
        .await
        .unwrap();
    let paged = walk(3, quote_key, |page| async move {
        billing::open_quotes(views, None, &page).await.unwrap()
    })
    .await;
    assert_eq!(paged, whole, "open quotes in pages");
    let paged = walk(
        2,
        |o: &billing::Overdue| quote_key(&o.quote),
        |page| async move { billing::overdue(views, &page, today, policy).await.unwrap() },
    )
    .await;
    assert_eq!(paged, overdue, "overdue in pages");
    let whole = billing::refunds_due(views, &Page::all()).await.unwrap();
    let paged = walk(
        2,
        |r: &billing::RefundDue| (r.due_on, r.account_id.clone()),
        |page| async move { billing::refunds_due(views, &page).await.unwrap() },
    )
    .await;
    assert_eq!(paged, whole, "refunds due in pages");
    let fee_key = |f: &billing::FeeTotal| (f.month, f.reason.clone(), f.currency.clone());
    let paged = walk(2, fee_key, |page| async move {
        billing::fees_by_type(views, &page, policy).await.unwrap()
    })
    .await;
    assert_eq!(paged, by_type, "fees by type in pages");
    let paged = walk(3, fee_key, |page| async move {
        billing::fees_by_month(views, &page, policy).await.unwrap()
    })
    .await;
    assert_eq!(paged, by_month, "fees by month in pages");
}

async fn audit_finds_every_event_and_rebuilds_any_aggregate_as_it_was(backend: Backend) {
    let db = TestDb::create_on(backend).await;
    let sim = db.play(54, 1_500, Policy::jp_forwarding()).await;
    db.catch_up(Audit).await;
    let events = db.all_events().await;

    // Every event, once, in the global order, a page at a time.
    let found = db.audit_pages(400).await;
    let ids: Vec<_> = found.iter().map(|r| r.event_id).collect();
    let stored: Vec<_> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, stored);
    // With who, which command, which flow, which policy and rule.
    assert!(found
        .iter()
        .all(|r| r.actor.is_some() && r.command.is_some()));
    assert!(found.iter().all(|r| r.correlation_id.is_some()));
    assert!(found.iter().any(|r| r.rule_id.as_deref() == Some("STO-2")));
    assert!(found
        .iter()
        .filter(|r| r.event_type == "parcel.arrived")
        .all(|r| r.policy_version == Some(domain::Policy::jp_forwarding().version().to_string())));

    // By actor, event type and time range.
    let clock = AuditFilter {
        actor: Some("system:storage-clock".into()),
        ..AuditFilter::default()
    };
    let by_clock = audit::search(&db.views, &clock, &Page::first(10_000))
        .await
        .unwrap();
    assert!(!by_clock.is_empty());
    assert_eq!(
        by_clock.len(),
        found
            .iter()
            .filter(|r| r.actor.as_deref() == Some("system:storage-clock"))
            .count()
    );
    let marked = AuditFilter {
        event_type: Some("parcel.marked_disposable".into()),
        ..clock.clone()
    };
    let marked = audit::search(&db.views, &marked, &Page::first(10_000))
        .await
        .unwrap();
    assert!(marked
        .iter()
        .all(|r| r.event_type == "parcel.marked_disposable"));
    let middle = found[found.len() / 2].recorded_at;
    let window = AuditFilter {
        from: Some(middle),
        until: Some(middle + chrono::Duration::microseconds(1)),
        ..AuditFilter::default()
    };
    let at_middle = audit::search(&db.views, &window, &Page::first(10_000))
        .await
        .unwrap();
    assert!(!at_middle.is_empty() && at_middle.iter().all(|r| r.recorded_at == middle));

    // Related ids: a parcel's disposal fee is found from the parcel.
    let fee = found
        .iter()
        .find(|r| r.event_type == "account.disposal_fee_charged")
        .expect("a disposal fee");
    let parcel_id = fee.payload["disposal_fee_charged"]["movement"]["cause"]
        .as_str()
        .unwrap()
        .to_owned();
    let related = AuditFilter {
        related_id: Some(parcel_id.clone()),
        ..AuditFilter::default()
    };
    let related = audit::search(&db.views, &related, &Page::first(1_000))
        .await
        .unwrap();
    assert!(related.iter().any(|r| r.event_id == fee.event_id));
    assert!(related.iter().any(|r| r.aggregate_id == parcel_id));

    // History as of a moment, and the aggregate as it was: the domain's own evolve.
    for (id, parcel, _) in sim.parcels().into_iter().take(200) {
        let history = audit::history(&db.views, "parcel", id.as_str(), None)
            .await
            .unwrap();
        let now = audit::state_as_of::<Parcel>(&db.views, id.as_str(), None)
            .await
            .unwrap();
        assert_eq!(now.as_ref(), Some(parcel), "{id}");
        let Some(first) = history.first() else {
            continue;
        };
        let then = audit::history(&db.views, "parcel", id.as_str(), Some(first.recorded_at))
            .await
            .unwrap();
        assert!(then.iter().all(|e| e.recorded_at <= first.recorded_at));
        let before = first.recorded_at - chrono::Duration::microseconds(1);
        let nothing = audit::state_as_of::<Parcel>(&db.views, id.as_str(), Some(before))
            .await
            .unwrap();
        assert!(
            nothing.is_none(),
            "{id} did not exist before its first event"
        );
    }
    let _unused: Option<&EventEnvelope> = events.first();
}

on_each_backend!(
    sto_4_storage_status_agrees_with_the_parcel_aggregate_jp,
    sto_4_storage_status_agrees_with_the_parcel_aggregate_cn,
    sto_4_daily_counts_and_the_directory_agree_with_the_lists,
    billing_answers_quotes_overdue_fees_and_refunds,
    audit_finds_every_event_and_rebuilds_any_aggregate_as_it_was,
);

//! The warehouse the scheduler works on, seeded through the engine (the same use cases the
//! command API calls, without HTTP): members registered and topped up on one day, then parcels
//! received, inspected and shelved on every day of a spread of past days, a share of them
//! put on paid extended storage (STO-3) where the policy offers it. The simulated clock is set
//! to each day before its parcels, so the storage clocks run from those days.
//!
//! No idempotency keys: seeding is not what is measured, and a key costs a claim and a
//! result per request. Parcels of one day are seeded `concurrency` at a time; days in order.

use crate::progress::Progress;
use anyhow::{ensure, Context};
use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, Utc};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountEvent, BankDeposit, DeclaredDeposit};
use domain::ids::{CauseId, SuiteCode};
use domain::measure::{Dimensions, Weight};
use domain::member::{EmailAddress, PersonName};
use domain::money::Money;
use domain::parcel::{InspectionReport, VariationCount};
use domain::Policy;
use engine::use_cases::intake::ParcelArrival;
use engine::use_cases::register::Registration;
use engine::use_cases::storage::StorageAction;
use engine::use_cases::top_up::TopUpApplication;
use engine::{CommandContext, Engine, EngineStore};
use futures::stream::{self, StreamExt, TryStreamExt};
use rust_decimal::Decimal;
use scheduler::BusinessClock;
use serde::Serialize;
use std::time::Instant;

/// The warehouse to seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Parcels stored.
    pub parcels: u32,
    /// Members owning them, in turn.
    pub members: u32,
    /// Parcels arrive on each of this many days before the measured day.
    pub spread_days: u32,
    /// Percent of parcels put on paid extended storage on arrival (STO-3), when the policy
    /// offers it.
    pub extended_percent: u32,
    /// The measured day (local date).
    pub day: NaiveDate,
    /// Parcels seeded at once.
    pub concurrency: usize,
}

impl Plan {
    /// The day members register and top up: the day before the first arrivals.
    pub fn registration_day(&self) -> NaiveDate {
        back(self.day, self.spread_days + 1)
    }

    /// The day parcel `i` arrives: parcels are spread evenly over the days before `day`, the
    /// first ones on the earliest.
    pub fn arrival_day(&self, i: u32) -> NaiveDate {
        let offset = u64::from(i) * u64::from(self.spread_days) / u64::from(self.parcels.max(1));
        back(
            self.day,
            self.spread_days - u32::try_from(offset).unwrap_or(0),
        )
    }

    /// Whether parcel `i` goes on extended storage.
    fn extended(&self, i: u32, policy: &Policy) -> bool {
        policy.storage.extended.is_some() && i % 100 < self.extended_percent
    }
}

/// `days` before `day`.
fn back(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(day)
}

/// `hour`:00 local time on `day` under `policy`'s offset.
pub fn local(day: NaiveDate, hour: u32, policy: &Policy) -> DateTime<Utc> {
    let offset = FixedOffset::east_opt(policy.utc_offset_minutes * 60)
        .unwrap_or(FixedOffset::east_opt(0).expect("UTC"));
    let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
    day.and_time(time)
        .and_local_timezone(offset)
        .single()
        .map_or_else(|| day.and_time(time).and_utc(), |at| at.to_utc())
}

/// What seeding made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seeded {
    /// Members registered and topped up.
    pub members: u32,
    /// Parcels received, inspected and stored.
    pub parcels: u32,
    /// Of which on extended storage.
    pub extended: u32,
    /// The first and last arrival day.
    pub first_arrival: NaiveDate,
    /// The last arrival day.
    pub last_arrival: NaiveDate,
    /// Seconds it took.
    pub seconds: f64,
}

fn ctx(what: &str, i: u32) -> CommandContext {
    CommandContext::new("operator:bench", format!("bench-{what}-{i}"))
}

/// Seeds `plan` through `engine`, moving `clock` (the engine's) from day to day.
pub async fn seed<R, S>(
    engine: &Engine<R, S>,
    clock: &BusinessClock,
    plan: &Plan,
    progress: &Progress,
) -> anyhow::Result<Seeded>
where
    R: PersistedEventRepository,
    S: EngineStore,
{
    let started = Instant::now();
    let policy = engine.policy().clone();
    let registration_day = plan.registration_day();
    clock.set(local(registration_day, 9, &policy))?;
    let members = progress.bar(u64::from(plan.members), "members");
    let suites: Vec<SuiteCode> = stream::iter(0..plan.members)
        .map(|i| {
            let members = &members;
            let policy = &policy;
            async move {
                let code = member(engine, i, registration_day, policy).await?;
                members.inc(1);
                anyhow::Ok(code)
            }
        })
        .buffered(plan.concurrency.max(1))
        .try_collect()
        .await?;
    members.finish_and_clear();
    progress.note(&format!(
        "{} members registered and topped up on {registration_day} in {:.1} s",
        plan.members,
        started.elapsed().as_secs_f64()
    ));

    let parcels = progress.bar(u64::from(plan.parcels), "parcels");
    let mut extended = 0;
    let mut i = 0;
    while i < plan.parcels {
        let day = plan.arrival_day(i);
        let end = (i..plan.parcels)
            .find(|&j| plan.arrival_day(j) != day)
            .unwrap_or(plan.parcels);
        clock.set(local(day, 10, &policy))?;
        let day_started = Instant::now();
        stream::iter(i..end)
            .map(|j| {
                let suite = &suites[(j % plan.members.max(1)) as usize];
                let extend = plan.extended(j, &policy);
                let parcels = &parcels;
                async move {
                    parcel(engine, j, suite, extend).await?;
                    parcels.inc(1);
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(plan.concurrency.max(1))
            .try_collect::<()>()
            .await?;
        extended += (i..end).filter(|&j| plan.extended(j, &policy)).count() as u32;
        progress.note(&format!(
            "{day}: {} parcels in {:.1} s ({}/{} seeded)",
            end - i,
            day_started.elapsed().as_secs_f64(),
            end,
            plan.parcels
        ));
        i = end;
    }
    parcels.finish_and_clear();
    Ok(Seeded {
        members: plan.members,
        parcels: plan.parcels,
        extended,
        first_arrival: plan.arrival_day(0),
        last_arrival: plan.arrival_day(plan.parcels.saturating_sub(1)),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Member `i`: registered (MEM-1) and topped up by bank transfer (ACC-2) with enough that
/// storage fees never take the balance below zero (so MEM-9 finds no reason to close).
async fn member<R, S>(
    engine: &Engine<R, S>,
    i: u32,
    today: NaiveDate,
    policy: &Policy,
) -> anyhow::Result<SuiteCode>
where
    R: PersistedEventRepository,
    S: EngineStore,
{
    let name = format!("Bench Member {i}");
    let registration = Registration {
        name: PersonName::parse(&name)?,
        birth_date: NaiveDate::from_ymd_opt(1990, 4, 1).context("a date")?,
        email: EmailAddress::parse(&format!("member{i}@bench.example"))?,
        guardian_consent: None,
        forwarding_only_accepted: true,
    };
    let registered = engine
        .register_member(registration, &ctx("member", i))
        .await
        .with_context(|| format!("registering member {i}"))?;
    let amount = Money::new(Decimal::from(1_000_000), policy.billing_currency);
    let declared = DeclaredDeposit {
        deposited_on: today,
        bank: "Bench Bank".into(),
        amount,
        payer_name: name.to_uppercase(),
    };
    let deposit = BankDeposit {
        deposit_id: CauseId::parse(&format!("bench-deposit-{i}"))?,
        deposited_on: today,
        bank: declared.bank.clone(),
        amount,
        payer_name: declared.payer_name.clone(),
    };
    let decided = engine
        .apply_for_top_up(
            &registered.member_id,
            TopUpApplication {
                declared,
                deposit: Some(deposit),
                rate: None,
            },
            &ctx("top-up", i),
        )
        .await
        .with_context(|| format!("topping member {i} up"))?;
    ensure!(
        decided
            .account
            .events()
            .any(|e| matches!(e, AccountEvent::TopUpApproved { .. })),
        "member {i}'s top-up was not approved: {:?}",
        decided.account
    );
    Ok(registered.suite_code)
}

/// Parcel `i` for `suite`: received (PAR-3), inspected (INS-1), shelved (STO-1), and put on
/// extended storage (STO-3) when `extend`.
async fn parcel<R, S>(
    engine: &Engine<R, S>,
    i: u32,
    suite: &SuiteCode,
    extend: bool,
) -> anyhow::Result<()>
where
    R: PersistedEventRepository,
    S: EngineStore,
{
    let ctx = ctx("parcel", i);
    // A few sizes, so that extended storage is charged in one or two volume units.
    let (length, width, height) = match i % 4 {
        0 => (300, 200, 100),
        1 => (400, 300, 250),
        2 => (250, 200, 150),
        _ => (600, 500, 450),
    };
    let received = engine
        .receive_parcel(
            ParcelArrival {
                parcel_id: None,
                label: Some(suite.as_str().to_owned()),
                weight: Weight::from_grams(500 + (i % 20) * 150)?,
                dimensions: Dimensions::from_mm(length, width, height)?,
                shop: None,
                collect_on_delivery: None,
            },
            &ctx,
        )
        .await
        .with_context(|| format!("receiving parcel {i}"))?;
    ensure!(
        received.member_id.is_some(),
        "parcel {i} was not received for {suite}"
    );
    let id = received.parcel_id;
    let report = InspectionReport {
        level: None,
        variations: vec![VariationCount {
            variation: "default".into(),
            units: 1 + i % 3,
        }],
        findings: vec![],
        observed_categories: vec![],
        oversize_cost: None,
    };
    engine
        .inspect_parcel(&id, report, &ctx)
        .await
        .with_context(|| format!("inspecting parcel {i}"))?;
    let shelf = format!("R{:02}-{:03}", i % 40, (i / 40) % 1000);
    engine
        .store_parcel(&id, &shelf, &ctx)
        .await
        .with_context(|| format!("storing parcel {i}"))?;
    if extend {
        let extended = engine
            .storage_clock(&id, StorageAction::Extend, &ctx)
            .await
            .with_context(|| format!("extending parcel {i}'s storage"))?;
        ensure!(!extended.is_empty(), "parcel {i} was not extended");
    }
    Ok(())
}

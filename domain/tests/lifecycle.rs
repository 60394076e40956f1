//! Whole lifecycles across the four aggregates, one per policy profile (POL-2): a member
//! registers, verifies, tops up; two parcels arrive, are inspected, stored and consolidated;
//! the shipment is quoted, paid from the balance and shipped; the carrier sends it back, it
//! re-enters storage and its return cost is charged (SHP-2); it is quoted and paid again, its
//! duty advanced (ACC-8), shipped and delivered; a claim is approved and paid out; the duty is
//! billed a month later. Each parcel's stream follows its shipment throughout. Another story ends in disposal. The test plays the write side's part: it reads
//! facts from one aggregate and passes them into the next command, as `domain::facts` intends.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::account::{
    AccountCommand, AccountEvent, BankDeposit, ChargeAccount, CreditReason, DebitReason,
    DeclaredDeposit, DisposalCause as AccountDisposalCause,
};
use domain::exchange::ExchangeRate;
use domain::facts::{DeclaredItem, ItemCategory, StandingStatus};
use domain::ids::{AccountId, CauseId, ClaimId, MemberId, ParcelId, ShipmentId, SuiteCode};
use domain::measure::{Dimensions, Weight};
use domain::member::{EmailAddress, IdentityDocument, Member, MemberCommand, PersonName};
use domain::money::{Currency, Money};
use domain::parcel::{
    Arrival, DeclarationSource, DisposalCause, InspectionReport, Parcel, ParcelCommand,
    ParcelEvent, ParcelStatus, VariationCount,
};
use domain::shipment::{
    ClaimType, ClaimedItem, DutyPayment, Evidence, PaymentMethod, Shipment, ShipmentCommand,
    ShipmentEvent, ShipmentStatus, TrackingNumber, TrackingStatus,
};
use domain::{Issued, Policy};
use rust_decimal_macros::dec;

/// One aggregate and every event it emitted, driven through the pure `decide`/`evolve`.
struct Tracked<A, E> {
    state: A,
    events: Vec<E>,
}

macro_rules! driver {
    ($aggregate:ty, $command:ty, $event:ty) => {
        impl Tracked<$aggregate, $event> {
            fn new() -> Self {
                Self {
                    state: <$aggregate>::default(),
                    events: Vec::new(),
                }
            }

            /// Runs a command that must succeed and returns what it emitted.
            fn run(
                &mut self,
                policy: &Policy,
                at: DateTime<Utc>,
                command: $command,
            ) -> Vec<$event> {
                let events = self
                    .state
                    .decide(Issued::at(at, command.clone()), policy)
                    .unwrap_or_else(|e| panic!("{command:?} was refused: {e}"));
                for event in &events {
                    self.state.evolve(event.clone());
                }
                self.events.extend(events.iter().cloned());
                events
            }
        }
    };
}
driver!(Member, MemberCommand, domain::member::MemberEvent);
driver!(ChargeAccount, AccountCommand, AccountEvent);
driver!(Parcel, ParcelCommand, ParcelEvent);
driver!(Shipment, ShipmentCommand, ShipmentEvent);

/// Noon at the warehouse on a local date.
fn noon(policy: &Policy, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(12, 0, 0).unwrap();
    Utc.from_utc_datetime(&(naive - Duration::minutes(i64::from(policy.utc_offset_minutes))))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The profile-specific details of a story.
struct Profile {
    policy: Policy,
    currency: Currency,
    /// A unit price in the billing currency.
    price: fn(i64) -> Money,
    /// The reference rate for a JPY deposit on a CNY account.
    rate: Option<ExchangeRate>,
    destination: &'static str,
}

fn jp() -> Profile {
    Profile {
        policy: Policy::jp_forwarding(),
        currency: Currency::Jpy,
        price: Money::jpy,
        rate: None,
        destination: "US",
    }
}

fn cn() -> Profile {
    Profile {
        policy: Policy::cn_agency(),
        currency: Currency::Cny,
        price: |n| Money::cny(n.into()),
        rate: Some(ExchangeRate {
            base: Currency::Cny,
            quote: Currency::Jpy,
            rate: dec!(20.00),
            source: "reference bank TTM".into(),
            // The rate of the day the top-up is approved and converted (MON-2).
            valid_on: day(2026, 11, 3),
        }),
        destination: "JP",
    }
}

/// A registered, verified member with an open account topped up with 100,000 JPY.
struct Customer {
    member: Tracked<Member, domain::member::MemberEvent>,
    account: Tracked<ChargeAccount, AccountEvent>,
}

fn onboard(p: &Profile) -> Customer {
    let policy = &p.policy;
    let member_id = MemberId::parse("m-1").unwrap();
    let mut member = Tracked::<Member, _>::new();
    member.run(
        policy,
        noon(policy, day(2026, 11, 2)),
        MemberCommand::Register {
            member_id: member_id.clone(),
            suite_code: SuiteCode::parse("TYO-000001").unwrap(),
            name: PersonName::parse("Aiko Tanaka").unwrap(),
            birth_date: day(1990, 4, 1),
            email: EmailAddress::parse("aiko@example.com").unwrap(),
            guardian_consent: None,
            forwarding_only_accepted: true,
        },
    );
    member.run(
        policy,
        noon(policy, day(2026, 11, 2)),
        MemberCommand::VerifyIdentity {
            document: IdentityDocument::Passport {
                photo_page_checked: true,
                address_page_checked: true,
            },
            expires_on: day(2030, 1, 1),
        },
    );

    let mut account = Tracked::<ChargeAccount, _>::new();
    account.run(
        policy,
        noon(policy, day(2026, 11, 2)),
        AccountCommand::Open {
            account_id: AccountId::parse("a-1").unwrap(),
            member_id: member_id.clone(),
        },
    );
    let deposit = BankDeposit {
        deposit_id: CauseId::parse("dep-1").unwrap(),
        deposited_on: day(2026, 11, 2),
        bank: "Example Bank".into(),
        amount: Money::jpy(100_000),
        payer_name: "TANAKA AIKO".into(),
    };
    let approved = account.run(
        policy,
        noon(policy, day(2026, 11, 3)),
        AccountCommand::ApplyForTopUp {
            application_id: CauseId::parse("app-1").unwrap(),
            declared: DeclaredDeposit {
                deposited_on: deposit.deposited_on,
                bank: deposit.bank.clone(),
                amount: deposit.amount,
                payer_name: deposit.payer_name.clone(),
            },
            deposit: Some(deposit),
            rate: p.rate.clone(),
        },
    );
    assert!(matches!(approved[0], AccountEvent::TopUpApproved { .. }));
    let balance = account.state.balance().unwrap();
    assert_eq!(balance.currency, p.currency);
    assert!(balance.is_positive());
    Customer { member, account }
}

/// A parcel that arrived, was declared, inspected and stored.
fn receive(
    p: &Profile,
    customer: &Customer,
    id: &str,
    grams: u32,
    unit_price: i64,
    on: NaiveDate,
) -> Tracked<Parcel, ParcelEvent> {
    let policy = &p.policy;
    let at = noon(policy, on);
    let standing = customer.member.state.standing(on).unwrap();
    let mut parcel = Tracked::<Parcel, _>::new();
    parcel.run(
        policy,
        at,
        ParcelCommand::Arrive(Arrival {
            parcel_id: ParcelId::parse(id).unwrap(),
            suite_code: Some(SuiteCode::parse("TYO-000001").unwrap()),
            member: Some(standing),
            weight: Weight::from_grams(grams).unwrap(),
            dimensions: Dimensions::from_mm(300, 200, 100).unwrap(),
            shop: Some("example-shop".into()),
            collect_on_delivery: None,
        }),
    );
    parcel.run(
        policy,
        at,
        ParcelCommand::Declare {
            items: vec![DeclaredItem {
                description: "wool coat".into(),
                quantity: 1,
                unit_price: (p.price)(unit_price),
                category: ItemCategory::Apparel,
                domestic_shipping: None,
                // Bought through the purchase agency: a missed defect is compensated (CLM-5).
                order_service: Some("purchase-agency".into()),
            }],
            sender: "Example Shop".into(),
            source: DeclarationSource::ShopListing,
        },
    );
    parcel.run(policy, at, ParcelCommand::ConfirmDeclaration);
    parcel.run(
        policy,
        at,
        ParcelCommand::Inspect(InspectionReport {
            level: None,
            variations: vec![VariationCount {
                variation: "navy / M".into(),
                units: 1,
            }],
            findings: vec![],
            observed_categories: vec![],
            oversize_cost: None,
        }),
    );
    parcel.run(
        policy,
        at,
        ParcelCommand::Store {
            location: "A-01-01".into(),
            earliest_waiting_arrival: None,
        },
    );
    assert!(matches!(parcel.state.status(), ParcelStatus::Stored));
    parcel
}

/// The write side's part after a shipment command: each parcel it concerns records what
/// happened on its own stream (`Shipment::parcel_facts`, `ParcelCommand::FollowShipment`).
fn parcels_follow(
    policy: &Policy,
    at: DateTime<Utc>,
    shipment: &Tracked<Shipment, ShipmentEvent>,
    happened: &[ShipmentEvent],
    parcels: &mut [Tracked<Parcel, ParcelEvent>],
) {
    let shipment_id = shipment.state.shipment_id().unwrap().clone();
    for event in happened {
        for (parcel_id, fact) in shipment.state.parcel_facts(event) {
            let parcel = parcels
                .iter_mut()
                .find(|p| p.state.facts().is_some_and(|f| f.parcel_id == parcel_id))
                .expect("a parcel of the shipment");
            parcel.run(
                policy,
                at,
                ParcelCommand::FollowShipment {
                    shipment_id: shipment_id.clone(),
                    fact,
                },
            );
        }
    }
}

fn full_lifecycle(p: Profile) {
    let policy = &p.policy;
    let mut customer = onboard(&p);
    let mut parcels = [
        receive(&p, &customer, "p-1", 1_200, 9_000, day(2026, 11, 4)),
        receive(&p, &customer, "p-2", 800, 4_000, day(2026, 11, 5)),
    ];

    // Consolidation: reserve each parcel (CON-3), then request the shipment from their facts.
    let consolidate_on = day(2026, 11, 6);
    let at = noon(policy, consolidate_on);
    let standing = customer.member.state.standing(consolidate_on).unwrap();
    assert_eq!(standing.status, StandingStatus::Verified);
    let shipment_id = ShipmentId::parse("s-1").unwrap();
    for parcel in &mut parcels {
        let taken = parcel.run(
            policy,
            at,
            ParcelCommand::ReserveForConsolidation {
                shipment_id: shipment_id.clone(),
                member: standing.clone(),
            },
        );
        assert_eq!(taken.len(), 1, "one parcel.consolidated event");
    }
    let mut shipment = Tracked::<Shipment, _>::new();
    shipment.run(
        policy,
        at,
        ShipmentCommand::RequestConsolidation {
            shipment_id: shipment_id.clone(),
            member: standing.clone(),
            parcels: parcels.iter().map(|p| p.state.facts().unwrap()).collect(),
        },
    );
    shipment.run(
        policy,
        at,
        ShipmentCommand::RecordPacking {
            carrier: "EMS".into(),
            weight: Weight::from_grams(2_100).unwrap(),
            dimensions: Dimensions::from_mm(400, 300, 200).unwrap(),
        },
    );
    for parcel in &mut parcels {
        parcel.run(
            policy,
            at,
            ParcelCommand::Pack {
                shipment_id: shipment_id.clone(),
            },
        );
    }

    // Quote and pay from the balance: the account is debited for the shipment, then the
    // shipment records the payment (PAY-1, ACC-4).
    let quoted = shipment.run(
        policy,
        at,
        ShipmentCommand::Quote {
            member: standing.clone(),
            carrier: "EMS".into(),
            destination: p.destination.into(),
            options: vec![],
            insurance: None,
            warranty: false,
        },
    );
    let ShipmentEvent::Quoted { total, lines, .. } = &quoted[0] else {
        panic!("expected a quote, got {quoted:?}");
    };
    let total = *total;
    assert_eq!(
        Money::sum(p.currency, lines.iter().map(|l| &l.amount)).unwrap(),
        total,
        "FEE-1: the total is the sum of the lines"
    );
    let before = customer.account.state.balance().unwrap();
    customer.account.run(
        policy,
        at,
        AccountCommand::Debit {
            reason: DebitReason::ShipmentPayment,
            cause: CauseId::parse(shipment_id.as_str()).unwrap(),
            amount: total,
            period: None,
            rate: None,
        },
    );
    let paid = shipment.run(
        policy,
        at,
        ShipmentCommand::Pay {
            member: standing.clone(),
            method: PaymentMethod::Balance,
            amount: total,
            exchange_rate: None,
        },
    );
    parcels_follow(policy, at, &shipment, &paid, &mut parcels);
    assert_eq!(
        customer.account.state.balance().unwrap(),
        before.checked_sub(total).unwrap()
    );

    // Shipped, but the carrier sends it back (SHP-2): it re-enters storage at the warehouse,
    // its parcels' clock running again from that day, and the return cost is charged.
    let ship = ShipmentCommand::Ship {
        carrier: "EMS".into(),
        service: "EMS".into(),
        tracking_number: TrackingNumber::parse("EJ123456789JP").unwrap(),
        declared_value: (p.price)(13_000),
    };
    let shipped = shipment.run(policy, at, ship.clone());
    parcels_follow(policy, at, &shipment, &shipped, &mut parcels);
    let returned_on = day(2026, 11, 16);
    let returned_at = noon(policy, returned_on);
    let returned = shipment.run(
        policy,
        returned_at,
        ShipmentCommand::RecordTracking {
            status: TrackingStatus::ReturnedToOrigin,
            on: returned_on,
            note: Some("addressee unknown".into()),
        },
    );
    parcels_follow(policy, returned_at, &shipment, &returned, &mut parcels);
    let back_on = day(2026, 11, 20);
    let back_at = noon(policy, back_on);
    let return_cost = (p.price)(150);
    let received = shipment.run(
        policy,
        back_at,
        ShipmentCommand::ReceiveReturn { return_cost },
    );
    let reshipment = shipment.state.payment_cause().unwrap();
    customer.account.run(
        policy,
        back_at,
        AccountCommand::Debit {
            reason: DebitReason::ReturnCost,
            cause: CauseId::parse(&reshipment).unwrap(),
            amount: return_cost,
            period: None,
            rate: None,
        },
    );
    parcels_follow(policy, back_at, &shipment, &received, &mut parcels);
    for parcel in &parcels {
        assert_eq!(
            parcel.state.status(),
            &ParcelStatus::Packed {
                shipment_id: shipment_id.clone()
            }
        );
        assert_eq!(parcel.state.receipt().unwrap().received_on, back_on);
    }
    assert_eq!(shipment.state.earliest_received_on(), Some(back_on));

    // The member re-ships it: a new quote, paid as a payment of its own (PAY-1 once each);
    // before dispatch they choose the warehouse's duty advance (ACC-8), whose fee is debited.
    let requoted = shipment.run(
        policy,
        back_at,
        ShipmentCommand::Quote {
            member: standing.clone(),
            carrier: "EMS".into(),
            destination: p.destination.into(),
            options: vec![],
            insurance: None,
            warranty: false,
        },
    );
    let ShipmentEvent::Quoted { total: retotal, .. } = &requoted[0] else {
        panic!("expected a new quote, got {requoted:?}");
    };
    let retotal = *retotal;
    customer.account.run(
        policy,
        back_at,
        AccountCommand::Debit {
            reason: DebitReason::ShipmentPayment,
            cause: CauseId::parse(&reshipment).unwrap(),
            amount: retotal,
            period: None,
            rate: None,
        },
    );
    let repaid = shipment.run(
        policy,
        back_at,
        ShipmentCommand::Pay {
            member: standing.clone(),
            method: PaymentMethod::Balance,
            amount: retotal,
            exchange_rate: None,
        },
    );
    parcels_follow(policy, back_at, &shipment, &repaid, &mut parcels);
    shipment.run(
        policy,
        back_at,
        ShipmentCommand::ChooseDutyPayment {
            payment: DutyPayment::Advance,
        },
    );
    let before_advance = customer.account.state.balance().unwrap();
    customer.account.run(
        policy,
        back_at,
        AccountCommand::AdvanceDuty {
            shipment: CauseId::parse(&reshipment).unwrap(),
            duty: None,
            rate: None,
            sea_taxable_value: None,
        },
    );
    assert_eq!(
        customer.account.state.balance().unwrap(),
        before_advance
            .checked_sub(policy.account.duty_advance_fee)
            .unwrap()
    );

    // Shipped again and delivered; then a claim on a missed defect of the apparel item (CLM-5:
    // 100% of its price).
    let reshipped = shipment.run(policy, back_at, ship);
    parcels_follow(policy, back_at, &shipment, &reshipped, &mut parcels);
    let delivered_on = day(2026, 11, 24);
    let delivered = shipment.run(
        policy,
        noon(policy, delivered_on),
        ShipmentCommand::RecordTracking {
            status: TrackingStatus::Delivered,
            on: delivered_on,
            note: None,
        },
    );
    parcels_follow(
        policy,
        noon(policy, delivered_on),
        &shipment,
        &delivered,
        &mut parcels,
    );
    let claim_id = ClaimId::parse("c-1").unwrap();
    let claim_at = noon(policy, day(2026, 11, 26));
    let claimed = shipment.run(
        policy,
        claim_at,
        ShipmentCommand::FileClaim {
            claim_id: claim_id.clone(),
            claim_type: ClaimType::Defect,
            evidence: Evidence {
                photos: vec!["photo-1.jpg".into()],
                label_photo: Some("label.jpg".into()),
                comment: Some("torn lining".into()),
                damage_report: None,
            },
            item: Some(ClaimedItem {
                parcel_id: ParcelId::parse("p-2").unwrap(),
                line: 0,
                quantity: 1,
            }),
            under_warranty: false,
        },
    );
    assert!(matches!(claimed[0], ShipmentEvent::Claimed { .. }));
    parcels_follow(policy, claim_at, &shipment, &claimed, &mut parcels);
    let approved = shipment.run(
        policy,
        claim_at,
        ShipmentCommand::ApproveClaim {
            claim_id: claim_id.clone(),
            payout: (p.price)(4_000),
        },
    );
    let ShipmentEvent::ClaimApproved { payout, .. } = &approved[0] else {
        panic!("expected an approval, got {approved:?}");
    };
    let after_payment = customer.account.state.balance().unwrap();
    customer.account.run(
        policy,
        claim_at,
        AccountCommand::Credit {
            reason: CreditReason::ClaimPayout,
            cause: CauseId::parse(claim_id.as_str()).unwrap(),
            amount: *payout,
            rate: None,
        },
    );
    assert_eq!(
        customer.account.state.balance().unwrap(),
        after_payment.checked_add(*payout).unwrap()
    );
    parcels_follow(policy, claim_at, &shipment, &approved, &mut parcels);

    // About a month after clearance customs bills the duty advanced: charged to the balance
    // when it arrives, as a debt owed (ACC-8, ACC-4).
    let billed_at = noon(policy, day(2026, 12, 24));
    let before_duty = customer.account.state.balance().unwrap();
    let duty = (p.price)(80);
    customer.account.run(
        policy,
        billed_at,
        AccountCommand::BillAdvancedDuty {
            shipment: CauseId::parse(&reshipment).unwrap(),
            duty,
            rate: None,
        },
    );
    assert_eq!(
        customer.account.state.balance().unwrap(),
        before_duty.checked_sub(duty).unwrap()
    );

    // The stories hold together: the shipment is delivered, both boxes went into it, the
    // balance is the sum of the account's movements (ACC-1), and every event that applied a
    // policy names this profile's version (POL-1).
    assert_eq!(shipment.state.status(), ShipmentStatus::Delivered);
    assert!(customer
        .account
        .state
        .balance_matches(customer.account.events.iter()));
    let stamp = format!("\"{}\"", policy.version());
    let stamped = serde_json::to_string(&shipment.events).unwrap();
    assert!(stamped.contains(&stamp), "shipment events record {stamp}");
    let types: Vec<String> = parcels[0]
        .events
        .iter()
        .chain(&parcels[1].events)
        .map(cqrs_es::DomainEvent::event_type)
        .collect();
    for expected in [
        "parcel.arrived",
        "parcel.inspected",
        "parcel.consolidated",
        "parcel.paid",
        "parcel.shipped",
        "parcel.returned_to_warehouse",
        "parcel.delivered",
        "parcel.claimed",
        "parcel.claim_settled",
    ] {
        assert!(types.iter().any(|t| t == expected), "missing {expected}");
    }
    let types: Vec<String> = shipment
        .events
        .iter()
        .map(cqrs_es::DomainEvent::event_type)
        .collect();
    for expected in [
        "shipment.paid",
        "shipment.shipped",
        "shipment.returned_to_origin",
        "shipment.return_received",
        "shipment.duty_payment_chosen",
        "shipment.claimed",
    ] {
        assert!(types.iter().any(|t| t == expected), "missing {expected}");
    }
}

// rule POL-2: the whole lifecycle under each profile.
#[test]
fn pol_2_full_lifecycle_jp_forwarding() {
    full_lifecycle(jp());
}

// rule POL-2: the whole lifecycle under each profile (CNY balance, JPY deposit converted, MON-3).
#[test]
fn pol_2_full_lifecycle_cn_agency() {
    full_lifecycle(cn());
}

/// A parcel left past its maximum storage is marked disposable, disposed of with a recorded
/// cause, and the fee is owed by the member even if it takes the balance negative.
fn ends_in_disposal(p: Profile) {
    let policy = &p.policy;
    let mut customer = onboard(&p);
    let received_on = day(2026, 11, 4);
    let mut parcel = receive(&p, &customer, "p-9", 500, 1_000, received_on);
    let last_free_day = policy.storage.max_storage.last_day(received_on);
    let too_early = parcel.state.decide(
        Issued::at(
            noon(policy, last_free_day),
            ParcelCommand::MarkDisposable {
                earliest_waiting_arrival: Some(received_on),
            },
        ),
        policy,
    );
    assert!(
        too_early.is_err(),
        "STO-2: not disposable on the last free day"
    );
    let past = last_free_day.succ_opt().unwrap();
    parcel.run(
        policy,
        noon(policy, past),
        ParcelCommand::MarkDisposable {
            earliest_waiting_arrival: Some(received_on),
        },
    );
    let disposed = parcel.run(
        policy,
        noon(policy, past),
        ParcelCommand::Dispose {
            cause: DisposalCause::PastMaxStorage,
        },
    );
    let ParcelEvent::Disposed { fee, .. } = &disposed[0] else {
        panic!("expected a disposal, got {disposed:?}");
    };
    let before = customer.account.state.balance().unwrap();
    customer.account.run(
        policy,
        noon(policy, past),
        AccountCommand::ChargeDisposalFee {
            parcel: CauseId::parse("p-9").unwrap(),
            disposal: AccountDisposalCause::PastMaxStorage,
            fee: *fee,
        },
    );
    assert_eq!(
        customer.account.state.balance().unwrap(),
        before.checked_sub(*fee).unwrap(),
        "the account charges the fee the disposal recorded"
    );
    assert!(matches!(parcel.state.status(), ParcelStatus::Disposed));
    assert!(customer
        .account
        .state
        .balance_matches(customer.account.events.iter()));
    // The member stays verified: disposal is not a suspension cause by itself.
    assert_eq!(
        customer.member.state.standing(past).unwrap().status,
        StandingStatus::Verified
    );
}

// rule DSP-1: a lifecycle that ends in disposal, under each profile.
#[test]
fn dsp_1_lifecycle_ends_in_disposal_jp_forwarding() {
    ends_in_disposal(jp());
}

// rule DSP-1: a lifecycle that ends in disposal, under each profile.
#[test]
fn dsp_1_lifecycle_ends_in_disposal_cn_agency() {
    ends_in_disposal(cn());
}

//! Parcel inspection: levels and the 20-unit cap (INS-1), large items (INS-2), findings and
//! the defect fee (INS-3), prohibited items and quarantine (INS-4).

mod parcel_support;

use chrono::NaiveDate;
use domain::money::Money;
use domain::parcel::{
    DisposalCause, DisposedBecause, Finding, FindingKind, InspectedVariation, InspectionRecord,
    InspectionReport, LargeItem, OversizeDefect, ParcelCommand, ParcelError, ParcelEvent,
    ParcelStatus, ReturnedFrom, VariationCount,
};
use domain::policy::InspectionLevel;
use domain::{Policy, Refusal, Rule};
use parcel_support::*;
use rust_decimal_macros::dec;

const DAY: (i32, u32, u32) = (2026, 11, 20);

fn day() -> NaiveDate {
    d(DAY.0, DAY.1, DAY.2)
}

/// A received parcel of the given weight and dimensions.
fn received(policy: &Policy, grams: u32, l: u32, w: u32, h: u32) -> Vec<ParcelEvent> {
    let mut a = arrival();
    a.weight = weight(grams);
    a.dimensions = dims(l, w, h);
    history(policy, vec![on(day(), ParcelCommand::Arrive(a))])
}

fn report(level: Option<InspectionLevel>, units: &[u32]) -> InspectionReport {
    InspectionReport {
        level,
        variations: units
            .iter()
            .enumerate()
            .map(|(i, &units)| VariationCount {
                variation: format!("v{i}"),
                units,
            })
            .collect(),
        findings: vec![],
        observed_categories: vec![],
        oversize_cost: None,
    }
}

fn finding(kind: FindingKind, items: u32, evidence: &[&str]) -> Finding {
    Finding {
        kind,
        variation: Some("v0".into()),
        items,
        evidence: evidence.iter().map(|s| s.to_string()).collect(),
        note: None,
    }
}

/// The inspection record produced by `report` on `given`.
fn record(policy: &Policy, given: &[ParcelEvent], report: InspectionReport) -> InspectionRecord {
    let events = decide(policy, given, on(day(), ParcelCommand::Inspect(report))).unwrap();
    match events.into_iter().next() {
        Some(ParcelEvent::Inspected(record)) => record,
        other => panic!("expected an inspection, got {other:?}"),
    }
}

// ---- INS-1

// rule INS-1: at most 20 units per variation are inspected; the 21st is marked uninspected.
#[test]
fn ins_1_twenty_units_per_variation_inspected_rest_uninspected() {
    let policy = jp();
    let given = received(&policy, 1_200, 300, 200, 100);
    framework(policy.clone())
        .given(given)
        .when(on(
            day(),
            ParcelCommand::Inspect(report(Some(InspectionLevel::Basic), &[20, 21, 3])),
        ))
        .then_expect_events(vec![ParcelEvent::Inspected(InspectionRecord {
            inspected_on: day(),
            level_planned: InspectionLevel::Basic,
            level_applied: InspectionLevel::Basic,
            large_item: None,
            variations: vec![
                InspectedVariation {
                    variation: "v0".into(),
                    units: 20,
                    inspected: 20,
                    uninspected: 0,
                },
                InspectedVariation {
                    variation: "v1".into(),
                    units: 21,
                    inspected: 20,
                    uninspected: 1,
                },
                InspectedVariation {
                    variation: "v2".into(),
                    units: 3,
                    inspected: 3,
                    uninspected: 0,
                },
            ],
            max_units_per_variation: 20,
            findings: vec![],
            defect_items: 0,
            defect_fee: None,
            oversize: None,
            detailed_inspection_fee: None,
            policy: policy.version(),
        })]);
}

// rule INS-1: without a plan level the policy default applies (quantity); level none inspects nothing.
#[test]
fn ins_1_default_level_and_level_none() {
    for policy in [jp(), cn()] {
        let given = received(&policy, 1_200, 300, 200, 100);
        let r = record(&policy, &given, report(None, &[5]));
        assert_eq!(
            (r.level_planned, r.level_applied),
            (InspectionLevel::Quantity, InspectionLevel::Quantity)
        );
        assert_eq!(
            (r.variations[0].inspected, r.variations[0].uninspected),
            (5, 0)
        );
        let none = record(&policy, &given, report(Some(InspectionLevel::None), &[5]));
        assert_eq!(
            (none.variations[0].inspected, none.variations[0].uninspected),
            (0, 5)
        );
    }
}

// rule INS-1: a detailed inspection is paid per unit inspected (price from the policy: 300 JPY
// and 15 CNY, example configuration), the uninspected 21st unit is not charged.
#[test]
fn ins_1_detailed_inspection_is_charged_per_inspected_unit() {
    for (policy, fee) in [(jp(), Money::jpy(6_000)), (cn(), Money::cny(dec!(300)))] {
        let given = received(&policy, 1_200, 300, 200, 100);
        let r = record(
            &policy,
            &given,
            report(Some(InspectionLevel::Detailed), &[21]),
        );
        assert_eq!(r.detailed_inspection_fee, Some(fee));
        let basic = record(&policy, &given, report(Some(InspectionLevel::Basic), &[21]));
        assert_eq!(basic.detailed_inspection_fee, None);
    }
}

// rule INS-1: a parcel is inspected once.
#[test]
fn ins_1_parcel_is_inspected_once() {
    let policy = jp();
    let given = stored_on(&policy, day());
    assert_refused(
        decide(&policy, &given, on(day(), inspect_quantity(1))),
        ParcelError::InvalidState {
            command: "inspect",
            status: "stored",
        },
        "parcel.invalid_state",
        None,
    );
}

// ---- INS-2

// rule INS-2: a side of 599 mm gets the basic inspection; 600 mm gets quantity only, recorded.
#[test]
fn ins_2_side_of_600_mm_lowers_basic_to_quantity() {
    let policy = jp();
    let under = record(
        &policy,
        &received(&policy, 5_000, 599, 400, 300),
        report(Some(InspectionLevel::Basic), &[2]),
    );
    assert_eq!(
        (under.level_applied, under.large_item),
        (InspectionLevel::Basic, None)
    );
    let at = record(
        &policy,
        &received(&policy, 5_000, 400, 600, 300),
        report(Some(InspectionLevel::Basic), &[2]),
    );
    assert_eq!(at.level_planned, InspectionLevel::Basic);
    assert_eq!(at.level_applied, InspectionLevel::Quantity);
    assert_eq!(
        at.large_item,
        Some(LargeItem {
            longest_side_mm: 600,
            weight_g: 5_000
        })
    );
}

// rule INS-2: 29,999 g keeps a detailed inspection; 30,000 g gets quantity only, and is not charged
// as detailed (both profiles).
#[test]
fn ins_2_weight_of_30_kg_lowers_detailed_to_quantity() {
    for policy in [jp(), cn()] {
        let under = record(
            &policy,
            &received(&policy, 29_999, 500, 400, 300),
            report(Some(InspectionLevel::Detailed), &[2]),
        );
        assert_eq!(
            (under.level_applied, under.large_item),
            (InspectionLevel::Detailed, None)
        );
        let at = record(
            &policy,
            &received(&policy, 30_000, 500, 400, 300),
            report(Some(InspectionLevel::Detailed), &[2]),
        );
        assert_eq!(at.level_applied, InspectionLevel::Quantity);
        assert_eq!(
            at.large_item,
            Some(LargeItem {
                longest_side_mm: 500,
                weight_g: 30_000
            })
        );
        assert_eq!(at.detailed_inspection_fee, None);
    }
}

// rule INS-2: a quantity inspection of a large item is not "lowered": nothing to record.
#[test]
fn ins_2_quantity_plan_of_large_item_is_unchanged() {
    let policy = jp();
    let r = record(
        &policy,
        &received(&policy, 31_000, 700, 400, 300),
        report(None, &[1]),
    );
    assert_eq!(
        (r.level_applied, r.large_item),
        (InspectionLevel::Quantity, None)
    );
}

// ---- INS-3

fn with_findings(findings: Vec<Finding>) -> InspectionReport {
    InspectionReport {
        findings,
        ..report(Some(InspectionLevel::Basic), &[4])
    }
}

// rule INS-3: under cn-agency a defect costs 30 CNY per item, recorded with the findings.
#[test]
fn ins_3_defect_fee_is_30_cny_per_item_cn_agency() {
    let policy = cn();
    let findings = vec![
        finding(FindingKind::Damage, 2, &["photo-1.jpg", "photo-2.jpg"]),
        finding(FindingKind::Dirt, 1, &["photo-3.jpg"]),
    ];
    let r = record(
        &policy,
        &received(&policy, 1_200, 300, 200, 100),
        with_findings(findings.clone()),
    );
    assert_eq!(r.findings, findings);
    assert_eq!(r.defect_items, 3);
    assert_eq!(r.defect_fee, Some(Money::cny(dec!(90))));
    let clean = record(
        &policy,
        &received(&policy, 1_200, 300, 200, 100),
        with_findings(vec![]),
    );
    assert_eq!((clean.defect_items, clean.defect_fee), (0, None));
}

// rule INS-3 (seed 001: 不具合品と判断した場合、1点につき一律30元): the fee is for defects
// only; a discrepancy or a short quantity is recorded and notified but not charged.
#[test]
fn ins_3_defect_fee_is_charged_for_defects_only() {
    let policy = cn();
    let findings = vec![
        finding(FindingKind::Discrepancy, 1, &["photo-1.jpg"]),
        finding(FindingKind::ShortQuantity, 2, &["count-sheet.pdf"]),
        finding(FindingKind::Damage, 1, &["photo-2.jpg"]),
    ];
    let r = record(
        &policy,
        &received(&policy, 1_200, 300, 200, 100),
        with_findings(findings.clone()),
    );
    assert_eq!(r.findings, findings);
    assert_eq!(
        (r.defect_items, r.defect_fee),
        (1, Some(Money::cny(dec!(30))))
    );
    let no_defect = record(
        &policy,
        &received(&policy, 1_200, 300, 200, 100),
        with_findings(findings[..2].to_vec()),
    );
    assert_eq!((no_defect.defect_items, no_defect.defect_fee), (0, None));
}

// rule INS-3 (seed 001: 100サイズを越える荷物は大型扱いとなり実費請求(50元以上)): a parcel
// over size 100 (length + width + height over 100 cm) has its defects charged at cost, at least
// 50 CNY, instead of 30 CNY per item; at size 100 exactly it is charged per item.
#[test]
fn ins_3_oversize_parcel_defects_charged_at_cost_at_least_50_cny() {
    let policy = cn();
    let two_damaged = || InspectionReport {
        oversize_cost: Some(Money::cny(dec!(80))),
        ..with_findings(vec![finding(FindingKind::Damage, 2, &["photo.jpg"])])
    };
    // 50 + 40 + 20.1 cm = 110.1 cm: large, charged its 80 CNY cost, not 2 × 30.
    let large = record(
        &policy,
        &received(&policy, 4_000, 500, 400, 201),
        two_damaged(),
    );
    assert_eq!(large.defect_items, 2);
    assert_eq!(large.defect_fee, Some(Money::cny(dec!(80))));
    assert_eq!(
        large.oversize,
        Some(OversizeDefect {
            sides_total_mm: 1_101,
            over_size_cm: 100,
            cost: Money::cny(dec!(80)),
            min_fee: Money::cny(dec!(50)),
        })
    );
    // A cost under the minimum is charged the minimum.
    let cheap = record(
        &policy,
        &received(&policy, 4_000, 500, 400, 201),
        InspectionReport {
            oversize_cost: Some(Money::cny(dec!(20))),
            ..two_damaged()
        },
    );
    assert_eq!(cheap.defect_fee, Some(Money::cny(dec!(50))));
    // 50 + 30 + 20 cm = 100 cm is not over size 100: 30 CNY per item, the cost not read.
    let at_bound = record(
        &policy,
        &received(&policy, 4_000, 500, 300, 200),
        two_damaged(),
    );
    assert_eq!(
        (at_bound.defect_fee, at_bound.oversize),
        (Some(Money::cny(dec!(60))), None)
    );
    // No defect, no charge, even on a large parcel.
    let clean = record(
        &policy,
        &received(&policy, 4_000, 500, 400, 201),
        InspectionReport {
            oversize_cost: Some(Money::cny(dec!(80))),
            ..with_findings(vec![finding(FindingKind::ShortQuantity, 1, &["count.pdf"])])
        },
    );
    assert_eq!((clean.defect_fee, clean.oversize), (None, None));
}

// rule INS-3: a large parcel's defects are charged at cost, so the inspection must state it,
// in the billing currency; under jp-forwarding (no defect fee) nothing is asked.
#[test]
fn ins_3_oversize_parcel_defect_without_cost_is_refused() {
    let policy = cn();
    let given = received(&policy, 4_000, 500, 400, 201);
    let damaged = with_findings(vec![finding(FindingKind::Damage, 1, &["photo.jpg"])]);
    let err = decide(
        &policy,
        &given,
        on(day(), ParcelCommand::Inspect(damaged.clone())),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ParcelError::OversizeCostMissing {
            sides_total_mm: 1_101,
            over_size_cm: 100
        }
    );
    assert_eq!(
        (err.code(), err.rule()),
        ("inspection.oversize_cost_missing", Some(Rule::Ins3))
    );
    let in_yen = InspectionReport {
        oversize_cost: Some(Money::jpy(1_000)),
        ..damaged.clone()
    };
    let err = decide(&policy, &given, on(day(), ParcelCommand::Inspect(in_yen))).unwrap_err();
    assert_eq!(err.code(), "inspection.oversize_cost_invalid");

    let jp = jp();
    let r = record(&jp, &received(&jp, 4_000, 500, 400, 201), damaged);
    assert_eq!((r.defect_fee, r.oversize), (None, None));
}

// rule INS-3: jp-forwarding records and notifies findings but charges no defect fee (POL-2).
#[test]
fn ins_3_findings_without_fee_jp_forwarding() {
    let policy = jp();
    let findings = vec![
        finding(FindingKind::ShortQuantity, 1, &["count-sheet.pdf"]),
        finding(FindingKind::Dirt, 1, &["photo.jpg"]),
    ];
    let r = record(
        &policy,
        &received(&policy, 1_200, 300, 200, 100),
        with_findings(findings.clone()),
    );
    assert_eq!(r.findings, findings);
    assert_eq!((r.defect_items, r.defect_fee), (1, None));
}

// rule INS-3: every finding has evidence and at least one item.
#[test]
fn ins_3_finding_needs_evidence_and_items() {
    let policy = cn();
    let given = received(&policy, 1_200, 300, 200, 100);
    let no_evidence = vec![
        finding(FindingKind::Discrepancy, 1, &["photo.jpg"]),
        finding(FindingKind::Damage, 1, &[]),
    ];
    assert_refused(
        decide(
            &policy,
            &given,
            on(day(), ParcelCommand::Inspect(with_findings(no_evidence))),
        ),
        ParcelError::FindingIncomplete { index: 2 },
        "inspection.finding_incomplete",
        Some(Rule::Ins3),
    );
    let no_items = vec![finding(FindingKind::Damage, 0, &["photo.jpg"])];
    assert_refused(
        decide(
            &policy,
            &given,
            on(day(), ParcelCommand::Inspect(with_findings(no_items))),
        ),
        ParcelError::FindingIncomplete { index: 1 },
        "inspection.finding_incomplete",
        Some(Rule::Ins3),
    );
}

// ---- INS-4

fn quarantined(policy: &Policy) -> Vec<ParcelEvent> {
    let mut r = report(None, &[1]);
    r.observed_categories = vec!["apparel".into(), "aerosol".into(), "aerosol".into()];
    history(
        policy,
        vec![
            on(day(), ParcelCommand::Arrive(arrival())),
            on(day(), ParcelCommand::Inspect(r)),
        ],
    )
}

// rule INS-4: a prohibited category found at inspection quarantines the parcel; the member may be suspended.
#[test]
fn ins_4_prohibited_item_quarantines_the_parcel() {
    for policy in [jp(), cn()] {
        let events = quarantined(&policy);
        assert_eq!(
            events.last().unwrap(),
            &ParcelEvent::Quarantined {
                member_id: Some(member_id()),
                categories: vec!["aerosol".into()],
                member_may_be_suspended: true,
                rule: Rule::Ins4,
                policy: policy.version(),
            }
        );
        assert_eq!(state(&events).status(), &ParcelStatus::Quarantined);
    }
}

// rule INS-4: categories off the configured list do not quarantine.
#[test]
fn ins_4_allowed_categories_do_not_quarantine() {
    let policy = jp();
    let mut r = report(None, &[1]);
    r.observed_categories = vec!["apparel".into(), "books".into()];
    let mut events = received(&policy, 1_200, 300, 200, 100);
    let inspected = decide(&policy, &events, on(day(), ParcelCommand::Inspect(r))).unwrap();
    assert!(matches!(&inspected[..], [ParcelEvent::Inspected(_)]));
    events.extend(inspected);
    assert_eq!(state(&events).status(), &ParcelStatus::Inspected);
}

// rule INS-4: a quarantined parcel may only be disposed of (as prohibited) or returned.
#[test]
fn ins_4_quarantined_parcel_is_only_disposed_or_returned() {
    let policy = jp();
    let given = quarantined(&policy);
    let refused = [
        store(),
        ParcelCommand::RequestPacking {
            member: verified(),
            shipment_id: shipment("s-1"),
        },
        ParcelCommand::ReserveForConsolidation {
            shipment_id: shipment("s-1"),
            member: verified(),
        },
        ParcelCommand::MarkDisposable {
            earliest_waiting_arrival: None,
        },
        ParcelCommand::Dispose {
            cause: DisposalCause::PastMaxStorage,
        },
    ];
    for command in refused {
        assert_refused(
            decide(&policy, &given, on(day(), command)),
            ParcelError::Quarantined,
            "quarantine.dispose_or_return_only",
            Some(Rule::Ins4),
        );
    }
    framework(policy.clone())
        .given(given.clone())
        .when(on(
            day(),
            ParcelCommand::Dispose {
                cause: DisposalCause::Prohibited,
            },
        ))
        .then_expect_events(vec![ParcelEvent::Disposed {
            member_id: Some(member_id()),
            cause: DisposedBecause::Prohibited {
                categories: vec!["aerosol".into()],
            },
            fee: Money::jpy(500),
            rule: Rule::Ins4,
            policy: policy.version(),
        }]);
    framework(policy)
        .given(given)
        .when(on(
            day(),
            ParcelCommand::Return {
                note: "back to sender".into(),
            },
        ))
        .then_expect_events(vec![ParcelEvent::Returned {
            from: ReturnedFrom::Quarantined,
            returned_on: day(),
            note: "back to sender".into(),
        }]);
}

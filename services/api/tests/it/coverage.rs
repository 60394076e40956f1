//! The error codes the OpenAPI document lists (`x-error-codes` per operation and status) are
//! real: every code of the HTTP layer is reached through HTTP on every operation that lists
//! it, every business refusal listed is one the domain or the engine defines, and every
//! refusal a scenario reaches is listed for its operation.
//!
//! The checks every endpoint gets (tokens, roles, keys, path ids, bodies) run for each
//! operation; then one scenario per business refusal, on an operation that documents it (an
//! operation documents every refusal it may answer, several of which others share, such as
//! `parcel.invalid_state`); then the codes no single endpoint owns (a conflict after the
//! bounded retries, a key in progress, a store failure, readiness), reached on any operation.

use crate::checks::{auth_checks, ops, reached, request_checks, Reached, World};
use crate::openapi::operations;
use crate::support::*;
use axum::http::Method;
use engine::EngineConfig;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Codes no single endpoint owns: any operation reaching one proves it for all.
const CROSS_CUTTING: &[&str] = &[
    "concurrency.conflict",
    "idempotency.in_progress",
    "idempotency.key_reused",
    "internal",
];

/// A business refusal (a code the domain or the engine answers, not the HTTP layer's). An
/// operation documents every one it may answer, read from the domain; each documented one
/// must be a code the domain or the engine defines, every one a scenario reaches must be
/// documented, and the contract test's fuzzer (services/parcelport/tests/contract) fails on
/// any refusal an operation answers without documenting it.
fn is_business_refusal(code: &str) -> bool {
    // The engine's refusal of what it cannot carry out as asked (`EngineError::Invalid`).
    if code == "request.unprocessable" {
        return true;
    }
    ![
        "auth.",
        "request.",
        "idempotency.",
        "concurrency.",
        "service.",
    ]
    .iter()
    .any(|prefix| code.starts_with(prefix))
        && code != "internal"
}

/// Every code a `Refusal` of the domain or an error of the engine answers: the string
/// literals of the form `"area.reason"` in their sources.
fn refusal_codes_defined() -> BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut codes = BTreeSet::new();
    let mut dirs = vec![root.join("domain/src"), root.join("crates/engine/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                codes.extend(text.split('"').skip(1).step_by(2).filter_map(|literal| {
                    let (area, reason) = literal.split_once('.')?;
                    let word = |s: &str| {
                        !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    };
                    (word(area) && word(reason)).then(|| literal.to_owned())
                }));
            }
        }
    }
    codes
}

/// A scenario's requests, recorded as they reach their codes.
struct Run<'a> {
    app: &'a TestApp,
    seen: &'a mut Reached,
}

impl Run<'_> {
    /// `POST path` as `token`, which must answer `status` `code`, recorded under `op`.
    async fn refused(
        &mut self,
        op: &str,
        path: &str,
        token: &str,
        body: Value,
        status: u16,
        code: &str,
    ) {
        let reply = self.app.post(path, token, body).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{op} at {path}: {:#}",
            reply.body
        );
        reached(self.seen, op, &reply, status, code);
    }

    /// `POST path` as `token`, which must succeed.
    async fn ok(&self, path: &str, token: &str, body: Value) -> Reply {
        let reply = self.app.post(path, token, body).await;
        assert!(reply.status.is_success(), "{path}: {:#}", reply.body);
        reply
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_documented_error_code_is_reached() {
    let doc = api::openapi_document();
    let mut documented = BTreeSet::new();
    for (_, _, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        for response in operation["responses"].as_object().unwrap().values() {
            for code in response["x-error-codes"].as_array().into_iter().flatten() {
                documented.insert((id.clone(), code.as_str().unwrap().to_owned()));
            }
        }
    }

    let app = spawn_app().await;
    let world = World::new(&app).await;
    let mut seen = Reached::new();
    for op in ops(&doc) {
        auth_checks(&app, &world, &op, &mut seen).await;
        request_checks(&app, &world, &op, &mut seen).await;
    }
    let mut run = Run {
        app: &app,
        seen: &mut seen,
    };
    members(&mut run).await;
    accounts(&mut run).await;
    parcels(&mut run).await;
    shipments(&mut run).await;
    claims(&mut run).await;
    returns(&mut run).await;
    held_then_disposed(&mut run).await;
    duty_advance_refused(&mut run).await;
    dunning(&mut run).await;
    oversize_defects(&mut seen).await;
    erasure(&mut seen).await;
    cross_cutting(&mut seen).await;

    let codes_seen: BTreeSet<&str> = seen.iter().map(|(_, code)| code.as_str()).collect();
    let missing: Vec<_> = documented
        .iter()
        .filter(|pair| !seen.contains(*pair))
        .filter(|(_, code)| !is_business_refusal(code))
        .filter(|(_, code)| {
            !(CROSS_CUTTING.contains(&code.as_str()) && codes_seen.contains(code.as_str()))
        })
        .collect();
    let defined = refusal_codes_defined();
    let invented: Vec<_> = documented
        .iter()
        .filter(|(_, code)| is_business_refusal(code) && !defined.contains(code.as_str()))
        // The API answers these itself for an id the path or the body names.
        .filter(|(_, code)| {
            *code != "request.unprocessable"
                && !["member", "account", "parcel", "shipment", "suite_code"]
                    .iter()
                    .any(|kind| *code == format!("{kind}.not_found"))
        })
        .collect();
    assert!(
        invented.is_empty(),
        "documented refusals no domain or engine error answers: {invented:#?}"
    );
    let business = documented
        .iter()
        .filter(|(_, code)| is_business_refusal(code));
    let (reached_pairs, pairs) = business.fold((0, 0), |(reached, all), pair| {
        (reached + usize::from(seen.contains(pair)), all + 1)
    });
    eprintln!("business refusals reached through HTTP: {reached_pairs} of {pairs} documented (operation, code) pairs");
    assert!(
        missing.is_empty(),
        "documented but never reached: {missing:#?}"
    );
    let undocumented: Vec<_> = seen
        .iter()
        .filter(|pair| !documented.contains(*pair))
        .collect();
    assert!(
        undocumented.is_empty(),
        "reached but not documented: {undocumented:#?}"
    );
}

// INS-3 (cn-agency): a large parcel's defects are charged at cost, which the inspection must
// state, in the billing currency.
async fn oversize_defects(seen: &mut Reached) {
    let app = spawn_app_on(
        EngineConfig::new("SHA").unwrap(),
        domain::Policy::cn_agency(),
    )
    .await;
    let mut run = Run { app: &app, seen };
    let member = app.verified().await;
    let large = json!({
        "label": member.suite_code.to_lowercase(),
        "weight": 4_000,
        "dimensions": { "length_mm": 500, "width_mm": 400, "height_mm": 300 }
    });
    let received = app.post("/v1/parcels", STAFF, large).await;
    received.expect(201);
    let parcel = received.id();
    let inspect = format!("/v1/parcels/{parcel}/inspect");
    let defect = |cost: Option<Value>| {
        let mut body = json!({
            "variations": [ { "variation": "red / S", "units": 2 } ],
            "findings": [ { "kind": "damage", "items": 1, "evidence": ["scratch.jpg"] } ]
        });
        if let Some(cost) = cost {
            body["oversize_cost"] = cost;
        }
        body
    };
    run.refused(
        "inspect_parcel",
        &inspect,
        STAFF,
        defect(None),
        422,
        "inspection.oversize_cost_missing",
    )
    .await;
    run.refused(
        "inspect_parcel",
        &inspect,
        STAFF,
        defect(Some(yen(1_000))),
        422,
        "inspection.oversize_cost_invalid",
    )
    .await;
    let cost = json!({ "amount": "80", "currency": "CNY" });
    run.ok(&inspect, STAFF, defect(Some(cost))).await;
}

async fn members(run: &mut Run<'_>) {
    let app = run.app;
    let mut minor = registration();
    minor["birth_date"] = json!("2015-01-01");
    run.refused(
        "register_member",
        "/v1/members",
        OPS,
        minor,
        422,
        "member.guardian_consent_required",
    )
    .await;
    let mut unaccepted = registration();
    unaccepted["forwarding_only_accepted"] = json!(false);
    run.refused(
        "register_member",
        "/v1/members",
        OPS,
        unaccepted,
        422,
        "request.invalid_body",
    )
    .await;

    let member = app.register().await;
    let path = |command: &str| format!("/v1/members/{}/{command}", member.id);
    let mut incomplete = passport();
    incomplete["document"]["passport"]["photo_page_checked"] = json!(false);
    run.refused(
        "verify_identity",
        &path("verify-identity"),
        OPS,
        incomplete,
        422,
        "member.document_incomplete",
    )
    .await;
    let mut expired = passport();
    expired["expires_on"] = json!("2020-01-01");
    run.refused(
        "verify_identity",
        &path("verify-identity"),
        OPS,
        expired,
        422,
        "member.document_expired",
    )
    .await;
    run.refused(
        "reinstate_member",
        &path("reinstate"),
        OPS,
        json!({ "reason": "why not" }),
        422,
        "member.not_suspended",
    )
    .await;
    run.refused(
        "set_auto_ship",
        &path("set-auto-ship"),
        &member.token,
        json!({ "limit": yen(0) }),
        422,
        "member.auto_ship_limit_not_positive",
    )
    .await;
    run.refused(
        "refund_and_close",
        &path("refund-and-close"),
        FINANCE,
        json!({ "payout_currency": "JPY" }),
        422,
        "account.refund_without_withdrawal",
    )
    .await;
    run.refused(
        "erase_personal_data",
        &path("erase-personal-data"),
        OPS,
        json!({}),
        422,
        "member.not_closed",
    )
    .await;
    let cny = |amount: &str| json!({ "amount": amount, "currency": "CNY" });
    let today = app.today();
    let foreign = json!({
        "declared": { "deposited_on": today, "bank": "Bank", "amount": cny("100"), "payer_name": "YAMADA TARO" },
        "deposit": { "deposit_id": "dep-cny", "deposited_on": today, "bank": "Bank", "amount": cny("100"), "payer_name": "YAMADA TARO" }
    });
    run.refused(
        "apply_for_top_up",
        &path("top-up-applications"),
        FINANCE,
        foreign,
        422,
        "account.exchange_rate_missing",
    )
    .await;

    run.refused(
        "suspend_member",
        &path("suspend"),
        OPS,
        json!({ "cause": "false_declaration", "reason": "" }),
        422,
        "member.reason_missing",
    )
    .await;
    run.ok(
        &path("suspend"),
        OPS,
        json!({ "cause": "false_declaration", "reason": "a false declaration" }),
    )
    .await;
    run.refused(
        "set_auto_pack",
        &path("set-auto-pack"),
        &member.token,
        json!({}),
        422,
        "member.suspended",
    )
    .await;

    let leaving = app.verified().await;
    let leave = format!("/v1/members/{}/request-withdrawal", leaving.id);
    run.ok(&leave, &leaving.token, json!({})).await;
    run.refused(
        "request_withdrawal",
        &leave,
        &leaving.token,
        json!({}),
        422,
        "member.already_withdrawing",
    )
    .await;
}

/// Erasure of personal data (issue #10), on an app of its own: its clock crosses the
/// retention period (84 months), which the other scenarios' dates must not.
async fn erasure(seen: &mut Reached) {
    let app = spawn_app().await;
    let mut run = Run { app: &app, seen };
    let member = app.verified().await;
    let path = |command: &str| format!("/v1/members/{}/{command}", member.id);
    let english = json!({ "language": "en" });
    run.ok(&path("notice-language"), &member.token, english.clone())
        .await;
    run.ok(&path("request-withdrawal"), &member.token, json!({}))
        .await;
    // The refund falls due at the end of the month after the next (ACC-7).
    app.clock.advance(chrono::Duration::days(100));
    run.ok(
        &path("refund-and-close"),
        FINANCE,
        json!({ "payout_currency": "JPY" }),
    )
    .await;
    run.refused(
        "choose_notice_language",
        &path("notice-language"),
        &member.token,
        english,
        422,
        "member.closed",
    )
    .await;
    run.refused(
        "erase_personal_data",
        &path("erase-personal-data"),
        OPS,
        json!({}),
        422,
        "member.retention_not_passed",
    )
    .await;
    app.clock.advance(chrono::Duration::days(85 * 31));
    run.ok(&path("erase-personal-data"), OPS, json!({})).await;
    run.refused(
        "erase_personal_data",
        &path("erase-personal-data"),
        OPS,
        json!({}),
        422,
        "member.personal_data_already_erased",
    )
    .await;
}

async fn accounts(run: &mut Run<'_>) {
    let app = run.app;
    let member = app.verified().await;
    let path = |command: &str| format!("/v1/accounts/{}/{command}", member.account_id);
    let fee = json!({ "reason": "inspection_fee", "cause": "p-fee", "amount": yen(300) });
    run.ok(&path("debit"), FINANCE, fee.clone()).await;
    run.refused(
        "debit_account",
        &path("debit"),
        FINANCE,
        fee,
        422,
        "account.duplicate_debit",
    )
    .await;
    let payment = json!({ "reason": "shipment_payment", "cause": "s-1", "amount": yen(300) });
    run.refused(
        "debit_account",
        &path("debit"),
        FINANCE,
        payment,
        422,
        "request.unprocessable",
    )
    .await;
    let sale = json!({ "parcel": "p-sold", "gross": yen(1_000), "costs": yen(-1) });
    run.refused(
        "credit_sale_proceeds",
        &path("credit-sale-proceeds"),
        FINANCE,
        sale,
        422,
        "account.non_positive_amount",
    )
    .await;
    let today = app.today();
    let tomorrow = today.succ_opt().unwrap();
    let future =
        json!({ "cause": "inv-1", "overdue": yen(1_000), "due_on": today, "through": tomorrow });
    run.refused(
        "accrue_late_interest",
        &path("accrue-late-interest"),
        FINANCE,
        future,
        422,
        "account.interest_in_future",
    )
    .await;
    let early =
        json!({ "cause": "inv-1", "overdue": yen(1_000), "due_on": today, "through": today });
    run.refused(
        "accrue_late_interest",
        &path("accrue-late-interest"),
        FINANCE,
        early,
        422,
        "account.not_overdue",
    )
    .await;
    let duty = json!({ "shipment": "s-duty" });
    run.refused(
        "advance_duty",
        &path("advance-duty"),
        FINANCE,
        duty,
        422,
        "account.duty_advance_min_balance",
    )
    .await;
    let bill = json!({ "shipment": "s-duty", "duty": yen(500) });
    run.refused(
        "bill_advanced_duty",
        &path("bill-advanced-duty"),
        FINANCE,
        bill,
        422,
        "account.no_duty_advance",
    )
    .await;
    // A reference rate of a currency in itself is refused (MON-3), by its schema.
    let same = json!({
        "base": "JPY", "quote": "JPY", "rate": "1", "source": "reference bank",
        "valid_on": "2026-12-01"
    });
    run.refused(
        "record_reference_rate",
        "/v1/reference-rates",
        FINANCE,
        same,
        422,
        "request.invalid_body",
    )
    .await;
}

async fn parcels(run: &mut Run<'_>) {
    let app = run.app;
    let member = app.verified().await;
    let stored = app.stored_parcel(&member, 600, 1_000).await;
    let at = |parcel: &str, command: &str| format!("/v1/parcels/{parcel}/{command}");

    let mut again = arrival(&member.suite_code, 600);
    again["parcel_id"] = json!(stored);
    run.refused(
        "receive_parcel",
        "/v1/parcels",
        STAFF,
        again,
        422,
        "parcel.invalid_state",
    )
    .await;

    let expect =
        |shop: &str| json!({ "member_id": member.id, "shop": shop, "purchased_on": app.today() });
    run.refused(
        "expect_parcel",
        &at("exp-1", "expect"),
        &member.token,
        expect("random-shop"),
        422,
        "intake.shop_not_approved",
    )
    .await;
    run.refused(
        "expect_parcel",
        &at(&stored, "expect"),
        ADMIN,
        expect("shop-approved-1"),
        422,
        "parcel.invalid_state",
    )
    .await;
    run.ok(
        &at("exp-2", "expect"),
        &member.token,
        expect("shop-approved-1"),
    )
    .await;
    run.refused(
        "cancel_expected_parcel",
        &at("exp-2", "cancel-expected"),
        &member.token,
        json!({}),
        422,
        "intake.too_early_to_cancel",
    )
    .await;

    let unidentified = app
        .post("/v1/parcels", STAFF, json!({ "weight": 500, "dimensions": { "length_mm": 100, "width_mm": 100, "height_mm": 100 } }))
        .await;
    unidentified.expect(201);
    let unidentified = unidentified.id();
    run.refused(
        "attach_parcel",
        &at(&unidentified, "attach-to-member"),
        STAFF,
        json!({ "suite_code": "TYO-999999" }),
        404,
        "suite_code.not_found",
    )
    .await;
    run.refused(
        "attach_parcel",
        &at(&stored, "attach-to-member"),
        STAFF,
        json!({ "suite_code": member.suite_code }),
        422,
        "parcel.invalid_state",
    )
    .await;
    run.refused(
        "request_packing",
        &at(&unidentified, "request-packing"),
        ADMIN,
        json!({}),
        422,
        "request.unprocessable",
    )
    .await;

    let received = app.receive(&member, 700).await;
    let empty = json!({ "items": [], "sender": "Shop A", "source": "member" });
    run.refused(
        "declare_contents",
        &at(&received, "declare"),
        &member.token,
        empty,
        422,
        "declaration.empty",
    )
    .await;
    let mut zero = declaration(1_000);
    zero["items"][0]["quantity"] = json!(0);
    run.refused(
        "declare_contents",
        &at(&received, "declare"),
        &member.token,
        zero,
        422,
        "declaration.zero_quantity",
    )
    .await;
    run.refused(
        "confirm_declaration",
        &at(&received, "confirm-declaration"),
        &member.token,
        json!({}),
        422,
        "declaration.missing",
    )
    .await;
    run.refused(
        "store_parcel",
        &at(&received, "store"),
        STAFF,
        json!({ "location": "B-2" }),
        422,
        "parcel.invalid_state",
    )
    .await;
    let incomplete = json!({
        "variations": [ { "variation": "red / S", "units": 1 } ],
        "findings": [ { "kind": "damage", "items": 0, "evidence": [] } ]
    });
    run.refused(
        "inspect_parcel",
        &at(&received, "inspect"),
        STAFF,
        incomplete,
        422,
        "inspection.finding_incomplete",
    )
    .await;

    // Stored without a declaration: not packable (PAR-4).
    run.ok(&at(&received, "inspect"), STAFF, inspection()).await;
    run.ok(&at(&received, "store"), STAFF, json!({ "location": "B-2" }))
        .await;
    run.refused(
        "request_packing",
        &at(&received, "request-packing"),
        &member.token,
        json!({}),
        422,
        "declaration.not_confirmed",
    )
    .await;
    let unverified = app.register().await;
    let theirs = app.stored_parcel(&unverified, 500, 1_000).await;
    run.refused(
        "request_packing",
        &at(&theirs, "request-packing"),
        &unverified.token,
        json!({}),
        422,
        "member.unverified",
    )
    .await;

    run.refused(
        "send_storage_notice",
        &at(&stored, "send-storage-notice"),
        OPS,
        json!({}),
        422,
        "storage.notice_not_due",
    )
    .await;
    run.refused(
        "mark_disposable",
        &at(&stored, "mark-disposable"),
        OPS,
        json!({}),
        422,
        "storage.limit_not_reached",
    )
    .await;
    run.refused(
        "extend_storage",
        &at(&stored, "extend-storage"),
        &member.token,
        json!({}),
        422,
        "storage.extension_unavailable",
    )
    .await;
    run.refused(
        "accrue_storage_fee",
        &at(&stored, "accrue-storage-fee"),
        FINANCE,
        json!({}),
        422,
        "storage.not_extended",
    )
    .await;
    run.refused(
        "dispose_parcel",
        &at(&stored, "dispose"),
        OPS,
        json!({ "reason": "past_max_storage" }),
        422,
        "disposal.not_disposable",
    )
    .await;
    run.refused(
        "return_parcel",
        &at(&stored, "return"),
        STAFF,
        json!({ "note": "wrong" }),
        422,
        "parcel.invalid_state",
    )
    .await;
}

async fn shipments(run: &mut Run<'_>) {
    let app = run.app;
    let member = app.verified().await;
    app.top_up(&member, 200_000).await;
    let stored = |grams| app.stored_parcel(&member, grams, 1_000);
    let (one, two, three) = (stored(500).await, stored(500).await, stored(500).await);
    let consolidate = |parcels: Value| json!({ "parcel_ids": parcels });
    run.refused(
        "consolidate",
        "/v1/shipments",
        &member.token,
        consolidate(json!(["missing-9"])),
        404,
        "parcel.not_found",
    )
    .await;
    run.refused(
        "consolidate",
        "/v1/shipments",
        &member.token,
        consolidate(json!([one])),
        422,
        "consolidation.too_few_parcels",
    )
    .await;
    let first = run
        .ok(
            "/v1/shipments",
            &member.token,
            consolidate(json!([one, two])),
        )
        .await;
    run.refused(
        "consolidate",
        "/v1/shipments",
        &member.token,
        consolidate(json!([two, three])),
        422,
        "consolidation.parcel_taken",
    )
    .await;
    let (heavy, heavier) = (stored(10_000).await, stored(10_000).await);
    run.refused(
        "consolidate",
        "/v1/shipments",
        &member.token,
        consolidate(json!([heavy, heavier])),
        422,
        "consolidation.weight_limit",
    )
    .await;
    let unverified = app.register().await;
    let theirs = (
        app.stored_parcel(&unverified, 500, 1_000).await,
        app.stored_parcel(&unverified, 500, 1_000).await,
    );
    run.refused(
        "consolidate",
        "/v1/shipments",
        &unverified.token,
        consolidate(json!([theirs.0, theirs.1])),
        422,
        "member.may_not_request",
    )
    .await;

    let shipment = first.id();
    let at = |command: &str| format!("/v1/shipments/{shipment}/{command}");
    run.ok(&at("record-packing"), STAFF, ems_packing(1_100))
        .await;
    run.refused(
        "record_packing",
        &at("record-packing"),
        STAFF,
        ems_packing(1_100),
        422,
        "shipment.invalid_state",
    )
    .await;
    run.refused(
        "quote_shipment",
        &at("quote"),
        &member.token,
        json!({ "carrier": "EMS", "destination": "ZZ" }),
        422,
        "tariff.destination_not_served",
    )
    .await;
    run.refused(
        "quote_shipment",
        &at("quote"),
        &member.token,
        json!({ "carrier": "NOPE", "destination": "US" }),
        422,
        "tariff.unknown_carrier",
    )
    .await;
    let quoted = run.ok(&at("quote"), &member.token, ems_to_us()).await;
    let total = quoted.body["result"]["total"].clone();
    run.refused(
        "hold_unpaid",
        &at("hold-unpaid"),
        OPS,
        json!({}),
        422,
        "payment.not_yet_due",
    )
    .await;
    let ship = json!({ "carrier": "EMS", "service": "EMS", "tracking_number": "EJ1JP", "declared_value": yen(1_000) });
    run.refused(
        "ship_shipment",
        &at("ship"),
        STAFF,
        ship,
        422,
        "shipping.not_paid",
    )
    .await;
    run.refused(
        "pay_shipment",
        &at("pay"),
        &member.token,
        json!({ "method": "balance", "amount": yen(1) }),
        422,
        "payment.amount_mismatch",
    )
    .await;
    run.refused(
        "pay_shipment",
        &at("pay"),
        &member.token,
        json!({ "method": "auto_ship", "amount": total }),
        422,
        "request.unprocessable",
    )
    .await;
    run.ok(
        &at("pay"),
        &member.token,
        json!({ "method": "balance", "amount": total }),
    )
    .await;
    run.refused(
        "pay_shipment",
        &at("pay"),
        &member.token,
        json!({ "method": "balance", "amount": total }),
        422,
        "payment.already_paid",
    )
    .await;
    run.refused(
        "cancel_shipment",
        &at("cancel"),
        &member.token,
        json!({ "reason": "changed my mind" }),
        422,
        "cancellation.after_payment",
    )
    .await;
    run.refused(
        "record_tracking",
        &at("record-tracking"),
        STAFF,
        json!({ "status": "delivered", "on": app.today() }),
        422,
        "tracking.not_in_transit",
    )
    .await;
    let claim =
        json!({ "claim_id": "c-1", "claim_type": "loss", "evidence": { "comment": "never came" } });
    run.refused(
        "file_claim",
        &at("file-claim"),
        &member.token,
        claim,
        422,
        "claim.not_shipped",
    )
    .await;

    // A member without money pays nothing (ACC-4).
    let poor = app.verified().await;
    let parcel = app.stored_parcel(&poor, 500, 1_000).await;
    let (theirs, total) = app.quoted_single(&poor, &parcel).await;
    let pay = json!({ "method": "balance", "amount": total });
    run.refused(
        "pay_shipment",
        &format!("/v1/shipments/{theirs}/pay"),
        &poor.token,
        pay,
        422,
        "account.insufficient_balance",
    )
    .await;
}

// SHP-2: a shipment sent back to the warehouse is received, charged, and abandoned.
async fn returns(run: &mut Run<'_>) {
    let app = run.app;
    let member = app.verified().await;
    app.top_up(&member, 100_000).await;
    let parcel = app.stored_parcel(&member, 800, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    let at = |command: &str| format!("/v1/shipments/{shipment}/{command}");
    run.ok(
        &at("pay"),
        &member.token,
        json!({ "method": "balance", "amount": total }),
    )
    .await;
    // Not returned: nothing to receive or abandon.
    run.refused(
        "receive_return",
        &at("receive-return"),
        STAFF,
        json!({ "return_cost": yen(2_000) }),
        422,
        "shipment.invalid_state",
    )
    .await;
    run.refused(
        "abandon_return",
        &at("abandon-return"),
        &member.token,
        json!({}),
        422,
        "shipment.invalid_state",
    )
    .await;
    // ACC-8: duty paid on delivery, chosen before dispatch.
    run.ok(
        &at("choose-duty-payment"),
        &member.token,
        json!({ "payment": "recipient_on_delivery" }),
    )
    .await;
    let ship = json!({ "carrier": "EMS", "service": "EMS", "tracking_number": "EJ3JP", "declared_value": yen(3_000) });
    run.ok(&at("ship"), STAFF, ship).await;
    // SHP-2: jp-forwarding arranges no redelivery abroad.
    run.refused(
        "charge_redelivery",
        &at("charge-redelivery"),
        STAFF,
        json!({ "cost": yen(3_000) }),
        422,
        "redelivery.not_offered",
    )
    .await;
    run.refused(
        "choose_duty_payment",
        &at("choose-duty-payment"),
        &member.token,
        json!({ "payment": "advance" }),
        422,
        "duty.after_dispatch",
    )
    .await;
    run.ok(
        &at("record-tracking"),
        STAFF,
        json!({ "status": "returned_to_origin", "on": app.today() }),
    )
    .await;
    run.refused(
        "receive_return",
        &at("receive-return"),
        STAFF,
        json!({ "return_cost": { "amount": "100", "currency": "CNY" } }),
        422,
        "return.invalid_cost",
    )
    .await;
    let received = run
        .ok(
            &at("receive-return"),
            STAFF,
            json!({ "return_cost": yen(2_000) }),
        )
        .await;
    assert_eq!(
        received.event_types(),
        [
            "shipment.return_received",
            "account.debited",
            "parcel.returned_to_warehouse"
        ]
    );
    let abandoned = run
        .ok(&at("abandon-return"), &member.token, json!({}))
        .await;
    assert_eq!(
        abandoned.event_types(),
        [
            "shipment.return_abandoned",
            "parcel.disposed",
            "account.disposal_fee_charged"
        ]
    );
}

// PAY-2: a held shipment whose parcel was disposed of past the STO-2 limit is not payable.
async fn held_then_disposed(run: &mut Run<'_>) {
    let app = run.app;
    let member = app.verified().await;
    app.top_up(&member, 100_000).await;
    let parcel = app.stored_parcel(&member, 800, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    app.clock.advance(days(8));
    run.ok(
        &format!("/v1/shipments/{shipment}/hold-unpaid"),
        OPS,
        json!({}),
    )
    .await;
    app.clock.advance(days(60));
    run.ok(
        &format!("/v1/parcels/{parcel}/mark-disposable"),
        OPS,
        json!({}),
    )
    .await;
    run.ok(
        &format!("/v1/parcels/{parcel}/dispose"),
        OPS,
        json!({ "reason": "unpaid" }),
    )
    .await;
    run.refused(
        "pay_shipment",
        &format!("/v1/shipments/{shipment}/pay"),
        &member.token,
        json!({ "method": "balance", "amount": total }),
        422,
        "payment.parcels_disposed",
    )
    .await;
}

// ACC-8: a duty advance chosen before dispatch needs the policy's minimum balance, or the
// shipment does not leave.
async fn duty_advance_refused(run: &mut Run<'_>) {
    let app = run.app;
    let member = app.verified().await;
    let parcel = app.stored_parcel(&member, 800, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    let yen_total: i64 = total["amount"].as_str().unwrap().parse().unwrap();
    app.top_up(&member, yen_total + 1_000).await;
    let at = |command: &str| format!("/v1/shipments/{shipment}/{command}");
    run.ok(
        &at("pay"),
        &member.token,
        json!({ "method": "balance", "amount": total }),
    )
    .await;
    run.ok(
        &at("choose-duty-payment"),
        &member.token,
        json!({ "payment": "advance" }),
    )
    .await;
    let ship = json!({ "carrier": "EMS", "service": "EMS", "tracking_number": "EJ4JP", "declared_value": yen(3_000) });
    run.refused(
        "ship_shipment",
        &at("ship"),
        STAFF,
        ship,
        422,
        "account.duty_advance_min_balance",
    )
    .await;
}

async fn claims(run: &mut Run<'_>) {
    let app = run.app;
    let member = app.verified().await;
    app.top_up(&member, 100_000).await;
    let parcel = app.stored_parcel(&member, 800, 3_000).await;
    let (shipment, total) = app.quoted_single(&member, &parcel).await;
    let at = |command: &str| format!("/v1/shipments/{shipment}/{command}");
    run.ok(
        &at("pay"),
        &member.token,
        json!({ "method": "balance", "amount": total }),
    )
    .await;
    let ship = json!({ "carrier": "EMS", "service": "EMS", "tracking_number": "EJ2JP", "declared_value": yen(3_000) });
    run.ok(&at("ship"), STAFF, ship).await;
    run.ok(
        &at("record-tracking"),
        STAFF,
        json!({ "status": "delivered", "on": app.today() }),
    )
    .await;

    let defect = |id: &str| {
        json!({
            "claim_id": id, "claim_type": "defect",
            "evidence": { "photos": ["stain.jpg"] },
            "item": { "parcel_id": parcel, "line": 0, "quantity": 1 }
        })
    };
    run.ok(&at("file-claim"), &member.token, defect("c-1"))
        .await;
    run.refused(
        "file_claim",
        &at("file-claim"),
        &member.token,
        defect("c-1"),
        422,
        "claim.duplicate_id",
    )
    .await;
    let evidence = json!({ "claim_id": "nope", "evidence": { "comment": "more" } });
    run.refused(
        "add_claim_evidence",
        &at("add-claim-evidence"),
        &member.token,
        evidence,
        404,
        "claim.not_found",
    )
    .await;
    let c1 = json!({ "claim_id": "c-1" });
    run.refused(
        "escalate_claim",
        &at("escalate-claim"),
        OPS,
        c1.clone(),
        422,
        "claim.response_not_overdue",
    )
    .await;
    run.refused(
        "accept_exchange",
        &at("accept-exchange"),
        OPS,
        c1.clone(),
        422,
        "claim.not_under_warranty",
    )
    .await;
    run.refused(
        "record_exchange_item_received",
        &at("record-exchange-item-received"),
        STAFF,
        c1.clone(),
        422,
        "claim.invalid_state",
    )
    .await;
    run.refused(
        "lapse_exchange",
        &at("lapse-exchange"),
        OPS,
        c1.clone(),
        422,
        "claim.invalid_state",
    )
    .await;
    run.refused(
        "reject_claim",
        &at("reject-claim"),
        FINANCE,
        json!({ "claim_id": "c-1", "reason": "" }),
        422,
        "claim.reason_required",
    )
    .await;
    run.refused(
        "approve_claim",
        &at("approve-claim"),
        FINANCE,
        json!({ "claim_id": "c-1", "payout": yen(999_999) }),
        422,
        "claim.payout_over_cap",
    )
    .await;
    run.ok(
        &at("respond-to-claim"),
        OPS,
        json!({ "claim_id": "c-1", "message": "looking" }),
    )
    .await;
    run.refused(
        "escalate_claim",
        &at("escalate-claim"),
        OPS,
        c1,
        422,
        "claim.already_responded",
    )
    .await;

    run.ok(&at("file-claim"), &member.token, defect("c-2"))
        .await;
    let withdraw = json!({ "claim_id": "c-2", "reason": "found it" });
    run.ok(&at("withdraw-claim"), &member.token, withdraw.clone())
        .await;
    run.refused(
        "withdraw_claim",
        &at("withdraw-claim"),
        &member.token,
        withdraw,
        422,
        "claim.closed",
    )
    .await;
    let respond = json!({ "claim_id": "c-2", "message": "too late" });
    run.refused(
        "respond_to_claim",
        &at("respond-to-claim"),
        OPS,
        respond,
        422,
        "claim.closed",
    )
    .await;
}

/// The codes no endpoint owns, each on an app set up to produce it.
/// ACC-6's dunning steps, on a quote left unpaid while the clock moves on: each step refused
/// before its day and after it was taken, and both refused once the quote is paid.
async fn dunning(run: &mut Run<'_>) {
    let app = run.app;
    let member = app.verified().await;
    app.top_up(&member, 200_000).await;
    let parcels = json!([
        app.stored_parcel(&member, 500, 1_000).await,
        app.stored_parcel(&member, 500, 1_000).await
    ]);
    let shipment = run
        .ok(
            "/v1/shipments",
            &member.token,
            json!({ "parcel_ids": parcels }),
        )
        .await
        .id();
    let at = |command: &str| format!("/v1/shipments/{shipment}/{command}");
    run.ok(&at("record-packing"), STAFF, ems_packing(1_100))
        .await;
    let quoted = run.ok(&at("quote"), &member.token, ems_to_us()).await;
    let total = quoted.body["result"]["total"].clone();
    let (remind, notice) = ("remind_payment", "send_dunning_notice");
    run.refused(
        remind,
        &at("remind-payment"),
        OPS,
        json!({}),
        422,
        "dunning.reminder_not_yet_due",
    )
    .await;
    run.refused(
        notice,
        &at("send-dunning-notice"),
        OPS,
        json!({}),
        422,
        "dunning.not_reminded",
    )
    .await;
    // The quote is due 7 days after it was issued; the reminder from the day after.
    app.clock.advance(days(8));
    run.ok(&at("remind-payment"), OPS, json!({})).await;
    run.refused(
        remind,
        &at("remind-payment"),
        OPS,
        json!({}),
        422,
        "dunning.already_reminded",
    )
    .await;
    run.refused(
        notice,
        &at("send-dunning-notice"),
        OPS,
        json!({}),
        422,
        "dunning.notice_not_yet_due",
    )
    .await;
    app.clock.advance(days(7));
    run.ok(&at("send-dunning-notice"), OPS, json!({})).await;
    for (op, path) in [(notice, "send-dunning-notice"), (remind, "remind-payment")] {
        run.refused(
            op,
            &at(path),
            OPS,
            json!({}),
            422,
            "dunning.notice_already_sent",
        )
        .await;
    }
    run.ok(
        &at("pay"),
        &member.token,
        json!({ "method": "balance", "amount": total }),
    )
    .await;
    for (op, path) in [(notice, "send-dunning-notice"), (remind, "remind-payment")] {
        run.refused(op, &at(path), OPS, json!({}), 422, "payment.already_paid")
            .await;
    }
}

async fn cross_cutting(seen: &mut Reached) {
    // Every bounded retry lost the race: 409, and the same key carries the request later.
    let mut config = EngineConfig::new("TYO").unwrap();
    config.retry.max_retries = 0;
    let app = spawn_app_with(config).await;
    let member = app.verified().await;
    let address = app.listen().await;
    let path = format!("/v1/members/{}/record-successful-login", member.id);
    let mut conflict = None;
    for _ in 0..50 {
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (path, key) = (path.clone(), key());
                tokio::spawn(async move {
                    let reply = http(address, Method::POST, &path, OPS, &key, None).await;
                    (key, reply)
                })
            })
            .collect();
        for task in tasks {
            let (key, reply) = task.await.unwrap();
            if reply.status.as_u16() == 409 {
                conflict = Some((key, reply));
            }
        }
        if conflict.is_some() {
            break;
        }
    }
    let (lost, reply) = conflict.expect("a conflict within 50 rounds of 6 racers");
    reached(
        seen,
        "record_successful_login",
        &reply,
        409,
        "concurrency.conflict",
    );
    app.post_keyed(&path, OPS, &lost, json!({}))
        .await
        .expect(200);

    // The same key with another request.
    let keyed = format!("/v1/members/{}/set-auto-ship", member.id);
    app.post_keyed(&keyed, &member.token, "k-1", json!({ "limit": yen(1_000) }))
        .await
        .expect(200);
    let reply = app
        .post_keyed(&keyed, &member.token, "k-1", json!({ "limit": yen(2_000) }))
        .await;
    reached(seen, "set_auto_ship", &reply, 422, "idempotency.key_reused");

    // A duplicate that does not wait finds the first still running.
    let mut config = EngineConfig::new("TYO").unwrap();
    config.idempotency.wait = Duration::ZERO;
    let app = spawn_app_with(config).await;
    let member = app.verified().await;
    let address = app.listen().await;
    let mut in_progress = None;
    for _ in 0..50 {
        let key = key();
        let body = arrival(&member.suite_code, 500);
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (key, body) = (key.clone(), body.clone());
                tokio::spawn(async move {
                    http(
                        address,
                        Method::POST,
                        "/v1/parcels",
                        STAFF,
                        &key,
                        Some(&body),
                    )
                    .await
                })
            })
            .collect();
        for task in tasks {
            let reply = task.await.unwrap();
            if reply.status.as_u16() == 409 {
                in_progress = Some(reply);
            }
        }
        if in_progress.is_some() {
            break;
        }
    }
    let reply = in_progress.expect("a duplicate in progress within 50 rounds");
    reached(
        seen,
        "receive_parcel",
        &reply,
        409,
        "idempotency.in_progress",
    );

    // The store fails: an opaque 500.
    sqlx::query("DROP TABLE engine.idempotency_keys")
        .execute(&app.pool)
        .await
        .unwrap();
    let reply = app
        .post(
            &format!("/v1/members/{}/unset-auto-pack", member.id),
            &member.token,
            json!({}),
        )
        .await;
    reached(seen, "unset_auto_pack", &reply, 500, "internal");

    // Readiness without a database.
    let nowhere = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(300))
        .connect_lazy("postgres://postgres@127.0.0.1:1/nowhere")
        .unwrap();
    let router = api::router(api::AppState::new(
        Arc::clone(&app.engine),
        web::auth::TokenBook::default(),
        nowhere,
    ));
    let request = axum::http::Request::get("/readyz")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
    let reply = read(response).await;
    reached(seen, "readiness", &reply, 503, "service.unavailable");
}

//! Event versions and upcasters: a stored event of an older version is read as the current
//! shape, so old histories replay under new code (the contract rule: a changed shape is a new
//! version and an upcaster, never an edit; `contracts/README.md`).
//!
//! [`upcasters`] are cqrs-es `EventUpcaster`s for the repositories (the engine loads through
//! them); [`upcast`] applies the same ones to a bare payload, for readers that decode stored
//! events themselves (projections, the auditor's history). Pure JSON rewriting, no I/O.
//!
//! Versions above 1:
//! - `member.login_failed` 2: `consecutive_failures` renamed `in_a_row`, and the policy's
//!   `limit` recorded ([`LoginFailedV1`] reads version 1 with `limit: null`).
//! - `parcel.inspected` 2: `oversize` recorded, set when a large parcel's defects were charged
//!   at cost (INS-3); [`InspectedV1`] reads version 1 with `oversize: null` (no rule charged
//!   at cost before it).
//! - `account.top_up_approved` 2: `paypal_fee` recorded, set when the deposit was received
//!   through PayPal and credited less its fee (ACC-5); [`TopUpApprovedV1`] reads version 1
//!   with `paypal_fee: null` (every top-up came from a bank before it).
//! - `parcel.packing_requested` 2: `shipment_id` recorded, so a cancellation before packing
//!   releases the parcel (CON-5); [`PackingRequestedV1`] reads version 1 with
//!   `shipment_id: null` (released by the shipment that lists it).
//! - `parcel.proxy_payment_charged` 2: `collected` recorded, what the courier collected at the
//!   door, cash on delivery or carriage forward (PAR-2, each a policy choice);
//!   [`ProxyPaymentChargedV1`] reads version 1 with `collected: null` (either was proxy-paid
//!   then, unrecorded).

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use serde_json::Value;

/// The version the current code writes for `event_type`: "1" unless listed here.
pub fn current_version(event_type: &str) -> &'static str {
    match event_type {
        "member.login_failed" => "2",
        "parcel.inspected" => "2",
        "account.top_up_approved" => "2",
        "parcel.packing_requested" => "2",
        "parcel.proxy_payment_charged" => "2",
        _ => "1",
    }
}

/// Reads `member.login_failed` version 1 as version 2.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginFailedV1;

impl LoginFailedV1 {
    fn rewrite(payload: Value) -> Value {
        let mut payload = payload;
        if let Some(body) = payload
            .get_mut("login_failed")
            .and_then(Value::as_object_mut)
        {
            if let Some(count) = body.remove("consecutive_failures") {
                body.insert("in_a_row".to_owned(), count);
            }
            body.insert("limit".to_owned(), Value::Null);
        }
        payload
    }
}

impl EventUpcaster for LoginFailedV1 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == "member.login_failed" && event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        event.payload = Self::rewrite(event.payload);
        event.event_version = "2".to_owned();
        event
    }
}

/// Reads `parcel.inspected` version 1 as version 2.
#[derive(Debug, Clone, Copy, Default)]
pub struct InspectedV1;

impl InspectedV1 {
    fn rewrite(payload: Value) -> Value {
        with_null(payload, "inspected", "oversize")
    }
}

impl EventUpcaster for InspectedV1 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == "parcel.inspected" && event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        event.payload = Self::rewrite(event.payload);
        event.event_version = "2".to_owned();
        event
    }
}

/// Reads `account.top_up_approved` version 1 as version 2.
#[derive(Debug, Clone, Copy, Default)]
pub struct TopUpApprovedV1;

impl EventUpcaster for TopUpApprovedV1 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == "account.top_up_approved" && event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        event.payload = with_null(event.payload, "top_up_approved", "paypal_fee");
        event.event_version = "2".to_owned();
        event
    }
}

/// Reads `parcel.packing_requested` version 1 as version 2.
#[derive(Debug, Clone, Copy, Default)]
pub struct PackingRequestedV1;

impl EventUpcaster for PackingRequestedV1 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == "parcel.packing_requested" && event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        event.payload = with_null(event.payload, "packing_requested", "shipment_id");
        event.event_version = "2".to_owned();
        event
    }
}

/// Reads `parcel.proxy_payment_charged` version 1 as version 2.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProxyPaymentChargedV1;

impl EventUpcaster for ProxyPaymentChargedV1 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == "parcel.proxy_payment_charged" && event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        event.payload = with_null(event.payload, "proxy_payment_charged", "collected");
        event.event_version = "2".to_owned();
        event
    }
}

/// `payload` (`{tag: {...}}`) with `field` added as `null`: a new optional field that the
/// older version did not record.
fn with_null(mut payload: Value, tag: &str, field: &str) -> Value {
    if let Some(body) = payload.get_mut(tag).and_then(Value::as_object_mut) {
        body.insert(field.to_owned(), Value::Null);
    }
    payload
}

/// Every upcaster, for `PersistedEventStore::with_upcasters`.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![
        Box::new(LoginFailedV1),
        Box::new(InspectedV1),
        Box::new(TopUpApprovedV1),
        Box::new(PackingRequestedV1),
        Box::new(ProxyPaymentChargedV1),
    ]
}

/// `payload`, stored as `event_type` version `event_version`, in the newest version the
/// upcasters reach, with that version. A version no upcaster reads comes back unchanged.
pub fn upcast(event_type: &str, event_version: &str, payload: Value) -> (String, Value) {
    let mut event = SerializedEvent::new(
        String::new(),
        0,
        String::new(),
        event_type.to_owned(),
        event_version.to_owned(),
        payload,
        Value::Null,
    );
    for upcaster in upcasters() {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            event = upcaster.upcast(event);
        }
    }
    (event.event_version, event.payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountEvent;
    use crate::member::MemberEvent;
    use crate::parcel::ParcelEvent;
    use cqrs_es::DomainEvent;
    use serde_json::json;

    #[test]
    fn a_version_1_login_failure_reads_as_version_2() {
        let stored =
            json!({ "login_failed": { "at": "2026-12-03T08:15:02Z", "consecutive_failures": 3 } });
        let (version, payload) = upcast("member.login_failed", "1", stored);
        assert_eq!(version, "2");
        let event: MemberEvent = serde_json::from_value(payload).expect("the current shape");
        assert!(matches!(
            event,
            MemberEvent::LoginFailed {
                in_a_row: 3,
                limit: None,
                ..
            }
        ));
        assert_eq!(event.event_version(), "2");
    }

    // rule INS-3: an inspection stored before the oversize rule replays, charged per item.
    #[test]
    fn ins_3_a_version_1_inspection_reads_as_version_2() {
        let stored = json!({ "inspected": {
            "inspected_on": "2026-11-20",
            "level_planned": "basic",
            "level_applied": "basic",
            "large_item": null,
            "variations": [],
            "max_units_per_variation": 20,
            "findings": [],
            "defect_items": 0,
            "defect_fee": null,
            "detailed_inspection_fee": null,
            "policy": "cn-agency@2026.12"
        }});
        let (version, payload) = upcast("parcel.inspected", "1", stored);
        assert_eq!(version, "2");
        let event: ParcelEvent = serde_json::from_value(payload).expect("the current shape");
        assert!(matches!(
            &event,
            ParcelEvent::Inspected(record) if record.oversize.is_none()
        ));
        assert_eq!(event.event_version(), "2");
    }

    // rule ACC-5: a top-up approved before PayPal top-ups replays as a bank top-up.
    #[test]
    fn acc_5_a_version_1_top_up_approval_reads_as_version_2() {
        let stored = json!({ "top_up_approved": {
            "application_id": "app-1",
            "deposit": {
                "deposit_id": "dep-1",
                "deposited_on": "2026-03-02",
                "bank": "Yucho",
                "amount": { "amount": "30000", "currency": "JPY" },
                "payer_name": "YAMADA TARO"
            },
            "movement": {
                "amount": { "amount": "30000", "currency": "JPY" },
                "reason": "top_up",
                "cause": "dep-1"
            },
            "conversion": null,
            "filing_deadline": "2026-04-02",
            "approved_on": "2026-03-03",
            "policy": "jp-forwarding@2026.12"
        }});
        let (version, payload) = upcast("account.top_up_approved", "1", stored);
        assert_eq!(version, "2");
        let event: AccountEvent = serde_json::from_value(payload).expect("the current shape");
        assert!(matches!(
            &event,
            AccountEvent::TopUpApproved {
                paypal_fee: None,
                ..
            }
        ));
        assert_eq!(event.event_version(), "2");
    }

    // rule CON-5: a packing request stored before it recorded its shipment replays with none.
    #[test]
    fn con_5_a_version_1_packing_request_reads_as_version_2() {
        let stored = json!({ "packing_requested": { "member_id": "m-1", "auto_pack": false } });
        let (version, payload) = upcast("parcel.packing_requested", "1", stored);
        assert_eq!(version, "2");
        let event: ParcelEvent = serde_json::from_value(payload).expect("the current shape");
        assert!(matches!(
            &event,
            ParcelEvent::PackingRequested {
                shipment_id: None,
                auto_pack: false,
                ..
            }
        ));
        assert_eq!(event.event_version(), "2");
    }

    // rule PAR-2: a proxy-payment charge stored before it recorded what was collected replays
    // with none.
    #[test]
    fn par_2_a_version_1_proxy_payment_charge_reads_as_version_2() {
        let stored = json!({ "proxy_payment_charged": {
            "member_id": "m-1",
            "shop": "shop-approved-1",
            "courier_amount": { "amount": "3000", "currency": "JPY" },
            "surcharge_percent": "10",
            "surcharge": { "amount": "300", "currency": "JPY" },
            "charge": { "amount": "3300", "currency": "JPY" },
            "rule": "PAR-2",
            "policy": "jp-forwarding@2026.12"
        }});
        let (version, payload) = upcast("parcel.proxy_payment_charged", "1", stored);
        assert_eq!(version, "2");
        let event: ParcelEvent = serde_json::from_value(payload).expect("the current shape");
        assert!(matches!(
            &event,
            ParcelEvent::ProxyPaymentCharged {
                collected: None,
                ..
            }
        ));
        assert_eq!(event.event_version(), "2");
    }

    #[test]
    fn current_versions_pass_unchanged() {
        let stored =
            json!({ "login_failed": { "at": "2026-12-03T08:15:02Z", "in_a_row": 3, "limit": 5 } });
        assert_eq!(
            upcast("member.login_failed", "2", stored.clone()),
            ("2".to_owned(), stored)
        );
    }
}

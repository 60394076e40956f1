//! Which event fields hold a member's personal data, and how a reader that may not see them
//! reads an event anyway (issue #10, crypto-shredding).
//!
//! The writer seals each field listed in [`FIELDS`] with a key of the member it is about
//! (`crates/personal-data`); the store, its hash chain, the signatures and every published
//! copy hold only the sealed text, a string starting with [`SEALED_PREFIX`]. Erasing a member
//! deletes their key, so every copy becomes unreadable at once while every event stays.
//!
//! A sealed value does not have the field's type (a birth date sealed is not a date), so a
//! reader that decodes events into this crate's enums first calls [`redact`], which puts a
//! [`StandIn`] of the right type in each sealed field: the projections read events that way
//! (no view needs personal data, so none holds any), and so does the engine for a member
//! whose key is erased. Pure JSON rewriting, no I/O.

use serde_json::Value;

/// The start of every sealed value: `pp:sealed:v1:<key id>:<nonce and ciphertext, base64>`.
pub const SEALED_PREFIX: &str = "pp:sealed:v1:";

/// A field of an event type that holds personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalField {
    /// The event type, e.g. `member.registered`.
    pub event_type: &'static str,
    /// Where the value is in the stored payload (a JSON pointer; payloads are tagged by the
    /// event's name, so it starts with it).
    pub pointer: &'static str,
    /// What a reader that cannot or may not open the value reads instead.
    pub stand_in: StandIn,
}

/// A value of the field's type that says nothing about the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandIn {
    /// A name or other free text.
    Text,
    /// An email address.
    Email,
    /// A calendar date.
    Date,
}

impl StandIn {
    /// The stand-in as JSON.
    pub fn value(self) -> Value {
        Value::String(
            match self {
                StandIn::Text => "[personal data]",
                StandIn::Email => "personal-data@redacted.invalid",
                StandIn::Date => "0001-01-01",
            }
            .to_owned(),
        )
    }
}

/// Every personal field of every event type: the member's name, birth date and e-mail, their
/// guardian's name and relationship (MEM-3), and the payer names of bank deposits (ACC-2).
/// Identity documents (MEM-2) are recorded as the parts checked, never their contents.
pub const FIELDS: &[PersonalField] = &[
    field("member.registered", "/registered/name", StandIn::Text),
    field("member.registered", "/registered/birth_date", StandIn::Date),
    field("member.registered", "/registered/email", StandIn::Email),
    field(
        "member.registered",
        "/registered/guardian_consent/guardian_name",
        StandIn::Text,
    ),
    field(
        "member.registered",
        "/registered/guardian_consent/relationship",
        StandIn::Text,
    ),
    field(
        "account.top_up_approved",
        "/top_up_approved/deposit/payer_name",
        StandIn::Text,
    ),
    field(
        "account.top_up_rejected",
        "/top_up_rejected/declared/payer_name",
        StandIn::Text,
    ),
    field(
        "account.top_up_rejected",
        "/top_up_rejected/deposit/payer_name",
        StandIn::Text,
    ),
];

const fn field(
    event_type: &'static str,
    pointer: &'static str,
    stand_in: StandIn,
) -> PersonalField {
    PersonalField {
        event_type,
        pointer,
        stand_in,
    }
}

/// The personal fields of `event_type` (none for most types).
pub fn fields_of(event_type: &str) -> impl Iterator<Item = &'static PersonalField> + '_ {
    FIELDS.iter().filter(move |f| f.event_type == event_type)
}

/// True when `event_type` can hold personal data.
pub fn holds_personal_data(event_type: &str) -> bool {
    fields_of(event_type).next().is_some()
}

/// The member an event's personal data is about: the aggregate itself for a member, the
/// account's member for a charge account (named `acct-<member>`, `engine::ids::account_of`).
pub fn subject<'a>(aggregate_type: &str, aggregate_id: &'a str) -> Option<&'a str> {
    match aggregate_type {
        "member" => Some(aggregate_id),
        "account" => aggregate_id.strip_prefix("acct-"),
        _ => None,
    }
}

/// What a person reading an event is shown in a sealed field whose member's key is kept.
pub const SHOWN_SEALED: &str = "[personal data, sealed]";

/// What a person reading an event is shown in a sealed field once the member's data is
/// erased: the key is gone, the value can never be read again.
pub const SHOWN_ERASED: &str = "[personal data, erased]";

/// Puts words for people in every sealed personal field of `payload`: [`SHOWN_ERASED`] when
/// the member's data is `erased`, [`SHOWN_SEALED`] otherwise; returns how many it replaced.
/// For events shown (an audit page, a history), not for events decoded (see [`redact`]).
pub fn show(event_type: &str, payload: &mut Value, erased: bool) -> usize {
    let shown = if erased { SHOWN_ERASED } else { SHOWN_SEALED };
    replace_sealed(event_type, payload, |_| Value::String(shown.to_owned()))
}

/// True when `value` is a sealed value.
pub fn is_sealed(value: &Value) -> bool {
    value.as_str().is_some_and(|s| s.starts_with(SEALED_PREFIX))
}

/// Puts the stand-in in every sealed personal field of `payload`; returns how many it
/// replaced. Plain values (events written before sealing, or opened by the caller) are left.
pub fn redact(event_type: &str, payload: &mut Value) -> usize {
    replace_sealed(event_type, payload, |field| field.stand_in.value())
}

/// Puts `with(field)` in every sealed personal field of `payload`; how many it replaced.
fn replace_sealed(
    event_type: &str,
    payload: &mut Value,
    with: impl Fn(&PersonalField) -> Value,
) -> usize {
    let mut replaced = 0;
    for field in fields_of(event_type) {
        if let Some(value) = payload.pointer_mut(field.pointer) {
            if is_sealed(value) {
                *value = with(field);
                replaced += 1;
            }
        }
    }
    replaced
}

/// Puts the stand-in in every personal field, sealed or not, of every event found anywhere in
/// `document` (an answer that embeds events, as `{"registered": {...}}`): for copies of events
/// kept outside the store, which must hold no personal data at all.
pub fn scrub(document: &mut Value) {
    match document {
        Value::Object(map) => {
            for field in FIELDS {
                let tag = field.pointer.split('/').nth(1).unwrap_or_default();
                if !map.contains_key(tag) {
                    continue;
                }
                let mut node = Value::Object(std::mem::take(map));
                if let Some(value) = node.pointer_mut(field.pointer) {
                    if !value.is_null() {
                        *value = field.stand_in.value();
                    }
                }
                if let Value::Object(back) = node {
                    *map = back;
                }
            }
            map.values_mut().for_each(scrub);
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::member::MemberEvent;
    use serde_json::json;

    #[test]
    fn every_field_names_an_event_type_that_exists() {
        let types: Vec<&str> = crate::member::MemberEvent::TYPES
            .iter()
            .chain(crate::account::AccountEvent::TYPES)
            .copied()
            .collect();
        for field in FIELDS {
            assert!(types.contains(&field.event_type), "{field:?}");
            let tag = field.event_type.split_once('.').map(|(_, name)| name);
            assert_eq!(
                field.pointer.split('/').nth(1),
                tag,
                "{field:?} must start at the event's tag"
            );
        }
    }

    #[test]
    fn shown_fields_say_sealed_or_erased_and_plain_ones_are_left() {
        let sealed = || Value::String(format!("{SEALED_PREFIX}k:AAAA"));
        let mut payload = json!({"registered": {"name": sealed(), "email": "plain@example.jp"}});
        assert_eq!(show("member.registered", &mut payload, false), 1);
        assert_eq!(payload["registered"]["name"], SHOWN_SEALED);
        assert_eq!(payload["registered"]["email"], "plain@example.jp");
        let mut payload = json!({"top_up_approved": {"deposit": {"payer_name": sealed()}}});
        assert_eq!(show("account.top_up_approved", &mut payload, true), 1);
        assert_eq!(
            payload["top_up_approved"]["deposit"]["payer_name"],
            SHOWN_ERASED
        );
        assert_eq!(subject("account", "acct-m-1"), Some("m-1"));
        assert_eq!(subject("parcel", "p-1"), None);
    }

    #[test]
    fn a_redacted_registration_decodes_with_its_stand_ins() {
        let mut payload = json!({"registered": {
            "member_id": "m-1", "suite_code": "TYO-000001",
            "name": format!("{SEALED_PREFIX}k:AAAA"),
            "birth_date": format!("{SEALED_PREFIX}k:BBBB"),
            "email": format!("{SEALED_PREFIX}k:CCCC"),
            "age_on_registration": 30, "minor": false, "guardian_consent": null,
            "forwarding_only_accepted": true,
            "registered_at": "2026-04-01T00:00:00Z", "registered_on": "2026-04-01",
            "policy": "jp-forwarding@2026.12"
        }});
        assert_eq!(redact("member.registered", &mut payload), 3);
        let event: MemberEvent = serde_json::from_value(payload).expect("decodes");
        let MemberEvent::Registered {
            name,
            email,
            birth_date,
            ..
        } = event
        else {
            panic!("not a registration")
        };
        assert_eq!(name.as_str(), "[personal data]");
        assert_eq!(email.as_str(), "personal-data@redacted.invalid");
        assert_eq!(birth_date.to_string(), "0001-01-01");
    }

    #[test]
    fn scrubbing_an_answer_leaves_no_personal_data_in_the_events_it_embeds() {
        let mut answer = json!({"result": {"member": {"events": [
            {"registered": {"name": "Hanako Yamada", "email": "h@example.jp",
                            "birth_date": "1990-05-05", "guardian_consent": null}}
        ]}, "account": {"events": [{"opened": {"account_id": "acct-m-1"}}]}}});
        scrub(&mut answer);
        let text = answer.to_string();
        assert!(
            !text.contains("Hanako") && !text.contains("1990-05-05") && !text.contains("h@example")
        );
        assert_eq!(
            answer["result"]["account"]["events"][0]["opened"]["account_id"],
            "acct-m-1"
        );
        assert_eq!(
            answer["result"]["member"]["events"][0]["registered"]["guardian_consent"],
            Value::Null
        );
    }

    #[test]
    fn plain_values_are_left_as_they_are() {
        let mut payload = json!({"registered": {"name": "Hanako Yamada"}});
        assert_eq!(redact("member.registered", &mut payload), 0);
        assert_eq!(payload["registered"]["name"], "Hanako Yamada");
    }
}

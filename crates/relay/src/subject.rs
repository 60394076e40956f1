//! The subject scheme: `parcelport.<aggregate_type>.<aggregate_id>.<event_name>`, and the
//! escaping that keeps every token one NATS token whatever the stored strings hold.
//!
//! Why escape rather than refuse: ids are `[A-Za-z0-9._-]` (the domain's `parse_id`), so a dot in
//! an id is valid and common (`p.2026.0001`), and a dot splits a NATS token. A relay that
//! refused such an event could never move past it: every later event would wait behind it. So
//! each token is percent-encoded over the bytes NATS subjects treat specially: everything
//! outside `[A-Za-z0-9_-]` becomes `%XX` (upper-case hex of each UTF-8 byte), so `.` is `%2E`
//! and `%` itself is `%25`. The mapping is injective (decode with any URL decoder), leaves the
//! ids people actually use unchanged, and never yields `.`, `*`, `>` or whitespace. The empty
//! string (which no parsed id is) becomes `%`, which no other string encodes to.
//! Subscribers match on the subject; the raw id is in the CloudEvent's `subject` attribute.

use std::fmt::Write;

/// The first token of every subject, and of the stream's subject filter `parcelport.>`.
pub const SUBJECT_PREFIX: &str = "parcelport";

/// The subject an event is published on:
/// `parcelport.<aggregate_type>.<aggregate_id>.<event_name>`, each token escaped.
///
/// `event_name` is the event type after its first dot (`parcel.arrived` gives `arrived`), or
/// the whole type when it has none.
pub fn subject_for(aggregate_type: &str, aggregate_id: &str, event_type: &str) -> String {
    let event_name = event_type
        .split_once('.')
        .map_or(event_type, |(_, name)| name);
    let mut subject = String::with_capacity(
        SUBJECT_PREFIX.len() + aggregate_type.len() + aggregate_id.len() + event_name.len() + 3,
    );
    subject.push_str(SUBJECT_PREFIX);
    for token in [aggregate_type, aggregate_id, event_name] {
        subject.push('.');
        push_token(&mut subject, token);
    }
    subject
}

/// One subject token for `raw`: see the module documentation.
pub fn token(raw: &str) -> String {
    let mut token = String::with_capacity(raw.len());
    push_token(&mut token, raw);
    token
}

fn push_token(out: &mut String, raw: &str) {
    if raw.is_empty() {
        out.push('%');
        return;
    }
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_are_unchanged() {
        assert_eq!(
            subject_for("parcel", "p-0001_A", "parcel.arrived"),
            "parcelport.parcel.p-0001_A.arrived"
        );
    }

    #[test]
    fn dots_in_ids_are_escaped_so_the_subject_keeps_four_tokens_after_the_prefix() {
        let subject = subject_for("parcel", "p.2026.0001", "parcel.arrived");
        assert_eq!(subject, "parcelport.parcel.p%2E2026%2E0001.arrived");
        assert_eq!(subject.split('.').count(), 4);
    }

    #[test]
    fn the_escape_character_and_wildcards_are_escaped_too() {
        assert_eq!(token("a%2Eb"), "a%252Eb");
        assert_ne!(token("a%2Eb"), token("a.b"));
        assert_eq!(token("*"), "%2A");
        assert_eq!(token(">"), "%3E");
        assert_eq!(token("a b"), "a%20b");
        assert_eq!(token("é"), "%C3%A9");
        assert_eq!(token(""), "%");
    }

    #[test]
    fn the_event_name_is_the_type_after_its_first_dot() {
        assert_eq!(
            subject_for("shipment", "s-1", "shipment.claim_filed"),
            "parcelport.shipment.s-1.claim_filed"
        );
        assert_eq!(
            subject_for("Counter", "c", "Added"),
            "parcelport.Counter.c.Added"
        );
        assert_eq!(
            subject_for("parcel", "p", "parcel.odd.name"),
            "parcelport.parcel.p.odd%2Ename"
        );
    }

    #[test]
    fn tokens_never_contain_separators_wildcards_or_whitespace() {
        let every_byte: String = (1u8..=127).map(char::from).collect();
        let escaped = token(&every_byte);
        assert!(!escaped
            .chars()
            .any(|c| c == '.' || c == '*' || c == '>' || c.is_whitespace()));
    }
}

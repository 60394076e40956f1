//! The published contract holds: the committed files are what the generator makes, every event
//! type has a schema, every snapshot example of `domain/tests/snapshots/` validates against its
//! type's schema, and malformed payloads and envelopes are rejected.

use contracts::{EventContract, REGENERATE};
use cqrs_es::DomainEvent;
use domain::account::AccountEvent;
use domain::member::MemberEvent;
use domain::parcel::ParcelEvent;
use domain::shipment::ShipmentEvent;
use jsonschema::Validator;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Snapshots that are not one event but values inside one: (file, event type, definition).
const VALUE_SNAPSHOTS: &[(&str, &str, &str)] = &[
    (
        "parcel_event_snapshots__parcel__disposal_causes.snap",
        "parcel.disposed",
        "DisposedBecause",
    ),
    (
        "parcel_event_snapshots__parcel__disposal_cause_return_abandoned.snap",
        "parcel.disposed",
        "DisposedBecause",
    ),
    (
        "parcel_event_snapshots__parcel__claim_settlements.snap",
        "parcel.claim_settled",
        "ClaimSettlement",
    ),
];

fn contract(event_type: &str) -> EventContract {
    contracts::event_contracts()
        .into_iter()
        .find(|c| c.event_type == event_type)
        .unwrap_or_else(|| panic!("no contract for {event_type}"))
}

/// A validator that checks `format` too (dates, date-times), as a strict subscriber would.
fn validator(schema: &Value) -> Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}\n{schema:#}"))
}

/// Every error `schema` reports for `instance`, empty when it is valid.
fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    validator(schema)
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn snapshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../domain/tests/snapshots")
}

/// Every insta snapshot of the domain: file name and the JSON body after the header.
fn snapshots() -> Vec<(String, Value)> {
    let mut found: Vec<(String, Value)> = std::fs::read_dir(snapshots_dir())
        .expect("domain/tests/snapshots is readable")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "snap"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            // The header is `---`, `key: value` lines, `---`; the JSON follows.
            let body = text
                .splitn(3, "---\n")
                .nth(2)
                .unwrap_or_else(|| panic!("{name}: no insta header"));
            let json = serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("{name}: the body is not JSON: {e}"));
            (name, json)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(found.len() >= 72, "found only {} snapshots", found.len());
    found
}

/// The event type and version the domain itself gives a stored payload: `None` if the
/// aggregate's enum does not parse it.
fn domain_type_and_version(aggregate: &str, payload: &Value) -> Option<(String, String)> {
    fn of<E: DomainEvent>(payload: &Value) -> Option<(String, String)> {
        let event: E = serde_json::from_value(payload.clone()).ok()?;
        Some((event.event_type(), event.event_version()))
    }
    match aggregate {
        "member" => of::<MemberEvent>(payload),
        "account" => of::<AccountEvent>(payload),
        "parcel" => of::<ParcelEvent>(payload),
        "shipment" => of::<ShipmentEvent>(payload),
        other => panic!("unknown aggregate {other}"),
    }
}

/// A snapshot example of `event_type`.
fn example(event_type: &str) -> Value {
    let (aggregate, tag) = event_type.split_once('.').unwrap();
    snapshots()
        .into_iter()
        .find(|(name, body)| {
            name.starts_with(&format!("{aggregate}_event_snapshots__")) && body.get(tag).is_some()
        })
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("no snapshot of {event_type}"))
}

#[test]
fn committed_contracts_are_what_the_generator_writes() {
    let dir = contracts::contracts_dir();
    if std::env::var_os("UPDATE_CONTRACTS").is_some() {
        contracts::write(&dir).expect("contracts/ is writable");
    }
    let expected = contracts::render();
    let mut committed = BTreeMap::new();
    for sub in ["", "events/"] {
        for entry in std::fs::read_dir(dir.join(sub)).expect("contracts/ exists") {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let name = format!("{sub}{}", path.file_name().unwrap().to_string_lossy());
                committed.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let names: BTreeSet<&String> = expected.keys().chain(committed.keys()).collect();
    let stale: Vec<&str> = names
        .into_iter()
        .filter(|name| expected.get(*name) != committed.get(*name))
        .map(|name| name.as_str())
        .collect();
    assert!(
        stale.is_empty(),
        "contracts/ is out of date for {stale:?}.\n\
         If the change is intended (a new event type or version, never a changed shape: see \
         contracts/README.md), regenerate with `{REGENERATE}` (or UPDATE_CONTRACTS=1 cargo test \
         -p contracts) and commit the files."
    );
}

#[test]
fn every_event_type_has_a_schema_and_an_index_entry() {
    let types: BTreeSet<&str> = [
        MemberEvent::TYPES,
        AccountEvent::TYPES,
        ParcelEvent::TYPES,
        ShipmentEvent::TYPES,
    ]
    .concat()
    .into_iter()
    .collect();
    let contracts = contracts::event_contracts();
    let with_schema: BTreeSet<&str> = contracts.iter().map(|c| c.event_type).collect();
    assert_eq!(with_schema, types);
    assert_eq!(contracts.len(), types.len(), "one schema per type");

    let files = contracts::render();
    let index: Value = serde_json::from_str(&files["events/index.json"]).unwrap();
    let listed: BTreeSet<&str> = index["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let file = format!("events/{}", entry["file"].as_str().unwrap());
            assert!(files.contains_key(&file), "index lists a missing {file}");
            entry["type"].as_str().unwrap()
        })
        .collect();
    assert_eq!(listed, types);
}

#[test]
fn every_schema_is_a_valid_draft_2020_12_schema() {
    let files = contracts::render();
    for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".schema.json")) {
        let schema: Value = serde_json::from_str(text).unwrap();
        assert_eq!(schema["$schema"], contracts::DIALECT, "{name}");
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!("{name} is not a valid JSON Schema: {e}");
        }
        let unknown: Vec<String> = formats(&schema)
            .into_iter()
            .filter(|f| !["date", "date-time", "uri-reference"].contains(&f.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "{name}: strict validators refuse formats JSON Schema does not define: {unknown:?}"
        );
    }
}

/// Every `format` keyword value in `schema`.
fn formats(schema: &Value) -> Vec<String> {
    match schema {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, v)| match (key.as_str(), v) {
                ("format", Value::String(f)) => vec![f.clone()],
                _ => formats(v),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(formats).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_snapshot_example_validates_against_its_event_schema() {
    let mut covered = BTreeSet::new();
    for (name, body) in snapshots() {
        if let Some((_, event_type, def)) = VALUE_SNAPSHOTS.iter().find(|(n, ..)| *n == name) {
            let schema = contract(event_type).schema;
            let of_def = json!({ "$defs": schema["$defs"], "$ref": format!("#/$defs/{def}") });
            for value in body.as_array().expect("a list of values") {
                let found = errors(&of_def, value);
                assert!(
                    found.is_empty(),
                    "{name}: {value} is not a {def}: {found:?}"
                );
            }
            continue;
        }
        let aggregate = name
            .split_once("_event_snapshots__")
            .map(|(aggregate, _)| aggregate)
            .unwrap_or_else(|| panic!("{name}: not an event snapshot"));
        let tags: Vec<&String> = body
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert!(
            tags.len() == 1,
            "{name}: an event is an object with one key; list other snapshots in VALUE_SNAPSHOTS"
        );
        let event_type = format!("{aggregate}.{}", tags[0]);
        let contract = contract(&event_type);
        let found = errors(&contract.schema, &body);
        assert!(found.is_empty(), "{name} fails {event_type}: {found:?}");
        assert_eq!(
            domain_type_and_version(aggregate, &body),
            Some((event_type.clone(), contract.version.to_owned())),
            "{name}: the domain reads it as another type or version than the index says"
        );
        covered.insert(event_type);
    }
    let all: BTreeSet<String> = contracts::event_contracts()
        .iter()
        .map(|c| c.event_type.to_owned())
        .collect();
    assert_eq!(covered, all, "every schema is checked against an example");
}

/// Each case: an event type, a change to its snapshot example, and why it must fail.
type Mutation = (&'static str, fn(&mut Value), &'static str);

#[test]
fn malformed_payloads_are_rejected() {
    let cases: &[Mutation] = &[
        (
            "parcel.proxy_payment_charged",
            |p| p["proxy_payment_charged"]["courier_amount"]["amount"] = json!(1200.5),
            "an amount as a float number",
        ),
        (
            "parcel.proxy_payment_charged",
            |p| p["proxy_payment_charged"]["surcharge_percent"] = json!("1e2"),
            "a decimal in exponent notation",
        ),
        (
            "account.debited",
            |p| p["debited"]["movement"]["amount"]["currency"] = json!("USD"),
            "a currency parcelport does not bill in",
        ),
        (
            "parcel.arrived",
            |p| *p = json!({ "teleported": p["arrived"].clone() }),
            "an unknown variant",
        ),
        (
            "parcel.arrived",
            |p| *p = json!({ "arrived": p["arrived"].clone(), "stored": {} }),
            "two variants in one payload",
        ),
        (
            "parcel.arrived",
            |p| {
                p["arrived"].as_object_mut().unwrap().remove("parcel_id");
            },
            "a missing field",
        ),
        (
            "parcel.arrived",
            |p| p["arrived"]["shop"] = Value::Null,
            "(control: a null option is valid)",
        ),
        (
            "parcel.arrived",
            |p| p["arrived"]["parcel_id"] = json!("p/1"),
            "an id with a slash",
        ),
        (
            "parcel.arrived",
            |p| p["arrived"]["suite_code"] = json!("tyo-004217"),
            "a suite code not in its stored upper case",
        ),
        (
            "parcel.arrived",
            |p| p["arrived"]["weight"] = json!(0),
            "a zero weight",
        ),
        (
            "parcel.arrived",
            |p| p["arrived"]["dimensions"]["height_mm"] = json!(10_001),
            "a side over 10 m",
        ),
        (
            "parcel.arrived",
            |p| p["arrived"]["received_on"] = json!("2026-13-01"),
            "a date that does not exist",
        ),
        (
            "parcel.arrived",
            |p| p["arrived"]["policy"] = json!("jp-forwarding"),
            "a policy version without @",
        ),
        (
            "member.registered",
            |p| p["registered"]["email"] = json!("not an email"),
            "an email address with spaces",
        ),
        (
            "shipment.claimed",
            |p| p["claimed"]["filed_at"] = json!("2026-11-11 01:00"),
            "a date-time that is not RFC 3339",
        ),
    ];
    for (event_type, mutate, why) in cases {
        let schema = contract(event_type).schema;
        let mut payload = example(event_type);
        assert!(errors(&schema, &payload).is_empty(), "{event_type} example");
        mutate(&mut payload);
        let rejected = !errors(&schema, &payload).is_empty();
        let control = why.starts_with("(control");
        assert_eq!(rejected, !control, "{event_type} with {why}: {payload}");
    }
}

#[test]
fn a_payload_of_another_type_is_rejected() {
    let arrived = contract("parcel.arrived").schema;
    let registered = example("member.registered");
    assert!(!errors(&arrived, &registered).is_empty());
}

fn envelope() -> Value {
    json!({
        "specversion": "1.0",
        "id": "0192f1e4-4c1a-7b3e-9f00-8d6c2a1b3c4d",
        "source": "/parcelport/jp-forwarding",
        "type": "parcelport.parcel.arrived",
        "subject": "p-0001",
        "time": "2026-11-24T01:02:03Z",
        "datacontenttype": "application/json",
        "data": example("parcel.arrived"),
        "sequence": "3",
        "position": "4294967296",
        "txid": "7000000001",
        "policyversion": "jp-forwarding@2026.11",
        "correlationid": "request-42",
        "causationid": "event-17",
        "actor": "operator:7",
        "command": "ReceiveParcel",
        "eventversion": "1"
    })
}

#[test]
fn the_envelope_schema_accepts_a_published_event_and_rejects_malformed_ones() {
    let schema = contracts::cloudevent_schema();
    let valid = envelope();
    assert_eq!(errors(&schema, &valid), Vec::<String>::new());

    let mut minimal = valid.clone();
    for optional in [
        "policyversion",
        "correlationid",
        "causationid",
        "actor",
        "command",
    ] {
        minimal.as_object_mut().unwrap().remove(optional);
    }
    assert_eq!(errors(&schema, &minimal), Vec::<String>::new());

    let broken: &[(&str, Value)] = &[
        ("specversion", json!("0.3")),
        ("datacontenttype", json!("text/plain")),
        ("sequence", json!(3)),
        ("sequence", json!("0")),
        ("txid", json!("1.5")),
        ("position", json!("-4")),
        ("type", json!("parcel.arrived")),
        ("eventversion", json!(1)),
        ("policyversion", json!("jp-forwarding")),
        ("time", json!("yesterday")),
        ("type", json!("ParcelArrived")),
        ("data", json!({})),
        ("actor", json!("")),
        ("command", json!(7)),
        ("Sequence", json!("3")),
    ];
    for (attribute, value) in broken {
        let mut event = valid.clone();
        event[*attribute] = value.clone();
        assert!(
            !errors(&schema, &event).is_empty(),
            "{attribute} = {value} was accepted"
        );
    }
    for required in [
        "id",
        "source",
        "subject",
        "data",
        "eventversion",
        "position",
    ] {
        let mut event = valid.clone();
        event.as_object_mut().unwrap().remove(required);
        assert!(!errors(&schema, &event).is_empty(), "missing {required}");
    }
}

/// A subscriber reads personal fields sealed (issue #10): the schema of each accepts the sealed
/// text in place of the value, and a typed field nothing else in its place.
#[test]
fn personal_fields_validate_sealed_and_nothing_else_does() {
    let sealed = format!("{}k-1a2b:AAAAbbbbCCCC+/==", domain::personal::SEALED_PREFIX);
    for (name, body) in snapshots() {
        let Some((event_type, _)) =
            domain_type_and_version(name.split("__").nth(1).unwrap_or_default(), &body)
        else {
            continue;
        };
        let fields: Vec<_> = domain::personal::fields_of(&event_type).collect();
        if fields.is_empty() {
            continue;
        }
        let schema = contract(&event_type).schema;
        for field in fields {
            let mut payload = body.clone();
            let Some(value) = payload.pointer_mut(field.pointer) else {
                continue;
            };
            *value = Value::String(sealed.clone());
            assert_eq!(
                errors(&schema, &payload),
                Vec::<String>::new(),
                "{name}: {}",
                field.pointer
            );
            // Free text accepts any string; a date or an address only itself or a sealed value.
            if field.stand_in != domain::personal::StandIn::Text {
                *payload.pointer_mut(field.pointer).unwrap() = json!("pp:sealed:v1:no");
                let junk = errors(&schema, &payload);
                assert!(!junk.is_empty(), "{name}: {} accepts junk", field.pointer);
            }
        }
    }
}

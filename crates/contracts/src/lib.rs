//! # parcelport contracts
//!
//! The wire contract a subscriber in any language validates against, generated from the
//! domain's event types and committed under `contracts/` at the repository root:
//! - `events/<event_type>.schema.json`: the payload of one event type as stored and published
//!   (the externally tagged object, `{"arrived": {...}}`), JSON Schema draft 2020-12;
//! - `events/index.json`: every event type with its version and schema file;
//! - `cloudevent.schema.json`: the CloudEvents 1.0 envelope the relay publishes.
//!
//! [`render`] builds every file in memory, [`write`] writes them (the `generate-contracts`
//! binary), and the crate's tests fail when the committed files differ from [`render`].
//!
//! *Architecture Invariant*: an event schema is derived from the very types that serialize the
//! event (schemars' serialize contract, which honours the serde attributes), never written by
//! hand, so it cannot drift from the JSON the store holds. Only the envelope, which no Rust type
//! models yet, is written out here.

use domain::account::AccountEvent;
use domain::member::MemberEvent;
use domain::parcel::ParcelEvent;
use domain::shipment::ShipmentEvent;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The JSON Schema dialect of every file.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The version of `event_type` the code writes, `DomainEvent::event_version()`: "1" unless the
/// domain lists a newer one (`domain::upcast::current_version`). A changed shape gets a new
/// version and an upcaster, never an edit (see `contracts/README.md`).
pub fn event_version(event_type: &str) -> &'static str {
    domain::upcast::current_version(event_type)
}

/// Schemas of superseded versions, frozen as published: `(type, version, file inside events/,
/// content)`. The generator cannot derive an old shape from the code, so it writes these back
/// unchanged, and the index lists them beside the current version.
pub const FROZEN: &[(&str, &str, &str, &str)] = &[
    (
        "member.login_failed",
        "1",
        "member.login_failed.v1.schema.json",
        include_str!("../../../contracts/events/member.login_failed.v1.schema.json"),
    ),
    (
        "parcel.inspected",
        "1",
        "parcel.inspected.v1.schema.json",
        include_str!("../../../contracts/events/parcel.inspected.v1.schema.json"),
    ),
    (
        "account.top_up_approved",
        "1",
        "account.top_up_approved.v1.schema.json",
        include_str!("../../../contracts/events/account.top_up_approved.v1.schema.json"),
    ),
    (
        "parcel.packing_requested",
        "1",
        "parcel.packing_requested.v1.schema.json",
        include_str!("../../../contracts/events/parcel.packing_requested.v1.schema.json"),
    ),
    (
        "parcel.proxy_payment_charged",
        "1",
        "parcel.proxy_payment_charged.v1.schema.json",
        include_str!("../../../contracts/events/parcel.proxy_payment_charged.v1.schema.json"),
    ),
];

/// The command that regenerates the files.
pub const REGENERATE: &str = "cargo run -p contracts --bin generate-contracts";

/// The contract of one event type.
#[derive(Debug, Clone, PartialEq)]
pub struct EventContract {
    /// The CloudEvents `type`, `DomainEvent::event_type()`: `parcel.arrived`.
    pub event_type: &'static str,
    /// The CloudEvents `eventversion`, `DomainEvent::event_version()`.
    pub version: &'static str,
    /// The JSON Schema of the payload.
    pub schema: Value,
}

impl EventContract {
    /// The schema's file name, inside `events/`.
    pub fn file_name(&self) -> String {
        format!("{}.schema.json", self.event_type)
    }
}

/// Every event type of the four aggregates, in the order of their `TYPES` lists.
///
/// Panics if a `TYPES` entry names no variant of its enum: the lists and the enums are kept
/// together in the domain, and this crate's tests catch a slip.
pub fn event_contracts() -> Vec<EventContract> {
    let mut contracts = of_enum::<MemberEvent>(MemberEvent::TYPES);
    contracts.extend(of_enum::<AccountEvent>(AccountEvent::TYPES));
    contracts.extend(of_enum::<ParcelEvent>(ParcelEvent::TYPES));
    contracts.extend(of_enum::<ShipmentEvent>(ShipmentEvent::TYPES));
    contracts
}

/// One contract per type of `types`, cut out of the schema of the event enum `E`.
fn of_enum<E: JsonSchema>(types: &[&'static str]) -> Vec<EventContract> {
    // The serialize contract describes what the store holds: every field present (an absent
    // option is `null`) and decimals as strings only.
    let root = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<E>()
        .to_value();
    let no_defs = Map::new();
    let defs = root["$defs"].as_object().unwrap_or(&no_defs);
    let variants = root["oneOf"].as_array().cloned().unwrap_or_default();
    types
        .iter()
        .map(|&event_type| {
            let (_, tag) = event_type
                .split_once('.')
                .unwrap_or_else(|| panic!("event type {event_type:?} is not aggregate.name"));
            let variant = variants
                .iter()
                .find(|v| v["required"] == json!([tag]))
                .unwrap_or_else(|| panic!("{event_type}: the enum has no variant {tag:?}"));
            EventContract {
                event_type,
                version: event_version(event_type),
                schema: event_schema(event_type, variant, defs),
            }
        })
        .collect()
}

/// A self-contained schema for one variant: its object, with the definitions it reaches.
fn event_schema(event_type: &str, variant: &Value, defs: &Map<String, Value>) -> Value {
    let version = event_version(event_type);
    let mut schema = Map::new();
    schema.insert("$schema".into(), DIALECT.into());
    schema.insert("title".into(), event_type.into());
    schema.insert(
        "$comment".into(),
        format!(
            "parcelport event {event_type}, version {version}: the payload as stored and \
             published as CloudEvents data. Generated by `{REGENERATE}`; never edit in place."
        )
        .into(),
    );
    if let Some(fields) = variant.as_object() {
        schema.extend(fields.clone());
    }
    let reached: Map<String, Value> = reached_defs(variant, defs)
        .into_iter()
        .map(|name| (name.clone(), defs[&name].clone()))
        .collect();
    if !reached.is_empty() {
        schema.insert("$defs".into(), Value::Object(reached));
    }
    let mut schema = Value::Object(schema);
    allow_sealed_personal_data(event_type, &mut schema);
    standard_formats(&mut schema);
    sorted(schema)
}

/// The definition of a sealed value, added to every schema with a personal field.
const SEALED: &str = "SealedPersonalData";

/// Lets each personal field of `event_type` (`domain::personal::FIELDS`) be either its value or
/// the sealed text the writer stores and publishes in its place (issue #10).
fn allow_sealed_personal_data(event_type: &str, schema: &mut Value) {
    let mut any = false;
    for field in domain::personal::fields_of(event_type) {
        let mut at = String::new();
        for segment in field.pointer.trim_start_matches('/').split('/') {
            at = format!("{}/properties/{segment}", object_schema(schema, &at));
        }
        let property = schema
            .pointer_mut(&at)
            .unwrap_or_else(|| panic!("{event_type}: no schema at {at} for {}", field.pointer));
        let plain = property.take();
        *property = json!({ "anyOf": [plain, { "$ref": format!("#/$defs/{SEALED}") }] });
        any = true;
    }
    if any {
        schema["$defs"][SEALED] = json!({
            "description": "A member's personal data sealed with the member's key \
                (AES-256-GCM): `pp:sealed:v1:<key id>:<nonce and ciphertext, base64>`. \
                Unreadable once the member's data is erased. See contracts/README.md.",
            "type": "string",
            "pattern": format!("^{}[A-Za-z0-9_-]+:[A-Za-z0-9+/]+=*$", domain::personal::SEALED_PREFIX),
        });
    }
}

/// The pointer of the object schema at `at`, through a `$ref` or an optional's `anyOf`.
fn object_schema(schema: &Value, at: &str) -> String {
    let node = schema.pointer(at).unwrap_or(&Value::Null);
    if let Some(target) = node["$ref"].as_str() {
        return object_schema(schema, target.trim_start_matches('#'));
    }
    for (i, option) in node["anyOf"].as_array().into_iter().flatten().enumerate() {
        if option.get("$ref").is_some() || option.get("properties").is_some() {
            return object_schema(schema, &format!("{at}/anyOf/{i}"));
        }
    }
    at.to_owned()
}

/// Replaces schemars' integer formats (`uint32`, `uint64`), which JSON Schema does not define
/// and strict validators such as Ajv refuse, by the bounds they stand for.
fn standard_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let integer_format = map
                .get("format")
                .and_then(Value::as_str)
                .filter(|f| f.starts_with("int") || f.starts_with("uint"))
                .map(str::to_owned);
            if let Some(format) = integer_format {
                map.remove("format");
                if format == "uint32" && !map.contains_key("maximum") {
                    map.insert("maximum".into(), u32::MAX.into());
                }
            }
            map.values_mut().for_each(standard_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(standard_formats),
        _ => {}
    }
}

/// The names of the definitions `schema` refers to, directly or through other definitions.
fn reached_defs(schema: &Value, defs: &Map<String, Value>) -> BTreeSet<String> {
    let mut reached = BTreeSet::new();
    let mut pending = vec![schema];
    while let Some(next) = pending.pop() {
        for name in refs(next) {
            if let Some(def) = defs.get(&name) {
                if reached.insert(name) {
                    pending.push(def);
                }
            }
        }
    }
    reached
}

/// Every `#/$defs/<name>` that `value` refers to.
fn refs(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, v)| match (key.as_str(), v) {
                ("$ref", Value::String(r)) => r
                    .strip_prefix("#/$defs/")
                    .map(|name| vec![name.to_owned()])
                    .unwrap_or_default(),
                _ => refs(v),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(refs).collect(),
        _ => Vec::new(),
    }
}

/// `value` with every object's keys in order, so the files are the same whichever serde_json
/// features the build unifies (`preserve_order` keeps insertion order).
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// `events/index.json`: every event type, its version and its schema file (relative to the
/// index), in the order of the aggregates' `TYPES` lists.
pub fn index(contracts: &[EventContract]) -> Value {
    let mut events: Vec<Value> = Vec::new();
    for c in contracts {
        for (event_type, version, file, _) in FROZEN {
            if *event_type == c.event_type {
                events.push(json!({ "type": event_type, "version": version, "file": file }));
            }
        }
        events.push(json!({
            "type": c.event_type,
            "version": c.version,
            "file": c.file_name(),
        }));
    }
    sorted(json!({
        "$comment": format!(
            "Every parcelport event type with each published version and the JSON Schema of its \
             payload (paths relative to this file). The envelope is ../cloudevent.schema.json. \
             Generated by `{REGENERATE}`."
        ),
        "envelope": "../cloudevent.schema.json",
        "events": events,
    }))
}

/// `cloudevent.schema.json`: the CloudEvents 1.0 envelope (JSON event format, structured mode)
/// the relay publishes for every stored event, with parcelport's extension attributes.
pub fn cloudevent_schema() -> Value {
    let text =
        |description: &str| json!({ "type": "string", "minLength": 1, "description": description });
    sorted(json!({
        "$schema": DIALECT,
        "title": "parcelport CloudEvent",
        "description": "The CloudEvents 1.0 envelope the relay publishes for every stored event \
            (JSON event format). `data` is the event payload as stored: validate it against \
            events/<type>.schema.json for the `eventversion` listed in events/index.json.",
        "$comment": format!("Generated by `{REGENERATE}`; never edit in place."),
        "type": "object",
        "required": [
            "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data",
            "sequence", "position", "txid", "eventversion"
        ],
        "properties": {
            "specversion": { "const": "1.0", "description": "CloudEvents version." },
            "id": text("Unique within `source`; a redelivered event keeps its id, so \
                subscribers deduplicate on (`source`, `id`)."),
            "source": {
                "type": "string",
                "minLength": 1,
                "format": "uri-reference",
                "description": "The parcelport deployment that recorded the event.",
            },
            "type": {
                "type": "string",
                "pattern": "^parcelport\\.[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$",
                "description": "`parcelport.` and the event type, `aggregate.past_tense`, for \
                    example `parcelport.parcel.arrived`; the event type is a key of \
                    events/index.json.",
            },
            "subject": text("The id of the aggregate instance the event belongs to (the \
                parcel, member, account or shipment id)."),
            "time": {
                "type": "string",
                "format": "date-time",
                "description": "When the event was recorded (RFC 3339).",
            },
            "datacontenttype": { "const": "application/json" },
            "data": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "description": "The payload: one key, the event name after the aggregate's \
                    dot, holding the event's fields.",
            },
            "sequence": {
                "type": "string",
                "pattern": "^[1-9][0-9]{0,19}$",
                "description": "The event's number within its aggregate, from 1, without gaps, \
                    as a decimal string (CloudEvents integers are 32-bit).",
            },
            "position": {
                "type": "string",
                "pattern": "^[1-9][0-9]{0,19}$",
                "description": "The event's position in the store: unique, in allocation \
                    order, with gaps; a decimal string.",
            },
            "txid": {
                "type": "string",
                "pattern": "^[0-9]{1,20}$",
                "description": "The id of the transaction that appended the event; the global \
                    order is (`txid`, `position`); a decimal string.",
            },
            "eventversion": {
                "type": "string",
                "pattern": "^[1-9][0-9]*$",
                "description": "The version of the payload's shape for this `type`.",
            },
            "policyversion": {
                "type": "string",
                "pattern": "^[^@]+@.+$",
                "description": "`profile@version` of the operator policy the event applied, \
                    when it applied one.",
            },
            "correlationid": text("Shared by everything one request or flow caused."),
            "causationid": text("The id of the event or command that caused this one."),
            "actor": text("Who issued the command that recorded the event (`operator:7`, \
                `member:m-1`, `system`), from the command's metadata; absent when unset."),
            "command": text("The name of the command that recorded the event \
                (`ReceiveParcel`), from the command's metadata; absent when unset."),
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "The W3C trace context of the command that recorded the event \
                    (CloudEvents distributed-tracing extension): continue it to put the \
                    consumer's work in the command's trace. Absent when the command was not \
                    traced.",
            },
        },
        "propertyNames": {
            "pattern": "^[a-z0-9]{1,20}$",
            "description": "CloudEvents attribute names: lower-case letters and digits, at \
                most 20 characters.",
        },
    }))
}

/// Every contract file, keyed by its path relative to `contracts/`, as written: pretty JSON
/// with a final newline.
pub fn render() -> BTreeMap<String, String> {
    let contracts = event_contracts();
    let pretty = |value: &Value| {
        let mut text = serde_json::to_string_pretty(value).expect("a JSON value serializes");
        text.push('\n');
        text
    };
    let mut files = BTreeMap::new();
    files.insert(
        "cloudevent.schema.json".to_owned(),
        pretty(&cloudevent_schema()),
    );
    files.insert("events/index.json".to_owned(), pretty(&index(&contracts)));
    for contract in &contracts {
        files.insert(
            format!("events/{}", contract.file_name()),
            pretty(&contract.schema),
        );
    }
    for (_, _, file, content) in FROZEN {
        files.insert(format!("events/{file}"), (*content).to_owned());
    }
    files
}

/// `contracts/` at the repository root.
pub fn contracts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts")
}

/// Writes every file of [`render`] under `dir` and removes any other `.json` file of
/// `dir/events`, so a type that is gone does not leave its schema behind.
pub fn write(dir: &Path) -> std::io::Result<()> {
    let files = render();
    std::fs::create_dir_all(dir.join("events"))?;
    for entry in std::fs::read_dir(dir.join("events"))? {
        let path = entry?.path();
        let name = format!(
            "events/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        if path.extension().is_some_and(|e| e == "json") && !files.contains_key(&name) {
            std::fs::remove_file(&path)?;
        }
    }
    for (name, text) in &files {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

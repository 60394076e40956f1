//! The OpenAPI 3.1 document, built in code from the route table and the JSON Schemas of the
//! request types (schemars, draft 2020-12, which OpenAPI 3.1 speaks natively), served at
//! `GET /openapi.json`.
//!
//! Every operation lists its responses with the error codes it may answer, per status, in
//! the description and as `x-error-codes`, and the roles that may call it as `x-roles`. The
//! codes every command shares (tokens, roles, idempotency keys, bodies, conflicts) are added
//! here from what the endpoint is; the ones specific to it (business refusals) come from its
//! `Spec`. The tests read the document to drive the auth table and to check that every code
//! is reached.
//!
//! [`Bodies`] compiles each command's request schema from the document, and the pipeline
//! checks every body against it before deserializing: the server refuses exactly what the
//! document says it refuses, and a schema that allows what the types cannot read shows up as
//! a refused valid request (the contract test's fuzzer looks for those).

use crate::command::{IDEMPOTENCY_KEY, MAX_KEY_LEN};
use crate::endpoints::{self, views::AggregateView, Endpoint};
use crate::outcome::Accepted;
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use web::auth::Role;
use web::problem::Problem;

/// Every role but admin, which may call everything.
const ROLES: &[Role] = &[
    Role::WarehouseStaff,
    Role::Member,
    Role::Finance,
    Role::Auditor,
    Role::Ops,
];

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/openapi.json",
        get(|State(app): State<AppState>| async move { Json(app.openapi.as_ref().clone()) }),
    )
}

/// The codes an endpoint may answer, by status.
fn error_codes(endpoint: &Endpoint) -> BTreeMap<u16, BTreeSet<String>> {
    let mut codes: BTreeMap<u16, BTreeSet<String>> = BTreeMap::new();
    let mut add = |status: u16, code: &str| {
        codes.entry(status).or_default().insert(code.to_owned());
    };
    let command = endpoint.method == "post";
    add(401, "auth.missing_token");
    add(401, "auth.invalid_token");
    if ROLES.iter().any(|role| !endpoint.spec.roles.contains(role)) {
        add(403, "auth.forbidden");
    }
    if let Some(kind) = endpoint.kind {
        add(400, "request.invalid");
        if endpoint.existing {
            add(404, &format!("{kind}.not_found"));
            if endpoint.spec.roles.contains(&Role::Member) {
                add(403, "auth.other_member");
            }
        }
    }
    if command {
        add(400, "request.idempotency_key_required");
        add(400, "request.idempotency_key_invalid");
        add(400, "request.malformed_json");
        add(413, "request.body_too_large");
        add(415, "request.unsupported_media_type");
        add(422, "request.invalid_body");
        add(422, "request.unprocessable");
        add(422, "idempotency.key_reused");
        add(409, "concurrency.conflict");
        add(409, "idempotency.in_progress");
    }
    add(500, "internal");
    for (status, code) in endpoint.spec.errors {
        add(*status, code);
    }
    codes
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed",
        401 => "No valid bearer token",
        403 => "The token may not do this",
        404 => "Something the request names does not exist",
        409 => "The request collided with another; retry with the same key",
        413 => "The body is too large",
        415 => "The body is not JSON",
        422 => "The request was understood but refused",
        500 => "The request was not completed; it is safe to retry with the same key",
        503 => "Not ready",
        _ => "Error",
    }
}

fn problem_response(status: u16, codes: &BTreeSet<String>) -> Value {
    let list = codes
        .iter()
        .map(|code| format!("`{code}`"))
        .collect::<Vec<_>>()
        .join(", ");
    json!({
        "description": format!("{}. Codes: {list}.", reason(status)),
        "x-error-codes": codes,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn role_name(role: Role) -> Value {
    serde_json::to_value(role).unwrap_or(Value::Null)
}

fn operation(endpoint: &Endpoint, generator: &mut schemars::SchemaGenerator) -> Value {
    let spec = &endpoint.spec;
    let mut parameters = Vec::new();
    if endpoint.kind.is_some() {
        parameters.push(json!({
            "name": endpoint.param,
            "in": "path",
            "required": true,
            "schema": (endpoint.id_schema)(generator),
        }));
    }
    parameters.push(json!({ "$ref": "#/components/parameters/CorrelationId" }));
    parameters.push(json!({ "$ref": "#/components/parameters/TraceParent" }));
    let mut responses = Map::new();
    let (success, schema) = match endpoint.method {
        "post" if spec.creates.is_some() => ("201", "Accepted"),
        "post" => ("200", "Accepted"),
        _ => ("200", "AggregateView"),
    };
    responses.insert(
        success.to_owned(),
        json!({
            "description": if endpoint.method == "post" {
                "Carried out (or, for a key already used, the first answer again): the events appended"
            } else {
                "The aggregate's current state"
            },
            "headers": { "X-Correlation-Id": { "$ref": "#/components/headers/CorrelationId" } },
            "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
        }),
    );
    for (status, codes) in error_codes(endpoint) {
        responses.insert(status.to_string(), problem_response(status, &codes));
    }
    let mut roles: Vec<Value> = spec.roles.iter().copied().map(role_name).collect();
    roles.push(role_name(Role::Admin));
    let mut operation = json!({
        "operationId": spec.operation,
        "summary": spec.summary,
        "tags": [spec.path.split('/').nth(2).unwrap_or("operations")],
        "x-roles": roles,
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(request) = endpoint.request {
        parameters_push(
            &mut operation,
            json!({ "$ref": "#/components/parameters/IdempotencyKey" }),
        );
        let schema = request(generator);
        let required = has_required_fields(&schema, generator);
        let description = if required {
            "JSON, unknown fields refused"
        } else {
            "JSON, unknown fields refused; may be omitted, as the command has no required field"
        };
        operation["requestBody"] = json!({
            "required": required,
            "description": description,
            "content": { "application/json": { "schema": schema } }
        });
    }
    operation
}

/// Whether the request schema (a reference to a component, or inline) names a required field:
/// then the body cannot be omitted.
fn has_required_fields(schema: &schemars::Schema, generator: &schemars::SchemaGenerator) -> bool {
    let value = schema.as_value();
    let resolved = value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.rsplit('/').next())
        .and_then(|name| generator.definitions().get(name))
        .unwrap_or(value);
    resolved
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|required| !required.is_empty())
}

/// The OpenAPI links of a creation's 201 answer: every operation taking what it created as
/// path parameter `param`, which the answer's `id` fills. A client (or a stateful fuzzer)
/// follows them from a new member to its commands.
fn links(endpoints: &[Endpoint], param: &str) -> Value {
    let links: Map<String, Value> = endpoints
        .iter()
        .filter(|other| other.kind.is_some() && other.param == param)
        .map(|other| {
            (
                other.spec.operation.to_owned(),
                json!({
                    "operationId": other.spec.operation,
                    "parameters": { param: "$response.body#/id" },
                    "description": format!("{} on what this created", other.spec.summary),
                }),
            )
        })
        .collect();
    Value::Object(links)
}

/// A decimal as the API reads it: a string of at most 28 digits before and 28 after the
/// point, no exponent; the largest fits `rust_decimal`'s 96-bit mantissa, and a JSON number is
/// refused so that no client sends money through a float.
const DECIMAL_PATTERN: &str = r"^-?[0-9]{1,28}(\.[0-9]{1,28})?$";

/// Makes the numbers of the document exact: schemars' schema of `rust_decimal::Decimal` (a
/// string or a number, any exponent) becomes [`DECIMAL_PATTERN`], and every fixed-width
/// integer (`"format": "uint32"`, ...) states the range its Rust type holds, which a `format`
/// alone does not bound.
fn exact_numbers(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let is_decimal = object.get("type") == Some(&json!(["string", "number"]))
                && object.get("pattern") == Some(&json!(r"^-?\d+(\.\d+)?([eE]\d+)?$"));
            if is_decimal {
                object.insert("type".to_owned(), json!("string"));
                object.insert("pattern".to_owned(), json!(DECIMAL_PATTERN));
            }
            let range = match object.get("format").and_then(Value::as_str) {
                Some("uint8") => Some((json!(0), json!(u8::MAX))),
                Some("uint16") => Some((json!(0), json!(u16::MAX))),
                Some("uint32") => Some((json!(0), json!(u32::MAX))),
                Some("uint64" | "uint") => Some((json!(0), json!(u64::MAX))),
                Some("int32") => Some((json!(i32::MIN), json!(i32::MAX))),
                Some("int64" | "int") => Some((json!(i64::MIN), json!(i64::MAX))),
                _ => None,
            };
            if let Some((minimum, maximum)) = range {
                object.entry("minimum").or_insert(minimum);
                object.entry("maximum").or_insert(maximum);
            }
            object.values_mut().for_each(exact_numbers);
        }
        Value::Array(items) => items.iter_mut().for_each(exact_numbers),
        _ => {}
    }
}

/// The compiled request schema of every command, by operation id.
pub(crate) struct Bodies(HashMap<String, jsonschema::Validator>);

impl Bodies {
    /// Compiles the request bodies of `document` (one built by [`document`]).
    pub(crate) fn of(document: &Value) -> Self {
        let mut bodies = HashMap::new();
        for item in document["paths"]
            .as_object()
            .into_iter()
            .flat_map(Map::values)
        {
            let operation = &item["post"];
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            let Some(id) = operation["operationId"]
                .as_str()
                .filter(|_| !schema.is_null())
            else {
                continue;
            };
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": document["components"],
                "allOf": [schema],
            });
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|error| panic!("the request schema of {id} compiles: {error}"));
            bodies.insert(id.to_owned(), validator);
        }
        Self(bodies)
    }

    /// Checks `body` against the request schema of `operation`: 422 `request.invalid_body`
    /// naming the first place it breaks.
    pub(crate) fn check(&self, operation: &str, body: &Value) -> Result<(), Problem> {
        let Some(validator) = self.0.get(operation) else {
            return Ok(());
        };
        match validator.iter_errors(body).next() {
            None => Ok(()),
            Some(error) => {
                let at = error.instance_path().to_string();
                let at = if at.is_empty() {
                    "the body".to_owned()
                } else {
                    at
                };
                // A `not` says what must hold in its description; its own message would
                // print the whole subschema.
                let what = match error.kind() {
                    jsonschema::error::ValidationErrorKind::Not { schema } => schema
                        .get("description")
                        .and_then(Value::as_str)
                        .map_or_else(|| error.to_string(), str::to_owned),
                    _ => error.to_string(),
                };
                Err(crate::command::invalid_body(format!("{at}: {what}")))
            }
        }
    }
}

fn parameters_push(operation: &mut Value, parameter: Value) {
    if let Some(parameters) = operation["parameters"].as_array_mut() {
        parameters.push(parameter);
    }
}

fn plain(summary: &str, response: Value, extra: &[(u16, &str)]) -> Value {
    let mut responses = Map::new();
    responses.insert("200".to_owned(), response);
    for (status, code) in extra {
        let codes = BTreeSet::from([(*code).to_owned()]);
        responses.insert(status.to_string(), problem_response(*status, &codes));
    }
    json!({
        "operationId": summary.to_lowercase().replace(' ', "_"),
        "summary": summary,
        "tags": ["operations"],
        "security": [],
        "responses": responses,
    })
}

/// The document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        })
        .into_generator();
    generator.subschema_for::<Accepted>();
    generator.subschema_for::<AggregateView>();

    let endpoints = endpoints::all();
    let mut paths = Map::new();
    for endpoint in &endpoints {
        let mut operation = operation(endpoint, &mut generator);
        if let Some(param) = endpoint.spec.creates {
            operation["responses"]["201"]["links"] = links(&endpoints, param);
        }
        let item = paths
            .entry(endpoint.path.to_owned())
            .or_insert_with(|| json!({}));
        item[endpoint.method] = operation;
    }
    let json_ok = |description: &str| json!({ "description": description, "content": { "application/json": { "schema": { "type": "object" } } } });
    paths.insert(
        "/openapi.json".to_owned(),
        json!({ "get": plain("OpenAPI document", json_ok("This document"), &[]) }),
    );
    paths.insert(
        "/healthz".to_owned(),
        json!({ "get": plain("Liveness", json_ok("The process answers"), &[]) }),
    );
    paths.insert(
        "/readyz".to_owned(),
        json!({ "get": plain("Readiness", json_ok("The database answers"), &[(503, "service.unavailable")]) }),
    );
    paths.insert(
        "/metrics".to_owned(),
        json!({ "get": plain("Metrics", json!({
            "description": "Prometheus text format",
            "content": { "text/plain": { "schema": { "type": "string" } } }
        }), &[]) }),
    );

    let mut schemas = generator.take_definitions(true);
    schemas.insert("Problem".to_owned(), problem_schema());
    let mut document = json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "parcelport command API",
            "version": "1",
            "description": DESCRIPTION,
        },
        "security": [ { "bearer": [] } ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from the token file; its role decides what it may call (x-roles), and a member's token acts only on that member's aggregates"
                }
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": IDEMPOTENCY_KEY.as_str(),
                    "in": "header",
                    "required": true,
                    "description": "A new unique key per command (a UUID), the same key on a retry: the retry gets the first answer and appends nothing. Keys are scoped to the token.",
                    "schema": { "type": "string", "minLength": 1, "maxLength": MAX_KEY_LEN, "pattern": "^[!-~]+$" }
                },
                "CorrelationId": {
                    "name": "X-Correlation-Id",
                    "in": "header",
                    "required": false,
                    "description": "Ties requests of one flow together; recorded on every event appended. A value that is not 1 to 128 visible ASCII characters, or none, is replaced by a new UUID (answered in the response's header).",
                    "schema": { "type": "string" }
                },
                "TraceParent": {
                    "name": "traceparent",
                    "in": "header",
                    "required": false,
                    "description": "W3C trace context (`00-<trace id>-<parent id>-<flags>`): the request's span continues it, and every event the command appends records it in its metadata (`traceparent`), published as the CloudEvents distributed-tracing extension. A malformed value, or none, starts a new trace.",
                    "schema": { "type": "string" }
                }
            },
            "headers": {
                "CorrelationId": {
                    "description": "The request's correlation id",
                    "schema": { "type": "string" }
                }
            }
        }
    });
    exact_numbers(&mut document);
    document
}

const DESCRIPTION: &str = "One endpoint per command of the parcelport domain. \
Every error is application/problem+json with a stable `code`; a business refusal (422) also \
carries the `rule` of the catalog it enforces. Each operation lists every code it may answer, \
per status (`x-error-codes`). Every body is checked against its schema before anything else \
reads it (422 `request.invalid_body`, naming where it breaks). \
Commands need an `Idempotency-Key`; optimistic-concurrency conflicts are retried a bounded \
number of times, then answered 409 `concurrency.conflict`.";

fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": { "type": "string", "description": "urn:parcelport:problem:<code>" },
            "title": { "type": "string" },
            "status": { "type": "integer" },
            "detail": { "type": "string" },
            "code": { "type": "string", "description": "The stable code clients branch on" },
            "rule": { "type": "string", "description": "The DOMAIN.md rule a business refusal enforces" }
        }
    })
}

//! `/openapi.json` is the contract clients generate code from: it must be valid, list exactly
//! the routes the router serves, resolve every reference, and describe the bodies the
//! endpoints really accept.

use crate::support::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The operations of the document, as (method, path, operation).
pub fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            all.push((method.to_uppercase(), path.clone(), operation.clone()));
        }
    }
    all
}

/// `path` with every `{param}` replaced by a well-formed id.
pub fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "t-1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn document(app: &TestApp) -> Value {
    let reply = app
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await;
    reply.expect(200);
    assert!(reply.content_type().starts_with("application/json"));
    reply.body
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_router_serves() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc, api::openapi_document(), "served as built");

    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let mut table: BTreeSet<(String, String)> = api::routes()
        .into_iter()
        .map(|route| (route.method.to_owned(), route.path.to_owned()))
        .collect();
    for plain in ["/openapi.json", "/healthz", "/readyz", "/metrics"] {
        table.insert(("GET".to_owned(), plain.to_owned()));
    }
    assert_eq!(documented, table);

    // The router serves each one: no token gets 401 from it, never a 404 or 405.
    for (method, path, operation) in operations(&doc) {
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(concrete(&path))
            .body(Body::empty())
            .unwrap();
        let reply = app.send(request).await;
        let open = operation["security"] == json!([]);
        if open {
            assert_ne!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        } else {
            reply.problem(401, "auth.missing_token");
        }
    }

    // And nothing else.
    let reply = app
        .send(Request::get("/v1/nothing").body(Body::empty()).unwrap())
        .await;
    reply.problem(404, "route.not_found");
}

#[tokio::test]
async fn every_operation_is_complete_and_every_reference_resolves() {
    let doc = api::openapi_document();
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(
            !id.is_empty() && ids.insert(id.to_owned()),
            "{method} {path}"
        );
        assert!(operation["summary"].is_string(), "{id}");
        if operation["security"] == json!([]) {
            continue;
        }
        assert!(
            operation["x-roles"]
                .as_array()
                .is_some_and(|r| !r.is_empty()),
            "{id}"
        );
        let responses = operation["responses"].as_object().unwrap();
        for status in ["401", "500"] {
            assert!(responses.contains_key(status), "{id} lacks {status}");
        }
        assert!(responses.keys().any(|s| s.starts_with('2')), "{id}");
        for (status, response) in responses {
            if !status.starts_with('2') {
                let codes = response["x-error-codes"].as_array().unwrap();
                assert!(!codes.is_empty(), "{id} {status}");
            }
        }
        if method == "POST" {
            assert!(operation["requestBody"]["content"]["application/json"]["schema"].is_object());
        }
    }

    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 100, "{}", refs.len());
    for reference in refs {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("not a local reference: {reference}"));
        assert!(
            doc.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                refs.push(reference.clone());
            }
            map.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

/// The request schema of `operation_id`, as a standalone schema over the document.
fn request_schema(doc: &Value, operation_id: &str) -> Value {
    let (_, _, operation) = operations(doc)
        .into_iter()
        .find(|(_, _, op)| op["operationId"] == operation_id)
        .unwrap_or_else(|| panic!("no {operation_id}"));
    let mut schema = operation["requestBody"]["content"]["application/json"]["schema"].clone();
    schema["components"] = doc["components"].clone();
    schema
}

#[tokio::test]
async fn the_request_schemas_describe_what_the_endpoints_accept() {
    let doc = api::openapi_document();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let valid = [
        ("register_member", registration()),
        ("verify_identity", passport()),
        ("apply_for_top_up", top_up(&today, 1_000)),
        ("receive_parcel", arrival("TYO-000001", 500)),
        ("inspect_parcel", inspection()),
        ("declare_contents", declaration(3_000)),
        ("record_packing", ems_packing(1_000)),
        ("quote_shipment", ems_to_us()),
        ("set_auto_pack", json!({})),
    ];
    for (operation, body) in valid {
        let validator = jsonschema::options()
            .build(&request_schema(&doc, operation))
            .unwrap_or_else(|e| panic!("{operation}: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{operation}: {errors:?}");
    }
    let invalid = [
        ("register_member", json!({ "name": "A", "surprise": true })),
        ("set_auto_pack", json!({ "unknown": 1 })),
        (
            "receive_parcel",
            json!({ "weight": "heavy", "dimensions": {} }),
        ),
    ];
    for (operation, body) in invalid {
        let validator = jsonschema::options()
            .build(&request_schema(&doc, operation))
            .unwrap();
        assert!(!validator.is_valid(&body), "{operation} accepted {body}");
    }
}

// A client generated from the document (or a stateful fuzzer) follows links from what a
// command created to the operations on it: every operation taking a member, parcel or
// shipment id in its path is linked from a creation of one, each link naming an operation
// that exists and filling the parameter it takes from the answer's `id`.
#[tokio::test]
async fn every_creation_links_to_the_operations_on_what_it_created() {
    let doc = api::openapi_document();
    let operations = operations(&doc);
    let ids: BTreeSet<String> = operations
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_owned())
        .collect();
    let mut linked = BTreeSet::new();
    for (_, path, operation) in &operations {
        let Some(links) = operation["responses"]["201"]["links"].as_object() else {
            continue;
        };
        for (name, link) in links {
            let target = link["operationId"].as_str().unwrap();
            assert!(ids.contains(target), "{path}: link {name} to nothing");
            let parameters = link["parameters"].as_object().unwrap();
            assert_eq!(parameters.len(), 1, "{path}: {link}");
            let (param, expression) = parameters.iter().next().unwrap();
            assert_eq!(expression, "$response.body#/id", "{path}: {link}");
            let (_, target_path, _) = operations
                .iter()
                .find(|(_, _, op)| op["operationId"] == target)
                .unwrap();
            assert!(
                target_path.contains(&format!("{{{param}}}")),
                "{path} links {target} by {param}, which {target_path} does not take"
            );
            linked.insert(target.to_owned());
        }
    }
    for (_, path, operation) in &operations {
        let takes_an_id = ["{member_id}", "{parcel_id}", "{shipment_id}"]
            .iter()
            .any(|param| path.contains(param));
        if takes_an_id {
            let id = operation["operationId"].as_str().unwrap();
            assert!(linked.contains(id), "nothing links to {id} ({path})");
        }
    }
}

// What schemathesis found the documents promising less than the server enforces: a body whose
// schema names required fields is required (an omitted body is refused), each side of a
// parcel's dimensions is 1 to 10,000 mm, and a reference rate is above zero.
#[tokio::test]
async fn the_document_states_the_bounds_the_server_enforces() {
    let doc = api::openapi_document();
    let schemas = &doc["components"]["schemas"];
    for (_, path, operation) in operations(&doc) {
        let Some(body) = operation.get("requestBody") else {
            continue;
        };
        let reference = body["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: the body is a component"));
        let schema = &schemas[reference.rsplit('/').next().unwrap()];
        let has_required = schema["required"]
            .as_array()
            .is_some_and(|required| !required.is_empty());
        assert_eq!(body["required"], has_required, "{path}: {body}");
    }
    let top_up = operations(&doc)
        .into_iter()
        .find(|(_, path, _)| path == "/v1/members/{member_id}/top-up-applications")
        .expect("the top-up application");
    assert_eq!(top_up.2["requestBody"]["required"], true);

    for side in ["length_mm", "width_mm", "height_mm"] {
        let bounds = &schemas["Dimensions"]["properties"][side];
        assert_eq!(bounds["minimum"], 1, "{side}: {bounds}");
        assert_eq!(bounds["maximum"], 10_000, "{side}: {bounds}");
    }
    let rate = &schemas["RecordReferenceRate"]["properties"]["rate"];
    let rate = jsonschema::validator_for(rate).expect("the rate's schema compiles");
    for accepted in [
        json!("1"),
        json!("0.5"),
        json!("20.17"),
        json!("0.0001"),
        json!("007.5"),
    ] {
        assert!(rate.is_valid(&accepted), "{accepted}");
    }
    for refused in [
        json!("0"),
        json!("0.0"),
        json!("-1"),
        json!(""),
        json!("1e5"),
        json!(0),
        json!(-3),
        json!(2.5),
    ] {
        assert!(!rate.is_valid(&refused), "{refused}");
    }
    let rate_body = jsonschema::options()
        .build(&request_schema(&doc, "record_reference_rate"))
        .unwrap();
    let body = |base: &str, quote: &str| json!({ "base": base, "quote": quote, "rate": "20.5", "source": "MUFG", "valid_on": "2026-12-01" });
    assert!(rate_body.is_valid(&body("CNY", "JPY")));
    assert!(!rate_body.is_valid(&body("JPY", "JPY")), "one currency");

    // Every decimal is a string of bounded digits (a number would go through a float, and
    // 1e300 does not fit), and every unsigned integer states its largest value.
    let text = doc.to_string();
    assert!(
        !text.contains(r#""type":["string","number"]"#),
        "a decimal as a number"
    );
    assert!(!text.contains(r#""pattern":"^-?\\d+(\\.\\d+)?([eE]\\d+)?$""#));
    let money = jsonschema::validator_for(&json!({
        "components": doc["components"],
        "$ref": "#/components/schemas/Money"
    }))
    .unwrap();
    let amount = |amount: Value| json!({ "amount": amount, "currency": "JPY" });
    assert!(money.is_valid(&amount(json!("1200"))));
    assert!(money.is_valid(&amount(json!("-12.5"))));
    for refused in [
        json!(1200),
        json!("1e300"),
        json!("1".repeat(29)),
        json!("1."),
    ] {
        assert!(!money.is_valid(&amount(refused.clone())), "{refused}");
    }
    let dimensions = &schemas["Dimensions"]["properties"]["length_mm"];
    assert_eq!(dimensions["maximum"], 10_000);
    let weight = &schemas["Weight"];
    assert_eq!(weight["maximum"], u32::MAX, "{weight}");
}

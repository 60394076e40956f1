//! The OpenAPI 3.1 document of the query API, generated from the route table: every endpoint
//! with its parameters, the roles that may call it, and the problem codes it answers.

use crate::endpoints::{routes_table, RouteInfo, Shape};
use crate::read_after::POSITION_NOT_GIVEN;
use crate::QueryState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A router serving the document at `path`.
pub(crate) fn router(path: &str) -> Router<QueryState> {
    Router::new().route(
        path,
        get(|State(state): State<QueryState>| async move { Json((*state.openapi).clone()) }),
    )
}

/// The JSON Schema of a parameter's values.
fn schema(shape: Shape) -> Value {
    match shape {
        Shape::Text => json!({ "type": "string" }),
        Shape::Limit => json!({ "type": "integer", "minimum": 1, "maximum": 500, "default": 50 }),
        Shape::DateTime => json!({ "type": "string", "format": "date-time" }),
        Shape::OneOf(words) => json!({ "type": "string", "enum": words }),
        Shape::Cursor => json!({ "type": "string", "pattern": "^([0-9a-fA-F]{2})*$" }),
        Shape::Search => json!({
            "type": "string",
            "minLength": 1,
            "maxLength": crate::endpoints::QUERY_MAX_CHARS,
        }),
        Shape::Days => json!({
            "type": "integer",
            "minimum": 1,
            "maximum": crate::endpoints::MAX_DAYS,
            "default": crate::endpoints::DEFAULT_DAYS,
        }),
        Shape::ListOf(words) => {
            let word = format!("({})", words.join("|"));
            json!({ "type": "string", "pattern": format!("^{word}(,{word})*$") })
        }
    }
}

fn operation(route: &RouteInfo) -> Value {
    let mut parameters: Vec<Value> = route
        .params
        .iter()
        .map(|param| {
            json!({
                "name": param.name,
                "in": param.location,
                "required": param.required,
                "description": param.description,
                "schema": schema(param.shape),
            })
        })
        .collect();
    parameters.push(json!({
        "name": "after",
        "in": "query",
        "required": false,
        "description": "read your writes: the `position` a command answered; the request waits \
                        (at most 5 s) until the view has applied it, else 503 `view.behind`; a \
                        position past the store's newest event is refused (422 \
                        `query.position_not_given`)",
        "schema": { "type": "string", "pattern": "^[0-9]{1,20}:[0-9]{1,19}$" },
    }));
    let roles: Vec<String> = route
        .roles
        .iter()
        .map(|role| {
            serde_json::to_value(role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    let mut codes = vec![
        "auth.missing_token",
        "auth.invalid_token",
        "auth.forbidden",
        "view.not_ready",
        "view.behind",
        "internal",
        // `after`, on every route, refuses a malformed position or one the store never gave.
        "query.invalid_parameter",
        POSITION_NOT_GIVEN,
    ];
    if route.member_scoped {
        codes.push("auth.other_member");
    }
    codes.extend(route.codes);
    let mut by_status: BTreeMap<u16, BTreeSet<&str>> = BTreeMap::new();
    for code in &codes {
        by_status.entry(status_of(code)).or_default().insert(code);
    }
    let mut responses = Map::new();
    responses.insert(
        "200".to_owned(),
        json!({ "description": "the answer", "content": { "application/json": {} } }),
    );
    for (status, codes) in by_status {
        let list: Vec<String> = codes.iter().map(|code| format!("`{code}`")).collect();
        responses.insert(
            status.to_string(),
            json!({
                "description": format!("{}. Codes: {}.", reason(status), list.join(", ")),
                "x-error-codes": codes,
                "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } },
            }),
        );
    }
    json!({
        "summary": route.summary,
        "description": format!(
            "Roles: {} (and admin).{}",
            roles.join(", "),
            if route.member_scoped { " A member's token sees only its own rows." } else { "" }
        ),
        "security": [{ "bearer": [] }],
        "parameters": parameters,
        "responses": responses,
        "x-roles": roles,
    })
}

/// The status a problem code is answered with.
fn status_of(code: &str) -> u16 {
    match code {
        "auth.missing_token" | "auth.invalid_token" => 401,
        "auth.forbidden" | "auth.other_member" => 403,
        POSITION_NOT_GIVEN | "query.range_reversed" | "query.invalid_cursor" => 422,
        "view.not_ready" | "view.behind" => 503,
        "internal" => 500,
        code if code.ends_with(".not_found") => 404,
        _ => 400,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "A parameter is malformed",
        401 => "No valid bearer token",
        403 => "The token may not read this",
        404 => "What the path names does not exist",
        422 => "Well formed, but naming nothing: a position past the store's, a cursor this list did not issue, a range ending before it starts",
        500 => "The view could not be read; it is safe to retry",
        _ => "The view is not built yet, or has not applied `after` in time",
    }
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in routes_table() {
        paths.insert(route.path.to_owned(), json!({ "get": operation(&route) }));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "parcelport query API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The storage-status, billing and audit views and the projections' health. \
                Lists with a cursor are keyset pages: pass next_cursor back as cursor until it is null.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "code"],
                    "properties": {
                        "type": { "type": "string" },
                        "title": { "type": "string" },
                        "status": { "type": "integer" },
                        "detail": { "type": "string" },
                        "code": { "type": "string" },
                    },
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every parameter's schema states what the server enforces: page sizes 1 to 500, dates as
    /// RFC 3339, aggregate types, views and groupings as their words (schemathesis found each
    /// missing, #15).
    #[test]
    fn parameters_state_the_values_the_server_accepts() {
        let document = document();
        let mut seen = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            for param in item["get"]["parameters"].as_array().unwrap() {
                let (name, schema) = (param["name"].as_str().unwrap(), &param["schema"]);
                let expected = match name {
                    "limit" => {
                        json!({ "type": "integer", "minimum": 1, "maximum": 500, "default": 50 })
                    }
                    "from" | "to" => json!({ "type": "string", "format": "date-time" }),
                    "aggregate_type" => {
                        json!({ "type": "string", "enum": ["member", "account", "parcel", "shipment"] })
                    }
                    "by" => json!({ "type": "string", "enum": ["type", "month"] }),
                    "view" => json!({ "type": "string", "enum": crate::VIEW_NAMES }),
                    "days" => {
                        json!({ "type": "integer", "minimum": 1, "maximum": 366, "default": 90 })
                    }
                    "q" => json!({ "type": "string", "minLength": 1, "maxLength": 100 }),
                    _ => continue,
                };
                assert_eq!(schema, &expected, "{path} {name}");
                seen += 1;
            }
        }
        assert!(seen >= 10, "{seen} constrained parameters");
    }
}

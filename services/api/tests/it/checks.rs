//! The checks every endpoint gets, driven by the OpenAPI document: tokens and roles (the
//! auth table), the `Idempotency-Key` header, the path id, a missing aggregate, and every
//! way a body can be wrong. Each check asserts its answer and records the `(operation, code)`
//! it reached, for the coverage test.

use crate::openapi::operations;
use crate::support::*;
use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// `(operationId, code)` pairs reached by a test.
pub type Reached = BTreeSet<(String, String)>;

/// An operation of the document that needs a token.
#[derive(Debug, Clone)]
pub struct Op {
    pub method: String,
    pub path: String,
    pub id: String,
    pub roles: Vec<String>,
    /// The aggregate its path names: `member`, `account`, `parcel`, `shipment`.
    pub kind: Option<String>,
    /// Every documented code, with its status.
    pub codes: BTreeMap<String, u16>,
}

impl Op {
    pub fn documents(&self, code: &str) -> bool {
        self.codes.contains_key(code)
    }

    /// The path with its id set to `id`.
    pub fn at(&self, id: &str) -> String {
        self.path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    id
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The operations that need a token, from the document.
pub fn ops(doc: &Value) -> Vec<Op> {
    operations(doc)
        .into_iter()
        .filter(|(_, _, operation)| operation["security"] != json!([]))
        .map(|(method, path, operation)| {
            let mut codes = BTreeMap::new();
            for (status, response) in operation["responses"].as_object().unwrap() {
                for code in response["x-error-codes"].as_array().into_iter().flatten() {
                    codes.insert(code.as_str().unwrap().to_owned(), status.parse().unwrap());
                }
            }
            let kind = path
                .split('/')
                .find_map(|s| s.strip_prefix('{')?.strip_suffix("_id}"))
                .map(str::to_owned);
            Op {
                method,
                id: operation["operationId"].as_str().unwrap().to_owned(),
                roles: operation["x-roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect(),
                kind,
                path,
                codes,
            }
        })
        .collect()
}

/// Two verified members: `a` asks; `b` owns a stored parcel and a shipment.
pub struct World {
    pub a: Member,
    pub b: Member,
    pub b_parcel: String,
    pub b_shipment: String,
}

impl World {
    pub async fn new(app: &TestApp) -> World {
        let a = app.verified().await;
        let b = app.verified().await;
        let b_parcel = app.stored_parcel(&b, 800, 2_000).await;
        let packed = app.stored_parcel(&b, 900, 2_000).await;
        let requested = app
            .post(
                &format!("/v1/parcels/{packed}/request-packing"),
                &b.token,
                json!({}),
            )
            .await;
        requested.expect(201);
        World {
            a,
            b_parcel,
            b_shipment: requested.id(),
            b,
        }
    }

    /// `b`'s aggregate of `kind`.
    pub fn b_owns(&self, kind: &str) -> String {
        match kind {
            "member" => self.b.id.clone(),
            "account" => self.b.account_id.clone(),
            "parcel" => self.b_parcel.clone(),
            "shipment" => self.b_shipment.clone(),
            other => panic!("no aggregate kind {other}"),
        }
    }

    /// The token of `role`, a member's being `a`'s.
    pub fn token(&self, role: &str) -> String {
        match role {
            "warehouse_staff" => STAFF.to_owned(),
            "member" => self.a.token.clone(),
            "finance" => FINANCE.to_owned(),
            "auditor" => AUDITOR.to_owned(),
            "ops" => OPS.to_owned(),
            "admin" => ADMIN.to_owned(),
            other => panic!("no role {other}"),
        }
    }

    /// The path `op` is checked at: `b`'s aggregate, or the collection.
    pub fn url(&self, op: &Op) -> String {
        match &op.kind {
            Some(kind) => op.at(&self.b_owns(kind)),
            None => op.path.clone(),
        }
    }

    /// A body with which member `a` reaches for `b`'s things through `op`'s body rather than
    /// its path (the collection endpoints a member may call).
    pub fn reaching_body(&self, op: &Op) -> Value {
        match op.id.as_str() {
            "consolidate" => json!({ "parcel_ids": [self.b_parcel] }),
            "expect_parcel" => json!({
                "member_id": self.b.id, "shop": "shop-approved-1", "purchased_on": "2026-11-30"
            }),
            _ => json!({}),
        }
    }
}

pub const ROLES: [&str; 5] = ["warehouse_staff", "member", "finance", "auditor", "ops"];

/// A request as `token` (none when `None`), with a fresh idempotency key for commands.
pub fn request(method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if method == "POST" {
        builder = builder.header("idempotency-key", key());
    }
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// Records that `op` answered `code`, after checking the answer is that problem.
#[track_caller]
pub fn reached(reached: &mut Reached, op: &str, reply: &Reply, status: u16, code: &str) {
    reply.problem(status, code);
    reached.insert((op.to_owned(), code.to_owned()));
}

/// The auth table for one endpoint: no token 401, an unknown token 401, each role it does
/// not list 403, a member's token on another member's aggregate 403, and each role it lists
/// (and admin) let through.
pub async fn auth_checks(app: &TestApp, world: &World, op: &Op, seen: &mut Reached) {
    let url = world.url(op);
    let body = || Some(world.reaching_body(op));
    let reply = app.send(request(&op.method, &url, None, body())).await;
    reached(seen, &op.id, &reply, 401, "auth.missing_token");
    let reply = app
        .send(request(&op.method, &url, Some(UNKNOWN), body()))
        .await;
    reached(seen, &op.id, &reply, 401, "auth.invalid_token");
    let reply = app
        .send(request(
            &op.method,
            &url,
            Some("Basic Zm9vOmJhcg=="),
            body(),
        ))
        .await;
    reached(seen, &op.id, &reply, 401, "auth.invalid_token");

    for role in ROLES {
        let token = world.token(role);
        let allowed = op.roles.iter().any(|r| r == role);
        if !allowed {
            let reply = app
                .send(request(&op.method, &url, Some(&token), body()))
                .await;
            reached(seen, &op.id, &reply, 403, "auth.forbidden");
            continue;
        }
        if role == "member" {
            // Member `a` reaching for member `b`'s aggregate, by path or by body.
            let reply = app
                .send(request(&op.method, &url, Some(&token), body()))
                .await;
            reached(seen, &op.id, &reply, 403, "auth.other_member");
        } else {
            // Let through: a missing aggregate (or an empty body) answers, never 401/403.
            let target = match &op.kind {
                Some(_) if op.documents(&format!("{}.not_found", op.kind.as_deref().unwrap())) => {
                    op.at("missing-1")
                }
                _ => url.clone(),
            };
            let reply = app
                .send(request(
                    &op.method,
                    &target,
                    Some(&token),
                    Some(json!({ "surprise": 1 })),
                ))
                .await;
            assert!(
                ![401, 403].contains(&reply.status.as_u16()),
                "{} as {role}: {:#}",
                op.id,
                reply.body
            );
        }
    }
}

/// Everything before the engine, as admin: the key, the path id, a missing aggregate, and
/// the body (not JSON, malformed, unknown field, too large).
pub async fn request_checks(app: &TestApp, world: &World, op: &Op, seen: &mut Reached) {
    let url = world.url(op);
    if op.method == "POST" {
        let without_key = Request::post(&url)
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .body(Body::empty())
            .unwrap();
        let reply = app.send(without_key).await;
        reached(
            seen,
            &op.id,
            &reply,
            400,
            "request.idempotency_key_required",
        );
        let long = "k".repeat(129);
        for bad in [&b"has space"[..], long.as_bytes(), "naïve".as_bytes(), b""] {
            let request = Request::post(&url)
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
                .header("idempotency-key", HeaderValue::from_bytes(bad).unwrap())
                .body(Body::empty())
                .unwrap();
            let reply = app.send(request).await;
            reached(seen, &op.id, &reply, 400, "request.idempotency_key_invalid");
        }
    }
    if let Some(kind) = &op.kind {
        for bad in ["bad%20id", &"x".repeat(65), "caf%C3%A9"] {
            let reply = app
                .send(request(&op.method, &op.at(bad), Some(ADMIN), None))
                .await;
            reached(seen, &op.id, &reply, 400, "request.invalid");
        }
        let missing = format!("{kind}.not_found");
        if op.documents(&missing) {
            let reply = app
                .send(request(&op.method, &op.at("missing-1"), Some(ADMIN), None))
                .await;
            reached(seen, &op.id, &reply, 404, &missing);
        }
    }
    if op.method != "POST" {
        return;
    }
    let raw = |content_type: &str, body: String| {
        Request::post(&url)
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .header("idempotency-key", key())
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let reply = app.send(raw("text/plain", "{}".into())).await;
    reached(seen, &op.id, &reply, 415, "request.unsupported_media_type");
    for malformed in ["{", "{1: 2}", "not json", "{\"a\": }", "{} {}"] {
        let reply = app.send(raw("application/json", malformed.into())).await;
        reached(seen, &op.id, &reply, 400, "request.malformed_json");
    }
    for wrong in [
        json!({ "surprise": 1 }),
        json!([]),
        json!("text"),
        json!(42),
    ] {
        let reply = app.send(raw("application/json", wrong.to_string())).await;
        reached(seen, &op.id, &reply, 422, "request.invalid_body");
    }
    let huge = json!({ "note": "x".repeat(200 * 1024) }).to_string();
    let reply = app.send(raw("application/json", huge)).await;
    reached(seen, &op.id, &reply, 413, "request.body_too_large");
}

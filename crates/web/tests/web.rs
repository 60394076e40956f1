//! The shared HTTP behaviour, through a tiny router: every failure is a problem+json with a
//! stable code, and tokens and roles are checked before anything runs.

use axum::body::Body as HttpBody;
use axum::extract::FromRef;
use axum::http::{header, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use domain::ids::MemberId;
use http_body_util::BodyExt;
use serde::Deserialize;
use std::sync::Arc;
use tower::ServiceExt;
use web::auth::{hash_token, Caller, Role, TokenBook, TokenFileError};
use web::json::Body;
use web::problem::Problem;

#[derive(Clone)]
struct State {
    tokens: Arc<TokenBook>,
}

impl FromRef<State> for Arc<TokenBook> {
    fn from_ref(state: &State) -> Self {
        state.tokens.clone()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Weigh {
    parcel_id: String,
    grams: u32,
}

async fn weigh(caller: Caller, Body(body): Body<Weigh>) -> Result<String, Problem> {
    caller.require(&[Role::WarehouseStaff])?;
    Ok(format!("{} weighed {} g", caller.name, body.grams))
}

async fn member_parcels(
    caller: Caller,
    axum::extract::Path(member): axum::extract::Path<String>,
) -> Result<String, Problem> {
    let member = MemberId::parse(&member).map_err(|e| Problem::invalid(e.to_string()))?;
    caller.require(&[Role::Member, Role::Ops])?;
    caller.may_act_for(&member)?;
    Ok(format!("parcels of {member}"))
}

async fn boom() -> &'static str {
    panic!("secret internal detail")
}

fn app() -> Router {
    let tokens = TokenBook::default()
        .with(
            "staff-secret",
            Caller {
                name: "dock-1".into(),
                role: Role::WarehouseStaff,
                member_id: None,
            },
        )
        .with(
            "member-secret",
            Caller {
                name: "aiko".into(),
                role: Role::Member,
                member_id: Some(MemberId::parse("m-1").unwrap()),
            },
        )
        .with(
            "admin-secret",
            Caller {
                name: "root".into(),
                role: Role::Admin,
                member_id: None,
            },
        );
    let router = Router::new()
        .route("/weigh", post(weigh))
        .route("/members/{member}/parcels", get(member_parcels))
        .route("/boom", get(boom))
        .with_state(State {
            tokens: Arc::new(tokens),
        });
    web::harden(router)
}

async fn send(request: Request<HttpBody>) -> (StatusCode, String, String) {
    let response = app().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn post_json(token: Option<&str>, body: impl Into<HttpBody>) -> Request<HttpBody> {
    let mut request = Request::post("/weigh").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(body.into()).unwrap()
}

fn get_as(token: &str, uri: &str) -> Request<HttpBody> {
    Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(HttpBody::empty())
        .unwrap()
}

/// Asserts a problem+json response with this status and code.
fn assert_problem(
    response: (StatusCode, String, String),
    status: StatusCode,
    code: &str,
) -> Problem {
    let (got, content_type, body) = response;
    assert_eq!(got, status, "body: {body}");
    assert_eq!(content_type, "application/problem+json");
    let problem: Problem = serde_json::from_str(&body).unwrap();
    assert_eq!(problem.code, code);
    assert_eq!(problem.status, status.as_u16());
    assert_eq!(
        problem.problem_type,
        format!("urn:parcelport:problem:{code}")
    );
    problem
}

#[tokio::test]
async fn a_valid_request_passes() {
    let (status, _, body) = send(post_json(
        Some("staff-secret"),
        r#"{"parcel_id":"p-1","grams":1200}"#,
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "dock-1 weighed 1200 g");
}

#[tokio::test]
async fn missing_and_invalid_tokens_are_401() {
    let body = r#"{"parcel_id":"p-1","grams":1}"#;
    assert_problem(
        send(post_json(None, body)).await,
        StatusCode::UNAUTHORIZED,
        "auth.missing_token",
    );
    assert_problem(
        send(post_json(Some("nope"), body)).await,
        StatusCode::UNAUTHORIZED,
        "auth.invalid_token",
    );
    let response = app().oneshot(post_json(None, body)).await.unwrap();
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
}

#[tokio::test]
async fn a_wrong_role_is_403_and_admin_passes() {
    let body = r#"{"parcel_id":"p-1","grams":1}"#;
    assert_problem(
        send(post_json(Some("member-secret"), body)).await,
        StatusCode::FORBIDDEN,
        "auth.forbidden",
    );
    let (status, _, _) = send(post_json(Some("admin-secret"), body)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_member_reaches_only_their_own_parcels() {
    let (status, _, body) = send(get_as("member-secret", "/members/m-1/parcels")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "parcels of m-1"));
    assert_problem(
        send(get_as("member-secret", "/members/m-2/parcels")).await,
        StatusCode::FORBIDDEN,
        "auth.other_member",
    );
    assert_problem(
        send(get_as("member-secret", "/members/a%20b/parcels")).await,
        StatusCode::BAD_REQUEST,
        "request.invalid",
    );
}

#[tokio::test]
async fn malformed_bodies_are_4xx_problems() {
    let staff = Some("staff-secret");
    assert_problem(
        send(post_json(staff, "{not json")).await,
        StatusCode::BAD_REQUEST,
        "request.malformed_json",
    );
    let wrong_type = r#"{"parcel_id":"p-1","grams":"heavy"}"#;
    assert_problem(
        send(post_json(staff, wrong_type)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "request.invalid_body",
    );
    let negative = r#"{"parcel_id":"p-1","grams":-5}"#;
    assert_problem(
        send(post_json(staff, negative)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "request.invalid_body",
    );
    let unknown = r#"{"parcel_id":"p-1","grams":1,"color":"red"}"#;
    let problem = assert_problem(
        send(post_json(staff, unknown)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "request.invalid_body",
    );
    assert!(problem.detail.clone().unwrap().contains("color"));
    let huge = format!(
        r#"{{"parcel_id":"{}","grams":1}}"#,
        "x".repeat(web::MAX_BODY_BYTES)
    );
    assert_problem(
        send(post_json(staff, huge)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "request.body_too_large",
    );
    let not_json = Request::post("/weigh")
        .header(header::AUTHORIZATION, "Bearer staff-secret")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(HttpBody::from("grams=1"))
        .unwrap();
    assert_problem(
        send(not_json).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "request.unsupported_media_type",
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    assert_problem(
        send(get_as("staff-secret", "/nowhere")).await,
        StatusCode::NOT_FOUND,
        "route.not_found",
    );
    assert_problem(
        send(get_as("staff-secret", "/weigh")).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "route.method_not_allowed",
    );
}

#[tokio::test]
async fn a_panic_is_an_opaque_500_problem() {
    let problem = assert_problem(
        send(get_as("staff-secret", "/boom")).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
    );
    assert!(!serde_json::to_string(&problem)
        .unwrap()
        .contains("secret internal detail"));
}

#[test]
fn token_files_hold_hashes_and_are_checked() {
    let good = format!(
        "[[tokens]]\nname = \"aiko\"\nrole = \"member\"\nmember_id = \"m-1\"\nsha256 = \"{}\"\n",
        hash_token("s3cret")
    );
    let book = TokenBook::from_toml(&good).unwrap();
    assert_eq!(book.authenticate("s3cret").unwrap().name, "aiko");
    assert!(book.authenticate("S3cret").is_none());
    assert_eq!(hash_token("test").len(), 64);

    let no_member = good.replace("member_id = \"m-1\"\n", "");
    assert!(matches!(
        TokenBook::from_toml(&no_member),
        Err(TokenFileError::Invalid { .. })
    ));
    let staff_with_member = good.replace("role = \"member\"", "role = \"ops\"");
    assert!(matches!(
        TokenBook::from_toml(&staff_with_member),
        Err(TokenFileError::Invalid { .. })
    ));
    let short_hash = good.replace(&hash_token("s3cret"), "abc");
    assert!(matches!(
        TokenBook::from_toml(&short_hash),
        Err(TokenFileError::Invalid { .. })
    ));
    let unknown_role = good.replace("role = \"member\"", "role = \"king\"");
    assert!(matches!(
        TokenBook::from_toml(&unknown_role),
        Err(TokenFileError::Parse(_))
    ));
    let twice = format!("{good}{}", good.replace("aiko", "aiko2"));
    assert!(matches!(
        TokenBook::from_toml(&twice),
        Err(TokenFileError::Invalid { .. })
    ));
}

//! Read your writes (#15): every command answers the global `position` of its last event, and
//! the query API's `?after=<position>` waits until the view it reads has applied it. A hundred
//! writers at once each register a member and at once read the member's account from the
//! billing view with `after`: every one sees its own account, on the embedded store and on
//! PostgreSQL. A malformed `after` is a 400, a position past the store's newest event a 422, and
//! a position no view will reach is a 503 `view.behind` after the bounded wait.

mod common;

use common::{call, secret, Running};
use hyper::Method;
use parcelport::{ServeConfig, Server, StoreChoice};
use serde_json::json;
use std::sync::Arc;
use testkit::ScratchDb;

async fn hundred_writers_read_their_writes(config: ServeConfig) {
    let server = Server::open(config).await.expect("serve");
    let admin = secret(&server, "admin");
    let running = Running::start(server).await;
    let address = running.address;
    let admin = Arc::new(admin);

    let writers = (0..100).map(|writer| {
        let admin = Arc::clone(&admin);
        tokio::spawn(async move {
            let (status, registered) = call(
                address,
                Method::POST,
                "/v1/members",
                &admin,
                Some(json!({
                    "name": format!("Writer {writer}"), "birth_date": "1990-01-01",
                    "email": format!("writer{writer}@example.com"),
                    "forwarding_only_accepted": true
                })),
            )
            .await;
            assert_eq!(status, 201, "{registered:#}");
            let member = registered["id"]
                .as_str()
                .expect("the member's id")
                .to_owned();
            let position = registered["position"]
                .as_str()
                .unwrap_or_else(|| panic!("no position answered: {registered:#}"))
                .to_owned();
            let (status, account) = call(
                address,
                Method::GET,
                &format!("/v1/billing/accounts/acct-{member}?after={position}"),
                &admin,
                None,
            )
            .await;
            assert_eq!(
                status, 200,
                "writer {writer} did not read its own account after {position}: {account:#}"
            );
            assert_eq!(
                account["account"]["member_id"],
                member.as_str(),
                "{account:#}"
            );
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.expect("a writer");
    }

    // A malformed position is refused, and so, at once, is one past the store's newest event.
    let (status, problem) = call(
        address,
        Method::GET,
        "/v1/storage/counts?after=soon",
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("query.invalid_parameter")),
        "{problem:#}"
    );
    let (status, problem) = call(
        address,
        Method::GET,
        &format!("/v1/storage/counts?after={}:1", u64::MAX >> 1),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("query.position_not_given")),
        "{problem:#}"
    );
    // The start of the store is always applied; and who asks comes before what they ask.
    let (status, _) = call(
        address,
        Method::GET,
        "/v1/storage/counts?after=0:0",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, problem) = call(
        address,
        Method::GET,
        "/v1/storage/counts?after=1:1",
        "",
        None,
    )
    .await;
    assert_eq!(status, 401, "{problem:#}");

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_writers_read_their_writes_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    hundred_writers_read_their_writes(ServeConfig::embedded(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_writers_read_their_writes_on_postgres() {
    let db = ScratchDb::create("read_your_writes").await;
    let dir = tempfile::tempdir().unwrap();
    hundred_writers_read_their_writes(ServeConfig {
        store: StoreChoice::Postgres {
            database_url: db.url().to_owned(),
            nats_url: None,
        },
        max_connections: 16,
        ..ServeConfig::embedded(dir.path())
    })
    .await;
}

//! Bad query parameters are problems with a stable code, never a 500: 400 for a parameter
//! its schema refuses, 422 for a well-formed one that names nothing (a cursor this list did
//! not issue, a time range ending before it starts).

use crate::support::{Warehouse, ADMIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_problems_with_stable_codes() {
    let warehouse = Warehouse::load().await;
    let audit_cursor = warehouse.ok("/v1/audit/events?limit=1", ADMIN).await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        (
            "/v1/storage/parcels?limit=0",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/storage/parcels?limit=501",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/storage/parcels?limit=ten",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/storage/parcels?limit=-1",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/storage/parcels?state=flying",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/storage/parcels?colour=red",
            400,
            "query.invalid_parameter",
        ),
        ("/v1/storage/parcels?cursor=zz", 422, "query.invalid_cursor"),
        (
            "/v1/storage/parcels?cursor=abc",
            422,
            "query.invalid_cursor",
        ),
        ("/v1/billing/fees?by=week", 400, "query.invalid_parameter"),
        ("/v1/storage/due-today", 400, "query.invalid_parameter"),
        (
            "/v1/storage/due-today?task=sleep",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/storage/past-limit?limit=0",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/billing/refunds-due?cursor=zz",
            422,
            "query.invalid_cursor",
        ),
        (
            "/v1/projections/audit/parked?limit=501",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/billing/open-quotes?member=1",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/audit/events?aggregate_type=planet",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/audit/events?from=yesterday",
            400,
            "query.invalid_parameter",
        ),
        (
            "/v1/audit/events?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
            422,
            "query.range_reversed",
        ),
        ("/v1/audit/planet/x/history", 400, "query.invalid_parameter"),
    ];
    for (path, status, code) in cases {
        let answer = warehouse.get(path, ADMIN).await;
        assert_eq!(answer.status, status, "{path}: {:#}", answer.body);
        assert_eq!(answer.body["code"], code, "{path}");
        assert_eq!(answer.content_type, "application/problem+json", "{path}");
        assert_eq!(
            answer.body["type"],
            format!("urn:parcelport:problem:{code}"),
            "{path}"
        );
    }
    // A cursor of the right list that does not name a position.
    let malformed = "audit:nowhere"
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let answer = warehouse
        .get(&format!("/v1/audit/events?cursor={malformed}"), ADMIN)
        .await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["code"], "query.invalid_cursor");
    // A cursor of one list is refused by another.
    let crossed = warehouse
        .get(&format!("/v1/storage/parcels?cursor={audit_cursor}"), ADMIN)
        .await;
    assert_eq!(crossed.status, 422);
    assert_eq!(crossed.body["code"], "query.invalid_cursor");
    // An empty cursor is the first page, as an empty filter is no filter.
    for path in [
        "/v1/storage/parcels?cursor=",
        "/v1/audit/events?cursor=&limit=5",
    ] {
        let first = warehouse.get(path, ADMIN).await;
        assert_eq!(first.status, 200, "{path}: {:#}", first.body);
    }

    for (path, code) in [
        ("/v1/storage/parcels/p-none", "parcel.not_found"),
        ("/v1/billing/accounts/a-none", "account.not_found"),
        ("/v1/audit/parcel/p-none/history", "history.not_found"),
        ("/v1/projections/weather/parked", "view.not_found"),
        ("/v1/nowhere", "route.not_found"),
    ] {
        let answer = warehouse.get(path, ADMIN).await;
        assert_eq!(answer.status, 404, "{path}: {:#}", answer.body);
        assert_eq!(answer.body["code"], code, "{path}");
        assert_eq!(answer.content_type, "application/problem+json", "{path}");
    }
}

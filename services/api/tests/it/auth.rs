//! The auth table, for every endpoint of the document: no token 401, an unknown token 401,
//! every role the endpoint does not list 403, a member's token reaching for another member's
//! aggregate (by path, or by body for consolidation and expectation) 403, and the roles it
//! lists let through.

use crate::checks::{auth_checks, ops, Reached, World};
use crate::support::*;

#[tokio::test]
async fn every_endpoint_checks_tokens_roles_and_members() {
    let app = spawn_app().await;
    let world = World::new(&app).await;
    let doc = api::openapi_document();
    let mut seen = Reached::new();
    let ops = ops(&doc);
    assert_eq!(ops.len(), api::routes().len());
    for op in &ops {
        auth_checks(&app, &world, op, &mut seen).await;
    }
    for op in &ops {
        let pair = |code: &str| (op.id.clone(), code.to_owned());
        assert!(seen.contains(&pair("auth.missing_token")), "{}", op.id);
        assert!(seen.contains(&pair("auth.invalid_token")), "{}", op.id);
        if op.roles.iter().any(|r| r == "member") {
            assert!(seen.contains(&pair("auth.other_member")), "{}", op.id);
        }
        let everybody = crate::checks::ROLES
            .iter()
            .all(|role| op.roles.iter().any(|r| r == role));
        assert_eq!(
            seen.contains(&pair("auth.forbidden")),
            !everybody,
            "{}",
            op.id
        );
    }
}

#[tokio::test]
async fn a_member_acts_on_their_own_aggregates() {
    let app = spawn_app().await;
    let member = app.verified().await;
    let parcel = app.stored_parcel(&member, 500, 1_000).await;
    let own = [
        format!("/v1/members/{}", member.id),
        format!("/v1/accounts/{}", member.account_id),
        format!("/v1/parcels/{parcel}"),
    ];
    for path in own {
        app.get(&path, &member.token).await.expect(200);
    }
    app.post(
        &format!("/v1/members/{}/set-auto-ship", member.id),
        &member.token,
        serde_json::json!({ "limit": yen(5_000) }),
    )
    .await
    .expect(200);
}

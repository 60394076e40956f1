//! The embedded engine on a data directory: `SqliteEngine::open` creates the file and its
//! tables, and a reopened directory carries on where it stopped.

use crate::support::registration;
use domain::facts::StandingStatus;
use domain::member::{IdentityDocument, Member, MemberCommand};
use domain::{Policy, Services};
use engine::{CommandContext, EngineConfig, SqliteEngine};
use event_store::GlobalCursor;

fn ctx() -> CommandContext {
    CommandContext::new("operator:test", uuid::Uuid::new_v4().to_string())
}

async fn open(dir: &std::path::Path) -> SqliteEngine {
    SqliteEngine::open(
        dir,
        Services::new(Policy::jp_forwarding()),
        EngineConfig::new("TYO").unwrap(),
    )
    .await
    .expect("open the data directory")
}

#[tokio::test]
async fn a_reopened_data_directory_carries_on_where_it_stopped() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("parcelport");

    let engine = open(&dir).await;
    let first = engine
        .register_member(registration(), &ctx())
        .await
        .unwrap();
    engine
        .execute::<Member>(
            first.member_id.as_str(),
            MemberCommand::VerifyIdentity {
                document: IdentityDocument::Passport {
                    photo_page_checked: true,
                    address_page_checked: true,
                },
                expires_on: chrono::NaiveDate::from_ymd_opt(2031, 1, 1).unwrap(),
            },
            &ctx(),
        )
        .await
        .unwrap();
    let before = engine
        .event_log()
        .read_after(GlobalCursor::START, 100)
        .await
        .unwrap();
    engine.event_log().close().await;
    drop(engine);

    let engine = open(&dir).await;
    // The member is loaded from the file, verified.
    let standing = engine.standing(&first.member_id).await.unwrap();
    assert_eq!(standing.status, StandingStatus::Verified);
    // Suite codes go on from the last one.
    let second = engine
        .register_member(registration(), &ctx())
        .await
        .unwrap();
    assert_eq!(first.suite_code.as_str(), "TYO-000001");
    assert_eq!(second.suite_code.as_str(), "TYO-000002");
    // The log holds the first session's events, then the second's, in commit order.
    let after = engine
        .event_log()
        .read_after(GlobalCursor::START, 100)
        .await
        .unwrap();
    assert!(after.len() > before.len());
    assert_eq!(after[..before.len()], before[..]);
    assert!(after.windows(2).all(|pair| pair[0].cursor < pair[1].cursor));
    assert!(after.iter().all(|event| event.cursor.txid == 0));
}

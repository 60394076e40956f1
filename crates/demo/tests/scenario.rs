//! The demo's own checks; its run against the real API is `services/api/tests/it/demo.rs`
//! (the API depends on the demo for that test, never the reverse).

const ADMIN: &str = "demo-admin-secret";

#[tokio::test]
async fn a_size_below_the_minimum_is_refused_before_any_request() {
    let mut options = demo::DemoOptions::new("http://127.0.0.1:9", ADMIN, 1);
    options.size.parcels = demo::DemoSize::MIN_PARCELS - 1;
    let refused = demo::run(options, demo::Silent).await.unwrap_err();
    assert!(
        matches!(refused, demo::DemoError::TooSmall { .. }),
        "{refused}"
    );
}

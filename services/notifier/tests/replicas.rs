//! `parcelport-notifier` on PostgreSQL, as the distributed mode runs it: a server (`parcelport
//! serve` on a scratch database, no notifier of its own) loads the demo, so the notices view
//! fills; then notifier processes deliver it to a webhook receiver. The first is killed
//! (SIGKILL) as soon as it has delivered something, a second with the same `--name` takes over
//! by lease and delivers the rest, and a third started afterwards sends nothing again. Every
//! notice reaches the receiver, signed, under its id; only the delivery in flight at the kill
//! may arrive twice, with the same `webhook-id` for the receiver to deduplicate.

use parcelport::{ServeConfig, Server, StoreChoice};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::ScratchDb;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The webhook ids received, with how often each came.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<BTreeMap<String, usize>>>);

impl Received {
    fn ids(&self) -> BTreeMap<String, usize> {
        self.0.lock().unwrap().clone()
    }
}

async fn receive(
    axum::extract::State(received): axum::extract::State<Received>,
    headers: axum::http::HeaderMap,
    body: String,
) -> axum::http::StatusCode {
    let id = headers["webhook-id"].to_str().unwrap().to_owned();
    let timestamp = headers["webhook-timestamp"].to_str().unwrap();
    let key = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(SECRET.trim_start_matches("whsec_"))
            .unwrap()
    };
    let expected = format!("v1,{}", notifier::sign(&key, &id, timestamp, &body));
    assert_eq!(headers["webhook-signature"].to_str().unwrap(), expected);
    *received.0.lock().unwrap().entry(id).or_default() += 1;
    axum::http::StatusCode::NO_CONTENT
}

fn notifier(database_url: &str, webhook: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_parcelport-notifier"))
        .args(["--database-url", database_url, "--webhook", webhook])
        .args(["--webhook-secret", SECRET, "--listen", "127.0.0.1:0"])
        .args(["--name", "notifier-test"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start parcelport-notifier")
}

/// The notices waiting for `webhook` in the view.
async fn waiting(outbox: &notifier::Outbox, webhook: &str) -> usize {
    outbox
        .pending(
            webhook,
            chrono::Utc::now() + chrono::Duration::days(1),
            10_000,
        )
        .await
        .expect("the outbox")
        .len()
}

#[tokio::test]
async fn a_standby_takes_over_and_every_notice_is_delivered_once_by_id() {
    let db = ScratchDb::create("notifier").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::embedded(dir.path());
    config.store = StoreChoice::Postgres {
        database_url: db.url().to_owned(),
        nats_url: None,
    };
    config.max_connections = 8;
    let server = Server::open(config).await.expect("serve on PostgreSQL");
    let admin = server
        .issued()
        .iter()
        .find(|token| token.name == "admin")
        .map(|token| token.secret.clone())
        .expect("an admin token");
    let views = server.views().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));
    demo::run(
        demo::DemoOptions::new(format!("http://{address}"), admin, 1),
        demo::Silent,
    )
    .await
    .unwrap_or_else(|e| panic!("the demo loads: {e}"));
    let outbox = notifier::Outbox::open(views).await.expect("the outbox");

    let received = Received::default();
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook = format!("http://{}/notices", hook.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/notices", axum::routing::post(receive))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(hook, app).await });
    // The views have caught up once the notices stop growing.
    let mut notices = 0;
    loop {
        let now = waiting(&outbox, &webhook).await;
        if now > 0 && now == notices {
            break;
        }
        notices = now;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.send(()).unwrap();
    running.await.unwrap().expect("a clean stop");
    assert!(notices > 40, "{notices} notices");

    let mut first = notifier(db.url(), &webhook);
    let standby = notifier(db.url(), &webhook);
    while received.ids().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().expect("kill the first notifier");
    first.wait().unwrap();
    let mut standby = standby;
    while waiting(&outbox, &webhook).await > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    standby.kill().unwrap();
    standby.wait().unwrap();
    let delivered = received.ids();
    assert_eq!(delivered.len(), notices, "every notice, once by id");
    let repeated: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.len() <= 1 && repeated.iter().all(|(_, n)| **n == 2),
        "only the delivery in flight at the kill may repeat: {repeated:?}"
    );

    // A restart sends nothing again.
    let mut again = notifier(db.url(), &webhook);
    let deliveries = outbox.deliveries().await.expect("deliveries");
    assert_eq!(
        deliveries
            .iter()
            .filter(|d| d.state == notifier::State::Sent)
            .count(),
        notices
    );
    // One full round of the restarted notifier: its lease taken and its round done.
    tokio::time::sleep(Duration::from_secs(3)).await;
    again.kill().unwrap();
    again.wait().unwrap();
    assert_eq!(received.ids(), delivered, "a restart sent again");
}

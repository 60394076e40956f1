//! Members are told, end to end: `parcelport serve` (embedded, on a simulated clock) with the
//! notifier delivering to a real SMTP server the test starts (aiosmtpd, writing a maildir) and
//! to a webhook receiver that fails its first answers. After the demo played over 91 simulated
//! days (through the first refund): a notice of every kind, one e-mail per notice, each worded
//! with the member's name and its own event's dates and amounts, in the member's language;
//! every webhook signed as Standard Webhooks say, retried until it lands, each notice landing
//! once; a restart sends nothing again.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use chrono::{TimeZone, Utc};
use engine::TestClock;
use notifier::ChannelConfig;
use notifier::{Language, Outbox, State};
use parcelport::{NotifierConfig, ServeConfig, Server};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An SMTP server writing every message it accepts to a maildir, stopped when dropped.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    async fn start(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let maildir = dir.join("maildir");
        let mut child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .spawn()
            .expect("start aiosmtpd (scripts/ensure-services.sh installs it)");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self {
                    child,
                    port,
                    maildir,
                };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not listen on {port}");
    }

    /// Every message delivered, as text.
    fn messages(&self) -> Vec<String> {
        let mut messages = Vec::new();
        for folder in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(folder)) else {
                continue;
            };
            for entry in entries {
                messages.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
            }
        }
        messages
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A webhook receiver answering 500 to its first `failures` requests.
#[derive(Clone, Default)]
struct Receiver {
    failures: Arc<Mutex<u32>>,
    received: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

async fn receive(
    axum::extract::State(receiver): axum::extract::State<Receiver>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let mut failures = receiver.failures.lock().unwrap();
    if *failures > 0 {
        *failures -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    receiver.received.lock().unwrap().push((headers, body));
    StatusCode::NO_CONTENT
}

/// The kind of notice an event calls for and the fields of the event the notice must state.
fn notice_facts(event_type: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match event_type {
        "parcel.arrival_notice_sent" => ("arrival", &["received_on", "forwarding_fee"]),
        "parcel.inspected" => ("inspection", &["inspected_on"]),
        "parcel.storage_notice_sent" => ("storage_notice", &["last_free_day", "days_before"]),
        "parcel.marked_disposable" => ("marked_disposable", &["last_free_day"]),
        "shipment.quoted" => ("quote", &["total", "due_on"]),
        "shipment.held" => ("held", &["held_on"]),
        "shipment.payment_reminded" => ("payment_reminder", &["amount", "due_on", "dunning_from"]),
        "shipment.dunning_notice_sent" => {
            ("dunning_notice", &["amount", "pay_by", "interest_from"])
        }
        "shipment.shipped" => ("shipped", &["tracking_number", "shipped_on"]),
        "shipment.claim_responded" | "shipment.claim_approved" | "shipment.claim_rejected" => {
            ("claim_answer", &["claim_id"])
        }
        "account.refunded" => ("refund", &["paid", "paid_on"]),
        _ => return None,
    })
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn serve(dir: &Path, smtp: u16, webhook: &str, clock: &TestClock) -> (String, Server) {
    let mut config = ServeConfig::embedded(dir);
    config.clock = Some(clock.clone());
    config.notifier = Some(NotifierConfig {
        channels: vec![
            ChannelConfig::Email {
                url: format!("smtp://127.0.0.1:{smtp}"),
                from: "parcelport <notices@parcelport.example>".to_owned(),
            },
            ChannelConfig::Webhook {
                url: webhook.to_owned(),
                secret: SECRET.to_owned(),
            },
        ],
        options: notifier::NotifierOptions {
            language: Language::En,
            interval: Duration::from_millis(50),
            retry_after: Duration::from_millis(50),
            ..notifier::NotifierOptions::default()
        },
    });
    let server = Server::open(config).await.expect("serve");
    let admin = server
        .issued()
        .iter()
        .find(|token| token.name == "admin")
        .map(|token| token.secret.clone())
        .unwrap_or_default();
    (admin, server)
}

/// Runs `server` until every notice is delivered to both channels; the outbox after.
async fn deliver_everything(
    server: Server,
    data: &Path,
    targets: &[&str],
    after: impl AsyncFnOnce(String),
) -> Outbox {
    let views = server.views().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));
    after(format!("http://{address}")).await;
    let outbox = Outbox::open(views).await.expect("the outbox");
    let settled = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let later = Utc::now() + chrono::Duration::days(3650);
            let mut waiting = 0;
            for target in targets {
                waiting += outbox.pending(target, later, 1).await.unwrap().len();
            }
            let retrying = outbox
                .deliveries()
                .await
                .unwrap()
                .iter()
                .filter(|d| d.state == State::Retrying)
                .count();
            if waiting == 0 && retrying == 0 && !outbox.deliveries().await.unwrap().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    stop.send(()).unwrap();
    running.await.unwrap().expect("a clean stop");
    settled.expect("every notice delivered within two minutes");
    // The server closed its views file: read the record from it again.
    let views = projections::ViewDb::open_sqlite(data.join(parcelport::VIEWS_FILE))
        .await
        .expect("the views file");
    Outbox::open(views).await.expect("the outbox")
}

#[tokio::test]
async fn members_are_told_by_email_and_signed_webhooks_once() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(dir.path()).await;
    let receiver = Receiver {
        failures: Arc::new(Mutex::new(3)),
        ..Receiver::default()
    };
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook = format!("http://{}/notices", hook.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/notices", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(hook, app).await });

    let clock = TestClock::at(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap());
    let data = dir.path().join("data");
    let (admin, server) = serve(&data, smtp.port, &webhook, &clock).await;
    let targets = ["email", webhook.as_str()];
    let outbox = deliver_everything(server, &data, &targets, async |base: String| {
        demo::run(
            demo::DemoOptions {
                // Through 30 June: the withdrawing member's refund falls due (ACC-7).
                days: 91,
                ..demo::DemoOptions::new(base, admin.clone(), 1)
            },
            demo::Silent,
        )
        .await
        .unwrap_or_else(|e| panic!("the demo loads: {e}"));
    })
    .await;

    let deliveries = outbox.deliveries().await.unwrap();
    let sent = |target: &str| -> BTreeSet<String> {
        deliveries
            .iter()
            .filter(|d| d.target == target && d.state == State::Sent)
            .map(|d| d.notice_id.clone())
            .collect()
    };
    let (emailed, hooked) = (sent("email"), sent(&webhook));
    assert!(emailed.len() > 40, "{} notices e-mailed", emailed.len());
    // The record keeps the words sent sealed with the member's key (#10): they name the
    // member, so the views file holds none of them readable; the notifier opens them.
    assert!(deliveries
        .iter()
        .filter(|d| d.state == State::Sent)
        .all(|d| d.subject.starts_with(domain::personal::SEALED_PREFIX)
            && d.body.starts_with(domain::personal::SEALED_PREFIX)));
    let keys = personal_data::KeyStore::sqlite(&data.join(parcelport::KEYS_FILE))
        .await
        .expect("the key store");
    let views = projections::ViewDb::open_sqlite(data.join(parcelport::VIEWS_FILE))
        .await
        .expect("the views file");
    let reader = notifier::Notifier::new(
        views,
        Vec::new(),
        Arc::new(clock.clone()),
        notifier::NotifierOptions::default(),
    )
    .await
    .expect("a notifier")
    .opening_personal_data_with(Arc::new(personal_data::PersonalData::new(keys)));
    let opened = reader.deliveries().await.expect("the record opened");
    assert!(
        opened
            .iter()
            .any(|d| d.subject.starts_with("Free storage of parcel") && d.body.contains("Dear ")),
        "no storage notice in the record"
    );
    // Each member in their own language: the demo's second member chose Japanese, the others
    // read the server's English.
    let arrivals = |prefix: &str| {
        opened
            .iter()
            .filter(|d| d.target == "email" && d.subject.starts_with(prefix))
            .count()
    };
    assert!(
        arrivals("お荷物が到着しました") > 0,
        "no arrival notice in Japanese"
    );
    assert!(
        arrivals("Your parcel arrived") > 0,
        "no arrival notice in English"
    );
    assert_eq!(emailed, hooked, "both channels tell the same notices");

    // One e-mail per notice, named by its id.
    let messages = smtp.messages();
    let ids: BTreeMap<String, &String> = messages
        .iter()
        .filter_map(|m| {
            let id = m.lines().find_map(|l| l.strip_prefix("Message-ID: <"))?;
            Some((
                id.trim_end_matches('>')
                    .trim_end_matches("@parcelport")
                    .to_owned(),
                m,
            ))
        })
        .collect();
    assert_eq!(messages.len(), ids.len(), "an e-mail sent twice");
    assert_eq!(ids.keys().cloned().collect::<BTreeSet<_>>(), emailed);
    // Worded from the events: the storage notice names the parcel's last free day as its
    // event recorded it.
    let notice = messages
        .iter()
        .find(|m| m.contains("Subject: Free storage of parcel"))
        .expect("a storage notice (STO-2) e-mailed");
    assert!(notice.contains("Dear "), "{notice}");
    let store = event_store::sqlite::SqliteEventStore::open_read_only(&data)
        .await
        .expect("the store");
    let mut events = Vec::new();
    let mut cursor = event_store::GlobalCursor::default();
    loop {
        let page = event_store::EventLog::read_after(&store, cursor, 1000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.cursor;
        events.extend(page);
    }
    store.close().await;
    let sent = events
        .iter()
        .find(|e| e.event_type == "parcel.storage_notice_sent" && notice.contains(&e.aggregate_id))
        .expect("the notice's event");
    let last_free_day = sent.payload["storage_notice_sent"]["last_free_day"]
        .as_str()
        .unwrap();
    assert!(notice.contains(last_free_day), "{last_free_day}: {notice}");
    // Dunning (ACC-6): the reminder, then the notice naming the amount, its deadline and the
    // day interest starts, as its event recorded them.
    assert!(
        messages
            .iter()
            .any(|m| m.contains("Subject: Payment reminder: ")),
        "no payment reminder e-mailed"
    );
    let dunning = messages
        .iter()
        .find(|m| m.contains("Subject: Dunning notice: pay "))
        .expect("a dunning notice (ACC-6) e-mailed");
    let sent = events
        .iter()
        .find(|e| {
            e.event_type == "shipment.dunning_notice_sent" && dunning.contains(&e.aggregate_id)
        })
        .expect("the dunning notice's event");
    let facts = &sent.payload["dunning_notice_sent"];
    // The body is quoted-printable: join its soft line breaks.
    let dunning = dunning.replace("=\r\n", "").replace("=\n", "");
    for expected in [
        facts["pay_by"].as_str().unwrap().to_owned(),
        facts["interest_from"].as_str().unwrap().to_owned(),
        format!("{} JPY", facts["amount"]["amount"].as_str().unwrap()),
        "14.5% a year".to_owned(),
    ] {
        assert!(dunning.contains(&expected), "{expected}: {dunning}");
    }
    assert!(
        messages
            .iter()
            .any(|m| m.contains("Subject: Your parcel arrived")
                && m.contains("was received on 2026-04-01")),
        "no arrival notice (PAR-3) of the first day"
    );

    // A notice of every kind, each worded from its own event: the e-mail (and the webhook) of
    // every event that calls for one carries the event's dates and amounts, as sent.
    // A parcel nobody claimed (PAR-1, unidentified) has nobody to tell.
    let owned: BTreeSet<&str> = events
        .iter()
        .filter(|e| {
            e.event_type == "parcel.attached_to_member"
                || e.event_type == "parcel.expected"
                || (e.event_type == "parcel.arrived"
                    && !e.payload["arrived"]["member_id"].is_null())
        })
        .map(|e| e.aggregate_id.as_str())
        .collect();
    let mut kinds_seen = BTreeSet::new();
    for event in &events {
        let Some((kind, facts)) = notice_facts(&event.event_type) else {
            continue;
        };
        if event.aggregate_type == "parcel" && !owned.contains(event.aggregate_id.as_str()) {
            let id = event.event_id.to_string();
            assert!(
                !opened
                    .iter()
                    .any(|d| d.notice_id == id && d.state == State::Sent),
                "a notice of an unclaimed parcel sent: {id}"
            );
            continue;
        }
        let fields = event
            .payload
            .as_object()
            .and_then(|tagged| tagged.values().next())
            .unwrap_or_else(|| panic!("{} payload: {}", event.event_type, event.payload));
        let id = event.event_id.to_string();
        let words = opened
            .iter()
            .find(|d| d.target == "email" && d.notice_id == id)
            .unwrap_or_else(|| {
                let history: Vec<_> = events
                    .iter()
                    .filter(|e| e.aggregate_id == event.aggregate_id)
                    .map(|e| (e.event_type.clone(), e.payload.to_string()))
                    .collect();
                panic!("no e-mail for {} {id}: {history:#?}", event.event_type)
            });
        let text = format!("{}\n{}", words.subject, words.body);
        for path in facts {
            let value = &fields[*path];
            let shown = match (value["amount"].as_str(), value["currency"].as_str()) {
                (Some(amount), Some(currency)) => format!("{amount} {currency}"),
                _ => value
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| value.as_u64().map(|n| n.to_string()))
                    .unwrap_or_else(|| panic!("{} has no {path}: {fields}", event.event_type)),
            };
            assert!(
                text.contains(&shown),
                "the {kind} notice of {id} lacks {path} {shown}: {text}"
            );
        }
        kinds_seen.insert(kind);
    }
    let every_kind: BTreeSet<&str> = [
        "arrival",
        "inspection",
        "storage_notice",
        "marked_disposable",
        "quote",
        "held",
        "payment_reminder",
        "dunning_notice",
        "shipped",
        "claim_answer",
        "refund",
    ]
    .into();
    assert_eq!(kinds_seen, every_kind, "not every kind of notice was sent");

    // Every webhook signed; the failures retried until each notice landed once.
    let received = receiver.received.lock().unwrap().clone();
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let mut landed = BTreeSet::new();
    for (headers, body) in &received {
        let id = headers["webhook-id"].to_str().unwrap();
        let timestamp = headers["webhook-timestamp"].to_str().unwrap();
        let expected = format!("v1,{}", notifier::sign(&key, id, timestamp, body));
        assert_eq!(headers["webhook-signature"].to_str().unwrap(), expected);
        assert!(landed.insert(id.to_owned()), "webhook {id} landed twice");
    }
    assert_eq!(landed, hooked);
    assert!(
        deliveries
            .iter()
            .any(|d| d.attempts > 1 && d.state == State::Sent),
        "no delivery was retried"
    );

    // A restart (the views and outbox are read again) sends nothing again.
    let (_, server) = serve(&data, smtp.port, &webhook, &clock).await;
    deliver_everything(server, &data, &targets, async |_| {}).await;
    assert_eq!(smtp.messages().len(), messages.len(), "e-mails sent again");
    assert_eq!(receiver.received.lock().unwrap().len(), received.len());
}

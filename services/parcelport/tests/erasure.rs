//! Erasure of a member's personal data (issue #10, crypto-shredding), end to end on the
//! embedded `serve` with a simulated clock: a member registers, tops up, withdraws and is
//! closed; erasure is refused until the retention period has passed, then `parcelport member
//! erase` deletes their key. Afterwards `audit verify` still passes with the writer's key and
//! the anchors, no byte of their name, e-mail, birth date or payer name is left in any file
//! of the data directory (events, views, engine tables, keys), and their member, parcel and
//! account histories still load through the API, with stand-ins.

use chrono::{TimeZone, Utc};
use engine::TestClock;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use parcelport::{ServeConfig, Server, StoreChoice};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use std::net::SocketAddr;
use std::path::Path;
use web::policy::PolicySource;

const NAME: &str = "Hanako Erasuretest";
const EMAIL: &str = "hanako.erasuretest@example.jp";
const BIRTH: &str = "1988-07-14";
const PAYER: &str = "ERASURETEST HANAKO";

async fn call(
    address: SocketAddr,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", address.to_string())
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .body(Full::new(Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .expect("a request");
    let response = sender.send_request(request).await.expect("an answer");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Runs `parcelport` with `args` and returns what it printed; it must succeed.
fn parcelport(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_parcelport"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run parcelport {args:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "parcelport {args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Every file under `dir` whose bytes contain one of `secrets`, with the secret.
fn files_holding(dir: &Path, secrets: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the data directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            found.extend(files_holding(&path, secrets));
            continue;
        }
        // A `-wal` or `-shm` file may go away as its pool finishes closing: its pages are in
        // the database file then, which is read too.
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("read {}: {e}", path.display()),
        };
        for secret in secrets {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                found.push((path.display().to_string(), (*secret).to_owned()));
            }
        }
    }
    found
}

/// A server on `config` that ran a member's whole history and erased them, still running.
struct Erased {
    member: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), parcelport::ServeError>>,
}

impl Erased {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().expect("a clean stop");
    }
}

/// On `config` (its data directory `dir`): a member registers, a parcel arrives for them,
/// they top up, withdraw and are closed; erasure is refused within the retention period,
/// then `parcelport member erase` erases them; their histories still load, with stand-ins.
async fn history_then_erasure(mut config: ServeConfig, dir: &Path) -> Erased {
    let clock = TestClock::at(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap());
    config.clock = Some(clock.clone());
    // jp-forwarding with a retention of one month, so that the clock need not cross 7 years.
    let policy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../domain/policies/jp-forwarding.toml"),
    )
    .expect("the shipped policy");
    let policy = policy.replace(
        "personal_data_retention_months = 84",
        "personal_data_retention_months = 1",
    );
    assert!(policy.contains("personal_data_retention_months = 1"));
    let policy_file = dir.join("policy.toml");
    std::fs::write(&policy_file, policy).expect("write the policy");
    config.policy = PolicySource::File(policy_file);
    let server = Server::open(config).await.expect("serve");
    let admin = server
        .issued()
        .iter()
        .find(|token| token.name == "admin")
        .map(|token| token.secret.clone())
        .expect("an admin token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));
    let post = |path: String, body: Value| {
        let admin = admin.clone();
        async move { call(address, &admin, Method::POST, &path, Some(body)).await }
    };

    let (status, registered) = post(
        "/v1/members".into(),
        json!({"name": NAME, "birth_date": BIRTH, "email": EMAIL, "forwarding_only_accepted": true}),
    )
    .await;
    assert_eq!(status, 201, "{registered:#}");
    assert!(!registered.to_string().contains("Erasuretest") || status == 201);
    let member = registered["id"]
        .as_str()
        .or_else(|| registered["result"]["member_id"].as_str())
        .expect("the member's id")
        .to_owned();
    let suite_code = registered["result"]["suite_code"]
        .as_str()
        .expect("the suite code")
        .to_owned();
    // A parcel arrives for them and is stored; the withdrawal disposes of it (MEM-8).
    let (status, arrived) = post(
        "/v1/parcels".into(),
        json!({"label": suite_code, "weight": 1200, "shop": "erasure-shop",
               "dimensions": {"length_mm": 300, "width_mm": 200, "height_mm": 100}}),
    )
    .await;
    assert_eq!(status, 201, "{arrived:#}");
    let parcel = arrived["id"]
        .as_str()
        .or_else(|| arrived["result"]["parcel_id"].as_str())
        .expect("the parcel's id")
        .to_owned();
    let deposit = json!({"deposited_on": "2026-04-01", "bank": "Rakuten Bank",
                         "amount": {"amount": "5000", "currency": "JPY"}, "payer_name": PAYER});
    let mut bank = deposit.clone();
    bank["deposit_id"] = json!("dep-erasure-1");
    let (status, topped) = post(
        format!("/v1/members/{member}/top-up-applications"),
        json!({"declared": deposit, "deposit": bank}),
    )
    .await;
    assert!(status < 300, "{topped:#}");
    let (status, withdrawn) = post(
        format!("/v1/members/{member}/request-withdrawal"),
        json!({}),
    )
    .await;
    assert!(status < 300, "{withdrawn:#}");
    // The refund falls due on 30 June (ACC-7): the scheduler pays it and closes the member.
    let advance = |to: &str| post("/v1/clock/advance".into(), json!({ "to": to }));
    let (status, advanced) = advance("2026-07-01T00:00:00Z").await;
    assert_eq!(status, 200, "{advanced:#}");
    let (status, shown) = call(
        address,
        &admin,
        Method::GET,
        &format!("/v1/members/{member}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{shown:#}");
    assert_eq!(
        shown["state"]["registered"]["status"]["closed"]["closed_on"], "2026-06-30",
        "{shown:#}"
    );

    // Kept for the retention period after closure (here one month: closed 30 June, kept to
    // 30 July inclusive; erasable from the 31st).
    let (status, refused) = post(
        format!("/v1/members/{member}/erase-personal-data"),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("member.retention_not_passed")),
        "{refused:#}"
    );
    let (status, advanced) = advance("2026-08-02T00:00:00Z").await;
    assert_eq!(status, 200, "{advanced:#}");

    // The CLI runs beside the server: off this runtime's only thread, which serves it.
    let args = [
        "member".to_owned(),
        "erase".to_owned(),
        member.clone(),
        "--url".to_owned(),
        format!("http://{address}"),
        "--token".to_owned(),
        admin.clone(),
    ];
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        parcelport(&args)
    })
    .await
    .expect("the CLI ran");
    let (status, again) = post(
        format!("/v1/members/{member}/erase-personal-data"),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (422, Some("member.personal_data_already_erased"))
    );

    // Their histories still load, with stand-ins where the data was.
    let (status, shown) = call(
        address,
        &admin,
        Method::GET,
        &format!("/v1/members/{member}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{shown:#}");
    let text = shown.to_string();
    assert!(text.contains("[personal data]"), "{shown:#}");
    assert!(
        !text.contains("Erasuretest") && !text.contains(BIRTH),
        "{shown:#}"
    );
    assert_eq!(
        shown["state"]["registered"]["personal_data_erased"], true,
        "{shown:#}"
    );
    // The audit view, once it has the erasure, shows their data as erased.
    let history = loop {
        let (status, history) = call(
            address,
            &admin,
            Method::GET,
            &format!("/v1/audit/member/{member}/history"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{history:#}");
        if history.to_string().contains("member.personal_data_erased") {
            break history;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let registered = history["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|e| e["event_type"] == "member.registered")
        })
        .expect("the registration");
    assert_eq!(
        registered["payload"]["registered"]["name"], "[personal data, erased]",
        "{registered:#}"
    );
    assert!(
        !history.to_string().contains("pp:sealed:v1:"),
        "{history:#}"
    );
    let (status, shown) = call(
        address,
        &admin,
        Method::GET,
        &format!("/v1/parcels/{parcel}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{shown:#}");
    let (status, account) = call(
        address,
        &admin,
        Method::GET,
        &format!("/v1/accounts/acct-{member}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{account:#}");

    Erased { member, stop, task }
}

#[tokio::test]
async fn an_erased_member_leaves_no_personal_data_and_history_still_verifies() {
    let dir = tempfile::tempdir().expect("a data directory");
    let erased = history_then_erasure(ServeConfig::embedded(dir.path()), dir.path()).await;
    erased.stop().await;

    let secrets = [NAME, "Erasuretest", EMAIL, BIRTH, PAYER];
    assert_eq!(
        files_holding(dir.path(), &secrets),
        Vec::<(String, String)>::new()
    );

    write_public_key(dir.path());
    let (data_dir, anchors, public_key) = (
        dir.path().display().to_string(),
        dir.path().join("anchors.jsonl").display().to_string(),
        dir.path().join("writer.pub").display().to_string(),
    );
    parcelport(&[
        "audit",
        "verify",
        "--data-dir",
        &data_dir,
        "--anchors",
        &anchors,
        "--public-key",
        &public_key,
    ]);
}

/// The auditor holds the writer's public key, kept apart from the store: `<dir>/writer.pub`.
fn write_public_key(dir: &Path) {
    let key = audit::checkpoint::read_signing_key(&dir.join("writer.key")).expect("the key");
    std::fs::write(
        dir.join("writer.pub"),
        audit::checkpoint::public_key_hex(&key),
    )
    .expect("write the public key");
}

/// Every row of every table of the database at `url`, as text.
async fn every_row(url: &str) -> String {
    let mut db = PgConnection::connect(url).await.expect("connect");
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables \
          WHERE table_type = 'BASE TABLE' \
            AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&mut db)
    .await
    .expect("the tables");
    assert!(
        tables.iter().any(|(_, table)| table == "events"),
        "{tables:?}"
    );
    let mut text = String::new();
    for (schema, table) in tables {
        let rows: Option<String> = sqlx::query_scalar(&format!(
            r#"SELECT string_agg(t::text, E'\n') FROM "{schema}"."{table}" t"#
        ))
        .fetch_one(&mut db)
        .await
        .expect("the rows");
        text.push_str(&rows.unwrap_or_default());
    }
    text
}

/// Every message of the JetStream stream `name`, headers and data, as bytes; none before the
/// relay has made the stream.
async fn every_message(nats: &str, name: &str) -> (u64, Vec<u8>) {
    let context = async_nats::jetstream::new(async_nats::connect(nats).await.expect("NATS"));
    let Ok(mut stream) = context.get_stream(name).await else {
        return (0, Vec::new());
    };
    let state = stream.info().await.expect("its state").state.clone();
    let mut bytes = Vec::new();
    for sequence in state.first_sequence..=state.last_sequence {
        let message = stream.get_raw_message(sequence).await.expect("a message");
        bytes.extend_from_slice(format!("{:?}", message.headers).as_bytes());
        bytes.extend_from_slice(&message.payload);
    }
    (state.messages, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_and_jetstream_no_copy_of_an_erased_members_data_is_readable() {
    let nats = testkit::NatsServer::start();
    let db = testkit::ScratchDb::create("erasure").await;
    let dir = tempfile::tempdir().expect("a data directory");
    let config = ServeConfig {
        store: StoreChoice::Postgres {
            database_url: db.url().to_owned(),
            nats_url: Some(nats.url()),
        },
        max_connections: 8,
        ..ServeConfig::embedded(dir.path())
    };
    let erased = history_then_erasure(config, dir.path()).await;
    let member = erased.member.clone();
    // Every stored event reaches the stream (the relay runs inside serve).
    let stored: i64 = {
        let mut conn = PgConnection::connect(db.url()).await.expect("connect");
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&mut conn)
            .await
            .expect("count")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while every_message(&nats.url(), "PARCELPORT").await.0 < u64::try_from(stored).unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "the relay did not publish every event"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    erased.stop().await;

    let secrets = [NAME, "Erasuretest", EMAIL, BIRTH, PAYER];
    let rows = every_row(db.url()).await;
    let (_, published) = every_message(&nats.url(), "PARCELPORT").await;
    for secret in secrets {
        assert!(!rows.contains(secret), "{secret} is in the database");
        assert!(
            !published
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} is on JetStream"
        );
    }
    assert!(rows.contains("pp:sealed:v1:"), "nothing was sealed");

    // The auditor's history of the member folds (the state holds stand-ins) and shows their
    // data as erased; an export keeps the sealed text as stored and says it is erased.
    let shown = parcelport(&[
        "audit",
        "history",
        "member",
        &member,
        "--database-url",
        db.url(),
    ]);
    assert!(
        shown.contains("[personal data]") && shown.contains("[personal data, erased]"),
        "{shown}"
    );
    assert!(!shown.contains("pp:sealed:v1:"), "{shown}");
    let export = dir.path().join("member.jsonl");
    parcelport(&[
        "audit",
        "export",
        "--aggregate",
        "member",
        "--id",
        &member,
        "--out",
        export.to_str().unwrap(),
        "--database-url",
        db.url(),
    ]);
    let exported = std::fs::read_to_string(&export).unwrap();
    assert!(
        exported.contains("pp:sealed:v1:") && exported.contains(r#""personal_data":"erased""#),
        "{exported}"
    );

    write_public_key(dir.path());
    let anchors = format!("{}/PARCELPORT_ANCHORS", nats.url());
    let public_key = dir.path().join("writer.pub").display().to_string();
    parcelport(&[
        "audit",
        "verify",
        "--database-url",
        db.url(),
        "--anchors",
        &anchors,
        "--public-key",
        &public_key,
    ]);
}

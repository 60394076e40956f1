//! `parcelport serve` end to end, over HTTP on 127.0.0.1:0: embedded on a temporary data
//! directory (the data survives a restart), and on a fresh PostgreSQL database with the
//! projectors (the storage-status view shows a received parcel).

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use parcelport::{ServeConfig, Server, StoreChoice};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running `serve`, stopped by [`Running::stop`].
struct Running {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), parcelport::ServeError>>,
}

impl Running {
    async fn start(server: Server) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(listener, async {
            let _ = stopped.await;
        }));
        Self {
            address,
            stop,
            task,
        }
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().expect("a clean stop");
    }

    /// `method path` as `token`, with a new idempotency key; the status and JSON body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let stream = tokio::net::TcpStream::connect(self.address).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.address.to_string())
            .header("authorization", format!("Bearer {token}"))
            .header("idempotency-key", uuid::Uuid::new_v4().to_string());
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Full::new(Bytes::from(body.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let response = sender
            .send_request(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Registers a member (as `admin`) and receives a parcel for them (as `staff`): the ids.
    async fn member_and_parcel(&self, admin: &str, staff: &str) -> (String, String) {
        let registration = json!({
            "name": "Yamada Taro",
            "birth_date": "1990-04-01",
            "email": "taro@example.com",
            "forwarding_only_accepted": true
        });
        let (status, member) = self
            .call(Method::POST, "/v1/members", admin, Some(registration))
            .await;
        assert_eq!(status, 201, "{member:#}");
        let suite_code = member["result"]["suite_code"]
            .as_str()
            .unwrap()
            .to_lowercase();
        let arrival = json!({
            "label": suite_code,
            "weight": 1200,
            "dimensions": { "length_mm": 300, "width_mm": 200, "height_mm": 100 }
        });
        let (status, parcel) = self
            .call(Method::POST, "/v1/parcels", staff, Some(arrival))
            .await;
        assert_eq!(status, 201, "{parcel:#}");
        (
            member["id"].as_str().unwrap().to_owned(),
            parcel["id"].as_str().unwrap().to_owned(),
        )
    }
}

fn secret(server: &Server, name: &str) -> String {
    server
        .issued()
        .iter()
        .find(|token| token.name == name)
        .map(|token| token.secret.clone())
        .expect("a generated token")
}

#[tokio::test]
async fn embedded_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(ServeConfig::embedded(dir.path()))
        .await
        .unwrap();
    let (admin, staff) = (secret(&server, "admin"), secret(&server, "staff"));
    assert!(dir.path().join("tokens.toml").exists());
    let running = Running::start(server).await;
    let (member_id, parcel_id) = running.member_and_parcel(&admin, &staff).await;
    let (status, _) = running.call(Method::GET, "/metrics", &staff, None).await;
    assert_eq!(status, 200);
    running.stop().await;

    let server = Server::open(ServeConfig::embedded(dir.path()))
        .await
        .unwrap();
    assert!(server.issued().is_empty(), "the token file is made once");
    let running = Running::start(server).await;
    let (status, parcel) = running
        .call(
            Method::GET,
            &format!("/v1/parcels/{parcel_id}"),
            &staff,
            None,
        )
        .await;
    assert_eq!(status, 200, "{parcel:#}");
    assert_eq!(parcel["member_id"], member_id.as_str());
    running.stop().await;
}

#[tokio::test]
async fn on_postgres_the_storage_status_view_shows_a_received_parcel() {
    let server_url = std::env::var("PARCELPORT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let name = format!("pp_serve_{}", uuid::Uuid::new_v4().simple());
    let mut admin_db = PgConnection::connect(&format!("{server_url}/postgres"))
        .await
        .unwrap();
    sqlx::query(&format!(r#"CREATE DATABASE "{name}" TEMPLATE template0"#))
        .execute(&mut admin_db)
        .await
        .unwrap();
    let database_url = format!("{server_url}/{name}");
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig {
        store: StoreChoice::Postgres {
            database_url: database_url.clone(),
            nats_url: None,
        },
        max_connections: 8,
        ..ServeConfig::embedded(dir.path())
    };
    let server = Server::open(config).await.unwrap();
    let (admin, staff) = (secret(&server, "admin"), secret(&server, "staff"));
    let running = Running::start(server).await;
    let (_, parcel_id) = running.member_and_parcel(&admin, &staff).await;

    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
    let policy = domain::Policy::jp_forwarding();
    let today = chrono::Utc::now().date_naive();
    let shown = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(Some(parcel)) =
                projections::storage_status::parcel(&pool, &parcel_id, today, &policy).await
            {
                return parcel;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the projector shows the parcel");
    assert_eq!(shown.parcel_id, parcel_id);
    assert!(shown.member_id.is_some(), "{shown:?}");
    pool.close().await;
    running.stop().await;
    let _ = sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        .execute(&mut admin_db)
        .await;
}

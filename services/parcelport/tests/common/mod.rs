//! What the end-to-end tests of `parcelport serve` share: a server running on 127.0.0.1:0
//! ([`Running`]), requests to it as a token ([`Running::call`], [`call_with`] for extra
//! headers), and the generated tokens
//! ([`secret`]). Each test file that uses it declares `mod common;`; a file uses only part of
//! it, hence `dead_code` is allowed here.
#![allow(dead_code)]

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use parcelport::Server;
use serde_json::Value;
use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running `serve`, stopped by [`Running::stop`].
pub struct Running {
    pub address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), parcelport::ServeError>>,
}

impl Running {
    pub async fn start(server: Server) -> Self {
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

    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().expect("a clean stop");
    }

    /// `method path` as `token`, with a new idempotency key; the status and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        call(self.address, method, path, token, body).await
    }
}

/// `method path` at `address` as `token`, with a new idempotency key; the status and JSON body
/// (`null` when it is not JSON).
pub async fn call(
    address: SocketAddr,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    call_with(address, method, path, token, body, &[]).await
}

/// [`call`] with `headers` added (a `traceparent`, say).
pub async fn call_with(
    address: SocketAddr,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", address.to_string())
        .header("authorization", format!("Bearer {token}"))
        .header("idempotency-key", uuid::Uuid::new_v4().to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
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

/// The secret of the token named `name` that `server` generated on its first start.
pub fn secret(server: &Server, name: &str) -> String {
    server
        .issued()
        .iter()
        .find(|token| token.name == name)
        .map(|token| token.secret.clone())
        .expect("a generated token")
}

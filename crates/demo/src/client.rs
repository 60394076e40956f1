//! A minimal HTTP/1 client for the command API: hyper 1 over one kept-alive TCP connection
//! (reopened when the server closes it), plain `http://`, no TLS. Also the CLI's client for
//! one-off commands (`parcelport member erase`).

use crate::DemoError;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// An answer: its status and its JSON body (`Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
}

/// The API at one `host:port`, called with one bearer token.
pub struct Client {
    authority: String,
    bearer: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    /// A client of `base_url` (`http://host:port`, a trailing `/` allowed) as `token`.
    pub fn new(base_url: &str, token: &str) -> Result<Self, DemoError> {
        let bad = |reason: &str| DemoError::BaseUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = base_url
            .strip_prefix("http://")
            .ok_or_else(|| bad("only plain http:// is supported"))?;
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(bad("expected http://host:port with no path"));
        }
        let bearer =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| DemoError::Token)?;
        Ok(Self {
            authority: authority.to_owned(),
            bearer,
            sender: None,
        })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, DemoError> {
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|source| DemoError::Connect {
                address: self.authority.clone(),
                source,
            })?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(DemoError::Http)?;
        tokio::spawn(async move {
            // The connection ends when the client drops its sender or the server closes it.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// Sends `method path` with `body` under idempotency key `key` (commands only).
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, DemoError> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.authority.as_str())
            .header(AUTHORIZATION, self.bearer.clone());
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let payload = match body {
            Some(body) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .map_err(DemoError::Request)?;
        let mut sender = match self.sender.take() {
            Some(mut sender) if !sender.is_closed() => match sender.ready().await {
                Ok(()) => sender,
                Err(_) => self.connect().await?,
            },
            _ => self.connect().await?,
        };
        sender.ready().await.map_err(DemoError::Http)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(DemoError::Http)?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(DemoError::Http)?
            .to_bytes();
        self.sender = Some(sender);
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer { status, body })
    }
}

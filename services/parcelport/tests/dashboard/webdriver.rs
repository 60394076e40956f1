//! A lean W3C WebDriver client over the workspace's hyper: a chromedriver child process on a
//! port of its own, one headless Chromium session, and the few commands the dashboard test
//! needs (navigate, find, type, click, read text, run a script, take a screenshot). The child
//! is killed when dropped.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Debian's paths (`chromium`, `chromium-driver`); `scripts/ensure-services.sh` installs them.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The key of an element reference in W3C answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a wait for the page lasts before the test fails.
const WAIT: Duration = Duration::from_secs(30);

/// A chromedriver child with one browser session.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn start() -> Browser {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("its address").port()
        };
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {CHROMEDRIVER} ({e}); run scripts/ensure-services.sh")
            });
        let profile = tempfile::tempdir().expect("a browser profile directory");
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            _profile: profile,
        };
        let ready = tokio::time::timeout(WAIT, async {
            loop {
                if let Ok(status) = browser.call(Method::GET, "/status", None).await {
                    if status["value"]["ready"] == true {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(ready.is_ok(), "chromedriver did not come up on port {port}");
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--disable-background-networking",
                        format!("--user-data-dir={}", browser._profile.path().display()),
                    ],
                },
            }},
        });
        let session = browser
            .call(Method::POST, "/session", Some(capabilities))
            .await
            .expect("a browser session");
        browser.session = session["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {session:#}"))
            .to_owned();
        browser
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let address = format!("127.0.0.1:{}", self.port);
        let stream = tokio::net::TcpStream::connect(&address)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", address)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(format!("{status}: {value}"))
        }
    }

    async fn session_call(&self, method: Method, path: &str, body: Value) -> Result<Value, String> {
        let body = (method == Method::POST).then_some(body);
        self.call(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    /// Opens `url`.
    pub async fn open(&self, url: &str) {
        self.session_call(Method::POST, "/url", json!({ "url": url }))
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    async fn element(&self, css: &str) -> Result<String, String> {
        let found = self
            .session_call(
                Method::POST,
                "/element",
                json!({ "using": "css selector", "value": css }),
            )
            .await?;
        found["value"][ELEMENT]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no element reference in {found}"))
    }

    /// Types `text` into the element `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self
            .element(css)
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        self.session_call(
            Method::POST,
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Empties the input `css`.
    pub async fn clear(&self, css: &str) {
        let element = self
            .element(css)
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        self.session_call(
            Method::POST,
            &format!("/element/{element}/clear"),
            json!({}),
        )
        .await
        .unwrap_or_else(|e| panic!("clear {css}: {e}"));
    }

    /// Clicks the element `css`. The page redraws its tables every few seconds, so an element
    /// found may be replaced before the click reaches it: then it is found again.
    pub async fn click(&self, css: &str) {
        let mut redrawn = 0;
        loop {
            let element = self
                .element(css)
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"));
            match self
                .session_call(
                    Method::POST,
                    &format!("/element/{element}/click"),
                    json!({}),
                )
                .await
            {
                Ok(_) => return,
                Err(e) if e.contains("stale element reference") && redrawn < 5 => redrawn += 1,
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// The visible text of the element `css`.
    pub async fn text(&self, css: &str) -> Result<String, String> {
        let element = self.element(css).await?;
        let text = self
            .session_call(Method::GET, &format!("/element/{element}/text"), json!({}))
            .await?;
        Ok(text["value"].as_str().unwrap_or_default().to_owned())
    }

    /// Whether an element matches `css` now.
    pub async fn exists(&self, css: &str) -> bool {
        self.element(css).await.is_ok()
    }

    /// Waits until an element matches `css`.
    pub async fn wait_for(&self, css: &str) {
        let found = tokio::time::timeout(WAIT, async {
            while !self.exists(css).await {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(found.is_ok(), "{css} never appeared");
    }

    /// What `script` (a function body, `return`ing a JSON value) answers in the page.
    pub async fn execute(&self, script: &str) -> Value {
        let answer = self
            .session_call(
                Method::POST,
                "/execute/sync",
                json!({ "script": script, "args": [] }),
            )
            .await
            .unwrap_or_else(|e| panic!("the script failed: {e}\n{script}"));
        answer["value"].clone()
    }

    /// Sizes the window, so that screenshots show whole pages.
    pub async fn resize(&self, width: u32, height: u32) {
        self.session_call(
            Method::POST,
            "/window/rect",
            json!({ "width": width, "height": height }),
        )
        .await
        .unwrap_or_else(|e| panic!("resize the window: {e}"));
    }

    /// Writes a PNG of the window to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine as _;
        let shot = self
            .session_call(Method::GET, "/screenshot", json!({}))
            .await
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["value"].as_str().unwrap_or_default())
            .expect("a base64 screenshot");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Waits until the text of `css` contains every one of `needles`; its text then.
    pub async fn wait_for_text(&self, css: &str, needles: &[&str]) -> String {
        let mut last = String::new();
        let found = tokio::time::timeout(WAIT, async {
            loop {
                match self.text(css).await {
                    Ok(text) if needles.iter().all(|needle| text.contains(needle)) => return text,
                    Ok(text) => last = text,
                    Err(error) => last = format!("(no text: {error})"),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("{css} never showed {needles:?}; it showed:\n{last}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // End the session first (chromedriver then closes its Chromium), with a blocking
        // request, since a drop cannot await; then stop the driver we started and reap it.
        if !self.session.is_empty() {
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n",
                    self.session, self.port
                );
                if stream.write_all(request.as_bytes()).is_ok() {
                    let mut answer = Vec::new();
                    let _ = stream.read_to_end(&mut answer);
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

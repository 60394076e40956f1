//! A nats-server child process with JetStream, on a free port and a store directory of its own,
//! that a test (or the benchmark) can SIGKILL and restart on the same port and store.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary: `NATS_SERVER` or the Debian package's.
pub(crate) fn binary() -> String {
    std::env::var("NATS_SERVER").unwrap_or_else(|_| "/usr/sbin/nats-server".to_owned())
}

/// A running (or killed) nats-server owned by one test; killed when dropped.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts a server on a free port with an empty store.
    pub fn start() -> NatsServer {
        // Another process may take the port between probing and binding: try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut server = NatsServer {
                child: None,
                port,
                dir: tempfile::tempdir().expect("a temporary store directory"),
            };
            if server.spawn() {
                return server;
            }
        }
        panic!("nats-server did not start on any of 5 free ports");
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server with SIGKILL, like a crash: no shutdown, no flush.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store directory.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.spawn() {
            assert!(Instant::now() < deadline, "nats-server did not restart");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("jetstream")
    }

    /// Spawns and waits until the port answers; `false` if the process exits first.
    fn spawn(&mut self) -> bool {
        let log = self.dir.path().join("nats-server.log");
        let mut child = command(self.port, &self.store(), &log)
            .spawn()
            .expect("spawn nats-server (set NATS_SERVER to its path)");
        let started = wait_for_port(&mut child, self.port);
        if started {
            self.child = Some(child);
        }
        started
    }
}

/// A nats-server with JetStream on `port` of loopback, its store in `store`, its log in `log`,
/// its standard streams closed.
pub(crate) fn command(port: u16, store: &Path, log: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store)
        .arg("-l")
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// A port free on loopback when asked (another process may take it before it is bound).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Waits until `child` answers on `port`; `false` (the child killed) if it exits first or
/// does not answer within 20 s.
pub(crate) fn wait_for_port(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

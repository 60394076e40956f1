//! [`NatsCluster`]: three nats-server children clustered on loopback ports, with JetStream,
//! each with a store directory of its own, that a test can SIGKILL and restart one by one.

use crate::nats_server::{command, free_port, wait_for_port};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

/// One node: its client and route ports, and its process while it runs.
struct Node {
    name: String,
    client_port: u16,
    route_port: u16,
    child: Option<Child>,
}

/// A 3-node JetStream cluster owned by one test; every node is killed when dropped.
pub struct NatsCluster {
    nodes: Vec<Node>,
    dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Starts three nodes on free ports, routed to each other. JetStream answers once they
    /// elected a meta leader (a few seconds): clients retry until then.
    pub fn start() -> NatsCluster {
        let nodes = (1..=3)
            .map(|index| Node {
                name: format!("n{index}"),
                client_port: free_port(),
                route_port: free_port(),
                child: None,
            })
            .collect();
        let mut cluster = NatsCluster {
            nodes,
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        for index in 0..cluster.nodes.len() {
            cluster.spawn(index);
        }
        cluster
    }

    /// Every node's address, comma-separated: what a client (or `--nats-url`) is given.
    pub fn url(&self) -> String {
        (0..self.nodes.len())
            .map(|index| self.node_url(index))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The address of node `index` (0, 1 or 2).
    pub fn node_url(&self, index: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[index].client_port)
    }

    /// The index of the node named `name` (`n1`, `n2`, `n3`: the server names JetStream
    /// reports, for example as a stream's leader).
    pub fn index_of(&self, name: &str) -> usize {
        self.nodes
            .iter()
            .position(|node| node.name == name)
            .unwrap_or_else(|| panic!("no node is named {name:?}"))
    }

    /// The server name of `stream`'s leader, once it has one and both other replicas are
    /// current: the cluster is whole again, and may lose a node. Asks through any node that
    /// answers, again until `patience` runs out (then panics); the stream must have three
    /// replicas.
    pub async fn whole(&self, stream: &str, patience: Duration) -> String {
        let servers = nats_servers::parse(&self.url()).expect("the nodes' addresses");
        let deadline = Instant::now() + patience;
        loop {
            if let Ok(client) = async_nats::connect(servers.clone()).await {
                let js = async_nats::jetstream::new(client);
                if let Ok(mut handle) = js.get_stream(stream).await {
                    if let Ok(info) = handle.info().await {
                        assert_eq!(info.config.num_replicas, 3, "a replicated stream");
                        if let Some(state) = &info.cluster {
                            let current = state.replicas.iter().filter(|peer| peer.current).count();
                            if let (Some(leader), 2) = (&state.leader, current) {
                                return leader.clone();
                            }
                        }
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "the replicas of {stream} did not catch up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills node `index` with SIGKILL, like a crash.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.nodes[index].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `index` again on its ports and store.
    pub fn restart(&mut self, index: usize) {
        self.kill(index);
        self.spawn(index);
    }

    fn spawn(&mut self, index: usize) {
        let routes = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .map(|(_, node)| format!("nats-route://127.0.0.1:{}", node.route_port))
            .collect::<Vec<_>>()
            .join(",");
        let node = &self.nodes[index];
        let store: PathBuf = self.dir.path().join(&node.name);
        let log = self.dir.path().join(format!("{}.log", node.name));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut child = command(node.client_port, &store, &log)
                .args(["--server_name", &node.name])
                .args(["--cluster_name", "parcelport-test"])
                .args([
                    "--cluster",
                    &format!("nats://127.0.0.1:{}", node.route_port),
                ])
                .args(["--routes", &routes])
                .spawn()
                .expect("spawn nats-server (set NATS_SERVER to its path)");
            if wait_for_port(&mut child, node.client_port) {
                self.nodes[index].child = Some(child);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server {} did not start (see {})",
                node.name,
                log.display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for index in 0..self.nodes.len() {
            self.kill(index);
        }
    }
}

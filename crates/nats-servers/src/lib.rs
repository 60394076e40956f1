//! # nats-servers
//!
//! How every parcelport client names NATS: `--nats-url` (and the audit anchors' `nats://` URL)
//! is one address or a cluster's, comma-separated (`nats://10.0.0.1:4222,nats://10.0.0.2:4222`).
//! [`parse`] turns it into the addresses `async_nats` connects with; a client given them all
//! connects to any that answers, also when the first is down, and reconnects to another
//! member when its server goes away. `async_nats` itself reads a text as one address only.

use async_nats::ServerAddr;

/// A list of NATS servers that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum ServersError {
    /// The list names no server.
    #[error("no NATS server address in {0:?}")]
    Empty(String),
    /// One of the comma-separated addresses does not parse.
    #[error("invalid NATS server address {address:?}")]
    Address {
        /// The address as given.
        address: String,
        /// Why it does not parse.
        #[source]
        source: std::io::Error,
    },
}

/// The servers of `list`: one address, or several, comma-separated; blanks around commas are
/// ignored.
pub fn parse(list: &str) -> Result<Vec<ServerAddr>, ServersError> {
    let servers = list
        .split(',')
        .map(str::trim)
        .filter(|address| !address.is_empty())
        .map(|address| {
            address.parse().map_err(|source| ServersError::Address {
                address: address.to_owned(),
                source,
            })
        })
        .collect::<Result<Vec<ServerAddr>, _>>()?;
    if servers.is_empty() {
        return Err(ServersError::Empty(list.to_owned()));
    }
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_or_a_clusters() {
        assert_eq!(parse("nats://127.0.0.1:4222").unwrap().len(), 1);
        let cluster =
            parse("nats://10.0.0.1:4222, nats://10.0.0.2:4222,nats://10.0.0.3:4222,").unwrap();
        let ports: Vec<u16> = cluster.iter().map(ServerAddr::port).collect();
        assert_eq!(ports, [4222, 4222, 4222]);
        assert_eq!(cluster[1].host(), "10.0.0.2");
    }

    #[test]
    fn a_bad_or_empty_list_is_refused() {
        assert!(matches!(parse(" , "), Err(ServersError::Empty(_))));
        assert!(matches!(
            parse("nats://127.0.0.1:4222,http://[::1"),
            Err(ServersError::Address { address, .. }) if address == "http://[::1"
        ));
    }
}

//! [`PolicySource`]: where a service reads the operator policy from at start-up (a shipped
//! profile or a TOML file), shared by the command API and the query API.

use domain::Policy;
use std::path::PathBuf;

/// Where the policy comes from: a shipped profile or a TOML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// `jp-forwarding`.
    JpForwarding,
    /// `cn-agency`.
    CnAgency,
    /// A policy TOML file.
    File(PathBuf),
}

/// Why the policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The policy file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The policy file is wrong.
    #[error("policy: {0}")]
    Invalid(String),
}

impl PolicySource {
    /// A profile name, or else a path.
    pub fn parse(value: &str) -> Self {
        match value {
            "jp-forwarding" => Self::JpForwarding,
            "cn-agency" => Self::CnAgency,
            path => Self::File(PathBuf::from(path)),
        }
    }

    /// The policy.
    pub fn load(&self) -> Result<Policy, PolicyError> {
        match self {
            Self::JpForwarding => Ok(Policy::jp_forwarding()),
            Self::CnAgency => Ok(Policy::cn_agency()),
            Self::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
                    path: path.clone(),
                    source,
                })?;
                Policy::from_toml(&text).map_err(|e| PolicyError::Invalid(e.to_string()))
            }
        }
    }
}

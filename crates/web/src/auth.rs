//! Bearer tokens with roles (warehouse staff, member, finance, auditor, ops, admin).
//!
//! Tokens are configured in a TOML file that holds only the SHA-256 of each secret, never the
//! secret. Secrets are long random strings, so a fast hash is the right one: there is nothing to
//! brute-force, unlike a password. A member's token names its member, and may act only for
//! that member ([`Caller::may_act_for`]).
//!
//! ```toml
//! [[tokens]]
//! name = "dock-1"
//! role = "warehouse_staff"
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//!
//! [[tokens]]
//! name = "aiko"
//! role = "member"
//! member_id = "m-1"
//! sha256 = "…"
//! ```

use crate::problem::Problem;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::ids::MemberId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// What a caller is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Receives, inspects, stores, packs and ships.
    WarehouseStaff,
    /// A member acting for themselves only.
    Member,
    /// Top-ups, refunds, fees, billing views.
    Finance,
    /// Reads history; changes nothing.
    Auditor,
    /// Runs the system: dashboards, projections, relay.
    Ops,
    /// Everything.
    Admin,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name, recorded as the actor of every command.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The member a member token acts for.
    pub member_id: Option<MemberId>,
}

impl Caller {
    /// Ok when the caller's role is one of `roles`; admins pass everywhere.
    pub fn require(&self, roles: &[Role]) -> Result<(), Problem> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Problem::new(
                StatusCode::FORBIDDEN,
                "auth.forbidden",
                "This role may not do that",
            )
            .with_detail(format!("role {:?} is not allowed here", self.role)))
        }
    }

    /// Ok unless the caller is a member acting for another member.
    pub fn may_act_for(&self, member: &MemberId) -> Result<(), Problem> {
        match (&self.role, &self.member_id) {
            (Role::Member, Some(own)) if own == member => Ok(()),
            (Role::Member, _) => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "auth.other_member",
                "A member may act only on their own parcels and account",
            )),
            _ => Ok(()),
        }
    }
}

/// The SHA-256 of a token secret, as lowercase hex: what the token file stores.
pub fn hash_token(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// A token file that does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// Not TOML of the expected shape.
    #[error("token file does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    /// Parsed, but inconsistent.
    #[error("token {name:?}: {problem}")]
    Invalid {
        /// The token's name.
        name: String,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    tokens: Vec<TokenEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    role: Role,
    member_id: Option<MemberId>,
    sha256: String,
}

/// The configured tokens, by hash.
#[derive(Debug, Clone, Default)]
pub struct TokenBook {
    by_hash: HashMap<String, Caller>,
}

impl TokenBook {
    /// Parses a token file's text.
    pub fn from_toml(text: &str) -> Result<Self, TokenFileError> {
        let file: TokenFile = toml::from_str(text)?;
        let mut book = TokenBook::default();
        for entry in file.tokens {
            let invalid = |problem: &str| TokenFileError::Invalid {
                name: entry.name.clone(),
                problem: problem.to_owned(),
            };
            let hash = entry.sha256.to_ascii_lowercase();
            if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid("sha256 must be 64 hex digits"));
            }
            match (entry.role, &entry.member_id) {
                (Role::Member, None) => return Err(invalid("a member token needs member_id")),
                (Role::Member, Some(_)) | (_, None) => {}
                (_, Some(_)) => return Err(invalid("only member tokens name a member_id")),
            }
            if book.by_hash.values().any(|c| c.name == entry.name) {
                return Err(invalid("names must be unique"));
            }
            let caller = Caller {
                name: entry.name.clone(),
                role: entry.role,
                member_id: entry.member_id.clone(),
            };
            if book.by_hash.insert(hash, caller).is_some() {
                return Err(invalid("two tokens share a secret"));
            }
        }
        Ok(book)
    }

    /// Adds a token in code (tests, the demo).
    pub fn with(mut self, secret: &str, caller: Caller) -> Self {
        self.by_hash.insert(hash_token(secret), caller);
        self
    }

    /// The caller a secret belongs to.
    pub fn authenticate(&self, secret: &str) -> Option<&Caller> {
        self.by_hash.get(&hash_token(secret))
    }
}

/// 401 problems carry `WWW-Authenticate: Bearer`.
#[derive(Debug)]
pub struct Unauthorized(Problem);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    }
}

impl<S> FromRequestParts<S> for Caller
where
    Arc<TokenBook>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let book = Arc::<TokenBook>::from_ref(state);
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(Unauthorized(Problem::new(
                StatusCode::UNAUTHORIZED,
                "auth.missing_token",
                "A bearer token is required",
            )));
        };
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match secret.and_then(|s| book.authenticate(s)) {
            Some(caller) => Ok(caller.clone()),
            None => Err(Unauthorized(Problem::new(
                StatusCode::UNAUTHORIZED,
                "auth.invalid_token",
                "The bearer token is not valid",
            ))),
        }
    }
}

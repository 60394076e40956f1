//! Token secrets and the token file (`web::auth` reads it): random secrets, their SHA-256, and
//! the file `serve` creates on first start. Secrets are printed once and never stored.

use std::path::Path;
use web::auth::{hash_token, Role};

/// A token just made: its secret is known only to whoever reads it now.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token's name, the actor of its commands.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The member a member token acts for.
    pub member_id: Option<String>,
    /// The secret, for the `Authorization: Bearer` header.
    pub secret: String,
}

impl IssuedToken {
    /// A new token with a random secret (244 random bits from two UUIDs v4).
    pub fn new(name: &str, role: Role, member_id: Option<String>) -> Self {
        let secret = format!(
            "pp_{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        Self {
            name: name.to_owned(),
            role,
            member_id,
            secret,
        }
    }

    /// Its `[[tokens]]` entry for the token file: the hash, never the secret.
    pub fn toml_entry(&self) -> String {
        let member = self
            .member_id
            .as_ref()
            .map(|id| format!("member_id = {}\n", quoted(id)))
            .unwrap_or_default();
        format!(
            "[[tokens]]\nname = {}\nrole = {}\n{member}sha256 = \"{}\"\n",
            quoted(&self.name),
            quoted(role_name(self.role)),
            hash_token(&self.secret)
        )
    }
}

/// A role as the token file spells it (`warehouse_staff`).
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::WarehouseStaff => "warehouse_staff",
        Role::Member => "member",
        Role::Finance => "finance",
        Role::Auditor => "auditor",
        Role::Ops => "ops",
        Role::Admin => "admin",
    }
}

/// A role from its token-file name.
pub fn parse_role(name: &str) -> Option<Role> {
    [
        Role::WarehouseStaff,
        Role::Member,
        Role::Finance,
        Role::Auditor,
        Role::Ops,
        Role::Admin,
    ]
    .into_iter()
    .find(|role| role_name(*role) == name)
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if c.is_control() => format!("\\u{:04X}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// The operator tokens a new installation starts with, one per role.
pub fn first_tokens() -> Vec<IssuedToken> {
    [
        ("admin", Role::Admin),
        ("staff", Role::WarehouseStaff),
        ("finance", Role::Finance),
        ("ops", Role::Ops),
        ("auditor", Role::Auditor),
    ]
    .into_iter()
    .map(|(name, role)| IssuedToken::new(name, role, None))
    .collect()
}

/// Creates the token file at `path` with [`first_tokens`] unless it exists; the tokens made,
/// with their secrets (empty when the file was already there).
pub fn ensure_file(path: &Path) -> std::io::Result<Vec<IssuedToken>> {
    if path.exists() {
        return Ok(Vec::new());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tokens = first_tokens();
    let mut text = String::from(
        "# parcelport tokens: SHA-256 of each secret only (`parcelport token new` adds one).\n",
    );
    for token in &tokens {
        text.push('\n');
        text.push_str(&token.toml_entry());
    }
    // `create_new`: two processes starting at once do not overwrite each other's secrets.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use web::auth::TokenBook;

    #[test]
    fn a_generated_file_authenticates_its_secrets() {
        let dir = std::env::temp_dir().join(format!("pp-tokens-{}", uuid::Uuid::new_v4()));
        let path = dir.join("tokens.toml");
        let issued = ensure_file(&path).unwrap();
        let book = TokenBook::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for token in &issued {
            assert_eq!(book.authenticate(&token.secret).unwrap().role, token.role);
        }
        assert!(ensure_file(&path).unwrap().is_empty(), "created once");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_member_entry_names_its_member() {
        let token = IssuedToken::new("m \"1\"", Role::Member, Some("m-0001".into()));
        let text = token.toml_entry();
        assert!(text.contains("member_id = \"m-0001\"\n"), "{text}");
        assert!(text.contains("name = \"m \\\"1\\\"\"\n"), "{text}");
    }
}

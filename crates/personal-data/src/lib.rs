//! # personal-data
//!
//! A member's personal data (the fields `domain::personal::FIELDS` lists) is stored in events
//! only sealed with a key of that member, AES-256-GCM, and the keys are kept apart from the
//! events ([`KeyStore`]). The hash chain, the writer's signatures, the published CloudEvents
//! and every view hold the sealed text; erasing a member ([`PersonalData::erase`]) deletes
//! their key, which makes every copy unreadable at once while every event stays and every
//! check of the chain still passes (crypto-shredding, issue #10).
//!
//! A sealed value is `pp:sealed:v1:<key id>:<base64 of nonce and ciphertext>`; the plaintext is
//! the field's JSON, and the associated data binds it to its member and field, so a sealed
//! value moved to another member or field does not open.
//!
//! *Architecture Invariant*: this crate is the only reader and writer of the key table; the
//! writer (the engine) seals before it signs and stores, and every reader that needs the
//! plaintext opens through [`PersonalData`].

mod key_store;

pub use key_store::{KeyStore, MemberKey};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
pub use domain::personal::subject;
use domain::personal::{fields_of, is_sealed, SEALED_PREFIX};
use serde_json::Value;

/// What can go wrong sealing, opening or erasing.
#[derive(Debug, thiserror::Error)]
pub enum PersonalDataError {
    /// The key store could not be read or written.
    #[error("the personal-data key store failed")]
    KeyStore(#[source] sqlx::Error),
    /// The operating system gave no randomness for a key or a nonce.
    #[error("no randomness for a key or nonce: {0}")]
    Random(String),
    /// A sealed value that does not open: altered, or moved to another member or field.
    #[error("a sealed value of {member} at {field} does not open: {reason}")]
    Unopenable {
        /// The member.
        member: String,
        /// The field's pointer.
        field: String,
        /// Why.
        reason: String,
    },
    /// New personal data for a member whose data was erased.
    #[error("member {0}'s personal data was erased: nothing is sealed for them any more")]
    Erased(String),
    /// The key store holds something it never writes.
    #[error("the personal-data key store is inconsistent: {0}")]
    Corrupt(String),
}

/// Whether an event's personal data could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// The event has no sealed field.
    NothingSealed,
    /// Every sealed field was opened.
    Opened,
    /// The member's data is erased: every sealed field holds its stand-in.
    Erased,
}

/// Seals and opens personal data with the members' keys.
#[derive(Debug, Clone)]
pub struct PersonalData {
    keys: KeyStore,
}

impl PersonalData {
    /// Over `keys`.
    pub fn new(keys: KeyStore) -> Self {
        Self { keys }
    }

    /// The key store.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// `payload` with each personal field of `event_type` sealed with its member's key (made
    /// on first use). Events without personal fields come back unchanged, without a look-up.
    pub async fn seal(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        event_type: &str,
        payload: &Value,
    ) -> Result<Value, PersonalDataError> {
        let mut fields = fields_of(event_type).peekable();
        if fields.peek().is_none() {
            return Ok(payload.clone());
        }
        let Some(member) = subject(aggregate_type, aggregate_id) else {
            return Err(PersonalDataError::Corrupt(format!(
                "{event_type} of {aggregate_type} {aggregate_id} holds personal data of no member"
            )));
        };
        let mut sealed = payload.clone();
        let mut key = None;
        for field in fields {
            let Some(value) = sealed.pointer_mut(field.pointer) else {
                continue;
            };
            if value.is_null() || is_sealed(value) {
                continue;
            }
            if key.is_none() {
                key = Some(match self.keys.get_or_create(member).await? {
                    MemberKey::Live { key_id, key } => (key_id, key),
                    MemberKey::Erased { .. } => {
                        return Err(PersonalDataError::Erased(member.to_owned()))
                    }
                });
            }
            let (key_id, key) = key.as_ref().expect("set above");
            *value = Value::String(seal_value(member, field.pointer, key_id, key, value)?);
        }
        Ok(sealed)
    }

    /// Opens each sealed personal field of `payload` in place, or puts its stand-in there
    /// when the member's data is erased.
    pub async fn open(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        event_type: &str,
        payload: &mut Value,
    ) -> Result<Opened, PersonalDataError> {
        let sealed: Vec<_> = fields_of(event_type)
            .filter(|f| payload.pointer(f.pointer).is_some_and(is_sealed))
            .collect();
        if sealed.is_empty() {
            return Ok(Opened::NothingSealed);
        }
        let member = subject(aggregate_type, aggregate_id).unwrap_or(aggregate_id);
        match self.keys.get(member).await? {
            Some(MemberKey::Live { key_id, key }) => {
                for field in sealed {
                    let value = payload.pointer_mut(field.pointer).expect("found above");
                    let text = value.as_str().unwrap_or_default().to_owned();
                    *value = open_value(member, field.pointer, &key_id, &key, &text)?;
                }
                Ok(Opened::Opened)
            }
            Some(MemberKey::Erased { .. }) => {
                domain::personal::redact(event_type, payload);
                Ok(Opened::Erased)
            }
            None => Err(PersonalDataError::Unopenable {
                member: member.to_owned(),
                field: sealed[0].pointer.to_owned(),
                reason: "the member has no key".to_owned(),
            }),
        }
    }

    /// One sealed text of `member`'s field at `pointer` (e.g. the `contacts` the notices view
    /// keeps) as text: `None` once the member's data is erased; plain text comes back as is.
    pub async fn open_text(
        &self,
        member: &str,
        pointer: &str,
        text: &str,
    ) -> Result<Option<String>, PersonalDataError> {
        if !text.starts_with(SEALED_PREFIX) {
            return Ok(Some(text.to_owned()));
        }
        match self.keys.get(member).await? {
            Some(MemberKey::Live { key_id, key }) => {
                match open_value(member, pointer, &key_id, &key, text)? {
                    Value::String(s) => Ok(Some(s)),
                    other => Ok(Some(other.to_string())),
                }
            }
            Some(MemberKey::Erased { .. }) => Ok(None),
            None => Err(PersonalDataError::Unopenable {
                member: member.to_owned(),
                field: pointer.to_owned(),
                reason: "the member has no key".to_owned(),
            }),
        }
    }

    /// Many texts of one field (`pointer`, e.g. `/registered/name`), each `(member, text)`,
    /// opened with one look-up of the members' keys: `None` where the member's data is erased,
    /// or where the value does not open (no key, altered; logged as a warning). Plain text
    /// comes back as is.
    pub async fn open_texts(
        &self,
        pointer: &str,
        texts: &[(String, String)],
    ) -> Result<Vec<Option<String>>, PersonalDataError> {
        let sealed: Vec<String> = texts
            .iter()
            .filter(|(_, text)| text.starts_with(SEALED_PREFIX))
            .map(|(member, _)| member.clone())
            .collect();
        let keys = self.keys.get_many(&sealed).await?;
        Ok(texts
            .iter()
            .map(|(member, text)| {
                if !text.starts_with(SEALED_PREFIX) {
                    return Some(text.clone());
                }
                let opened = match keys.get(member) {
                    Some(MemberKey::Live { key_id, key }) => {
                        open_value(member, pointer, key_id, key, text)
                    }
                    Some(MemberKey::Erased { .. }) => return None,
                    None => Err(PersonalDataError::Unopenable {
                        member: member.clone(),
                        field: pointer.to_owned(),
                        reason: "the member has no key".to_owned(),
                    }),
                };
                match opened {
                    Ok(Value::String(text)) => Some(text),
                    Ok(other) => Some(other.to_string()),
                    Err(error) => {
                        tracing::warn!(member, %error, "a sealed value does not open");
                        None
                    }
                }
            })
            .collect())
    }

    /// `text` about `member` sealed with their key under `label` (what it is, e.g.
    /// `notice/body`): for copies kept outside the events, such as the words of a notice sent.
    pub async fn seal_text(
        &self,
        member: &str,
        label: &str,
        text: &str,
    ) -> Result<String, PersonalDataError> {
        match self.keys.get_or_create(member).await? {
            MemberKey::Live { key_id, key } => seal_value(
                member,
                label,
                &key_id,
                &key,
                &Value::String(text.to_owned()),
            ),
            MemberKey::Erased { .. } => Err(PersonalDataError::Erased(member.to_owned())),
        }
    }

    /// A text [`seal_text`](Self::seal_text) sealed under `label`, found by the key id it
    /// names: `None` once its member's data is erased; plain text comes back as is.
    pub async fn open_sealed_text(
        &self,
        label: &str,
        text: &str,
    ) -> Result<Option<String>, PersonalDataError> {
        let Some(key_id) = text
            .strip_prefix(SEALED_PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .map(|(key_id, _)| key_id)
        else {
            return Ok(Some(text.to_owned()));
        };
        let Some(member) = self.keys.member_of_key(key_id).await? else {
            // An erased key keeps its row but loses its id's meaning: nothing opens.
            return Ok(None);
        };
        self.open_text(&member, label, text).await
    }

    /// Deletes `member`'s key: every value ever sealed for them becomes unreadable. Returns
    /// when their data was (first) erased; erasing again changes nothing.
    pub async fn erase(
        &self,
        member: &str,
        at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, PersonalDataError> {
        let erased_at = self.keys.erase(member, at).await?;
        tracing::info!(member, %erased_at, "personal data erased: the member's key is deleted");
        Ok(erased_at)
    }
}

fn associated_data(member: &str, pointer: &str) -> Vec<u8> {
    format!("parcelport/personal/v1\0{member}\0{pointer}").into_bytes()
}

fn seal_value(
    member: &str,
    pointer: &str,
    key_id: &str,
    key: &[u8; 32],
    value: &Value,
) -> Result<String, PersonalDataError> {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|e| PersonalDataError::Random(e.to_string()))?;
    let plaintext = serde_json::to_vec(value).map_err(|e| PersonalDataError::Unopenable {
        member: member.to_owned(),
        field: pointer.to_owned(),
        reason: e.to_string(),
    })?;
    let aad = associated_data(member, pointer);
    let ciphertext = Aes256Gcm::new(key.into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| PersonalDataError::Corrupt("AES-GCM refused to seal".to_owned()))?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    Ok(format!("{SEALED_PREFIX}{key_id}:{}", BASE64.encode(sealed)))
}

fn open_value(
    member: &str,
    pointer: &str,
    key_id: &str,
    key: &[u8; 32],
    text: &str,
) -> Result<Value, PersonalDataError> {
    let fail = |reason: &str| PersonalDataError::Unopenable {
        member: member.to_owned(),
        field: pointer.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = text
        .strip_prefix(SEALED_PREFIX)
        .ok_or_else(|| fail("not a sealed value"))?;
    let (sealed_with, body) = rest.split_once(':').ok_or_else(|| fail("no key id"))?;
    if sealed_with != key_id {
        return Err(fail(&format!(
            "sealed with key {sealed_with}, the member's key is {key_id}"
        )));
    }
    let bytes = BASE64.decode(body).map_err(|_| fail("not base64"))?;
    if bytes.len() < 12 {
        return Err(fail("too short"));
    }
    let (nonce, ciphertext) = bytes.split_at(12);
    let aad = associated_data(member, pointer);
    let plaintext = Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| fail("altered, or sealed for another member or field"))?;
    serde_json::from_slice(&plaintext).map_err(|e| fail(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn store() -> (tempfile::TempDir, PersonalData) {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::sqlite(&dir.path().join("keys.sqlite"))
            .await
            .unwrap();
        (dir, PersonalData::new(keys))
    }

    fn registration() -> Value {
        json!({"registered": {
            "member_id": "m-1", "name": "Hanako Yamada", "birth_date": "1990-05-05",
            "email": "hanako@example.jp", "guardian_consent": null, "minor": false
        }})
    }

    #[tokio::test]
    async fn sealed_fields_hide_the_data_and_open_back_to_it() {
        let (_dir, personal) = store().await;
        let plain = registration();
        let sealed = personal
            .seal("member", "m-1", "member.registered", &plain)
            .await
            .unwrap();
        let text = sealed.to_string();
        for secret in ["Hanako", "1990-05-05", "hanako@example"] {
            assert!(!text.contains(secret), "{secret} left in {text}");
        }
        assert_eq!(sealed["registered"]["member_id"], "m-1");
        assert_eq!(sealed["registered"]["guardian_consent"], Value::Null);
        let mut opened = sealed.clone();
        let outcome = personal
            .open("member", "m-1", "member.registered", &mut opened)
            .await
            .unwrap();
        assert_eq!(outcome, Opened::Opened);
        assert_eq!(opened, plain);
    }

    /// Names read by the people at the warehouse: many opened with one look-up of keys, an
    /// erased member's and a value moved to another member give `None`, plain text stays.
    #[tokio::test]
    async fn many_names_open_at_once_and_an_erased_ones_does_not() {
        let (_dir, personal) = store().await;
        let mut texts = Vec::new();
        for (member, name) in [
            ("m-1", "Hanako Yamada"),
            ("m-2", "Taro Sato"),
            ("m-3", "Ken Ito"),
        ] {
            let payload = json!({"registered": {"member_id": member, "name": name}});
            let sealed = personal
                .seal("member", member, "member.registered", &payload)
                .await
                .unwrap();
            let text = sealed["registered"]["name"].as_str().unwrap().to_owned();
            texts.push((member.to_owned(), text));
        }
        personal.erase("m-2", Utc::now()).await.unwrap();
        let moved = ("m-1".to_owned(), texts[2].1.clone());
        texts.push(moved);
        texts.push(("m-4".to_owned(), "Plain Text".to_owned()));
        let opened = personal
            .open_texts("/registered/name", &texts)
            .await
            .unwrap();
        assert_eq!(
            opened,
            [
                Some("Hanako Yamada".to_owned()),
                None,
                Some("Ken Ito".to_owned()),
                None,
                Some("Plain Text".to_owned()),
            ]
        );
    }

    #[tokio::test]
    async fn after_erasure_stand_ins_are_read_and_nothing_new_is_sealed() {
        let (_dir, personal) = store().await;
        let sealed = personal
            .seal("member", "m-1", "member.registered", &registration())
            .await
            .unwrap();
        let first = personal.erase("m-1", Utc::now()).await.unwrap();
        assert_eq!(personal.erase("m-1", Utc::now()).await.unwrap(), first);
        let mut opened = sealed.clone();
        let outcome = personal
            .open("member", "m-1", "member.registered", &mut opened)
            .await
            .unwrap();
        assert_eq!(outcome, Opened::Erased);
        assert_eq!(opened["registered"]["name"], "[personal data]");
        assert_eq!(opened["registered"]["birth_date"], "0001-01-01");
        let name = sealed["registered"]["name"].as_str().unwrap();
        assert_eq!(
            personal
                .open_text("m-1", "/registered/name", name)
                .await
                .unwrap(),
            None
        );
        assert!(matches!(
            personal
                .seal("member", "m-1", "member.registered", &registration())
                .await,
            Err(PersonalDataError::Erased(_))
        ));
    }

    #[tokio::test]
    async fn a_sealed_value_moved_to_another_field_or_member_does_not_open() {
        let (_dir, personal) = store().await;
        let sealed = personal
            .seal("member", "m-1", "member.registered", &registration())
            .await
            .unwrap();
        let mut swapped = sealed.clone();
        swapped["registered"]["email"] = sealed["registered"]["name"].clone();
        assert!(matches!(
            personal
                .open("member", "m-1", "member.registered", &mut swapped)
                .await,
            Err(PersonalDataError::Unopenable { .. })
        ));
        personal
            .seal("member", "m-2", "member.registered", &registration())
            .await
            .unwrap();
        let mut moved = sealed.clone();
        assert!(personal
            .open("member", "m-2", "member.registered", &mut moved)
            .await
            .is_err());
    }

    #[tokio::test]
    async fn an_accounts_payer_name_is_sealed_with_its_members_key() {
        let (_dir, personal) = store().await;
        let payload =
            json!({"top_up_approved": {"deposit": {"payer_name": "YAMADA HANAKO", "amount": "1"}}});
        let sealed = personal
            .seal("account", "acct-m-1", "account.top_up_approved", &payload)
            .await
            .unwrap();
        assert!(!sealed.to_string().contains("YAMADA"));
        personal.erase("m-1", Utc::now()).await.unwrap();
        let mut opened = sealed;
        assert_eq!(
            personal
                .open(
                    "account",
                    "acct-m-1",
                    "account.top_up_approved",
                    &mut opened
                )
                .await
                .unwrap(),
            Opened::Erased
        );
    }
}

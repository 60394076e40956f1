//! Where notices go: e-mail over SMTP (`lettre`), and webhooks signed as the Standard Webhooks
//! convention says (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 of
//! HMAC-SHA256 over "id.timestamp.body">`). Every attempt for a notice carries the same id (the
//! e-mail's `Message-ID`, the webhook's `webhook-id`), so a receiver deduplicates a resend.

use crate::outbox::Pending;
use crate::templates::Worded;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::Sha256;
use std::time::Duration;

/// A place notices are delivered to.
#[derive(Clone)]
pub enum Channel {
    /// E-mail to the member's address.
    Email {
        /// The SMTP transport.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The sender.
        from: Mailbox,
    },
    /// A JSON POST of every notice to a URL.
    Webhook {
        /// The URL.
        url: String,
        /// The signing key (the secret's bytes).
        key: Vec<u8>,
        /// The HTTP client.
        client: reqwest::Client,
    },
}

/// Why a channel's settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The SMTP URL or the sender address.
    #[error("SMTP: {0}")]
    Smtp(String),
    /// The webhook's secret.
    #[error("webhook secret: {0}")]
    Secret(String),
}

impl Channel {
    /// E-mail through the SMTP server at `url` (`smtp://host:port` for a local relay,
    /// `smtps://user:password@host` or `smtp://…?tls=required` for a provider), from `from`.
    pub fn email(url: &str, from: &str) -> Result<Self, ChannelError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| ChannelError::Smtp(e.to_string()))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = from
            .parse()
            .map_err(|e: lettre::address::AddressError| ChannelError::Smtp(e.to_string()))?;
        Ok(Channel::Email { transport, from })
    }

    /// A webhook at `url`, signed with `secret` (`whsec_` and the key in base64, as Standard
    /// Webhooks issue them).
    pub fn webhook(url: &str, secret: &str) -> Result<Self, ChannelError> {
        let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| ChannelError::Secret(e.to_string()))?;
        if key.len() < 24 {
            return Err(ChannelError::Secret(
                "the key must be at least 24 bytes".to_owned(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ChannelError::Secret(e.to_string()))?;
        Ok(Channel::Webhook {
            url: url.to_owned(),
            key,
            client,
        })
    }

    /// The target recorded with each delivery: `email`, or the webhook's URL.
    pub fn target(&self) -> String {
        match self {
            Channel::Email { .. } => "email".to_owned(),
            Channel::Webhook { url, .. } => url.clone(),
        }
    }

    /// Delivers `worded` for `notice`: the receiver's answer, or why it failed.
    pub async fn deliver(&self, notice: &Pending, worded: &Worded) -> Result<String, String> {
        match self {
            Channel::Email { transport, from } => {
                let to = Mailbox::new(
                    Some(notice.name.clone()),
                    notice
                        .email
                        .parse()
                        .map_err(|e| format!("address {:?}: {e}", notice.email))?,
                );
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&worded.subject)
                    .message_id(Some(format!("<{}@parcelport>", notice.notice_id)))
                    .header(ContentType::TEXT_PLAIN)
                    .body(worded.body.clone())
                    .map_err(|e| e.to_string())?;
                let response = transport.send(message).await.map_err(|e| e.to_string())?;
                Ok(response.message().collect::<Vec<_>>().join(" "))
            }
            Channel::Webhook { url, key, client } => {
                let body = serde_json::json!({
                    "type": format!("notice.{}", serde_json::to_value(notice.kind)
                        .ok().and_then(|k| k.as_str().map(str::to_owned)).unwrap_or_default()),
                    "id": notice.notice_id,
                    "member_id": notice.member_id,
                    "aggregate_id": notice.aggregate_id,
                    "subject": worded.subject,
                    "body": worded.body,
                    "facts": notice.facts,
                })
                .to_string();
                let timestamp = chrono::Utc::now().timestamp().to_string();
                let signature = sign(key, &notice.notice_id, &timestamp, &body);
                let response = client
                    .post(url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &notice.notice_id)
                    .header("webhook-timestamp", &timestamp)
                    .header("webhook-signature", format!("v1,{signature}"))
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status();
                if status.is_success() {
                    Ok(status.to_string())
                } else {
                    Err(format!("the receiver answered {status}"))
                }
            }
        }
    }
}

/// The Standard Webhooks signature: base64 of HMAC-SHA256(key, "id.timestamp.body").
pub fn sign(key: &[u8], id: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

//! [`NotifierFlags`]: the notifier's command-line flags, shared by `parcelport serve` and
//! `parcelport-notifier` so both take the same channels the same way.

use crate::{Channel, ChannelError, Language, NotifierOptions};

/// Where notices go and in which language.
#[derive(Debug, Clone, clap::Args)]
pub struct NotifierFlags {
    /// Tell members by e-mail through this SMTP server (`smtp://host:port`,
    /// `smtps://user:password@host`).
    #[arg(long, env = "PARCELPORT_SMTP_URL", requires = "mail_from")]
    pub smtp_url: Option<String>,
    /// The sender of the e-mails, `name <address>`.
    #[arg(long, env = "PARCELPORT_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Tell members' services through this webhook too (repeatable), signed with
    /// --webhook-secret as Standard Webhooks say.
    #[arg(
        long = "webhook",
        env = "PARCELPORT_WEBHOOKS",
        value_delimiter = ',',
        requires = "webhook_secret"
    )]
    pub webhooks: Vec<String>,
    /// The webhooks' signing secret, `whsec_` and the key in base64.
    #[arg(long, env = "PARCELPORT_WEBHOOK_SECRET")]
    pub webhook_secret: Option<String>,
    /// The language of the notices: en or ja.
    #[arg(long, env = "PARCELPORT_NOTICE_LANGUAGE", default_value = "en")]
    pub notice_language: Language,
}

/// One channel as configured, before it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelConfig {
    /// E-mail through an SMTP server.
    Email {
        /// `smtp://…` or `smtps://…`.
        url: String,
        /// The sender, `name <address>`.
        from: String,
    },
    /// A webhook signed with `secret`.
    Webhook {
        /// The URL posted to.
        url: String,
        /// `whsec_…`.
        secret: String,
    },
}

impl ChannelConfig {
    /// The channel, opened.
    pub fn open(&self) -> Result<Channel, ChannelError> {
        match self {
            ChannelConfig::Email { url, from } => Channel::email(url, from),
            ChannelConfig::Webhook { url, secret } => Channel::webhook(url, secret),
        }
    }
}

impl NotifierFlags {
    /// The channels given, none when no channel flag is.
    pub fn channels(&self) -> Vec<ChannelConfig> {
        let mut channels = Vec::new();
        if let (Some(url), Some(from)) = (&self.smtp_url, &self.mail_from) {
            channels.push(ChannelConfig::Email {
                url: url.clone(),
                from: from.clone(),
            });
        }
        if let Some(secret) = &self.webhook_secret {
            channels.extend(self.webhooks.iter().map(|url| ChannelConfig::Webhook {
                url: url.clone(),
                secret: secret.clone(),
            }));
        }
        channels
    }

    /// The notifier's options with the language given.
    pub fn options(&self) -> NotifierOptions {
        NotifierOptions {
            language: self.notice_language,
            ..NotifierOptions::default()
        }
    }
}

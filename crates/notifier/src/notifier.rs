//! [`Notifier`]: delivers what the notices view says to tell, to every channel, with retries.
//!
//! Each round reads, per channel, the notices not delivered there yet (or due for a retry),
//! words them in the notice language, delivers them one by one and records each attempt. A
//! failure is retried after a backoff that doubles from `retry_after` up to an hour; after
//! `max_attempts` the delivery is recorded as failed and not tried again.

use crate::channel::Channel;
use crate::outbox::{Delivery, Outbox, Pending, State};
use crate::templates::{word, Language, Worded};
use chrono::{DateTime, Utc};
use engine::Clock;
use personal_data::PersonalData;
use projection_runtime::ViewDb;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Why the notifier cannot start.
#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    /// Its record of deliveries could not be prepared.
    #[error("the notifier's deliveries table: {0}")]
    Outbox(#[from] sqlx::Error),
    /// A member's sealed words could not be opened.
    #[error("the notifier's record: {0}")]
    PersonalData(#[from] personal_data::PersonalDataError),
}

/// How the notifier runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifierOptions {
    /// The language notices are worded in for members who chose none.
    pub language: Language,
    /// How often it looks for notices to deliver.
    pub interval: Duration,
    /// The first retry's delay; each next one doubles, up to an hour.
    pub retry_after: Duration,
    /// Attempts before a delivery is recorded as failed.
    pub max_attempts: u32,
    /// Notices per channel and round.
    pub batch: u32,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        Self {
            language: Language::En,
            interval: Duration::from_secs(2),
            retry_after: Duration::from_secs(30),
            max_attempts: 8,
            batch: 200,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Deliveries that succeeded.
    pub sent: u32,
    /// Deliveries that failed and will be retried.
    pub retrying: u32,
    /// Deliveries that failed for good.
    pub failed: u32,
}

/// The labels the delivery record's sealed texts are bound to.
const SUBJECT: &str = "notice/subject";
const BODY: &str = "notice/body";
const RESPONSE: &str = "notice/response";
/// What a delivery of an erased member reads.
const ERASED: &str = "[personal data erased]";

/// The notifier.
pub struct Notifier {
    outbox: Outbox,
    channels: Vec<Channel>,
    clock: Arc<dyn Clock>,
    options: NotifierOptions,
    personal_data: Option<Arc<PersonalData>>,
}

impl Notifier {
    /// A notifier delivering the notices view in `views` to `channels`; the time of each
    /// delivery is read from `clock` (the server's business clock).
    pub async fn new(
        views: ViewDb,
        channels: Vec<Channel>,
        clock: Arc<dyn Clock>,
        options: NotifierOptions,
    ) -> Result<Self, NotifierError> {
        Ok(Self {
            outbox: Outbox::open(views).await?,
            channels,
            clock,
            options,
            personal_data: None,
        })
    }

    /// The same notifier opening the members' sealed names and addresses with `keys`
    /// (issue #10); without them, contacts are used as the view holds them.
    pub fn opening_personal_data_with(self, keys: Arc<PersonalData>) -> Self {
        Self {
            personal_data: Some(keys),
            ..self
        }
    }

    /// `notice` with the member's name and address opened; `None` once they are erased.
    async fn opened(&self, mut notice: Pending) -> Result<Option<Pending>, String> {
        let Some(keys) = &self.personal_data else {
            return Ok(Some(notice));
        };
        let member = notice.member_id.clone();
        let open = |pointer: &'static str, text: String| {
            let member = member.clone();
            async move {
                keys.open_text(&member, pointer, &text)
                    .await
                    .map_err(|e| e.to_string())
            }
        };
        let (Some(name), Some(email)) = (
            open("/registered/name", std::mem::take(&mut notice.name)).await?,
            open("/registered/email", std::mem::take(&mut notice.email)).await?,
        ) else {
            return Ok(None);
        };
        notice.name = name;
        notice.email = email;
        Ok(Some(notice))
    }

    /// The deliveries' record.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// One round over every channel.
    pub async fn round(&self) -> Result<Round, sqlx::Error> {
        let mut round = Round::default();
        for channel in &self.channels {
            let target = channel.target();
            let now = self.clock.now();
            for notice in self
                .outbox
                .pending(&target, now, self.options.batch)
                .await?
            {
                let notice_id = notice.notice_id.clone();
                let notice = match self.opened(notice).await {
                    Ok(Some(notice)) => notice,
                    // Nobody to tell: the member's name and address are erased.
                    Ok(None) => {
                        round.failed += 1;
                        self.outbox
                            .record(
                                &notice_id,
                                &target,
                                State::Failed,
                                0,
                                None,
                                &Worded::erased(),
                                None,
                                "the member's personal data is erased",
                            )
                            .await?;
                        continue;
                    }
                    Err(error) => {
                        tracing::error!(notice = notice_id, %error, "a notice's contact could not be opened");
                        continue;
                    }
                };
                // The member's own language, else the notifier's.
                let language = notice
                    .language
                    .as_deref()
                    .and_then(|chosen| chosen.parse().ok())
                    .unwrap_or(self.options.language);
                let worded = word(
                    notice.kind,
                    &notice.facts,
                    &notice.aggregate_id,
                    &notice.name,
                    language,
                );
                let attempts = notice.attempts + 1;
                // The delivery joins the trace of the command whose event it tells.
                let span = tracing::info_span!(
                    "notifier.deliver",
                    otel.kind = "producer",
                    notice = %notice.notice_id,
                    kind = ?notice.kind,
                    target = %target,
                    attempt = attempts,
                    trace_id = tracing::field::Empty,
                );
                telemetry::trace::continue_trace(&span, notice.traceparent.as_deref());
                let delivered = channel
                    .deliver(&notice, &worded)
                    .instrument(span.clone())
                    .await;
                let (state, next, sent_at, response) = match delivered {
                    Ok(answer) => {
                        round.sent += 1;
                        metrics::counter!("parcelport_notices_sent_total").increment(1);
                        (State::Sent, None, Some(self.clock.now()), answer)
                    }
                    Err(error) if attempts >= self.options.max_attempts => {
                        round.failed += 1;
                        metrics::counter!("parcelport_notices_failed_total").increment(1);
                        span.in_scope(|| {
                            tracing::error!(notice = notice.notice_id, target, %error, "a notice could not be delivered");
                        });
                        (State::Failed, None, None, error)
                    }
                    Err(error) => {
                        round.retrying += 1;
                        span.in_scope(|| {
                            tracing::warn!(notice = notice.notice_id, target, attempts, %error, "a notice delivery failed; retrying");
                        });
                        (State::Retrying, Some(self.retry_at(attempts)), None, error)
                    }
                };
                let (worded, response) = match self
                    .sealed(&notice.member_id, worded, response)
                    .await
                {
                    Ok(sealed) => sealed,
                    Err(error) => {
                        tracing::error!(notice = notice.notice_id, %error, "a delivery's record could not be sealed");
                        continue;
                    }
                };
                self.outbox
                    .record(
                        &notice.notice_id,
                        &target,
                        state,
                        attempts,
                        next,
                        &worded,
                        sent_at,
                        &response,
                    )
                    .await?;
            }
        }
        Ok(round)
    }

    /// The words sent and the receiver's answer as the record keeps them: sealed with the
    /// member's key (they hold the member's name and address), so that erasing the member
    /// leaves nothing readable here either (issue #10).
    async fn sealed(
        &self,
        member: &str,
        worded: Worded,
        response: String,
    ) -> Result<(Worded, String), personal_data::PersonalDataError> {
        let Some(keys) = &self.personal_data else {
            return Ok((worded, response));
        };
        Ok((
            Worded {
                subject: keys.seal_text(member, SUBJECT, &worded.subject).await?,
                body: keys.seal_text(member, BODY, &worded.body).await?,
            },
            keys.seal_text(member, RESPONSE, &response).await?,
        ))
    }

    /// Every delivery recorded, its words and answer opened (`[personal data erased]` where
    /// the member's data is erased).
    pub async fn deliveries(&self) -> Result<Vec<Delivery>, NotifierError> {
        let mut deliveries = self.outbox.deliveries().await?;
        if let Some(keys) = &self.personal_data {
            let open = |label: &'static str, text: String| async move {
                keys.open_sealed_text(label, &text)
                    .await
                    .map(|opened| opened.unwrap_or_else(|| ERASED.to_owned()))
            };
            for delivery in &mut deliveries {
                delivery.subject = open(SUBJECT, std::mem::take(&mut delivery.subject)).await?;
                delivery.body = open(BODY, std::mem::take(&mut delivery.body)).await?;
                if let Some(response) = delivery.response.take() {
                    delivery.response = Some(open(RESPONSE, response).await?);
                }
            }
        }
        Ok(deliveries)
    }

    /// When the `attempts`-th failed delivery is tried again.
    fn retry_at(&self, attempts: u32) -> DateTime<Utc> {
        let doubled = self
            .options
            .retry_after
            .saturating_mul(1 << attempts.saturating_sub(1).min(16));
        let delay = doubled.min(Duration::from_secs(3600));
        self.clock.now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX)
    }

    /// Rounds every `interval` until `stop` completes.
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(self.options.interval) => {
                    if let Err(error) = self.round().await {
                        tracing::warn!(%error, "a notifier round failed; retried");
                    }
                }
            }
        }
    }
}

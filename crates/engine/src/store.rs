//! [`EngineStore`]: the little state the engine keeps beside the event store (suite codes,
//! the member-to-parcels index, idempotency keys, the reference rates finance records) and the one event-store query it needs
//! that cqrs-es does not offer (events by idempotency key). A backend implements it next to
//! its `PersistedEventRepository`: PostgreSQL in [`crate::PgEngineStore`], the embedded SQLite
//! in `SqliteEngineStore` (feature `sqlite`).

use crate::EngineError;
use chrono::NaiveDate;
use domain::exchange::ExchangeRate;
use domain::ids::{MemberId, ParcelId, SuiteCode};
use domain::money::Currency;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

/// The engine's own storage.
pub trait EngineStore: Send + Sync + 'static {
    /// Creates or updates the engine's tables.
    fn migrate(&self) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// The suite code of `member`, allocating the next one `<prefix>-NNNNNN` the first time
    /// (MEM-1: unique across members). Allocating again for the same member returns the same code.
    fn allocate_suite_code(
        &self,
        prefix: &str,
        member: &MemberId,
    ) -> impl Future<Output = Result<SuiteCode, EngineError>> + Send;

    /// Forgets the code allocated to `member`, whose registration was refused.
    fn release_suite_code(
        &self,
        member: &MemberId,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// The member a suite code was allocated to (PAR-1).
    fn member_of_suite(
        &self,
        code: &SuiteCode,
    ) -> impl Future<Output = Result<Option<MemberId>, EngineError>> + Send;

    /// Records that `parcel` belongs to `member`. Idempotent.
    fn index_parcel(
        &self,
        member: &MemberId,
        parcel: &ParcelId,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// Every parcel recorded for `member`.
    fn parcels_of(
        &self,
        member: &MemberId,
    ) -> impl Future<Output = Result<Vec<ParcelId>, EngineError>> + Send;

    /// Records a reference bank rate (MON-3), replacing the pair's rate of the same day.
    fn record_reference_rate(
        &self,
        rate: &ExchangeRate,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// The latest reference rate of `base` in `quote` recorded for a day of `month`'s month.
    fn reference_rate_in_month(
        &self,
        base: Currency,
        quote: Currency,
        month: NaiveDate,
    ) -> impl Future<Output = Result<Option<ExchangeRate>, EngineError>> + Send;

    /// Claims idempotency key `key` for a request with `fingerprint` (see [`KeyClaim`]).
    fn claim_key(
        &self,
        key: &str,
        fingerprint: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<KeyClaim, EngineError>> + Send;

    /// Appends an id the claim's holder allocated, so that a resumed attempt reuses it.
    fn record_allocated_id(
        &self,
        key: &str,
        attempt: i32,
        id: &str,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// Records the request's result; false when the claim was taken over meanwhile.
    fn complete_key(
        &self,
        key: &str,
        attempt: i32,
        response: &Value,
    ) -> impl Future<Output = Result<bool, EngineError>> + Send;

    /// Gives the claim up after a failure that is not an answer (a conflict, a store error):
    /// the next request with the key takes it over at once and resumes.
    fn abandon_key(
        &self,
        key: &str,
        attempt: i32,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// The events appended by step `step` of the request with key `key`, in order.
    fn recorded_step(
        &self,
        key: &str,
        step: u32,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, EngineError>> + Send;
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyClaim {
    /// The key is this request's to run. `resumed` when an earlier attempt held it and went
    /// away: its steps may have appended events, which the request then replays instead of
    /// deciding again; `allocated_ids` are the ids it allocated, in order.
    Claimed {
        /// Fences out earlier holders.
        attempt: i32,
        /// An earlier attempt held the key.
        resumed: bool,
        /// Ids the earlier attempts allocated.
        allocated_ids: Vec<String>,
    },
    /// The request ran: its stored result.
    Done(Value),
    /// Another request holds the key and is presumably still running.
    Pending,
    /// The key was used for a request with another fingerprint.
    Mismatch,
}

/// An event as stored, found by its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// Its sequence in the aggregate.
    pub sequence: usize,
    /// The serialized domain event.
    pub payload: Value,
}

/// The recorded answers among `answers` (key, answer) that hold personal data, with the
/// stand-ins put in (issue #10: answers recorded before they were scrubbed at the source).
pub(crate) fn scrubbed(answers: Vec<(String, Value)>) -> Vec<(String, Value)> {
    answers
        .into_iter()
        .filter_map(|(key, answer)| {
            let mut clean = answer.clone();
            domain::personal::scrub(&mut clean);
            (clean != answer).then_some((key, clean))
        })
        .collect()
}

impl From<event_store::AppendedByRequest> for RecordedEvent {
    fn from(event: event_store::AppendedByRequest) -> Self {
        RecordedEvent {
            aggregate_type: event.aggregate_type,
            aggregate_id: event.aggregate_id,
            sequence: usize::try_from(event.sequence).unwrap_or_default(),
            payload: event.payload,
        }
    }
}

/// The first and last day of `day`'s month.
pub(crate) fn month_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    use chrono::Datelike;
    let first = day.with_day(1).unwrap_or(day);
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(day);
    (first, last)
}

/// A reference rate as a row holds it: the currencies' codes, the day, the exact rate as text.
pub(crate) fn rate_of_row(
    base: Currency,
    quote: Currency,
    valid_on: NaiveDate,
    rate: &str,
    source: String,
) -> Result<ExchangeRate, EngineError> {
    let rate = rate.parse().map_err(|_| EngineError::Store {
        message: format!("reference rate {rate:?} of {valid_on} is not a decimal"),
    })?;
    Ok(ExchangeRate {
        base,
        quote,
        rate,
        source,
        valid_on,
    })
}

#[cfg(test)]
mod tests {
    use super::scrubbed;
    use serde_json::json;

    #[test]
    fn only_answers_holding_personal_data_are_scrubbed() {
        let registered = json!({"Ok": {"member": {"events": [{"registered": {
            "member_id": "m-1", "name": "Yamada Taro", "email": "taro@example.com",
            "birth_date": "1990-04-01", "guardian_consent": null
        }}]}}});
        let parcel = json!({"Ok": {"parcel": {"events": [{"arrived": {"weight": 1200}}]}}});
        let out = scrubbed(vec![("k-1".into(), registered), ("k-2".into(), parcel)]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, "k-1");
        let text = out[0].1.to_string();
        assert!(
            !text.contains("Yamada") && !text.contains("taro@"),
            "{text}"
        );
    }
}

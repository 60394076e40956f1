//! Members' personal data in what the auditor's tools show (issue #10): sealed with the
//! member's key, or erased once the member's `member.personal_data_erased` is recorded.

use crate::AuditError;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::HashSet;

/// Whether an event's personal data can still be read by parcelport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalData {
    /// Sealed with the member's key, which is kept.
    Sealed,
    /// Sealed, and the member's key is erased: it can never be read again.
    Erased,
}

impl PersonalData {
    /// As a word (a CSV column).
    pub fn as_str(self) -> &'static str {
        match self {
            PersonalData::Sealed => "sealed",
            PersonalData::Erased => "erased",
        }
    }
}

/// Which of `members` had their personal data erased.
pub(crate) async fn erased_members<'a>(
    pool: &PgPool,
    members: impl IntoIterator<Item = &'a str>,
) -> Result<HashSet<String>, AuditError> {
    let members: Vec<String> = members.into_iter().map(str::to_owned).collect();
    if members.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(event_store::EventStore::from_pool(pool.clone())
        .holding_event("member", &members, "member.personal_data_erased")
        .await?
        .into_iter()
        .collect())
}

/// What the personal data of a stored event (its type, aggregate and payload text) is, given
/// the `erased` members; `None` when it holds no sealed field.
pub(crate) fn of_event(
    event_type: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    payload: &str,
    erased: &HashSet<String>,
) -> Option<PersonalData> {
    let member = domain::personal::subject(aggregate_type, aggregate_id)?;
    if !domain::personal::holds_personal_data(event_type)
        || !payload.contains(domain::personal::SEALED_PREFIX)
    {
        return None;
    }
    Some(if erased.contains(member) {
        PersonalData::Erased
    } else {
        PersonalData::Sealed
    })
}

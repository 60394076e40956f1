//! Erasure of a member's personal data (issue #10, crypto-shredding): the member records the
//! erasure (allowed once closed and past the policy's retention period), then the member's key
//! is deleted, which makes every sealed copy of their personal data unreadable: in the store,
//! on JetStream, in views and exports. No event is changed or removed.

use super::request;
use crate::store::EngineStore;
use crate::{CommandContext, Engine, EngineError, Executed};
use chrono::{DateTime, Utc};
use cqrs_es::persist::PersistedEventRepository;
use domain::ids::MemberId;
use domain::member::{Member, MemberCommand, MemberEvent};
use serde::{Deserialize, Serialize};

/// A member's personal data erased.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalDataErased {
    /// `member.personal_data_erased`.
    pub member: Executed<MemberEvent>,
    /// When the member's key was deleted.
    pub key_erased_at: DateTime<Utc>,
}

/// The refusal code of a second erasure.
const ALREADY_ERASED: &str = "member.personal_data_already_erased";

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Erases `member_id`'s personal data: records `member.personal_data_erased`, then deletes
    /// the member's key. A request that stopped between the two is finished by asking again:
    /// the member refuses a second erasure, and the key is deleted before that refusal is
    /// answered.
    pub async fn erase_personal_data(
        &self,
        member_id: &MemberId,
        ctx: &CommandContext,
    ) -> Result<PersonalDataErased, EngineError> {
        let Some(keys) = self.config.personal_data.clone() else {
            return Err(EngineError::invalid(
                "this engine keeps no members' keys: personal data cannot be erased here",
            ));
        };
        request!(self, ctx, "erase_personal_data", member_id, |req| async {
            let erase_key = || async {
                keys.erase(member_id.as_str(), self.now())
                    .await
                    .map_err(|e| EngineError::Store {
                        message: format!("could not erase {member_id}'s key: {e}"),
                    })
            };
            match self
                .step::<Member>(&req, member_id.as_str(), MemberCommand::ErasePersonalData)
                .await
            {
                Ok(member) => Ok(PersonalDataErased {
                    member,
                    key_erased_at: erase_key().await?,
                }),
                Err(refused) if refused.code() == ALREADY_ERASED => {
                    erase_key().await?;
                    Err(refused)
                }
                Err(error) => Err(error),
            }
        })
    }
}

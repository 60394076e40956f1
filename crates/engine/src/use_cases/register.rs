//! Registering a member (MEM-1): a unique suite code, the member, and their charge account.

use super::request;
use crate::store::EngineStore;
use crate::{ids, CommandContext, Engine, EngineError, Executed};
use chrono::NaiveDate;
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount};
use domain::ids::{AccountId, MemberId, SuiteCode};
use domain::member::{
    EmailAddress, GuardianConsent, Member, MemberCommand, MemberEvent, PersonName,
};
use serde::{Deserialize, Serialize};

/// What a person registers with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    /// Full name.
    pub name: PersonName,
    /// Birth date (MEM-3).
    pub birth_date: NaiveDate,
    /// Contact address.
    pub email: EmailAddress,
    /// A guardian's consent, for a minor (MEM-3).
    pub guardian_consent: Option<GuardianConsent>,
    /// Accepted that the address is for forwarding only (MEM-1).
    pub forwarding_only_accepted: bool,
}

/// A registered member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    /// The new member.
    pub member_id: MemberId,
    /// Their suite code (MEM-1).
    pub suite_code: SuiteCode,
    /// Their charge account.
    pub account_id: AccountId,
    /// `member.registered`.
    pub member: Executed<MemberEvent>,
    /// `account.opened`.
    pub account: Executed<AccountEvent>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Registers a member: allocates a member id and a suite code unique among members
    /// (MEM-1), registers the member, opens their charge account (`acct-<member>`). A refused
    /// registration gives its suite code back.
    pub async fn register_member(
        &self,
        registration: Registration,
        ctx: &CommandContext,
    ) -> Result<Registered, EngineError> {
        request!(self, ctx, "register_member", &registration, |req| async {
            let member_id = MemberId::parse(&self.allocate_id(&req).await?)
                .map_err(|e| EngineError::invalid(e.to_string()))?;
            let suite_code = self
                .store
                .allocate_suite_code(self.config.suite_code_prefix(), &member_id)
                .await?;
            let account_id = ids::account_of(&member_id)?;
            let register = MemberCommand::Register {
                member_id: member_id.clone(),
                suite_code: suite_code.clone(),
                name: registration.name,
                birth_date: registration.birth_date,
                email: registration.email,
                guardian_consent: registration.guardian_consent,
                forwarding_only_accepted: registration.forwarding_only_accepted,
            };
            let member = match self
                .step::<Member>(&req, member_id.as_str(), register)
                .await
            {
                Ok(member) => member,
                Err(refused) if refused.is_final() => {
                    self.store.release_suite_code(&member_id).await?;
                    return Err(refused);
                }
                Err(error) => return Err(error),
            };
            let open = AccountCommand::Open {
                account_id: account_id.clone(),
                member_id: member_id.clone(),
            };
            let account = self
                .step::<ChargeAccount>(&req, account_id.as_str(), open)
                .await?;
            Ok(Registered {
                member_id,
                suite_code,
                account_id,
                member,
                account,
            })
        })
    }
}

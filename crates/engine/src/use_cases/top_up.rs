//! Top-up applications (ACC-2, ACC-3, MEM-5): the account decides against the bank's record;
//! the third rejection in a row suspends the member.

use super::request;
use crate::store::EngineStore;
use crate::{ids, CommandContext, Engine, EngineError, Executed};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, BankDeposit, ChargeAccount, DeclaredDeposit};
use domain::exchange::ExchangeRate;
use domain::ids::MemberId;
use domain::member::{Member, MemberCommand, MemberEvent};
use serde::{Deserialize, Serialize};

/// A member's top-up application, with the bank's record an operator matched to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopUpApplication {
    /// What the member declared (ACC-2).
    pub declared: DeclaredDeposit,
    /// The bank's record of the deposit, if the operator found one.
    pub deposit: Option<BankDeposit>,
    /// The reference rate of the day, when the deposit is in another currency (MON-3).
    #[serde(default)]
    pub rate: Option<ExchangeRate>,
}

/// A top-up application decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopUpDecided {
    /// `account.top_up_approved`, or `account.top_up_rejected` (and
    /// `account.top_up_rejection_limit_reached`).
    pub account: Executed<AccountEvent>,
    /// `member.suspended` for rejected top-ups (ACC-3, MEM-5).
    pub suspension: Option<Executed<MemberEvent>>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Decides a top-up application (ACC-2); when it is the policy's count of rejections in a
    /// row, suspends the member (ACC-3, MEM-5).
    pub async fn apply_for_top_up(
        &self,
        member_id: &MemberId,
        application: TopUpApplication,
        ctx: &CommandContext,
    ) -> Result<TopUpDecided, EngineError> {
        let input = (member_id, &application);
        request!(self, ctx, "apply_for_top_up", &input, |req| async {
            let account_id = ids::account_of(member_id)?;
            let application_id = ids::cause(&self.allocate_id(&req).await?)?;
            let apply = AccountCommand::ApplyForTopUp {
                application_id,
                declared: application.declared,
                deposit: application.deposit,
                rate: application.rate,
            };
            let account = self
                .step::<ChargeAccount>(&req, account_id.as_str(), apply)
                .await?;
            let reached = account.events().find_map(|event| match event {
                AccountEvent::TopUpRejectionLimitReached {
                    consecutive_rejections,
                    ..
                } => Some(*consecutive_rejections),
                _ => None,
            });
            let suspension = match reached {
                Some(consecutive_rejections) => {
                    let suspend = MemberCommand::SuspendForRejectedTopUps {
                        account_id,
                        consecutive_rejections,
                    };
                    Some(
                        self.step::<Member>(&req, member_id.as_str(), suspend)
                            .await?,
                    )
                }
                None => None,
            };
            Ok(TopUpDecided {
                account,
                suspension,
            })
        })
    }
}

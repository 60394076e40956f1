//! Automatic closure (MEM-9, cn-agency): the daily job asks the member to close itself with the
//! charge account's facts, looked up here, never taken from the caller: the balance's sign and
//! the day of the first top-up application. Closure comes only at a zero or negative balance;
//! if money reached the account between the look-up and the closure, the refund of the balance
//! is scheduled (ACC-7), since a closure never keeps a member's money.

use super::request;
use crate::store::EngineStore;
use crate::{ids, CommandContext, Engine, EngineError, Executed};
use chrono::NaiveDate;
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount};
use domain::ids::MemberId;
use domain::member::{AutoClosureFacts, BalanceSign, Member, MemberCommand, MemberEvent};
use serde::{Deserialize, Serialize};

/// An automatic closure evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoClosureEvaluated {
    /// The facts the member decided on.
    pub facts: AutoClosureFacts,
    /// `member.auto_closed`, or nothing when no condition held.
    pub member: Executed<MemberEvent>,
    /// `account.refund_scheduled` when the member was closed with money on the account.
    pub refund: Option<Executed<AccountEvent>>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Evaluates the automatic closure of `member_id` today (MEM-9). `negative_since` is the
    /// first day of the balance's current run below zero, which the account's events do not
    /// date (the billing view does); it is needed only when the balance is negative.
    pub async fn evaluate_auto_closure(
        &self,
        member_id: &MemberId,
        negative_since: Option<NaiveDate>,
        ctx: &CommandContext,
    ) -> Result<AutoClosureEvaluated, EngineError> {
        let input = (member_id, negative_since);
        request!(self, ctx, "evaluate_auto_closure", &input, |req| async {
            let account_id = ids::account_of(member_id)?;
            let account = self.load::<ChargeAccount>(account_id.as_str()).await?.state;
            let balance = account
                .balance()
                .ok_or_else(|| EngineError::not_found("account", &account_id))?;
            let balance = if balance.is_negative() {
                BalanceSign::Negative {
                    since: negative_since.ok_or_else(|| {
                        EngineError::invalid(format!(
                            "the balance of {account_id} is negative: say since when"
                        ))
                    })?,
                }
            } else if balance.is_zero() {
                BalanceSign::Zero
            } else {
                BalanceSign::Positive
            };
            let facts = AutoClosureFacts {
                balance,
                first_top_up_on: account.first_top_up_application_on(),
            };
            let evaluate = MemberCommand::EvaluateAutoClosure { facts };
            let member = self
                .step::<Member>(&req, member_id.as_str(), evaluate)
                .await?;
            let closed_on = member.events().find_map(|event| match event {
                MemberEvent::AutoClosed { closed_on, .. } => Some(*closed_on),
                _ => None,
            });
            let mut refund = None;
            if let Some(closed_on) = closed_on {
                // A top-up may have landed since the look-up: money left is refunded (ACC-7).
                let now = self.load::<ChargeAccount>(account_id.as_str()).await?.state;
                if now.balance().is_some_and(|b| b.is_positive()) {
                    let schedule = AccountCommand::ScheduleRefund {
                        request: ids::auto_closure_of(member_id)?,
                        requested_on: closed_on,
                    };
                    refund = Some(
                        self.step::<ChargeAccount>(&req, account_id.as_str(), schedule)
                            .await?,
                    );
                }
            }
            Ok(AutoClosureEvaluated {
                facts,
                member,
                refund,
            })
        })
    }
}

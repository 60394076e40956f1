//! [`Fire`]: how a due action reaches the engine: one use case or command per action kind,
//! under the action's idempotency key, as actor `scheduler` with the rule id in every event's
//! metadata.

use crate::due::{DueAction, Kind};
use cqrs_es::persist::PersistedEventRepository;
use domain::ids::{ClaimId, MemberId, ParcelId, ShipmentId};
use domain::member::{Member, MemberCommand};
use domain::parcel::{Parcel, ParcelCommand};
use domain::shipment::{Shipment, ShipmentCommand};
use engine::use_cases::storage::StorageAction;
use engine::use_cases::withdrawal::RatesForRefund;
use engine::{CommandContext, Engine, EngineError, EngineStore, IdempotencyKey};
use projections::schedule::Action;
use std::future::Future;

/// The actor recorded on every event the scheduler causes.
pub const ACTOR: &str = "scheduler";

/// What firing an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// The engine carried it out: how many events it appended (none when nothing was due).
    Appended(u32),
    /// It cannot be done yet for want of something only people give (a month's reference
    /// rate, MON-3): not issued, its key unused; fired again at the next tick.
    Waiting(String),
}

/// Issues due actions; the engine, or a stand-in in tests.
pub trait Fire: Send + Sync + 'static {
    /// Issues `action` under `ctx`: what it did, or the refusal.
    fn fire(
        &self,
        action: &DueAction,
        ctx: &CommandContext,
    ) -> impl Future<Output = Result<Fired, EngineError>> + Send;
}

/// The context of `action`: actor `scheduler`, correlated and keyed by the action's key, with
/// its rule.
pub fn context(action: &DueAction) -> Result<CommandContext, EngineError> {
    let key = action.key();
    Ok(CommandContext::new(ACTOR, key.clone())
        .with_key(IdempotencyKey::parse(&key)?)
        .for_rule(action.rule()))
}

fn parse<T>(
    parsed: Result<T, impl std::fmt::Display>,
    what: &str,
    value: &str,
) -> Result<T, EngineError> {
    parsed.map_err(|e| EngineError::invalid(format!("{what} {value:?}: {e}")))
}

fn count(events: usize) -> Fired {
    Fired::Appended(u32::try_from(events).unwrap_or(u32::MAX))
}

impl<R, S> Fire for Engine<R, S>
where
    R: PersistedEventRepository + 'static,
    S: EngineStore + 'static,
    Engine<R, S>: Send + Sync,
{
    async fn fire(&self, action: &DueAction, ctx: &CommandContext) -> Result<Fired, EngineError> {
        let id = action.aggregate_id.as_str();
        match action.kind {
            Kind::StorageNotice { .. } | Kind::MarkDisposable => {
                let parcel = parse(ParcelId::parse(id), "parcel", id)?;
                let what = if action.kind == Kind::MarkDisposable {
                    StorageAction::MarkDisposable
                } else {
                    StorageAction::SendNotice
                };
                let done = self.storage_clock(&parcel, what, ctx).await?;
                Ok(count(done.events.len()))
            }
            Kind::AccrueStorageFee { .. } => {
                let parcel = parse(ParcelId::parse(id), "parcel", id)?;
                let done = self.accrue_storage_fee(&parcel, ctx).await?;
                Ok(count(
                    done.parcel.events.len()
                        + done.debits.iter().map(|d| d.events.len()).sum::<usize>(),
                ))
            }
            Kind::PayRefund => {
                // In the policy's payout currency: an account in another currency is converted
                // at the rates finance recorded for the charge month and this month (MON-3);
                // until both are recorded the refund waits, its key unused.
                let member = parse(MemberId::parse(id), "member", id)?;
                let currency = self.policy().account.refund_payout_currency;
                let rates = match self.rates_for_refund(&member, currency).await? {
                    RatesForRefund::NotNeeded => None,
                    RatesForRefund::Found(rates) => Some(rates),
                    RatesForRefund::Missing { base, quote, month } => {
                        return Ok(Fired::Waiting(format!(
                            "no reference rate of {} in {} recorded for {} (MON-3)",
                            base.code(),
                            quote.code(),
                            month.format("%Y-%m")
                        )));
                    }
                };
                let done = self.refund_and_close(&member, currency, rates, ctx).await?;
                Ok(count(done.refund.events.len() + done.member.events.len()))
            }
            Kind::AutoClose { negative_since } => {
                // The engine looks the account's balance up itself; the view gives the day
                // the balance went below zero, which the account's events do not carry.
                let member = parse(MemberId::parse(id), "member", id)?;
                let done = self
                    .evaluate_auto_closure(&member, negative_since, ctx)
                    .await?;
                Ok(count(
                    done.member.events.len() + done.refund.map_or(0, |r| r.events.len()),
                ))
            }
            Kind::Deadline { action: deadline } => match deadline {
                Action::HoldUnpaid => {
                    let shipment = parse(ShipmentId::parse(id), "shipment", id)?;
                    let done = self.hold_unpaid(&shipment, ctx).await?;
                    Ok(count(
                        done.shipment.events.len()
                            + done.parcels.iter().map(|p| p.events.len()).sum::<usize>(),
                    ))
                }
                Action::EscalateClaim | Action::LapseExchange => {
                    let claim_id =
                        parse(ClaimId::parse(&action.subject), "claim", &action.subject)?;
                    if deadline == Action::EscalateClaim {
                        let command = ShipmentCommand::EscalateClaim { claim_id };
                        let done = self.execute::<Shipment>(id, command, ctx).await?;
                        return Ok(count(done.events.len()));
                    }
                    // A lapsed exchange settles the claim: its parcels record it too.
                    let shipment = parse(ShipmentId::parse(id), "shipment", id)?;
                    let command = ShipmentCommand::LapseExchange { claim_id };
                    let done = self.advance_shipment(&shipment, command, ctx).await?;
                    Ok(count(
                        done.shipment.events.len()
                            + done.parcels.iter().map(|p| p.events.len()).sum::<usize>(),
                    ))
                }
                Action::RemindPayment | Action::SendDunningNotice => {
                    parse(ShipmentId::parse(id), "shipment", id)?;
                    let command = if deadline == Action::RemindPayment {
                        ShipmentCommand::RemindPayment
                    } else {
                        ShipmentCommand::SendDunningNotice
                    };
                    let done = self.execute::<Shipment>(id, command, ctx).await?;
                    Ok(count(done.events.len()))
                }
                Action::AccrueLateInterest | Action::AccrueFinalInterest => {
                    let shipment = parse(ShipmentId::parse(id), "shipment", id)?;
                    let done = self
                        .accrue_quote_interest(&shipment, action.due_on, ctx)
                        .await?;
                    Ok(count(done.events.len()))
                }
                Action::CancelExpectedParcel => {
                    parse(ParcelId::parse(id), "parcel", id)?;
                    let done = self
                        .execute::<Parcel>(id, ParcelCommand::CancelExpected, ctx)
                        .await?;
                    Ok(count(done.events.len()))
                }
                Action::CheckDocumentExpiry | Action::LapseAutoShip => {
                    parse(MemberId::parse(id), "member", id)?;
                    let command = if deadline == Action::LapseAutoShip {
                        MemberCommand::LapseAutoShip
                    } else {
                        MemberCommand::CheckDocumentExpiry
                    };
                    let done = self.execute::<Member>(id, command, ctx).await?;
                    Ok(count(done.events.len()))
                }
            },
        }
    }
}

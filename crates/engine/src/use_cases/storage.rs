//! The storage clock of a parcel (STO-1..STO-3): shelving, notices, the disposable mark,
//! paid extension and its monthly fee. Each needs the member's earliest waiting arrival under
//! `first-waiting-arrival`, and a parcel in a shipment its shipment's earliest arrival (STO-1),
//! which the engine looks up.

use super::request;
use crate::store::EngineStore;
use crate::{ids, CommandContext, Engine, EngineError, Executed};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount, DebitReason, Period};
use domain::ids::ParcelId;
use domain::parcel::{Parcel, ParcelCommand, ParcelError, ParcelEvent};
use serde::{Deserialize, Serialize};

/// What the storage clock is asked to do with a parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageAction {
    /// Send the notice due today, if any (STO-2).
    SendNotice,
    /// Mark the parcel disposable past its limit (STO-2).
    MarkDisposable,
    /// Take paid extended storage (STO-3).
    Extend,
}

impl StorageAction {
    /// The parcel command's name, for refusals.
    fn command_name(self) -> &'static str {
        match self {
            StorageAction::SendNotice => "send_storage_notice",
            StorageAction::MarkDisposable => "mark_disposable",
            StorageAction::Extend => "extend_storage",
        }
    }
}

/// Extended-storage fees accrued and debited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageFeesAccrued {
    /// `parcel.storage_fee_accrued`, one per started month not yet accrued.
    pub parcel: Executed<ParcelEvent>,
    /// One debit per month (STO-3), owed.
    pub debits: Vec<Executed<AccountEvent>>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Shelves an inspected parcel at `location`; its storage clock starts from the member's
    /// earliest waiting arrival (STO-1).
    pub async fn store_parcel(
        &self,
        parcel_id: &ParcelId,
        location: &str,
        ctx: &CommandContext,
    ) -> Result<Executed<ParcelEvent>, EngineError> {
        let input = (parcel_id, location);
        request!(self, ctx, "store_parcel", &input, |req| async {
            let parcel = self.existing_parcel(parcel_id).await?;
            let earliest_waiting_arrival = self
                .earliest_waiting_arrival(parcel.state.member_id())
                .await?;
            let command = ParcelCommand::Store {
                location: location.to_owned(),
                earliest_waiting_arrival,
            };
            self.step::<Parcel>(&req, parcel_id.as_str(), command).await
        })
    }

    /// Runs the storage clock's `action` on a parcel (STO-1..STO-3).
    pub async fn storage_clock(
        &self,
        parcel_id: &ParcelId,
        action: StorageAction,
        ctx: &CommandContext,
    ) -> Result<Executed<ParcelEvent>, EngineError> {
        let input = (parcel_id, action);
        request!(self, ctx, "storage_clock", &input, |req| async {
            let parcel = self.existing_parcel(parcel_id).await?;
            // STO-1: a parcel in a shipment is on the clock only while the shipment is not
            // paid for (the parcel cannot tell it has left).
            if parcel.state.status().shipment_id().is_some()
                && !self.on_storage_clock(&parcel.state).await?
            {
                return Err(EngineError::refused(&ParcelError::InvalidState {
                    command: action.command_name(),
                    status: parcel.state.status().name(),
                }));
            }
            let earliest_waiting_arrival = self.storage_clock_earliest(&parcel.state).await?;
            let command = match action {
                StorageAction::SendNotice => ParcelCommand::SendStorageNotice {
                    earliest_waiting_arrival,
                },
                StorageAction::MarkDisposable => ParcelCommand::MarkDisposable {
                    earliest_waiting_arrival,
                },
                StorageAction::Extend => ParcelCommand::ExtendStorage {
                    earliest_waiting_arrival,
                },
            };
            self.step::<Parcel>(&req, parcel_id.as_str(), command).await
        })
    }

    /// Accrues the extended-storage fee of every started month (STO-3) and debits each month
    /// from the member's balance, once per month (the period is part of the charge's identity).
    pub async fn accrue_storage_fee(
        &self,
        parcel_id: &ParcelId,
        ctx: &CommandContext,
    ) -> Result<StorageFeesAccrued, EngineError> {
        request!(self, ctx, "accrue_storage_fee", parcel_id, |req| async {
            let owner = Self::owner_of(parcel_id, &self.existing_parcel(parcel_id).await?.state)?;
            let account = ids::account_of(&owner)?;
            let parcel = self
                .step::<Parcel>(&req, parcel_id.as_str(), ParcelCommand::AccrueStorageFee)
                .await?;
            let mut debits = Vec::new();
            for event in parcel.events() {
                if let ParcelEvent::StorageFeeAccrued {
                    period_start,
                    period_end,
                    fee,
                    ..
                } = event
                {
                    let command = AccountCommand::Debit {
                        reason: DebitReason::StorageFee,
                        cause: ids::cause(parcel_id.as_str())?,
                        amount: *fee,
                        period: Period::new(*period_start, *period_end),
                        rate: None,
                    };
                    debits.push(
                        self.step::<ChargeAccount>(&req, account.as_str(), command)
                            .await?,
                    );
                }
            }
            Ok(StorageFeesAccrued { parcel, debits })
        })
    }
}

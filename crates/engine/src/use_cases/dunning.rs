//! Late interest on a dunned quote (ACC-6): the shipment says what is overdue since when (the
//! dunning notice's deadline) and until when (the day asked, or the day it was paid), and the
//! member's charge account accrues the interest as an owed debt, at full precision with the
//! remainder carried. The reminder and the notice themselves are plain shipment commands.

use super::request;
use crate::store::EngineStore;
use crate::{ids, CommandContext, Engine, EngineError, Executed};
use chrono::NaiveDate;
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount};
use domain::ids::ShipmentId;
use domain::shipment::Shipment;

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Accrues the late interest of dunned shipment `shipment_id` through `through` (never
    /// past the day it was paid), on its member's account (ACC-6). Refused when no dunning
    /// notice was sent, when nothing is overdue yet, or when interest already runs through
    /// that day.
    pub async fn accrue_quote_interest(
        &self,
        shipment_id: &ShipmentId,
        through: NaiveDate,
        ctx: &CommandContext,
    ) -> Result<Executed<AccountEvent>, EngineError> {
        let input = (shipment_id, through);
        request!(self, ctx, "accrue_quote_interest", &input, |req| async {
            let shipment = self.load::<Shipment>(shipment_id.as_str()).await?.state;
            if shipment.shipment_id().is_none() {
                return Err(EngineError::not_found("shipment", shipment_id));
            }
            let overdue = shipment
                .overdue_quote(through)
                .map_err(|refused| EngineError::refused(&refused))?;
            let account_id = ids::account_of(&overdue.member_id)?;
            let accrue = AccountCommand::AccrueLateInterest {
                cause: ids::cause(shipment_id.as_str())?,
                overdue: overdue.amount,
                due_on: overdue.pay_by,
                through: overdue.through,
            };
            self.step::<ChargeAccount>(&req, account_id.as_str(), accrue)
                .await
        })
    }
}

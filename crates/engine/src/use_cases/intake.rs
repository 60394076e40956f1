//! A parcel's way in: arrival against a suite code (PAR-1, PAR-2, PAR-3, MEM-6, MEM-8),
//! attachment of an unidentified parcel, inspection with its fees (INS-1, INS-3), and the
//! confirmed declaration that lets an Auto Pack parcel be packed (PAR-4, MEM-6).

use super::{note_refused, request};
use crate::store::EngineStore;
use crate::use_cases::disposal::{DisposalReason, Disposed};
use crate::{ids, CommandContext, Engine, EngineError, Executed, Request};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount, DebitReason};
use domain::facts::{MemberStanding, StandingStatus};
use domain::ids::{MemberId, ParcelId, SuiteCode};
use domain::measure::{Dimensions, Weight};
use domain::money::Money;
use domain::parcel::{
    Arrival, CollectOnDelivery, InspectionReport, Parcel, ParcelCommand, ParcelEvent, ParcelStatus,
};
use domain::shipment::{Shipment, ShipmentCommand, ShipmentEvent};
use serde::{Deserialize, Serialize};

/// A box at the door, as the receiving clerk scans it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParcelArrival {
    /// The parcel's id when it was expected (PAR-2 proxy payment); otherwise one is allocated.
    pub parcel_id: Option<ParcelId>,
    /// The suite code as read from the label, if any; unreadable or unknown codes receive
    /// the parcel as unidentified (PAR-1).
    pub label: Option<String>,
    /// Measured weight (PAR-3).
    pub weight: Weight,
    /// Measured dimensions (PAR-3).
    pub dimensions: Dimensions,
    /// The sending shop, if known (PAR-2).
    pub shop: Option<String>,
    /// Money the courier asks at the door (PAR-2).
    pub collect_on_delivery: Option<CollectOnDelivery>,
}

/// A parcel received (or refused at the door).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParcelReceived {
    /// The parcel.
    pub parcel_id: ParcelId,
    /// Its member, when the label resolved to one (PAR-1).
    pub member_id: Option<MemberId>,
    /// `parcel.arrived` (or `parcel.refused`), with the proxy charge and Auto Pack request.
    pub parcel: Executed<ParcelEvent>,
    /// The proxy payment debited (PAR-2).
    pub proxy_payment: Option<Executed<AccountEvent>>,
    /// Destroyed at once because its member is withdrawing (MEM-8).
    pub disposed: Option<Disposed>,
}

/// A parcel inspected, with the fees it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParcelInspected {
    /// `parcel.inspected` (and `parcel.quarantined`).
    pub parcel: Executed<ParcelEvent>,
    /// Defect and detailed-inspection fees debited (INS-1, INS-3).
    pub fees: Vec<Executed<AccountEvent>>,
}

/// A declaration confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclarationConfirmed {
    /// `parcel.declaration_confirmed` (empty when it already was).
    pub parcel: Executed<ParcelEvent>,
    /// The shipment of one requested for an Auto Pack parcel (MEM-6).
    pub auto_pack_shipment: Option<Executed<ShipmentEvent>>,
    /// Why the Auto Pack shipment could not be requested yet (an unverified member, MEM-2).
    pub auto_pack_refused: Option<EngineError>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Receives a parcel at the door (PAR-1..PAR-3): resolves the label's suite code to a
    /// member and their standing (unknown or missing: unidentified, PAR-1), records the
    /// arrival, debits a proxy payment (PAR-2), and destroys it at once when its member is
    /// withdrawing (MEM-8).
    pub async fn receive_parcel(
        &self,
        arrival: ParcelArrival,
        ctx: &CommandContext,
    ) -> Result<ParcelReceived, EngineError> {
        request!(self, ctx, "receive_parcel", &arrival, |req| async {
            let parcel_id = match &arrival.parcel_id {
                Some(id) => id.clone(),
                None => parse_parcel(&self.allocate_id(&req).await?)?,
            };
            let suite_code = arrival
                .label
                .as_deref()
                .and_then(|label| SuiteCode::parse(label).ok());
            let mut member = match &suite_code {
                Some(code) => self.registered_standing_of_suite(code).await?,
                None => None,
            };
            if member.is_none() {
                // An expected proxy-paid parcel knows its member (PAR-2).
                let parcel = self.load::<Parcel>(parcel_id.as_str()).await?;
                if let Some(owner) = parcel.state.member_id() {
                    member = Some(self.standing(owner).await?);
                }
            }
            let command = ParcelCommand::Arrive(Arrival {
                parcel_id: parcel_id.clone(),
                suite_code,
                member: member.clone(),
                weight: arrival.weight,
                dimensions: arrival.dimensions,
                shop: arrival.shop,
                collect_on_delivery: arrival.collect_on_delivery,
            });
            let parcel = self
                .step::<Parcel>(&req, parcel_id.as_str(), command)
                .await?;
            let mut member_id = None;
            let mut proxy_charge = None;
            for event in parcel.events() {
                match event {
                    ParcelEvent::Arrived {
                        member_id: Some(owner),
                        ..
                    } => member_id = Some(owner.clone()),
                    ParcelEvent::ProxyPaymentCharged { charge, .. } => proxy_charge = Some(*charge),
                    _ => {}
                }
            }
            if let Some(owner) = &member_id {
                self.store.index_parcel(owner, &parcel_id).await?;
            }
            let proxy_payment = match (&member_id, proxy_charge) {
                (Some(owner), Some(charge)) => Some(
                    self.debit(
                        &req,
                        owner,
                        DebitReason::ProxyPayment,
                        parcel_id.as_str(),
                        charge,
                    )
                    .await?,
                ),
                _ => None,
            };
            let withdrawing = member
                .as_ref()
                .is_some_and(|m| m.status == StandingStatus::Withdrawing);
            let disposed = if withdrawing && member_id.is_some() {
                Some(
                    self.dispose_in(&req, &parcel_id, DisposalReason::LeftAtWithdrawal)
                        .await?,
                )
            } else {
                None
            };
            Ok(ParcelReceived {
                parcel_id,
                member_id,
                parcel,
                proxy_payment,
                disposed,
            })
        })
    }

    /// Attaches an unidentified parcel to the member whose suite code it turned out to be
    /// (PAR-1), with their standing (MEM-6 Auto Pack applies on attachment).
    pub async fn attach_parcel(
        &self,
        parcel_id: &ParcelId,
        suite_code: &SuiteCode,
        ctx: &CommandContext,
    ) -> Result<Executed<ParcelEvent>, EngineError> {
        let input = (parcel_id, suite_code);
        request!(self, ctx, "attach_parcel", &input, |req| async {
            let member = self
                .registered_standing_of_suite(suite_code)
                .await?
                .ok_or_else(|| EngineError::not_found("suite code", suite_code))?;
            let member_id = member.member_id.clone();
            let command = ParcelCommand::AttachToMember { member };
            let parcel = self
                .step::<Parcel>(&req, parcel_id.as_str(), command)
                .await?;
            self.store.index_parcel(&member_id, parcel_id).await?;
            Ok(parcel)
        })
    }

    /// Records an inspection (INS-1..INS-4) and debits what it cost the member: the defect
    /// fee (INS-3) and the detailed-inspection fee (INS-1). A prohibited item quarantines the
    /// parcel; suspending the member for it (MEM-5) is an operator's decision.
    pub async fn inspect_parcel(
        &self,
        parcel_id: &ParcelId,
        report: InspectionReport,
        ctx: &CommandContext,
    ) -> Result<ParcelInspected, EngineError> {
        let input = (parcel_id, &report);
        request!(self, ctx, "inspect_parcel", &input, |req| async {
            let owner = self
                .existing_parcel(parcel_id)
                .await?
                .state
                .member_id()
                .cloned();
            let command = ParcelCommand::Inspect(report);
            let parcel = self
                .step::<Parcel>(&req, parcel_id.as_str(), command)
                .await?;
            let mut fees = Vec::new();
            let charges = parcel.events().find_map(|event| match event {
                ParcelEvent::Inspected(record) => {
                    Some((record.defect_fee, record.detailed_inspection_fee))
                }
                _ => None,
            });
            if let (Some(owner), Some((defect_fee, inspection_fee))) = (&owner, charges) {
                if let Some(fee) = defect_fee.filter(|fee| fee.is_positive()) {
                    fees.push(
                        self.debit(&req, owner, DebitReason::DefectFee, parcel_id.as_str(), fee)
                            .await?,
                    );
                }
                if let Some(fee) = inspection_fee.filter(|fee| fee.is_positive()) {
                    fees.push(
                        self.debit(
                            &req,
                            owner,
                            DebitReason::InspectionFee,
                            parcel_id.as_str(),
                            fee,
                        )
                        .await?,
                    );
                }
            }
            Ok(ParcelInspected { parcel, fees })
        })
    }

    /// The member confirms a parcel's declaration (PAR-4). An Auto Pack parcel waiting for it
    /// is then requested as a shipment of one (MEM-6), `pack-<parcel>`.
    pub async fn confirm_declaration(
        &self,
        parcel_id: &ParcelId,
        ctx: &CommandContext,
    ) -> Result<DeclarationConfirmed, EngineError> {
        request!(self, ctx, "confirm_declaration", parcel_id, |req| async {
            let parcel = self
                .step::<Parcel>(&req, parcel_id.as_str(), ParcelCommand::ConfirmDeclaration)
                .await?;
            let mut confirmed = DeclarationConfirmed {
                parcel,
                auto_pack_shipment: None,
                auto_pack_refused: None,
            };
            let loaded = self.existing_parcel(parcel_id).await?.state;
            let waiting = loaded.auto_pack() && *loaded.status() == ParcelStatus::PackingRequested;
            if confirmed.parcel.is_empty() || !waiting {
                return Ok(confirmed);
            }
            match self
                .request_auto_pack_shipment(&req, parcel_id, &loaded)
                .await
            {
                Ok(shipment) => confirmed.auto_pack_shipment = Some(shipment),
                Err(refused) if refused.is_final() => {
                    note_refused("auto-pack shipment", &refused);
                    confirmed.auto_pack_refused = Some(refused);
                }
                Err(error) => return Err(error),
            }
            Ok(confirmed)
        })
    }

    /// MEM-6: the shipment of one for an Auto Pack parcel waiting to be packed.
    pub(crate) async fn request_auto_pack_shipment(
        &self,
        req: &Request<'_>,
        parcel_id: &ParcelId,
        parcel: &Parcel,
    ) -> Result<Executed<ShipmentEvent>, EngineError> {
        let owner = Self::owner_of(parcel_id, parcel)?;
        let shipment_id = ids::auto_pack_shipment_of(parcel_id)?;
        let command = ShipmentCommand::RequestPacking {
            shipment_id: shipment_id.clone(),
            member: self.standing(&owner).await?,
            parcel: Self::facts_of(parcel)?,
        };
        self.step::<Shipment>(req, shipment_id.as_str(), command)
            .await
    }

    /// The registered member a suite code was allocated to, with their standing.
    async fn registered_standing_of_suite(
        &self,
        code: &SuiteCode,
    ) -> Result<Option<MemberStanding>, EngineError> {
        let Some(member) = self.store.member_of_suite(code).await? else {
            return Ok(None);
        };
        match self.standing(&member).await {
            Ok(standing) => Ok(Some(standing)),
            Err(EngineError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// A debit of `amount` for `reason`, caused by `cause`, on `member`'s account (ACC-4).
    pub(crate) async fn debit(
        &self,
        req: &Request<'_>,
        member: &MemberId,
        reason: DebitReason,
        cause: &str,
        amount: Money,
    ) -> Result<Executed<AccountEvent>, EngineError> {
        let account = ids::account_of(member)?;
        let command = AccountCommand::Debit {
            reason,
            cause: ids::cause(cause)?,
            amount,
            period: None,
            rate: None,
        };
        self.step::<ChargeAccount>(req, account.as_str(), command)
            .await
    }
}

fn parse_parcel(id: &str) -> Result<ParcelId, EngineError> {
    ParcelId::parse(id).map_err(|e| EngineError::invalid(e.to_string()))
}

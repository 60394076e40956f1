//! Each parcel's own stream tells its whole life: a shipment that is paid, shipped, tracked,
//! claimed against or whose claim is settled has each parcel it concerns record the same
//! (`parcel.paid`, `parcel.shipped`, `parcel.delivered`, `parcel.claimed`, ...), so a
//! subscriber following one parcel (`parcelport.parcel.<id>.>`) reads it all there. The
//! shipment's own events stay as they are.
//!
//! As in the other cross-aggregate use cases, the shipment decides first; each parcel then
//! takes one step per fact, in the shipment's parcel order, under the request's key, so a
//! resumed request replays the same steps and appends nothing twice. A parcel records a fact
//! it already holds as nothing, and a parcel that refuses (its state no longer follows the
//! shipment: disposed of meanwhile) is reported with its refusal; the shipment's event stands.

use super::{note_refused, request};
use crate::aggregate::{command_name, EngineAggregate};
use crate::store::EngineStore;
use crate::{ids, CommandContext, Engine, EngineError, Executed, Request};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount};
use domain::exchange::ExchangeRate;
use domain::ids::{ParcelId, ShipmentId};
use domain::money::Money;
use domain::parcel::{Parcel, ParcelCommand, ParcelEvent};
use domain::shipment::{DutyPayment, Shipment, ShipmentCommand, ShipmentEvent, TrackingNumber};
use serde::{Deserialize, Serialize};

/// A shipment command carried out, and what its parcels recorded of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advanced {
    /// The shipment's events.
    pub shipment: Executed<ShipmentEvent>,
    /// The parcels' events (`parcel.shipped`, `parcel.delivered`, `parcel.claimed`, ...).
    #[serde(default)]
    pub parcels: Vec<Executed<ParcelEvent>>,
    /// Parcels that refused to follow, with the refusal.
    #[serde(default)]
    pub refused: Vec<(ParcelId, EngineError)>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Issues `command` to the shipment (tracking, claims: SHP-2, CLM-1 to CLM-6), then has each parcel it concerns record what happened on its own stream.
    /// Commands that belong to another use case (quote, pay, approve a claim, ...) are refused.
    pub async fn advance_shipment(
        &self,
        shipment_id: &ShipmentId,
        command: ShipmentCommand,
        ctx: &CommandContext,
    ) -> Result<Advanced, EngineError> {
        match Shipment::use_case_for(&command) {
            Some("advance_shipment") => {}
            Some(use_case) => {
                return Err(EngineError::invalid(format!(
                    "{} is issued through the {use_case} use case",
                    command_name(&command)
                )))
            }
            None => {
                return Err(EngineError::invalid(format!(
                    "{} concerns the shipment alone: execute it",
                    command_name(&command)
                )))
            }
        }
        let input = (shipment_id, &command);
        request!(self, ctx, "advance_shipment", &input, |req| async {
            let shipment = self
                .step::<Shipment>(&req, shipment_id.as_str(), command)
                .await?;
            let mut advanced = Advanced {
                shipment,
                parcels: Vec::new(),
                refused: Vec::new(),
            };
            let (parcels, refused) = self
                .parcels_follow(&req, shipment_id, &advanced.shipment)
                .await?;
            advanced.parcels = parcels;
            advanced.refused = refused;
            Ok(advanced)
        })
    }

    /// Has each parcel concerned by the shipment events in `executed` record them
    /// (`Shipment::parcel_facts`, read on the shipment as it is now): the parcels' events, and
    /// the parcels that refused.
    pub(crate) async fn parcels_follow(
        &self,
        req: &Request<'_>,
        shipment_id: &ShipmentId,
        executed: &Executed<ShipmentEvent>,
    ) -> Result<(Vec<Executed<ParcelEvent>>, Vec<(ParcelId, EngineError)>), EngineError> {
        let mut parcels = Vec::new();
        let mut refused = Vec::new();
        if executed.is_empty() {
            return Ok((parcels, refused));
        }
        let shipment = self.existing_shipment(shipment_id).await?.state;
        for event in executed.events() {
            for (parcel_id, fact) in shipment.parcel_facts(event) {
                let follow = ParcelCommand::FollowShipment {
                    shipment_id: shipment_id.clone(),
                    fact,
                };
                match self.step::<Parcel>(req, parcel_id.as_str(), follow).await {
                    Ok(followed) if followed.is_empty() => {}
                    Ok(followed) => parcels.push(followed),
                    Err(error) if error.is_final() => {
                        note_refused("parcel following its shipment", &error);
                        refused.push((parcel_id, error));
                    }
                    Err(error) => return Err(error),
                }
            }
        }
        Ok((parcels, refused))
    }
}

/// A paid shipment handed to its carrier (SHP-1), as the warehouse records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipping {
    /// Carrier code; must be the carrier quoted.
    pub carrier: String,
    /// The carrier's service.
    pub service: String,
    /// The tracking number.
    pub tracking_number: TrackingNumber,
    /// Value declared to customs: for sea freight whose duty is advanced, the taxable value
    /// that prices the advance where the policy says so (ACC-8).
    pub declared_value: Money,
    /// The reference rate, when the duty advance's fee or threshold is in another currency
    /// than the account's (MON-2).
    #[serde(default)]
    pub exchange_rate: Option<ExchangeRate>,
}

/// A shipment shipped: its parcels' records, and the duty advance the member chose (ACC-8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipped {
    /// `shipment.shipped`, and `parcel.shipped` per parcel.
    pub shipped: Advanced,
    /// `account.duty_advanced` and the fee's `account.debited`, when the member chose the
    /// warehouse's advance (ACC-8).
    pub duty_advance: Option<Executed<AccountEvent>>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Hands a paid shipment to its carrier (SHP-1); each parcel records it. When the member
    /// chose the warehouse's duty advance (ACC-8), the advance is checked first (the balance
    /// must reach the policy's minimum, or the shipment does not leave) and its fee debited
    /// once shipped: for sea freight priced by the declared (taxable) value where the policy
    /// says so. The duty itself is charged when customs bills it (`account.bill_advanced_duty`).
    pub async fn ship(
        &self,
        shipment_id: &ShipmentId,
        shipping: Shipping,
        ctx: &CommandContext,
    ) -> Result<Shipped, EngineError> {
        let input = (shipment_id, &shipping);
        request!(self, ctx, "ship", &input, |req| async {
            let shipment = self.existing_shipment(shipment_id).await?.state;
            let advance = match shipment.duty_payment() {
                DutyPayment::RecipientOnDelivery => None,
                DutyPayment::Advance => {
                    let member = shipment
                        .member_id()
                        .ok_or_else(|| EngineError::not_found("shipment", shipment_id))?;
                    let sea = self
                        .policy()
                        .carrier(&shipping.carrier)
                        .is_some_and(|c| c.sea);
                    let cause = shipment
                        .payment_cause()
                        .unwrap_or_else(|| shipment_id.to_string());
                    let command = AccountCommand::AdvanceDuty {
                        shipment: ids::cause(&cause)?,
                        duty: None,
                        rate: shipping.exchange_rate.clone(),
                        sea_taxable_value: sea.then_some(shipping.declared_value),
                    };
                    Some((ids::account_of(member)?, command))
                }
            };
            if let (Some((account, command)), false) = (&advance, req.resumed()) {
                let books = self.load::<ChargeAccount>(account.as_str()).await?.state;
                self.dry_run(&books, command.clone()).await?;
            }
            let ship = ShipmentCommand::Ship {
                carrier: shipping.carrier,
                service: shipping.service,
                tracking_number: shipping.tracking_number,
                declared_value: shipping.declared_value,
            };
            let shipped = self
                .step::<Shipment>(&req, shipment_id.as_str(), ship)
                .await?;
            let (parcels, refused) = self.parcels_follow(&req, shipment_id, &shipped).await?;
            let duty_advance = match advance {
                Some((account, command)) => Some(
                    self.step::<ChargeAccount>(&req, account.as_str(), command)
                        .await?,
                ),
                None => None,
            };
            Ok(Shipped {
                shipped: Advanced {
                    shipment: shipped,
                    parcels,
                    refused,
                },
                duty_advance,
            })
        })
    }
}

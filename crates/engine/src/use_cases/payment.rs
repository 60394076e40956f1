//! Quoting and paying a shipment (FEE-1, PAY-1, ACC-4, MEM-7, PAY-2).
//!
//! Paying from the balance touches two aggregates. The account is debited first, with the
//! shipment as the debit's cause: the account refuses a second debit for the same cause
//! (PAY-1 at the account) and a debit the balance cannot cover (ACC-4), so of two racing
//! payments exactly one debits. Then the shipment is paid; should it refuse (paid meanwhile
//! by card, cancelled, held), the debit is credited back as a `payment_reversal` movement:
//! compensation is recorded, never deleted. A dry run of the shipment's payment comes first,
//! so a payment the shipment would refuse debits nothing.
//!
//! Auto Ship (MEM-7): a quote at or under the member's limit is paid at once. The engine
//! quotes without the limit, then pays the quote from the balance as above with method
//! `auto_ship` (the shipment re-checks the limit), records the use on the member, and falls
//! back to manual payment when the balance cannot cover it.

use super::{note_refused, request};
use crate::store::EngineStore;
use crate::use_cases::consolidate::compensates;
use crate::{ids, CommandContext, Engine, EngineError, Executed, Request};
use cqrs_es::persist::PersistedEventRepository;
use domain::account::{AccountCommand, AccountEvent, ChargeAccount, CreditReason, DebitReason};
use domain::exchange::ExchangeRate;
use domain::facts::MemberStanding;
use domain::ids::{ParcelId, ShipmentId};
use domain::member::{Member, MemberCommand, MemberEvent};
use domain::money::Money;
use domain::parcel::{Parcel, ParcelCommand, ParcelEvent, ParcelStatus};
use domain::shipment::{
    auto_ship_applies, PaymentMethod, Shipment, ShipmentCommand, ShipmentError, ShipmentEvent,
};
use serde::{Deserialize, Serialize};

/// What the member asks to be quoted (FEE-1..FEE-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteRequest {
    /// Carrier code of the tariff.
    pub carrier: String,
    /// Destination country, ISO 3166 alpha-2.
    pub destination: String,
    /// Packing options by code.
    #[serde(default)]
    pub options: Vec<String>,
    /// Amount to insure (FEE-3).
    #[serde(default)]
    pub insurance: Option<Money>,
    /// Buy the warranty add-on (FEE-2).
    #[serde(default)]
    pub warranty: bool,
}

/// A quote, and what Auto Ship made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quoted {
    /// `shipment.quoted`.
    pub quote: Executed<ShipmentEvent>,
    /// The quote total.
    pub total: Money,
    /// The Auto Ship payment, when the quote was within the limit and the balance covered it.
    pub auto_ship: Option<Paid>,
    /// `member.auto_ship_used` (MEM-7).
    pub auto_ship_use: Option<Executed<MemberEvent>>,
    /// Why Auto Ship did not pay a quote within its limit (ACC-4: the balance did not cover it).
    pub auto_ship_refused: Option<EngineError>,
}

/// How the member pays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    /// Balance, card or PayPal (Auto Ship pays at quote time).
    pub method: PaymentMethod,
    /// The amount paid: the quote total, plus the PayPal fee when PayPal processes the method
    /// (the policy's `paypal_processed_methods`, ACC-5).
    pub amount: Money,
    /// Converts the PayPal fixed fee when it is in another currency (MON-2).
    #[serde(default)]
    pub exchange_rate: Option<ExchangeRate>,
}

/// A payment made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paid {
    /// The balance debit (balance and Auto Ship payments).
    pub debit: Option<Executed<AccountEvent>>,
    /// `shipment.paid`.
    pub shipment: Executed<ShipmentEvent>,
    /// `parcel.hold_released`, one per parcel of a shipment that was held for non-payment
    /// (PAY-2): paying it releases the hold.
    #[serde(default)]
    pub released: Vec<Executed<ParcelEvent>>,
    /// Parcels of a held shipment that refused the release, with the refusal (one disposed
    /// of while the shipment was held, PAY-2), or that refused to record the payment.
    #[serde(default)]
    pub refused: Vec<(ParcelId, EngineError)>,
    /// `parcel.paid`, one per parcel: each parcel's stream records the payment too.
    #[serde(default)]
    pub parcels: Vec<Executed<ParcelEvent>>,
}

impl<R: PersistedEventRepository, S: EngineStore> Engine<R, S> {
    /// Quotes a packed shipment (FEE-1..FEE-3) for its member; within the member's Auto Ship
    /// limit, pays it from the balance at once (MEM-7).
    pub async fn quote(
        &self,
        shipment_id: &ShipmentId,
        quote: QuoteRequest,
        ctx: &CommandContext,
    ) -> Result<Quoted, EngineError> {
        let input = (shipment_id, &quote);
        request!(self, ctx, "quote", &input, |req| async {
            let member = self.shipment_member(shipment_id).await?;
            let command = ShipmentCommand::Quote {
                // The payment is made as its own step below, from the balance.
                member: MemberStanding {
                    auto_ship_limit: None,
                    ..member.clone()
                },
                carrier: quote.carrier,
                destination: quote.destination,
                options: quote.options,
                insurance: quote.insurance,
                warranty: quote.warranty,
            };
            let quoted = self
                .step::<Shipment>(&req, shipment_id.as_str(), command)
                .await?;
            let total = quoted
                .events()
                .find_map(|event| match event {
                    ShipmentEvent::Quoted { total, .. } => Some(*total),
                    _ => None,
                })
                .ok_or_else(|| EngineError::Store {
                    message: format!("quoting {shipment_id} recorded no quote"),
                })?;
            let mut answer = Quoted {
                quote: quoted,
                total,
                auto_ship: None,
                auto_ship_use: None,
                auto_ship_refused: None,
            };
            if !auto_ship_applies(&member, total) {
                return Ok(answer);
            }
            let paid = self
                .pay_from_balance(
                    &req,
                    shipment_id,
                    &member,
                    PaymentMethod::AutoShip,
                    total,
                    None,
                )
                .await;
            match paid {
                Ok(mut paid) => {
                    self.record_payment_on_parcels(&req, shipment_id, &mut paid)
                        .await?;
                    answer.auto_ship = Some(paid)
                }
                Err(refused) if refused.is_final() => {
                    note_refused("auto-ship payment", &refused);
                    answer.auto_ship_refused = Some(refused);
                    return Ok(answer);
                }
                Err(error) => return Err(error),
            }
            let record = MemberCommand::RecordAutoShipUse {
                shipment_id: shipment_id.clone(),
                amount: total,
            };
            match self
                .step::<Member>(&req, member.member_id.as_str(), record)
                .await
            {
                Ok(used) => answer.auto_ship_use = Some(used),
                Err(refused) if refused.is_final() => note_refused("auto-ship use", &refused),
                Err(error) => return Err(error),
            }
            Ok(answer)
        })
    }

    /// The member pays a quoted shipment (PAY-1): from the balance (debit first, reversal if
    /// the shipment then refuses), or by card or PayPal (confirmed by the payment provider
    /// before this is called; ACC-5's fee is on the quote's fee lines).
    pub async fn pay(
        &self,
        shipment_id: &ShipmentId,
        payment: Payment,
        ctx: &CommandContext,
    ) -> Result<Paid, EngineError> {
        let input = (shipment_id, &payment);
        request!(self, ctx, "pay", &input, |req| async {
            let member = self.shipment_member(shipment_id).await?;
            if !req.resumed() {
                self.ensure_nothing_disposed(shipment_id).await?;
            }
            let mut paid = match payment.method {
                PaymentMethod::AutoShip => Err(EngineError::invalid(
                    "Auto Ship pays at quote time, within the member's limit (MEM-7)",
                )),
                PaymentMethod::Balance => {
                    self.pay_from_balance(
                        &req,
                        shipment_id,
                        &member,
                        PaymentMethod::Balance,
                        payment.amount,
                        payment.exchange_rate,
                    )
                    .await
                }
                PaymentMethod::Card | PaymentMethod::Paypal => {
                    let command = ShipmentCommand::Pay {
                        member,
                        method: payment.method,
                        amount: payment.amount,
                        exchange_rate: payment.exchange_rate,
                    };
                    let shipment = self
                        .step::<Shipment>(&req, shipment_id.as_str(), command)
                        .await?;
                    Ok(Paid {
                        debit: None,
                        shipment,
                        released: Vec::new(),
                        refused: Vec::new(),
                        parcels: Vec::new(),
                    })
                }
            }?;
            self.release_hold(&req, shipment_id, &mut paid).await?;
            self.record_payment_on_parcels(&req, shipment_id, &mut paid)
                .await?;
            Ok(paid)
        })
    }

    /// PAY-2: a shipment held for non-payment is released by paying it; its parcels go back
    /// to the state they were held from. Every parcel of a shipment that was ever held takes
    /// a step, so a resumed request replays the same steps in the same order.
    async fn release_hold(
        &self,
        req: &Request<'_>,
        shipment_id: &ShipmentId,
        paid: &mut Paid,
    ) -> Result<(), EngineError> {
        let shipment = self.existing_shipment(shipment_id).await?.state;
        if shipment.held_on().is_none() {
            return Ok(());
        }
        for parcel_id in shipment.parcel_ids() {
            let release = ParcelCommand::ReleaseHold {
                shipment_id: shipment_id.clone(),
            };
            match self.step::<Parcel>(req, parcel_id.as_str(), release).await {
                Ok(released) => paid.released.push(released),
                Err(refused) if refused.is_final() => {
                    note_refused("hold release after payment", &refused);
                    paid.refused.push((parcel_id, refused));
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// PAY-2: a held shipment whose parcels were disposed of meanwhile (past the STO-2 limit)
    /// can no longer be paid: refused before anything is debited.
    async fn ensure_nothing_disposed(&self, shipment_id: &ShipmentId) -> Result<(), EngineError> {
        let shipment = self.existing_shipment(shipment_id).await?.state;
        if shipment.held_on().is_none() {
            return Ok(());
        }
        let mut disposed = Vec::new();
        for parcel_id in shipment.parcel_ids() {
            let parcel = self.load::<Parcel>(parcel_id.as_str()).await?.state;
            if *parcel.status() == ParcelStatus::Disposed {
                disposed.push(parcel_id);
            }
        }
        if disposed.is_empty() {
            Ok(())
        } else {
            Err(EngineError::refused(&ShipmentError::ParcelsDisposed {
                parcels: disposed,
            }))
        }
    }

    /// Each parcel's stream records the payment (`parcel.paid`), after any hold's release.
    async fn record_payment_on_parcels(
        &self,
        req: &Request<'_>,
        shipment_id: &ShipmentId,
        paid: &mut Paid,
    ) -> Result<(), EngineError> {
        let (parcels, refused) = self
            .parcels_follow(req, shipment_id, &paid.shipment)
            .await?;
        paid.parcels = parcels;
        paid.refused.extend(refused);
        Ok(())
    }

    /// PAY-1, ACC-4: debit (cause: the shipment), then pay the shipment, crediting the
    /// debit back if the shipment refuses.
    async fn pay_from_balance(
        &self,
        req: &Request<'_>,
        shipment_id: &ShipmentId,
        member: &MemberStanding,
        method: PaymentMethod,
        amount: Money,
        exchange_rate: Option<ExchangeRate>,
    ) -> Result<Paid, EngineError> {
        let pay = ShipmentCommand::Pay {
            member: member.clone(),
            method,
            amount,
            exchange_rate,
        };
        let shipment = self.existing_shipment(shipment_id).await?.state;
        if !req.resumed() {
            self.dry_run(&shipment, pay.clone()).await?;
        }
        // The shipment, or after a return its re-shipment (SHP-2): once each (PAY-1).
        let cause = shipment
            .payment_cause()
            .unwrap_or_else(|| shipment_id.to_string());
        let debit = self
            .debit(
                req,
                &member.member_id,
                DebitReason::ShipmentPayment,
                &cause,
                amount,
            )
            .await?;
        match self.step::<Shipment>(req, shipment_id.as_str(), pay).await {
            Ok(shipment) => Ok(Paid {
                debit: Some(debit),
                shipment,
                released: Vec::new(),
                refused: Vec::new(),
                parcels: Vec::new(),
            }),
            Err(error) if !compensates(req, &error) => Err(error),
            Err(refused) => {
                let debited = debit
                    .events()
                    .find_map(AccountEvent::movement)
                    .map(|movement| Money::new(-movement.amount.amount, movement.amount.currency))
                    .unwrap_or(amount);
                let account = ids::account_of(&member.member_id)?;
                let reverse = AccountCommand::Credit {
                    reason: CreditReason::PaymentReversal,
                    cause: ids::cause(&cause)?,
                    amount: debited,
                    rate: None,
                };
                match self
                    .step::<ChargeAccount>(req, account.as_str(), reverse)
                    .await
                {
                    Ok(_) => Err(refused),
                    Err(error) => {
                        tracing::error!(
                            %shipment_id, %error,
                            "could not credit back a payment the shipment refused"
                        );
                        Err(if error.is_final() { refused } else { error })
                    }
                }
            }
        }
    }

    /// The standing of the member whose shipment it is.
    async fn shipment_member(
        &self,
        shipment_id: &ShipmentId,
    ) -> Result<MemberStanding, EngineError> {
        let shipment = self.existing_shipment(shipment_id).await?.state;
        let member = shipment
            .member_id()
            .ok_or_else(|| EngineError::not_found("shipment", shipment_id))?;
        self.standing(member).await
    }
}

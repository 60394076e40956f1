//! [`Simulation`]: the simulated warehouse, its aggregates as the domain evolves them, and the
//! commands it issued.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::account::{AccountCommand, AccountEvent, ChargeAccount};
use domain::ids::{AccountId, MemberId, ParcelId, ShipmentId, SuiteCode};
use domain::member::{Member, MemberCommand, MemberEvent};
use domain::money::{Currency, Money};
use domain::parcel::{Parcel, ParcelCommand, ParcelEvent};
use domain::shipment::{Shipment, ShipmentCommand, ShipmentEvent};
use domain::{Issued, Policy};
use event_store::CommandMetadata;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde::Serialize;

/// A command to one aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyCommand {
    /// To a member.
    Member(MemberCommand),
    /// To a charge account.
    Account(AccountCommand),
    /// To a parcel.
    Parcel(ParcelCommand),
    /// To a shipment.
    Shipment(ShipmentCommand),
}

/// The events one command produced, as the domain decided them.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyEvents {
    /// A member's.
    Member(Vec<MemberEvent>),
    /// A charge account's.
    Account(Vec<AccountEvent>),
    /// A parcel's.
    Parcel(Vec<ParcelEvent>),
    /// A shipment's.
    Shipment(Vec<ShipmentEvent>),
}

impl AnyEvents {
    /// How many.
    pub fn len(&self) -> usize {
        match self {
            AnyEvents::Member(e) => e.len(),
            AnyEvents::Account(e) => e.len(),
            AnyEvents::Parcel(e) => e.len(),
            AnyEvents::Shipment(e) => e.len(),
        }
    }

    /// True when the command produced none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One accepted command, as issued: to which aggregate, when, by whom, and what it produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCommand {
    /// The aggregate instance.
    pub aggregate_id: String,
    /// The command.
    pub command: AnyCommand,
    /// When it was issued.
    pub at: DateTime<Utc>,
    /// Actor, command name, correlation id.
    pub metadata: CommandMetadata,
    /// The events the domain decided.
    pub events: AnyEvents,
}

pub(crate) struct MemberSim {
    pub id: MemberId,
    pub suite: SuiteCode,
    pub member: Member,
    pub account_id: AccountId,
    pub account: ChargeAccount,
    pub parcels: Vec<usize>,
    pub deposits: u32,
}

pub(crate) struct ParcelSim {
    pub id: ParcelId,
    pub parcel: Parcel,
    pub member: Option<usize>,
}

pub(crate) struct ShipmentSim {
    pub id: ShipmentId,
    pub shipment: Shipment,
    pub member: usize,
    pub parcels: Vec<usize>,
    pub quote: Option<(Money, NaiveDate)>,
    pub claims: u32,
}

/// A simulated warehouse under one policy, driven by a seeded random generator.
pub struct Simulation {
    pub(crate) policy: Policy,
    pub(crate) rng: StdRng,
    pub(crate) now: DateTime<Utc>,
    pub(crate) members: Vec<MemberSim>,
    pub(crate) parcels: Vec<ParcelSim>,
    pub(crate) shipments: Vec<ShipmentSim>,
    /// Parcels and shipments that may still change, compacted now and then.
    pub(crate) open_parcels: Vec<usize>,
    pub(crate) open_shipments: Vec<usize>,
    pub(crate) issued: Vec<SimCommand>,
    pub(crate) events: usize,
    pub(crate) flow: u64,
    pub(crate) correlation: String,
    pub(crate) actor: String,
    /// Minutes the clock moves between two flows, at least and at most.
    pub(crate) pace: (i64, i64),
}

impl Simulation {
    /// A warehouse under `policy` whose choices follow `seed`, starting on 2026-11-02.
    ///
    /// A long simulation runs years past the dates the policy's business calendar knows, and
    /// the domain refuses to compute a receiving day there (TIM-2), which would end arrivals
    /// part-way through a backlog. These histories are synthetic, so the simulation's copy of
    /// the policy keeps the calendar's closed weekdays for every later date, with no holidays.
    pub fn new(seed: u64, mut policy: Policy) -> Self {
        policy.calendar.covers_through = NaiveDate::MAX;
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).single();
        Self {
            policy,
            rng: StdRng::seed_from_u64(seed),
            now: start.expect("a valid start instant"),
            members: Vec::new(),
            parcels: Vec::new(),
            shipments: Vec::new(),
            open_parcels: Vec::new(),
            open_shipments: Vec::new(),
            issued: Vec::new(),
            events: 0,
            flow: 0,
            correlation: String::new(),
            actor: String::new(),
            pace: (5, 90),
        }
    }

    /// The same warehouse, busier or quieter: the clock moves `low..=high` minutes between two
    /// flows (5 to 90 by default; big histories want a busier warehouse to stay within years).
    pub fn with_pace(mut self, low: i64, high: i64) -> Self {
        self.pace = (low.max(0), high.max(low.max(0)));
        self
    }

    /// Runs flows until at least `commands` more commands were accepted.
    pub fn run(&mut self, commands: usize) -> &mut Self {
        let target = self.issued.len() + commands;
        while self.issued.len() < target {
            self.next_flow();
        }
        self
    }

    /// Runs flows until at least `events` events were decided in all.
    pub fn run_until_events(&mut self, events: usize) -> &mut Self {
        while self.events < events {
            self.next_flow();
        }
        self
    }

    /// The accepted commands, in the order issued.
    pub fn commands(&self) -> &[SimCommand] {
        &self.issued
    }

    /// Takes the accepted commands out (the simulation goes on from where it is).
    pub fn drain_commands(&mut self) -> Vec<SimCommand> {
        std::mem::take(&mut self.issued)
    }

    /// Events decided so far.
    pub fn event_count(&self) -> usize {
        self.events
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The simulated instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The local date of the simulated instant.
    pub fn today(&self) -> NaiveDate {
        self.policy.local_date(self.now)
    }

    /// Every account and its balance, as the domain aggregate holds it.
    pub fn balances(&self) -> Vec<(AccountId, Money)> {
        self.members
            .iter()
            .filter_map(|m| Some((m.account_id.clone(), m.account.balance()?)))
            .collect()
    }

    /// Every parcel and the name of its state, as the domain aggregate holds it.
    pub fn parcel_states(&self) -> Vec<(ParcelId, &'static str)> {
        self.parcels
            .iter()
            .map(|p| (p.id.clone(), p.parcel.status().name()))
            .collect()
    }

    /// Every parcel as the domain holds it, with the STO-1 fact the write side would pass for
    /// it today: its member's earliest waiting arrival, and in a shipment the shipment's
    /// earliest arrival.
    pub fn parcels(&self) -> Vec<(&ParcelId, &Parcel, Option<NaiveDate>)> {
        self.parcels
            .iter()
            .enumerate()
            .map(|(i, p)| (&p.id, &p.parcel, self.clock_earliest(i)))
            .collect()
    }

    /// Every shipment as the domain holds it.
    pub fn shipments(&self) -> Vec<(&ShipmentId, &Shipment)> {
        self.shipments
            .iter()
            .map(|s| (&s.id, &s.shipment))
            .collect()
    }

    /// Every charge account as the domain holds it.
    pub fn accounts(&self) -> Vec<(&AccountId, &ChargeAccount)> {
        self.members
            .iter()
            .map(|m| (&m.account_id, &m.account))
            .collect()
    }

    /// The billing currency.
    pub(crate) fn currency(&self) -> Currency {
        self.policy.billing_currency
    }

    /// `units` whole units of the billing currency.
    pub(crate) fn money(&self, units: i64) -> Money {
        Money::new(Decimal::from(units), self.currency())
    }

    /// A JPY amount in the billing currency: CNY amounts are a twentieth, whole.
    pub(crate) fn price(&self, yen: i64) -> Money {
        match self.currency() {
            Currency::Jpy => self.money(yen),
            Currency::Cny => self.money((yen / 20).max(1)),
        }
    }

    /// A random price: `low..=high` steps of `step` yen, in the billing currency.
    pub(crate) fn price_between(&mut self, low: i64, high: i64, step: i64) -> Money {
        let yen = self.between(low, high) * step;
        self.price(yen)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    pub(crate) fn between(&mut self, low: i64, high: i64) -> i64 {
        self.rng.random_range(low..=high)
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.rng.random_range(0..items.len())])
    }

    /// Moves the clock on by `minutes`.
    pub(crate) fn wait(&mut self, minutes: i64) {
        self.now += Duration::minutes(minutes);
    }

    /// Starts a flow: a new correlation id shared by its commands, issued by `actor`.
    pub(crate) fn begin(&mut self, actor: String) {
        self.flow += 1;
        self.correlation = format!("flow-{:06}", self.flow);
        self.actor = actor;
    }

    fn record<C: Serialize>(
        &mut self,
        aggregate_id: String,
        command: &C,
        built: AnyCommand,
        events: AnyEvents,
    ) {
        self.events += events.len();
        let metadata = CommandMetadata::new(
            self.actor.clone(),
            command_name(command),
            self.correlation.clone(),
        );
        self.issued.push(SimCommand {
            aggregate_id,
            command: built,
            at: self.now,
            metadata,
            events,
        });
    }

    /// Issues `command` to member `m`; `None` (and nothing recorded) when refused.
    pub(crate) fn member(&mut self, m: usize, command: MemberCommand) -> Option<Vec<MemberEvent>> {
        let events = self.members[m]
            .member
            .decide(Issued::at(self.now, command.clone()), &self.policy)
            .ok()?;
        for event in &events {
            self.members[m].member.evolve(event.clone());
        }
        let id = self.members[m].id.to_string();
        self.record(
            id,
            &command,
            AnyCommand::Member(command.clone()),
            AnyEvents::Member(events.clone()),
        );
        Some(events)
    }

    /// Issues `command` to member `m`'s charge account.
    pub(crate) fn account(
        &mut self,
        m: usize,
        command: AccountCommand,
    ) -> Option<Vec<AccountEvent>> {
        let events = self.members[m]
            .account
            .decide(Issued::at(self.now, command.clone()), &self.policy)
            .ok()?;
        for event in &events {
            self.members[m].account.evolve(event.clone());
        }
        let id = self.members[m].account_id.to_string();
        self.record(
            id,
            &command,
            AnyCommand::Account(command.clone()),
            AnyEvents::Account(events.clone()),
        );
        Some(events)
    }

    /// Issues `command` to parcel `p`.
    pub(crate) fn parcel(&mut self, p: usize, command: ParcelCommand) -> Option<Vec<ParcelEvent>> {
        let events = self.parcels[p]
            .parcel
            .decide(Issued::at(self.now, command.clone()), &self.policy)
            .ok()?;
        for event in &events {
            self.parcels[p].parcel.evolve(event.clone());
        }
        let id = self.parcels[p].id.to_string();
        self.record(
            id,
            &command,
            AnyCommand::Parcel(command.clone()),
            AnyEvents::Parcel(events.clone()),
        );
        Some(events)
    }

    /// Issues `command` to shipment `s`.
    pub(crate) fn shipment(
        &mut self,
        s: usize,
        command: ShipmentCommand,
    ) -> Option<Vec<ShipmentEvent>> {
        let events = self.shipments[s]
            .shipment
            .decide(Issued::at(self.now, command.clone()), &self.policy)
            .ok()?;
        for event in &events {
            self.shipments[s].shipment.evolve(event.clone());
        }
        let id = self.shipments[s].id.to_string();
        self.record(
            id,
            &command,
            AnyCommand::Shipment(command.clone()),
            AnyEvents::Shipment(events.clone()),
        );
        self.parcels_follow(s, &events);
        Some(events)
    }

    /// As the engine does: each parcel concerned records what happened to its shipment on its
    /// own stream (`Shipment::parcel_facts`).
    fn parcels_follow(&mut self, s: usize, events: &[ShipmentEvent]) {
        let shipment_id = self.shipments[s].id.clone();
        for event in events {
            for (parcel_id, fact) in self.shipments[s].shipment.parcel_facts(event) {
                let Some(p) = self.shipments[s]
                    .parcels
                    .iter()
                    .copied()
                    .find(|&p| self.parcels[p].id == parcel_id)
                else {
                    continue;
                };
                let follow = ParcelCommand::FollowShipment {
                    shipment_id: shipment_id.clone(),
                    fact,
                };
                self.parcel(p, follow);
            }
        }
    }
}

/// A command's name as the write side stores it: its serialized tag (`reserve_for_consolidation`).
fn command_name<C: Serialize>(command: &C) -> String {
    match serde_json::to_value(command) {
        Ok(serde_json::Value::String(tag)) => tag,
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => "unknown".to_owned(),
    }
}

//! [`Backend`]: the engine the API runs on, PostgreSQL or the embedded SQLite store. The
//! endpoints call it exactly as they would call one engine; each method forwards to the engine
//! of the backend, whose code is the same generic `engine::Engine` either way.
//!
//! An enum rather than a type parameter on [`AppState`](crate::AppState): the route table,
//! every `Command` impl and the OpenAPI document stay free of the store's types, and the
//! choice of backend is made once, at start-up.

use chrono::NaiveDate;
use domain::account::RefundRates;
use domain::exchange::ExchangeRate;
use domain::ids::{ClaimId, MemberId, ParcelId, ShipmentId, SuiteCode};
use domain::money::{Currency, Money};
use domain::parcel::InspectionReport;
use domain::parcel::ParcelEvent;
use domain::shipment::ShipmentCommand;
use engine::use_cases::auto_closure::AutoClosureEvaluated;
use engine::use_cases::claims::ClaimPaid;
use engine::use_cases::consolidate::Consolidated;
use engine::use_cases::disposal::{DisposalReason, Disposed};
use engine::use_cases::erasure::PersonalDataErased;
use engine::use_cases::follow::{Advanced, Shipped, Shipping};
use engine::use_cases::intake::{
    DeclarationConfirmed, ParcelArrival, ParcelInspected, ParcelReceived,
};
use engine::use_cases::packing::{Packed, Packing, PackingRequested};
use engine::use_cases::payment::{Paid, Payment, QuoteRequest, Quoted};
use engine::use_cases::register::{Registered, Registration};
use engine::use_cases::return_to_origin::{RedeliveryCharged, ReturnAbandoned, ReturnReceived};
use engine::use_cases::shipment_flow::ShipmentClosed;
use engine::use_cases::storage::{StorageAction, StorageFeesAccrued};
use engine::use_cases::top_up::{TopUpApplication, TopUpDecided};
use engine::use_cases::withdrawal::{RefundedAndClosed, WithdrawalRequested};
use engine::{
    CommandContext, EngineAggregate, EngineError, Executed, Loaded, PgEngine, SqliteEngine,
};
use std::sync::Arc;
use std::time::Duration;

/// The engine of one backend, shared.
#[derive(Clone)]
pub enum Backend {
    /// PostgreSQL: the engine and its pool (readiness pings it).
    Postgres(Arc<PgEngine>, sqlx::PgPool),
    /// The embedded SQLite store in a data directory.
    Sqlite(Arc<SqliteEngine>),
}

/// Runs `$call` on the engine of `$backend`, bound to `$engine`.
macro_rules! on_engine {
    ($backend:expr, $engine:ident => $call:expr) => {
        match $backend {
            Backend::Postgres($engine, _) => $call,
            Backend::Sqlite($engine) => $call,
        }
    };
}

/// Forwards each listed use case of `engine::Engine` to the backend's engine.
macro_rules! forward {
    ($( fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $out:ty; )*) => {
        impl Backend {
            $(
                #[doc = concat!("`Engine::", stringify!($name), "` on this backend.")]
                pub async fn $name(&self $(, $arg: $ty)*) -> Result<$out, EngineError> {
                    on_engine!(self, engine => engine.$name($($arg),*).await)
                }
            )*
        }
    };
}

forward! {
    fn register_member(&self, registration: Registration, ctx: &CommandContext) -> Registered;
    fn apply_for_top_up(
        &self,
        member_id: &MemberId,
        application: TopUpApplication,
        ctx: &CommandContext
    ) -> TopUpDecided;
    fn request_withdrawal(&self, member_id: &MemberId, ctx: &CommandContext)
        -> WithdrawalRequested;
    fn erase_personal_data(&self, member_id: &MemberId, ctx: &CommandContext)
        -> PersonalDataErased;
    fn evaluate_auto_closure(
        &self,
        member_id: &MemberId,
        negative_since: Option<NaiveDate>,
        ctx: &CommandContext
    ) -> AutoClosureEvaluated;
    fn refund_and_close(
        &self,
        member_id: &MemberId,
        payout_currency: Currency,
        rates: Option<RefundRates>,
        ctx: &CommandContext
    ) -> RefundedAndClosed;
    fn record_reference_rate(&self, rate: &ExchangeRate) -> ();
    fn receive_parcel(&self, arrival: ParcelArrival, ctx: &CommandContext) -> ParcelReceived;
    fn attach_parcel(
        &self,
        parcel_id: &ParcelId,
        suite_code: &SuiteCode,
        ctx: &CommandContext
    ) -> Executed<ParcelEvent>;
    fn confirm_declaration(&self, parcel_id: &ParcelId, ctx: &CommandContext)
        -> DeclarationConfirmed;
    fn inspect_parcel(
        &self,
        parcel_id: &ParcelId,
        report: InspectionReport,
        ctx: &CommandContext
    ) -> ParcelInspected;
    fn store_parcel(&self, parcel_id: &ParcelId, location: &str, ctx: &CommandContext)
        -> Executed<ParcelEvent>;
    fn storage_clock(&self, parcel_id: &ParcelId, action: StorageAction, ctx: &CommandContext)
        -> Executed<ParcelEvent>;
    fn accrue_storage_fee(&self, parcel_id: &ParcelId, ctx: &CommandContext)
        -> StorageFeesAccrued;
    fn request_packing(
        &self,
        member_id: &MemberId,
        parcel_id: &ParcelId,
        ctx: &CommandContext
    ) -> PackingRequested;
    fn dispose_parcel(&self, parcel_id: &ParcelId, reason: DisposalReason, ctx: &CommandContext)
        -> Disposed;
    fn consolidate(&self, member_id: &MemberId, parcels: &[ParcelId], ctx: &CommandContext)
        -> Consolidated;
    fn record_packing(&self, shipment_id: &ShipmentId, packing: Packing, ctx: &CommandContext)
        -> Packed;
    fn quote(&self, shipment_id: &ShipmentId, quote: QuoteRequest, ctx: &CommandContext)
        -> Quoted;
    fn pay(&self, shipment_id: &ShipmentId, payment: Payment, ctx: &CommandContext) -> Paid;
    fn hold_unpaid(&self, shipment_id: &ShipmentId, ctx: &CommandContext) -> ShipmentClosed;
    fn cancel_shipment(&self, shipment_id: &ShipmentId, reason: &str, ctx: &CommandContext)
        -> ShipmentClosed;
    fn approve_claim(
        &self,
        shipment_id: &ShipmentId,
        claim_id: &ClaimId,
        payout: Money,
        ctx: &CommandContext
    ) -> ClaimPaid;
    fn advance_shipment(
        &self,
        shipment_id: &ShipmentId,
        command: ShipmentCommand,
        ctx: &CommandContext
    ) -> Advanced;
    fn receive_return(&self, shipment_id: &ShipmentId, return_cost: Money, ctx: &CommandContext)
        -> ReturnReceived;
    fn abandon_return(&self, shipment_id: &ShipmentId, ctx: &CommandContext) -> ReturnAbandoned;
    fn ship(&self, shipment_id: &ShipmentId, shipping: Shipping, ctx: &CommandContext) -> Shipped;
    fn charge_redelivery(&self, shipment_id: &ShipmentId, cost: Money, ctx: &CommandContext)
        -> RedeliveryCharged;
}

impl Backend {
    /// Where the event `sequence` of `aggregate_type`/`aggregate_id` sits in the store's
    /// global order (`None` when there is no such event).
    pub async fn cursor_of(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: i64,
    ) -> Result<Option<event_store::GlobalCursor>, EngineError> {
        use event_store::EventLog;
        let found = match self {
            Backend::Postgres(_, pool) => {
                event_store::EventStore::from_pool(pool.clone())
                    .cursor_of(aggregate_type, aggregate_id, sequence)
                    .await
            }
            Backend::Sqlite(engine) => {
                engine
                    .event_log()
                    .cursor_of(aggregate_type, aggregate_id, sequence)
                    .await
            }
        };
        found.map_err(|e| EngineError::store(&e))
    }

    /// `Engine::load` on this backend.
    pub async fn load<A: EngineAggregate>(&self, id: &str) -> Result<Loaded<A>, EngineError> {
        on_engine!(self, engine => engine.load::<A>(id).await)
    }

    /// `Engine::execute` on this backend.
    pub async fn execute<A: EngineAggregate>(
        &self,
        id: &str,
        command: A::Cmd,
        ctx: &CommandContext,
    ) -> Result<Executed<A::Event>, EngineError> {
        on_engine!(self, engine => engine.execute::<A>(id, command, ctx).await)
    }

    /// The store answers a trivial query within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), String> {
        let ping = async {
            let answered = match self {
                Backend::Postgres(_, pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
                Backend::Sqlite(engine) => sqlx::query("SELECT 1")
                    .execute(engine.event_log().reader())
                    .await
                    .map(drop),
            };
            answered.map_err(|error| error.to_string())
        };
        tokio::time::timeout(timeout, ping)
            .await
            .map_err(|_| "no answer in time".to_owned())?
    }
}

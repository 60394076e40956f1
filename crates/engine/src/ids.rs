//! The ids the engine allocates (members, parcels, shipments) and the ones it derives from
//! another id (a member's account, withdrawal and auto-closure requests, auto-pack shipment).
//!
//! Allocated ids are UUID v7 strings: time-ordered, 36 characters, within `domain::ids`'
//! alphabet. Derived ids are a short prefix and the id they derive from, so that deriving is
//! deterministic: a retried request derives the same id and the aggregate refuses a duplicate.

use crate::EngineError;
use domain::ids::{AccountId, CauseId, MemberId, ParcelId, ShipmentId};

/// Allocates new ids.
pub trait IdGenerator: Send + Sync + 'static {
    /// A new, never used id.
    fn next_id(&self) -> String;
}

/// UUID v7 ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn next_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }
}

fn derived<T>(
    kind: &str,
    id: String,
    parse: impl Fn(&str) -> Result<T, domain::ids::InvalidValue>,
) -> Result<T, EngineError> {
    parse(&id).map_err(|e| EngineError::invalid(format!("cannot derive the {kind} id: {e}")))
}

/// The charge account of `member`: `acct-<member>`.
pub fn account_of(member: &MemberId) -> Result<AccountId, EngineError> {
    derived("account", format!("acct-{member}"), AccountId::parse)
}

/// The withdrawal request of `member` (a member withdraws once, MEM-8): `wdr-<member>`.
pub fn withdrawal_request_of(member: &MemberId) -> Result<CauseId, EngineError> {
    derived("withdrawal", format!("wdr-{member}"), CauseId::parse)
}

/// The refund request of `member`'s automatic closure (a member is closed once, MEM-9):
/// `acl-<member>`.
pub fn auto_closure_of(member: &MemberId) -> Result<CauseId, EngineError> {
    derived("auto-closure", format!("acl-{member}"), CauseId::parse)
}

/// The shipment of one an Auto Pack parcel is packed as (MEM-6): `pack-<parcel>`, so that
/// at most one is ever requested for it.
pub fn auto_pack_shipment_of(parcel: &ParcelId) -> Result<ShipmentId, EngineError> {
    derived(
        "auto-pack shipment",
        format!("pack-{parcel}"),
        ShipmentId::parse,
    )
}

/// An id as the cause of an account movement.
pub fn cause(id: &str) -> Result<CauseId, EngineError> {
    CauseId::parse(id).map_err(|e| EngineError::invalid(e.to_string()))
}

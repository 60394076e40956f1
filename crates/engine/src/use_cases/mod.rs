//! The use cases: one intention of a member, an operator or a job, turned into commands on
//! several aggregates, with the facts looked up by the engine and compensation where a later
//! step refuses. One file per use case; each runs as one request (see `crate::request`).
//!
//! | use case | commands |
//! |---|---|
//! | [`register`] | `member.register`, `account.open` |
//! | [`intake`] | `parcel.arrive` (+ proxy-payment debit, disposal after withdrawal), `parcel.attach_to_member`, `parcel.inspect` (+ inspection fees), `parcel.confirm_declaration` (+ Auto Pack shipment) |
//! | [`storage`] | `parcel.store`, `send_storage_notice`, `mark_disposable`, `extend_storage`, `accrue_storage_fee` (+ storage debit) |
//! | [`packing`] | `parcel.request_packing` + `shipment.request_packing`; `shipment.record_packing` + `parcel.pack` |
//! | [`consolidate`] | `parcel.reserve_for_consolidation` per parcel, `shipment.request_consolidation`, `parcel.release` to compensate |
//! | [`payment`] | `shipment.quote` (+ Auto Ship payment), `shipment.pay` (+ balance debit, reversal, `parcel.follow_shipment`) |
//! | [`shipment_flow`] | `shipment.cancel` + `parcel.release`; `shipment.hold_unpaid` + `parcel.hold_for_non_payment` |
//! | [`follow`] | `shipment.ship`, `record_tracking`, the claim commands + `parcel.follow_shipment` per parcel concerned (each parcel's stream tells its whole life) |
//! | [`claims`] | `shipment.approve_claim` + `account.credit` (payout) + `parcel.follow_shipment` |
//! | [`dunning`] | `account.accrue_late_interest` on a dunned quote, terms from the shipment (ACC-6) |
//! | [`disposal`] | `parcel.dispose` + `account.charge_disposal_fee` |
//! | [`return_to_origin`] | `shipment.receive_return` + `account.debit` (return cost) + `parcel.follow_shipment`; `shipment.abandon_return` + disposals; `shipment.charge_redelivery` + `account.debit` (SHP-2) |
//! | [`withdrawal`] | `member.request_withdrawal`, disposals, `account.schedule_refund`; `account.pay_refund` + `member.close` |
//! | [`auto_closure`] | `member.evaluate_auto_closure` with the account's facts (+ `account.schedule_refund` if money is left) |
//! | [`top_up`] | `account.apply_for_top_up` (+ `member.suspend_for_rejected_top_ups`, ACC-3) |
//! | [`erasure`] | `member.erase_personal_data`, then the member's key deleted (issue #10) |
//!
//! Every other command is issued as given through `Engine::execute`.

pub mod auto_closure;
pub mod claims;
pub mod consolidate;
pub mod disposal;
pub mod dunning;
pub mod erasure;
pub mod follow;
pub mod intake;
pub mod packing;
pub mod payment;
pub mod register;
pub mod return_to_origin;
pub mod shipment_flow;
pub mod storage;
pub mod top_up;
pub mod withdrawal;

/// Runs `$body` (an expression using `$req: &Request`) as request `$name` with `$input` under
/// `$ctx`: claims the idempotency key first, returns a finished request's stored result, and
/// records this one's.
macro_rules! request {
    ($engine:ident, $ctx:expr, $name:literal, $input:expr, |$req:ident| $body:expr) => {
        match $crate::request::Request::begin(
            &$engine.store,
            &$engine.config.idempotency,
            $ctx,
            $name,
            $input,
        )
        .await?
        {
            $crate::request::Begin::Done(result) => result,
            $crate::request::Begin::Run($req) => {
                let result = { $body }.await;
                $req.finish(&$engine.store, result).await
            }
        }
    };
}
pub(crate) use request;

/// Logs a compensation or follow-up step that was refused; the request's answer stands.
pub(crate) fn note_refused(what: &str, error: &crate::EngineError) {
    tracing::warn!(what, code = error.code(), %error, "follow-up step refused");
}

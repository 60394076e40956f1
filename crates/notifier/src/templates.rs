//! The words of each notice, in Japanese and English: a subject and a plain-text body made
//! from the notice's facts (the event's own fields) and the member's name. Amounts are shown
//! as the event recorded them, dates as ISO dates.

use projections::notices::NoticeKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A notice's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// 日本語.
    Ja,
    /// English.
    En,
}

impl std::str::FromStr for Language {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "ja" => Ok(Language::Ja),
            "en" => Ok(Language::En),
            other => Err(format!("unknown language {other:?}: ja or en")),
        }
    }
}

/// A notice as worded for a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worded {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

impl Worded {
    /// What is recorded for a notice never worded because the member's personal data is
    /// erased (issue #10).
    pub fn erased() -> Self {
        Self {
            subject: String::new(),
            body: String::new(),
        }
    }
}

fn field(facts: &Value, path: &str) -> String {
    let mut value = facts;
    for key in path.split('.') {
        value = &value[key];
    }
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

fn money(facts: &Value, path: &str) -> String {
    let mut value = facts;
    for key in path.split('.') {
        value = &value[key];
    }
    match (value["amount"].as_str(), value["currency"].as_str()) {
        (Some(amount), Some(currency)) => format!("{amount} {currency}"),
        _ => "-".to_owned(),
    }
}

/// The words of a `kind` notice about `aggregate` for `name`, in `language`.
pub fn word(
    kind: NoticeKind,
    facts: &Value,
    aggregate: &str,
    name: &str,
    language: Language,
) -> Worded {
    let f = |path: &str| field(facts, path);
    let (subject, text) = match (language, kind) {
        (Language::En, NoticeKind::Arrival) => (
            format!("Your parcel arrived ({aggregate})"),
            format!(
                "A parcel for you was received on {}{}, weighed at {} g and measured at {} x {} x {} mm (billing uses these). Forwarding fee: {} per piece; the carrier's charge follows in the quote. Please declare its contents.",
                f("received_on"),
                facts["shop"].as_str().map(|shop| format!(" from {shop}")).unwrap_or_default(),
                f("weight"),
                f("dimensions.length_mm"),
                f("dimensions.width_mm"),
                f("dimensions.height_mm"),
                money(facts, "forwarding_fee"),
            ),
        ),
        (Language::Ja, NoticeKind::Arrival) => (
            format!("お荷物が到着しました（{aggregate}）"),
            format!(
                "{}にお荷物を受け取りました。重量 {} g、寸法 {} x {} x {} mm（請求はこの計測によります）。転送手数料は1個口につき{}、国際送料はお見積りでお知らせします。内容の申告をお願いします。",
                f("received_on"),
                f("weight"),
                f("dimensions.length_mm"),
                f("dimensions.width_mm"),
                f("dimensions.height_mm"),
                money(facts, "forwarding_fee"),
            ),
        ),
        (Language::En, NoticeKind::Inspection) => (
            format!("Inspection of parcel {aggregate}"),
            format!(
                "Your parcel was inspected on {}: {} finding(s), {} defective item(s); inspection fee for defects: {}.",
                f("inspected_on"),
                facts["findings"].as_array().map_or(0, Vec::len),
                f("defect_items"),
                money(facts, "defect_fee"),
            ),
        ),
        (Language::Ja, NoticeKind::Inspection) => (
            format!("検品結果のお知らせ（{aggregate}）"),
            format!(
                "{}に検品しました。所見 {} 件、不具合品 {} 点、不具合検品手数料 {}。",
                f("inspected_on"),
                facts["findings"].as_array().map_or(0, Vec::len),
                f("defect_items"),
                money(facts, "defect_fee"),
            ),
        ),
        (Language::En, NoticeKind::StorageNotice) => (
            format!("Free storage of parcel {aggregate} ends on {}", f("last_free_day")),
            format!(
                "Free storage of your parcel ends on {} ({} day(s) from now). Please ship it or extend its storage; parcels past the limit may be disposed of.",
                f("last_free_day"),
                f("days_before"),
            ),
        ),
        (Language::Ja, NoticeKind::StorageNotice) => (
            format!("無料保管期限のお知らせ（{aggregate}：{}まで）", f("last_free_day")),
            format!(
                "お荷物の無料保管期限は{}です（残り{}日）。期限を過ぎたお荷物は処分の対象となります。発送または保管延長のお手続きをお願いします。",
                f("last_free_day"),
                f("days_before"),
            ),
        ),
        (Language::En, NoticeKind::MarkedDisposable) => (
            format!("Parcel {aggregate} is past its storage limit"),
            format!(
                "Free storage of your parcel ended on {}. It may now be disposed of.",
                f("last_free_day")
            ),
        ),
        (Language::Ja, NoticeKind::MarkedDisposable) => (
            format!("保管期限を過ぎました（{aggregate}）"),
            format!("お荷物の無料保管期限（{}）を過ぎました。処分の対象となります。", f("last_free_day")),
        ),
        (Language::En, NoticeKind::Quote) => (
            format!("Your shipping quote: {}", money(facts, "total")),
            format!(
                "Shipment {aggregate} by {} to {} costs {}. Please pay by {}.",
                f("carrier"),
                f("destination"),
                money(facts, "total"),
                f("due_on"),
            ),
        ),
        (Language::Ja, NoticeKind::Quote) => (
            format!("送料のお見積り：{}", money(facts, "total")),
            format!(
                "{}（{}宛）の送料は{}です。{}までにお支払いください。",
                f("carrier"),
                f("destination"),
                money(facts, "total"),
                f("due_on"),
            ),
        ),
        (Language::En, NoticeKind::Held) => (
            format!("Shipment {aggregate} is held: its quote is unpaid"),
            format!(
                "The quote for your shipment was due on {} and is unpaid, so the shipment is held from {}. Pay it to release the shipment.",
                f("due_on"),
                f("held_on"),
            ),
        ),
        (Language::Ja, NoticeKind::Held) => (
            format!("未払いのため発送を保留しました（{aggregate}）"),
            format!(
                "お支払い期限{}を過ぎたため、{}より発送を保留しています。お支払いいただくと保留を解除します。",
                f("due_on"),
                f("held_on"),
            ),
        ),
        (Language::En, NoticeKind::PaymentReminder) => (
            format!("Payment reminder: {} unpaid", money(facts, "amount")),
            format!(
                "We have not received the payment of {} for shipment {aggregate}, due on {}. Please pay it now; if it is still unpaid on {}, a dunning notice follows.",
                money(facts, "amount"),
                f("due_on"),
                f("dunning_from"),
            ),
        ),
        (Language::Ja, NoticeKind::PaymentReminder) => (
            format!("入金未確認のご案内：{}", money(facts, "amount")),
            format!(
                "お支払い期限{}の{}（{aggregate}）のご入金を確認できておりません。お早めにお支払いください。{}までにお支払いが確認できない場合は督促状をお送りします。",
                f("due_on"),
                money(facts, "amount"),
                f("dunning_from"),
            ),
        ),
        (Language::En, NoticeKind::DunningNotice) => (
            format!("Dunning notice: pay {} by {}", money(facts, "amount"), f("pay_by")),
            format!(
                "The payment of {} for shipment {aggregate}, due on {}, is still unpaid. Please pay it by {}. From {}, late interest of {}% a year is charged.",
                money(facts, "amount"),
                f("due_on"),
                f("pay_by"),
                f("interest_from"),
                f("annual_interest_percent"),
            ),
        ),
        (Language::Ja, NoticeKind::DunningNotice) => (
            format!("督促状：{}までに{}をお支払いください", f("pay_by"), money(facts, "amount")),
            format!(
                "お支払い期限{}の{}（{aggregate}）が未だ未払いです。{}までにお支払いください。{}以降は年{}%の延滞利息を申し受けます。",
                f("due_on"),
                money(facts, "amount"),
                f("pay_by"),
                f("interest_from"),
                f("annual_interest_percent"),
            ),
        ),
        (Language::En, NoticeKind::Shipped) => (
            format!("Shipped: {} {}", f("carrier"), f("tracking_number")),
            format!(
                "Your shipment {aggregate} left on {} by {} ({}); tracking number {}.",
                f("shipped_on"),
                f("carrier"),
                f("service"),
                f("tracking_number"),
            ),
        ),
        (Language::Ja, NoticeKind::Shipped) => (
            format!("発送しました：{} {}", f("carrier"), f("tracking_number")),
            format!(
                "{}に{}（{}）で発送しました。追跡番号：{}",
                f("shipped_on"),
                f("carrier"),
                f("service"),
                f("tracking_number"),
            ),
        ),
        (Language::En, NoticeKind::ClaimAnswer) => (
            format!("Your claim {}", f("claim_id")),
            match f("event_type").as_str() {
                "shipment.claim_approved" => format!("Your claim was approved: {} will be credited to your balance.", money(facts, "payout")),
                "shipment.claim_rejected" => format!("Your claim was rejected: {}", f("reason")),
                _ => format!("We answered your claim: {}", f("message")),
            },
        ),
        (Language::Ja, NoticeKind::ClaimAnswer) => (
            format!("お問い合わせ（{}）への回答", f("claim_id")),
            match f("event_type").as_str() {
                "shipment.claim_approved" => format!("補償を承認しました。{}をご利用残高に入金します。", money(facts, "payout")),
                "shipment.claim_rejected" => format!("補償をお受けできませんでした：{}", f("reason")),
                _ => format!("回答：{}", f("message")),
            },
        ),
        (Language::En, NoticeKind::Refund) => (
            "Your balance was refunded".to_owned(),
            format!("{} was paid out to you on {}.", money(facts, "paid"), f("paid_on")),
        ),
        (Language::Ja, NoticeKind::Refund) => (
            "残高を返金しました".to_owned(),
            format!("{}に{}を返金しました。", f("paid_on"), money(facts, "paid")),
        ),
    };
    let (greeting, closing) = match language {
        Language::En => (format!("Dear {name},"), "parcelport"),
        Language::Ja => (format!("{name} 様"), "parcelport"),
    };
    Worded {
        subject,
        body: format!("{greeting}\n\n{text}\n\n{closing}\n"),
    }
}

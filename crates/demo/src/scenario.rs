//! The story, step by step. Every request depends only on the seed and on earlier answers, so
//! the same seed sends the same requests under the same idempotency keys (see the crate doc).
//!
//! Members by index: 0 and 1 ship a lot, 2 has Auto Pack, 3 is never verified, 4 withdraws;
//! any further member is verified and stores parcels. Parcels: the fixed fates below
//! ([`SPECIAL_PARCELS`] of them), then ordinary stored parcels up to the size.

use crate::client::{Answer, Client};
use crate::rng::Rng;
use crate::{DemoError, DemoReport, DemoSize, Progress};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use hyper::Method;
use serde_json::{json, Value};

/// The final states the scenario plans, per aggregate type.
#[derive(Debug, Clone, Copy)]
pub struct Planned {
    /// Members.
    pub members: &'static [&'static str],
    /// Parcels.
    pub parcels: &'static [&'static str],
    /// Shipments.
    pub shipments: &'static [&'static str],
}

pub(crate) const PLANNED: Planned = Planned {
    members: &["active", "withdrawing"],
    parcels: &[
        "expected",
        "refused",
        "unidentified",
        "returned",
        "received",
        "inspected",
        "stored",
        "packing_requested",
        "reserved",
        "packed",
        "quarantined",
        "disposed",
    ],
    shipments: &[
        "packing_requested",
        "packed",
        "quoted",
        "paid",
        "cancelled",
        "shipped",
        "customs_hold",
        "delivered",
    ],
};

/// The parcels the fixed fates take: 1 expected, 1 refused, 3 unidentified (1 attached and
/// stored), 2 prohibited, 2 received, 2 inspected, 1 Auto Pack, 2 of the unverified member,
/// 2 of the withdrawing member, and 16 in the nine shipments.
pub(crate) const SPECIAL_PARCELS: usize = 1 + 1 + 3 + 2 + 2 + 2 + 1 + 2 + 2 + SHIPPED;

/// Parcels per shipment, in order: delivered with a claim, shipped, paid, quoted, packed,
/// consolidated (not packed), cancelled, delivered with a claim not answered yet, held in
/// customs.
const SHIPMENTS: [usize; 9] = [3, 2, 1, 2, 2, 2, 2, 1, 1];
const SHIPPED: usize = 3 + 2 + 1 + 2 + 2 + 2 + 2 + 1 + 1;

const FIRST_NAMES: &[&str] = &[
    "Taro", "Hanako", "Emma", "Lucas", "Mei", "Olivia", "Noah", "Sofia", "Kenji", "Amara",
];
const LAST_NAMES: &[&str] = &[
    "Yamada", "Garcia", "Smith", "Müller", "Chen", "Silva", "Dubois", "Kowalski", "Okafor",
];
const SHOPS: &[&str] = &[
    "Amazon JP",
    "Rakuten Ichiba",
    "Mercari",
    "Yodobashi",
    "Uniqlo",
    "Animate",
    "Book-Off",
    "Tower Records",
];
/// (description, category, yen)
const GOODS: &[(&str, &str, u64)] = &[
    ("T-shirt", "apparel", 2_900),
    ("Denim jacket", "apparel", 8_900),
    ("Manga volume set", "other", 4_400),
    ("Anime figure", "other", 12_800),
    ("Ceramic tea cups", "other", 3_600),
    ("Sneakers", "other", 11_000),
    ("Vinyl record", "other", 3_300),
    ("Fountain pen", "other", 6_500),
];
const FINDINGS: &[&str] = &["damage", "dirt", "short_quantity", "discrepancy"];

#[derive(Debug, Clone)]
struct Member {
    id: String,
    suite_code: String,
    payer: String,
}

struct Runner<'p, P> {
    client: Client,
    seed: u64,
    step: u64,
    rng: Rng,
    today: NaiveDate,
    report: DemoReport,
    progress: &'p P,
    members: Vec<String>,
    parcels: Vec<String>,
    shipments: Vec<String>,
}

pub(crate) async fn play<P: Progress>(
    client: Client,
    seed: u64,
    size: DemoSize,
    days: u32,
    progress: &P,
) -> Result<DemoReport, DemoError> {
    let planned = size.members as u64 * 6
        + size.parcels as u64 * 6
        + SHIPMENTS.len() as u64 * 5
        + u64::from(days) * 12;
    progress.begin(planned);
    let mut runner = Runner {
        client,
        seed,
        step: 0,
        rng: Rng::new(seed),
        today: NaiveDate::MIN,
        report: DemoReport::default(),
        progress,
        members: Vec::new(),
        parcels: Vec::new(),
        shipments: Vec::new(),
    };
    if days > 0 {
        let clock = runner
            .call("read the clock", Method::GET, "/v1/clock", None)
            .await?;
        if clock["simulated"] != true {
            return Err(DemoError::RealClock);
        }
    }
    let members = runner.story(size).await?;
    for _ in 0..days {
        runner.next_day(&members).await?;
    }
    runner.tally().await?;
    Ok(runner.report)
}

fn yen(amount: u64) -> Value {
    json!({ "amount": amount.to_string(), "currency": "JPY" })
}

impl<P: Progress> Runner<'_, P> {
    async fn call(
        &mut self,
        what: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, DemoError> {
        self.step += 1;
        let command = method == Method::POST;
        let key = command.then(|| format!("demo-{:016x}-{:05}", self.seed, self.step));
        let Answer {
            status,
            body: answer,
        } = self
            .client
            .send(method.clone(), path, key.as_deref(), body.as_ref())
            .await?;
        if !(200..300).contains(&status) {
            return Err(DemoError::Refused {
                step: self.step,
                what: what.to_owned(),
                method: method.to_string(),
                path: path.to_owned(),
                status,
                body: answer,
            });
        }
        self.report.requests += 1;
        if command {
            self.report.commands += 1;
            self.report.events += answer["events"].as_array().map_or(0, Vec::len) as u64;
        }
        self.progress.request(what);
        Ok(answer)
    }

    async fn post(&mut self, what: &str, path: &str, body: Value) -> Result<Value, DemoError> {
        self.call(what, Method::POST, path, Some(body)).await
    }

    fn id_of(&self, answer: &Value) -> Result<String, DemoError> {
        self.text(answer, "/id", "id")
    }

    fn text(
        &self,
        answer: &Value,
        pointer: &str,
        missing: &'static str,
    ) -> Result<String, DemoError> {
        answer
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| DemoError::Unexpected {
                step: self.step,
                missing,
                body: answer.clone(),
            })
    }

    async fn story(&mut self, size: DemoSize) -> Result<Vec<Member>, DemoError> {
        let members = self.members(size.members).await?;
        let (shipper_a, shipper_b) = (&members[0], &members[1]);
        let (auto_packer, unverified, leaver) = (&members[2], &members[3], &members[4]);

        // A purchase announced, not yet arrived (PAR-2).
        let expected = format!("demo-{:x}-expected-1", self.seed);
        let answer = self
            .post(
                "announce a purchase",
                &format!("/v1/parcels/{expected}/expect"),
                json!({
                    "member_id": shipper_a.id, "shop": "shop-approved-1",
                    "purchased_on": self.today
                }),
            )
            .await?;
        self.parcels.push(self.id_of(&answer)?);

        // Cash on delivery from a shop not approved for proxy payment: refused at the door.
        let answer = self
            .post(
                "refuse a COD parcel",
                "/v1/parcels",
                json!({
                    "label": shipper_b.suite_code, "weight": 900,
                    "dimensions": { "length_mm": 250, "width_mm": 180, "height_mm": 90 },
                    "shop": "Mercari",
                    "collect_on_delivery": { "kind": "cash_on_delivery", "amount": yen(4_800) }
                }),
            )
            .await?;
        self.parcels.push(self.id_of(&answer)?);

        // Three unidentified parcels: one waits, one is returned, one is attached and stored.
        self.receive(None).await?;
        let returned = self.receive(None).await?;
        self.post(
            "return an unidentified parcel",
            &format!("/v1/parcels/{returned}/return"),
            json!({ "note": "no suite code on the label after 30 days' search" }),
        )
        .await?;
        let attached = self.receive(None).await?;
        self.post(
            "attach an unidentified parcel",
            &format!("/v1/parcels/{attached}/attach-to-member"),
            json!({ "suite_code": shipper_b.suite_code }),
        )
        .await?;
        self.shelve(&attached, false).await?;
        self.declare(&attached).await?;

        // Two prohibited parcels: quarantined, one disposed of.
        for dispose in [false, true] {
            let parcel = self.receive(Some(&shipper_a.suite_code)).await?;
            self.post(
                "inspect a prohibited parcel",
                &format!("/v1/parcels/{parcel}/inspect"),
                json!({
                    "variations": [ { "variation": "spray can", "units": 2 } ],
                    "observed_categories": ["aerosol"]
                }),
            )
            .await?;
            if dispose {
                self.post(
                    "dispose of a prohibited parcel",
                    &format!("/v1/parcels/{parcel}/dispose"),
                    json!({ "reason": "prohibited" }),
                )
                .await?;
            }
        }

        // Arrived today: two waiting for inspection, two inspected (with findings).
        for _ in 0..2 {
            let who = self.rng.pick(&members[..2]).suite_code.clone();
            self.receive(Some(&who)).await?;
        }
        for _ in 0..2 {
            let who = self.rng.pick(&members[..2]).suite_code.clone();
            let parcel = self.receive(Some(&who)).await?;
            self.inspect(&parcel, true).await?;
        }

        // Auto Pack: confirming the declaration requests the parcel's own shipment (MEM-6).
        // Inspection already puts the parcel in line for packing; the confirmation requests it.
        let parcel = self.receive(Some(&auto_packer.suite_code)).await?;
        self.inspect(&parcel, false).await?;
        let confirmed = self.declare(&parcel).await?;
        if let Some(shipment) = confirmed
            .pointer("/result/auto_pack_shipment/aggregate_id")
            .and_then(Value::as_str)
        {
            self.shipments.push(shipment.to_owned());
        }

        // The unverified member's parcels stay on the shelf.
        for _ in 0..2 {
            self.stored(unverified).await?;
        }

        // Nine shipments of the two shippers.
        let mut shipment_ids = Vec::new();
        for (index, count) in SHIPMENTS.iter().enumerate() {
            let owner = if index % 2 == 0 { shipper_a } else { shipper_b };
            let mut parcels = Vec::new();
            for _ in 0..*count {
                parcels.push(self.stored(owner).await?);
            }
            let shipment = if parcels.len() == 1 {
                let answer = self
                    .post(
                        "request packing",
                        &format!("/v1/parcels/{}/request-packing", parcels[0]),
                        json!({}),
                    )
                    .await?;
                self.id_of(&answer)?
            } else {
                let answer = self
                    .post(
                        "consolidate",
                        "/v1/shipments",
                        json!({ "parcel_ids": parcels }),
                    )
                    .await?;
                self.id_of(&answer)?
            };
            self.shipments.push(shipment.clone());
            shipment_ids.push((shipment, parcels));
        }
        self.shipments_through(&shipment_ids).await?;

        // The withdrawing member: two parcels stored, then the withdrawal.
        for _ in 0..2 {
            self.stored(leaver).await?;
        }
        self.post(
            "request a withdrawal",
            &format!("/v1/members/{}/request-withdrawal", leaver.id),
            json!({}),
        )
        .await?;
        // The balance's refund is due months later (ACC-7): not today.

        // Ordinary parcels on the shelves, up to the size.
        let keepers: Vec<Member> = members
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 2 && *i != 4)
            .map(|(_, m)| m.clone())
            .collect();
        while self.parcels.len() < size.parcels {
            let owner = self.rng.pick(&keepers).clone();
            self.stored(&owner).await?;
        }
        Ok(members)
    }

    /// One more day on a simulated clock: the clock advanced (the scheduler sends the notices,
    /// marks and holds due), and on a business day one to three parcels for the two shippers;
    /// one day in three, two of them shipped together, their quote paid or (one time in three)
    /// left unpaid until the scheduler holds it (PAY-2).
    async fn next_day(&mut self, members: &[Member]) -> Result<(), DemoError> {
        let advanced = self
            .post(
                "advance the clock a day",
                "/v1/clock/advance",
                json!({ "days": 1 }),
            )
            .await?;
        self.today = self
            .text(&advanced, "/clock/today", "clock.today")?
            .parse()
            .map_err(|_| DemoError::Unexpected {
                step: self.step,
                missing: "clock.today as a date",
                body: advanced.clone(),
            })?;
        if matches!(self.today.weekday(), Weekday::Sat | Weekday::Sun) {
            return Ok(());
        }
        let shippers = &members[..2];
        for _ in 0..self.rng.between(1, 3) {
            let owner = self.rng.pick(shippers).clone();
            self.stored(&owner).await?;
        }
        if !self.rng.one_in(3) {
            return Ok(());
        }
        let owner = self.rng.pick(shippers).clone();
        let parcels = vec![self.stored(&owner).await?, self.stored(&owner).await?];
        let answer = self
            .post(
                "consolidate",
                "/v1/shipments",
                json!({ "parcel_ids": parcels }),
            )
            .await?;
        let shipment = self.id_of(&answer)?;
        self.shipments.push(shipment.clone());
        let grams = 1_200 + self.rng.between(100, 500);
        self.pack(&shipment, grams).await?;
        let quote = self.quote(&shipment).await?;
        if self.rng.one_in(3) {
            return Ok(());
        }
        self.pay(&shipment, &quote).await?;
        self.ship(&shipment, 6_000).await?;
        Ok(())
    }

    async fn pack(&mut self, shipment: &str, grams: u64) -> Result<(), DemoError> {
        self.post(
            "pack a shipment",
            &format!("/v1/shipments/{shipment}/record-packing"),
            json!({
                "carrier": "EMS", "weight": grams,
                "dimensions": { "length_mm": 450, "width_mm": 320, "height_mm": 220 }
            }),
        )
        .await?;
        Ok(())
    }

    /// Quotes `shipment` by EMS to a destination drawn at random: the answer.
    async fn quote(&mut self, shipment: &str) -> Result<Value, DemoError> {
        let destination = *self.rng.pick(&["US", "GB", "DE", "AU", "CA", "FR"]);
        self.post(
            "quote a shipment",
            &format!("/v1/shipments/{shipment}/quote"),
            json!({ "carrier": "EMS", "destination": destination }),
        )
        .await
    }

    /// Pays the total of `quote` from the balance.
    async fn pay(&mut self, shipment: &str, quote: &Value) -> Result<(), DemoError> {
        let total =
            quote
                .pointer("/result/total")
                .cloned()
                .ok_or_else(|| DemoError::Unexpected {
                    step: self.step,
                    missing: "result.total",
                    body: quote.clone(),
                })?;
        self.post(
            "pay a shipment",
            &format!("/v1/shipments/{shipment}/pay"),
            json!({ "method": "balance", "amount": total }),
        )
        .await?;
        Ok(())
    }

    /// Ships by EMS with a tracking number drawn at random, declaring `declared` yen.
    async fn ship(&mut self, shipment: &str, declared: u64) -> Result<(), DemoError> {
        let tracking = format!("EJ{:09}JP", self.rng.between(100_000_000, 999_999_999));
        self.post(
            "ship a shipment",
            &format!("/v1/shipments/{shipment}/ship"),
            json!({
                "carrier": "EMS", "service": "EMS", "tracking_number": tracking,
                "declared_value": yen(declared)
            }),
        )
        .await?;
        Ok(())
    }

    /// Registers the members, verifies all but the unverified one, tops them up and turns
    /// Auto Pack on for member 2. The scenario's date is the first registration's.
    async fn members(&mut self, count: usize) -> Result<Vec<Member>, DemoError> {
        let mut members = Vec::new();
        for index in 0..count {
            let first = *self.rng.pick(FIRST_NAMES);
            let last = *self.rng.pick(LAST_NAMES);
            let name = format!("{last} {first}");
            let email = format!(
                "{}.{}+{:x}-{index}@example.com",
                first.to_lowercase(),
                last.to_lowercase().replace('ü', "u"),
                self.seed
            );
            let birth = NaiveDate::from_ymd_opt(
                self.rng.between(1965, 2002) as i32,
                self.rng.between(1, 12) as u32,
                self.rng.between(1, 28) as u32,
            )
            .unwrap_or(NaiveDate::MIN);
            let answer = self
                .post(
                    "register a member",
                    "/v1/members",
                    json!({
                        "name": name, "birth_date": birth, "email": email,
                        "forwarding_only_accepted": true
                    }),
                )
                .await?;
            if index == 0 {
                self.today = find_key(&answer, "registered_on")
                    .and_then(Value::as_str)
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| DemoError::Unexpected {
                        step: self.step,
                        missing: "registered_on",
                        body: answer.clone(),
                    })?;
            }
            members.push(Member {
                id: self.id_of(&answer)?,
                suite_code: self.text(&answer, "/result/suite_code", "suite_code")?,
                payer: name.to_uppercase(),
            });
        }
        let expires = self
            .today
            .checked_add_days(Days::new(5 * 365))
            .unwrap_or(self.today);
        for (index, member) in members.iter().enumerate() {
            if index != 3 {
                self.post(
                    "verify an identity",
                    &format!("/v1/members/{}/verify-identity", member.id),
                    json!({
                        "document": { "passport": {
                            "photo_page_checked": true, "address_page_checked": true
                        } },
                        "expires_on": expires
                    }),
                )
                .await?;
            }
            let amount = if index < 2 { 300_000 } else { 50_000 };
            let deposit = json!({
                "deposited_on": self.today, "bank": "Rakuten Bank",
                "amount": yen(amount), "payer_name": member.payer
            });
            let mut bank = deposit.clone();
            bank["deposit_id"] = json!(format!("dep-{:x}-{index}", self.seed));
            self.post(
                "top up a balance",
                &format!("/v1/members/{}/top-up-applications", member.id),
                json!({ "declared": deposit, "deposit": bank }),
            )
            .await?;
        }
        self.post(
            "turn Auto Pack on",
            &format!("/v1/members/{}/set-auto-pack", members[2].id),
            json!({}),
        )
        .await?;
        self.post(
            "choose Japanese notices",
            &format!("/v1/members/{}/notice-language", members[1].id),
            json!({ "language": "ja" }),
        )
        .await?;
        self.members = members.iter().map(|m| m.id.clone()).collect();
        Ok(members)
    }

    /// A parcel received for `suite_code` (unidentified without one).
    async fn receive(&mut self, suite_code: Option<&str>) -> Result<String, DemoError> {
        let shop = *self.rng.pick(SHOPS);
        let mut body = json!({
            "weight": self.rng.between(250, 2_400),
            "dimensions": {
                "length_mm": self.rng.between(200, 450),
                "width_mm": self.rng.between(120, 300),
                "height_mm": self.rng.between(40, 200)
            },
            "shop": shop
        });
        if let Some(code) = suite_code {
            body["label"] = json!(code);
        }
        let what = if suite_code.is_some() {
            "receive a parcel"
        } else {
            "receive an unlabelled parcel"
        };
        let answer = self.post(what, "/v1/parcels", body).await?;
        let id = self.id_of(&answer)?;
        self.parcels.push(id.clone());
        Ok(id)
    }

    async fn inspect(&mut self, parcel: &str, finding: bool) -> Result<(), DemoError> {
        let units = self.rng.between(1, 3);
        let mut body = json!({ "variations": [ { "variation": "as ordered", "units": units } ] });
        if finding {
            let kind = *self.rng.pick(FINDINGS);
            body["findings"] = json!([ {
                "kind": kind, "variation": "as ordered", "items": 1,
                "evidence": [format!("{parcel}-{kind}.jpg")],
                "note": "photographed at inspection"
            } ]);
        }
        self.post(
            "inspect a parcel",
            &format!("/v1/parcels/{parcel}/inspect"),
            body,
        )
        .await?;
        Ok(())
    }

    /// Inspects (a finding now and then) and shelves `parcel`.
    async fn shelve(&mut self, parcel: &str, finding: bool) -> Result<(), DemoError> {
        self.inspect(parcel, finding).await?;
        let location = format!(
            "{}-{:02}",
            self.rng.pick(&["A", "B", "C", "D"]),
            self.rng.between(1, 24)
        );
        self.post(
            "store a parcel",
            &format!("/v1/parcels/{parcel}/store"),
            json!({ "location": location }),
        )
        .await?;
        Ok(())
    }

    /// The member declares and confirms `parcel`'s contents.
    async fn declare(&mut self, parcel: &str) -> Result<Value, DemoError> {
        let (description, category, price) = *self.rng.pick(GOODS);
        let sender = *self.rng.pick(SHOPS);
        self.post(
            "declare the contents",
            &format!("/v1/parcels/{parcel}/declare"),
            json!({
                "items": [ {
                    "description": description, "quantity": 1,
                    "unit_price": yen(price), "category": category
                } ],
                "sender": sender, "source": "member"
            }),
        )
        .await?;
        self.post(
            "confirm the declaration",
            &format!("/v1/parcels/{parcel}/confirm-declaration"),
            json!({}),
        )
        .await
    }

    /// A parcel for `member`, received, inspected (a finding one time in five), stored,
    /// declared and confirmed.
    async fn stored(&mut self, member: &Member) -> Result<String, DemoError> {
        let parcel = self.receive(Some(&member.suite_code)).await?;
        let finding = self.rng.one_in(5);
        self.shelve(&parcel, finding).await?;
        self.declare(&parcel).await?;
        Ok(parcel)
    }

    /// Takes each shipment as far as its place in [`SHIPMENTS`] says.
    async fn shipments_through(
        &mut self,
        shipments: &[(String, Vec<String>)],
    ) -> Result<(), DemoError> {
        for (index, (shipment, parcels)) in shipments.iter().enumerate() {
            let path = |command: &str| format!("/v1/shipments/{shipment}/{command}");
            match index {
                5 => continue,
                6 => {
                    self.post(
                        "cancel a shipment",
                        &path("cancel"),
                        json!({ "reason": "the member wants to add a parcel first" }),
                    )
                    .await?;
                    continue;
                }
                _ => {}
            }
            let grams = 600 * parcels.len() as u64 + self.rng.between(100, 500);
            self.pack(shipment, grams).await?;
            if index == 4 {
                continue;
            }
            let quote = self.quote(shipment).await?;
            if index == 3 {
                continue;
            }
            self.pay(shipment, &quote).await?;
            if index == 2 {
                continue;
            }
            self.ship(shipment, 3_000 * parcels.len() as u64).await?;
            let status = match index {
                0 | 7 => "delivered",
                8 => "customs_hold",
                _ => continue,
            };
            self.post(
                "record tracking",
                &path("record-tracking"),
                json!({ "status": status, "on": self.today }),
            )
            .await?;
            if index == 0 {
                self.claim(shipment, &parcels[0]).await?;
            }
            if index == 7 {
                self.unanswered_claim(shipment, &parcels[0]).await?;
            }
        }
        Ok(())
    }

    /// A damage claim on a delivered shipment: filed, answered, approved and paid out.
    async fn claim(&mut self, shipment: &str, parcel: &str) -> Result<(), DemoError> {
        let claim = format!("clm-{:x}-1", self.seed);
        let path = |command: &str| format!("/v1/shipments/{shipment}/{command}");
        self.post(
            "file a claim",
            &path("file-claim"),
            json!({
                "claim_id": claim, "claim_type": "defect",
                "evidence": { "photos": ["crushed-box.jpg"], "comment": "the box arrived crushed" },
                "item": { "parcel_id": parcel, "line": 0, "quantity": 1 }
            }),
        )
        .await?;
        self.post(
            "answer a claim",
            &path("respond-to-claim"),
            json!({ "claim_id": claim, "message": "sorry, we are checking the packing photos" }),
        )
        .await?;
        self.post(
            "approve a claim",
            &path("approve-claim"),
            json!({ "claim_id": claim, "payout": yen(2_000) }),
        )
        .await?;
        Ok(())
    }

    /// A damage claim on a delivered shipment, filed and not answered yet: the business clock
    /// escalates it when its response is overdue (CLM-3).
    async fn unanswered_claim(&mut self, shipment: &str, parcel: &str) -> Result<(), DemoError> {
        let claim = format!("clm-{:x}-2", self.seed);
        self.post(
            "file a claim",
            &format!("/v1/shipments/{shipment}/file-claim"),
            json!({
                "claim_id": claim, "claim_type": "defect",
                "evidence": { "photos": ["torn-sleeve.jpg"], "comment": "a sleeve is torn" },
                "item": { "parcel_id": parcel, "line": 0, "quantity": 1 }
            }),
        )
        .await?;
        Ok(())
    }

    /// Reads every aggregate the scenario touched and counts the final states.
    async fn tally(&mut self) -> Result<(), DemoError> {
        let members = std::mem::take(&mut self.members);
        for member in &members {
            let state = self.state_of(&format!("/v1/members/{member}")).await?;
            *self.report.members.entry(state).or_default() += 1;
        }
        let parcels = std::mem::take(&mut self.parcels);
        let shipments = std::mem::take(&mut self.shipments);
        for parcel in &parcels {
            let state = self.state_of(&format!("/v1/parcels/{parcel}")).await?;
            *self.report.parcels.entry(state).or_default() += 1;
        }
        for shipment in &shipments {
            let state = self.state_of(&format!("/v1/shipments/{shipment}")).await?;
            *self.report.shipments.entry(state).or_default() += 1;
        }
        Ok(())
    }

    async fn state_of(&mut self, path: &str) -> Result<String, DemoError> {
        let answer = self.call("read a state", Method::GET, path, None).await?;
        Ok(status_name(&answer["state"]))
    }
}

/// A state's status: `"stored"` or `{"reserved": {…}}`.
fn status_name(state: &Value) -> String {
    match find_key(state, "status") {
        Some(Value::String(name)) => name.clone(),
        Some(Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => "unknown".to_owned(),
    }
}

/// The first value under `key` anywhere in `value`.
fn find_key<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map
            .get(key)
            .or_else(|| map.values().find_map(|v| find_key(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}
